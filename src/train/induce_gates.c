/* induce_gates.c - the gates of induced linearity and their 0/1 rounding
 * (docs/induce.md): the gated copy of a graph (every hidden ReLU node a
 * PReLU whose slopes are the gates), the penalty weight per node from the
 * cost model, and the final rounding of the gates to a plan within the
 * budget. The training that moves the gates is induce_train.c, the
 * pipeline induce.c. */
#include "train/induce.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------ retyping a graph */

/* A copy with other activations (declared in induce.h): the gated graph
 * here, and the pipeline's ReLU model with the trained weights. */
lc_status lc_induce_with_acts(const lc_graph *src, const lc_act *acts, lc_graph **out,
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
    if ((st = lc_graph_copy_extras(g, src, err))) goto done;
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
    lc_status st = lc_induce_with_acts(g, acts, out, err);
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
