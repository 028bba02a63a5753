/* bounds_interval.c - the arithmetic of one neuron and one node for the
 * provers: each activation as a piecewise-linear function, its linear
 * relaxation and h bounds over [l, u], the float32 error bound of h, and
 * interval propagation (with the float32 margin of z) through a node. The
 * proof object and the driver are bounds.c; docs/proofs.md gives the
 * soundness argument that the comments refer to. */
#include "prove/bounds.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------- piecewise-linear f */

void lc_pwl_of(const lc_graph *g, int k, int i, lc_pwl *f)
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
void lc_bounds_relax(lc_proof *p, size_t t)
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
void lc_bounds_h_error(lc_proof *p, size_t t)
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
void lc_bounds_interval(lc_proof *p, const lc_graph *g, int k)
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
