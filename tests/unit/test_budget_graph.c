/* test_budget_graph.c - the model a budget search hands back
 * (lc_budget_result.graph): bit for bit lc_fold of the returned plan,
 * reconstructed with lc_reconstruct on the search's calibration rows when
 * the search reconstructs, for size and accuracy budgets, with and without
 * certification rows. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

lc_graph *fold_test_random_graph(test_rng *r);                /* test_fold.c */
void fold_test_random_input(test_rng *r, float *x, size_t n); /* test_fold.c */

#define NR 240

TEST(budget_graph_is_fold_and_reconstruct_of_plan)
{
    lc_error err = {0};
    test_rng r = {777};
    int checked = 0, refit = 0;
    for (int rep = 0; rep < 8; rep++) {
        lc_graph *g = fold_test_random_graph(&r);
        CHECK(g);
        int iw = lc_graph_input_width(g), ow = lc_graph_output_width(g), n = lc_graph_nodes(g);
        float *x = malloc(sizeof(float) * NR * (size_t)iw), *y = malloc(sizeof(float) * NR * (size_t)ow);
        int32_t *lab = malloc(sizeof(int32_t) * NR);
        CHECK(x && y && lab);
        fold_test_random_input(&r, x, (size_t)NR * iw);
        lc_stats *st = NULL;
        lc_data *d = NULL, *cert = NULL;
        lc_pieces *pc = NULL;
        CHECK_OK(lc_stats_compute(g, x, NR, iw, &st, &err), &err);
        CHECK_OK(lc_forward(g, x, NR, y, &err), &err);
        int classes = ow < 2 ? 2 : ow;
        for (int i = 0; i < NR; i++) {
            int best = 0;
            for (int c = 1; c < ow; c++)
                if (y[i * ow + c] > y[i * ow + best]) best = c;
            if (ow == 1) best = y[i] > 0;
            lab[i] = i % 4 == 0 ? (best + 1) % classes : best;
        }
        /* scoring rows: the first half; certification rows: the second */
        CHECK_OK(lc_data_from_arrays(NR / 2, iw, x, lab, classes, &d, &err), &err);
        CHECK_OK(lc_data_from_arrays(NR / 2, iw, x + (size_t)(NR / 2) * iw, lab + NR / 2, classes,
                                     &cert, &err), &err);
        CHECK_OK(lc_pieces_compute(g, d, &pc, &err), &err);
        for (int v = 0; v < 8; v++) {
            int recon = v & 1;
            lc_budget_opts o = {.kind = v & 4 ? LC_BUDGET_DROP : LC_BUDGET_SIZE,
                                .target_size = v & 2 ? 0.4 : 0.8, .max_drop = v & 2 ? 0.05 : 0.2,
                                .lt = {LC_LAYER_AUTO, 0}, .certify = (v & 6) == 6 ? cert : NULL};
            if (recon) {
                o.recon_x = x;
                o.recon_n = NR;
                o.recon_search_rows = NR / 3;
            }
            lc_budget_result b;
            CHECK_OK(lc_budget_search(g, st, d, pc, &o, &b, &err), &err);
            if (!b.met) {
                CHECK(!b.graph && !b.node_map);
                lc_budget_result_clear(&b);
                continue;
            }
            CHECK(b.graph && b.node_map);
            CHECK(recon ? b.recon_refit >= 0 : b.recon_refit == -1);
            lc_graph *f = NULL;
            int *map = malloc((size_t)n * sizeof *map), nrefit = -1;
            CHECK(map);
            CHECK_OK(lc_fold(g, b.plan, &f, map, &err), &err);
            if (recon)
                CHECK_OK(lc_reconstruct(g, b.plan, map, f, x, NR, NULL, &nrefit, &err), &err);
            CHECK_MSG(test_same_graph(f, b.graph), "variant %d: the search's model differs", v);
            CHECK(!memcmp(map, b.node_map, (size_t)n * sizeof *map));
            CHECK(nrefit == b.recon_refit);
            CHECK(lc_graph_params(b.graph) == b.params);
            checked++;
            refit += nrefit > 0;
            lc_graph_free(f);
            free(map);
            lc_budget_result_clear(&b);
            CHECK(!b.graph && !b.node_map);
        }
        lc_pieces_free(pc);
        lc_data_free(d);
        lc_data_free(cert);
        lc_stats_free(st);
        lc_graph_free(g);
        free(x);
        free(y);
        free(lab);
    }
    CHECK_MSG(checked >= 40 && refit >= 5, "only %d results checked, %d reconstructed", checked,
              refit);
}
