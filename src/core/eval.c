/* eval.c - accuracy and cross-entropy of a model on labelled data. */
#include "core/internal.h"
#include "core/work.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Probability-space loss for one row, by the output activation: what a user
 * trained with. Identity outputs are logits (softmax cross-entropy). */
static double row_loss(lc_act_kind kind, const float *o, int w, int y)
{
    const double tiny = 1e-12;
    if (w == 1) { /* binary: one unit scoring class 1 */
        double p = kind == LC_ACT_SIGMOID ? o[0] : 1.0 / (1.0 + exp(-(double)o[0]));
        return -log(fmax(y == 1 ? p : 1.0 - p, tiny));
    }
    switch (kind) {
    case LC_ACT_SOFTMAX:
    case LC_ACT_SIGMOID: return -log(fmax(o[y], tiny));
    case LC_ACT_LOG_SOFTMAX: return -(double)o[y];
    default: {
        double mx = o[0], s = 0;
        for (int i = 1; i < w; i++) mx = o[i] > mx ? o[i] : mx;
        for (int i = 0; i < w; i++) s += exp((double)o[i] - mx);
        return -((double)o[y] - mx - log(s));
    }
    }
}

int lc_row_class(lc_act_kind kind, const float *o, int w)
{
    if (w == 1) return kind == LC_ACT_SIGMOID ? o[0] > 0.5f : o[0] > 0.0f;
    int best = 0;
    for (int i = 1; i < w; i++) best = o[i] > o[best] ? i : best;
    return best;
}

/* d fits g: labels, one per row, each one of g's classes; g's input width. */
static lc_status check_labelled(const lc_graph *g, const lc_data *d, lc_error *err)
{
    size_t n = lc_data_rows(d);
    const int32_t *y = lc_data_y(d);
    if (!y) return lc_fail(err, LC_ERR_INVALID, "evaluation needs labelled data");
    if (lc_data_cols(d) != lc_graph_input_width(g))
        return lc_fail(err, LC_ERR_SHAPE, "data has %d features, the model takes %d",
                       lc_data_cols(d), lc_graph_input_width(g));
    int classes = lc_graph_classes(g);
    for (size_t r = 0; r < n; r++)
        if (y[r] < 0 || y[r] >= classes)
            return lc_fail(err, LC_ERR_SHAPE, "label %d of sample %zu is not one of the model's %d classes",
                           (int)y[r], r + 1, classes);
    return LC_OK;
}

lc_status lc_evaluate(const lc_graph *g, const lc_data *d, lc_eval_result *res, lc_error *err)
{
    size_t n = lc_data_rows(d);
    int w = lc_graph_output_width(g);
    const int32_t *y = lc_data_y(d);
    lc_status cst = check_labelled(g, d, err);
    if (cst) return cst;
    /* one set of batch buffers for the whole pass (lc_forward would
     * allocate its own on every call) */
    size_t batch = n < LC_BATCH ? n : LC_BATCH;
    lc_work wk;
    if (batch) {
        lc_status st = lc_work_init(&wk, g, batch, err);
        if (st) return st;
    }
    lc_act_kind kind = g->nodes[g->n_nodes - 1].act.kind;
    double loss = 0;
    size_t correct = 0;
    for (size_t r = 0; r < n; r += batch) {
        size_t m = n - r < batch ? n - r : batch;
        lc_forward_batch(g, &wk, lc_data_x(d) + r * (size_t)lc_data_cols(d), m, NULL, NULL);
        const float *out = wk.h[g->n_nodes - 1];
        for (size_t i = 0; i < m; i++) {
            const float *o = out + i * (size_t)w;
            loss += row_loss(kind, o, w, y[r + i]);
            correct += lc_row_class(kind, o, w) == y[r + i];
        }
    }
    if (batch) lc_work_free(&wk);
    res->samples = n;
    res->accuracy = n ? (double)correct / (double)n : 0;
    res->loss = n ? loss / (double)n : 0;
    return LC_OK;
}

lc_status lc_correct_rows(const lc_graph *g, const lc_data *d, const size_t *rows, size_t n,
                          size_t *correct, lc_error *err)
{
    *correct = 0;
    int cols = lc_data_cols(d), w = lc_graph_output_width(g);
    const int32_t *y = lc_data_y(d);
    if (!y) return lc_fail(err, LC_ERR_INVALID, "evaluation needs labelled data");
    size_t batch = n < LC_BATCH ? n : LC_BATCH;
    if (!batch) return LC_OK;
    lc_work wk;
    float *xb = malloc(batch * (size_t)cols * sizeof *xb);
    lc_status st = xb ? lc_work_init(&wk, g, batch, err)
                      : lc_fail(err, LC_ERR_NOMEM, "out of memory for a batch");
    if (st) {
        free(xb);
        return st;
    }
    lc_act_kind kind = g->nodes[g->n_nodes - 1].act.kind;
    for (size_t r = 0; r < n; r += batch) {
        size_t m = n - r < batch ? n - r : batch;
        for (size_t i = 0; i < m; i++)
            memcpy(xb + i * (size_t)cols, lc_data_x(d) + rows[r + i] * (size_t)cols,
                   (size_t)cols * sizeof *xb);
        lc_forward_batch(g, &wk, xb, m, NULL, NULL);
        const float *out = wk.h[g->n_nodes - 1];
        for (size_t i = 0; i < m; i++)
            *correct += lc_row_class(kind, out + i * (size_t)w, w) == y[rows[r + i]];
    }
    lc_work_free(&wk);
    free(xb);
    return LC_OK;
}

/* A (count, class, label) cell of the confusion counts, for the greedy
 * matching below: the largest counts are matched first. */
struct cell {
    size_t count;
    int c, y;
};

static int by_count_desc(const void *a, const void *b)
{
    const struct cell *p = a, *q = b;
    if (p->count != q->count) return p->count < q->count ? 1 : -1;
    return p->c != q->c ? p->c - q->c : p->y - q->y; /* qsort is not stable */
}

/* Greedy rather than the optimal assignment (Hungarian): the question is
 * only whether some renaming agrees far better than none, and a labelling
 * in another order is a permutation that the largest counts find. */
lc_status lc_label_match(const lc_graph *g, const lc_data *d, int *map, double *accuracy,
                         double *matched, lc_error *err)
{
    size_t n = lc_data_rows(d);
    int w = lc_graph_output_width(g), k = lc_graph_classes(g);
    const int32_t *y = lc_data_y(d);
    lc_status st = check_labelled(g, d, err);
    if (st) return st;
    if (k > 4096) /* k x k counts: 128 MB of them at this size */
        return lc_fail(err, LC_ERR_UNSUPPORTED, "matching %d classes to labels: at most 4096", k);
    size_t *conf = calloc((size_t)k * (size_t)k, sizeof *conf);
    struct cell *cells = malloc((size_t)k * (size_t)k * sizeof *cells);
    int *used = calloc(2 * (size_t)k, sizeof *used), *own = map ? NULL : malloc((size_t)k * sizeof *own);
    size_t batch = n < LC_BATCH ? n : LC_BATCH;
    lc_work wk;
    if (!conf || !cells || !used || (!map && !own))
        st = lc_fail(err, LC_ERR_NOMEM, "out of memory for %d x %d confusion counts", k, k);
    else if (batch)
        st = lc_work_init(&wk, g, batch, err);
    if (!st) {
        lc_act_kind kind = g->nodes[g->n_nodes - 1].act.kind;
        for (size_t r = 0; r < n; r += batch) {
            size_t m = n - r < batch ? n - r : batch;
            lc_forward_batch(g, &wk, lc_data_x(d) + r * (size_t)lc_data_cols(d), m, NULL, NULL);
            const float *out = wk.h[g->n_nodes - 1];
            for (size_t i = 0; i < m; i++)
                conf[(size_t)lc_row_class(kind, out + i * (size_t)w, w) * (size_t)k + (size_t)y[r + i]]++;
        }
        if (batch) lc_work_free(&wk);
        size_t nc = 0, agree = 0, plain = 0;
        for (int c = 0; c < k; c++) plain += conf[(size_t)c * (size_t)k + (size_t)c];
        for (int c = 0; c < k; c++)
            for (int l = 0; l < k; l++) cells[nc++] = (struct cell){conf[(size_t)c * (size_t)k + (size_t)l], c, l};
        qsort(cells, nc, sizeof *cells, by_count_desc);
        int *to = map ? map : own, *c_used = used, *y_used = used + k;
        for (size_t i = 0; i < nc; i++) {
            if (c_used[cells[i].c] || y_used[cells[i].y]) continue;
            c_used[cells[i].c] = y_used[cells[i].y] = 1;
            to[cells[i].c] = cells[i].y;
            agree += cells[i].count;
        }
        if (accuracy) *accuracy = n ? (double)plain / (double)n : 0;
        *matched = n ? (double)agree / (double)n : 0;
    }
    free(conf);
    free(cells);
    free(used);
    free(own);
    return st;
}
