/* onnx_layers.c - the ONNX operators that compute: dense layers (Gemm,
 * MatMul), BatchNormalization, arithmetic with constants and between
 * computed values, and the activations that become lc_graph nodes. */
#include "onnx_imp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------- dense layers */

/* x as a sum of identity/diagonal terms: x itself, or x made into a node
 * with the identity activation (once per value). New reference in *a. */
static lc_status dense_input(ox_imp *c, const Onnx__NodeProto *n, ox_val *x, ox_aff **a)
{
    if (ox_aff_is_diag(x->a)) {
        *a = ox_aff_ref(x->a);
        return LC_OK;
    }
    if (!x->mat) {
        lc_act id = {LC_ACT_IDENTITY, 0, 0, 0};
        lc_status st = ox_add_node(c, n, x, id, NULL, x->label ? x->label : x->name, &x->mat);
        if (st) return st;
    }
    if (!(*a = ox_aff_node(x->mat, x->a->n)))
        return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
    return LC_OK;
}

static lc_status flat_in(ox_imp *c, const Onnx__NodeProto *n, ox_val **x)
{
    lc_status st = ox_sym_in(c, n, 0, x);
    if (st) return st;
    if ((*x)->rank != 1) {
        char buf[160];
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "input '%s' has per-sample shape %s; lincomp needs [N, d] here "
                            "(add a Flatten)", (*x)->name,
                            ox_dims_str((*x)->dims, (*x)->rank, buf, sizeof buf));
    }
    return LC_OK;
}

/* Gemm: alpha * op(A) op(B) + beta * C, and MatMul (no C, B not transposed). */
lc_status ox_op_gemm(ox_imp *c, const Onnx__NodeProto *n, int matmul)
{
    ox_val *x;
    const ox_tensor *b, *cc = NULL;
    char buf[160];
    lc_status st = ox_get_in(c, n, 0, 1, &x);
    if (st) return st;
    if (x->kind == OX_CONST)
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "the weights come first (W x); lincomp reads x W with the data as "
                            "the first input");
    if ((st = flat_in(c, n, &x)) || (st = ox_const_in(c, n, 1, 1, &b))) return st;
    ox_hold(c, n, 1);
    if (!matmul && ox_attr_int(n, "transA", 0))
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "transA=1 would transpose the batch dimension of the data");
    int trans_b = !matmul && ox_attr_int(n, "transB", 0);
    int64_t k = (int64_t)ox_width(x);
    if (b->rank != 2 || b->dims[trans_b ? 1 : 0] != k)
        return ox_node_fail(c, n, LC_ERR_FORMAT,
                            "weight '%s' has shape %s; for an input of width %lld it needs %s",
                            n->input[1], ox_dims_str(b->dims, b->rank, buf, sizeof buf),
                            (long long)k, trans_b ? "[M, K] with K = that width (transB=1)"
                                                  : "[K, M] with K = that width");
    int64_t m = b->dims[trans_b ? 0 : 1];
    if (m < 1 || m > LC_MAX_WIDTH)
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED, "%lld outputs (at most %d)", (long long)m,
                            LC_MAX_WIDTH);
    double alpha = matmul ? 1.0 : ox_attr_float(n, "alpha", 1.0);
    double beta = matmul ? 1.0 : ox_attr_float(n, "beta", 1.0);
    /* C is a constant bias, or a value computed from the input (Gemm
     * chained onto another product: lincomp's export of a node with several
     * inputs) */
    ox_val *cv = NULL;
    if (!matmul && (st = ox_get_in(c, n, 2, 0, &cv))) return st;
    if (cv && cv->kind == OX_SYM) {
        if ((st = ox_sym_in(c, n, 2, &cv))) return st;
        if (cv->rank != 1 || cv->dims[0] != m)
            return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                                "computed C '%s' of shape %s; %lld outputs need [N, %lld]",
                                n->input[2], ox_dims_str(cv->dims, cv->rank, buf, sizeof buf),
                                (long long)m, (long long)m);
    } else {
        cv = NULL;
        if (!matmul && (st = ox_const_in(c, n, 2, 0, &cc))) return st;
    }

    ox_blob *w = ox_blob_new((size_t)m * (size_t)k), *bias = NULL;
    if (!w) return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < (size_t)m; i++) /* (out, in) layout */
        for (size_t j = 0; j < (size_t)k; j++)
            w->v[i * (size_t)k + j] = trans_b ? b->v[i * (size_t)k + j] : b->v[j * (size_t)m + i];
    if (cc) {
        int64_t dm = m;
        if (!(bias = ox_blob_new((size_t)m))) st = ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
        else if (!ox_broadcast(cc, 1, &dm, (size_t)m, bias->v))
            st = ox_node_fail(c, n, LC_ERR_FORMAT,
                              "bias '%s' has shape %s; %lld outputs need a scalar, [%lld] or "
                              "[1, %lld]", n->input[2],
                              ox_dims_str(cc->dims, cc->rank, buf, sizeof buf), (long long)m,
                              (long long)m, (long long)m);
        else
            for (size_t i = 0; i < (size_t)m; i++) bias->v[i] *= beta;
    }
    ox_aff *a = NULL;
    if (!st) st = dense_input(c, n, x, &a);
    if (!st) {
        int64_t dims[1] = {m};
        ox_aff *d = ox_aff_dense(a, w, (int)m, alpha, bias);
        if (d && cv) { /* C's terms first: the edges keep the order of the chain */
            ox_aff *sum = beta == 1.0 ? ox_aff_sum(cv->a, d, 1.0) : ox_aff_sum(d, cv->a, beta);
            ox_aff_unref(d);
            d = sum;
        }
        st = ox_put_sym(c, n, d, 1, dims, ox_node_label(n), NULL);
    }
    ox_aff_unref(a);
    ox_blob_unref(w);
    ox_blob_unref(bias);
    return st;
}

/* Outputs after Y that the file names. Before opset 14 these optional
 * outputs (running and saved mean and variance) are what marks training
 * mode, and from opset 14 they are allowed only with training_mode=1:
 * either way the node normalises with the batch's own statistics, which
 * no per-sample affine map reproduces (torch exports so with
 * training=TrainingMode.TRAINING; folding the running statistics instead
 * gave outputs 1.3 away from ONNX Runtime's). */
static size_t bn_stat_outputs(const Onnx__NodeProto *n)
{
    size_t k = 0;
    for (size_t i = 1; i < n->n_output; i++) k += n->output[i][0] != 0;
    return k;
}

/* BatchNormalization in inference form: an affine map per channel. */
lc_status ox_op_batchnorm(ox_imp *c, const Onnx__NodeProto *n)
{
    ox_val *x;
    const ox_tensor *p[4]; /* scale, B, mean, var */
    lc_status st = ox_sym_in(c, n, 0, &x);
    if (st) return st;
    size_t extra = bn_stat_outputs(n);
    if (ox_attr_int(n, "training_mode", 0) || extra) {
        char why[80];
        if (ox_attr_int(n, "training_mode", 0))
            snprintf(why, sizeof why, "training_mode=1");
        else
            snprintf(why, sizeof why, "%zu output%s besides Y, for the updated statistics",
                     extra, extra == 1 ? "" : "s");
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "exported in training mode (%s): it normalises with the batch's "
                            "statistics, not the running ones; export the model in eval mode "
                            "(model.eval(), training=TrainingMode.EVAL)", why);
    }
    if (x->rank < 1)
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED, "input without a channel dimension");
    int64_t ch = x->dims[0];
    for (int i = 0; i < 4; i++) {
        if ((st = ox_const_in(c, n, (size_t)i + 1, 1, &p[i]))) return st;
        if (p[i]->n != (size_t)ch)
            return ox_node_fail(c, n, LC_ERR_FORMAT, "'%s' has %zu values for %lld channels",
                                n->input[i + 1], p[i]->n, (long long)ch);
    }
    double eps = ox_attr_float(n, "epsilon", 1e-5);
    size_t w = ox_width(x), per = w / (size_t)ch;
    double *s = malloc(2 * w * sizeof(double));
    if (!s) return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
    double *t = s + w;
    for (size_t f = 0; f < w; f++) {
        size_t q = f / per;
        s[f] = p[0]->v[q] / sqrt(p[3]->v[q] + eps);
        t[f] = p[1]->v[q] - p[2]->v[q] * s[f];
    }
    ox_aff *scaled = ox_aff_scale(x->a, s);
    ox_aff *r = scaled ? ox_aff_shift(scaled, t) : NULL;
    ox_aff_unref(scaled);
    free(s);
    return ox_put_sym(c, n, r, x->rank, x->dims, x->label, NULL);
}

/* --------------------------------------------------------- arithmetic */

/* -a: a scaling by -1, so it folds into the next dense layer like Mul by
 * a constant. New reference, NULL when out of memory. */
static ox_aff *aff_negate(const ox_aff *a)
{
    size_t w = (size_t)a->n;
    double *neg = malloc(w * sizeof(double));
    if (!neg) return NULL;
    for (size_t i = 0; i < w; i++) neg[i] = -1.0;
    ox_aff *r = ox_aff_scale(a, neg);
    free(neg);
    return r;
}

/* Neg of a computed value (-x in PyTorch); of constants or shapes it is
 * shape bookkeeping, as in the shape subgraphs some exporters write. */
lc_status ox_op_neg(ox_imp *c, const Onnx__NodeProto *n)
{
    ox_val *x;
    lc_status st = ox_get_in(c, n, 0, 1, &x);
    if (st) return st;
    if (x->kind != OX_SYM) return ox_put_all(c, n, OX_SHAPE);
    if ((st = ox_sym_in(c, n, 0, &x))) return st;
    return ox_put_sym(c, n, aff_negate(x->a), x->rank, x->dims, x->label, NULL);
}

/* Add, Sub, Mul, Div with one computed and one constant input, or Add/Sub
 * of two computed values of the same shape. */
lc_status ox_op_arith(ox_imp *c, const Onnx__NodeProto *n, char op)
{
    ox_val *p, *q;
    lc_status st;
    char b1[160], b2[160];
    if ((st = ox_get_in(c, n, 0, 1, &p)) || (st = ox_get_in(c, n, 1, 1, &q))) return st;
    if (p->kind != OX_SYM && q->kind != OX_SYM) return ox_put_all(c, n, OX_SHAPE);
    if (p->kind == OX_SYM && q->kind == OX_SYM) {
        if ((st = ox_sym_in(c, n, 0, &p)) || (st = ox_sym_in(c, n, 1, &q))) return st;
        if (op == '*' || op == '/')
            return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                                "%s two computed values, which is not an affine map",
                                op == '*' ? "multiplies" : "divides");
        if (p->rank != q->rank || memcmp(p->dims, q->dims, (size_t)p->rank * sizeof(int64_t)))
            return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                                "adds per-sample shapes %s and %s (lincomp does not broadcast "
                                "between computed values)",
                                ox_dims_str(p->dims, p->rank, b1, sizeof b1),
                                ox_dims_str(q->dims, q->rank, b2, sizeof b2));
        return ox_put_sym(c, n, ox_aff_sum(p->a, q->a, op == '-' ? -1.0 : 1.0), p->rank, p->dims,
                       p->label ? p->label : q->label, NULL);
    }
    int xi = p->kind == OX_SYM ? 0 : 1;
    ox_val *x;
    const ox_tensor *k;
    if ((st = ox_sym_in(c, n, (size_t)xi, &x)) || (st = ox_const_in(c, n, (size_t)(1 - xi), 1, &k)))
        return st;
    if (op == '/' && xi == 1)
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "divides by a computed value, which is not an affine map");
    size_t w = ox_width(x);
    double *vec = malloc(w * sizeof(double));
    if (!vec) return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
    if (!ox_broadcast(k, x->rank, x->dims, w, vec)) {
        free(vec);
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                            "constant '%s' of shape %s does not broadcast over the per-sample "
                            "shape %s", n->input[1 - xi], ox_dims_str(k->dims, k->rank, b1, sizeof b1),
                            ox_dims_str(x->dims, x->rank, b2, sizeof b2));
    }
    ox_aff *r = NULL;
    if (op == '+') {
        r = ox_aff_shift(x->a, vec);
    } else if (op == '-' && xi == 0) {
        for (size_t i = 0; i < w; i++) vec[i] = -vec[i];
        r = ox_aff_shift(x->a, vec);
    } else if (op == '-') { /* k - x */
        ox_aff *nx = aff_negate(x->a);
        r = nx ? ox_aff_shift(nx, vec) : NULL;
        ox_aff_unref(nx);
    } else {
        for (size_t i = 0; op == '/' && i < w; i++) {
            if (vec[i] == 0) {
                free(vec);
                return ox_node_fail(c, n, LC_ERR_UNSUPPORTED, "division by zero in '%s'",
                                    n->input[1]);
            }
            vec[i] = 1.0 / vec[i];
        }
        r = ox_aff_scale(x->a, vec);
    }
    free(vec);
    return ox_put_sym(c, n, r, x->rank, x->dims, x->label, NULL);
}

/* Sum of any number of inputs: lincomp's own export joins skip edges so. */
lc_status ox_op_sum(ox_imp *c, const Onnx__NodeProto *n)
{
    ox_val *first = NULL, *v;
    lc_status st;
    for (size_t i = 0; i < n->n_input; i++) {
        if ((st = ox_get_in(c, n, i, 1, &v))) return st;
        if (v->kind == OX_SYM && !first) first = v;
    }
    if (!first) return ox_put_all(c, n, OX_SHAPE);
    if (n->n_input == 1) return ox_alias(c, n);
    ox_aff *acc = NULL;
    for (size_t i = 0; i < n->n_input; i++) {
        if ((st = ox_get_in(c, n, i, 1, &v))) break;
        if (v->kind != OX_SYM) {
            st = ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                              "input '%s' is %s; Sum joins computed values only", v->name,
                              ox_kind_desc(v->kind));
            break;
        }
        if ((st = ox_sym_in(c, n, i, &v))) break;
        if (v->rank != first->rank ||
            memcmp(v->dims, first->dims, (size_t)v->rank * sizeof(int64_t))) {
            st = ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                              "inputs of different shapes (no broadcasting between computed "
                              "values)");
            break;
        }
        ox_aff *next = acc ? ox_aff_sum(acc, v->a, 1.0) : ox_aff_ref(v->a);
        ox_aff_unref(acc);
        if (!(acc = next)) {
            st = ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
            break;
        }
    }
    if (st) {
        ox_aff_unref(acc);
        return st;
    }
    return ox_put_sym(c, n, acc, first->rank, first->dims, first->label, NULL);
}

/* Concat of computed values [N, d_i] along axis 1 (torch.cat([x, h], 1), a
 * skip connection by concatenation): one affine value whose terms stack the
 * parts' rows, so the dense layer it feeds becomes one edge per source. */
lc_status ox_op_concat(ox_imp *c, const Onnx__NodeProto *n)
{
    int64_t axis = ox_attr_int(n, "axis", INT64_MIN);
    ox_aff **parts = calloc(n->n_input ? n->n_input : 1, sizeof *parts);
    if (!parts) return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
    lc_status st = LC_OK;
    const char *label = NULL;
    for (size_t i = 0; i < n->n_input && !st; i++) {
        ox_val *v;
        if ((st = ox_get_in(c, n, i, 1, &v))) break;
        if (v->kind != OX_SYM) {
            st = ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                              "input '%s' is %s; lincomp concatenates computed values only",
                              v->name, ox_kind_desc(v->kind));
            break;
        }
        if ((st = ox_sym_in(c, n, i, &v))) break;
        if (v->rank != 1 || (axis != 1 && axis != -1)) {
            char buf[160];
            st = ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                              "concatenates values of per-sample shape %s along axis %lld; "
                              "lincomp joins values of shape [N, d] along axis 1%s",
                              ox_dims_str(v->dims, v->rank, buf, sizeof buf), (long long)axis,
                              v->rank != 1 ? " (flatten them first)"
                                           : " (axis 0 would join samples, not features)");
            break;
        }
        parts[i] = v->a;
        if (!label) label = v->label;
    }
    ox_aff *a = st ? NULL : ox_aff_concat(parts, (int)n->n_input);
    free(parts);
    if (st) return st;
    if (!a) return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
    int64_t w = a->n;
    return ox_put_sym(c, n, a, 1, &w, label, NULL);
}

/* -------------------------------------------------------- activations */

static lc_status put_act(ox_imp *c, const Onnx__NodeProto *n, ox_val *x, lc_act act,
                         double *slope)
{
    int k;
    const char *name = x->label ? x->label : ox_node_label(n);
    lc_status st = ox_add_node(c, n, x, act, slope, name, &k);
    if (st) return st;
    ox_val *v;
    if ((st = ox_put_sym(c, n, ox_aff_node(k, x->a->n), x->rank, x->dims, NULL, &v))) return st;
    if (v && lc_act_is_output(act.kind)) v->final = n;
    return LC_OK;
}

lc_status ox_op_act(ox_imp *c, const Onnx__NodeProto *n, lc_act_kind kind)
{
    ox_val *x;
    lc_status st = ox_sym_in(c, n, 0, &x);
    if (st) return st;
    lc_act act = {kind, 0, 0, 0};
    if (kind == LC_ACT_LEAKY_RELU) act.alpha = (float)ox_attr_float(n, "alpha", 0.01);
    if (kind == LC_ACT_SOFTMAX || kind == LC_ACT_LOG_SOFTMAX) {
        int64_t axis = ox_attr_int(n, "axis", c->opset >= 13 ? -1 : 1);
        if (x->rank != 1 || (axis != 1 && axis != -1))
            return ox_node_fail(c, n, LC_ERR_UNSUPPORTED,
                                "axis %lld on a rank-%d tensor; lincomp supports it over the "
                                "features of [N, d]", (long long)axis, x->rank + 1);
    }
    return put_act(c, n, x, act, NULL);
}

lc_status ox_op_prelu(ox_imp *c, const Onnx__NodeProto *n)
{
    ox_val *x;
    const ox_tensor *k;
    lc_status st = ox_sym_in(c, n, 0, &x);
    if (st || (st = ox_const_in(c, n, 1, 1, &k))) return st;
    size_t w = ox_width(x);
    double *slope = malloc(w * sizeof(double));
    if (!slope) return ox_node_fail(c, n, LC_ERR_NOMEM, "out of memory");
    if (!ox_broadcast(k, x->rank, x->dims, w, slope)) {
        char b1[160], b2[160];
        free(slope);
        return ox_node_fail(c, n, LC_ERR_FORMAT, "slope '%s' of shape %s does not fit shape %s",
                            n->input[1], ox_dims_str(k->dims, k->rank, b1, sizeof b1),
                            ox_dims_str(x->dims, x->rank, b2, sizeof b2));
    }
    lc_act act = {LC_ACT_PRELU, 0, 0, 0};
    return put_act(c, n, x, act, slope);
}

/* Clip: bounds as attributes before opset 11, as optional inputs after. */
lc_status ox_op_clip(ox_imp *c, const Onnx__NodeProto *n)
{
    ox_val *x;
    lc_status st = ox_sym_in(c, n, 0, &x);
    if (st) return st;
    double lo = ox_attr_float(n, "min", -INFINITY), hi = ox_attr_float(n, "max", INFINITY);
    if ((st = ox_scalar_in(c, n, 1, &lo)) || (st = ox_scalar_in(c, n, 2, &hi))) return st;
    if (!(lo <= hi))
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED, "min %g is above max %g", lo, hi);
    lc_act act = {LC_ACT_CLIP, 0, (float)lo, (float)hi};
    if (lo == 0 && hi == INFINITY) act.kind = LC_ACT_RELU; /* clamp(min=0) */
    return put_act(c, n, x, act, NULL);
}

/* Max or Min of a computed value and one constant number, in either order
 * (PyTorch exports torch.max(h, torch.tensor(0.0)) as Max): a clip with one
 * bound, and Max(h, 0) a ReLU. */
lc_status ox_op_minmax(ox_imp *c, const Onnx__NodeProto *n, int is_max)
{
    const char *op = is_max ? "Max" : "Min";
    ox_val *a, *b, *x;
    if (n->n_input != 2)
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED, "%s of %zu inputs; lincomp reads %s of a "
                            "computed value and one constant number", op, n->n_input, op);
    lc_status st = ox_get_in(c, n, 0, 1, &a);
    if (st || (st = ox_get_in(c, n, 1, 1, &b))) return st;
    if (a->kind == OX_SYM && b->kind == OX_SYM)
        return ox_node_fail(c, n, LC_ERR_UNSUPPORTED, "%s of two computed values; lincomp reads %s "
                            "of a computed value and one constant number", op, op);
    size_t xi = a->kind == OX_SYM ? 0 : 1;
    double v = NAN;
    if ((st = ox_sym_in(c, n, xi, &x)) || (st = ox_scalar_in(c, n, 1 - xi, &v))) return st;
    if (isnan(v)) return ox_node_fail(c, n, LC_ERR_NUMERIC, "%s with NaN", op);
    lc_act act = {LC_ACT_CLIP, 0, is_max ? (float)v : -INFINITY, is_max ? INFINITY : (float)v};
    if (is_max && v == 0) act.kind = LC_ACT_RELU;
    return put_act(c, n, x, act, NULL);
}
