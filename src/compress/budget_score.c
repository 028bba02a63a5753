/* budget_score.c - candidate scoring for the budget searches (budget.c):
 * every candidate is a plan built from the statistics with one tau per
 * hidden node (lc_plan_from_stats_per_node), sized exactly by the cost model
 * (lc_plan_params_after, microseconds) and scored for real: folded and
 * evaluated with lc_plan_accuracy, which runs only the samples on which a
 * folded neuron leaves its piece. Plans that different thresholds produce
 * alike are scored once (a cache keyed by a hash of the plan). */
#include "compress/budget.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const double budget_grid[] = {1.0, 0.99, 0.98, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55,
                              0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05, 0.0};
_Static_assert(sizeof budget_grid / sizeof *budget_grid == N_GRID, "N_GRID matches the grid");

static uint64_t plan_hash(const lc_plan *p)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < p->off[p->n_nodes]; i++) {
        h ^= (unsigned char)p->piece[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* The plan for per-node thresholds tau and its exact size. */
lc_status budget_plan_of(budget_search *s, const double *tau, lc_plan **p, size_t *params,
                         lc_error *err)
{
    lc_status st = lc_plan_from_stats_per_node(s->g, s->st, tau, s->o->lt, p, err);
    if (!st) st = lc_plan_params_after(s->g, *p, params, NULL, err);
    if (st) {
        lc_plan_free(*p);
        *p = NULL;
    }
    return st;
}

/* Accuracy on the scoring data of lc_fold(g, p) reconstructed: during the
 * search on the first recon_search_rows rows with a fixed ridge, for the
 * final choice (s->final) as the caller will (all rows, o->recon). */
lc_status budget_score_reconstructed(budget_search *s, const lc_plan *p, double *score,
                                     lc_error *err)
{
    const lc_budget_opts *o = s->o;
    lc_recon_opts ro = o->recon;
    if (!s->final) {
        ro.alpha = ro.alpha > 0 ? ro.alpha : LC_RECON_ALPHA_DEFAULT;
        ro.max_rows = o->recon_search_rows ? o->recon_search_rows : 2048;
    }
    size_t rows = ro.max_rows && ro.max_rows < o->recon_n ? ro.max_rows : o->recon_n;
    lc_status st = LC_OK;
    if (!s->final && !s->zc && (st = lc_recon_zcache(s->g, o->recon_x, rows, &s->zc, err)))
        return st;
    int *map = malloc((size_t)s->n * sizeof *map);
    if (!map) return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    lc_graph *f = NULL;
    lc_eval_result r;
    st = lc_fold(s->g, p, &f, map, err);
    if (!st)
        st = lc_reconstruct_z(s->g, p, map, f, o->recon_x, rows, &ro, s->final ? NULL : s->zc,
                              NULL, err);
    if (!st) st = lc_evaluate(f, s->d, &r, err);
    if (!st) *score = r.accuracy;
    lc_graph_free(f);
    free(map);
    return st;
}

/* Sets up the plain scores from cached activations (budget_incr.c) on
 * first use; s->incr stays NULL when the data is too big for them. */
static lc_status incr_setup(budget_search *s, lc_error *err)
{
    if (s->incr || s->incr_off) return LC_OK;
    s->incr_off = true;
    return budget_incr_init(s->g, s->d, &s->incr, err);
}

lc_status budget_rebase(budget_search *s, const int *idx, lc_error *err)
{
    if (!s->incr || (s->o->recon_x && !s->plain)) return LC_OK;
    double *tau = malloc((size_t)s->n * sizeof *tau);
    if (!tau) return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    lc_plan *p;
    size_t params;
    budget_idx_to_tau(s, idx, tau);
    lc_status st = budget_plan_of(s, tau, &p, &params, err);
    if (!st) st = budget_incr_rebase(s->incr, p, err);
    lc_plan_free(p);
    free(tau);
    return st;
}

/* Score of plan p on the scoring data: folded for real, evaluated with
 * lc_plan_accuracy (or reconstructed, see above); each distinct plan once. */
lc_status budget_score_of(budget_search *s, const lc_plan *p, size_t params, double *score,
                          lc_error *err)
{
    uint64_t h = plan_hash(p);
    for (size_t i = 0; !s->final && i < s->n_cache; i++)
        if (s->cache[i].hash == h && s->cache[i].params == params) {
            *score = s->cache[i].score;
            return LC_OK;
        }
    lc_graph *f = NULL;
    lc_status st;
    if (s->o->recon_x && !s->plain) {
        st = budget_score_reconstructed(s, p, score, err);
        if (st || s->final) return st;
    } else if (!s->final && ((st = incr_setup(s, err)) || s->incr)) {
        if (st || (st = budget_incr_score(s->incr, p, score, err))) return st;
    } else {
        st = lc_fold(s->g, p, &f, NULL, err);
        if (!st) st = lc_plan_accuracy(s->g, p, f, s->d, s->pc, score, NULL, err);
        lc_graph_free(f);
        if (st) return st;
    }
    s->evaluations++;
    budget_meter_scored(&s->meter, params, *score);
    if (s->n_cache == s->cap_cache) {
        size_t cap = s->cap_cache ? 2 * s->cap_cache : 64;
        budget_cached *c = realloc(s->cache, cap * sizeof *c);
        if (!c) return LC_OK; /* the cache is only an optimisation */
        s->cache = c;
        s->cap_cache = cap;
    }
    s->cache[s->n_cache++] = (budget_cached){h, params, *score};
    return LC_OK;
}

/* Switches between scoring the plain fold and the reconstructed one; the
 * cache holds one kind of score at a time. */
void budget_set_plain(budget_search *s, bool plain)
{
    if (s->plain != plain) s->n_cache = 0;
    s->plain = plain;
}
void budget_idx_to_tau(const budget_search *s, const int *idx, double *tau)
{
    for (int k = 0; k < s->n; k++)
        tau[k] = k == 0 || k == s->n - 1 ? NAN : idx[k] < 0 ? TAU_OFF : budget_grid[idx[k]];
}

/* Size and score of the thresholds idx; scored only when `score` is set. */
lc_status budget_eval_idx(budget_search *s, const int *idx, double *tau, bool score,
                          budget_state *out, lc_error *err)
{
    lc_plan *p;
    budget_idx_to_tau(s, idx, tau);
    lc_status st = budget_plan_of(s, tau, &p, &out->params, err);
    if (!st && score) st = budget_score_of(s, p, out->params, &out->score, err);
    lc_plan_free(p);
    return st;
}

/* The class each scoring row gets from lc_fold(g, p) as the caller writes it
 * (with reconstruction: on all calibration rows with o->recon, as in the
 * final score) into cls, and its accuracy into *acc. */
static lc_status candidate_classes(budget_search *s, const lc_plan *p, int32_t *cls, double *acc,
                                   lc_error *err)
{
    const lc_budget_opts *o = s->o;
    int *map = malloc((size_t)s->n * sizeof *map);
    if (!map) return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    lc_graph *f = NULL;
    lc_data *pd = NULL;
    lc_status st = lc_fold(s->g, p, &f, map, err);
    if (!st && o->recon_x)
        st = lc_reconstruct(s->g, p, map, f, o->recon_x, o->recon_n, &o->recon, NULL, err);
    if (!st) st = lc_data_predicted(f, s->d, &pd, err);
    if (!st) {
        size_t n = lc_data_rows(s->d), right = 0;
        const int32_t *y = lc_data_y(s->d), *c = lc_data_y(pd);
        for (size_t r = 0; r < n; r++) right += (cls[r] = c[r]) == y[r];
        *acc = n ? (double)right / (double)n : 0;
    }
    lc_data_free(pd);
    lc_graph_free(f);
    free(map);
    return st;
}

lc_status budget_pick(budget_search *s, const lc_plan *a, size_t pa, double *sa,
                      const lc_plan *b, size_t pb, double *sb, bool *a_wins, lc_error *err)
{
    size_t n = lc_data_rows(s->d);
    int32_t *ca = malloc((n ? n : 1) * sizeof *ca), *cb = malloc((n ? n : 1) * sizeof *cb);
    lc_data *orig = NULL;
    double acc_a, acc_b;
    lc_status st = ca && cb ? LC_OK : lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    if (!st) st = candidate_classes(s, a, ca, &acc_a, err);
    if (!st) st = candidate_classes(s, b, cb, &acc_b, err);
    if (!st) st = lc_data_predicted(s->g, s->d, &orig, err);
    if (!st) {
        if (s->o->recon_x) { /* measured as written; the search had estimates */
            *sa = acc_a;
            *sb = acc_b;
        }
        /* one standard error of the paired difference of two accuracies on
         * the same rows: sqrt(rows where they differ) / rows (McNemar) */
        const int32_t *c0 = lc_data_y(orig);
        size_t differ = 0, agree_a = 0, agree_b = 0;
        for (size_t r = 0; r < n; r++) {
            differ += ca[r] != cb[r];
            agree_a += ca[r] == c0[r];
            agree_b += cb[r] == c0[r];
        }
        double se = n ? sqrt((double)differ) / (double)n : 0;
        if (fabs(*sa - *sb) > se + 1e-12) *a_wins = *sa > *sb;
        else if (agree_a != agree_b) *a_wins = agree_a > agree_b;
        else *a_wins = *sa > *sb || (*sa == *sb && pa < pb);
    }
    lc_data_free(orig);
    free(ca);
    free(cb);
    return st;
}
