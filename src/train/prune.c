/* prune.c - activation-based importance pruning, the baseline the paper
 * compares folding with: train, and after each epoch that is good enough
 * remove the hidden neurons that are active least often, until the model is
 * at the size budget (docs/pruning.md). Removal is plain structural surgery
 * (lc_graph_remove_neurons), not folding: a removed neuron's output is
 * replaced by 0 (or a given constant), so the function changes. */
#include "train/train.h"
#include "data/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------ structural removal */

static bool kept(const unsigned char *const *keep, int k, int i)
{
    return !keep[k] || keep[k][i];
}

/* Copies the kept rows and columns of one edge. rows/cols map new to old
 * indices. */
static void copy_edge(const float *w, int old_cols, float *nw, const int *rows, int n_rows,
                      const int *cols, int n_cols)
{
    for (int r = 0; r < n_rows; r++) {
        const float *src = w + (size_t)rows[r] * (size_t)old_cols;
        float *dst = nw + (size_t)r * (size_t)n_cols;
        for (int c = 0; c < n_cols; c++) dst[c] = src[cols[c]];
    }
}

lc_status lc_graph_remove_neurons(const lc_graph *g, const unsigned char *const *keep,
                                  const float *const *fill, lc_graph **out, lc_error *err)
{
    *out = NULL;
    int n = g->n_nodes;
    if (n < 2) return lc_fail(err, LC_ERR_INVALID, "removing neurons: a graph of %d nodes", n);
    for (int k = 0; k < n; k++) {
        const struct lc_node *nd = &g->nodes[k];
        int w = 0;
        for (int i = 0; i < nd->width; i++) {
            w += kept(keep, k, i);
            if (fill && fill[k] && !kept(keep, k, i) && !isfinite(fill[k][i]))
                return lc_fail(err, LC_ERR_NUMERIC, "removing neurons: fill value of neuron %d "
                               "of node '%s' is %g", i, nd->name, (double)fill[k][i]);
        }
        if ((k == 0 || k == n - 1) && w != nd->width)
            return lc_fail(err, LC_ERR_INVALID, "removing neurons: node '%s' is the %s and "
                           "keeps all of its %d neurons", nd->name,
                           k == 0 ? "input" : "output", nd->width);
        if (w == 0)
            return lc_fail(err, LC_ERR_INVALID, "removing neurons: node '%s' would lose all "
                           "of its %d neurons (keep at least one)", nd->name, nd->width);
    }

    /* map[k][r]: the old index of node k's r-th kept neuron */
    size_t total = 0, n_edges = 0;
    for (int k = 0; k < n; k++) {
        total += (size_t)g->nodes[k].width;
        n_edges += (size_t)g->nodes[k].n_in;
    }
    lc_node_spec *spec = calloc((size_t)n, sizeof *spec);
    int **map = calloc((size_t)n, sizeof *map);
    int *map_buf = malloc(total * sizeof *map_buf);
    int *srcs = malloc((n_edges ? n_edges : 1) * sizeof *srcs);
    lc_graph *ng = NULL;
    lc_status st = LC_OK;
    if (!spec || !map || !map_buf || !srcs) {
        st = lc_fail(err, LC_ERR_NOMEM, "out of memory removing neurons");
        goto done;
    }
    int *mp = map_buf, *sp = srcs;
    for (int k = 0; k < n; k++) {
        const struct lc_node *nd = &g->nodes[k];
        map[k] = mp;
        int w = 0;
        for (int i = 0; i < nd->width; i++)
            if (kept(keep, k, i)) mp[w++] = i;
        mp += nd->width;
        spec[k] = (lc_node_spec){nd->name, w, nd->act, nd->n_in, sp};
        for (int e = 0; e < nd->n_in; e++) *sp++ = nd->in[e].src;
    }
    if ((st = lc_graph_create(n, spec, &ng, err))) goto done;

    for (int k = 1; k < n; k++) {
        const struct lc_node *od = &g->nodes[k];
        struct lc_node *nd = &ng->nodes[k];
        for (int r = 0; r < nd->width; r++) {
            nd->bias[r] = od->bias[map[k][r]];
            if (od->slope) nd->slope[r] = od->slope[map[k][r]];
        }
        for (int e = 0; e < od->n_in; e++) {
            int j = od->in[e].src, oc = g->nodes[j].width;
            copy_edge(od->in[e].w, oc, nd->in[e].w, map[k], nd->width, map[j],
                      ng->nodes[j].width);
            if (!fill || !fill[j] || ng->nodes[j].width == oc) continue;
            /* the removed producers' constant outputs move into this bias */
            for (int r = 0; r < nd->width; r++) {
                const float *row = od->in[e].w + (size_t)map[k][r] * (size_t)oc;
                double add = 0;
                for (int c = 0; c < oc; c++)
                    if (!kept(keep, j, c)) add += (double)row[c] * fill[j][c];
                nd->bias[r] = (float)(nd->bias[r] + add);
            }
        }
    }
    if ((st = lc_graph_copy_extras(ng, g, err))) goto done;
    *out = ng;
    ng = NULL;
done:
    lc_graph_free(ng);
    free(srcs);
    free(map_buf);
    free(map);
    free(spec);
    return st;
}

/* ----------------------------------------- training on standardised inputs */

/* lincomp train folds (x - mean) / sd into the first layer, so the stored
 * model takes raw features (proline of the wine data is ~1000). Training
 * such a model on raw features would take steps of lr x 1000 in z for the
 * large columns; instead the fold is undone for training and redone at the
 * end. Returns the preprocessing with standardisation on, or NULL when g
 * stores none (or it does not fit g). */
static lc_status standardised_spec(const lc_graph *g, lc_preproc **out, lc_error *err)
{
    *out = NULL;
    const lc_preproc *p = g->pre;
    if (!p || lc_preproc_standardize(p) || lc_preproc_width(p) != g->nodes[0].width)
        return LC_OK;
    bool numeric = false;
    for (int c = 0; c < lc_preproc_n_columns(p); c++)
        numeric |= lc_preproc_column(p, c)->kind == LC_COL_NUMERIC;
    if (!numeric) return LC_OK;
    lc_status st = lc_preproc_clone(p, out, err);
    if (!st) lc_preproc_set_standardize(*out, 1);
    return st;
}

/* The inverse of lc_graph_fold_standardize on every edge from the input:
 * W_std[:, f] = W[:, f] sd_f and b_std = b + sum_f W[:, f] mean_f. */
static void unfold_standardisation(lc_graph *g, const lc_preproc *p)
{
    int in_w = g->nodes[0].width;
    for (int k = 1; k < g->n_nodes; k++) {
        int e = lc_graph_find_edge(g, k, 0);
        if (e < 0) continue;
        struct lc_node *nd = &g->nodes[k];
        for (int i = 0; i < nd->width; i++) {
            float *row = nd->in[e].w + (size_t)i * (size_t)in_w;
            double shift = 0;
            for (int c = 0; c < lc_preproc_n_columns(p); c++) {
                const struct lc_pcol *col = lc_preproc_column(p, c);
                if (col->kind != LC_COL_NUMERIC) continue;
                int f = lc_preproc_offset(p, c);
                shift += (double)row[f] * col->mean;
                row[f] = (float)((double)row[f] * col->sd);
            }
            nd->bias[i] = (float)((double)nd->bias[i] + shift);
        }
    }
}

/* A copy of d with the numeric columns of p standardised. */
static lc_status standardised_data(const lc_data *d, const lc_preproc *p, lc_data **out,
                                   lc_error *err)
{
    lc_status st = lc_data_from_arrays(d->rows, d->cols, d->x, d->y, d->n_classes, out, err);
    if (st) return st;
    float *x = (*out)->x;
    for (int c = 0; c < lc_preproc_n_columns(p); c++) {
        const struct lc_pcol *col = lc_preproc_column(p, c);
        if (col->kind != LC_COL_NUMERIC) continue;
        int f = lc_preproc_offset(p, c);
        for (size_t r = 0; r < d->rows; r++) {
            float *v = &x[r * (size_t)d->cols + f];
            *v = (float)(((double)*v - col->mean) / col->sd);
        }
    }
    return LC_OK;
}

/* ------------------------------------------------------- choosing neurons */

typedef struct ranked {
    double rate;
    int k, i;
} ranked;

static int by_rate(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->rate != y->rate) return x->rate < y->rate ? -1 : 1;
    if (x->k != y->k) return x->k < y->k ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Parameters freed by removing one neuron of node k when the nodes have the
 * widths w: its row in every incoming edge, its bias (and slope), and its
 * column in every consumer's edge. Updating w after each removal keeps the
 * count exact when neighbouring nodes lose neurons in the same step. */
static size_t neuron_saving(const lc_graph *g, const int *w, int k)
{
    const struct lc_node *nd = &g->nodes[k];
    size_t s = 1 + (nd->slope != NULL);
    for (int e = 0; e < nd->n_in; e++) s += (size_t)w[nd->in[e].src];
    for (int m = k + 1; m < g->n_nodes; m++)
        if (lc_graph_find_edge(g, m, k) >= 0) s += (size_t)w[m];
    return s;
}

/* Marks in keep (all ones on entry) the neurons to remove: those at or
 * below the quantile of activation rate, lowest first, while the model is
 * above the budget. *params is updated; *removed counts the neurons. */
static lc_status choose(const lc_graph *g, const lc_stats *s, double quantile, size_t budget,
                        unsigned char **keep, size_t *params, int *removed, lc_error *err)
{
    *removed = 0;
    int n = g->n_nodes;
    size_t total = 0;
    for (int k = 1; k < n - 1; k++) total += (size_t)g->nodes[k].width;
    if (total == 0) return LC_OK;
    ranked *r = malloc(total * sizeof *r);
    int *w = malloc((size_t)n * sizeof *w);
    if (!r || !w) {
        free(r);
        free(w);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory ranking neurons");
    }
    size_t t = 0;
    for (int k = 1; k < n - 1; k++)
        for (int i = 0; i < g->nodes[k].width; i++)
            r[t++] = (ranked){lc_stats_rate(s, k, i), k, i};
    qsort(r, total, sizeof *r, by_rate);
    for (int k = 0; k < n; k++) w[k] = g->nodes[k].width;

    /* the lower quantile: the smallest rate with at least quantile x total
     * rates at or below it (the epsilon keeps 0.05 x 100 at 5, not 6) */
    double pos = ceil(quantile * (double)total - 1e-9);
    size_t qi = pos < 1 ? 0 : (size_t)pos - 1;
    if (qi >= total) qi = total - 1;
    double q = r[qi].rate;
    for (size_t c = 0; c < total && r[c].rate <= q && *params > budget; c++) {
        int k = r[c].k;
        if (w[k] <= 1) continue; /* never the last neuron of a node */
        *params -= neuron_saving(g, w, k);
        w[k]--;
        keep[k][r[c].i] = 0;
        (*removed)++;
    }
    free(r);
    free(w);
    return LC_OK;
}

/* Mean output h of every hidden neuron over the rows of d: the constant a
 * removed neuron is best replaced with (bias correction). */
static lc_status mean_outputs(const lc_graph *g, const lc_data *d, float **mean, lc_error *err)
{
    size_t n = d->rows, batch = n < LC_BATCH ? n : LC_BATCH;
    size_t total = 0;
    for (int k = 1; k < g->n_nodes - 1; k++) total += (size_t)g->nodes[k].width;
    double *sum = calloc(total ? total : 1, sizeof *sum);
    if (!sum) return lc_fail(err, LC_ERR_NOMEM, "out of memory for mean outputs");
    lc_work w;
    lc_status st = lc_work_init(&w, g, batch ? batch : 1, err);
    if (st) {
        free(sum);
        return st;
    }
    for (size_t r0 = 0; r0 < n; r0 += batch) {
        size_t m = n - r0 < batch ? n - r0 : batch;
        lc_forward_batch(g, &w, d->x + r0 * (size_t)d->cols, m, NULL, NULL);
        double *sp = sum;
        for (int k = 1; k < g->n_nodes - 1; k++) {
            int wk = g->nodes[k].width;
            for (size_t r = 0; r < m; r++)
                for (int i = 0; i < wk; i++) sp[i] += w.h[k][r * (size_t)wk + i];
            sp += wk;
        }
    }
    double *sp = sum;
    for (int k = 1; k < g->n_nodes - 1; k++) {
        for (int i = 0; i < g->nodes[k].width; i++)
            mean[k][i] = n ? (float)(sp[i] / (double)n) : 0.0f;
        sp += g->nodes[k].width;
    }
    lc_work_free(&w);
    free(sum);
    return LC_OK;
}

/* One pruning step on *g: statistics, choice, removal. */
static lc_status prune_step(lc_graph **g, const lc_data *train, const lc_prune_opts *o,
                            size_t budget, int *removed, lc_error *err)
{
    *removed = 0;
    lc_graph *cur = *g;
    int n = cur->n_nodes;
    size_t total = 0;
    for (int k = 0; k < n; k++) total += (size_t)cur->nodes[k].width;
    unsigned char **keep = calloc((size_t)n, sizeof *keep);
    unsigned char *kbuf = malloc(total);
    float **fill = o->bias_correction ? calloc((size_t)n, sizeof *fill) : NULL;
    float *fbuf = o->bias_correction ? calloc(total, sizeof *fbuf) : NULL;
    lc_stats *s = NULL;
    lc_graph *ng = NULL;
    lc_status st = LC_OK;
    if (!keep || !kbuf || (o->bias_correction && (!fill || !fbuf))) {
        st = lc_fail(err, LC_ERR_NOMEM, "out of memory pruning");
        goto done;
    }
    memset(kbuf, 1, total);
    for (int k = 0, off = 0; k < n; off += cur->nodes[k].width, k++) {
        keep[k] = kbuf + off;
        if (fill) fill[k] = fbuf + off;
    }
    if ((st = lc_stats_compute(cur, train->x, train->rows, train->cols, &s, err))) goto done;
    size_t params = cur->n_floats;
    if ((st = choose(cur, s, o->quantile, budget, keep, &params, removed, err))) goto done;
    if (*removed == 0) goto done;
    if (fill && (st = mean_outputs(cur, train, fill, err))) goto done;
    /* keep[0] and keep[last] stay all ones, which lc_graph_remove_neurons accepts */
    if ((st = lc_graph_remove_neurons(cur, (const unsigned char *const *)keep,
                                      (const float *const *)fill, &ng, err)))
        goto done;
    if (ng->n_floats != params) { /* the cost count and the graph must agree */
        st = lc_fail(err, LC_ERR_INVALID, "pruning: expected %zu parameters, got %zu", params,
                     ng->n_floats);
        goto done;
    }
    lc_graph_free(cur);
    *g = ng;
    ng = NULL;
done:
    lc_graph_free(ng);
    lc_stats_free(s);
    free(fbuf);
    free(fill);
    free(kbuf);
    free(keep);
    return st;
}

/* ------------------------------------------------------------ the driver */

void lc_prune_opts_default(lc_prune_opts *o)
{
    memset(o, 0, sizeof *o);
    o->target = 1.0;
    o->start_acc = 0.7;
    o->quantile = 0.05;
    lc_train_opts_default(&o->train);
}

static void keep_epoch(void *ctx, const lc_epoch_info *info) { *(lc_epoch_info *)ctx = *info; }

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

lc_status lc_prune(const lc_graph *g, const lc_data *train, const lc_data *val,
                   const lc_prune_opts *o, lc_graph **out, lc_error *err)
{
    *out = NULL;
    if (!(o->target > 0 && o->target <= 1))
        return lc_fail(err, LC_ERR_INVALID, "pruning: target size %g is not in (0, 1]",
                       o->target);
    if (!(o->quantile > 0 && o->quantile <= 1))
        return lc_fail(err, LC_ERR_INVALID, "pruning: quantile %g is not in (0, 1]",
                       o->quantile);
    if (!(o->start_acc >= 0 && o->start_acc <= 1))
        return lc_fail(err, LC_ERR_INVALID, "pruning: start accuracy %g is not in [0, 1]",
                       o->start_acc);
    if (o->train.epochs < 1)
        return lc_fail(err, LC_ERR_INVALID, "pruning: epochs must be >= 1, got %d",
                       o->train.epochs);
    if (!lc_data_y(train) && !o->train.teacher)
        return lc_fail(err, LC_ERR_INVALID, "pruning: the training data has no labels (and "
                       "there is no teacher to distil from)");

    size_t budget = (size_t)floor(o->target * (double)lc_graph_file_params(g));
    lc_preproc *std = NULL;
    lc_data *tr_std = NULL, *va_std = NULL;
    lc_graph *cur = NULL;
    float *soft = NULL; /* the teacher's logits, on the raw features */
    lc_status st;
    if ((st = lc_teacher_logits(g, o->train.teacher, train, &soft, err)) ||
        (st = standardised_spec(g, &std, err)) || (st = lc_graph_clone(g, &cur, err)))
        goto done;
    if (std) {
        unfold_standardisation(cur, std);
        if ((st = standardised_data(train, std, &tr_std, err)) ||
            (val && (st = standardised_data(val, std, &va_std, err))))
            goto done;
        train = tr_std;
        val = va_std;
    }

    lc_train_opts to = o->train;
    to.epochs = 1;
    to.patience = 0;
    lc_epoch_info last = {0};
    to.epoch_cb = keep_epoch;
    to.cb_ctx = &last;
    for (int ep = 1; ep <= o->train.epochs; ep++) {
        double t0 = seconds_now();
        /* a different shuffle each epoch, the first one as lc_train's */
        to.seed = o->train.seed ^ ((uint64_t)(ep - 1) * 0xD1B54A32D192ED03ull);
        if ((st = lc_train_soft(cur, train, val, &to, soft, err))) goto done;
        int removed = 0;
        if (last.train_acc > o->start_acc && cur->n_floats > budget &&
            (st = prune_step(&cur, train, o, budget, &removed, err)))
            goto done;
        if (o->epoch_cb) {
            lc_prune_epoch info = {ep, o->train.epochs, last.train_loss, last.train_acc,
                                   last.val_loss, last.val_acc, removed, cur->n_floats,
                                   seconds_now() - t0};
            o->epoch_cb(o->cb_ctx, &info);
        }
    }
    if (std && (st = lc_graph_fold_standardize(cur, std, err))) goto done;
    *out = cur;
    cur = NULL;
done:
    lc_graph_free(cur);
    lc_data_free(va_std);
    lc_data_free(tr_std);
    lc_preproc_free(std);
    free(soft);
    return st;
}
