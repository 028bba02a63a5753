/* induce.c - `lincomp compress MODEL --induce --target-size R --train DATA
 * --val DATA [--data CAL] -o OUT.onnx`: lc_compress with induce on (train
 * gates that make neurons linear where folding pays, fold them, fine-tune;
 * docs/induce.md; with --data the result is folded once more where that is
 * exact on the calibration samples). The options are compress's
 * (compress_opts.c); the table is printed from the report. */
#include "compress.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The induction's own lines (the start, one per epoch) go to stderr as they
 * are; the calibration fold's stages as the other commands' stages. */
static void on_progress(void *ctx, const lc_progress *p)
{
    const cli_common *c = ctx;
    if (p->kind != LC_PROGRESS_STAGE && p->kind != LC_PROGRESS_LINE) return;
    if (!strcmp(p->stage, "induce")) fprintf(stderr, "%s\n", p->message);
    else cli_stage(c, "%s", p->message);
}

static const cJSON *get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void print_table(const char *model, const char *out, const cJSON *rep)
{
    static const char *keys[] = {"original", "induced", "rounded", "folded", "finetuned"};
    static const char *names[] = {"original", "induced (gates)", "rounded (0/1)", "folded",
                                  "fine-tuned"};
    const cJSON *sch = get(rep, "schedule"), *cal = get(rep, "calibration"), *l;
    double pb = num(rep, "params_before");
    printf("%s -> %s (target size %g, %.0f + %.0f epochs)\n\n", model, out,
           num(rep, "target_size"), num(sch, "epochs"), num(sch, "finetune_epochs"));
    printf("  %-20s %8s %8s\n", "node", "width", "linear");
    cJSON_ArrayForEach(l, get(rep, "layers"))
        printf("  %-20.20s %8.0f %8.0f\n", cJSON_GetStringValue(get(l, "name")),
               num(l, "width_before"), num(l, "induced_linear"));
    printf("\n  %-18s %10s %7s %9s %9s\n", "stage", "params", "ratio", "val_acc", "test_acc");
    for (int i = 0; i < 5; i++) {
        const cJSON *s = get(get(rep, "stages"), keys[i]);
        printf("  %-18s %10.0f %7.4f %9.4f %9.4f\n", names[i], num(s, "params"),
               num(s, "params") / pb, num(s, "val_accuracy"), num(s, "test_accuracy"));
    }
    if (cJSON_IsObject(cal))
        printf("  %-18s %10.0f %7.4f %9.4f %9.4f\n", "calibration fold",
               num(cal, "params_after"), num(cal, "params_after") / pb,
               num(rep, "accuracy_after"), num(rep, "test_accuracy_after"));
    printf("\n  fold exactness: max |rounded - folded| = %.3g\n", num(rep, "fold_max_abs_diff"));
    if (cJSON_IsObject(cal))
        printf("  calibration fold (--data, %.0f samples): %.0f linear and %.0f constant neurons "
               "more, max |change| = %.3g\n", num(cal, "samples"), num(cal, "folded_linear"),
               num(cal, "removed_constant"), num(cal, "max_abs_diff"));
}

int compress_induce(const cli_common *cc, const compress_args *a, const char *model_path)
{
    cli_common c = *cc;
    if (cli_check_output(a->out) || (a->report && cli_check_output(a->report))) return 1;
    lc_graph *g = NULL, *res = NULL;
    lc_data *tr = NULL, *va = NULL, *te = NULL, *cd = NULL;
    char *text = NULL;
    cJSON *rep = NULL;
    lc_error err = {0};
    int rc = 1;
    if (cli_load_model(model_path, &g)) goto done;
    if (lc_graph_check_finite(g, &err)) {
        cli_error(1, "%s: %s", model_path, err.msg);
        goto done;
    }
    /* --labels is --data's, or --train's when there is no --data */
    const char *main = a->data ? a->data : a->train;
    if (cli_load_data(&c, a->train, cli_labels_for(&c, a->train, main, a->train_labels), g,
                      CLI_LABELS_USED, NULL, &tr))
        goto done;
    if (!lc_data_y(tr)) {
        cli_error(1, "%s: no labels: --induce trains the model and needs a label column "
                     "(--label) or, for NPY, --train-labels", a->train);
        goto done;
    }
    if (cli_load_data(&c, a->val, cli_labels_for(&c, a->val, main, a->val_labels), g,
                      CLI_LABELS_NEEDED, tr, &va))
        goto done;
    if (a->test && cli_load_data(&c, a->test, cli_labels_for(&c, a->test, main, a->test_labels),
                                 g, CLI_LABELS_NEEDED, tr, &te))
        goto done;
    if (a->data && cli_load_data(&c, a->data, c.labels_path, g, CLI_LABELS_UNUSED, NULL, &cd))
        goto done;
    if (cd && lc_data_rows(cd) == 0) {
        cli_error(1, "%s: no samples", a->data);
        goto done;
    }
    lc_compress_opts o;
    lc_compress_opts_default(&o);
    o.induce = 1;
    o.induce_opts = a->io;
    o.target_size = a->target;
    o.induce_test = te;
    o.model_name = model_path;
    o.output_name = a->out;
    o.data_name = a->data;
    o.train_name = a->train;
    o.progress = c.quiet ? NULL : on_progress;
    o.progress_ctx = &c;
    if (lc_compress(g, cd, va, tr, &o, &res, &text, &err)) {
        cli_lc_error(&err);
        goto done;
    }
    if (lc_onnx_save(res, a->out, &err)) {
        cli_lc_error(&err);
        goto done;
    }
    if (!(rep = cJSON_Parse(text))) {
        cli_error(1, "out of memory");
        goto done;
    }
    if (!c.json) print_table(model_path, a->out, rep);
    if (!c.quiet && num(rep, "params_after") > num(rep, "target_params"))
        fprintf(stderr, "lincomp %s: warning: the target size was not reached (%.0f > %.0f "
                        "parameters)\n", cli_cmd, num(rep, "params_after"),
                num(rep, "target_params"));
    if ((c.json && cli_write_text(text, "-")) || (a->report && cli_write_text(text, a->report))) {
        remove(a->out);
        goto done;
    }
    rc = 0;
done:
    cJSON_Delete(rep);
    lc_free(text);
    lc_graph_free(res);
    lc_graph_free(g);
    lc_data_free(cd);
    lc_data_free(te);
    lc_data_free(va);
    lc_data_free(tr);
    return rc;
}
