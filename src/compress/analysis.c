/* analysis.c - activation statistics: per hidden neuron, how many samples
 * fall in each linear piece of its activation, and the range of z. One
 * batched forward pass with a z-hook, so it costs about one inference. */
#include "compress/compress.h"
#include "core/work.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

int lc_act_pieces(lc_act_kind k)
{
    switch (k) {
    case LC_ACT_IDENTITY: return 1;
    case LC_ACT_RELU:
    case LC_ACT_LEAKY_RELU:
    case LC_ACT_PRELU: return 2;
    case LC_ACT_CLIP: return 3;
    default: return 0;
    }
}

int lc_act_identity_piece(lc_act_kind k)
{
    int p = lc_act_pieces(k);
    return p == 0 ? -1 : p == 1 ? 0 : 1;
}

void lc_piece_affine(lc_act act, float prelu_slope, int piece, float *s, float *c)
{
    *s = 1.0f;
    *c = 0.0f;
    switch (act.kind) {
    case LC_ACT_RELU:
        if (piece == 0) *s = 0.0f;
        break;
    case LC_ACT_LEAKY_RELU:
        if (piece == 0) *s = act.alpha;
        break;
    case LC_ACT_PRELU:
        if (piece == 0) *s = prelu_slope;
        break;
    case LC_ACT_CLIP:
        if (piece != 1) {
            *s = 0.0f;
            *c = piece == 0 ? act.lo : act.hi;
        }
        break;
    default: break;
    }
}

void lc_stats_free(lc_stats *s)
{
    if (!s) return;
    if (s->node)
        for (int k = 0; k < s->n_nodes; k++) {
            free(s->node[k].cnt);
            free(s->node[k].zmin);
            free(s->node[k].zmax);
            free(s->node[k].run);
        }
    free(s->node);
    free(s);
}

#if defined(__SSE2__)
/* The two-piece case (the ReLU family: nearly every model) as SSE2 masks,
 * four neurons at a time: the scalar loop below does not vectorise at -O2
 * (its trip count is the width) and took a fifth of the statistics pass.
 * The counts of the batch run in 32 bits, then join the 64-bit totals. The
 * same results as the scalar loop, NaN included: MINPS and MAXPS return
 * their second operand when one is NaN, and NaN compares false. */
static void count_two(struct lc_stats_node *nd, const float *z, size_t rows)
{
    int w = nd->width, i;
    int32_t *pos = nd->run, *neg = nd->run + w;
    memset(nd->run, 0, 2 * (size_t)w * sizeof *nd->run);
    const __m128 zero = _mm_setzero_ps();
    for (size_t r = 0; r < rows; r++) {
        const float *row = z + r * (size_t)w;
        for (i = 0; i + 4 <= w; i += 4) {
            __m128 v = _mm_loadu_ps(row + i);
            _mm_storeu_ps(nd->zmin + i, _mm_min_ps(v, _mm_loadu_ps(nd->zmin + i)));
            _mm_storeu_ps(nd->zmax + i, _mm_max_ps(v, _mm_loadu_ps(nd->zmax + i)));
            __m128i p = _mm_loadu_si128((const __m128i *)(pos + i));
            __m128i q = _mm_loadu_si128((const __m128i *)(neg + i));
            /* a true mask is -1 */
            _mm_storeu_si128((__m128i *)(pos + i),
                             _mm_sub_epi32(p, _mm_castps_si128(_mm_cmpgt_ps(v, zero))));
            _mm_storeu_si128((__m128i *)(neg + i),
                             _mm_sub_epi32(q, _mm_castps_si128(_mm_cmple_ps(v, zero))));
        }
        for (; i < w; i++) {
            float v = row[i];
            nd->zmin[i] = v < nd->zmin[i] ? v : nd->zmin[i];
            nd->zmax[i] = v > nd->zmax[i] ? v : nd->zmax[i];
            pos[i] += v > 0.0f;
            neg[i] += v <= 0.0f;
        }
    }
    for (i = 0; i < w; i++) {
        nd->cnt[i] += (uint64_t)neg[i];
        nd->cnt[w + i] += (uint64_t)pos[i];
    }
}
#endif

/* The hook: a tight loop over the batch per node. Comparisons are written so
 * that a NaN z fails all of them: it lands in no piece and in no min/max. */
static void count_hook(void *ctx, int k, const float *z, size_t rows)
{
    lc_stats *s = ctx;
    struct lc_stats_node *nd = &s->node[k];
    int w = nd->width;
    if (w == 0) return; /* input or output node */
#if defined(__SSE2__)
    if (nd->pieces == 2) {
        count_two(nd, z, rows);
        return;
    }
#endif
    float *mn = nd->zmin, *mx = nd->zmax;
    uint64_t *c0 = nd->cnt, *c1 = nd->cnt + w, *c2 = nd->cnt + 2 * (size_t)w;
    for (size_t r = 0; r < rows; r++) {
        const float *row = z + r * (size_t)w;
        for (int i = 0; i < w; i++) {
            float v = row[i];
            mn[i] = v < mn[i] ? v : mn[i];
            mx[i] = v > mx[i] ? v : mx[i];
        }
        switch (nd->pieces) {
        case 1:
            for (int i = 0; i < w; i++) c0[i] += row[i] == row[i];
            break;
        case 2:
            for (int i = 0; i < w; i++) {
                c0[i] += row[i] <= 0.0f;
                c1[i] += row[i] > 0.0f;
            }
            break;
        case 3: {
            float lo = nd->act.lo, hi = nd->act.hi;
            for (int i = 0; i < w; i++) {
                float v = row[i];
                c0[i] += v <= lo;
                c2[i] += v >= hi;
                c1[i] += v > lo && v < hi;
            }
            break;
        }
        }
    }
}

/* count_hook, and a copy of every z into the cache (lc_stats_compute_z). */
typedef struct {
    lc_stats *s;
    lc_zcache_fill fill;
} keep_ctx;

static void keep_hook(void *vctx, int k, const float *z, size_t rows)
{
    keep_ctx *c = vctx;
    count_hook(c->s, k, z, rows);
    lc_zcache_hook(&c->fill, k, z, rows);
}

lc_status lc_stats_compute(const lc_graph *g, const float *x, size_t n, int cols,
                           lc_stats **out, lc_error *err)
{
    return lc_stats_compute_z(g, x, n, cols, out, NULL, err);
}

lc_status lc_stats_compute_z(const lc_graph *g, const float *x, size_t n, int cols,
                             lc_stats **out, float ***zc, lc_error *err)
{
    *out = NULL;
    if (zc) *zc = NULL;
    if (cols != g->nodes[0].width)
        return lc_fail(err, LC_ERR_SHAPE, "statistics: data has %d columns, the model's input "
                       "'%s' expects %d", cols, g->nodes[0].name, g->nodes[0].width);
    lc_stats *s = calloc(1, sizeof *s);
    if (!s || !(s->node = calloc((size_t)g->n_nodes, sizeof *s->node))) {
        free(s);
        return lc_fail(err, LC_ERR_NOMEM, "statistics: out of memory");
    }
    s->n_nodes = g->n_nodes;
    s->samples = n;
    for (int k = 1; k < g->n_nodes - 1; k++) {
        struct lc_stats_node *nd = &s->node[k];
        nd->act = g->nodes[k].act;
        nd->pieces = lc_act_pieces(nd->act.kind);
        size_t w = (size_t)g->nodes[k].width;
        nd->cnt = calloc(w * (size_t)nd->pieces, sizeof *nd->cnt);
        nd->zmin = malloc(w * sizeof(float));
        nd->zmax = malloc(w * sizeof(float));
        nd->run = malloc(2 * w * sizeof *nd->run);
        if (!nd->cnt || !nd->zmin || !nd->zmax || !nd->run) {
            lc_stats_free(s);
            return lc_fail(err, LC_ERR_NOMEM, "statistics: out of memory");
        }
        nd->width = (int)w; /* set last: the hook skips nodes of width 0 */
        for (size_t i = 0; i < w; i++) {
            nd->zmin[i] = INFINITY;
            nd->zmax[i] = -INFINITY;
        }
    }
    keep_ctx kc = {s, {NULL, 0, g}};
    if (zc && !(kc.fill.z = lc_recon_zcache_alloc(g, n))) {
        lc_stats_free(s);
        return lc_fail(err, LC_ERR_NOMEM, "statistics: out of memory for the activations");
    }
    size_t batch = n < LC_BATCH ? n : LC_BATCH;
    if (batch > 0) {
        lc_work w;
        lc_status st = lc_work_init(&w, g, batch, err);
        if (st) {
            lc_recon_zcache_free(kc.fill.z, g->n_nodes);
            lc_stats_free(s);
            return st;
        }
        for (size_t r = 0; r < n; r += batch) {
            size_t m = n - r < batch ? n - r : batch;
            kc.fill.row0 = r;
            if (zc) lc_forward_batch(g, &w, x + r * (size_t)cols, m, keep_hook, &kc);
            else lc_forward_batch(g, &w, x + r * (size_t)cols, m, count_hook, s);
        }
        lc_work_free(&w);
    }
    if (zc) *zc = kc.fill.z;
    *out = s;
    return LC_OK;
}

size_t lc_stats_samples(const lc_stats *s) { return s->samples; }
int lc_stats_nodes(const lc_stats *s) { return s->n_nodes; }

static const struct lc_stats_node *node_at(const lc_stats *s, int k)
{
    static const struct lc_stats_node none = {0};
    return k >= 0 && k < s->n_nodes ? &s->node[k] : &none;
}

int lc_stats_width(const lc_stats *s, int k) { return node_at(s, k)->width; }
int lc_stats_pieces(const lc_stats *s, int k) { return node_at(s, k)->pieces; }

size_t lc_stats_count(const lc_stats *s, int k, int i, int piece)
{
    const struct lc_stats_node *nd = node_at(s, k);
    if (i < 0 || i >= nd->width || piece < 0 || piece >= nd->pieces) return 0;
    return (size_t)nd->cnt[(size_t)piece * nd->width + i];
}

float lc_stats_zmin(const lc_stats *s, int k, int i)
{
    const struct lc_stats_node *nd = node_at(s, k);
    return i >= 0 && i < nd->width ? nd->zmin[i] : NAN;
}

float lc_stats_zmax(const lc_stats *s, int k, int i)
{
    const struct lc_stats_node *nd = node_at(s, k);
    return i >= 0 && i < nd->width ? nd->zmax[i] : NAN;
}

double lc_stats_rate(const lc_stats *s, int k, int i)
{
    const struct lc_stats_node *nd = node_at(s, k);
    if (s->samples == 0 || nd->width == 0) return 0.0;
    return (double)lc_stats_count(s, k, i, lc_act_identity_piece(nd->act.kind)) /
           (double)s->samples;
}

int lc_stats_n_always(const lc_stats *s, int k, int piece)
{
    const struct lc_stats_node *nd = node_at(s, k);
    if (s->samples == 0 || piece < 0 || piece >= nd->pieces) return 0;
    int n = 0;
    for (int i = 0; i < nd->width; i++)
        n += nd->cnt[(size_t)piece * nd->width + i] == s->samples;
    return n;
}
