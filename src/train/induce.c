/* induce.c - linearity-inducing fine-tuning (docs/induce.md).
 *
 * Every hidden ReLU neuron gets a gate g in [0, 1], stored as the slope of a
 * PReLU: h = relu(z) + g min(z, 0). g = 0 is the original ReLU, g = 1 the
 * identity, so a neuron whose gate reaches 1 is linear on every input and
 * folds exactly. Weights and gates train together (Adam, the gates with
 * their own, larger learning rate) on cross-entropy plus
 *
 *     lambda x sum_i w_k(i) (1 - g_i)
 *
 * where w_k is the cost model's saving per neuron of folding node k whole,
 * in the context of what the other nodes would fold (lc_induce_weights).
 * A controller raises lambda geometrically while the model that folds every
 * gate >= 0.5 is above the budget, and lowers it when well below, so the
 * strength anneals to what the budget needs. At the end the gates are set
 * to exactly 0 or 1 (lc_induce_select), the gate-1 neurons folded with
 * lc_fold and the result fine-tuned (lc_finetune).
 */
#include "train/train.h"

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

/* The nodes that carry gates: hidden ReLU nodes. */
static bool gated(const lc_graph *g, int k)
{
    return k >= 1 && k < g->n_nodes - 1 && g->nodes[k].act.kind == LC_ACT_RELU;
}

/* ------------------------------------------------------ retyping a graph */

/* A copy of src with activation acts[k] on node k: weights, biases, names,
 * edges and preprocessing copied; slopes taken from src where both are
 * PReLU, else 0. */
static lc_status with_acts(const lc_graph *src, const lc_act *acts, lc_graph **out,
                           lc_error *err)
{
    *out = NULL;
    int n = src->n_nodes;
    if (n < 2 || n > LC_MAX_NODES)
        return lc_fail(err, LC_ERR_INVALID, "copying a graph of %d nodes", n);
    size_t n_edges = 0;
    for (int k = 0; k < n; k++) n_edges += (size_t)src->nodes[k].n_in;
    lc_node_spec *spec = calloc((size_t)n, sizeof *spec);
    int *srcs = malloc((n_edges ? n_edges : 1) * sizeof *srcs);
    lc_graph *g = NULL;
    lc_status st = LC_OK;
    if (!spec || !srcs) {
        st = lc_fail(err, LC_ERR_NOMEM, "out of memory copying a graph");
        goto done;
    }
    int *sp = srcs;
    for (int k = 0; k < n; k++) {
        const struct lc_node *nd = &src->nodes[k];
        spec[k] = (lc_node_spec){nd->name, nd->width, acts[k], nd->n_in, sp};
        for (int e = 0; e < nd->n_in; e++) *sp++ = nd->in[e].src;
    }
    if ((st = lc_graph_create(n, spec, &g, err))) goto done;
    for (int k = 1; k < n; k++) {
        const struct lc_node *od = &src->nodes[k];
        struct lc_node *nd = &g->nodes[k];
        for (int e = 0; e < od->n_in; e++)
            memcpy(nd->in[e].w, od->in[e].w,
                   (size_t)od->width * (size_t)src->nodes[od->in[e].src].width * sizeof(float));
        memcpy(nd->bias, od->bias, (size_t)od->width * sizeof(float));
        if (nd->slope && od->slope)
            memcpy(nd->slope, od->slope, (size_t)od->width * sizeof(float));
    }
    if (src->pre && (st = lc_preproc_clone(src->pre, &g->pre, err))) goto done;
    *out = g;
    g = NULL;
done:
    lc_graph_free(g);
    free(srcs);
    free(spec);
    return st;
}

lc_status lc_induce_gate_graph(const lc_graph *g, lc_graph **out, lc_error *err)
{
    lc_act *acts = malloc((size_t)g->n_nodes * sizeof *acts);
    if (!acts) return lc_fail(err, LC_ERR_NOMEM, "out of memory gating a graph");
    for (int k = 0; k < g->n_nodes; k++) {
        acts[k] = g->nodes[k].act;
        if (gated(g, k)) acts[k] = (lc_act){LC_ACT_PRELU, 0, 0, 0};
    }
    lc_status st = with_acts(g, acts, out, err);
    free(acts);
    return st;
}

/* ------------------------------------------------------ the cost weights */

/* Sets every neuron of node k to `piece` in p. */
static void plan_fill(lc_plan *p, int k, int width, int piece)
{
    for (int i = 0; i < width; i++) lc_plan_set(p, k, i, piece, NULL);
}

lc_status lc_induce_weights(const lc_graph *g, const lc_plan *p, double *w, lc_error *err)
{
    int n = g->n_nodes;
    lc_plan *q = NULL;
    int *saved = NULL;
    int wmax = 0;
    for (int k = 0; k < n; k++) wmax = g->nodes[k].width > wmax ? g->nodes[k].width : wmax;
    lc_status st = p ? lc_plan_clone(p, &q, err) : lc_plan_create(g, &q, err);
    if (st) return st;
    if (!(saved = malloc((size_t)wmax * sizeof *saved))) {
        lc_plan_free(q);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory for the penalty weights");
    }
    double top = 0;
    for (int k = 0; k < n && !st; k++) {
        w[k] = 0;
        if (!gated(g, k)) continue;
        int wk = g->nodes[k].width;
        for (int i = 0; i < wk; i++) saved[i] = lc_plan_get(q, k, i);
        size_t none, all;
        plan_fill(q, k, wk, LC_KEEP);
        st = lc_plan_params_after(g, q, &none, NULL, err);
        plan_fill(q, k, wk, lc_act_identity_piece(LC_ACT_RELU));
        if (!st) st = lc_plan_params_after(g, q, &all, NULL, err);
        for (int i = 0; i < wk; i++) lc_plan_set(q, k, i, saved[i], NULL);
        if (st) break;
        double save = ((double)none - (double)all) / wk;
        w[k] = save > 0 ? save : 0;
        top = w[k] > top ? w[k] : top;
    }
    for (int k = 0; k < n && !st && top > 0; k++) w[k] /= top;
    free(saved);
    lc_plan_free(q);
    return st;
}

/* ------------------------------------------------------ the 0/1 rounding */

typedef struct ranked {
    float gate;
    double weight;
    int k, i;
} ranked;

static int by_gate(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->gate != y->gate) return x->gate > y->gate ? -1 : 1;
    if (x->weight != y->weight) return x->weight > y->weight ? -1 : 1;
    if (x->k != y->k) return x->k < y->k ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

lc_status lc_induce_select(const lc_graph *g, const float *const *gates, size_t budget,
                           lc_plan **out, int *met, lc_error *err)
{
    *out = NULL;
    int n = g->n_nodes, id = lc_act_identity_piece(LC_ACT_RELU);
    size_t total = 0;
    for (int k = 0; k < n; k++) {
        if (!gated(g, k) || !gates[k]) continue;
        for (int i = 0; i < g->nodes[k].width; i++)
            if (!(gates[k][i] >= 0 && gates[k][i] <= 1))
                return lc_fail(err, LC_ERR_INVALID, "gate %d of node '%s' is %g, not in [0, 1]",
                               i, g->nodes[k].name, (double)gates[k][i]);
        total += (size_t)g->nodes[k].width;
    }
    double *w = malloc((size_t)n * sizeof *w);
    ranked *r = malloc((total ? total : 1) * sizeof *r);
    lc_plan *p = NULL;
    lc_status st = LC_OK;
    if (!w || !r) {
        st = lc_fail(err, LC_ERR_NOMEM, "out of memory ranking gates");
        goto done;
    }
    if ((st = lc_induce_weights(g, NULL, w, err)) || (st = lc_plan_create(g, &p, err)))
        goto done;
    size_t t = 0;
    double cost = 0; /* of the empty prefix: every gate rounded to 0 */
    for (int k = 0; k < n; k++) {
        if (!gated(g, k) || !gates[k]) continue;
        for (int i = 0; i < g->nodes[k].width; i++) {
            r[t++] = (ranked){gates[k][i], w[k], k, i};
            cost += gates[k][i];
        }
    }
    qsort(r, total, sizeof *r, by_gate);
    /* walk the prefixes (highest gates first) and stop at the first that fits
     * the budget: the largest model within it. Training may drive more
     * gates towards 1 than the budget needs; folding them all would land
     * far below the budget, and a model at the budget recovers more in
     * fine-tuning than a needlessly linear one. Else: the smallest model. */
    size_t params, best_len = 0, small_len = 0, small = 0;
    double best_cost = INFINITY;
    if ((st = lc_plan_params_after(g, p, &params, NULL, err))) goto done;
    small = params;
    if (params <= budget) best_cost = cost;
    for (size_t L = 1; L <= total && !isfinite(best_cost); L++) {
        lc_plan_set(p, r[L - 1].k, r[L - 1].i, id, NULL);
        cost += 1 - 2 * (double)r[L - 1].gate;
        if ((st = lc_plan_params_after(g, p, &params, NULL, err))) goto done;
        if (params <= budget) {
            best_cost = cost;
            best_len = L;
        }
        if (params < small) {
            small = params;
            small_len = L;
        }
    }
    bool fits = isfinite(best_cost);
    size_t len = fits ? best_len : small_len;
    for (size_t L = len; L < total; L++) lc_plan_set(p, r[L].k, r[L].i, LC_KEEP, NULL);
    if (met) *met = fits;
    *out = p;
    p = NULL;
done:
    lc_plan_free(p);
    free(r);
    free(w);
    return st;
}

/* ------------------------------------------- standardised input coordinates */

/* Per-feature mean and sd of d (sd 1 for constant features). */
static void moments(const lc_data *d, double *mean, double *sd)
{
    size_t n = lc_data_rows(d);
    int cols = lc_data_cols(d);
    const float *x = lc_data_x(d);
    for (int c = 0; c < cols; c++) {
        double s = 0, s2 = 0;
        for (size_t r = 0; r < n; r++) s += x[r * (size_t)cols + c];
        mean[c] = n ? s / (double)n : 0;
        for (size_t r = 0; r < n; r++) {
            double v = x[r * (size_t)cols + c] - mean[c];
            s2 += v * v;
        }
        sd[c] = n > 1 ? sqrt(s2 / (double)n) : 1;
        if (!(sd[c] > 1e-12)) sd[c] = 1;
    }
}

static lc_status standardised(const lc_data *d, const double *mean, const double *sd,
                              lc_data **out, lc_error *err)
{
    size_t n = lc_data_rows(d), cells;
    int cols = lc_data_cols(d);
    if (!lc_mul_ok(n, (size_t)cols, &cells))
        return lc_fail(err, LC_ERR_NOMEM, "induce: data too large");
    float *x = malloc((cells ? cells : 1) * sizeof *x);
    if (!x) return lc_fail(err, LC_ERR_NOMEM, "induce: out of memory for standardised data");
    const float *src = lc_data_x(d);
    for (size_t r = 0; r < n; r++)
        for (int c = 0; c < cols; c++) {
            size_t at = r * (size_t)cols + (size_t)c;
            x[at] = (float)(((double)src[at] - mean[c]) / sd[c]);
        }
    int classes = lc_data_classes(d);
    lc_status st = lc_data_from_arrays(n, cols, x, lc_data_y(d), classes > 0 ? classes : 1,
                                       out, err);
    free(x);
    return st;
}

/* Edges from the input: to standardised inputs (forward) or back to raw
 * ones. z = W x + b = (W diag(sd)) x' + (b + W mean). */
static void rescale_inputs(lc_graph *g, const double *mean, const double *sd, bool forward)
{
    int cols = g->nodes[0].width;
    for (int m = 1; m < g->n_nodes; m++) {
        struct lc_node *nd = &g->nodes[m];
        int e = lc_graph_find_edge(g, m, 0);
        if (e < 0) continue;
        for (int r = 0; r < nd->width; r++) {
            float *w = nd->in[e].w + (size_t)r * (size_t)cols;
            double shift = 0;
            for (int c = 0; c < cols; c++) {
                if (forward) {
                    shift += (double)w[c] * mean[c];
                    w[c] = (float)((double)w[c] * sd[c]);
                } else {
                    w[c] = (float)((double)w[c] / sd[c]);
                    shift -= (double)w[c] * mean[c];
                }
            }
            nd->bias[r] = (float)((double)nd->bias[r] + shift);
        }
    }
}

/* ------------------------------------------------------------ the trainer */

typedef struct trainer {
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
} trainer;

static void trainer_free(trainer *t)
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
static void step(trainer *t)
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
static lc_status control(trainer *t, bool adjust, lc_error *err)
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

static lc_status train_gates(trainer *t, const lc_data *train, const lc_data *val,
                             lc_error *err)
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

/* ------------------------------------------------------------ the pipeline */

void lc_induce_opts_default(lc_induce_opts *o)
{
    memset(o, 0, sizeof *o);
    o->target_size = 1.0;
    o->epochs = 10;
    o->min_steps = 2000;
    o->finetune_epochs = 3;
    o->batch = 32;
    o->lr = 1e-3;
    o->gate_lr = 1e-2;
    o->lambda0 = 1e-4;
    o->lambda_factor = 1.25;
    o->checks = 100;
    o->anneal_share = 0.8;
    o->temperature = LC_DISTILL_T;
    o->alpha = LC_DISTILL_ALPHA;
}

void lc_induce_result_clear(lc_induce_result *r)
{
    free(r->linearized);
    memset(r, 0, sizeof *r);
}

static lc_status check_opts(const lc_induce_opts *o, lc_error *err)
{
    const char *bad =
        !(o->target_size > 0 && o->target_size <= 1) ? "target size must be in (0, 1]"
        : o->epochs < 1                              ? "epochs must be >= 1"
        : o->min_steps < 0                           ? "min steps must be >= 0"
        : o->finetune_epochs < 0                     ? "fine-tuning epochs must be >= 0"
        : o->batch < 1                               ? "batch must be >= 1"
        : !(o->lr > 0 && isfinite(o->lr))            ? "lr must be > 0"
        : !(o->gate_lr > 0 && isfinite(o->gate_lr))  ? "gate lr must be > 0"
        : !(o->lambda0 > 0 && isfinite(o->lambda0))  ? "lambda0 must be > 0"
        : !(o->lambda_factor > 1 && isfinite(o->lambda_factor)) ? "lambda factor must be > 1"
        : o->checks < 1                              ? "checks must be >= 1"
        : !(o->anneal_share > 0 && o->anneal_share <= 1) ? "anneal share must be in (0, 1]"
                                                         : NULL;
    return bad ? lc_fail(err, LC_ERR_INVALID, "induce: %s", bad) : LC_OK;
}

static lc_status check_data(const lc_graph *g, const lc_data *d, const char *what,
                            lc_error *err)
{
    if (!d) return LC_OK;
    if (lc_data_rows(d) == 0 || !lc_data_y(d))
        return lc_fail(err, LC_ERR_INVALID, "induce: the %s data has no labelled samples", what);
    if (lc_data_cols(d) != g->nodes[0].width)
        return lc_fail(err, LC_ERR_SHAPE, "induce: the %s data has %d features, the model "
                       "takes %d", what, lc_data_cols(d), g->nodes[0].width);
    return lc_check_labels(g, lc_data_y(d), lc_data_rows(d), what, err);
}

static lc_status measure(const lc_graph *g, size_t params, const lc_data *val,
                         const lc_data *test, lc_induce_stage *s, lc_error *err)
{
    lc_eval_result ev;
    lc_status st;
    s->params = params;
    s->val_acc = s->test_acc = NAN;
    if (val && (st = lc_evaluate(g, val, &ev, err))) return st;
    if (val) s->val_acc = ev.accuracy;
    if (test && (st = lc_evaluate(g, test, &ev, err))) return st;
    if (test) s->test_acc = ev.accuracy;
    return LC_OK;
}

/* Largest |a(x) - b(x)| over the rows of d: how exact the fold was. */
static lc_status max_diff(const lc_graph *a, const lc_graph *b, const lc_data *d, double *out,
                          lc_error *err)
{
    size_t n = lc_data_rows(d), w = (size_t)a->nodes[a->n_nodes - 1].width;
    float *oa = malloc(n * w * sizeof *oa), *ob = malloc(n * w * sizeof *ob);
    lc_status st = !oa || !ob ? lc_fail(err, LC_ERR_NOMEM, "induce: out of memory") : LC_OK;
    if (!st) st = lc_forward(a, lc_data_x(d), n, oa, err);
    if (!st) st = lc_forward(b, lc_data_x(d), n, ob, err);
    double m = 0;
    for (size_t i = 0; !st && i < n * w; i++) m = fmax(m, fabs((double)oa[i] - ob[i]));
    *out = m;
    free(oa);
    free(ob);
    return st;
}

static void finetune_epoch(void *ctx, const lc_epoch_info *e)
{
    const lc_induce_opts *o = ctx;
    lc_induce_epoch info = {e->epoch, e->epochs, 1, e->train_loss, e->train_acc, e->val_acc,
                            NAN, 0, 0, 0, e->seconds};
    o->epoch_cb(o->cb_ctx, &info);
}

lc_status lc_induce(const lc_graph *g, const lc_data *train, const lc_data *val,
                    const lc_data *test, const lc_induce_opts *o, lc_graph **out,
                    lc_induce_result *res, lc_error *err)
{
    *out = NULL;
    memset(res, 0, sizeof *res);
    lc_status st;
    if ((st = check_opts(o, err)) || (st = check_data(g, train, "training", err)) ||
        (st = check_data(g, val, "validation", err)) || (st = check_data(g, test, "test", err)))
        return st;
    if (!train) return lc_fail(err, LC_ERR_INVALID, "induce: no training data");
    int n = g->n_nodes, any = 0, id = lc_act_identity_piece(LC_ACT_RELU);
    for (int k = 0; k < n; k++) any |= gated(g, k);
    if (n < 2 || n > LC_MAX_NODES) any = 0;
    if (!any)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "induce: the model has no hidden ReLU node "
                       "(gates are put on ReLU neurons only)");

    double *mean = NULL, *sd = NULL;
    lc_data *tr_std = NULL, *va_std = NULL;
    lc_graph *G = NULL, *R = NULL, *F = NULL;
    lc_plan *plan = NULL;
    const float **gates = calloc((size_t)n, sizeof *gates);
    lc_act *acts = malloc((size_t)n * sizeof *acts);
    trainer t = {.g = g, .o = o, .lambda = o->lambda0};
    res->n_nodes = n;
    res->linearized = calloc((size_t)n, sizeof *res->linearized);
    res->budget = t.budget = (size_t)floor(o->target_size * (double)g->n_floats);
    if (!gates || !acts || !res->linearized) {
        st = lc_fail(err, LC_ERR_NOMEM, "induce: out of memory");
        goto done;
    }
    if ((st = measure(g, g->n_floats, val, test, &res->original, err)) ||
        (st = lc_induce_gate_graph(g, &G, err)))
        goto done;

    /* a model with stored preprocessing absorbed its standardisation in the
     * first layer (lincomp train): train on the scale it was trained on */
    bool std = g->pre != NULL;
    int cols = g->nodes[0].width;
    if (std) {
        mean = malloc((size_t)cols * sizeof *mean);
        sd = malloc((size_t)cols * sizeof *sd);
        if (!mean || !sd) {
            st = lc_fail(err, LC_ERR_NOMEM, "induce: out of memory");
            goto done;
        }
        moments(train, mean, sd);
        if ((st = standardised(train, mean, sd, &tr_std, err)) ||
            (val && (st = standardised(val, mean, sd, &va_std, err))))
            goto done;
        rescale_inputs(G, mean, sd, true);
    }
    t.G = G;
    st = train_gates(&t, std ? tr_std : train, std ? va_std : val, err);
    res->lambda = t.lambda;
    res->steps = (int)t.t;
    res->epochs = t.epochs;
    if (st) goto done;
    if (std) rescale_inputs(G, mean, sd, false);
    if ((st = measure(G, t.est, val, test, &res->induced, err))) goto done;

    /* gates to exactly 0 or 1 */
    for (int k = 0; k < n; k++) gates[k] = gated(g, k) ? G->nodes[k].slope : NULL;
    if ((st = lc_induce_select(g, gates, res->budget, &plan, NULL, err))) goto done;
    for (int k = 0; k < n; k++)
        for (int i = 0; gated(g, k) && i < G->nodes[k].width; i++)
            G->nodes[k].slope[i] = lc_plan_get(plan, k, i) == id ? 1.0f : 0.0f;
    if ((st = measure(G, g->n_floats, val, test, &res->rounded, err))) goto done;

    /* the ReLU model with the trained weights; its gate-1 neurons fold exactly */
    for (int k = 0; k < n; k++) acts[k] = g->nodes[k].act;
    if ((st = with_acts(G, acts, &R, err)) || (st = lc_fold(R, plan, &F, NULL, err)) ||
        (st = max_diff(G, F, val ? val : train, &res->fold_max_abs_diff, err)) ||
        (st = measure(F, F->n_floats, val, test, &res->folded, err)))
        goto done;

    if (o->finetune_epochs > 0) {
        lc_train_opts to;
        lc_train_opts_default(&to);
        to.epochs = o->finetune_epochs;
        to.batch = o->batch;
        to.lr = o->lr;
        to.seed = o->seed ^ 0x5EEDF17Eull;
        to.teacher = o->finetune_labels ? NULL : g;
        to.temperature = o->temperature;
        to.alpha = o->alpha;
        if (o->epoch_cb) {
            to.epoch_cb = finetune_epoch;
            to.cb_ctx = (void *)o;
        }
        if ((st = lc_finetune(F, train, val, &to, err))) goto done;
    }
    if ((st = measure(F, F->n_floats, val, test, &res->finetuned, err))) goto done;
    for (int k = 0; k < n; k++)
        res->linearized[k] = gated(g, k) ? lc_plan_folded_linear(plan, k) : 0;
    res->met = F->n_floats <= res->budget;
    *out = F;
    F = NULL;
done:
    if (st) {
        free(res->linearized);
        res->linearized = NULL;
    }
    trainer_free(&t);
    lc_plan_free(plan);
    lc_graph_free(F);
    lc_graph_free(R);
    lc_graph_free(G);
    lc_data_free(tr_std);
    lc_data_free(va_std);
    free(mean);
    free(sd);
    free(acts);
    free(gates);
    return st;
}
