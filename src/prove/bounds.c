/* bounds.c - provable linearity: the proof object, the verdicts (a neuron
 * is proven when its bounds widened by the float32 margin fit one piece),
 * the accessors, and the driver lc_prove() that runs interval
 * (bounds_interval.c), symbolic (bounds_sym.c) and LP (bounds_lp.c) bounds
 * node by node. docs/proofs.md gives the soundness argument that the
 * comments refer to. */
#include "prove/bounds.h"
#include "compress/compress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double lc_bounds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------- verdicts */

/* The z interval of piece p of f (closed at finite ends). */
static double piece_lo(const lc_pwl *f, int p) { return p == 0 ? -INFINITY : f->kink[p - 1]; }
static double piece_hi(const lc_pwl *f, int p) { return p == f->n - 1 ? INFINITY : f->kink[p]; }

/* Proves neuron t if its bounds, widened by the float32 margin, fit one
 * closed piece (the identity piece preferred); returns 1 if newly proven. */
static int decide(lc_proof *p, size_t t, lc_prove_method by)
{
    if (p->piece[t] != LC_KEEP) return 0;
    const lc_pwl *f = &p->pwl[t];
    double l = p->zl[t] - p->ez[t], u = p->zu[t] + p->ez[t];
    int id = f->n == 1 ? 0 : 1;
    int order[3] = {id, id == 0 ? 1 : 0, 2};
    for (int q = 0; q < f->n; q++) {
        int pc = order[q];
        if (pc >= f->n) continue;
        if (l >= piece_lo(f, pc) && u <= piece_hi(f, pc)) {
            p->piece[t] = (signed char)pc;
            p->by[t] = (signed char)by;
            return 1;
        }
    }
    return 0;
}

/* Undecided neurons of node k into rows; returns their count. */
static int undecided(const lc_proof *p, int k, int *rows)
{
    int nr = 0;
    for (int i = 0; i < p->width[k]; i++)
        if (p->piece[p->off[k] + (size_t)i] == LC_KEEP) rows[nr++] = i;
    return nr;
}

/* ------------------------------------------------------------ the object */

void lc_proof_free(lc_proof *p)
{
    if (!p) return;
    free(p->wblock);
    free(p->wd);
    free(p->width);
    free(p->off);
    free(p->pwl);
    free(p->zl);
    free(p->rlo);
    free(p->piece);
    free(p);
}

static lc_status proof_alloc(const lc_graph *g, lc_proof **out, lc_error *err)
{
    int n = g->n_nodes;
    lc_proof *p = calloc(1, sizeof *p);
    if (!p) return lc_fail(err, LC_ERR_NOMEM, "out of memory for a proof");
    p->n_nodes = n;
    p->width = calloc((size_t)n, sizeof *p->width);
    p->off = calloc((size_t)n + 1, sizeof *p->off);
    size_t n_edges = 0;
    for (int k = 1; k < n; k++) n_edges += (size_t)g->nodes[k].n_in;
    p->wd = calloc(n_edges ? n_edges : 1, sizeof *p->wd);
    if (!p->width || !p->off || !p->wd) goto nomem;
    for (int k = 0; k < n; k++) {
        p->width[k] = g->nodes[k].width;
        p->off[k + 1] = p->off[k] + (size_t)g->nodes[k].width;
    }
    size_t nn = p->off[n], nw = 0;
    for (int k = 1; k < n; k++)
        for (int e = 0; e < g->nodes[k].n_in; e++)
            nw += (size_t)g->nodes[k].width * (size_t)g->nodes[g->nodes[k].in[e].src].width;
    p->pwl = calloc(nn, sizeof *p->pwl);
    p->zl = malloc(6 * nn * sizeof *p->zl); /* zl zu hl hu ez eh */
    p->rlo = calloc(2 * nn, sizeof *p->rlo);
    p->piece = malloc(2 * nn);
    p->wblock = malloc((nw ? nw : 1) * sizeof(double));
    if (!p->pwl || !p->zl || !p->rlo || !p->piece || !p->wblock) goto nomem;
    p->zu = p->zl + nn;
    p->hl = p->zl + 2 * nn;
    p->hu = p->zl + 3 * nn;
    p->ez = p->zl + 4 * nn;
    p->eh = p->zl + 5 * nn;
    p->rup = p->rlo + nn;
    p->by = p->piece + nn;
    memset(p->piece, LC_KEEP, nn);
    memset(p->by, LC_PROVE_NONE, nn);
    double *w = p->wblock;
    for (int k = 1; k < n; k++)
        for (int e = 0; e < g->nodes[k].n_in; e++) {
            size_t cnt = (size_t)g->nodes[k].width * (size_t)g->nodes[g->nodes[k].in[e].src].width;
            const float *src = g->nodes[k].in[e].w;
            p->wd[lc_edge_index(g, k, e)] = w;
            for (size_t q = 0; q < cnt; q++) w[q] = src[q];
            w += cnt;
        }
    *out = p;
    return LC_OK;
nomem:
    lc_proof_free(p);
    return lc_fail(err, LC_ERR_NOMEM, "out of memory for the bounds of a proof");
}

static lc_status check_inputs(const lc_graph *g, const lc_box *box, lc_prove_method method,
                              double lp_time, lc_error *err)
{
    if (method != LC_PROVE_INTERVAL && method != LC_PROVE_SYMBOLIC && method != LC_PROVE_LP)
        return lc_fail(err, LC_ERR_INVALID, "prove: unknown method %d", (int)method);
    if (!(lp_time >= 0) || !isfinite(lp_time))
        return lc_fail(err, LC_ERR_INVALID, "prove: LP time limit %g s (expected >= 0)", lp_time);
    if (lc_box_width(box) != g->nodes[0].width)
        return lc_fail(err, LC_ERR_SHAPE, "prove: the input box has %d features, the model %d",
                       lc_box_width(box), g->nodes[0].width);
    lc_status st = lc_graph_check_finite(g, err);
    if (st) return st;
    for (int k = 1; k < g->n_nodes - 1; k++) {
        lc_act a = g->nodes[k].act;
        if (a.kind == LC_ACT_CLIP && !(a.lo <= a.hi))
            return lc_fail(err, LC_ERR_UNSUPPORTED,
                           "prove: node %d ('%s') is Clip(%g, %g) with lo > hi", k,
                           g->nodes[k].name, (double)a.lo, (double)a.hi);
    }
    return LC_OK;
}

lc_status lc_prove(const lc_graph *g, const lc_box *box, lc_prove_method method,
                   double lp_time_limit_s, lc_proof **out, lc_error *err)
{
    *out = NULL;
    lc_status st = check_inputs(g, box, method, lp_time_limit_s, err);
    if (st) return st;
    lc_proof *p = NULL;
    if ((st = proof_alloc(g, &p, err))) return st;
    p->method = method;
    int max_w = 1;
    for (int k = 0; k < g->n_nodes; k++) max_w = g->nodes[k].width > max_w ? g->nodes[k].width : max_w;
    int *rows = malloc((size_t)max_w * sizeof *rows);
    if (!rows) {
        lc_proof_free(p);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    }
    for (int j = 0; j < g->nodes[0].width; j++) {
        p->hl[j] = p->zl[j] = lc_box_lo(box, j);
        p->hu[j] = p->zu[j] = lc_box_hi(box, j);
        p->ez[j] = p->eh[j] = 0; /* a float input inside the box is exact */
    }
    double lp_limit = lp_time_limit_s > 0 ? lp_time_limit_s : 10.0;
    double deadline = 0;
    for (int k = 1; k < g->n_nodes - 1 && !st; k++) {
        size_t o = p->off[k];
        for (int i = 0; i < p->width[k]; i++) lc_pwl_of(g, k, i, &p->pwl[o + (size_t)i]);
        double t0 = lc_bounds_now();
        lc_bounds_interval(p, g, k);
        for (int i = 0; i < p->width[k]; i++) decide(p, o + (size_t)i, LC_PROVE_INTERVAL);
        double t1 = lc_bounds_now();
        p->seconds[LC_PROVE_INTERVAL] += t1 - t0;
        int nr = undecided(p, k, rows);
        if (method >= LC_PROVE_SYMBOLIC && nr > 0) {
            st = lc_bounds_symbolic(p, g, k, rows, nr, err);
            for (int r = 0; r < nr && !st; r++) decide(p, o + (size_t)rows[r], LC_PROVE_SYMBOLIC);
            p->seconds[LC_PROVE_SYMBOLIC] += lc_bounds_now() - t1;
            nr = undecided(p, k, rows);
        }
        if (method == LC_PROVE_LP && nr > 0 && !st) {
            double t2 = lc_bounds_now();
            if (deadline == 0) deadline = t2 + lp_limit;
            st = lc_bounds_lp(p, g, k, rows, nr, deadline, err);
            for (int r = 0; r < nr && !st; r++)
                p->lp_decided += decide(p, o + (size_t)rows[r], LC_PROVE_LP);
            p->seconds[LC_PROVE_LP] += lc_bounds_now() - t2;
        }
        for (int i = 0; i < p->width[k]; i++) {
            lc_bounds_relax(p, o + (size_t)i);
            lc_bounds_h_error(p, o + (size_t)i);
        }
    }
    free(rows);
    if (st) {
        lc_proof_free(p);
        return st;
    }
    *out = p;
    return LC_OK;
}

/* ------------------------------------------------------------ accessors */

static bool hidden(const lc_proof *p, int k) { return k >= 1 && k < p->n_nodes - 1; }
static bool in_range(const lc_proof *p, int k, int i)
{
    return hidden(p, k) && i >= 0 && i < p->width[k];
}

int lc_proof_nodes(const lc_proof *p) { return p->n_nodes; }
int lc_proof_width(const lc_proof *p, int k) { return hidden(p, k) ? p->width[k] : 0; }
double lc_proof_lower(const lc_proof *p, int k, int i)
{
    return in_range(p, k, i) ? p->zl[p->off[k] + (size_t)i] : NAN;
}
double lc_proof_upper(const lc_proof *p, int k, int i)
{
    return in_range(p, k, i) ? p->zu[p->off[k] + (size_t)i] : NAN;
}
int lc_proof_piece(const lc_proof *p, int k, int i)
{
    return in_range(p, k, i) ? p->piece[p->off[k] + (size_t)i] : LC_KEEP;
}
lc_prove_method lc_proof_method_of(const lc_proof *p, int k, int i)
{
    return in_range(p, k, i) ? (lc_prove_method)p->by[p->off[k] + (size_t)i] : LC_PROVE_NONE;
}

/* Counts neurons of node k whose proven piece passes `want`. */
enum { COUNT_LINEAR, COUNT_CONSTANT, COUNT_ANY };
static int count(const lc_proof *p, int k, int want, int by)
{
    if (!hidden(p, k)) return 0;
    int c = 0;
    for (int i = 0; i < p->width[k]; i++) {
        size_t t = p->off[k] + (size_t)i;
        int pc = p->piece[t];
        if (pc == LC_KEEP || (by >= 0 && p->by[t] != by)) continue;
        const lc_pwl *f = &p->pwl[t];
        if (want == COUNT_ANY || (want == COUNT_LINEAR && f->s[pc] == 1 && f->c[pc] == 0) ||
            (want == COUNT_CONSTANT && f->s[pc] == 0))
            c++;
    }
    return c;
}

int lc_proof_n_linear(const lc_proof *p, int k) { return count(p, k, COUNT_LINEAR, -1); }
int lc_proof_n_constant(const lc_proof *p, int k) { return count(p, k, COUNT_CONSTANT, -1); }
int lc_proof_n_proven(const lc_proof *p, int k) { return count(p, k, COUNT_ANY, -1); }
int lc_proof_n_by(const lc_proof *p, int k, lc_prove_method m)
{
    return m < 0 || m > LC_PROVE_LP ? 0 : count(p, k, COUNT_ANY, (int)m);
}
double lc_proof_seconds(const lc_proof *p, lc_prove_method m)
{
    return m < 0 || m > LC_PROVE_LP ? 0 : p->seconds[m];
}
int lc_proof_lp_decided(const lc_proof *p) { return p->lp_decided; }
int lc_proof_lp_solved(const lc_proof *p) { return p->lp_solved; }
int lc_proof_lp_failed(const lc_proof *p) { return p->lp_failed; }
int lc_proof_lp_skipped(const lc_proof *p) { return p->lp_skipped; }

const char *lc_prove_method_name(lc_prove_method m)
{
    switch (m) {
    case LC_PROVE_INTERVAL: return "interval";
    case LC_PROVE_SYMBOLIC: return "symbolic";
    case LC_PROVE_LP: return "lp";
    default: return "none";
    }
}

lc_status lc_prove_method_parse(const char *text, lc_prove_method *out, lc_error *err)
{
    for (int m = LC_PROVE_INTERVAL; m <= LC_PROVE_LP; m++)
        if (strcmp(text, lc_prove_method_name((lc_prove_method)m)) == 0) {
            *out = (lc_prove_method)m;
            return LC_OK;
        }
    return lc_fail(err, LC_ERR_INVALID,
                   "proof method '%.64s': expected interval, symbolic or lp", text);
}

lc_status lc_proof_apply(const lc_proof *p, lc_plan *plan, lc_error *err)
{
    bool same = plan->n_nodes == p->n_nodes;
    for (int k = 0; same && k < p->n_nodes; k++) same = plan->width[k] == p->width[k];
    if (!same)
        return lc_fail(err, LC_ERR_SHAPE, "proof: the plan was made for a graph of another shape");
    for (int k = 1; k < p->n_nodes - 1; k++)
        for (int i = 0; i < p->width[k]; i++) {
            int pc = p->piece[p->off[k] + (size_t)i];
            if (pc == LC_KEEP) continue;
            lc_status st = lc_plan_set(plan, k, i, pc, err);
            if (st) return st;
        }
    return LC_OK;
}

int lc_sign_test(const lc_graph *g, int k)
{
    if (k < 1 || k >= g->n_nodes - 1) return -1;
    const struct lc_node *nd = &g->nodes[k];
    int c = 0;
    for (int i = 0; i < nd->width; i++) {
        bool ok = nd->bias[i] >= 0;
        for (int e = 0; ok && e < nd->n_in; e++) {
            int nj = g->nodes[nd->in[e].src].width;
            const float *w = nd->in[e].w + (size_t)i * nj;
            for (int q = 0; ok && q < nj; q++) ok = w[q] >= 0;
        }
        c += ok;
    }
    return c;
}
