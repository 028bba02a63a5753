/* budget.h - internals of the budget searches, shared by the driver
 * (budget.c), candidate scoring and its cache (budget_score.c), the greedy
 * per-node walk (budget_greedy.c) and the paper's global-tau candidate with
 * the --max-drop checks and certified chain (budget_paper.c). Internal to
 * compress/; the public API is lc_budget_search in lincomp.h. */
#ifndef LC_BUDGET_H
#define LC_BUDGET_H

#include "compress/budget_meter.h"
#include "compress/compress.h"

#include <stdbool.h>
#include <stdint.h>

#define TAU_OFF 2.0 /* a node's threshold when nothing in it is folded */

/* The per-node grid, from exact (1.0) to "every neuron folded" (0.0). */
extern const double budget_grid[];
enum { N_GRID = 23 };

/* Exchanges a and b (of type T): the searches keep the better of two runs. */
#define BUDGET_SWAP(T, a, b) \
    do {                     \
        T swap_ = (a);       \
        (a) = (b);           \
        (b) = swap_;         \
    } while (0)

/* A scored plan in the cache: each distinct plan is scored once. */
typedef struct {
    uint64_t hash;
    size_t params;
    double score;
} budget_cached;

/* budget_incr.c: the plain fold's score from cached activations. */
typedef struct budget_incr budget_incr;

/* A model reconstructed for a final score (s->final), kept so that the
 * search can hand the chosen one back (lc_budget_result.graph) instead of
 * the caller reconstructing it again. */
typedef struct {
    lc_plan *p;
    lc_graph *f;
    int *map, refit;
} budget_final;

enum { N_FINAL = 4 }; /* the two final candidates, DROP's last checks */
/* Reconstructions kept for reuse by the next candidates (lc_recon_state):
 * the walk's current state and the latest candidates. */
enum { N_RSTATE = 4 };

/* One search: its inputs, the score cache and the scoring mode. */
typedef struct {
    const lc_graph *g;
    const lc_stats *st;
    const lc_data *d;
    const lc_pieces *pc;
    const lc_budget_opts *o;
    int n;              /* nodes */
    budget_cached *cache;
    size_t n_cache, cap_cache;
    int evaluations, stopped; /* plans scored; of them, stopped early (cut) */
    budget_meter meter;  /* progress for o->progress_cb */
    bool final;         /* score with the full reconstruction, no cache */
    bool plain;         /* score the plain fold even with reconstruction on */
    float **zc;         /* the original's z on the search's rows (lc_recon_zcache) */
    budget_incr *incr;  /* plain scores from cached activations (NULL: not yet / too big) */
    bool incr_off;      /* the data is too big for it: fold and evaluate */
    budget_final fin[N_FINAL]; /* the latest final models, newest last */
    int n_fin;
    lc_recon_state *rs[N_RSTATE]; /* newest last */
    int n_rs;
    /* the least score the walk still needs to know of the next candidate:
     * a plain score from cached activations may stop early below it and
     * set cut instead (-INFINITY: every score exact) */
    double need;
    bool cut;
} budget_search;

/* One candidate of a search: thresholds (grid indices, -1 = off), size, score. */
typedef struct {
    int *idx;
    size_t params;
    double score;
    bool ok;
} budget_state;

/* budget_score.c */
/* The plan for per-node thresholds tau and its exact size. */
lc_status budget_plan_of(budget_search *s, const double *tau, lc_plan **p, size_t *params,
                         lc_error *err);
/* Accuracy on the scoring data of the reconstructed fold of p (see budget.c). */
lc_status budget_score_reconstructed(budget_search *s, const lc_plan *p, double *score,
                                     lc_error *err);
/* res->graph, node_map and recon_refit for res->plan: a final model of the
 * search when one matches, else folded (and reconstructed) here; frees the
 * others. */
lc_status budget_final_take(budget_search *s, lc_budget_result *res, lc_error *err);
void budget_final_free(budget_search *s);
/* Score of plan p on the scoring data; each distinct plan once. */
lc_status budget_score_of(budget_search *s, const lc_plan *p, size_t params, double *score,
                          lc_error *err);
/* SIZE's final choice between candidates a and b (plans, sizes, scores
 * from the search), both within the budget: the higher score, unless the
 * two differ by at most one standard error of their paired difference on
 * the scoring rows; then the one that agrees with the original on more of
 * them, then the smaller. With reconstruction both are measured as the
 * caller writes them and *sa, *sb updated (budget.c). */
lc_status budget_pick(budget_search *s, const lc_plan *a, size_t pa, double *sa,
                      const lc_plan *b, size_t pb, double *sb, bool *a_wins, lc_error *err);
/* Switches between scoring the plain fold and the reconstructed one. */
void budget_set_plain(budget_search *s, bool plain);
/* Whether candidates are scored reconstructed now (else the plain fold). */
bool budget_scores_recon(const budget_search *s);
/* Grid indices (-1 = off) to per-node thresholds (NaN at input and output). */
void budget_idx_to_tau(const budget_search *s, const int *idx, double *tau);
/* Size and score of the thresholds tau (n entries); scored only when
 * `score` is set. */
lc_status budget_eval_tau(budget_search *s, const double *tau, bool score, budget_state *out,
                          lc_error *err);
/* Size and score of the thresholds idx; scored only when `score` is set. */
lc_status budget_eval_idx(budget_search *s, const int *idx, double *tau, bool score,
                          budget_state *out, lc_error *err);

/* The greedy walk moved to thresholds idx: plain scores from now on start
 * from that plan's activations. */
lc_status budget_rebase(budget_search *s, const int *idx, lc_error *err);
/* The candidate just scored is the walk's best move so far: its plain run
 * is kept for the rebase (budget_incr_keep). */
void budget_keep_scored(budget_search *s);

/* budget_incr.c */
/* The original model's z and predictions on d (all rows); *out NULL when
 * they would not fit the cap. */
lc_status budget_incr_init(const lc_graph *g, const lc_data *d, budget_incr **out, lc_error *err);
void budget_incr_free(budget_incr *bi);
/* Accuracy on d of lc_fold(g, p) (up to float rounding); when it is
 * certainly below need (by more than half a row), *cut is set instead and
 * *score NaN (need -INFINITY: never). */
lc_status budget_incr_score(budget_incr *bi, const lc_plan *p, double need, double *score,
                            bool *cut, lc_error *err);
/* Later scores start from p's activations. */
lc_status budget_incr_rebase(budget_incr *bi, const lc_plan *p, lc_error *err);
/* Keeps the latest scored candidate's run, so that a rebase to it needs no
 * second run (the walk's best move so far). */
void budget_incr_keep(budget_incr *bi);

/* budget_greedy.c: a step's move (single node k to grid index j, or a
 * joint knob k to value j) and the rules of choosing among moves, shared by
 * the greedy and the joint walks */
typedef struct {
    int k, j;
    size_t params;
    int pos;     /* its place in the order the reference path scores moves */
    double hint; /* its knob's ratio in the previous step (INFINITY: unknown) */
} budget_move;
/* A move's parameters saved per point of score lost (the loss at least
 * 1e-6: a move that loses nothing ranks by its saving). */
double budget_move_ratio(const budget_state *cur, const budget_state *a);
/* Whether candidate a replaces b (b may be unset) as the best move from
 * cur: SIZE: reaching the budget first, then the score (then the size);
 * else the most parameters saved per point of score lost (then saved). */
bool budget_better_move(const lc_budget_opts *o, double budget, const budget_state *cur,
                        const budget_state *a, const budget_state *b);
/* The least score with which a move to `params` parameters can replace
 * best by budget_better_move, equal rank included (DROP: not below the
 * floor); -INFINITY: any score can; INFINITY: none can (not scored). */
double budget_need_to_win(const lc_budget_opts *o, double budget, double floor_,
                          const budget_state *cur, const budget_state *best, size_t params);
/* The order of scoring moves: the previous step's best ratio first (the
 * step's best is then usually scored first and the others stop early),
 * then pos; the choice does not depend on it. */
int budget_by_hint(const void *a, const void *b);

/* The greedy per-node search from `start` (grid indices); hist (steps x n
 * ints, owned by the caller) the path. */
lc_status budget_greedy(budget_search *s, const int *start, double budget, double floor_,
                        budget_state *cur, int **hist, int *steps, lc_error *err);
/* SIZE: raise single thresholds back while within the budget and better. */
lc_status budget_refine(budget_search *s, double budget, budget_state *cur, int *steps,
                        lc_error *err);
/* SIZE: land on the budget between grid values. tau (n entries) holds
 * cur's thresholds; for each node, a threshold between its grid value and
 * the next one up at which the model just fits (bisection); the best of
 * these replaces tau, cur->params and cur->score when it scores strictly
 * better. */
lc_status budget_land(budget_search *s, double budget, budget_state *cur, double *tau,
                      int *steps, lc_error *err);

/* budget_paper.c */
/* Grid index of a tau of the paper's steps, -1 when off the grid. */
int budget_grid_index(double t);
/* The paper's candidate: a global tau from 1.0 down in steps of 0.1. */
lc_status budget_paper(budget_search *s, double budget, double floor_, double *tau_out,
                       budget_state *res, lc_error *err);
/* DROP: the promise checked with lc_evaluate on the folded model. */
lc_status budget_verify(budget_search *s, const double *tau, double need, bool *ok,
                        double *acc, lc_plan **plan, lc_error *err);
/* DROP with certification rows: the kept candidate's path certified. */
lc_status budget_certify_drop(budget_search *s, bool per_node, const int *start,
                              const int *hist, int steps, double paper_tau,
                              lc_budget_result *res, double *tau, lc_error *err);

/* budget_joint.c */
/* SIZE with opts.joint: the joint candidate (thresholds and removal by
 * importance per node) into res->joint_*; it replaces res's plan, params,
 * score, method and tau (n entries) when budget_pick prefers it;
 * res->pruned (allocated here) counts the removed neurons per node. */
lc_status budget_joint(budget_search *s, double budget, lc_budget_result *res, double *tau,
                       lc_error *err);

#endif
