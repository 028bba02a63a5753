/* convert.c - `lincomp convert IN.onnx -o OUT.onnx`: import and re-export, so
 * any supported model becomes lincomp's canonical form (BatchNorm folded,
 * one Gemm per edge). */
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: lincomp convert MODEL.onnx -o OUT.onnx\n\n"
               "Imports a model and writes it in lincomp's ONNX form (opset 13).\n");
}

int cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS, {"output", required_argument, 0, 'o'}, {0, 0, 0, 0}};
    cli_common c = {0};
    const char *out_path = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, ":hqo:", opts, NULL)) != -1) {
        if (opt == 'h') return usage(stdout), 0;
        if (opt == 'o') out_path = optarg;
        else {
            int r = cli_common_opt(&c, opt, optarg, argv);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) return cli_usage_error("unknown option");
        }
    }
    const char *model_path;
    if (cli_one_positional(argc, argv, &model_path, "MODEL")) return EXIT_USAGE;
    if (!out_path) return cli_usage_error("-o OUT.onnx is required");
    if (cli_model_output(out_path)) return EXIT_USAGE;
    lc_graph *g;
    if (cli_load_model(model_path, &g)) return 1;
    lc_error err = {0};
    int rc = lc_onnx_save(g, out_path, &err) ? cli_lc_error(&err) : 0;
    lc_graph_free(g);
    return rc;
}
