/* compress.c - `lincomp compress MODEL --data DATA -o OUT.onnx`: reads the
 * options and files, runs lc_compress (statistics, a plan by threshold,
 * budget or proof, the fold, reconstruction, verification, fine-tuning:
 * src/pipeline), writes the ONNX file and the report and prints the table
 * (DESIGN section 6, docs/budgets.md). */
#include "compress.h"
#include "progress.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int cmd_compress(int argc, char **argv)
{
    cli_common c = {0};
    compress_args a;
    compress_defaults(&a);
    const char *model_path;
    int prc = compress_parse(argc, argv, &c, &a, &model_path);
    if (prc >= 0) return prc;
    const cli_path outs[] = {{"-o", a.out}, {"--report", a.report}};
    const cli_path ins[] = {{"MODEL", model_path}, {"--data", a.data},   {"--val", a.val},
                            {"--train", a.train},  {"--teacher", a.teacher}, {"--test", a.test},
                            {"--labels", c.labels_path}, {"--bounds", a.pr.bounds},
                            {"--val-labels", a.val_labels}, {"--train-labels", a.train_labels},
                            {"--test-labels", a.test_labels}};
    if (cli_check_paths(outs, 2, ins, 11, true)) return EXIT_USAGE;
    if (a.mode == MODE_INDUCE) return compress_induce(&c, &a, model_path);
    lc_error err = {0};
    lc_compress_opts o;
    lc_compress_opts_default(&o);
    if (lc_layer_threshold_parse(a.layer, &o.lt, &err)) return cli_usage_error("%s", err.msg);
    if (cli_check_output(a.out) || (a.report && cli_check_output(a.report))) return 1;

    lc_graph *g = NULL, *cg = NULL, *teacher = NULL;
    lc_data *d = NULL, *v = NULL, *tr = NULL;
    lc_box *box = NULL;
    char *text = NULL;
    cJSON *rep = NULL;
    int rc = 1;
    if (cli_load_model(model_path, &g)) goto done;
    if (lc_graph_check_finite(g, &err)) {
        cli_error(1, "%s: %s", model_path, err.msg);
        goto done;
    }
    if (a.teacher && cli_load_model(a.teacher, &teacher)) goto done;
    if (teacher && lc_graph_check_finite(teacher, &err)) {
        cli_error(1, "%s: %s", a.teacher, err.msg);
        goto done;
    }
    if (cli_load_data(&c, a.data, c.labels_path, g, CLI_LABELS_USED, NULL, &d)) goto done;
    if (a.val && cli_load_data(&c, a.val, cli_labels_for(&c, a.val, a.data, a.val_labels), g,
                               CLI_LABELS_NEEDED, d, &v))
        goto done;
    if (a.train && cli_load_data(&c, a.train, cli_labels_for(&c, a.train, a.data, a.train_labels),
                                 g, a.dist.labels ? CLI_LABELS_NEEDED : CLI_LABELS_USED, d, &tr))
        goto done;
    if (a.finetune && a.dist.labels && !a.train && !lc_data_y(d)) {
        cli_error(1, "%s: no labels for --finetune-target labels (give --train)", a.data);
        goto done;
    }
    if (lc_data_rows(d) == 0) {
        cli_error(1, "%s: no samples", a.data);
        goto done;
    }
    /* everything between the files and the printing is the library's */
    o.threshold = a.tau;
    o.target_size = a.target;
    o.max_drop = a.drop_pp;
    o.confidence = a.confidence;
    o.reconstruct = !a.no_recon;
    o.joint = a.joint;
    if (a.search_rows >= 0) o.search_rows = (size_t)a.search_rows;
    o.prove_threshold = a.tau_set;
    o.finetune_epochs = a.finetune;
    o.finetune = a.topts;
    o.finetune_labels = a.dist.labels;
    o.finetune.temperature = a.dist.temp;
    o.finetune.alpha = a.dist.alpha;
    o.finetune.teacher = teacher;
    o.teacher_name = a.teacher;
    o.model_name = model_path;
    o.output_name = a.out;
    o.data_name = a.data;
    o.train_name = a.train;
    cli_events ev = {.c = &c};
    o.progress = c.quiet ? NULL : cli_on_progress;
    o.progress_ctx = &ev;
    if ((rc = cli_prove_opts(&a.pr, g, &o.prove, &box))) goto done;
    rc = 1;
    if (lc_compress(g, d, v, tr, &o, &cg, &text, &err)) {
        if (a.target > 0 && strstr(err.msg, "cannot be reached")) /* the option, as given */
            cli_error(1, "--target-size %g%s", a.target, strstr(err.msg, " cannot be reached"));
        else cli_lc_error(&err);
        goto done;
    }
    cli_stage(&c, "writing %s", a.out);
    if (lc_onnx_save(cg, a.out, &err)) {
        cli_lc_error(&err);
        goto done;
    }
    if (!(rep = cJSON_Parse(text))) {
        cli_error(1, "out of memory");
        goto done;
    }
    if (!c.json) compress_print(model_path, &a, rep);
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(rep, "warnings"))
        if (!c.quiet && cJSON_IsString(w))
            fprintf(stderr, "lincomp %s: warning: %s\n", cli_cmd, w->valuestring);
    if ((c.json && cli_write_text(text, "-")) || (a.report && cli_write_text(text, a.report))) {
        remove(a.out); /* no half-finished result */
        goto done;
    }
    rc = 0;
done:
    cJSON_Delete(rep);
    lc_free(text);
    lc_box_free(box);
    lc_graph_free(cg);
    lc_graph_free(g);
    lc_graph_free(teacher);
    lc_data_free(tr);
    lc_data_free(v);
    lc_data_free(d);
    return rc;
}
