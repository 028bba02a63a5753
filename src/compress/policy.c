/* policy.c - which neurons to fold: threshold tau, the paper's layer
 * threshold (count or fraction), and `auto`, which asks the cost model
 * (lc_plan_params_after) about the whole graph. */
#include "compress/compress.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

lc_status lc_layer_threshold_parse(const char *text, lc_layer_threshold *out, lc_error *err)
{
    static const char *accepted = "expected 'auto', an integer N >= 0 (fold a layer when more "
                                  "than N neurons are linear) or a fraction F with 0 < F < 1";
    if (!text || !*text)
        return lc_fail(err, LC_ERR_INVALID, "layer threshold: empty; %s", accepted);
    if (strcmp(text, "auto") == 0) {
        *out = (lc_layer_threshold){LC_LAYER_AUTO, 0.0};
        return LC_OK;
    }
    bool is_int = true;
    for (const char *c = text; *c; c++)
        if (*c < '0' || *c > '9') is_int = false;
    if (is_int) {
        errno = 0;
        long v = strtol(text, NULL, 10);
        if (errno || v > LC_MAX_WIDTH)
            return lc_fail(err, LC_ERR_INVALID, "layer threshold '%s': count too large (at most "
                           "%d)", text, LC_MAX_WIDTH);
        *out = (lc_layer_threshold){LC_LAYER_COUNT, (double)v};
        return LC_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || end == text || !isfinite(v))
        return lc_fail(err, LC_ERR_INVALID, "layer threshold '%s': %s", text, accepted);
    if (!(v > 0.0 && v < 1.0))
        return lc_fail(err, LC_ERR_INVALID, "layer threshold '%s': a fraction must be strictly "
                       "between 0 and 1 (%s)", text, accepted);
    *out = (lc_layer_threshold){LC_LAYER_FRACTION, v};
    return LC_OK;
}

/* The piece neuron i of node k qualifies for at threshold tau, or LC_KEEP:
 * the identity piece when it qualifies, else the fullest qualifying piece.
 * The small slack keeps tau x samples from missing by a rounding error. */
static int choose_piece(const lc_stats *s, int k, int i, double tau)
{
    const struct lc_stats_node *nd = &s->node[k];
    double need = tau * (double)s->samples - 1e-9 * (double)s->samples;
    int ip = lc_act_identity_piece(nd->act.kind), best = LC_KEEP;
    uint64_t best_n = 0;
    for (int p = 0; p < nd->pieces; p++) {
        uint64_t c = nd->cnt[(size_t)p * nd->width + i];
        if ((double)c < need) continue;
        if (p == ip) return p;
        if (best == LC_KEEP || c > best_n) {
            best = p;
            best_n = c;
        }
    }
    return best;
}

static lc_status check_stats(const lc_graph *g, const lc_stats *s, lc_error *err)
{
    if (s->n_nodes != g->n_nodes)
        return lc_fail(err, LC_ERR_SHAPE, "statistics of a %d-node graph, the model has %d nodes",
                       s->n_nodes, g->n_nodes);
    for (int k = 1; k < g->n_nodes - 1; k++)
        if (s->node[k].width != g->nodes[k].width ||
            s->node[k].act.kind != g->nodes[k].act.kind)
            return lc_fail(err, LC_ERR_SHAPE, "statistics of another graph: node %d ('%s') has "
                           "width %d, the statistics %d", k, g->nodes[k].name,
                           g->nodes[k].width, s->node[k].width);
    if (s->samples == 0)
        return lc_fail(err, LC_ERR_INVALID, "statistics without samples: give calibration data");
    return LC_OK;
}

/* Candidates per node: the qualifying piece of each neuron (LC_KEEP when
 * none) and whether that piece is linear (s != 0). */
struct cand {
    signed char *piece;  /* plan layout (p->off) */
    bool *linear;
    int *n_lin;          /* per node */
};

static void apply_node(lc_plan *p, const struct cand *c, int k, bool with_linear)
{
    for (int i = 0; i < p->width[k]; i++) {
        size_t at = p->off[k] + (size_t)i;
        if (c->piece[at] != LC_KEEP && (with_linear || !c->linear[at]))
            p->piece[at] = c->piece[at];
    }
}

static lc_status params_of(const lc_graph *g, const lc_plan *p, size_t *n, lc_error *err)
{
    return lc_plan_params_after(g, p, n, NULL, err);
}

/* `auto`: start from the constant folds (they never cost an edge), then
 * repeatedly accept the node whose linear fold shrinks the whole model most,
 * re-evaluated on the model as folded so far, since an edge that an earlier
 * fold created absorbs later folds for free. When no single node helps, try
 * pairs (two folds may share one new edge and only pay off together); with
 * more than MAX_PAIR_OPEN candidate nodes, singles only. */
#define MAX_PAIR_OPEN 64

static lc_status plan_auto(const lc_graph *g, const struct cand *c, lc_plan *p, lc_error *err)
{
    int n = g->n_nodes;
    size_t orig = lc_graph_params(g), cur;
    lc_plan *trial = NULL;
    lc_status st;
    for (int k = 1; k < n - 1; k++) apply_node(p, c, k, false);
    if ((st = params_of(g, p, &cur, err))) return st;
    if (cur > orig) { /* only when constants would leave an output orphaned */
        memset(p->piece, LC_KEEP, p->off[n]);
        cur = orig;
    }
    int *open = calloc((size_t)n, sizeof *open), n_open = 0;
    if (!open) return lc_fail(err, LC_ERR_NOMEM, "plan: out of memory");
    for (int k = 1; k < n - 1; k++)
        if (c->n_lin[k] > 0) open[n_open++] = k;
    for (;;) {
        int best_a = -1, best_b = -1;
        size_t best = cur;
        /* pairs cost O(open^2) evaluations: only for graphs of usual depth */
        int passes = n_open <= MAX_PAIR_OPEN ? 2 : 1;
        for (int pass = 0; pass < passes && best_a < 0; pass++) {
            for (int a = 0; a < n_open; a++)
                for (int b = pass ? a + 1 : a; b < (pass ? n_open : a + 1); b++) {
                    lc_plan_free(trial);
                    if ((st = lc_plan_clone(p, &trial, err))) goto done;
                    apply_node(trial, c, open[a], true);
                    apply_node(trial, c, open[b], true);
                    size_t v;
                    if ((st = params_of(g, trial, &v, err))) goto done;
                    if (v < best) {
                        best = v;
                        best_a = a;
                        best_b = b;
                    }
                }
        }
        if (best_a < 0) break;
        apply_node(p, c, open[best_a], true);
        apply_node(p, c, open[best_b], true);
        cur = best;
        /* drop the accepted ones from the open list (b >= a) */
        memmove(open + best_b, open + best_b + 1, (size_t)(n_open - best_b - 1) * sizeof *open);
        n_open--;
        if (best_b != best_a) {
            memmove(open + best_a, open + best_a + 1,
                    (size_t)(n_open - best_a - 1) * sizeof *open);
            n_open--;
        }
    }
    /* never larger than the original: by construction, checked all the same */
    if (cur > orig) memset(p->piece, LC_KEEP, p->off[n]);
    st = LC_OK;
done:
    lc_plan_free(trial);
    free(open);
    return st;
}

/* Checks a layer threshold's kind and value. */
static lc_status check_layer_threshold(lc_layer_threshold lt, lc_error *err)
{
    if (lt.kind == LC_LAYER_COUNT ? !(lt.value >= 0 && lt.value == floor(lt.value))
        : lt.kind == LC_LAYER_FRACTION ? !(lt.value > 0 && lt.value < 1)
        : lt.kind != LC_LAYER_AUTO)
        return lc_fail(err, LC_ERR_INVALID, "layer threshold: kind %d value %g is not an "
                       "integer >= 0, a fraction in (0, 1) or auto", (int)lt.kind, lt.value);
    return LC_OK;
}

/* The shared second half of every plan builder: the candidates c (one piece
 * or LC_KEEP per neuron, in p's layout) through the layer threshold into p. */
static lc_status select_candidates(const lc_graph *g, struct cand *c, lc_layer_threshold lt,
                                   lc_plan *p, lc_error *err)
{
    for (int k = 1; k < g->n_nodes - 1; k++)
        for (int i = 0; i < p->width[k]; i++) {
            size_t at = p->off[k] + (size_t)i;
            if (c->piece[at] == LC_KEEP) continue;
            float sl, cc;
            lc_piece_affine(p->act[k], p->slope[at], c->piece[at], &sl, &cc);
            c->linear[at] = sl != 0.0f;
            c->n_lin[k] += sl != 0.0f;
        }
    if (lt.kind == LC_LAYER_AUTO) return plan_auto(g, c, p, err);
    for (int k = 1; k < g->n_nodes - 1; k++) {
        double limit = lt.kind == LC_LAYER_COUNT ? lt.value : lt.value * p->width[k];
        apply_node(p, c, k, (double)c->n_lin[k] > limit);
    }
    return LC_OK;
}

/* Builds a plan from candidates: either statistics with one tau per node
 * (tau_of(k)) or a plan of candidate pieces. */
static lc_status build_plan(const lc_graph *g, const lc_stats *s, const double *tau,
                            double tau_all, const lc_plan *cand, lc_layer_threshold lt,
                            lc_plan **out, lc_error *err)
{
    lc_plan *p;
    lc_status st = lc_plan_create(g, &p, err);
    if (st) return st;
    size_t total = p->off[g->n_nodes];
    struct cand c = {malloc(total ? total : 1), calloc(total ? total : 1, sizeof(bool)),
                     calloc((size_t)g->n_nodes, sizeof(int))};
    if (!c.piece || !c.linear || !c.n_lin) {
        st = lc_fail(err, LC_ERR_NOMEM, "plan: out of memory");
        goto done;
    }
    if (cand) {
        memcpy(c.piece, cand->piece, total);
    } else {
        memset(c.piece, LC_KEEP, total ? total : 1);
        for (int k = 1; k < g->n_nodes - 1; k++) {
            double t = tau ? tau[k] : tau_all;
            if (t > 1.0) continue; /* per node: above 1 folds nothing */
            for (int i = 0; i < p->width[k]; i++)
                c.piece[p->off[k] + (size_t)i] = (signed char)choose_piece(s, k, i, t);
        }
    }
    st = select_candidates(g, &c, lt, p, err);
done:
    free(c.piece);
    free(c.linear);
    free(c.n_lin);
    if (st) lc_plan_free(p);
    else *out = p;
    return st;
}

lc_status lc_plan_from_stats(const lc_graph *g, const lc_stats *s, double tau,
                             lc_layer_threshold lt, lc_plan **out, lc_error *err)
{
    *out = NULL;
    if (!(tau >= 0.0 && tau <= 1.0))
        return lc_fail(err, LC_ERR_INVALID, "threshold %g: must be between 0 and 1", tau);
    lc_status st = check_layer_threshold(lt, err);
    if (!st) st = check_stats(g, s, err);
    if (st) return st;
    return build_plan(g, s, NULL, tau, NULL, lt, out, err);
}

lc_status lc_plan_from_stats_per_node(const lc_graph *g, const lc_stats *s, const double *tau,
                                      lc_layer_threshold lt, lc_plan **out, lc_error *err)
{
    *out = NULL;
    lc_status st = check_layer_threshold(lt, err);
    if (!st) st = check_stats(g, s, err);
    if (st) return st;
    for (int k = 1; k < g->n_nodes - 1; k++)
        if (!(tau[k] >= 0.0)) /* NaN too */
            return lc_fail(err, LC_ERR_INVALID, "threshold %g of node %d ('%s'): must be "
                           ">= 0 (above 1 folds nothing)", tau[k], k, g->nodes[k].name);
    return build_plan(g, s, tau, 0.0, NULL, lt, out, err);
}

lc_status lc_plan_select(const lc_graph *g, const lc_plan *cand, lc_layer_threshold lt,
                         lc_plan **out, lc_error *err)
{
    *out = NULL;
    lc_status st = check_layer_threshold(lt, err);
    if (!st) st = lc_plan_check(g, cand, err);
    if (st) return st;
    return build_plan(g, NULL, NULL, 0.0, cand, lt, out, err);
}
