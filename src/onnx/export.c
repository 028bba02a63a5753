/* export.c - lc_graph -> ONNX (opset 13, IR 7).
 *
 * Node k becomes one Gemm per incoming edge (transB=1, weight shaped
 * (width_k, width_src) as lincomp stores it; the first Gemm carries the
 * bias, each later one adds the previous one's output as its C), then the
 * activation node. The naming lets the importer give every node its name
 * back: the last Gemm of node k is named after it. Internal values are "/lc/..." so they cannot
 * collide with the input's name. */
#include "onnx_imp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything the model proto points to is allocated here and freed at once. */
typedef struct ex {
    void **owned;
    size_t n_owned, cap_owned;
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    int oom;
    const char *out_name; /* the graph output's name */
} ex;

static void *ex_own(ex *x, void *p)
{
    if (!p) {
        x->oom = 1;
        return NULL;
    }
    if (x->n_owned == x->cap_owned) {
        size_t cap = x->cap_owned ? 2 * x->cap_owned : 256;
        void **q = realloc(x->owned, cap * sizeof *q);
        if (!q) {
            free(p);
            x->oom = 1;
            return NULL;
        }
        x->owned = q;
        x->cap_owned = cap;
    }
    x->owned[x->n_owned++] = p;
    return p;
}

static void *ex_alloc(ex *x, size_t size) { return ex_own(x, calloc(1, size)); }

static char *ex_str(ex *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *ex_str(ex *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? ex_alloc(x, (size_t)n + 1) : NULL;
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Appends p to a growing pointer array. */
static int ex_push(ex *x, void ***arr, size_t *n, size_t *cap, void *p)
{
    if (!p) return -1;
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        void **q = realloc(*arr, c * sizeof *q);
        if (!q) {
            x->oom = 1;
            return -1;
        }
        *arr = q;
        *cap = c;
    }
    (*arr)[(*n)++] = p;
    return 0;
}

/* A float initializer in raw_data (little-endian, as ONNX requires). */
static int ex_tensor(ex *x, const char *name, const float *data, size_t n, const int64_t *dims,
                     int rank)
{
    Onnx__TensorProto *t = ex_alloc(x, sizeof *t);
    int64_t *d = ex_alloc(x, (size_t)(rank ? rank : 1) * sizeof *d);
    if (!t || !d || !name) return -1;
    onnx__tensor_proto__init(t);
    if (rank) memcpy(d, dims, (size_t)rank * sizeof *d);
    t->n_dims = (size_t)rank;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->name = (char *)name;
    t->has_raw_data = 1;
    t->raw_data.len = n * sizeof(float);
    if (ox_little_endian()) {
        t->raw_data.data = (uint8_t *)(uintptr_t)data; /* only read by the packer */
    } else {
        uint8_t *b = ex_alloc(x, n * sizeof(float) + 1);
        if (!b) return -1;
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &data[i], 4);
            for (int j = 0; j < 4; j++) b[4 * i + (size_t)j] = (uint8_t)(u >> (8 * j));
        }
        t->raw_data.data = b;
    }
    return ex_push(x, (void ***)&x->inits, &x->n_inits, &x->cap_inits, t);
}

static int name_used(const ex *x, const char *name)
{
    for (size_t i = 0; i < x->n_nodes; i++)
        if (!strcmp(x->nodes[i]->name, name)) return 1;
    return 0;
}

/* ONNX Runtime refuses two nodes of one name, and lc_graph names need not
 * be unique: a repeated name gets a "~2", "~3", ... suffix. */
static const char *unique_name(ex *x, const char *name)
{
    if (!name || !name_used(x, name)) return name;
    for (int i = 2;; i++) {
        const char *s = ex_str(x, "%s~%d", name, i);
        if (!s || !name_used(x, s)) return s;
    }
}

static Onnx__NodeProto *ex_node(ex *x, const char *op, const char *name, int n_in,
                                const char **in, const char *out)
{
    name = unique_name(x, name);
    Onnx__NodeProto *n = ex_alloc(x, sizeof *n);
    char **ins = ex_alloc(x, (size_t)n_in * sizeof *ins);
    char **outs = ex_alloc(x, sizeof *outs);
    if (!n || !ins || !outs || !name || !out) return NULL;
    onnx__node_proto__init(n);
    for (int i = 0; i < n_in; i++)
        if (!(ins[i] = (char *)in[i])) return NULL;
    outs[0] = (char *)out;
    n->n_input = (size_t)n_in;
    n->input = ins;
    n->n_output = 1;
    n->output = outs;
    n->name = (char *)name;
    n->op_type = (char *)op;
    n->domain = (char *)"";
    if (ex_push(x, (void ***)&x->nodes, &x->n_nodes, &x->cap_nodes, n)) return NULL;
    return n;
}

/* One INT or FLOAT attribute on n. */
static int ex_attr(ex *x, Onnx__NodeProto *n, const char *name, int is_float, double v)
{
    if (!n) return -1;
    Onnx__AttributeProto *a = ex_alloc(x, sizeof *a);
    Onnx__AttributeProto **arr = ex_alloc(x, (n->n_attribute + 1) * sizeof *arr);
    if (!a || !arr) return -1;
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    if (is_float) {
        a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
        a->has_f = 1;
        a->f = (float)v;
    } else {
        a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        a->has_i = 1;
        a->i = (int64_t)v;
    }
    if (n->n_attribute) memcpy(arr, n->attribute, n->n_attribute * sizeof *arr);
    arr[n->n_attribute++] = a;
    n->attribute = arr;
    return 0;
}

/* A float tensor value [N, per_sample...] with a symbolic batch dimension. */
static Onnx__ValueInfoProto *ex_value_info(ex *x, const char *name, int rank,
                                           const int64_t *per_sample)
{
    Onnx__ValueInfoProto *vi = ex_alloc(x, sizeof *vi);
    Onnx__TypeProto *tp = ex_alloc(x, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = ex_alloc(x, sizeof *tt);
    Onnx__TensorShapeProto *sh = ex_alloc(x, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dims = ex_alloc(x, (size_t)(rank + 1) * sizeof *dims);
    if (!vi || !tp || !tt || !sh || !dims || !name) return NULL;
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    for (int i = 0; i <= rank; i++) {
        if (!(dims[i] = ex_alloc(x, sizeof *dims[i]))) return NULL;
        onnx__tensor_shape_proto__dimension__init(dims[i]);
        if (i == 0) {
            dims[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dims[i]->dim_param = (char *)"N";
        } else {
            dims[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dims[i]->dim_value = per_sample[i - 1];
        }
    }
    sh->n_dim = (size_t)rank + 1;
    sh->dim = dims;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->name = (char *)name;
    vi->type = tp;
    return vi;
}

/* The operators of node k; out[k] names its output value. */
static int ex_layer(ex *x, const lc_graph *g, int k, const char **out)
{
    const struct lc_node *nd = &g->nodes[k];
    int last = k == g->n_nodes - 1;
    const char *name = nd->name;
    /* the output node without an activation writes the graph output itself */
    const char *z = last && nd->act.kind == LC_ACT_IDENTITY ? x->out_name : ex_str(x, "/lc/z%d", k);
    /* One Gemm per input edge, each adding its product to the previous one
     * as C (the first gets the bias): a node with skip edges costs no Sum,
     * which at batch 1 is a runtime's per-operator overhead. Edges with
     * bit-identical matrices (a residual sum was read as one copy of the
     * layer per summand) share one Gemm on the Sum of their sources, so the
     * file holds the weights once, as the one read did. */
    int *lead = malloc((size_t)nd->n_in * sizeof *lead), n_lead = 0;
    if (!lead) return -1;
    for (int e = 0; e < nd->n_in; e++) {
        lead[e] = lc_edge_twin(g, k, e); /* the first of its twins: a leader itself */
        n_lead += lead[e] == e;
    }
    const char *prev = NULL;
    for (int e = 0, done = 0; e < nd->n_in; e++) {
        if (lead[e] != e) continue;
        int src = nd->in[e].src, first = done == 0, final = ++done == n_lead;
        const char *xin = out[src];
        int n_same = 0;
        for (int f = e; f < nd->n_in; f++) n_same += lead[f] == e;
        if (n_same > 1) { /* the Sum of the sources that share this matrix */
            const char **srcs = ex_alloc(x, (size_t)n_same * sizeof *srcs);
            if (!srcs) break;
            for (int f = e, i = 0; f < nd->n_in; f++)
                if (lead[f] == e) srcs[i++] = out[nd->in[f].src];
            xin = ex_str(x, "/lc/s%d_%d", k, e);
            if (!ex_node(x, "Sum", ex_str(x, "%s/sum%d", name, e), n_same, srcs, xin)) break;
        }
        int64_t dims[2] = {nd->width, g->nodes[src].width};
        const char *w = ex_str(x, "/lc/W%d_%d", k, e);
        const char *in[3] = {xin, w, first ? ex_str(x, "/lc/b%d", k) : prev};
        if (ex_tensor(x, w, nd->in[e].w, (size_t)dims[0] * (size_t)dims[1], dims, 2)) break;
        if (first && ex_tensor(x, in[2], nd->bias, (size_t)nd->width, dims, 1)) break;
        const char *zo = final ? z : ex_str(x, "/lc/z%d_%d", k, e);
        /* the chain's last Gemm carries the node's name (the importer names
         * the node after it) */
        Onnx__NodeProto *n = ex_node(x, "Gemm", final ? name : ex_str(x, "%s/gemm%d", name, e),
                                     3, in, zo);
        if (ex_attr(x, n, "transB", 0, 1)) break;
        prev = zo;
    }
    free(lead);
    if (!prev || !z || strcmp(prev, z)) return -1; /* a failure above left the chain short */
    if (last && nd->act.kind == LC_ACT_IDENTITY) {
        out[k] = z;
        return prev ? 0 : -1;
    }

    const char *h = last ? x->out_name : ex_str(x, "/lc/h%d", k);
    const char *act_name = ex_str(x, "%s/%s", name, lc_act_name(nd->act.kind));
    const char *in[3] = {z, NULL, NULL};
    Onnx__NodeProto *n = NULL;
    int64_t wd = nd->width;
    switch (nd->act.kind) {
    case LC_ACT_IDENTITY:
        if (!last) {
            out[k] = z;
            return z ? 0 : -1;
        }
        n = ex_node(x, "Identity", act_name, 1, in, h);
        break;
    case LC_ACT_RELU: n = ex_node(x, "Relu", act_name, 1, in, h); break;
    case LC_ACT_LEAKY_RELU:
        n = ex_node(x, "LeakyRelu", act_name, 1, in, h);
        if (ex_attr(x, n, "alpha", 1, nd->act.alpha)) return -1;
        break;
    case LC_ACT_PRELU:
        in[1] = ex_str(x, "/lc/slope%d", k);
        if (ex_tensor(x, in[1], nd->slope, (size_t)nd->width, &wd, 1)) return -1;
        n = ex_node(x, "PRelu", act_name, 2, in, h);
        break;
    case LC_ACT_CLIP:
        in[1] = ex_str(x, "/lc/lo%d", k);
        in[2] = ex_str(x, "/lc/hi%d", k);
        if (ex_tensor(x, in[1], &nd->act.lo, 1, NULL, 0) ||
            ex_tensor(x, in[2], &nd->act.hi, 1, NULL, 0))
            return -1;
        n = ex_node(x, "Clip", act_name, 3, in, h);
        break;
    case LC_ACT_SOFTMAX:
    case LC_ACT_LOG_SOFTMAX:
        n = ex_node(x, nd->act.kind == LC_ACT_SOFTMAX ? "Softmax" : "LogSoftmax", act_name, 1,
                    in, h);
        if (ex_attr(x, n, "axis", 0, 1)) return -1;
        break;
    case LC_ACT_SIGMOID: n = ex_node(x, "Sigmoid", act_name, 1, in, h); break;
    }
    out[k] = h;
    return n ? 0 : -1;
}

/* Builds the model proto into m; every pointer inside is owned by x. */
static lc_status ex_model(ex *x, const lc_graph *g, Onnx__ModelProto *m, lc_error *err)
{
    Onnx__GraphProto *gp = ex_alloc(x, sizeof *gp);
    Onnx__OperatorSetIdProto *op = ex_alloc(x, sizeof *op);
    Onnx__OperatorSetIdProto **ops = ex_alloc(x, sizeof *ops);
    Onnx__ValueInfoProto **ins = ex_alloc(x, sizeof *ins), **outs = ex_alloc(x, sizeof *outs);
    const char **out = ex_alloc(x, (size_t)g->n_nodes * sizeof *out);
    if (!gp || !op || !ops || !ins || !outs || !out) goto nomem;
    onnx__graph_proto__init(gp);
    onnx__operator_set_id_proto__init(op);

    /* the input and the output keep the names of the file the graph came
     * from, unless they could collide with ours or each other */
    const char *in_name = g->nodes[0].name, *on = g->out_name;
    if (!on || !on[0] || !strncmp(on, "/lc/", 4) || !strcmp(on, in_name)) on = "output";
    if (!in_name[0] || !strcmp(in_name, on) || !strncmp(in_name, "/lc/", 4))
        in_name = strcmp(on, "input") ? "input" : "x";
    x->out_name = on;
    int64_t flat = g->nodes[0].width, out_w = lc_graph_output_width(g);
    out[0] = in_name;
    if (g->in_rank > 1) { /* an [N, C, H, W] input as read: flattened first */
        const char *in[1] = {in_name};
        out[0] = "/lc/x";
        if (ex_attr(x, ex_node(x, "Flatten", "/lc/flatten", 1, in, out[0]), "axis", 0, 1)) goto nomem;
    }
    for (int k = 1; k < g->n_nodes; k++)
        if (ex_layer(x, g, k, out)) goto nomem;
    if (!(ins[0] = g->in_rank > 1 ? ex_value_info(x, in_name, g->in_rank, g->in_dims)
                                  : ex_value_info(x, in_name, 1, &flat)) ||
        !(outs[0] = ex_value_info(x, on, 1, &out_w)))
        goto nomem;

    gp->name = (char *)"lincomp";
    gp->n_node = x->n_nodes;
    gp->node = x->nodes;
    gp->n_initializer = x->n_inits;
    gp->initializer = x->inits;
    gp->n_input = 1;
    gp->input = ins;
    gp->n_output = 1;
    gp->output = outs;

    op->domain = (char *)"";
    op->has_version = 1;
    op->version = 13;
    ops[0] = op;
    m->has_ir_version = 1;
    m->ir_version = 7;
    m->n_opset_import = 1;
    m->opset_import = ops;
    m->producer_name = (char *)"lincomp";
    m->producer_version = (char *)LC_VERSION;
    m->graph = gp;

    if (g->pre) {
        char *json = NULL;
        lc_status st = lc_preproc_to_json(g->pre, &json, err);
        if (st) return st;
        Onnx__StringStringEntryProto *kv = ex_alloc(x, sizeof *kv);
        Onnx__StringStringEntryProto **kvs = ex_alloc(x, sizeof *kvs);
        if (!ex_own(x, json) || !kv || !kvs) goto nomem;
        onnx__string_string_entry_proto__init(kv);
        kv->key = (char *)"lincomp.preprocessing";
        kv->value = json;
        kvs[0] = kv;
        m->n_metadata_props = 1;
        m->metadata_props = kvs;
    }
    return LC_OK;
nomem:
    return lc_fail(err, LC_ERR_NOMEM, "out of memory building the ONNX model");
}

/* Serialises g into a new malloc'd buffer; `what` prefixes the messages. */
static lc_status save_buf(const lc_graph *g, const char *what, uint8_t **out, size_t *out_len,
                          lc_error *err)
{
    ex x = {0};
    Onnx__ModelProto m;
    onnx__model_proto__init(&m);
    lc_status st = ex_model(&x, g, &m, err);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!st) {
        len = onnx__model_proto__get_packed_size(&m);
        if (len > (size_t)INT32_MAX)
            st = lc_fail(err, LC_ERR_UNSUPPORTED,
                         "%s: the model needs %zu bytes, more than ONNX's 2 GiB limit", what, len);
        else if (!(buf = malloc(len ? len : 1)))
            st = lc_fail(err, LC_ERR_NOMEM, "%s: out of memory serialising the model", what);
        else if (onnx__model_proto__pack(&m, buf) != len)
            st = lc_fail(err, LC_ERR_INVALID, "%s: serialising the model failed", what);
    } else if (err) {
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        st = lc_fail(err, st, "%s: %s", what, msg);
    }
    for (size_t i = 0; i < x.n_owned; i++) free(x.owned[i]);
    free(x.owned);
    free(x.nodes);
    free(x.inits);
    if (st) {
        free(buf);
        return st;
    }
    *out = buf;
    *out_len = len;
    return LC_OK;
}

lc_status lc_onnx_save(const lc_graph *g, const char *path, lc_error *err)
{
    if (!path || !*path) return lc_fail(err, LC_ERR_INVALID, "lc_onnx_save: no file name");
    uint8_t *buf = NULL;
    size_t len = 0;
    lc_status st = save_buf(g, path, &buf, &len, err);
    if (!st) st = lc_write_atomic(path, buf, len, err);
    free(buf);
    return st;
}

lc_status lc_onnx_save_mem(const lc_graph *g, void **buf, size_t *len, lc_error *err)
{
    if (!buf || !len) return lc_fail(err, LC_ERR_INVALID, "lc_onnx_save_mem: NULL output");
    *buf = NULL;
    *len = 0;
    uint8_t *b = NULL;
    lc_status st = save_buf(g, "(memory)", &b, len, err);
    if (!st) *buf = b;
    return st;
}
