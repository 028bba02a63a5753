/* common.c - progress events, proofs and JSON strings shared by
 * lc_compress and lc_analyze (pipeline.h). */
#include "pipeline.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double pl_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void pl_say(const pl_sink *s, lc_progress_kind kind, const char *stage, int epoch,
            const char *fmt, ...)
{
    if (!s || !s->fn) return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lc_progress p = {.kind = kind, .stage = stage, .message = msg, .epoch = epoch};
    s->fn(s->ctx, &p);
}

void pl_update(const pl_sink *s, const char *stage, double done, double total, const char *unit,
               bool estimated, bool final, int epoch, const char *note)
{
    if (!s || !s->fn) return;
    lc_progress p = {LC_PROGRESS_UPDATE, stage, note, done, total, unit, estimated, final, epoch};
    s->fn(s->ctx, &p);
}

void pl_end(const pl_sink *s, const char *stage)
{
    if (!s || !s->fn) return;
    lc_progress p = {.kind = LC_PROGRESS_END, .stage = stage};
    s->fn(s->ctx, &p);
}

lc_status pl_check_data(const lc_graph *g, const lc_data *d, const char *what, lc_error *err)
{
    if (lc_data_rows(d) == 0) return lc_fail(err, LC_ERR_FORMAT, "%s: no samples", what);
    if (lc_data_cols(d) != lc_graph_input_width(g))
        return lc_fail(err, LC_ERR_SHAPE, "%s: %d features per sample, but the model takes %d",
                       what, lc_data_cols(d), lc_graph_input_width(g));
    return LC_OK;
}

lc_status pl_prove_check(const lc_graph *g, const lc_prove_opts *o, lc_error *err)
{
    if (!o->on) return LC_OK;
    if (o->method < LC_PROVE_INTERVAL || o->method > LC_PROVE_LP)
        return lc_fail(err, LC_ERR_INVALID, "prove: unknown method %d", (int)o->method);
    if (!(o->lp_time >= 0))
        return lc_fail(err, LC_ERR_INVALID, "prove: the LP time limit wants seconds >= 0");
    if (o->box && lc_box_width(o->box) != lc_graph_input_width(g))
        return lc_fail(err, LC_ERR_SHAPE, "prove: the box has %d features, the model takes %d",
                       lc_box_width(o->box), lc_graph_input_width(g));
    return LC_OK;
}

lc_status pl_prove(const lc_graph *g, const lc_data *d, const lc_prove_opts *o, const pl_sink *s,
                   lc_proof **out, double *seconds, const char **box_kind, lc_error *err)
{
    lc_box *own = NULL;
    const lc_box *box = o->box;
    *box_kind = o->box_kind ? o->box_kind : box ? "box" : "data";
    pl_say(s, LC_PROGRESS_STAGE, "proving", 0, "proving (%s bounds)",
           lc_prove_method_name(o->method));
    if (!box) {
        lc_status st = lc_box_from_data(d, &own, err);
        if (st) return st;
        box = own;
    }
    double t0 = pl_now();
    lc_status st = lc_prove(g, box, o->method, o->lp_time, out, err);
    *seconds = pl_now() - t0;
    lc_box_free(own);
    return st;
}

cJSON *pl_proof_json(lc_prove_method method, const char *box_kind, double seconds,
                     const lc_proof *pf, const lc_graph *g)
{
    cJSON *j = cJSON_CreateObject(), *layers;
    cJSON_AddStringToObject(j, "method", lc_prove_method_name(method));
    cJSON_AddStringToObject(j, "box", box_kind);
    int lin = 0, con = 0, all = 0;
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
        lin += lc_proof_n_linear(pf, k);
        con += lc_proof_n_constant(pf, k);
        all += lc_proof_n_proven(pf, k);
    }
    cJSON_AddNumberToObject(j, "proven_linear", lin);
    cJSON_AddNumberToObject(j, "proven_constant", con);
    cJSON_AddNumberToObject(j, "proven", all);
    cJSON_AddNumberToObject(j, "seconds", seconds);
    cJSON *by = cJSON_AddObjectToObject(j, "seconds_by_method");
    for (int m = LC_PROVE_INTERVAL; m <= (int)method; m++)
        cJSON_AddNumberToObject(by, lc_prove_method_name((lc_prove_method)m),
                                lc_proof_seconds(pf, (lc_prove_method)m));
    if (method == LC_PROVE_LP) {
        cJSON *lp = cJSON_AddObjectToObject(j, "lp");
        cJSON_AddNumberToObject(lp, "decided", lc_proof_lp_decided(pf));
        cJSON_AddNumberToObject(lp, "solved", lc_proof_lp_solved(pf));
        cJSON_AddNumberToObject(lp, "failed", lc_proof_lp_failed(pf));
        cJSON_AddNumberToObject(lp, "skipped", lc_proof_lp_skipped(pf));
    }
    layers = cJSON_AddArrayToObject(j, "layers");
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddItemToArray(layers, l);
        cJSON_AddStringToObject(l, "name", lc_graph_name(g, k));
        cJSON_AddNumberToObject(l, "proven_linear", lc_proof_n_linear(pf, k));
        cJSON_AddNumberToObject(l, "proven_constant", lc_proof_n_constant(pf, k));
        cJSON_AddNumberToObject(l, "proven", lc_proof_n_proven(pf, k));
        cJSON *b = cJSON_AddObjectToObject(l, "by_method");
        for (int m = LC_PROVE_INTERVAL; m <= (int)method; m++)
            cJSON_AddNumberToObject(b, lc_prove_method_name((lc_prove_method)m),
                                    lc_proof_n_by(pf, k, (lc_prove_method)m));
    }
    return j;
}

lc_status pl_json_string(cJSON *j, char **out, lc_error *err)
{
    /* copied into malloc'd memory so that lc_free releases it whatever
     * allocator cJSON was built with */
    char *text = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    char *copy = text ? strdup(text) : NULL;
    cJSON_free(text);
    if (!copy) return lc_fail(err, LC_ERR_NOMEM, "out of memory writing the JSON report");
    *out = copy;
    return LC_OK;
}

void pl_json_size(cJSON *j, const lc_graph *g, const lc_graph *result)
{
    size_t pb = lc_graph_file_params(g), pa = lc_graph_file_params(result);
    cJSON_AddNumberToObject(j, "params_before", (double)pb);
    cJSON_AddNumberToObject(j, "params_after", (double)pa);
    cJSON_AddNumberToObject(j, "size_ratio", (double)pa / (double)pb);
    cJSON_AddNumberToObject(j, "flops_before", (double)lc_graph_flops(g));
    cJSON_AddNumberToObject(j, "flops_after", (double)lc_graph_flops(result));
}

void pl_json_training(cJSON *j, bool labels, double temperature, double alpha)
{
    cJSON_AddStringToObject(j, "target", labels ? "labels" : "distill");
    if (labels) {
        cJSON_AddNullToObject(j, "temperature");
        cJSON_AddNullToObject(j, "alpha");
    } else {
        cJSON_AddNumberToObject(j, "temperature", temperature);
        cJSON_AddNumberToObject(j, "alpha", alpha);
    }
}

void pl_json_name(cJSON *j, const char *key, const char *name)
{
    if (name) cJSON_AddStringToObject(j, key, name);
    else cJSON_AddNullToObject(j, key);
}
