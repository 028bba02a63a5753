/* compress_opts.c - the options and the usage text of `lincomp compress`. */
#include "compress.h"

#include <limits.h>
#include <stdlib.h>

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
               "                           then fold (see 'lincomp compress --induce --help')\n\n"
               "budgets (thresholds per node, searched with real evaluation):\n"
               "  --target-size R          at most R x the original parameters (0 < R <= 1)\n"
               "                           with the least loss of accuracy on --val (else\n"
               "                           of agreement with the original on --data)\n"
               "  --max-drop PP            the smallest model whose accuracy on --val (needed)\n"
               "                           is at most PP percentage points below the original\n\n"
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

/* Parses the options into a; returns -1 to go on, else the exit status. */
int compress_parse(int argc, char **argv, cli_common *c, compress_args *a, const char **model)
{
    enum {
        OPT_DATA = OPT_FIRST_OWN, OPT_TAU, OPT_LAYER, OPT_VAL, OPT_REPORT, OPT_TARGET, OPT_DROP,
        OPT_FINETUNE, OPT_TRAIN
    };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS, CLI_PROVE_OPTIONS, {"data", required_argument, 0, OPT_DATA},
        {"output", required_argument, 0, 'o'}, {"threshold", required_argument, 0, OPT_TAU},
        {"layer-threshold", required_argument, 0, OPT_LAYER},
        {"val", required_argument, 0, OPT_VAL}, {"report", required_argument, 0, OPT_REPORT},
        {"target-size", required_argument, 0, OPT_TARGET},
        {"max-drop", required_argument, 0, OPT_DROP},
        {"finetune", required_argument, 0, OPT_FINETUNE},
        {"train", required_argument, 0, OPT_TRAIN}, CLI_OPTIMIZER_OPTIONS, {0, 0, 0, 0}};
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
        case OPT_FINETUNE:
            if (!cli_parse_int(optarg, 1, INT_MAX, &v))
                return cli_usage_error("--finetune wants a positive number of epochs, got '%s'",
                                       optarg);
            a->finetune = (int)v;
            break;
        case OPT_TRAIN: a->train = optarg; break;
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
    if (a->drop_pp >= 0 && !a->val) return cli_usage_error("--max-drop needs --val DATA");
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
