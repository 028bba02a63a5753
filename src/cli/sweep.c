/* sweep.c - `lincomp sweep MODEL --data CALIB --test TEST`: the paper's
 * experiment. One statistics pass; for every threshold a plan, the fold, its
 * size (dense layers and skip edges apart) and the accuracy on TEST. */
#include "cli.h"
#include "progress.h"
#include "svg.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TAUS 256

static void usage(FILE *f)
{
    fprintf(f, "usage: lincomp sweep MODEL.onnx --data CALIB --test TEST [options]\n\n"
               "For every threshold tau: the parameters after compression (dense layers\n"
               "and skip edges apart) and the accuracy on TEST.\n\n"
               "  --data FILE          calibration samples (statistics)\n"
               "  --test FILE          labelled test data\n"
               "  --thresholds LIST    comma-separated taus (default 1.00 down to 0.05\n"
               "                       in steps of 0.05)\n"
               "  --layer-threshold L  auto (default), N or F, as for compress\n"
               "  --csv FILE           the table as CSV\n"
               "  --svg FILE           size vs tau, accuracy vs tau, accuracy vs size\n"
               "  --json               the table as JSON on stdout\n"
               "  --exact-eval         run every compressed model on every test sample\n"
               "                       (default: only the samples on which a folded\n"
               "                       neuron leaves its piece; the rest keep the\n"
               "                       original's verdict, as folding is exact there)\n"
               "  --test-labels FILE  labels of an NPY --test (IDX: the file beside it;\n"
               "                      --labels would be --data's, which sweep does not use)\n"
               "  --label NAME, --threads N, -q/--quiet, --verbose\n");
}

typedef struct {
    double tau;
    size_t params, dense, skip;
    double acc;
} row;

static int parse_taus(const char *s, double *taus, int *n)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char buf[64];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof buf || *n == MAX_TAUS)
            return cli_usage_error("--thresholds wants numbers in [0, 1] separated by commas, got '%s'", s);
        memcpy(buf, p, len);
        buf[len] = 0;
        double t;
        if (!cli_parse_double(buf, &t) || t < 0 || t > 1)
            return cli_usage_error("--thresholds: '%s' is not a number in [0, 1]", buf);
        taus[(*n)++] = t;
        p += len + (p[len] == ',');
    }
    return *n ? 0 : cli_usage_error("--thresholds is empty");
}

/* Parameters of the folded graph cg on new edges ("skip" edges: between
 * nodes that were not joined in g); the rest, all biases included, sit in
 * the dense layers. map is lc_fold's node map from g to cg. */
size_t cli_skip_params(const lc_graph *g, const lc_graph *cg, const int *map)
{
    int n = lc_graph_nodes(g), cn = lc_graph_nodes(cg);
    int *back = malloc((size_t)cn * sizeof *back);
    if (!back) return 0;
    for (int k = 0; k < n; k++)
        if (map[k] >= 0) back[map[k]] = k;
    size_t skip = 0;
    for (int m = 1; m < cn; m++)
        for (int e = 0; e < lc_graph_n_in(cg, m); e++) {
            int j = lc_graph_src(cg, m, e);
            if (lc_graph_find_edge(g, back[m], back[j]) < 0)
                skip += (size_t)lc_graph_width(cg, m) * (size_t)lc_graph_width(cg, j);
        }
    free(back);
    return skip;
}

static int same_plan(const lc_graph *g, const lc_plan *a, const lc_plan *b)
{
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++)
        for (int i = 0; i < lc_graph_width(g, k); i++)
            if (lc_plan_get(a, k, i) != lc_plan_get(b, k, i)) return 0;
    return 1;
}

static int write_outputs(const cli_common *c, const char *csv, const char *svg, const row *rows,
                         int n, const char *model, size_t params0, double acc0)
{
    lc_error err = {0};
    if (csv) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) return cli_error(1, "out of memory");
        fprintf(f, "threshold,params,dense_params,skip_params,test_acc\n");
        for (int i = 0; i < n; i++)
            fprintf(f, "%g,%zu,%zu,%zu,%.6f\n", rows[i].tau, rows[i].params, rows[i].dense,
                    rows[i].skip, rows[i].acc);
        fclose(f);
        lc_status st = lc_write_file(csv, buf, len, &err);
        free(buf);
        if (st) return cli_lc_error(&err);
    }
    if (svg) {
        double tau[MAX_TAUS], size[MAX_TAUS], skip[MAX_TAUS], acc[MAX_TAUS];
        for (int i = 0; i < n; i++) {
            tau[i] = rows[i].tau;
            size[i] = (double)rows[i].params;
            skip[i] = (double)rows[i].skip;
            acc[i] = rows[i].acc;
        }
        char *buf = NULL, heading[512];
        size_t len = 0;
        snprintf(heading, sizeof heading, "lincomp sweep: %s", model);
        svg_sweep chart = {heading, n, tau, size, skip, acc, (double)params0, acc0};
        FILE *f = open_memstream(&buf, &len);
        if (!f) return cli_error(1, "out of memory");
        int bad = svg_write_sweep(f, &chart);
        fclose(f);
        if (bad) {
            free(buf);
            return cli_error(1, "out of memory");
        }
        lc_status st = lc_write_file(svg, buf, len, &err);
        free(buf);
        if (st) return cli_lc_error(&err);
    }
    if (c->json) {
        cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "sweep");
        for (int i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToArray(a, o);
            cJSON_AddNumberToObject(o, "threshold", rows[i].tau);
            cJSON_AddNumberToObject(o, "params", (double)rows[i].params);
            cJSON_AddNumberToObject(o, "dense_params", (double)rows[i].dense);
            cJSON_AddNumberToObject(o, "skip_params", (double)rows[i].skip);
            cJSON_AddNumberToObject(o, "test_acc", rows[i].acc);
        }
        int rc = cli_write_json(j, "-");
        cJSON_Delete(j);
        return rc;
    }
    return 0;
}

int cmd_sweep(int argc, char **argv)
{
    enum {
        OPT_DATA = OPT_FIRST_OWN, OPT_TEST, OPT_TAUS, OPT_LAYER, OPT_CSV, OPT_SVG, OPT_EXACT,
        OPT_TEST_LABELS
    };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS, {"data", required_argument, 0, OPT_DATA},
        {"test", required_argument, 0, OPT_TEST}, {"thresholds", required_argument, 0, OPT_TAUS},
        {"layer-threshold", required_argument, 0, OPT_LAYER},
        {"csv", required_argument, 0, OPT_CSV}, {"svg", required_argument, 0, OPT_SVG},
        {"exact-eval", no_argument, 0, OPT_EXACT},
        {"test-labels", required_argument, 0, OPT_TEST_LABELS}, {0, 0, 0, 0}};
    cli_common c = {0};
    const char *data = NULL, *test = NULL, *csv = NULL, *svg = NULL, *layer = "auto";
    const char *test_labels = NULL; /* --labels is --data's */
    bool exact = false;
    double taus[MAX_TAUS];
    int n_taus = 20;
    for (int i = 0; i < 20; i++) taus[i] = (20 - i) * 0.05;
    int opt;
    while ((opt = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
        switch (opt) {
        case 'h': usage(stdout); return 0;
        case OPT_DATA: data = optarg; break;
        case OPT_TEST: test = optarg; break;
        case OPT_TEST_LABELS: test_labels = optarg; break;
        case OPT_TAUS:
            if (parse_taus(optarg, taus, &n_taus)) return EXIT_USAGE;
            break;
        case OPT_LAYER: layer = optarg; break;
        case OPT_CSV: csv = optarg; break;
        case OPT_SVG: svg = optarg; break;
        case OPT_EXACT: exact = true; break;
        default: {
            int r = cli_common_opt(&c, opt, optarg, argv);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) return cli_usage_error("unknown option");
        }
        }
    }
    const char *model_path;
    if (cli_one_positional(argc, argv, &model_path, "MODEL")) return EXIT_USAGE;
    if (!data) return cli_usage_error("--data is required");
    if (!test) return cli_usage_error("--test is required");
    lc_error err = {0};
    lc_layer_threshold lt;
    if (lc_layer_threshold_parse(layer, &lt, &err)) return cli_usage_error("%s", err.msg);
    const cli_path outs[] = {{"--csv", csv}, {"--svg", svg}};
    const cli_path ins[] = {{"MODEL", model_path}, {"--data", data}, {"--test", test},
                            {"--labels", c.labels_path}, {"--test-labels", test_labels}};
    if (cli_check_paths(outs, 2, ins, 5, false)) return EXIT_USAGE;
    if ((csv && cli_check_output(csv)) || (svg && cli_check_output(svg))) return 1;

    lc_graph *g = NULL;
    lc_data *d = NULL, *t = NULL;
    lc_stats *st = NULL;
    lc_plan *prev = NULL;
    lc_pieces *pc = NULL;
    row rows[MAX_TAUS];
    int *map = NULL, rc = 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (cli_load_model(model_path, &g) ||
        cli_load_data(&c, data, c.labels_path, g, CLI_LABELS_UNUSED, NULL, &d) ||
        cli_load_data(&c, test, cli_labels_for(&c, test, data, test_labels), g, CLI_LABELS_NEEDED,
                      d, &t))
        goto done;
    if (lc_data_rows(d) == 0) {
        cli_error(1, "%s: no samples", data);
        goto done;
    }
    map = malloc((size_t)lc_graph_nodes(g) * sizeof *map);
    if (!map || lc_stats_compute(g, lc_data_x(d), lc_data_rows(d), lc_data_cols(d), &st, &err)) goto lcerr;
    /* too many samples x neurons for the piece table: evaluate in full */
    if (!exact) {
        lc_status ps = lc_pieces_compute_z(g, t, &pc, &err);
        if (ps == LC_ERR_NOMEM) exact = true;
        else if (ps) goto lcerr;
    }
    cli_progress bar;
    cli_progress_start(&bar, c.quiet, "compressing and evaluating", n_taus, "thresholds");
    for (int i = 0; i < n_taus; i++) {
        cli_progress_update(&bar, i);
        lc_plan *p;
        if (lc_plan_from_stats(g, st, taus[i], lt, &p, &err)) goto lcerr;
        rows[i].tau = taus[i];
        if (prev && same_plan(g, p, prev)) { /* same model: measured already */
            rows[i] = rows[i - 1];
            rows[i].tau = taus[i];
            lc_plan_free(p);
            continue;
        }
        lc_graph *cg;
        lc_eval_result ev;
        lc_status s = lc_fold(g, p, &cg, map, &err);
        if (!s) {
            /* what the written file would hold, as compress counts it */
            rows[i].params = lc_graph_file_params(cg);
            rows[i].skip = cli_skip_params(g, cg, map);
            rows[i].dense = rows[i].params > rows[i].skip ? rows[i].params - rows[i].skip : 0;
            if (exact) {
                s = lc_evaluate(cg, t, &ev, &err);
                rows[i].acc = ev.accuracy;
            } else {
                s = lc_plan_accuracy(g, p, cg, t, pc, &rows[i].acc, NULL, &err);
            }
            lc_graph_free(cg);
        }
        lc_plan_free(prev);
        prev = p;
        if (s) goto lcerr;
    }
    cli_progress_end(&bar);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!c.json) {
        printf("%s: %zu parameters; statistics on %zu samples, accuracy on %zu\n\n", model_path,
               lc_graph_file_params(g), lc_data_rows(d), lc_data_rows(t));
        printf("  %9s %12s %12s %12s %8s %9s\n", "threshold", "params", "dense", "skip", "size",
               "test acc");
        for (int i = 0; i < n_taus; i++)
            printf("  %9.2f %12zu %12zu %12zu %7.1f%% %9.4f\n", rows[i].tau, rows[i].params,
                   rows[i].dense, rows[i].skip,
                   100.0 * (double)rows[i].params / (double)lc_graph_file_params(g), rows[i].acc);
        printf("\n  %d thresholds in %.2f s\n", n_taus,
               (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    }
    double acc0 = NAN;
    if (svg) { /* the original's accuracy: the chart's reference line */
        lc_eval_result e0;
        if (lc_evaluate(g, t, &e0, &err)) goto lcerr;
        acc0 = e0.accuracy;
    }
    rc = write_outputs(&c, csv, svg, rows, n_taus, model_path, lc_graph_file_params(g), acc0);
    goto done;
lcerr:
    if (!map) cli_error(1, "out of memory");
    else cli_lc_error(&err);
done:
    lc_plan_free(prev);
    lc_pieces_free(pc);
    free(map);
    lc_stats_free(st);
    lc_data_free(t);
    lc_data_free(d);
    lc_graph_free(g);
    return rc;
}
