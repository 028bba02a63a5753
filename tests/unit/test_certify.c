/* test_certify.c - the Clopper-Pearson bound of --max-drop against an
 * independent computation and in a simulation with a known rate, and the
 * certified accuracy budget on random graphs. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

lc_graph *fold_test_random_graph(test_rng *r);                /* test_fold.c */
void fold_test_random_input(test_rng *r, float *x, size_t n); /* test_fold.c */

/* P(X <= k | n, p) by the pmf recursion p_i+1 = p_i (n-i)/(i+1) p/(1-p),
 * a different route from the library's log-gamma sum. */
static double binom_cdf(int k, int n, double p)
{
    double pmf = pow(1 - p, n), sum = pmf;
    for (int i = 0; i < k; i++) {
        pmf *= (double)(n - i) / (i + 1) * p / (1 - p);
        sum += pmf;
    }
    return sum;
}

TEST(certify_bound_solves_the_binomial_tail)
{
    /* at the bound, exactly 1 - confidence of the mass lies at or below k */
    static const int cases[][2] = {{1, 10}, {3, 50}, {7, 200}, {20, 400}, {0, 30}, {49, 50}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        int k = cases[c][0], n = cases[c][1];
        for (double conf = 0.8; conf < 0.995; conf += 0.09) {
            double u = lc_binomial_upper_bound((size_t)k, (size_t)n, conf);
            CHECK_MSG(u > (double)k / n && u < 1, "k %d n %d: %g", k, n, u);
            double tail = binom_cdf(k, n, u);
            CHECK_MSG(fabs(tail - (1 - conf)) < 1e-7, "k %d n %d conf %g: cdf %g at %g", k, n,
                      conf, tail, u);
        }
    }
    /* the textbook figure: 1 event in 10, one-sided 95 %: 0.3942 */
    CHECK(fabs(lc_binomial_upper_bound(1, 10, 0.95) - 0.39416) < 1e-4);
    CHECK(fabs(lc_binomial_upper_bound(0, 600, 0.95) - (1 - pow(0.05, 1.0 / 600))) < 1e-12);
    CHECK(lc_binomial_upper_bound(5, 5, 0.95) == 1.0);
    CHECK(isnan(lc_binomial_upper_bound(6, 5, 0.95)));
    CHECK(isnan(lc_binomial_upper_bound(0, 0, 0.95)));
    CHECK(isnan(lc_binomial_upper_bound(1, 5, 1.0)));
    /* large n stays finite and sensible (a sum of 10^5 log-space terms) */
    double big = lc_binomial_upper_bound(500, 100000, 0.95);
    CHECK_MSG(big > 0.005 && big < 0.0056, "%g", big);
}

/* With a known disagreement rate p, the bound from n simulated rows is at
 * or above p in at least `confidence` of the trials (the bound k/n fails
 * this: about half the trials fall below). */
TEST(certify_bound_covers_a_known_rate)
{
    test_rng r = {20261203};
    static const double rates[] = {0.005, 0.02, 0.1};
    for (size_t c = 0; c < 3; c++) {
        int trials = 2000, n = 300, covered = 0, naive = 0;
        for (int t = 0; t < trials; t++) {
            int k = 0;
            for (int i = 0; i < n; i++) k += test_uniform(&r) < rates[c];
            covered += lc_binomial_upper_bound((size_t)k, (size_t)n, 0.95) >= rates[c];
            naive += (double)k / n >= rates[c];
        }
        /* 3 standard errors of a 0.95 share over 2000 trials: 0.015 */
        CHECK_MSG(covered >= 0.935 * trials, "rate %g: covered %d of %d", rates[c], covered,
                  trials);
        CHECK_MSG(naive < 0.9 * trials, "rate %g: the naive bound covered %d", rates[c], naive);
    }
}

/* --max-drop with certification rows: the result's disagreement with the
 * original on those rows is what the certificate says, its bound is within
 * the budget, and too few rows fold nothing. */
TEST(certify_budget_search)
{
    test_rng r = {77};
    lc_error err = {0};
    int certified = 0;
    for (int trial = 0; trial < 12; trial++) {
        lc_graph *g = fold_test_random_graph(&r);
        CHECK(g);
        int iw = lc_graph_input_width(g);
        size_t nc = 400, nv = 3000;
        float *xc = malloc(sizeof(float) * nc * (size_t)iw);
        float *xv = malloc(sizeof(float) * nv * (size_t)iw);
        fold_test_random_input(&r, xc, nc * (size_t)iw);
        fold_test_random_input(&r, xv, nv * (size_t)iw);
        lc_stats *st = NULL;
        lc_data *c = NULL, *v = NULL, *cp = NULL, *vp = NULL, *few = NULL;
        lc_pieces *pc = NULL;
        CHECK_OK(lc_stats_compute(g, xc, nc, iw, &st, &err), &err);
        CHECK_OK(lc_data_from_arrays(nc, iw, xc, NULL, 0, &c, &err), &err);
        CHECK_OK(lc_data_from_arrays(nv, iw, xv, NULL, 0, &v, &err), &err);
        CHECK_OK(lc_data_from_arrays(40, iw, xv, NULL, 0, &few, &err), &err);
        CHECK_OK(lc_data_predicted(g, c, &cp, &err), &err);
        CHECK_OK(lc_data_predicted(g, v, &vp, &err), &err);
        CHECK_OK(lc_pieces_compute(g, cp, &pc, &err), &err);
        lc_budget_opts o = {.kind = LC_BUDGET_DROP, .max_drop = 0.05, .lt = {LC_LAYER_AUTO, 0},
                            .certify = v, .confidence = 0.9};
        lc_budget_result b;
        CHECK_OK(lc_budget_search(g, st, cp, pc, &o, &b, &err), &err);
        lc_graph *f = NULL;
        lc_eval_result e;
        CHECK_OK(lc_fold(g, b.plan, &f, NULL, &err), &err);
        CHECK_OK(lc_evaluate(f, vp, &e, &err), &err);
        size_t k = (size_t)llround((1 - e.accuracy) * (double)nv);
        CHECK(b.confidence == 0.9 && b.cert_rows == nv && b.cert_tested >= 1);
        CHECK_MSG(k == b.cert_disagreements, "%zu disagreements, certificate says %zu", k,
                  b.cert_disagreements);
        CHECK(b.cert_bound <= 0.05 && lc_graph_params(f) == b.params);
        if (b.params < b.params_before) {
            certified++;
            CHECK(fabs(b.cert_bound - lc_binomial_upper_bound(k, nv, 0.9)) < 1e-12);
        }
        lc_graph_free(f);
        lc_budget_result_clear(&b);
        /* 40 rows: even no disagreement bounds the rate only to 5.6 % */
        o.certify = few;
        CHECK_OK(lc_budget_search(g, st, cp, pc, &o, &b, &err), &err);
        CHECK(b.params == b.params_before && b.cert_disagreements == 0 && b.cert_bound == 0);
        lc_budget_result_clear(&b);
        o.confidence = 1.0;
        CHECK(lc_budget_search(g, st, cp, pc, &o, &b, &err) == LC_ERR_INVALID);
        lc_pieces_free(pc);
        lc_data_free(c), lc_data_free(v), lc_data_free(cp), lc_data_free(vp), lc_data_free(few);
        lc_stats_free(st);
        free(xc), free(xv);
        lc_graph_free(g);
    }
    CHECK_MSG(certified >= 6, "only %d of 12 searches certified a smaller model", certified);
}
