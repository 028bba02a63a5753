/* test_quickeval.c - the fast plan accuracy (recorded pieces) against
 * lc_evaluate on the folded model, the reference path. */
#include "test.h"

#include <stdlib.h>

TEST(quickeval_matches_full_evaluation)
{
    test_rng r = {777};
    lc_error err = {0};
    for (int trial = 0; trial < 30; trial++) {
        int hidden[3] = {test_randint(&r, 2, 20), test_randint(&r, 2, 20), test_randint(&r, 2, 20)};
        int in = test_randint(&r, 1, 12), classes = test_randint(&r, 2, 5);
        lc_act acts[] = {{LC_ACT_RELU, 0, 0, 0}, {LC_ACT_LEAKY_RELU, 0.1f, 0, 0}, {LC_ACT_CLIP, 0, 0, 1}};
        lc_graph *g;
        CHECK_OK(lc_graph_mlp(in, hidden, 3, classes, acts[trial % 3], (uint64_t)trial, &g, &err), &err);
        size_t n = 300;
        lc_data *d = test_random_data(&r, n, in, classes);
        CHECK(d != NULL);
        lc_pieces *pc;
        CHECK_OK(lc_pieces_compute(g, d, &pc, &err), &err);
        for (int t = 0; t < 5; t++) {
            lc_plan *p;
            CHECK_OK(lc_plan_create(g, &p, &err), &err);
            /* a random plan: some neurons folded to a random piece */
            for (int k = 1; k < lc_graph_nodes(g) - 1; k++)
                for (int i = 0; i < lc_graph_width(g, k); i++)
                    if (test_uniform(&r) < 0.2 * t)
                        CHECK_OK(lc_plan_set(p, k, i, test_randint(&r, 0, lc_act_pieces(lc_graph_act(g, k).kind) - 1), &err), &err);
            lc_graph *cg;
            CHECK_OK(lc_fold(g, p, &cg, NULL, &err), &err);
            double fast;
            size_t ran;
            lc_eval_result full;
            CHECK_OK(lc_plan_accuracy(g, p, cg, d, pc, &fast, &ran, &err), &err);
            CHECK_OK(lc_evaluate(cg, d, &full, &err), &err);
            CHECK_MSG(fast == full.accuracy, "trial %d plan %d: fast %.4f vs full %.4f", trial, t, fast,
                      full.accuracy);
            if (t == 0) CHECK(ran == 0); /* nothing folded: nothing re-run */
            lc_graph_free(cg);
            lc_plan_free(p);
        }
        lc_pieces_free(pc);
        lc_data_free(d);
        lc_graph_free(g);
    }
}

lc_graph *fold_test_random_graph(test_rng *r);                /* test_fold.c */
void fold_test_random_input(test_rng *r, float *x, size_t n); /* test_fold.c */

/* With the original's pre-activations kept (lc_pieces_compute_z), rows are
 * run from the node after their first leave, the nodes before it taken from
 * the cache: on graphs with skip edges, every activation kind, and plans
 * that fold whole nodes away, the accuracy is lc_evaluate's on the folded
 * model and the same rows are run as without the cache. */
TEST(quickeval_from_cached_z_matches_full_evaluation)
{
    test_rng r = {4242};
    lc_error err = {0};
    int plans = 0, folded_nodes = 0;
    for (int trial = 0; trial < 40; trial++) {
        lc_graph *g = fold_test_random_graph(&r);
        CHECK(g);
        int iw = lc_graph_input_width(g), ow = lc_graph_output_width(g), nn = lc_graph_nodes(g);
        size_t n = 400;
        float *x = malloc(n * (size_t)iw * sizeof *x);
        int32_t *y = malloc(n * sizeof *y);
        CHECK(x && y);
        fold_test_random_input(&r, x, n * (size_t)iw);
        int classes = ow < 2 ? 2 : ow;
        for (size_t i = 0; i < n; i++) y[i] = test_randint(&r, 0, classes - 1);
        lc_data *d;
        CHECK_OK(lc_data_from_arrays(n, iw, x, y, classes, &d, &err), &err);
        lc_pieces *pz, *pc;
        CHECK_OK(lc_pieces_compute_z(g, d, &pz, &err), &err);
        CHECK_OK(lc_pieces_compute(g, d, &pc, &err), &err);
        for (int t = 0; t < 6; t++) {
            lc_plan *p;
            CHECK_OK(lc_plan_create(g, &p, &err), &err);
            for (int k = 1; k < nn - 1; k++) {
                /* some nodes keep everything, some fold everything */
                double frac = test_uniform(&r) < 0.3 ? 0.0 : t == 5 ? 1.0 : 0.25 * t;
                for (int i = 0; i < lc_graph_width(g, k); i++)
                    if (test_uniform(&r) < frac)
                        CHECK_OK(lc_plan_set(p, k, i, test_randint(&r, 0, lc_act_pieces(lc_graph_act(g, k).kind) - 1), &err), &err);
            }
            int map[8];
            lc_graph *cg;
            CHECK_OK(lc_fold(g, p, &cg, map, &err), &err);
            for (int k = 1; k < nn - 1; k++) folded_nodes += map[k] < 0;
            double fast, plain;
            size_t ran, ran_plain;
            lc_eval_result full;
            CHECK_OK(lc_plan_accuracy(g, p, cg, d, pz, &fast, &ran, &err), &err);
            CHECK_OK(lc_plan_accuracy(g, p, cg, d, pc, &plain, &ran_plain, &err), &err);
            CHECK_OK(lc_evaluate(cg, d, &full, &err), &err);
            CHECK_MSG(fast == full.accuracy, "trial %d plan %d: from the cache %.4f, full %.4f",
                      trial, t, fast, full.accuracy);
            CHECK(ran == ran_plain);
            plans += ran > 0;
            lc_graph_free(cg);
            lc_plan_free(p);
        }
        lc_pieces_free(pz);
        lc_pieces_free(pc);
        lc_data_free(d);
        free(x);
        free(y);
        lc_graph_free(g);
    }
    CHECK(plans > 100);       /* rows were re-run */
    CHECK(folded_nodes > 20); /* and nodes folded away */
}
