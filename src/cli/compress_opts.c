/* compress_opts.c - the one option table of `lincomp compress`, its usage
 * text and the checks of which options a mode can use.
 *
 * Every mode (threshold, budget, proofs, --induce) reads the same command
 * line: the shared options (--data, --val, --train, --report, --json,
 * --label, --labels, --threads, --quiet) mean the same in each, and an
 * option that the chosen mode cannot use is a usage error that says why,
 * never "unknown option" (that stays for names not in the table). */
#include "compress.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_DATA = OPT_FIRST_OWN, OPT_TAU, OPT_LAYER, OPT_VAL, OPT_REPORT, OPT_TARGET, OPT_DROP,
    OPT_FINETUNE, OPT_TRAIN, OPT_INDUCE, OPT_TEST, OPT_EPOCHS, OPT_FT_EPOCHS, OPT_MIN_STEPS,
    OPT_GATE_LR, OPT_LAMBDA0, OPT_LFACTOR, OPT_CONFIDENCE, OPT_NO_RECON, OPT_JOINT, OPT_TEACHER,
    OPT_ANNEAL, OPT_SEARCH_ROWS, OPT_VAL_LABELS, OPT_TRAIN_LABELS, OPT_TEST_LABELS
};

/* The table: every option compress knows. Room for plain flags (a
 * no_argument entry and a case in compress_parse). */
static const struct option table[] = {
    {"data", required_argument, 0, OPT_DATA}, {"output", required_argument, 0, 'o'},
    {"val", required_argument, 0, OPT_VAL}, {"train", required_argument, 0, OPT_TRAIN},
    {"report", required_argument, 0, OPT_REPORT}, CLI_COMMON_OPTIONS,
    {"val-labels", required_argument, 0, OPT_VAL_LABELS},
    {"train-labels", required_argument, 0, OPT_TRAIN_LABELS},
    {"test-labels", required_argument, 0, OPT_TEST_LABELS},
    {"threshold", required_argument, 0, OPT_TAU},
    {"layer-threshold", required_argument, 0, OPT_LAYER},
    {"target-size", required_argument, 0, OPT_TARGET},
    {"max-drop", required_argument, 0, OPT_DROP},
    {"confidence", required_argument, 0, OPT_CONFIDENCE},
    {"no-reconstruct", no_argument, 0, OPT_NO_RECON}, {"joint", no_argument, 0, OPT_JOINT},
    {"search-rows", required_argument, 0, OPT_SEARCH_ROWS},
    CLI_PROVE_OPTIONS,
    {"finetune", required_argument, 0, OPT_FINETUNE}, CLI_OPTIMIZER_OPTIONS, CLI_DISTILL_OPTIONS,
    {"teacher", required_argument, 0, OPT_TEACHER}, {"anneal", required_argument, 0, OPT_ANNEAL},
    {"induce", no_argument, 0, OPT_INDUCE}, {"test", required_argument, 0, OPT_TEST},
    {"epochs", required_argument, 0, OPT_EPOCHS},
    {"finetune-epochs", required_argument, 0, OPT_FT_EPOCHS},
    {"min-steps", required_argument, 0, OPT_MIN_STEPS},
    {"gate-lr", required_argument, 0, OPT_GATE_LR},
    {"lambda0", required_argument, 0, OPT_LAMBDA0},
    {"lambda-factor", required_argument, 0, OPT_LFACTOR}, {0, 0, 0, 0}};
enum { N_OPTS = sizeof table / sizeof *table - 1 };

/* What a mode cannot use, and why (the message after the colon). An option
 * with no rule for a mode is fine in it. */
static const struct {
    int id, modes;
    const char *why;
} rules[] = {
    {OPT_TAU, MODE_BUDGET, "the budget search chooses the thresholds: give one"},
    {OPT_TAU, MODE_INDUCE, "--induce folds the neurons whose trained gates reach 1, not by a "
                           "threshold"},
    {OPT_LAYER, MODE_INDUCE, "--induce sizes its folds with the cost model against "
                             "--target-size"},
    {OPT_DROP, MODE_INDUCE, "--induce takes a size budget (--target-size)"},
    {OPT_CONFIDENCE, MODE_INDUCE, "it belongs to --max-drop; --induce takes a size budget"},
    {OPT_NO_RECON, MODE_PROVE | MODE_INDUCE, "only lossy folds are reconstructed, and this "
                                             "mode's folds are exact"},
#define NO_PROOF(id)                                                             \
    {id, MODE_BUDGET, "a budget chooses thresholds by measured accuracy, a proof folds only "\
                      "what holds on the whole box"},                                        \
    {id, MODE_INDUCE, "--induce retrains the model, so a proof about this model does not "   \
                      "hold for the result"}
    NO_PROOF(OPT_PROVE), NO_PROOF(OPT_BOUNDS), NO_PROOF(OPT_INPUT_RANGE), NO_PROOF(OPT_LP_TIME),
    {OPT_FINETUNE, MODE_INDUCE, "--induce fine-tunes the folded model itself "
                                "(--finetune-epochs N)"},
    {OPT_OPTIMIZER, MODE_INDUCE, "--induce trains with Adam"},
    {OPT_TEACHER, MODE_INDUCE, "--induce distils from the model it is given"},
    {OPT_ANNEAL, MODE_INDUCE, "--induce has its own schedule (--lambda0, --lambda-factor)"},
    {OPT_JOINT, MODE_THRESHOLD, "the joint plan chooses per node a threshold and a share to "
                                "prune, by a search against --target-size R"},
    {OPT_JOINT, MODE_PROVE, "a proof folds only what holds on the whole box, and pruning "
                            "changes the function"},
    {OPT_JOINT, MODE_INDUCE, "--induce trains neurons to become linear; prune first with "
                             "`lincomp prune`"},
    {OPT_MOMENTUM, MODE_INDUCE, "--induce trains with Adam (momentum is SGD's)"},
    {OPT_SEARCH_ROWS, MODE_THRESHOLD | MODE_PROVE | MODE_INDUCE, "it sets the scoring rows of "
                                                                 "a --target-size search"},
};

/* Options of induction training only: "needs --induce" in other modes. */
static const int induce_only[] = {OPT_TEST,    OPT_EPOCHS,  OPT_FT_EPOCHS, OPT_MIN_STEPS,
                                  OPT_GATE_LR, OPT_LAMBDA0, OPT_LFACTOR,   OPT_TEST_LABELS};

void compress_defaults(compress_args *a)
{
    memset(a, 0, sizeof *a);
    a->tau = 1.0;
    a->layer = "auto";
    a->drop_pp = -1;
    a->confidence = 0.95;
    a->search_rows = -1;
    lc_train_opts_default(&a->topts);
    a->topts.lr = 0; /* the optimizer's default, chosen after parsing */
    a->topts.anneal = LC_FINETUNE_ANNEAL;
    lc_induce_opts_default(&a->io);
    cli_distill_init(&a->dist);
}

static void usage(FILE *f)
{
    compress_args d;
    compress_defaults(&d);
    const lc_induce_opts *o = &d.io;
    fprintf(f, "usage: lincomp compress MODEL.onnx --data DATA -o OUT.onnx [options]\n"
               "       lincomp compress MODEL.onnx --induce --target-size R --train DATA\n"
               "                        --val DATA [--data DATA] -o OUT.onnx [options]\n\n"
               "Folds neurons that stay in one linear piece on the calibration data\n"
               "(always active: into skip edges; never active: into biases) and writes\n"
               "the smaller model.\n\n"
               "every mode:\n"
               "  --data FILE              calibration samples (CSV, IDX or NPY); with\n"
               "                           --induce optional: the induced model is folded\n"
               "                           once more where it is exact on these samples\n"
               "  -o FILE                  the compressed ONNX model (required)\n"
               "  --val FILE               labelled data: accuracy before and after\n"
               "  --train FILE             training data (--finetune: default --data's rows,\n"
               "                           labels optional; --induce: labelled)\n"
               "  --report FILE            JSON report (--json: on stdout)\n"
               "  --labels FILE            labels of an NPY --data (IDX: the labels file\n"
               "                           beside it unless given)\n"
               "  --val-labels, --train-labels, --test-labels FILE\n"
               "                           the same for --val, --train and --test\n"
               "  --label NAME, --threads N, -q/--quiet, --verbose\n\n"
               "thresholds (the default mode):\n"
               "  --threshold T            fold a neuron in one piece on >= T of the\n"
               "                           samples (default %.1f: exact on the data)\n"
               "  --layer-threshold L      auto (default: only where the whole model\n"
               "                           gets smaller), N (a node needs more than N\n"
               "                           foldable neurons) or F (more than F x width)\n\n"
               "budgets (thresholds per node, searched with real evaluation):\n"
               "  --target-size R          at most R x the original parameters (0 < R <= 1)\n"
               "                           with the least loss of accuracy on --val, topped\n"
               "                           up by --search-rows (else of agreement with the\n"
               "                           original on --data)\n"
               "  --max-drop PP            the smallest model whose loss of accuracy on new\n"
               "                           data is at most PP percentage points, at\n"
               "                           --confidence: proposed on --data, certified on\n"
               "                           --val (needed; labels not used)\n"
               "  --confidence C           of the --max-drop promise (default %g)\n"
               "  --no-reconstruct         thresholds and budgets: the paper's fold; by\n"
               "                           default the consumers of lossy folds are refit by\n"
               "                           least squares to the original on --data\n"
               "  --joint                  --target-size: also search one joint plan, per\n"
               "                           node a threshold and a share of its neurons\n"
               "                           pruned by activation rate (docs/budgets.md)\n"
               "  --search-rows N          --target-size with --val: score on at least N\n"
               "                           rows, --val's and, while fewer, --data rows\n"
               "                           labelled with the model's own predictions\n"
               "                           (default %d; 0: --val alone)\n\n"
               "proofs (exact on a whole input box, not only on the data):\n"
               CLI_PROVE_HELP
               "  (compress --prove folds only proven neurons; with --threshold also the\n"
               "  empirical ones on top)\n\n"
               "fine-tuning of the compressed model (after folding and budgets):\n"
               "  --finetune EPOCHS        train the compressed graph for EPOCHS epochs\n"
               "                           (on --train, else on --data's rows)\n"
               CLI_DISTILL_HELP("distill")
               "  --teacher FILE           distill towards this model (default MODEL; give\n"
               "                           the original when MODEL is already compressed)\n"
               "  --optimizer adam|sgd     (default %s)\n"
               "  --lr X                   (default %g for adam, %g for sgd)\n"
               "  --anneal F               the rate falls linearly to 0 over the last F of\n"
               "                           the steps, 0..1 (default %g; 0: constant)\n"
               "  --batch N                (default %d)\n"
               "  --momentum M             SGD momentum (default %g)\n"
               "  --seed N                 shuffling (default %llu)\n\n",
            d.tau, d.confidence, LC_SEARCH_ROWS, d.topts.optimizer == LC_OPT_SGD ? "sgd" : "adam",
            FINETUNE_LR_ADAM, FINETUNE_LR_SGD, d.topts.anneal, d.topts.batch, d.topts.momentum,
            (unsigned long long)d.topts.seed);
    fprintf(f, "induced linearity (--induce; docs/induce.md): every hidden ReLU neuron gets\n"
               "a gate g in [0, 1] (relu(z) + g min(z, 0)); weights and gates train with a\n"
               "penalty that pushes gates to 1 where folding saves the most, annealed until\n"
               "the model fits R of its parameters; then the gates are set to 0 or 1, the\n"
               "linear neurons folded exactly and the model fine-tuned.\n"
               "  --induce                 this mode (needs --target-size, --train, --val)\n"
               "  --test FILE              labelled test data, for the report\n"
               "  --epochs N               induction epochs (default %d; more when needed for\n"
               "                           --min-steps)\n"
               "  --min-steps N            at least N induction steps (default %d)\n"
               "  --finetune-epochs N      after folding (default %d; --finetune-target,\n"
               "                           --temperature, --distill-alpha as above)\n"
               "  --batch N                (default %d)\n"
               "  --lr X                   Adam learning rate of the weights (default %g)\n"
               "  --gate-lr X              Adam learning rate of the gates (default %g)\n"
               "  --lambda0 X              initial penalty strength (default %g)\n"
               "  --lambda-factor X        penalty factor per controller check (default %g)\n"
               "  --seed N                 shuffling (default %llu)\n",
            o->epochs, o->min_steps, o->finetune_epochs, o->batch, o->lr, o->gate_lr,
            o->lambda0, o->lambda_factor, (unsigned long long)o->seed);
}

static int parse_pos(const char *flag, const char *arg, double *out)
{
    if (!cli_parse_double(arg, out) || !(*out > 0))
        return cli_usage_error("%s wants a positive number, got '%s'", flag, arg);
    return 0;
}

/* One option of the table into a: 1 handled, -1 usage error (printed). */
static int take(int opt, const char *arg, cli_common *c, compress_args *a, char **argv)
{
    long v;
    double x;
    switch (opt) {
    case OPT_DATA: a->data = arg; return 1;
    case 'o': a->out = arg; return 1;
    case OPT_TAU:
        a->tau_set = true;
        return cli_parse_threshold(arg, &a->tau) ? -1 : 1;
    case OPT_LAYER: a->layer = arg; return 1;
    case OPT_VAL: a->val = arg; return 1;
    case OPT_REPORT: a->report = arg; return 1;
    case OPT_TRAIN: a->train = arg; return 1;
    case OPT_TEACHER: a->teacher = arg; return 1;
    case OPT_ANNEAL:
        if (!cli_parse_double(arg, &x) || !(x >= 0 && x <= 1))
            return cli_usage_error("--anneal wants a fraction of the steps in [0, 1], got "
                                   "'%s'", arg), -1;
        a->topts.anneal = x;
        return 1;
    case OPT_TEST: a->test = arg; return 1;
    case OPT_VAL_LABELS: a->val_labels = arg; return 1;
    case OPT_TRAIN_LABELS: a->train_labels = arg; return 1;
    case OPT_TEST_LABELS: a->test_labels = arg; return 1;
    case OPT_INDUCE: return 1;
    case OPT_NO_RECON: a->no_recon = true; return 1;
    case OPT_JOINT: a->joint = true; return 1;
    case OPT_SEARCH_ROWS:
        if (!cli_parse_int(arg, 0, INT_MAX, &v))
            return cli_usage_error("--search-rows wants a number of rows >= 0, got '%s'", arg),
                   -1;
        a->search_rows = v;
        return 1;
    case OPT_TARGET: return cli_parse_target(arg, &a->target) ? -1 : 1;
    case OPT_DROP:
        if (!cli_parse_double(arg, &a->drop_pp) || !(a->drop_pp >= 0 && a->drop_pp <= 100))
            return cli_usage_error("--max-drop wants percentage points from 0 to 100, got "
                                   "'%s'", arg), -1;
        return 1;
    case OPT_CONFIDENCE:
        if (!cli_parse_double(arg, &a->confidence) || !(a->confidence > 0 && a->confidence < 1))
            return cli_usage_error("--confidence wants a probability in (0, 1), got '%s'",
                                   arg), -1;
        return 1;
    case OPT_FINETUNE:
        if (!cli_parse_int(arg, 1, INT_MAX, &v))
            return cli_usage_error("--finetune wants a positive number of epochs, got '%s'",
                                   arg), -1;
        a->finetune = (int)v;
        return 1;
    case OPT_EPOCHS:
        if (!cli_parse_int(arg, 1, INT_MAX, &v))
            return cli_usage_error("--epochs wants a positive integer, got '%s'", arg), -1;
        a->io.epochs = (int)v;
        return 1;
    case OPT_FT_EPOCHS:
    case OPT_MIN_STEPS:
        if (!cli_parse_int(arg, 0, INT_MAX, &v))
            return cli_usage_error("--%s wants a non-negative integer, got '%s'",
                                   opt == OPT_FT_EPOCHS ? "finetune-epochs" : "min-steps", arg), -1;
        *(opt == OPT_FT_EPOCHS ? &a->io.finetune_epochs : &a->io.min_steps) = (int)v;
        return 1;
    case OPT_GATE_LR: return parse_pos("--gate-lr", arg, &a->io.gate_lr) ? -1 : 1;
    case OPT_LAMBDA0: return parse_pos("--lambda0", arg, &a->io.lambda0) ? -1 : 1;
    case OPT_LFACTOR:
        if (!cli_parse_double(arg, &x) || !(x > 1))
            return cli_usage_error("--lambda-factor wants a number > 1, got '%s'", arg), -1;
        a->io.lambda_factor = x;
        return 1;
    }
    int r = cli_optimizer_opt(&a->topts, opt, arg);
    if (r == 0) r = cli_distill_opt(&a->dist, opt, arg);
    if (r == 0) r = cli_prove_opt(&a->pr, opt, arg);
    if (r == 0) r = cli_common_opt(c, opt, arg, argv);
    if (r == 0) r = (cli_usage_error("unknown option"), -1);
    return r;
}

/* The first given option that the mode cannot use: its message, EXIT_USAGE;
 * else 0. given[i] for table[i]. */
static int check_mode(const compress_args *a, const bool *given)
{
    const char *mode_flag = a->mode == MODE_INDUCE   ? "--induce"
                            : a->mode == MODE_PROVE  ? "--prove"
                            : a->mode == MODE_THRESHOLD ? "the threshold mode"
                            : a->target > 0          ? "--target-size"
                                                     : "--max-drop";
    for (int i = 0; i < N_OPTS; i++) {
        if (!given[i]) continue;
        int id = table[i].val;
        for (size_t k = 0; k < sizeof induce_only / sizeof *induce_only; k++)
            if (id == induce_only[k] && a->mode != MODE_INDUCE)
                return cli_usage_error("--%s needs --induce: it is a setting of induction "
                                       "training", table[i].name);
        for (size_t k = 0; k < sizeof rules / sizeof *rules; k++)
            if (rules[k].id == id && (rules[k].modes & a->mode))
                return cli_usage_error("--%s cannot be combined with %s: %s", table[i].name,
                                       mode_flag, rules[k].why);
    }
    return 0;
}

int compress_parse(int argc, char **argv, cli_common *c, compress_args *a, const char **model)
{
    bool given[N_OPTS] = {0};
    int opt, at;
    while ((at = -1, opt = getopt_long(argc, argv, ":hqo:", table, &at)) != -1) {
        if (opt == 'h') return usage(stdout), 0;
        if (take(opt, optarg, c, a, argv) < 0) return EXIT_USAGE;
        if (opt == 'o') at = 1; /* the short form of --output */
        if (at >= 0) given[at] = true;
    }
    bool budget = a->target > 0 || a->drop_pp >= 0;
    for (int i = 0; i < N_OPTS; i++)
        if (given[i] && table[i].val == OPT_INDUCE) a->mode = MODE_INDUCE;
    if (!a->mode) a->mode = budget ? MODE_BUDGET : a->pr.on ? MODE_PROVE : MODE_THRESHOLD;
    int rc = check_mode(a, given);
    if (rc) return rc;
    if (a->target > 0 && a->drop_pp >= 0)
        return cli_usage_error("give either --target-size or --max-drop, not both");
    if (a->joint && a->drop_pp >= 0)
        return cli_usage_error("--joint cannot be combined with --max-drop: the joint plan is "
                               "searched for a size budget (--target-size R); its certified "
                               "chain covers threshold plans only");
    if (cli_one_positional(argc, argv, model, "MODEL")) return EXIT_USAGE;
    if (a->val_labels && !a->val) return cli_usage_error("--val-labels needs --val");
    if (a->train_labels && !a->train) return cli_usage_error("--train-labels needs --train");
    if (a->test_labels && !a->test) return cli_usage_error("--test-labels needs --test");
    if (a->mode == MODE_INDUCE) {
        if (!(a->target > 0)) return cli_usage_error("--target-size is required with --induce");
        if (!a->train) return cli_usage_error("--train is required with --induce");
        if (!a->val) return cli_usage_error("--val is required with --induce");
        if (!a->out) return cli_usage_error("-o OUT.onnx is required");
        if (cli_model_output(a->out) || cli_distill_check(&a->dist)) return EXIT_USAGE;
        a->io.finetune_labels = a->dist.labels;
        a->io.temperature = a->dist.temp;
        a->io.alpha = a->dist.alpha;
        a->io.target_size = a->target;
        a->io.batch = a->topts.batch;
        a->io.seed = a->topts.seed;
        if (a->topts.lr) a->io.lr = a->topts.lr;
        return -1;
    }
    if (!a->data) return cli_usage_error("--data is required");
    if (!a->out) return cli_usage_error("-o OUT.onnx is required");
    if (cli_model_output(a->out)) return EXIT_USAGE;
    int pcr = cli_prove_check(&a->pr);
    if (pcr) return pcr;
    if (a->drop_pp >= 0 && !a->val)
        return cli_usage_error("--max-drop needs --val DATA: rows the search never sees, to "
                               "certify the promise");
    if (a->confidence != 0.95 && a->drop_pp < 0)
        return cli_usage_error("--confidence belongs to --max-drop");
    if (a->search_rows >= 0 && a->drop_pp >= 0)
        return cli_usage_error("--search-rows belongs to --target-size: --max-drop scores "
                               "agreement on every --data row and certifies on --val");
    if (a->search_rows >= 0 && !a->val)
        return cli_usage_error("--search-rows tops up the rows of --val; without --val the "
                               "search scores agreement on every --data row");
    bool ft_opt = false;
    for (int i = 0; i < N_OPTS; i++)
        ft_opt |= given[i] && (table[i].val == OPT_TRAIN || table[i].val == OPT_LR ||
                               table[i].val == OPT_BATCH || table[i].val == OPT_OPTIMIZER ||
                               table[i].val == OPT_SEED || table[i].val == OPT_MOMENTUM ||
                               table[i].val == OPT_FT_TARGET || table[i].val == OPT_TEMPERATURE ||
                               table[i].val == OPT_DISTILL_ALPHA || table[i].val == OPT_TEACHER ||
                               table[i].val == OPT_ANNEAL);
    if (!a->finetune && ft_opt)
        return cli_usage_error("--train, --lr, --anneal, --batch, --optimizer, --momentum, "
                               "--seed, --teacher and the distillation options need --finetune "
                               "(or --induce)");
    if (cli_distill_check(&a->dist)) return EXIT_USAGE;
    if (a->teacher && a->dist.labels)
        return cli_usage_error("--teacher needs --finetune-target distill");
    /* lr 0: lc_compress resolves the optimizer's default (and may back off) */
    a->topts.epochs = a->finetune ? a->finetune : 1;
    return -1;
}
