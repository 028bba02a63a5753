/* info.c - `lincomp info MODEL`: nodes, widths, activations, edges, size. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: lincomp info MODEL.onnx [--json]\n\n"
               "Shows every node of the model: width, activation, incoming edges,\n"
               "parameters; then totals of parameters and FLOPs per sample.\n\n"
               "  --json     machine-readable output on stdout\n");
}

static void act_str(lc_act a, char *buf, size_t n)
{
    static const char *names[] = {"identity", "relu", "leaky_relu", "prelu", "clip",
                                  "softmax", "log_softmax", "sigmoid"};
    if (a.kind == LC_ACT_LEAKY_RELU) snprintf(buf, n, "leaky_relu(%g)", (double)a.alpha);
    else if (a.kind == LC_ACT_CLIP) snprintf(buf, n, "clip(%g,%g)", (double)a.lo, (double)a.hi);
    else snprintf(buf, n, "%s", names[a.kind]);
}

static size_t node_params(const lc_graph *g, int k)
{
    size_t p = (size_t)lc_graph_width(g, k) * (lc_graph_act(g, k).kind == LC_ACT_PRELU ? 2 : 1);
    for (int e = 0; e < lc_graph_n_in(g, k); e++)
        p += (size_t)lc_graph_width(g, k) * (size_t)lc_graph_width(g, lc_graph_src(g, k, e));
    return p;
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    int opt;
    while ((opt = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
        if (opt == 'h') return usage(stdout), 0;
        int r = cli_common_opt(&c, opt, optarg, argv);
        if (r < 0) return EXIT_USAGE;
        if (r == 0) return cli_usage_error("unknown option");
    }
    const char *path;
    if (cli_one_positional(argc, argv, &path, "MODEL")) return EXIT_USAGE;
    lc_graph *g;
    if (cli_load_model(path, &g)) return 1;

    int n = lc_graph_nodes(g);
    char act[64];
    if (c.json) {
        cJSON *j = cJSON_CreateObject(), *nodes;
        cJSON_AddStringToObject(j, "model", path);
        cJSON_AddNumberToObject(j, "params", (double)lc_graph_params(g));
        cJSON_AddNumberToObject(j, "file_params", (double)lc_graph_file_params(g));
        cJSON_AddNumberToObject(j, "flops", (double)lc_graph_flops(g));
        cJSON_AddNumberToObject(j, "input_width", lc_graph_input_width(g));
        cJSON_AddNumberToObject(j, "output_width", lc_graph_output_width(g));
        nodes = cJSON_AddArrayToObject(j, "nodes");
        for (int k = 0; k < n; k++) {
            cJSON *o = cJSON_CreateObject(), *in;
            cJSON_AddItemToArray(nodes, o);
            act_str(lc_graph_act(g, k), act, sizeof act);
            cJSON_AddStringToObject(o, "name", lc_graph_name(g, k));
            cJSON_AddNumberToObject(o, "width", lc_graph_width(g, k));
            cJSON_AddStringToObject(o, "activation", k ? act : "input");
            cJSON_AddNumberToObject(o, "params", k ? (double)node_params(g, k) : 0);
            in = cJSON_AddArrayToObject(o, "inputs");
            for (int e = 0; k && e < lc_graph_n_in(g, k); e++)
                cJSON_AddItemToArray(in, cJSON_CreateString(lc_graph_name(g, lc_graph_src(g, k, e))));
        }
        int rc = cli_write_json(j, "-");
        cJSON_Delete(j);
        lc_graph_free(g);
        return rc;
    } else {
        printf("%s\n\n  %-3s %-24s %7s  %-18s %10s  %s\n", path, "#", "node", "width",
               "activation", "params", "inputs");
        for (int k = 0; k < n; k++) {
            act_str(lc_graph_act(g, k), act, sizeof act);
            printf("  %-3d %-24.24s %7d  %-18s %10zu  ", k, lc_graph_name(g, k),
                   lc_graph_width(g, k), k ? act : "(input)", k ? node_params(g, k) : 0);
            for (int e = 0; k && e < lc_graph_n_in(g, k); e++)
                printf("%s%d", e ? "," : "", lc_graph_src(g, k, e));
            printf("\n");
        }
        int edges = 0;
        for (int k = 1; k < n; k++) edges += lc_graph_n_in(g, k);
        printf("\n  %d nodes (%d hidden), %d edges, %zu parameters, %zu FLOPs per sample\n", n,
               n - 2, edges, lc_graph_params(g), lc_graph_flops(g));
        if (lc_graph_file_params(g) != lc_graph_params(g))
            printf("  the file holds %zu of them: lincomp's edges are dense matrices, so a layer "
                   "fed by a residual sum gets a copy of its weights per summand, and a value "
                   "passed on unchanged (a Concat, one activation after another) an identity "
                   "matrix; budgets count against the file's %zu\n",
                   lc_graph_file_params(g), lc_graph_file_params(g));
        if (lc_graph_preproc(g))
            printf("  stored preprocessing: %d features from raw columns\n",
                   lc_preproc_width(lc_graph_preproc(g)));
    }
    lc_graph_free(g);
    return 0;
}
