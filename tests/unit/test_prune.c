/* test_prune.c - structural neuron removal against zeroed weights on random
 * graphs with skip edges, the fill (bias correction) variant, its errors,
 * and activation-based pruning on a real data set: the size budget, the
 * accuracy of the pruned model, the standardisation round trip. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#define WINE "../shared/data/wine.csv"

/* A random graph with 2-5 hidden nodes of width 2-9 and every hidden
 * activation kind; every node reads its predecessor and, with probability
 * 0.6, each earlier node (so skip edges are the rule, not the exception). */
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
            if (test_uniform(r) < 0.6) src[k][spec[k].n_in++] = j;
        spec[k].src = src[k];
        lc_act a = {(lc_act_kind)test_randint(r, LC_ACT_IDENTITY, LC_ACT_CLIP), 0.1f, -0.5f, 1.5f};
        spec[k].act = k == n - 1 ? (lc_act){LC_ACT_IDENTITY, 0, 0, 0} : a;
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

/* Sets the columns of neuron i of node k to zero in every consumer. */
static void zero_outgoing(lc_graph *g, int k, int i)
{
    int wk = lc_graph_width(g, k);
    for (int m = k + 1; m < lc_graph_nodes(g); m++) {
        int e = lc_graph_find_edge(g, m, k);
        if (e < 0) continue;
        float *w = lc_graph_weight(g, m, e);
        for (int r = 0; r < lc_graph_width(g, m); r++) w[(size_t)r * wk + i] = 0;
    }
}

TEST(prune_remove_equals_zeroed_outgoing_weights)
{
    lc_error err = {0};
    int skip_edges = 0;
    for (int seed = 1; seed <= 40; seed++) {
        test_rng r = {0x2545F4914F6CDD1DULL * (unsigned)seed};
        lc_graph *g = random_graph(&r, &err), *z = NULL, *p = NULL;
        CHECK_MSG(g, "seed %d: %s", seed, err.msg);
        int n = lc_graph_nodes(g);
        unsigned char *keep[7] = {0}, buf[7][9];
        size_t removed_params = 0;
        CHECK_OK(lc_graph_clone(g, &z, &err), &err);
        for (int k = 1; k < n - 1; k++) {
            skip_edges += lc_graph_n_in(g, k) - 1;
            keep[k] = buf[k];
            int w = lc_graph_width(g, k), left = w;
            for (int i = 0; i < w; i++) {
                buf[k][i] = !(left > 1 && test_uniform(&r) < 0.4);
                if (!buf[k][i]) {
                    left--;
                    zero_outgoing(z, k, i);
                }
            }
        }
        CHECK_OK(lc_graph_remove_neurons(g, (const unsigned char *const *)keep, NULL, &p, &err),
                 &err);
        CHECK(lc_graph_nodes(p) == n);
        for (int k = 0; k < n; k++) {
            int w = 0;
            for (int i = 0; i < lc_graph_width(g, k); i++) w += !keep[k] || keep[k][i];
            CHECK_MSG(lc_graph_width(p, k) == w, "seed %d node %d: width %d, wanted %d", seed, k,
                      lc_graph_width(p, k), w);
            CHECK(lc_graph_n_in(p, k) == lc_graph_n_in(g, k));
            CHECK(!strcmp(lc_graph_name(p, k), lc_graph_name(g, k)));
            if (k > 0 && k < n - 1)
                removed_params += (size_t)(lc_graph_width(g, k) - w);
        }
        CHECK(lc_graph_params(p) < lc_graph_params(g) || removed_params == 0);

        size_t ns = 64;
        int ow = lc_graph_output_width(g);
        float *x = random_input(&r, ns, lc_graph_input_width(g));
        float *a = malloc(ns * ow * sizeof *a), *b = malloc(ns * ow * sizeof *b);
        CHECK(x && a && b);
        /* the reference adds in the same order in double, and the dropped
         * terms are exact zeros: bit for bit */
        CHECK_OK(lc_forward_ref(z, x, ns, a, &err), &err);
        CHECK_OK(lc_forward_ref(p, x, ns, b, &err), &err);
        CHECK_MSG(!memcmp(a, b, ns * ow * sizeof *a), "seed %d: reference outputs differ", seed);
        /* SGEMM may block the shorter sums differently: rounding only */
        CHECK_OK(lc_forward(z, x, ns, a, &err), &err);
        CHECK_OK(lc_forward(p, x, ns, b, &err), &err);
        CHECK_CLOSE(b, a, ns * ow, 1e-5, 1e-5);
        free(x), free(a), free(b);
        lc_graph_free(p);
        lc_graph_free(z);
        lc_graph_free(g);
    }
    CHECK_MSG(skip_edges > 20, "only %d skip edges into hidden nodes", skip_edges);
}

/* A neuron whose output is constant c is removed exactly by fill = c. */
TEST(prune_remove_with_fill_is_exact_for_constant_neurons)
{
    lc_error err = {0};
    for (int seed = 1; seed <= 20; seed++) {
        test_rng r = {0x9E3779B97F4A7C15ULL * (unsigned)seed};
        lc_graph *g = random_graph(&r, &err), *p = NULL;
        CHECK_MSG(g, "%s", err.msg);
        int n = lc_graph_nodes(g);
        unsigned char *keep[7] = {0}, kb[7][9];
        float *fill[7] = {0}, fb[7][9];
        for (int k = 1; k < n - 1; k++) {
            keep[k] = kb[k];
            fill[k] = fb[k];
            lc_act a = lc_graph_act(g, k);
            for (int i = 0; i < lc_graph_width(g, k); i++) {
                kb[k][i] = i != 0; /* neuron 0 of every hidden node goes */
                fb[k][i] = 0;
            }
            /* make neuron 0 constant: no input, bias inside the identity piece */
            for (int e = 0; e < lc_graph_n_in(g, k); e++) {
                int sw = lc_graph_width(g, lc_graph_src(g, k, e));
                memset(lc_graph_weight(g, k, e), 0, (size_t)sw * sizeof(float));
            }
            float c = a.kind == LC_ACT_CLIP ? 0.7f : 1.3f;
            lc_graph_bias(g, k)[0] = c;
            fb[k][0] = c;
        }
        CHECK_OK(lc_graph_remove_neurons(g, (const unsigned char *const *)keep,
                                         (const float *const *)fill, &p, &err), &err);
        size_t ns = 32;
        int ow = lc_graph_output_width(g);
        float *x = random_input(&r, ns, lc_graph_input_width(g));
        float *a = malloc(ns * ow * sizeof *a), *b = malloc(ns * ow * sizeof *b);
        CHECK(x && a && b);
        CHECK_OK(lc_forward_ref(g, x, ns, a, &err), &err);
        CHECK_OK(lc_forward_ref(p, x, ns, b, &err), &err);
        CHECK_CLOSE(b, a, ns * ow, 1e-5, 1e-5);
        free(x), free(a), free(b);
        lc_graph_free(p);
        lc_graph_free(g);
    }
}

TEST(prune_remove_refuses_bad_masks)
{
    lc_error err = {0};
    test_rng r = {12345};
    lc_graph *g = random_graph(&r, &err), *p = NULL;
    CHECK(g);
    int n = lc_graph_nodes(g);
    unsigned char none[16] = {0}, ones[16];
    memset(ones, 1, sizeof ones);
    const unsigned char *keep[7] = {0};
    keep[1] = none; /* every neuron of a hidden node */
    CHECK(lc_graph_remove_neurons(g, keep, NULL, &p, &err) == LC_ERR_INVALID && !p);
    CHECK_MSG(strstr(err.msg, lc_graph_name(g, 1)) && strstr(err.msg, "all"), "%s", err.msg);
    keep[1] = NULL;
    unsigned char in_mask[16];
    memset(in_mask, 1, sizeof in_mask);
    in_mask[0] = 0;
    keep[0] = in_mask; /* the input is never pruned */
    CHECK(lc_graph_remove_neurons(g, keep, NULL, &p, &err) == LC_ERR_INVALID && !p);
    CHECK_MSG(strstr(err.msg, "input"), "%s", err.msg);
    keep[0] = NULL;
    keep[n - 1] = in_mask; /* nor the output */
    CHECK(lc_graph_remove_neurons(g, keep, NULL, &p, &err) == LC_ERR_INVALID && !p);
    keep[n - 1] = ones; /* all ones is fine */
    keep[1] = in_mask;
    float nan_fill[16] = {NAN};
    const float *fill[7] = {0};
    fill[1] = nan_fill;
    CHECK(lc_graph_remove_neurons(g, keep, fill, &p, &err) == LC_ERR_NUMERIC && !p);
    CHECK_OK(lc_graph_remove_neurons(g, keep, NULL, &p, &err), &err);
    CHECK(lc_graph_width(p, 1) == lc_graph_width(g, 1) - 1);
    lc_graph_free(p);
    lc_graph_free(g);
}

/* ---- pruning on wine: 178 samples, 13 features on very different scales */

/* Loads wine standardised (fit), builds an MLP and folds the
 * standardisation into it, as `lincomp train` stores models; returns the
 * data as the model sees it (raw features). */
static int wine_model(const int *hidden, int n_hidden, lc_graph **g, lc_data **d, lc_error *err)
{
    lc_load_opts lo = {0};
    lo.fit = 1;
    lc_data *fit = NULL;
    if (lc_data_load(WINE, &lo, &fit, err)) return 0;
    if (lc_graph_mlp(lc_data_cols(fit), hidden, n_hidden, lc_data_classes(fit),
                     (lc_act){LC_ACT_RELU, 0, 0, 0}, 7, g, err) ||
        lc_graph_fold_standardize(*g, lc_data_preproc(fit), err)) {
        lc_data_free(fit);
        return 0;
    }
    lc_data_free(fit);
    lc_load_opts raw = {0};
    raw.pre = lc_graph_preproc(*g);
    raw.input_width = lc_graph_input_width(*g);
    return lc_data_load(WINE, &raw, d, err) == LC_OK;
}

/* The most parameters one neuron of any hidden node of g frees. */
static size_t max_neuron_params(lc_graph *g)
{
    size_t best = 0;
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
        size_t s = 1;
        for (int e = 0; e < lc_graph_n_in(g, k); e++)
            s += (size_t)lc_graph_width(g, lc_graph_src(g, k, e));
        for (int m = k + 1; m < lc_graph_nodes(g); m++)
            if (lc_graph_find_edge(g, m, k) >= 0) s += (size_t)lc_graph_width(g, m);
        best = s > best ? s : best;
    }
    return best;
}

typedef struct { int epochs, pruned_epochs; size_t last_params; } seen;

static void count_epochs(void *ctx, const lc_prune_epoch *e)
{
    seen *s = ctx;
    s->epochs++;
    s->pruned_epochs += e->removed > 0;
    s->last_params = e->params;
}

TEST(prune_wine_reaches_target_and_still_predicts)
{
    lc_error err = {0};
    lc_graph *g = NULL, *p = NULL;
    lc_data *d = NULL;
    int hidden[] = {32, 64, 32};
    CHECK_MSG(wine_model(hidden, 3, &g, &d, &err), "%s", err.msg);
    for (int bias = 0; bias <= 1; bias++) {
        lc_prune_opts o;
        lc_prune_opts_default(&o);
        o.target = 0.4;
        o.bias_correction = bias;
        o.train.epochs = 30;
        o.train.seed = 3;
        seen s = {0};
        o.epoch_cb = count_epochs;
        o.cb_ctx = &s;
        lc_set_threads(1);
        CHECK_OK(lc_prune(g, d, NULL, &o, &p, &err), &err);
        size_t before = lc_graph_params(g), after = lc_graph_params(p);
        size_t budget = (size_t)(0.4 * (double)before);
        CHECK_MSG(after <= budget, "%zu params after, budget %zu", after, budget);
        CHECK_MSG(budget - after < max_neuron_params(g), "%zu params after: far below %zu",
                  after, budget);
        CHECK(s.epochs == 30 && s.pruned_epochs >= 1 && s.last_params == after);
        CHECK(lc_graph_nodes(p) == lc_graph_nodes(g));
        for (int k = 0; k < lc_graph_nodes(g); k++) CHECK(lc_graph_width(p, k) <= lc_graph_width(g, k));
        /* the pruned model keeps the stored preprocessing and takes raw features */
        CHECK(lc_graph_preproc(p) != NULL);
        lc_eval_result res;
        CHECK_OK(lc_evaluate(p, d, &res, &err), &err);
        CHECK_MSG(res.accuracy >= 0.9, "bias correction %d: accuracy %.4f after pruning", bias,
                  res.accuracy);
        lc_graph_free(p);
        p = NULL;
    }
    lc_graph_free(g);
    lc_data_free(d);
}

/* With R = 1 nothing is removed, and with a vanishing learning rate training
 * changes nothing: undoing the standardisation fold for training and
 * redoing it at the end must give back the same function. */
TEST(prune_standardisation_round_trip_keeps_the_function)
{
    lc_error err = {0};
    lc_graph *g = NULL, *p = NULL;
    lc_data *d = NULL;
    int hidden[] = {16};
    CHECK_MSG(wine_model(hidden, 1, &g, &d, &err), "%s", err.msg);
    lc_prune_opts o;
    lc_prune_opts_default(&o);
    o.train.epochs = 1;
    o.train.optimizer = LC_OPT_SGD;
    o.train.momentum = 0;
    o.train.lr = 1e-30;
    CHECK_OK(lc_prune(g, d, NULL, &o, &p, &err), &err);
    CHECK(lc_graph_params(p) == lc_graph_params(g));
    size_t n = lc_data_rows(d);
    int ow = lc_graph_output_width(g);
    float *a = malloc(n * ow * sizeof *a), *b = malloc(n * ow * sizeof *b);
    CHECK(a && b);
    CHECK_OK(lc_forward(g, lc_data_x(d), n, a, &err), &err);
    CHECK_OK(lc_forward(p, lc_data_x(d), n, b, &err), &err);
    /* proline (~1000) times weights / sd: rounding relative to the logits */
    CHECK_CLOSE(b, a, n * ow, 1e-3, 1e-4);
    free(a), free(b);
    lc_graph_free(p);
    lc_graph_free(g);
    lc_data_free(d);
}

TEST(prune_refuses_bad_options_and_unlabelled_data)
{
    lc_error err = {0};
    lc_graph *g = NULL, *p = NULL;
    lc_data *d = NULL, *u = NULL;
    int hidden[] = {4};
    CHECK_MSG(wine_model(hidden, 1, &g, &d, &err), "%s", err.msg);
    lc_prune_opts o;
    lc_prune_opts_default(&o);
    double bad[] = {0, -0.5, 1.01, NAN};
    for (int i = 0; i < 4; i++) {
        o.target = bad[i];
        CHECK(lc_prune(g, d, NULL, &o, &p, &err) == LC_ERR_INVALID && !p);
        CHECK_MSG(strstr(err.msg, "target"), "%s", err.msg);
    }
    o.target = 0.5;
    o.quantile = 0;
    CHECK(lc_prune(g, d, NULL, &o, &p, &err) == LC_ERR_INVALID && !p);
    o.quantile = 0.05;
    CHECK_OK(lc_data_from_arrays(lc_data_rows(d), lc_data_cols(d), lc_data_x(d), NULL, 0, &u,
                                 &err), &err);
    CHECK(lc_prune(g, u, NULL, &o, &p, &err) == LC_ERR_INVALID && !p);
    CHECK_MSG(strstr(err.msg, "labels"), "%s", err.msg);
    lc_data_free(u);
    lc_graph_free(g);
    lc_data_free(d);
}
