/* graph.c - the model as a graph of dense nodes (DESIGN section 2). */
#include "core/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lc_act_is_output(lc_act_kind k)
{
    return k == LC_ACT_SOFTMAX || k == LC_ACT_LOG_SOFTMAX || k == LC_ACT_SIGMOID;
}

static lc_status check_spec(int n_nodes, const lc_node_spec *spec, lc_error *err)
{
    if (n_nodes < 2 || n_nodes > LC_MAX_NODES)
        return lc_fail(err, LC_ERR_INVALID, "a graph needs 2 to %d nodes, got %d",
                       LC_MAX_NODES, n_nodes);
    for (int k = 0; k < n_nodes; k++) {
        const lc_node_spec *s = &spec[k];
        if (s->width < 1 || s->width > LC_MAX_WIDTH)
            return lc_fail(err, LC_ERR_INVALID, "node %d: width %d out of range", k, s->width);
        if (k == 0) continue;
        if ((int)s->act.kind < 0 || s->act.kind > LC_ACT_SIGMOID)
            return lc_fail(err, LC_ERR_INVALID, "node %d: unknown activation", k);
        if (lc_act_is_output(s->act.kind) && k != n_nodes - 1)
            return lc_fail(err, LC_ERR_INVALID, "node %d: %s is only allowed on the output node",
                           k, lc_act_name(s->act.kind));
        if (s->act.kind == LC_ACT_CLIP && !(s->act.lo <= s->act.hi))
            return lc_fail(err, LC_ERR_INVALID, "node %d: clip bounds %g > %g", k,
                           (double)s->act.lo, (double)s->act.hi);
        if (s->n_in < 1 || s->n_in > k)
            return lc_fail(err, LC_ERR_INVALID, "node %d: %d incoming edges", k, s->n_in);
        for (int e = 0; e < s->n_in; e++) {
            if (s->src[e] < 0 || s->src[e] >= k)
                return lc_fail(err, LC_ERR_INVALID, "node %d: source %d is not an earlier node",
                               k, s->src[e]);
            for (int f = 0; f < e; f++)
                if (s->src[f] == s->src[e])
                    return lc_fail(err, LC_ERR_INVALID, "node %d: two edges from node %d",
                                   k, s->src[e]);
        }
    }
    return LC_OK;
}

lc_status lc_graph_create(int n_nodes, const lc_node_spec *spec, lc_graph **out, lc_error *err)
{
    *out = NULL;
    lc_status st = check_spec(n_nodes, spec, err);
    if (st) return st;

    size_t n_edges = 0, n_floats = 0;
    for (int k = 1; k < n_nodes; k++) {
        size_t w = (size_t)spec[k].width, sz;
        n_edges += (size_t)spec[k].n_in;
        n_floats += w * (spec[k].act.kind == LC_ACT_PRELU ? 2 : 1);
        for (int e = 0; e < spec[k].n_in; e++) {
            if (!lc_mul_ok(w, (size_t)spec[spec[k].src[e]].width, &sz) || sz > LC_MAX_FLOATS)
                return lc_fail(err, LC_ERR_NOMEM, "node %d: weight matrix too large", k);
            n_floats += sz;
        }
        if (n_floats > LC_MAX_FLOATS)
            return lc_fail(err, LC_ERR_NOMEM, "model larger than %zu floats", LC_MAX_FLOATS);
    }

    lc_graph *g = calloc(1, sizeof *g);
    if (!g) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    g->n_nodes = n_nodes;
    g->n_floats = n_floats;
    g->nodes = calloc((size_t)n_nodes, sizeof *g->nodes);
    g->edges = calloc(n_edges ? n_edges : 1, sizeof *g->edges);
    g->block = calloc(n_floats ? n_floats : 1, sizeof(float));
    if (!g->nodes || !g->edges || !g->block) goto nomem;

    float *p = g->block;
    struct lc_edge *ep = g->edges;
    for (int k = 0; k < n_nodes; k++) {
        struct lc_node *nd = &g->nodes[k];
        char buf[32];
        const char *name = spec[k].name;
        if (!name) {
            snprintf(buf, sizeof buf, k == 0 ? "input" : "node%d", k);
            name = buf;
        }
        nd->name = strdup(name);
        if (!nd->name) goto nomem;
        nd->width = spec[k].width;
        if (k == 0) continue;
        nd->act = spec[k].act;
        nd->n_in = spec[k].n_in;
        nd->in = ep;
        for (int e = 0; e < nd->n_in; e++, ep++) {
            ep->src = spec[k].src[e];
            ep->w = p;
            p += (size_t)nd->width * (size_t)spec[ep->src].width;
        }
        nd->bias = p;
        p += nd->width;
        if (nd->act.kind == LC_ACT_PRELU) {
            nd->slope = p;
            p += nd->width;
        }
    }
    *out = g;
    return LC_OK;
nomem:
    lc_graph_free(g);
    return lc_fail(err, LC_ERR_NOMEM, "out of memory creating a graph");
}

void lc_graph_free(lc_graph *g)
{
    if (!g) return;
    if (g->nodes)
        for (int k = 0; k < g->n_nodes; k++) free(g->nodes[k].name);
    free(g->nodes);
    free(g->edges);
    free(g->block);
    lc_preproc_free(g->pre);
    free(g->out_name);
    free(g);
}

lc_status lc_graph_copy_extras(lc_graph *dst, const lc_graph *src, lc_error *err)
{
    lc_status st;
    if (src->pre && (st = lc_preproc_clone(src->pre, &dst->pre, err))) return st;
    if (dst->nodes[0].width != src->nodes[0].width) return LC_OK;
    if (src->out_name && !(dst->out_name = strdup(src->out_name)))
        return lc_fail(err, LC_ERR_NOMEM, "out of memory copying a graph");
    dst->in_rank = src->in_rank;
    memcpy(dst->in_dims, src->in_dims, sizeof dst->in_dims);
    return LC_OK;
}

lc_status lc_graph_clone(const lc_graph *g, lc_graph **out, lc_error *err)
{
    *out = NULL;
    lc_node_spec *spec = calloc((size_t)g->n_nodes, sizeof *spec);
    int *srcs = calloc((size_t)(g->edges ? (g->nodes[g->n_nodes - 1].in - g->edges)
                                               + g->nodes[g->n_nodes - 1].n_in : 1), sizeof *srcs);
    if (!spec || !srcs) {
        free(spec);
        free(srcs);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory cloning a graph");
    }
    for (int k = 0; k < g->n_nodes; k++) {
        const struct lc_node *nd = &g->nodes[k];
        spec[k] = (lc_node_spec){nd->name, nd->width, nd->act, nd->n_in, NULL};
        if (k == 0) continue;
        int *s = srcs + (nd->in - g->edges);
        for (int e = 0; e < nd->n_in; e++) s[e] = nd->in[e].src;
        spec[k].src = s;
    }
    lc_graph *c;
    lc_status st = lc_graph_create(g->n_nodes, spec, &c, err);
    free(spec);
    free(srcs);
    if (st) return st;
    /* identical layout, so the block copies as one piece */
    memcpy(c->block, g->block, g->n_floats * sizeof(float));
    c->copies = g->copies; /* the same weights: the same copies */
    if ((st = lc_graph_copy_extras(c, g, err))) {
        lc_graph_free(c);
        return st;
    }
    *out = c;
    return LC_OK;
}

int lc_graph_nodes(const lc_graph *g) { return g->n_nodes; }
int lc_graph_input_width(const lc_graph *g) { return g->nodes[0].width; }
int lc_graph_output_width(const lc_graph *g) { return g->nodes[g->n_nodes - 1].width; }

int lc_graph_classes(const lc_graph *g)
{
    int w = lc_graph_output_width(g);
    return w == 1 ? 2 : w;
}
int lc_graph_width(const lc_graph *g, int k) { return g->nodes[k].width; }
const char *lc_graph_name(const lc_graph *g, int k) { return g->nodes[k].name; }
lc_act lc_graph_act(const lc_graph *g, int k) { return g->nodes[k].act; }
int lc_graph_n_in(const lc_graph *g, int k) { return g->nodes[k].n_in; }
int lc_graph_src(const lc_graph *g, int k, int e) { return g->nodes[k].in[e].src; }
float *lc_graph_weight(lc_graph *g, int k, int e) { return g->nodes[k].in[e].w; }
float *lc_graph_bias(lc_graph *g, int k) { return g->nodes[k].bias; }
float *lc_graph_slope(lc_graph *g, int k) { return g->nodes[k].slope; }
const lc_preproc *lc_graph_preproc(const lc_graph *g) { return g->pre; }

void lc_graph_set_preproc(lc_graph *g, lc_preproc *p)
{
    if (g->pre != p) lc_preproc_free(g->pre);
    g->pre = p;
}

int lc_graph_find_edge(const lc_graph *g, int k, int j)
{
    for (int e = 0; e < g->nodes[k].n_in; e++)
        if (g->nodes[k].in[e].src == j) return e;
    return -1;
}

int lc_graph_n_out(const lc_graph *g, int k)
{
    int n = 0;
    for (int m = k + 1; m < g->n_nodes; m++) n += lc_graph_find_edge(g, m, k) >= 0;
    return n;
}

size_t lc_graph_params(const lc_graph *g) { return g->n_floats; }

int lc_edge_twin(const lc_graph *g, int k, int e)
{
    const struct lc_node *nd = &g->nodes[k];
    int w = g->nodes[nd->in[e].src].width;
    for (int f = 0; f < e; f++)
        if (g->nodes[nd->in[f].src].width == w &&
            !memcmp(nd->in[f].w, nd->in[e].w, (size_t)nd->width * (size_t)w * sizeof(float)))
            return f;
    return e;
}

/* Weights of edges that are twins of an earlier edge (lc_edge_twin): the
 * export writes them once. */
static size_t repeated_weights(const lc_graph *g)
{
    size_t r = 0;
    for (int k = 1; k < g->n_nodes; k++)
        for (int e = 1; e < g->nodes[k].n_in; e++)
            if (lc_edge_twin(g, k, e) != e)
                r += (size_t)g->nodes[k].width * (size_t)g->nodes[g->nodes[k].in[e].src].width;
    return r;
}

size_t lc_graph_file_params(const lc_graph *g)
{
    size_t r = repeated_weights(g);
    return g->n_floats - (g->copies > r ? g->copies : r);
}

size_t lc_graph_flops(const lc_graph *g)
{
    size_t w = 0;
    for (int k = 1; k < g->n_nodes; k++)
        for (int e = 0; e < g->nodes[k].n_in; e++)
            w += (size_t)g->nodes[k].width * (size_t)g->nodes[g->nodes[k].in[e].src].width;
    return 2 * w;
}

lc_status lc_graph_check_finite(const lc_graph *g, lc_error *err)
{
    for (int k = 1; k < g->n_nodes; k++) {
        const struct lc_node *nd = &g->nodes[k];
        for (int e = 0; e < nd->n_in; e++) {
            size_t n = (size_t)nd->width * (size_t)g->nodes[nd->in[e].src].width;
            for (size_t i = 0; i < n; i++)
                if (!isfinite(nd->in[e].w[i]))
                    return lc_fail(err, LC_ERR_NUMERIC,
                                   "node '%s': weight [%zu, %zu] from '%s' is %g", nd->name,
                                   i / (size_t)g->nodes[nd->in[e].src].width,
                                   i % (size_t)g->nodes[nd->in[e].src].width,
                                   g->nodes[nd->in[e].src].name, (double)nd->in[e].w[i]);
        }
        for (int i = 0; i < nd->width; i++) {
            if (!isfinite(nd->bias[i]))
                return lc_fail(err, LC_ERR_NUMERIC, "node '%s': bias [%d] is %g", nd->name, i,
                               (double)nd->bias[i]);
            if (nd->slope && !isfinite(nd->slope[i]))
                return lc_fail(err, LC_ERR_NUMERIC, "node '%s': PReLU slope [%d] is %g",
                               nd->name, i, (double)nd->slope[i]);
        }
    }
    return LC_OK;
}
