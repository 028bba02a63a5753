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
