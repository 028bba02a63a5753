/* budget_joint.c - the joint candidate of a size budget (opts.joint,
 * docs/budgets.md "Joint plans"): for every hidden neuron one of keep, fold
 * as linear, fold as constant, or remove by importance, chosen together.
 *
 * The paper prunes (lincomp prune) and folds in two separate runs. Here one
 * greedy walk moves two knobs per hidden node: its fold threshold (the grid
 * of the per-node search) and the share of its neurons removed by
 * importance, least important first. Importance is activation-based, as
 * pruning's: the share of calibration samples on which the neuron is NOT in
 * its most frequent constant piece (for ReLU: its activation rate). A
 * removed neuron becomes a constant fold in the plan (for ReLU its output is
 * replaced by 0, the paper's plain removal), so the cost model, lc_fold and
 * lc_reconstruct need nothing new: reconstruction refits its consumers as
 * after any lossy fold (their biases absorb the neuron's mean output, the
 * bias correction of pruning, and more). Neurons without a constant piece
 * (PReLU, leaky ReLU) are never removed.
 *
 * Each step tries, for every node, the next threshold and the next removal
 * share that make the whole model smaller, and takes the move with the most
 * parameters saved per point of score lost (as budget_greedy.c); with
 * reconstruction every candidate is scored reconstructed (the estimate of
 * budget_score.c). As the per-node search, the walk runs twice: from tau 1
 * (guided by the plain fold's score when reconstructing, which is cheap)
 * and from the paper's last global tau that missed the budget (scored
 * reconstructed throughout); each refines an overshoot, and each result is
 * measured as compress writes it. The better run replaces the chosen plan
 * when budget_pick prefers it (the rule of the final choice between the
 * paper's and the per-node candidate). */
#include "compress/budget.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Shares of a node's removable neurons taken by importance. */
static const double prune_grid[] = {0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4,
                                    0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
enum { N_PRUNE = sizeof prune_grid / sizeof *prune_grid };

typedef struct {
    budget_search *s;
    int n;
    int **order;            /* per hidden node: removable neurons, least important first */
    signed char **cpiece;   /* per hidden node and neuron: its constant piece (or LC_KEEP) */
    int *n_order;
} joint_ctx;

typedef struct {
    double imp;
    int i;
} ranked;

static int by_importance(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->imp != y->imp) return x->imp < y->imp ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static void ctx_free(joint_ctx *j)
{
    for (int k = 0; k < j->n && j->order; k++) {
        free(j->order[k]);
        free(j->cpiece[k]);
    }
    free(j->order);
    free(j->cpiece);
    free(j->n_order);
}

static lc_status ctx_init(joint_ctx *j, budget_search *s, lc_error *err)
{
    const lc_graph *g = s->g;
    const lc_stats *st = s->st;
    *j = (joint_ctx){s, s->n, calloc((size_t)s->n, sizeof(int *)),
                     calloc((size_t)s->n, sizeof(signed char *)),
                     calloc((size_t)s->n, sizeof(int))};
    if (!j->order || !j->cpiece || !j->n_order) goto nomem;
    for (int k = 1; k < j->n - 1; k++) {
        const struct lc_node *nd = &g->nodes[k];
        const struct lc_stats_node *sn = &st->node[k];
        ranked *r = malloc((size_t)nd->width * sizeof *r);
        j->order[k] = malloc((size_t)nd->width * sizeof(int));
        j->cpiece[k] = malloc((size_t)nd->width);
        if (!r || !j->order[k] || !j->cpiece[k]) {
            free(r);
            goto nomem;
        }
        int c = 0;
        for (int i = 0; i < nd->width; i++) {
            /* the constant piece the neuron is in most often */
            int best = LC_KEEP;
            uint64_t most = 0;
            for (int p = 0; p < sn->pieces; p++) {
                float sl, cc;
                lc_piece_affine(nd->act, nd->slope ? nd->slope[i] : 0.0f, p, &sl, &cc);
                uint64_t cnt = sn->cnt[(size_t)p * (size_t)sn->width + (size_t)i];
                if (sl == 0.0f && (best == LC_KEEP || cnt > most)) {
                    best = p;
                    most = cnt;
                }
            }
            j->cpiece[k][i] = (signed char)best;
            if (best == LC_KEEP) continue;
            double samples = st->samples ? (double)st->samples : 1.0;
            r[c++] = (ranked){1.0 - (double)most / samples, i};
        }
        qsort(r, (size_t)c, sizeof *r, by_importance);
        for (int t = 0; t < c; t++) j->order[k][t] = r[t].i;
        j->n_order[k] = c;
        free(r);
    }
    return LC_OK;
nomem:
    ctx_free(j);
    return lc_fail(err, LC_ERR_NOMEM, "joint budget search: out of memory");
}

/* The plan of fold indices x[0..n) and removal levels x[n..2n), its exact
 * size, and (pruned not NULL) per node the neurons removed by importance
 * that the thresholds alone would not have removed. */
static lc_status joint_plan(joint_ctx *j, const int *x, lc_plan **p, size_t *params,
                            int *pruned, lc_error *err)
{
    budget_search *s = j->s;
    int n = j->n;
    double *tau = malloc((size_t)n * sizeof *tau);
    if (!tau) return lc_fail(err, LC_ERR_NOMEM, "joint budget search: out of memory");
    budget_idx_to_tau(s, x, tau);
    lc_status st = lc_plan_from_stats_per_node(s->g, s->st, tau, s->o->lt, p, err);
    free(tau);
    if (st) return st;
    for (int k = 1; k < n - 1; k++) {
        int take = (int)floor(prune_grid[x[n + k]] * j->n_order[k] + 0.5), got = 0;
        for (int t = 0; t < take; t++) {
            int i = j->order[k][t], cur = lc_plan_get(*p, k, i);
            if (cur != LC_KEEP) {
                float sl, c;
                lc_piece_affine((*p)->act[k], (*p)->slope[(*p)->off[k] + (size_t)i], cur, &sl, &c);
                if (sl == 0.0f) continue; /* already a constant fold */
            }
            (*p)->piece[(*p)->off[k] + (size_t)i] = j->cpiece[k][i];
            got++;
        }
        if (pruned) pruned[k] = got;
    }
    if (pruned) pruned[0] = pruned[n - 1] = 0;
    st = lc_plan_params_after(s->g, *p, params, NULL, err);
    if (st) {
        lc_plan_free(*p);
        *p = NULL;
    }
    return st;
}

static lc_status joint_eval(joint_ctx *j, const int *x, bool score, budget_state *out,
                            lc_error *err)
{
    lc_plan *p;
    lc_status st = joint_plan(j, x, &p, &out->params, NULL, err);
    if (!st && score) st = budget_score_of(j->s, p, out->params, &out->score, err);
    lc_plan_free(p);
    return st;
}

/* Plain scores from cached activations start from the walk's state. */
static lc_status joint_rebase(joint_ctx *j, const int *x, lc_error *err)
{
    budget_search *s = j->s;
    if (!s->incr || budget_scores_recon(s)) return LC_OK;
    lc_plan *p;
    size_t params;
    lc_status st = joint_plan(j, x, &p, &params, NULL, err);
    if (!st) st = budget_incr_rebase(s->incr, p, err);
    lc_plan_free(p);
    return st;
}

static void take_state(budget_state *dst, const budget_state *src, int len)
{
    memcpy(dst->idx, src->idx, (size_t)len * sizeof(int));
    dst->params = src->params;
    dst->score = src->score;
    dst->ok = true;
}

/* The walk from cur (2n indices) until the budget is met, then the refinement. */
static lc_status joint_walk(joint_ctx *j, double budget, budget_state *cur, int *steps,
                            lc_error *err)
{
    budget_search *s = j->s;
    int n = j->n, len = 2 * n;
    budget_state best = {malloc((size_t)len * sizeof(int)), 0, 0, false};
    budget_state cand = {malloc((size_t)len * sizeof(int)), 0, 0, true};
    budget_move *moves = malloc((size_t)len * sizeof *moves);
    double *hint = malloc((size_t)len * sizeof *hint);
    const lc_budget_opts *o = s->o;
    lc_status st = LC_OK;
    if (!best.idx || !cand.idx || !moves || !hint) {
        st = lc_fail(err, LC_ERR_NOMEM, "joint budget search: out of memory");
        goto done;
    }
    if ((st = joint_eval(j, cur->idx, true, cur, err)) || (st = joint_rebase(j, cur->idx, err)))
        goto done;
    budget_meter_run(&s->meter, cur->params, cur->score);
    for (int pos = 0; pos < len; pos++) hint[pos] = INFINITY;
    while ((double)cur->params > budget) {
        best.ok = false;
        /* every knob's next value that makes the model smaller, sized
         * first; scored best-first, as budget_greedy does (the reference
         * path, o->full_walk: every move in full, in knob order) */
        int nm = 0;
        for (int pos = 1; pos < len - 1; pos++) {
            if (pos == n - 1 || pos == n) continue; /* the output's and the input's knobs */
            int top = pos < n ? N_GRID : N_PRUNE;
            memcpy(cand.idx, cur->idx, (size_t)len * sizeof(int));
            cand.params = cur->params;
            for (int v = cur->idx[pos] + 1; v < top; v++) {
                cand.idx[pos] = v;
                if ((st = joint_eval(j, cand.idx, false, &cand, err))) goto done;
                if (cand.params < cur->params) break;
            }
            if (cand.params < cur->params)
                moves[nm] = (budget_move){pos, cand.idx[pos], cand.params, nm, hint[pos]}, nm++;
        }
        if (!o->full_walk) qsort(moves, (size_t)nm, sizeof *moves, budget_by_hint);
        int best_pos = nm, best_at = -1;
        for (int t = 0; t < nm; t++) {
            const budget_move *mv = &moves[t];
            double need = o->full_walk ? -INFINITY
                                       : budget_need_to_win(o, budget, -INFINITY, cur, &best,
                                                            mv->params);
            if (need == INFINITY) continue;
            memcpy(cand.idx, cur->idx, (size_t)len * sizeof(int));
            cand.idx[mv->k] = mv->j;
            s->need = need;
            st = joint_eval(j, cand.idx, true, &cand, err);
            s->need = -INFINITY;
            if (st) goto done;
            hint[mv->k] = s->cut ? 0 : budget_move_ratio(cur, &cand);
            if (s->cut) continue;
            if (budget_better_move(o, budget, cur, &cand, &best) ||
                (!budget_better_move(o, budget, cur, &best, &cand) && mv->pos < best_pos)) {
                budget_keep_scored(s);
                take_state(&best, &cand, len);
                best_pos = mv->pos;
                best_at = mv->k;
            }
        }
        if (best_at >= 0) hint[best_at] = INFINITY; /* its next move is a new one */
        if (!best.ok) { /* folds that only pay off together: every threshold one step */
            memcpy(cand.idx, cur->idx, (size_t)len * sizeof(int));
            bool moved = true;
            cand.params = cur->params;
            while (moved && cand.params >= cur->params) {
                moved = false;
                for (int k = 1; k < n - 1; k++)
                    if (cand.idx[k] < N_GRID - 1) cand.idx[k]++, moved = true;
                if (moved && (st = joint_eval(j, cand.idx, false, &cand, err))) goto done;
            }
            if (cand.params >= cur->params) break;
            if ((st = joint_eval(j, cand.idx, true, &cand, err))) goto done;
            take_state(&best, &cand, len);
        }
        take_state(cur, &best, len);
        (*steps)++;
        if ((st = joint_rebase(j, cur->idx, err))) goto done;
        if (s->o->step_cb) s->o->step_cb(s->o->cb_ctx, *steps, cur->params, cur->score);
        budget_meter_step(&s->meter, cur->params, cur->score);
    }
    /* refine: one knob back while within the budget and strictly better */
    for (bool improved = (double)cur->params <= budget; improved;) {
        improved = false;
        best.ok = false;
        for (int pos = 1; pos < len - 1; pos++) {
            if (pos == n - 1 || pos == n || cur->idx[pos] <= (pos < n ? -1 : 0)) continue;
            memcpy(cand.idx, cur->idx, (size_t)len * sizeof(int));
            cand.idx[pos]--;
            if ((st = joint_eval(j, cand.idx, false, &cand, err))) goto done;
            if ((double)cand.params > budget) continue;
            if ((st = joint_eval(j, cand.idx, true, &cand, err))) goto done;
            if (cand.score > (best.ok ? best.score : cur->score)) take_state(&best, &cand, len);
        }
        if (best.ok) {
            take_state(cur, &best, len);
            (*steps)++;
            improved = true;
            if ((st = joint_rebase(j, cur->idx, err))) goto done;
            budget_meter_step(&s->meter, cur->params, cur->score);
        }
    }
done:
    free(best.idx);
    free(cand.idx);
    free(moves);
    free(hint);
    return st;
}

/* One run of the walk from fold indices `from` (removal 0 everywhere), guided
 * by plain scores when `plain`; its plan measured as compress writes it. */
static lc_status joint_run(joint_ctx *j, const int *from, bool plain, double budget,
                           budget_state *cur, int *steps, lc_plan **p, int *pruned,
                           lc_error *err)
{
    budget_search *s = j->s;
    int n = j->n;
    memset(cur->idx, 0, (size_t)2 * n * sizeof(int));
    memcpy(cur->idx, from, (size_t)n * sizeof(int));
    *steps = 0;
    budget_set_plain(s, plain && s->o->recon_x);
    lc_status st = joint_walk(j, budget, cur, steps, err);
    budget_set_plain(s, false);
    size_t params;
    if (!st) st = joint_plan(j, cur->idx, p, &params, pruned, err);
    if (!st && s->o->recon_x) { /* as compress writes it */
        s->final = true;
        st = budget_score_of(s, *p, params, &cur->score, err);
        s->final = false;
    } else if (!st && params != cur->params) {
        st = lc_fail(err, LC_ERR_INVALID, "joint budget search: the plan changed size");
    }
    cur->params = params;
    cur->ok = (double)params <= budget;
    return st;
}

lc_status budget_joint(budget_search *s, double budget, lc_budget_result *res, double *tau,
                       lc_error *err)
{
    int n = s->n;
    joint_ctx j;
    lc_status st = ctx_init(&j, s, err);
    if (st) return st;
    budget_state cur = {calloc((size_t)2 * n, sizeof(int)), 0, 0, false};
    budget_state run = {calloc((size_t)2 * n, sizeof(int)), 0, 0, false};
    int *from = calloc((size_t)n, sizeof *from), steps = 0;
    lc_plan *p = NULL, *q = NULL;
    res->pruned = calloc((size_t)n, sizeof *res->pruned);
    int *pruned = calloc((size_t)n, sizeof *pruned), *pq = calloc((size_t)n, sizeof *pq);
    if (!cur.idx || !run.idx || !from || !res->pruned || !pruned || !pq) {
        st = lc_fail(err, LC_ERR_NOMEM, "joint budget search: out of memory");
        goto done;
    }
    /* two runs, as the per-node search's: from tau 1 (guided by plain
     * scores when reconstructing: cheap) and from the paper's last global
     * tau that missed the budget (scored reconstructed throughout) */
    if ((st = joint_run(&j, from, true, budget, &cur, &res->joint_steps, &p, pruned, err)))
        goto done;
    int g2 = budget_grid_index(res->paper_tau + 0.1);
    if (res->paper_tau <= 1.0 && g2 > 0) {
        for (int k = 1; k < n - 1; k++) from[k] = g2;
        if ((st = joint_run(&j, from, false, budget, &run, &steps, &q, pq, err))) goto done;
        if (run.ok && (!cur.ok || run.score > cur.score ||
                       (run.score == cur.score && run.params < cur.params))) {
            BUDGET_SWAP(budget_state, cur, run);
            BUDGET_SWAP(lc_plan *, p, q);
            memcpy(pruned, pq, (size_t)n * sizeof *pruned);
            res->joint_steps = steps;
        }
    }
    /* against the plan chosen so far, by the rule that chose it
     * (budget_pick: a higher score counts beyond one standard error) */
    bool wins = false;
    if (cur.ok &&
        (st = budget_pick(s, p, cur.params, &cur.score, res->plan, res->params, &res->score,
                          &wins, err)))
        goto done;
    res->joint_params = cur.params;
    res->joint_score = cur.score;
    res->joint_met = cur.ok;
    if (wins) {
        lc_plan_free(res->plan);
        res->plan = p;
        p = NULL;
        res->params = cur.params;
        res->score = cur.score;
        res->method = LC_BUDGET_JOINT;
        budget_idx_to_tau(s, cur.idx, tau);
        memcpy(res->pruned, pruned, (size_t)n * sizeof *pruned);
    }
done:
    lc_plan_free(p);
    lc_plan_free(q);
    free(pruned);
    free(pq);
    free(from);
    free(cur.idx);
    free(run.idx);
    ctx_free(&j);
    return st;
}
