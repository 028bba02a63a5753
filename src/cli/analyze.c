/* analyze.c - `lincomp analyze MODEL --data DATA [--prove] [--json]`: per
 * hidden node the activation statistics, the size each threshold would give
 * and, with --prove, the neurons proven linear or dead on an input box. */
#include "prove.h"
#include "progress.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

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
               "  -q, --quiet     no progress on stderr; --verbose: stage lines from the start\n");
}

static int num(const cJSON *o, const char *key)
{
    return (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* The tables, from the report (the same numbers as --json). */
static void print_report(const char *model_path, const cJSON *rep)
{
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(rep, "layers"), *l;
    const cJSON *pf = cJSON_GetObjectItemCaseSensitive(rep, "proof");
    bool proof = cJSON_IsObject(pf);
    printf("%s on %d samples\n\n  %-20s %7s %8s %8s   rates in tenths: 0-.1 .1-.2 ... .9-1 (1.0 = always)\n",
           model_path, num(rep, "samples"), "node", "width", "always", "never");
    cJSON_ArrayForEach(l, layers) {
        int hist[11] = {0};
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(l, "rates")) {
            double v = cJSON_GetNumberValue(r);
            hist[v >= 1.0 ? 10 : (int)(v * 10)]++;
        }
        printf("  %-20.20s %7d %8d %8d  ", cJSON_GetStringValue(cJSON_GetObjectItem(l, "name")),
               num(l, "width"), num(l, "always_active"), num(l, "never_active"));
        for (int b = 0; b < 11; b++) printf(" %4d", hist[b]);
        printf("\n");
    }
    if (proof) {
        printf("\n  proven on the %s box by %s bounds (%.3f s):\n  %-20s %7s %8s %8s\n",
               cJSON_GetStringValue(cJSON_GetObjectItem(pf, "box")),
               cJSON_GetStringValue(cJSON_GetObjectItem(pf, "method")),
               cJSON_GetNumberValue(cJSON_GetObjectItem(pf, "seconds")), "node", "width",
               "linear", "dead");
        cJSON_ArrayForEach(l, layers)
            printf("  %-20.20s %7d %8d %8d\n", cJSON_GetStringValue(cJSON_GetObjectItem(l, "name")),
                   num(l, "width"), num(l, "provably_linear"), num(l, "provably_dead"));
    }
    double params = cJSON_GetNumberValue(cJSON_GetObjectItem(rep, "params"));
    printf("\n  parameters: %.0f now", params);
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(rep, "compressed_params"))
        printf(", %.0f at tau=%s (%.1f%%)", cJSON_GetNumberValue(l), l->string,
               100.0 * cJSON_GetNumberValue(l) / params);
    printf("\n");
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
    while ((opt = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
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
    lc_box *box = NULL;
    char *text = NULL;
    cJSON *rep = NULL;
    int rc = 1;
    lc_error err = {0};
    if (cli_load_model(model_path, &g) || cli_load_data(&c, data_path, c.labels_path, g, CLI_LABELS_UNUSED, NULL, &d)) goto done;
    if (lc_data_rows(d) == 0) {
        cli_error(1, "%s: no samples", data_path);
        goto done;
    }
    cli_events ev = {.c = &c};
    lc_analyze_opts o;
    lc_analyze_opts_default(&o);
    o.model_name = model_path;
    o.progress = c.quiet ? NULL : cli_on_progress;
    o.progress_ctx = &ev;
    if ((rc = cli_prove_opts(&pr, g, &o.prove, &box))) goto done;
    rc = 1;
    if (lc_analyze(g, d, &o, &text, &err)) {
        cli_lc_error(&err);
        goto done;
    }
    if (c.json) {
        if (printf("%s\n", text) < 0) goto done;
    } else {
        if (!(rep = cJSON_Parse(text))) {
            cli_error(1, "out of memory");
            goto done;
        }
        print_report(model_path, rep);
    }
    rc = 0;
done:
    cJSON_Delete(rep);
    lc_free(text);
    lc_box_free(box);
    lc_data_free(d);
    lc_graph_free(g);
    return rc;
}
