/* prune.c - `lincomp prune MODEL --train DATA --target-size R -o OUT.onnx`:
 * activation-based importance pruning during training, the baseline that
 * the paper compares folding with (docs/pruning.md). */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    lc_prune_opts o;
    lc_prune_opts_default(&o);
    fprintf(f,
            "usage: lincomp prune MODEL.onnx --train DATA --target-size R -o OUT.onnx [options]\n\n"
            "Trains the model and, after every epoch whose training accuracy exceeds the\n"
            "start level, removes the hidden neurons at or below the quantile of\n"
            "activation rate (share of training samples with z in the identity piece)\n"
            "until the model has R of its parameters; then trains on to the epoch\n"
            "budget. Removed neurons are replaced by nothing (plain pruning).\n\n"
            "  --train FILE        training data (CSV, IDX or NPY) (required; labels\n"
            "                      needed with --finetune-target labels)\n"
            "  --target-size R     parameter budget as a share of the model, in (0, 1]\n"
            "                      (required)\n"
            "  -o FILE             the pruned ONNX model (required)\n"
            "  --val FILE          labelled data: accuracy per epoch, before and after\n"
            "  --epochs N          the whole training budget (default %d)\n"
            "  --start-acc X       prune after epochs with training accuracy > X\n"
            "                      (default %g)\n"
            "  --quantile Q        remove neurons with rate <= the Q quantile (default %g)\n"
            "  --bias-correction   fold a removed neuron's mean output into its\n"
            "                      consumers' biases (default off: the paper's removal)\n"
            "  --batch N           (default %d)\n"
            "  --optimizer NAME    adam or sgd (default adam; Adam restarts every epoch)\n"
            "  --lr X              (default 1e-3 for adam, 0.01 for sgd)\n"
            "  --momentum X        sgd momentum (default %g)\n"
            "  --seed N            shuffling (default %llu)\n"
            "  --report FILE       JSON report (--json: on stdout)\n"
            "training target: labels (default: the model given may be untrained), or with\n"
            "--finetune-target distill the given model as the teacher (then labels are\n"
            "optional; without them its predictions count for --start-acc):\n"
            CLI_DISTILL_HELP("labels")
            "  --labels FILE       labels of an NPY --train (IDX: the file beside it)\n"
            "  --val-labels FILE   the same for --val\n"
            "  --label NAME, --threads N, -q/--quiet, --verbose\n",
            o.train.epochs, o.start_acc, o.quantile, o.train.batch, o.train.momentum,
            (unsigned long long)o.train.seed);
}

static void on_epoch(void *ctx, const lc_prune_epoch *e)
{
    (void)ctx;
    fprintf(stderr, "epoch %3d/%d  loss %.4f  acc %.4f", e->epoch, e->epochs, e->train_loss,
            e->train_acc);
    if (!isnan(e->val_acc)) fprintf(stderr, "  val_acc %.4f", e->val_acc);
    fprintf(stderr, "  removed %4d  params %zu  %.2fs\n", e->removed, e->params, e->seconds);
}

static double num(const cJSON *r, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(r, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The table, from the report (the numbers the JSON holds). */
static void print_table(const char *model, const char *out, const lc_graph *g,
                        const lc_graph *pg, const lc_prune_opts *o, const cJSON *rep)
{
    printf("%s -> %s (target size %g, %d epochs)\n\n", model, out, o->target, o->train.epochs);
    printf("  %-20s %8s %8s\n", "node", "before", "after");
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++)
        printf("  %-20.20s %8d %8d\n", lc_graph_name(g, k), lc_graph_width(g, k),
               lc_graph_width(pg, k));
    printf("\n  %-20s %12s %12s %8s\n", "", "before", "after", "ratio");
    printf("  %-20s %12.0f %12.0f %8.4f\n", "parameters", num(rep, "params_before"),
           num(rep, "params_after"), num(rep, "size_ratio"));
    printf("  %-20s %12.0f %12.0f %8.4f\n", "FLOPs per sample", num(rep, "flops_before"),
           num(rep, "flops_after"), num(rep, "flops_after") / num(rep, "flops_before"));
    double a0 = num(rep, "accuracy_before"), a1 = num(rep, "accuracy_after");
    if (!isnan(a0))
        printf("  %-20s %12.4f %12.4f %+8.2f pp\n", "accuracy (--val)", a0, a1, 100 * (a1 - a0));
}

int cmd_prune(int argc, char **argv)
{
    enum {
        OPT_TRAIN = OPT_FIRST_OWN, OPT_VAL, OPT_TARGET, OPT_EPOCHS, OPT_START, OPT_QUANTILE,
        OPT_BIAS, OPT_REPORT, OPT_VAL_LABELS
    };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        {"train", required_argument, 0, OPT_TRAIN}, {"val", required_argument, 0, OPT_VAL},
        {"target-size", required_argument, 0, OPT_TARGET},
        {"epochs", required_argument, 0, OPT_EPOCHS},
        {"start-acc", required_argument, 0, OPT_START},
        {"quantile", required_argument, 0, OPT_QUANTILE},
        {"bias-correction", no_argument, 0, OPT_BIAS},
        {"report", required_argument, 0, OPT_REPORT},
        {"val-labels", required_argument, 0, OPT_VAL_LABELS}, CLI_OPTIMIZER_OPTIONS, CLI_DISTILL_OPTIONS,
        {"output", required_argument, 0, 'o'}, {0, 0, 0, 0}};
    cli_common c = {0};
    lc_prune_opts o;
    lc_prune_opts_default(&o);
    cli_distill dist;
    cli_distill_init(&dist);
    dist.labels = true; /* the model given is often untrained (the paper's baseline) */
    const char *train_path = NULL, *val_path = NULL, *out_path = NULL, *report_path = NULL;
    const char *val_labels = NULL; /* --labels is --train's */
    bool have_target = false;
    long v;
    double x;
    int opt;
    while ((opt = getopt_long(argc, argv, ":hqo:", opts, NULL)) != -1) {
        switch (opt) {
        case 'h': return usage(stdout), 0;
        case 'o': out_path = optarg; break;
        case OPT_TRAIN: train_path = optarg; break;
        case OPT_VAL: val_path = optarg; break;
        case OPT_VAL_LABELS: val_labels = optarg; break;
        case OPT_REPORT: report_path = optarg; break;
        case OPT_BIAS: o.bias_correction = 1; break;
        case OPT_TARGET:
            if (cli_parse_target(optarg, &x)) return EXIT_USAGE;
            o.target = x;
            have_target = true;
            break;
        case OPT_START:
            if (!cli_parse_double(optarg, &x) || !(x >= 0 && x <= 1))
                return cli_usage_error("--start-acc wants a number in [0, 1], got '%s'", optarg);
            o.start_acc = x;
            break;
        case OPT_QUANTILE:
            if (!cli_parse_double(optarg, &x) || !(x > 0 && x <= 1))
                return cli_usage_error("--quantile wants a number in (0, 1], got '%s'", optarg);
            o.quantile = x;
            break;
        case OPT_EPOCHS:
            if (!cli_parse_int(optarg, 1, INT_MAX, &v))
                return cli_usage_error("--epochs wants a positive integer, got '%s'", optarg);
            o.train.epochs = (int)v;
            break;
        default: {
            int r = cli_optimizer_opt(&o.train, opt, optarg);
            if (r == 0) r = cli_distill_opt(&dist, opt, optarg);
            if (r == 0) r = cli_common_opt(&c, opt, optarg, argv);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) return cli_usage_error("unknown option");
        }
        }
    }
    const char *model_path;
    if (cli_one_positional(argc, argv, &model_path, "MODEL")) return EXIT_USAGE;
    if (!train_path) return cli_usage_error("--train is required");
    if (!have_target) return cli_usage_error("--target-size is required");
    if (!out_path) return cli_usage_error("-o OUT.onnx is required");
    if (val_labels && !val_path) return cli_usage_error("--val-labels needs --val");
    if (cli_model_output(out_path)) return EXIT_USAGE;
    if (cli_distill_check(&dist)) return EXIT_USAGE;
    const cli_path outs[] = {{"-o", out_path}, {"--report", report_path}};
    const cli_path ins[] = {{"MODEL", model_path}, {"--train", train_path}, {"--val", val_path},
                            {"--labels", c.labels_path}, {"--val-labels", val_labels}};
    if (cli_check_paths(outs, 2, ins, 5, true)) return EXIT_USAGE;
    if (cli_check_output(out_path)) return 1;

    lc_graph *g = NULL, *pg = NULL;
    lc_data *tr = NULL, *va = NULL;
    cJSON *rep = NULL;
    char *text = NULL;
    lc_error err = {0};
    int rc = 1;
    if (cli_load_model(model_path, &g)) goto done;
    if (lc_graph_check_finite(g, &err)) {
        cli_error(1, "%s: %s", model_path, err.msg);
        goto done;
    }
    if (cli_load_data(&c, train_path, c.labels_path, g, CLI_LABELS_USED, NULL, &tr)) goto done;
    if (!lc_data_y(tr) && dist.labels) {
        cli_error(1, "%s: no labels: --finetune-target labels needs a label column "
                     "(--label) or, for NPY, --labels", train_path);
        goto done;
    }
    if (val_path && cli_load_data(&c, val_path, cli_labels_for(&c, val_path, train_path, val_labels),
                                  g, CLI_LABELS_NEEDED, tr, &va))
        goto done;

    cli_distill_apply(&dist, g, &o.train);
    if (!c.quiet) o.epoch_cb = on_epoch;
    if (!c.quiet)
        fprintf(stderr, "pruning %s to %g of %zu parameters over %d epochs on %zu samples\n",
                model_path, o.target, lc_graph_params(g), o.train.epochs, lc_data_rows(tr));
    if (lc_prune_report(g, tr, va, &o, model_path, out_path, &pg, &text, &err)) goto lcerr;
    if (lc_onnx_save(pg, out_path, &err)) goto lcerr;
    if (!(rep = cJSON_Parse(text))) {
        cli_error(1, "out of memory");
        goto done;
    }
    if (!c.json) print_table(model_path, out_path, g, pg, &o, rep);
    if (!c.quiet && !cJSON_IsTrue(cJSON_GetObjectItem(rep, "target_reached")))
        fprintf(stderr, "lincomp prune: warning: the target size was not reached in %d epochs "
                        "(more --epochs, a lower --start-acc or a higher --quantile prune "
                        "further)\n", o.train.epochs);
    if ((c.json && cli_write_text(text, "-")) || (report_path && cli_write_text(text, report_path))) {
        remove(out_path); /* no half-finished result */
        goto done;
    }
    rc = 0;
    goto done;
lcerr:
    cli_lc_error(&err);
done:
    cJSON_Delete(rep);
    lc_free(text);
    lc_graph_free(pg);
    lc_graph_free(g);
    lc_data_free(va);
    lc_data_free(tr);
    return rc;
}
