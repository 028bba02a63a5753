/* export_c_code.c - the code lc_export_c() generates (export_c.c writes it):
 * the weight arrays, the preprocessing tables, and the forward function that
 * each edge (a dot product per neuron) and each activation emit into, with
 * the same formulas as forward.c. Numbers are printed so that they read back
 * bit for bit. */
#include "export/export_c.h"
#include "data/data.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define VALUES_PER_LINE 6

/* ---------------------------------------------------------------- numbers */

/* A float as a C float constant that reads back bit for bit: 9 significant
 * digits identify any float32; a '.' keeps "3" and "-0" valid before the 'f'
 * suffix ("-0.0f" is negative zero). The value must be finite. */
static void put_float(sbuf *b, float v)
{
    char s[40];
    snprintf(s, sizeof s, "%.9g", (double)v);
    ec_printf(b, "%s%sf", s, strpbrk(s, ".e") ? "" : ".0");
}

/* A double with 17 digits (round-trips), for the preprocessing constants. */
static void put_double(sbuf *b, double v)
{
    char s[40];
    snprintf(s, sizeof s, "%.17g", v);
    ec_printf(b, "%s%s", s, strpbrk(s, ".e") ? "" : ".0");
}

/* A static const array of n values, VALUES_PER_LINE per line. */
static void put_floats(sbuf *b, const char *prefix, const char *suffix, const float *v, size_t n)
{
    ec_printf(b, "static const float %s%s[%zu] = {", prefix, suffix, n);
    for (size_t i = 0; i < n && !b->nomem; i++) {
        ec_printf(b, i % VALUES_PER_LINE ? " " : "\n    ");
        put_float(b, v[i]);
        ec_printf(b, i + 1 < n ? "," : "\n");
    }
    ec_printf(b, "};\n");
}

/* ------------------------------------------------------------- the code */

/* Expression of node k's activations inside the forward function. */
static void buf_name(char *s, size_t n, const lc_graph *g, int k, bool x0)
{
    if (k == 0) snprintf(s, n, "%s", x0 ? "x0" : "input");
    else if (k == g->n_nodes - 1) snprintf(s, n, "output");
    else snprintf(s, n, "h%d", k);
}

static void put_weights(sbuf *b, const lc_graph *g, const char *name)
{
    char pre[EXPORT_NAME_MAX + 32];
    for (int k = 1; k < g->n_nodes && !b->nomem; k++) {
        const struct lc_node *nd = &g->nodes[k];
        for (int e = 0; e < nd->n_in; e++) {
            int j = nd->in[e].src, sw = g->nodes[j].width;
            ec_printf(b, "\n/* node %d ", k);
            ec_put_quoted(b, nd->name);
            ec_printf(b, " <- node %d ", j);
            ec_put_quoted(b, g->nodes[j].name);
            ec_printf(b, ": (%d, %d) row-major */\n", nd->width, sw);
            snprintf(pre, sizeof pre, "%s_w%d", name, k);
            char suf[32];
            snprintf(suf, sizeof suf, "_%d", j);
            put_floats(b, pre, suf, nd->in[e].w, (size_t)nd->width * (size_t)sw);
        }
        snprintf(pre, sizeof pre, "%s_b%d", name, k);
        put_floats(b, pre, "", nd->bias, (size_t)nd->width);
        if (nd->act.kind == LC_ACT_PRELU) {
            snprintf(pre, sizeof pre, "%s_p%d", name, k);
            ec_printf(b, "/* PReLU slopes of node %d */\n", k);
            put_floats(b, pre, "", nd->slope, (size_t)nd->width);
        }
    }
}

/* Numeric feature indices, means and sds; returns how many. */
static int put_preproc_tables(sbuf *b, const lc_preproc *p, const char *name)
{
    int n = 0;
    for (int i = 0; i < lc_preproc_n_columns(p); i++)
        n += lc_preproc_column(p, i)->kind == LC_COL_NUMERIC;
    if (n == 0) return 0;
    ec_printf(b, "\n/* numeric input features: index, training mean%s */\n"
                 "static const size_t %s_num_index[%d] = {",
              lc_preproc_standardize(p) ? " and sd" : "", name, n);
    for (int i = 0, m = 0; i < lc_preproc_n_columns(p); i++) {
        if (lc_preproc_column(p, i)->kind != LC_COL_NUMERIC) continue;
        ec_printf(b, "%s%s%d", m ? "," : "", m % 12 ? " " : "\n    ", lc_preproc_offset(p, i));
        m++;
    }
    ec_printf(b, "\n};\n");
    /* the sds only when they are used: an unused static is an error under -Werror */
    for (int t = 0; t < 1 + lc_preproc_standardize(p); t++) {
        ec_printf(b, "static const double %s_num_%s[%d] = {", name, t ? "sd" : "mean", n);
        for (int i = 0, m = 0; i < lc_preproc_n_columns(p); i++) {
            const struct lc_pcol *c = lc_preproc_column(p, i);
            if (c->kind != LC_COL_NUMERIC) continue;
            ec_printf(b, "%s%s", m ? "," : "", m % 4 ? " " : "\n    ");
            put_double(b, t ? c->sd : c->mean);
            m++;
        }
        ec_printf(b, "\n};\n");
    }
    return n;
}

static void put_activation(sbuf *b, lc_act a, const char *h, int w, const char *name, int k)
{
    switch (a.kind) {
    case LC_ACT_IDENTITY: return;
    case LC_ACT_RELU:
        ec_printf(b, "    for (i = 0; i < %d; i++) %s[i] = %s[i] > 0.0f ? %s[i] : 0.0f;\n", w, h, h, h);
        return;
    case LC_ACT_LEAKY_RELU:
        ec_printf(b, "    for (i = 0; i < %d; i++) %s[i] = %s[i] > 0.0f ? %s[i] : ", w, h, h, h);
        put_float(b, a.alpha);
        ec_printf(b, " * %s[i];\n", h);
        return;
    case LC_ACT_PRELU:
        ec_printf(b, "    for (i = 0; i < %d; i++) %s[i] = %s[i] > 0.0f ? %s[i] : %s_p%d[i] * %s[i];\n",
                  w, h, h, h, name, k, h);
        return;
    case LC_ACT_CLIP:
        /* an infinite bound is an open side; NaN passes through, as in forward.c */
        if (isfinite(a.lo)) {
            ec_printf(b, "    for (i = 0; i < %d; i++) if (%s[i] < ", w, h);
            put_float(b, a.lo);
            ec_printf(b, ") %s[i] = ", h);
            put_float(b, a.lo);
            ec_printf(b, ";\n");
        }
        if (isfinite(a.hi)) {
            ec_printf(b, "    for (i = 0; i < %d; i++) if (%s[i] > ", w, h);
            put_float(b, a.hi);
            ec_printf(b, ") %s[i] = ", h);
            put_float(b, a.hi);
            ec_printf(b, ";\n");
        }
        return;
    case LC_ACT_SOFTMAX:
    case LC_ACT_LOG_SOFTMAX:
        /* forward.c's form: subtract the max, sum the exponentials in double */
        ec_printf(b, "    {\n        float mx = %s[0];\n        double s = 0;\n"
                     "        for (i = 1; i < %d; i++) mx = %s[i] > mx ? %s[i] : mx;\n"
                     "        for (i = 0; i < %d; i++) s += exp((double)%s[i] - mx);\n",
                  h, w, h, h, w, h);
        if (a.kind == LC_ACT_SOFTMAX)
            ec_printf(b, "        for (i = 0; i < %d; i++) %s[i] = (float)(exp((double)%s[i] - mx) / s);\n",
                      w, h, h);
        else
            ec_printf(b, "        s = log(s);\n"
                         "        for (i = 0; i < %d; i++) %s[i] = (float)((double)%s[i] - mx - s);\n",
                      w, h, h);
        ec_printf(b, "    }\n");
        return;
    case LC_ACT_SIGMOID:
        ec_printf(b, "    for (i = 0; i < %d; i++) %s[i] = (float)(1.0 / (1.0 + exp(-(double)%s[i])));\n",
                  w, h, h);
        return;
    }
}

static void put_forward(sbuf *b, const lc_graph *g, const char *name, const char *upper,
                        int n_num, bool static_buffers)
{
    const lc_preproc *p = g->pre;
    bool x0 = n_num > 0;
    const char *storage = static_buffers ? "static float" : "float";
    ec_printf(b, "\nvoid %s_forward(const float *input, float *output)\n{\n", name);
    if (static_buffers)
        ec_printf(b, "    /* more than %d floats of activations: static, so not reentrant */\n",
                  EXPORT_STACK_FLOATS);
    if (x0) ec_printf(b, "    %s x0[%d];\n", storage, g->nodes[0].width);
    for (int k = 1; k < g->n_nodes - 1; k++)
        ec_printf(b, "    %s h%d[%d];\n", storage, k, g->nodes[k].width);
    ec_printf(b, "    size_t i;\n");
    int in_used = 0;
    for (int k = 1; k < g->n_nodes; k++) in_used |= lc_graph_find_edge(g, k, 0) >= 0;
    if (!x0 && !in_used) ec_printf(b, "    (void)input; /* no node reads the input */\n");
    if (x0) {
        ec_printf(b, "\n    /* preprocessing: missing (NaN) numeric features take the training "
                     "mean%s */\n    for (i = 0; i < %d; i++) x0[i] = input[i];\n"
                     "    for (i = 0; i < %d; i++) {\n"
                     "        size_t f = %s_num_index[i];\n"
                     "        double v = isnan(input[f]) ? %s_num_mean[i] : (double)input[f];\n",
                  lc_preproc_standardize(p) ? ", then are standardised" : "",
                  g->nodes[0].width, n_num, name, name);
        if (lc_preproc_standardize(p))
            ec_printf(b, "        x0[f] = (float)((v - %s_num_mean[i]) / %s_num_sd[i]);\n", name,
                      name);
        else
            ec_printf(b, "        x0[f] = (float)v;\n");
        ec_printf(b, "    }\n");
    }
    char h[32], src[32];
    for (int k = 1; k < g->n_nodes && !b->nomem; k++) {
        const struct lc_node *nd = &g->nodes[k];
        buf_name(h, sizeof h, g, k, x0);
        ec_printf(b, "\n    /* node %d ", k);
        ec_put_quoted(b, nd->name);
        ec_printf(b, ": %d, %s */\n    for (i = 0; i < %d; i++) {\n        %s_ACC s = %s_b%d[i];\n",
                  nd->width, lc_act_name(nd->act.kind), nd->width, upper, name, k);
        for (int e = 0; e < nd->n_in; e++) {
            int j = nd->in[e].src, sw = g->nodes[j].width;
            buf_name(src, sizeof src, g, j, x0);
            ec_printf(b, "        s += %s_dot(%s_w%d_%d + i * %d, %s, %d);\n", name, name, k, j, sw,
                      src, sw);
        }
        ec_printf(b, "        %s[i] = (float)s;\n    }\n", h);
        put_activation(b, nd->act, h, nd->width, name, k);
    }
    ec_printf(b, "}\n\nvoid %s_forward_batch(const float *input, float *output, size_t n)\n{\n"
                 "    size_t r;\n    for (r = 0; r < n; r++)\n"
                 "        %s_forward(input + r * %s_INPUT_SIZE, output + r * %s_OUTPUT_SIZE);\n}\n",
              name, name, upper, upper);
}

void ec_put_source(sbuf *b, const lc_graph *g, const char *name, const char *upper,
                       const char *file, const char *hfile, bool static_buffers)
{
    ec_put_summary(b, g, file);
    ec_printf(b, " * API, input features and outputs: see %s. */\n#include \"%s\"\n\n"
                 "#include <math.h>\n#include <stddef.h>\n\n"
                 "/* Accumulator of the dot products. double keeps the results within float\n"
                 " * rounding of lincomp's; -D%s_ACC=float for FPUs without double. */\n"
                 "#ifndef %s_ACC\n#define %s_ACC double\n#endif\n",
              hfile, hfile, upper, upper, upper);
    int n_num = g->pre ? put_preproc_tables(b, g->pre, name) : 0;
    put_weights(b, g, name);
    ec_printf(b, "\n/* sum of w[j] x[j] for j < n */\n"
                 "static %s_ACC %s_dot(const float *w, const float *x, size_t n)\n{\n"
                 "    %s_ACC s = 0;\n    size_t j;\n"
                 "    for (j = 0; j < n; j++) s += (%s_ACC)w[j] * (%s_ACC)x[j];\n    return s;\n}\n",
              upper, name, upper, upper, upper);
    put_forward(b, g, name, upper, n_num, static_buffers);
}
