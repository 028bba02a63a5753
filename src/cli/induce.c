/* induce.c - `lincomp compress MODEL --induce --target-size R --train DATA
 * --val DATA -o OUT.onnx`: train gates that make neurons linear where
 * folding pays, fold them, fine-tune (docs/induce.md). compress_induce()
 * parses its own options, so `compress --induce` can hand it argv as is
 * (the --induce flag itself is accepted and ignored). */
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
    lc_induce_opts o;
    lc_induce_opts_default(&o);
    fprintf(f,
            "usage: lincomp compress MODEL.onnx --induce --target-size R --train DATA\n"
            "                        --val DATA -o OUT.onnx [options]\n\n"
            "Gives every hidden ReLU neuron a gate g in [0, 1] (relu(z) + g min(z, 0)),\n"
            "trains weights and gates with a penalty that pushes gates to 1 where folding\n"
            "saves the most, annealed until the model fits R of its parameters; then sets\n"
            "the gates to 0 or 1, folds the linear neurons exactly and fine-tunes.\n\n"
            "  --target-size R       parameter budget as a share of the model, in (0, 1]\n"
            "                        (required)\n"
            "  --train FILE          labelled training data (CSV, IDX or NPY) (required)\n"
            "  --val FILE            labelled validation data, for the report (required)\n"
            "  --test FILE           labelled test data, for the report\n"
            "  -o FILE               the compressed ONNX model (required)\n"
            "  --epochs N            induction epochs (default %d; more when needed for\n"
            "                        --min-steps)\n"
            "  --min-steps N         at least N induction steps (default %d)\n"
            "  --finetune-epochs N   after folding (default %d)\n"
            CLI_DISTILL_HELP("distill")
            "  --batch N             (default %d)\n"
            "  --lr X                Adam learning rate of the weights (default %g)\n"
            "  --gate-lr X           Adam learning rate of the gates (default %g)\n"
            "  --lambda0 X           initial penalty strength (default %g)\n"
            "  --lambda-factor X     penalty factor per controller check (default %g)\n"
            "  --seed N              shuffling (default %llu)\n"
            "  --report FILE         JSON report (--json: on stdout)\n"
            "  --label NAME, --labels FILE, --threads N, --quiet\n",
            o.epochs, o.min_steps, o.finetune_epochs, o.batch, o.lr, o.gate_lr, o.lambda0, o.lambda_factor,
            (unsigned long long)o.seed);
}

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

static cJSON *report(const char *model, const char *out, const lc_graph *g, const lc_graph *f,
                     const lc_induce_opts *o, const lc_induce_result *r)
{
    static const char *names[] = {"original", "induced", "rounded", "folded", "finetuned"};
    const lc_induce_stage *st[] = {&r->original, &r->induced, &r->rounded, &r->folded,
                                   &r->finetuned};
    size_t pb = lc_graph_params(g), pa = lc_graph_params(f);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", model);
    cJSON_AddStringToObject(j, "output", out);
    cJSON_AddStringToObject(j, "method", "induce");
    cJSON_AddNumberToObject(j, "params_before", (double)pb);
    cJSON_AddNumberToObject(j, "params_after", (double)pa);
    cJSON_AddNumberToObject(j, "size_ratio", (double)pa / (double)pb);
    cJSON_AddNumberToObject(j, "flops_before", (double)lc_graph_flops(g));
    cJSON_AddNumberToObject(j, "flops_after", (double)lc_graph_flops(f));
    cJSON_AddNumberToObject(j, "target_size", o->target_size);
    cJSON_AddNumberToObject(j, "target_params", (double)r->budget);
    cJSON_AddBoolToObject(j, "target_reached", r->met);
    add_acc(j, "accuracy_before", r->original.val_acc);
    add_acc(j, "accuracy_after", r->finetuned.val_acc);
    add_acc(j, "test_accuracy_before", r->original.test_acc);
    add_acc(j, "test_accuracy_after", r->finetuned.test_acc);
    cJSON_AddNumberToObject(j, "fold_max_abs_diff", r->fold_max_abs_diff);
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
        cJSON_AddNumberToObject(l, "width_after", lc_graph_width(g, k) - r->linearized[k]);
        cJSON_AddNumberToObject(l, "folded_linear", r->linearized[k]);
        cJSON_AddNumberToObject(l, "removed_constant", 0);
    }
    return j;
}

static void print_table(const char *model, const char *out, const lc_graph *g,
                        const lc_induce_opts *o, const lc_induce_result *r)
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
    printf("\n  fold exactness: max |rounded - folded| = %.3g\n", r->fold_max_abs_diff);
}

static int parse_pos(const char *flag, const char *arg, double *out)
{
    if (!cli_parse_double(arg, out) || !(*out > 0))
        return cli_usage_error("%s wants a positive number, got '%s'", flag, arg);
    return 0;
}

int compress_induce(int argc, char **argv)
{
    enum {
        OPT_TRAIN = OPT_FIRST_OWN, OPT_VAL, OPT_TEST, OPT_TARGET, OPT_EPOCHS, OPT_FT, OPT_BATCH,
        OPT_LR, OPT_GATE_LR, OPT_MIN_STEPS, OPT_LAMBDA0, OPT_LFACTOR, OPT_SEED, OPT_REPORT, OPT_INDUCE
    };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        {"train", required_argument, 0, OPT_TRAIN}, {"val", required_argument, 0, OPT_VAL},
        {"test", required_argument, 0, OPT_TEST},
        {"target-size", required_argument, 0, OPT_TARGET},
        {"epochs", required_argument, 0, OPT_EPOCHS},
        {"finetune-epochs", required_argument, 0, OPT_FT},
        {"min-steps", required_argument, 0, OPT_MIN_STEPS},
        {"batch", required_argument, 0, OPT_BATCH}, {"lr", required_argument, 0, OPT_LR},
        {"gate-lr", required_argument, 0, OPT_GATE_LR},
        {"lambda0", required_argument, 0, OPT_LAMBDA0},
        {"lambda-factor", required_argument, 0, OPT_LFACTOR},
        {"seed", required_argument, 0, OPT_SEED}, {"report", required_argument, 0, OPT_REPORT},
        {"induce", no_argument, 0, OPT_INDUCE}, {"output", required_argument, 0, 'o'},
        CLI_DISTILL_OPTIONS,
        {0, 0, 0, 0}};
    cli_common c = {0};
    lc_induce_opts o;
    lc_induce_opts_default(&o);
    cli_distill dist;
    cli_distill_init(&dist);
    const char *train_path = NULL, *val_path = NULL, *test_path = NULL, *out_path = NULL,
               *report_path = NULL;
    bool have_target = false;
    long v;
    double x;
    int opt;
    while ((opt = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        switch (opt) {
        case 'h': return usage(stdout), 0;
        case 'o': out_path = optarg; break;
        case OPT_TRAIN: train_path = optarg; break;
        case OPT_VAL: val_path = optarg; break;
        case OPT_TEST: test_path = optarg; break;
        case OPT_REPORT: report_path = optarg; break;
        case OPT_INDUCE: break;
        case OPT_TARGET:
            if (cli_parse_target(optarg, &x)) return EXIT_USAGE;
            o.target_size = x;
            have_target = true;
            break;
        case OPT_EPOCHS:
        case OPT_FT:
        case OPT_BATCH:
            if (!cli_parse_int(optarg, opt == OPT_FT ? 0 : 1, INT_MAX, &v))
                return cli_usage_error("--%s wants a %s integer, got '%s'",
                                       opt == OPT_EPOCHS ? "epochs"
                                       : opt == OPT_FT   ? "finetune-epochs"
                                                         : "batch",
                                       opt == OPT_FT ? "non-negative" : "positive", optarg);
            *(opt == OPT_EPOCHS ? &o.epochs : opt == OPT_FT ? &o.finetune_epochs : &o.batch) =
                (int)v;
            break;
        case OPT_MIN_STEPS:
            if (!cli_parse_int(optarg, 0, INT_MAX, &v))
                return cli_usage_error("--min-steps wants a non-negative integer, got '%s'",
                                       optarg);
            o.min_steps = (int)v;
            break;
        case OPT_LR:
            if (parse_pos("--lr", optarg, &o.lr)) return EXIT_USAGE;
            break;
        case OPT_GATE_LR:
            if (parse_pos("--gate-lr", optarg, &o.gate_lr)) return EXIT_USAGE;
            break;
        case OPT_LAMBDA0:
            if (parse_pos("--lambda0", optarg, &o.lambda0)) return EXIT_USAGE;
            break;
        case OPT_LFACTOR:
            if (!cli_parse_double(optarg, &x) || !(x > 1))
                return cli_usage_error("--lambda-factor wants a number > 1, got '%s'", optarg);
            o.lambda_factor = x;
            break;
        case OPT_SEED:
            if (!cli_parse_int(optarg, 0, LONG_MAX, &v))
                return cli_usage_error("--seed wants a non-negative integer, got '%s'", optarg);
            o.seed = (uint64_t)v;
            break;
        default: {
            int r = cli_distill_opt(&dist, opt, optarg);
            if (r == 0) r = cli_common_opt(&c, opt, optarg, argv);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) return cli_usage_error("unknown option");
        }
        }
    }
    const char *model_path;
    if (cli_one_positional(argc, argv, &model_path, "MODEL")) return EXIT_USAGE;
    if (!have_target) return cli_usage_error("--target-size is required");
    if (!train_path) return cli_usage_error("--train is required");
    if (!val_path) return cli_usage_error("--val is required");
    if (!out_path) return cli_usage_error("-o OUT.onnx is required");
    if (cli_distill_check(&dist)) return EXIT_USAGE;
    o.finetune_labels = dist.labels;
    o.temperature = dist.temp;
    o.alpha = dist.alpha;
    if (cli_check_output(out_path)) return 1;

    lc_graph *g = NULL, *f = NULL;
    lc_data *tr = NULL, *va = NULL, *te = NULL;
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
    if (!c.quiet) {
        o.epoch_cb = on_epoch;
        fprintf(stderr, "inducing linearity in %s: target %g of %zu parameters, %d + %d "
                        "epochs on %zu samples\n", model_path, o.target_size,
                lc_graph_params(g), o.epochs, o.finetune_epochs, lc_data_rows(tr));
    }
    if (lc_induce(g, tr, va, te, &o, &f, &res, &err)) goto lcerr;
    if (lc_onnx_save(f, out_path, &err)) goto lcerr;
    rep = report(model_path, out_path, g, f, &o, &res);
    if (!c.json) print_table(model_path, out_path, g, &o, &res);
    if (!c.quiet && !res.met)
        fprintf(stderr, "lincomp %s: warning: the target size was not reached (%zu > %zu "
                        "parameters)\n", cli_cmd, lc_graph_params(f), res.budget);
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
    lc_graph_free(f);
    lc_graph_free(g);
    lc_data_free(te);
    lc_data_free(va);
    lc_data_free(tr);
    return rc;
}
