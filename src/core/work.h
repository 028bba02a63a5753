/* work.h - per-batch activation buffers shared by inference, statistics and
 * training, so that every pass over data runs the same forward code. */
#ifndef LC_WORK_H
#define LC_WORK_H

#include "core/internal.h"

/* Rows per batch: large enough for efficient SGEMM, small enough that a
 * batch of all activations stays in the low megabytes for typical MLPs. */
#define LC_BATCH 1024

typedef struct lc_work {
    size_t rows;  /* capacity */
    float **h;    /* h[k]: (rows, width_k) activations; h[0] aliases the input */
    float *buf;
} lc_work;

/* Called with node k's pre-activation z (rows, width_k) before the
 * activation is applied in place. */
typedef void (*lc_z_hook)(void *ctx, int k, const float *z, size_t rows);

lc_status lc_work_init(lc_work *w, const lc_graph *g, size_t rows, lc_error *err);
void lc_work_free(lc_work *w);
void lc_forward_batch(const lc_graph *g, lc_work *w, const float *x, size_t rows,
                      lc_z_hook hook, void *ctx);
/* Node k's pre-activation on the first `rows` rows of w (its bias, then one
 * SGEMM per incoming edge from the producers' activations in w) into
 * w->h[k]: one step of lc_forward_batch, for callers that fill some rows
 * of a node themselves. */
void lc_forward_node(const lc_graph *g, lc_work *w, int k, size_t rows);

#endif
