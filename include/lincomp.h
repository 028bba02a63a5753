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
 *  - Sizes are checked against the library's caps (2^24 neurons per node or
 *    features per row, 2^31 floats per model or data set) before anything
 *    is allocated; beyond them a function fails (LC_ERR_NOMEM).
 *
 * Contents: one part per folder of src/ (docs/architecture.md), in the
 * order of their dependencies; each part uses only the parts above it (the
 * opaque types lc_preproc and lc_data are named in core, where the graph and
 * lc_evaluate first need them, and described under data).
 *   util      src/util/      errors      status codes, the error record, threads
 *                            files       atomic file writing
 *   core      src/core/      graph       building and inspecting a model
 *                            inference   the forward pass
 *                            evaluation  accuracy and loss on labelled data
 *   data      src/data/      data        loading CSV / IDX / NPY samples, labels
 *                            preprocessing  the feature spec a model stores
 *   onnx      src/onnx/      ONNX        reading and writing models
 *   compress  src/compress/  linearity analysis  statistics per neuron
 *                            plans       which neuron is folded to which piece
 *                            fold        the cost model and lc_fold
 *                            policy      which neurons to fold (tau, layer
 *                                        threshold, per-node thresholds)
 *                            fast evaluation  accuracy of many plans at once
 *                            budgets     size and accuracy budget searches
 *   prove     src/prove/     proofs      sound bounds that prove neurons linear
 *                                        on an input box
 *   train     src/train/     training    MLP creation, training and gradients
 *                            fine-tuning  training a compressed graph
 *                            pruning     importance pruning (the baseline)
 *                            induced linearity  training neurons to become
 *                                        linear, then folding
 *   export    src/export/    C export    a model as dependency-free C source
 *   pipeline  src/pipeline/  progress, compress, analyze: the commands as
 *                                        one call each, with their reports
 * A program typically needs errors, graph, data, ONNX and the linearity
 * analysis (examples/compress_example.c is a complete one).
 *
 * Build against the installed library with
 *     cc prog.c $(pkg-config --cflags --libs lincomp)
 * (pkg-config --static --libs for liblincomp.a).
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

/* ===================================================== util (src/util/) */

/* ---------------------------------------------------------------- errors */

/* The result of every function that can fail. LC_OK is 0, so `if (st)`
 * tests for failure; the values are stable across versions. */
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

/* Filled by a failing function when its `err` argument is not NULL: code is
 * the returned status and msg one NUL-terminated line without a newline,
 * naming the file and the place (node, line, column, row, byte offset) and
 * what was expected, e.g. "data.csv: line 7, column 'age': expected a
 * number, found 'abc'". A successful call leaves *err untouched. The caller
 * owns the struct (usually on the stack); nothing in it needs freeing. */
typedef struct lc_error {
    lc_status code;
    char msg[512];
} lc_error;

/* A short English name of a status code ("format error", ...); "unknown
 * error" for a value outside the enum. Static storage, never NULL. */
LC_API const char *lc_status_str(lc_status s);

/* Sets the number of threads OpenBLAS uses for every later call in the
 * process (its default comes from OPENBLAS_NUM_THREADS or the CPU count);
 * n < 1 is ignored. The only process-wide setting: do not call it while
 * another thread is inside the library. */
LC_API void lc_set_threads(int n);

/* ------------------------------------------------------------------ files */

/* Writes len bytes to path through a temporary file in the same folder and a
 * rename, so that a failure never leaves a partial file and never clobbers
 * an existing one. The file gets mode 0644. Errors: LC_ERR_IO naming the path
 * and the system's reason (folder missing or not writable, disk full),
 * LC_ERR_NOMEM. */
LC_API lc_status lc_write_file(const char *path, const void *buf, size_t len, lc_error *err);
/* The version of the library that is running (LC_VERSION when it was
 * built), for bindings that load it at run time. Static storage. */
LC_API const char *lc_version(void);

/* Frees memory the library returned for the caller to free (lc_onnx_save_mem,
 * lc_preproc_to_json, lc_compress, lc_analyze); for bindings that cannot call the C library's free.
 * NULL is a no-op. */
LC_API void lc_free(void *p);

/* ===================================================== core (src/core/) */

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

/* Lower-case name of an activation kind ("relu", "leaky_relu", ...); "?" for
 * a value outside the enum. Static storage. */
LC_API const char *lc_act_name(lc_act_kind k);

/* Description of one node for lc_graph_create(). Node 0 is the input: only
 * `width` (and `name`) are used. */
typedef struct lc_node_spec {
    const char *name;  /* copied; NULL gives "input" / "node<k>" */
    int width;
    lc_act act;
    int n_in;          /* number of incoming edges */
    const int *src;    /* n_in producer indices, each < this node's index */
} lc_node_spec;

typedef struct lc_graph lc_graph;
typedef struct lc_preproc lc_preproc;

/* Creates a graph of n_nodes nodes (2 to 4096) from spec[0 .. n_nodes) with
 * all weights, biases and PReLU slopes zero, carved from one allocation;
 * fill them in through lc_graph_weight / _bias / _slope. Names are copied,
 * spec is not referenced afterwards. Edges keep the order of spec[k].src.
 * *out is owned by the caller (lc_graph_free); NULL on error.
 * Errors: LC_ERR_INVALID for a bad spec, naming the node: node count out of
 * range, width < 1 or above the cap, an unknown activation, an output
 * activation on a hidden node, a Clip with lo > hi, no incoming edge, a
 * source that is not an earlier node, two edges from one source;
 * LC_ERR_NOMEM when the weights exceed 2^31 floats or memory runs out. */
LC_API lc_status lc_graph_create(int n_nodes, const lc_node_spec *spec,
                                 lc_graph **out, lc_error *err);
/* Frees g with its weights, names and stored preprocessing. NULL is a no-op. */
LC_API void lc_graph_free(lc_graph *g);
/* Deep copy of g: weights, names, edges in order, preprocessing. *out is
 * owned by the caller; NULL on error. Errors: LC_ERR_NOMEM. */
LC_API lc_status lc_graph_clone(const lc_graph *g, lc_graph **out, lc_error *err);

/* Accessors. k is a node index in [0, lc_graph_nodes(g)) and e an edge index
 * in [0, lc_graph_n_in(g, k)); neither is checked. Node 0 (the input) has
 * no edges, no bias, and the identity activation. */
LC_API int lc_graph_nodes(const lc_graph *g);            /* including input */
LC_API int lc_graph_input_width(const lc_graph *g);
LC_API int lc_graph_output_width(const lc_graph *g);
/* Classes the model tells apart: the output width, or 2 for a single output
 * (a binary model: logit or sigmoid). */
LC_API int lc_graph_classes(const lc_graph *g);
LC_API int lc_graph_width(const lc_graph *g, int k);
/* Name of node k (the ONNX layer it came from, or "input"/"node<k>").
 * Borrowed. */
LC_API const char *lc_graph_name(const lc_graph *g, int k);
LC_API lc_act lc_graph_act(const lc_graph *g, int k);
LC_API int lc_graph_n_in(const lc_graph *g, int k);
LC_API int lc_graph_src(const lc_graph *g, int k, int e);  /* producer of edge e */
/* Edge e of node k: (width_k, width_src) row-major. Borrowed, writable. */
LC_API float *lc_graph_weight(lc_graph *g, int k, int e);
/* Index of the edge of node k from producer j, or -1. */
LC_API int lc_graph_find_edge(const lc_graph *g, int k, int j);
/* Bias of node k (width_k floats; NULL for the input node) and PReLU slopes
 * (width_k floats, only for LC_ACT_PRELU, else NULL). Borrowed, writable. */
LC_API float *lc_graph_bias(lc_graph *g, int k);
LC_API float *lc_graph_slope(lc_graph *g, int k);

/* Parameters: all weight entries plus all biases (PReLU slopes included).
 * FLOPs per sample: 2 x weight entries. */
LC_API size_t lc_graph_params(const lc_graph *g);
/* The parameters a model file holds, each weight counted once: for a graph
 * read from ONNX, those of the file read (lc_graph_params less the copies
 * the import made: a residual addition that feeds a dense layer, h +
 * relu(W h) then a Linear, becomes one edge per summand, each a copy of the
 * layer's weights, since edges are dense matrices; so do weights tied
 * between layers); for any graph, at most what lc_onnx_save writes, which
 * gives the edges of a node with bit-identical matrices one Gemm on the Sum
 * of their sources. Budgets (target sizes) and reports count this. Equal
 * to lc_graph_params for graphs without such copies. */
LC_API size_t lc_graph_file_params(const lc_graph *g);
LC_API size_t lc_graph_flops(const lc_graph *g);
/* Number of consumers (outgoing edges) of node k. */
LC_API int lc_graph_n_out(const lc_graph *g, int k);

/* The preprocessing stored with the model, or NULL. Borrowed. */
LC_API const lc_preproc *lc_graph_preproc(const lc_graph *g);
/* Replaces the stored preprocessing, freeing the previous one; takes
 * ownership of p (may be NULL to drop it). */
LC_API void lc_graph_set_preproc(lc_graph *g, lc_preproc *p);

/* Checks every weight, bias and slope for NaN or infinity. Returns LC_OK,
 * or LC_ERR_NUMERIC naming the first bad value's node, index and value. */
LC_API lc_status lc_graph_check_finite(const lc_graph *g, lc_error *err);

/* ------------------------------------------------------------- inference */

/* Forward pass of n samples: x holds (n, input_width) floats row-major, out
 * receives (n, output_width) floats (caller-allocated; not checked), the
 * output activation applied (softmax, log_softmax, sigmoid or none).
 * Processed in batches of up to 1024 rows: one SGEMM per edge, then the
 * activation. NaN inputs give NaN outputs. n = 0 does nothing. g is only
 * read; the scratch memory is allocated per call.
 * Errors: LC_ERR_NOMEM (the batch buffers). */
LC_API lc_status lc_forward(const lc_graph *g, const float *x, size_t n,
                            float *out, lc_error *err);
/* Plain-loop reference of lc_forward: per sample and neuron, double
 * accumulation, no BLAS. Same arguments; for tests and checks. Errors:
 * LC_ERR_NOMEM. */
LC_API lc_status lc_forward_ref(const lc_graph *g, const float *x, size_t n,
                                float *out, lc_error *err);

/* ------------------------------------------------------------ evaluation */

/* A data set: rows x cols float features (row-major) and optional int32
 * class labels, with class names when the labels were strings. */
typedef struct lc_data lc_data;

/* What lc_evaluate measures; filled in by it (caller-owned). */
typedef struct lc_eval_result {
    size_t samples;
    double accuracy;  /* share of argmax == label */
    double loss;      /* mean cross-entropy of the softmax of the outputs
                         (of the probabilities when the output is softmax,
                         sigmoid for one output unit) */
} lc_eval_result;

/* Runs g over every row of d in batches and fills *res with the sample
 * count, accuracy and mean loss. A single
 * output unit is a binary classifier: class 1 when the logit is > 0 (the
 * probability > 0.5 with a sigmoid output). Errors: LC_ERR_INVALID (d has no
 * labels), LC_ERR_SHAPE (feature count differs from the input width, or a
 * label is not one of the model's classes, naming the sample),
 * LC_ERR_NOMEM. *res is not changed on error. */
LC_API lc_status lc_evaluate(const lc_graph *g, const lc_data *d,
                             lc_eval_result *res, lc_error *err);

/* How well g's predictions agree with d's labels under the best renaming
 * of its classes that a greedy matching of the confusion counts finds
 * (largest count first, one label per class): *matched is that agreement,
 * *accuracy (when not NULL) the plain one of lc_evaluate, and map[c] (when
 * map is not NULL; lc_graph_classes(g) entries) the label that class c is
 * matched to. *matched far above *accuracy says that d numbers its labels
 * in another order than g was trained with (text labels numbered in sorted
 * order, say, where training numbered them by first appearance). One pass
 * of g over d. Errors: those of lc_evaluate; LC_ERR_UNSUPPORTED beyond 4096
 * classes (the counts take classes^2 entries). */
LC_API lc_status lc_label_match(const lc_graph *g, const lc_data *d, int *map,
                                double *accuracy, double *matched, lc_error *err);

/* ===================================================== data (src/data/) */

/* ------------------------------------------------------------------ data */

/* Options of lc_data_load; zero-initialise and set what you need ({0} reads
 * a CSV's numeric columns as they are, the last column being the label). */
typedef struct lc_load_opts {
    const char *label;        /* CSV label column name; NULL: the last one */
    const char *labels_path;  /* labels file (NPY or IDX1) of NPY or IDX data */
    const lc_preproc *pre;    /* apply this preprocessing (CSV); NULL: raw */
    int input_width;          /* model's input width, 0 if unknown: a CSV with
                                 exactly this many columns is unlabelled
                                 (unless its last column holds text), and
                                 without opts->pre a CSV of another width is
                                 refused */
    int fit;                  /* fit a new preprocessing on this CSV */
    int classes;              /* the model's classes (lc_graph_classes), 0 if
                                 unknown: integer labels must be below it, and
                                 text labels numbered by sorting this file's
                                 distinct ones must be this many */
    const lc_data *labels_like; /* another data set of the same model (e.g. the
                                 training file for a validation file): CSV
                                 text labels are mapped through its class
                                 names when it has `classes` of them; NULL:
                                 none. Borrowed for the call only. */
} lc_load_opts;

/* Loads a data file, gunzipping it when it is gzip, and picks the format by
 * content: NPY (magic), IDX (two zero bytes; labels from the labels-idx1
 * file beside an images-idx3 file, or opts->labels_path; ubyte pixels scaled
 * to [0, 1]), else CSV with a header row (docs/formats.md). For a CSV the
 * features come from opts->pre (columns matched by name, one-hot, missing
 * numeric cells take the stored mean), from a spec fitted here (opts->fit,
 * kept in the data set: lc_data_preproc), or from the numeric columns as
 * they are. opts may be NULL (all zero). Labels that are all whole numbers
 * >= 0 ("3", "3.0") are class indices; other labels are class names, mapped
 * through opts->pre's classes, else opts->labels_like's, else the file's own
 * sorted distinct labels (docs/formats.md). The width is checked only for a
 * CSV without preprocessing and with opts->input_width: compare
 * lc_data_cols() with lc_graph_input_width().
 * *out is owned by the caller (lc_data_free); NULL on error.
 * Errors, each naming the file and the place (line and column, row, byte):
 * LC_ERR_IO (cannot open or read), LC_ERR_FORMAT (malformed CSV, IDX or NPY,
 * corrupt gzip, no data rows, a non-numeric cell without preprocessing, a
 * column the preprocessing needs is missing, a label unknown to opts->pre
 * or opts->labels_like, an empty label, a numeric label that is not whole),
 * LC_ERR_UNSUPPORTED (an NPY dtype, version or Fortran order lincomp does
 * not read), LC_ERR_NUMERIC (a NaN or infinite value), LC_ERR_SHAPE (a
 * labels file of another length or width; with opts->classes, a label
 * beyond them or a file of sorted text labels of another count; with
 * opts->input_width, a raw CSV of another width), LC_ERR_INVALID
 * (opts->fit together with opts->pre; opts->labels_path with a CSV),
 * LC_ERR_NOMEM (beyond the size caps, or out of memory). */
LC_API lc_status lc_data_load(const char *path, const lc_load_opts *opts,
                              lc_data **out, lc_error *err);
/* Frees d with its labels, class names and fitted preprocessing. NULL is a
 * no-op. */
LC_API void lc_data_free(lc_data *d);
/* Accessors; the arrays are borrowed and live as long as d. */
LC_API size_t lc_data_rows(const lc_data *d);
LC_API int lc_data_cols(const lc_data *d);
LC_API const float *lc_data_x(const lc_data *d);     /* (rows, cols) */
LC_API const int32_t *lc_data_y(const lc_data *d);   /* rows, or NULL */
/* Number of classes (largest integer label + 1, or the number of class
 * names: the distinct labels, the spec's or labels_like's); 0 when unlabelled. */
LC_API int lc_data_classes(const lc_data *d);
/* Name of class c (from string labels or the spec's classes), or NULL.
 * Borrowed. */
LC_API const char *lc_data_class_name(const lc_data *d, int c);
/* The preprocessing fitted with opts->fit, or NULL. Borrowed. */
LC_API const lc_preproc *lc_data_preproc(const lc_data *d);
/* Creates a data set from caller arrays, which are copied: x (rows, cols)
 * row-major, y (rows labels in [0, n_classes)) or NULL for unlabelled data
 * (n_classes is then ignored). *out is owned by the caller (lc_data_free).
 * Errors: LC_ERR_INVALID (x NULL; with y, n_classes < 1 or a label out of
 * range, naming the row), LC_ERR_NUMERIC (a NaN or infinite feature, naming
 * row and column), LC_ERR_FORMAT (rows == 0), LC_ERR_NOMEM (cols < 1 or
 * beyond the caps, out of memory). */
LC_API lc_status lc_data_from_arrays(size_t rows, int cols, const float *x,
                                     const int32_t *y, int n_classes,
                                     lc_data **out, lc_error *err);
/* Rows idx[0..n) of d (in that order, repeats allowed) as a new data set
 * with d's labels, class names and fitted preprocessing. *out is owned by
 * the caller. Errors: LC_ERR_INVALID (an index >= rows), LC_ERR_FORMAT
 * (n == 0), LC_ERR_NOMEM. */
LC_API lc_status lc_data_subset(const lc_data *d, const size_t *idx, size_t n,
                                lc_data **out, lc_error *err);

/* ---------------------------------------------------------- preprocessing */

/*
 * A preprocessing spec (lc_preproc) turns the columns of a CSV into a
 * model's input vector: numeric columns (missing cells take the mean,
 * optionally standardised) and categorical ones (one-hot over up to 20
 * categories plus "other"), and names the label column and the classes.
 * lincomp train fits one and stores it in the model; lc_data_load applies it.
 * The JSON form is described in docs/formats.md.
 */

/* Serialises p to the JSON stored in ONNX metadata_props (key
 * "lincomp.preprocessing"). *json is NUL-terminated and malloc'd: free() it.
 * Errors: LC_ERR_NOMEM. */
LC_API lc_status lc_preproc_to_json(const lc_preproc *p, char **json, lc_error *err);
/* Parses len bytes of that JSON (no NUL needed) strictly. *out is owned by
 * the caller (lc_preproc_free); NULL on error. Errors: LC_ERR_FORMAT naming
 * the byte offset of a syntax error, or the key and what was expected
 * (unknown or repeated keys, wrong types, an unsupported version, sd <= 0,
 * non-finite numbers, duplicate names, too many columns or categories),
 * LC_ERR_NOMEM. */
LC_API lc_status lc_preproc_from_json(const char *json, size_t len,
                                      lc_preproc **out, lc_error *err);
/* Deep copy; p NULL gives *out NULL and LC_OK. Errors: LC_ERR_NOMEM. */
LC_API lc_status lc_preproc_clone(const lc_preproc *p, lc_preproc **out, lc_error *err);
/* Frees p; NULL is a no-op. Never free a borrowed spec (lc_graph_preproc,
 * lc_data_preproc). */
LC_API void lc_preproc_free(lc_preproc *p);
/* Width of the feature vector the preprocessing produces: one per numeric
 * column, categories + 1 per categorical column. */
LC_API int lc_preproc_width(const lc_preproc *p);
/* Number of classes and name of class c (borrowed; NULL when c is out of
 * range), from the spec; 0 classes when the labels are integer indices. */
LC_API int lc_preproc_classes(const lc_preproc *p);
LC_API const char *lc_preproc_class_name(const lc_preproc *p, int c);

/* ===================================================== onnx (src/onnx/) */

/* ------------------------------------------------------------------ ONNX */

/* Imports an ONNX model (see docs/onnx.md for the operators): default-domain
 * opset 7 to 22, one float input [N, ...] and one output [N, d]. BatchNorm
 * is folded into the adjacent dense layer; the metadata entry
 * "lincomp.preprocessing" becomes the graph's preprocessing.
 * *out is owned by the caller (lc_graph_free); NULL on error.
 * Errors: LC_ERR_IO (cannot open or read path), LC_ERR_FORMAT (not an ONNX
 * model, malformed protobuf, a tensor whose data does not match its shape,
 * bad preprocessing metadata), LC_ERR_UNSUPPORTED (an operator, attribute,
 * opset or graph shape lincomp does not handle; the message names the node,
 * its op type and the reason), LC_ERR_NOMEM (a file over 2 GiB, a model
 * beyond the size caps, out of memory). */
LC_API lc_status lc_onnx_load(const char *path, lc_graph **out, lc_error *err);
/* As lc_onnx_load, from len bytes of a serialised model in memory (not
 * referenced afterwards); `what` names it in messages (NULL: "(memory)").
 * Errors: as lc_onnx_load without LC_ERR_IO; an empty buffer or one over
 * 2 GiB is LC_ERR_FORMAT. */
LC_API lc_status lc_onnx_load_mem(const void *buf, size_t len, const char *what,
                                  lc_graph **out, lc_error *err);
/* Writes g as ONNX, opset 13, IR 7: one Gemm per edge (each adding the
 * previous one's output), the activation nodes, preprocessing in
 * metadata_props. The file is written to a temporary file beside `path`
 * and renamed, so on error no file (and no partial file) is left and an
 * existing file is kept. Errors, prefixed with
 * path: LC_ERR_IO (cannot write), LC_ERR_UNSUPPORTED (more than ONNX's
 * 2 GiB), LC_ERR_NOMEM. */
LC_API lc_status lc_onnx_save(const lc_graph *g, const char *path, lc_error *err);
/* As lc_onnx_save, into a new buffer: *buf (free with lc_free) holds *len
 * bytes of the serialised model. On error *buf is NULL and *len 0.
 * Errors: LC_ERR_INVALID (buf or len NULL), LC_ERR_UNSUPPORTED, LC_ERR_NOMEM. */
LC_API lc_status lc_onnx_save_mem(const lc_graph *g, void **buf, size_t *len, lc_error *err);

/* ============================================= compress (src/compress/) */

/* ------------------------------------------------- linearity analysis */
/*
 * The paper's method, done exactly (DESIGN sections 3-5, docs/method.md):
 *   1. lc_stats_compute(): one batched pass over calibration data counts, for
 *      every hidden neuron, the samples in each linear piece of its activation.
 *   2. A plan (lc_plan) assigns each hidden neuron either "keep" or the piece
 *      it is folded to; lc_plan_from_stats() builds one from the statistics,
 *      a threshold tau and a layer threshold; callers may also build or edit
 *      plans by hand with lc_plan_set().
 *   3. lc_fold() applies a plan and returns a new, smaller graph. It is the
 *      only function in the library that changes a graph's structure.
 *
 * Pieces of each hidden activation, numbered from the left:
 *   identity            : 0 = everything (h = z)
 *   relu                : 0 = z <= 0 (h = 0),         1 = z > 0 (h = z)
 *   leaky_relu / prelu  : 0 = z <= 0 (h = alpha z),   1 = z > 0 (h = z)
 *   clip(lo, hi)        : 0 = z <= lo (h = lo), 1 = lo < z < hi (h = z),
 *                         2 = z >= hi (h = hi)
 * The "identity piece" is the one with h = z; the activation rate of a neuron
 * is the share of samples in it. A folded neuron computes h = s z + c with the
 * piece's slope s and offset c; s = 0 pieces are constants ("removed
 * constant"), the others are "folded linear" and need skip edges.
 */

/* Number of linear pieces of a hidden activation (1, 2 or 3); 0 for the
 * output activations softmax / log_softmax / sigmoid. */
LC_API int lc_act_pieces(lc_act_kind k);
/* Index of the piece with h = z (0 for identity, 1 otherwise); -1 for output
 * activations. */
LC_API int lc_act_identity_piece(lc_act_kind k);

typedef struct lc_stats lc_stats;

/* Runs g over x (n rows of `cols` floats, cols must equal the input width)
 * in batches, counting for every hidden node (1 .. nodes-2) and neuron the
 * samples per piece, and the min and max of the pre-activation z. A NaN z is
 * counted in no piece and ignored by min/max. Costs about one lc_forward.
 * *out is owned by the caller (lc_stats_free). Errors: LC_ERR_SHAPE when
 * cols differs from the input width, LC_ERR_NOMEM. n = 0 is allowed (all
 * counts zero). */
LC_API lc_status lc_stats_compute(const lc_graph *g, const float *x, size_t n, int cols,
                                  lc_stats **out, lc_error *err);
LC_API void lc_stats_free(lc_stats *s);
/* Samples seen (the n of lc_stats_compute). */
LC_API size_t lc_stats_samples(const lc_stats *s);
/* Node count of the graph the statistics were computed on. */
LC_API int lc_stats_nodes(const lc_stats *s);
/* Width of hidden node k; 0 for the input and the output node. */
LC_API int lc_stats_width(const lc_stats *s, int k);
/* Pieces of node k's activation (lc_act_pieces); 0 for input and output. */
LC_API int lc_stats_pieces(const lc_stats *s, int k);
/* Samples of neuron i of hidden node k that fell in `piece`. The arguments
 * must be in range (k hidden, 0 <= i < width, 0 <= piece < pieces). */
LC_API size_t lc_stats_count(const lc_stats *s, int k, int i, int piece);
/* Smallest / largest finite-or-infinite non-NaN z of neuron i of node k;
 * +inf / -inf when no sample had a non-NaN z. */
LC_API float lc_stats_zmin(const lc_stats *s, int k, int i);
LC_API float lc_stats_zmax(const lc_stats *s, int k, int i);
/* Activation rate: share of samples in the identity piece (0 when n = 0). */
LC_API double lc_stats_rate(const lc_stats *s, int k, int i);
/* Neurons of hidden node k that had every sample in `piece` (e.g. "always
 * active" is the identity piece, "never active" for ReLU is piece 0).
 * 0 when there were no samples. */
LC_API int lc_stats_n_always(const lc_stats *s, int k, int piece);

/* ---- plans */

typedef struct lc_plan lc_plan;
#define LC_KEEP (-1) /* plan entry: the neuron stays */

/* An empty plan (every neuron kept) shaped like g: node count, widths,
 * activations and PReLU slopes are copied, g is not referenced afterwards.
 * *out is owned by the caller (lc_plan_free). Errors: LC_ERR_NOMEM. */
LC_API lc_status lc_plan_create(const lc_graph *g, lc_plan **out, lc_error *err);
LC_API void lc_plan_free(lc_plan *p);
LC_API lc_status lc_plan_clone(const lc_plan *p, lc_plan **out, lc_error *err);
/* Assigns neuron i of node k to `piece` (0 .. pieces-1) or LC_KEEP.
 * Errors (LC_ERR_INVALID): k not a hidden node (the input and the output
 * node are never folded), i out of range, piece out of range. */
LC_API lc_status lc_plan_set(lc_plan *p, int k, int i, int piece, lc_error *err);
/* The assignment of neuron i of node k (LC_KEEP when not folded or out of
 * range). */
LC_API int lc_plan_get(const lc_plan *p, int k, int i);
/* Per-node counts for reports: neurons folded with slope s != 0 (linear, need
 * skip edges), and with s = 0 (constants, plain exact pruning). */
LC_API int lc_plan_folded_linear(const lc_plan *p, int k);
LC_API int lc_plan_removed_constant(const lc_plan *p, int k);

/* ---- fold */

/* Parameters and FLOPs per sample (either pointer may be NULL) of the graph
 * lc_fold(g, p) would return, computed from shapes alone with the cost model
 * (no weights are touched; microseconds for typical models). Exact: equals
 * lc_graph_params() of the folded graph. Errors: LC_ERR_SHAPE when p was not
 * made for a graph of g's shape, LC_ERR_NOMEM. */
LC_API lc_status lc_plan_params_after(const lc_graph *g, const lc_plan *p, size_t *params,
                                      size_t *flops, lc_error *err);

/* The cost model for one fold on the current graph: parameters freed by
 * folding n_fold neurons out of hidden node k, minus n_m x n_j for every
 * (consumer m, producer j) pair of k without an edge yet, when any_linear
 * (some folded neuron has s != 0; constants need no edge). Positive means the
 * model gets smaller. Nodes that a full fold makes constant are not
 * followed; lc_plan_params_after() is the whole-graph version. */
LC_API long long lc_fold_saving(const lc_graph *g, int k, int n_fold, int any_linear);

/* Applies plan p to g and returns the folded graph in *out (caller owns it;
 * g is not changed). For every hidden node k from the highest index down and
 * its folded set L: W_mj += W_mk[:,L] diag(s_L) W_kj[L,:] (one SGEMM per
 * consumer m, producer j; the edge is created when absent and some s != 0),
 * b_m += W_mk[:,L] (s_L b_k[L] + c_L), then the rows L of node k and the
 * columns L of its consumers are removed. A node left without neurons
 * disappears (later indices shift down); a hidden node left without inputs is
 * a constant and is folded into its consumers' biases; an output node left
 * without inputs is a constant and gets a zero edge from the input (the only
 * all-zero edge a fold makes on purpose). A hidden node whose output no
 * longer reaches the output node (its consumers all folded away) is removed
 * too, with its edges, so the result has no unused node. Names,
 * preprocessing and the order of existing edges are kept, new edges are
 * appended. Exact on every input on which each folded neuron stays in its
 * piece (float32 rounding aside).
 * node_map, when not NULL, receives lc_graph_nodes(g) entries: the new index
 * of each old node, or -1 for a node that disappeared (folded away,
 * constant, or unused).
 * Errors: LC_ERR_SHAPE when p was made for a differently shaped graph,
 * LC_ERR_NOMEM. */
LC_API lc_status lc_fold(const lc_graph *g, const lc_plan *p, lc_graph **out, int *node_map,
                         lc_error *err);

/* ---- reconstruction: correcting a lossy fold (DESIGN 3b, docs/method.md) */

typedef struct lc_recon_opts {
    double alpha;    /* ridge strength relative to the mean diagonal of the
                        Gram matrix; 0 (default): chosen per node on held-out
                        calibration rows from the grid 1e-6 .. 1e2, or no
                        refit where that does better there */
    size_t max_rows; /* use at most the first max_rows rows of x; 0: all */
    int full_grid;   /* the reference path of the choice of alpha: score the
                        whole grid on the held-out rows instead of descending
                        from 1e-3 (0: the default; the same choice where
                        the held-out error has at most two valleys in log
                        alpha) */
} lc_recon_opts;
/* alpha 0 (chosen on held-out rows), all rows, descent on the grid. */
LC_API void lc_recon_opts_default(lc_recon_opts *o);

/* After folded = lc_fold(g, p, node_map): refits, in graph order, the
 * incoming edges and the bias of every node of `folded` whose inputs the
 * fold made inexact on the calibration data x (n rows), by least squares
 * with a ridge towards the folded weights (the bias free), so that its
 * pre-activation matches g's on x, with folded's own
 * (already refitted) activations as inputs. A fold that is exact on x (every
 * folded neuron stays in its piece within float rounding: 1e-5 of the node's
 * largest |z|) refits nothing downstream of it, so exact folds leave folded
 * unchanged. Only values of existing edges and biases change, never the
 * structure; a refit that would not lower the node's squared error on x is
 * not applied. *refit (may be NULL) receives the number of nodes refitted.
 * Memory: the activations of the nodes still needed, for all n rows, and
 * three Gram-sized matrices of (inputs + 1)^2 doubles at a time. o may be NULL (defaults).
 * Errors: LC_ERR_SHAPE (p, node_map or x do not belong to g and folded),
 * LC_ERR_NOMEM. */
LC_API lc_status lc_reconstruct(const lc_graph *g, const lc_plan *p, const int *node_map,
                                lc_graph *folded, const float *x, size_t n,
                                const lc_recon_opts *o, int *refit, lc_error *err);

/* ---- policy: which neurons to fold */

typedef enum lc_layer_kind {
    LC_LAYER_AUTO = 0, /* fold only where the whole model gets smaller */
    LC_LAYER_COUNT,    /* fold a node's linear neurons when more than value qualify */
    LC_LAYER_FRACTION  /* ... when more than value x width qualify, 0 < value < 1 */
} lc_layer_kind;

typedef struct lc_layer_threshold {
    lc_layer_kind kind;
    double value; /* COUNT: an integer >= 0; FRACTION: in (0, 1); AUTO: unused */
} lc_layer_threshold;

/* Parses "auto", an integer ("3": COUNT) or a decimal fraction ("0.5":
 * FRACTION, strictly between 0 and 1). Errors: LC_ERR_INVALID with a message
 * that quotes the text and says what is accepted. */
LC_API lc_status lc_layer_threshold_parse(const char *text, lc_layer_threshold *out,
                                          lc_error *err);

/* Builds a plan from statistics s computed on g. A neuron qualifies for a
 * piece when its count there is >= tau x samples; it is assigned the identity
 * piece if that qualifies, else the qualifying piece with the largest count
 * (so at tau = 1 a ReLU neuron with rate 1 folds to identity, with rate 0 to
 * zero; at tau < 1 a ReLU neuron with rate <= 1 - tau folds to zero).
 * Constant assignments (s = 0) are always taken: they only remove
 * parameters. Linear ones (s != 0) go through the layer threshold: COUNT N
 * folds node k's linear neurons only when more than N qualify, FRACTION F
 * when more than F x width(k) qualify, AUTO greedily folds the nodes (and,
 * when no single node helps, pairs of nodes, for up to 64 candidate nodes)
 * that shrink the whole model most by the cost model, re-evaluated after each accepted fold, and never
 * returns a plan larger than g. *out is owned by the caller.
 * Errors: LC_ERR_INVALID for tau outside [0, 1], a bad layer threshold or
 * statistics without samples; LC_ERR_SHAPE when s was computed on a graph of
 * another shape; LC_ERR_NOMEM. */
LC_API lc_status lc_plan_from_stats(const lc_graph *g, const lc_stats *s, double tau,
                                    lc_layer_threshold lt, lc_plan **out, lc_error *err);

/* lc_plan_from_stats() with one threshold per node: tau[k] for hidden node
 * k (tau has lc_graph_nodes(g) entries; those of the input and the output
 * node are ignored). A tau above 1 folds nothing in that node. With every
 * tau[k] equal to t in [0, 1] the plan is lc_plan_from_stats(g, s, t, lt).
 * Errors: as lc_plan_from_stats; LC_ERR_INVALID for a tau < 0 or NaN. */
LC_API lc_status lc_plan_from_stats_per_node(const lc_graph *g, const lc_stats *s,
                                             const double *tau, lc_layer_threshold lt,
                                             lc_plan **out, lc_error *err);

/* Applies a layer threshold to candidate folds: `cand` (made for g) assigns
 * each neuron the piece it may be folded to, LC_KEEP where none. Constant
 * candidates are always taken, linear ones through lt exactly as in
 * lc_plan_from_stats (so auto never returns a plan larger than g). Used to
 * fold proven neurons (lc_proof_apply) with the cost model. *out is owned by
 * the caller. Errors: LC_ERR_SHAPE (cand not made for g), LC_ERR_INVALID (a
 * bad layer threshold), LC_ERR_NOMEM. */
LC_API lc_status lc_plan_select(const lc_graph *g, const lc_plan *cand, lc_layer_threshold lt,
                                lc_plan **out, lc_error *err);

/* ---- fast evaluation of many plans (sweeps, budgets) */

typedef struct lc_pieces lc_pieces;

/* Runs g once over labelled data d and records, for every sample and hidden
 * neuron, the piece its pre-activation falls in, and whether g predicts the
 * sample's label. Memory: samples x hidden neurons bytes (capped at 1 GiB:
 * LC_ERR_NOMEM beyond). *out is owned by the caller (lc_pieces_free).
 * Errors: LC_ERR_INVALID (no labels), LC_ERR_SHAPE, LC_ERR_NOMEM. */
LC_API lc_status lc_pieces_compute(const lc_graph *g, const lc_data *d, lc_pieces **out,
                                   lc_error *err);
/* As lc_pieces_compute, and also keeps g's pre-activations of every node
 * but the input on d (4 bytes per sample and neuron; not kept beyond 2^26
 * floats, where it is lc_pieces_compute): lc_plan_accuracy then runs a
 * sample that leaves a piece in node v only from the folded graph's first
 * node after v, the earlier ones taken from the cache. For sweeps that
 * evaluate many plans on one data set. */
LC_API lc_status lc_pieces_compute_z(const lc_graph *g, const lc_data *d, lc_pieces **out,
                                     lc_error *err);
LC_API void lc_pieces_free(lc_pieces *pc);

/* Accuracy on d of folded = lc_fold(g, p): a sample on which every neuron
 * folded by p stays in its piece gets g's own verdict (folding is exact
 * there, up to float rounding); only the others are run through `folded`.
 * Equal to lc_evaluate(folded, d) except for argmax ties at rounding level.
 * *evaluated (may be NULL) receives how many samples were run.
 * Errors: LC_ERR_SHAPE when p, pc or d do not belong to g, LC_ERR_NOMEM. */
LC_API lc_status lc_plan_accuracy(const lc_graph *g, const lc_plan *p, const lc_graph *folded,
                                  const lc_data *d, const lc_pieces *pc, double *acc,
                                  size_t *evaluated, lc_error *err);

/* --------------------------------------------------------------- budgets */
/*
 * Size and accuracy budgets for compression (docs/budgets.md) (fine-tuning
 * the result is lc_finetune, in train). A budget search builds plans with one
 * threshold per hidden node from the statistics
 * (lc_plan_from_stats_per_node, under policy), scores each candidate with
 * lc_plan_accuracy() on labelled data (validation data, or calibration data
 * labelled with the original model's own predictions: lc_data_predicted),
 * and returns the best plan it found next to the paper's global-tau result.
 */

/* A copy of d's features labelled with the class g predicts for each row
 * (lc_row_class: argmax, or > 0.5 / > 0 for one output unit), so that
 * lc_pieces_compute and lc_plan_accuracy measure agreement with g. The
 * copy has max(output width, 2) classes. *out is owned by the caller.
 * Errors: LC_ERR_SHAPE (feature count), LC_ERR_NOMEM. */
LC_API lc_status lc_data_predicted(const lc_graph *g, const lc_data *d, lc_data **out,
                                   lc_error *err);

typedef enum lc_budget_kind {
    LC_BUDGET_SIZE = 0, /* at most target_size x the original parameters, best score */
    LC_BUDGET_DROP      /* the fewest parameters with score >= original - max_drop */
} lc_budget_kind;

typedef enum lc_budget_method {
    LC_BUDGET_PAPER = 0,  /* one global tau from 1.0 down in steps of 0.1 */
    LC_BUDGET_PER_NODE,   /* greedy search over a threshold per node */
    LC_BUDGET_JOINT       /* per node a threshold and a share pruned (opts.joint) */
} lc_budget_method;

/* "paper", "per-node", "joint". Static. */
LC_API const char *lc_budget_method_name(lc_budget_method m);

/* What the progress callback of lc_budget_search receives (for a progress
 * bar: done of planned, the best so far, an ETA from the rate). */
typedef struct lc_budget_progress {
    int evaluated;         /* candidate plans folded and scored so far
                              (cached plans not counted); never decreases */
    int planned;           /* estimated total, >= evaluated; revised as the
                              search learns how far the budget is; equal to
                              evaluated in the last call */
    double best_score;     /* the best candidate within the budget so far
                              (SIZE: highest score within the size; DROP:
                              fewest parameters within the drop); NaN before
                              the first */
    size_t best_params;
    int finished;          /* 1 in the last call, once the search is done */
} lc_budget_progress;

typedef struct lc_budget_opts {
    lc_budget_kind kind;
    double target_size;    /* SIZE: 0 < R <= 1 */
    double max_drop;       /* DROP: allowed loss of accuracy as a fraction
                              (percentage points / 100), in [0, 1] */
    lc_layer_threshold lt; /* applied to every candidate plan */
    /* called after each accepted step of the per-node search, or NULL */
    void (*step_cb)(void *ctx, int step, size_t params, double score);
    void *cb_ctx;
    /* called after every scored candidate and once at the end (finished),
     * or NULL; gets cb_ctx */
    void (*progress_cb)(void *ctx, const lc_budget_progress *p);
    /* DROP only, optional: rows that the search never saw (validation
     * data; labels are not used). The search then proposes plans on d and
     * certifies them here (lc_budget_search), so that the promise holds on
     * new data at `confidence`. NULL: the search's own score on d decides. */
    const lc_data *certify;
    double confidence;     /* in (0, 1) with `certify`; 0 means 0.95 */
    /* reconstruction (lc_reconstruct) of the candidates before they are
       scored (with lc_evaluate on d), on these calibration rows; NULL: off
       (the paper's fold). Estimates during the search: a fixed ridge on the
       first recon_search_rows rows (0: 2048), and the greedy walks are
       guided by the plain fold's score; the final choice between the
       candidates (and DROP's verification) is measured on the model
       reconstructed with all rows and `recon`, as the caller should then
       reconstruct lc_fold(g, plan) (docs/budgets.md). */
    const float *recon_x;
    size_t recon_n, recon_search_rows;
    lc_recon_opts recon;
    /* optional with recon_x: the original model's pre-activations on those
       recon_n rows, per node k >= 1 (recon_n x its width, row-major; entry 0
       unused), so that the search does not run the original on them again;
       NULL: computed where needed */
    float *const *recon_z;
    /* SIZE only: 1 adds a third candidate, the joint plan: per hidden node a
       threshold and a share of its neurons removed by importance (lowest
       activation rate first, output replaced by a constant piece, as pruning
       does), searched together by a greedy walk (docs/budgets.md) */
    int joint;
    /* the reference path of the greedy walks: every move of a step scored
       in full, in order of parameters saved. By default the moves are
       scored best-first by the previous step's ratios, a move that cannot
       beat the best so far is skipped and a plain score stops early once it
       cannot; the choice is the same (unit/budget_walk_matches_full_walk). */
    int full_walk;
} lc_budget_opts;

typedef struct lc_budget_result {
    int met;               /* SIZE: 1 when the size was reached (else plan is
                              the smallest model: every node at tau 0); DROP: 1 */
    lc_budget_method method;  /* the candidate that was kept */
    lc_plan *plan;         /* the chosen plan (owned; lc_budget_result_clear) */
    double *tau;           /* per node (lc_graph_nodes(g) entries, owned): the
                              chosen threshold; above 1 (2.0) for a hidden
                              node where nothing is folded; NaN for the input
                              and the output node */
    size_t params_before, params;   /* of g and of lc_fold(g, plan) */
    double score_before, score;     /* lc_plan_accuracy on the scoring data */
    double paper_tau;      /* the paper's candidate: its global tau (2.0 if
                              no tau was acceptable), size, score, and whether
                              it met the budget */
    size_t paper_params;
    double paper_score;
    int paper_met;
    size_t per_node_params;  /* the per-node candidate */
    double per_node_score;
    int per_node_met;
    int steps;             /* accepted steps of the per-node search */
    /* with opts.joint: the joint candidate (size, score, met, its accepted
     * steps) and, per node (lc_graph_nodes(g) entries, owned; NULL without
     * opts.joint), the neurons of the chosen plan removed by importance
     * rather than by the thresholds (all 0 unless method is JOINT); the
     * plan holds them as constant folds */
    size_t joint_params;
    double joint_score;
    int joint_met, joint_steps;
    int *pruned;
    int evaluations;       /* plans folded and scored (cached plans not counted) */
    int stopped_early;     /* of those, plain scores stopped once they could
                              not change the greedy walk's choice (opts.full_walk) */
    /* with opts.certify: the certificate of the chosen plan. Its
     * disagreements with g on cert_rows rows, and the one-sided upper bound
     * (lc_binomial_upper_bound at `confidence`) of the disagreement rate on
     * new data, which bounds the loss of accuracy; 0 and 0 when nothing is
     * folded (the model is g). cert_tested: plans tested in path order. */
    size_t cert_rows, cert_disagreements;
    double cert_bound, confidence;
    int cert_tested;
    /* with met: the model to write, lc_fold(g, plan) and, with
     * opts.recon_x, lc_reconstruct of it on those rows with opts.recon
     * (owned; the search has usually built it already); node_map its
     * lc_fold node map (lc_graph_nodes(g) entries, owned); recon_refit the
     * nodes reconstruction refit (-1 without opts.recon_x). NULL when not met. */
    lc_graph *graph;
    int *node_map;
    int recon_refit;
} lc_budget_result;

/* Searches a plan within a budget. st: statistics of g (calibration data);
 * d: labelled scoring data and pc = lc_pieces_compute(g, d). Two candidates
 * are scored with lc_plan_accuracy on d: the paper's (global tau 1.0, 0.9,
 * ..., 0.0: SIZE takes the first that meets the size, DROP the smallest
 * whose score is within max_drop) and a greedy per-node search over the
 * grid 1, 0.99, 0.98, 0.95, 0.9, 0.85, ..., 0.05, 0 that at each step lowers
 * the threshold of the node (or, when no single node shrinks the model, of
 * all nodes by one grid step) with the best parameters saved per score
 * lost; SIZE stops when the size is met (taking, in that step, the best
 * score among the moves that meet it), DROP when no move keeps the score
 * within max_drop. The better candidate is kept (SIZE: higher score, then
 * fewer parameters; DROP: fewer parameters, then higher score). For DROP
 * the chosen plan is folded and checked with lc_evaluate on d (falling back
 * along the search path if a rounding-level tie broke the promise). For DROP
 * with o->certify, the kept candidate's path (the paper's global taus from
 * 1.0 down, or the per-node search's steps from its start) is tested in
 * order on the certification rows, stopping at the first plan whose
 * disagreement bound exceeds max_drop (fixed-sequence testing, so the
 * confidence holds for the plan returned); the last plan that passed is the
 * result, nothing folded when the first fails.
 * On LC_OK, *res holds owned memory: lc_budget_result_clear. Errors:
 * LC_ERR_INVALID (target_size outside (0, 1], max_drop outside [0, 1],
 * unlabelled d, a bad layer threshold, confidence outside [0, 1)), LC_ERR_SHAPE (st, pc or d not of g),
 * LC_ERR_NOMEM. */
LC_API lc_status lc_budget_search(const lc_graph *g, const lc_stats *st, const lc_data *d,
                                  const lc_pieces *pc, const lc_budget_opts *o,
                                  lc_budget_result *res, lc_error *err);
/* Frees what a result owns and zeroes it. Accepts a zeroed result. */
LC_API void lc_budget_result_clear(lc_budget_result *r);

/* One-sided Clopper-Pearson upper confidence bound of a binomial rate: with
 * k events in n independent trials, the true rate is at most the returned
 * value with probability `confidence`. 1 for k == n; NaN when n == 0,
 * k > n or confidence is outside (0, 1). */
LC_API double lc_binomial_upper_bound(size_t k, size_t n, double confidence);

/* =================================================== prove (src/prove/) */

/* ---------------------------------------------------------------- proofs */
/*
 * Provable linearity (docs/proofs.md): sound bounds on every hidden
 * pre-activation z over an input box, so that a neuron proven to stay in one
 * piece of its activation can be folded with no loss for ANY input in the
 * box, not only for the calibration data.
 *
 *   lc_box     per-input-feature [lo, hi] (of the model's input vector)
 *   lc_prove() interval bounds, then optionally symbolic (back-substituted
 *              linear relaxations, DeepPoly/CROWN style), then optionally LP
 *              tightening with GLPK, node by node, each method only on the
 *              neurons the earlier ones left undecided
 *   lc_proof   the bounds, the proven piece of every hidden neuron, which
 *              method proved it, counts per node and the time per method
 *
 * Soundness: bounds are computed in double precision and widened after every
 * dot product by a bound on its rounding error, so they hold for the exact
 * real-valued network. A piece is then proven only with a margin that bounds
 * the float32 evaluation error of z (any summation order), so that the
 * float32 forward pass (lc_forward, ONNX Runtime, PyTorch) also never sees
 * the neuron outside its (closed) piece on a float input inside the box.
 */

typedef struct lc_box lc_box;

/* A box from per-feature bounds lo[0..n), hi[0..n) (copied). Errors:
 * LC_ERR_INVALID when n < 1, a bound is NaN or infinite, or lo[j] > hi[j]
 * (the message names the feature); LC_ERR_NOMEM. */
LC_API lc_status lc_box_create(int n, const double *lo, const double *hi, lc_box **out,
                               lc_error *err);
/* The same range [lo, hi] for all n features. Errors as lc_box_create. */
LC_API lc_status lc_box_from_range(int n, double lo, double hi, lc_box **out, lc_error *err);
/* Parses "LO,HI" (as given to --input-range) into a box of n features.
 * Errors: LC_ERR_INVALID quoting the text and saying what is expected. */
LC_API lc_status lc_box_parse_range(const char *text, int n, lc_box **out, lc_error *err);
/* Per-feature min and max over all rows of d. Errors: LC_ERR_INVALID when d
 * has no rows, LC_ERR_NUMERIC naming the row and column of a NaN or
 * infinity, LC_ERR_NOMEM. */
LC_API lc_status lc_box_from_data(const lc_data *d, lc_box **out, lc_error *err);
/* Reads a CSV file with one line "lo,hi" per input feature, in order
 * (n_features lines; an optional header line such as "lo,hi", blank lines
 * and lines starting with '#' are skipped). Errors: LC_ERR_IO (cannot read),
 * LC_ERR_FORMAT naming path:line and what was expected (two numbers, lo <=
 * hi, finite), LC_ERR_SHAPE when the file has more or fewer than n_features
 * rows. */
LC_API lc_status lc_box_load(const char *path, int n_features, lc_box **out, lc_error *err);
LC_API void lc_box_free(lc_box *b);
LC_API int lc_box_width(const lc_box *b);
LC_API double lc_box_lo(const lc_box *b, int j);  /* j in range */
LC_API double lc_box_hi(const lc_box *b, int j);

typedef enum lc_prove_method {
    LC_PROVE_NONE = -1,    /* not proven (lc_proof_method_of) */
    LC_PROVE_INTERVAL = 0, /* interval arithmetic */
    LC_PROVE_SYMBOLIC,     /* interval, then symbolic bounds */
    LC_PROVE_LP            /* interval, symbolic, then LP (GLPK) */
} lc_prove_method;

/* "interval", "symbolic", "lp" ("none" for LC_PROVE_NONE). Static. */
LC_API const char *lc_prove_method_name(lc_prove_method m);
/* Parses one of the names above (not "none"). LC_ERR_INVALID quotes the
 * text and lists the accepted names. */
LC_API lc_status lc_prove_method_parse(const char *text, lc_prove_method *out, lc_error *err);

typedef struct lc_proof lc_proof;

/* Bounds every hidden node's pre-activations over `box` and proves which
 * neurons stay in one piece of their activation (lc_plan piece numbering):
 * for ReLU, LeakyReLU and PReLU, z >= 0 proves the identity piece and z <= 0
 * piece 0 (both pieces agree at 0); for Clip(lo, hi) z <= lo, lo <= z <= hi,
 * z >= hi prove pieces 0, 1, 2; identity neurons are always linear.
 * `method` selects how far to go; each method runs node by node on the
 * neurons still undecided, and tightened bounds of a node feed the next.
 * lp_time_limit_s is the total time for the LP stage (0 picks 10 s; ignored
 * unless method is LC_PROVE_LP); when it runs out the remaining neurons stay
 * undecided. An LP that is not solved to optimality decides nothing, and the
 * bound taken from an LP is the rigorous dual bound, not the solver's value.
 * *out is owned by the caller (lc_proof_free). Errors: LC_ERR_SHAPE when the
 * box width differs from the input width; LC_ERR_INVALID for an unknown
 * method or a negative or NaN time limit; LC_ERR_UNSUPPORTED for a Clip with
 * lo > hi; LC_ERR_NUMERIC for a weight that is not finite; LC_ERR_NOMEM. */
LC_API lc_status lc_prove(const lc_graph *g, const lc_box *box, lc_prove_method method,
                          double lp_time_limit_s, lc_proof **out, lc_error *err);
LC_API void lc_proof_free(lc_proof *p);

/* Node count of the graph the proof was made on. */
LC_API int lc_proof_nodes(const lc_proof *p);
/* Width of hidden node k; 0 for the input and the output node. */
LC_API int lc_proof_width(const lc_proof *p, int k);
/* Sound bounds on the pre-activation z of neuron i of hidden node k over the
 * box, for the exact real-valued network (NaN when k or i is out of range). */
LC_API double lc_proof_lower(const lc_proof *p, int k, int i);
LC_API double lc_proof_upper(const lc_proof *p, int k, int i);
/* The proven piece of neuron i of hidden node k, or LC_KEEP when undecided
 * (or out of range). */
LC_API int lc_proof_piece(const lc_proof *p, int k, int i);
/* The method that proved it, LC_PROVE_NONE when undecided. */
LC_API lc_prove_method lc_proof_method_of(const lc_proof *p, int k, int i);
/* Per hidden node k (0 for others): neurons proven in the identity piece
 * ("provably linear"), in a piece with slope 0 ("provably dead"/constant:
 * dead ReLU, saturated Clip), in any piece (also LeakyReLU/PReLU's z <= 0
 * piece), and those first proven by method m. */
LC_API int lc_proof_n_linear(const lc_proof *p, int k);
LC_API int lc_proof_n_constant(const lc_proof *p, int k);
LC_API int lc_proof_n_proven(const lc_proof *p, int k);
LC_API int lc_proof_n_by(const lc_proof *p, int k, lc_prove_method m);
/* Wall time in seconds spent in method m's stage, summed over nodes. */
LC_API double lc_proof_seconds(const lc_proof *p, lc_prove_method m);
/* LP stage: neurons it decided, LPs solved to optimality, LPs that ended
 * otherwise (time limit, solver failure), and neurons that were still
 * undecided but not attempted because the time limit had been reached. */
LC_API int lc_proof_lp_decided(const lc_proof *p);
LC_API int lc_proof_lp_solved(const lc_proof *p);
LC_API int lc_proof_lp_failed(const lc_proof *p);
LC_API int lc_proof_lp_skipped(const lc_proof *p);
/* Assigns every proven neuron its piece in plan `plan` (made with
 * lc_plan_create on the same graph); other entries are not touched.
 * Errors: LC_ERR_SHAPE when the plan's shape differs. */
LC_API lc_status lc_proof_apply(const lc_proof *p, lc_plan *plan, lc_error *err);

/* The paper's "provably linear" sign test, for comparison only: neurons of
 * hidden node k whose incoming weights (all edges) and bias are all >= 0.
 * It assumes non-negative inputs, so it is UNSOUND on a node that sees the
 * input (or a LeakyReLU/PReLU/Clip output) with negative values. -1 when k
 * is not a hidden node. */
LC_API int lc_sign_test(const lc_graph *g, int k);

/* =================================================== train (src/train/) */

/* -------------------------------------------------------------- training */

/* An MLP n_in -> hidden[0] -> ... -> hidden[n_hidden-1] -> n_out with
 * activation `act` on every hidden node and identity on the output (logits),
 * initialised like PyTorch's nn.Linear: weights and biases uniform in
 * (-1/sqrt(fan_in), 1/sqrt(fan_in)) (Kaiming-uniform with a = sqrt(5)); PReLU
 * slopes 0.25 (nn.PReLU). Nodes are named "input", "fc1", ..., "output".
 * Same seed, same weights. n_hidden may be 0 (a linear model).
 * Errors: LC_ERR_INVALID (widths < 1, an output activation as `act`),
 * LC_ERR_NOMEM. */
LC_API lc_status lc_graph_mlp(int n_in, const int *hidden, int n_hidden, int n_out, lc_act act,
                              uint64_t seed, lc_graph **out, lc_error *err);

typedef enum lc_optimizer {
    LC_OPT_ADAM = 0,  /* torch.optim.Adam: L2 weight decay added to the gradient */
    LC_OPT_SGD        /* torch.optim.SGD with momentum (no dampening, not Nesterov) */
} lc_optimizer;

typedef enum lc_monitor {
    LC_MONITOR_VAL_LOSS = 0,  /* early stopping: lower validation loss is better */
    LC_MONITOR_VAL_ACC        /* higher validation accuracy is better */
} lc_monitor;

/* What the epoch callback receives after each epoch. */
typedef struct lc_epoch_info {
    int epoch;          /* 1-based */
    int epochs;         /* the planned number */
    double train_loss;  /* mean over the epoch's samples, as trained (before
                           each batch's update) */
    double train_acc;
    double val_loss;    /* on the validation data after the epoch; NaN without */
    double val_acc;
    int best;           /* 1 when this epoch's model is the best so far */
    double seconds;     /* wall time of the epoch, validation included */
} lc_epoch_info;

typedef struct lc_train_opts {
    int epochs;              /* >= 1 */
    int batch;               /* >= 1; the last batch of an epoch may be smaller */
    double lr;               /* > 0; 0 picks the optimizer's default:
                                1e-3 for Adam, 0.01 for SGD */
    lc_optimizer optimizer;
    double momentum;         /* SGD, in [0, 1) */
    double beta1, beta2;     /* Adam, in [0, 1) */
    double eps;              /* Adam, > 0 */
    double weight_decay;     /* >= 0, L2 added to the gradient (PyTorch) */
    double anneal;           /* in [0, 1]: the learning rate falls linearly
                                to 0 over this last fraction of the run's
                                steps (epochs x batches); 0: constant */
    uint64_t seed;           /* the shuffle of every epoch */
    int patience;            /* with val: stop after this many epochs without
                                improvement and restore the best epoch's
                                weights; 0: off */
    lc_monitor monitor;
    void (*epoch_cb)(void *ctx, const lc_epoch_info *info);  /* or NULL */
    /* After every batch: samples done of n in this epoch (for progress
     * bars); or NULL. Both callbacks get cb_ctx. */
    void (*batch_cb)(void *ctx, int epoch, size_t done, size_t n);
    void *cb_ctx;
    /* Distillation: a teacher (e.g. the model g was compressed from; same
     * input and output widths as g) makes the loss of a row
     *   alpha T^2 KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) CE(s, label)
     * on the teacher's logits t and g's logits s (sigmoids for one output
     * unit); rows without labels take the first term alone, so the
     * training data need no labels. NULL: the labels alone. */
    const lc_graph *teacher;
    double temperature;      /* T > 0 */
    double alpha;            /* in [0, 1] */
} lc_train_opts;

/* Fills o with the defaults: 10 epochs, batch 32, Adam (lr 0 = default,
 * betas 0.9/0.999, eps 1e-8), SGD momentum 0.9, no weight decay, constant
 * rate (anneal 0), seed 0,
 * no early stopping, monitor the validation loss, no callback, no teacher
 * (temperature LC_DISTILL_T, alpha LC_DISTILL_ALPHA for when one is set;
 * docs/training.md has the measurements behind them). */
#define LC_DISTILL_T 2.0
#define LC_DISTILL_ALPHA 0.5
#define LC_FINETUNE_ANNEAL 0.5  /* lc_compress_opts_default's finetune.anneal */
LC_API void lc_train_opts_default(lc_train_opts *o);

/* Trains every weight, bias and PReLU slope of g (skip edges included) with
 * softmax cross-entropy on the output node's logits: its pre-activation when
 * the output activation is softmax, log_softmax or sigmoid, else its output.
 * A single output unit is a binary classifier (sigmoid cross-entropy on the
 * logit, labels 0 and 1). Each epoch visits the training rows in an order
 * shuffled by o->seed, in mini-batches of o->batch. `val` (may be NULL) is
 * evaluated after each epoch, for the callback and early stopping (on the
 * labels' cross-entropy and accuracy also with a teacher; val needs labels).
 * With o->teacher, `train` may be unlabelled; the epoch's train_acc is then
 * the agreement with the teacher's predictions.
 * Same seed and same BLAS threads: the same model, bit for bit.
 * Errors: LC_ERR_INVALID (bad options, unlabelled or empty data),
 * LC_ERR_SHAPE (feature count or a label does not fit the model, or the
 * teacher's input or output width differs from g's),
 * LC_ERR_NUMERIC (the loss became NaN or infinite; try a lower lr),
 * LC_ERR_NOMEM. On any error g is left as it was on entry. */
LC_API lc_status lc_train(lc_graph *g, const lc_data *train, const lc_data *val,
                          const lc_train_opts *o, lc_error *err);

/* Mean loss over n samples (x: (n, input_width), labels y) and its gradient
 * with respect to every parameter: grad holds lc_graph_params(g) floats in
 * the layout of the model's one parameter block, so the gradient of the
 * parameter at pointer p (from lc_graph_weight, _bias or _slope) is
 * grad[p - lc_graph_param_base(g)]. Either of grad and loss may be NULL.
 * The loss is lc_train's. Errors: LC_ERR_INVALID (n == 0),
 * LC_ERR_SHAPE (a label out of range), LC_ERR_NOMEM. */
LC_API lc_status lc_loss_grad(const lc_graph *g, const float *x, const int32_t *y, size_t n,
                              float *grad, double *loss, lc_error *err);
/* First float of g's parameter block (every weight, bias and slope). */
LC_API const float *lc_graph_param_base(const lc_graph *g);

/* Folds the numeric standardisation of preprocessing p ((x - mean) / sd per
 * numeric column) into every edge leaving the input node:
 * W'[:, c] = W[:, c] / sd_c and b' = b - sum_c W[:, c] mean_c / sd_c, then
 * stores a copy of p with standardisation off in g, so that g takes the raw
 * numeric features (and one-hot columns) and computes what it computed on
 * standardised ones. Errors: LC_ERR_SHAPE when p's width differs from g's
 * input width, LC_ERR_NOMEM. */
LC_API lc_status lc_graph_fold_standardize(lc_graph *g, const lc_preproc *p, lc_error *err);

/* ----------------------------------------------------------- fine-tuning */

/* Fine-tunes g (typically a folded graph) with lc_train, in standardised
 * input coordinates: every edge from the input node is rescaled to take
 * (x - mean) / sd of train's features (sd 1 for constant features), trained,
 * and mapped back, so that models whose first layer absorbed a
 * standardisation (raw features of very different scales) train as well as
 * they did originally. With o->teacher (distillation) the teacher sees the
 * raw features and train may be unlabelled (docs/training.md). On any error
 * g is left as it was. Errors: those of lc_train, LC_ERR_NOMEM. */
LC_API lc_status lc_finetune(lc_graph *g, const lc_data *train, const lc_data *val,
                             const lc_train_opts *o, lc_error *err);

/* --------------------------------------------------------------- pruning */
/*
 * Activation-based importance pruning, the baseline the paper compares
 * folding with (docs/pruning.md). Unlike lc_fold(), a removed neuron is
 * replaced by nothing: its contribution to every consumer becomes 0 (or,
 * with a fill value, that constant), so pruning changes the function.
 */

/* Removes hidden neurons from g and returns the smaller graph in *out (caller
 * owns it; g is not changed). keep has lc_graph_nodes(g) entries: keep[k]
 * NULL keeps every neuron of node k, else neuron i stays when keep[k][i] is
 * non-zero. A removed neuron's row leaves every incoming edge, the bias and
 * the PReLU slopes of its node, and its column leaves the edge of every
 * consumer (skip edges included). fill (may be NULL; fill[k] may be NULL)
 * gives the constant that replaces a removed neuron's output: every consumer
 * m gets b_m += W_mk[:, i] * fill[k][i] (e.g. the neuron's mean output, a
 * bias correction); without it the output is replaced by 0. Node indices,
 * names, edges and preprocessing are kept: no node disappears.
 * Equal to g with the outgoing weights of the removed neurons set to 0 (and
 * fill folded into the biases).
 * Errors: LC_ERR_INVALID when keep[0] or keep[last] removes a neuron (the
 * input and the output are never pruned) or a hidden node would lose all of
 * its neurons (the message names the node), LC_ERR_NUMERIC for a non-finite
 * fill value, LC_ERR_NOMEM. */
LC_API lc_status lc_graph_remove_neurons(const lc_graph *g, const unsigned char *const *keep,
                                         const float *const *fill, lc_graph **out,
                                         lc_error *err);

/* What the pruning callback receives after each epoch. */
typedef struct lc_prune_epoch {
    int epoch;          /* 1-based */
    int epochs;
    double train_loss;  /* during the epoch's training (lc_epoch_info) */
    double train_acc;
    double val_loss;    /* of the trained model before this epoch's removal;
                           NaN without validation data */
    double val_acc;
    int removed;        /* neurons removed after this epoch */
    size_t params;      /* parameters after this epoch's removal */
    double seconds;     /* training, statistics and removal */
} lc_prune_epoch;

typedef struct lc_prune_opts {
    double target;         /* R in (0, 1]: stop removing at R x the original
                              parameter count */
    double start_acc;      /* remove only after epochs whose training accuracy
                              exceeds this (default 0.7) */
    double quantile;       /* in (0, 1]: remove the neurons at or below this
                              quantile of activation rate (default 0.05) */
    int bias_correction;   /* 1: a removed neuron's mean output over the
                              training data goes into its consumers' biases
                              (default 0: the paper's plain removal) */
    lc_train_opts train;   /* epochs (the whole budget), batch, optimizer, lr,
                              seed ...; patience and epoch_cb are ignored */
    void (*epoch_cb)(void *ctx, const lc_prune_epoch *info);  /* or NULL */
    void *cb_ctx;
} lc_prune_opts;

/* Defaults: target 1, start_acc 0.7, quantile 0.05, no bias correction,
 * lc_train_opts_default() (10 epochs, batch 32, Adam), no callback. */
LC_API void lc_prune_opts_default(lc_prune_opts *o);

/* Trains a copy of g one epoch at a time (lc_train with one epoch per call,
 * so Adam's moments restart every epoch; the shuffle seed is derived from
 * o->train.seed and the epoch). After each epoch whose training accuracy
 * exceeds o->start_acc, while the model is above floor(R x params(g)): the
 * activation rate of every hidden neuron on the training data
 * (lc_stats_compute), the o->quantile quantile q of all rates, and the
 * neurons with rate <= q, lowest rate first, are removed one by one
 * (lc_graph_remove_neurons) until the parameter count reaches the budget:
 * the last step removes only as many as needed, so the result is at most
 * one neuron's worth of parameters below it. The last neuron of a node is
 * never removed. Training then continues to the epoch budget. When the
 * budget is not reached within the epochs, the result is larger than R
 * (compare lc_graph_params). A model whose stored preprocessing has its
 * standardisation folded into the first layer (lincomp train) is trained on
 * standardised features and folded back at the end, so that training sees
 * well-scaled inputs; the result takes the same inputs as g. With
 * o->train.teacher (distillation, e.g. g itself) its logits are taken once
 * on train's raw features, and train may be unlabelled.
 * train and val hold g's input features (as lc_data_load gives them with
 * g's preprocessing). *out is owned by the caller. Errors: LC_ERR_INVALID
 * (target, quantile or start_acc out of range, bad training options, no
 * labels without a teacher, or no samples), LC_ERR_SHAPE (features or labels do not fit g),
 * LC_ERR_NUMERIC (training diverged), LC_ERR_NOMEM. */
LC_API lc_status lc_prune(const lc_graph *g, const lc_data *train, const lc_data *val,
                          const lc_prune_opts *o, lc_graph **out, lc_error *err);
/* lc_prune with the report of `lincomp prune --json` (docs/pruning.md): the
 * names of the model and output files (either may be NULL: null), sizes and
 * FLOPs before and after, the target and whether it was reached, the
 * options and the training target, accuracy on val before and after (null
 * without val), one entry per epoch and the widths per layer. o->epoch_cb,
 * if set, is still called after every epoch. *report is a JSON string to
 * free with lc_free. Errors: those of lc_prune and lc_evaluate, LC_ERR_NOMEM. */
LC_API lc_status lc_prune_report(const lc_graph *g, const lc_data *train, const lc_data *val,
                                 const lc_prune_opts *o, const char *model_name,
                                 const char *output_name, lc_graph **out, char **report,
                                 lc_error *err);

/* ---------------------------------------------------- induced linearity */
/*
 * Linearity-inducing fine-tuning (docs/induce.md): most trained networks
 * have few linear neurons, so make them. Every hidden ReLU neuron gets a
 * gate g in [0, 1] and computes relu(z) + g min(z, 0): a PReLU with slope g,
 * exactly ReLU at g = 0 and exactly linear at g = 1. Weights and gates train
 * together under a penalty lambda x sum_i w_i (1 - g_i) that pushes gates to
 * 1, weighted per neuron by what its node's fold saves under the cost model
 * (lc_induce_weights), with lambda raised while the model that folds every
 * gate >= 0.5 is above the size budget. Then gates are set to exactly 0 or 1
 * (lc_induce_select), the gate-1 neurons are folded with lc_fold (exact:
 * they are linear everywhere), and the folded graph is fine-tuned.
 */

/* The gated copy of g: every hidden ReLU node becomes a PReLU node whose
 * slopes (the gates, lc_graph_slope) are 0, so it computes g's function;
 * weights, names, edges and preprocessing are copied. Other nodes are
 * copied as they are. *out is owned by the caller. Errors: LC_ERR_NOMEM. */
LC_API lc_status lc_induce_gate_graph(const lc_graph *g, lc_graph **out, lc_error *err);

/* Penalty weight per node, in the context of plan p (made for g, a graph
 * with ReLU hidden nodes; NULL: nothing folded yet): the parameters that
 * folding all of hidden ReLU node k to its identity piece saves, given that
 * the other nodes are folded as p says (lc_plan_params_after of p with node
 * k fully folded against p with node k not folded at all), divided by k's
 * width, clamped at 0 and scaled so that the largest weight is 1. A node
 * whose whole layer folds with little new edge cost is worth more per
 * neuron than one whose fold needs a large skip edge. w receives
 * lc_graph_nodes(g) entries; 0 for the input, the output and nodes that are
 * not ReLU. Errors: LC_ERR_SHAPE (p not made for g), LC_ERR_NOMEM. */
LC_API lc_status lc_induce_weights(const lc_graph *g, const lc_plan *p, double *w,
                                   lc_error *err);

/* The final 0/1 rounding of gates: gates[k] (width_k floats, or NULL) for
 * each node k of g (lc_graph_nodes(g) entries; only hidden ReLU nodes are
 * read). Neurons are ranked by gate (ties: larger lc_induce_weights weight
 * first, then node and index), and the plan folds a prefix of that ranking
 * to the identity piece: of the prefixes whose folded size is at most
 * `budget` parameters, the one that changes the gates least (sum of
 * 1 - g over the folded neurons plus sum of g over the others); when no
 * prefix fits, the smallest one. *met tells which (may be NULL). *out is
 * owned by the caller. Errors: LC_ERR_INVALID (a gate outside [0, 1] or
 * NaN), LC_ERR_NOMEM. */
LC_API lc_status lc_induce_select(const lc_graph *g, const float *const *gates, size_t budget,
                                  lc_plan **out, int *met, lc_error *err);

/* What the epoch callback of lc_induce receives. */
typedef struct lc_induce_epoch {
    int epoch;             /* 1-based, within the phase */
    int epochs;
    int finetune;          /* 0: induction, 1: fine-tuning the folded graph */
    double train_loss;     /* mean over the epoch (cross-entropy, no penalty) */
    double train_acc;
    double val_acc;        /* after the epoch; NaN without validation data */
    double lambda;         /* induction: penalty strength at the epoch's end */
    size_t est_params;     /* induction: size if every gate >= 0.5 were folded */
    int gates_high;        /* induction: gates >= 0.5 */
    int gates_one;         /* induction: gates exactly 1 */
    double seconds;
} lc_induce_epoch;

typedef struct lc_induce_opts {
    double target_size;    /* R in (0, 1]: at most R x the original parameters */
    int epochs;            /* induction epochs, >= 1 (default 10) */
    int min_steps;         /* >= 0: at least this many steps (batches): more
                              epochs on small data sets (default 2000) */
    int finetune_epochs;   /* of the folded graph, >= 0 (default 3) */
    int batch;             /* >= 1 (default 32) */
    double lr;             /* Adam learning rate of the weights (default 1e-3) */
    double gate_lr;        /* Adam learning rate of the gates (default 1e-2) */
    double lambda0;        /* initial penalty strength (default 1e-4) */
    double lambda_factor;  /* > 1: lambda's factor per check (default 1.25) */
    int checks;            /* controller checks over the induction (default 100) */
    double anneal_share;   /* in (0, 1]: share of the induction steps during
                              which lambda changes; then it is held (0.8) */
    uint64_t seed;         /* shuffling */
    int finetune_labels;   /* 1: fine-tune on the labels alone; 0 (default):
                              distil from g (lc_train_opts.teacher) */
    double temperature;    /* of the distillation (default LC_DISTILL_T) */
    double alpha;          /* of the distillation (default LC_DISTILL_ALPHA) */
    void (*epoch_cb)(void *ctx, const lc_induce_epoch *info);  /* or NULL */
    void *cb_ctx;
} lc_induce_opts;

/* One stage of the pipeline: parameters and accuracies (NaN without data). */
typedef struct lc_induce_stage {
    size_t params;
    double val_acc, test_acc;
} lc_induce_stage;

typedef struct lc_induce_result {
    /* original: g; induced: the gated model after training, params = the
     * folded size with every gate >= 0.5 at 1; rounded: gates set to 0/1,
     * not folded (params of g); folded: lc_fold of it; finetuned: the result */
    lc_induce_stage original, induced, rounded, folded, finetuned;
    size_t budget;         /* floor(R x original params) */
    int met;               /* the folded size is within the budget */
    int n_nodes;           /* of g */
    int *linearized;       /* per node of g: neurons folded linear (owned) */
    double lambda;         /* the penalty strength at the end of induction */
    int steps;             /* induction steps (batches) */
    int epochs;            /* induction epochs run (o->epochs or more) */
    double fold_max_abs_diff; /* largest output difference between the rounded
                                 gated model and its fold on the validation
                                 (else training) data: float rounding only */
} lc_induce_result;

/* Defaults: target 1, 10 epochs (at least 2000 steps) + 3, batch 32, lr 1e-3, gate lr 1e-2,
 * lambda0 1e-4, factor 1.25, 100 checks, anneal share 0.8, seed 0. */
LC_API void lc_induce_opts_default(lc_induce_opts *o);

/* The whole pipeline on a copy of g (g is not changed): gate, train with
 * the annealed penalty, round (lc_induce_select with the budget), fold,
 * fine-tune (lc_finetune). Training steps use Adam on mini-batches of the
 * training rows in an order shuffled by o->seed; every o->checks-th part of
 * the steps the controller computes the size with every gate >= 0.5 folded
 * and multiplies lambda by lambda_factor while it is above the budget
 * (divides it by sqrt(lambda_factor), not below lambda0, when below 0.7 x
 * the budget), and recomputes the weights (lc_induce_weights) in the
 * context of that plan. The run has o->epochs epochs, or more when they
 * hold fewer than o->min_steps steps. A model with stored
 * preprocessing is trained in standardised input coordinates (as
 * lc_finetune). val and test (each may be NULL) are only measured for the
 * report, never used for a decision. *out is owned by the caller; *res
 * holds owned memory (lc_induce_result_clear). Errors: LC_ERR_INVALID (an
 * option out of range, unlabelled training data), LC_ERR_UNSUPPORTED (g has
 * no hidden ReLU node), LC_ERR_SHAPE (data of another width, labels out of
 * range), LC_ERR_NUMERIC (training diverged), LC_ERR_NOMEM. */
LC_API lc_status lc_induce(const lc_graph *g, const lc_data *train, const lc_data *val,
                           const lc_data *test, const lc_induce_opts *o, lc_graph **out,
                           lc_induce_result *res, lc_error *err);
/* Frees what a result owns and zeroes it; accepts a zeroed result. */
LC_API void lc_induce_result_clear(lc_induce_result *r);

/* ================================================= export (src/export/) */

/* -------------------------------------------------------------- C export */

/* Writes g as dependency-free C99 source: c_path (must end in ".c") and the
 * header beside it (the same path ending in ".h"). The header defines
 * NAME_INPUT_SIZE and NAME_OUTPUT_SIZE (NAME upper-cased) and declares
 *     void NAME_forward(const float *input, float *output);
 *     void NAME_forward_batch(const float *input, float *output, size_t n);
 * The source holds the weights as static const float arrays (bit-exact), uses
 * only the C standard library and libm, allocates nothing, and compiles with
 * gcc -std=c99 -Wall -Wextra -Werror -pedantic. When g stores preprocessing,
 * the input is the feature vector in its column order with numeric features
 * raw (NaN for missing): the generated code fills in means and standardises
 * when the spec says so. name NULL means "model". See docs/export-c.md.
 * The header is written first, then the source, each through a temporary
 * file and a rename; if the source fails, a header that did not exist
 * before is removed again.
 * Errors: LC_ERR_INVALID (c_path not ending in .c, name not a C identifier
 * of at most 64 characters, a file name that cannot go into #include),
 * LC_ERR_NUMERIC (a non-finite weight, bias, slope or activation parameter),
 * LC_ERR_SHAPE (stored preprocessing of another width), LC_ERR_IO,
 * LC_ERR_NOMEM. */
LC_API lc_status lc_export_c(const lc_graph *g, const char *c_path, const char *name,
                             lc_error *err);

/* ============================================= pipeline (src/pipeline/) */
/*
 * The commands as one call each, for programs and bindings (python/lincomp):
 * lc_compress is what `lincomp compress` runs (statistics, a plan by
 * threshold, budget or proof, the fold, reconstruction, the check on the
 * calibration data, accuracy on validation data, fine-tuning) and
 * lc_analyze what `lincomp analyze` measures; each returns the command's
 * JSON report (the same keys as --report / --json). The command line only
 * reads options and files, prints and writes.
 */

/* -------------------------------------------------------------- progress */

typedef enum lc_progress_kind {
    LC_PROGRESS_STAGE = 0, /* a stage begins; message says what it does */
    LC_PROGRESS_UPDATE,    /* within a stage: done of total units */
    LC_PROGRESS_LINE,      /* a line worth logging within a stage (a step of
                              the budget search, a fine-tuning epoch) */
    LC_PROGRESS_END        /* a stage that sent updates is over */
} lc_progress_kind;

/* What a progress callback receives; the strings are borrowed for the call. */
typedef struct lc_progress {
    lc_progress_kind kind;
    const char *stage;    /* "statistics", "labelling", "pieces", "budget
                             search", "proving", "folding", "reconstruction",
                             "checking", "evaluating", "fine-tuning", "induce" */
    const char *message;  /* STAGE, LINE: one line without a newline, e.g.
                             "statistics over 500 samples"; UPDATE: a note
                             ("best 0.9812 at 48.0% size") or NULL */
    double done, total;   /* UPDATE: units done of total (0: unknown) */
    const char *unit;     /* UPDATE: "candidates", "samples" */
    int estimated;        /* UPDATE: total is an estimate, revised as the
                             stage learns more (show done/total) */
    int final;            /* UPDATE: the last state before a pause or the end */
    int epoch;            /* fine-tuning: the epoch (1-based); else 0 */
} lc_progress;

typedef void (*lc_progress_fn)(void *ctx, const lc_progress *p);

/* ---------------------------------------------------------------- proofs */

/* Proof options shared by lc_compress and lc_analyze. */
typedef struct lc_prove_opts {
    int on;                 /* 0 (default): no proof */
    lc_prove_method method; /* default LC_PROVE_SYMBOLIC */
    const lc_box *box;      /* borrowed; NULL: the per-feature min and max
                               of the calibration data (lc_box_from_data) */
    const char *box_kind;   /* the report's "box" (the CLI: "file", "range");
                               NULL: "data" without a box, else "box" */
    double lp_time;         /* time limit of the LP stage; 0: lc_prove's */
} lc_prove_opts;

/* -------------------------------------------------------------- compress */

typedef struct lc_compress_opts {
    double threshold;      /* tau in [0, 1] (default 1: exact on the data) */
    const double *node_thresholds; /* or NULL: tau per node of g
                              (lc_plan_from_stats_per_node; above 1: nothing
                              folded there), instead of threshold */
    lc_layer_threshold lt; /* default auto */
    double target_size;    /* (0, 1]: a size budget; 0 (default): none */
    double max_drop;       /* an accuracy budget in percentage points,
                              [0, 100], certified on val; < 0 (default): none */
    double confidence;     /* of the max_drop certificate (default 0.95) */
    int reconstruct;       /* 1 (default): refit the consumers of lossy folds
                              on the calibration data; 0: the paper's fold */
    int joint;             /* 1: with target_size only, the search adds the
                              joint plan (lc_budget_opts.joint); default 0 */
    size_t search_rows;    /* target_size with val: the search scores on at
                              least this many rows, val's and, while fewer,
                              calibration rows spread evenly over data,
                              labelled with g's own predictions (agreement);
                              default LC_SEARCH_ROWS; 0: val alone
                              (docs/budgets.md, "Scoring rows") */
    lc_prove_opts prove;   /* fold what is proven on a box (not with a budget) */
    int prove_threshold;   /* with prove: 1 also folds by threshold on top */
    int finetune_epochs;   /* > 0: fine-tune the result (default 0) */
    lc_train_opts finetune; /* its optimizer, lr (0: the optimizer's default,
                              with val backed off once to a tenth when the
                              run does not beat the folded model), anneal
                              (default LC_FINETUNE_ANNEAL: the second half
                              of the steps falls linearly to 0),
                              batch, momentum, seed, temperature, alpha and
                              teacher (NULL: g; set it to distil towards
                              another model, e.g. the original that g was
                              compressed from); epochs, patience, monitor and
                              the callbacks are set by lc_compress */
    int finetune_labels;   /* 1: fine-tune on the labels alone; 0 (default):
                              distil from g (soft targets) */
    int threads;           /* >= 1: lc_set_threads(threads) first; 0: leave */
    lc_progress_fn progress; /* or NULL */
    void *progress_ctx;
    /* names for the report ("model", "output", finetune "train"; the
       calibration data's name is used when train is NULL); NULL: null */
    const char *model_name, *output_name, *data_name, *train_name, *teacher_name;
    /* induced linearity (docs/induce.md) instead of a plan: lc_induce
       towards target_size (needed) on train (labelled, needed) with val
       (needed), the schedule from induce_opts (its target_size is ignored);
       then, when data is given (it may be NULL here), the result is folded
       once more where that is exact on data (threshold 1, layer threshold
       auto). induce_test: labelled test data, measured for the report only,
       or NULL. The report has the keys of `lincomp compress --induce`. */
    int induce;
    lc_induce_opts induce_opts;   /* default lc_induce_opts_default */
    const lc_data *induce_test;
} lc_compress_opts;

#define LC_SEARCH_ROWS 2048 /* lc_compress_opts_default's search_rows */

/* The command's defaults: threshold 1, layer threshold auto, no budget
 * (max_drop -1), confidence 0.95, reconstruction on, search_rows
 * LC_SEARCH_ROWS, no proof (symbolic
 * when on), no fine-tuning (lc_train_opts_default, lr 0), distillation,
 * threads 0, no callback, no names, no induction (lc_induce_opts_default). */
LC_API void lc_compress_opts_default(lc_compress_opts *o);

/* Compresses g as `lincomp compress` does (docs/budgets.md, docs/proofs.md)
 * on the calibration data `data` (features of g's input width; labels not
 * needed; NULL allowed only with o->induce). The plan: by o->target_size
 * or o->max_drop (a budget search: scored on val when given, topped up
 * to o->search_rows rows with agreement on data, else on agreement with g
 * on data; max_drop proposes on data and certifies on val, which it
 * needs), else by proof (o->prove.on), else by o->threshold or
 * o->node_thresholds, under o->lt.
 * Then lc_fold, lc_reconstruct (o->reconstruct, not for proofs), the
 * largest output change on data, accuracy before and after on val (may be
 * NULL; labelled), and with o->finetune_epochs lc_finetune on train (NULL:
 * data's rows; labels needed only with finetune_labels), keeping with val
 * the best epoch, or the folded model when no epoch beats it.
 * *out (lc_graph_free) is the compressed graph; *report (lc_free; may be
 * NULL if not wanted) the JSON report, pretty-printed, with the keys of
 * `lincomp compress --report`. Both NULL on error.
 * Errors: LC_ERR_INVALID (an option out of range, a budget and a proof or
 * two budgets together, induce with another mode or without target_size,
 * train or val, max_drop without val, val without labels,
 * fine-tuning on labels without labels, a size budget that cannot be
 * reached), LC_ERR_SHAPE (data of another width than g), LC_ERR_FORMAT (no
 * calibration rows), LC_ERR_NUMERIC (a weight of g not finite, training
 * diverged), and those of the steps (lc_prove, lc_finetune), LC_ERR_NOMEM. */
LC_API lc_status lc_compress(const lc_graph *g, const lc_data *data, const lc_data *val,
                             const lc_data *train, const lc_compress_opts *o,
                             lc_graph **out, char **report, lc_error *err);

/* --------------------------------------------------------------- analyze */

typedef struct lc_analyze_opts {
    lc_prove_opts prove;
    int threads;           /* as lc_compress_opts */
    lc_progress_fn progress;
    void *progress_ctx;
    const char *model_name; /* the report's "model"; NULL: null */
} lc_analyze_opts;

/* No proof, threads 0, no callback, no name. */
LC_API void lc_analyze_opts_default(lc_analyze_opts *o);

/* What `lincomp analyze --json` reports on the calibration data: samples,
 * params, per hidden node (layers: name, activation, width, always_active,
 * never_active, provably_linear, provably_dead, rates), the proof (with
 * o->prove.on) and compressed_params at tau 1, 0.99, 0.95, 0.9 (layer
 * threshold auto). *report (lc_free) is the pretty-printed JSON. o may be
 * NULL. Errors: LC_ERR_SHAPE (data width), LC_ERR_FORMAT (no rows), those
 * of lc_prove, LC_ERR_NOMEM. */
LC_API lc_status lc_analyze(const lc_graph *g, const lc_data *data, const lc_analyze_opts *o,
                            char **report, lc_error *err);

#ifdef __cplusplus
}
#endif
#endif /* LINCOMP_H */
