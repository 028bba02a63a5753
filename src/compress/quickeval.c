/* quickeval.c - accuracy of many folded variants of one model, without
 * running each on every sample.
 *
 * Folding is exact on every input on which each folded neuron stays in the
 * piece it is folded to. So one pass of the original model records, per
 * sample, the piece of every hidden neuron and whether the original's
 * prediction is right; for a plan, the samples whose folded neurons all stay
 * in their pieces keep the original's prediction (up to float rounding), and
 * only the others are run through the folded model. lc_evaluate() on the
 * folded model is the reference path; the tests compare the two.
 *
 * With the original's pre-activations kept as well (lc_pieces_compute_z),
 * a sample that leaves a piece first in node v is run only from the folded
 * graph's first node after v: every node up to v computes, in exact
 * arithmetic, what the original does there (no neuron before v left its
 * piece), so its kept neurons are taken from the cache. */
#include "compress/compress.h"
#include "core/work.h"

#include <stdlib.h>
#include <string.h>

/* Cap for the piece table (samples x hidden neurons bytes); the
 * pre-activations kept beside it are the reconstruction's cache
 * (lc_recon_zcache_alloc, capped by lc_recon_zcache_fits). */
#define LC_PIECES_MAX_BYTES ((size_t)1 << 30)
#define NO_PIECE 255

struct lc_pieces {
    size_t n;          /* samples */
    size_t neurons;    /* hidden neurons, node by node (plan order) */
    int n_nodes;
    size_t *off;       /* node k's neurons start at off[k] */
    unsigned char *p;  /* (n, neurons) pieces */
    unsigned char *ok; /* (n) the original predicts the label */
    float **z;         /* NULL, or z[k] (n x width_k), k >= 1 (lc_recon_zcache_alloc) */
};

typedef struct {
    const lc_graph *g;
    lc_pieces *pc;
    size_t row0; /* first sample of the current batch */
    lc_zcache_fill fill;
} record_ctx;

static void record_hook(void *vctx, int k, const float *z, size_t rows)
{
    record_ctx *c = vctx;
    if (c->pc->z) {
        c->fill.row0 = c->row0;
        lc_zcache_hook(&c->fill, k, z, rows);
    }
    if (k >= c->g->n_nodes - 1) return;
    lc_act act = c->g->nodes[k].act;
    int w = c->g->nodes[k].width;
    for (size_t r = 0; r < rows; r++) {
        const float *zr = z + r * (size_t)w;
        unsigned char *out = c->pc->p + (c->row0 + r) * c->pc->neurons + c->pc->off[k];
        for (int i = 0; i < w; i++) {
            float v = zr[i];
            unsigned char p;
            if (v != v) p = NO_PIECE;
            else if (act.kind == LC_ACT_IDENTITY) p = 0;
            else if (act.kind == LC_ACT_CLIP) p = v <= act.lo ? 0 : v >= act.hi ? 2 : 1;
            else p = v > 0.0f;
            out[i] = p;
        }
    }
}

void lc_pieces_free(lc_pieces *pc)
{
    if (!pc) return;
    lc_recon_zcache_free(pc->z, pc->n_nodes);
    free(pc->off);
    free(pc->p);
    free(pc->ok);
    free(pc);
}

static lc_status pieces_run(const lc_graph *g, const lc_data *d, bool keep_z, lc_pieces **out,
                            lc_error *err)
{
    *out = NULL;
    const int32_t *y = lc_data_y(d);
    if (!y) return lc_fail(err, LC_ERR_INVALID, "evaluation needs labelled data");
    if (lc_data_cols(d) != g->nodes[0].width)
        return lc_fail(err, LC_ERR_SHAPE, "data has %d features, the model takes %d",
                       lc_data_cols(d), g->nodes[0].width);
    lc_pieces *pc = calloc(1, sizeof *pc);
    if (!pc) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    pc->n = lc_data_rows(d);
    pc->n_nodes = g->n_nodes;
    pc->off = calloc((size_t)g->n_nodes + 1, sizeof *pc->off);
    if (!pc->off) goto nomem;
    for (int k = 1; k <= g->n_nodes; k++)
        pc->off[k] = pc->off[k - 1] + (k - 1 >= 1 && k - 1 < g->n_nodes - 1 ? (size_t)g->nodes[k - 1].width : 0);
    pc->neurons = pc->off[g->n_nodes];
    size_t bytes;
    if (!lc_mul_ok(pc->n, pc->neurons, &bytes) || bytes > LC_PIECES_MAX_BYTES) {
        lc_pieces_free(pc);
        return lc_fail(err, LC_ERR_NOMEM, "piece table of %zu samples x %zu neurons is over the cap",
                       pc->n, pc->neurons);
    }
    pc->p = malloc(bytes ? bytes : 1);
    pc->ok = malloc(pc->n ? pc->n : 1);
    if (!pc->p || !pc->ok) goto nomem;
    if (keep_z && g->n_nodes > 2 && lc_recon_zcache_fits(g, pc->n) &&
        !(pc->z = lc_recon_zcache_alloc(g, pc->n)))
        goto nomem;

    size_t batch = pc->n < LC_BATCH ? pc->n : LC_BATCH;
    lc_work w;
    if (batch) {
        lc_status st = lc_work_init(&w, g, batch, err);
        if (st) {
            lc_pieces_free(pc);
            return st;
        }
        int in_w = g->nodes[0].width, ow = lc_graph_output_width(g);
        lc_act_kind ok = g->nodes[g->n_nodes - 1].act.kind;
        record_ctx c = {g, pc, 0, {pc->z, 0, g}};
        for (size_t r = 0; r < pc->n; r += batch) {
            size_t m = pc->n - r < batch ? pc->n - r : batch;
            c.row0 = r;
            lc_forward_batch(g, &w, lc_data_x(d) + r * (size_t)in_w, m, record_hook, &c);
            for (size_t i = 0; i < m; i++)
                pc->ok[r + i] = lc_row_class(ok, w.h[g->n_nodes - 1] + i * (size_t)ow, ow) == y[r + i];
        }
        lc_work_free(&w);
    }
    *out = pc;
    return LC_OK;
nomem:
    lc_pieces_free(pc);
    return lc_fail(err, LC_ERR_NOMEM, "out of memory for the piece table");
}

lc_status lc_pieces_compute(const lc_graph *g, const lc_data *d, lc_pieces **out, lc_error *err)
{
    return pieces_run(g, d, false, out, err);
}

lc_status lc_pieces_compute_z(const lc_graph *g, const lc_data *d, lc_pieces **out, lc_error *err)
{
    return pieces_run(g, d, true, out, err);
}

/* How pc's cache maps onto folded = lc_fold(g, p): folded node j is g's
 * node inv[j], whose kept neurons (in order: the rows of j) are
 * keep[koff[j] ..); from[k] is the first folded node after g's node k. */
typedef struct {
    int *inv, *keep, *from;
    size_t *koff;
} cache_map;

static void cache_map_free(cache_map *m)
{
    free(m->inv);
    free(m->keep);
    free(m->from);
    free(m->koff);
}

/* The map, and *fits false (no error) when `folded` is not what
 * lc_fold(g, p) makes of g: the same surviving nodes, each as wide as its
 * kept neurons; its rows are then run in full. */
static lc_status cache_map_make(const lc_graph *g, const lc_plan *p, const lc_graph *folded,
                                const lc_pieces *pc, cache_map *m, bool *fits, lc_error *err)
{
    int N = g->n_nodes, F = folded->n_nodes;
    *fits = false;
    int *map = malloc((size_t)N * sizeof *map);
    m->inv = malloc((size_t)F * sizeof *m->inv);
    m->keep = malloc((pc->neurons ? pc->neurons : 1) * sizeof *m->keep);
    m->from = malloc((size_t)N * sizeof *m->from);
    m->koff = calloc((size_t)F + 1, sizeof *m->koff);
    lc_status st = map && m->inv && m->keep && m->from && m->koff
                       ? lc_fold_node_map(g, p, map, err)
                       : lc_fail(err, LC_ERR_NOMEM, "out of memory");
    int j = 0;
    size_t nk = 0;
    bool ok = !st;
    for (int k = 0; ok && k < N; k++) {
        if (map[k] < 0) continue;
        ok = map[k] == j && j < F;
        if (!ok) break;
        m->inv[j] = k;
        m->koff[j] = nk;
        if (k > 0 && k < N - 1) {
            for (int i = 0; i < g->nodes[k].width; i++)
                if (lc_plan_get(p, k, i) == LC_KEEP) m->keep[nk++] = i;
            ok = nk - m->koff[j] == (size_t)folded->nodes[j].width;
        }
        j++;
    }
    if (ok && j == F && map[N - 1] == F - 1) {
        int next = F - 1;
        for (int k = N - 1; k >= 1; k--) {
            m->from[k] = next;
            if (map[k] >= 0) next = map[k];
        }
        *fits = true;
    }
    free(map);
    return st;
}

/* Runs the samples rows[0..n) of d through folded, sample i from folded
 * node start[i] on (ascending), the nodes before it from pc's cache.
 * Counts the samples predicted right into *right. */
static lc_status run_from(const lc_graph *g, const lc_graph *folded, const cache_map *cm,
                          const lc_pieces *pc, const lc_data *d, const size_t *rows,
                          const int *start, size_t n, size_t *right, lc_error *err)
{
    int cols = lc_data_cols(d), F = folded->n_nodes, ow = lc_graph_output_width(folded);
    const int32_t *y = lc_data_y(d);
    size_t batch = n < LC_BATCH ? n : LC_BATCH;
    lc_work wk;
    float *xb = malloc(batch * (size_t)cols * sizeof *xb);
    lc_status st = xb ? lc_work_init(&wk, folded, batch, err)
                      : lc_fail(err, LC_ERR_NOMEM, "out of memory for a batch");
    if (st) {
        free(xb);
        return st;
    }
    lc_act_kind kind = folded->nodes[F - 1].act.kind;
    for (size_t r = 0; r < n; r += batch) {
        size_t m = n - r < batch ? n - r : batch, c = 0;
        for (size_t i = 0; i < m; i++)
            memcpy(xb + i * (size_t)cols, lc_data_x(d) + rows[r + i] * (size_t)cols,
                   (size_t)cols * sizeof *xb);
        wk.h[0] = xb;
        for (int j = 1; j < F; j++) {
            const struct lc_node *nd = &folded->nodes[j];
            float *z = wk.h[j];
            while (c < m && start[r + c] <= j) c++; /* rows [0, c) run node j */
            int wk0 = g->nodes[cm->inv[j]].width;
            const int *kp = cm->keep + cm->koff[j];
            for (size_t i = c; i < m; i++) { /* the others: the original's z, kept neurons */
                const float *src = pc->z[cm->inv[j]] + rows[r + i] * (size_t)wk0;
                float *dst = z + i * (size_t)nd->width;
                for (int t = 0; t < nd->width; t++) dst[t] = src[kp[t]];
            }
            lc_forward_node(folded, &wk, j, c);
            lc_act_apply(nd->act, nd->slope, z, m, nd->width);
        }
        for (size_t i = 0; i < m; i++)
            *right += lc_row_class(kind, wk.h[F - 1] + i * (size_t)ow, ow) == y[rows[r + i]];
    }
    lc_work_free(&wk);
    free(xb);
    return LC_OK;
}

/* The redo rows sorted by the folded node each starts from (a counting
 * sort: the batches then run few rows through the first nodes), and run;
 * *done false when the cache cannot be used for this folded graph. */
static lc_status redo_from_cache(const lc_graph *g, const lc_plan *p, const lc_graph *folded,
                                 const lc_pieces *pc, const lc_data *d, const size_t *redo,
                                 const int *first, size_t n, size_t *right, bool *done,
                                 lc_error *err)
{
    *done = false;
    int F = folded->n_nodes;
    cache_map m = {0};
    bool fits;
    lc_status st = cache_map_make(g, p, folded, pc, &m, &fits, err);
    size_t *cnt = calloc((size_t)F + 1, sizeof *cnt), *sorted = malloc(n * sizeof *sorted);
    int *start = malloc(n * sizeof *start);
    if (!st && (!cnt || !sorted || !start)) st = lc_fail(err, LC_ERR_NOMEM, "out of memory");
    if (!st && fits) {
        for (size_t i = 0; i < n; i++) cnt[m.from[first[i]] + 1]++;
        for (int j = 1; j <= F; j++) cnt[j] += cnt[j - 1];
        for (size_t i = 0; i < n; i++) {
            size_t at = cnt[m.from[first[i]]]++;
            sorted[at] = redo[i];
            start[at] = m.from[first[i]];
        }
        st = run_from(g, folded, &m, pc, d, sorted, start, n, right, err);
        *done = !st;
    }
    cache_map_free(&m);
    free(cnt);
    free(sorted);
    free(start);
    return st;
}

lc_status lc_plan_accuracy(const lc_graph *g, const lc_plan *p, const lc_graph *folded,
                           const lc_data *d, const lc_pieces *pc, double *acc,
                           size_t *evaluated, lc_error *err)
{
    lc_status st = lc_plan_check(g, p, err);
    if (st) return st;
    if (pc->n != lc_data_rows(d) || pc->n_nodes != g->n_nodes)
        return lc_fail(err, LC_ERR_SHAPE, "piece table was made for other data or another model");
    /* the folded neurons (as piece-table columns) and their pieces */
    size_t nf = 0;
    for (int k = 1; k < g->n_nodes - 1; k++)
        for (int i = 0; i < g->nodes[k].width; i++) nf += lc_plan_get(p, k, i) != LC_KEEP;
    size_t *idx = malloc((nf ? nf : 1) * sizeof *idx);
    unsigned char *want = malloc(nf ? nf : 1);
    int *node = malloc((nf ? nf : 1) * sizeof *node);
    size_t *redo = malloc((pc->n ? pc->n : 1) * sizeof *redo);
    int *first = malloc((pc->n ? pc->n : 1) * sizeof *first); /* node of the first leave */
    if (!idx || !want || !node || !redo || !first) {
        free(idx);
        free(want);
        free(node);
        free(redo);
        free(first);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    }
    nf = 0;
    for (int k = 1; k < g->n_nodes - 1; k++)
        for (int i = 0; i < g->nodes[k].width; i++) {
            int piece = lc_plan_get(p, k, i);
            if (piece == LC_KEEP) continue;
            idx[nf] = pc->off[k] + (size_t)i;
            node[nf] = k;
            want[nf++] = (unsigned char)piece;
        }
    size_t correct = 0, n_redo = 0;
    for (size_t s = 0; s < pc->n; s++) {
        const unsigned char *row = pc->p + s * pc->neurons;
        size_t j = 0;
        while (j < nf && row[idx[j]] == want[j]) j++;
        if (j == nf) correct += pc->ok[s];
        else {
            first[n_redo] = node[j];
            redo[n_redo++] = s;
        }
    }
    free(idx);
    free(want);
    free(node);
    st = LC_OK;
    if (n_redo) {
        size_t right = 0;
        bool done = false;
        if (pc->z) st = redo_from_cache(g, p, folded, pc, d, redo, first, n_redo, &right, &done, err);
        if (!st && !done) st = lc_correct_rows(folded, d, redo, n_redo, &right, err);
        correct += right;
    }
    free(redo);
    free(first);
    if (st) return st;
    *acc = pc->n ? (double)correct / (double)pc->n : 0;
    if (evaluated) *evaluated = n_redo;
    return LC_OK;
}
