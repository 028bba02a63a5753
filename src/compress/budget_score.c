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

static bool keep_final(budget_search *s, const lc_plan *p, lc_graph **f, int **map, int refit);
static bool plan_equal(const lc_plan *a, const lc_plan *b);

/* Floats a kept reconstruction may hold: rows x every node's width (64 MB). */
#define RSTATE_MAX_FLOATS ((size_t)1 << 24)

static bool rstate_room(const budget_search *s, size_t rows)
{
    size_t w = 0, cells;
    for (int k = 1; k < s->n; k++) w += (size_t)s->g->nodes[k].width;
    return lc_mul_ok(rows, w, &cells) && cells <= RSTATE_MAX_FLOATS;
}

/* Nodes from the first hidden one on whose plan entries a and b share. */
static int shared_prefix(const lc_graph *g, const lc_plan *a, const lc_plan *b)
{
    int k = 1;
    while (k < g->n_nodes - 1 && !memcmp(a->piece + a->off[k], b->piece + b->off[k],
                                         (size_t)g->nodes[k].width))
        k++;
    return k;
}

/* The kept reconstruction sharing the longest prefix of plan with p (the
 * newest of equals), NULL when none. */
static const lc_recon_state *rstate_nearest(const budget_search *s, const lc_plan *p)
{
    const lc_recon_state *best = NULL;
    int bk = 1;
    for (int i = 0; i < s->n_rs; i++) {
        int k = shared_prefix(s->g, p, lc_recon_state_plan(s->rs[i]));
        if (k >= bk) {
            bk = k;
            best = s->rs[i];
        }
    }
    return best;
}

/* Keeps r as the newest; the oldest goes when N_RSTATE are kept. */
static void rstate_push(budget_search *s, lc_recon_state *r)
{
    if (s->n_rs == N_RSTATE) {
        lc_recon_state_free(s->rs[0]);
        memmove(s->rs, s->rs + 1, (N_RSTATE - 1) * sizeof *s->rs);
        s->n_rs--;
    }
    s->rs[s->n_rs++] = r;
}

/* Accuracy on the scoring data of lc_fold(g, p) reconstructed: during the
 * search on the first recon_search_rows rows with a fixed ridge, for the
 * final choice (s->final) as the caller will (all rows, o->recon), and then
 * kept for lc_budget_result.graph. */
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
    if (!s->final && !o->recon_z && !s->zc &&
        (st = lc_recon_zcache(s->g, o->recon_x, rows, &s->zc, err)))
        return st;
    /* the search's rows are the first ones: a prefix of o->recon_z */
    float *const *zc = o->recon_z ? o->recon_z : s->zc;
    int *map = malloc((size_t)s->n * sizeof *map), refit = 0;
    if (!map) return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    lc_graph *f = NULL;
    lc_eval_result r;
    st = lc_fold(s->g, p, &f, map, err);
    lc_recon_state *keep = NULL;
    if (!st && s->final)
        st = lc_reconstruct_z(s->g, p, map, f, o->recon_x, rows, &ro, o->recon_z, &refit, err);
    else if (!st)
        st = lc_reconstruct_reuse(s->g, p, map, f, o->recon_x, rows, &ro, zc,
                                  rstate_nearest(s, p), rstate_room(s, rows) ? &keep : NULL,
                                  &refit, err);
    if (keep) rstate_push(s, keep);
    if (!st) st = lc_evaluate(f, s->d, &r, err);
    if (!st) *score = r.accuracy;
    if (!st && s->final && keep_final(s, p, &f, &map, refit)) f = NULL, map = NULL;
    lc_graph_free(f);
    free(map);
    return st;
}

/* Keeps the final model f of plan p (takes f and map on true); the oldest
 * goes when N_FINAL are kept. False: not kept (out of memory). */
static bool keep_final(budget_search *s, const lc_plan *p, lc_graph **f, int **map, int refit)
{
    lc_plan *c;
    lc_error e = {0};
    if (lc_plan_clone(p, &c, &e)) return false;
    if (s->n_fin == N_FINAL) {
        lc_plan_free(s->fin[0].p);
        lc_graph_free(s->fin[0].f);
        free(s->fin[0].map);
        memmove(s->fin, s->fin + 1, (N_FINAL - 1) * sizeof *s->fin);
        s->n_fin--;
    }
    s->fin[s->n_fin++] = (budget_final){c, *f, *map, refit};
    return true;
}

static bool plan_equal(const lc_plan *a, const lc_plan *b)
{
    if (a->n_nodes != b->n_nodes || a->off[a->n_nodes] != b->off[b->n_nodes]) return false;
    return !memcmp(a->piece, b->piece, a->off[a->n_nodes]) &&
           !memcmp(a->off, b->off, ((size_t)a->n_nodes + 1) * sizeof *a->off);
}

void budget_final_free(budget_search *s)
{
    for (int i = 0; i < s->n_fin; i++) {
        lc_plan_free(s->fin[i].p);
        lc_graph_free(s->fin[i].f);
        free(s->fin[i].map);
    }
    s->n_fin = 0;
}

lc_status budget_final_take(budget_search *s, lc_budget_result *res, lc_error *err)
{
    for (int i = s->n_fin - 1; i >= 0; i--)
        if (plan_equal(s->fin[i].p, res->plan)) {
            res->graph = s->fin[i].f;
            res->node_map = s->fin[i].map;
            res->recon_refit = s->fin[i].refit;
            s->fin[i].f = NULL;
            s->fin[i].map = NULL;
            budget_final_free(s);
            return LC_OK;
        }
    budget_final_free(s);
    /* not scored as final (no reconstruction, nothing folded): as the
     * caller would build it */
    const lc_budget_opts *o = s->o;
    res->recon_refit = -1;
    if (!(res->node_map = malloc((size_t)s->n * sizeof *res->node_map)))
        return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    lc_status st = lc_fold(s->g, res->plan, &res->graph, res->node_map, err);
    if (!st && o->recon_x)
        st = lc_reconstruct_z(s->g, res->plan, res->node_map, res->graph, o->recon_x, o->recon_n,
                              &o->recon, o->recon_z, &res->recon_refit, err);
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
    bool recon = budget_scores_recon(s);
    if (recon ? !s->n_rs : !s->incr) return LC_OK;
    double *tau = malloc((size_t)s->n * sizeof *tau);
    if (!tau) return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    lc_plan *p;
    size_t params;
    budget_idx_to_tau(s, idx, tau);
    lc_status st = budget_plan_of(s, tau, &p, &params, err);
    /* reconstructed: the walk's state, the base of the next candidates,
     * becomes the newest kept reconstruction so that it stays */
    for (int i = s->n_rs - 1; !st && recon && i >= 0; i--)
        if (plan_equal(lc_recon_state_plan(s->rs[i]), p)) {
            lc_recon_state *r = s->rs[i];
            memmove(s->rs + i, s->rs + i + 1, (size_t)(s->n_rs - 1 - i) * sizeof *s->rs);
            s->rs[s->n_rs - 1] = r;
            break;
        }
    if (!st && !recon) st = budget_incr_rebase(s->incr, p, err);
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
    s->cut = false;
    for (size_t i = 0; !s->final && i < s->n_cache; i++)
        if (s->cache[i].hash == h && s->cache[i].params == params) {
            *score = s->cache[i].score;
            return LC_OK;
        }
    lc_graph *f = NULL;
    lc_status st;
    if (budget_scores_recon(s)) {
        st = budget_score_reconstructed(s, p, score, err);
        if (st || s->final) return st;
    } else if (!s->final && ((st = incr_setup(s, err)) || s->incr)) {
        if (st || (st = budget_incr_score(s->incr, p, s->need, score, &s->cut, err))) return st;
        if (s->cut) { /* no score: counted, not cached */
            s->evaluations++;
            s->stopped++;
            budget_meter_scored(&s->meter, params, NAN);
            return LC_OK;
        }
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

bool budget_scores_recon(const budget_search *s) { return s->o->recon_x && !s->plain; }

void budget_keep_scored(budget_search *s)
{
    if (s->incr && !budget_scores_recon(s)) budget_incr_keep(s->incr);
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

lc_status budget_eval_tau(budget_search *s, const double *tau, bool score, budget_state *out,
                          lc_error *err)
{
    lc_plan *p;
    lc_status st = budget_plan_of(s, tau, &p, &out->params, err);
    if (!st && score) st = budget_score_of(s, p, out->params, &out->score, err);
    lc_plan_free(p);
    return st;
}

lc_status budget_eval_idx(budget_search *s, const int *idx, double *tau, bool score,
                          budget_state *out, lc_error *err)
{
    budget_idx_to_tau(s, idx, tau);
    return budget_eval_tau(s, tau, score, out, err);
}

/* The class each scoring row gets from lc_fold(g, p) as the caller writes it
 * (with reconstruction: on all calibration rows with o->recon, as in the
 * final score) into cls, and its accuracy into *acc; the model is kept
 * (keep_final). */
static lc_status candidate_classes(budget_search *s, const lc_plan *p, int32_t *cls, double *acc,
                                   lc_error *err)
{
    const lc_budget_opts *o = s->o;
    int *map = malloc((size_t)s->n * sizeof *map);
    if (!map) return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    lc_graph *f = NULL;
    lc_data *pd = NULL;
    int refit = -1;
    lc_status st = lc_fold(s->g, p, &f, map, err);
    if (!st && o->recon_x)
        st = lc_reconstruct_z(s->g, p, map, f, o->recon_x, o->recon_n, &o->recon, o->recon_z,
                              &refit, err);
    if (!st) st = lc_data_predicted(f, s->d, &pd, err);
    /* kept for lc_budget_result.graph: the chosen one is not built again */
    if (!st && keep_final(s, p, &f, &map, refit)) f = NULL, map = NULL;
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
