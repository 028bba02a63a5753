/* budget_meter.h - progress of a budget search (budget.c) for
 * lc_budget_opts.progress_cb: candidates scored, an estimate of how many the
 * search will score, and the best candidate so far. Internal to compress/. */
#ifndef LC_BUDGET_METER_H
#define LC_BUDGET_METER_H

#include "lincomp.h"

typedef struct budget_meter {
    const lc_budget_opts *o;
    lc_budget_progress p;
    int hidden;             /* hidden nodes: candidates per greedy step, at most */
    double budget, floor_;  /* SIZE: the parameter budget; DROP: the lowest score */
    int runs_left;          /* greedy runs not started yet */
    size_t run_params;      /* the greedy run in progress: where it started, */
    double run_score;
    int run_evals, run_steps; /* the count when it started and its steps */
    int run_prior;          /* steps expected of it before any is taken */
} budget_meter;

/* Starts the meter before the first candidate; budget and floor_ as the
 * search uses them. Calls nothing. */
void budget_meter_start(budget_meter *m, const lc_budget_opts *o, int hidden, double budget,
                        double floor_);
/* A candidate was folded and scored. */
void budget_meter_scored(budget_meter *m, size_t params, double score);
/* A greedy run starts at (params, score). */
void budget_meter_run(budget_meter *m, size_t params, double score);
/* The run took a step to (params, score): re-estimates the total. */
void budget_meter_step(budget_meter *m, size_t params, double score);
/* The search is done: planned becomes the count, the last call. */
void budget_meter_finish(budget_meter *m);

#endif
