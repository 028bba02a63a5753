/* bounds_sym.c - symbolic bounds: linear relaxations back-substituted from
 * a node down to the input box (DeepPoly / CROWN style), skip edges
 * included. For each target neuron the lower (L) and upper (U) bound are
 * kept as coefficient rows over the activations h_j of earlier nodes:
 *
 *     z_k >= sum_j L_j h_j + cL        z_k <= sum_j U_j h_j + cU
 *
 * Node j (from k-1 down to 1) is replaced by its relaxation h >= a z + c or
 * h <= a z + c (chosen by the sign of each coefficient), then z_j by its
 * affine definition, which adds to the rows of j's producers (one DGEMM per
 * edge). At node 0 the rows are concretized over the box. Every rounding of
 * a newly computed quantity is bounded and accumulated in eL/eU; rounding of
 * coefficients already present is harmless, since the relaxations hold for
 * any coefficient values (docs/proofs.md). */
#include "prove/bounds.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct sym_state {
    int k, nr;
    double **L, **U;     /* (k) rows over node j's activations, (nr, n_j) or NULL */
    double *cL, *cU;     /* (nr) constants */
    double *eL, *eU;     /* (nr) accumulated rounding bounds */
    double *v;           /* (max width) scratch */
} sym_state;

static void sym_free(sym_state *s)
{
    if (s->L)
        for (int j = 0; j < s->k; j++) {
            free(s->L[j]);
            free(s->U[j]);
        }
    free(s->L);
    free(s->U);
    free(s->cL);
    free(s->v);
}

/* Makes sure the rows over node j exist (zero when new); false on NOMEM. */
static bool sym_rows(sym_state *s, int j, int nj, bool *fresh)
{
    *fresh = false;
    if (s->L[j]) return true;
    s->L[j] = calloc((size_t)s->nr * (size_t)nj, sizeof(double));
    s->U[j] = calloc((size_t)s->nr * (size_t)nj, sizeof(double));
    *fresh = true;
    return s->L[j] && s->U[j];
}

/* Replaces the rows over node j's activations by rows over its
 * pre-activations, by the relaxation of every neuron. `upper` selects the
 * side: a positive coefficient of the upper bound takes the upper line. */
static void relax(const lc_proof *p, int j, int nj, double *row, double *c, double *e,
                  bool upper)
{
    size_t o = p->off[j];
    double absc = 0;
    for (int t = 0; t < nj; t++) {
        double lam = row[t];
        if (lam == 0) continue;
        const lc_line *ln = (lam >= 0) == upper ? &p->rup[o + (size_t)t] : &p->rlo[o + (size_t)t];
        double gv = lam * ln->a, lc = lam * ln->c;
        *c += lc;
        absc += fabs(lc);
        /* lam*a rounds: its error times |z| <= max(|zl|, |zu|) */
        double mz = fmax(fabs(p->zl[o + (size_t)t]), fabs(p->zu[o + (size_t)t]));
        *e += 2 * LC_U64 * fabs(gv) * mz;
        row[t] = gv;
    }
    *e += lc_gamma64((double)nj + 1) * (absc + fabs(*c));
}

/* Adds the rounding bound of row . x for |x| <= xm (a bounded dot product). */
static double abs_dot(const double *row, const double *xm, int n)
{
    double s = 0;
    for (int t = 0; t < n; t++) s += fabs(row[t]) * xm[t];
    return s;
}

lc_status lc_bounds_symbolic(lc_proof *p, const lc_graph *g, int k, const int *rows, int nr,
                             lc_error *err)
{
    sym_state s = {.k = k, .nr = nr};
    int max_w = 1;
    for (int j = 0; j < k; j++) max_w = p->width[j] > max_w ? p->width[j] : max_w;
    s.L = calloc((size_t)k, sizeof *s.L);
    s.U = calloc((size_t)k, sizeof *s.U);
    s.cL = malloc(4 * (size_t)nr * sizeof(double));
    s.v = malloc(2 * (size_t)max_w * sizeof(double));
    if (!s.L || !s.U || !s.cL || !s.v) goto nomem;
    s.cU = s.cL + nr;
    s.eL = s.cL + 2 * nr;
    s.eU = s.cL + 3 * nr;
    double *mh = s.v + max_w; /* max |h| of the producer at hand */
    const struct lc_node *nd = &g->nodes[k];
    for (int r = 0; r < nr; r++) {
        s.cL[r] = s.cU[r] = nd->bias[rows[r]];
        s.eL[r] = s.eU[r] = 0;
    }
    bool fresh;
    for (int e = 0; e < nd->n_in; e++) {
        int j = nd->in[e].src, nj = p->width[j];
        if (!sym_rows(&s, j, nj, &fresh)) goto nomem;
        const double *w = p->wd[lc_edge_index(g, k, e)];
        for (int r = 0; r < nr; r++) {
            memcpy(s.L[j] + (size_t)r * nj, w + (size_t)rows[r] * nj, (size_t)nj * sizeof(double));
            memcpy(s.U[j] + (size_t)r * nj, w + (size_t)rows[r] * nj, (size_t)nj * sizeof(double));
        }
    }
    for (int j = k - 1; j >= 1; j--) {
        if (!s.L[j]) continue; /* no path from j to k */
        const struct lc_node *nj_node = &g->nodes[j];
        int nj = p->width[j];
        double gj = lc_gamma64((double)nj + 1);
        for (int r = 0; r < nr; r++) {
            double *rl = s.L[j] + (size_t)r * nj, *ru = s.U[j] + (size_t)r * nj;
            relax(p, j, nj, rl, &s.cL[r], &s.eL[r], false);
            relax(p, j, nj, ru, &s.cU[r], &s.eU[r], true);
            /* the bias of node j */
            double bl = 0, bu = 0, al = 0, au = 0;
            for (int t = 0; t < nj; t++) {
                double b = nj_node->bias[t];
                bl += rl[t] * b;
                bu += ru[t] * b;
                al += fabs(rl[t] * b);
                au += fabs(ru[t] * b);
            }
            s.cL[r] += bl;
            s.cU[r] += bu;
            s.eL[r] += gj * (al + fabs(s.cL[r]));
            s.eU[r] += gj * (au + fabs(s.cU[r]));
        }
        for (int e = 0; e < nj_node->n_in; e++) {
            int q = nj_node->in[e].src, nq = p->width[q];
            const double *w = p->wd[lc_edge_index(g, j, e)];
            for (int t = 0; t < nq; t++) mh[t] = lc_hmax(p, p->off[q] + (size_t)t);
            for (int t = 0; t < nj; t++) s.v[t] = abs_dot(w + (size_t)t * nq, mh, nq);
            if (!sym_rows(&s, q, nq, &fresh)) goto nomem;
            for (int r = 0; r < nr; r++) {
                /* new entries: products of nj terms added to the old entry */
                double el = abs_dot(s.L[j] + (size_t)r * nj, s.v, nj);
                double eu = abs_dot(s.U[j] + (size_t)r * nj, s.v, nj);
                if (!fresh) {
                    el += abs_dot(s.L[q] + (size_t)r * nq, mh, nq);
                    eu += abs_dot(s.U[q] + (size_t)r * nq, mh, nq);
                }
                s.eL[r] += gj * el;
                s.eU[r] += gj * eu;
            }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, nq, nj, 1.0, s.L[j], nj,
                        w, nq, 1.0, s.L[q], nq);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, nq, nj, 1.0, s.U[j], nj,
                        w, nq, 1.0, s.U[q], nq);
        }
        free(s.L[j]);
        free(s.U[j]);
        s.L[j] = s.U[j] = NULL;
    }
    /* concretize over the box: each coefficient takes the end that makes
     * its term smallest (lower) or largest (upper) */
    int n0 = p->width[0];
    double g0 = lc_gamma64((double)n0 + 1);
    size_t ok = p->off[k];
    for (int r = 0; r < nr; r++) {
        double lo = s.cL[r], hi = s.cU[r], al = fabs(lo), au = fabs(hi);
        if (s.L[0]) {
            const double *rl = s.L[0] + (size_t)r * n0, *ru = s.U[0] + (size_t)r * n0;
            for (int t = 0; t < n0; t++) {
                double xl = p->hl[t], xh = p->hu[t];
                double vl = rl[t] >= 0 ? rl[t] * xl : rl[t] * xh;
                double vu = ru[t] >= 0 ? ru[t] * xh : ru[t] * xl;
                lo += vl;
                hi += vu;
                al += fabs(vl);
                au += fabs(vu);
            }
        }
        /* doubled: covers second-order terms and the rounding of the error
         * sums themselves */
        double wl = 2 * (s.eL[r] + g0 * al) + (n0 + 2) * DBL_MIN;
        double wu = 2 * (s.eU[r] + g0 * au) + (n0 + 2) * DBL_MIN;
        size_t t = ok + (size_t)rows[r];
        double nl = lo - wl, nu = hi + wu;
        if (nl > p->zl[t]) p->zl[t] = nl;
        if (nu < p->zu[t]) p->zu[t] = nu;
    }
    sym_free(&s);
    return LC_OK;
nomem:
    sym_free(&s);
    return lc_fail(err, LC_ERR_NOMEM, "symbolic bounds of node %d: out of memory (%d rows)", k,
                   nr);
}
