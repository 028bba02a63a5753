/* bounds_lp.c - LP tightening with GLPK. For node k the LP holds the input
 * box, and for every earlier hidden node its pre-activations z (defined by
 * equalities from their producers) and activations h, tied by the exact
 * linear form for a neuron in one piece and by the convex hull of the
 * activation's graph over [l, u] otherwise (the triangle for ReLU). Each
 * undecided neuron of node k is minimised and maximised over it.
 *
 * The solver's objective value is not trusted: from its row duals pi (any pi
 * will do) the rigorous Lagrangian bound
 *     min c.y >= sum_r min(pi_r r, r in [L_r, U_r])
 *              + sum_c min((c - A^T pi)_c y_c, y_c in [l_c, u_c])
 * is recomputed with its rounding error, so an inaccurate LP solution can
 * only weaken a bound, never make it wrong (docs/proofs.md). */
#include "prove/bounds.h"

#include <glpk.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct lp_model {
    glp_prob *lp;
    int n_rows, n_cols, nnz, cap;
    int *ia, *ja;       /* 1-based triplets, as glp_load_matrix takes them */
    double *ar;
    int *rtype;         /* GLP_FX, GLP_LO, GLP_UP per row (1-based) */
    double *rb;         /* the row's bound (FX: both) */
    double *cl, *cu;    /* column bounds (1-based) */
    int *col_nnz;       /* entries per column */
    int *hcol;          /* (n_nodes) first column of node j's h (x for j = 0) */
    int *zcol;          /* (n_nodes) first column of node j's z */
    double *pi, *d, *ad, *obj;
} lp_model;

static void lp_free(lp_model *m)
{
    if (m->lp) glp_delete_prob(m->lp);
    free(m->ia);
    free(m->ja);
    free(m->ar);
    free(m->rtype);
    free(m->rb);
    free(m->cl);
    free(m->col_nnz);
    free(m->hcol);
    free(m->pi);
}

static void add_entry(lp_model *m, int col, double v)
{
    if (v == 0) return;
    m->nnz++;
    m->ia[m->nnz] = m->n_rows;
    m->ja[m->nnz] = col;
    m->ar[m->nnz] = v;
    m->col_nnz[col]++;
}

static void new_row(lp_model *m, int type, double b)
{
    m->n_rows++;
    m->rtype[m->n_rows] = type;
    m->rb[m->n_rows] = b;
}

/* Rows "h - a z (>=|<=|=) c" for neuron t: the exact form in one piece, else
 * the edges of the lower and upper convex hull of f's points on [l, u]. */
static void add_activation_rows(lp_model *m, const lc_proof *p, size_t t, int zc, int hc)
{
    lc_pts pts;
    lc_pwl_points(&p->pwl[t], p->zl[t], p->zu[t], &pts);
    if (pts.n == 2) {
        new_row(m, GLP_FX, p->rlo[t].c);
        add_entry(m, hc, 1);
        add_entry(m, zc, -p->rlo[t].a);
        return;
    }
    double span = pts.z[pts.n - 1] - pts.z[0];
    for (int upper = 0; upper <= 1; upper++) {
        int st[4], ns = 0;
        for (int q = 0; q < pts.n; q++) {
            while (ns >= 2) {
                int o = st[ns - 2], a = st[ns - 1];
                double cr = (pts.z[a] - pts.z[o]) * (pts.f[q] - pts.f[o]) -
                            (pts.f[a] - pts.f[o]) * (pts.z[q] - pts.z[o]);
                if (upper ? cr >= 0 : cr <= 0) ns--;
                else break;
            }
            st[ns++] = q;
        }
        for (int q = 0; q + 1 < ns; q++) {
            double dz = pts.z[st[q + 1]] - pts.z[st[q]];
            if (!(dz > 1e-9 * span)) continue; /* a near-vertical edge: skipping is sound */
            double a = (pts.f[st[q + 1]] - pts.f[st[q]]) / dz;
            if (!isfinite(a)) continue;
            new_row(m, upper ? GLP_UP : GLP_LO, lc_line_offset(&pts, a, upper));
            add_entry(m, hc, 1);
            add_entry(m, zc, -a);
        }
    }
}

static lc_status lp_build(lp_model *m, const lc_proof *p, const lc_graph *g, int k,
                          lc_error *err)
{
    memset(m, 0, sizeof *m);
    int n_nodes = p->n_nodes;
    m->hcol = malloc(2 * (size_t)n_nodes * sizeof(int));
    if (!m->hcol) return lc_fail(err, LC_ERR_NOMEM, "LP of node %d: out of memory", k);
    m->zcol = m->hcol + n_nodes;
    /* columns: x, then z_j and h_j of every hidden node j < k */
    int cols = p->width[0];
    m->hcol[0] = 1;
    size_t nnz = 0, rows = 0;
    for (int j = 1; j < k; j++) {
        m->zcol[j] = cols + 1;
        m->hcol[j] = cols + 1 + p->width[j];
        cols += 2 * p->width[j];
        size_t fan = 1;
        for (int e = 0; e < g->nodes[j].n_in; e++) fan += (size_t)p->width[g->nodes[j].in[e].src];
        nnz += (size_t)p->width[j] * (fan + 8);
        rows += (size_t)p->width[j] * 5;
    }
    if (nnz >= (size_t)INT_MAX / 2 || rows >= (size_t)INT_MAX / 2)
        return lc_fail(err, LC_ERR_NOMEM, "LP of node %d: too large for GLPK", k);
    m->n_cols = cols;
    m->ia = malloc((nnz + 1) * sizeof(int));
    m->ja = malloc((nnz + 1) * sizeof(int));
    m->ar = malloc((nnz + 1) * sizeof(double));
    m->rtype = malloc((rows + 1) * sizeof(int));
    m->rb = malloc((rows + 1) * sizeof(double));
    m->cl = malloc(2 * ((size_t)cols + 1) * sizeof(double));
    m->col_nnz = calloc((size_t)cols + 1, sizeof(int));
    m->pi = malloc((rows + 3 * (size_t)cols + 4) * sizeof(double));
    if (!m->ia || !m->ja || !m->ar || !m->rtype || !m->rb || !m->cl || !m->col_nnz || !m->pi)
        return lc_fail(err, LC_ERR_NOMEM, "LP of node %d: out of memory", k);
    m->cu = m->cl + cols + 1;
    m->d = m->pi + rows + 1;
    m->ad = m->d + cols + 1;
    m->obj = m->ad + cols + 1;
    for (int t = 0; t < p->width[0]; t++) {
        m->cl[1 + t] = p->hl[t];
        m->cu[1 + t] = p->hu[t];
    }
    for (int j = 1; j < k; j++) {
        const struct lc_node *nd = &g->nodes[j];
        for (int t = 0; t < p->width[j]; t++) {
            size_t gt = p->off[j] + (size_t)t;
            int zc = m->zcol[j] + t, hc = m->hcol[j] + t;
            m->cl[zc] = p->zl[gt];
            m->cu[zc] = p->zu[gt];
            m->cl[hc] = p->hl[gt];
            m->cu[hc] = p->hu[gt];
            /* z_t - sum W h = b_t */
            new_row(m, GLP_FX, nd->bias[t]);
            add_entry(m, zc, 1);
            for (int e = 0; e < nd->n_in; e++) {
                int q = nd->in[e].src, nq = p->width[q];
                const double *w = p->wd[lc_edge_index(g, j, e)] + (size_t)t * nq;
                for (int s = 0; s < nq; s++) add_entry(m, m->hcol[q] + s, -w[s]);
            }
            add_activation_rows(m, p, gt, zc, hc);
        }
    }
    glp_prob *lp = m->lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    if (m->n_rows > 0) glp_add_rows(lp, m->n_rows);
    glp_add_cols(lp, m->n_cols);
    for (int r = 1; r <= m->n_rows; r++)
        glp_set_row_bnds(lp, r, m->rtype[r], m->rb[r], m->rb[r]);
    for (int c = 1; c <= m->n_cols; c++)
        glp_set_col_bnds(lp, c, m->cl[c] < m->cu[c] ? GLP_DB : GLP_FX, m->cl[c], m->cu[c]);
    glp_load_matrix(lp, m->nnz, m->ia, m->ja, m->ar);
    glp_scale_prob(lp, GLP_SF_AUTO);
    return LC_OK;
}

/* Solves min obj.y and returns the rigorous lower bound in *bound; false
 * when the solver did not reach optimality (no bound then). */
static bool lp_min(lp_model *m, double tm_s, double *bound)
{
    for (int c = 1; c <= m->n_cols; c++) glp_set_obj_coef(m->lp, c, m->obj[c]);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_OFF;
    double ms = tm_s * 1000;
    parm.tm_lim = ms >= INT_MAX ? INT_MAX : ms < 1 ? 1 : (int)ms;
    if (glp_simplex(m->lp, &parm) != 0 || glp_get_status(m->lp) != GLP_OPT) return false;
    for (int r = 1; r <= m->n_rows; r++) {
        double pi = glp_get_row_dual(m->lp, r);
        if (!isfinite(pi)) pi = 0;
        /* a one-sided row admits only the sign that its bound can price */
        if (m->rtype[r] == GLP_LO && pi < 0) pi = 0;
        if (m->rtype[r] == GLP_UP && pi > 0) pi = 0;
        m->pi[r] = pi;
    }
    int max_deg = 0;
    for (int c = 1; c <= m->n_cols; c++) {
        m->d[c] = m->obj[c];
        m->ad[c] = fabs(m->obj[c]);
        if (m->col_nnz[c] > max_deg) max_deg = m->col_nnz[c];
    }
    for (int q = 1; q <= m->nnz; q++) {
        double v = m->ar[q] * m->pi[m->ia[q]];
        m->d[m->ja[q]] -= v;
        m->ad[m->ja[q]] += fabs(v);
    }
    double sum = 0, mag = 0, err = 0, gd = lc_gamma64((double)max_deg + 2);
    for (int r = 1; r <= m->n_rows; r++) {
        double v = m->pi[r] * m->rb[r];
        sum += v;
        mag += fabs(v);
    }
    for (int c = 1; c <= m->n_cols; c++) {
        double v = m->d[c] >= 0 ? m->d[c] * m->cl[c] : m->d[c] * m->cu[c];
        sum += v;
        mag += fabs(v);
        /* d_c is off by at most gd * ad_c, which moves its term by that
         * times max |y_c| */
        err += gd * m->ad[c] * fmax(fabs(m->cl[c]), fabs(m->cu[c]));
    }
    err += lc_gamma64((double)m->n_rows + m->n_cols + 2) * mag;
    double b = sum - 2 * err - DBL_MIN * (m->n_rows + m->n_cols + 2);
    if (!isfinite(b)) return false;
    *bound = b;
    return true;
}

lc_status lc_bounds_lp(lc_proof *p, const lc_graph *g, int k, const int *rows, int nr,
                       double deadline, lc_error *err)
{
    if (lc_bounds_now() >= deadline) {
        p->lp_skipped += nr;
        return LC_OK;
    }
    /* GLPK's scaler reports on the terminal whatever msg_lev says: silence
     * it for this call and restore the caller's setting afterwards */
    int term = glp_term_out(GLP_OFF);
    lp_model m;
    lc_status st = lp_build(&m, p, g, k, err);
    if (st) {
        lp_free(&m);
        glp_term_out(term);
        return st;
    }
    const struct lc_node *nd = &g->nodes[k];
    for (int c = 0; c <= m.n_cols; c++) m.obj[c] = 0;
    for (int r = 0; r < nr; r++) {
        double left = deadline - lc_bounds_now();
        if (left <= 0) {
            p->lp_skipped += nr - r;
            break;
        }
        int i = rows[r];
        size_t t = p->off[k] + (size_t)i;
        double b = nd->bias[i];
        for (int sign = 1; sign >= -1; sign -= 2) {
            for (int e = 0; e < nd->n_in; e++) {
                int q = nd->in[e].src, nq = p->width[q];
                const double *w = p->wd[lc_edge_index(g, k, e)] + (size_t)i * nq;
                for (int s = 0; s < nq; s++) m.obj[m.hcol[q] + s] = sign * w[s];
            }
            double v;
            left = deadline - lc_bounds_now();
            if (left <= 0 || !lp_min(&m, left, &v)) {
                p->lp_failed++;
                continue;
            }
            p->lp_solved++;
            /* z = b + w.h: sign = 1 gives a lower bound b + v, sign = -1 an
             * upper bound b - v; the final sum rounds once more */
            double z = sign > 0 ? b + v : b - v;
            double widen = 2 * LC_U64 * (fabs(z) + fabs(b) + fabs(v)) + DBL_MIN;
            if (sign > 0 && z - widen > p->zl[t]) p->zl[t] = z - widen;
            if (sign < 0 && z + widen < p->zu[t]) p->zu[t] = z + widen;
        }
    }
    lp_free(&m);
    glp_term_out(term);
    return LC_OK;
}
