/* budget_greedy.c - the greedy per-node walk of the budget searches
 * (budget.c): from a start, each step takes the single node whose next
 * grid step sheds the most parameters per point of score (or all nodes one
 * step when no single one helps), until the budget is met or no step keeps
 * the promise; SIZE then refines an overshooting last step. */
#include "compress/budget.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double budget_move_ratio(const budget_state *cur, const budget_state *a)
{
    return (double)(cur->params - a->params) / (fmax(cur->score - a->score, 0) + 1e-6);
}

bool budget_better_move(const lc_budget_opts *o, double budget, const budget_state *cur,
                        const budget_state *a, const budget_state *b)
{
    if (!b->ok) return true;
    if (o->kind == LC_BUDGET_SIZE) {
        bool ra = (double)a->params <= budget, rb = (double)b->params <= budget;
        if (ra != rb) return ra;
        if (ra) return a->score > b->score || (a->score == b->score && a->params < b->params);
    }
    double qa = budget_move_ratio(cur, a), qb = budget_move_ratio(cur, b);
    return qa > qb || (qa == qb && a->params < b->params); /* then the more saved */
}

double budget_need_to_win(const lc_budget_opts *o, double budget, double floor_,
                          const budget_state *cur, const budget_state *best, size_t params)
{
    double need = o->kind == LC_BUDGET_DROP ? floor_ : -INFINITY;
    if (!best->ok) return need;
    if (o->kind == LC_BUDGET_SIZE) {
        bool ra = (double)params <= budget, rb = (double)best->params <= budget;
        if (ra != rb) return ra ? need : INFINITY; /* reaching the budget decides */
        if (ra) return fmax(need, best->score);    /* then the score (equal: the size) */
    }
    /* No move's ratio exceeds saved / 1e-6, that of a move that loses
     * nothing (a score above cur loses nothing either): below the best's,
     * none can win; else the score where the ratios are equal. */
    double saved = (double)(cur->params - params), qb = budget_move_ratio(cur, best);
    if (qb > saved / 1e-6) return INFINITY;
    return fmax(need, cur->score + 1e-6 - saved / qb);
}

int budget_by_hint(const void *a, const void *b)
{
    const budget_move *x = a, *y = b;
    if (x->hint != y->hint) return x->hint > y->hint ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Most parameters saved first, then node order: the order in which the
 * reference path scores the moves, and which of two equal moves is kept. */
static int by_saving(const void *a, const void *b)
{
    const budget_move *x = a, *y = b;
    if (x->params != y->params) return x->params < y->params ? -1 : 1;
    return (x->k > y->k) - (x->k < y->k);
}

/* The greedy per-node search from `start` (grid indices). On return *best
 * is the final state; hist (steps x n ints, owned by the caller) the path. */
lc_status budget_greedy(budget_search *s, const int *start, double budget, double floor_,
                        budget_state *cur, int **hist, int *steps, lc_error *err)
{
    int n = s->n;
    lc_status st = LC_OK;
    double *tau = malloc((size_t)n * sizeof *tau);
    int *try_idx = malloc((size_t)n * sizeof *try_idx);
    budget_state best = {malloc((size_t)n * sizeof(int)), 0, 0, false};
    budget_state cand = {try_idx, 0, 0, true};
    budget_move *moves = malloc((size_t)n * sizeof *moves);
    double *hint = malloc((size_t)n * sizeof *hint);
    bool full = s->o->full_walk;
    if (!tau || !try_idx || !best.idx || !moves || !hint) {
        st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
        goto done;
    }
    for (int k = 0; k < n; k++) hint[k] = INFINITY;
    memcpy(cur->idx, start, (size_t)n * sizeof(int));
    if ((st = budget_eval_idx(s, cur->idx, tau, true, cur, err))) goto done;
    cur->ok = true;
    if ((st = budget_rebase(s, cur->idx, err))) goto done;
    budget_meter_run(&s->meter, cur->params, cur->score);
    for (;;) {
        if (s->o->kind == LC_BUDGET_SIZE && (double)cur->params <= budget) break;
        best.ok = false;
        /* single nodes: the first grid step down that makes the model
         * smaller, sized first (cheap), then scored best-first (by_hint) */
        int nm = 0;
        for (int k = 1; k < n - 1; k++) {
            memcpy(try_idx, cur->idx, (size_t)n * sizeof(int));
            cand.params = cur->params;
            for (int j = cur->idx[k] + 1; j < N_GRID; j++) {
                try_idx[k] = j;
                if ((st = budget_eval_idx(s, try_idx, tau, false, &cand, err))) goto done;
                if (cand.params < cur->params) break;
            }
            if (cand.params >= cur->params) continue;
            moves[nm++] = (budget_move){k, try_idx[k], cand.params, 0, hint[k]};
        }
        qsort(moves, (size_t)nm, sizeof *moves, by_saving);
        for (int t = 0; t < nm; t++) moves[t].pos = t;
        if (!full) qsort(moves, (size_t)nm, sizeof *moves, budget_by_hint);
        int best_pos = nm, best_k = -1;
        for (int t = 0; t < nm; t++) {
            const budget_move *mv = &moves[t];
            /* a move that cannot replace the best is not scored, and a
             * plain score stops early once it cannot (the reference path
             * scores every move in full) */
            double need = full ? -INFINITY
                               : budget_need_to_win(s->o, budget, floor_, cur, &best, mv->params);
            if (need == INFINITY) continue;
            memcpy(try_idx, cur->idx, (size_t)n * sizeof(int));
            try_idx[mv->k] = mv->j;
            s->need = need;
            st = budget_eval_idx(s, try_idx, tau, true, &cand, err);
            s->need = -INFINITY;
            if (st) goto done;
            hint[mv->k] = s->cut ? 0 : budget_move_ratio(cur, &cand);
            if (s->cut || (s->o->kind == LC_BUDGET_DROP && cand.score < floor_)) continue;
            /* as if scored in by_saving order: of two equal moves the earlier */
            if (budget_better_move(s->o, budget, cur, &cand, &best) ||
                (!budget_better_move(s->o, budget, cur, &best, &cand) && mv->pos < best_pos)) {
                budget_keep_scored(s);
                memcpy(best.idx, try_idx, (size_t)n * sizeof(int));
                best.params = cand.params;
                best.score = cand.score;
                best.ok = true;
                best_pos = mv->pos;
                best_k = mv->k;
            }
        }
        if (best_k >= 0) hint[best_k] = INFINITY; /* its next move is a new one */
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
                if ((st = budget_eval_idx(s, try_idx, tau, false, &cand, err))) goto done;
                smaller = cand.params < cur->params;
            }
            if (smaller) {
                if ((st = budget_eval_idx(s, try_idx, tau, true, &cand, err))) goto done;
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
        if ((st = budget_rebase(s, cur->idx, err))) goto done;
        if (s->o->step_cb) s->o->step_cb(s->o->cb_ctx, *steps, cur->params, cur->score);
        budget_meter_step(&s->meter, cur->params, cur->score);
    }
done:
    free(tau);
    free(try_idx);
    free(best.idx);
    free(moves);
    free(hint);
    return st;
}

/* SIZE: the last step of the greedy search may overshoot the budget. Raise
 * single nodes' thresholds back by one grid step while the model stays
 * within the budget and the score gets strictly better. */
lc_status budget_refine(budget_search *s, double budget, budget_state *cur, int *steps,
                        lc_error *err)
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
        budget_state b = {best, cur->params, cur->score, false}, cand = {try_idx, 0, 0, true};
        for (int k = 1; k < n - 1; k++) {
            if (cur->idx[k] < 0) continue;
            memcpy(try_idx, cur->idx, (size_t)n * sizeof(int));
            try_idx[k]--;
            if ((st = budget_eval_idx(s, try_idx, tau, false, &cand, err))) goto done;
            if ((double)cand.params > budget) continue;
            if ((st = budget_eval_idx(s, try_idx, tau, true, &cand, err))) goto done;
            if (cand.score > b.score) {
                budget_keep_scored(s);
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
            if ((st = budget_rebase(s, cur->idx, err))) goto done;
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

/* A threshold of node k in [lo, hi) at which the model just fits, lo's plan
 * being within the budget and hi's not: bisection for a boundary. The size
 * is not monotone in a threshold (a node's first folds add a skip edge), so
 * where there are several boundaries it need not be the highest. */
static lc_status land_node(budget_search *s, double budget, int k, double lo, double hi,
                           double *t, lc_error *err)
{
    budget_state c = {NULL, 0, 0, true};
    lc_status st = LC_OK;
    for (int it = 0; it < 40 && hi - lo > 1e-9 && !st; it++) {
        t[k] = 0.5 * (lo + hi);
        if (!(st = budget_eval_tau(s, t, false, &c, err))) {
            if ((double)c.params <= budget) lo = t[k];
            else hi = t[k];
        }
    }
    /* a threshold of four decimals in the same place reads better in the
     * report; it must still fit */
    double r = floor(lo * 1e4) / 1e4;
    t[k] = r;
    if (!st && r < lo && !(st = budget_eval_tau(s, t, false, &c, err)) && (double)c.params > budget)
        r = lo;
    t[k] = r;
    return st;
}

/* SIZE: a grid step can fold many neurons of a wide node at once (all
 * those whose share of active samples lies between two grid values), and
 * the walk's last step then ends far below the budget: on a 166-128-128-2
 * MLP at --target-size 0.25 one step went from 28 % of the size to 0.9 %.
 * Refine raises nodes back by whole grid steps only, which overshoot the
 * other way. Landing tries, for each node, a threshold between its grid
 * value and the next one up at which the model just fits, and keeps the
 * best-scoring of these when it beats cur. */
lc_status budget_land(budget_search *s, double budget, budget_state *cur, double *tau,
                      int *steps, lc_error *err)
{
    int n = s->n;
    double *t = malloc((size_t)n * sizeof *t), *best = malloc((size_t)n * sizeof *best);
    budget_state c = {NULL, 0, 0, true}, b = {NULL, cur->params, cur->score, false};
    lc_status st = t && best ? LC_OK : lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    for (int k = 1; k < n - 1 && !st; k++) {
        int j = cur->idx[k];
        if (j < 1) continue; /* exact (tau 1) or off: nothing to land between */
        memcpy(t, tau, (size_t)n * sizeof *t);
        t[k] = budget_grid[j - 1];
        if ((st = budget_eval_tau(s, t, false, &c, err))) break;
        if ((double)c.params <= budget) continue; /* refine's move: not better */
        if ((st = land_node(s, budget, k, budget_grid[j], budget_grid[j - 1], t, err))) break;
        if (t[k] == budget_grid[j]) continue;
        if ((st = budget_eval_tau(s, t, true, &c, err))) break;
        if (c.score > b.score) {
            memcpy(best, t, (size_t)n * sizeof *best);
            b.params = c.params;
            b.score = c.score;
            b.ok = true;
        }
    }
    if (!st && b.ok) {
        memcpy(tau, best, (size_t)n * sizeof *tau);
        cur->params = b.params;
        cur->score = b.score;
        (*steps)++;
        if (s->o->step_cb) s->o->step_cb(s->o->cb_ctx, *steps, cur->params, cur->score);
        budget_meter_step(&s->meter, cur->params, cur->score);
    }
    free(t);
    free(best);
    return st;
}
