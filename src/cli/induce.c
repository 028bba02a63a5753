/* induce.c - `lincomp compress MODEL --induce --target-size R --train DATA
 * --val DATA [--data CAL] -o OUT.onnx`: train gates that make neurons
 * linear where folding pays, fold them, fine-tune (docs/induce.md). The
 * options are compress's (compress_opts.c). With --data the result is
 * folded once more where that is exact on the calibration samples
 * (threshold 1.0, layer threshold auto), as plain compress would fold it. */
#include "compress.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_epoch(void *ctx, const lc_induce_epoch *e)
{
    (void)ctx;
    if (!e->finetune)
        fprintf(stderr, "induce   %3d/%d  loss %.4f  acc %.4f  val_acc %.4f  lambda %.3g  "
                        "gates>=0.5 %d  =1 %d  est_params %zu  %.1fs\n",
                e->epoch, e->epochs, e->train_loss, e->train_acc, e->val_acc, e->lambda,
                e->gates_high, e->gates_one, e->est_params, e->seconds);
    else
        fprintf(stderr, "finetune %3d/%d  loss %.4f  acc %.4f  val_acc %.4f  %.1fs\n", e->epoch,
                e->epochs, e->train_loss, e->train_acc, e->val_acc, e->seconds);
}

static void add_acc(cJSON *o, const char *key, double v)
{
    if (isnan(v)) cJSON_AddNullToObject(o, key);
    else cJSON_AddNumberToObject(o, key, v);
}

/* The extra fold on the calibration data (--data). */
typedef struct {
    bool on;
    size_t samples, params_before, params_after;
    int linear, constant;  /* neurons folded on top of the induced ones */
    double max_abs_diff;   /* of the induced model and its fold on --data */
    double val_acc, test_acc;
    lc_plan *plan;         /* made for the induced graph f */
} calib;

/* Node of h named as node k of g, or -1. */
static int same_node(const lc_graph *g, int k, const lc_graph *h)
{
    for (int j = 0; j < lc_graph_nodes(h); j++)
        if (!strcmp(lc_graph_name(h, j), lc_graph_name(g, k))) return j;
    return -1;
}

static cJSON *report(const char *model, const char *out, const lc_graph *g, const lc_graph *f,
                     const lc_graph *fin, const lc_induce_opts *o, const lc_induce_result *r,
                     const calib *cal)
{
    static const char *names[] = {"original", "induced", "rounded", "folded", "finetuned"};
    const lc_induce_stage *st[] = {&r->original, &r->induced, &r->rounded, &r->folded,
                                   &r->finetuned};
    size_t pb = lc_graph_params(g), pa = lc_graph_params(fin);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", model);
    cJSON_AddStringToObject(j, "output", out);
    cJSON_AddStringToObject(j, "method", "induce");
    cJSON_AddNumberToObject(j, "params_before", (double)pb);
    cJSON_AddNumberToObject(j, "params_after", (double)pa);
    cJSON_AddNumberToObject(j, "size_ratio", (double)pa / (double)pb);
    cJSON_AddNumberToObject(j, "flops_before", (double)lc_graph_flops(g));
    cJSON_AddNumberToObject(j, "flops_after", (double)lc_graph_flops(fin));
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
    cJSON *sch = cJSON_AddObjectToObject(j, "schedule");
    cJSON_AddNumberToObject(sch, "epochs", r->epochs);
    cJSON_AddNumberToObject(sch, "min_steps", o->min_steps);
    cJSON_AddNumberToObject(sch, "finetune_epochs", o->finetune_epochs);
    cli_distill dist = {o->finetune_labels, o->temperature, o->alpha, false};
    cli_distill_json(cJSON_AddObjectToObject(sch, "finetune_target"), &dist);
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
    }
    return j;
}

static void print_table(const char *model, const char *out, const lc_graph *g,
                        const lc_induce_opts *o, const lc_induce_result *r, const calib *cal)
{
    static const char *names[] = {"original", "induced (gates)", "rounded (0/1)", "folded",
                                  "fine-tuned"};
    const lc_induce_stage *st[] = {&r->original, &r->induced, &r->rounded, &r->folded,
                                   &r->finetuned};
    double pb = (double)r->original.params;
    printf("%s -> %s (target size %g, %d + %d epochs)\n\n", model, out, o->target_size,
           r->epochs, o->finetune_epochs);
    printf("  %-20s %8s %8s\n", "node", "width", "linear");
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++)
        printf("  %-20.20s %8d %8d\n", lc_graph_name(g, k), lc_graph_width(g, k),
               r->linearized[k]);
    printf("\n  %-18s %10s %7s %9s %9s\n", "stage", "params", "ratio", "val_acc", "test_acc");
    for (int i = 0; i < 5; i++)
        printf("  %-18s %10zu %7.4f %9.4f %9.4f\n", names[i], st[i]->params,
               (double)st[i]->params / pb, st[i]->val_acc, st[i]->test_acc);
    if (cal->on)
        printf("  %-18s %10zu %7.4f %9.4f %9.4f\n", "calibration fold", cal->params_after,
               (double)cal->params_after / pb, cal->val_acc, cal->test_acc);
    printf("\n  fold exactness: max |rounded - folded| = %.3g\n", r->fold_max_abs_diff);
    if (cal->on)
        printf("  calibration fold (--data, %zu samples): %d linear and %d constant neurons "
               "more, max |change| = %.3g\n", cal->samples, cal->linear, cal->constant,
               cal->max_abs_diff);
}

/* --data: f folded where it is exact on the calibration samples; *out is f
 * itself (not copied) when nothing folds. */
static int calibration_fold(const cli_common *c, const lc_graph *f, const lc_data *d,
                            const lc_data *va, const lc_data *te, lc_graph **out, calib *cal)
{
    lc_error err = {0};
    lc_stats *st = NULL;
    lc_graph *cf = NULL;
    lc_layer_threshold lt = {LC_LAYER_AUTO, 0};
    lc_eval_result ev;
    cal->on = true;
    cal->samples = lc_data_rows(d);
    cal->params_before = lc_graph_params(f);
    cal->val_acc = cal->test_acc = NAN;
    cli_stage(c, "calibration fold: statistics over %zu samples", lc_data_rows(d));
    if (lc_stats_compute(f, lc_data_x(d), lc_data_rows(d), lc_data_cols(d), &st, &err) ||
        lc_plan_from_stats(f, st, 1.0, lt, &cal->plan, &err) || lc_fold(f, cal->plan, &cf, NULL, &err))
        goto lcerr;
    lc_stats_free(st);
    st = NULL;
    for (int k = 1; k < lc_graph_nodes(f) - 1; k++) {
        cal->linear += lc_plan_folded_linear(cal->plan, k);
        cal->constant += lc_plan_removed_constant(cal->plan, k);
    }
    cal->params_after = lc_graph_params(cf);
    if (cli_max_abs_diff(f, cf, d, &cal->max_abs_diff)) goto fail;
    if (lc_evaluate(cf, va, &ev, &err)) goto lcerr;
    cal->val_acc = ev.accuracy;
    if (te) {
        if (lc_evaluate(cf, te, &ev, &err)) goto lcerr;
        cal->test_acc = ev.accuracy;
    }
    *out = cf;
    return 0;
lcerr:
    cli_lc_error(&err);
fail:
    lc_stats_free(st);
    lc_graph_free(cf);
    return 1;
}

int compress_induce(const cli_common *cc, const compress_args *a, const char *model_path)
{
    cli_common c = *cc;
    lc_induce_opts o = a->io;
    const char *train_path = a->train, *val_path = a->val, *test_path = a->test,
               *out_path = a->out, *report_path = a->report;
    if (cli_check_output(out_path) || (report_path && cli_check_output(report_path))) return 1;

    lc_graph *g = NULL, *f = NULL, *fin = NULL;
    lc_data *tr = NULL, *va = NULL, *te = NULL, *cd = NULL;
    calib cal = {0};
    cJSON *rep = NULL;
    lc_induce_result res = {0};
    lc_error err = {0};
    int rc = 1;
    if (cli_load_model(model_path, &g)) goto done;
    if (lc_graph_check_finite(g, &err)) {
        cli_error(1, "%s: %s", model_path, err.msg);
        goto done;
    }
    if (cli_load_data(&c, train_path, g, false, &tr)) goto done;
    if (!lc_data_y(tr)) {
        cli_error(1, "%s: no labels: --induce trains the model and needs a label column "
                     "(--label) or, for NPY, --labels", train_path);
        goto done;
    }
    if (cli_load_data(&c, val_path, g, true, &va)) goto done;
    if (test_path && cli_load_data(&c, test_path, g, true, &te)) goto done;
    if (a->data && cli_load_data(&c, a->data, g, false, &cd)) goto done;
    if (cd && lc_data_rows(cd) == 0) {
        cli_error(1, "%s: no samples", a->data);
        goto done;
    }
    if (!c.quiet) {
        o.epoch_cb = on_epoch;
        fprintf(stderr, "inducing linearity in %s: target %g of %zu parameters, %d + %d "
                        "epochs on %zu samples\n", model_path, o.target_size,
                lc_graph_params(g), o.epochs, o.finetune_epochs, lc_data_rows(tr));
    }
    if (lc_induce(g, tr, va, te, &o, &f, &res, &err)) goto lcerr;
    if (cd && calibration_fold(&c, f, cd, va, te, &fin, &cal)) goto done;
    const lc_graph *result = fin ? fin : f;
    if (lc_onnx_save(result, out_path, &err)) goto lcerr;
    rep = report(model_path, out_path, g, f, result, &o, &res, &cal);
    if (!c.json) print_table(model_path, out_path, g, &o, &res, &cal);
    if (!c.quiet && lc_graph_params(result) > res.budget)
        fprintf(stderr, "lincomp %s: warning: the target size was not reached (%zu > %zu "
                        "parameters)\n", cli_cmd, lc_graph_params(result), res.budget);
    if ((c.json && cli_write_json(rep, "-")) || (report_path && cli_write_json(rep, report_path))) {
        remove(out_path);
        goto done;
    }
    rc = 0;
    goto done;
lcerr:
    cli_lc_error(&err);
done:
    cJSON_Delete(rep);
    lc_induce_result_clear(&res);
    lc_plan_free(cal.plan);
    lc_graph_free(fin);
    lc_graph_free(f);
    lc_graph_free(g);
    lc_data_free(cd);
    lc_data_free(te);
    lc_data_free(va);
    lc_data_free(tr);
    return rc;
}
