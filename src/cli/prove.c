/* prove.c - the --prove options of analyze and compress (see prove.h). */
#include "prove.h"
#include <unistd.h>
#include <string.h>
#include <errno.h>


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

int cli_prove_opts(const cli_prove *p, const lc_graph *g, lc_prove_opts *o, lc_box **box)
{
    lc_error err = {0};
    int n = lc_graph_input_width(g);
    *box = NULL;
    *o = (lc_prove_opts){.on = p->on, .method = p->method, .lp_time = p->lp_time};
    if (!p->on) return 0;
    if (p->range) {
        o->box_kind = "range";
        if (lc_box_parse_range(p->range, n, box, &err))
            return cli_usage_error("--input-range: %s", err.msg);
    } else if (p->bounds) {
        o->box_kind = "file";
        if (lc_box_load(p->bounds, n, box, &err)) return cli_lc_error(&err);
    }
    o->box = *box; /* NULL: the data's per-feature min and max */
    return 0;
}
