/* main.c - the lincomp command: dispatches to one file per subcommand. */
#include "cli.h"
#include "progress.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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

static void usage(FILE *f)
{
    fprintf(f, "usage: lincomp COMMAND [options]   (lincomp COMMAND --help for its options)\n\n"
               "Linearity-based compression of ReLU networks (ONNX in, ONNX or C out).\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n  --version  print the version\n");
}

/* OpenBLAS chooses its kernels when it loads: from OPENBLAS_CORETYPE, else
 * by detecting the CPU. On virtual CPUs that report a generic model the
 * detection can fall back to the SSE3 "Prescott" kernels, several times
 * slower than the AVX2 or AVX-512 ones on the Fashion-MNIST MLP (make bench
 * measures each). Then, once and only when the user has not chosen, restart
 * with the best kernels the CPU supports. LINCOMP_BLAS_AUTO=0 turns this off. */
static void prefer_fast_blas(char **argv)
{
    const char *core = openblas_get_corename();
    const char *off = getenv("LINCOMP_BLAS_AUTO");
    if (getenv("OPENBLAS_CORETYPE") || (off && !strcmp(off, "0")) || !core ||
        strcasecmp(core, "prescott") != 0)
        return;
    __builtin_cpu_init();
    const char *want = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        want = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        want = "Haswell";
    if (!want) return;
    if (setenv("OPENBLAS_CORETYPE", want, 1) == 0) execv("/proc/self/exe", argv);
    /* exec failed: go on with the kernels we have */
    unsetenv("OPENBLAS_CORETYPE");
}

int main(int argc, char **argv)
{
    prefer_fast_blas(argv);
    cli_t0 = cli_now();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("lincomp %s\n", LC_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            cli_cmd = commands[i].name;
            opterr = 0; /* we print one line of our own */
            return commands[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "lincomp: unknown command '%s' (see 'lincomp --help')\n", argv[1]);
    return EXIT_USAGE;
}
