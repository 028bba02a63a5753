/* budget_incr.c - the plain fold's accuracy for the many candidates of a
 * budget search, from cached activations instead of a fold and a forward
 * pass per candidate (issue 14).
 *
 * lc_fold(g, P) computes, in exact arithmetic, the original graph with the
 * activation of every folded neuron replaced by its piece's affine map
 * s z + c. A base holds that function's pre-activations z (all scoring rows,
 * every node) and which rows it predicts right, for one plan B. A candidate
 * P that folds everything B folds, the same way, plus a set D of neurons,
 * differs from B only on the rows where some neuron of D leaves its piece
 * (on the others s z + c and the activation give the same float, so every
 * later z is bitwise B's); those rows alone are run again, from the first
 * node of D on, with the z of every node before it taken from the base.
 * Two bases: the original model (B empty, valid for every candidate) and
 * the greedy walk's current state (budget_incr_rebase), whose candidates
 * add a few neurons and so change few rows.
 *
 * The score differs from lc_fold + lc_plan_accuracy only by float rounding
 * (the fold multiplies weights out, here they stay factored): a row's
 * prediction can change only where its two largest outputs are within
 * rounding of each other. */
#include "compress/budget_incr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void result_free(result *r, int n_nodes)
{
    for (int k = 0; r->zn && k < n_nodes; k++) free(r->zn[k].p);
    free(r->zn);
    free(r->chg);
    free(r->piece);
    free(r->redo);
    free(r->ok);
}

static bool result_init(result *r, int n_nodes, size_t neurons)
{
    *r = (result){0};
    r->zn = calloc((size_t)n_nodes, sizeof *r->zn);
    r->chg = calloc((size_t)n_nodes, sizeof *r->chg);
    r->piece = malloc(neurons ? neurons : 1);
    return r->zn && r->chg && r->piece;
}

static void base_free(base *b, int n_nodes)
{
    free(b->piece);
    lc_recon_zcache_free(b->z, n_nodes);
    free(b->ok);
    memset(b, 0, sizeof *b);
}

static bool base_alloc(const budget_incr *bi, base *b)
{
    int N = bi->g->n_nodes;
    b->piece = malloc(bi->neurons ? bi->neurons : 1);
    b->z = calloc((size_t)N, sizeof *b->z);
    b->ok = malloc(bi->n ? bi->n : 1);
    if (!b->piece || !b->z || !b->ok) return false;
    for (int k = 1; k < N; k++)
        if (!(b->z[k] = malloc((bi->n ? bi->n : 1) * (size_t)bi->g->nodes[k].width * sizeof(float))))
            return false;
    return true;
}

static void base_copy(const budget_incr *bi, base *to, const base *from)
{
    memcpy(to->piece, from->piece, bi->neurons ? bi->neurons : 1);
    for (int k = 1; k < bi->g->n_nodes; k++)
        memcpy(to->z[k], from->z[k], bi->n * (size_t)bi->g->nodes[k].width * sizeof(float));
    memcpy(to->ok, from->ok, bi->n ? bi->n : 1);
    to->correct = from->correct;
}

void budget_incr_free(budget_incr *bi)
{
    if (!bi) return;
    base_free(&bi->orig, bi->g->n_nodes);
    base_free(&bi->cur, bi->g->n_nodes);
    result_free(&bi->last, bi->g->n_nodes);
    result_free(&bi->kept, bi->g->n_nodes);
    free(bi->hb.p);
    free(bi->xb.p);
    free(bi->dh.p);
    free(bi->wd.p);
    free(bi->off);
    free(bi);
}

lc_status budget_incr_init(const lc_graph *g, const lc_data *d, budget_incr **out, lc_error *err)
{
    *out = NULL;
    int N = g->n_nodes, ow = lc_graph_output_width(g);
    const int32_t *y = lc_data_y(d);
    if (!y) return lc_fail(err, LC_ERR_INVALID, "budget: the scoring data has no labels");
    budget_incr *bi = calloc(1, sizeof *bi);
    if (!bi) return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    bi->g = g;
    bi->d = d;
    bi->n = lc_data_rows(d);
    bi->off = calloc((size_t)N + 1, sizeof *bi->off);
    lc_status st = LC_OK;
    if (!bi->off) st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    for (int k = 1; !st && k <= N; k++)
        bi->off[k] = bi->off[k - 1] + (k - 1 >= 1 && k - 1 < N - 1 ? (size_t)g->nodes[k - 1].width : 0);
    if (!st) bi->neurons = bi->off[N];
    if (!st && (!result_init(&bi->last, N, bi->neurons) || !result_init(&bi->kept, N, bi->neurons)))
        st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    size_t zs = 0, cells;
    for (int k = 1; k < N; k++) zs += (size_t)g->nodes[k].width;
    if (!st && (!lc_mul_ok(bi->n, zs, &cells) || cells > BUDGET_INCR_MAX_FLOATS)) {
        budget_incr_free(bi);
        return LC_OK; /* *out NULL: the caller scores the reference way */
    }
    if (!st) st = lc_recon_zcache(g, lc_data_x(d), bi->n, &bi->orig.z, err);
    float *o = NULL;
    if (!st) {
        bi->orig.piece = malloc(bi->neurons ? bi->neurons : 1);
        bi->orig.ok = malloc(bi->n ? bi->n : 1);
        o = malloc((size_t)(ow ? ow : 1) * sizeof *o);
        if (!bi->orig.piece || !bi->orig.ok || !o)
            st = lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
    }
    if (!st) {
        memset(bi->orig.piece, LC_KEEP, bi->neurons ? bi->neurons : 1);
        const struct lc_node *on = &g->nodes[N - 1];
        for (size_t r = 0; r < bi->n; r++) {
            memcpy(o, bi->orig.z[N - 1] + r * (size_t)ow, (size_t)ow * sizeof *o);
            lc_act_apply(on->act, on->slope, o, 1, ow);
            bi->orig.ok[r] = lc_row_class(on->act.kind, o, ow) == y[r];
            bi->orig.correct += bi->orig.ok[r];
        }
    }
    free(o);
    if (st) budget_incr_free(bi);
    else *out = bi;
    return st;
}

/* Makes b the base of res's candidate (res was run against b). */
static void commit(budget_incr *bi, base *b, const result *res)
{
    const lc_graph *g = bi->g;
    for (size_t r = 0; r < res->m; r++) b->ok[res->redo[r]] = res->ok[r];
    for (int k = res->kmin + 1; k < g->n_nodes; k++) {
        if (!res->chg[k]) continue;
        size_t w = (size_t)g->nodes[k].width;
        for (size_t r = 0; r < res->m; r++)
            memcpy(b->z[k] + res->redo[r] * w, res->zn[k].p + r * w, w * sizeof(float));
    }
    b->correct = res->correct;
    memcpy(b->piece, res->piece, bi->neurons ? bi->neurons : 1);
    bi->gen++;
}

/* Whether res holds plan p's run against the current base. */
static bool result_is(const budget_incr *bi, const result *res, const lc_plan *p)
{
    if (!res->set || res->gen != bi->gen) return false;
    const lc_graph *g = bi->g;
    for (int k = 1; k < g->n_nodes - 1; k++)
        for (int i = 0; i < g->nodes[k].width; i++)
            if (res->piece[bi->off[k] + (size_t)i] != lc_plan_get(p, k, i)) return false;
    return true;
}



lc_status budget_incr_score(budget_incr *bi, const lc_plan *p, double need, double *score,
                            bool *cut, lc_error *err)
{
    lc_status st = budget_incr_run(bi, bi->cur_set ? &bi->cur : &bi->orig, p, need, &bi->last, cut, err);
    if (!st) *score = *cut ? NAN : bi->n ? (double)bi->last.correct / (double)bi->n : 0;
    return st;
}

void budget_incr_keep(budget_incr *bi)
{
    result t = bi->kept;
    bi->kept = bi->last;
    bi->last = t;
    bi->last.set = false;
}

lc_status budget_incr_rebase(budget_incr *bi, const lc_plan *p, lc_error *err)
{
    if (!bi->cur.z) {
        if (!base_alloc(bi, &bi->cur)) {
            base_free(&bi->cur, bi->g->n_nodes);
            return lc_fail(err, LC_ERR_NOMEM, "budget search: out of memory");
        }
        base_copy(bi, &bi->cur, &bi->orig); /* the same base: results stay valid */
        bi->cur_set = true;
    }
    /* the walk's step was scored against this base and kept: no second run */
    const result *r = result_is(bi, &bi->kept, p) ? &bi->kept
                    : result_is(bi, &bi->last, p) ? &bi->last : NULL;
    if (!r) {
        bool cut;
        lc_status st = budget_incr_run(bi, &bi->cur, p, -INFINITY, &bi->last, &cut, err);
        if (st) return st;
        r = &bi->last;
    }
    commit(bi, &bi->cur, r);
    return LC_OK;
}
