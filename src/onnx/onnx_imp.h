/* onnx_imp.h - internals of the ONNX module shared by its sources:
 * reference-counted arrays, affine values, tensor decoding and attributes.
 *
 * The importer evaluates an ONNX graph symbolically. Every float value that
 * depends on the input is an *affine value*
 *
 *     v = sum_j A_j h_j + c
 *
 * over the activations h_j of lc_graph nodes built so far (node 0 = input).
 * Each A_j is the identity, a diagonal or a dense (width_v, width_j) matrix.
 * Dense layers, BatchNorm and arithmetic with constants compose into this
 * form; an activation turns it into a new node. Numbers are kept in double
 * and rounded to float once, when the lc_graph is filled, so a model that
 * lincomp wrote comes back bit for bit. */
#ifndef LC_ONNX_IMP_H
#define LC_ONNX_IMP_H

#include "core/internal.h"
#include "onnx.pb-c.h"

#define OX_MAX_RANK 8
#define OX_MAX_FILE ((size_t)2 << 30) /* protobuf cannot describe more */

/* ------------------------------------------------ reference-counted arrays */

typedef struct ox_blob {
    int refs;
    size_t n;
    double v[];
} ox_blob;

ox_blob *ox_blob_new(size_t n);  /* zeroed, refs = 1; NULL when out of memory */
ox_blob *ox_blob_ref(ox_blob *b);  /* accepts NULL */
void ox_blob_unref(ox_blob *b);    /* accepts NULL */

/* ------------------------------------------------------------ affine values */

enum ox_term_kind { OX_IDENT, OX_DIAG, OX_DENSE };

typedef struct ox_term {
    int src;     /* builder node index */
    int kind;    /* enum ox_term_kind */
    ox_blob *m;  /* NULL (IDENT), width (DIAG), width x width_src (DENSE) */
    int sel;     /* DENSE with at most one nonzero per row, made by Concat of
                    identity or diagonal terms: a selection (ox_aff_is_diag) */
} ox_term;

typedef struct ox_aff {
    int refs;
    int n;          /* width of the value */
    int n_terms;
    ox_term *t;     /* at most one term per source */
    ox_blob *c;     /* constant part (n), NULL = zero */
} ox_aff;

void ox_aff_unref(ox_aff *a);
ox_aff *ox_aff_ref(ox_aff *a);
/* h_k itself: one identity term. */
ox_aff *ox_aff_node(int k, int n);
/* diag(s) a: s has a->n entries. */
ox_aff *ox_aff_scale(const ox_aff *a, const double *s);
/* a + b for a constant vector b (a->n entries). */
ox_aff *ox_aff_shift(const ox_aff *a, const double *b);
/* a + sb * b, both of width n. */
ox_aff *ox_aff_sum(const ox_aff *a, const ox_aff *b, double sb);
/* True when every term is the identity, diagonal or a selection (a dense
 * term with at most one nonzero per row, as Concat makes), so a dense layer
 * on top can be composed instead of becoming a new node. */
int ox_aff_is_diag(const ox_aff *a);
/* The values parts[0..k) joined along the features (Concat on axis 1):
 * one dense term per source, rows taken from each part in turn. */
ox_aff *ox_aff_concat(ox_aff *const *parts, int k);
/* alpha W a + c for W (m, a->n) row-major and c (m) or NULL; `a` must pass
 * ox_aff_is_diag. With alpha = 1 and an identity term, W is shared as is. */
ox_aff *ox_aff_dense(const ox_aff *a, ox_blob *w, int m, double alpha, ox_blob *c);
/* Writes term t of width n as a dense (n, w_src) float matrix. */
void ox_term_to_float(const ox_term *t, int n, int w_src, float *out);

/* --------------------------------------------------------- tensors, attrs */

typedef struct ox_tensor {
    int rank;
    int64_t dims[OX_MAX_RANK];
    size_t n;    /* product of dims */
    double *v;   /* n values, malloc'd */
    int is_int;  /* integer data type */
} ox_tensor;

/* Decodes float, double, int64, int32 and bool tensors from raw_data
 * (little-endian) or the typed fields, checking the length against the
 * shape. `what` names the file in messages. */
lc_status ox_tensor_decode(const Onnx__TensorProto *t, const char *what, ox_tensor *out,
                           lc_error *err);
void ox_tensor_free(ox_tensor *t);

const Onnx__AttributeProto *ox_attr(const Onnx__NodeProto *n, const char *name);
int64_t ox_attr_int(const Onnx__NodeProto *n, const char *name, int64_t def);
double ox_attr_float(const Onnx__NodeProto *n, const char *name, double def);

/* Spreads constant c over the features of a value whose per-sample shape is
 * dims[0..rank) (numpy broadcasting, batch dimension in front, which c must
 * have as 1). out gets `width` entries. False when the shapes do not
 * broadcast. */
int ox_broadcast(const ox_tensor *c, int rank, const int64_t *dims, size_t width, double *out);

/* Formats "[d0, d1, ...]" into buf. */
const char *ox_dims_str(const int64_t *dims, int rank, char *buf, size_t len);
/* Formats an ONNX element type's name ("int64", "double (float64)") into buf. */
const char *ox_type_str(int32_t type, char *buf, size_t len);

/* Host byte order, for raw_data. */
int ox_little_endian(void);

/* ------------------------------------------------------ importer context */

/* A node of the lc_graph under construction. */
typedef struct ox_node {
    char *name;
    int width;
    lc_act act;
    double *slope;  /* PRELU: width entries */
    int n_in;
    ox_term *in;    /* incoming edges, sharing the matrices */
    ox_blob *bias;  /* NULL = zero */
    const char *op; /* ONNX operator that made it, for messages */
} ox_node;

enum ox_val_kind {
    OX_SYM,   /* an affine value of the model input */
    OX_CONST, /* a constant tensor */
    OX_SHAPE, /* computed from shapes: only for Reshape's shape input */
    OX_NONE   /* an output lincomp does not model (Dropout's mask) */
};

/* An ONNX value (a name in the graph). */
typedef struct ox_val {
    const char *name;  /* borrowed from the model */
    int kind;
    /* OX_SYM */
    ox_aff *a;
    int rank;                    /* per-sample shape, batch excluded */
    int64_t dims[OX_MAX_RANK];
    const char *label;           /* name of the dense layer it came from */
    const Onnx__NodeProto *final; /* the Softmax/LogSoftmax/Sigmoid that made it */
    int mat;                     /* node it was materialised into, 0 = none */
    /* OX_CONST */
    const Onnx__TensorProto *tp; /* decoded on first use into t */
    ox_tensor t;
    int decoded;
    int held;                    /* counted in ox_imp.held (ox_hold) */
} ox_val;

typedef struct ox_imp {
    const char *what;  /* file name for messages */
    lc_error *err;
    int opset;
    ox_val *v;
    size_t n_v, cap_v;
    size_t *hash;      /* value index + 1, 0 = empty; open addressing */
    size_t hcap;
    ox_node *nodes;
    int n_nodes, cap_nodes;
    /* values of the weight matrices of the file's dense layers, each once
     * (ox_hold): lincomp's edges beyond them are copies (lc_graph copies) */
    size_t held;
    /* the file's interface (lc_graph out_name, in_rank, in_dims) */
    const char *out_name;
    int in_rank;
    int64_t in_dims[OX_MAX_RANK];
} ox_imp;

ox_val *ox_lookup(ox_imp *c, const char *name);
/* Defines a new (zeroed) value; a format error for a duplicate name.
 * n is the defining node (NULL for initializers and the input). */
lc_status ox_define(ox_imp *c, const Onnx__NodeProto *n, const char *name, ox_val **out);
/* Fails with "FILE: node 'NAME' (OP): message". */
lc_status ox_node_fail(ox_imp *c, const Onnx__NodeProto *n, lc_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Counts constant input i of n, a dense layer's weight matrix, among the
 * weights the file holds, once per value: a matrix used twice (a layer
 * applied twice, or a residual sum read as one copy per summand) is held
 * once. Biases, slopes and BatchNorm's statistics are not counted here:
 * lincomp's graph has a bias and slopes per node as the file has, and
 * BatchNorm folds into the weights. */
void ox_hold(ox_imp *c, const Onnx__NodeProto *n, size_t i);
/* Constant data of a value, decoded on first use. */
lc_status ox_const(ox_imp *c, ox_val *v, const ox_tensor **t);
/* Appends a node computing act(x) (slope is taken over); *k gets its index. */
lc_status ox_add_node(ox_imp *c, const Onnx__NodeProto *n, const ox_val *x, lc_act act,
                      double *slope, const char *name, int *k);
/* Runs one ONNX node (onnx_ops.c). */
lc_status ox_run_node(ox_imp *c, const Onnx__NodeProto *n);

/* Operator helpers (onnx_ops.c). Inputs: ox_get_in gives NULL for an absent
 * optional input; ox_sym_in insists on an affine value, ox_const_in on a
 * constant (decoded), ox_scalar_in on a one-element constant. */
const char *ox_kind_desc(int kind);
const char *ox_node_label(const Onnx__NodeProto *n);
lc_status ox_get_in(ox_imp *c, const Onnx__NodeProto *n, size_t i, int required, ox_val **out);
lc_status ox_sym_in(ox_imp *c, const Onnx__NodeProto *n, size_t i, ox_val **out);
lc_status ox_const_in(ox_imp *c, const Onnx__NodeProto *n, size_t i, int required,
                      const ox_tensor **t);
lc_status ox_scalar_in(ox_imp *c, const Onnx__NodeProto *n, size_t i, double *x);
/* Output 0 := a (reference taken over, NULL = out of memory); other outputs
 * are defined as not modelled. *outv may be NULL. */
lc_status ox_put_sym(ox_imp *c, const Onnx__NodeProto *n, ox_aff *a, int rank,
                     const int64_t *dims, const char *label, ox_val **outv);
/* Every output := kind (shape bookkeeping). */
lc_status ox_put_all(ox_imp *c, const Onnx__NodeProto *n, int kind);
/* Output 0 := input 0 (Identity, Dropout, Cast to float). */
lc_status ox_alias(ox_imp *c, const Onnx__NodeProto *n);
static inline size_t ox_width(const ox_val *x) { return (size_t)x->a->n; }

/* Computing operators (onnx_layers.c). */
lc_status ox_op_gemm(ox_imp *c, const Onnx__NodeProto *n, int matmul);
lc_status ox_op_batchnorm(ox_imp *c, const Onnx__NodeProto *n);
lc_status ox_op_arith(ox_imp *c, const Onnx__NodeProto *n, char op); /* + - * / */
lc_status ox_op_sum(ox_imp *c, const Onnx__NodeProto *n);
lc_status ox_op_neg(ox_imp *c, const Onnx__NodeProto *n);
lc_status ox_op_act(ox_imp *c, const Onnx__NodeProto *n, lc_act_kind kind);
lc_status ox_op_prelu(ox_imp *c, const Onnx__NodeProto *n);
lc_status ox_op_clip(ox_imp *c, const Onnx__NodeProto *n);
/* Concat of computed values along the features. */
lc_status ox_op_concat(ox_imp *c, const Onnx__NodeProto *n);
/* Max (is_max) or Min of a computed value and one constant number. */
lc_status ox_op_minmax(ox_imp *c, const Onnx__NodeProto *n, int is_max);

#endif
