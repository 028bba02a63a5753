/* run.c - the command table and the dispatch to one file per subcommand. */
#include "cli.h"
#include "progress.h"

#include <string.h>

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} commands[] = {
    {"info", cmd_info, "show a model's nodes, widths, activations, edges, params, FLOPs"},
    {"predict", cmd_predict, "write the model's outputs for every sample as CSV"},
    {"eval", cmd_eval, "accuracy and cross-entropy on labelled data"},
    {"analyze", cmd_analyze, "activation statistics per layer and the size each threshold gives"},
    {"compress", cmd_compress, "fold linear and constant neurons; write the smaller model"},
    {"sweep", cmd_sweep, "size and test accuracy over a range of thresholds (CSV, SVG)"},
    {"demo", cmd_demo, "train, compress and verify on Fashion-MNIST in about a minute"},
    {"convert", cmd_convert, "re-export a model in lincomp's ONNX form"},
    {"train", cmd_train, "train an MLP classifier on CSV, IDX or NPY data"},
    {"prune", cmd_prune, "train while removing the least active neurons (pruning baseline)"},
    {"export-c", cmd_export_c, "write the model as dependency-free C (FILE.c and FILE.h)"},
};

void cli_usage(FILE *f)
{
    fprintf(f, "usage: lincomp COMMAND [options]   (lincomp COMMAND --help for its options)\n\n"
               "Linearity-based compression of ReLU networks (ONNX in, ONNX or C out).\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n  --version  print the version\n");
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("lincomp %s\n", LC_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        cli_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            cli_cmd = commands[i].name;
            opterr = 0; /* we print one line of our own */
            optind = 0; /* glibc: a full restart of getopt, for a second call */
            return commands[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "lincomp: unknown command '%s' (see 'lincomp --help')\n", argv[1]);
    return EXIT_USAGE;
}

int cli_run(int argc, char **argv)
{
    cli_t0 = cli_now();
    int rc = dispatch(argc, argv);
    fflush(stdout);
    fflush(stderr);
    return rc;
}
