/* test_budget_joint.c - the joint plan of a size budget (opts.joint): on
 * random graphs with skip edges and every activation it meets the budget,
 * the plan is the joint candidate's when it wins (else nothing is pruned),
 * its pruned neurons are counted among the constant folds, the
 * score is the written model's (reconstructed or not), and the folded graph
 * computes what the plan says (checked against an independent forward pass
 * in double that replaces every planned neuron's activation by its piece). */
#include "test.h"
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

lc_graph *fold_test_random_graph(test_rng *r);                /* test_fold.c */
void fold_test_random_input(test_rng *r, float *x, size_t n); /* test_fold.c */

#define NJ 300

/* act restricted to `piece` at z, written out per activation (not through
 * the library's piece table). */
static double piece_value(lc_act a, float slope, int piece, double z)
{
    switch (a.kind) {
    case LC_ACT_RELU: return piece == 0 ? 0.0 : z;
    case LC_ACT_LEAKY_RELU: return piece == 0 ? a.alpha * z : z;
    case LC_ACT_PRELU: return piece == 0 ? slope * z : z;
    case LC_ACT_CLIP: return piece == 0 ? a.lo : piece == 2 ? a.hi : z;
    default: return z;
    }
}

/* Outputs of g on x when every neuron the plan folds follows its piece. */
static float *plan_forward(const lc_graph *g, const lc_plan *p, const float *x, size_t n)
{
    int N = g->n_nodes, ow = g->nodes[N - 1].width;
    double **h = calloc((size_t)N, sizeof *h);
    float *out = malloc(n * (size_t)ow * sizeof *out), *tmp = malloc(64 * sizeof *tmp);
    h[0] = malloc(n * (size_t)g->nodes[0].width * sizeof(double));
    for (size_t i = 0; i < n * (size_t)g->nodes[0].width; i++) h[0][i] = x[i];
    for (int k = 1; k < N; k++) {
        const struct lc_node *nd = &g->nodes[k];
        h[k] = malloc(n * (size_t)nd->width * sizeof(double));
        for (size_t r = 0; r < n; r++) {
            for (int i = 0; i < nd->width; i++) {
                double z = nd->bias[i];
                for (int e = 0; e < nd->n_in; e++) {
                    int j = nd->in[e].src, wj = g->nodes[j].width;
                    for (int c = 0; c < wj; c++)
                        z += (double)nd->in[e].w[(size_t)i * wj + c] * h[j][r * (size_t)wj + c];
                }
                int pc = k < N - 1 ? lc_plan_get(p, k, i) : LC_KEEP;
                tmp[i] = (float)z;
                h[k][r * (size_t)nd->width + i] =
                    pc == LC_KEEP ? z : piece_value(nd->act, nd->slope ? nd->slope[i] : 0, pc, z);
            }
            /* kept neurons (and the output) through the activation itself */
            lc_act_apply(nd->act, nd->slope, tmp, 1, nd->width);
            for (int i = 0; i < nd->width; i++) {
                bool keep = k == N - 1 || lc_plan_get(p, k, i) == LC_KEEP;
                if (keep) h[k][r * (size_t)nd->width + i] = tmp[i];
                if (k == N - 1) out[r * (size_t)ow + i] = tmp[i];
            }
        }
    }
    for (int k = 0; k < N; k++) free(h[k]);
    free(h);
    free(tmp);
    return out;
}

/* A ReLU MLP in-16-16-16-out with centred pre-activations: most neurons are
 * active on about half the samples, where neither piece is exact and
 * removing the least active ones competes with folding. */
static lc_graph *relu_mlp(test_rng *r)
{
    int w[5] = {test_randint(r, 3, 8), 16, 16, 16, test_randint(r, 2, 4)};
    int src[5] = {0, 0, 1, 2, 3};
    lc_node_spec spec[5];
    memset(spec, 0, sizeof spec);
    for (int k = 0; k < 5; k++) {
        spec[k].width = w[k];
        spec[k].n_in = k > 0;
        spec[k].src = &src[k];
        spec[k].act = (lc_act){k > 0 && k < 4 ? LC_ACT_RELU : LC_ACT_IDENTITY, 0, 0, 0};
    }
    lc_graph *g;
    lc_error err;
    if (lc_graph_create(5, spec, &g, &err)) return NULL;
    for (int k = 1; k < 5; k++) {
        float *wt = lc_graph_weight(g, k, 0), *b = lc_graph_bias(g, k);
        for (int i = 0; i < w[k] * w[k - 1]; i++)
            wt[i] = (float)(test_normal(r) / sqrt((double)w[k - 1]));
        for (int i = 0; i < w[k]; i++) b[i] = (float)(0.5 * test_normal(r));
    }
    return g;
}

/* Labelled data: g's own predictions (flip: every third label changed). */
static lc_data *labelled(const lc_graph *g, const float *x, int flip, lc_error *err)
{
    int iw = g->nodes[0].width, ow = g->nodes[g->n_nodes - 1].width, classes = ow < 2 ? 2 : ow;
    float *y = malloc(sizeof(float) * NJ * (size_t)ow);
    int32_t *lab = malloc(sizeof(int32_t) * NJ);
    lc_data *d = NULL;
    if (lc_forward(g, x, NJ, y, err) == LC_OK) {
        for (int i = 0; i < NJ; i++) {
            int best = 0;
            for (int c = 1; c < ow; c++)
                if (y[i * ow + c] > y[i * ow + best]) best = c;
            if (ow == 1) best = y[i] > 0;
            lab[i] = flip && i % 3 == 0 ? (best + 1) % classes : best;
        }
        lc_data_from_arrays(NJ, iw, x, lab, classes, &d, err);
    }
    free(y);
    free(lab);
    return d;
}

TEST(budget_joint_plan_within_budget_and_applied)
{
    lc_error err;
    test_rng r = {4242};
    int searched = 0, with_pruned = 0, chosen = 0;
    static const double targets[] = {0.6, 0.4, 0.2};
    for (int rep = 0; rep < 60; rep++) {
        lc_graph *g = rep % 2 ? relu_mlp(&r) : fold_test_random_graph(&r);
        CHECK(g);
        int iw = lc_graph_input_width(g), N = lc_graph_nodes(g), ow = lc_graph_output_width(g);
        float *x = malloc(sizeof(float) * NJ * (size_t)iw);
        fold_test_random_input(&r, x, (size_t)NJ * iw);
        lc_stats *st = NULL;
        lc_pieces *pc = NULL;
        lc_data *d = labelled(g, x, rep % 2 == 0, &err);
        CHECK_MSG(d, "%s", err.msg);
        CHECK_OK(lc_stats_compute(g, x, NJ, iw, &st, &err), &err);
        CHECK_OK(lc_pieces_compute(g, d, &pc, &err), &err);
        for (int reco = 0; reco < 2; reco++) {
            lc_budget_opts o = {.kind = LC_BUDGET_SIZE, .target_size = targets[rep % 3],
                                .lt = {LC_LAYER_AUTO, 0}, .joint = 1};
            if (reco) {
                o.recon_x = x;
                o.recon_n = NJ;
            }
            lc_budget_result b;
            CHECK_OK(lc_budget_search(g, st, d, pc, &o, &b, &err), &err);
            if (!b.met) {
                lc_budget_result_clear(&b);
                continue;
            }
            searched++;
            CHECK(b.pruned && b.pruned[0] == 0 && b.pruned[N - 1] == 0);
            CHECK_MSG((double)b.params <= targets[rep % 3] * (double)b.params_before,
                      "%zu of %zu", b.params, b.params_before);
            size_t after;
            CHECK_OK(lc_plan_params_after(g, b.plan, &after, NULL, &err), &err);
            CHECK(after == b.params);
            CHECK(b.joint_params > 0);
            if (b.method == LC_BUDGET_JOINT) {
                chosen++;
                CHECK(b.score == b.joint_score && b.params == b.joint_params);
            }
            int total = 0;
            for (int k = 1; k < N - 1; k++) {
                CHECK(b.pruned[k] >= 0 && b.pruned[k] <= lc_plan_removed_constant(b.plan, k));
                total += b.pruned[k];
            }
            CHECK(b.method == LC_BUDGET_JOINT || total == 0);
            with_pruned += total > 0;

            /* the folded graph computes what the plan says */
            lc_graph *f = NULL;
            int *map = malloc((size_t)N * sizeof *map);
            CHECK_OK(lc_fold(g, b.plan, &f, map, &err), &err);
            float *want = plan_forward(g, b.plan, x, NJ);
            float *got = malloc(sizeof(float) * NJ * (size_t)ow);
            CHECK_OK(lc_forward(f, x, NJ, got, &err), &err);
            CHECK_CLOSE(got, want, (size_t)NJ * ow, 1e-4, 1e-4);
            /* and the score is the written model's: reconstructed as compress does */
            lc_eval_result e = {0};
            if (reco) {
                CHECK_OK(lc_reconstruct(g, b.plan, map, f, x, NJ, NULL, NULL, &err), &err);
                CHECK_OK(lc_evaluate(f, d, &e, &err), &err);
            } else {
                CHECK_OK(lc_plan_accuracy(g, b.plan, f, d, pc, &e.accuracy, NULL, &err), &err);
            }
            CHECK_MSG(fabs(e.accuracy - b.score) < 1e-9, "score %g, evaluated %g", b.score,
                      e.accuracy);
            free(want);
            free(got);
            free(map);
            lc_graph_free(f);
            lc_budget_result_clear(&b);
        }
        /* a joint plan needs a size budget */
        lc_budget_opts bad = {.kind = LC_BUDGET_DROP, .max_drop = 0.1, .lt = {LC_LAYER_AUTO, 0},
                              .joint = 1};
        lc_budget_result b;
        CHECK(lc_budget_search(g, st, d, pc, &bad, &b, &err) == LC_ERR_INVALID && !b.plan);
        lc_pieces_free(pc);
        lc_data_free(d);
        lc_stats_free(st);
        free(x);
        lc_graph_free(g);
    }
    CHECK_MSG(searched > 40 && with_pruned >= 3 && chosen >= 3,
              "%d searches met the budget, %d plans pruned, joint chosen %d times", searched,
              with_pruned, chosen);
}
