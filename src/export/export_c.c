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
 * comment nor upset a compiler (see ec_put_quoted).
 *
 * This file is the writer: the checks, the text buffer, FILE.h and the two
 * files on disk; the code in FILE.c comes from export_c_code.c. */
#include "export/export_c.h"
#include "data/data.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ text buffer */

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

void ec_printf(sbuf *b, const char *fmt, ...)
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

/* A name from the model file, in double quotes, safe inside a comment:
 * printable ASCII stays (except '"' and '\\', escaped), every other byte
 * becomes \xHH, and a '*' next to a '/' becomes \x2a, so that neither "*" "/"
 * (end of comment) nor "/" "*" (-Wcomment) can appear. Long names are cut. */
void ec_put_quoted(sbuf *b, const char *s)
{
    ec_printf(b, "\"");
    size_t n = strlen(s);
    for (size_t i = 0; i < n && i < 80; i++) {
        unsigned char c = (unsigned char)s[i];
        bool star_slash = c == '*' && ((i > 0 && s[i - 1] == '/') || s[i + 1] == '/');
        if (c == '"' || c == '\\') ec_printf(b, "\\%c", c);
        else if (c < 0x20 || c > 0x7e || star_slash) ec_printf(b, "\\x%02x", c);
        else ec_printf(b, "%c", c);
    }
    ec_printf(b, n > 80 ? "...\"" : "\"");
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
    for (int k = 0; k < g->n_nodes; k++) ec_printf(b, "%s%d", k ? "-" : "", g->nodes[k].width);
}

void ec_put_summary(sbuf *b, const lc_graph *g, const char *file)
{
    ec_printf(b, "/* %s - generated by lincomp %s (lincomp export-c); do not edit.\n"
                 " * Model: node widths ", file, LC_VERSION);
    put_widths(b, g);
    int edges = 0;
    for (int k = 1; k < g->n_nodes; k++) edges += g->nodes[k].n_in;
    ec_printf(b, ", %d dense edges (%d skip edges),\n * %zu parameters, %zu FLOPs per sample.\n",
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
    ec_printf(b, " * Input features, in the order of the CSV columns the model was trained on:\n");
    for (int i = 0; i < lc_preproc_n_columns(p); i++) {
        const struct lc_pcol *c = lc_preproc_column(p, i);
        int o = lc_preproc_offset(p, i);
        if (c->kind == LC_COL_NUMERIC) {
            ec_printf(b, " *   [%d] ", o);
            ec_put_quoted(b, c->name);
            ec_printf(b, ": numeric, the raw value; NaN means missing (takes the mean %.9g)%s\n",
                      c->mean, std ? ";" : "");
            if (std)
                ec_printf(b, " *       %s_forward standardises it: (x %c %.9g) / %.9g\n", name,
                          c->mean < 0 ? '+' : '-', fabs(c->mean), c->sd);
            continue;
        }
        ec_printf(b, " *   [%d..%d] ", o, o + c->n_cat);
        ec_put_quoted(b, c->name);
        ec_printf(b, ": categorical, one-hot (1 for the value, 0 elsewhere):\n");
        for (int j = 0; j < c->n_cat; j++) {
            ec_printf(b, " *       [%d] ", o + j);
            ec_put_quoted(b, c->cats[j]);
            ec_printf(b, "\n");
        }
        ec_printf(b, " *       [%d] any other or missing value\n", o + c->n_cat);
    }
}

static void put_header(sbuf *b, const lc_graph *g, const char *name, const char *upper,
                       const char *file, bool static_buffers)
{
    const lc_preproc *p = g->pre;
    const struct lc_node *out = &g->nodes[g->n_nodes - 1];
    ec_put_summary(b, g, file);
    ec_printf(b, " *\n");
    if (p) {
        put_feature_doc(b, p, name);
    } else {
        ec_printf(b, " * Input: the model's input vector as `lincomp predict` reads it (the\n"
                     " * numeric CSV columns in order, or the NPY/IDX values); no preprocessing.\n");
    }
    ec_printf(b, " *\n * Output: %d %s", out->width, output_kind(out->act.kind));
    int nc = p ? lc_preproc_classes(p) : 0;
    if (nc == out->width) {
        ec_printf(b, ", one per class:\n");
        for (int c = 0; c < nc; c++) {
            ec_printf(b, " *   [%d] ", c);
            ec_put_quoted(b, lc_preproc_class_name(p, c));
            ec_printf(b, "\n");
        }
    } else {
        ec_printf(b, ".\n");
    }
    ec_printf(b, " */\n#ifndef %s_LINCOMP_H\n#define %s_LINCOMP_H\n\n#include <stddef.h>\n\n"
                 "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
              upper, upper);
    ec_printf(b, "#define %s_INPUT_SIZE %d\n#define %s_OUTPUT_SIZE %d\n\n", upper,
              g->nodes[0].width, upper, out->width);
    ec_printf(b, "/* One sample: reads %s_INPUT_SIZE floats from input, writes %s_OUTPUT_SIZE\n"
                 " * floats to output (the two must not overlap). %s */\n"
                 "void %s_forward(const float *input, float *output);\n\n",
              upper, upper,
              static_buffers ? "Uses static buffers: not\n * reentrant, not thread-safe."
                             : "Reentrant: no state, no\n * allocation.",
              name);
    ec_printf(b, "/* n samples, row after row: input (n, %s_INPUT_SIZE), output\n"
                 " * (n, %s_OUTPUT_SIZE). */\n"
                 "void %s_forward_batch(const float *input, float *output, size_t n);\n\n",
              upper, upper, name);
    ec_printf(b, "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s_LINCOMP_H */\n", upper);
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
    ec_put_source(&cb, g, name, upper, base, hfile, static_buffers);
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
