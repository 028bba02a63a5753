/* analyze.c - `lincomp analyze MODEL --data DATA [--prove] [--json]`: per
 * hidden node the activation statistics, the size each threshold would give
 * and, with --prove, the neurons proven linear or dead on an input box. */
#include "prove.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

static const double taus[] = {1.0, 0.99, 0.95, 0.9};
enum { N_TAUS = sizeof taus / sizeof *taus };

static void usage(FILE *f)
{
    fprintf(f, "usage: lincomp analyze MODEL.onnx --data DATA [--json] [options]\n\n"
               "Per hidden node: width, neurons always active (linear on every sample),\n"
               "never active, a histogram of activation rates in tenths, and the\n"
               "parameter count compression at tau = 1, 0.99, 0.95, 0.9 would give\n"
               "(layer threshold auto).\n\n"
               "  --data FILE     calibration samples (CSV, IDX or NPY; labels not needed)\n"
               "  --json          JSON on stdout (layers: name, width, always_active,\n"
               "                  never_active, provably_linear, provably_dead, rates)\n"
               CLI_PROVE_HELP
               "  --label NAME    label column of a CSV (default: the last one)\n"
               "  --threads N     BLAS threads (default: OpenBLAS's choice)\n"
               "  --quiet         no progress on stderr\n");
}

/* Neurons of node k with no sample in the identity piece. */
static int never_active(const lc_stats *s, int k)
{
    int n = 0;
    for (int i = 0; i < lc_stats_width(s, k); i++) n += lc_stats_rate(s, k, i) == 0.0;
    return lc_stats_samples(s) ? n : 0;
}

int cmd_analyze(int argc, char **argv)
{
    enum { OPT_DATA = OPT_FIRST_OWN };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS, CLI_PROVE_OPTIONS, {"data", required_argument, 0, OPT_DATA},
        {0, 0, 0, 0}};
    cli_common c = {0};
    cli_prove pr = {0};
    const char *data_path = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (opt == 'h') return usage(stdout), 0;
        if (opt == OPT_DATA) data_path = optarg;
        else {
            int r = cli_prove_opt(&pr, opt, optarg);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) r = cli_common_opt(&c, opt, optarg, argv);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) return cli_usage_error("unknown option");
        }
    }
    const char *model_path;
    if (cli_one_positional(argc, argv, &model_path, "MODEL")) return EXIT_USAGE;
    if (!data_path) return cli_usage_error("--data is required");
    int pcr = cli_prove_check(&pr);
    if (pcr) return pcr;

    lc_graph *g = NULL;
    lc_data *d = NULL;
    lc_stats *st = NULL;
    lc_proof *pf = NULL;
    cJSON *root = NULL;
    int rc = 1;
    lc_error err = {0};
    size_t sizes[N_TAUS];
    if (cli_load_model(model_path, &g) || cli_load_data(&c, data_path, g, false, &d)) goto done;
    cli_stage(&c, "statistics over %zu samples", lc_data_rows(d));
    if (lc_stats_compute(g, lc_data_x(d), lc_data_rows(d), lc_data_cols(d), &st, &err)) goto lcerr;
    if (lc_stats_samples(st) == 0) {
        cli_error(1, "%s: no samples", data_path);
        goto done;
    }
    lc_layer_threshold lt = {LC_LAYER_AUTO, 0};
    for (int t = 0; t < N_TAUS; t++) {
        lc_plan *p;
        if (lc_plan_from_stats(g, st, taus[t], lt, &p, &err)) goto lcerr;
        lc_status s2 = lc_plan_params_after(g, p, &sizes[t], NULL, &err);
        lc_plan_free(p);
        if (s2) goto lcerr;
    }
    if (pr.on) {
        cli_stage(&c, "proving (%s bounds)", lc_prove_method_name(pr.method));
        int r = cli_prove_run(&pr, g, d, &pf);
        if (r) {
            rc = r;
            goto done;
        }
    }

    int n = lc_graph_nodes(g);
    if (c.json) {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "model", model_path);
        cJSON_AddNumberToObject(root, "samples", (double)lc_stats_samples(st));
        cJSON_AddNumberToObject(root, "params", (double)lc_graph_params(g));
        cJSON *layers = cJSON_AddArrayToObject(root, "layers");
        for (int k = 1; k < n - 1; k++) {
            int w = lc_graph_width(g, k), id = lc_act_identity_piece(lc_graph_act(g, k).kind);
            cJSON *l = cJSON_CreateObject();
            cJSON_AddItemToArray(layers, l);
            cJSON_AddStringToObject(l, "name", lc_graph_name(g, k));
            cJSON_AddStringToObject(l, "activation", lc_act_name(lc_graph_act(g, k).kind));
            cJSON_AddNumberToObject(l, "width", w);
            cJSON_AddNumberToObject(l, "always_active", lc_stats_n_always(st, k, id));
            cJSON_AddNumberToObject(l, "never_active", never_active(st, k));
            if (pf) {
                cJSON_AddNumberToObject(l, "provably_linear", lc_proof_n_linear(pf, k));
                cJSON_AddNumberToObject(l, "provably_dead", lc_proof_n_constant(pf, k));
            } else {
                cJSON_AddNullToObject(l, "provably_linear");
                cJSON_AddNullToObject(l, "provably_dead");
            }
            cJSON *rates = cJSON_AddArrayToObject(l, "rates");
            for (int i = 0; i < w; i++)
                cJSON_AddItemToArray(rates, cJSON_CreateNumber(lc_stats_rate(st, k, i)));
        }
        if (pf) cJSON_AddItemToObject(root, "proof", cli_prove_json(&pr, pf, g));
        else cJSON_AddNullToObject(root, "proof");
        cJSON *cs = cJSON_AddObjectToObject(root, "compressed_params");
        for (int t = 0; t < N_TAUS; t++) {
            char key[16];
            snprintf(key, sizeof key, "%g", taus[t]);
            cJSON_AddNumberToObject(cs, key, (double)sizes[t]);
        }
        if (cli_write_json(root, "-")) goto done;
    } else {
        printf("%s on %zu samples\n\n  %-20s %7s %8s %8s   rates in tenths: 0-.1 .1-.2 ... .9-1 (1.0 = always)\n",
               model_path, lc_stats_samples(st), "node", "width", "always", "never");
        for (int k = 1; k < n - 1; k++) {
            int w = lc_graph_width(g, k), id = lc_act_identity_piece(lc_graph_act(g, k).kind);
            int hist[11] = {0};
            for (int i = 0; i < w; i++) {
                double r = lc_stats_rate(st, k, i);
                hist[r >= 1.0 ? 10 : (int)(r * 10)]++;
            }
            printf("  %-20.20s %7d %8d %8d  ", lc_graph_name(g, k), w, lc_stats_n_always(st, k, id),
                   never_active(st, k));
            for (int b = 0; b < 11; b++) printf(" %4d", hist[b]);
            printf("\n");
        }
        if (pf) {
            printf("\n  proven on the %s box by %s bounds (%.3f s):\n  %-20s %7s %8s %8s\n",
                   pr.box_kind, lc_prove_method_name(pr.method), pr.seconds, "node", "width",
                   "linear", "dead");
            for (int k = 1; k < n - 1; k++)
                printf("  %-20.20s %7d %8d %8d\n", lc_graph_name(g, k), lc_graph_width(g, k),
                       lc_proof_n_linear(pf, k), lc_proof_n_constant(pf, k));
        }
        printf("\n  parameters: %zu now", lc_graph_params(g));
        for (int t = 0; t < N_TAUS; t++)
            printf(", %zu at tau=%g (%.1f%%)", sizes[t], taus[t],
                   100.0 * (double)sizes[t] / (double)lc_graph_params(g));
        printf("\n");
    }
    rc = 0;
    goto done;
lcerr:
    cli_lc_error(&err);
done:
    cJSON_Delete(root);
    lc_proof_free(pf);
    lc_stats_free(st);
    lc_data_free(d);
    lc_graph_free(g);
    return rc;
}
