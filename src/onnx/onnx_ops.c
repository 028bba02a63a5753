/* onnx_ops.c - operator dispatch for the importer, the helpers every
 * operator uses to read inputs and define outputs, and the operators that
 * only move data around (Identity, Dropout, Flatten, Reshape, Constant,
 * Transpose of a constant, shape bookkeeping). The computing operators are
 * in onnx_layers.c; the mapping table is in docs/onnx.md. */
#include "onnx_imp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ inputs */

const char *ox_kind_desc(int kind)
{
    switch (kind) {
    case OX_CONST: return "a constant";
    case OX_SHAPE: return "computed from tensor shapes";
    case OX_NONE: return "an output lincomp does not model";
    default: return "computed from the model input";
    }
}

/* Input i, NULL when absent (optional input left out or named ""). */
lc_status ox_get_in(ox_imp *c, const Onnx__NodeProto *n, size_t i, int required,
                        ox_val **out)
{
    *out = NULL;
    if (i >= n->n_input || !n->input[i][0]) {
        if (required)
            return ox_node_fail(c, n, LC_ERR_FORMAT, "input %zu is missing", i + 1);
        return LC_OK;
    }
    if (!(*out = ox_lookup(c, n->input[i])))
        return ox_node_fail(c, n, LC_ERR_FORMAT,
                            "input '%s' is not made by an earlier node, an initializer or "
                            "the graph input", n->input[i]);
    return LC_OK;
}

/* Input i, which must be an affine value of the model input. */
lc_status ox_sym_in(ox_imp *c, const Onnx__NodeProto *n, size_t i, ox_val **out)
{
    lc_status st = ox_get_in(c, n, i, 1, out);
    if (st) return st;
    ox_val *v = *out;
    if (v->kind != OX_SYM)
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "input '%s' is %s; lincomp needs a value computed from the model "
                            "input here", v->name, ox_kind_desc(v->kind));
    const Onnx__NodeProto *f = v->final;
    /* A sigmoid between layers is a smooth activation like Tanh, so the
     * message says that, at the Sigmoid (x * sigmoid(x) is SiLU); Softmax
     * feeding a layer breaks the output-only rule. */
    if (f && f->op_type && !strcmp(f->op_type, "Sigmoid")) {
        int silu = n->op_type && !strcmp(n->op_type, "Mul");
        return ox_node_fail(c, f, LC_ERR_UNSUPPORTED,
                            "a hidden sigmoid activation (feeding node '%s'%s) is not "
                            "piecewise-linear and not supported; lincomp reads Sigmoid only "
                            "as the model's last operation", ox_node_label(n),
                            silu ? ", as in SiLU x * sigmoid(x)" : "");
    }
    if (f)
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "input '%s' comes from %s, which lincomp supports only as the "
                            "model's last operation", v->name, f->op_type);
    return LC_OK;
}

/* Input i as a constant tensor; *t is NULL when an optional one is absent. */
lc_status ox_const_in(ox_imp *c, const Onnx__NodeProto *n, size_t i, int required,
                          const ox_tensor **t)
{
    ox_val *v;
    *t = NULL;
    lc_status st = ox_get_in(c, n, i, required, &v);
    if (st || !v) return st;
    if (v->kind != OX_CONST)
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "input '%s' is %s; lincomp needs a constant (an initializer or a "
                            "Constant node) here", v->name, ox_kind_desc(v->kind));
    return ox_const(c, v, t);
}

/* A constant scalar (any shape with one element). */
lc_status ox_scalar_in(ox_imp *c, const Onnx__NodeProto *n, size_t i, double *x)
{
    const ox_tensor *t;
    lc_status st = ox_const_in(c, n, i, 0, &t);
    if (st || !t) return st;
    if (t->n != 1)
        return ox_node_fail(c, n, LC_ERR_FORMAT, "input '%s' must hold one value, it holds %zu",
                            n->input[i], t->n);
    *x = t->v[0];
    return LC_OK;
}

/* ----------------------------------------------------------- outputs */

const char *ox_node_label(const Onnx__NodeProto *n)
{
    if (n->name && n->name[0]) return n->name;
    return n->n_output ? n->output[0] : "?";
}

/* Defines output i of kind `kind`; *out may be NULL when the output is unnamed. */
static lc_status put(ox_imp *c, const Onnx__NodeProto *n, size_t i, int kind, ox_val **out)
{
    if (out) *out = NULL;
    if (i >= n->n_output || !n->output[i][0]) return LC_OK;
    ox_val *v;
    lc_status st = ox_define(c, n, n->output[i], &v);
    if (st) return st;
    v->kind = kind;
    if (out) *out = v;
    return LC_OK;
}

/* Output 0 := a (taken over); later outputs are not modelled. */
lc_status ox_put_sym(ox_imp *c, const Onnx__NodeProto *n, ox_aff *a, int rank,
                         const int64_t *dims, const char *label, ox_val **outv)
{
    /* cleared first: a node whose output 0 is unnamed defines nothing and
     * returns LC_OK, and callers test *outv (found by fuzzing: put_act
     * wrote through an uninitialised pointer) */
    if (outv) *outv = NULL;
    if (!a) return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
    ox_val *v;
    lc_status st = put(c, n, 0, OX_SYM, &v);
    for (size_t i = 1; !st && i < n->n_output; i++) st = put(c, n, i, OX_NONE, NULL);
    if (st || !v) {
        ox_aff_unref(a);
        return st;
    }
    v->a = a;
    v->rank = rank;
    memcpy(v->dims, dims, (size_t)rank * sizeof *dims);
    v->label = label;
    if (outv) *outv = v;
    return LC_OK;
}

lc_status ox_put_all(ox_imp *c, const Onnx__NodeProto *n, int kind)
{
    lc_status st = LC_OK;
    for (size_t i = 0; !st && i < n->n_output; i++) st = put(c, n, i, kind, NULL);
    return st;
}

/* Output 0 is input 0 under a new name (Identity, Dropout, Cast to float). */
lc_status ox_alias(ox_imp *c, const Onnx__NodeProto *n)
{
    ox_val *x, *v;
    lc_status st = ox_get_in(c, n, 0, 1, &x);
    if (st) return st;
    if (x->kind == OX_CONST && (st = ox_const(c, x, &(const ox_tensor *){NULL}))) return st;
    if ((st = put(c, n, 0, x->kind, &v))) return st;
    for (size_t i = 1; !st && i < n->n_output; i++) st = put(c, n, i, OX_NONE, NULL);
    if (st || !v) return st;
    ox_val keep = *v;
    *v = *x;
    v->name = keep.name;
    v->mat = 0;
    if (x->kind == OX_SYM) ox_aff_ref(v->a);
    if (x->kind == OX_CONST) { /* its own copy of the data */
        v->tp = NULL;
        v->t.v = malloc((x->t.n ? x->t.n : 1) * sizeof(double));
        if (!v->t.v) return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
        memcpy(v->t.v, x->t.v, x->t.n * sizeof(double));
    }
    return LC_OK;
}

/* ------------------------------------------------------ shape changes */

static lc_status op_flatten(ox_imp *c, const Onnx__NodeProto *n)
{
    ox_val *x;
    lc_status st = ox_get_in(c, n, 0, 1, &x);
    if (st) return st;
    if (x->kind != OX_SYM) return ox_put_all(c, n, OX_SHAPE);
    if ((st = ox_sym_in(c, n, 0, &x))) return st;
    int64_t axis = ox_attr_int(n, "axis", 1);
    if (axis < 0) axis += x->rank + 1;
    if (axis != 1 && !(x->rank == 1 && axis == 2))
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "axis %lld would merge the batch dimension with features",
                            (long long)ox_attr_int(n, "axis", 1));
    int64_t w = (int64_t)ox_width(x);
    return ox_put_sym(c, n, ox_aff_ref(x->a), 1, &w, x->label, NULL);
}

/* A shape entry as an integer. Entries arrive as doubles (from a tensor of
 * any type), and casting NaN or a value beyond int64's range is undefined
 * behaviour (found by fuzzing): those, and fractions, become INT64_MIN,
 * which every check below refuses. */
static int64_t shape_entry(double v)
{
    if (!(v > -9e18 && v < 9e18) || v != (double)(int64_t)v) return INT64_MIN;
    return (int64_t)v;
}

/* Reshape that keeps the batch dimension: [0 | -1 | N, d1, ...]. A shape
 * computed at run time (Shape, Gather, Concat, ...) is taken as a flatten. */
static lc_status op_reshape(ox_imp *c, const Onnx__NodeProto *n)
{
    ox_val *x, *s;
    lc_status st = ox_get_in(c, n, 0, 1, &x);
    if (st || (st = ox_get_in(c, n, 1, 1, &s))) return st;
    if (x->kind != OX_SYM) return ox_put_all(c, n, OX_SHAPE);
    if ((st = ox_sym_in(c, n, 0, &x))) return st;
    int64_t w = (int64_t)ox_width(x), dims[OX_MAX_RANK];
    if (s->kind == OX_SHAPE) return ox_put_sym(c, n, ox_aff_ref(x->a), 1, &w, x->label, NULL);
    const ox_tensor *t;
    if ((st = ox_const_in(c, n, 1, 1, &t))) return st;
    char buf[160];
    int r = (int)t->n - 1, infer = -1;
    if (t->n < 2 || t->n > OX_MAX_RANK)
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "target shape with %zu entries; lincomp keeps the batch dimension "
                            "and needs [N, d] or [N, d1, ...]", t->n);
    int64_t prod = 1;
    if (!(t->v[0] >= -1)) goto bad; /* also NaN */
    /* with allowzero a 0 is a dimension of size 0, not "copy the input's" */
    if (t->v[0] == 0 && ox_attr_int(n, "allowzero", 0))
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "target shape starts with 0 and allowzero=1, which makes a batch of "
                            "size 0 (without allowzero, 0 keeps the input's batch)");
    for (int i = 0; i < r; i++) {
        dims[i] = shape_entry(t->v[i + 1]);
        if (dims[i] == 0 && i < x->rank && !ox_attr_int(n, "allowzero", 0)) dims[i] = x->dims[i];
        if (dims[i] == -1 && infer < 0 && t->v[0] != -1) {
            infer = i;
            continue;
        }
        if (dims[i] < 1 || dims[i] > w) goto bad; /* and prod * dims[i] cannot overflow */
        prod *= dims[i];
        if (prod > w) goto bad;
    }
    if (infer >= 0) {
        if (w % prod) goto bad;
        dims[infer] = w / prod;
    } else if (prod != w) {
        goto bad;
    }
    return ox_put_sym(c, n, ox_aff_ref(x->a), r, dims, x->label, NULL);
bad:;
    int64_t sd[OX_MAX_RANK];
    for (size_t i = 0; i < t->n; i++) sd[i] = shape_entry(t->v[i]);
    return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                        "target shape %s does not keep the batch dimension of %lld features "
                        "per sample", ox_dims_str(sd, (int)t->n, buf, sizeof buf), (long long)w);
}

/* Constant: a tensor (or value_float(s)/value_int(s)) into a constant value. */
static lc_status op_constant(ox_imp *c, const Onnx__NodeProto *n)
{
    const Onnx__AttributeProto *a = NULL;
    static const char *keys[] = {"value", "value_float", "value_floats", "value_int",
                                 "value_ints"};
    int which = -1;
    for (int i = 0; i < 5 && which < 0; i++)
        if ((a = ox_attr(n, keys[i]))) which = i;
    if (which < 0)
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "lincomp reads value, value_float(s) and value_int(s) only");
    ox_tensor t = {0};
    lc_status st;
    if (which == 0) {
        if (!a->t) return ox_node_fail(c, n, LC_ERR_FORMAT, "attribute 'value' holds no tensor");
        if ((st = ox_tensor_decode(a->t, c->what, &t, c->err))) return st;
    } else {
        size_t cnt = which == 1 || which == 3 ? 1 : which == 2 ? a->n_floats : a->n_ints;
        t.rank = which == 2 || which == 4;
        t.dims[0] = (int64_t)cnt;
        t.n = cnt;
        t.is_int = which >= 3;
        if (!(t.v = malloc((cnt ? cnt : 1) * sizeof(double))))
            return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < cnt; i++)
            t.v[i] = which == 1 ? a->f : which == 2 ? a->floats[i]
                   : which == 3 ? (double)a->i : (double)a->ints[i];
    }
    ox_val *v;
    if ((st = put(c, n, 0, OX_CONST, &v)) || !v) {
        ox_tensor_free(&t);
        return st;
    }
    v->t = t;
    v->decoded = 1;
    return LC_OK;
}

/* Transpose of a constant matrix (weights stored as W and transposed in
 * the graph, as some exporters do before MatMul). */
static lc_status op_transpose(ox_imp *c, const Onnx__NodeProto *n)
{
    ox_val *x, *v;
    const ox_tensor *t;
    lc_status st = ox_get_in(c, n, 0, 1, &x);
    if (st) return st;
    if (x->kind == OX_SHAPE) return ox_put_all(c, n, OX_SHAPE);
    if (x->kind != OX_CONST)
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED, "transposes a computed value");
    if ((st = ox_const(c, x, &t))) return st;
    const Onnx__AttributeProto *perm = ox_attr(n, "perm");
    if (t->rank != 2 || (perm && (perm->n_ints != 2 || perm->ints[0] != 1)))
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED, "lincomp transposes matrices only");
    if ((st = put(c, n, 0, OX_CONST, &v)) || !v) return st;
    size_t r = (size_t)t->dims[0], q = (size_t)t->dims[1];
    v->decoded = 1;
    v->t = (ox_tensor){.rank = 2, .dims = {t->dims[1], t->dims[0]}, .n = t->n, .is_int = t->is_int};
    if (!(v->t.v = malloc((t->n ? t->n : 1) * sizeof(double))))
        return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < q; j++) v->t.v[j * r + i] = t->v[i * q + j];
    return LC_OK;
}

/* Operators that only compute shapes (the x.view(x.size(0), -1) pattern):
 * their results may only feed Reshape's shape input. */
static int is_shape_op(const char *op)
{
    static const char *ops[] = {"Shape", "Size", "Gather", "Unsqueeze", "Squeeze", "Concat",
                                "Slice", "ConstantOfShape", "Range", "Expand", "Equal",
                                "Where", "ReduceProd", "Floor", "Ceil", NULL};
    for (int i = 0; ops[i]; i++)
        if (!strcmp(op, ops[i])) return 1;
    return 0;
}

static lc_status op_shape(ox_imp *c, const Onnx__NodeProto *n)
{
    int reads_shape = !strcmp(n->op_type, "Shape") || !strcmp(n->op_type, "Size");
    for (size_t i = 0; i < n->n_input && !reads_shape; i++) {
        ox_val *v;
        lc_status st = ox_get_in(c, n, i, 0, &v);
        if (st) return st;
        if (v && v->kind == OX_SYM && !strcmp(n->op_type, "Squeeze"))
            return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                                "squeezes the data; lincomp reads values of shape [N, d], and a "
                                "model's output must be [N, d] (export a one-output model without "
                                "the squeeze: [N, 1])");
        if (v && v->kind == OX_SYM)
            return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                                "operator on the data itself (lincomp reads dense layers, "
                                "activations and shape bookkeeping only)");
    }
    return ox_put_all(c, n, OX_SHAPE);
}

lc_status ox_run_node(ox_imp *c, const Onnx__NodeProto *n)
{
    const char *op = n->op_type ? n->op_type : "";
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx"))
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED, "operator from domain '%s' is not supported",
                            n->domain);
    if (!strcmp(op, "Gemm")) return ox_op_gemm(c, n, 0);
    if (!strcmp(op, "MatMul")) return ox_op_gemm(c, n, 1);
    if (!strcmp(op, "Add")) return ox_op_arith(c, n, '+');
    if (!strcmp(op, "Sub")) return ox_op_arith(c, n, '-');
    if (!strcmp(op, "Mul")) return ox_op_arith(c, n, '*');
    if (!strcmp(op, "Div")) return ox_op_arith(c, n, '/');
    if (!strcmp(op, "Sum")) return ox_op_sum(c, n);
    if (!strcmp(op, "Neg")) return ox_op_neg(c, n);
    if (!strcmp(op, "BatchNormalization")) return ox_op_batchnorm(c, n);
    if (!strcmp(op, "Relu")) return ox_op_act(c, n, LC_ACT_RELU);
    if (!strcmp(op, "LeakyRelu")) return ox_op_act(c, n, LC_ACT_LEAKY_RELU);
    if (!strcmp(op, "PRelu")) return ox_op_prelu(c, n);
    if (!strcmp(op, "Clip")) return ox_op_clip(c, n);
    if (!strcmp(op, "Max") || !strcmp(op, "Min") || !strcmp(op, "Concat")) {
        /* of constants or shapes only (x.view(x.size(0), -1)): shape
         * bookkeeping; of data: a clip, a ReLU or a join */
        bool data = false;
        for (size_t i = 0; i < n->n_input; i++) {
            ox_val *v;
            lc_status st = ox_get_in(c, n, i, 0, &v);
            if (st) return st;
            data |= v && v->kind == OX_SYM;
        }
        if (!data) return op_shape(c, n);
        if (!strcmp(op, "Concat")) return ox_op_concat(c, n);
        return ox_op_minmax(c, n, !strcmp(op, "Max"));
    }
    if (!strcmp(op, "Softmax")) return ox_op_act(c, n, LC_ACT_SOFTMAX);
    if (!strcmp(op, "LogSoftmax")) return ox_op_act(c, n, LC_ACT_LOG_SOFTMAX);
    if (!strcmp(op, "Sigmoid")) return ox_op_act(c, n, LC_ACT_SIGMOID);
    if (!strcmp(op, "Identity") || !strcmp(op, "Dropout")) return ox_alias(c, n);
    if (!strcmp(op, "Flatten")) return op_flatten(c, n);
    if (!strcmp(op, "Reshape")) return op_reshape(c, n);
    if (!strcmp(op, "Constant")) return op_constant(c, n);
    if (!strcmp(op, "Transpose")) return op_transpose(c, n);
    if (!strcmp(op, "Cast")) {
        ox_val *x;
        lc_status st = ox_get_in(c, n, 0, 1, &x);
        if (st) return st;
        if (x->kind == OX_SYM && ox_attr_int(n, "to", 0) == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
            return ox_alias(c, n);
        if (x->kind == OX_CONST && ox_attr_int(n, "to", 0) == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
            const ox_tensor *t;
            if ((st = ox_const(c, x, &t))) return st;
            if (!t->is_int) return ox_alias(c, n);
        }
        return op_shape(c, n);
    }
    if (is_shape_op(op)) return op_shape(c, n);
    return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                        "operator not supported (lincomp reads dense layers with piecewise-"
                        "linear activations; see docs/onnx.md)");
}
