/* compress.c - `lincomp compress MODEL --data DATA -o OUT.onnx`: statistics,
 * a plan (by threshold and layer threshold, by a size or accuracy budget, or
 * from proofs), the fold, verification on the calibration data, optional
 * fine-tuning, the ONNX file and the report (DESIGN section 6,
 * docs/budgets.md). */
#include "prove.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FINETUNE_LR_ADAM 1e-3
#define FINETUNE_LR_SGD 1e-2

static void usage(FILE *f)
{
    fprintf(f, "usage: lincomp compress MODEL.onnx --data DATA -o OUT.onnx [options]\n\n"
               "Folds neurons that stay in one linear piece on the calibration data\n"
               "(always active: into skip edges; never active: into biases) and writes\n"
               "the smaller model.\n\n"
               "  --data FILE              calibration samples (CSV, IDX or NPY)\n"
               "  -o FILE                  the compressed ONNX model (required)\n"
               "  --threshold T            fold a neuron in one piece on >= T of the\n"
               "                           samples (default 1.0: exact on the data)\n"
               "  --layer-threshold L      auto (default: only where the whole model\n"
               "                           gets smaller), N (a node needs more than N\n"
               "                           foldable neurons) or F (more than F x width)\n"
               "  --val FILE               labelled data: accuracy before and after\n"
               "  --report FILE            JSON report (--json: on stdout)\n"
               "  --induce                 train the network to become linear where it pays,\n"
               "                           then fold (see 'lincomp compress --induce --help')\n"
               "  --no-reconstruct         the paper's fold: no least-squares refit of the\n"
               "                           consumers of lossy folds on --data (default: refit;\n"
               "                           never with --prove; exact folds change nothing)\n\n"
               "budgets (thresholds per node, searched with real evaluation):\n"
               "  --target-size R          at most R x the original parameters (0 < R <= 1)\n"
               "                           with the least loss of accuracy on --val (else\n"
               "                           of agreement with the original on --data)\n"
               "  --max-drop PP            the smallest model whose loss of accuracy on new\n"
               "                           data is at most PP percentage points, at\n"
               "                           --confidence: proposed on --data, certified on\n"
               "                           --val (needed; labels not used)\n"
               "  --confidence C           of the --max-drop promise (default 0.95)\n\n"
               "proofs (exact on a whole input box, not only on the data):\n"
               CLI_PROVE_HELP
               "  (compress --prove folds only proven neurons; with --threshold also the\n"
               "  empirical ones on top)\n\n"
               "fine-tuning of the compressed model (after folding and budgets):\n"
               "  --finetune EPOCHS        train the compressed graph for EPOCHS epochs\n"
               "  --train FILE             labelled training data (required with --finetune)\n"
               "  --optimizer adam|sgd     (default adam)\n"
               "  --lr X                   (default %g for adam, %g for sgd)\n"
               "  --batch N                (default 32)\n"
               "  --momentum M             SGD momentum (default 0.9)\n"
               "  --seed N                 shuffling (default 0)\n\n"
               "  --label NAME, --labels FILE, --threads N, --quiet\n",
            FINETUNE_LR_ADAM, FINETUNE_LR_SGD);
}

typedef struct {
    const char *data, *out, *val, *report, *train;
    double tau, confidence;
    bool tau_set;
    const char *layer;
    double target;   /* 0: off */
    double drop_pp;  /* < 0: off */
    int finetune;    /* epochs, 0: off */
    bool no_recon;   /* --no-reconstruct: the paper's fold */
    lc_train_opts topts;
    bool ft_opt_given;
    cli_prove pr;
} args;

/* What happened, for the table and the report. */
typedef struct {
    lc_budget_result b;
    bool budget, agreement; /* a budget ran; its score is agreement, not accuracy */
    lc_eval_result before, after, tuned;
    int recon_nodes;     /* nodes refit by lc_reconstruct, -1: not run */
    double recon_seconds;
    bool tuned_kept;
    double tuned_train_acc, tuned_seconds;
} outcome;

/* Folded neurons of node k that the proof covers. */
static int folded_proven(const lc_plan *p, const lc_proof *pf, const lc_graph *g, int k)
{
    int n = 0;
    for (int i = 0; pf && i < lc_graph_width(g, k); i++)
        n += lc_plan_get(p, k, i) != LC_KEEP && lc_proof_piece(pf, k, i) != LC_KEEP;
    return n;
}

static cJSON *layer_report(const lc_graph *g, const lc_graph *cg, const lc_plan *p, const int *map,
                           const lc_proof *pf)
{
    cJSON *layers = cJSON_CreateArray();
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddItemToArray(layers, l);
        cJSON_AddStringToObject(l, "name", lc_graph_name(g, k));
        cJSON_AddNumberToObject(l, "width_before", lc_graph_width(g, k));
        cJSON_AddNumberToObject(l, "width_after", map[k] >= 0 ? lc_graph_width(cg, map[k]) : 0);
        cJSON_AddNumberToObject(l, "folded_linear", lc_plan_folded_linear(p, k));
        cJSON_AddNumberToObject(l, "removed_constant", lc_plan_removed_constant(p, k));
        if (pf) cJSON_AddNumberToObject(l, "folded_proven", folded_proven(p, pf, g, k));
    }
    return layers;
}

static void print_table(const lc_graph *g, const lc_graph *cg, const lc_plan *p, const int *map,
                        const lc_proof *pf)
{
    printf("  %-20s %8s %8s %8s %9s%s\n", "node", "before", "after", "linear", "constant",
           pf ? "   proven" : "");
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
        printf("  %-20.20s %8d %8d %8d %9d", lc_graph_name(g, k), lc_graph_width(g, k),
               map[k] >= 0 ? lc_graph_width(cg, map[k]) : 0, lc_plan_folded_linear(p, k),
               lc_plan_removed_constant(p, k));
        if (pf) printf(" %8d", folded_proven(p, pf, g, k));
        printf("\n");
    }
    printf("\n  %-20s %12s %12s %8s\n", "", "before", "after", "ratio");
    printf("  %-20s %12zu %12zu %8.4f\n", "parameters", lc_graph_params(g), lc_graph_params(cg),
           (double)lc_graph_params(cg) / (double)lc_graph_params(g));
    printf("  %-20s %12zu %12zu %8.4f\n", "FLOPs per sample", lc_graph_flops(g), lc_graph_flops(cg),
           (double)lc_graph_flops(cg) / (double)lc_graph_flops(g));
}

/* {node name: tau} of a budget's choice; null where nothing is folded. */
static cJSON *thresholds_json(const lc_graph *g, const double *tau)
{
    cJSON *t = cJSON_CreateObject();
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++)
        if (tau[k] > 1) cJSON_AddNullToObject(t, lc_graph_name(g, k));
        else cJSON_AddNumberToObject(t, lc_graph_name(g, k), tau[k]);
    return t;
}

static cJSON *budget_json(const args *a, const outcome *r, double seconds)
{
    const lc_budget_result *b = &r->b;
    cJSON *j = cJSON_CreateObject(), *pp = cJSON_CreateObject(), *pn = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", a->target > 0 ? "target_size" : "max_drop");
    cJSON_AddStringToObject(j, "score", r->agreement ? "calibration_agreement" : "val_accuracy");
    cJSON_AddNumberToObject(j, "score_before", b->score_before);
    cJSON_AddNumberToObject(j, "score_after", b->score);
    if (b->paper_tau > 1) cJSON_AddNullToObject(pp, "threshold");
    else cJSON_AddNumberToObject(pp, "threshold", b->paper_tau);
    cJSON_AddNumberToObject(pp, "params_after", (double)b->paper_params);
    cJSON_AddNumberToObject(pp, "score", b->paper_score);
    cJSON_AddBoolToObject(pp, "met", b->paper_met);
    cJSON_AddItemToObject(j, "paper", pp);
    cJSON_AddNumberToObject(pn, "params_after", (double)b->per_node_params);
    cJSON_AddNumberToObject(pn, "score", b->per_node_score);
    cJSON_AddBoolToObject(pn, "met", b->per_node_met);
    cJSON_AddNumberToObject(pn, "steps", b->steps);
    cJSON_AddItemToObject(j, "per_node", pn);
    cJSON_AddNumberToObject(j, "evaluations", b->evaluations);
    if (a->drop_pp >= 0) {
        cJSON *cf = cJSON_CreateObject();
        cJSON_AddStringToObject(cf, "rows_from", "val");
        cJSON_AddNumberToObject(cf, "rows", (double)b->cert_rows);
        cJSON_AddNumberToObject(cf, "disagreements", (double)b->cert_disagreements);
        cJSON_AddNumberToObject(cf, "bound", b->cert_bound);
        cJSON_AddNumberToObject(cf, "confidence", b->confidence);
        cJSON_AddNumberToObject(cf, "plans_tested", b->cert_tested);
        cJSON_AddItemToObject(j, "certificate", cf);
    }
    cJSON_AddNumberToObject(j, "seconds", seconds);
    return j;
}

static void on_step(void *ctx, int step, size_t params, double score)
{
    const cli_common *c = ctx;
    cli_stage(c, "budget search step %d: %zu parameters, score %.4f", step, params, score);
}

static void on_epoch(void *ctx, const lc_epoch_info *e)
{
    const cli_common *c = ctx;
    if (isnan(e->val_acc))
        cli_stage(c, "fine-tuning epoch %d/%d: loss %.4f acc %.4f", e->epoch, e->epochs,
                  e->train_loss, e->train_acc);
    else
        cli_stage(c, "fine-tuning epoch %d/%d: loss %.4f acc %.4f val_acc %.4f", e->epoch,
                  e->epochs, e->train_loss, e->train_acc, e->val_acc);
}

typedef struct {
    double train_acc, seconds;
    const cli_common *c;
} tune_log;

static void on_epoch_log(void *ctx, const lc_epoch_info *e)
{
    tune_log *t = ctx;
    t->train_acc = e->train_acc;
    t->seconds += e->seconds;
    on_epoch((void *)t->c, e);
}

/* Parses the options into a; returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, cli_common *c, args *a, const char **model)
{
    enum {
        OPT_DATA = OPT_FIRST_OWN, OPT_TAU, OPT_LAYER, OPT_VAL, OPT_REPORT, OPT_TARGET, OPT_DROP,
        OPT_FINETUNE, OPT_TRAIN, OPT_CONFIDENCE, OPT_NO_RECON
    };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS, CLI_PROVE_OPTIONS, {"data", required_argument, 0, OPT_DATA},
        {"output", required_argument, 0, 'o'}, {"threshold", required_argument, 0, OPT_TAU},
        {"layer-threshold", required_argument, 0, OPT_LAYER},
        {"val", required_argument, 0, OPT_VAL}, {"report", required_argument, 0, OPT_REPORT},
        {"target-size", required_argument, 0, OPT_TARGET},
        {"max-drop", required_argument, 0, OPT_DROP},
        {"confidence", required_argument, 0, OPT_CONFIDENCE},
        {"finetune", required_argument, 0, OPT_FINETUNE},
        {"train", required_argument, 0, OPT_TRAIN},
        {"no-reconstruct", no_argument, 0, OPT_NO_RECON}, CLI_OPTIMIZER_OPTIONS, {0, 0, 0, 0}};
    int opt;
    long v;
    while ((opt = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        switch (opt) {
        case 'h': usage(stdout); return 0;
        case OPT_DATA: a->data = optarg; break;
        case 'o': a->out = optarg; break;
        case OPT_TAU:
            if (cli_parse_threshold(optarg, &a->tau)) return EXIT_USAGE;
            a->tau_set = true;
            break;
        case OPT_LAYER: a->layer = optarg; break;
        case OPT_VAL: a->val = optarg; break;
        case OPT_REPORT: a->report = optarg; break;
        case OPT_TARGET:
            if (cli_parse_target(optarg, &a->target)) return EXIT_USAGE;
            break;
        case OPT_DROP:
            if (!cli_parse_double(optarg, &a->drop_pp) || !(a->drop_pp >= 0 && a->drop_pp <= 100))
                return cli_usage_error("--max-drop wants percentage points from 0 to 100, got "
                                       "'%s'", optarg);
            break;
        case OPT_CONFIDENCE:
            if (!cli_parse_double(optarg, &a->confidence) ||
                !(a->confidence > 0 && a->confidence < 1))
                return cli_usage_error("--confidence wants a probability in (0, 1), got '%s'",
                                       optarg);
            break;
        case OPT_FINETUNE:
            if (!cli_parse_int(optarg, 1, INT_MAX, &v))
                return cli_usage_error("--finetune wants a positive number of epochs, got '%s'",
                                       optarg);
            a->finetune = (int)v;
            break;
        case OPT_TRAIN: a->train = optarg; break;
        case OPT_NO_RECON: a->no_recon = true; break;
        default: {
            int r = cli_optimizer_opt(&a->topts, opt, optarg);
            if (r > 0) a->ft_opt_given = true;
            if (r == 0) r = cli_prove_opt(&a->pr, opt, optarg);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) r = cli_common_opt(c, opt, optarg, argv);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) return cli_usage_error("unknown option");
        }
        }
    }
    if (cli_one_positional(argc, argv, model, "MODEL")) return EXIT_USAGE;
    if (!a->data) return cli_usage_error("--data is required");
    if (!a->out) return cli_usage_error("-o OUT.onnx is required");
    int pcr = cli_prove_check(&a->pr);
    if (pcr) return pcr;
    bool budget = a->target > 0 || a->drop_pp >= 0;
    if (a->target > 0 && a->drop_pp >= 0)
        return cli_usage_error("give either --target-size or --max-drop, not both");
    if (a->drop_pp >= 0 && !a->val)
        return cli_usage_error("--max-drop needs --val DATA: rows the search never sees, to "
                               "certify the promise");
    if (a->confidence != 0.95 && a->drop_pp < 0)
        return cli_usage_error("--confidence belongs to --max-drop");
    if (budget && a->tau_set)
        return cli_usage_error("--threshold and a budget both choose thresholds: give one");
    if (budget && a->pr.on) return cli_usage_error("--prove cannot be combined with a budget");
    if (a->finetune && !a->train) return cli_usage_error("--finetune needs --train DATA");
    if (!a->finetune && (a->train || a->ft_opt_given))
        return cli_usage_error("--train, --lr, --batch, --optimizer and --seed need --finetune");
    if (!a->topts.lr)
        a->topts.lr = a->topts.optimizer == LC_OPT_SGD ? FINETUNE_LR_SGD : FINETUNE_LR_ADAM;
    a->topts.epochs = a->finetune ? a->finetune : 1;
    return -1;
}

/* The plan: a budget, proofs (plus the empirical threshold when given), or
 * the threshold. */
static int choose_plan(const cli_common *c, const args *a, const lc_graph *g, const lc_data *d,
                       const lc_data *v, const lc_stats *st, lc_layer_threshold lt,
                       lc_proof **pf, outcome *r, lc_plan **plan)
{
    lc_error err = {0};
    lc_plan *cand = NULL, *emp = NULL;
    lc_data *agree = NULL;
    lc_pieces *pc = NULL;
    int rc = 1;
    if (a->target > 0 || a->drop_pp >= 0) {
        bool drop = a->drop_pp >= 0;
        lc_budget_opts o = {.kind = drop ? LC_BUDGET_DROP : LC_BUDGET_SIZE,
                            .target_size = a->target, .max_drop = a->drop_pp / 100.0, .lt = lt,
                            .step_cb = on_step, .cb_ctx = (void *)c,
                            .certify = drop ? v : NULL, .confidence = a->confidence};
        if (!a->no_recon) {
            o.recon_x = lc_data_x(d);
            o.recon_n = lc_data_rows(d);
        }
        r->budget = true;
        /* --max-drop proposes on the calibration data and certifies on
         * --val, which the search must not see (docs/budgets.md) */
        r->agreement = !v || drop;
        if (r->agreement && lc_data_predicted(g, d, &agree, &err)) goto lcerr;
        const lc_data *sd = r->agreement ? agree : v;
        cli_stage(c, "budget search on %zu samples", lc_data_rows(sd));
        if (lc_pieces_compute(g, sd, &pc, &err) ||
            lc_budget_search(g, st, sd, pc, &o, &r->b, &err))
            goto lcerr;
        if (!r->b.met) {
            cli_error(1, "--target-size %g cannot be reached: folding every neuron (tau 0) "
                         "leaves %zu of %zu parameters (%.4f)", a->target, r->b.params,
                      r->b.params_before, (double)r->b.params / (double)r->b.params_before);
            goto done;
        }
        if (lc_plan_clone(r->b.plan, plan, &err)) goto lcerr;
    } else if (a->pr.on) {
        cli_stage(c, "proving (%s bounds)", lc_prove_method_name(a->pr.method));
        int pr = cli_prove_run((cli_prove *)&a->pr, g, d, pf);
        if (pr) {
            rc = pr;
            goto done;
        }
        lc_layer_threshold every = {LC_LAYER_COUNT, 0};
        if (lc_plan_create(g, &cand, &err) || lc_proof_apply(*pf, cand, &err)) goto lcerr;
        if (a->tau_set) { /* the empirical folds on top of the proven ones */
            if (lc_plan_from_stats(g, st, a->tau, every, &emp, &err)) goto lcerr;
            for (int k = 1; k < lc_graph_nodes(g) - 1; k++)
                for (int i = 0; i < lc_graph_width(g, k); i++)
                    if (lc_plan_get(cand, k, i) == LC_KEEP && lc_plan_get(emp, k, i) != LC_KEEP &&
                        lc_plan_set(cand, k, i, lc_plan_get(emp, k, i), &err))
                        goto lcerr;
        }
        if (lc_plan_select(g, cand, lt, plan, &err)) goto lcerr;
    } else if (lc_plan_from_stats(g, st, a->tau, lt, plan, &err)) {
        goto lcerr;
    }
    rc = 0;
    goto done;
lcerr:
    cli_lc_error(&err);
done:
    lc_plan_free(cand);
    lc_plan_free(emp);
    lc_pieces_free(pc);
    lc_data_free(agree);
    return rc;
}

/* Fine-tunes cg; with --val keeps the best epoch, and the folded model
 * itself when no epoch beats it on --val. */
static int finetune(const cli_common *c, args *a, lc_graph **cgp, const lc_data *tr,
                    const lc_data *v, outcome *r)
{
    lc_graph *cg = *cgp;
    lc_error err = {0};
    lc_graph *keep = NULL;
    tune_log log = {0, 0, c};
    a->topts.epoch_cb = on_epoch_log;
    a->topts.cb_ctx = &log;
    if (v) {
        a->topts.patience = a->topts.epochs + 1; /* never stops; restores the best */
        a->topts.monitor = LC_MONITOR_VAL_ACC;
    }
    if (lc_graph_clone(cg, &keep, &err)) return cli_lc_error(&err);
    cli_stage(c, "fine-tuning for %d epochs on %zu samples", a->finetune, lc_data_rows(tr));
    if (lc_finetune(cg, tr, v, &a->topts, &err)) {
        lc_graph_free(keep);
        return cli_lc_error(&err);
    }
    r->tuned_kept = true;
    r->tuned_train_acc = log.train_acc;
    r->tuned_seconds = log.seconds;
    if (v) {
        if (lc_evaluate(cg, v, &r->tuned, &err)) {
            lc_graph_free(keep);
            return cli_lc_error(&err);
        }
        if (r->tuned.accuracy < r->after.accuracy) { /* back to the folded model */
            lc_graph_free(cg);
            *cgp = keep;
            keep = NULL;
            r->tuned = r->after;
            r->tuned_kept = false;
        }
    }
    lc_graph_free(keep);
    return 0;
}

static cJSON *report(const char *model, const args *a, const lc_graph *g, const lc_graph *cg,
                     const lc_data *d, const lc_plan *plan, const int *map, const lc_proof *pf,
                     double diff, bool val, const outcome *r, double budget_secs)
{
    cJSON *rep = cJSON_CreateObject();
    cJSON_AddStringToObject(rep, "model", model);
    cJSON_AddStringToObject(rep, "output", a->out);
    cJSON_AddNumberToObject(rep, "params_before", (double)lc_graph_params(g));
    cJSON_AddNumberToObject(rep, "params_after", (double)lc_graph_params(cg));
    cJSON_AddNumberToObject(rep, "size_ratio", (double)lc_graph_params(cg) / (double)lc_graph_params(g));
    cJSON_AddNumberToObject(rep, "flops_before", (double)lc_graph_flops(g));
    cJSON_AddNumberToObject(rep, "flops_after", (double)lc_graph_flops(cg));
    if (r->budget && r->b.method == LC_BUDGET_PER_NODE) cJSON_AddNullToObject(rep, "threshold");
    else if (r->budget) cJSON_AddNumberToObject(rep, "threshold", r->b.paper_tau);
    else if (a->pr.on && !a->tau_set) cJSON_AddNullToObject(rep, "threshold");
    else cJSON_AddNumberToObject(rep, "threshold", a->tau);
    cJSON_AddStringToObject(rep, "layer_threshold", a->layer);
    cJSON_AddNumberToObject(rep, "calibration_samples", (double)lc_data_rows(d));
    cJSON_AddNumberToObject(rep, "calibration_max_abs_diff", diff);
    if (val) {
        cJSON_AddNumberToObject(rep, "accuracy_before", r->before.accuracy);
        cJSON_AddNumberToObject(rep, "accuracy_after", r->after.accuracy);
    } else {
        cJSON_AddNullToObject(rep, "accuracy_before");
        cJSON_AddNullToObject(rep, "accuracy_after");
    }
    if (a->target > 0) cJSON_AddNumberToObject(rep, "target_size", a->target);
    else cJSON_AddNullToObject(rep, "target_size");
    if (a->drop_pp >= 0) cJSON_AddNumberToObject(rep, "max_drop", a->drop_pp);
    else cJSON_AddNullToObject(rep, "max_drop");
    if (r->budget) {
        cJSON_AddStringToObject(rep, "method", lc_budget_method_name(r->b.method));
        cJSON_AddItemToObject(rep, "thresholds", thresholds_json(g, r->b.tau));
        cJSON_AddItemToObject(rep, "budget", budget_json(a, r, budget_secs));
    } else {
        cJSON_AddNullToObject(rep, "method");
        cJSON_AddNullToObject(rep, "thresholds");
        cJSON_AddNullToObject(rep, "budget");
    }
    if (r->recon_nodes >= 0) {
        cJSON *rc = cJSON_AddObjectToObject(rep, "reconstruct");
        cJSON_AddNumberToObject(rc, "nodes_refit", r->recon_nodes);
        cJSON_AddNumberToObject(rc, "seconds", r->recon_seconds);
    } else {
        cJSON_AddNullToObject(rep, "reconstruct");
    }
    cJSON_AddNumberToObject(rep, "finetune_epochs", a->finetune);
    if (a->finetune && val) cJSON_AddNumberToObject(rep, "accuracy_after_finetune", r->tuned.accuracy);
    else cJSON_AddNullToObject(rep, "accuracy_after_finetune");
    if (a->finetune) {
        cJSON *f = cJSON_AddObjectToObject(rep, "finetune");
        cJSON_AddStringToObject(f, "train", a->train);
        cJSON_AddStringToObject(f, "optimizer", a->topts.optimizer == LC_OPT_SGD ? "sgd" : "adam");
        cJSON_AddNumberToObject(f, "lr", a->topts.lr);
        cJSON_AddNumberToObject(f, "batch", a->topts.batch);
        cJSON_AddNumberToObject(f, "seed", (double)a->topts.seed);
        cJSON_AddBoolToObject(f, "kept", r->tuned_kept);
        cJSON_AddNumberToObject(f, "train_accuracy", r->tuned_train_acc);
        cJSON_AddNumberToObject(f, "seconds", r->tuned_seconds);
    } else {
        cJSON_AddNullToObject(rep, "finetune");
    }
    if (pf) cJSON_AddItemToObject(rep, "proof", cli_prove_json(&a->pr, pf, g));
    else cJSON_AddNullToObject(rep, "proof");
    cJSON_AddItemToObject(rep, "layers", layer_report(g, cg, plan, map, pf));
    return rep;
}

static void print_all(const char *model, const args *a, const lc_graph *g, const lc_graph *cg,
                      const lc_data *d, const lc_plan *plan, const int *map, const lc_proof *pf,
                      double diff, bool val, const outcome *r)
{
    if (r->budget && a->target > 0)
        printf("%s -> %s (target size %g, %s thresholds, %zu calibration samples)\n\n", model,
               a->out, a->target, lc_budget_method_name(r->b.method), lc_data_rows(d));
    else if (r->budget)
        printf("%s -> %s (max drop %g pp at %g confidence, %s thresholds, %zu calibration "
               "samples)\n\n", model, a->out, a->drop_pp, r->b.confidence,
               lc_budget_method_name(r->b.method), lc_data_rows(d));
    else if (pf)
        printf("%s -> %s (proven on the %s box by %s bounds%s, %zu calibration samples)\n\n",
               model, a->out, a->pr.box_kind, lc_prove_method_name(a->pr.method),
               a->tau_set ? " plus the threshold" : "", lc_data_rows(d));
    else
        printf("%s -> %s (threshold %g, layer threshold %s, %zu calibration samples)\n\n",
               model, a->out, a->tau, a->layer, lc_data_rows(d));
    print_table(g, cg, plan, map, pf);
    if (val)
        printf("  %-20s %12.4f %12.4f %+8.2f pp\n", "accuracy (--val)", r->before.accuracy,
               r->after.accuracy, 100 * (r->after.accuracy - r->before.accuracy));
    if (a->finetune && val)
        printf("  %-20s %12.4f %12.4f %+8.2f pp%s\n", "after fine-tuning", r->after.accuracy,
               r->tuned.accuracy, 100 * (r->tuned.accuracy - r->after.accuracy),
               r->tuned_kept ? "" : " (no epoch beat the folded model: kept it)");
    else if (a->finetune)
        printf("  fine-tuned for %d epochs (training accuracy %.4f in the last epoch)\n",
               a->finetune, r->tuned_train_acc);
    if (r->budget) {
        printf("  thresholds:");
        for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
            if (r->b.tau[k] > 1) printf(" %s=none", lc_graph_name(g, k));
            else printf(" %s=%g", lc_graph_name(g, k), r->b.tau[k]);
        }
        printf("\n  %s: paper (global tau) %zu params, %.4f; per-node %zu params, %.4f\n",
               r->agreement ? "agreement with the original on --data" : "accuracy on --val",
               r->b.paper_params, r->b.paper_score, r->b.per_node_params, r->b.per_node_score);
        if (a->drop_pp >= 0 && r->b.params < r->b.params_before)
            printf("  certificate: %zu of %zu --val rows disagree with the original; loss of "
                   "accuracy on new data <= %.2f pp at %g confidence (%d plans tested)\n",
                   r->b.cert_disagreements, r->b.cert_rows, 100 * r->b.cert_bound,
                   r->b.confidence, r->b.cert_tested);
        else if (a->drop_pp >= 0) /* say why: often too few rows for the promise */
            printf("  certificate: no folded model could be certified, the model is unchanged "
                   "(with %zu --val rows even no disagreement bounds the loss only to %.2f pp "
                   "at %g confidence)\n", r->b.cert_rows,
                   100 * lc_binomial_upper_bound(0, r->b.cert_rows, r->b.confidence),
                   r->b.confidence);
    }
    if (r->recon_nodes >= 0)
        printf("  reconstruction: %d node%s refit on the calibration data (%.1f s)\n",
               r->recon_nodes, r->recon_nodes == 1 ? "" : "s", r->recon_seconds);
    printf("  largest output change on the calibration data: %.3g\n", diff);
}

int cmd_compress(int argc, char **argv)
{
    /* --induce trains before it folds: its own path and options */
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--induce")) return compress_induce(argc, argv);
    cli_common c = {0};
    args a = {.tau = 1.0, .layer = "auto", .drop_pp = -1, .confidence = 0.95};
    lc_train_opts_default(&a.topts);
    a.topts.lr = 0;
    const char *model_path;
    int prc = parse(argc, argv, &c, &a, &model_path);
    if (prc >= 0) return prc;
    lc_error err = {0};
    lc_layer_threshold lt;
    if (lc_layer_threshold_parse(a.layer, &lt, &err)) return cli_usage_error("%s", err.msg);
    if (cli_check_output(a.out) || (a.report && cli_check_output(a.report))) return 1;

    lc_graph *g = NULL, *cg = NULL;
    lc_data *d = NULL, *v = NULL, *tr = NULL;
    lc_stats *st = NULL;
    lc_plan *plan = NULL;
    lc_proof *pf = NULL;
    int *map = NULL;
    cJSON *rep = NULL;
    outcome r = {0};
    int rc = 1;
    if (cli_load_model(model_path, &g)) goto done;
    if (lc_graph_check_finite(g, &err)) {
        cli_error(1, "%s: %s", model_path, err.msg);
        goto done;
    }
    if (cli_load_data(&c, a.data, g, false, &d)) goto done;
    if (a.val && cli_load_data(&c, a.val, g, true, &v)) goto done;
    if (a.train && cli_load_data(&c, a.train, g, true, &tr)) goto done;
    if (lc_data_rows(d) == 0) {
        cli_error(1, "%s: no samples", a.data);
        goto done;
    }
    cli_stage(&c, "statistics over %zu samples", lc_data_rows(d));
    if (lc_stats_compute(g, lc_data_x(d), lc_data_rows(d), lc_data_cols(d), &st, &err)) goto lcerr;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((rc = choose_plan(&c, &a, g, d, v, st, lt, &pf, &r, &plan))) goto done;
    rc = 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double budget_secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    map = malloc((size_t)lc_graph_nodes(g) * sizeof *map);
    if (!map) goto done;
    cli_stage(&c, "folding");
    if (lc_fold(g, plan, &cg, map, &err)) goto lcerr;
    r.recon_nodes = -1;
    if (!a.no_recon && !a.pr.on) {
        cli_stage(&c, "reconstruction on %zu samples", lc_data_rows(d));
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (lc_reconstruct(g, plan, map, cg, lc_data_x(d), lc_data_rows(d), NULL, &r.recon_nodes,
                           &err))
            goto lcerr;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        r.recon_seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    }

    double diff;
    if (cli_max_abs_diff(g, cg, d, &diff)) goto done;
    if (v && (lc_evaluate(g, v, &r.before, &err) || lc_evaluate(cg, v, &r.after, &err))) goto lcerr;
    if (a.finetune && finetune(&c, &a, &cg, tr, v, &r)) goto done;
    if (lc_onnx_save(cg, a.out, &err)) goto lcerr;

    rep = report(model_path, &a, g, cg, d, plan, map, pf, diff, v != NULL, &r, budget_secs);
    if (!c.json) print_all(model_path, &a, g, cg, d, plan, map, pf, diff, v != NULL, &r);
    if ((c.json && cli_write_json(rep, "-")) || (a.report && cli_write_json(rep, a.report))) {
        remove(a.out); /* no half-finished result */
        goto done;
    }
    rc = 0;
    goto done;
lcerr:
    cli_lc_error(&err);
done:
    cJSON_Delete(rep);
    free(map);
    lc_budget_result_clear(&r.b);
    lc_proof_free(pf);
    lc_plan_free(plan);
    lc_stats_free(st);
    lc_graph_free(cg);
    lc_graph_free(g);
    lc_data_free(tr);
    lc_data_free(v);
    lc_data_free(d);
    return rc;
}
