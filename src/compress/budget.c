/* budget.c - size and accuracy budgets: which thresholds to use so that the
 * folded model meets a parameter budget with the least loss of accuracy, or
 * an accuracy budget with the fewest parameters (docs/budgets.md).
 *
 * Every candidate is a plan built from the statistics with one tau per
 * hidden node (lc_plan_from_stats_per_node), sized exactly by the cost model
 * (lc_plan_params_after, microseconds) and scored for real: folded and
 * evaluated with lc_plan_accuracy, which runs only the samples on which a
 * folded neuron leaves its piece. Plans that different thresholds produce
 * alike are scored once (a cache keyed by a hash of the plan).
 *
 * With reconstruction (o->recon_x), every candidate is folded, reconstructed
 * (lc_reconstruct, a fixed ridge on the first recon_search_rows calibration
 * rows: the cheaper estimate) and evaluated on all of the scoring data; the
 * final choice between the paper's and the per-node candidate is measured
 * on the models reconstructed as the caller will (all rows, o->recon). */
#include "compress/budget_meter.h"
#include "compress/compress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TAU_OFF 2.0 /* a node's threshold when nothing in it is folded */

/* The per-node grid, from exact (1.0) to "every neuron folded" (0.0). */
static const double grid[] = {1.0, 0.99, 0.98, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55,
                              0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05, 0.0};
enum { N_GRID = sizeof grid / sizeof *grid };

const char *lc_budget_method_name(lc_budget_method m)
{
    return m == LC_BUDGET_PER_NODE ? "per-node" : "paper";
}

lc_status lc_data_predicted(const lc_graph *g, const lc_data *d, lc_data **out, lc_error *err)
{
    *out = NULL;
    size_t n = lc_data_rows(d), cells;
    int ow = lc_graph_output_width(g);
    if (lc_data_cols(d) != g->nodes[0].width)
        return lc_fail(err, LC_ERR_SHAPE, "data has %d features, the model takes %d",
                       lc_data_cols(d), g->nodes[0].width);
    if (!lc_mul_ok(n ? n : 1, (size_t)ow, &cells) || cells > LC_MAX_FLOATS)
        return lc_fail(err, LC_ERR_NOMEM, "%zu outputs of width %d: over the cap", n, ow);
    float *y = malloc(cells * sizeof *y);
    int32_t *lab = malloc((n ? n : 1) * sizeof *lab);
    lc_status st = LC_OK;
    if (!y || !lab) st = lc_fail(err, LC_ERR_NOMEM, "out of memory for predictions");
    if (!st) st = lc_forward(g, lc_data_x(d), n, y, err);
    if (!st) {
        lc_act_kind k = g->nodes[g->n_nodes - 1].act.kind;
        for (size_t r = 0; r < n; r++) lab[r] = lc_row_class(k, y + r * (size_t)ow, ow);
        st = lc_data_from_arrays(n, lc_data_cols(d), lc_data_x(d), lab, ow < 2 ? 2 : ow, out, err);
    }
    free(y);
    free(lab);
    return st;
}

void lc_budget_result_clear(lc_budget_result *r)
{
    if (!r) return;
    lc_plan_free(r->plan);
    free(r->tau);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ scoring */

typedef struct {
    uint64_t hash;
    size_t params;
    double score;
} cached;

typedef struct {
    const lc_graph *g;
    const lc_stats *st;
    const lc_data *d;
    const lc_pieces *pc;
    const lc_budget_opts *o;
    int n;              /* nodes */
    cached *cache;
    size_t n_cache, cap_cache;
    int evaluations;
    budget_meter meter;  /* progress for o->progress_cb */
    bool final;         /* score with the full reconstruction, no cache */
    bool plain;         /* score the plain fold even with reconstruction on */
    float **zc;         /* the original's z on the search's rows (lc_recon_zcache) */
} search;

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
static lc_status plan_of(search *s, const double *tau, lc_plan **p, size_t *params, lc_error *err)
{
    lc_status st = lc_plan_from_stats_per_node(s->g, s->st, tau, s->o->lt, p, err);
    if (!st) st = lc_plan_params_after(s->g, *p, params, NULL, err);
    if (st) {
        lc_plan_free(*p);
        *p = NULL;
    }
    return st;
}

/* Score of plan p on the scoring data: folded for real, evaluated with
 * lc_plan_accuracy; each distinct plan once. */
/* Accuracy on the scoring data of lc_fold(g, p) reconstructed: during the
 * search on the first recon_search_rows rows with a fixed ridge, for the
 * final choice (s->final) as the caller will (all rows, o->recon). */
static lc_status score_reconstructed(search *s, const lc_plan *p, double *score, lc_error *err)
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

static lc_status score_of(search *s, const lc_plan *p, size_t params, double *score, lc_error *err)
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
        st = score_reconstructed(s, p, score, err);
        if (st || s->final) return st;
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
        cached *c = realloc(s->cache, cap * sizeof *c);
        if (!c) return LC_OK; /* the cache is only an optimisation */
        s->cache = c;
        s->cap_cache = cap;
    }
    s->cache[s->n_cache++] = (cached){h, params, *score};
    return LC_OK;
}

/* Switches between scoring the plain fold and the reconstructed one; the
 * cache holds one kind of score at a time. */
static void set_plain(search *s, bool plain)
{
    if (s->plain != plain) s->n_cache = 0;
    s->plain = plain;
}

/* --------------------------------------------------------- candidates */

/* One candidate of a search: thresholds (grid indices, -1 = off), size, score. */
typedef struct {
    int *idx;
    size_t params;
    double score;
    bool ok;
} state;

static void idx_to_tau(const search *s, const int *idx, double *tau)
{
    for (int k = 0; k < s->n; k++)
        tau[k] = k == 0 || k == s->n - 1 ? NAN : idx[k] < 0 ? TAU_OFF : grid[idx[k]];
}

/* Size and score of the thresholds idx; scored only when `score` is set. */
static lc_status eval_idx(search *s, const int *idx, double *tau, bool score, state *out,
                          lc_error *err)
{
    lc_plan *p;
    idx_to_tau(s, idx, tau);
    lc_status st = plan_of(s, tau, &p, &out->params, err);
    if (!st && score) st = score_of(s, p, out->params, &out->score, err);
    lc_plan_free(p);
    return st;
}

static bool better_move(const lc_budget_opts *o, double budget, double floor_, const state *cur,
                        const state *a, const state *b)
{
    /* a replaces b (b may be unset) */
    if (!b->ok) return true;
    if (o->kind == LC_BUDGET_SIZE) {
        bool ra = (double)a->params <= budget, rb = (double)b->params <= budget;
        if (ra != rb) return ra;
        if (ra) return a->score > b->score || (a->score == b->score && a->params < b->params);
    }
    (void)floor_;
    double sa = (double)(cur->params - a->params), sb = (double)(cur->params - b->params);
    double la = fmax(cur->score - a->score, 0) + 1e-6, lb = fmax(cur->score - b->score, 0) + 1e-6;
    double qa = sa / la, qb = sb / lb;
    return qa > qb || (qa == qb && sa > sb);
}

/* The greedy per-node search from `start` (grid indices). On return *best
 * is the final state; hist (steps x n ints, owned by the caller) the path. */
static lc_status greedy(search *s, const int *start, double budget, double floor_, state *cur,
                        int **hist, int *steps, lc_error *err)
{
    int n = s->n;
    lc_status st = LC_OK;
    double *tau = malloc((size_t)n * sizeof *tau);
    int *try_idx = malloc((size_t)n * sizeof *try_idx);
    state best = {malloc((size_t)n * sizeof(int)), 0, 0, false}, cand = {try_idx, 0, 0, true};
    if (!tau || !try_idx || !best.idx) {
        st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
        goto done;
    }
    memcpy(cur->idx, start, (size_t)n * sizeof(int));
    if ((st = eval_idx(s, cur->idx, tau, true, cur, err))) goto done;
    cur->ok = true;
    budget_meter_run(&s->meter, cur->params, cur->score);
    for (;;) {
        if (s->o->kind == LC_BUDGET_SIZE && (double)cur->params <= budget) break;
        best.ok = false;
        /* single nodes: the first grid step down that makes the model smaller */
        for (int k = 1; k < n - 1; k++) {
            memcpy(try_idx, cur->idx, (size_t)n * sizeof(int));
            cand.params = cur->params;
            for (int j = cur->idx[k] + 1; j < N_GRID; j++) {
                try_idx[k] = j;
                if ((st = eval_idx(s, try_idx, tau, false, &cand, err))) goto done;
                if (cand.params < cur->params) break;
            }
            if (cand.params >= cur->params) continue;
            if ((st = eval_idx(s, try_idx, tau, true, &cand, err))) goto done;
            if (s->o->kind == LC_BUDGET_DROP && cand.score < floor_) continue;
            if (better_move(s->o, budget, floor_, cur, &cand, &best)) {
                memcpy(best.idx, try_idx, (size_t)n * sizeof(int));
                best.params = cand.params;
                best.score = cand.score;
                best.ok = true;
            }
        }
        /* no single node helps (folds that only pay off together): all
         * nodes one grid step further, until the model gets smaller */
        if (!best.ok) {
            memcpy(try_idx, cur->idx, (size_t)n * sizeof(int));
            bool moved = true, smaller = false;
            while (moved && !smaller) {
                moved = false;
                for (int k = 1; k < n - 1; k++)
                    if (try_idx[k] < N_GRID - 1) try_idx[k]++, moved = true;
                if (!moved) break;
                if ((st = eval_idx(s, try_idx, tau, false, &cand, err))) goto done;
                smaller = cand.params < cur->params;
            }
            if (smaller) {
                if ((st = eval_idx(s, try_idx, tau, true, &cand, err))) goto done;
                if (s->o->kind == LC_BUDGET_SIZE || cand.score >= floor_) {
                    memcpy(best.idx, try_idx, (size_t)n * sizeof(int));
                    best.params = cand.params;
                    best.score = cand.score;
                    best.ok = true;
                }
            }
        }
        if (!best.ok) break;
        int *h = realloc(*hist, (size_t)(*steps + 1) * (size_t)n * sizeof(int));
        if (!h) {
            st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
            goto done;
        }
        *hist = h;
        memcpy(h + (size_t)*steps * (size_t)n, best.idx, (size_t)n * sizeof(int));
        (*steps)++;
        memcpy(cur->idx, best.idx, (size_t)n * sizeof(int));
        cur->params = best.params;
        cur->score = best.score;
        if (s->o->step_cb) s->o->step_cb(s->o->cb_ctx, *steps, cur->params, cur->score);
        budget_meter_step(&s->meter, cur->params, cur->score);
    }
done:
    free(tau);
    free(try_idx);
    free(best.idx);
    return st;
}

/* SIZE: the last step of the greedy search may overshoot the budget. Raise
 * single nodes' thresholds back by one grid step while the model stays
 * within the budget and the score gets strictly better. */
static lc_status refine(search *s, double budget, state *cur, int *steps, lc_error *err)
{
    int n = s->n;
    double *tau = malloc((size_t)n * sizeof *tau);
    int *try_idx = malloc((size_t)n * sizeof *try_idx), *best = malloc((size_t)n * sizeof *best);
    lc_status st = LC_OK;
    if (!tau || !try_idx || !best) {
        st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
        goto done;
    }
    for (bool improved = true; improved;) {
        improved = false;
        state b = {best, cur->params, cur->score, false}, cand = {try_idx, 0, 0, true};
        for (int k = 1; k < n - 1; k++) {
            if (cur->idx[k] < 0) continue;
            memcpy(try_idx, cur->idx, (size_t)n * sizeof(int));
            try_idx[k]--;
            if ((st = eval_idx(s, try_idx, tau, false, &cand, err))) goto done;
            if ((double)cand.params > budget) continue;
            if ((st = eval_idx(s, try_idx, tau, true, &cand, err))) goto done;
            if (cand.score > b.score) {
                memcpy(best, try_idx, (size_t)n * sizeof(int));
                b.params = cand.params;
                b.score = cand.score;
                b.ok = true;
            }
        }
        if (b.ok) {
            memcpy(cur->idx, best, (size_t)n * sizeof(int));
            cur->params = b.params;
            cur->score = b.score;
            (*steps)++;
            improved = true;
            if (s->o->step_cb) s->o->step_cb(s->o->cb_ctx, *steps, cur->params, cur->score);
            budget_meter_step(&s->meter, cur->params, cur->score);
        }
    }
done:
    free(tau);
    free(try_idx);
    free(best);
    return st;
}

/* Grid index of a tau of the paper's steps (all are on the grid). */
static int grid_index(double t)
{
    for (int j = 0; j < N_GRID; j++)
        if (fabs(grid[j] - t) < 1e-9) return j;
    return -1;
}

/* The paper's candidate: a global tau from 1.0 down in steps of 0.1.
 * Writes its global tau (TAU_OFF: none acceptable) and state. */
static lc_status paper(search *s, double budget, double floor_, double *tau_out, state *res,
                       lc_error *err)
{
    double *tau = malloc((size_t)s->n * sizeof *tau);
    if (!tau) return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    lc_status st = LC_OK;
    res->ok = false;
    *tau_out = TAU_OFF;
    for (int i = 10; i >= 0; i--) {
        double t = i / 10.0;
        state c = {NULL, 0, 0, true};
        lc_plan *p;
        for (int k = 0; k < s->n; k++) tau[k] = t;
        if ((st = plan_of(s, tau, &p, &c.params, err))) break;
        bool fits = s->o->kind == LC_BUDGET_DROP || (double)c.params <= budget;
        if (fits) st = score_of(s, p, c.params, &c.score, err);
        lc_plan_free(p);
        if (st) break;
        if (!fits) continue;
        if (s->o->kind == LC_BUDGET_SIZE) {
            *res = c;
            *tau_out = t;
            break;
        }
        if (c.score >= floor_ &&
            (!res->ok || c.params < res->params || (c.params == res->params && c.score > res->score))) {
            *res = c;
            *tau_out = t;
        }
    }
    free(tau);
    return st;
}

/* DROP: the promise checked with lc_evaluate on the folded model (with
 * reconstruction: reconstructed as the caller will); *acc its accuracy. */
static lc_status verify(search *s, const double *tau, double need, bool *ok, double *acc,
                        lc_plan **plan, lc_error *err)
{
    size_t params;
    lc_graph *f = NULL;
    lc_eval_result r;
    lc_status st = plan_of(s, tau, plan, &params, err);
    if (!st && s->o->recon_x) {
        s->final = true;
        st = score_reconstructed(s, *plan, &r.accuracy, err);
        s->final = false;
    } else if (!st) {
        st = lc_fold(s->g, *plan, &f, NULL, err);
        if (!st) st = lc_evaluate(f, s->d, &r, err);
        lc_graph_free(f);
    }
    if (!st) {
        *ok = r.accuracy >= need;
        *acc = r.accuracy;
    }
    if (st || !*ok) {
        lc_plan_free(*plan);
        *plan = NULL;
    }
    return st;
}

/* DROP with certification rows: the kept candidate's path in the order the
 * search visited it, certified by lc_certify_chain (certify.c). The path
 * of the paper's candidate is its global taus from 1.0 down; that of a
 * per-node run is its start and its steps, after the global taus that led
 * to its start when it started from the paper's result. */
static lc_status certify_drop(search *s, bool per_node, const int *start, const int *hist,
                              int steps, double paper_tau, lc_budget_result *res, double *tau,
                              lc_error *err)
{
    int n = s->n, len = 0;
    double *chain = malloc((size_t)(steps + 12) * (size_t)n * sizeof *chain);
    if (!chain) return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    double lead = per_node ? (start[1] > 0 ? grid[start[1]] : TAU_OFF) : paper_tau;
    for (int i = 10; i >= 0 && lead <= 1.0; i--) {
        double t = i / 10.0;
        if (per_node ? t <= lead + 1e-9 : t < lead - 1e-9) break;
        for (int k = 0; k < n; k++) chain[(size_t)len * (size_t)n + (size_t)k] = t;
        len++;
    }
    if (per_node) {
        idx_to_tau(s, start, chain + (size_t)len++ * (size_t)n);
        for (int h = 0; h < steps; h++)
            idx_to_tau(s, hist + (size_t)h * (size_t)n, chain + (size_t)len++ * (size_t)n);
    }
    double conf = s->o->confidence > 0 ? s->o->confidence : 0.95;
    int chosen;
    lc_certificate c;
    lc_status st = lc_certify_chain(s->g, s->st, s->o->lt, chain, len, s->o->certify,
                                    s->o->max_drop, conf, s->o->recon_x, s->o->recon_n,
                                    &s->o->recon, &chosen, &c, err);
    if (!st && chosen >= 0) {
        memcpy(tau, chain + (size_t)chosen * (size_t)n, (size_t)n * sizeof *tau);
        st = plan_of(s, tau, &res->plan, &res->params, err);
        s->final = true; /* the written model's score, not the estimate */
        if (!st) st = score_of(s, res->plan, res->params, &res->score, err);
        s->final = false;
    } else if (!st) { /* not even the first plan kept the promise: fold nothing */
        for (int k = 1; k < n - 1; k++) tau[k] = TAU_OFF;
        st = lc_plan_create(s->g, &res->plan, err);
        res->params = res->params_before;
        res->score = res->score_before;
    }
    res->method = per_node ? LC_BUDGET_PER_NODE : LC_BUDGET_PAPER;
    res->cert_rows = c.rows;
    res->cert_disagreements = c.disagreements;
    res->cert_bound = c.bound;
    res->cert_tested = c.tested;
    res->confidence = conf;
    free(chain);
    return st;
}

lc_status lc_budget_search(const lc_graph *g, const lc_stats *st_, const lc_data *d,
                           const lc_pieces *pc, const lc_budget_opts *o, lc_budget_result *res,
                           lc_error *err)
{
    memset(res, 0, sizeof *res);
    if (o->kind == LC_BUDGET_SIZE ? !(o->target_size > 0 && o->target_size <= 1)
        : o->kind == LC_BUDGET_DROP ? !(o->max_drop >= 0 && o->max_drop <= 1) : true)
        return lc_fail(err, LC_ERR_INVALID, "budget: target size must be in (0, 1] and the "
                       "allowed drop in [0, 1] (got kind %d, size %g, drop %g)", (int)o->kind,
                       o->target_size, o->max_drop);
    if (!(o->confidence >= 0 && o->confidence < 1))
        return lc_fail(err, LC_ERR_INVALID, "budget: confidence must be in (0, 1) (got %g)",
                       o->confidence);
    if (!lc_data_y(d)) return lc_fail(err, LC_ERR_INVALID, "budget: the scoring data has no labels");
    int n = g->n_nodes;
    search s = {g, st_, d, pc, o, n, NULL, 0, 0, 0, {0}, false, false, NULL};
    lc_status st;
    int *hist = NULL, steps = 0, *start = calloc((size_t)n, sizeof *start);
    int *low = calloc((size_t)n, sizeof *low), *hist2 = NULL, steps2 = 0;
    int *start2 = calloc((size_t)n, sizeof *start2);
    state cur = {calloc((size_t)n, sizeof(int)), 0, 0, false}, pap = {NULL, 0, 0, false};
    state cur2 = {calloc((size_t)n, sizeof(int)), 0, 0, false};
    double *tau = malloc((size_t)n * sizeof *tau);
    if (!start || !low || !cur.idx || !tau || !start2 || !cur2.idx) {
        st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
        goto done;
    }
    res->params_before = lc_graph_params(g);
    double budget = o->target_size * (double)res->params_before;
    /* the original's score: the empty plan (nothing to re-run) */
    {
        lc_plan *p0;
        if ((st = lc_plan_create(g, &p0, err))) goto done;
        st = lc_plan_accuracy(g, p0, g, d, pc, &res->score_before, NULL, err);
        lc_plan_free(p0);
        if (st) goto done;
    }
    double floor_ = res->score_before - o->max_drop - 1e-12;
    budget_meter_start(&s.meter, o, n - 2, budget, floor_);

    if (o->kind == LC_BUDGET_SIZE) {
        /* reachable at all? every node at tau 0 folds every neuron */
        state bottom = {low, 0, 0, true};
        for (int k = 1; k < n - 1; k++) low[k] = N_GRID - 1;
        if ((st = eval_idx(&s, low, tau, false, &bottom, err))) goto done;
        if ((double)bottom.params > budget) {
            if ((st = eval_idx(&s, low, tau, true, &bottom, err)) ||
                (st = plan_of(&s, tau, &res->plan, &res->params, err)))
                goto done;
            res->met = 0;
            res->method = LC_BUDGET_PER_NODE;
            res->score = bottom.score;
            res->tau = tau;
            tau = NULL;
            res->evaluations = s.evaluations;
            goto done;
        }
    } else {
        /* start from exact thresholds if they keep the promise, else from nothing */
        state one = {start, 0, 0, true};
        if ((st = eval_idx(&s, start, tau, true, &one, err))) goto done;
        if (one.score < floor_)
            for (int k = 1; k < n - 1; k++) start[k] = -1;
    }
    if ((st = paper(&s, budget, floor_, &res->paper_tau, &pap, err))) goto done;
    /* with reconstruction, the long walk from tau 1 is guided by the plain
     * fold's score (cheap; reconstruction only raises it), and its result is
     * then scored reconstructed like everything else */
    set_plain(&s, o->recon_x != NULL);
    if ((st = greedy(&s, start, budget, floor_, &cur, &hist, &steps, err))) goto done;
    if (o->kind == LC_BUDGET_SIZE && (st = refine(&s, budget, &cur, &steps, err))) goto done;
    if (s.plain) {
        set_plain(&s, false);
        if ((st = eval_idx(&s, cur.idx, tau, true, &cur, err))) goto done;
    }
    /* a second start at the paper's result: SIZE from its last global tau
     * that missed the budget, DROP from the smallest one that keeps the
     * promise; the greedy search then refines it node by node */
    double t2 = o->kind == LC_BUDGET_SIZE ? res->paper_tau + 0.1 : res->paper_tau;
    if (pap.ok && t2 <= 1.0 + 1e-9 && grid_index(t2) >= 0) {
        for (int k = 1; k < n - 1; k++) start2[k] = grid_index(t2);
        if ((st = greedy(&s, start2, budget, floor_, &cur2, &hist2, &steps2, err))) goto done;
        if (o->kind == LC_BUDGET_SIZE && (st = refine(&s, budget, &cur2, &steps2, err)))
            goto done;
        bool second;
        if (o->kind == LC_BUDGET_SIZE)
            second = (double)cur2.params <= budget &&
                     ((double)cur.params > budget || cur2.score > cur.score ||
                      (cur2.score == cur.score && cur2.params < cur.params));
        else
            second = cur2.params < cur.params ||
                     (cur2.params == cur.params && cur2.score > cur.score);
        if (second) { /* swap the runs: the path matters for DROP's fallback */
            state ts = cur;
            cur = cur2;
            cur2 = ts;
            int *ti = hist;
            hist = hist2;
            hist2 = ti;
            int tn = steps;
            steps = steps2;
            steps2 = tn;
            ti = start;
            start = start2;
            start2 = ti;
        }
    }
    /* with reconstruction the search's scores are estimates: the two
     * candidates are measured as the caller will reconstruct them */
    if (o->recon_x) {
        lc_plan *p;
        size_t np;
        s.final = true;
        idx_to_tau(&s, cur.idx, tau);
        if (!(st = plan_of(&s, tau, &p, &np, err))) {
            st = score_of(&s, p, np, &cur.score, err);
            lc_plan_free(p);
        }
        if (!st && pap.ok) {
            for (int k = 0; k < n; k++) tau[k] = k == 0 || k == n - 1 ? NAN : res->paper_tau;
            if (!(st = plan_of(&s, tau, &p, &np, err))) {
                st = score_of(&s, p, np, &pap.score, err);
                lc_plan_free(p);
            }
        }
        s.final = false;
        if (st) goto done;
    }
    res->paper_met = o->kind == LC_BUDGET_DROP || pap.ok;
    res->paper_params = pap.ok ? pap.params : res->params_before;
    res->paper_score = pap.ok ? pap.score : res->score_before;
    res->per_node_params = cur.params;
    res->per_node_score = cur.score;
    res->per_node_met = o->kind == LC_BUDGET_DROP || (double)cur.params <= budget;
    res->steps = steps;

    /* keep the better candidate */
    bool per_node;
    if (o->kind == LC_BUDGET_SIZE)
        per_node = !res->paper_met || (res->per_node_met && (cur.score > res->paper_score ||
                   (cur.score == res->paper_score && cur.params < res->paper_params)));
    else
        per_node = cur.params < res->paper_params ||
                   (cur.params == res->paper_params && cur.score > res->paper_score);
    if (o->kind == LC_BUDGET_SIZE || !per_node) {
        /* SIZE needs no verification: the parameter count is exact */
        if (per_node) idx_to_tau(&s, cur.idx, tau);
        else
            for (int k = 0; k < n; k++)
                tau[k] = k == 0 || k == n - 1 ? NAN : res->paper_tau;
    }
    res->method = per_node ? LC_BUDGET_PER_NODE : LC_BUDGET_PAPER;
    if (o->kind == LC_BUDGET_SIZE) {
        if ((st = plan_of(&s, tau, &res->plan, &res->params, err))) goto done;
        res->score = per_node ? cur.score : res->paper_score;
        res->met = 1;
    } else if (o->certify) {
        if ((st = certify_drop(&s, per_node, start, hist, steps, res->paper_tau, res, tau, err)))
            goto done;
        res->met = 1;
    } else {
        /* DROP: check for real; fall back along the path if a rounding-level
         * tie broke the promise: the chosen one, the other candidate, the
         * per-node path backwards, nothing folded */
        lc_eval_result r0;
        if ((st = lc_evaluate(g, d, &r0, err))) goto done;
        double need = r0.accuracy - o->max_drop - 1e-12;
        int order[2] = {per_node, !per_node};
        bool ok = false;
        for (int c = 0; c < 2 && !ok; c++) {
            if (order[c]) idx_to_tau(&s, cur.idx, tau);
            else
                for (int k = 0; k < n; k++) tau[k] = k == 0 || k == n - 1 ? NAN : res->paper_tau;
            double acc;
            if ((st = verify(&s, tau, need, &ok, &acc, &res->plan, err))) goto done;
            if (ok) {
                res->method = order[c] ? LC_BUDGET_PER_NODE : LC_BUDGET_PAPER;
                res->score = o->recon_x ? acc : order[c] ? cur.score : res->paper_score;
            }
        }
        for (int h = steps - 2; h >= -1 && !ok; h--) {
            const int *ix = h >= 0 ? hist + (size_t)h * (size_t)n : start;
            state c = {NULL, 0, 0, true};
            idx_to_tau(&s, ix, tau);
            double acc;
            if ((st = verify(&s, tau, need, &ok, &acc, &res->plan, err))) goto done;
            if (ok) {
                res->method = LC_BUDGET_PER_NODE;
                if ((st = eval_idx(&s, ix, tau, true, &c, err))) goto done;
                res->score = o->recon_x ? acc : c.score;
            }
        }
        if (!ok) { /* nothing folded keeps any promise */
            for (int k = 1; k < n - 1; k++) tau[k] = TAU_OFF;
            if ((st = lc_plan_create(g, &res->plan, err))) goto done;
            res->method = LC_BUDGET_PER_NODE;
            res->score = res->score_before;
        }
        if ((st = lc_plan_params_after(g, res->plan, &res->params, NULL, err))) goto done;
        res->met = 1;
    }
    res->tau = tau;
    tau = NULL;
    res->evaluations = s.evaluations;
    st = LC_OK;
done:
    if (st) lc_budget_result_clear(res);
    else budget_meter_finish(&s.meter);
    free(s.cache);
    lc_recon_zcache_free(s.zc, n);
    free(hist);
    free(hist2);
    free(start);
    free(start2);
    free(low);
    free(cur.idx);
    free(cur2.idx);
    free(tau);
    return st;
}
