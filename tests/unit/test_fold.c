/* test_fold.c - the folding transform: exactness on random graphs with every
 * hidden activation kind, order independence, chains of folded layers. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

/* A random graph: 2-6 hidden nodes of width 1-12 with random extra skip
 * edges and random hidden activations; about 40 % of the hidden neurons are
 * pushed by small weights and a large bias into one piece (always active,
 * dead, saturated) so that there is something to fold. Shared with
 * test_policy.c. */
lc_graph *fold_test_random_graph(test_rng *r)
{
    int hidden = test_randint(r, 2, 6), n = hidden + 2;
    lc_node_spec spec[8];
    int src[8][8];
    memset(spec, 0, sizeof spec);
    spec[0].width = test_randint(r, 1, 8);
    for (int k = 1; k < n; k++) {
        spec[k].width = k == n - 1 ? test_randint(r, 1, 5) : test_randint(r, 1, 12);
        int ne = 0;
        src[k][ne++] = k - 1;
        for (int j = 0; j < k - 1; j++)
            if (test_uniform(r) < 0.25) src[k][ne++] = j;
        spec[k].n_in = ne;
        spec[k].src = src[k];
        lc_act a = {LC_ACT_IDENTITY, 0, 0, 0};
        if (k < n - 1) {
            a.kind = (lc_act_kind)test_randint(r, LC_ACT_IDENTITY, LC_ACT_CLIP);
            a.alpha = (float)(0.01 + 0.3 * test_uniform(r));
            a.lo = (float)(-2 * test_uniform(r));
            a.hi = (float)(1 + 5 * test_uniform(r));
        } else if (test_uniform(r) < 0.3) {
            a.kind = LC_ACT_SOFTMAX;
        }
        spec[k].act = a;
    }
    lc_graph *g;
    lc_error err;
    if (lc_graph_create(n, spec, &g, &err)) return NULL;
    for (int k = 1; k < n; k++) {
        int w = spec[k].width, fan = 0;
        for (int e = 0; e < spec[k].n_in; e++) fan += spec[src[k][e]].width;
        float *b = lc_graph_bias(g, k), *sl = lc_graph_slope(g, k);
        for (int e = 0; e < spec[k].n_in; e++) {
            float *wt = lc_graph_weight(g, k, e);
            for (int i = 0; i < w * spec[src[k][e]].width; i++)
                wt[i] = (float)(test_normal(r) / sqrt((double)fan));
        }
        for (int i = 0; i < w; i++) {
            b[i] = (float)(0.3 * test_normal(r));
            if (sl) sl[i] = (float)(test_uniform(r) < 0.2 ? 0.0 : 0.5 * test_normal(r));
            if (k == n - 1 || test_uniform(r) > 0.4) continue;
            /* force: shrink the row, push the bias */
            for (int e = 0; e < spec[k].n_in; e++) {
                int sw = spec[src[k][e]].width;
                float *wt = lc_graph_weight(g, k, e) + (size_t)i * sw;
                for (int j = 0; j < sw; j++) wt[j] *= 0.05f;
            }
            lc_act a = spec[k].act;
            int mode = test_randint(r, 0, 2);
            if (a.kind == LC_ACT_CLIP && mode == 2)
                b[i] = (a.lo + a.hi) / 2; /* inside: identity piece */
            else
                b[i] = mode == 0 ? -8.0f : 8.0f;
        }
    }
    return g;
}

void fold_test_random_input(test_rng *r, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(2 * test_uniform(r) - 1);
}

/* Largest output of g on x: the scale of the absolute tolerance. */
static double out_scale(const float *y, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs(y[i]) > m ? fabs(y[i]) : m;
    return m;
}

#define NS 256
#define RTOL 1e-5

/* Outputs of a and b on x (NS rows) agree through lc_forward, and through
 * lc_forward_ref. Returns 0 after reporting a failure. Shared with
 * test_fold_unused.c. */
int fold_test_same_function(const lc_graph *a, const lc_graph *b, const float *x,
                            const char *what)
{
    int ow = lc_graph_output_width(a);
    float *ya = malloc(sizeof(float) * NS * ow), *yb = malloc(sizeof(float) * NS * ow);
    float *ra = malloc(sizeof(float) * NS * ow), *rb = malloc(sizeof(float) * NS * ow);
    lc_error err;
    int ok = ya && yb && ra && rb && lc_graph_output_width(b) == ow &&
             !lc_forward(a, x, NS, ya, &err) && !lc_forward(b, x, NS, yb, &err) &&
             !lc_forward_ref(a, x, NS, ra, &err) && !lc_forward_ref(b, x, NS, rb, &err);
    if (!ok) test_fail(__FILE__, __LINE__, "%s: forward failed", what);
    double atol = 1e-6 * (1 + out_scale(ya, (size_t)NS * ow));
    if (ok) ok = test_close(yb, ya, (size_t)NS * ow, atol, RTOL, __FILE__, __LINE__);
    if (ok) ok = test_close(rb, ra, (size_t)NS * ow, atol, RTOL, __FILE__, __LINE__);
    if (!ok) test_fail(__FILE__, __LINE__, "%s: outputs differ", what);
    free(ya);
    free(yb);
    free(ra);
    free(rb);
    return ok;
}

/* 1 when every hidden node of f feeds a later node (none is unused) and no
 * edge is all zeros, except the input -> output edge of a constant output
 * (the output's only edge); else reports what is wrong and returns 0.
 * Shared with test_fold_unused.c. */
int fold_test_no_dead_parts(lc_graph *f, const char *what)
{
    int n = lc_graph_nodes(f);
    for (int k = 1; k < n - 1; k++)
        if (lc_graph_n_out(f, k) == 0) {
            test_fail(__FILE__, __LINE__, "%s: node %d ('%s') has no consumer", what, k,
                      lc_graph_name(f, k));
            return 0;
        }
    for (int k = 1; k < n; k++)
        for (int e = 0; e < lc_graph_n_in(f, k); e++) {
            int j = lc_graph_src(f, k, e);
            size_t sz = (size_t)lc_graph_width(f, k) * (size_t)lc_graph_width(f, j), nz = 0;
            for (size_t i = 0; i < sz; i++) nz += lc_graph_weight(f, k, e)[i] != 0.0f;
            if (nz == 0 && !(k == n - 1 && j == 0 && lc_graph_n_in(f, k) == 1)) {
                test_fail(__FILE__, __LINE__, "%s: edge %d -> %d is all zeros", what, j, k);
                return 0;
            }
        }
    return 1;
}

/* Nodes of g that lc_fold removed although p keeps some of their neurons:
 * nodes left unused by the fold. */
static int unused_dropped(const lc_graph *g, const lc_plan *p, const int *map)
{
    int n = 0;
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
        int kept = 0;
        for (int i = 0; i < lc_graph_width(g, k); i++) kept += lc_plan_get(p, k, i) == LC_KEEP;
        n += map[k] < 0 && kept > 0;
    }
    return n;
}

TEST(fold_exact_random_graphs)
{
    lc_error err;
    const char *lts[] = {"auto", "0", "2", "0.3", "0.75"};
    int folded_any = 0, dropped_nodes = 0, dropped_unused = 0;
    for (int seed = 1; seed <= 150; seed++) {
        test_rng r = {0x9e3779b97f4a7c15ULL * (unsigned)seed};
        lc_graph *g = fold_test_random_graph(&r);
        CHECK(g);
        int iw = lc_graph_input_width(g);
        float *x = malloc(sizeof(float) * NS * iw);
        fold_test_random_input(&r, x, (size_t)NS * iw);
        lc_stats *st = NULL;
        CHECK_OK(lc_stats_compute(g, x, NS, iw, &st, &err), &err);
        for (int t = 0; t < 5; t++) {
            lc_layer_threshold lt;
            CHECK_OK(lc_layer_threshold_parse(lts[t], &lt, &err), &err);
            lc_plan *p = NULL;
            lc_graph *f = NULL;
            size_t est = 0;
            int map[8];
            CHECK_OK(lc_plan_from_stats(g, st, 1.0, lt, &p, &err), &err);
            CHECK_OK(lc_plan_params_after(g, p, &est, NULL, &err), &err);
            CHECK_OK(lc_fold(g, p, &f, map, &err), &err);
            char what[64];
            snprintf(what, sizeof what, "seed %d layer threshold %s", seed, lts[t]);
            CHECK_MSG(fold_test_same_function(g, f, x, what), "%s", what);
            CHECK(fold_test_no_dead_parts(f, what));
            dropped_unused += unused_dropped(g, p, map);
            CHECK_MSG(est == lc_graph_params(f), "%s: cost model %zu, folded graph %zu", what,
                      est, lc_graph_params(f));
            if (t == 0)
                CHECK_MSG(lc_graph_params(f) <= lc_graph_params(g), "%s: auto grew %zu -> %zu",
                          what, lc_graph_params(g), lc_graph_params(f));
            folded_any += lc_graph_params(f) != lc_graph_params(g);
            dropped_nodes += lc_graph_nodes(f) < lc_graph_nodes(g);
            lc_graph_free(f);
            lc_plan_free(p);
        }
        lc_stats_free(st);
        free(x);
        lc_graph_free(g);
    }
    /* the generator must actually exercise the transform, including nodes
     * that a constant consumer leaves unused */
    CHECK_MSG(folded_any > 300 && dropped_nodes > 20 && dropped_unused > 20,
              "folded %d, dropped nodes %d, dropped unused %d", folded_any, dropped_nodes,
              dropped_unused);
}

/* The plan folding every neuron that stays in one piece on x. */
static lc_plan *full_plan(const lc_graph *g, const float *x, lc_error *err)
{
    lc_stats *st = NULL;
    lc_plan *p = NULL;
    lc_layer_threshold all = {LC_LAYER_COUNT, 0};
    if (!lc_stats_compute(g, x, NS, lc_graph_input_width(g), &st, err))
        lc_plan_from_stats(g, st, 1.0, all, &p, err);
    lc_stats_free(st);
    return p;
}

TEST(fold_order_independent)
{
    lc_error err;
    for (int seed = 1; seed <= 80; seed++) {
        test_rng r = {0x2545f4914f6cdd1dULL * (unsigned)seed + 7};
        lc_graph *g = fold_test_random_graph(&r);
        CHECK(g);
        int n = lc_graph_nodes(g), iw = lc_graph_input_width(g);
        float *x = malloc(sizeof(float) * NS * iw);
        fold_test_random_input(&r, x, (size_t)NS * iw);
        lc_plan *all = full_plan(g, x, &err);
        CHECK_MSG(all, "%s", err.msg);
        lc_graph *once = NULL;
        CHECK_OK(lc_fold(g, all, &once, NULL, &err), &err);

        /* node by node, in a random order (shuffled hidden indices) */
        int order[8], map[8], nm[8];
        for (int k = 0; k < n; k++) map[k] = k;
        for (int k = 1; k < n - 1; k++) order[k - 1] = k;
        for (int a = n - 3; a > 0; a--) {
            int b = test_randint(&r, 0, a), t = order[a];
            order[a] = order[b];
            order[b] = t;
        }
        if (seed % 3 == 0) /* every third: strictly increasing, the hardest order */
            for (int k = 1; k < n - 1; k++) order[k - 1] = k;
        lc_graph *cur = NULL;
        CHECK_OK(lc_graph_clone(g, &cur, &err), &err);
        for (int s = 0; s < n - 2; s++) {
            int k = order[s];
            if (map[k] < 0) continue; /* became a constant earlier */
            lc_plan *p = NULL;
            CHECK_OK(lc_plan_create(cur, &p, &err), &err);
            CHECK(lc_graph_width(cur, map[k]) == lc_graph_width(g, k));
            for (int i = 0; i < lc_graph_width(g, k); i++)
                CHECK_OK(lc_plan_set(p, map[k], i, lc_plan_get(all, k, i), &err), &err);
            lc_graph *next = NULL;
            CHECK_OK(lc_fold(cur, p, &next, nm, &err), &err);
            for (int j = 0; j < n; j++) map[j] = map[j] < 0 ? -1 : nm[map[j]];
            lc_plan_free(p);
            lc_graph_free(cur);
            cur = next;
        }
        char what[48];
        snprintf(what, sizeof what, "seed %d", seed);
        CHECK_MSG(fold_test_same_function(g, once, x, what), "%s: all at once", what);
        CHECK_MSG(fold_test_same_function(once, cur, x, what), "%s: node by node", what);
        CHECK_MSG(lc_graph_params(once) == lc_graph_params(cur),
                  "%s: all at once %zu params, node by node %zu", what, lc_graph_params(once),
                  lc_graph_params(cur));
        lc_graph_free(cur);
        lc_graph_free(once);
        lc_plan_free(all);
        free(x);
        lc_graph_free(g);
    }
}

/* An MLP 5-8-8-8-3 whose hidden neurons are all always active (positive
 * weights, inputs and biases), with relu, leaky_relu and identity: the three
 * hidden layers fold into one edge input -> output. */
TEST(fold_chain_of_linear_layers)
{
    lc_error err;
    int s1[] = {0}, s2[] = {1}, s3[] = {2}, s4[] = {3};
    lc_node_spec spec[5] = {
        {"in", 5, {0}, 0, NULL},
        {"h1", 8, {LC_ACT_RELU, 0, 0, 0}, 1, s1},
        {"h2", 8, {LC_ACT_LEAKY_RELU, 0.1f, 0, 0}, 1, s2},
        {"h3", 8, {LC_ACT_IDENTITY, 0, 0, 0}, 1, s3},
        {"out", 3, {LC_ACT_LOG_SOFTMAX, 0, 0, 0}, 1, s4},
    };
    lc_graph *g = NULL;
    CHECK_OK(lc_graph_create(5, spec, &g, &err), &err);
    test_rng r = {42};
    for (int k = 1; k < 5; k++) {
        int w = spec[k].width, sw = spec[k - 1].width;
        float *wt = lc_graph_weight(g, k, 0), *b = lc_graph_bias(g, k);
        for (int i = 0; i < w * sw; i++)
            wt[i] = (float)(k < 4 ? test_uniform(&r) : test_normal(&r));
        for (int i = 0; i < w; i++) b[i] = (float)(0.5 + test_uniform(&r));
    }
    float x[NS * 5];
    for (int i = 0; i < NS * 5; i++) x[i] = (float)test_uniform(&r);
    lc_stats *st = NULL;
    CHECK_OK(lc_stats_compute(g, x, NS, 5, &st, &err), &err);
    for (int k = 1; k <= 3; k++)
        CHECK(lc_stats_n_always(st, k, lc_act_identity_piece(spec[k].act.kind)) == 8);
    const char *lts[] = {"auto", "0", "0.5"};
    for (int t = 0; t < 3; t++) {
        lc_layer_threshold lt;
        CHECK_OK(lc_layer_threshold_parse(lts[t], &lt, &err), &err);
        lc_plan *p = NULL;
        lc_graph *f = NULL;
        int map[5];
        CHECK_OK(lc_plan_from_stats(g, st, 1.0, lt, &p, &err), &err);
        for (int k = 1; k <= 3; k++) CHECK(lc_plan_folded_linear(p, k) == 8);
        CHECK_OK(lc_fold(g, p, &f, map, &err), &err);
        CHECK(lc_graph_nodes(f) == 2);
        CHECK(map[0] == 0 && map[1] == -1 && map[2] == -1 && map[3] == -1 && map[4] == 1);
        CHECK(strcmp(lc_graph_name(f, 1), "out") == 0);
        CHECK(lc_graph_act(f, 1).kind == LC_ACT_LOG_SOFTMAX);
        CHECK(lc_graph_params(f) == 3 * 5 + 3);
        CHECK(fold_test_same_function(g, f, x, lts[t]));
        lc_graph_free(f);
        lc_plan_free(p);
    }
    lc_stats_free(st);
    lc_graph_free(g);
}

/* Hand-set case of the transform itself: relu node of width 2 between a
 * width-2 input and a width-1 output, neuron 0 folded linear, neuron 1 dead.
 * z = W1 x + b1, out = W2 h + b2. */
TEST(fold_hand_set_weights)
{
    lc_error err;
    int s1[] = {0}, s2[] = {1};
    lc_node_spec spec[3] = {
        {"in", 2, {0}, 0, NULL},
        {"h", 2, {LC_ACT_RELU, 0, 0, 0}, 1, s1},
        {"out", 1, {LC_ACT_IDENTITY, 0, 0, 0}, 1, s2},
    };
    lc_graph *g = NULL, *f = NULL;
    CHECK_OK(lc_graph_create(3, spec, &g, &err), &err);
    float w1[] = {1, 2, 3, 4}, b1[] = {5, -6}, w2[] = {7, 8}, b2[] = {9};
    memcpy(lc_graph_weight(g, 1, 0), w1, sizeof w1);
    memcpy(lc_graph_bias(g, 1), b1, sizeof b1);
    memcpy(lc_graph_weight(g, 2, 0), w2, sizeof w2);
    memcpy(lc_graph_bias(g, 2), b2, sizeof b2);
    lc_plan *p = NULL;
    CHECK_OK(lc_plan_create(g, &p, &err), &err);
    CHECK_OK(lc_plan_set(p, 1, 0, 1, &err), &err);
    CHECK_OK(lc_plan_set(p, 1, 1, 0, &err), &err);
    CHECK(lc_plan_folded_linear(p, 1) == 1 && lc_plan_removed_constant(p, 1) == 1);
    CHECK(lc_plan_set(p, 2, 0, 0, &err) == LC_ERR_INVALID); /* output node */
    CHECK(lc_plan_set(p, 0, 0, 0, &err) == LC_ERR_INVALID); /* input node */
    CHECK(lc_plan_set(p, 1, 2, 0, &err) == LC_ERR_INVALID); /* no neuron 2 */
    CHECK(lc_plan_set(p, 1, 0, 2, &err) == LC_ERR_INVALID); /* relu has 2 pieces */
    CHECK_OK(lc_fold(g, p, &f, NULL, &err), &err);
    /* out = 7 (x1 + 2 x2 + 5) + 9: one edge in -> out [7 14], bias 44 */
    CHECK(lc_graph_nodes(f) == 2 && lc_graph_n_in(f, 1) == 1 && lc_graph_src(f, 1, 0) == 0);
    float want_w[] = {7, 14}, want_b[] = {44};
    CHECK_CLOSE(lc_graph_weight(f, 1, 0), want_w, 2, 0, 0);
    CHECK_CLOSE(lc_graph_bias(f, 1), want_b, 1, 0, 0);
    lc_graph_free(f);

    /* keep neuron 1: h keeps one row [3 4] / -6, out gets the skip edge as a
     * second, appended edge */
    CHECK_OK(lc_plan_set(p, 1, 1, LC_KEEP, &err), &err);
    CHECK_OK(lc_fold(g, p, &f, NULL, &err), &err);
    CHECK(lc_graph_nodes(f) == 3 && lc_graph_width(f, 1) == 1);
    CHECK(lc_graph_n_in(f, 2) == 2 && lc_graph_src(f, 2, 0) == 1 && lc_graph_src(f, 2, 1) == 0);
    float w_h[] = {3, 4}, b_h[] = {-6}, w_oh[] = {8}, w_oi[] = {7, 14};
    CHECK_CLOSE(lc_graph_weight(f, 1, 0), w_h, 2, 0, 0);
    CHECK_CLOSE(lc_graph_bias(f, 1), b_h, 1, 0, 0);
    CHECK_CLOSE(lc_graph_weight(f, 2, 0), w_oh, 1, 0, 0);
    CHECK_CLOSE(lc_graph_weight(f, 2, 1), w_oi, 2, 0, 0);
    CHECK_CLOSE(lc_graph_bias(f, 2), want_b, 1, 0, 0);
    CHECK(strcmp(lc_graph_name(f, 1), "h") == 0);
    lc_graph_free(f);
    lc_plan_free(p);
    lc_graph_free(g);
}

/* Every neuron of the only hidden node is a constant (dead relu / saturated
 * clip): the output loses its only producer, becomes constant and keeps a
 * zero edge from the input; the function stays the same. */
TEST(fold_all_constant_orphans_output)
{
    lc_error err;
    int s1[] = {0}, s2[] = {1};
    lc_node_spec spec[3] = {
        {"in", 3, {0}, 0, NULL},
        {"h", 4, {LC_ACT_CLIP, 0, 0, 6}, 1, s1},
        {"out", 2, {LC_ACT_IDENTITY, 0, 0, 0}, 1, s2},
    };
    lc_graph *g = NULL, *f = NULL;
    CHECK_OK(lc_graph_create(3, spec, &g, &err), &err);
    test_rng r = {7};
    for (int i = 0; i < 12; i++) lc_graph_weight(g, 1, 0)[i] = (float)test_normal(&r);
    for (int i = 0; i < 8; i++) lc_graph_weight(g, 2, 0)[i] = (float)test_normal(&r);
    float b1[] = {-20, 20, -30, 40};
    memcpy(lc_graph_bias(g, 1), b1, sizeof b1);
    float x[NS * 3];
    fold_test_random_input(&r, x, NS * 3);
    lc_plan *p = full_plan(g, x, &err);
    CHECK_MSG(p, "%s", err.msg);
    CHECK(lc_plan_removed_constant(p, 1) == 4 && lc_plan_folded_linear(p, 1) == 0);
    size_t est;
    CHECK_OK(lc_plan_params_after(g, p, &est, NULL, &err), &err);
    CHECK_OK(lc_fold(g, p, &f, NULL, &err), &err);
    CHECK(lc_graph_nodes(f) == 2 && est == lc_graph_params(f) && est == 2 * 3 + 2);
    CHECK(fold_test_same_function(g, f, x, "orphaned output"));
    lc_plan_free(p);
    lc_graph_free(f);
    lc_graph_free(g);
}
