/* import.c - ONNX model -> lc_graph (DESIGN section 7, docs/onnx.md).
 *
 * The graph is evaluated symbolically in the file's (topological) order:
 * every value is a constant, an affine value of the model input, or shape
 * bookkeeping. Activations create lc_graph nodes; dense layers, BatchNorm
 * and arithmetic with constants compose into affine values
 * (onnx_affine.c). At the end the output decides which nodes are live, and
 * the lc_graph is created and filled in one go. */
#include "onnx_imp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------- value table */

static size_t hash_str(const char *s)
{
    size_t h = 14695981039346656037ull & (size_t)-1;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * (size_t)1099511628211ull;
    return h;
}

ox_val *ox_lookup(ox_imp *c, const char *name)
{
    for (size_t h = hash_str(name) & (c->hcap - 1); c->hash[h]; h = (h + 1) & (c->hcap - 1))
        if (!strcmp(c->v[c->hash[h] - 1].name, name)) return &c->v[c->hash[h] - 1];
    return NULL;
}

lc_status ox_define(ox_imp *c, const Onnx__NodeProto *n, const char *name, ox_val **out)
{
    *out = NULL;
    if (ox_lookup(c, name)) {
        if (n)
            return ox_node_fail(c, n, LC_ERR_FORMAT,
                                "output '%s' is already defined (each value has one producer)",
                                name);
        return lc_fail(c->err, LC_ERR_FORMAT, "%s: value '%s' is defined twice", c->what, name);
    }
    if (c->n_v == c->cap_v) /* cannot happen: the capacity counts every definition */
        return lc_fail(c->err, LC_ERR_FORMAT, "%s: too many values", c->what);
    ox_val *v = &c->v[c->n_v++];
    memset(v, 0, sizeof *v);
    v->name = name;
    size_t h = hash_str(name) & (c->hcap - 1);
    while (c->hash[h]) h = (h + 1) & (c->hcap - 1);
    c->hash[h] = c->n_v;
    *out = v;
    return LC_OK;
}

lc_status ox_node_fail(ox_imp *c, const Onnx__NodeProto *n, lc_status code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!n) return lc_fail(c->err, code, "%s: graph output: %s", c->what, msg);
    const char *name = n->name && n->name[0] ? n->name : n->n_output ? n->output[0] : "?";
    return lc_fail(c->err, code, "%s: node '%s' (%s): %s", c->what, name,
                   n->op_type ? n->op_type : "?", msg);
}

lc_status ox_const(ox_imp *c, ox_val *v, const ox_tensor **t)
{
    if (!v->decoded) {
        lc_status st = ox_tensor_decode(v->tp, c->what, &v->t, c->err);
        if (st) return st;
        v->decoded = 1;
    }
    *t = &v->t;
    return LC_OK;
}

lc_status ox_add_node(ox_imp *c, const Onnx__NodeProto *n, const ox_val *x, lc_act act,
                      double *slope, const char *name, int *k)
{
    if (x->a->n_terms == 0) {
        free(slope);
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "value '%s' does not depend on the model input", x->name);
    }
    if (c->n_nodes >= LC_MAX_NODES) {
        free(slope);
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED, "more than %d layers", LC_MAX_NODES);
    }
    if (c->n_nodes == c->cap_nodes) {
        int cap = c->cap_nodes ? 2 * c->cap_nodes : 16;
        ox_node *p = realloc(c->nodes, (size_t)cap * sizeof *p);
        if (!p) {
            free(slope);
            return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
        }
        c->nodes = p;
        c->cap_nodes = cap;
    }
    ox_node *nd = &c->nodes[c->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->slope = slope;
    nd->name = strdup(name);
    nd->in = malloc((size_t)x->a->n_terms * sizeof *nd->in);
    if (!nd->name || !nd->in) {
        free(nd->name);
        free(nd->in);
        free(slope);
        return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
    }
    nd->width = x->a->n;
    nd->act = act;
    nd->n_in = x->a->n_terms;
    for (int i = 0; i < nd->n_in; i++) {
        nd->in[i] = x->a->t[i];
        ox_blob_ref(nd->in[i].m);
    }
    nd->bias = ox_blob_ref(x->a->c);
    nd->op = n && n->op_type ? n->op_type : "Identity";
    *k = c->n_nodes++;
    return LC_OK;
}

void ox_hold(ox_imp *c, const Onnx__NodeProto *n, size_t i)
{
    ox_val *v;
    const ox_tensor *t;
    if (i >= n->n_input || ox_get_in(c, n, i, 0, &v) || !v || v->kind != OX_CONST || v->held ||
        ox_const(c, v, &t))
        return;
    v->held = 1;
    c->held += t->n;
}

static void imp_free(ox_imp *c)
{
    for (size_t i = 0; i < c->n_v; i++) {
        ox_aff_unref(c->v[i].a);
        ox_tensor_free(&c->v[i].t);
    }
    for (int k = 0; k < c->n_nodes; k++) {
        ox_node *nd = &c->nodes[k];
        for (int e = 0; e < nd->n_in; e++) ox_blob_unref(nd->in[e].m);
        free(nd->in);
        ox_blob_unref(nd->bias);
        free(nd->slope);
        free(nd->name);
    }
    free(c->nodes);
    free(c->v);
    free(c->hash);
}

/* --------------------------------------------------------- model level */

static int64_t default_opset(const Onnx__ModelProto *m)
{
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if ((!o->domain || !o->domain[0] || !strcmp(o->domain, "ai.onnx")) && o->has_version)
            return o->version;
    }
    return -1;
}

/* Node 0 from the one graph input that is not an initializer. */
static lc_status read_input(ox_imp *c, const Onnx__GraphProto *g)
{
    const Onnx__ValueInfoProto *in = NULL;
    size_t count = 0;
    for (size_t i = 0; i < g->n_input; i++) {
        if (!g->input[i]->name || ox_lookup(c, g->input[i]->name)) continue; /* initializer */
        in = g->input[i];
        count++;
    }
    /* torch.onnx.export(..., export_params=False) leaves every weight a
     * graph input without an initializer */
    if (count > 1 && g->n_initializer == 0)
        return lc_fail(c->err, LC_ERR_UNSUPPORTED,
                       "%s: the graph has %zu inputs and no stored weights (exported without "
                       "its parameters, as export_params=False does); lincomp needs the weights "
                       "in the file", c->what, count);
    if (count != 1)
        return lc_fail(c->err, LC_ERR_UNSUPPORTED,
                       "%s: the graph has %zu data inputs; lincomp reads models with one", c->what,
                       count);
    const Onnx__TypeProto *tp = in->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return lc_fail(c->err, LC_ERR_UNSUPPORTED, "%s: input '%s' is not a tensor", c->what,
                       in->name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type && tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
        /* a float model exported in another precision is one .float() away */
        int32_t t = tt->elem_type;
        int floating = t == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ||
                       t == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 ||
                       t == ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
        char buf[40];
        return lc_fail(c->err, LC_ERR_UNSUPPORTED,
                       "%s: input '%s' has element type %s; lincomp reads float32 input%s",
                       c->what, in->name, ox_type_str(t, buf, sizeof buf),
                       floating ? " (export the model in float32, e.g. after model.float())"
                                : "");
    }
    if (!tt->shape || tt->shape->n_dim < 2 || tt->shape->n_dim > OX_MAX_RANK)
        return lc_fail(c->err, LC_ERR_UNSUPPORTED,
                       "%s: input '%s' needs a shape [N, d] or [N, C, H, W], it has %s", c->what,
                       in->name, tt->shape ? "another rank" : "none");
    int64_t dims[OX_MAX_RANK];
    size_t width = 1;
    for (size_t i = 1; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        if (d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
            d->dim_value < 1)
            return lc_fail(c->err, LC_ERR_UNSUPPORTED,
                           "%s: input '%s': dimension %zu is not a fixed positive size", c->what,
                           in->name, i);
        dims[i - 1] = d->dim_value;
        if (!lc_mul_ok(width, (size_t)d->dim_value, &width) || width > LC_MAX_WIDTH)
            return lc_fail(c->err, LC_ERR_UNSUPPORTED, "%s: input '%s' is wider than %d",
                           c->what, in->name, LC_MAX_WIDTH);
    }
    ox_val *v;
    lc_status st = ox_define(c, NULL, in->name, &v);
    if (st) return st;
    v->kind = OX_SYM;
    v->rank = (int)tt->shape->n_dim - 1;
    memcpy(v->dims, dims, (size_t)v->rank * sizeof *dims);
    if (!(v->a = ox_aff_node(0, (int)width)) || !(c->nodes = calloc(16, sizeof *c->nodes)) ||
        !(c->nodes[0].name = strdup(in->name)))
        return lc_fail(c->err, LC_ERR_NOMEM, "%s: out of memory", c->what);
    c->cap_nodes = 16;
    c->n_nodes = 1;
    c->nodes[0].width = (int)width;
    if (v->rank > 1) { /* [N, C, H, W]: kept for the written model */
        c->in_rank = v->rank;
        memcpy(c->in_dims, dims, (size_t)v->rank * sizeof *dims);
    }
    return LC_OK;
}

/* The node that computes the graph's one output, made if needed. */
static lc_status read_output(ox_imp *c, const Onnx__GraphProto *g, int *k_out)
{
    if (g->n_output != 1)
        return lc_fail(c->err, LC_ERR_UNSUPPORTED,
                       "%s: the graph has %zu outputs; lincomp reads models with one", c->what,
                       g->n_output);
    const char *name = g->output[0]->name ? g->output[0]->name : "";
    ox_val *o = ox_lookup(c, name);
    c->out_name = name;
    if (!o)
        return lc_fail(c->err, LC_ERR_FORMAT, "%s: graph output '%s' is not computed by any node",
                       c->what, name);
    if (o->kind != OX_SYM)
        return lc_fail(c->err, LC_ERR_UNSUPPORTED,
                       "%s: graph output '%s' is not computed from the input", c->what, name);
    if (o->rank != 1)
        return lc_fail(c->err, LC_ERR_UNSUPPORTED,
                       "%s: graph output '%s' has rank %d; lincomp needs [N, d]", c->what, name,
                       o->rank + 1);
    const ox_aff *a = o->a;
    if (a->n_terms == 1 && a->t[0].kind == OX_IDENT && !a->c && a->t[0].src > 0) {
        *k_out = a->t[0].src;
        return LC_OK;
    }
    lc_act id = {LC_ACT_IDENTITY, 0, 0, 0};
    return ox_add_node(c, NULL, o, id, NULL, o->label ? o->label : name, k_out);
}

/* Gives live nodes distinct names ("name~2" for a repeat), so that reports
 * and the exported ONNX (whose node names must be unique) stay readable. */
static lc_status unique_names(ox_imp *c, const int *map, int k_out)
{
    for (int k = 1; k <= k_out; k++) {
        if (map[k] < 0) continue;
        for (int i = 2;; i++) {
            int clash = 0;
            for (int j = 0; j < k && !clash; j++)
                clash = map[j] >= 0 && !strcmp(c->nodes[j].name, c->nodes[k].name);
            if (!clash) break;
            size_t len = strlen(c->nodes[k].name) + 16;
            char *s = malloc(len);
            if (!s) return lc_fail(c->err, LC_ERR_NOMEM, "%s: out of memory", c->what);
            /* strip a previous attempt's suffix before trying the next */
            char *tilde = i > 2 ? strrchr(c->nodes[k].name, '~') : NULL;
            if (tilde) *tilde = 0;
            snprintf(s, len, "%s~%d", c->nodes[k].name, i);
            free(c->nodes[k].name);
            c->nodes[k].name = s;
        }
    }
    return LC_OK;
}

/* Identity and diagonal connections (a Relu right after a Relu, a residual
 * Add, a scaling by a constant) become dense (width x width_src) matrices
 * in the lc_graph, and the file does not pay for them: a 97-byte model of
 * two Relu nodes on a [N, 30000] input asked for 7 GB (the fuzz harness ran
 * out of memory on it; fuzz/regressions/onnx/).
 * They are allowed up to OX_MAX_IMPLICIT values, or as many as the
 * model's own dense weights when those are more, which real models with
 * skip connections never exceed. */
#define OX_MAX_IMPLICIT ((size_t)1 << 24)

static lc_status check_implicit(ox_imp *c, const int *map, int k_out)
{
    size_t implicit = 0, dense = 0, worst = 0;
    int worst_k = 0, worst_src = 0;
    for (int k = 1; k <= k_out; k++) {
        if (map[k] < 0) continue;
        const ox_node *nd = &c->nodes[k];
        for (int e = 0; e < nd->n_in; e++) {
            int src = nd->in[e].src;
            /* widths are at most 2^24, so one product fits; the sums saturate */
            size_t size = (size_t)nd->width * (size_t)c->nodes[src].width;
            size_t *sum = nd->in[e].kind == OX_DENSE ? &dense : &implicit;
            *sum = *sum > (size_t)-1 - size ? (size_t)-1 : *sum + size;
            if (nd->in[e].kind != OX_DENSE && size > worst) {
                worst = size;
                worst_k = k;
                worst_src = src;
            }
        }
    }
    if (implicit <= OX_MAX_IMPLICIT || implicit <= dense) return LC_OK;
    const ox_node *nd = &c->nodes[worst_k];
    return lc_fail(c->err, LC_ERR_UNSUPPORTED,
                   "%s: node '%s' (%s): its identity or diagonal connection from '%s' would "
                   "be stored as a %d x %d matrix; such connections need %zu values, more "
                   "than the model's %zu dense weights and the cap of %zu", c->what, nd->name,
                   nd->op, c->nodes[worst_src].name, nd->width, c->nodes[worst_src].width,
                   implicit, dense, OX_MAX_IMPLICIT);
}

/* Creates the lc_graph from the nodes that the output depends on. */
static lc_status assemble(ox_imp *c, int k_out, lc_graph **out)
{
    int n = c->n_nodes, n_live = 0;
    size_t n_edges = 0;
    int *map = malloc((size_t)n * sizeof *map);
    if (!map) return lc_fail(c->err, LC_ERR_NOMEM, "%s: out of memory", c->what);
    for (int k = 0; k < n; k++) map[k] = k == 0 || k == k_out ? 0 : -1;
    for (int k = k_out; k > 0; k--) {
        if (map[k] < 0) continue;
        for (int e = 0; e < c->nodes[k].n_in; e++) map[c->nodes[k].in[e].src] = 0;
    }
    for (int k = 0; k <= k_out; k++) {
        if (map[k] < 0) continue;
        if (k && k != k_out && lc_act_is_output(c->nodes[k].act.kind)) {
            free(map);
            return lc_fail(c->err, LC_ERR_UNSUPPORTED,
                           "%s: node '%s' (%s) feeds later layers; lincomp supports it only as "
                           "the model's last operation", c->what, c->nodes[k].name,
                           c->nodes[k].op);
        }
        map[k] = n_live++;
        n_edges += (size_t)c->nodes[k].n_in;
    }
    lc_status st = check_implicit(c, map, k_out);
    if (!st) st = unique_names(c, map, k_out);
    if (st) {
        free(map);
        return st;
    }
    lc_node_spec *spec = calloc((size_t)n_live, sizeof *spec);
    int *srcs = calloc(n_edges ? n_edges : 1, sizeof *srcs);
    if (!spec || !srcs) {
        free(map);
        free(spec);
        free(srcs);
        return lc_fail(c->err, LC_ERR_NOMEM, "%s: out of memory", c->what);
    }
    int *sp = srcs;
    for (int k = 0; k <= k_out; k++) {
        if (map[k] < 0) continue;
        const ox_node *nd = &c->nodes[k];
        spec[map[k]] = (lc_node_spec){nd->name, nd->width, nd->act, nd->n_in, sp};
        for (int e = 0; e < nd->n_in; e++) *sp++ = map[nd->in[e].src];
    }
    lc_error e2;
    lc_graph *g = NULL;
    st = lc_graph_create(n_live, spec, &g, &e2);
    if (st) st = lc_fail(c->err, st, "%s: %s", c->what, e2.msg);
    for (int k = 1; !st && k <= k_out; k++) {
        if (map[k] < 0) continue;
        const ox_node *nd = &c->nodes[k];
        int nk = map[k];
        for (int e = 0; e < nd->n_in; e++)
            ox_term_to_float(&nd->in[e], nd->width, c->nodes[nd->in[e].src].width,
                             lc_graph_weight(g, nk, e));
        float *b = lc_graph_bias(g, nk), *s = lc_graph_slope(g, nk);
        for (int i = 0; i < nd->width; i++) {
            b[i] = nd->bias ? (float)nd->bias->v[i] : 0.0f;
            if (s) s[i] = (float)nd->slope[i];
        }
    }
    if (!st && (st = lc_graph_check_finite(g, &e2)))
        st = lc_fail(c->err, st, "%s: %s", c->what, e2.msg);
    if (!st && c->out_name && c->out_name[0] && !(g->out_name = strdup(c->out_name)))
        st = lc_fail(c->err, LC_ERR_NOMEM, "%s: out of memory", c->what);
    if (!st) {
        g->in_rank = c->in_rank;
        memcpy(g->in_dims, c->in_dims, (size_t)c->in_rank * sizeof *c->in_dims);
        /* edge weights beyond the file's matrices: copies of them (a residual
         * sum feeding a layer), identity blocks (a Concat or a sum made into
         * a node) */
        size_t edges = lc_graph_flops(g) / 2;
        g->copies = edges > c->held ? edges - c->held : 0;
    }
    free(map);
    free(spec);
    free(srcs);
    if (st) {
        lc_graph_free(g);
        return st;
    }
    *out = g;
    return LC_OK;
}

static lc_status read_metadata(ox_imp *c, const Onnx__ModelProto *m, lc_graph *g)
{
    for (size_t i = 0; i < m->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *p = m->metadata_props[i];
        if (!p->key || strcmp(p->key, "lincomp.preprocessing") || !p->value) continue;
        lc_preproc *pre = NULL;
        lc_error e2;
        if (lc_preproc_from_json(p->value, strlen(p->value), &pre, &e2))
            return lc_fail(c->err, LC_ERR_FORMAT, "%s: metadata 'lincomp.preprocessing': %s",
                           c->what, e2.msg);
        lc_graph_set_preproc(g, pre);
    }
    return LC_OK;
}

static lc_status import_model(ox_imp *c, const Onnx__ModelProto *m, lc_graph **out)
{
    const Onnx__GraphProto *g = m->graph;
    int64_t opset = default_opset(m);
    if (opset < 7 || opset > 22)
        return lc_fail(c->err, LC_ERR_UNSUPPORTED,
                       "%s: opset %lld of the default domain; lincomp reads opsets 7 to 22",
                       c->what, (long long)opset);
    c->opset = (int)opset;
    if (g->n_sparse_initializer)
        return lc_fail(c->err, LC_ERR_UNSUPPORTED, "%s: sparse initializers are not supported",
                       c->what);
    c->cap_v = g->n_initializer + g->n_input + 1;
    for (size_t i = 0; i < g->n_node; i++) c->cap_v += g->node[i]->n_output;
    for (c->hcap = 64; c->hcap < 2 * c->cap_v; c->hcap *= 2) {}
    c->v = calloc(c->cap_v, sizeof *c->v);
    c->hash = calloc(c->hcap, sizeof *c->hash);
    if (!c->v || !c->hash) return lc_fail(c->err, LC_ERR_NOMEM, "%s: out of memory", c->what);

    lc_status st;
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *t = g->initializer[i];
        ox_val *v;
        if (!t->name || !t->name[0])
            return lc_fail(c->err, LC_ERR_FORMAT, "%s: initializer %zu has no name", c->what, i);
        if ((st = ox_define(c, NULL, t->name, &v))) return st;
        v->kind = OX_CONST;
        v->tp = t;
    }
    if ((st = read_input(c, g))) return st;
    for (size_t i = 0; i < g->n_node; i++)
        if ((st = ox_run_node(c, g->node[i]))) return st;
    int k_out;
    if ((st = read_output(c, g, &k_out)) || (st = assemble(c, k_out, out))) return st;
    if ((st = read_metadata(c, m, *out))) {
        lc_graph_free(*out);
        *out = NULL;
    }
    return st;
}

lc_status lc_onnx_load_mem(const void *buf, size_t len, const char *what, lc_graph **out,
                           lc_error *err)
{
    *out = NULL;
    if (!what) what = "(memory)";
    if (!buf || len == 0)
        return lc_fail(err, LC_ERR_FORMAT, "%s: not an ONNX model (empty file)", what);
    if (len > OX_MAX_FILE)
        return lc_fail(err, LC_ERR_FORMAT, "%s: not an ONNX model (larger than 2 GiB)", what);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    if (!m)
        return lc_fail(err, LC_ERR_FORMAT,
                       "%s: not an ONNX model (the protobuf data is malformed or truncated)",
                       what);
    lc_status st;
    if (!m->graph || !m->has_ir_version) {
        st = lc_fail(err, LC_ERR_FORMAT, "%s: not an ONNX model (no %s)", what,
                     m->graph ? "ir_version" : "graph");
    } else {
        ox_imp c = {.what = what, .err = err};
        st = import_model(&c, m, out);
        imp_free(&c);
    }
    onnx__model_proto__free_unpacked(m, NULL);
    return st;
}

lc_status lc_onnx_load(const char *path, lc_graph **out, lc_error *err)
{
    char *buf;
    size_t len;
    *out = NULL;
    lc_status st = lc_read_file(path, OX_MAX_FILE, &buf, &len, err);
    if (st) return st;
    st = lc_onnx_load_mem(buf, len, path, out, err);
    free(buf);
    return st;
}
