/* bounds.h - internals shared by the provers: the proof object with its
 * working arrays (bounds.c), intervals and relaxations (bounds_interval.c),
 * symbolic back-substitution (bounds_sym.c) and LP tightening with GLPK
 * (bounds_lp.c). Public API: "proofs" in lincomp.h,
 * the method and the soundness argument: docs/proofs.md. */
#ifndef LC_BOUNDS_H
#define LC_BOUNDS_H

#include "core/internal.h"

#include <float.h>
#include <math.h>

/* Unit roundoff of double and float (round to nearest). */
#define LC_U64 (DBL_EPSILON / 2)
#define LC_U32 ((double)FLT_EPSILON / 2)

/* gamma_n = n u / (1 - n u): bound on the relative error of any sum of n
 * terms in double (any order, FMA or not), Higham's Theorem 3.1/3.4. */
static inline double lc_gamma64(double n)
{
    return n * LC_U64 / (1.0 - n * LC_U64);
}
static inline double lc_gamma32(double n)
{
    double nu = n * LC_U32;
    return nu < 0.5 ? nu / (1.0 - nu) : INFINITY;
}

/* A hidden activation restricted to one neuron: pieces numbered from the
 * left (lc_plan numbering), piece p is h = s[p] z + c[p] on
 * [kink[p-1], kink[p]] (kink[-1] = -inf, kink[n-1] = +inf). */
typedef struct lc_pwl {
    int n;            /* pieces, 1..3 */
    double kink[2];
    double s[3], c[3];
} lc_pwl;

/* The neuron's points in [l, u]: l, every kink strictly inside, u; and the
 * activation's value at each (evaluated in double; see lc_pwl_eval_err). */
typedef struct lc_pts {
    int n;  /* 2..4 */
    double z[4], f[4];
    double e[4]; /* bound on the rounding error of f[q] */
} lc_pts;

/* A linear bound h >= a z + c (lower) or h <= a z + c (upper). */
typedef struct lc_line {
    double a, c;
} lc_line;

struct lc_proof {
    int n_nodes;
    lc_prove_method method;
    int *width;           /* (n_nodes) */
    size_t *off;          /* (n_nodes + 1): node k's neurons at off[k] */
    lc_pwl *pwl;          /* (off[n]) the activation of every neuron */
    /* Sound bounds for the exact real network. Node 0: the box. */
    double *zl, *zu;      /* pre-activation z */
    double *hl, *hu;      /* activation h (node 0: x) */
    double *ez;           /* bound on |z_float32 - z| over the box */
    double *eh;           /* bound on |h_float32 - h| */
    lc_line *rlo, *rup;   /* relaxation of h in terms of z, per neuron */
    signed char *piece;   /* proven piece or LC_KEEP */
    signed char *by;      /* lc_prove_method that proved it, or -1 */
    double **wd;          /* per edge of the graph: the weights as double */
    double *wblock;       /* the one allocation behind wd[] */
    double seconds[3];
    int lp_decided, lp_solved, lp_failed, lp_skipped;
};

/* Edge index of edge e of node k in g->edges (for p->wd). */
static inline size_t lc_edge_index(const lc_graph *g, int k, int e)
{
    return (size_t)(&g->nodes[k].in[e] - g->edges);
}

/* Largest |h| of neuron t (global index) over the box. */
static inline double lc_hmax(const lc_proof *p, size_t t)
{
    double a = p->hl[t] < 0 ? -p->hl[t] : p->hl[t];
    double b = p->hu[t] < 0 ? -p->hu[t] : p->hu[t];
    return a > b ? a : b;
}

/* Points of neuron f on [l, u] (l <= u). */
void lc_pwl_points(const lc_pwl *f, double l, double u, lc_pts *pts);
/* The smallest c such that a z + c >= f(z) on all points (upper = 1), or the
 * largest c with a z + c <= f(z) (upper = 0), widened by its own rounding
 * error: the line is then a valid bound of f on [z[0], z[n-1]]. */
double lc_line_offset(const lc_pts *pts, double a, int upper);

/* bounds_interval.c. The activation of neuron i of hidden node k of g. */
void lc_pwl_of(const lc_graph *g, int k, int i, lc_pwl *f);
/* Interval bounds zl/zu and the float32 error bound ez of every neuron of
 * node k, from hl/hu/eh of its producers. */
void lc_bounds_interval(lc_proof *p, const lc_graph *g, int k);
/* Once the z bounds of neuron t are final: its relaxation rlo/rup and its
 * h bounds hl/hu (lc_bounds_relax), then the bound eh on its float32 h
 * error (lc_bounds_h_error). */
void lc_bounds_relax(lc_proof *p, size_t t);
void lc_bounds_h_error(lc_proof *p, size_t t);

/* Tightens zl/zu of the rows `rows` (nr neurons of hidden node k) by
 * back-substituting linear relaxations of all earlier nodes down to the
 * input box. Needs rlo/rup, hl/hu, eh of nodes < k. LC_ERR_NOMEM. */
lc_status lc_bounds_symbolic(lc_proof *p, const lc_graph *g, int k, const int *rows, int nr,
                             lc_error *err);
/* Tightens zl/zu of `rows` of node k with LP relaxations (GLPK) until the
 * monotonic clock passes `deadline` (seconds). Updates the lp_* counters;
 * the caller re-derives verdicts. LC_ERR_NOMEM. */
lc_status lc_bounds_lp(lc_proof *p, const lc_graph *g, int k, const int *rows, int nr,
                       double deadline, lc_error *err);
/* Monotonic clock in seconds. */
double lc_bounds_now(void);

#endif
