/* train.h - the batch gradient shared by the trainer (train.c), the gradient
 * function and later fine-tuning and pruning code. Not installed. */
#ifndef LC_TRAIN_H
#define LC_TRAIN_H

#include "core/internal.h"
#include "core/work.h"

/* Buffers for the forward and backward pass of batches of up to `rows`
 * samples, allocated once so that a training step allocates nothing. */
typedef struct lc_bwork {
    const lc_graph *g;
    lc_work fw;       /* h[k] of every node */
    size_t rows;      /* capacity */
    float **z;        /* z[k]: pre-activations kept for the backward pass (PReLU,
                         LeakyReLU with alpha <= 0, an output activation), else NULL */
    float **dh;       /* dh[k], k >= 1: gradient of the loss by h_k, then by z_k;
                         NULL for a forward-only work */
    bool *ready;      /* ready[k]: dh[k] holds a sum already (some consumer wrote it) */
    float *zbuf, *dbuf;
} lc_bwork;

/* Called when the gradient of the parameters [off, off + len) of the block is
 * final for this batch (a weight matrix after its input gradient has been
 * taken, a bias, a slope vector), so an optimizer can update them while they
 * are still in cache. */
typedef void (*lc_grad_ready)(void *ctx, size_t off, size_t len);

lc_status lc_bwork_init(lc_bwork *b, const lc_graph *g, size_t rows, bool backward,
                        lc_error *err);
void lc_bwork_free(lc_bwork *b);

/* Forward pass of rows samples, then the loss; returns the sum of the rows'
 * losses and adds the number of correct predictions to *correct. */
double lc_batch_loss(lc_bwork *b, const float *x, const int32_t *y, size_t rows,
                     size_t *correct);

/* Forward and backward pass of one batch: returns the sum of the rows' losses
 * (and adds to *correct), and writes (accumulate = false) or adds
 * (accumulate = true) scale x the gradient of that sum into grad, laid out
 * like g->block. `ready` (may be NULL) is called for each finished slice. */
double lc_batch_grad(lc_bwork *b, const float *x, const int32_t *y, size_t rows, float scale,
                     float *grad, bool accumulate, size_t *correct, lc_grad_ready ready,
                     void *ready_ctx);

/* Checks that every label lies in [0, classes of g); `what` names the data. */
lc_status lc_check_labels(const lc_graph *g, const int32_t *y, size_t n, const char *what,
                          lc_error *err);

#endif
