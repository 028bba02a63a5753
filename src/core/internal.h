/* internal.h - structures and helpers shared by the library's sources.
 * Not installed; the public API is include/lincomp.h. */
#ifndef LC_INTERNAL_H
#define LC_INTERNAL_H

#include "util/util.h"

#include <stdarg.h>
#include <stdbool.h>


struct lc_edge {
    int src;   /* producer node index, < consumer index */
    float *w;  /* (width, nodes[src].width) row-major, inside g->block */
};

struct lc_node {
    char *name;
    int width;
    lc_act act;
    float *bias;   /* (width), NULL for node 0 */
    float *slope;  /* (width) for PRELU, else NULL */
    int n_in;
    struct lc_edge *in;  /* points into g->edges */
};

#define LC_IO_MAX_RANK 8

struct lc_graph {
    int n_nodes;
    struct lc_node *nodes;
    struct lc_edge *edges;  /* all edges, node by node */
    float *block;           /* every weight, bias and slope: one allocation */
    size_t n_floats;
    lc_preproc *pre;        /* owned, may be NULL */
    /* the model file's interface, so that a written model can replace the
     * one read: the output's name (owned; NULL: "output") and the input's
     * shape per sample when it is not flat (in_rank 0: [width]) */
    char *out_name;
    int in_rank;
    int64_t in_dims[LC_IO_MAX_RANK];
    /* edge weights beyond the weight matrices of the file read (set by the
     * ONNX import; lc_graph_file_params): copies of a layer fed by a
     * residual sum, one per summand, and identity blocks, as edges are dense
     * matrices; 0 for graphs made here */
    size_t copies;
};

/* The first edge f <= e into node k whose matrix is bit-identical to edge
 * e's (same source width): e itself when none before it is. lc_onnx_save
 * writes such twins once, as one Gemm on the Sum of their sources. */
int lc_edge_twin(const lc_graph *g, int k, int e);

/* dst's preprocessing and file interface from src (graphs made from src by
 * folding, pruning, ...); the interface only when the input width is the
 * same. */
lc_status lc_graph_copy_extras(lc_graph *dst, const lc_graph *src, lc_error *err);


/* The one matrix-product wrapper (row-major, CBLAS): C = alpha op(A) op(B) + beta C. */
void lc_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta,
              float *c, int ldc);
/* Plain-loop reference of lc_sgemm (double accumulation). */
void lc_sgemm_ref(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                  const float *a, int lda, const float *b, int ldb, float beta,
                  float *c, int ldc);

/* Gram matrix of a block of rows: C (n x n, upper triangle) = alpha A^T A +
 * beta C for A (k x n), and its plain-loop reference. */
void lc_ssyrk_t(int n, int k, float alpha, const float *a, int lda, float beta, float *c, int ldc);
void lc_ssyrk_t_ref(int n, int k, float alpha, const float *a, int lda, float beta, float *c,
                    int ldc);
/* Double-precision product (small least-squares solves) and its reference. */
void lc_dgemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double *a,
              int lda, const double *b, int ldb, double beta, double *c, int ldc);
void lc_dgemm_ref(bool trans_a, bool trans_b, int m, int n, int k, double alpha,
                  const double *a, int lda, const double *b, int ldb, double beta, double *c,
                  int ldc);
/* Solves A X = B, A (n x n) symmetric positive definite (upper triangle read,
 * overwritten by its Cholesky factor), B (n x nrhs) overwritten by X (LAPACK
 * dpotrf/dpotrs). False when A is not numerically positive definite. */
bool lc_chol_solve(int n, int nrhs, double *a, double *b);

/* Applies a node's activation to z (n rows of width) in place. `slope` for PReLU. */
void lc_act_apply(lc_act act, const float *slope, float *z, size_t n, int width);
bool lc_act_is_output(lc_act_kind k);

/* The class a model's output row predicts (argmax; one unit: > 0.5 for a
 * sigmoid, > 0 for a logit). Shared by every evaluation. */
int lc_row_class(lc_act_kind kind, const float *o, int w);
/* Rows of d among rows[0..n) that g classifies right (*correct), without
 * copying them into a data set of their own (lc_plan_accuracy's re-runs). */
lc_status lc_correct_rows(const lc_graph *g, const lc_data *d, const size_t *rows, size_t n,
                          size_t *correct, lc_error *err);


#endif
