/* prove.c - the --prove options of analyze and compress (see prove.h). */
#include "prove.h"
#include <unistd.h>
#include <string.h>
#include <errno.h>

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <time.h>

int cli_prove_opt(cli_prove *p, int opt, const char *arg)
{
    lc_error err = {0};
    switch (opt) {
    case OPT_PROVE:
        p->on = true;
        p->method = LC_PROVE_SYMBOLIC;
        if (arg && lc_prove_method_parse(arg, &p->method, &err)) {
            cli_usage_error("--prove: %s", err.msg);
            return -1;
        }
        return 1;
    case OPT_BOUNDS: p->bounds = arg; return 1;
    case OPT_INPUT_RANGE: p->range = arg; return 1;
    case OPT_LP_TIME:
        if (!cli_parse_double(arg, &p->lp_time) || !(p->lp_time > 0)) {
            cli_usage_error("--lp-time wants a positive number of seconds, got '%s'", arg);
            return -1;
        }
        return 1;
    }
    return 0;
}

int cli_prove_check(const cli_prove *p)
{
    if ((p->bounds || p->range || p->lp_time > 0) && !p->on)
        return cli_usage_error("--bounds, --input-range and --lp-time need --prove");
    if (p->bounds && p->range) return cli_usage_error("give either --bounds or --input-range");
    if (p->lp_time > 0 && p->method != LC_PROVE_LP)
        return cli_usage_error("--lp-time needs --prove=lp");
    /* the box's syntax and file are checked before any long work */
    if (p->range) {
        lc_error err = {0};
        lc_box *box = NULL;
        if (lc_box_parse_range(p->range, 1, &box, &err))
            return cli_usage_error("--input-range: %s", err.msg);
        lc_box_free(box);
    }
    if (p->bounds && access(p->bounds, R_OK))
        return cli_error(1, "%s: cannot open: %s", p->bounds, strerror(errno));
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int cli_prove_run(cli_prove *p, const lc_graph *g, const lc_data *d, lc_proof **out)
{
    lc_error err = {0};
    lc_box *box = NULL;
    int n = lc_graph_input_width(g);
    if (p->range) {
        p->box_kind = "range";
        if (lc_box_parse_range(p->range, n, &box, &err))
            return cli_usage_error("--input-range: %s", err.msg);
    } else if (p->bounds) {
        p->box_kind = "file";
        if (lc_box_load(p->bounds, n, &box, &err)) return cli_lc_error(&err);
    } else {
        p->box_kind = "data";
        if (lc_box_from_data(d, &box, &err)) return cli_lc_error(&err);
    }
    double t0 = now();
    lc_status st = lc_prove(g, box, p->method, p->lp_time, out, &err);
    p->seconds = now() - t0;
    lc_box_free(box);
    return st ? cli_lc_error(&err) : 0;
}

cJSON *cli_prove_json(const cli_prove *p, const lc_proof *pf, const lc_graph *g)
{
    cJSON *j = cJSON_CreateObject(), *layers;
    cJSON_AddStringToObject(j, "method", lc_prove_method_name(p->method));
    cJSON_AddStringToObject(j, "box", p->box_kind);
    int lin = 0, con = 0, all = 0;
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
        lin += lc_proof_n_linear(pf, k);
        con += lc_proof_n_constant(pf, k);
        all += lc_proof_n_proven(pf, k);
    }
    cJSON_AddNumberToObject(j, "proven_linear", lin);
    cJSON_AddNumberToObject(j, "proven_constant", con);
    cJSON_AddNumberToObject(j, "proven", all);
    cJSON_AddNumberToObject(j, "seconds", p->seconds);
    cJSON *by = cJSON_AddObjectToObject(j, "seconds_by_method");
    for (int m = LC_PROVE_INTERVAL; m <= (int)p->method; m++)
        cJSON_AddNumberToObject(by, lc_prove_method_name((lc_prove_method)m),
                                lc_proof_seconds(pf, (lc_prove_method)m));
    if (p->method == LC_PROVE_LP) {
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
        for (int m = LC_PROVE_INTERVAL; m <= (int)p->method; m++)
            cJSON_AddNumberToObject(b, lc_prove_method_name((lc_prove_method)m),
                                    lc_proof_n_by(pf, k, (lc_prove_method)m));
    }
    return j;
}
