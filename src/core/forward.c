/* forward.c - batched inference: per row block, the bias rows, one SGEMM per
 * edge adding into them (beta = 1), then the activation in place. */
#include "core/internal.h"
#include "core/work.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

const char *lc_act_name(lc_act_kind k)
{
    switch (k) {
    case LC_ACT_IDENTITY: return "identity";
    case LC_ACT_RELU: return "relu";
    case LC_ACT_LEAKY_RELU: return "leaky_relu";
    case LC_ACT_PRELU: return "prelu";
    case LC_ACT_CLIP: return "clip";
    case LC_ACT_SOFTMAX: return "softmax";
    case LC_ACT_LOG_SOFTMAX: return "log_softmax";
    case LC_ACT_SIGMOID: return "sigmoid";
    }
    return "?";
}

static void softmax_rows(float *z, size_t n, int w, bool log_out)
{
    for (size_t r = 0; r < n; r++) {
        float *row = z + r * (size_t)w;
        float mx = row[0];
        for (int i = 1; i < w; i++) mx = row[i] > mx ? row[i] : mx;
        double s = 0;
        for (int i = 0; i < w; i++) s += exp((double)row[i] - mx);
        if (log_out) {
            double ls = log(s);
            for (int i = 0; i < w; i++) row[i] = (float)((double)row[i] - mx - ls);
        } else {
            for (int i = 0; i < w; i++) row[i] = (float)(exp((double)row[i] - mx) / s);
        }
    }
}

/* The elementwise activations run over every activation of a forward pass,
 * right after its GEMM. Written as `v > 0 ? v : a * v` the compiler emits a
 * compare and branch per element, which mispredicts on about half of the
 * pre-activations of a trained model; on the Fashion-MNIST MLP that cost a
 * third of the GEMM time. With SSE2 (every x86-64) they run as masks, four
 * floats at a time, and give bit for bit what the scalar definitions in the
 * tails give: NaN stays NaN except in ReLU, whose definition maps it to 0. */
#if defined(__SSE2__)
#define LC_VEC 4
static inline __m128 blend(__m128 m, __m128 a, __m128 b) /* m ? a : b */
{
    return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b));
}
#else
#define LC_VEC 1 /* no vector path: the scalar loops do everything */
#endif

static void relu(float *z, size_t len)
{
    size_t i = 0;
#if defined(__SSE2__)
    /* maxps returns its second operand unless the first is greater: v > 0 ? v : 0 */
    for (const __m128 zero = _mm_setzero_ps(); i + LC_VEC <= len; i += LC_VEC)
        _mm_storeu_ps(z + i, _mm_max_ps(_mm_loadu_ps(z + i), zero));
#endif
    for (; i < len; i++) z[i] = z[i] > 0 ? z[i] : 0.0f;
}

/* v > 0 ? v : s[i] * v, with one slope (ds = 0) or one per element (ds = 1) */
static void leaky(float *z, size_t len, const float *s, size_t ds)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128 zero = _mm_setzero_ps();
    for (; i + LC_VEC <= len; i += LC_VEC) {
        __m128 v = _mm_loadu_ps(z + i), a = ds ? _mm_loadu_ps(s + i) : _mm_set1_ps(*s);
        _mm_storeu_ps(z + i, blend(_mm_cmpgt_ps(v, zero), v, _mm_mul_ps(a, v)));
    }
#endif
    for (; i < len; i++) z[i] = z[i] > 0 ? z[i] : s[i * ds] * z[i];
}

/* v < lo ? lo : v > hi ? hi : v; NaN passes through: it must stay visible */
static void clip(float *z, size_t len, float lo, float hi)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128 l = _mm_set1_ps(lo), h = _mm_set1_ps(hi);
    for (; i + LC_VEC <= len; i += LC_VEC) {
        __m128 v = _mm_loadu_ps(z + i);
        _mm_storeu_ps(z + i, blend(_mm_cmplt_ps(v, l), l, blend(_mm_cmpgt_ps(v, h), h, v)));
    }
#endif
    for (; i < len; i++) z[i] = z[i] < lo ? lo : z[i] > hi ? hi : z[i];
}

void lc_act_apply(lc_act act, const float *slope, float *z, size_t n, int width)
{
    size_t len = n * (size_t)width;
    switch (act.kind) {
    case LC_ACT_IDENTITY: break;
    case LC_ACT_RELU: relu(z, len); break;
    case LC_ACT_LEAKY_RELU: leaky(z, len, &act.alpha, 0); break;
    case LC_ACT_PRELU:
        for (size_t r = 0; r < n; r++) leaky(z + r * (size_t)width, (size_t)width, slope, 1);
        break;
    case LC_ACT_CLIP: clip(z, len, act.lo, act.hi); break;
    case LC_ACT_SOFTMAX: softmax_rows(z, n, width, false); break;
    case LC_ACT_LOG_SOFTMAX: softmax_rows(z, n, width, true); break;
    case LC_ACT_SIGMOID:
        for (size_t i = 0; i < len; i++) z[i] = (float)(1.0 / (1.0 + exp(-(double)z[i])));
        break;
    }
}

lc_status lc_work_init(lc_work *w, const lc_graph *g, size_t rows, lc_error *err)
{
    memset(w, 0, sizeof *w);
    size_t total = 0;
    for (int k = 1; k < g->n_nodes; k++) total += (size_t)g->nodes[k].width;
    size_t n;
    if (!lc_mul_ok(total, rows, &n)) return lc_fail(err, LC_ERR_NOMEM, "batch too large");
    w->h = calloc((size_t)g->n_nodes, sizeof *w->h);
    w->buf = malloc((n ? n : 1) * sizeof(float));
    if (!w->h || !w->buf) {
        lc_work_free(w);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory for a batch of %zu rows", rows);
    }
    w->rows = rows;
    float *p = w->buf;
    for (int k = 1; k < g->n_nodes; k++) {
        w->h[k] = p;
        p += rows * (size_t)g->nodes[k].width;
    }
    return LC_OK;
}

void lc_work_free(lc_work *w)
{
    free(w->h);
    free(w->buf);
    memset(w, 0, sizeof *w);
}

void lc_forward_node(const lc_graph *g, lc_work *w, int k, size_t rows)
{
    const struct lc_node *nd = &g->nodes[k];
    float *z = w->h[k];
    for (size_t r = 0; r < rows; r++)
        memcpy(z + r * (size_t)nd->width, nd->bias, (size_t)nd->width * sizeof(float));
    for (int e = 0; e < nd->n_in && rows; e++) {
        int in_w = g->nodes[nd->in[e].src].width;
        lc_sgemm(false, true, (int)rows, nd->width, in_w, 1.0f, w->h[nd->in[e].src], in_w,
                 nd->in[e].w, in_w, 1.0f, z, nd->width);
    }
}

void lc_forward_batch(const lc_graph *g, lc_work *w, const float *x, size_t rows,
                      lc_z_hook hook, void *ctx)
{
    w->h[0] = (float *)x; /* only read */
    for (int k = 1; k < g->n_nodes; k++) {
        const struct lc_node *nd = &g->nodes[k];
        float *z = w->h[k];
        lc_forward_node(g, w, k, rows);
        if (hook) hook(ctx, k, z, rows);
        lc_act_apply(nd->act, nd->slope, z, rows, nd->width);
    }
}

lc_status lc_forward(const lc_graph *g, const float *x, size_t n, float *out, lc_error *err)
{
    size_t batch = n < LC_BATCH ? n : LC_BATCH;
    if (batch == 0) return LC_OK;
    lc_work w;
    lc_status st = lc_work_init(&w, g, batch, err);
    if (st) return st;
    int in_w = g->nodes[0].width, out_w = lc_graph_output_width(g);
    for (size_t r = 0; r < n; r += batch) {
        size_t m = n - r < batch ? n - r : batch;
        lc_forward_batch(g, &w, x + r * (size_t)in_w, m, NULL, NULL);
        memcpy(out + r * (size_t)out_w, w.h[g->n_nodes - 1], m * (size_t)out_w * sizeof(float));
    }
    lc_work_free(&w);
    return LC_OK;
}

/* The reference: per sample, per neuron, double accumulation, no BLAS. */
lc_status lc_forward_ref(const lc_graph *g, const float *x, size_t n, float *out, lc_error *err)
{
    float **h = calloc((size_t)g->n_nodes, sizeof *h);
    if (!h) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    for (int k = 1; k < g->n_nodes; k++)
        if (!(h[k] = malloc((size_t)g->nodes[k].width * sizeof(float)))) {
            for (int j = 1; j < k; j++) free(h[j]);
            free(h);
            return lc_fail(err, LC_ERR_NOMEM, "out of memory");
        }
    int in_w = g->nodes[0].width, out_w = lc_graph_output_width(g);
    for (size_t r = 0; r < n; r++) {
        h[0] = (float *)x + r * (size_t)in_w;
        for (int k = 1; k < g->n_nodes; k++) {
            const struct lc_node *nd = &g->nodes[k];
            for (int i = 0; i < nd->width; i++) {
                double s = nd->bias[i];
                for (int e = 0; e < nd->n_in; e++) {
                    int sw = g->nodes[nd->in[e].src].width;
                    const float *wr = nd->in[e].w + (size_t)i * sw;
                    const float *hs = h[nd->in[e].src];
                    for (int j = 0; j < sw; j++) s += (double)wr[j] * hs[j];
                }
                h[k][i] = (float)s;
            }
            lc_act_apply(nd->act, nd->slope, h[k], 1, nd->width);
        }
        memcpy(out + r * (size_t)out_w, h[g->n_nodes - 1], (size_t)out_w * sizeof(float));
    }
    for (int k = 1; k < g->n_nodes; k++) free(h[k]);
    free(h);
    return LC_OK;
}
