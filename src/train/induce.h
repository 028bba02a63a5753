/* induce.h - what the parts of linearity-inducing fine-tuning share:
 * the gated nodes and retyping (induce_gates.c), the trainer with its
 * penalty controller (induce_train.c), used by the pipeline (induce.c).
 * Not installed. */
#ifndef LC_INDUCE_H
#define LC_INDUCE_H

#include "train/train.h"

/* The nodes that carry gates: hidden ReLU nodes. */
static inline bool gated(const lc_graph *g, int k)
{
    return k >= 1 && k < g->n_nodes - 1 && g->nodes[k].act.kind == LC_ACT_RELU;
}

/* A copy of src with activation acts[k] on node k: weights, biases, names,
 * edges and preprocessing copied; slopes taken from src where both are
 * PReLU, else 0. */
lc_status lc_induce_with_acts(const lc_graph *src, const lc_act *acts, lc_graph **out,
                              lc_error *err);

/* ------------------------------------------------------------ the trainer */

/* The gated copy G of g in training. The caller sets g, G, o, lambda and
 * budget, zeroes the rest, and frees it with lc_induce_trainer_free. */
typedef struct lc_induce_trainer {
    const lc_graph *g;  /* the original: plans and the cost model */
    lc_graph *G;        /* the gated copy being trained */
    const lc_induce_opts *o;
    lc_bwork bw;
    float *grad, *m, *v, *xb;
    int32_t *yb;
    size_t *perm;
    lc_plan *plan;      /* every gate >= 0.5 folded: the controller's estimate */
    double *w;          /* penalty weight per node */
    double lambda;
    size_t budget, est;
    int high, one;
    long t;             /* Adam steps */
    int epochs;         /* run: o->epochs, or more to reach o->min_steps */
} lc_induce_trainer;

void lc_induce_trainer_free(lc_induce_trainer *t);

/* Trains t->G (weights and gates) on train for o->epochs epochs (or more,
 * to reach o->min_steps), with the penalty and its controller; val (may
 * be NULL) only for the epoch callback. */
lc_status lc_induce_train_gates(lc_induce_trainer *t, const lc_data *train,
                                const lc_data *val, lc_error *err);

#endif
