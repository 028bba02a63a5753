/* finetune.c - training a (compressed) graph in standardised coordinates.
 *
 * `lincomp train` folds the standardisation of numeric features into the
 * first layer, so a stored model takes raw features: a column like wine's
 * proline (~1000, sd ~300) meets weights ~1/300 of the others. Adam takes
 * steps of about lr per parameter whatever its scale, which would move those
 * small weights by a large fraction each step. So lc_finetune trains a copy
 * whose input edges take (x - mean) / sd of the training features, and maps
 * the trained weights back: the same function, trained on the scale it was
 * first trained on.
 *
 * With a teacher in the options (distillation), its logits are taken on the
 * raw features once, before the loop, and lc_train_soft trains on them: the
 * teacher keeps its own coordinates and runs once per row, not per epoch. */
#include "train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Per-feature mean and sd of d over finite values (sd 1 when constant). */
void lc_std_moments(const lc_data *d, double *mean, double *sd)
{
    size_t n = lc_data_rows(d);
    int cols = lc_data_cols(d);
    const float *x = lc_data_x(d);
    for (int c = 0; c < cols; c++) {
        double s = 0, s2 = 0;
        size_t m = 0;
        for (size_t r = 0; r < n; r++) {
            double v = x[r * (size_t)cols + c];
            if (!isfinite(v)) continue;
            s += v;
            m++;
        }
        mean[c] = m ? s / (double)m : 0;
        for (size_t r = 0; r < n; r++) {
            double v = x[r * (size_t)cols + c];
            if (isfinite(v)) s2 += (v - mean[c]) * (v - mean[c]);
        }
        sd[c] = m > 1 ? sqrt(s2 / (double)m) : 0;
        if (!(sd[c] > 1e-12) || !isfinite(sd[c])) sd[c] = 1;
    }
}

/* A copy of d with standardised features, same labels. */
lc_status lc_std_data(const lc_data *d, const double *mean, const double *sd,
                              lc_data **out, lc_error *err)
{
    size_t n = lc_data_rows(d), cells;
    int cols = lc_data_cols(d);
    const int32_t *y = lc_data_y(d);
    if (!lc_mul_ok(n ? n : 1, (size_t)cols, &cells))
        return lc_fail(err, LC_ERR_NOMEM, "standardising: data too large");
    float *x = malloc(cells * sizeof *x);
    if (!x) return lc_fail(err, LC_ERR_NOMEM, "standardising: out of memory for a copy of the data");
    const float *src = lc_data_x(d);
    for (size_t r = 0; r < n; r++)
        for (int c = 0; c < cols; c++) {
            size_t at = r * (size_t)cols + (size_t)c;
            x[at] = (float)(((double)src[at] - mean[c]) / sd[c]);
        }
    int classes = lc_data_classes(d);
    for (size_t r = 0; y && r < n; r++)
        if (y[r] + 1 > classes) classes = y[r] + 1;
    lc_status st = lc_data_from_arrays(n, cols, x, y, classes, out, err);
    free(x);
    return st;
}

/* Every edge leaving the input node: to standardised inputs (forward) or
 * back to raw ones. z = W x + b = (W diag(sd)) x' + (b + W mean). */
void lc_std_rescale_inputs(lc_graph *g, const double *mean, const double *sd, bool forward)
{
    int cols = g->nodes[0].width;
    for (int m = 1; m < g->n_nodes; m++) {
        struct lc_node *nd = &g->nodes[m];
        for (int e = 0; e < nd->n_in; e++) {
            if (nd->in[e].src != 0) continue;
            for (int r = 0; r < nd->width; r++) {
                float *w = nd->in[e].w + (size_t)r * (size_t)cols;
                double shift = 0;
                if (forward) {
                    for (int c = 0; c < cols; c++) {
                        shift += (double)w[c] * mean[c];
                        w[c] = (float)((double)w[c] * sd[c]);
                    }
                    nd->bias[r] = (float)((double)nd->bias[r] + shift);
                } else {
                    for (int c = 0; c < cols; c++) {
                        w[c] = (float)((double)w[c] / sd[c]);
                        shift += (double)w[c] * mean[c];
                    }
                    nd->bias[r] = (float)((double)nd->bias[r] - shift);
                }
            }
        }
    }
}

lc_status lc_finetune(lc_graph *g, const lc_data *train, const lc_data *val,
                      const lc_train_opts *o, lc_error *err)
{
    int cols = g->nodes[0].width;
    if (lc_data_cols(train) != cols || (val && lc_data_cols(val) != cols))
        return lc_fail(err, LC_ERR_SHAPE, "fine-tuning: the data has %d features, the model "
                       "takes %d", lc_data_cols(val && lc_data_cols(val) != cols ? val : train),
                       cols);
    if ((!o->teacher && !lc_data_y(train)) || (val && !lc_data_y(val)))
        return lc_fail(err, LC_ERR_INVALID, "fine-tuning needs labelled data%s",
                       o->teacher ? " for validation" : " (or a teacher to distil from)");
    float *soft;
    lc_status st = lc_teacher_logits(g, o->teacher, train, &soft, err);
    if (st) return st;
    double *mean = malloc((size_t)cols * sizeof *mean), *sd = malloc((size_t)cols * sizeof *sd);
    lc_data *tr = NULL, *va = NULL;
    lc_graph *h = NULL;
    if (!mean || !sd) st = lc_fail(err, LC_ERR_NOMEM, "fine-tuning: out of memory");
    if (!st) {
        lc_std_moments(train, mean, sd);
        st = lc_std_data(train, mean, sd, &tr, err);
    }
    if (!st && val) st = lc_std_data(val, mean, sd, &va, err);
    if (!st) st = lc_graph_clone(g, &h, err);
    if (!st) {
        lc_std_rescale_inputs(h, mean, sd, true);
        st = lc_train_soft(h, tr, va, o, soft, err);
    }
    if (!st) {
        lc_std_rescale_inputs(h, mean, sd, false);
        st = lc_graph_check_finite(h, err);
    }
    if (!st) memcpy(g->block, h->block, g->n_floats * sizeof(float));
    lc_graph_free(h);
    lc_data_free(tr);
    lc_data_free(va);
    free(mean);
    free(sd);
    free(soft);
    return st;
}
