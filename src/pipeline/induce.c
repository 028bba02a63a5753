/* induce.c - lc_compress with o->induce: train gates that make neurons
 * linear where folding pays, fold them, fine-tune (lc_induce,
 * docs/induce.md); with calibration data the result is folded once more
 * where that is exact on it (threshold 1, layer threshold auto), as plain
 * compress would fold it. The report has the keys of `lincomp compress
 * --induce`. */
#include "compress.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The extra fold on the calibration data. */
typedef struct {
    bool on;
    size_t samples, params_before, params_after;
    int linear, constant;  /* neurons folded on top of the induced ones */
    double max_abs_diff;   /* of the induced model and its fold on the data */
    double val_acc, test_acc;
    lc_plan *plan;         /* made for the induced graph f */
} calib;

static void on_epoch(void *ctx, const lc_induce_epoch *e)
{
    const pl_sink *s = ctx;
    if (!e->finetune)
        pl_say(s, LC_PROGRESS_LINE, "induce", e->epoch,
               "induce   %3d/%d  loss %.4f  acc %.4f  val_acc %.4f  lambda %.3g  "
               "gates>=0.5 %d  =1 %d  est_params %zu  %.1fs", e->epoch, e->epochs,
               e->train_loss, e->train_acc, e->val_acc, e->lambda, e->gates_high, e->gates_one,
               e->est_params, e->seconds);
    else
        pl_say(s, LC_PROGRESS_LINE, "induce", e->epoch,
               "finetune %3d/%d  loss %.4f  acc %.4f  val_acc %.4f  %.1fs", e->epoch, e->epochs,
               e->train_loss, e->train_acc, e->val_acc, e->seconds);
}

static void add_acc(cJSON *o, const char *key, double v)
{
    if (isnan(v)) cJSON_AddNullToObject(o, key);
    else cJSON_AddNumberToObject(o, key, v);
}

/* Node of h named as node k of g, or -1. */
static int same_node(const lc_graph *g, int k, const lc_graph *h)
{
    for (int j = 0; j < lc_graph_nodes(h); j++)
        if (!strcmp(lc_graph_name(h, j), lc_graph_name(g, k))) return j;
    return -1;
}

static cJSON *schedule_json(const lc_induce_opts *o, const lc_induce_result *r)
{
    cJSON *sch = cJSON_CreateObject();
    cJSON_AddNumberToObject(sch, "epochs", r->epochs);
    cJSON_AddNumberToObject(sch, "min_steps", o->min_steps);
    cJSON_AddNumberToObject(sch, "finetune_epochs", o->finetune_epochs);
    pl_json_training(cJSON_AddObjectToObject(sch, "finetune_target"), o->finetune_labels,
                     o->temperature, o->alpha);
    cJSON_AddNumberToObject(sch, "batch", o->batch);
    cJSON_AddNumberToObject(sch, "lr", o->lr);
    cJSON_AddNumberToObject(sch, "gate_lr", o->gate_lr);
    cJSON_AddNumberToObject(sch, "lambda0", o->lambda0);
    cJSON_AddNumberToObject(sch, "lambda_factor", o->lambda_factor);
    cJSON_AddNumberToObject(sch, "checks", o->checks);
    cJSON_AddNumberToObject(sch, "anneal_share", o->anneal_share);
    cJSON_AddNumberToObject(sch, "lambda_final", r->lambda);
    cJSON_AddNumberToObject(sch, "steps", r->steps);
    cJSON_AddNumberToObject(sch, "seed", (double)o->seed);
    return sch;
}

static cJSON *report(const lc_compress_opts *co, const lc_graph *g, const lc_graph *f,
                     const lc_graph *fin, const lc_induce_opts *o, const lc_induce_result *r,
                     const calib *cal)
{
    static const char *names[] = {"original", "induced", "rounded", "folded", "finetuned"};
    const lc_induce_stage *st[] = {&r->original, &r->induced, &r->rounded, &r->folded,
                                   &r->finetuned};
    size_t pb = lc_graph_params(g);
    cJSON *j = cJSON_CreateObject();
    pl_json_name(j, "model", co->model_name);
    pl_json_name(j, "output", co->output_name);
    cJSON_AddStringToObject(j, "method", "induce");
    pl_json_size(j, g, fin);
    cJSON_AddNumberToObject(j, "target_size", o->target_size);
    cJSON_AddNumberToObject(j, "target_params", (double)r->budget);
    cJSON_AddBoolToObject(j, "target_reached", r->met);
    add_acc(j, "accuracy_before", r->original.val_acc);
    add_acc(j, "accuracy_after", cal->on ? cal->val_acc : r->finetuned.val_acc);
    add_acc(j, "test_accuracy_before", r->original.test_acc);
    add_acc(j, "test_accuracy_after", cal->on ? cal->test_acc : r->finetuned.test_acc);
    cJSON_AddNumberToObject(j, "fold_max_abs_diff", r->fold_max_abs_diff);
    if (cal->on) {
        cJSON *cj = cJSON_AddObjectToObject(j, "calibration");
        cJSON_AddNumberToObject(cj, "samples", (double)cal->samples);
        cJSON_AddNumberToObject(cj, "params_before", (double)cal->params_before);
        cJSON_AddNumberToObject(cj, "params_after", (double)cal->params_after);
        cJSON_AddNumberToObject(cj, "folded_linear", cal->linear);
        cJSON_AddNumberToObject(cj, "removed_constant", cal->constant);
        cJSON_AddNumberToObject(cj, "max_abs_diff", cal->max_abs_diff);
    } else {
        cJSON_AddNullToObject(j, "calibration");
    }
    cJSON *stages = cJSON_AddObjectToObject(j, "stages");
    for (int i = 0; i < 5; i++) {
        cJSON *s = cJSON_AddObjectToObject(stages, names[i]);
        cJSON_AddNumberToObject(s, "params", (double)st[i]->params);
        cJSON_AddNumberToObject(s, "size_ratio", (double)st[i]->params / (double)pb);
        add_acc(s, "val_accuracy", st[i]->val_acc);
        add_acc(s, "test_accuracy", st[i]->test_acc);
    }
    cJSON_AddItemToObject(j, "schedule", schedule_json(o, r));
    cJSON *layers = cJSON_AddArrayToObject(j, "layers");
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddItemToArray(layers, l);
        cJSON_AddStringToObject(l, "name", lc_graph_name(g, k));
        cJSON_AddNumberToObject(l, "width_before", lc_graph_width(g, k));
        int kf = same_node(g, k, f), kn = same_node(g, k, fin);
        int lin = r->linearized[k], con = 0;
        if (cal->on && kf >= 0) {
            lin += lc_plan_folded_linear(cal->plan, kf);
            con = lc_plan_removed_constant(cal->plan, kf);
        }
        cJSON_AddNumberToObject(l, "width_after", kn >= 0 ? lc_graph_width(fin, kn) : 0);
        cJSON_AddNumberToObject(l, "folded_linear", lin);
        cJSON_AddNumberToObject(l, "removed_constant", con);
        cJSON_AddNumberToObject(l, "induced_linear", r->linearized[k]);
    }
    return j;
}

/* f folded where it is exact on the calibration samples d. */
static lc_status calibration_fold(const lc_graph *f, const lc_data *d, const lc_data *va,
                                  const lc_data *te, const pl_sink *s, lc_graph **out, calib *cal,
                                  lc_error *err)
{
    lc_stats *st = NULL;
    lc_graph *cf = NULL;
    lc_layer_threshold lt = {LC_LAYER_AUTO, 0};
    lc_eval_result ev;
    cal->on = true;
    cal->samples = lc_data_rows(d);
    cal->params_before = lc_graph_params(f);
    cal->val_acc = cal->test_acc = NAN;
    pl_say(s, LC_PROGRESS_STAGE, "statistics", 0,
           "calibration fold: statistics over %zu samples", lc_data_rows(d));
    lc_status e = lc_stats_compute(f, lc_data_x(d), lc_data_rows(d), lc_data_cols(d), &st, err);
    if (!e) e = lc_plan_from_stats(f, st, 1.0, lt, &cal->plan, err);
    if (!e) e = lc_fold(f, cal->plan, &cf, NULL, err);
    for (int k = 1; !e && k < lc_graph_nodes(f) - 1; k++) {
        cal->linear += lc_plan_folded_linear(cal->plan, k);
        cal->constant += lc_plan_removed_constant(cal->plan, k);
    }
    if (!e) {
        cal->params_after = lc_graph_params(cf);
        e = pl_max_abs_diff(f, NULL, cf, d, &cal->max_abs_diff, err);
    }
    if (!e && !(e = lc_evaluate(cf, va, &ev, err))) cal->val_acc = ev.accuracy;
    if (!e && te && !(e = lc_evaluate(cf, te, &ev, err))) cal->test_acc = ev.accuracy;
    lc_stats_free(st);
    if (e) lc_graph_free(cf);
    else *out = cf;
    return e;
}

lc_status pl_induce(const lc_graph *g, const lc_data *d, const lc_data *tr, const lc_data *va,
                    const lc_compress_opts *co, lc_graph **out, char **rep, lc_error *err)
{
    const lc_data *te = co->induce_test;
    lc_status e;
    if (co->max_drop >= 0 || co->prove.on || co->node_thresholds || co->finetune_epochs)
        return lc_fail(err, LC_ERR_INVALID, "induce takes a size budget (target_size) and "
                       "fine-tunes the folded model itself (induce_opts.finetune_epochs): no "
                       "max_drop, proof, node_thresholds or finetune_epochs with it");
    if (!(co->target_size > 0 && co->target_size <= 1))
        return lc_fail(err, LC_ERR_INVALID, "induce needs target_size in (0, 1], got %g",
                       co->target_size);
    if (!tr || !va) return lc_fail(err, LC_ERR_INVALID, "induce needs training and validation data");
    if ((e = lc_graph_check_finite(g, err))) return e;
    if ((e = pl_check_data(g, tr, co->train_name ? co->train_name : "training data", err)) ||
        (e = pl_check_data(g, va, "validation data", err)) ||
        (te && (e = pl_check_data(g, te, "test data", err))) ||
        (d && (e = pl_check_data(g, d, co->data_name ? co->data_name : "calibration data", err))))
        return e;
    if (!lc_data_y(tr))
        return lc_fail(err, LC_ERR_INVALID, "%s: no labels: induce trains the model and needs "
                       "them", co->train_name ? co->train_name : "training data");
    if (!lc_data_y(va) || (te && !lc_data_y(te)))
        return lc_fail(err, LC_ERR_INVALID, "%s: no labels (needed here)",
                       !lc_data_y(va) ? "validation data" : "test data");
    pl_sink s = {co->progress, co->progress_ctx};
    lc_induce_opts o = co->induce_opts;
    o.target_size = co->target_size;
    o.epoch_cb = on_epoch;
    o.cb_ctx = &s;
    lc_graph *f = NULL, *fin = NULL;
    lc_induce_result res = {0};
    calib cal = {0};
    pl_say(&s, LC_PROGRESS_STAGE, "induce", 0, "inducing linearity in %s: target %g of %zu "
           "parameters, %d + %d epochs on %zu samples", co->model_name ? co->model_name : "the model",
           o.target_size, lc_graph_params(g), o.epochs, o.finetune_epochs, lc_data_rows(tr));
    if ((e = lc_induce(g, tr, va, te, &o, &f, &res, err))) goto done;
    if (d && (e = calibration_fold(f, d, va, te, &s, &fin, &cal, err))) goto done;
    if (rep && (e = pl_json_string(report(co, g, f, fin ? fin : f, &o, &res, &cal), rep, err)))
        goto done;
    *out = fin ? fin : f;
    if (fin) lc_graph_free(f);
    f = fin = NULL;
done:
    lc_induce_result_clear(&res);
    lc_plan_free(cal.plan);
    lc_graph_free(fin);
    lc_graph_free(f);
    return e;
}
