/* fold.c - the folding transform (DESIGN section 3): the one place that
 * changes a graph's structure. Plans are in plan.c.
 *
 * lc_fold copies the graph into a mutable working form (one allocation per
 * edge, so edges can appear and shrink), folds the planned nodes from the
 * highest index down (so a node's neuron numbering is still the original one
 * when its turn comes), settles nodes that lost all inputs, drops nodes that
 * no longer reach the output, and builds the result with lc_graph_create.
 * The same code runs without weights to count the parameters a plan leads
 * to (lc_plan_params_after), so the cost model and the transform cannot
 * disagree. */
#include "compress/compress.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------- the working graph */

struct wedge {
    int src;
    float *w; /* (width, width_src), NULL when counting only */
};

struct wnode {
    int width;
    bool gone;
    bool used; /* feeds the output (drop_unused) */
    int n_in, cap;
    struct wedge *in;
    float *bias, *slope; /* NULL when counting only; slope for PReLU */
};

struct wgraph {
    const lc_graph *g;
    bool numeric; /* carry weights, or only shapes */
    struct wnode *nd;
};

static void wg_free(struct wgraph *wg)
{
    if (!wg->nd) return;
    for (int k = 0; k < wg->g->n_nodes; k++) {
        struct wnode *n = &wg->nd[k];
        for (int e = 0; e < n->n_in; e++) free(n->in[e].w);
        free(n->in);
        free(n->bias);
        free(n->slope);
    }
    free(wg->nd);
    wg->nd = NULL;
}

static float *dup_floats(const float *src, size_t n)
{
    float *d = malloc((n ? n : 1) * sizeof(float));
    if (d && n) memcpy(d, src, n * sizeof(float));
    return d;
}

static lc_status wg_init(struct wgraph *wg, const lc_graph *g, bool numeric, lc_error *err)
{
    wg->g = g;
    wg->numeric = numeric;
    wg->nd = calloc((size_t)g->n_nodes, sizeof *wg->nd);
    if (!wg->nd) return lc_fail(err, LC_ERR_NOMEM, "fold: out of memory");
    wg->nd[0].width = g->nodes[0].width;
    for (int k = 1; k < g->n_nodes; k++) {
        const struct lc_node *s = &g->nodes[k];
        struct wnode *n = &wg->nd[k];
        n->width = s->width;
        n->cap = s->n_in + 4;
        if (!(n->in = calloc((size_t)n->cap, sizeof *n->in))) goto nomem;
        for (int e = 0; e < s->n_in; e++) {
            n->in[e].src = s->in[e].src;
            if (numeric && !(n->in[e].w = dup_floats(s->in[e].w, (size_t)s->width *
                                                     (size_t)g->nodes[s->in[e].src].width)))
                goto nomem;
            n->n_in = e + 1;
        }
        if (numeric) {
            if (!(n->bias = dup_floats(s->bias, (size_t)s->width))) goto nomem;
            if (s->slope && !(n->slope = dup_floats(s->slope, (size_t)s->width))) goto nomem;
        }
    }
    return LC_OK;
nomem:
    wg_free(wg);
    return lc_fail(err, LC_ERR_NOMEM, "fold: out of memory copying the graph");
}

static int w_find(const struct wnode *n, int j)
{
    for (int e = 0; e < n->n_in; e++)
        if (n->in[e].src == j) return e;
    return -1;
}

/* Appends a zero edge m <- j; returns its index or -1 (out of memory). */
static int w_add_edge(struct wgraph *wg, int m, int j)
{
    struct wnode *n = &wg->nd[m];
    if (n->n_in == n->cap) {
        struct wedge *in = realloc(n->in, (size_t)n->cap * 2 * sizeof *in);
        if (!in) return -1;
        n->in = in;
        n->cap *= 2;
    }
    float *w = NULL;
    if (wg->numeric) {
        size_t sz;
        if (!lc_mul_ok((size_t)n->width, (size_t)wg->nd[j].width, &sz) || sz > LC_MAX_FLOATS ||
            !(w = calloc(sz ? sz : 1, sizeof(float))))
            return -1;
    }
    n->in[n->n_in] = (struct wedge){j, w};
    return n->n_in++;
}

/* Removes edge e of node m, keeping the order of the others. */
static void w_del_edge(struct wnode *n, int e)
{
    free(n->in[e].w);
    memmove(n->in + e, n->in + e + 1, (size_t)(n->n_in - e - 1) * sizeof *n->in);
    n->n_in--;
}

/* Node k without neurons: its edges go, and so do its consumers' edges. */
static void w_drop_node(struct wgraph *wg, int k)
{
    struct wnode *n = &wg->nd[k];
    for (int m = k + 1; m < wg->g->n_nodes; m++) {
        int e = w_find(&wg->nd[m], k);
        if (e >= 0) w_del_edge(&wg->nd[m], e);
    }
    while (n->n_in > 0) w_del_edge(n, n->n_in - 1);
    free(n->bias);
    free(n->slope);
    n->bias = n->slope = NULL;
    n->width = 0;
    n->gone = true;
}

/* ------------------------------------------------------- folding a node */

/* Scratch of one node fold: the folded neurons with their slope/offset, the
 * linear (s != 0) subset, the kept ones. */
struct fold_sets {
    int n_fold, n_lin, n_keep;
    int *fold, *lin, *keep, *cons;
    float *fs, *fc, *ls;
};

static void sets_free(struct fold_sets *s)
{
    free(s->fold);
    free(s->lin);
    free(s->keep);
    free(s->cons);
    free(s->fs);
    free(s->fc);
    free(s->ls);
}

/* W_mj += (W_mk[:, lin] diag(s)) W_kj[lin, :] for every consumer m and
 * producer j of k: one SGEMM per pair, creating W_mj when absent. */
static lc_status fold_linear_numeric(struct wgraph *wg, int k, const struct fold_sets *s,
                                     int n_cons, lc_error *err)
{
    struct wnode *n = &wg->nd[k];
    int w0 = n->width, nl = s->n_lin;
    size_t b_total = 0, a_max = 0;
    for (int e = 0; e < n->n_in; e++) b_total += (size_t)wg->nd[n->in[e].src].width * nl;
    for (int c = 0; c < n_cons; c++)
        if ((size_t)wg->nd[s->cons[c]].width * nl > a_max) a_max = (size_t)wg->nd[s->cons[c]].width * nl;
    float *bbuf = malloc((b_total ? b_total : 1) * sizeof(float));
    float *a = malloc((a_max ? a_max : 1) * sizeof(float));
    size_t *boff = malloc(((size_t)n->n_in + 1) * sizeof *boff);
    lc_status st = LC_OK;
    if (!bbuf || !a || !boff) {
        st = lc_fail(err, LC_ERR_NOMEM, "fold: out of memory folding node %d", k);
        goto done;
    }
    /* B_j = rows `lin` of W_kj, gathered once per producer */
    boff[0] = 0;
    for (int e = 0; e < n->n_in; e++) {
        int nj = wg->nd[n->in[e].src].width;
        for (int t = 0; t < nl; t++)
            memcpy(bbuf + boff[e] + (size_t)t * nj, n->in[e].w + (size_t)s->lin[t] * nj,
                   (size_t)nj * sizeof(float));
        boff[e + 1] = boff[e] + (size_t)nj * nl;
    }
    for (int c = 0; c < n_cons; c++) {
        int m = s->cons[c], nm = wg->nd[m].width;
        const float *wmk = wg->nd[m].in[w_find(&wg->nd[m], k)].w;
        for (int r = 0; r < nm; r++)
            for (int t = 0; t < nl; t++)
                a[(size_t)r * nl + t] = wmk[(size_t)r * w0 + s->lin[t]] * s->ls[t];
        for (int e = 0; e < n->n_in; e++) {
            int j = n->in[e].src, nj = wg->nd[j].width;
            int em = w_find(&wg->nd[m], j);
            if (em < 0 && (em = w_add_edge(wg, m, j)) < 0) {
                st = lc_fail(err, LC_ERR_NOMEM, "fold: out of memory for a new edge %d -> %d",
                             j, m);
                goto done;
            }
            lc_sgemm(false, false, nm, nj, nl, 1.0f, a, nl, bbuf + boff[e], nj, 1.0f,
                     wg->nd[m].in[em].w, nj);
        }
    }
done:
    free(bbuf);
    free(a);
    free(boff);
    return st;
}

/* Removes the folded rows of node k (weights, bias, slope) and the matching
 * columns of its consumers' edges, in place: entries only move to lower
 * addresses, so a forward copy is safe. */
static void shrink_node(struct wgraph *wg, int k, const struct fold_sets *s, int n_cons)
{
    struct wnode *n = &wg->nd[k];
    int w0 = n->width, nk = s->n_keep;
    if (wg->numeric) {
        for (int e = 0; e < n->n_in; e++) {
            size_t nj = (size_t)wg->nd[n->in[e].src].width;
            for (int t = 0; t < nk; t++)
                memmove(n->in[e].w + t * nj, n->in[e].w + (size_t)s->keep[t] * nj,
                        nj * sizeof(float));
        }
        for (int t = 0; t < nk; t++) {
            n->bias[t] = n->bias[s->keep[t]];
            if (n->slope) n->slope[t] = n->slope[s->keep[t]];
        }
        for (int c = 0; c < n_cons; c++) {
            struct wnode *m = &wg->nd[s->cons[c]];
            float *w = m->in[w_find(m, k)].w;
            for (int r = 0; r < m->width; r++)
                for (int t = 0; t < nk; t++)
                    w[(size_t)r * nk + t] = w[(size_t)r * w0 + s->keep[t]];
        }
    }
    n->width = nk;
}

static lc_status fold_node(struct wgraph *wg, int k, const signed char *piece, lc_error *err)
{
    const lc_graph *g = wg->g;
    struct wnode *n = &wg->nd[k];
    int w0 = n->width;
    size_t sz = (size_t)w0;
    struct fold_sets s = {0};
    s.fold = malloc(sz * sizeof(int));
    s.lin = malloc(sz * sizeof(int));
    s.keep = malloc(sz * sizeof(int));
    s.cons = malloc((size_t)g->n_nodes * sizeof(int));
    s.fs = malloc(sz * sizeof(float));
    s.fc = malloc(sz * sizeof(float));
    s.ls = malloc(sz * sizeof(float));
    if (!s.fold || !s.lin || !s.keep || !s.cons || !s.fs || !s.fc || !s.ls) {
        sets_free(&s);
        return lc_fail(err, LC_ERR_NOMEM, "fold: out of memory folding node %d", k);
    }
    for (int i = 0; i < w0; i++) {
        if (piece[i] == LC_KEEP) {
            s.keep[s.n_keep++] = i;
            continue;
        }
        float sl, c;
        lc_piece_affine(g->nodes[k].act, g->nodes[k].slope ? g->nodes[k].slope[i] : 0.0f,
                        piece[i], &sl, &c);
        s.fold[s.n_fold] = i;
        s.fs[s.n_fold] = sl;
        s.fc[s.n_fold++] = c;
        if (sl != 0.0f) {
            s.lin[s.n_lin] = i;
            s.ls[s.n_lin++] = sl;
        }
    }
    int n_cons = 0;
    for (int m = k + 1; m < g->n_nodes; m++)
        if (!wg->nd[m].gone && w_find(&wg->nd[m], k) >= 0) s.cons[n_cons++] = m;

    lc_status st = LC_OK;
    if (wg->numeric) {
        /* b_m += W_mk[:, L] (s_L b_k[L] + c_L), in double */
        for (int c = 0; c < n_cons; c++) {
            struct wnode *m = &wg->nd[s.cons[c]];
            const float *wmk = m->in[w_find(m, k)].w;
            for (int r = 0; r < m->width; r++) {
                double acc = 0;
                for (int t = 0; t < s.n_fold; t++) {
                    int i = s.fold[t];
                    acc += (double)wmk[(size_t)r * w0 + i] *
                           ((double)s.fs[t] * n->bias[i] + s.fc[t]);
                }
                m->bias[r] = (float)(m->bias[r] + acc);
            }
        }
        if (s.n_lin > 0) st = fold_linear_numeric(wg, k, &s, n_cons, err);
    } else if (s.n_lin > 0) {
        for (int c = 0; c < n_cons && !st; c++)
            for (int e = 0; e < n->n_in; e++)
                if (w_find(&wg->nd[s.cons[c]], n->in[e].src) < 0 &&
                    w_add_edge(wg, s.cons[c], n->in[e].src) < 0) {
                    st = lc_fail(err, LC_ERR_NOMEM, "fold: out of memory");
                    break;
                }
    }
    if (!st) {
        if (s.n_keep == 0)
            w_drop_node(wg, k);
        else
            shrink_node(wg, k, &s, n_cons);
    }
    sets_free(&s);
    return st;
}

/* Nodes left without inputs (every producer was a folded-away constant):
 * a hidden one is a constant act(b) and goes into its consumers' biases; the
 * output node is then a constant too, and keeps the shape of a graph with a
 * zero edge from the input: any hidden node would stay alive for nothing but
 * that edge. Increasing order lets constants cascade. */
static lc_status settle_orphans(struct wgraph *wg, lc_error *err)
{
    const lc_graph *g = wg->g;
    int last = g->n_nodes - 1;
    for (int k = 1; k < g->n_nodes; k++) {
        struct wnode *n = &wg->nd[k];
        if (n->gone || n->n_in > 0) continue;
        if (k == last) {
            if (w_add_edge(wg, k, 0) < 0)
                return lc_fail(err, LC_ERR_NOMEM, "fold: out of memory");
            continue;
        }
        if (wg->numeric) {
            lc_act_apply(g->nodes[k].act, n->slope, n->bias, 1, n->width); /* h = act(b) */
            for (int m = k + 1; m < g->n_nodes; m++) {
                struct wnode *c = &wg->nd[m];
                int e = w_find(c, k);
                if (e < 0) continue;
                for (int r = 0; r < c->width; r++) {
                    double acc = 0;
                    for (int i = 0; i < n->width; i++)
                        acc += (double)c->in[e].w[(size_t)r * n->width + i] * n->bias[i];
                    c->bias[r] = (float)(c->bias[r] + acc);
                }
            }
        }
        w_drop_node(wg, k);
    }
    return LC_OK;
}

/* Hidden nodes whose output no longer reaches the output node: a node all
 * of whose consumers folded away (a layer of constants, or consumers that
 * became constants) still computes, but nothing reads it. They go, with
 * their producers in turn when those fed only them. Decreasing order sees
 * every consumer of a node before the node; a dropped node's consumers are
 * all unused, so no node that stays loses an input. */
static void drop_unused(struct wgraph *wg)
{
    int last = wg->g->n_nodes - 1;
    for (int k = 1; k < last; k++) wg->nd[k].used = false;
    wg->nd[last].used = true;
    for (int k = last; k >= 1; k--) {
        struct wnode *n = &wg->nd[k];
        if (n->gone) continue;
        if (!n->used) {
            w_drop_node(wg, k);
            continue;
        }
        for (int e = 0; e < n->n_in; e++) wg->nd[n->in[e].src].used = true;
    }
}

static lc_status run_plan(struct wgraph *wg, const lc_plan *p, lc_error *err)
{
    for (int k = wg->g->n_nodes - 2; k >= 1; k--) {
        const signed char *pc = p->piece + p->off[k];
        int any = 0;
        for (int i = 0; i < p->width[k] && !any; i++) any = pc[i] != LC_KEEP;
        if (!any) continue;
        lc_status st = fold_node(wg, k, pc, err);
        if (st) return st;
    }
    lc_status st = settle_orphans(wg, err);
    if (!st) drop_unused(wg);
    return st;
}

lc_status lc_plan_params_after(const lc_graph *g, const lc_plan *p, size_t *params,
                               size_t *flops, lc_error *err)
{
    lc_status st = lc_plan_check(g, p, err);
    if (st) return st;
    struct wgraph wg;
    if ((st = wg_init(&wg, g, false, err))) return st;
    if ((st = run_plan(&wg, p, err))) {
        wg_free(&wg);
        return st;
    }
    size_t np = 0, nw = 0;
    for (int k = 1; k < g->n_nodes; k++) {
        const struct wnode *n = &wg.nd[k];
        if (n->gone) continue;
        np += (size_t)n->width * (g->nodes[k].act.kind == LC_ACT_PRELU ? 2 : 1);
        for (int e = 0; e < n->n_in; e++) nw += (size_t)n->width * wg.nd[n->in[e].src].width;
    }
    wg_free(&wg);
    if (params) *params = np + nw;
    if (flops) *flops = 2 * nw;
    return LC_OK;
}

lc_status lc_fold_node_map(const lc_graph *g, const lc_plan *p, int *map, lc_error *err)
{
    lc_status st = lc_plan_check(g, p, err);
    if (st) return st;
    struct wgraph wg;
    if ((st = wg_init(&wg, g, false, err))) return st;
    if (!(st = run_plan(&wg, p, err))) {
        int nn = 0; /* as build_graph numbers them */
        for (int k = 0; k < g->n_nodes; k++) map[k] = (k == 0 || !wg.nd[k].gone) ? nn++ : -1;
    }
    wg_free(&wg);
    return st;
}

/* The result as an lc_graph: surviving nodes in order, edges in order. */
static lc_status build_graph(const struct wgraph *wg, lc_graph **out, int *map, lc_error *err)
{
    const lc_graph *g = wg->g;
    int nn = 0;
    size_t n_edges = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        map[k] = (k == 0 || !wg->nd[k].gone) ? nn++ : -1;
        if (k > 0) n_edges += (size_t)wg->nd[k].n_in;
    }
    lc_node_spec *spec = calloc((size_t)nn, sizeof *spec);
    int *srcs = malloc((n_edges ? n_edges : 1) * sizeof *srcs);
    if (!spec || !srcs) {
        free(spec);
        free(srcs);
        return lc_fail(err, LC_ERR_NOMEM, "fold: out of memory");
    }
    int *sp = srcs;
    for (int k = 0; k < g->n_nodes; k++) {
        if (map[k] < 0) continue;
        const struct wnode *n = &wg->nd[k];
        spec[map[k]] = (lc_node_spec){g->nodes[k].name, n->width, g->nodes[k].act, n->n_in, sp};
        for (int e = 0; e < n->n_in; e++) *sp++ = map[n->in[e].src];
    }
    lc_graph *r;
    lc_status st = lc_graph_create(nn, spec, &r, err);
    free(spec);
    free(srcs);
    if (st) return st;
    for (int k = 1; k < g->n_nodes; k++) {
        if (map[k] < 0) continue;
        const struct wnode *n = &wg->nd[k];
        struct lc_node *d = &r->nodes[map[k]];
        for (int e = 0; e < n->n_in; e++)
            memcpy(d->in[e].w, n->in[e].w,
                   (size_t)n->width * (size_t)wg->nd[n->in[e].src].width * sizeof(float));
        memcpy(d->bias, n->bias, (size_t)n->width * sizeof(float));
        if (d->slope) memcpy(d->slope, n->slope, (size_t)n->width * sizeof(float));
    }
    if ((st = lc_graph_copy_extras(r, g, err))) {
        lc_graph_free(r);
        return st;
    }
    *out = r;
    return LC_OK;
}

lc_status lc_fold(const lc_graph *g, const lc_plan *p, lc_graph **out, int *node_map,
                  lc_error *err)
{
    *out = NULL;
    lc_status st = lc_plan_check(g, p, err);
    if (st) return st;
    int *map = node_map ? node_map : malloc((size_t)g->n_nodes * sizeof *map);
    if (!map) return lc_fail(err, LC_ERR_NOMEM, "fold: out of memory");
    struct wgraph wg;
    if (!(st = wg_init(&wg, g, true, err))) {
        if (!(st = run_plan(&wg, p, err))) st = build_graph(&wg, out, map, err);
        wg_free(&wg);
    }
    if (map != node_map) free(map);
    return st;
}
