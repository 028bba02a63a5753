/* test_budget_incr.c - the budget search's plain scores from cached
 * activations (budget_incr.c) against the reference: lc_evaluate on
 * lc_fold. Plans grow, shrink and change pieces between rebases, so that
 * rows a base must re-run and rows it may keep both occur; rebases take a
 * kept run, the latest one or a new one. */
#include "test.h"
#include "compress/budget.h"

#include <stdlib.h>

/* A random change of plan p: folds or unfolds about `rate` of the neurons. */
static void mutate(lc_plan *p, const lc_graph *g, test_rng *r, double rate, lc_error *err)
{
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++)
        for (int i = 0; i < lc_graph_width(g, k); i++) {
            if (test_uniform(r) >= rate) continue;
            int pieces = lc_act_pieces(lc_graph_act(g, k).kind);
            int v = test_uniform(r) < 0.3 ? LC_KEEP : test_randint(r, 0, pieces - 1);
            lc_plan_set(p, k, i, v, err);
        }
}

TEST(budget_incr_matches_fold_and_evaluate)
{
    test_rng r = {4242};
    lc_error err = {0};
    int scored = 0, off_by_rounding = 0, cuts = 0, kept = 0;
    for (int trial = 0; trial < 24; trial++) {
        int hidden[3] = {test_randint(&r, 2, 24), test_randint(&r, 2, 24), test_randint(&r, 2, 24)};
        int in = test_randint(&r, 1, 10), classes = test_randint(&r, 2, 5);
        lc_act acts[] = {{LC_ACT_RELU, 0, 0, 0}, {LC_ACT_LEAKY_RELU, 0.1f, 0, 0},
                         {LC_ACT_CLIP, 0, 0, 1}};
        lc_graph *g;
        CHECK_OK(lc_graph_mlp(in, hidden, 3, classes, acts[trial % 3], (uint64_t)trial + 9, &g, &err),
                 &err);
        size_t n = 1200; /* more rows than a pass of run: scores can stop early */
        lc_data *d = test_random_data(&r, n, in, classes);
        CHECK(d != NULL);
        budget_incr *bi, *fresh;
        CHECK_OK(budget_incr_init(g, d, &bi, &err), &err);
        CHECK(bi != NULL);
        lc_plan *p, *q;
        CHECK_OK(lc_plan_create(g, &p, &err), &err);
        for (int step = 0; step < 8; step++) {
            /* a candidate near the base p, sometimes far from it */
            CHECK_OK(lc_plan_clone(p, &q, &err), &err);
            mutate(q, g, &r, step % 3 == 2 ? 0.5 : 0.1, &err);
            lc_graph *cg;
            lc_eval_result full;
            double fast, scratch;
            CHECK_OK(lc_fold(g, q, &cg, NULL, &err), &err);
            CHECK_OK(lc_evaluate(cg, d, &full, &err), &err);
            bool cut;
            CHECK_OK(budget_incr_score(bi, q, -INFINITY, &fast, &cut, &err), &err);
            CHECK(!cut);
            /* the same plan from the original model's activations */
            CHECK_OK(budget_incr_init(g, d, &fresh, &err), &err);
            CHECK_OK(budget_incr_score(fresh, q, -INFINITY, &scratch, &cut, &err), &err);
            CHECK(!cut);
            /* a score needed a few rows above or below the true one (or
             * far above it) stops early only where the true one is below
             * it by more than half a row */
            static const int rows_off[] = {-2, -1, 0, 1, 2, 36};
            double need = (scratch * (double)n + rows_off[step % 6]) / (double)n, ns;
            CHECK_OK(budget_incr_score(fresh, q, need, &ns, &cut, &err), &err);
            if (cut) CHECK_MSG(isnan(ns) && scratch * (double)n < need * (double)n - 0.5,
                               "trial %d step %d: stopped below %.4f, score %.4f", trial, step,
                               need, scratch);
            else CHECK_MSG(ns == scratch, "trial %d step %d: %.4f, unbounded %.4f", trial, step,
                           ns, scratch);
            cuts += cut;
            kept += !cut && need > scratch;
            budget_incr_free(fresh);
            CHECK_MSG(fast == scratch, "trial %d step %d: from the base %.4f, from scratch %.4f",
                      trial, step, fast, scratch);
            /* the fold multiplies weights out: a row may flip at a tie */
            CHECK_MSG(fabs(fast - full.accuracy) <= 1.0 / (double)n + 1e-12,
                      "trial %d step %d: cached %.4f vs folded %.4f", trial, step, fast,
                      full.accuracy);
            scored++;
            off_by_rounding += fast != full.accuracy;
            lc_graph_free(cg);
            if (step % 2 == 1) {
                /* move the base, by the three routes of a rebase: the run
                 * kept by budget_incr_keep (then a decoy scored), the latest
                 * run (q, scored just now), a new run (a decoy scored after
                 * q, nothing kept); the next steps' scores against a fresh
                 * base check the base it left */
                int route = (step / 2) % 3;
                if (route != 1) {
                    if (route == 0) budget_incr_keep(bi);
                    lc_plan *decoy;
                    double ds;
                    CHECK_OK(lc_plan_clone(q, &decoy, &err), &err);
                    mutate(decoy, g, &r, 0.2, &err);
                    CHECK_OK(budget_incr_score(bi, decoy, -INFINITY, &ds, &cut, &err), &err);
                    lc_plan_free(decoy);
                }
                CHECK_OK(budget_incr_rebase(bi, q, &err), &err);
                lc_plan_free(p);
                p = q;
            } else {
                lc_plan_free(q);
            }
        }
        lc_plan_free(p);
        budget_incr_free(bi);
        lc_data_free(d);
        lc_graph_free(g);
    }
    CHECK_MSG(off_by_rounding * 50 <= scored, "%d of %d scores off by a row", off_by_rounding,
              scored);
    CHECK_MSG(cuts > 0, "no score stopped early (%d ran to the end below their need)", kept);
}
