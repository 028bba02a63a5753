/* budget_incr_run.c - one candidate's plain score against a base of
 * cached activations (budget_incr.c): the rows it changes, re-run from the
 * first node it changes, in passes that may stop early. */
#include "compress/budget_incr.h"

#include <math.h>
#include <string.h>

/* A folded neuron of the candidate: node, index, piece, affine map. */
typedef struct {
    int k, i, piece;
    float s, c;
} fneuron;

/* A neuron whose plan entry differs between the base and the candidate,
 * with the affine maps of both entries (unused for LC_KEEP). */
typedef struct {
    int k, i, pb, pp;
    float sb, cb, sp, cp;
} dneuron;

/* Activations of m rows of node j under the candidate's folds (f, nf: the
 * folded neurons of node j): from z (m x w, those rows) into h. */
static void act_rows(const lc_graph *g, int j, const fneuron *f, size_t nf, const float *z,
                     float *h, size_t m)
{
    const struct lc_node *nd = &g->nodes[j];
    int w = nd->width;
    memcpy(h, z, m * (size_t)w * sizeof *h);
    lc_act_apply(nd->act, nd->slope, h, m, w);
    for (size_t r = 0; r < m; r++) {
        float *hr = h + r * (size_t)w;
        const float *zr = z + r * (size_t)w;
        for (size_t t = 0; t < nf; t++) hr[f[t].i] = f[t].s * zr[f[t].i] + f[t].c;
    }
}

/* A neuron's activation of z under plan entry `piece` (s, c its map). */
static float act_one(const struct lc_node *nd, int i, int piece, float s, float c, float z)
{
    if (piece != LC_KEEP) return s * z + c;
    lc_act_apply(nd->act, nd->slope ? nd->slope + i : NULL, &z, 1, 1);
    return z;
}

/* The candidate against a base: its folds, the entries that differ and the
 * rows to re-run; per node the ranges of f and dn (both in node order). */
typedef struct {
    fneuron *f;
    dneuron *dn;
    size_t *fs, *ds; /* node k: f[fs[k] .. fs[k+1]), dn[ds[k] .. ds[k+1]) */
    size_t *redo, m; /* the base's wrong rows first (nwrong), then its right ones */
    size_t nwrong;
    int kmin;
} cand;

static void cand_free(cand *c)
{
    free(c->f);
    free(c->dn);
    free(c->fs);
    free(c->ds);
    free(c->redo);
}

static bool cand_make(const budget_incr *bi, const base *b, const lc_plan *p, cand *c)
{
    const lc_graph *g = bi->g;
    int N = g->n_nodes;
    size_t nn = bi->neurons ? bi->neurons : 1, nf = 0, nd = 0;
    *c = (cand){malloc(nn * sizeof *c->f), malloc(nn * sizeof *c->dn),
                calloc((size_t)N + 1, sizeof(size_t)), calloc((size_t)N + 1, sizeof(size_t)),
                malloc((bi->n ? bi->n : 1) * sizeof(size_t)), 0, 0, N};
    if (!c->f || !c->dn || !c->fs || !c->ds || !c->redo) return false;
    for (int k = 0; k < N; k++) {
        c->fs[k] = nf;
        c->ds[k] = nd;
        if (k == 0 || k == N - 1) continue;
        const struct lc_node *node = &g->nodes[k];
        for (int i = 0; i < node->width; i++) {
            int pp = lc_plan_get(p, k, i), pb = b->piece[bi->off[k] + (size_t)i];
            float sl = node->slope ? node->slope[i] : 0.0f, sp = 0, cp = 0, sb = 0, cb = 0;
            if (pp != LC_KEEP) {
                lc_piece_affine(node->act, sl, pp, &sp, &cp);
                c->f[nf++] = (fneuron){k, i, pp, sp, cp};
            }
            if (pp == pb) continue;
            if (pb != LC_KEEP) lc_piece_affine(node->act, sl, pb, &sb, &cb);
            c->dn[nd++] = (dneuron){k, i, pb, pp, sb, cb, sp, cp};
            if (k < c->kmin) c->kmin = k;
        }
    }
    c->fs[N] = nf;
    c->ds[N] = nd;
    /* a row changes where a differing neuron is out of either side's piece;
     * the base's wrong rows go first (run: after them the count of right
     * rows can only fall), the rest after them from the top, both in row
     * order */
    size_t right = bi->n;
    for (size_t r = 0; r < bi->n && nd; r++)
        for (size_t t = 0; t < nd; t++) {
            const dneuron *e = &c->dn[t];
            int w = g->nodes[e->k].width;
            int pz = piece_of(g->nodes[e->k].act, b->z[e->k][r * (size_t)w + e->i]);
            if ((e->pb != LC_KEEP && pz != e->pb) || (e->pp != LC_KEEP && pz != e->pp)) {
                if (b->ok[r]) c->redo[--right] = r;
                else c->redo[c->nwrong++] = r;
                break;
            }
        }
    size_t nright = bi->n - right;
    memmove(c->redo + c->nwrong, c->redo + right, nright * sizeof *c->redo);
    for (size_t i = 0; i < nright / 2; i++) { /* back to row order */
        size_t *a = c->redo + c->nwrong + i, *z = c->redo + c->nwrong + nright - 1 - i, t = *a;
        *a = *z;
        *z = t;
    }
    c->m = c->nwrong + nright;
    return true;
}

/* z of node k on the candidate's rows when only neurons of its inputs
 * changed whose z did not (the consumers of the walk's one changed node):
 * the base's z plus W[:, D] times the change of those neurons' activations,
 * a product of rank |D| instead of the node's whole fan-in. */
static bool delta_z(budget_incr *bi, const base *b, const cand *c, int k, const size_t *redo,
                    size_t m, float *z)
{
    const lc_graph *g = bi->g;
    const struct lc_node *nd = &g->nodes[k];
    int w = nd->width;
    for (size_t r = 0; r < m; r++)
        memcpy(z + r * (size_t)w, b->z[k] + redo[r] * (size_t)w, (size_t)w * sizeof *z);
    for (int e = 0; e < nd->n_in; e++) {
        int j = nd->in[e].src, wj = g->nodes[j].width;
        size_t d0 = j > 0 ? c->ds[j] : 0, nd_ = j > 0 ? c->ds[j + 1] - d0 : 0;
        if (!nd_) continue;
        float *dh = scratch_get(&bi->dh, m * nd_), *wd = scratch_get(&bi->wd, (size_t)w * nd_);
        if (!dh || !wd) return false;
        const struct lc_node *src = &g->nodes[j];
        for (size_t r = 0; r < m; r++)
            for (size_t t = 0; t < nd_; t++) {
                const dneuron *q = &c->dn[d0 + t];
                float zv = b->z[j][redo[r] * (size_t)wj + q->i];
                dh[r * nd_ + t] = act_one(src, q->i, q->pp, q->sp, q->cp, zv) -
                                  act_one(src, q->i, q->pb, q->sb, q->cb, zv);
            }
        for (int o = 0; o < w; o++)
            for (size_t t = 0; t < nd_; t++)
                wd[(size_t)o * nd_ + t] = nd->in[e].w[(size_t)o * wj + c->dn[d0 + t].i];
        lc_sgemm(false, true, (int)m, w, (int)nd_, 1.0f, dh, (int)nd_, wd, (int)nd_, 1.0f, z, w);
    }
    return true;
}

/* Rows per pass of run after the first, which takes the base's wrong rows
 * and this many of its right ones: small enough that a candidate that
 * cannot matter stops after a few, large enough for SGEMM's throughput. */
#define RUN_CHUNK 256

/* z of node k on rows [r0, r0 + mc) of the candidate into zk: from its
 * changed inputs (zn) and the base; hb, xb: scratch of mc x the widest. */
static void node_rows(budget_incr *bi, const base *b, const cand *c, float *const *zn, int k,
                      size_t r0, size_t mc, float *zk, float *hb, float *xb)
{
    const lc_graph *g = bi->g;
    const struct lc_node *nd = &g->nodes[k];
    int w = nd->width;
    const size_t *redo = c->redo + r0;
    const float *x = lc_data_x(bi->d);
    for (size_t r = 0; r < mc; r++) memcpy(zk + r * (size_t)w, nd->bias, (size_t)w * sizeof(float));
    for (int e = 0; e < nd->n_in; e++) {
        int j = nd->in[e].src, wj = g->nodes[j].width;
        const fneuron *fj = c->f + c->fs[j];
        size_t nfj = c->fs[j + 1] - c->fs[j];
        if (j == 0) {
            for (size_t r = 0; r < mc; r++)
                memcpy(hb + r * (size_t)wj, x + redo[r] * (size_t)wj, (size_t)wj * sizeof(float));
        } else if (zn[j]) {
            act_rows(g, j, fj, nfj, zn[j] + r0 * (size_t)wj, hb, mc);
        } else {
            for (size_t r = 0; r < mc; r++)
                memcpy(xb + r * (size_t)wj, b->z[j] + redo[r] * (size_t)wj, (size_t)wj * sizeof(float));
            act_rows(g, j, fj, nfj, xb, hb, mc);
        }
        lc_sgemm(false, true, (int)mc, w, wj, 1.0f, hb, wj, nd->in[e].w, wj, 1.0f, zk, w);
    }
}

/* Runs plan p against base b (any plan: the base holds the z of folded
 * neurons too) into res: b's rows that change, their z and verdicts. The
 * rows run in passes, the base's wrong ones first; after those the count of
 * right rows can only fall, so once it is below need x rows (by more than
 * half a row: rounding) the run stops with *cut set and res unset, its
 * score no longer of use to the caller (-INFINITY: never). */
lc_status budget_incr_run(budget_incr *bi, const base *b, const lc_plan *p, double need,
                          result *res, bool *cut, lc_error *err)
{
    const lc_graph *g = bi->g;
    int N = g->n_nodes;
    cand c;
    /* zn[k] set: node k's z changed on the rows (re-run); buffers: res's */
    float **zn = calloc((size_t)N, sizeof *zn), *hb = NULL, *xb = NULL;
    bool *delta = calloc((size_t)N, sizeof *delta);
    lc_status st = LC_OK;
    res->set = false;
    *cut = false;
    if (!cand_make(bi, b, p, &c) || !zn || !delta) {
        st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
        goto done;
    }
    size_t m = c.m, correct = b->correct;
    if (m > res->cap_m) {
        size_t *rd = realloc(res->redo, m * sizeof *rd);
        if (rd) res->redo = rd;
        unsigned char *ok = realloc(res->ok, m);
        if (ok) res->ok = ok;
        if (!rd || !ok) {
            st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
            goto done;
        }
        res->cap_m = m;
    }
    if (m) {
        /* the nodes that change: fed by a changed z (run from their
         * inputs), else by differing neurons alone (delta_z) */
        int maxw = 1;
        for (int k = c.kmin + 1; k < N; k++) {
            const struct lc_node *nd = &g->nodes[k];
            bool zin = false, hin = false;
            for (int e = 0; e < nd->n_in; e++) {
                int j = nd->in[e].src;
                zin |= zn[j] != NULL;
                hin |= j > 0 && c.ds[j + 1] > c.ds[j];
                maxw = g->nodes[j].width > maxw ? g->nodes[j].width : maxw;
            }
            maxw = nd->width > maxw ? nd->width : maxw;
            if (!zin && !hin) continue;
            if (!(zn[k] = scratch_get(&res->zn[k], m * (size_t)nd->width))) {
                st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
                goto done;
            }
            delta[k] = !zin;
        }
        size_t first = c.nwrong + RUN_CHUNK < m ? c.nwrong + RUN_CHUNK : m;
        hb = scratch_get(&bi->hb, first * (size_t)maxw);
        xb = scratch_get(&bi->xb, first * (size_t)maxw);
        if (!hb || !xb) {
            st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
            goto done;
        }
        const struct lc_node *on = &g->nodes[N - 1];
        int ow = on->width;
        const int32_t *y = lc_data_y(bi->d);
        for (size_t r0 = 0, mc = first; r0 < m; r0 += mc, mc = m - r0 < RUN_CHUNK ? m - r0 : RUN_CHUNK) {
            for (int k = c.kmin + 1; k < N; k++) {
                if (!zn[k]) continue;
                float *zk = zn[k] + r0 * (size_t)g->nodes[k].width;
                if (!delta[k]) node_rows(bi, b, &c, zn, k, r0, mc, zk, hb, xb);
                else if (!delta_z(bi, b, &c, k, c.redo + r0, mc, zk)) {
                    st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
                    goto done;
                }
            }
            /* the output rows: predictions against the labels */
            for (size_t r = 0; r < mc; r++)
                memcpy(hb + r * (size_t)ow, zn[N - 1] ? zn[N - 1] + (r0 + r) * (size_t)ow
                                                      : b->z[N - 1] + c.redo[r0 + r] * (size_t)ow,
                       (size_t)ow * sizeof *hb);
            lc_act_apply(on->act, on->slope, hb, mc, ow);
            for (size_t r = 0; r < mc; r++) {
                size_t row = c.redo[r0 + r];
                bool ok = lc_row_class(on->act.kind, hb + r * (size_t)ow, ow) == y[row];
                correct = correct - b->ok[row] + ok;
                res->ok[r0 + r] = ok;
            }
            if (r0 + mc < m && (double)correct < need * (double)bi->n - 0.5) {
                *cut = true;
                goto done;
            }
        }
    }
    memcpy(res->piece, b->piece, bi->neurons ? bi->neurons : 1);
    for (size_t t = 0; t < c.ds[N]; t++)
        res->piece[bi->off[c.dn[t].k] + (size_t)c.dn[t].i] = (signed char)c.dn[t].pp;
    if (m) memcpy(res->redo, c.redo, m * sizeof *c.redo);
    for (int k = 0; k < N; k++) res->chg[k] = zn[k] != NULL;
    res->m = m;
    res->kmin = c.kmin;
    res->correct = correct;
    res->gen = bi->gen;
    res->set = true;
done:
    free(zn);
    free(delta);
    cand_free(&c);
    return st;
}
