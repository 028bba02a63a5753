/* eval.c - `lincomp eval MODEL --data DATA [--json]`. */
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: lincomp eval MODEL.onnx --data DATA [--json] [options]\n\n"
               "Accuracy and mean cross-entropy of the model on labelled data.\n\n"
               "  --data FILE     labelled CSV, IDX or NPY (with --labels)\n"
               "  --label NAME    label column of a CSV (default: the last one)\n"
               "  --labels FILE   labels of an NPY data file\n"
               "  --json          JSON on stdout: samples, accuracy, loss, params\n"
               "  --threads N     BLAS threads (default: OpenBLAS's choice)\n");
}

int cmd_eval(int argc, char **argv)
{
    enum { OPT_DATA = OPT_FIRST_OWN };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS, {"data", required_argument, 0, OPT_DATA}, {0, 0, 0, 0}};
    cli_common c = {0};
    const char *data_path = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
        if (opt == 'h') return usage(stdout), 0;
        if (opt == OPT_DATA) data_path = optarg;
        else {
            int r = cli_common_opt(&c, opt, optarg, argv);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) return cli_usage_error("unknown option");
        }
    }
    const char *model_path;
    if (cli_one_positional(argc, argv, &model_path, "MODEL")) return EXIT_USAGE;
    if (!data_path) return cli_usage_error("--data is required");

    lc_graph *g = NULL;
    lc_data *d = NULL;
    int rc = 1;
    lc_error err = {0};
    lc_eval_result res;
    if (cli_load_model(model_path, &g) || cli_load_data(&c, data_path, c.labels_path, g, CLI_LABELS_NEEDED, NULL, &d)) goto done;
    if (lc_evaluate(g, d, &res, &err)) {
        cli_lc_error(&err);
        goto done;
    }
    if (c.json)
        printf("{\"samples\": %zu, \"accuracy\": %.6f, \"loss\": %.6f, \"params\": %zu}\n",
               res.samples, res.accuracy, res.loss, lc_graph_params(g));
    else
        printf("samples   %zu\naccuracy  %.4f\nloss      %.4f\nparams    %zu\n", res.samples,
               res.accuracy, res.loss, lc_graph_params(g));
    rc = 0;
done:
    lc_data_free(d);
    lc_graph_free(g);
    return rc;
}
