/* bounds.c - provable linearity: the proof object, interval bounds, the
 * float32 error margins, relaxations and the driver lc_prove() that runs
 * interval, symbolic (bounds_sym.c) and LP (bounds_lp.c) bounds node by node.
 * docs/proofs.md gives the soundness argument that the comments refer to. */
#include "prove/bounds.h"
#include "compress/compress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double lc_bounds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------- piecewise-linear f */

static void pwl_of(const lc_graph *g, int k, int i, lc_pwl *f)
{
    const struct lc_node *nd = &g->nodes[k];
    memset(f, 0, sizeof *f);
    switch (nd->act.kind) {
    case LC_ACT_RELU:
    case LC_ACT_LEAKY_RELU:
    case LC_ACT_PRELU:
        f->n = 2;
        f->kink[0] = 0;
        f->s[0] = nd->act.kind == LC_ACT_RELU ? 0.0
                  : nd->act.kind == LC_ACT_LEAKY_RELU ? (double)nd->act.alpha
                                                       : (double)nd->slope[i];
        f->s[1] = 1;
        break;
    case LC_ACT_CLIP:
        f->n = 3;
        f->kink[0] = nd->act.lo;
        f->kink[1] = nd->act.hi;
        f->c[0] = nd->act.lo;
        f->s[1] = 1;
        f->c[2] = nd->act.hi;
        break;
    default: /* identity (output activations never reach here) */
        f->n = 1;
        f->s[0] = 1;
        break;
    }
}

static double piece_lo(const lc_pwl *f, int p) { return p == 0 ? -INFINITY : f->kink[p - 1]; }
static double piece_hi(const lc_pwl *f, int p) { return p == f->n - 1 ? INFINITY : f->kink[p]; }

/* f(z) in double, from the piece that holds z (pieces agree at kinks). */
static double pwl_eval(const lc_pwl *f, double z, double *err)
{
    int p = 0;
    while (p < f->n - 1 && z > f->kink[p]) p++;
    double sz = f->s[p] * z, v = sz + f->c[p];
    /* one product and one sum: each rounds by at most u of its result */
    *err = 2 * LC_U64 * (fabs(sz) + fabs(v)) + DBL_MIN;
    return v;
}

void lc_pwl_points(const lc_pwl *f, double l, double u, lc_pts *pts)
{
    double err;
    pts->n = 0;
    pts->z[pts->n++] = l;
    for (int p = 0; p < f->n - 1; p++)
        if (f->kink[p] > l && f->kink[p] < u) pts->z[pts->n++] = f->kink[p];
    pts->z[pts->n++] = u;
    for (int q = 0; q < pts->n; q++) {
        pts->f[q] = pwl_eval(f, pts->z[q], &err);
        pts->e[q] = err;
    }
}

double lc_line_offset(const lc_pts *pts, double a, int upper)
{
    /* The line a z + c bounds f on every point, and f is linear between
     * consecutive points, so it bounds f on [z0, zn]. Each candidate
     * f - a z is computed with one product and one difference, whose
     * rounding (plus f's own) is added in the safe direction. */
    double best = 0;
    for (int q = 0; q < pts->n; q++) {
        double az = a * pts->z[q], d = pts->f[q] - az;
        double slack = pts->e[q] + 2 * LC_U64 * (fabs(az) + fabs(d)) + DBL_MIN;
        double v = upper ? d + slack : d - slack;
        if (q == 0 || (upper ? v > best : v < best)) best = v;
    }
    /* the +/- slack itself rounds: widen once more */
    return upper ? best + 2 * LC_U64 * fabs(best) + DBL_MIN
                 : best - 2 * LC_U64 * fabs(best) - DBL_MIN;
}

/* Relaxation and h bounds of neuron t once its z bounds are final. */
static void finalize_neuron(lc_proof *p, size_t t)
{
    const lc_pwl *f = &p->pwl[t];
    double l = p->zl[t], u = p->zu[t];
    lc_pts pts;
    lc_pwl_points(f, l, u, &pts);
    double hl = INFINITY, hu = -INFINITY;
    for (int q = 0; q < pts.n; q++) {
        hl = fmin(hl, pts.f[q] - pts.e[q]);
        hu = fmax(hu, pts.f[q] + pts.e[q]);
    }
    p->hl[t] = hl;
    p->hu[t] = hu;
    if (pts.n == 2) {
        /* one piece: the exact linear form, h = s z + c */
        int pc = 0;
        while (pc < f->n - 1 && l >= f->kink[pc] && !(u <= f->kink[pc])) pc++;
        p->rlo[t] = p->rup[t] = (lc_line){f->s[pc], f->c[pc]};
        return;
    }
    double alo, aup;
    if (pts.n == 3) {
        int p0 = 0;
        while (p0 < f->n - 1 && pts.z[1] != f->kink[p0]) p0++;
        double s0 = f->s[p0], s1 = f->s[p0 + 1];
        double tangent = (u - pts.z[1]) > (pts.z[1] - l) ? s1 : s0;
        double chord = (pts.f[2] - pts.f[0]) / (u - l);
        if (s0 <= s1) { /* convex: chord above, a piece's slope below */
            alo = tangent;
            aup = chord;
        } else {
            alo = chord;
            aup = tangent;
        }
    } else { /* clip over both kinks: the hull's two inner edges */
        alo = (pts.f[3] - pts.f[1]) / (pts.z[3] - pts.z[1]);
        aup = (pts.f[2] - pts.f[0]) / (pts.z[2] - pts.z[0]);
    }
    if (!isfinite(alo)) alo = 0;
    if (!isfinite(aup)) aup = 0;
    p->rlo[t] = (lc_line){alo, lc_line_offset(&pts, alo, 0)};
    p->rup[t] = (lc_line){aup, lc_line_offset(&pts, aup, 1)};
}

/* Bound on |h_float32 - h| of neuron t from the bound ez on z's error: the
 * activation is max|s|-Lipschitz, and s z rounds for a slope other than 0/1. */
static void finalize_error(lc_proof *p, size_t t)
{
    const lc_pwl *f = &p->pwl[t];
    double lip = 0;
    bool rounds = false;
    for (int q = 0; q < f->n; q++) {
        lip = fmax(lip, fabs(f->s[q]));
        if (f->s[q] != 0 && f->s[q] != 1) rounds = true;
    }
    double zmax = fmax(fabs(p->zl[t]), fabs(p->zu[t])) + p->ez[t];
    p->eh[t] = lip * p->ez[t] * (1 + 4 * LC_U64) + (rounds ? LC_U32 * lip * zmax : 0);
}

/* ------------------------------------------------------------- intervals */

/* Interval bounds and float32 error bound of every neuron of node k. */
static void interval_node(lc_proof *p, const lc_graph *g, int k)
{
    const struct lc_node *nd = &g->nodes[k];
    double n_terms = 1;
    for (int e = 0; e < nd->n_in; e++) n_terms += g->nodes[nd->in[e].src].width;
    double g64 = lc_gamma64(n_terms + 1), g32 = lc_gamma32(n_terms + 1);
    for (int i = 0; i < nd->width; i++) {
        double b = nd->bias[i], lo = b, hi = b, mag = fabs(b), prop = 0, magf = fabs(b);
        /* prop: sum of (w eh)^2 over the inputs */
        for (int e = 0; e < nd->n_in; e++) {
            int j = nd->in[e].src, nj = g->nodes[j].width;
            const double *w = p->wd[lc_edge_index(g, k, e)] + (size_t)i * nj;
            size_t o = p->off[j];
            for (int q = 0; q < nj; q++) {
                double wq = w[q], aw = fabs(wq);
                if (wq >= 0) {
                    lo += wq * p->hl[o + q];
                    hi += wq * p->hu[o + q];
                } else {
                    lo += wq * p->hu[o + q];
                    hi += wq * p->hl[o + q];
                }
                double hm = lc_hmax(p, o + q);
                mag += aw * hm;
                prop += wq * wq * p->eh[o + q] * p->eh[o + q];
                magf += aw * (hm + p->eh[o + q]);
            }
        }
        /* Dot products of n_terms terms: the result is within gamma_n of
         * the sum of |terms| (<= mag) of the exact value; doubled to cover
         * the rounding of mag itself. */
        double widen = 2 * g64 * mag + (n_terms + 2) * DBL_MIN;
        size_t t = p->off[k] + (size_t)i;
        p->zl[t] = lo - widen;
        p->zu[t] = hi + widen;
        /* float32 forward (docs/proofs.md, "the float32 margin"): this
         * node's own rounding of a sum of n_terms float products is bounded
         * for the worst case in any order; the errors inherited from the
         * producers are combined as a root-sum-square with factor 3, the
         * probabilistic model of independent rounding errors, because their
         * worst case (every error aligned with its weight's sign) grows with
         * the product of the weight norms and would forbid every proof a
         * few layers deep. */
        p->ez[t] = (3 * sqrt(prop) + g32 * magf) * (1 + 1e-6) + (n_terms + 1) * FLT_MIN;
    }
}

/* ------------------------------------------------------------- verdicts */

/* Proves neuron t if its bounds, widened by the float32 margin, fit one
 * closed piece (the identity piece preferred); returns 1 if newly proven. */
static int decide(lc_proof *p, size_t t, lc_prove_method by)
{
    if (p->piece[t] != LC_KEEP) return 0;
    const lc_pwl *f = &p->pwl[t];
    double l = p->zl[t] - p->ez[t], u = p->zu[t] + p->ez[t];
    int id = f->n == 1 ? 0 : 1;
    int order[3] = {id, id == 0 ? 1 : 0, 2};
    for (int q = 0; q < f->n; q++) {
        int pc = order[q];
        if (pc >= f->n) continue;
        if (l >= piece_lo(f, pc) && u <= piece_hi(f, pc)) {
            p->piece[t] = (signed char)pc;
            p->by[t] = (signed char)by;
            return 1;
        }
    }
    return 0;
}

/* Undecided neurons of node k into rows; returns their count. */
static int undecided(const lc_proof *p, int k, int *rows)
{
    int nr = 0;
    for (int i = 0; i < p->width[k]; i++)
        if (p->piece[p->off[k] + (size_t)i] == LC_KEEP) rows[nr++] = i;
    return nr;
}

/* ------------------------------------------------------------ the object */

void lc_proof_free(lc_proof *p)
{
    if (!p) return;
    free(p->wblock);
    free(p->wd);
    free(p->width);
    free(p->off);
    free(p->pwl);
    free(p->zl);
    free(p->rlo);
    free(p->piece);
    free(p);
}

static lc_status proof_alloc(const lc_graph *g, lc_proof **out, lc_error *err)
{
    int n = g->n_nodes;
    lc_proof *p = calloc(1, sizeof *p);
    if (!p) return lc_fail(err, LC_ERR_NOMEM, "out of memory for a proof");
    p->n_nodes = n;
    p->width = calloc((size_t)n, sizeof *p->width);
    p->off = calloc((size_t)n + 1, sizeof *p->off);
    size_t n_edges = 0;
    for (int k = 1; k < n; k++) n_edges += (size_t)g->nodes[k].n_in;
    p->wd = calloc(n_edges ? n_edges : 1, sizeof *p->wd);
    if (!p->width || !p->off || !p->wd) goto nomem;
    for (int k = 0; k < n; k++) {
        p->width[k] = g->nodes[k].width;
        p->off[k + 1] = p->off[k] + (size_t)g->nodes[k].width;
    }
    size_t nn = p->off[n], nw = 0;
    for (int k = 1; k < n; k++)
        for (int e = 0; e < g->nodes[k].n_in; e++)
            nw += (size_t)g->nodes[k].width * (size_t)g->nodes[g->nodes[k].in[e].src].width;
    p->pwl = calloc(nn, sizeof *p->pwl);
    p->zl = malloc(6 * nn * sizeof *p->zl); /* zl zu hl hu ez eh */
    p->rlo = calloc(2 * nn, sizeof *p->rlo);
    p->piece = malloc(2 * nn);
    p->wblock = malloc((nw ? nw : 1) * sizeof(double));
    if (!p->pwl || !p->zl || !p->rlo || !p->piece || !p->wblock) goto nomem;
    p->zu = p->zl + nn;
    p->hl = p->zl + 2 * nn;
    p->hu = p->zl + 3 * nn;
    p->ez = p->zl + 4 * nn;
    p->eh = p->zl + 5 * nn;
    p->rup = p->rlo + nn;
    p->by = p->piece + nn;
    memset(p->piece, LC_KEEP, nn);
    memset(p->by, LC_PROVE_NONE, nn);
    double *w = p->wblock;
    for (int k = 1; k < n; k++)
        for (int e = 0; e < g->nodes[k].n_in; e++) {
            size_t cnt = (size_t)g->nodes[k].width * (size_t)g->nodes[g->nodes[k].in[e].src].width;
            const float *src = g->nodes[k].in[e].w;
            p->wd[lc_edge_index(g, k, e)] = w;
            for (size_t q = 0; q < cnt; q++) w[q] = src[q];
            w += cnt;
        }
    *out = p;
    return LC_OK;
nomem:
    lc_proof_free(p);
    return lc_fail(err, LC_ERR_NOMEM, "out of memory for the bounds of a proof");
}

static lc_status check_inputs(const lc_graph *g, const lc_box *box, lc_prove_method method,
                              double lp_time, lc_error *err)
{
    if (method != LC_PROVE_INTERVAL && method != LC_PROVE_SYMBOLIC && method != LC_PROVE_LP)
        return lc_fail(err, LC_ERR_INVALID, "prove: unknown method %d", (int)method);
    if (!(lp_time >= 0) || !isfinite(lp_time))
        return lc_fail(err, LC_ERR_INVALID, "prove: LP time limit %g s (expected >= 0)", lp_time);
    if (lc_box_width(box) != g->nodes[0].width)
        return lc_fail(err, LC_ERR_SHAPE, "prove: the input box has %d features, the model %d",
                       lc_box_width(box), g->nodes[0].width);
    lc_status st = lc_graph_check_finite(g, err);
    if (st) return st;
    for (int k = 1; k < g->n_nodes - 1; k++) {
        lc_act a = g->nodes[k].act;
        if (a.kind == LC_ACT_CLIP && !(a.lo <= a.hi))
            return lc_fail(err, LC_ERR_UNSUPPORTED,
                           "prove: node %d ('%s') is Clip(%g, %g) with lo > hi", k,
                           g->nodes[k].name, (double)a.lo, (double)a.hi);
    }
    return LC_OK;
}

lc_status lc_prove(const lc_graph *g, const lc_box *box, lc_prove_method method,
                   double lp_time_limit_s, lc_proof **out, lc_error *err)
{
    *out = NULL;
    lc_status st = check_inputs(g, box, method, lp_time_limit_s, err);
    if (st) return st;
    lc_proof *p = NULL;
    if ((st = proof_alloc(g, &p, err))) return st;
    p->method = method;
    int max_w = 1;
    for (int k = 0; k < g->n_nodes; k++) max_w = g->nodes[k].width > max_w ? g->nodes[k].width : max_w;
    int *rows = malloc((size_t)max_w * sizeof *rows);
    if (!rows) {
        lc_proof_free(p);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    }
    for (int j = 0; j < g->nodes[0].width; j++) {
        p->hl[j] = p->zl[j] = lc_box_lo(box, j);
        p->hu[j] = p->zu[j] = lc_box_hi(box, j);
        p->ez[j] = p->eh[j] = 0; /* a float input inside the box is exact */
    }
    double lp_limit = lp_time_limit_s > 0 ? lp_time_limit_s : 10.0;
    double deadline = 0;
    for (int k = 1; k < g->n_nodes - 1 && !st; k++) {
        size_t o = p->off[k];
        for (int i = 0; i < p->width[k]; i++) pwl_of(g, k, i, &p->pwl[o + (size_t)i]);
        double t0 = lc_bounds_now();
        interval_node(p, g, k);
        for (int i = 0; i < p->width[k]; i++) decide(p, o + (size_t)i, LC_PROVE_INTERVAL);
        double t1 = lc_bounds_now();
        p->seconds[LC_PROVE_INTERVAL] += t1 - t0;
        int nr = undecided(p, k, rows);
        if (method >= LC_PROVE_SYMBOLIC && nr > 0) {
            st = lc_bounds_symbolic(p, g, k, rows, nr, err);
            for (int r = 0; r < nr && !st; r++) decide(p, o + (size_t)rows[r], LC_PROVE_SYMBOLIC);
            p->seconds[LC_PROVE_SYMBOLIC] += lc_bounds_now() - t1;
            nr = undecided(p, k, rows);
        }
        if (method == LC_PROVE_LP && nr > 0 && !st) {
            double t2 = lc_bounds_now();
            if (deadline == 0) deadline = t2 + lp_limit;
            st = lc_bounds_lp(p, g, k, rows, nr, deadline, err);
            for (int r = 0; r < nr && !st; r++)
                p->lp_decided += decide(p, o + (size_t)rows[r], LC_PROVE_LP);
            p->seconds[LC_PROVE_LP] += lc_bounds_now() - t2;
        }
        for (int i = 0; i < p->width[k]; i++) {
            finalize_neuron(p, o + (size_t)i);
            finalize_error(p, o + (size_t)i);
        }
    }
    free(rows);
    if (st) {
        lc_proof_free(p);
        return st;
    }
    *out = p;
    return LC_OK;
}

/* ------------------------------------------------------------ accessors */

static bool hidden(const lc_proof *p, int k) { return k >= 1 && k < p->n_nodes - 1; }
static bool in_range(const lc_proof *p, int k, int i)
{
    return hidden(p, k) && i >= 0 && i < p->width[k];
}

int lc_proof_nodes(const lc_proof *p) { return p->n_nodes; }
int lc_proof_width(const lc_proof *p, int k) { return hidden(p, k) ? p->width[k] : 0; }
double lc_proof_lower(const lc_proof *p, int k, int i)
{
    return in_range(p, k, i) ? p->zl[p->off[k] + (size_t)i] : NAN;
}
double lc_proof_upper(const lc_proof *p, int k, int i)
{
    return in_range(p, k, i) ? p->zu[p->off[k] + (size_t)i] : NAN;
}
int lc_proof_piece(const lc_proof *p, int k, int i)
{
    return in_range(p, k, i) ? p->piece[p->off[k] + (size_t)i] : LC_KEEP;
}
lc_prove_method lc_proof_method_of(const lc_proof *p, int k, int i)
{
    return in_range(p, k, i) ? (lc_prove_method)p->by[p->off[k] + (size_t)i] : LC_PROVE_NONE;
}

/* Counts neurons of node k whose proven piece passes `want`. */
enum { COUNT_LINEAR, COUNT_CONSTANT, COUNT_ANY };
static int count(const lc_proof *p, int k, int want, int by)
{
    if (!hidden(p, k)) return 0;
    int c = 0;
    for (int i = 0; i < p->width[k]; i++) {
        size_t t = p->off[k] + (size_t)i;
        int pc = p->piece[t];
        if (pc == LC_KEEP || (by >= 0 && p->by[t] != by)) continue;
        const lc_pwl *f = &p->pwl[t];
        if (want == COUNT_ANY || (want == COUNT_LINEAR && f->s[pc] == 1 && f->c[pc] == 0) ||
            (want == COUNT_CONSTANT && f->s[pc] == 0))
            c++;
    }
    return c;
}

int lc_proof_n_linear(const lc_proof *p, int k) { return count(p, k, COUNT_LINEAR, -1); }
int lc_proof_n_constant(const lc_proof *p, int k) { return count(p, k, COUNT_CONSTANT, -1); }
int lc_proof_n_proven(const lc_proof *p, int k) { return count(p, k, COUNT_ANY, -1); }
int lc_proof_n_by(const lc_proof *p, int k, lc_prove_method m)
{
    return m < 0 || m > LC_PROVE_LP ? 0 : count(p, k, COUNT_ANY, (int)m);
}
double lc_proof_seconds(const lc_proof *p, lc_prove_method m)
{
    return m < 0 || m > LC_PROVE_LP ? 0 : p->seconds[m];
}
int lc_proof_lp_decided(const lc_proof *p) { return p->lp_decided; }
int lc_proof_lp_solved(const lc_proof *p) { return p->lp_solved; }
int lc_proof_lp_failed(const lc_proof *p) { return p->lp_failed; }
int lc_proof_lp_skipped(const lc_proof *p) { return p->lp_skipped; }

const char *lc_prove_method_name(lc_prove_method m)
{
    switch (m) {
    case LC_PROVE_INTERVAL: return "interval";
    case LC_PROVE_SYMBOLIC: return "symbolic";
    case LC_PROVE_LP: return "lp";
    default: return "none";
    }
}

lc_status lc_prove_method_parse(const char *text, lc_prove_method *out, lc_error *err)
{
    for (int m = LC_PROVE_INTERVAL; m <= LC_PROVE_LP; m++)
        if (strcmp(text, lc_prove_method_name((lc_prove_method)m)) == 0) {
            *out = (lc_prove_method)m;
            return LC_OK;
        }
    return lc_fail(err, LC_ERR_INVALID,
                   "proof method '%.64s': expected interval, symbolic or lp", text);
}

lc_status lc_proof_apply(const lc_proof *p, lc_plan *plan, lc_error *err)
{
    bool same = plan->n_nodes == p->n_nodes;
    for (int k = 0; same && k < p->n_nodes; k++) same = plan->width[k] == p->width[k];
    if (!same)
        return lc_fail(err, LC_ERR_SHAPE, "proof: the plan was made for a graph of another shape");
    for (int k = 1; k < p->n_nodes - 1; k++)
        for (int i = 0; i < p->width[k]; i++) {
            int pc = p->piece[p->off[k] + (size_t)i];
            if (pc == LC_KEEP) continue;
            lc_status st = lc_plan_set(plan, k, i, pc, err);
            if (st) return st;
        }
    return LC_OK;
}

int lc_sign_test(const lc_graph *g, int k)
{
    if (k < 1 || k >= g->n_nodes - 1) return -1;
    const struct lc_node *nd = &g->nodes[k];
    int c = 0;
    for (int i = 0; i < nd->width; i++) {
        bool ok = nd->bias[i] >= 0;
        for (int e = 0; ok && e < nd->n_in; e++) {
            int nj = g->nodes[nd->in[e].src].width;
            const float *w = nd->in[e].w + (size_t)i * nj;
            for (int q = 0; ok && q < nj; q++) ok = w[q] >= 0;
        }
        c += ok;
    }
    return c;
}
