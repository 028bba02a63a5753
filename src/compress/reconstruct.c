/* reconstruct.c - least-squares reconstruction after a lossy fold (DESIGN
 * section 3b, docs/method.md "Reconstruction").
 *
 * A fold at tau < 1 is wrong on the samples where a folded neuron leaves its
 * piece, and the error reaches every consumer. Here the original model and
 * the folded one run side by side over the calibration rows, node by node in
 * graph order. For every node whose inputs the fold made inexact, its
 * incoming edges and bias are refit by least squares, with a ridge towards
 * the weights the fold left, so that its pre-activation on the calibration
 * rows matches the original's, with the
 * folded model's own activations (after the refits of earlier nodes) as
 * inputs, so errors do not accumulate. The structure is never changed: fold.c
 * stays the one transform of structure, this file only writes values.
 *
 * Normal equations: G = X^T X and B = X^T Y over blocks of rows (X: the
 * node's inputs plus a column of ones, Y: the target z), one SSYRK and one
 * SGEMM per block in float, summed across blocks in double so that 10^5 rows
 * lose no precision; then (G + lambda P) W = B + lambda P W0 by Cholesky in
 * double (P: the identity but for the bias). */
#include "compress/compress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Ridge strengths (relative to the mean diagonal of the Gram matrix), from
 * almost none to one that holds the fold's weights; the penalty pulls
 * towards the folded weights, not towards zero (see refit_node), so a large
 * value gives the plain fold with a refit bias, and "no refit" competes as
 * one more candidate. Chosen by the squared error on held-out calibration
 * rows: FOLDS folds of interleaved blocks; one fold held out when a fold has
 * at least as many rows as the fit has unknowns per output (then one fold
 * estimates the error well), else every fold in turn (k-fold
 * cross-validation: few rows, every one of them counts). Without enough
 * rows for folds, alpha is LC_RECON_ALPHA_DEFAULT (compress.h). Measured in
 * docs/method.md. */
static const double alpha_grid[] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100};
enum { N_ALPHA = sizeof alpha_grid / sizeof *alpha_grid, FOLDS = 5 };
#define EXACT_REL 1e-5 /* a fold error below this share of max|z| is rounding */

void lc_recon_opts_default(lc_recon_opts *o)
{
    o->alpha = 0;
    o->max_rows = 0;
    o->full_grid = 0;
}

/* The normal equations of one node: inputs d (with the ones column last),
 * outputs w; g, b over all rows, gk, bk over one fold's rows; w0 the node's
 * weights before the refit (the ridge prior), same layout as a solution. */
struct normal {
    int d, w;
    double *g, *gk, *b, *bk; /* (d, d) symmetric; (d, w) */
    double *w0, *a, *x, *gw; /* (d, w); scratch: a factor (d, d), a solution, (d, w) */
};

static void normal_free(struct normal *ne)
{
    free(ne->g);
    free(ne->gk);
    free(ne->b);
    free(ne->bk);
    free(ne->w0);
    free(ne->a);
    free(ne->x);
    free(ne->gw);
}

static bool normal_init(struct normal *ne, int d, int w)
{
    size_t dd = (size_t)d * d, dw = (size_t)d * (w ? w : 1);
    *ne = (struct normal){d, w, calloc(dd, sizeof(double)), calloc(dd, sizeof(double)),
                          calloc(dw, sizeof(double)), calloc(dw, sizeof(double)),
                          malloc(dw * sizeof(double)), malloc(dd * sizeof(double)),
                          malloc(dw * sizeof(double)), malloc(dw * sizeof(double))};
    if (ne->g && ne->gk && ne->b && ne->bk && ne->w0 && ne->a && ne->x && ne->gw) return true;
    normal_free(ne);
    return false;
}

/* Mirrors the upper triangle of a (d x d) into the lower one. */
static void symmetrize(double *a, int d)
{
    for (int i = 0; i < d; i++)
        for (int j = 0; j < i; j++) a[(size_t)i * d + j] = a[(size_t)j * d + i];
}

/* Solves (G + lambda P) X = B + lambda P W0 into ne->x, with G = g (- gk),
 * B = b (- bk): the rows of g without those of gk. P is the identity but for
 * the bias (last) row, which is not penalised. It is the minimiser of
 * |X W - Y|^2 + lambda |W - W0|^2 (bias aside): ridge towards the folded
 * weights. lambda = alpha x mean diagonal of the features; raised tenfold
 * while the factorisation fails. */
static bool ridge_solve(struct normal *ne, const double *gk, const double *bk, double alpha,
                        double *used)
{
    int d = ne->d, w = ne->w;
    size_t dd = (size_t)d * d, dw = (size_t)d * w;
    double diag = 0;
    for (int i = 0; i < d - 1; i++)
        diag += ne->g[(size_t)i * d + i] - (gk ? gk[(size_t)i * d + i] : 0);
    diag = d > 1 ? diag / (d - 1) : 0;
    double lambda = alpha * (diag > 0 ? diag : 1.0);
    for (int tries = 0; tries < 8; tries++, lambda *= 10) {
        for (size_t i = 0; i < dd; i++) ne->a[i] = ne->g[i] - (gk ? gk[i] : 0);
        for (size_t i = 0; i < dw; i++)
            ne->x[i] = ne->b[i] - (bk ? bk[i] : 0) + (i < dw - w ? lambda * ne->w0[i] : 0);
        for (int i = 0; i < d - 1; i++) ne->a[(size_t)i * d + i] += lambda;
        if (lc_chol_solve(d, w, ne->a, ne->x)) {
            *used = lambda;
            return true;
        }
    }
    return false;
}

/* Squared error on the rows of (g, b), up to the constant sum |y|^2:
 * tr(X^T G X) - 2 tr(X^T B), with g symmetric (both triangles set). */
static double sq_error(struct normal *ne, const double *g, const double *b, const double *x)
{
    int d = ne->d, w = ne->w;
    lc_dgemm(false, false, d, w, d, 1.0, g, d, x, w, 0.0, ne->gw, w);
    double s = 0;
    for (size_t i = 0; i < (size_t)d * w; i++) s += x[i] * (ne->gw[i] - 2 * b[i]);
    return s;
}

/* ------------------------------------------------------ one node's refit */

/* Activations of the nodes still needed, for all rows: h[k] (rows, width). */
struct side {
    const lc_graph *g;
    float **h;
    int *last; /* the last consumer of each node (-1: none) */
    bool *borrowed; /* h[k] belongs to a kept state (lc_recon_state), NULL: none */
    bool keep;      /* keep every h (for a state): release nothing */
};

static void side_free(struct side *s)
{
    if (s->h)
        for (int k = 1; k < s->g->n_nodes; k++)
            if (!s->borrowed || !s->borrowed[k]) free(s->h[k]);
    free(s->h);
    free(s->last);
    free(s->borrowed);
}

static bool side_init(struct side *s, const lc_graph *g, const float *x)
{
    s->g = g;
    s->h = calloc((size_t)g->n_nodes, sizeof *s->h);
    s->last = malloc((size_t)g->n_nodes * sizeof *s->last);
    if (!s->h || !s->last) return false;
    s->h[0] = (float *)x; /* only read, never freed */
    for (int k = 0; k < g->n_nodes; k++) s->last[k] = -1;
    for (int m = 1; m < g->n_nodes; m++)
        for (int e = 0; e < g->nodes[m].n_in; e++) s->last[g->nodes[m].in[e].src] = m;
    return true;
}

/* z of node k over all rows into a new buffer (NULL: out of memory). */
static float *side_z(const struct side *s, int k, size_t n)
{
    const struct lc_node *nd = &s->g->nodes[k];
    float *z = malloc((n ? n : 1) * (size_t)nd->width * sizeof(float));
    if (!z) return NULL;
    for (size_t r = 0; r < n; r++)
        memcpy(z + r * (size_t)nd->width, nd->bias, (size_t)nd->width * sizeof(float));
    for (int e = 0; e < nd->n_in; e++) {
        int j = nd->in[e].src, wj = s->g->nodes[j].width;
        lc_sgemm(false, true, (int)n, nd->width, wj, 1.0f, s->h[j], wj, nd->in[e].w, wj, 1.0f, z,
                 nd->width);
    }
    return z;
}

/* Frees the activations whose last consumer was node k. */
static void side_release(struct side *s, int k)
{
    for (int j = 1; j < k && !s->keep; j++)
        if (s->last[j] <= k && s->h[j]) {
            if (!s->borrowed || !s->borrowed[j]) free(s->h[j]);
            s->h[j] = NULL;
        }
}

/* Rows per block: 1024 for large n, else a tenth of n (two blocks per fold),
 * at least one. */
static size_t block_rows(size_t n)
{
    size_t r = n / (2 * FOLDS);
    return r > 1024 ? 1024 : r < 1 ? 1 : r;
}

/* The rows refit_node fits: node nd of the folded side, target columns cols
 * of z (n x zw), in blocks of br rows; buffers for one block and its sums. */
struct rows {
    const struct side *fs;
    const struct lc_node *nd;
    const float *z;
    const int *cols;
    int zw, d, w;
    size_t n, br, nblocks;
    float *xb, *yb, *gf, *bf;
};

/* Adds X^T X and X^T Y over every block to g and b (unless g is NULL), and
 * over the blocks of fold `hold` (block b is in fold b % FOLDS) to gk and
 * bk (unless gk is NULL), then mirrors them: one SSYRK and one SGEMM per
 * block in float, summed in double. */
static void accumulate(const struct rows *rw, double *g, double *b, int hold, double *gk,
                       double *bk)
{
    int d = rw->d, w = rw->w;
    for (size_t blk = 0; blk < rw->nblocks; blk++) {
        bool in_k = gk && blk % FOLDS == (size_t)hold;
        if (!g && !in_k) continue;
        size_t r0 = blk * rw->br, m = rw->n - r0 < rw->br ? rw->n - r0 : rw->br;
        for (size_t r = 0; r < m; r++) {
            float *xr = rw->xb + r * (size_t)d;
            for (int e = 0; e < rw->nd->n_in; e++) {
                int j = rw->nd->in[e].src, wj = rw->fs->g->nodes[j].width;
                memcpy(xr, rw->fs->h[j] + (r0 + r) * (size_t)wj, (size_t)wj * sizeof(float));
                xr += wj;
            }
            *xr = 1.0f;
            const float *zr = rw->z + (r0 + r) * (size_t)rw->zw;
            for (int i = 0; i < w; i++) rw->yb[r * (size_t)w + i] = zr[rw->cols ? rw->cols[i] : i];
        }
        lc_ssyrk_t(d, (int)m, 1.0f, rw->xb, d, 0.0f, rw->gf, d);
        lc_sgemm(true, false, d, w, (int)m, 1.0f, rw->xb, d, rw->yb, w, 0.0f, rw->bf, w);
        for (int t = 0; t < 2; t++) {
            double *gg = t ? gk : g, *bb = t ? bk : b;
            if (!gg || (t && !in_k)) continue;
            for (int i = 0; i < d; i++)
                for (int j = i; j < d; j++) gg[(size_t)i * d + j] += rw->gf[(size_t)i * d + j];
            for (size_t i = 0; i < (size_t)d * w; i++) bb[i] += rw->bf[i];
        }
    }
    if (g) symmetrize(g, d);
    if (gk) symmetrize(gk, d);
}

/* choose_alpha holds out the last fold only when it has as many rows as unknowns per output. */
static bool one_fold(const struct rows *rw) { return rw->n / FOLDS >= (size_t)rw->d; }

/* Held-out error of grid entry a (N_ALPHA: no refit) on (gk, bk), into err[a]. */
static void fold_error(struct normal *ne, int a, double *err)
{
    double lam;
    if (a == N_ALPHA) err[a] += sq_error(ne, ne->gk, ne->bk, ne->w0);
    else
        err[a] += ridge_solve(ne, ne->gk, ne->bk, alpha_grid[a], &lam)
                      ? sq_error(ne, ne->gk, ne->bk, ne->x) : INFINITY;
}

typedef struct { /* the held-out errors of the grid entries scored so far */
    double err[N_ALPHA + 1]; /* the last: no refit */
    bool done[N_ALPHA];
} grid_errors;

/* Grid entry a's held-out error on the fold in (gk, bk), once. */
static double grid_error(struct normal *ne, grid_errors *ge, int a)
{
    if (!ge->done[a]) fold_error(ne, a, ge->err);
    ge->done[a] = true;
    return ge->err[a];
}

/* From grid entry a to the neighbour with the smaller held-out error while
 * there is one (after the first move only onwards); the entry it ends at. */
static int descend(struct normal *ne, grid_errors *ge, int a)
{
    for (int step = 0;;) {
        int next = -1;
        for (int b = a - 1; b <= a + 1; b += 2) {
            if (b < 0 || b >= N_ALPHA || (step && b != a + step)) continue;
            if (grid_error(ne, ge, b) < grid_error(ne, ge, a) &&
                (next < 0 || ge->err[b] < ge->err[next]))
                next = b;
        }
        if (next < 0) return a;
        step = next - a;
        a = next;
    }
}

/* The alpha of the grid with the least held-out squared error, or 0 when
 * the weights before the refit (ne->w0) do at least as well. Every fold in
 * turn (few rows): the whole grid. One held-out fold: a descent from
 * LC_RECON_ALPHA_DEFAULT, and one from the largest alpha when that beats
 * where the first ended; the grid's least error when the error has one
 * valley in log alpha, or a second reaching the largest (docs/method.md),
 * at 3 to 5 Cholesky solves of the d x d system instead of 9. */
static double choose_alpha(struct normal *ne, const struct rows *rw, int full_grid)
{
    int d = ne->d;
    grid_errors ge = {{0}, {0}};
    if (one_fold(rw)) { /* gk, bk hold the last fold already (refit_node) */
        fold_error(ne, N_ALPHA, ge.err);
        for (int a = 0; a < N_ALPHA && full_grid; a++) grid_error(ne, &ge, a); /* reference */
        int start = 0;
        while (start < N_ALPHA - 1 && alpha_grid[start] < LC_RECON_ALPHA_DEFAULT) start++;
        int end = descend(ne, &ge, start);
        if (grid_error(ne, &ge, N_ALPHA - 1) < ge.err[end]) descend(ne, &ge, N_ALPHA - 1);
    } else {
        for (int k = 0; k < FOLDS; k++) {
            memset(ne->gk, 0, (size_t)d * d * sizeof(double));
            memset(ne->bk, 0, (size_t)d * ne->w * sizeof(double));
            accumulate(rw, NULL, NULL, k, ne->gk, ne->bk);
            for (int a = 0; a <= N_ALPHA; a++) fold_error(ne, a, ge.err);
        }
        for (int a = 0; a < N_ALPHA; a++) ge.done[a] = true;
    }
    double alpha = 0, best = ge.err[N_ALPHA];
    for (int a = 0; a < N_ALPHA; a++)
        if (ge.done[a] && ge.err[a] < best) {
            best = ge.err[a];
            alpha = alpha_grid[a];
        }
    return alpha;
}

/* Refits node f of the folded side: target columns `cols` (width of f) of
 * z (n x zw, the original's pre-activation). */
static lc_status refit_node(struct side *fs, int f, const float *z, int zw, const int *cols,
                            size_t n, const lc_recon_opts *o, bool *changed, lc_error *err)
{
    struct lc_node *nd = &fs->g->nodes[f];
    int w = nd->width, d = 1;
    for (int e = 0; e < nd->n_in; e++) d += fs->g->nodes[nd->in[e].src].width;
    size_t br = block_rows(n);
    struct rows rw = {fs, nd, z, cols, zw, d, w, n, br, (n + br - 1) / br,
                      malloc(br * (size_t)d * sizeof(float)), malloc(br * (size_t)w * sizeof(float)),
                      malloc((size_t)d * d * sizeof(float)), malloc((size_t)d * w * sizeof(float))};
    struct normal ne;
    lc_status st = LC_OK;
    *changed = false;
    if (!normal_init(&ne, d, w)) {
        free(rw.xb), free(rw.yb), free(rw.gf), free(rw.bf);
        return lc_fail(err, LC_ERR_NOMEM, "reconstruct: out of memory for a node of %d inputs "
                       "(%.1f GB); --no-reconstruct folds without it", d, 2.4e-8 * d * (double)d);
    }
    if (!rw.xb || !rw.yb || !rw.gf || !rw.bf) {
        st = lc_fail(err, LC_ERR_NOMEM, "reconstruct: out of memory");
        goto done;
    }
    /* the current weights: the prior, and the bar a refit must clear */
    for (int i = 0; i < w; i++) {
        int off = 0;
        for (int e = 0; e < nd->n_in; e++) {
            int wj = fs->g->nodes[nd->in[e].src].width;
            for (int j = 0; j < wj; j++)
                ne.w0[(size_t)(off + j) * w + i] = nd->in[e].w[(size_t)i * wj + j];
            off += wj;
        }
        ne.w0[(size_t)(d - 1) * w + i] = nd->bias[i];
    }
    bool choose = !(o->alpha > 0) && rw.nblocks >= FOLDS;
    /* the held-out fold's sums come from the same pass (normal_init zeroes them) */
    accumulate(&rw, ne.g, ne.b, FOLDS - 1, choose && one_fold(&rw) ? ne.gk : NULL, ne.bk);
    double lam, alpha = o->alpha > 0 ? o->alpha : choose ? choose_alpha(&ne, &rw, o->full_grid)
                                                          : LC_RECON_ALPHA_DEFAULT;
    if (alpha > 0 && ridge_solve(&ne, NULL, NULL, alpha, &lam) &&
        sq_error(&ne, ne.g, ne.b, ne.x) < sq_error(&ne, ne.g, ne.b, ne.w0)) {
        for (int i = 0; i < w; i++) {
            int off = 0;
            for (int e = 0; e < nd->n_in; e++) {
                int wj = fs->g->nodes[nd->in[e].src].width;
                for (int j = 0; j < wj; j++)
                    nd->in[e].w[(size_t)i * wj + j] = (float)ne.x[(size_t)(off + j) * w + i];
                off += wj;
            }
            nd->bias[i] = (float)ne.x[(size_t)(d - 1) * w + i];
        }
        *changed = true;
    }
done:
    normal_free(&ne);
    free(rw.xb);
    free(rw.yb);
    free(rw.gf);
    free(rw.bf);
    return st;
}

/* ---------------------------------------------------------- the driver */

/* Whether the fold of node k (its z on all rows) is inexact on the rows:
 * some folded neuron's act(z) differs from its piece's s z + c by more than
 * rounding. */
static bool fold_lossy(const lc_graph *g, const lc_plan *p, int k, const float *z, size_t n)
{
    const struct lc_node *nd = &g->nodes[k];
    int w = nd->width;
    float zmax = 0;
    for (size_t i = 0; i < n * (size_t)w; i++) zmax = fmaxf(zmax, fabsf(z[i]));
    double tol = EXACT_REL * zmax;
    for (int i = 0; i < w; i++) {
        int pc = lc_plan_get(p, k, i);
        if (pc == LC_KEEP) continue;
        float s, c;
        const float *sl = nd->slope ? nd->slope + i : NULL;
        lc_piece_affine(nd->act, sl ? *sl : 0.0f, pc, &s, &c);
        for (size_t r = 0; r < n; r++) {
            float v = z[r * (size_t)w + i], h = v;
            lc_act_apply(nd->act, sl, &h, 1, 1);
            if (!(fabs((double)h - ((double)s * v + c)) <= tol)) return true; /* NaN too */
        }
    }
    return false;
}

lc_status lc_reconstruct(const lc_graph *g, const lc_plan *p, const int *node_map,
                         lc_graph *folded, const float *x, size_t n, const lc_recon_opts *o,
                         int *refit, lc_error *err)
{
    return lc_reconstruct_z(g, p, node_map, folded, x, n, o, NULL, refit, err);
}

lc_status lc_reconstruct_z(const lc_graph *g, const lc_plan *p, const int *node_map,
                           lc_graph *folded, const float *x, size_t n, const lc_recon_opts *o,
                           float *const *zorig, int *refit, lc_error *err)
{
    return lc_reconstruct_reuse(g, p, node_map, folded, x, n, o, zorig, NULL, NULL, refit, err);
}

lc_status lc_reconstruct_reuse(const lc_graph *g, const lc_plan *p, const int *node_map,
                               lc_graph *folded, const float *x, size_t n,
                               const lc_recon_opts *o, float *const *zorig,
                               const lc_recon_state *from, lc_recon_state **save, int *refit,
                               lc_error *err)
{
    if (save) *save = NULL;
    lc_recon_opts def;
    if (!o) {
        lc_recon_opts_default(&def);
        o = &def;
    }
    if (refit) *refit = 0;
    lc_status st = lc_plan_check(g, p, err);
    if (st) return st;
    int N = g->n_nodes;
    for (int k = 0, f = 0; k < N; k++) {
        if (k > 0 && node_map[k] < 0) continue;
        int want = k == 0 ? 0 : f;
        if (node_map[k] != want || want >= folded->n_nodes)
            return lc_fail(err, LC_ERR_SHAPE, "reconstruct: the node map does not belong to the "
                           "folded graph (node %d)", k);
        f++;
        if (k == N - 1 && f != folded->n_nodes)
            return lc_fail(err, LC_ERR_SHAPE, "reconstruct: the folded graph has %d nodes, the "
                           "node map %d", folded->n_nodes, f);
    }
    if (node_map[N - 1] < 0)
        return lc_fail(err, LC_ERR_SHAPE, "reconstruct: the output node disappeared");
    if (o->max_rows && n > o->max_rows) n = o->max_rows;
    if (n == 0) return LC_OK;

    struct side os = {0}, fs = {0};
    bool *bad = calloc((size_t)N, sizeof *bad); /* lossy fold or refit node: h differs */
    int *cols = NULL, n_refit = 0, *changed_k = calloc((size_t)N, sizeof *changed_k);
    if (!bad || !changed_k || !side_init(&os, g, x) || !side_init(&fs, folded, x) ||
        !(fs.borrowed = calloc((size_t)folded->n_nodes, sizeof *fs.borrowed))) {
        st = lc_fail(err, LC_ERR_NOMEM, "reconstruct: out of memory");
        goto done;
    }
    fs.keep = save != NULL;
    /* the prefix that `from` already reconstructed (only with the cache:
     * the original side then needs no activations of those nodes) */
    int k0 = zorig ? lc_recon_reuse_from(g, p, node_map, folded, from, n) : 1;
    for (int k = 1; k < k0; k++) {
        int f = node_map[k];
        bad[k] = from->bad[k];
        changed_k[k] = from->changed[k];
        n_refit += changed_k[k];
        if (f < 0) continue;
        struct lc_node *a = &folded->nodes[f];
        const struct lc_node *b = &from->f->nodes[f];
        for (int e = 0; e < a->n_in; e++)
            memcpy(a->in[e].w, b->in[e].w,
                   (size_t)a->width * (size_t)folded->nodes[a->in[e].src].width * sizeof(float));
        memcpy(a->bias, b->bias, (size_t)a->width * sizeof(float));
        fs.h[f] = from->h[f];
        fs.borrowed[f] = true;
    }
    for (int k = k0; k < N; k++) {
        /* with the cache the original side needs no activations at all */
        float *z = zorig ? zorig[k] : side_z(&os, k, n);
        if (!z) {
            st = lc_fail(err, LC_ERR_NOMEM, "reconstruct: out of memory for node %d", k);
            goto done;
        }
        const struct lc_node *nd = &g->nodes[k];
        bool dirty = false;
        for (int e = 0; e < nd->n_in; e++) dirty |= bad[nd->in[e].src];
        int f = node_map[k];
        if (f >= 0) {
            if (dirty) {
                /* the kept neurons of k, in order, are the rows of f */
                int wf = folded->nodes[f].width, t = 0;
                cols = malloc((size_t)(wf ? wf : 1) * sizeof *cols);
                if (!cols) {
                    if (!zorig) free(z);
                    st = lc_fail(err, LC_ERR_NOMEM, "reconstruct: out of memory");
                    goto done;
                }
                for (int i = 0; i < nd->width && t < wf; i++)
                    if (k == N - 1 || lc_plan_get(p, k, i) == LC_KEEP) cols[t++] = i;
                bool changed = false;
                if (t == wf)
                    st = refit_node(&fs, f, z, nd->width, cols, n, o, &changed, err);
                free(cols);
                cols = NULL;
                if (st) {
                    if (!zorig) free(z);
                    goto done;
                }
                n_refit += changed;
                changed_k[k] = changed;
            }
            if (!(fs.h[f] = side_z(&fs, f, n))) {
                if (!zorig) free(z);
                st = lc_fail(err, LC_ERR_NOMEM, "reconstruct: out of memory for node %d", k);
                goto done;
            }
            lc_act_apply(folded->nodes[f].act, folded->nodes[f].slope, fs.h[f], n,
                         folded->nodes[f].width);
            side_release(&fs, f);
        }
        /* h of k differs from the original's where it was refit (a residual
         * stays), where its fold was lossy, or where it vanished while dirty */
        bad[k] = dirty || (k < N - 1 && fold_lossy(g, p, k, z, n));
        if (zorig) continue;
        lc_act_apply(nd->act, nd->slope, z, n, nd->width);
        os.h[k] = z;
        side_release(&os, k);
    }
    if (refit) *refit = n_refit;
    if (save && !(*save = lc_recon_state_keep(g, p, node_map, folded, fs.h, fs.borrowed, bad,
                                              changed_k, n)))
        st = lc_fail(err, LC_ERR_NOMEM, "reconstruct: out of memory");
done:
    free(bad);
    free(changed_k);
    side_free(&os);
    side_free(&fs);
    return st;
}
