/* train.c - `lincomp train --train DATA [--val DATA] ... -o MODEL.onnx`:
 * fits the preprocessing on the training CSV, trains an MLP, folds the
 * standardisation into the first layer and writes ONNX that takes raw
 * features. */
#include "cli.h"
#include "progress.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_HIDDEN "64,128,128,256,256"
#define MAX_HIDDEN 1024

static void usage(FILE *f)
{
    lc_train_opts o;
    lc_train_opts_default(&o);
    fprintf(f,
            "usage: lincomp train --train DATA [--val DATA] -o MODEL.onnx [options]\n\n"
            "Trains an MLP classifier (softmax cross-entropy) and writes it as ONNX. On a\n"
            "CSV the preprocessing (one-hot, mean imputation, standardisation) is fitted\n"
            "on the training data and stored in the model, which takes raw CSV features.\n\n"
            "  --train FILE        labelled CSV, IDX or NPY (with --labels) (required)\n"
            "  --val FILE          labelled validation data, evaluated after each epoch\n"
            "  --val-labels FILE   labels of an NPY validation file\n"
            "  -o FILE             the trained model (required)\n"
            "  --hidden LIST       hidden widths, or 'none' (default %s)\n"
            "  --act NAME          relu, leaky_relu[:alpha] (alpha 0.01), relu6 or prelu\n"
            "                      (default relu)\n"
            "  --epochs N          (default %d)\n"
            "  --batch N           (default %d)\n"
            "  --optimizer NAME    adam or sgd (default adam)\n"
            "  --lr X              (default 1e-3 for adam, 0.01 for sgd)\n"
            "  --momentum X        sgd momentum (default %g)\n"
            "  --weight-decay X    L2 added to the gradient (default %g)\n"
            "  --patience N        with --val: stop after N epochs without a better\n"
            "                      validation loss and keep the best epoch (default off)\n"
            "  --monitor WHAT      loss or acc: what --patience watches (default loss)\n"
            "  --seed N            initialisation and shuffling (default %llu)\n"
            "  --label NAME        label column of a CSV (default: the last one)\n"
            "  --labels FILE       labels of an NPY training file\n"
            "  --threads N         BLAS threads (default: OpenBLAS's choice); same seed\n"
            "                      and same threads give the same model\n"
            "  -q, --quiet         no line per epoch on stderr\n"
            "  --json              summary as JSON on stdout\n",
            DEFAULT_HIDDEN, o.epochs, o.batch, o.momentum, o.weight_decay,
            (unsigned long long)o.seed);
}

/* "64,128,128": at most MAX_HIDDEN positive widths; "none": no hidden layer. */
static bool parse_hidden(const char *s, int *w, int *n)
{
    *n = 0;
    if (!strcmp(s, "none")) return true;
    while (*n < MAX_HIDDEN) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || v < 1 || v > (1L << 24) || (*end && *end != ',')) return false;
        w[(*n)++] = (int)v;
        if (!*end) return true;
        s = end + 1;
    }
    return false;
}

static bool parse_act(const char *s, lc_act *a)
{
    memset(a, 0, sizeof *a);
    double alpha;
    if (!strcmp(s, "relu")) a->kind = LC_ACT_RELU;
    else if (!strcmp(s, "relu6")) *a = (lc_act){LC_ACT_CLIP, 0, 0, 6};
    else if (!strcmp(s, "prelu")) a->kind = LC_ACT_PRELU;
    else if (!strcmp(s, "leaky_relu")) *a = (lc_act){LC_ACT_LEAKY_RELU, 0.01f, 0, 0};
    else if (!strncmp(s, "leaky_relu:", 11) && cli_parse_double(s + 11, &alpha))
        *a = (lc_act){LC_ACT_LEAKY_RELU, (float)alpha, 0, 0};
    else return false;
    return true;
}

typedef struct progress {
    bool quiet;
    cli_progress bar; /* within an epoch, on a terminal */
    int bar_epoch;
    char bar_what[32];
    char intro[160];  /* printed before the first epoch, after the checks */
    double seconds;
    lc_epoch_info last, best;
} progress;

static void on_epoch(void *ctx, const lc_epoch_info *e)
{
    progress *p = ctx;
    p->last = *e;
    p->seconds += e->seconds;
    if (e->best || p->best.epoch == 0) p->best = *e;
    if (p->quiet) return;
    if (p->bar.drawn) fprintf(stderr, "\r%100s\r", ""); /* the epoch line replaces the bar */
    p->bar.drawn = false;
    if (e->epoch == 1) fprintf(stderr, "%s\n", p->intro);
    if (isnan(e->val_loss))
        fprintf(stderr, "epoch %3d/%d  loss %.4f  acc %.4f  %.2fs\n", e->epoch, e->epochs,
                e->train_loss, e->train_acc, e->seconds);
    else
        fprintf(stderr, "epoch %3d/%d  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f%s  %.2fs\n",
                e->epoch, e->epochs, e->train_loss, e->train_acc, e->val_loss, e->val_acc,
                e->best ? " *" : "  ", e->seconds);
}

static void on_batch(void *ctx, int epoch, size_t done, size_t n)
{
    progress *p = ctx;
    if (p->quiet || !isatty(2)) return;
    if (epoch != p->bar_epoch) { /* a new epoch: a new bar, quietly started */
        p->bar_epoch = epoch;
        snprintf(p->bar_what, sizeof p->bar_what, "epoch %d", epoch);
        cli_progress_start(&p->bar, false, p->bar_what, (double)n, "samples");
    }
    cli_progress_update(&p->bar, (double)done);
}

static int load(const cli_common *c, const char *path, const char *labels, const lc_preproc *pre,
                bool fit, lc_data **d)
{
    lc_error err = {0};
    lc_load_opts o = {0};
    o.label = c->label;
    o.labels_path = labels;
    o.pre = pre;
    o.fit = fit;
    if (lc_data_load(path, &o, d, &err)) return cli_lc_error(&err);
    if (!lc_data_y(*d)) {
        lc_data_free(*d);
        *d = NULL;
        return cli_error(1, "%s: no labels: training needs a label column (--label) or, for NPY, "
                            "--labels", path);
    }
    return 0;
}

static void print_summary(const cli_common *c, const char *out, const lc_graph *g,
                          const progress *p, bool stopped, double seconds)
{
    const lc_epoch_info *e = stopped ? &p->best : &p->last;
    bool val = !isnan(e->val_loss);
    if (c->json) {
        printf("{\"output\": \"");
        for (const char *s = out; *s; s++) /* JSON string escapes */
            (*s == '"' || *s == '\\') ? printf("\\%c", *s)
            : (unsigned char)*s < 0x20 ? printf("\\u%04x", *s) : putchar(*s);
        printf("\", \"params\": %zu, \"flops\": %zu, \"epochs_run\": %d, \"epoch_kept\": %d, "
               "\"train_loss\": %.6f, \"train_accuracy\": %.6f, ",
               lc_graph_params(g), lc_graph_flops(g), p->last.epoch, e->epoch, e->train_loss,
               e->train_acc);
        if (val) printf("\"val_loss\": %.6f, \"val_accuracy\": %.6f, ", e->val_loss, e->val_acc);
        else printf("\"val_loss\": null, \"val_accuracy\": null, ");
        printf("\"seconds\": %.3f}\n", seconds);
        return;
    }
    printf("model      %s\nlayers     %d", out, lc_graph_input_width(g));
    for (int k = 1; k < lc_graph_nodes(g); k++) printf("-%d", lc_graph_width(g, k));
    printf("\nparams     %zu\nepochs     %d run, model of epoch %d\n", lc_graph_params(g),
           p->last.epoch, e->epoch);
    printf("train      loss %.4f  accuracy %.4f (during the epoch)\n", e->train_loss, e->train_acc);
    if (val) printf("val        loss %.4f  accuracy %.4f\n", e->val_loss, e->val_acc);
    printf("seconds    %.2f\n", seconds);
}

int cmd_train(int argc, char **argv)
{
    enum {
        OPT_TRAIN = OPT_FIRST_OWN, OPT_VAL, OPT_VAL_LABELS, OPT_HIDDEN, OPT_ACT, OPT_EPOCHS,
        OPT_WD, OPT_PATIENCE, OPT_MONITOR
    };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        {"train", required_argument, 0, OPT_TRAIN}, {"val", required_argument, 0, OPT_VAL},
        {"val-labels", required_argument, 0, OPT_VAL_LABELS},
        {"hidden", required_argument, 0, OPT_HIDDEN}, {"act", required_argument, 0, OPT_ACT},
        {"epochs", required_argument, 0, OPT_EPOCHS}, {"weight-decay", required_argument, 0, OPT_WD},
        {"patience", required_argument, 0, OPT_PATIENCE},
        {"monitor", required_argument, 0, OPT_MONITOR}, CLI_OPTIMIZER_OPTIONS,
        {"output", required_argument, 0, 'o'}, {0, 0, 0, 0}};
    cli_common c = {0};
    lc_train_opts o;
    lc_train_opts_default(&o);
    const char *train_path = NULL, *val_path = NULL, *val_labels = NULL, *out_path = NULL;
    static int hidden[MAX_HIDDEN];
    int n_hidden = 0;
    parse_hidden(DEFAULT_HIDDEN, hidden, &n_hidden);
    lc_act act = {LC_ACT_RELU, 0, 0, 0};
    bool patience_set = false;
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
        case OPT_HIDDEN:
            if (!parse_hidden(optarg, hidden, &n_hidden))
                return cli_usage_error("--hidden wants positive widths like 64,128,128 or 'none', "
                                       "got '%s'", optarg);
            break;
        case OPT_ACT:
            if (!parse_act(optarg, &act))
                return cli_usage_error("unknown activation '%s' (relu, leaky_relu[:alpha], relu6, "
                                       "prelu)", optarg);
            break;
        case OPT_EPOCHS:
            if (!cli_parse_int(optarg, 1, INT_MAX, &v))
                return cli_usage_error("--epochs wants a positive integer, got '%s'", optarg);
            o.epochs = (int)v;
            break;
        case OPT_WD:
            if (!cli_parse_double(optarg, &x) || !(x >= 0))
                return cli_usage_error("--weight-decay wants a number >= 0, got '%s'", optarg);
            o.weight_decay = x;
            break;
        case OPT_PATIENCE:
            if (!cli_parse_int(optarg, 1, INT_MAX, &v))
                return cli_usage_error("--patience wants a positive integer, got '%s'", optarg);
            o.patience = (int)v;
            patience_set = true;
            break;
        case OPT_MONITOR:
            if (!strcmp(optarg, "loss")) o.monitor = LC_MONITOR_VAL_LOSS;
            else if (!strcmp(optarg, "acc")) o.monitor = LC_MONITOR_VAL_ACC;
            else return cli_usage_error("--monitor wants loss or acc, got '%s'", optarg);
            break;
        default: {
            int r = cli_optimizer_opt(&o, opt, optarg);
            if (r == 0) r = cli_common_opt(&c, opt, optarg, argv);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) return cli_usage_error("unknown option");
        }
        }
    }
    if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!train_path) return cli_usage_error("--train is required");
    if (!out_path) return cli_usage_error("-o MODEL.onnx is required");
    if (cli_model_output(out_path)) return EXIT_USAGE;
    if (patience_set && !val_path) return cli_usage_error("--patience needs --val");
    if (val_labels && !val_path) return cli_usage_error("--val-labels needs --val");
    const cli_path outs[] = {{"-o", out_path}};
    const cli_path ins[] = {{"--train", train_path}, {"--val", val_path},
                            {"--val-labels", val_labels}, {"--labels", c.labels_path}};
    if (cli_check_paths(outs, 1, ins, 4, false)) return EXIT_USAGE;
    if (cli_check_output(out_path)) return 1;

    lc_data *tr = NULL, *va = NULL;
    lc_graph *g = NULL;
    lc_error err = {0};
    int rc = 1;
    if (load(&c, train_path, c.labels_path, NULL, true, &tr)) goto done;
    const lc_preproc *pre = lc_data_preproc(tr);
    if (val_path && load(&c, val_path, val_labels, pre, false, &va)) goto done;
    if (va && lc_data_cols(va) != lc_data_cols(tr)) {
        cli_error(1, "%s: %d features per sample, the training data has %d", val_path,
                  lc_data_cols(va), lc_data_cols(tr));
        goto done;
    }
    int classes = lc_data_classes(tr) >= 2 ? lc_data_classes(tr) : 2;
    if (lc_graph_mlp(lc_data_cols(tr), hidden, n_hidden, classes, act, o.seed, &g, &err))
        goto fail;
    progress prog = {.quiet = c.quiet};
    snprintf(prog.intro, sizeof prog.intro,
             "training on %zu samples, %d features, %d classes: %zu parameters", lc_data_rows(tr),
             lc_data_cols(tr), classes, lc_graph_params(g));
    o.epoch_cb = on_epoch;
    o.batch_cb = on_batch;
    o.cb_ctx = &prog;
    if (lc_train(g, tr, va, &o, &err)) goto fail;
    /* raw CSV features in, in lincomp and in ONNX Runtime alike */
    if (pre && lc_graph_fold_standardize(g, pre, &err)) goto fail;
    if (lc_onnx_save(g, out_path, &err)) goto fail;
    print_summary(&c, out_path, g, &prog, va && o.patience > 0, prog.seconds);
    rc = 0;
    goto done;
fail:
    cli_lc_error(&err);
done:
    lc_graph_free(g);
    lc_data_free(va);
    lc_data_free(tr);
    return rc;
}
