/* prune.c - lc_prune_report: importance pruning (lc_prune, train room) with
 * the accuracy on validation data before and after and the JSON report of
 * `lincomp prune` (docs/pruning.md), so that the CLI and the Python binding
 * share one report. */
#include "pipeline/pipeline.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

typedef struct {
    const lc_prune_opts *o; /* the caller's, whose epoch_cb is passed on */
    int n, cap;
    lc_prune_epoch *e;
    bool nomem;
} history;

static void on_epoch(void *ctx, const lc_prune_epoch *e)
{
    history *h = ctx;
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 16;
        lc_prune_epoch *p = realloc(h->e, (size_t)cap * sizeof *p);
        if (!p) h->nomem = true;
        else h->e = p, h->cap = cap;
    }
    if (h->n < h->cap) h->e[h->n++] = *e;
    if (h->o->epoch_cb) h->o->epoch_cb(h->o->cb_ctx, e);
}

static cJSON *report(const char *model, const char *out, const lc_graph *g, const lc_graph *pg,
                     const lc_prune_opts *o, const history *h, const lc_eval_result *before,
                     const lc_eval_result *after)
{
    size_t pa = lc_graph_params(pg);
    size_t budget = (size_t)floor(o->target * (double)lc_graph_file_params(g));
    cJSON *r = cJSON_CreateObject();
    pl_json_name(r, "model", model);
    pl_json_name(r, "output", out);
    pl_json_size(r, g, pg);
    cJSON_AddNumberToObject(r, "target_size", o->target);
    cJSON_AddNumberToObject(r, "target_params", (double)budget);
    cJSON_AddBoolToObject(r, "target_reached", pa <= budget);
    cJSON_AddNumberToObject(r, "epochs", o->train.epochs);
    cJSON_AddNumberToObject(r, "start_acc", o->start_acc);
    cJSON_AddNumberToObject(r, "quantile", o->quantile);
    cJSON_AddBoolToObject(r, "bias_correction", o->bias_correction);
    pl_json_training(cJSON_AddObjectToObject(r, "training"), !o->train.teacher,
                     o->train.temperature, o->train.alpha);
    if (before) {
        cJSON_AddNumberToObject(r, "accuracy_before", before->accuracy);
        cJSON_AddNumberToObject(r, "accuracy_after", after->accuracy);
    } else {
        cJSON_AddNullToObject(r, "accuracy_before");
        cJSON_AddNullToObject(r, "accuracy_after");
    }
    cJSON *ep = cJSON_AddArrayToObject(r, "per_epoch");
    for (int i = 0; i < h->n; i++) {
        const lc_prune_epoch *e = &h->e[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddItemToArray(ep, x);
        cJSON_AddNumberToObject(x, "epoch", e->epoch);
        cJSON_AddNumberToObject(x, "train_loss", e->train_loss);
        cJSON_AddNumberToObject(x, "train_acc", e->train_acc);
        if (isnan(e->val_acc)) cJSON_AddNullToObject(x, "val_acc");
        else cJSON_AddNumberToObject(x, "val_acc", e->val_acc);
        cJSON_AddNumberToObject(x, "removed", e->removed);
        cJSON_AddNumberToObject(x, "params", (double)e->params);
    }
    /* pruning keeps every node, so node k of g is node k of pg */
    cJSON *layers = cJSON_AddArrayToObject(r, "layers");
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddItemToArray(layers, l);
        cJSON_AddStringToObject(l, "name", lc_graph_name(g, k));
        cJSON_AddNumberToObject(l, "width_before", lc_graph_width(g, k));
        cJSON_AddNumberToObject(l, "width_after", lc_graph_width(pg, k));
    }
    return r;
}

lc_status lc_prune_report(const lc_graph *g, const lc_data *train, const lc_data *val,
                          const lc_prune_opts *o, const char *model_name,
                          const char *output_name, lc_graph **out, char **text, lc_error *err)
{
    *out = NULL;
    *text = NULL;
    lc_eval_result before = {0}, after = {0};
    lc_status st = val ? lc_evaluate(g, val, &before, err) : LC_OK;
    if (st) return st;
    history h = {o, 0, 0, NULL, false};
    lc_prune_opts po = *o;
    po.epoch_cb = on_epoch;
    po.cb_ctx = &h;
    lc_graph *pg = NULL;
    if (!(st = lc_prune(g, train, val, &po, &pg, err)) && h.nomem)
        st = lc_fail(err, LC_ERR_NOMEM, "prune: out of memory recording the epochs");
    if (!st && val) st = lc_evaluate(pg, val, &after, err);
    if (!st)
        st = pl_json_string(report(model_name, output_name, g, pg, o, &h, val ? &before : NULL,
                                   val ? &after : NULL),
                            text, err);
    free(h.e);
    if (st) lc_graph_free(pg);
    else *out = pg;
    return st;
}
