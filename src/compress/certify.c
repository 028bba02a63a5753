/* certify.c - certificates of accuracy budgets (docs/budgets.md).
 *
 * A compressed model's accuracy can fall by no more than the share of rows
 * on which it disagrees with the original. A one-sided upper confidence
 * bound of a binomial rate (Clopper-Pearson) turns "k disagreements on n
 * rows that played no part in choosing the model" into "the disagreement
 * rate on new data from the same distribution is at most u, at confidence
 * c". A search tries many plans, so the rows that certify must not be the
 * rows it scored on, and the plans are tested in a fixed order (the
 * search's path), stopping at the first failure: fixed-sequence testing
 * keeps the confidence for the plan returned without a multiplicity
 * correction.
 *
 * Written here rather than taken from a library: the only Debian library
 * with a beta quantile is GSL, a new dependency for one function. The bound
 * is the p at which P(X <= k | n, p) = 1 - c; the binomial CDF is a finite
 * sum evaluated in double in log space, and it falls strictly in p, so
 * bisection to 1e-12 finds the root in 60 steps. */
#include "compress/compress.h"

#include <math.h>
#include <stdlib.h>

/* log P(X <= k | n, p) for 0 < p < 1: the terms log C(n,i) + i log p +
 * (n-i) log(1-p), summed relative to the largest (no underflow for n of
 * 10^6; every term of the sum is <= 1, so the sum of k+1 terms is exact
 * enough in double). */
static double log_cdf(size_t k, size_t n, double p)
{
    double lp = log(p), lq = log1p(-p), ln1 = lgamma((double)n + 1);
    /* the largest term is at the mode floor((n+1)p), or at k below it */
    double mode = floor(((double)n + 1) * p);
    size_t m = mode > (double)k ? k : (size_t)mode;
    double top = ln1 - lgamma((double)m + 1) - lgamma((double)(n - m) + 1) + (double)m * lp +
                 (double)(n - m) * lq;
    double sum = 0;
    for (size_t i = 0; i <= k; i++) {
        double t = ln1 - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) + (double)i * lp +
                   (double)(n - i) * lq;
        sum += exp(t - top);
    }
    return top + log(sum);
}

double lc_binomial_upper_bound(size_t k, size_t n, double confidence)
{
    if (n == 0 || k > n || !(confidence > 0 && confidence < 1)) return NAN;
    if (k == n) return 1.0;
    double alpha = 1 - confidence;
    /* k == 0 has the closed form 1 - alpha^(1/n) */
    if (k == 0) return -expm1(log(alpha) / (double)n);
    double la = log(alpha), lo = (double)k / (double)n, hi = 1.0;
    /* the CDF at p = k/n is above alpha for every alpha < 1/2 and falls to
     * 0 at p = 1: the root lies in (k/n, 1) */
    if (log_cdf(k, n, lo) < la) lo = 0;
    for (int it = 0; it < 200 && hi - lo > 1e-12; it++) {
        double mid = 0.5 * (lo + hi);
        if (log_cdf(k, n, mid) > la) lo = mid;
        else hi = mid;
    }
    return hi;
}

lc_status lc_certify_chain(const lc_graph *g, const lc_stats *st, lc_layer_threshold lt,
                           const double *chain, int len, const lc_data *rows, double max_drop,
                           double confidence, const float *recon_x, size_t recon_n,
                           const lc_recon_opts *ro, int *chosen, lc_certificate *c,
                           lc_error *err)
{
    *chosen = -1;
    *c = (lc_certificate){0, 0, 0, 0};
    lc_data *agree = NULL;
    /* labels: the original's own predictions, so accuracy is agreement */
    lc_status s = lc_data_predicted(g, rows, &agree, err);
    int n = g->n_nodes;
    for (int i = 0; !s && i < len; i++) {
        lc_plan *p = NULL;
        lc_graph *f = NULL;
        lc_eval_result r;
        s = lc_plan_from_stats_per_node(g, st, chain + (size_t)i * (size_t)n, lt, &p, err);
        int *map = malloc((size_t)n * sizeof *map);
        if (!s && !map) s = lc_fail(err, LC_ERR_NOMEM, "certify: out of memory");
        if (!s) s = lc_fold(g, p, &f, map, err);
        if (!s && recon_x) s = lc_reconstruct(g, p, map, f, recon_x, recon_n, ro, NULL, err);
        if (!s) s = lc_evaluate(f, agree, &r, err);
        free(map);
        lc_plan_free(p);
        lc_graph_free(f);
        if (s) break;
        c->tested++;
        /* accuracy is a share of r.samples rows: back to a count */
        size_t k = (size_t)llround((1 - r.accuracy) * (double)r.samples);
        double u = lc_binomial_upper_bound(k, r.samples, confidence);
        if (!(u <= max_drop)) break;
        *chosen = i;
        c->rows = r.samples;
        c->disagreements = k;
        c->bound = u;
    }
    if (!s && *chosen < 0) c->rows = lc_data_rows(rows); /* nothing folded: no loss */
    lc_data_free(agree);
    return s;
}
