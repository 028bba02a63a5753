/* budget_meter.c - see budget_meter.h. The greedy search does not know in
 * advance how many steps it takes, so the planned count is an estimate: the
 * candidates per step seen so far times the steps the progress so far says
 * are left (SIZE: parameters still to shed at the rate of the steps so far;
 * DROP: score still to spend at the rate so far), plus the phases after the
 * run. A prior stands in for the length of a run: two steps per node for
 * the first (the Fashion-MNIST MLP of docs/budgets.md took 14 with 6 hidden
 * nodes), three for the second, which starts next to the paper's result. */
#include "budget_meter.h"

#include <math.h>
#include <stdbool.h>

enum { PAPER_SIZE = 1, PAPER_DROP = 11, SECOND_RUN_STEPS = 3 };

static int prior_steps(const budget_meter *m)
{
    return 2 * m->hidden + 2;
}

static void call(budget_meter *m)
{
    if (m->p.planned < m->p.evaluated) m->p.planned = m->p.evaluated;
    if (m->o->progress_cb) m->o->progress_cb(m->o->cb_ctx, &m->p);
}

void budget_meter_start(budget_meter *m, const lc_budget_opts *o, int hidden, double budget,
                        double floor_)
{
    *m = (budget_meter){.o = o, .hidden = hidden > 0 ? hidden : 1, .budget = budget,
                        .floor_ = floor_, .runs_left = 2};
    m->p.best_score = NAN;
    int per_run = prior_steps(m) * m->hidden + (o->kind == LC_BUDGET_SIZE ? m->hidden : 0);
    m->p.planned = (o->kind == LC_BUDGET_SIZE ? PAPER_SIZE : PAPER_DROP) + 2 * per_run;
}

void budget_meter_scored(budget_meter *m, size_t params, double score)
{
    m->p.evaluated++;
    bool size = m->o->kind == LC_BUDGET_SIZE;
    bool within = size ? (double)params <= m->budget : score >= m->floor_;
    bool better = isnan(m->p.best_score) ||
                  (size ? score > m->p.best_score ||
                              (score == m->p.best_score && params < m->p.best_params)
                        : params < m->p.best_params ||
                              (params == m->p.best_params && score > m->p.best_score));
    if (within && better && !isnan(score)) { /* NaN: a score stopped early */
        m->p.best_score = score;
        m->p.best_params = params;
    }
    call(m);
}

/* Candidates still to come: the run in progress at (params, score), its
 * refinement, and the runs after it. Progress per step is very uneven (one
 * step can shed half the model), so the run's prior holds while the run is
 * shorter than it; past it, the rate so far extrapolates, at most a node's
 * worth of steps at a time. */
static int remaining(const budget_meter *m, size_t params, double score)
{
    bool size = m->o->kind == LC_BUDGET_SIZE;
    double per_step = m->run_steps > 0
                          ? (double)(m->p.evaluated - m->run_evals) / m->run_steps : m->hidden;
    double room = size ? (double)params - m->budget : score - m->floor_;
    double left;
    if (room <= 0) {
        left = 0;
    } else if (m->run_steps < m->run_prior) {
        left = m->run_prior - m->run_steps;
    } else {
        double gain = size ? ((double)m->run_params - (double)params) / m->run_steps
                           : (m->run_score - score) / m->run_steps;
        left = gain > 0 ? fmin(ceil(room / gain), m->hidden) : m->hidden;
    }
    double refine = size ? m->hidden : 0;
    double later = m->runs_left * (SECOND_RUN_STEPS * per_step + refine);
    return (int)(left * per_step + refine + later + 0.5);
}

void budget_meter_run(budget_meter *m, size_t params, double score)
{
    m->run_prior = m->runs_left == 2 ? prior_steps(m) : SECOND_RUN_STEPS;
    if (m->runs_left > 0) m->runs_left--;
    m->run_params = params;
    m->run_score = score;
    m->run_evals = m->p.evaluated;
    m->run_steps = 0;
    m->p.planned = m->p.evaluated + remaining(m, params, score);
    call(m);
}

void budget_meter_step(budget_meter *m, size_t params, double score)
{
    m->run_steps++;
    m->p.planned = m->p.evaluated + remaining(m, params, score);
    call(m);
}

void budget_meter_finish(budget_meter *m)
{
    m->p.planned = m->p.evaluated;
    m->p.finished = 1;
    call(m);
}
