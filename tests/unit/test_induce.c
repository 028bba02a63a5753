/* test_induce.c - induced linearity: the gated model equals the original at
 * gates 0 and folds exactly at gates 1 (random graphs with skip edges), the
 * cost-model weights prefer the node whose whole fold saves more, the 0/1
 * rounding meets the budget with the least change, bad options are refused,
 * and the whole pipeline on wine reaches its budget. */
#include "test.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define WINE "../shared/data/wine.csv"

static const lc_act RELU = {LC_ACT_RELU, 0, 0, 0};
static const lc_act IDENT = {LC_ACT_IDENTITY, 0, 0, 0};

/* 2-5 hidden nodes of width 2-9, mostly ReLU, with skip edges (each earlier
 * node with probability 0.5). */
static lc_graph *random_graph(test_rng *r, lc_error *err)
{
    int n = test_randint(r, 4, 7);
    lc_node_spec spec[7];
    int src[7][7];
    memset(spec, 0, sizeof spec);
    spec[0].width = test_randint(r, 2, 6);
    for (int k = 1; k < n; k++) {
        spec[k].width = k == n - 1 ? 3 : test_randint(r, 2, 9);
        src[k][spec[k].n_in++] = k - 1;
        for (int j = 0; j < k - 1; j++)
            if (test_uniform(r) < 0.5) src[k][spec[k].n_in++] = j;
        spec[k].src = src[k];
        spec[k].act = k == n - 1 ? IDENT : test_uniform(r) < 0.8 ? RELU
                                                                 : (lc_act){LC_ACT_CLIP, 0, 0, 2};
    }
    lc_graph *g;
    if (lc_graph_create(n, spec, &g, err)) return NULL;
    float *p = (float *)lc_graph_param_base(g);
    for (size_t i = 0; i < lc_graph_params(g); i++) p[i] = (float)(0.7 * test_normal(r));
    return g;
}

static float *random_input(test_rng *r, size_t n, int w)
{
    float *x = malloc(n * (size_t)w * sizeof *x);
    for (size_t i = 0; x && i < n * (size_t)w; i++) x[i] = (float)(2 * test_normal(r));
    return x;
}

TEST(induce_gates_zero_is_the_original)
{
    lc_error err = {0};
    test_rng r = {424242};
    for (int trial = 0; trial < 20; trial++) {
        lc_graph *g = random_graph(&r, &err), *G = NULL;
        CHECK(g);
        CHECK_OK(lc_induce_gate_graph(g, &G, &err), &err);
        CHECK(lc_graph_nodes(G) == lc_graph_nodes(g));
        for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
            lc_act_kind want = lc_graph_act(g, k).kind == LC_ACT_RELU ? LC_ACT_PRELU
                                                                     : lc_graph_act(g, k).kind;
            CHECK(lc_graph_act(G, k).kind == want);
            for (int i = 0; want == LC_ACT_PRELU && i < lc_graph_width(g, k); i++)
                CHECK(lc_graph_slope(G, k)[i] == 0.0f);
        }
        size_t ns = 64, ow = (size_t)lc_graph_output_width(g);
        float *x = random_input(&r, ns, lc_graph_input_width(g));
        float *a = malloc(ns * ow * sizeof *a), *b = malloc(ns * ow * sizeof *b);
        CHECK(x && a && b);
        CHECK_OK(lc_forward_ref(g, x, ns, a, &err), &err);
        CHECK_OK(lc_forward_ref(G, x, ns, b, &err), &err);
        CHECK_CLOSE(b, a, ns * ow, 0, 0);
        free(x), free(a), free(b);
        lc_graph_free(G);
        lc_graph_free(g);
    }
}

/* Gates exactly 1 make a neuron linear on every input, so folding those
 * neurons (identity piece) of the ReLU model with the same weights gives
 * the gated model's function, on inputs where they are far from linear. */
TEST(induce_gates_one_fold_exactly)
{
    lc_error err = {0};
    test_rng r = {777};
    int folded_total = 0, whole_nodes = 0;
    for (int trial = 0; trial < 30; trial++) {
        lc_graph *g = random_graph(&r, &err), *G = NULL, *F = NULL;
        lc_plan *p = NULL;
        CHECK(g);
        CHECK_OK(lc_induce_gate_graph(g, &G, &err), &err);
        CHECK_OK(lc_plan_create(g, &p, &err), &err);
        for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
            if (lc_graph_act(g, k).kind != LC_ACT_RELU) continue;
            bool whole = test_uniform(&r) < 0.3;
            whole_nodes += whole;
            for (int i = 0; i < lc_graph_width(g, k); i++) {
                bool one = whole || test_uniform(&r) < 0.5;
                lc_graph_slope(G, k)[i] = one ? 1.0f : 0.0f;
                if (one) CHECK_OK(lc_plan_set(p, k, i, lc_act_identity_piece(LC_ACT_RELU), &err),
                                  &err);
                folded_total += one;
            }
        }
        CHECK_OK(lc_fold(g, p, &F, NULL, &err), &err);
        size_t ns = 200, ow = (size_t)lc_graph_output_width(g);
        float *x = random_input(&r, ns, lc_graph_input_width(g));
        float *a = malloc(ns * ow * sizeof *a), *b = malloc(ns * ow * sizeof *b);
        CHECK(x && a && b);
        CHECK_OK(lc_forward_ref(G, x, ns, a, &err), &err);
        CHECK_OK(lc_forward(F, x, ns, b, &err), &err);
        /* float32 GEMMs in the fold and the forward pass round differently
         * with each OpenBLAS kernel: DESIGN's exactness bound is 1e-4 */
        CHECK_CLOSE(b, a, ns * ow, 1e-4, 1e-4);
        free(x), free(a), free(b);
        lc_plan_free(p);
        lc_graph_free(F);
        lc_graph_free(G);
        lc_graph_free(g);
    }
    CHECK(folded_total > 100 && whole_nodes > 3);
}

/* input(20) -> n1(30) -> n2(2) -> n3(30) -> out(2), ReLU hidden nodes.
 * Folding all of n1 frees 30 x (20 + 2 + 1) = 690 and costs the edge
 * input -> n2 (2 x 20 = 40): 21.7 per neuron. n2 is a narrow bottleneck:
 * folding it frees 2 x (30 + 30 + 1) = 122 but needs n1 -> n3 (30 x 30 =
 * 900), so it does not pay at all. n3 frees 30 x (2 + 2 + 1) = 150 for the
 * edge n2 -> out (4): 4.9 per neuron. */
static lc_graph *bottleneck(lc_error *err)
{
    int s0 = 0, s1 = 1, s2 = 2, s3 = 3;
    lc_node_spec spec[5] = {{"input", 20, IDENT, 0, NULL}, {"n1", 30, RELU, 1, &s0},
                            {"n2", 2, RELU, 1, &s1},       {"n3", 30, RELU, 1, &s2},
                            {"out", 2, IDENT, 1, &s3}};
    lc_graph *g;
    return lc_graph_create(5, spec, &g, err) ? NULL : g;
}

TEST(induce_weights_prefer_the_bigger_saving)
{
    lc_error err = {0};
    lc_graph *g = bottleneck(&err);
    CHECK(g);
    double w[5];
    CHECK_OK(lc_induce_weights(g, NULL, w, &err), &err);
    CHECK(w[0] == 0 && w[4] == 0);
    CHECK_MSG(w[1] == 1.0, "n1 %g", w[1]);
    CHECK_MSG(w[2] == 0.0, "n2 %g (its fold needs a 900-entry edge)", w[2]);
    CHECK_MSG(fabs(w[3] - (146.0 / 30) / (650.0 / 30)) < 1e-12, "n3 %g", w[3]);

    /* in the context of a plan that already folds n1 and n3, n2 connects
     * input to out (2 x 20 = 40 new entries for 2 x (20 + 2 + 1) = 46
     * freed: still tiny), and the whole-node weights stay ordered */
    lc_plan *p;
    CHECK_OK(lc_plan_create(g, &p, &err), &err);
    for (int i = 0; i < 30; i++) {
        CHECK_OK(lc_plan_set(p, 1, i, 1, &err), &err);
        CHECK_OK(lc_plan_set(p, 3, i, 1, &err), &err);
    }
    CHECK_OK(lc_induce_weights(g, p, w, &err), &err);
    CHECK_MSG(w[1] > w[2] && w[3] > w[2] && w[2] >= 0, "%g %g %g", w[1], w[2], w[3]);
    lc_plan_free(p);

    /* a plan for another graph is refused */
    lc_graph *other = NULL;
    int hidden[] = {4};
    CHECK_OK(lc_graph_mlp(3, hidden, 1, 2, RELU, 1, &other, &err), &err);
    CHECK_OK(lc_plan_create(other, &p, &err), &err);
    CHECK(lc_induce_weights(g, p, w, &err) == LC_ERR_SHAPE);
    lc_plan_free(p);
    lc_graph_free(other);
    lc_graph_free(g);
}

TEST(induce_select_meets_the_budget_highest_gates_first)
{
    lc_error err = {0};
    lc_graph *g = bottleneck(&err);
    CHECK(g);
    float g1[30], g2[2], g3[30];
    const float *gates[5] = {NULL, g1, g2, g3, NULL};
    for (int i = 0; i < 30; i++) g1[i] = 0.9f, g3[i] = 0.2f;
    g2[0] = g2[1] = 1.0f;
    size_t full = lc_graph_params(g), params;
    lc_plan *p = NULL;
    int met = -1;
    /* everything fits: nothing needs to be folded, the model stays as large
     * as the budget allows */
    CHECK_OK(lc_induce_select(g, gates, full, &p, &met, &err), &err);
    CHECK(met == 1 && lc_plan_folded_linear(p, 1) + lc_plan_folded_linear(p, 2) +
                              lc_plan_folded_linear(p, 3) == 0);
    lc_plan_free(p);

    /* the budget of folding n1 and n2: met by the highest gates first (n2,
     * then n1), n3 (low gates) untouched */
    lc_plan *two;
    size_t two_params;
    CHECK_OK(lc_plan_create(g, &two, &err), &err);
    for (int k = 1; k <= 2; k++)
        for (int i = 0; i < lc_graph_width(g, k); i++) CHECK_OK(lc_plan_set(two, k, i, 1, &err), &err);
    CHECK_OK(lc_plan_params_after(g, two, &two_params, NULL, &err), &err);
    lc_plan_free(two);
    CHECK_OK(lc_induce_select(g, gates, two_params, &p, &met, &err), &err);
    CHECK_OK(lc_plan_params_after(g, p, &params, NULL, &err), &err);
    CHECK_MSG(met == 1 && params <= two_params && lc_plan_folded_linear(p, 2) == 2 &&
                  lc_plan_folded_linear(p, 3) == 0,
              "met %d params %zu of %zu, n2 %d, n3 %d", met, params, two_params,
              lc_plan_folded_linear(p, 2), lc_plan_folded_linear(p, 3));
    lc_plan_free(p);

    /* a budget that needs n3 too: the least change is all of n3 as well */
    lc_plan *all;
    CHECK_OK(lc_plan_create(g, &all, &err), &err);
    for (int k = 1; k <= 3; k++)
        for (int i = 0; i < lc_graph_width(g, k); i++) CHECK_OK(lc_plan_set(all, k, i, 1, &err), &err);
    size_t linear;
    CHECK_OK(lc_plan_params_after(g, all, &linear, NULL, &err), &err);
    CHECK(linear == 20 * 2 + 2);
    CHECK_OK(lc_induce_select(g, gates, linear + 5, &p, &met, &err), &err);
    CHECK_OK(lc_plan_params_after(g, p, &params, NULL, &err), &err);
    CHECK_MSG(met == 1 && params <= linear + 5, "met %d params %zu", met, params);
    lc_plan_free(p);

    /* an impossible budget: the smallest prefix, not met */
    CHECK_OK(lc_induce_select(g, gates, 10, &p, &met, &err), &err);
    CHECK_OK(lc_plan_params_after(g, p, &params, NULL, &err), &err);
    CHECK(met == 0 && params == linear);
    lc_plan_free(p);
    lc_plan_free(all);

    g1[3] = 1.5f;
    CHECK(lc_induce_select(g, gates, full, &p, &met, &err) == LC_ERR_INVALID && !p);
    CHECK_MSG(strstr(err.msg, "n1") && strstr(err.msg, "gate 3"), "%s", err.msg);
    g1[3] = NAN;
    CHECK(lc_induce_select(g, gates, full, &p, &met, &err) == LC_ERR_INVALID && !p);
    lc_graph_free(g);
}

/* wine, split 60/40 by row index, a 64-128-128 MLP with the standardisation
 * folded in (as lincomp train stores it) */
static int wine(lc_graph **g, lc_data **tr, lc_data **te, lc_error *err)
{
    lc_load_opts lo = {0};
    lo.fit = 1;
    lc_data *fit = NULL, *all = NULL;
    int hidden[] = {64, 128, 128}, ok = 0;
    if (lc_data_load(WINE, &lo, &fit, err) ||
        lc_graph_mlp(lc_data_cols(fit), hidden, 3, lc_data_classes(fit), RELU, 3, g, err) ||
        lc_graph_fold_standardize(*g, lc_data_preproc(fit), err))
        goto done;
    lc_load_opts raw = {0};
    raw.pre = lc_graph_preproc(*g);
    raw.input_width = lc_graph_input_width(*g);
    if (lc_data_load(WINE, &raw, &all, err)) goto done;
    size_t n = lc_data_rows(all), a = 0, b = 0;
    size_t *ia = malloc(n * sizeof *ia), *ib = malloc(n * sizeof *ib);
    for (size_t i = 0; ia && ib && i < n; i++) {
        if (i % 5 < 3) ia[a++] = i;
        else ib[b++] = i;
    }
    ok = ia && ib && !lc_data_subset(all, ia, a, tr, err) && !lc_data_subset(all, ib, b, te, err);
    free(ia), free(ib);
done:
    lc_data_free(fit);
    lc_data_free(all);
    return ok;
}

typedef struct { int induce, finetune; } epochs_seen;

static void count(void *ctx, const lc_induce_epoch *e)
{
    epochs_seen *s = ctx;
    if (e->finetune) s->finetune++;
    else s->induce++;
}

TEST(induce_wine_reaches_the_budget)
{
    lc_error err = {0};
    lc_graph *g = NULL, *f = NULL;
    lc_data *tr = NULL, *te = NULL;
    CHECK_MSG(wine(&g, &tr, &te, &err), "%s", err.msg);
    lc_train_opts to;
    lc_train_opts_default(&to);
    to.epochs = 30;
    CHECK_OK(lc_finetune(g, tr, NULL, &to, &err), &err);
    lc_induce_opts o;
    lc_induce_opts_default(&o);
    o.target_size = 0.25;
    o.epochs = 40;
    o.seed = 5;
    epochs_seen s = {0};
    o.epoch_cb = count;
    o.cb_ctx = &s;
    lc_induce_result res;
    CHECK_OK(lc_induce(g, tr, te, te, &o, &f, &res, &err), &err);
    /* 107 rows are 4 batches: the epochs grow to reach 2000 steps */
    CHECK_MSG(s.induce == res.epochs && res.epochs == 500 && res.steps == 2000 && s.finetune == 3,
              "%d epochs seen, %d run, %d steps", s.induce, res.epochs, res.steps);
    size_t pb = lc_graph_params(g), pa = lc_graph_params(f);
    CHECK_MSG(res.met && pa <= (size_t)(0.25 * (double)pb) && res.budget == (size_t)(0.25 * (double)pb),
              "%zu of %zu", pa, pb);
    CHECK(res.original.params == pb && res.folded.params == pa && res.finetuned.params == pa);
    /* the fold of gate-1 neurons is exact: same accuracy, tiny differences */
    CHECK_MSG(res.fold_max_abs_diff < 1e-3, "%g", res.fold_max_abs_diff);
    CHECK(res.folded.val_acc == res.rounded.val_acc);
    int lin = 0;
    for (int k = 0; k < res.n_nodes; k++) lin += res.linearized[k];
    CHECK(lin > 0 && res.linearized[0] == 0 && res.linearized[res.n_nodes - 1] == 0);
    /* wine is easy: the original is ~1.0 on held-out rows; within 5 pp */
    CHECK_MSG(res.finetuned.test_acc >= res.original.test_acc - 0.05, "%g vs %g",
              res.finetuned.test_acc, res.original.test_acc);
    /* the model takes raw features like the original */
    lc_eval_result ev;
    CHECK_OK(lc_evaluate(f, te, &ev, &err), &err);
    CHECK(ev.accuracy == res.finetuned.test_acc);
    CHECK(lc_graph_preproc(f) != NULL);
    lc_induce_result_clear(&res);
    CHECK(res.linearized == NULL);
    lc_graph_free(f);
    lc_graph_free(g);
    lc_data_free(tr);
    lc_data_free(te);
}

TEST(induce_refuses_bad_input)
{
    lc_error err = {0};
    lc_graph *g = NULL, *f = NULL;
    lc_data *tr = NULL, *te = NULL;
    CHECK_MSG(wine(&g, &tr, &te, &err), "%s", err.msg);
    lc_induce_result res;
    lc_induce_opts o;
    lc_induce_opts_default(&o);
    double bad_r[] = {0, -1, 1.5, NAN};
    for (int i = 0; i < 4; i++) {
        o.target_size = bad_r[i];
        CHECK(lc_induce(g, tr, NULL, NULL, &o, &f, &res, &err) == LC_ERR_INVALID && !f);
        CHECK_MSG(strstr(err.msg, "target size"), "%s", err.msg);
    }
    lc_induce_opts_default(&o);
    o.epochs = 0;
    CHECK(lc_induce(g, tr, NULL, NULL, &o, &f, &res, &err) == LC_ERR_INVALID && !f);
    lc_induce_opts_default(&o);
    o.lambda_factor = 1;
    CHECK(lc_induce(g, tr, NULL, NULL, &o, &f, &res, &err) == LC_ERR_INVALID && !f);

    /* unlabelled training data */
    lc_induce_opts_default(&o);
    size_t n = lc_data_rows(tr);
    lc_data *nolab = NULL;
    CHECK_OK(lc_data_from_arrays(n, lc_data_cols(tr), lc_data_x(tr), NULL, 0, &nolab, &err), &err);
    CHECK(lc_induce(g, nolab, NULL, NULL, &o, &f, &res, &err) == LC_ERR_INVALID && !f);
    lc_data_free(nolab);

    /* data of another width */
    float x[6] = {0};
    int32_t y[2] = {0, 1};
    lc_data *narrow = NULL;
    CHECK_OK(lc_data_from_arrays(2, 3, x, y, 2, &narrow, &err), &err);
    CHECK(lc_induce(g, tr, narrow, NULL, &o, &f, &res, &err) == LC_ERR_SHAPE && !f);
    lc_data_free(narrow);

    /* no ReLU node to gate */
    lc_graph *lin = NULL;
    int hidden[] = {4};
    CHECK_OK(lc_graph_mlp(lc_data_cols(tr), hidden, 1, 3, (lc_act){LC_ACT_CLIP, 0, 0, 6}, 1, &lin,
                          &err), &err);
    CHECK(lc_induce(lin, tr, NULL, NULL, &o, &f, &res, &err) == LC_ERR_UNSUPPORTED && !f);
    lc_graph_free(lin);
    lc_graph_free(g);
    lc_data_free(tr);
    lc_data_free(te);
}
