/* backward.c - loss and gradient of a batch over the general graph.
 *
 * Forward: lc_forward_batch keeps every h_k; a hook keeps z_k only where h_k
 * does not tell the activation's slope (PReLU, LeakyReLU with alpha <= 0,
 * an output activation). Loss on the output's logits: softmax cross-entropy
 * with the labels, T^2 KL divergence to a teacher's softened outputs
 * (distillation), or a mix of the two (lc_row_loss).
 * Backward, node k from last to first:
 *     dz_k = dh_k * act'(z_k)
 *     dW_kj = dz_k^T h_j  and  dh_j += dz_k W_kj   (one SGEMM each per edge)
 *     db_k = column sums of dz_k, dslope_k = column sums of dh_k * min(z_k, 0)
 * A node's dh is complete when we reach it, because all its consumers come
 * later in the order. */
#include "train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool is_last(const lc_graph *g, int k) { return k == g->n_nodes - 1; }

/* Whether node k's backward pass needs z_k itself, not just h_k. */
static bool needs_z(const lc_graph *g, int k)
{
    const lc_act *a = &g->nodes[k].act;
    switch (a->kind) {
    case LC_ACT_PRELU: return true;
    case LC_ACT_LEAKY_RELU: return !(a->alpha > 0); /* else h > 0 <=> z > 0 */
    case LC_ACT_SOFTMAX:
    case LC_ACT_LOG_SOFTMAX:
    case LC_ACT_SIGMOID: return true; /* the loss wants the logits */
    default: return false;
    }
}

void lc_bwork_free(lc_bwork *b)
{
    lc_work_free(&b->fw);
    free(b->z);
    free(b->dh);
    free(b->ready);
    free(b->zbuf);
    free(b->dbuf);
    memset(b, 0, sizeof *b);
}

lc_status lc_bwork_init(lc_bwork *b, const lc_graph *g, size_t rows, bool backward,
                        lc_error *err)
{
    memset(b, 0, sizeof *b);
    b->g = g;
    b->rows = rows;
    lc_status st = lc_work_init(&b->fw, g, rows, err);
    if (st) return st;
    size_t nz = 0, nd = 0, sz;
    for (int k = 1; k < g->n_nodes; k++) {
        nd += (size_t)g->nodes[k].width;
        if (needs_z(g, k)) nz += (size_t)g->nodes[k].width;
    }
    /* lc_work_init checked rows x (all widths), so these products fit */
    b->z = calloc((size_t)g->n_nodes, sizeof *b->z);
    b->zbuf = malloc((nz && rows ? nz * rows : 1) * sizeof(float));
    if (backward) {
        b->dh = calloc((size_t)g->n_nodes, sizeof *b->dh);
        b->ready = calloc((size_t)g->n_nodes, sizeof *b->ready);
        b->dbuf = lc_mul_ok(nd, rows, &sz) ? malloc((sz ? sz : 1) * sizeof(float)) : NULL;
    }
    if (!b->z || !b->zbuf || (backward && (!b->dh || !b->ready || !b->dbuf))) {
        lc_bwork_free(b);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory for training buffers of %zu rows", rows);
    }
    float *pz = b->zbuf, *pd = b->dbuf;
    for (int k = 1; k < g->n_nodes; k++) {
        size_t n = rows * (size_t)g->nodes[k].width;
        if (needs_z(g, k)) {
            b->z[k] = pz;
            pz += n;
        }
        if (backward) {
            b->dh[k] = pd;
            pd += n;
        }
    }
    return LC_OK;
}

static void keep_z(void *ctx, int k, const float *z, size_t rows)
{
    lc_bwork *b = ctx;
    if (b->z[k]) memcpy(b->z[k], z, rows * (size_t)b->g->nodes[k].width * sizeof(float));
}

/* The logits the loss is taken on: the pre-activation under an output
 * activation (softmax and friends only rescale the logits), else h. */
static const float *logits(const lc_bwork *b)
{
    int k = b->g->n_nodes - 1;
    return lc_act_is_output(b->g->nodes[k].act.kind) ? b->z[k] : b->fw.h[k];
}

/* log(1 + e^v) without overflow */
static double softplus(double v) { return fmax(v, 0) + log1p(exp(-fabs(v))); }

/* T^2 KL(sigmoid(t/T) || sigmoid(s/T)) of one binary logit pair, and its
 * derivative by s: T^2 (q - p) / T = T (q - p). */
static double soft_binary(double s, double t, double T, double *ds)
{
    double lp1 = -softplus(-t / T), lp0 = -softplus(t / T); /* log p, log(1 - p) */
    double lq1 = -softplus(-s / T), lq0 = -softplus(s / T);
    *ds = T * (exp(lq1) - exp(lp1));
    return T * T * (exp(lp1) * (lp1 - lq1) + exp(lp0) * (lp0 - lq0));
}

/* log sum_i exp((v_i - m) / T) with m = max v (returned in *m): the log of
 * the softmax of v / T is (v_i - m) / T minus this. */
static double lse_t(const float *v, int w, double T, double *m)
{
    double mx = v[0], sum = 0;
    for (int i = 1; i < w; i++) mx = fmax(mx, v[i]);
    for (int i = 0; i < w; i++) sum += exp(((double)v[i] - mx) / T);
    *m = mx;
    return log(sum);
}

/* T^2 KL(softmax(t/T) || softmax(s/T)) of one row; when d is not NULL adds
 * coef x its gradient by s. With p = softmax(t/T), q = softmax(s/T) and
 * KL = sum_j p_j (log p_j - log q_j): d log q_j / d s_i = (1[i=j] - q_i) / T
 * and sum_j p_j = 1, so dKL/ds_i = (q_i - p_i) / T and the T^2-scaled term
 * has the gradient T (q_i - p_i). The T^2 keeps the gradient's size about
 * independent of T (Hinton et al. 2015). */
static double soft_row(const float *s, const float *t, int w, double T, double coef, float *d)
{
    double ms, mt, ls = lse_t(s, w, T, &ms), lt = lse_t(t, w, T, &mt), kl = 0;
    for (int i = 0; i < w; i++) {
        double lp = ((double)t[i] - mt) / T - lt, lq = ((double)s[i] - ms) / T - ls;
        double p = exp(lp);
        kl += p * (lp - lq);
        if (d) d[i] = (float)((double)d[i] + coef * T * (exp(lq) - p));
    }
    return T * T * kl;
}

static int argmax(const float *v, int w)
{
    int best = 0;
    for (int i = 1; i < w; i++) best = v[i] > v[best] ? i : best;
    return best;
}

double lc_row_loss(const float *o, int w, int y, const lc_soft *soft, const float *t,
                   float scale, float *d, size_t *correct)
{
    /* the weight of each term: the labels only, the teacher only (no label),
     * or alpha on the teacher and 1 - alpha on the label */
    double wt = !t ? 0 : y < 0 ? 1 : soft->alpha, wy = y < 0 ? 0 : 1 - wt;
    double loss = 0;
    if (w == 1) {
        double s = o[0], ds = 0;
        if (wy > 0) loss += wy * (softplus(s) - (y == 1) * s);
        if (wt > 0) loss += wt * soft_binary(s, t[0], soft->temp, &ds);
        if (d)
            d[0] = (float)(scale * ((wy > 0 ? wy * (1.0 / (1.0 + exp(-s)) - (y == 1)) : 0) +
                                    wt * ds));
        *correct += y >= 0 ? (s > 0) == (y == 1) : (s > 0) == (t[0] > 0);
        return loss;
    }
    int best = argmax(o, w);
    double mx = o[best], sum = 0;
    for (int i = 0; i < w; i++) sum += exp((double)o[i] - mx);
    if (wy > 0) loss += wy * (log(sum) + mx - (double)o[y]);
    if (d)
        for (int i = 0; i < w; i++)
            d[i] = wy > 0 ? (float)(scale * wy * (exp((double)o[i] - mx) / sum - (i == y))) : 0;
    if (wt > 0) loss += wt * soft_row(o, t, w, soft->temp, scale * wt, d);
    *correct += y >= 0 ? best == y : best == argmax(t, w);
    return loss;
}

/* The label of row r, or -1 without labels. */
static int label(const int32_t *y, size_t r) { return y ? y[r] : -1; }

/* Row r's teacher logits in this batch, or NULL. */
static const float *teacher_row(const lc_bwork *b, size_t r, int w)
{
    return b->soft.t ? b->soft.t + r * (size_t)w : NULL;
}

double lc_batch_loss(lc_bwork *b, const float *x, const int32_t *y, size_t rows,
                     size_t *correct)
{
    lc_forward_batch(b->g, &b->fw, x, rows, keep_z, b);
    const float *o = logits(b);
    int w = b->g->nodes[b->g->n_nodes - 1].width;
    double loss = 0;
    for (size_t r = 0; r < rows; r++)
        loss += lc_row_loss(o + r * w, w, label(y, r), &b->soft, teacher_row(b, r, w), 0, NULL,
                            correct);
    return loss;
}

lc_status lc_logits(const lc_graph *g, const float *x, size_t n, float *out, lc_error *err)
{
    size_t rows = n < LC_BATCH ? n : LC_BATCH;
    int in_w = g->nodes[0].width, w = g->nodes[g->n_nodes - 1].width;
    lc_bwork b;
    lc_status st = lc_bwork_init(&b, g, rows ? rows : 1, false, err);
    if (st) return st;
    for (size_t r = 0; r < n; r += rows) {
        size_t m = n - r < rows ? n - r : rows;
        lc_forward_batch(g, &b.fw, x + r * (size_t)in_w, m, keep_z, &b);
        memcpy(out + r * (size_t)w, logits(&b), m * (size_t)w * sizeof(float));
    }
    lc_bwork_free(&b);
    return LC_OK;
}

/* dh -> dz in place for node k's activation; PReLU slope gradient first,
 * since it needs dh, not dz. */
static void act_backward(const struct lc_node *nd, const float *h, const float *z, float *d,
                         size_t rows, float *gslope, bool accumulate)
{
    size_t len = rows * (size_t)nd->width;
    int w = nd->width;
    switch (nd->act.kind) {
    case LC_ACT_RELU:
        for (size_t i = 0; i < len; i++) d[i] = h[i] > 0 ? d[i] : 0.0f;
        break;
    case LC_ACT_LEAKY_RELU: {
        const float *s = z ? z : h, a = nd->act.alpha;
        for (size_t i = 0; i < len; i++) d[i] = s[i] > 0 ? d[i] : a * d[i];
        break;
    }
    case LC_ACT_PRELU:
        if (!accumulate) memset(gslope, 0, (size_t)w * sizeof(float));
        for (size_t r = 0; r < rows; r++) {
            const float *zr = z + r * w;
            float *dr = d + r * w;
            for (int i = 0; i < w; i++) {
                bool pos = zr[i] > 0;
                gslope[i] += pos ? 0.0f : zr[i] * dr[i];
                dr[i] = pos ? dr[i] : nd->slope[i] * dr[i];
            }
        }
        break;
    case LC_ACT_CLIP: {
        /* lo < h < hi exactly when lo < z < hi: the identity piece */
        float lo = nd->act.lo, hi = nd->act.hi;
        for (size_t i = 0; i < len; i++) d[i] = h[i] > lo && h[i] < hi ? d[i] : 0.0f;
        break;
    }
    default: break; /* identity; output activations never reach here */
    }
}

static void zero_node_grad(const lc_graph *g, int k, float *grad, lc_grad_ready ready,
                           void *ctx)
{
    const struct lc_node *nd = &g->nodes[k];
    for (int e = 0; e < nd->n_in; e++) {
        size_t off = (size_t)(nd->in[e].w - g->block);
        size_t len = (size_t)nd->width * (size_t)g->nodes[nd->in[e].src].width;
        memset(grad + off, 0, len * sizeof(float));
        if (ready) ready(ctx, off, len);
    }
    size_t off = (size_t)(nd->bias - g->block), len = (size_t)nd->width * (nd->slope ? 2 : 1);
    memset(grad + off, 0, len * sizeof(float)); /* the slopes follow the bias */
    if (ready) ready(ctx, off, len);
}

double lc_batch_grad(lc_bwork *b, const float *x, const int32_t *y, size_t rows, float scale,
                     float *grad, bool accumulate, size_t *correct, lc_grad_ready ready,
                     void *ready_ctx)
{
    const lc_graph *g = b->g;
    int last = g->n_nodes - 1, wo = g->nodes[last].width;
    lc_forward_batch(g, &b->fw, x, rows, keep_z, b);
    const float *o = logits(b);
    double loss = 0;
    for (size_t r = 0; r < rows; r++)
        loss += lc_row_loss(o + r * wo, wo, label(y, r), &b->soft, teacher_row(b, r, wo), scale,
                            b->dh[last] + r * wo, correct);

    memset(b->ready, 0, (size_t)g->n_nodes * sizeof *b->ready);
    b->ready[last] = true;
    for (int k = last; k >= 1; k--) {
        const struct lc_node *nd = &g->nodes[k];
        int w = nd->width;
        float *d = b->dh[k];
        if (!b->ready[k]) { /* no consumer: the loss does not depend on node k */
            if (!accumulate) zero_node_grad(g, k, grad, ready, ready_ctx);
            continue;
        }
        float *gslope = nd->slope ? grad + (nd->slope - g->block) : NULL;
        if (!(is_last(g, k) && lc_act_is_output(nd->act.kind)))
            act_backward(nd, b->fw.h[k], b->z[k], d, rows, gslope, accumulate);
        for (int e = 0; e < nd->n_in; e++) {
            int j = nd->in[e].src, wj = g->nodes[j].width;
            const float *wt = nd->in[e].w;
            size_t off = (size_t)(wt - g->block);
            /* input gradient first: the optimizer may change W once dW is final */
            if (j >= 1) {
                lc_sgemm(false, false, (int)rows, wj, w, 1.0f, d, w, wt, wj,
                         b->ready[j] ? 1.0f : 0.0f, b->dh[j], wj);
                b->ready[j] = true;
            }
            lc_sgemm(true, false, w, wj, (int)rows, 1.0f, d, w, b->fw.h[j], wj,
                     accumulate ? 1.0f : 0.0f, grad + off, wj);
            if (ready) ready(ready_ctx, off, (size_t)w * wj);
        }
        float *gb = grad + (nd->bias - g->block);
        if (!accumulate) memset(gb, 0, (size_t)w * sizeof(float));
        for (size_t r = 0; r < rows; r++) {
            const float *dr = d + r * w;
            for (int i = 0; i < w; i++) gb[i] += dr[i];
        }
        /* the slopes sit right after the bias in the block (graph.c) */
        if (ready) ready(ready_ctx, (size_t)(nd->bias - g->block), (size_t)w * (gslope ? 2 : 1));
    }
    return loss;
}

lc_status lc_check_labels(const lc_graph *g, const int32_t *y, size_t n, const char *what,
                          lc_error *err)
{
    int classes = lc_graph_classes(g);
    for (size_t r = 0; r < n; r++)
        if (y[r] < 0 || y[r] >= classes)
            return lc_fail(err, LC_ERR_SHAPE,
                           "%s: label %d of sample %zu is not one of the model's %d classes",
                           what, (int)y[r], r + 1, classes);
    return LC_OK;
}

const float *lc_graph_param_base(const lc_graph *g) { return g->block; }

lc_status lc_loss_grad(const lc_graph *g, const float *x, const int32_t *y, size_t n,
                       float *grad, double *loss, lc_error *err)
{
    if (n == 0) return lc_fail(err, LC_ERR_INVALID, "loss gradient of zero samples");
    lc_status st = lc_check_labels(g, y, n, "labels", err);
    if (st) return st;
    size_t rows = n < LC_BATCH ? n : LC_BATCH, correct = 0;
    lc_bwork b;
    if ((st = lc_bwork_init(&b, g, rows, grad != NULL, err))) return st;
    int in_w = g->nodes[0].width;
    double sum = 0;
    /* scale 1/n per row makes the sum over batches the mean gradient */
    for (size_t r = 0; r < n; r += rows) {
        size_t m = n - r < rows ? n - r : rows;
        const float *xb = x + r * (size_t)in_w;
        sum += grad ? lc_batch_grad(&b, xb, y + r, m, (float)(1.0 / (double)n), grad, r > 0,
                                    &correct, NULL, NULL)
                    : lc_batch_loss(&b, xb, y + r, m, &correct);
    }
    lc_bwork_free(&b);
    if (loss) *loss = sum / (double)n;
    return LC_OK;
}
