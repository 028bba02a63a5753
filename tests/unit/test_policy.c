/* test_policy.c - statistics counts, thresholds and the cost model on
 * hand-built networks whose answers were worked out by hand. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

lc_graph *fold_test_random_graph(test_rng *r);                /* test_fold.c */
void fold_test_random_input(test_rng *r, float *x, size_t n); /* test_fold.c */

static void set_row(lc_graph *g, int k, int e, int row, const float *v, int n)
{
    memcpy(lc_graph_weight(g, k, e) + (size_t)row * n, v, (size_t)n * sizeof(float));
}

/* One scalar input fans out to relu(2), clip(0,1), leaky(0.1), prelu and
 * identity nodes; six samples x = -2, -1, 0, 1, 2, NaN. */
TEST(stats_hand_counts)
{
    lc_error err;
    int s0[] = {0}, s5[] = {5};
    lc_node_spec spec[7] = {
        {"x", 1, {0}, 0, NULL},
        {"relu", 2, {LC_ACT_RELU, 0, 0, 0}, 1, s0},
        {"clip", 1, {LC_ACT_CLIP, 0, 0, 1}, 1, s0},
        {"leaky", 1, {LC_ACT_LEAKY_RELU, 0.1f, 0, 0}, 1, s0},
        {"prelu", 1, {LC_ACT_PRELU, 0, 0, 0}, 1, s0},
        {"id", 1, {LC_ACT_IDENTITY, 0, 0, 0}, 1, s0},
        {"out", 1, {LC_ACT_IDENTITY, 0, 0, 0}, 1, s5},
    };
    lc_graph *g = NULL;
    CHECK_OK(lc_graph_create(7, spec, &g, &err), &err);
    float w1[] = {1, -1}, b1[] = {0, 0.5f};
    memcpy(lc_graph_weight(g, 1, 0), w1, sizeof w1);
    memcpy(lc_graph_bias(g, 1), b1, sizeof b1);
    lc_graph_weight(g, 2, 0)[0] = 0.5f;                                   /* z = x/2 */
    lc_graph_weight(g, 3, 0)[0] = 1, lc_graph_bias(g, 3)[0] = -1.5f;      /* z = x-1.5 */
    lc_graph_weight(g, 4, 0)[0] = -1, lc_graph_slope(g, 4)[0] = 0.25f;    /* z = -x */
    lc_graph_weight(g, 5, 0)[0] = 2, lc_graph_bias(g, 5)[0] = 1;          /* z = 2x+1 */
    lc_graph_weight(g, 6, 0)[0] = 1;
    float x[] = {-2, -1, 0, 1, 2, NAN};
    lc_stats *st = NULL;
    CHECK(lc_stats_compute(g, x, 6, 2, &st, &err) == LC_ERR_SHAPE && !st);
    CHECK_OK(lc_stats_compute(g, x, 6, 1, &st, &err), &err);
    CHECK(lc_stats_samples(st) == 6 && lc_stats_nodes(st) == 7);
    CHECK(lc_stats_width(st, 0) == 0 && lc_stats_width(st, 6) == 0 && lc_stats_width(st, 1) == 2);
    CHECK(lc_stats_pieces(st, 1) == 2 && lc_stats_pieces(st, 2) == 3 && lc_stats_pieces(st, 5) == 1);
    /* relu neuron 0, z = x: <=0 {-2,-1,0}, >0 {1,2}; the NaN in neither */
    CHECK(lc_stats_count(st, 1, 0, 0) == 3 && lc_stats_count(st, 1, 0, 1) == 2);
    CHECK(lc_stats_zmin(st, 1, 0) == -2 && lc_stats_zmax(st, 1, 0) == 2);
    CHECK(fabs(lc_stats_rate(st, 1, 0) - 2.0 / 6) < 1e-12);
    /* relu neuron 1, z = 0.5 - x: 2.5 1.5 0.5 -0.5 -1.5 */
    CHECK(lc_stats_count(st, 1, 1, 0) == 2 && lc_stats_count(st, 1, 1, 1) == 3);
    CHECK(lc_stats_zmin(st, 1, 1) == -1.5f && lc_stats_zmax(st, 1, 1) == 2.5f);
    /* clip(0,1), z = x/2: -1 -0.5 0 | 0.5 | 1 */
    CHECK(lc_stats_count(st, 2, 0, 0) == 3 && lc_stats_count(st, 2, 0, 1) == 1 &&
          lc_stats_count(st, 2, 0, 2) == 1);
    CHECK(fabs(lc_stats_rate(st, 2, 0) - 1.0 / 6) < 1e-12);
    /* leaky, z = x - 1.5: -3.5 -2.5 -1.5 -0.5 | 0.5 */
    CHECK(lc_stats_count(st, 3, 0, 0) == 4 && lc_stats_count(st, 3, 0, 1) == 1);
    /* prelu, z = -x: 2 1 | 0 -1 -2 */
    CHECK(lc_stats_count(st, 4, 0, 0) == 3 && lc_stats_count(st, 4, 0, 1) == 2);
    /* identity, z = 2x + 1: five finite samples in the one piece */
    CHECK(lc_stats_count(st, 5, 0, 0) == 5 && fabs(lc_stats_rate(st, 5, 0) - 5.0 / 6) < 1e-12);
    CHECK(lc_stats_zmin(st, 5, 0) == -3 && lc_stats_zmax(st, 5, 0) == 5);
    /* the NaN sample keeps every neuron from being "always" anywhere */
    CHECK(lc_stats_n_always(st, 5, 0) == 0 && lc_stats_n_always(st, 1, 1) == 0);
    lc_stats_free(st);

    /* without the NaN: the identity node is always in its piece */
    CHECK_OK(lc_stats_compute(g, x, 5, 1, &st, &err), &err);
    CHECK(lc_stats_n_always(st, 5, 0) == 1 && lc_stats_n_always(st, 1, 1) == 0);
    CHECK(fabs(lc_stats_rate(st, 5, 0) - 1.0) < 1e-12);
    lc_stats_free(st);

    /* zero samples: allowed, counts zero, no plan can be made from it */
    CHECK_OK(lc_stats_compute(g, x, 0, 1, &st, &err), &err);
    CHECK(lc_stats_count(st, 1, 0, 1) == 0 && lc_stats_rate(st, 1, 0) == 0);
    lc_plan *p = NULL;
    lc_layer_threshold lt = {LC_LAYER_AUTO, 0};
    CHECK(lc_plan_from_stats(g, st, 1.0, lt, &p, &err) == LC_ERR_INVALID && !p);
    lc_stats_free(st);
    lc_graph_free(g);
}

/* One relu node of five neurons over x = (r + 0.5) / 100, r = 0..99, with
 * z_i = x - t_i: rates 1, 0.97, 0.5, 0.03, 0. */
TEST(policy_threshold_tau)
{
    lc_error err;
    int s0[] = {0}, s1[] = {1};
    lc_node_spec spec[3] = {
        {"x", 1, {0}, 0, NULL},
        {"h", 5, {LC_ACT_RELU, 0, 0, 0}, 1, s0},
        {"out", 1, {LC_ACT_IDENTITY, 0, 0, 0}, 1, s1},
    };
    lc_graph *g = NULL;
    CHECK_OK(lc_graph_create(3, spec, &g, &err), &err);
    float t[] = {-1, 0.03f, 0.5f, 0.97f, 2};
    for (int i = 0; i < 5; i++) {
        lc_graph_weight(g, 1, 0)[i] = 1;
        lc_graph_bias(g, 1)[i] = -t[i];
        lc_graph_weight(g, 2, 0)[i] = 1;
    }
    float x[100];
    for (int r = 0; r < 100; r++) x[r] = (r + 0.5f) / 100;
    lc_stats *st = NULL;
    CHECK_OK(lc_stats_compute(g, x, 100, 1, &st, &err), &err);
    CHECK(lc_stats_count(st, 1, 1, 1) == 97 && lc_stats_count(st, 1, 2, 1) == 50 &&
          lc_stats_count(st, 1, 3, 1) == 3);
    lc_layer_threshold all = {LC_LAYER_COUNT, 0};
    struct { double tau; int want[5]; } cases[] = {
        {1.0, {1, LC_KEEP, LC_KEEP, LC_KEEP, 0}},
        {0.95, {1, 1, LC_KEEP, 0, 0}},
        {0.5, {1, 1, 1, 0, 0}}, /* neuron 2 ties 50/50: the identity piece wins */
        {0.0, {1, 1, 1, 1, 1}},
    };
    for (int c = 0; c < 4; c++) {
        lc_plan *p = NULL;
        CHECK_OK(lc_plan_from_stats(g, st, cases[c].tau, all, &p, &err), &err);
        for (int i = 0; i < 5; i++)
            CHECK_MSG(lc_plan_get(p, 1, i) == cases[c].want[i], "tau %g neuron %d: piece %d, "
                      "want %d", cases[c].tau, i, lc_plan_get(p, 1, i), cases[c].want[i]);
        lc_plan_free(p);
    }
    lc_plan *p = NULL;
    CHECK(lc_plan_from_stats(g, st, 1.5, all, &p, &err) == LC_ERR_INVALID && !p);
    CHECK(lc_plan_from_stats(g, st, -0.1, all, &p, &err) == LC_ERR_INVALID);
    CHECK(lc_plan_from_stats(g, st, NAN, all, &p, &err) == LC_ERR_INVALID);
    lc_layer_threshold bad = {LC_LAYER_FRACTION, 1.0};
    CHECK(lc_plan_from_stats(g, st, 1.0, bad, &p, &err) == LC_ERR_INVALID);
    lc_stats_free(st);
    lc_graph_free(g);
}

TEST(policy_layer_threshold_parse)
{
    lc_error err;
    lc_layer_threshold lt;
    CHECK_OK(lc_layer_threshold_parse("auto", &lt, &err), &err);
    CHECK(lt.kind == LC_LAYER_AUTO);
    CHECK_OK(lc_layer_threshold_parse("3", &lt, &err), &err);
    CHECK(lt.kind == LC_LAYER_COUNT && lt.value == 3);
    CHECK_OK(lc_layer_threshold_parse("0", &lt, &err), &err);
    CHECK(lt.kind == LC_LAYER_COUNT && lt.value == 0);
    CHECK_OK(lc_layer_threshold_parse("0.5", &lt, &err), &err);
    CHECK(lt.kind == LC_LAYER_FRACTION && lt.value == 0.5);
    CHECK_OK(lc_layer_threshold_parse(".25", &lt, &err), &err);
    CHECK(lt.kind == LC_LAYER_FRACTION && lt.value == 0.25);
    const char *bad[] = {"", "AUTO", "-1", "1.0", "0.0", "1.5", "abc", "0.5x", "3 ", "nan",
                         "99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.msg[0] = 0;
        CHECK_MSG(lc_layer_threshold_parse(bad[i], &lt, &err) == LC_ERR_INVALID, "'%s' accepted",
                  bad[i]);
        CHECK(strstr(err.msg, "layer threshold") != NULL);
    }
}

/* MLP 3-5-4-2 (relu, relu, identity), inputs in [0,1]^3 with x0 = (r+0.5)/64.
 * Node 1: neurons 0-2 always active, 3 dead, 4 mixed (x0 - 0.5).
 * Node 2: neuron 0 always active, 1-3 mixed (h1[4] - 0.1).
 * Params 5*3+5 + 4*5+4 + 2*4+2 = 54. By hand, at tau = 1:
 *  - node 1 linear fold (3, the dead one always goes): node 1 keeps 1 neuron,
 *    new edge 0 -> 2: 4 + (4 + 12 + 4) + 10 = 34
 *  - plus node 2's one linear neuron: node 2 keeps 3, edges 1 -> 3 and
 *    0 -> 3 appear: 4 + (3 + 9 + 3) + (6 + 2 + 6 + 2) = 35
 *  - node 2 alone after the dead neuron (46): 47, worse. */
TEST(policy_layer_thresholds_by_hand)
{
    lc_error err;
    int s0[] = {0}, s1[] = {1}, s2[] = {2};
    lc_node_spec spec[4] = {
        {"x", 3, {0}, 0, NULL},
        {"h1", 5, {LC_ACT_RELU, 0, 0, 0}, 1, s0},
        {"h2", 4, {LC_ACT_RELU, 0, 0, 0}, 1, s1},
        {"out", 2, {LC_ACT_IDENTITY, 0, 0, 0}, 1, s2},
    };
    lc_graph *g = NULL;
    CHECK_OK(lc_graph_create(4, spec, &g, &err), &err);
    float on[] = {0.5f, 0.5f, 0.5f}, x0[] = {1, 0, 0};
    for (int i = 0; i < 3; i++) set_row(g, 1, 0, i, on, 3), lc_graph_bias(g, 1)[i] = 1;
    lc_graph_bias(g, 1)[3] = -1;
    set_row(g, 1, 0, 4, x0, 3), lc_graph_bias(g, 1)[4] = -0.5f;
    float on2[] = {0.1f, 0.1f, 0.1f, 0.1f, 0.1f}, e4[] = {0, 0, 0, 0, 1};
    set_row(g, 2, 0, 0, on2, 5), lc_graph_bias(g, 2)[0] = 1;
    for (int i = 1; i < 4; i++) set_row(g, 2, 0, i, e4, 5), lc_graph_bias(g, 2)[i] = -0.1f;
    test_rng r = {99};
    for (int i = 0; i < 8; i++) lc_graph_weight(g, 3, 0)[i] = (float)test_normal(&r);
    float x[64 * 3];
    for (int s = 0; s < 64; s++) {
        x[s * 3] = (s + 0.5f) / 64;
        x[s * 3 + 1] = (float)test_uniform(&r);
        x[s * 3 + 2] = (float)test_uniform(&r);
    }
    CHECK(lc_graph_params(g) == 54);
    lc_stats *st = NULL;
    CHECK_OK(lc_stats_compute(g, x, 64, 3, &st, &err), &err);
    CHECK(lc_stats_n_always(st, 1, 1) == 3 && lc_stats_n_always(st, 1, 0) == 1);
    CHECK(lc_stats_n_always(st, 2, 1) == 1 && lc_stats_n_always(st, 2, 0) == 0);
    struct { const char *lt; int lin1, lin2; size_t params; } cases[] = {
        {"auto", 3, 0, 34}, {"2", 3, 0, 34}, {"0", 3, 1, 35}, {"3", 0, 0, 46},
        {"0.5", 3, 0, 34},  {"0.2", 3, 1, 35}, {"0.6", 0, 0, 46},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        lc_layer_threshold lt;
        CHECK_OK(lc_layer_threshold_parse(cases[c].lt, &lt, &err), &err);
        lc_plan *p = NULL;
        lc_graph *f = NULL;
        size_t est;
        CHECK_OK(lc_plan_from_stats(g, st, 1.0, lt, &p, &err), &err);
        CHECK_MSG(lc_plan_folded_linear(p, 1) == cases[c].lin1 &&
                  lc_plan_folded_linear(p, 2) == cases[c].lin2,
                  "layer threshold %s: folded linear %d, %d; want %d, %d", cases[c].lt,
                  lc_plan_folded_linear(p, 1), lc_plan_folded_linear(p, 2), cases[c].lin1,
                  cases[c].lin2);
        CHECK(lc_plan_removed_constant(p, 1) == 1 && lc_plan_removed_constant(p, 2) == 0);
        CHECK_OK(lc_plan_params_after(g, p, &est, NULL, &err), &err);
        CHECK_OK(lc_fold(g, p, &f, NULL, &err), &err);
        CHECK_MSG(est == cases[c].params && lc_graph_params(f) == est,
                  "layer threshold %s: %zu params (folded %zu), want %zu", cases[c].lt, est,
                  lc_graph_params(f), cases[c].params);
        lc_graph_free(f);
        lc_plan_free(p);
    }
    lc_stats_free(st);
    lc_graph_free(g);
}

/* Two parallel relu branches 0 -> {1, 2} -> 3, widths 10, 4, 4, 10:
 * 44 + 44 + 90 = 178 params. Each branch has 3 always-active neurons.
 * Folding 3 of node 1 frees 3 (10 + 10 + 1) = 63 but needs the new edge
 * 0 -> 3 of 10 x 10 = 100: -37 alone, same for node 2. After node 2 is folded
 * the edge exists, so node 1's fold is free: +63. Both: 178 - 126 + 100 = 152.
 * A layer-by-layer rule folds neither; auto must fold both. */
TEST(policy_cost_model_shared_edge)
{
    lc_error err;
    int s0[] = {0}, s3[] = {1, 2};
    lc_node_spec spec[4] = {
        {"x", 10, {0}, 0, NULL},
        {"a", 4, {LC_ACT_RELU, 0, 0, 0}, 1, s0},
        {"b", 4, {LC_ACT_RELU, 0, 0, 0}, 1, s0},
        {"out", 10, {LC_ACT_IDENTITY, 0, 0, 0}, 2, s3},
    };
    lc_graph *g = NULL;
    CHECK_OK(lc_graph_create(4, spec, &g, &err), &err);
    test_rng r = {5};
    float pos[10], e0[10] = {1};
    for (int j = 0; j < 10; j++) pos[j] = 0.1f;
    for (int k = 1; k <= 2; k++) {
        for (int i = 0; i < 3; i++) set_row(g, k, 0, i, pos, 10), lc_graph_bias(g, k)[i] = 1;
        set_row(g, k, 0, 3, e0, 10), lc_graph_bias(g, k)[3] = -0.5f;
    }
    for (int e = 0; e < 2; e++)
        for (int i = 0; i < 40; i++) lc_graph_weight(g, 3, e)[i] = (float)test_normal(&r);
    CHECK(lc_graph_params(g) == 178);
    CHECK(lc_fold_saving(g, 1, 3, 1) == -37 && lc_fold_saving(g, 2, 3, 1) == -37);
    CHECK(lc_fold_saving(g, 1, 3, 0) == 63); /* constants need no edge */

    float x[128 * 10];
    fold_test_random_input(&r, x, 128 * 10);
    for (int s = 0; s < 128; s++) /* keep inputs in [0, 1], x0 spread over it */
        for (int j = 0; j < 10; j++) x[s * 10 + j] = j == 0 ? (s + 0.5f) / 128 : fabsf(x[s * 10 + j]);
    lc_stats *st = NULL;
    CHECK_OK(lc_stats_compute(g, x, 128, 10, &st, &err), &err);

    /* node 2 alone, by hand: 178 - 63 + 100 = 215; then node 1 is free */
    lc_plan *p = NULL;
    lc_graph *g2 = NULL;
    CHECK_OK(lc_plan_create(g, &p, &err), &err);
    for (int i = 0; i < 3; i++) CHECK_OK(lc_plan_set(p, 2, i, 1, &err), &err);
    CHECK_OK(lc_fold(g, p, &g2, NULL, &err), &err);
    CHECK(lc_graph_params(g2) == 215);
    CHECK(lc_fold_saving(g2, 1, 3, 1) == 63);
    for (int i = 0; i < 3; i++) CHECK_OK(lc_plan_set(p, 1, i, 1, &err), &err);
    size_t est;
    CHECK_OK(lc_plan_params_after(g, p, &est, NULL, &err), &err);
    CHECK(est == 152);
    lc_graph_free(g2);
    lc_plan_free(p);

    struct { const char *lt; int lin; size_t params; } cases[] = {
        {"auto", 3, 152}, {"2", 3, 152}, {"3", 0, 178}, {"0.7", 3, 152}, {"0.75", 0, 178},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        lc_layer_threshold lt;
        lc_graph *f = NULL;
        CHECK_OK(lc_layer_threshold_parse(cases[c].lt, &lt, &err), &err);
        CHECK_OK(lc_plan_from_stats(g, st, 1.0, lt, &p, &err), &err);
        CHECK_MSG(lc_plan_folded_linear(p, 1) == cases[c].lin &&
                  lc_plan_folded_linear(p, 2) == cases[c].lin, "%s: %d, %d linear", cases[c].lt,
                  lc_plan_folded_linear(p, 1), lc_plan_folded_linear(p, 2));
        CHECK_OK(lc_fold(g, p, &f, NULL, &err), &err);
        CHECK_MSG(lc_graph_params(f) == cases[c].params, "%s: %zu params", cases[c].lt,
                  lc_graph_params(f));
        lc_graph_free(f);
        lc_plan_free(p);
    }
    lc_stats_free(st);
    lc_graph_free(g);
}

/* auto never returns a larger model, at any tau, on many random graphs; and
 * the cost model's count is the folded graph's. */
TEST(policy_auto_never_larger)
{
    lc_error err;
    lc_layer_threshold aut = {LC_LAYER_AUTO, 0};
    double taus[] = {1.0, 0.9, 0.6, 0.3, 0.0};
    int smaller = 0;
    for (int seed = 1; seed <= 300; seed++) {
        test_rng r = {0xd1b54a32d192ed03ULL * (unsigned)seed + 1};
        lc_graph *g = fold_test_random_graph(&r);
        CHECK(g);
        int iw = lc_graph_input_width(g);
        float *x = malloc(sizeof(float) * 64 * iw);
        fold_test_random_input(&r, x, (size_t)64 * iw);
        lc_stats *st = NULL;
        CHECK_OK(lc_stats_compute(g, x, 64, iw, &st, &err), &err);
        for (int t = 0; t < 5; t++) {
            lc_plan *p = NULL;
            size_t est;
            CHECK_OK(lc_plan_from_stats(g, st, taus[t], aut, &p, &err), &err);
            CHECK_OK(lc_plan_params_after(g, p, &est, NULL, &err), &err);
            CHECK_MSG(est <= lc_graph_params(g), "seed %d tau %g: %zu -> %zu", seed, taus[t],
                      lc_graph_params(g), est);
            smaller += est < lc_graph_params(g);
            if (seed % 10 == 0) {
                lc_graph *f = NULL;
                CHECK_OK(lc_fold(g, p, &f, NULL, &err), &err);
                CHECK(lc_graph_params(f) == est);
                lc_graph_free(f);
            }
            lc_plan_free(p);
        }
        lc_stats_free(st);
        free(x);
        lc_graph_free(g);
    }
    CHECK_MSG(smaller > 500, "auto shrank only %d of 1500 cases", smaller);
}

/* Plans and statistics only apply to graphs of their own shape. */
TEST(policy_shape_mismatch)
{
    lc_error err;
    test_rng r = {11};
    lc_graph *a = fold_test_random_graph(&r), *b = NULL;
    CHECK(a);
    int s0[] = {0}, s1[] = {1};
    lc_node_spec spec[3] = {
        {"x", 2, {0}, 0, NULL},
        {"h", 3, {LC_ACT_RELU, 0, 0, 0}, 1, s0},
        {"out", 1, {LC_ACT_IDENTITY, 0, 0, 0}, 1, s1},
    };
    CHECK_OK(lc_graph_create(3, spec, &b, &err), &err);
    lc_plan *p = NULL;
    lc_graph *f = NULL;
    lc_stats *st = NULL;
    CHECK_OK(lc_plan_create(b, &p, &err), &err);
    CHECK(lc_fold(a, p, &f, NULL, &err) == LC_ERR_SHAPE && !f);
    size_t n;
    CHECK(lc_plan_params_after(a, p, &n, NULL, &err) == LC_ERR_SHAPE);
    lc_plan_free(p);
    float x[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    CHECK_OK(lc_stats_compute(b, x, 2, 2, &st, &err), &err);
    lc_layer_threshold aut = {LC_LAYER_AUTO, 0};
    CHECK(lc_plan_from_stats(a, st, 1.0, aut, &p, &err) == LC_ERR_SHAPE && !p);
    lc_stats_free(st);
    lc_graph_free(a);
    lc_graph_free(b);
}
