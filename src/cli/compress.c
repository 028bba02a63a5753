/* compress.c - `lincomp compress MODEL --data DATA -o OUT.onnx`: statistics,
 * a plan by threshold and layer threshold, the fold, verification on the
 * calibration data, the ONNX file and the report (DESIGN section 6). */
#include "cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
               "  --label NAME, --labels FILE, --threads N, --quiet\n");
}

typedef struct {
    const char *data, *out, *val, *report;
    double tau;
    const char *layer;
} args;

static int max_abs_diff(const lc_graph *a, const lc_graph *b, const lc_data *d, double *out)
{
    size_t n = lc_data_rows(d);
    int w = lc_graph_output_width(a);
    float *ya = malloc((n ? n : 1) * (size_t)w * sizeof(float));
    float *yb = malloc((n ? n : 1) * (size_t)w * sizeof(float));
    lc_error err = {0};
    int rc = 0;
    if (!ya || !yb) rc = cli_error(1, "out of memory");
    else if (lc_forward(a, lc_data_x(d), n, ya, &err) || lc_forward(b, lc_data_x(d), n, yb, &err))
        rc = cli_lc_error(&err);
    double m = 0;
    for (size_t i = 0; !rc && i < n * (size_t)w; i++) {
        double dlt = fabs((double)ya[i] - yb[i]);
        m = dlt > m || isnan(dlt) ? dlt : m;
    }
    *out = m;
    free(ya);
    free(yb);
    return rc;
}

static cJSON *layer_report(const lc_graph *g, const lc_graph *cg, const lc_plan *p, const int *map)
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
    }
    return layers;
}

static void print_table(const lc_graph *g, const lc_graph *cg, const lc_plan *p, const int *map)
{
    printf("  %-20s %8s %8s %8s %9s\n", "node", "before", "after", "linear", "constant");
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++)
        printf("  %-20.20s %8d %8d %8d %9d\n", lc_graph_name(g, k), lc_graph_width(g, k),
               map[k] >= 0 ? lc_graph_width(cg, map[k]) : 0, lc_plan_folded_linear(p, k),
               lc_plan_removed_constant(p, k));
    printf("\n  %-20s %12s %12s %8s\n", "", "before", "after", "ratio");
    printf("  %-20s %12zu %12zu %8.4f\n", "parameters", lc_graph_params(g), lc_graph_params(cg),
           (double)lc_graph_params(cg) / (double)lc_graph_params(g));
    printf("  %-20s %12zu %12zu %8.4f\n", "FLOPs per sample", lc_graph_flops(g), lc_graph_flops(cg),
           (double)lc_graph_flops(cg) / (double)lc_graph_flops(g));
}

int cmd_compress(int argc, char **argv)
{
    enum { OPT_DATA = OPT_FIRST_OWN, OPT_TAU, OPT_LAYER, OPT_VAL, OPT_REPORT };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS, {"data", required_argument, 0, OPT_DATA},
        {"output", required_argument, 0, 'o'}, {"threshold", required_argument, 0, OPT_TAU},
        {"layer-threshold", required_argument, 0, OPT_LAYER},
        {"val", required_argument, 0, OPT_VAL}, {"report", required_argument, 0, OPT_REPORT},
        {0, 0, 0, 0}};
    cli_common c = {0};
    args a = {.tau = 1.0, .layer = "auto"};
    int opt;
    while ((opt = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        switch (opt) {
        case 'h': usage(stdout); return 0;
        case OPT_DATA: a.data = optarg; break;
        case 'o': a.out = optarg; break;
        case OPT_TAU:
            if (cli_parse_threshold(optarg, &a.tau)) return EXIT_USAGE;
            break;
        case OPT_LAYER: a.layer = optarg; break;
        case OPT_VAL: a.val = optarg; break;
        case OPT_REPORT: a.report = optarg; break;
        default: {
            int r = cli_common_opt(&c, opt, optarg, argv);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) return cli_usage_error("unknown option");
        }
        }
    }
    const char *model_path;
    if (cli_one_positional(argc, argv, &model_path, "MODEL")) return EXIT_USAGE;
    if (!a.data) return cli_usage_error("--data is required");
    if (!a.out) return cli_usage_error("-o OUT.onnx is required");
    lc_error err = {0};
    lc_layer_threshold lt;
    if (lc_layer_threshold_parse(a.layer, &lt, &err)) return cli_usage_error("%s", err.msg);

    lc_graph *g = NULL, *cg = NULL;
    lc_data *d = NULL, *v = NULL;
    lc_stats *st = NULL;
    lc_plan *plan = NULL;
    int *map = NULL;
    cJSON *rep = NULL;
    int rc = 1;
    if (cli_load_model(model_path, &g)) goto done;
    if (lc_graph_check_finite(g, &err)) {
        cli_error(1, "%s: %s", model_path, err.msg);
        goto done;
    }
    if (cli_load_data(&c, a.data, g, false, &d)) goto done;
    if (a.val && cli_load_data(&c, a.val, g, true, &v)) goto done;
    if (lc_data_rows(d) == 0) {
        cli_error(1, "%s: no samples", a.data);
        goto done;
    }
    cli_stage(&c, "statistics over %zu samples", lc_data_rows(d));
    if (lc_stats_compute(g, lc_data_x(d), lc_data_rows(d), lc_data_cols(d), &st, &err) ||
        lc_plan_from_stats(g, st, a.tau, lt, &plan, &err))
        goto lcerr;
    map = malloc((size_t)lc_graph_nodes(g) * sizeof *map);
    if (!map) goto done;
    cli_stage(&c, "folding");
    if (lc_fold(g, plan, &cg, map, &err)) goto lcerr;

    double diff;
    if (max_abs_diff(g, cg, d, &diff)) goto done;
    lc_eval_result before = {0}, after = {0};
    if (v && (lc_evaluate(g, v, &before, &err) || lc_evaluate(cg, v, &after, &err))) goto lcerr;
    if (lc_onnx_save(cg, a.out, &err)) goto lcerr;

    rep = cJSON_CreateObject();
    cJSON_AddStringToObject(rep, "model", model_path);
    cJSON_AddStringToObject(rep, "output", a.out);
    cJSON_AddNumberToObject(rep, "params_before", (double)lc_graph_params(g));
    cJSON_AddNumberToObject(rep, "params_after", (double)lc_graph_params(cg));
    cJSON_AddNumberToObject(rep, "size_ratio", (double)lc_graph_params(cg) / (double)lc_graph_params(g));
    cJSON_AddNumberToObject(rep, "flops_before", (double)lc_graph_flops(g));
    cJSON_AddNumberToObject(rep, "flops_after", (double)lc_graph_flops(cg));
    cJSON_AddNumberToObject(rep, "threshold", a.tau);
    cJSON_AddStringToObject(rep, "layer_threshold", a.layer);
    cJSON_AddNumberToObject(rep, "calibration_samples", (double)lc_data_rows(d));
    cJSON_AddNumberToObject(rep, "calibration_max_abs_diff", diff);
    if (v) {
        cJSON_AddNumberToObject(rep, "accuracy_before", before.accuracy);
        cJSON_AddNumberToObject(rep, "accuracy_after", after.accuracy);
    } else {
        cJSON_AddNullToObject(rep, "accuracy_before");
        cJSON_AddNullToObject(rep, "accuracy_after");
    }
    cJSON_AddItemToObject(rep, "layers", layer_report(g, cg, plan, map));

    if (!c.json) {
        printf("%s -> %s (threshold %g, layer threshold %s, %zu calibration samples)\n\n",
               model_path, a.out, a.tau, a.layer, lc_data_rows(d));
        print_table(g, cg, plan, map);
        if (v)
            printf("  %-20s %12.4f %12.4f %+8.2f pp\n", "accuracy (--val)", before.accuracy,
                   after.accuracy, 100 * (after.accuracy - before.accuracy));
        printf("  largest output change on the calibration data: %.3g\n", diff);
    }
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
    lc_plan_free(plan);
    lc_stats_free(st);
    lc_graph_free(cg);
    lc_graph_free(g);
    lc_data_free(v);
    lc_data_free(d);
    return rc;
}
