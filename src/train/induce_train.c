/* induce_train.c - the training of induced linearity (docs/induce.md):
 * weights and gates together under cross-entropy plus
 *
 *     lambda x sum_i w_k(i) (1 - g_i),
 *
 * Adam with the gates at their own rate, and the controller that raises
 * lambda while the model folding every gate >= 0.5 is above the budget
 * and recomputes the weights w in the context of that plan. */
#include "train/induce.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* splitmix64, state in the caller */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t rng_below(uint64_t *s, size_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, r;
    do r = rng_next(s);
    while (r >= limit);
    return (size_t)(r % n);
}

void lc_induce_trainer_free(lc_induce_trainer *t)
{
    lc_bwork_free(&t->bw);
    free(t->grad), free(t->m), free(t->v), free(t->xb), free(t->yb), free(t->perm);
    free(t->w);
    lc_plan_free(t->plan);
}

/* torch.optim.Adam on one slice of the block. */
static void adam(float *restrict p, const float *restrict g, float *restrict m,
                 float *restrict v, size_t len, float step, float bc2s)
{
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    for (size_t i = 0; i < len; i++) {
        m[i] += (1 - b1) * (g[i] - m[i]);
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        p[i] -= step * m[i] / (sqrtf(v[i]) / bc2s + eps);
    }
}

/* Penalty gradient, one Adam step (gates at their own rate), gate clamp. */
static void step(lc_induce_trainer *t)
{
    lc_graph *G = t->G;
    float *base = G->block;
    for (int k = 1; k < G->n_nodes; k++) {
        const struct lc_node *nd = &G->nodes[k];
        if (!gated(t->g, k)) continue;
        float *gs = t->grad + (nd->slope - base), push = (float)(t->lambda * t->w[k]);
        for (int i = 0; i < nd->width; i++) gs[i] -= push;
    }
    t->t++;
    double bc1 = 1 - pow(0.9, (double)t->t), bc2 = 1 - pow(0.999, (double)t->t);
    float bc2s = (float)sqrt(bc2);
    float sw = (float)(t->o->lr / bc1), sg = (float)(t->o->gate_lr / bc1);
    for (int k = 1; k < G->n_nodes; k++) {
        const struct lc_node *nd = &G->nodes[k];
        for (int e = 0; e < nd->n_in; e++) {
            size_t off = (size_t)(nd->in[e].w - base);
            size_t len = (size_t)nd->width * (size_t)G->nodes[nd->in[e].src].width;
            adam(base + off, t->grad + off, t->m + off, t->v + off, len, sw, bc2s);
        }
        size_t off = (size_t)(nd->bias - base);
        adam(base + off, t->grad + off, t->m + off, t->v + off, (size_t)nd->width, sw, bc2s);
        if (!nd->slope) continue;
        off = (size_t)(nd->slope - base);
        adam(base + off, t->grad + off, t->m + off, t->v + off, (size_t)nd->width,
             gated(t->g, k) ? sg : sw, bc2s);
        if (!gated(t->g, k)) continue;
        for (int i = 0; i < nd->width; i++)
            nd->slope[i] = nd->slope[i] < 0 ? 0 : nd->slope[i] > 1 ? 1 : nd->slope[i];
    }
}

/* The controller: size with every gate >= 0.5 folded; lambda up while above
 * the budget, down when well below (only while `adjust`); the weights in
 * the context of that plan. */
static lc_status control(lc_induce_trainer *t, bool adjust, lc_error *err)
{
    int id = lc_act_identity_piece(LC_ACT_RELU);
    t->high = t->one = 0;
    for (int k = 1; k < t->G->n_nodes; k++) {
        if (!gated(t->g, k)) continue;
        const float *s = t->G->nodes[k].slope;
        for (int i = 0; i < t->G->nodes[k].width; i++) {
            lc_plan_set(t->plan, k, i, s[i] >= 0.5f ? id : LC_KEEP, NULL);
            t->high += s[i] >= 0.5f;
            t->one += s[i] == 1.0f;
        }
    }
    lc_status st = lc_plan_params_after(t->g, t->plan, &t->est, NULL, err);
    if (st) return st;
    /* gates follow lambda with a lag, so the estimate overshoots: back off
     * at half the rate, never below the start, and only when well below */
    if (adjust) {
        if (t->est > t->budget) t->lambda *= t->o->lambda_factor;
        else if ((double)t->est < 0.7 * (double)t->budget)
            t->lambda = fmax(t->o->lambda0, t->lambda / sqrt(t->o->lambda_factor));
    }
    return lc_induce_weights(t->g, t->plan, t->w, err);
}

lc_status lc_induce_train_gates(lc_induce_trainer *t, const lc_data *train,
                                const lc_data *val, lc_error *err)
{
    const lc_induce_opts *o = t->o;
    lc_graph *G = t->G;
    size_t n = lc_data_rows(train), nf = G->n_floats;
    size_t batch = (size_t)o->batch < n ? (size_t)o->batch : n;
    int in_w = G->nodes[0].width;
    lc_status st;
    if ((st = lc_bwork_init(&t->bw, G, batch, true, err))) return st;
    t->grad = malloc(nf * sizeof *t->grad);
    t->m = calloc(nf, sizeof *t->m);
    t->v = calloc(nf, sizeof *t->v);
    t->xb = malloc(batch * (size_t)in_w * sizeof *t->xb);
    t->yb = malloc(batch * sizeof *t->yb);
    t->perm = malloc(n * sizeof *t->perm);
    t->w = calloc((size_t)G->n_nodes, sizeof *t->w);
    if (!t->grad || !t->m || !t->v || !t->xb || !t->yb || !t->perm || !t->w)
        return lc_fail(err, LC_ERR_NOMEM, "induce: out of memory for training");
    if ((st = lc_plan_create(t->g, &t->plan, err)) || (st = control(t, false, err))) return st;

    /* gates need a few hundred steps to follow lambda: small data sets get
     * more epochs, up to min_steps */
    size_t per_epoch = (n + batch - 1) / batch;
    size_t want = ((size_t)o->min_steps + per_epoch - 1) / per_epoch;
    int epochs = want > (size_t)o->epochs ? (want < INT_MAX ? (int)want : INT_MAX) : o->epochs;
    size_t total = per_epoch * (size_t)epochs;
    size_t every = total / (size_t)o->checks ? total / (size_t)o->checks : 1;
    size_t anneal_until = (size_t)ceil(o->anneal_share * (double)total), done = 0;
    uint64_t rng = o->seed;
    const float *x = lc_data_x(train);
    const int32_t *y = lc_data_y(train);
    t->epochs = epochs;
    for (int ep = 1; ep <= epochs; ep++) {
        double t0 = now(), loss = 0;
        size_t correct = 0;
        for (size_t i = 0; i < n; i++) t->perm[i] = i;
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = rng_below(&rng, i + 1), s = t->perm[i];
            t->perm[i] = t->perm[j];
            t->perm[j] = s;
        }
        for (size_t b0 = 0; b0 < n; b0 += batch) {
            size_t m = n - b0 < batch ? n - b0 : batch;
            for (size_t i = 0; i < m; i++) {
                size_t row = t->perm[b0 + i];
                memcpy(t->xb + i * (size_t)in_w, x + row * (size_t)in_w,
                       (size_t)in_w * sizeof(float));
                t->yb[i] = y[row];
            }
            double bl = lc_batch_grad(&t->bw, t->xb, t->yb, m, (float)(1.0 / (double)m),
                                      t->grad, false, &correct, NULL, NULL);
            if (!isfinite(bl))
                return lc_fail(err, LC_ERR_NUMERIC, "induce: the loss is %g in epoch %d, "
                               "batch %zu (try a lower --lr)", bl / (double)m, ep,
                               b0 / batch + 1);
            loss += bl;
            step(t);
            if (++done % every == 0 && (st = control(t, done <= anneal_until, err))) return st;
        }
        if ((st = control(t, false, err))) return st;
        lc_induce_epoch info = {ep, epochs, 0, loss / (double)n, (double)correct / (double)n,
                                NAN, t->lambda, t->est, t->high, t->one, 0};
        if (val) {
            lc_eval_result ev;
            if ((st = lc_evaluate(G, val, &ev, err))) return st;
            info.val_acc = ev.accuracy;
        }
        info.seconds = now() - t0;
        if (o->epoch_cb) o->epoch_cb(o->cb_ctx, &info);
    }
    return lc_graph_check_finite(G, err) ? lc_fail(err, LC_ERR_NUMERIC, "induce: training "
                                                   "diverged (try a lower --lr)")
                                         : LC_OK;
}
