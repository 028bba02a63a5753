/* budget_paper.c - the paper's candidate (one global tau from 1.0 down
 * in steps of 0.1) and, for accuracy budgets (--max-drop), the check of the
 * promise on the folded model and the certified chain of the kept
 * candidate's path (lc_certify_chain, certify.c). */
#include "compress/budget.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int budget_grid_index(double t)
{
    for (int j = 0; j < N_GRID; j++)
        if (fabs(budget_grid[j] - t) < 1e-9) return j;
    return -1;
}

/* The paper's candidate: a global tau from 1.0 down in steps of 0.1.
 * Writes its global tau (TAU_OFF: none acceptable) and state. */
lc_status budget_paper(budget_search *s, double budget, double floor_, double *tau_out,
                       budget_state *res, lc_error *err)
{
    double *tau = malloc((size_t)s->n * sizeof *tau);
    if (!tau) return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    lc_status st = LC_OK;
    res->ok = false;
    *tau_out = TAU_OFF;
    for (int i = 10; i >= 0; i--) {
        double t = i / 10.0;
        budget_state c = {NULL, 0, 0, true};
        lc_plan *p;
        for (int k = 0; k < s->n; k++) tau[k] = t;
        if ((st = budget_plan_of(s, tau, &p, &c.params, err))) break;
        bool fits = s->o->kind == LC_BUDGET_DROP || (double)c.params <= budget;
        if (fits) st = budget_score_of(s, p, c.params, &c.score, err);
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
lc_status budget_verify(budget_search *s, const double *tau, double need, bool *ok, double *acc,
                        lc_plan **plan, lc_error *err)
{
    size_t params;
    lc_graph *f = NULL;
    lc_eval_result r;
    lc_status st = budget_plan_of(s, tau, plan, &params, err);
    if (!st && s->o->recon_x) {
        s->final = true;
        st = budget_score_reconstructed(s, *plan, &r.accuracy, err);
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
lc_status budget_certify_drop(budget_search *s, bool per_node, const int *start, const int *hist,
                              int steps, double paper_tau, lc_budget_result *res, double *tau,
                              lc_error *err)
{
    int n = s->n, len = 0;
    double *chain = malloc((size_t)(steps + 12) * (size_t)n * sizeof *chain);
    if (!chain) return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    double lead = per_node ? (start[1] > 0 ? budget_grid[start[1]] : TAU_OFF) : paper_tau;
    for (int i = 10; i >= 0 && lead <= 1.0; i--) {
        double t = i / 10.0;
        if (per_node ? t <= lead + 1e-9 : t < lead - 1e-9) break;
        for (int k = 0; k < n; k++) chain[(size_t)len * (size_t)n + (size_t)k] = t;
        len++;
    }
    if (per_node) {
        budget_idx_to_tau(s, start, chain + (size_t)len++ * (size_t)n);
        for (int h = 0; h < steps; h++)
            budget_idx_to_tau(s, hist + (size_t)h * (size_t)n, chain + (size_t)len++ * (size_t)n);
    }
    double conf = s->o->confidence > 0 ? s->o->confidence : 0.95;
    int chosen;
    lc_certificate c;
    lc_status st = lc_certify_chain(s->g, s->st, s->o->lt, chain, len, s->o->certify,
                                    s->o->max_drop, conf, s->o->recon_x, s->o->recon_n,
                                    &s->o->recon, &chosen, &c, err);
    if (!st && chosen >= 0) {
        memcpy(tau, chain + (size_t)chosen * (size_t)n, (size_t)n * sizeof *tau);
        st = budget_plan_of(s, tau, &res->plan, &res->params, err);
        s->final = true; /* the written model's score, not the estimate */
        if (!st) st = budget_score_of(s, res->plan, res->params, &res->score, err);
        s->final = false;
    } else if (!st) { /* not even the first plan kept the promise: fold nothing */
        for (int k = 1; k < n - 1; k++) tau[k] = TAU_OFF;
        st = lc_plan_create(s->g, &res->plan, err);
        res->params = lc_graph_params(s->g);
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
