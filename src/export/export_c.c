/* export_c.c - lc_export_c(): a model as dependency-free C99 source.
 *
 * The generated FILE.c holds every weight, bias and PReLU slope as a
 * `static const float` array and one function per sample that walks the
 * nodes in order, exactly like lc_forward_ref: z = bias + sum over edges of
 * W h_src (accumulated in double unless NAME_ACC says otherwise), then the
 * activation, with the same formulas as forward.c (softmax subtracts the max
 * and sums in double). FILE.h declares the API and describes the input and
 * output vectors. Only the C standard library and libm are used, nothing is
 * allocated: activations live in arrays on the stack, or in static arrays
 * when they would exceed EXPORT_STACK_FLOATS.
 *
 * Everything taken from the model file (node, column, category and class
 * names) goes into comments only, escaped so that it can neither end the
 * comment nor upset a compiler (see put_quoted). */
#include "core/internal.h"
#include "data/data.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Activation buffers of more floats than this (256 KiB) are static. */
#define EXPORT_STACK_FLOATS 65536
#define EXPORT_NAME_MAX 64
#define VALUES_PER_LINE 6

/* ------------------------------------------------------------ text buffer */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool nomem; /* sticky: checked once at the end */
} sbuf;

static void sb_reserve(sbuf *b, size_t more)
{
    if (b->nomem || b->len + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + more + 1) {
        if (cap > (size_t)-1 / 2) {
            b->nomem = true;
            return;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->nomem = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->nomem = true;
        return;
    }
    sb_reserve(b, (size_t)n);
    if (b->nomem) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* A float as a C float constant that reads back bit for bit: 9 significant
 * digits identify any float32; a '.' keeps "3" and "-0" valid before the 'f'
 * suffix ("-0.0f" is negative zero). The value must be finite. */
static void put_float(sbuf *b, float v)
{
    char s[40];
    snprintf(s, sizeof s, "%.9g", (double)v);
    sb_printf(b, "%s%sf", s, strpbrk(s, ".e") ? "" : ".0");
}

/* A double with 17 digits (round-trips), for the preprocessing constants. */
static void put_double(sbuf *b, double v)
{
    char s[40];
    snprintf(s, sizeof s, "%.17g", v);
    sb_printf(b, "%s%s", s, strpbrk(s, ".e") ? "" : ".0");
}

/* A name from the model file, in double quotes, safe inside a comment:
 * printable ASCII stays (except '"' and '\\', escaped), every other byte
 * becomes \xHH, and a '*' next to a '/' becomes \x2a, so that neither "*" "/"
 * (end of comment) nor "/" "*" (-Wcomment) can appear. Long names are cut. */
static void put_quoted(sbuf *b, const char *s)
{
    sb_printf(b, "\"");
    size_t n = strlen(s);
    for (size_t i = 0; i < n && i < 80; i++) {
        unsigned char c = (unsigned char)s[i];
        bool star_slash = c == '*' && ((i > 0 && s[i - 1] == '/') || s[i + 1] == '/');
        if (c == '"' || c == '\\') sb_printf(b, "\\%c", c);
        else if (c < 0x20 || c > 0x7e || star_slash) sb_printf(b, "\\x%02x", c);
        else sb_printf(b, "%c", c);
    }
    sb_printf(b, n > 80 ? "...\"" : "\"");
}

/* A static const array of n values, VALUES_PER_LINE per line. */
static void put_floats(sbuf *b, const char *prefix, const char *suffix, const float *v, size_t n)
{
    sb_printf(b, "static const float %s%s[%zu] = {", prefix, suffix, n);
    for (size_t i = 0; i < n && !b->nomem; i++) {
        sb_printf(b, i % VALUES_PER_LINE ? " " : "\n    ");
        put_float(b, v[i]);
        sb_printf(b, i + 1 < n ? "," : "\n");
    }
    sb_printf(b, "};\n");
}

/* ------------------------------------------------------------- checking */

static bool is_identifier(const char *s)
{
    if (!*s || !(isalpha((unsigned char)*s) || *s == '_')) return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_')) return false;
    return true;
}

/* The header's file name goes into #include "...": it must not need
 * escaping there. */
static bool safe_include_name(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\') return false;
    return true;
}

/* What the exporter needs beyond lc_graph_check_finite: finite activation
 * parameters (clip bounds may be infinite: that side is open), and a
 * preprocessing spec that matches the input width. */
static lc_status check_exportable(const lc_graph *g, lc_error *err)
{
    lc_status st = lc_graph_check_finite(g, err);
    if (st) return st;
    for (int k = 1; k < g->n_nodes; k++) {
        lc_act a = g->nodes[k].act;
        if (a.kind == LC_ACT_LEAKY_RELU && !isfinite(a.alpha))
            return lc_fail(err, LC_ERR_NUMERIC, "node '%s': leaky_relu alpha is %g",
                           g->nodes[k].name, (double)a.alpha);
        if (a.kind == LC_ACT_CLIP && (isnan(a.lo) || isnan(a.hi) || a.lo > a.hi))
            return lc_fail(err, LC_ERR_NUMERIC, "node '%s': clip bounds [%g, %g] are not an interval",
                           g->nodes[k].name, (double)a.lo, (double)a.hi);
    }
    const lc_preproc *p = g->pre;
    if (p && lc_preproc_width(p) != g->nodes[0].width)
        return lc_fail(err, LC_ERR_SHAPE,
                       "the stored preprocessing gives %d features, but the model takes %d",
                       lc_preproc_width(p), g->nodes[0].width);
    return LC_OK;
}

/* ------------------------------------------------------------ the header */

/* Node widths "8-32-32-3" for the summaries. */
static void put_widths(sbuf *b, const lc_graph *g)
{
    for (int k = 0; k < g->n_nodes; k++) sb_printf(b, "%s%d", k ? "-" : "", g->nodes[k].width);
}

static void put_summary(sbuf *b, const lc_graph *g, const char *file)
{
    sb_printf(b, "/* %s - generated by lincomp %s (lincomp export-c); do not edit.\n"
                 " * Model: node widths ", file, LC_VERSION);
    put_widths(b, g);
    int edges = 0;
    for (int k = 1; k < g->n_nodes; k++) edges += g->nodes[k].n_in;
    sb_printf(b, ", %d dense edges (%d skip edges),\n * %zu parameters, %zu FLOPs per sample.\n",
              edges, edges - (g->n_nodes - 1), lc_graph_params(g), lc_graph_flops(g));
}

static const char *output_kind(lc_act_kind k)
{
    switch (k) {
    case LC_ACT_SOFTMAX: return "softmax probabilities";
    case LC_ACT_LOG_SOFTMAX: return "log-softmax (log-probabilities)";
    case LC_ACT_SIGMOID: return "sigmoid probabilities";
    case LC_ACT_IDENTITY: return "raw outputs (logits)";
    default: return "outputs after the output node's activation";
    }
}

/* The input features in the spec's column order. */
static void put_feature_doc(sbuf *b, const lc_preproc *p, const char *name)
{
    int std = lc_preproc_standardize(p);
    sb_printf(b, " * Input features, in the order of the CSV columns the model was trained on:\n");
    for (int i = 0; i < lc_preproc_n_columns(p); i++) {
        const struct lc_pcol *c = lc_preproc_column(p, i);
        int o = lc_preproc_offset(p, i);
        if (c->kind == LC_COL_NUMERIC) {
            sb_printf(b, " *   [%d] ", o);
            put_quoted(b, c->name);
            sb_printf(b, ": numeric, the raw value; NaN means missing (takes the mean %.9g)%s\n",
                      c->mean, std ? ";" : "");
            if (std)
                sb_printf(b, " *       %s_forward standardises it: (x %c %.9g) / %.9g\n", name,
                          c->mean < 0 ? '+' : '-', fabs(c->mean), c->sd);
            continue;
        }
        sb_printf(b, " *   [%d..%d] ", o, o + c->n_cat);
        put_quoted(b, c->name);
        sb_printf(b, ": categorical, one-hot (1 for the value, 0 elsewhere):\n");
        for (int j = 0; j < c->n_cat; j++) {
            sb_printf(b, " *       [%d] ", o + j);
            put_quoted(b, c->cats[j]);
            sb_printf(b, "\n");
        }
        sb_printf(b, " *       [%d] any other or missing value\n", o + c->n_cat);
    }
}

static void put_header(sbuf *b, const lc_graph *g, const char *name, const char *upper,
                       const char *file, bool static_buffers)
{
    const lc_preproc *p = g->pre;
    const struct lc_node *out = &g->nodes[g->n_nodes - 1];
    put_summary(b, g, file);
    sb_printf(b, " *\n");
    if (p) {
        put_feature_doc(b, p, name);
    } else {
        sb_printf(b, " * Input: the model's input vector as `lincomp predict` reads it (the\n"
                     " * numeric CSV columns in order, or the NPY/IDX values); no preprocessing.\n");
    }
    sb_printf(b, " *\n * Output: %d %s", out->width, output_kind(out->act.kind));
    int nc = p ? lc_preproc_classes(p) : 0;
    if (nc == out->width) {
        sb_printf(b, ", one per class:\n");
        for (int c = 0; c < nc; c++) {
            sb_printf(b, " *   [%d] ", c);
            put_quoted(b, lc_preproc_class_name(p, c));
            sb_printf(b, "\n");
        }
    } else {
        sb_printf(b, ".\n");
    }
    sb_printf(b, " */\n#ifndef %s_LINCOMP_H\n#define %s_LINCOMP_H\n\n#include <stddef.h>\n\n"
                 "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
              upper, upper);
    sb_printf(b, "#define %s_INPUT_SIZE %d\n#define %s_OUTPUT_SIZE %d\n\n", upper,
              g->nodes[0].width, upper, out->width);
    sb_printf(b, "/* One sample: reads %s_INPUT_SIZE floats from input, writes %s_OUTPUT_SIZE\n"
                 " * floats to output (the two must not overlap). %s */\n"
                 "void %s_forward(const float *input, float *output);\n\n",
              upper, upper,
              static_buffers ? "Uses static buffers: not\n * reentrant, not thread-safe."
                             : "Reentrant: no state, no\n * allocation.",
              name);
    sb_printf(b, "/* n samples, row after row: input (n, %s_INPUT_SIZE), output\n"
                 " * (n, %s_OUTPUT_SIZE). */\n"
                 "void %s_forward_batch(const float *input, float *output, size_t n);\n\n",
              upper, upper, name);
    sb_printf(b, "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s_LINCOMP_H */\n", upper);
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
            sb_printf(b, "\n/* node %d ", k);
            put_quoted(b, nd->name);
            sb_printf(b, " <- node %d ", j);
            put_quoted(b, g->nodes[j].name);
            sb_printf(b, ": (%d, %d) row-major */\n", nd->width, sw);
            snprintf(pre, sizeof pre, "%s_w%d", name, k);
            char suf[32];
            snprintf(suf, sizeof suf, "_%d", j);
            put_floats(b, pre, suf, nd->in[e].w, (size_t)nd->width * (size_t)sw);
        }
        snprintf(pre, sizeof pre, "%s_b%d", name, k);
        put_floats(b, pre, "", nd->bias, (size_t)nd->width);
        if (nd->act.kind == LC_ACT_PRELU) {
            snprintf(pre, sizeof pre, "%s_p%d", name, k);
            sb_printf(b, "/* PReLU slopes of node %d */\n", k);
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
    sb_printf(b, "\n/* numeric input features: index, training mean%s */\n"
                 "static const size_t %s_num_index[%d] = {",
              lc_preproc_standardize(p) ? " and sd" : "", name, n);
    for (int i = 0, m = 0; i < lc_preproc_n_columns(p); i++) {
        if (lc_preproc_column(p, i)->kind != LC_COL_NUMERIC) continue;
        sb_printf(b, "%s%s%d", m ? "," : "", m % 12 ? " " : "\n    ", lc_preproc_offset(p, i));
        m++;
    }
    sb_printf(b, "\n};\n");
    /* the sds only when they are used: an unused static is an error under -Werror */
    for (int t = 0; t < 1 + lc_preproc_standardize(p); t++) {
        sb_printf(b, "static const double %s_num_%s[%d] = {", name, t ? "sd" : "mean", n);
        for (int i = 0, m = 0; i < lc_preproc_n_columns(p); i++) {
            const struct lc_pcol *c = lc_preproc_column(p, i);
            if (c->kind != LC_COL_NUMERIC) continue;
            sb_printf(b, "%s%s", m ? "," : "", m % 4 ? " " : "\n    ");
            put_double(b, t ? c->sd : c->mean);
            m++;
        }
        sb_printf(b, "\n};\n");
    }
    return n;
}

static void put_activation(sbuf *b, lc_act a, const char *h, int w, const char *name, int k)
{
    switch (a.kind) {
    case LC_ACT_IDENTITY: return;
    case LC_ACT_RELU:
        sb_printf(b, "    for (i = 0; i < %d; i++) %s[i] = %s[i] > 0.0f ? %s[i] : 0.0f;\n", w, h, h, h);
        return;
    case LC_ACT_LEAKY_RELU:
        sb_printf(b, "    for (i = 0; i < %d; i++) %s[i] = %s[i] > 0.0f ? %s[i] : ", w, h, h, h);
        put_float(b, a.alpha);
        sb_printf(b, " * %s[i];\n", h);
        return;
    case LC_ACT_PRELU:
        sb_printf(b, "    for (i = 0; i < %d; i++) %s[i] = %s[i] > 0.0f ? %s[i] : %s_p%d[i] * %s[i];\n",
                  w, h, h, h, name, k, h);
        return;
    case LC_ACT_CLIP:
        /* an infinite bound is an open side; NaN passes through, as in forward.c */
        if (isfinite(a.lo)) {
            sb_printf(b, "    for (i = 0; i < %d; i++) if (%s[i] < ", w, h);
            put_float(b, a.lo);
            sb_printf(b, ") %s[i] = ", h);
            put_float(b, a.lo);
            sb_printf(b, ";\n");
        }
        if (isfinite(a.hi)) {
            sb_printf(b, "    for (i = 0; i < %d; i++) if (%s[i] > ", w, h);
            put_float(b, a.hi);
            sb_printf(b, ") %s[i] = ", h);
            put_float(b, a.hi);
            sb_printf(b, ";\n");
        }
        return;
    case LC_ACT_SOFTMAX:
    case LC_ACT_LOG_SOFTMAX:
        /* forward.c's form: subtract the max, sum the exponentials in double */
        sb_printf(b, "    {\n        float mx = %s[0];\n        double s = 0;\n"
                     "        for (i = 1; i < %d; i++) mx = %s[i] > mx ? %s[i] : mx;\n"
                     "        for (i = 0; i < %d; i++) s += exp((double)%s[i] - mx);\n",
                  h, w, h, h, w, h);
        if (a.kind == LC_ACT_SOFTMAX)
            sb_printf(b, "        for (i = 0; i < %d; i++) %s[i] = (float)(exp((double)%s[i] - mx) / s);\n",
                      w, h, h);
        else
            sb_printf(b, "        s = log(s);\n"
                         "        for (i = 0; i < %d; i++) %s[i] = (float)((double)%s[i] - mx - s);\n",
                      w, h, h);
        sb_printf(b, "    }\n");
        return;
    case LC_ACT_SIGMOID:
        sb_printf(b, "    for (i = 0; i < %d; i++) %s[i] = (float)(1.0 / (1.0 + exp(-(double)%s[i])));\n",
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
    sb_printf(b, "\nvoid %s_forward(const float *input, float *output)\n{\n", name);
    if (static_buffers)
        sb_printf(b, "    /* more than %d floats of activations: static, so not reentrant */\n",
                  EXPORT_STACK_FLOATS);
    if (x0) sb_printf(b, "    %s x0[%d];\n", storage, g->nodes[0].width);
    for (int k = 1; k < g->n_nodes - 1; k++)
        sb_printf(b, "    %s h%d[%d];\n", storage, k, g->nodes[k].width);
    sb_printf(b, "    size_t i;\n");
    int in_used = 0;
    for (int k = 1; k < g->n_nodes; k++) in_used |= lc_graph_find_edge(g, k, 0) >= 0;
    if (!x0 && !in_used) sb_printf(b, "    (void)input; /* no node reads the input */\n");
    if (x0) {
        sb_printf(b, "\n    /* preprocessing: missing (NaN) numeric features take the training "
                     "mean%s */\n    for (i = 0; i < %d; i++) x0[i] = input[i];\n"
                     "    for (i = 0; i < %d; i++) {\n"
                     "        size_t f = %s_num_index[i];\n"
                     "        double v = isnan(input[f]) ? %s_num_mean[i] : (double)input[f];\n",
                  lc_preproc_standardize(p) ? ", then are standardised" : "",
                  g->nodes[0].width, n_num, name, name);
        if (lc_preproc_standardize(p))
            sb_printf(b, "        x0[f] = (float)((v - %s_num_mean[i]) / %s_num_sd[i]);\n", name,
                      name);
        else
            sb_printf(b, "        x0[f] = (float)v;\n");
        sb_printf(b, "    }\n");
    }
    char h[32], src[32];
    for (int k = 1; k < g->n_nodes && !b->nomem; k++) {
        const struct lc_node *nd = &g->nodes[k];
        buf_name(h, sizeof h, g, k, x0);
        sb_printf(b, "\n    /* node %d ", k);
        put_quoted(b, nd->name);
        sb_printf(b, ": %d, %s */\n    for (i = 0; i < %d; i++) {\n        %s_ACC s = %s_b%d[i];\n",
                  nd->width, lc_act_name(nd->act.kind), nd->width, upper, name, k);
        for (int e = 0; e < nd->n_in; e++) {
            int j = nd->in[e].src, sw = g->nodes[j].width;
            buf_name(src, sizeof src, g, j, x0);
            sb_printf(b, "        s += %s_dot(%s_w%d_%d + i * %d, %s, %d);\n", name, name, k, j, sw,
                      src, sw);
        }
        sb_printf(b, "        %s[i] = (float)s;\n    }\n", h);
        put_activation(b, nd->act, h, nd->width, name, k);
    }
    sb_printf(b, "}\n\nvoid %s_forward_batch(const float *input, float *output, size_t n)\n{\n"
                 "    size_t r;\n    for (r = 0; r < n; r++)\n"
                 "        %s_forward(input + r * %s_INPUT_SIZE, output + r * %s_OUTPUT_SIZE);\n}\n",
              name, name, upper, upper);
}

static void put_source(sbuf *b, const lc_graph *g, const char *name, const char *upper,
                       const char *file, const char *hfile, bool static_buffers)
{
    put_summary(b, g, file);
    sb_printf(b, " * API, input features and outputs: see %s. */\n#include \"%s\"\n\n"
                 "#include <math.h>\n#include <stddef.h>\n\n"
                 "/* Accumulator of the dot products. double keeps the results within float\n"
                 " * rounding of lincomp's; -D%s_ACC=float for FPUs without double. */\n"
                 "#ifndef %s_ACC\n#define %s_ACC double\n#endif\n",
              hfile, hfile, upper, upper, upper);
    int n_num = g->pre ? put_preproc_tables(b, g->pre, name) : 0;
    put_weights(b, g, name);
    sb_printf(b, "\n/* sum of w[j] x[j] for j < n */\n"
                 "static %s_ACC %s_dot(const float *w, const float *x, size_t n)\n{\n"
                 "    %s_ACC s = 0;\n    size_t j;\n"
                 "    for (j = 0; j < n; j++) s += (%s_ACC)w[j] * (%s_ACC)x[j];\n    return s;\n}\n",
              upper, name, upper, upper, upper);
    put_forward(b, g, name, upper, n_num, static_buffers);
}

/* ---------------------------------------------------------------- entry */

lc_status lc_export_c(const lc_graph *g, const char *c_path, const char *name, lc_error *err)
{
    if (!name) name = "model";
    size_t plen = c_path ? strlen(c_path) : 0;
    if (plen < 3 || strcmp(c_path + plen - 2, ".c") || c_path[plen - 3] == '/')
        return lc_fail(err, LC_ERR_INVALID, "%s: the C file's name must end in .c",
                       c_path ? c_path : "(null)");
    if (!is_identifier(name) || strlen(name) > EXPORT_NAME_MAX)
        return lc_fail(err, LC_ERR_INVALID,
                       "'%.80s' is not a C identifier of at most %d characters (letters, digits, "
                       "'_', not starting with a digit)",
                       name, EXPORT_NAME_MAX);
    const char *base = strrchr(c_path, '/');
    base = base ? base + 1 : c_path;
    if (!safe_include_name(base))
        return lc_fail(err, LC_ERR_INVALID,
                       "%s: the file name must be printable ASCII without '\"' or '\\' "
                       "(it goes into an #include)", c_path);
    lc_status st = check_exportable(g, err);
    if (st) return st;

    char upper[EXPORT_NAME_MAX + 1];
    size_t nl = strlen(name);
    for (size_t i = 0; i <= nl; i++) upper[i] = (char)toupper((unsigned char)name[i]);
    char *h_path = malloc(plen + 1), *hfile = malloc(strlen(base) + 1);
    if (!h_path || !hfile) {
        free(h_path);
        free(hfile);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    }
    memcpy(h_path, c_path, plen + 1);
    h_path[plen - 1] = 'h';
    memcpy(hfile, base, strlen(base) + 1);
    hfile[strlen(hfile) - 1] = 'h';

    size_t act_floats = g->pre ? (size_t)g->nodes[0].width : 0;
    for (int k = 1; k < g->n_nodes - 1; k++) act_floats += (size_t)g->nodes[k].width;
    bool static_buffers = act_floats > EXPORT_STACK_FLOATS;

    sbuf hb = {0}, cb = {0};
    put_header(&hb, g, name, upper, hfile, static_buffers);
    put_source(&cb, g, name, upper, base, hfile, static_buffers);
    if (hb.nomem || cb.nomem) {
        st = lc_fail(err, LC_ERR_NOMEM, "%s: out of memory generating the C source", c_path);
        goto done;
    }
    /* The header first: if the .c then fails, a header that did not exist
     * before is removed again; one that existed has been replaced (by the
     * new model's declarations) and is left, documented in export-c.md. */
    struct stat sb;
    bool h_existed = stat(h_path, &sb) == 0;
    st = lc_write_file(h_path, hb.p, hb.len, err);
    if (!st && (st = lc_write_file(c_path, cb.p, cb.len, err)) && !h_existed) unlink(h_path);
done:
    free(hb.p);
    free(cb.p);
    free(h_path);
    free(hfile);
    return st;
}
