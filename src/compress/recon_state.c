/* recon_state.c - what a reconstruction found, node by node, kept for the
 * next reconstructions of a search (lc_reconstruct_reuse, reconstruct.c).
 *
 * The candidates of a budget search share a prefix of plan with the walk's
 * state or with each other. The refits of the nodes before the first node
 * whose plan differs depend on nothing after it, so they (weights,
 * activations on the rows, which nodes stay inexact) are taken as they are
 * rather than computed again: the same model, bit for bit.
 *
 * Also the original model's pre-activations on the calibration rows
 * (lc_recon_zcache), which every reconstruction of one model on those rows
 * shares. */
#include "compress/compress.h"
#include "core/work.h"

#include <stdlib.h>
#include <string.h>

const lc_plan *lc_recon_state_plan(const lc_recon_state *s)
{
    return s->p;
}

void lc_recon_state_free(lc_recon_state *s)
{
    if (!s) return;
    if (s->h)
        for (int f = 1; f < s->f->n_nodes; f++) free(s->h[f]);
    free(s->h);
    lc_plan_free(s->p);
    free(s->map);
    lc_graph_free(s->f);
    free(s->bad);
    free(s->changed);
    free(s);
}

/* Every node before the one returned has the same plan entries, the same
 * folded node and the same folded inputs in both. */
int lc_recon_reuse_from(const lc_graph *g, const lc_plan *p, const int *map, const lc_graph *folded,
                      const lc_recon_state *st, size_t n)
{
    if (!st || st->n != n || st->p->n_nodes != p->n_nodes) return 1;
    int N = g->n_nodes;
    for (int k = 1; k < N - 1; k++) {
        if (map[k] != st->map[k] || memcmp(p->piece + p->off[k], st->p->piece + st->p->off[k],
                                           (size_t)g->nodes[k].width))
            return k;
        int f = map[k];
        if (f < 0) continue;
        const struct lc_node *a = &folded->nodes[f], *b = &st->f->nodes[f];
        if (a->width != b->width || a->n_in != b->n_in) return k;
        for (int e = 0; e < a->n_in; e++)
            if (a->in[e].src != b->in[e].src ||
                folded->nodes[a->in[e].src].width != st->f->nodes[b->in[e].src].width)
                return k;
    }
    return N - 1;
}

lc_recon_state *lc_recon_state_keep(const lc_graph *g, const lc_plan *p, const int *map,
                                    const lc_graph *folded, float **h, const bool *borrowed,
                                    const bool *bad, const int *changed, size_t n)
{
    int N = g->n_nodes, F = folded->n_nodes;
    lc_recon_state *s = calloc(1, sizeof *s);
    lc_error e = {0};
    if (!s) return NULL;
    s->n = n;
    s->map = malloc((size_t)N * sizeof *s->map);
    s->bad = malloc((size_t)N * sizeof *s->bad);
    s->changed = malloc((size_t)N * sizeof *s->changed);
    s->h = calloc((size_t)F, sizeof *s->h);
    bool ok = s->map && s->bad && s->changed && s->h && !lc_plan_clone(p, &s->p, &e) &&
              !lc_graph_clone(folded, &s->f, &e);
    if (ok) {
        memcpy(s->map, map, (size_t)N * sizeof *map);
        memcpy(s->bad, bad, (size_t)N * sizeof *bad);
        memcpy(s->changed, changed, (size_t)N * sizeof *changed);
    }
    for (int f = 1; ok && f < F; f++) {
        if (!h[f]) continue;
        if (!borrowed[f]) {
            s->h[f] = h[f];
            h[f] = NULL;
            continue;
        }
        size_t bytes = n * (size_t)folded->nodes[f].width * sizeof(float);
        if ((ok = (s->h[f] = malloc(bytes ? bytes : 1)) != NULL)) memcpy(s->h[f], h[f], bytes);
    }
    if (!ok) {
        if (!s->f) { /* lc_recon_state_free walks h by s->f's nodes */
            free(s->h);
            s->h = NULL;
        }
        lc_recon_state_free(s);
        return NULL;
    }
    return s;
}

void lc_recon_zcache_free(float **z, int n_nodes)
{
    if (!z) return;
    for (int k = 0; k < n_nodes; k++) free(z[k]);
    free(z);
}

void lc_zcache_hook(void *vctx, int k, const float *z, size_t rows)
{
    lc_zcache_fill *c = vctx;
    int w = c->g->nodes[k].width;
    memcpy(c->z[k] + c->row0 * (size_t)w, z, rows * (size_t)w * sizeof(float));
}

float **lc_recon_zcache_alloc(const lc_graph *g, size_t n)
{
    float **z = calloc((size_t)g->n_nodes, sizeof *z);
    for (int k = 1; z && k < g->n_nodes; k++)
        if (!(z[k] = malloc((n ? n : 1) * (size_t)g->nodes[k].width * sizeof(float)))) {
            lc_recon_zcache_free(z, g->n_nodes);
            return NULL;
        }
    return z;
}

bool lc_recon_zcache_fits(const lc_graph *g, size_t n)
{
    size_t w = 0, cells;
    for (int k = 1; k < g->n_nodes; k++) w += (size_t)g->nodes[k].width;
    return lc_mul_ok(n, w, &cells) && cells <= LC_ZCACHE_MAX_FLOATS;
}

lc_status lc_recon_zcache(const lc_graph *g, const float *x, size_t n, float ***out,
                          lc_error *err)
{
    *out = NULL;
    float **z = lc_recon_zcache_alloc(g, n);
    lc_work w = {0};
    size_t batch = n < LC_BATCH ? n : LC_BATCH;
    lc_status st = z ? LC_OK : lc_fail(err, LC_ERR_NOMEM, "reconstruct: out of memory");
    if (!st && batch) st = lc_work_init(&w, g, batch, err);
    lc_zcache_fill c = {z, 0, g};
    for (size_t r = 0; !st && r < n; r += batch) {
        size_t m = n - r < batch ? n - r : batch;
        c.row0 = r;
        lc_forward_batch(g, &w, x + r * (size_t)g->nodes[0].width, m, lc_zcache_hook, &c);
    }
    if (batch) lc_work_free(&w);
    if (st) lc_recon_zcache_free(z, g->n_nodes);
    else *out = z;
    return st;
}
