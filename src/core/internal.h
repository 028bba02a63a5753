/* internal.h - structures and helpers shared by the library's sources.
 * Not installed; the public API is include/lincomp.h. */
#ifndef LC_INTERNAL_H
#define LC_INTERNAL_H

#include "lincomp.h"

#include <stdarg.h>
#include <stdbool.h>

/* Caps on sizes read from files: refuse before allocating. */
#define LC_MAX_WIDTH   (1 << 24)          /* neurons in one node / features */
#define LC_MAX_FLOATS  ((size_t)1 << 31)  /* floats in one model or data set */
#define LC_MAX_NODES   4096

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

struct lc_graph {
    int n_nodes;
    struct lc_node *nodes;
    struct lc_edge *edges;  /* all edges, node by node */
    float *block;           /* every weight, bias and slope: one allocation */
    size_t n_floats;
    lc_preproc *pre;        /* owned, may be NULL */
};

/* Formats an error into err (if not NULL) and returns code. */
lc_status lc_fail(lc_error *err, lc_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Overflow-checked size product; false on overflow. */
static inline bool lc_mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a) return false;
    *out = a * b;
    return true;
}

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

/* Writes `len` bytes to a temporary file beside path and renames it, so a
 * failure never leaves a partial file nor clobbers a good one. */
lc_status lc_write_atomic(const char *path, const void *buf, size_t len, lc_error *err);
/* Reads a whole file (any size up to cap). *buf is malloc'd (NUL-terminated). */
lc_status lc_read_file(const char *path, size_t cap, char **buf, size_t *len, lc_error *err);

#endif
