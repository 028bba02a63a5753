/* train.h - the batch gradient shared by the trainer (train.c), the gradient
 * function and later fine-tuning and pruning code. Not installed. */
#ifndef LC_TRAIN_H
#define LC_TRAIN_H

#include "core/internal.h"
#include "core/work.h"

/* Soft targets for distillation: the teacher's logits of the rows of a batch
 * (rows x output width, in the batch's order), its temperature and the
 * weight alpha of the distillation term. */
typedef struct lc_soft {
    const float *t;  /* NULL: the labels only */
    double temp;     /* T > 0 */
    double alpha;    /* in [0, 1]; the labels get 1 - alpha */
} lc_soft;

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
    lc_soft soft;     /* the next batch's soft targets (soft.t NULL: none); the
                         caller points soft.t at them before each batch */
} lc_bwork;

/* Called when the gradient of the parameters [off, off + len) of the block is
 * final for this batch (a weight matrix after its input gradient has been
 * taken, a bias, a slope vector), so an optimizer can update them while they
 * are still in cache. */
typedef void (*lc_grad_ready)(void *ctx, size_t off, size_t len);

lc_status lc_bwork_init(lc_bwork *b, const lc_graph *g, size_t rows, bool backward,
                        lc_error *err);
void lc_bwork_free(lc_bwork *b);

/* The loss of one row of logits o (width w) and, when d is not NULL, scale x
 * its gradient by o into d. y < 0: no label. t (NULL: no teacher) are the
 * teacher's logits of the row: the loss is then
 *     alpha T^2 KL(softmax(t/T) || softmax(o/T)) + (1 - alpha) CE(o, y)
 * (alpha taken as 1 without a label); without t, CE(o, y). One unit is a
 * binary classifier: sigmoids instead of softmaxes. *correct grows by 1 when
 * the row's prediction matches the label, or without a label the teacher's. */
double lc_row_loss(const float *o, int w, int y, const lc_soft *soft, const float *t,
                   float scale, float *d, size_t *correct);

/* The logits of g (what the loss takes: the pre-activation under an output
 * softmax, log_softmax or sigmoid, else the output) for n rows of x, into
 * out (n x output width), in batches of LC_BATCH. */
lc_status lc_logits(const lc_graph *g, const float *x, size_t n, float *out, lc_error *err);

/* Forward pass of rows samples, then the loss (labels y, may be NULL with
 * b->soft.t; and b->soft); returns the sum of the rows' losses and adds the
 * number of correct predictions to *correct. */
double lc_batch_loss(lc_bwork *b, const float *x, const int32_t *y, size_t rows,
                     size_t *correct);

/* Forward and backward pass of one batch: returns the sum of the rows' losses
 * (and adds to *correct), and writes (accumulate = false) or adds
 * (accumulate = true) scale x the gradient of that sum into grad, laid out
 * like g->block. `ready` (may be NULL) is called for each finished slice. */
double lc_batch_grad(lc_bwork *b, const float *x, const int32_t *y, size_t rows, float scale,
                     float *grad, bool accumulate, size_t *correct, lc_grad_ready ready,
                     void *ready_ctx);

/* lc_train with the teacher's logits of every training row precomputed
 * (soft: rows of train x output width, or NULL for labels only; o->teacher
 * is then not used). lc_finetune passes logits of the raw features while it
 * trains on standardised ones. */
lc_status lc_train_soft(lc_graph *g, const lc_data *train, const lc_data *val,
                        const lc_train_opts *o, const float *soft, lc_error *err);

/* The logits of teacher t (NULL: *out = NULL) on every row of d, for
 * training g: malloc'd rows of d x output width, freed by the caller.
 * LC_ERR_SHAPE unless t's input and output widths are g's and d's. */
lc_status lc_teacher_logits(const lc_graph *g, const lc_graph *t, const lc_data *d,
                            float **out, lc_error *err);

/* Checks that every label lies in [0, classes of g); `what` names the data. */
lc_status lc_check_labels(const lc_graph *g, const int32_t *y, size_t n, const char *what,
                          lc_error *err);

/* finetune.c: training in standardised input coordinates (lc_finetune,
 * induce). Per-feature mean and sd of d over finite values (sd 1 where a
 * feature is constant); a copy of d with (x - mean) / sd and the same
 * labels; every edge leaving the input node of g rescaled to take the
 * standardised features (forward) or back to raw ones:
 * z = W x + b = (W diag(sd)) x' + (b + W mean). */
void lc_std_moments(const lc_data *d, double *mean, double *sd);
lc_status lc_std_data(const lc_data *d, const double *mean, const double *sd, lc_data **out,
                      lc_error *err);
void lc_std_rescale_inputs(lc_graph *g, const double *mean, const double *sd, bool forward);

#endif
