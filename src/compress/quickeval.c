/* quickeval.c - accuracy of many folded variants of one model, without
 * running each on every sample.
 *
 * Folding is exact on every input on which each folded neuron stays in the
 * piece it is folded to. So one pass of the original model records, per
 * sample, the piece of every hidden neuron and whether the original's
 * prediction is right; for a plan, the samples whose folded neurons all stay
 * in their pieces keep the original's prediction (up to float rounding), and
 * only the others are run through the folded model. lc_evaluate() on the
 * folded model is the reference path; the tests compare the two. */
#include "compress/compress.h"
#include "core/work.h"

#include <stdlib.h>
#include <string.h>

/* Cap for the piece table (samples x hidden neurons bytes). */
#define LC_PIECES_MAX_BYTES ((size_t)1 << 30)
#define NO_PIECE 255

struct lc_pieces {
    size_t n;          /* samples */
    size_t neurons;    /* hidden neurons, node by node (plan order) */
    int n_nodes;
    size_t *off;       /* node k's neurons start at off[k] */
    unsigned char *p;  /* (n, neurons) pieces */
    unsigned char *ok; /* (n) the original predicts the label */
};

typedef struct {
    const lc_graph *g;
    lc_pieces *pc;
    size_t row0; /* first sample of the current batch */
} record_ctx;

static void record_hook(void *vctx, int k, const float *z, size_t rows)
{
    record_ctx *c = vctx;
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
    free(pc->off);
    free(pc->p);
    free(pc->ok);
    free(pc);
}

lc_status lc_pieces_compute(const lc_graph *g, const lc_data *d, lc_pieces **out, lc_error *err)
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
        record_ctx c = {g, pc, 0};
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
    size_t *redo = malloc((pc->n ? pc->n : 1) * sizeof *redo);
    if (!idx || !want || !redo) {
        free(idx);
        free(want);
        free(redo);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    }
    nf = 0;
    for (int k = 1; k < g->n_nodes - 1; k++)
        for (int i = 0; i < g->nodes[k].width; i++) {
            int piece = lc_plan_get(p, k, i);
            if (piece == LC_KEEP) continue;
            idx[nf] = pc->off[k] + (size_t)i;
            want[nf++] = (unsigned char)piece;
        }
    size_t correct = 0, n_redo = 0;
    for (size_t s = 0; s < pc->n; s++) {
        const unsigned char *row = pc->p + s * pc->neurons;
        size_t j = 0;
        while (j < nf && row[idx[j]] == want[j]) j++;
        if (j == nf) correct += pc->ok[s];
        else redo[n_redo++] = s;
    }
    free(idx);
    free(want);
    st = LC_OK;
    if (n_redo) {
        size_t right = 0;
        st = lc_correct_rows(folded, d, redo, n_redo, &right, err);
        correct += right;
    }
    free(redo);
    if (st) return st;
    *acc = pc->n ? (double)correct / (double)pc->n : 0;
    if (evaluated) *evaluated = n_redo;
    return LC_OK;
}
