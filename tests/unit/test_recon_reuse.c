/* test_recon_reuse.c - reconstruction that takes the refits of a shared plan
 * prefix from an earlier one (lc_reconstruct_reuse, the budget search's
 * candidates) gives the model of reconstructing from scratch, bit for bit,
 * whatever node the plans first differ at. */
#include "test.h"
#include "compress/compress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

lc_graph *fold_test_random_graph(test_rng *r);                /* test_fold.c */
void fold_test_random_input(test_rng *r, float *x, size_t n); /* test_fold.c */

#define NR 200

/* Folds and reconstructs p (from, save as lc_reconstruct_reuse takes them). */
static lc_status build(const lc_graph *g, const lc_plan *p, const float *x, float **zc,
                       const lc_recon_state *from, lc_recon_state **save, lc_graph **f,
                       int *refit, lc_error *err)
{
    int *map = malloc((size_t)lc_graph_nodes(g) * sizeof *map);
    lc_recon_opts o = {.alpha = LC_RECON_ALPHA_DEFAULT};
    lc_status st = map ? lc_fold(g, p, f, map, err) : LC_ERR_NOMEM;
    if (!st)
        st = lc_reconstruct_reuse(g, p, map, *f, x, NR, &o, zc, from, save, refit, err);
    free(map);
    return st;
}

TEST(recon_reuse_equals_reconstructing_from_scratch)
{
    lc_error err = {0};
    test_rng r = {31337};
    int reused = 0;
    for (int rep = 0; rep < 10; rep++) {
        lc_graph *g = fold_test_random_graph(&r);
        CHECK(g);
        int iw = lc_graph_input_width(g), n = lc_graph_nodes(g);
        float *x = malloc(sizeof(float) * NR * (size_t)iw), **zc = NULL;
        CHECK(x);
        fold_test_random_input(&r, x, (size_t)NR * iw);
        lc_stats *st = NULL;
        CHECK_OK(lc_stats_compute(g, x, NR, iw, &st, &err), &err);
        CHECK_OK(lc_recon_zcache(g, x, NR, &zc, &err), &err);
        lc_layer_threshold every = {LC_LAYER_COUNT, 0};
        double tau[16];
        for (int k = 0; k < n; k++) tau[k] = 0.6 + 0.3 * test_uniform(&r);
        lc_plan *base = NULL;
        CHECK_OK(lc_plan_from_stats_per_node(g, st, tau, every, &base, &err), &err);
        lc_recon_state *state = NULL;
        lc_graph *fb = NULL;
        int rb;
        CHECK_OK(build(g, base, x, zc, NULL, &state, &fb, &rb, &err), &err);
        CHECK(state);
        for (int kd = 1; kd < n - 1; kd++) {
            /* a plan equal to the base before node kd, lower thresholds from it on */
            double t2[16];
            memcpy(t2, tau, (size_t)n * sizeof *t2);
            for (int k = kd; k < n; k++) t2[k] = tau[k] - 0.4;
            lc_plan *p = NULL;
            CHECK_OK(lc_plan_from_stats_per_node(g, st, t2, every, &p, &err), &err);
            lc_graph *fa = NULL, *fs = NULL;
            int ra = -1, rs = -2;
            CHECK_OK(build(g, p, x, zc, state, NULL, &fa, &ra, &err), &err);
            CHECK_OK(build(g, p, x, zc, NULL, NULL, &fs, &rs, &err), &err);
            CHECK_MSG(test_same_graph(fa, fs), "graph %d, plans differing from node %d: the reused "
                      "reconstruction differs", rep, kd);
            CHECK(ra == rs);
            reused += kd > 1;
            lc_graph_free(fa);
            lc_graph_free(fs);
            lc_plan_free(p);
        }
        /* the same plan again: only the output node is refit anew */
        lc_graph *fa = NULL;
        int ra = -1;
        CHECK_OK(build(g, base, x, zc, state, NULL, &fa, &ra, &err), &err);
        CHECK(test_same_graph(fa, fb) && ra == rb);
        lc_graph_free(fa);
        lc_graph_free(fb);
        lc_recon_state_free(state);
        lc_plan_free(base);
        lc_recon_zcache_free(zc, n);
        lc_stats_free(st);
        lc_graph_free(g);
        free(x);
    }
    CHECK_MSG(reused >= 10, "only %d plans shared a prefix", reused);
}

/* The statistics pass that also keeps the original's z (the compress
 * pipeline's one pass) gives the statistics of lc_stats_compute and the z of
 * lc_recon_zcache, bit for bit; a reconstruction that takes that z from it
 * equals one that runs the original itself (within float rounding: its own
 * pass sums each node's products in another order). */
TEST(stats_pass_keeps_the_z_of_the_cache)
{
    lc_error err = {0};
    test_rng r = {2718};
    for (int rep = 0; rep < 6; rep++) {
        lc_graph *g = fold_test_random_graph(&r);
        CHECK(g);
        int iw = lc_graph_input_width(g), n = lc_graph_nodes(g);
        size_t rows = rep % 2 ? 1500 : NR; /* one batch and several */
        float *x = malloc(sizeof(float) * rows * (size_t)iw), **za = NULL, **zb = NULL;
        CHECK(x);
        fold_test_random_input(&r, x, rows * (size_t)iw);
        lc_stats *sa = NULL, *sb = NULL;
        CHECK_OK(lc_stats_compute(g, x, rows, iw, &sa, &err), &err);
        CHECK_OK(lc_stats_compute_z(g, x, rows, iw, &sb, &zb, &err), &err);
        CHECK_OK(lc_recon_zcache(g, x, rows, &za, &err), &err);
        CHECK(zb);
        for (int k = 1; k < n; k++) {
            size_t w = (size_t)lc_graph_width(g, k);
            CHECK_MSG(!memcmp(za[k], zb[k], rows * w * sizeof(float)), "rep %d node %d: z differs",
                      rep, k);
            for (int i = 0; k < n - 1 && i < (int)w; i++)
                for (int pc = 0; pc < lc_stats_pieces(sa, k); pc++)
                    CHECK_MSG(lc_stats_count(sa, k, i, pc) == lc_stats_count(sb, k, i, pc) &&
                                  lc_stats_zmax(sa, k, i) == lc_stats_zmax(sb, k, i),
                              "rep %d node %d neuron %d: statistics differ", rep, k, i);
        }
        /* reconstruction with the kept z against computing it */
        double tau[16];
        for (int k = 0; k < n; k++) tau[k] = 0.6 + 0.3 * test_uniform(&r);
        lc_layer_threshold every = {LC_LAYER_COUNT, 0};
        lc_plan *p = NULL;
        CHECK_OK(lc_plan_from_stats_per_node(g, sa, tau, every, &p, &err), &err);
        int *map = malloc((size_t)n * sizeof *map);
        lc_graph *f1 = NULL, *f2 = NULL;
        CHECK(map);
        CHECK_OK(lc_fold(g, p, &f1, map, &err), &err);
        CHECK_OK(lc_fold(g, p, &f2, map, &err), &err);
        lc_recon_opts o = {.alpha = LC_RECON_ALPHA_DEFAULT};
        int r1 = 0, r2 = 0;
        CHECK_OK(lc_reconstruct_z(g, p, map, f1, x, rows, &o, zb, &r1, &err), &err);
        CHECK_OK(lc_reconstruct(g, p, map, f2, x, rows, &o, &r2, &err), &err);
        CHECK_MSG(r1 == r2, "rep %d: %d against %d nodes refit", rep, r1, r2);
        float *y1 = malloc(sizeof(float) * rows * (size_t)lc_graph_output_width(g));
        float *y2 = malloc(sizeof(float) * rows * (size_t)lc_graph_output_width(g));
        CHECK(y1 && y2);
        CHECK_OK(lc_forward(f1, x, rows, y1, &err), &err);
        CHECK_OK(lc_forward(f2, x, rows, y2, &err), &err);
        double worst = 0, scale = 0;
        for (size_t i = 0; i < rows * (size_t)lc_graph_output_width(g); i++) {
            worst = fmax(worst, fabs((double)y1[i] - y2[i]));
            scale = fmax(scale, fabs((double)y2[i]));
        }
        CHECK_MSG(worst <= 1e-3 * fmax(scale, 1.0), "rep %d: outputs differ by %g (scale %g)",
                  rep, worst, scale);
        free(y1);
        free(y2);
        free(map);
        lc_graph_free(f1);
        lc_graph_free(f2);
        lc_plan_free(p);
        lc_recon_zcache_free(za, n);
        lc_recon_zcache_free(zb, n);
        lc_stats_free(sa);
        lc_stats_free(sb);
        free(x);
        lc_graph_free(g);
    }
}

/* The statistics (counts per piece, min and max of z) equal a plain count
 * over the z of the same pass, on random graphs of every activation kind
 * and widths that are not multiples of four (the two-piece path runs four
 * neurons at a time with SSE2, the rest one by one), NaN rows included
 * (in no piece, in no min or max). */
TEST(stats_counts_match_a_plain_count_of_z)
{
    lc_error err = {0};
    test_rng r = {1618};
    int two = 0;
    size_t zeros = 0;
    for (int rep = 0; rep < 12; rep++) {
        lc_graph *g = fold_test_random_graph(&r);
        CHECK(g);
        int iw = lc_graph_input_width(g), n = lc_graph_nodes(g);
        size_t rows = rep % 3 ? 1300 : 37;
        float *x = malloc(sizeof(float) * rows * (size_t)iw), **z = NULL;
        CHECK(x);
        fold_test_random_input(&r, x, rows * (size_t)iw);
        for (size_t i = 0; i < rows; i += 11) x[i * (size_t)iw] = NAN;
        /* rows of zeros through a graph without biases: every z of theirs
         * is exactly 0, the edge between the pieces, which random data
         * never hits */
        if (rep % 2) {
            for (int k = 1; k < n; k++)
                memset(g->nodes[k].bias, 0, sizeof(float) * (size_t)g->nodes[k].width);
            for (size_t i = 5; i < rows; i += 7)
                memset(x + i * (size_t)iw, 0, sizeof(float) * (size_t)iw);
        }
        lc_stats *s = NULL;
        CHECK_OK(lc_stats_compute_z(g, x, rows, iw, &s, &z, &err), &err);
        for (int k = 1; k < n - 1; k++) {
            int w = lc_graph_width(g, k), pieces = lc_stats_pieces(s, k);
            lc_act a = lc_graph_act(g, k);
            two += pieces == 2;
            for (int i = 0; i < w; i++) {
                size_t cnt[3] = {0};
                float mn = INFINITY, mx = -INFINITY;
                for (size_t t = 0; t < rows; t++) {
                    float v = z[k][t * (size_t)w + i];
                    if (v != v) continue;
                    mn = fminf(mn, v);
                    mx = fmaxf(mx, v);
                    if (pieces == 1) cnt[0]++;
                    else if (pieces == 2) cnt[v > 0]++, zeros += v == 0;
                    else cnt[v <= a.lo ? 0 : v >= a.hi ? 2 : 1]++;
                }
                for (int pc = 0; pc < pieces; pc++)
                    CHECK_MSG(lc_stats_count(s, k, i, pc) == cnt[pc],
                              "rep %d node %d neuron %d piece %d: %zu, counted %zu", rep, k, i, pc,
                              lc_stats_count(s, k, i, pc), cnt[pc]);
                CHECK_MSG(lc_stats_zmin(s, k, i) == mn && lc_stats_zmax(s, k, i) == mx,
                          "rep %d node %d neuron %d: range differs", rep, k, i);
            }
        }
        lc_recon_zcache_free(z, n);
        lc_stats_free(s);
        free(x);
        lc_graph_free(g);
    }
    CHECK(two >= 10);
    CHECK(zeros > 0);
}
