/* plan.c - fold plans: for every hidden neuron "keep" or the piece it is
 * folded to, plus the one-fold cost model (DESIGN section 3). The transform
 * that applies a plan is in fold.c. */
#include "compress/compress.h"

#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------- plans */

void lc_plan_free(lc_plan *p)
{
    if (!p) return;
    free(p->width);
    free(p->act);
    free(p->off);
    free(p->piece);
    free(p->slope);
    free(p);
}

static lc_plan *plan_alloc(int n_nodes, size_t n_neurons)
{
    lc_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n_nodes = n_nodes;
    p->width = calloc((size_t)n_nodes, sizeof *p->width);
    p->act = calloc((size_t)n_nodes, sizeof *p->act);
    p->off = calloc((size_t)n_nodes + 1, sizeof *p->off);
    p->piece = malloc(n_neurons ? n_neurons : 1);
    p->slope = calloc(n_neurons ? n_neurons : 1, sizeof *p->slope);
    if (!p->width || !p->act || !p->off || !p->piece || !p->slope) {
        lc_plan_free(p);
        return NULL;
    }
    memset(p->piece, LC_KEEP, n_neurons ? n_neurons : 1);
    return p;
}

lc_status lc_plan_create(const lc_graph *g, lc_plan **out, lc_error *err)
{
    *out = NULL;
    size_t n = 0;
    for (int k = 0; k < g->n_nodes; k++) n += (size_t)g->nodes[k].width;
    lc_plan *p = plan_alloc(g->n_nodes, n);
    if (!p) return lc_fail(err, LC_ERR_NOMEM, "plan: out of memory");
    for (int k = 0; k < g->n_nodes; k++) {
        p->width[k] = g->nodes[k].width;
        p->act[k] = g->nodes[k].act;
        p->off[k + 1] = p->off[k] + (size_t)g->nodes[k].width;
        if (g->nodes[k].slope)
            memcpy(p->slope + p->off[k], g->nodes[k].slope, (size_t)p->width[k] * sizeof(float));
    }
    *out = p;
    return LC_OK;
}

lc_status lc_plan_clone(const lc_plan *p, lc_plan **out, lc_error *err)
{
    size_t n = p->off[p->n_nodes];
    lc_plan *c = plan_alloc(p->n_nodes, n);
    if (!(*out = c)) return lc_fail(err, LC_ERR_NOMEM, "plan: out of memory");
    memcpy(c->width, p->width, (size_t)p->n_nodes * sizeof *p->width);
    memcpy(c->act, p->act, (size_t)p->n_nodes * sizeof *p->act);
    memcpy(c->off, p->off, ((size_t)p->n_nodes + 1) * sizeof *p->off);
    memcpy(c->piece, p->piece, n);
    memcpy(c->slope, p->slope, n * sizeof *p->slope);
    return LC_OK;
}

lc_status lc_plan_set(lc_plan *p, int k, int i, int piece, lc_error *err)
{
    if (k < 1 || k >= p->n_nodes - 1)
        return lc_fail(err, LC_ERR_INVALID, "plan: node %d is not a hidden node (1..%d); the "
                       "input and the output node are never folded", k, p->n_nodes - 2);
    if (i < 0 || i >= p->width[k])
        return lc_fail(err, LC_ERR_INVALID, "plan: node %d has no neuron %d (width %d)", k, i,
                       p->width[k]);
    int np = lc_act_pieces(p->act[k].kind);
    if (piece != LC_KEEP && (piece < 0 || piece >= np))
        return lc_fail(err, LC_ERR_INVALID, "plan: node %d neuron %d: piece %d, the %s "
                       "activation has pieces 0..%d", k, i, piece, lc_act_name(p->act[k].kind),
                       np - 1);
    p->piece[p->off[k] + (size_t)i] = (signed char)piece;
    return LC_OK;
}

int lc_plan_get(const lc_plan *p, int k, int i)
{
    if (k < 0 || k >= p->n_nodes || i < 0 || i >= p->width[k]) return LC_KEEP;
    return p->piece[p->off[k] + (size_t)i];
}

static int plan_count(const lc_plan *p, int k, bool linear)
{
    if (k < 0 || k >= p->n_nodes) return 0;
    int n = 0;
    for (int i = 0; i < p->width[k]; i++) {
        int pc = p->piece[p->off[k] + (size_t)i];
        if (pc == LC_KEEP) continue;
        float s, c;
        lc_piece_affine(p->act[k], p->slope[p->off[k] + (size_t)i], pc, &s, &c);
        n += (s != 0.0f) == linear;
    }
    return n;
}

int lc_plan_folded_linear(const lc_plan *p, int k) { return plan_count(p, k, true); }
int lc_plan_removed_constant(const lc_plan *p, int k) { return plan_count(p, k, false); }

lc_status lc_plan_check(const lc_graph *g, const lc_plan *p, lc_error *err)
{
    if (p->n_nodes != g->n_nodes)
        return lc_fail(err, LC_ERR_SHAPE, "plan made for %d nodes, the graph has %d",
                       p->n_nodes, g->n_nodes);
    for (int k = 0; k < g->n_nodes; k++)
        if (p->width[k] != g->nodes[k].width || (k > 0 && p->act[k].kind != g->nodes[k].act.kind))
            return lc_fail(err, LC_ERR_SHAPE, "plan made for another graph: node %d ('%s') is "
                           "%s of width %d in the plan, %s of width %d in the graph", k,
                           g->nodes[k].name, lc_act_name(p->act[k].kind), p->width[k],
                           lc_act_name(g->nodes[k].act.kind), g->nodes[k].width);
    return LC_OK;
}

long long lc_fold_saving(const lc_graph *g, int k, int n_fold, int any_linear)
{
    if (k < 1 || k >= g->n_nodes - 1 || n_fold <= 0) return 0;
    const struct lc_node *nd = &g->nodes[k];
    long long per = 1 + (nd->act.kind == LC_ACT_PRELU), cost = 0;
    for (int e = 0; e < nd->n_in; e++) per += g->nodes[nd->in[e].src].width;
    for (int m = k + 1; m < g->n_nodes; m++) {
        if (lc_graph_find_edge(g, m, k) < 0) continue;
        per += g->nodes[m].width;
        for (int e = 0; any_linear && e < nd->n_in; e++) {
            int j = nd->in[e].src;
            if (lc_graph_find_edge(g, m, j) < 0)
                cost += (long long)g->nodes[m].width * g->nodes[j].width;
        }
    }
    return (long long)n_fold * per - cost;
}
