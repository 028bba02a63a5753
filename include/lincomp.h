/*
 * lincomp.h - linearity-based compression of feed-forward ReLU networks.
 *
 * The one public header of liblincomp. A model is a graph of dense nodes
 * (lc_graph): node 0 is the input, node k >= 1 computes
 *
 *     z_k = sum_j W_kj h_j + b_k,    h_k = act_k(z_k)
 *
 * over incoming edges from any earlier nodes j. The last node is the output.
 * Weights are float32, (out, in) row-major, as PyTorch's nn.Linear stores them.
 *
 * Conventions
 *  - Every function that can fail returns an lc_status and, when `err` is not
 *    NULL, writes a one-line message into it that a caller can print as is.
 *    The library never prints and never exits.
 *  - Every object returned through an `out` pointer is owned by the caller and
 *    released with the matching *_free function (which accepts NULL).
 *  - Pointers returned by accessors are borrowed: they stay valid while the
 *    object lives and must not be freed.
 *  - No hidden global state, except OpenBLAS's own thread count, which only
 *    lc_set_threads() changes.
 */
#ifndef LINCOMP_H
#define LINCOMP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define LC_API __attribute__((visibility("default")))
#else
#define LC_API
#endif

#define LC_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */

typedef enum lc_status {
    LC_OK = 0,
    LC_ERR_IO,          /* a file could not be opened, read or written */
    LC_ERR_FORMAT,      /* a file is malformed */
    LC_ERR_UNSUPPORTED, /* valid input that lincomp does not handle */
    LC_ERR_INVALID,     /* a bad argument (out of range, inconsistent) */
    LC_ERR_SHAPE,       /* dimensions do not match */
    LC_ERR_NOMEM,       /* an allocation failed or a size is beyond the caps */
    LC_ERR_NUMERIC      /* NaN or infinity where a finite number is needed */
} lc_status;

typedef struct lc_error {
    lc_status code;
    char msg[512];
} lc_error;

/* A short English name of a status code ("format error", ...). Static. */
LC_API const char *lc_status_str(lc_status s);

/* Sets the number of BLAS threads (n >= 1). The only process-wide setting. */
LC_API void lc_set_threads(int n);

/* ----------------------------------------------------------------- graph */

typedef enum lc_act_kind {
    LC_ACT_IDENTITY = 0,
    LC_ACT_RELU,
    LC_ACT_LEAKY_RELU,  /* alpha */
    LC_ACT_PRELU,       /* one slope per neuron, lc_graph_slope() */
    LC_ACT_CLIP,        /* lo, hi; ReLU6 is clip(0, 6) */
    /* output activations: only on the last node */
    LC_ACT_SOFTMAX,
    LC_ACT_LOG_SOFTMAX,
    LC_ACT_SIGMOID
} lc_act_kind;

typedef struct lc_act {
    lc_act_kind kind;
    float alpha;  /* LEAKY_RELU slope for z < 0 */
    float lo, hi; /* CLIP bounds */
} lc_act;

/* Description of one node for lc_graph_create(). Node 0 is the input: only
 * `width` (and `name`) are used. */
typedef struct lc_node_spec {
    const char *name;  /* copied; NULL gives "node<k>" */
    int width;
    lc_act act;
    int n_in;          /* number of incoming edges */
    const int *src;    /* n_in producer indices, each < this node's index */
} lc_node_spec;

typedef struct lc_graph lc_graph;
typedef struct lc_preproc lc_preproc;

/* Creates a graph of n_nodes nodes (n_nodes >= 2) with all weights, biases
 * and PReLU slopes zero, carved from one allocation. Errors: LC_ERR_INVALID
 * for a bad spec (source not earlier, duplicate source, width < 1, output
 * activation on a hidden node), LC_ERR_NOMEM. */
LC_API lc_status lc_graph_create(int n_nodes, const lc_node_spec *spec,
                                 lc_graph **out, lc_error *err);
LC_API void lc_graph_free(lc_graph *g);
/* Deep copy (weights, names, preprocessing). */
LC_API lc_status lc_graph_clone(const lc_graph *g, lc_graph **out, lc_error *err);

LC_API int lc_graph_nodes(const lc_graph *g);            /* including input */
LC_API int lc_graph_input_width(const lc_graph *g);
LC_API int lc_graph_output_width(const lc_graph *g);
LC_API int lc_graph_width(const lc_graph *g, int k);
LC_API const char *lc_graph_name(const lc_graph *g, int k);
LC_API lc_act lc_graph_act(const lc_graph *g, int k);
LC_API int lc_graph_n_in(const lc_graph *g, int k);
LC_API int lc_graph_src(const lc_graph *g, int k, int e);  /* producer of edge e */
/* Edge e of node k: (width_k, width_src) row-major. Borrowed, writable. */
LC_API float *lc_graph_weight(lc_graph *g, int k, int e);
/* Index of the edge of node k from producer j, or -1. */
LC_API int lc_graph_find_edge(const lc_graph *g, int k, int j);
LC_API float *lc_graph_bias(lc_graph *g, int k);   /* width_k */
LC_API float *lc_graph_slope(lc_graph *g, int k);  /* width_k, PRELU only, else NULL */

/* Parameters: all weight entries plus all biases (PReLU slopes included).
 * FLOPs per sample: 2 x weight entries. */
LC_API size_t lc_graph_params(const lc_graph *g);
LC_API size_t lc_graph_flops(const lc_graph *g);
/* Number of consumers (outgoing edges) of node k. */
LC_API int lc_graph_n_out(const lc_graph *g, int k);

/* The preprocessing stored with the model, or NULL. Borrowed. */
LC_API const lc_preproc *lc_graph_preproc(const lc_graph *g);
/* Replaces the stored preprocessing; takes ownership of p (may be NULL). */
LC_API void lc_graph_set_preproc(lc_graph *g, lc_preproc *p);

/* Checks every weight, bias and slope for NaN or infinity. LC_ERR_NUMERIC
 * names the node and index. */
LC_API lc_status lc_graph_check_finite(const lc_graph *g, lc_error *err);

/* ------------------------------------------------------------- inference */

/* Forward pass of n samples x (n, input_width) into out (n, output_width),
 * processed in batches: one SGEMM per edge, then the activation. */
LC_API lc_status lc_forward(const lc_graph *g, const float *x, size_t n,
                            float *out, lc_error *err);
/* Plain-loop reference of lc_forward, in double accumulation. For tests. */
LC_API lc_status lc_forward_ref(const lc_graph *g, const float *x, size_t n,
                                float *out, lc_error *err);

/* ------------------------------------------------------------------ data */

typedef struct lc_data lc_data;

typedef struct lc_load_opts {
    const char *label;        /* CSV label column name; NULL: the last one */
    const char *labels_path;  /* NPY labels file for an NPY data file */
    const lc_preproc *pre;    /* apply this preprocessing (CSV); NULL: raw */
    int input_width;          /* model's input width, 0 if unknown: a CSV with
                                 exactly this many columns is unlabelled */
    int fit;                  /* fit a new preprocessing on this CSV */
} lc_load_opts;

/* Loads CSV (by content), IDX (magic, gzip or plain) or NPY (magic).
 * With opts->fit the fitted preprocessing is kept in the data set
 * (lc_data_preproc). Errors name the file and the place. */
LC_API lc_status lc_data_load(const char *path, const lc_load_opts *opts,
                              lc_data **out, lc_error *err);
LC_API void lc_data_free(lc_data *d);
LC_API size_t lc_data_rows(const lc_data *d);
LC_API int lc_data_cols(const lc_data *d);
LC_API const float *lc_data_x(const lc_data *d);     /* (rows, cols) */
LC_API const int32_t *lc_data_y(const lc_data *d);   /* rows, or NULL */
LC_API int lc_data_classes(const lc_data *d);        /* 0 when unlabelled */
/* Name of class c (from string labels), or NULL. Borrowed. */
LC_API const char *lc_data_class_name(const lc_data *d, int c);
/* The preprocessing fitted with opts->fit, or NULL. Borrowed. */
LC_API const lc_preproc *lc_data_preproc(const lc_data *d);
/* Creates a data set from caller arrays (copied); y may be NULL. */
LC_API lc_status lc_data_from_arrays(size_t rows, int cols, const float *x,
                                     const int32_t *y, int n_classes,
                                     lc_data **out, lc_error *err);
/* Rows idx[0..n) of d as a new data set. */
LC_API lc_status lc_data_subset(const lc_data *d, const size_t *idx, size_t n,
                                lc_data **out, lc_error *err);

/* ---------------------------------------------------------- preprocessing */

/* Serialises to / parses from the JSON stored in ONNX metadata_props
 * (key "lincomp.preprocessing"). *json is malloc'd, free() it. */
LC_API lc_status lc_preproc_to_json(const lc_preproc *p, char **json, lc_error *err);
LC_API lc_status lc_preproc_from_json(const char *json, size_t len,
                                      lc_preproc **out, lc_error *err);
LC_API lc_status lc_preproc_clone(const lc_preproc *p, lc_preproc **out, lc_error *err);
LC_API void lc_preproc_free(lc_preproc *p);
/* Width of the feature vector the preprocessing produces. */
LC_API int lc_preproc_width(const lc_preproc *p);
/* Number of classes and name of class c (borrowed), from the spec. */
LC_API int lc_preproc_classes(const lc_preproc *p);
LC_API const char *lc_preproc_class_name(const lc_preproc *p, int c);

/* ------------------------------------------------------------------ ONNX */

/* Imports an ONNX model (see docs/onnx.md for the operators). BatchNorm is
 * folded into the adjacent dense layer; unsupported operators are refused
 * with the node's name, op type and the reason (LC_ERR_UNSUPPORTED). */
LC_API lc_status lc_onnx_load(const char *path, lc_graph **out, lc_error *err);
LC_API lc_status lc_onnx_load_mem(const void *buf, size_t len, const char *what,
                                  lc_graph **out, lc_error *err);
/* Writes opset 13, IR 7: one Gemm per edge, Sum joining edges, the
 * activation nodes, preprocessing in metadata_props. The file is written to a
 * temporary file beside `path` and renamed. */
LC_API lc_status lc_onnx_save(const lc_graph *g, const char *path, lc_error *err);

/* ------------------------------------------------------------------ files */

/* Writes len bytes to path through a temporary file in the same folder and a
 * rename, so that a failure never leaves a partial file and never clobbers
 * an existing one. LC_ERR_IO names the path and the system's reason. */
LC_API lc_status lc_write_file(const char *path, const void *buf, size_t len, lc_error *err);

/* ------------------------------------------------------------ evaluation */

typedef struct lc_eval_result {
    size_t samples;
    double accuracy;  /* share of argmax == label */
    double loss;      /* mean cross-entropy of the softmax of the outputs
                         (of the probabilities when the output is softmax,
                         sigmoid for one output unit) */
} lc_eval_result;

/* Needs labels. LC_ERR_SHAPE when widths differ. */
LC_API lc_status lc_evaluate(const lc_graph *g, const lc_data *d,
                             lc_eval_result *res, lc_error *err);

#ifdef __cplusplus
}
#endif
#endif /* LINCOMP_H */
