/* test_fold_unused.c - folds that leave nodes unused: a hidden node folded
 * entirely to constants takes away the only consumer of the nodes feeding
 * it. The folded graph must not keep them (nor count them in the cost
 * model), and reconstruction and the plan accuracy must accept its node
 * map. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

void fold_test_random_input(test_rng *r, float *x, size_t n);  /* test_fold.c */
int fold_test_same_function(const lc_graph *a, const lc_graph *b, const float *x,
                            const char *what);                 /* test_fold.c, 256 rows */
int fold_test_no_dead_parts(lc_graph *f, const char *what);    /* test_fold.c */

#define NS 256

/* Random weights (scaled by fan-in) and biases for node k of g. */
static void fill_node(lc_graph *g, int k, test_rng *r)
{
    int w = lc_graph_width(g, k), fan = 0;
    for (int e = 0; e < lc_graph_n_in(g, k); e++) fan += lc_graph_width(g, lc_graph_src(g, k, e));
    for (int e = 0; e < lc_graph_n_in(g, k); e++)
        for (int i = 0; i < w * lc_graph_width(g, lc_graph_src(g, k, e)); i++)
            lc_graph_weight(g, k, e)[i] = (float)(test_normal(r) / sqrt((double)fan));
    for (int i = 0; i < w; i++) lc_graph_bias(g, k)[i] = (float)(0.3 * test_normal(r));
}

/* A hidden node whose neurons are all never active folds to constants;
 * the nodes that fed only it are then unused and must go as well, with the
 * cost model agreeing. Graph: in(4) -> a(5) -> b(6) -> c(3, dead) -> d(5) ->
 * out(2), and a skip edge in -> d, so d and the output survive on the
 * input alone: a and b (two levels) are left unused by c's fold. Also
 * checks that the node map marks them -1 and that reconstruction and
 * lc_plan_accuracy accept the result. */
TEST(fold_constant_layer_drops_unused_producers)
{
    lc_error err;
    int s1[] = {0}, s2[] = {1}, s3[] = {2}, s4[] = {3, 0}, s5[] = {4};
    lc_node_spec spec[6] = {
        {"in", 4, {0}, 0, NULL},
        {"a", 5, {LC_ACT_RELU, 0, 0, 0}, 1, s1},
        {"b", 6, {LC_ACT_RELU, 0, 0, 0}, 1, s2},
        {"c", 3, {LC_ACT_RELU, 0, 0, 0}, 1, s3},
        {"d", 5, {LC_ACT_LEAKY_RELU, 0.1f, 0, 0}, 2, s4},
        {"out", 2, {LC_ACT_IDENTITY, 0, 0, 0}, 1, s5},
    };
    lc_graph *g = NULL, *f = NULL;
    CHECK_OK(lc_graph_create(6, spec, &g, &err), &err);
    test_rng r = {2024};
    for (int k = 1; k < 6; k++) fill_node(g, k, &r);
    for (int i = 0; i < 3; i++) lc_graph_bias(g, 3)[i] = -50.0f; /* c: never active */
    float x[NS * 4];
    fold_test_random_input(&r, x, NS * 4);

    lc_plan *p = NULL;
    CHECK_OK(lc_plan_create(g, &p, &err), &err);
    for (int i = 0; i < 3; i++) CHECK_OK(lc_plan_set(p, 3, i, 0, &err), &err);
    size_t est = 0, flops = 0;
    int map[6];
    CHECK_OK(lc_plan_params_after(g, p, &est, &flops, &err), &err);
    CHECK_OK(lc_fold(g, p, &f, map, &err), &err);
    CHECK(fold_test_same_function(g, f, x, "constant layer"));
    CHECK(fold_test_no_dead_parts(f, "constant layer"));
    /* in -> d -> out: 5 x 4 + 5 and 2 x 5 + 2 */
    CHECK_MSG(lc_graph_nodes(f) == 3, "%d nodes", lc_graph_nodes(f));
    CHECK(map[0] == 0 && map[1] == -1 && map[2] == -1 && map[3] == -1 && map[4] == 1 &&
          map[5] == 2);
    CHECK(strcmp(lc_graph_name(f, 1), "d") == 0);
    CHECK(lc_graph_n_in(f, 1) == 1 && lc_graph_src(f, 1, 0) == 0);
    CHECK_MSG(est == lc_graph_params(f) && est == 37, "cost model %zu, folded graph %zu", est,
              lc_graph_params(f));
    CHECK(flops == lc_graph_flops(f));

    /* reconstruction with that map: the fold is exact, nothing is refit */
    int refit = -1;
    CHECK_OK(lc_reconstruct(g, p, map, f, x, NS, NULL, &refit, &err), &err);
    CHECK(refit == 0);
    CHECK(fold_test_same_function(g, f, x, "constant layer, reconstructed"));

    /* the fast plan accuracy against lc_evaluate, from cached pre-activations */
    lc_data *raw = NULL, *d = NULL;
    lc_pieces *pc = NULL;
    CHECK_OK(lc_data_from_arrays(NS, 4, x, NULL, 0, &raw, &err), &err);
    CHECK_OK(lc_data_predicted(g, raw, &d, &err), &err);
    CHECK_OK(lc_pieces_compute_z(g, d, &pc, &err), &err);
    double acc = 0;
    lc_eval_result full;
    CHECK_OK(lc_plan_accuracy(g, p, f, d, pc, &acc, NULL, &err), &err);
    CHECK_OK(lc_evaluate(f, d, &full, &err), &err);
    CHECK_MSG(acc == 1.0 && full.accuracy == 1.0, "plan accuracy %g, evaluated %g", acc,
              full.accuracy);
    lc_graph_free(f);
    f = NULL;

    /* lossy as well: d's neuron 0 folded linear everywhere; the folded graph
     * keeps its shape rules, and the refit (on x) does not make it worse */
    CHECK_OK(lc_plan_set(p, 4, 0, 1, &err), &err);
    CHECK_OK(lc_plan_params_after(g, p, &est, NULL, &err), &err);
    CHECK_OK(lc_fold(g, p, &f, map, &err), &err);
    CHECK(fold_test_no_dead_parts(f, "lossy"));
    CHECK(est == lc_graph_params(f) && map[1] == -1 && map[2] == -1 && map[3] == -1);
    CHECK_OK(lc_plan_accuracy(g, p, f, d, pc, &acc, NULL, &err), &err);
    CHECK_OK(lc_evaluate(f, d, &full, &err), &err);
    CHECK_MSG(acc == full.accuracy, "plan accuracy %g, evaluated %g", acc, full.accuracy);
    CHECK_OK(lc_reconstruct(g, p, map, f, x, NS, NULL, &refit, &err), &err);
    CHECK(est == lc_graph_params(f));

    lc_pieces_free(pc);
    lc_data_free(d);
    lc_data_free(raw);
    lc_plan_free(p);
    lc_graph_free(f);
    lc_graph_free(g);
}

/* The repro's shape: in(6) -> h1(3) -> h2(4, dead) -> out(2). h2 folds to
 * constants, h1 is then unused and the output constant; its zero edge comes
 * from the input, not from h1 (narrower than the input, which would keep
 * h1 alive for that edge alone). */
TEST(fold_constant_layer_constant_output)
{
    lc_error err;
    int s1[] = {0}, s2[] = {1}, s3[] = {2};
    lc_node_spec spec[4] = {
        {"in", 6, {0}, 0, NULL},
        {"h1", 3, {LC_ACT_RELU, 0, 0, 0}, 1, s1},
        {"h2", 4, {LC_ACT_RELU, 0, 0, 0}, 1, s2},
        {"out", 2, {LC_ACT_IDENTITY, 0, 0, 0}, 1, s3},
    };
    lc_graph *g = NULL, *f = NULL;
    CHECK_OK(lc_graph_create(4, spec, &g, &err), &err);
    test_rng r = {99};
    for (int k = 1; k < 4; k++) fill_node(g, k, &r);
    for (int i = 0; i < 4; i++) lc_graph_bias(g, 2)[i] = -1e4f;
    float x[NS * 6];
    fold_test_random_input(&r, x, NS * 6);
    /* tau = 1 on x, every node: what compress --threshold 1 plans here */
    lc_stats *st = NULL;
    lc_plan *p = NULL;
    lc_layer_threshold all = {LC_LAYER_COUNT, 0};
    CHECK_OK(lc_stats_compute(g, x, NS, 6, &st, &err), &err);
    CHECK_OK(lc_plan_from_stats(g, st, 1.0, all, &p, &err), &err);
    lc_stats_free(st);
    CHECK(lc_plan_removed_constant(p, 2) == 4);
    size_t est = 0;
    int map[4];
    CHECK_OK(lc_plan_params_after(g, p, &est, NULL, &err), &err);
    CHECK_OK(lc_fold(g, p, &f, map, &err), &err);
    CHECK(fold_test_same_function(g, f, x, "constant output"));
    CHECK(fold_test_no_dead_parts(f, "constant output"));
    CHECK(lc_graph_nodes(f) == 2 && map[1] == -1 && map[2] == -1 && map[3] == 1);
    CHECK(lc_graph_n_in(f, 1) == 1 && lc_graph_src(f, 1, 0) == 0);
    CHECK_MSG(est == lc_graph_params(f) && est == 2 * 6 + 2, "cost model %zu, folded graph %zu",
              est, lc_graph_params(f));
    lc_plan_free(p);
    lc_graph_free(f);
    lc_graph_free(g);
}
