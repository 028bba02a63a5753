/* analyze.c - lc_analyze: the report of `lincomp analyze --json` (per
 * hidden node the activation statistics, the size each threshold would give
 * and, with a proof, the neurons proven linear or dead on an input box). */
#include "pipeline.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static const double taus[] = {1.0, 0.99, 0.95, 0.9};
enum { N_TAUS = sizeof taus / sizeof *taus };

void lc_analyze_opts_default(lc_analyze_opts *o)
{
    memset(o, 0, sizeof *o);
    o->prove.method = LC_PROVE_SYMBOLIC;
}

/* Neurons of node k with no sample in the identity piece. */
static int never_active(const lc_stats *s, int k)
{
    int n = 0;
    for (int i = 0; i < lc_stats_width(s, k); i++) n += lc_stats_rate(s, k, i) == 0.0;
    return lc_stats_samples(s) ? n : 0;
}

static cJSON *layers_json(const lc_graph *g, const lc_stats *st, const lc_proof *pf)
{
    cJSON *layers = cJSON_CreateArray();
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
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
    return layers;
}

lc_status lc_analyze(const lc_graph *g, const lc_data *d, const lc_analyze_opts *opts,
                     char **report, lc_error *err)
{
    if (report) *report = NULL;
    if (!g || !d || !report)
        return lc_fail(err, LC_ERR_INVALID, "lc_analyze: g, data and report are required");
    lc_analyze_opts def;
    lc_analyze_opts_default(&def);
    const lc_analyze_opts *o = opts ? opts : &def;
    lc_status st = pl_prove_check(g, &o->prove, err);
    if (!st) st = pl_check_data(g, d, "calibration data", err);
    if (st) return st;
    if (o->threads > 0) lc_set_threads(o->threads);
    pl_sink s = {o->progress, o->progress_ctx};
    lc_stats *stats = NULL;
    lc_proof *pf = NULL;
    double prove_seconds = 0;
    const char *box_kind = NULL;
    size_t sizes[N_TAUS];
    pl_say(&s, LC_PROGRESS_STAGE, "statistics", 0, "statistics over %zu samples", lc_data_rows(d));
    if ((st = lc_stats_compute(g, lc_data_x(d), lc_data_rows(d), lc_data_cols(d), &stats, err)))
        goto done;
    lc_layer_threshold lt = {LC_LAYER_AUTO, 0};
    for (int t = 0; t < N_TAUS; t++) {
        lc_plan *p;
        if ((st = lc_plan_from_stats(g, stats, taus[t], lt, &p, err))) goto done;
        st = lc_plan_params_after(g, p, &sizes[t], NULL, err);
        lc_plan_free(p);
        if (st) goto done;
    }
    if (o->prove.on &&
        (st = pl_prove(g, d, &o->prove, &s, &pf, &prove_seconds, &box_kind, err)))
        goto done;
    cJSON *root = cJSON_CreateObject();
    if (o->model_name) cJSON_AddStringToObject(root, "model", o->model_name);
    else cJSON_AddNullToObject(root, "model");
    cJSON_AddNumberToObject(root, "samples", (double)lc_stats_samples(stats));
    cJSON_AddNumberToObject(root, "params", (double)lc_graph_params(g));
    cJSON_AddItemToObject(root, "layers", layers_json(g, stats, pf));
    if (pf)
        cJSON_AddItemToObject(root, "proof",
                              pl_proof_json(o->prove.method, box_kind, prove_seconds, pf, g));
    else cJSON_AddNullToObject(root, "proof");
    cJSON *cs = cJSON_AddObjectToObject(root, "compressed_params");
    for (int t = 0; t < N_TAUS; t++) {
        char key[16];
        snprintf(key, sizeof key, "%g", taus[t]);
        cJSON_AddNumberToObject(cs, key, (double)sizes[t]);
    }
    st = pl_json_string(root, report, err);
done:
    lc_proof_free(pf);
    lc_stats_free(stats);
    return st;
}
