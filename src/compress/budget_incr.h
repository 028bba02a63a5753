/* budget_incr.h - internals of the plain scores from cached activations,
 * shared by the bases and results (budget_incr.c) and the run of one
 * candidate (budget_incr_run.c). Internal to compress/. */
#ifndef LC_BUDGET_INCR_H
#define LC_BUDGET_INCR_H

#include "compress/budget.h"

#include <stdlib.h>

/* Floats of one base (two are kept, and two candidates' runs of at most as
 * many): beyond this the search folds and evaluates each candidate as
 * before rather than hold the activations. */
#define BUDGET_INCR_MAX_FLOATS ((size_t)1 << 26)

typedef struct {
    signed char *piece; /* per hidden neuron (plan order over nodes 1..N-2) */
    float **z;          /* z[k] (n x width_k), k >= 1 */
    unsigned char *ok;  /* (n) predicted right */
    size_t correct;
} base;

/* A buffer kept across candidates: the search scores hundreds of them, and
 * fresh allocations of a few MB each cost page faults (measured: 5 % of a
 * search's time). */
typedef struct {
    float *p;
    size_t cap; /* floats */
} scratch;

static inline float *scratch_get(scratch *b, size_t floats)
{
    if (floats > b->cap) {
        float *q = realloc(b->p, floats * sizeof *q);
        if (!q) return NULL;
        b->p = q;
        b->cap = floats;
    }
    return b->p;
}

/* A scored candidate against the base of generation gen: its plan entries,
 * the rows it re-ran, their new z (zn[k] where node k changed) and their
 * verdicts; what a rebase to it needs without running it again. */
typedef struct {
    bool set;
    unsigned gen;
    signed char *piece; /* (neurons) */
    size_t m, cap_m, correct;
    size_t *redo;
    unsigned char *ok;  /* (m) */
    scratch *zn;        /* per node, its buffer */
    bool *chg;          /* per node: zn[k] holds new z */
    int kmin;
} result;

struct budget_incr {
    const lc_graph *g;
    const lc_data *d;
    size_t n, neurons;
    size_t *off;        /* hidden node k's neurons start at off[k] */
    base orig, cur;
    bool cur_set;
    unsigned gen;       /* commits so far: the base a result belongs to */
    result last, kept;  /* the latest scored candidate; one kept by budget_incr_keep */
    scratch hb, xb, dh, wd;
};

/* The piece of z value v under activation act, as the statistics and the
 * piece table count it (NaN: none, 255). */
static inline int piece_of(lc_act act, float v)
{
    if (v != v) return 255;
    switch (act.kind) {
    case LC_ACT_IDENTITY: return 0;
    case LC_ACT_CLIP: return v <= act.lo ? 0 : v >= act.hi ? 2 : 1;
    default: return v > 0.0f;
    }
}

/* Runs plan p against base b into res: b's rows that change, their z and
 * verdicts; stops early with *cut set (res unset) once the count of right
 * rows is certainly below need x rows (-INFINITY: never). */
lc_status budget_incr_run(budget_incr *bi, const base *b, const lc_plan *p, double need,
                          result *res, bool *cut, lc_error *err);

#endif
