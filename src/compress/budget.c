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
 * This file is the driver; scoring and the cache are in budget_score.c,
 * the greedy walk in budget_greedy.c, the paper's candidate and the
 * --max-drop checks in budget_paper.c (internals: budget.h).
 *
 * With reconstruction (o->recon_x), every candidate is folded, reconstructed
 * (lc_reconstruct, a fixed ridge on the first recon_search_rows calibration
 * rows: the cheaper estimate) and evaluated on all of the scoring data; the
 * final choice between the paper's and the per-node candidate is measured
 * on the models reconstructed as the caller will (all rows, o->recon), and
 * the chosen one is handed back (res->graph) rather than rebuilt. */
#include "compress/budget.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *lc_budget_method_name(lc_budget_method m)
{
    return m == LC_BUDGET_JOINT ? "joint" : m == LC_BUDGET_PER_NODE ? "per-node" : "paper";
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
    lc_graph_free(r->graph);
    free(r->node_map);
    free(r->pruned);
    memset(r, 0, sizeof *r);
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
    if (o->joint && o->kind != LC_BUDGET_SIZE)
        return lc_fail(err, LC_ERR_INVALID, "budget: a joint plan (pruning and folding) needs a "
                       "size budget");
    int n = g->n_nodes;
    budget_search s = {.g = g, .st = st_, .d = d, .pc = pc, .o = o, .n = n, .need = -INFINITY};
    lc_status st;
    int *hist = NULL, steps = 0, *start = calloc((size_t)n, sizeof *start);
    int *low = calloc((size_t)n, sizeof *low), *hist2 = NULL, steps2 = 0;
    int *start2 = calloc((size_t)n, sizeof *start2);
    budget_state cur = {calloc((size_t)n, sizeof(int)), 0, 0, false}, pap = {NULL, 0, 0, false};
    budget_state cur2 = {calloc((size_t)n, sizeof(int)), 0, 0, false};
    double *tau = malloc((size_t)n * sizeof *tau);
    /* each walk's thresholds: its grid indices, or where budget_land put them */
    double *wt = malloc((size_t)n * sizeof *wt), *wt2 = malloc((size_t)n * sizeof *wt2);
    if (!start || !low || !cur.idx || !tau || !start2 || !cur2.idx || !wt || !wt2) {
        st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
        goto done;
    }
    res->params_before = lc_graph_file_params(g);
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
        budget_state bottom = {low, 0, 0, true};
        for (int k = 1; k < n - 1; k++) low[k] = N_GRID - 1;
        if ((st = budget_eval_idx(&s, low, tau, false, &bottom, err))) goto done;
        if ((double)bottom.params > budget) {
            if ((st = budget_eval_idx(&s, low, tau, true, &bottom, err)) ||
                (st = budget_plan_of(&s, tau, &res->plan, &res->params, err)))
                goto done;
            res->met = 0;
            res->method = LC_BUDGET_PER_NODE;
            res->score = bottom.score;
            res->tau = tau;
            tau = NULL;
            res->evaluations = s.evaluations;
            res->stopped_early = s.stopped;
            goto done;
        }
    } else {
        /* start from exact thresholds if they keep the promise, else from nothing */
        budget_state one = {start, 0, 0, true};
        if ((st = budget_eval_idx(&s, start, tau, true, &one, err))) goto done;
        if (one.score < floor_)
            for (int k = 1; k < n - 1; k++) start[k] = -1;
    }
    if ((st = budget_paper(&s, budget, floor_, &res->paper_tau, &pap, err))) goto done;
    /* with reconstruction, the walks are guided by the plain fold's score
     * (cheap; reconstruction only raises it), and their results are then
     * scored reconstructed like everything else */
    budget_set_plain(&s, o->recon_x != NULL);
    if ((st = budget_greedy(&s, start, budget, floor_, &cur, &hist, &steps, err))) goto done;
    if (o->kind == LC_BUDGET_SIZE && (st = budget_refine(&s, budget, &cur, &steps, err))) goto done;
    budget_idx_to_tau(&s, cur.idx, wt);
    if (o->kind == LC_BUDGET_SIZE && (st = budget_land(&s, budget, &cur, wt, &steps, err))) goto done;
    if (s.plain) {
        budget_set_plain(&s, false);
        if ((st = budget_eval_tau(&s, wt, true, &cur, err))) goto done;
    }
    /* a second start at the paper's result: SIZE from its last global tau
     * that missed the budget, DROP from the smallest one that keeps the
     * promise; the greedy search then refines it node by node */
    double t2 = o->kind == LC_BUDGET_SIZE ? res->paper_tau + 0.1 : res->paper_tau;
    if (pap.ok && t2 <= 1.0 + 1e-9 && budget_grid_index(t2) >= 0) {
        for (int k = 1; k < n - 1; k++) start2[k] = budget_grid_index(t2);
        /* guided by the plain fold too (see above), its end then scored
         * reconstructed: measured in docs/budgets.md */
        budget_set_plain(&s, o->recon_x != NULL);
        if ((st = budget_greedy(&s, start2, budget, floor_, &cur2, &hist2, &steps2, err)))
            goto done;
        if (o->kind == LC_BUDGET_SIZE && (st = budget_refine(&s, budget, &cur2, &steps2, err)))
            goto done;
        budget_idx_to_tau(&s, cur2.idx, wt2);
        if (o->kind == LC_BUDGET_SIZE && (st = budget_land(&s, budget, &cur2, wt2, &steps2, err)))
            goto done;
        if (s.plain) {
            budget_set_plain(&s, false);
            if ((st = budget_eval_tau(&s, wt2, true, &cur2, err))) goto done;
        }
        bool second;
        if (o->kind == LC_BUDGET_SIZE)
            second = (double)cur2.params <= budget &&
                     ((double)cur.params > budget || cur2.score > cur.score ||
                      (cur2.score == cur.score && cur2.params < cur.params));
        else
            second = cur2.params < cur.params ||
                     (cur2.params == cur.params && cur2.score > cur.score);
        if (second) { /* swap the runs: the path matters for DROP's fallback */
            BUDGET_SWAP(budget_state, cur, cur2);
            BUDGET_SWAP(double *, wt, wt2);
            BUDGET_SWAP(int *, hist, hist2);
            BUDGET_SWAP(int, steps, steps2);
            BUDGET_SWAP(int *, start, start2);
        }
    }
    /* SIZE with both candidates within the budget: measured and chosen by
     * budget_pick (the one-standard-error rule) */
    bool pick = o->kind == LC_BUDGET_SIZE && pap.ok && (double)cur.params <= budget, pn_wins = false;
    if (pick) {
        lc_plan *pa = NULL, *pb = NULL;
        size_t np;
        st = budget_plan_of(&s, wt, &pa, &np, err);
        for (int k = 0; k < n; k++) tau[k] = k == 0 || k == n - 1 ? NAN : res->paper_tau;
        if (!st) st = budget_plan_of(&s, tau, &pb, &np, err);
        if (!st)
            st = budget_pick(&s, pa, cur.params, &cur.score, pb, pap.params, &pap.score, &pn_wins,
                             err);
        lc_plan_free(pa);
        lc_plan_free(pb);
        if (st) goto done;
    }
    /* else with reconstruction the search's scores are estimates: the
     * candidates are measured as the caller will reconstruct them */
    if (o->recon_x && !pick) {
        lc_plan *p;
        size_t np;
        s.final = true;
        if (!(st = budget_plan_of(&s, wt, &p, &np, err))) {
            st = budget_score_of(&s, p, np, &cur.score, err);
            lc_plan_free(p);
        }
        if (!st && pap.ok) {
            for (int k = 0; k < n; k++) tau[k] = k == 0 || k == n - 1 ? NAN : res->paper_tau;
            if (!(st = budget_plan_of(&s, tau, &p, &np, err))) {
                st = budget_score_of(&s, p, np, &pap.score, err);
                lc_plan_free(p);
            }
        }
        s.final = false;
        if (st) goto done;
    }
    res->paper_met = o->kind == LC_BUDGET_DROP || pap.ok;
    res->paper_params = pap.ok ? pap.params : lc_graph_params(g);
    res->paper_score = pap.ok ? pap.score : res->score_before;
    res->per_node_params = cur.params;
    res->per_node_score = cur.score;
    res->per_node_met = o->kind == LC_BUDGET_DROP || (double)cur.params <= budget;
    res->steps = steps;

    /* keep the better candidate */
    bool per_node;
    if (o->kind == LC_BUDGET_SIZE)
        per_node = pick ? pn_wins
                        : !res->paper_met || (res->per_node_met && (cur.score > res->paper_score ||
                          (cur.score == res->paper_score && cur.params < res->paper_params)));
    else
        per_node = cur.params < res->paper_params ||
                   (cur.params == res->paper_params && cur.score > res->paper_score);
    if (o->kind == LC_BUDGET_SIZE || !per_node) {
        /* SIZE needs no verification: the parameter count is exact */
        if (per_node) memcpy(tau, wt, (size_t)n * sizeof *tau);
        else
            for (int k = 0; k < n; k++)
                tau[k] = k == 0 || k == n - 1 ? NAN : res->paper_tau;
    }
    res->method = per_node ? LC_BUDGET_PER_NODE : LC_BUDGET_PAPER;
    if (o->kind == LC_BUDGET_SIZE) {
        if ((st = budget_plan_of(&s, tau, &res->plan, &res->params, err))) goto done;
        res->score = per_node ? cur.score : res->paper_score;
        res->met = 1;
        if (o->joint && (st = budget_joint(&s, budget, res, tau, err))) goto done;
    } else if (o->certify) {
        if ((st = budget_certify_drop(&s, per_node, start, hist, steps, res->paper_tau, res, tau,
                                      err)))
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
            if (order[c]) budget_idx_to_tau(&s, cur.idx, tau);
            else
                for (int k = 0; k < n; k++) tau[k] = k == 0 || k == n - 1 ? NAN : res->paper_tau;
            double acc;
            if ((st = budget_verify(&s, tau, need, &ok, &acc, &res->plan, err))) goto done;
            if (ok) {
                res->method = order[c] ? LC_BUDGET_PER_NODE : LC_BUDGET_PAPER;
                res->score = o->recon_x ? acc : order[c] ? cur.score : res->paper_score;
            }
        }
        for (int h = steps - 2; h >= -1 && !ok; h--) {
            const int *ix = h >= 0 ? hist + (size_t)h * (size_t)n : start;
            budget_state c = {NULL, 0, 0, true};
            budget_idx_to_tau(&s, ix, tau);
            double acc;
            if ((st = budget_verify(&s, tau, need, &ok, &acc, &res->plan, err))) goto done;
            if (ok) {
                res->method = LC_BUDGET_PER_NODE;
                if ((st = budget_eval_idx(&s, ix, tau, true, &c, err))) goto done;
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
    res->stopped_early = s.stopped;
    st = LC_OK;
done:
    if (!st && res->met) st = budget_final_take(&s, res, err);
    if (st) lc_budget_result_clear(res);
    else budget_meter_finish(&s.meter);
    budget_final_free(&s);
    for (int i = 0; i < s.n_rs; i++) lc_recon_state_free(s.rs[i]);
    free(s.cache);
    lc_recon_zcache_free(s.zc, n);
    budget_incr_free(s.incr);
    free(hist);
    free(hist2);
    free(start);
    free(start2);
    free(low);
    free(cur.idx);
    free(cur2.idx);
    free(tau);
    free(wt);
    free(wt2);
    return st;
}
