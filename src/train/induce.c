/* induce.c - linearity-inducing fine-tuning (docs/induce.md).
 *
 * Every hidden ReLU neuron gets a gate g in [0, 1], stored as the slope of a
 * PReLU: h = relu(z) + g min(z, 0). g = 0 is the original ReLU, g = 1 the
 * identity, so a neuron whose gate reaches 1 is linear on every input and
 * folds exactly. Weights and gates train together (Adam, the gates with
 * their own, larger learning rate) on cross-entropy plus
 *
 *     lambda x sum_i w_k(i) (1 - g_i)
 *
 * where w_k is the cost model's saving per neuron of folding node k whole,
 * in the context of what the other nodes would fold (lc_induce_weights).
 * A controller raises lambda geometrically while the model that folds every
 * gate >= 0.5 is above the budget, and lowers it when well below, so the
 * strength anneals to what the budget needs. At the end the gates are set
 * to exactly 0 or 1 (lc_induce_select), the gate-1 neurons folded with
 * lc_fold and the result fine-tuned (lc_finetune).
 *
 * This file is the pipeline; the gates and their rounding are
 * induce_gates.c, the training with the penalty controller induce_train.c.
 */
#include "train/induce.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ the pipeline */

void lc_induce_opts_default(lc_induce_opts *o)
{
    memset(o, 0, sizeof *o);
    o->target_size = 1.0;
    o->epochs = 10;
    o->min_steps = 2000;
    o->finetune_epochs = 3;
    o->batch = 32;
    o->lr = 1e-3;
    o->gate_lr = 1e-2;
    o->lambda0 = 1e-4;
    o->lambda_factor = 1.25;
    o->checks = 100;
    o->anneal_share = 0.8;
    o->temperature = LC_DISTILL_T;
    o->alpha = LC_DISTILL_ALPHA;
}

void lc_induce_result_clear(lc_induce_result *r)
{
    free(r->linearized);
    memset(r, 0, sizeof *r);
}

static lc_status check_opts(const lc_induce_opts *o, lc_error *err)
{
    const char *bad =
        !(o->target_size > 0 && o->target_size <= 1) ? "target size must be in (0, 1]"
        : o->epochs < 1                              ? "epochs must be >= 1"
        : o->min_steps < 0                           ? "min steps must be >= 0"
        : o->finetune_epochs < 0                     ? "fine-tuning epochs must be >= 0"
        : o->batch < 1                               ? "batch must be >= 1"
        : !(o->lr > 0 && isfinite(o->lr))            ? "lr must be > 0"
        : !(o->gate_lr > 0 && isfinite(o->gate_lr))  ? "gate lr must be > 0"
        : !(o->lambda0 > 0 && isfinite(o->lambda0))  ? "lambda0 must be > 0"
        : !(o->lambda_factor > 1 && isfinite(o->lambda_factor)) ? "lambda factor must be > 1"
        : o->checks < 1                              ? "checks must be >= 1"
        : !(o->anneal_share > 0 && o->anneal_share <= 1) ? "anneal share must be in (0, 1]"
                                                         : NULL;
    return bad ? lc_fail(err, LC_ERR_INVALID, "induce: %s", bad) : LC_OK;
}

static lc_status check_data(const lc_graph *g, const lc_data *d, const char *what,
                            lc_error *err)
{
    if (!d) return LC_OK;
    if (lc_data_rows(d) == 0 || !lc_data_y(d))
        return lc_fail(err, LC_ERR_INVALID, "induce: the %s data has no labelled samples", what);
    if (lc_data_cols(d) != g->nodes[0].width)
        return lc_fail(err, LC_ERR_SHAPE, "induce: the %s data has %d features, the model "
                       "takes %d", what, lc_data_cols(d), g->nodes[0].width);
    return lc_check_labels(g, lc_data_y(d), lc_data_rows(d), what, err);
}

static lc_status measure(const lc_graph *g, size_t params, const lc_data *val,
                         const lc_data *test, lc_induce_stage *s, lc_error *err)
{
    lc_eval_result ev;
    lc_status st;
    s->params = params;
    s->val_acc = s->test_acc = NAN;
    if (val && (st = lc_evaluate(g, val, &ev, err))) return st;
    if (val) s->val_acc = ev.accuracy;
    if (test && (st = lc_evaluate(g, test, &ev, err))) return st;
    if (test) s->test_acc = ev.accuracy;
    return LC_OK;
}

/* Largest |a(x) - b(x)| over the rows of d: how exact the fold was. */
static lc_status max_diff(const lc_graph *a, const lc_graph *b, const lc_data *d, double *out,
                          lc_error *err)
{
    size_t n = lc_data_rows(d), w = (size_t)a->nodes[a->n_nodes - 1].width;
    float *oa = malloc(n * w * sizeof *oa), *ob = malloc(n * w * sizeof *ob);
    lc_status st = !oa || !ob ? lc_fail(err, LC_ERR_NOMEM, "induce: out of memory") : LC_OK;
    if (!st) st = lc_forward(a, lc_data_x(d), n, oa, err);
    if (!st) st = lc_forward(b, lc_data_x(d), n, ob, err);
    double m = 0;
    for (size_t i = 0; !st && i < n * w; i++) m = fmax(m, fabs((double)oa[i] - ob[i]));
    *out = m;
    free(oa);
    free(ob);
    return st;
}

static void finetune_epoch(void *ctx, const lc_epoch_info *e)
{
    const lc_induce_opts *o = ctx;
    lc_induce_epoch info = {e->epoch, e->epochs, 1, e->train_loss, e->train_acc, e->val_acc,
                            NAN, 0, 0, 0, e->seconds};
    o->epoch_cb(o->cb_ctx, &info);
}

lc_status lc_induce(const lc_graph *g, const lc_data *train, const lc_data *val,
                    const lc_data *test, const lc_induce_opts *o, lc_graph **out,
                    lc_induce_result *res, lc_error *err)
{
    *out = NULL;
    memset(res, 0, sizeof *res);
    lc_status st;
    if ((st = check_opts(o, err)) || (st = check_data(g, train, "training", err)) ||
        (st = check_data(g, val, "validation", err)) || (st = check_data(g, test, "test", err)))
        return st;
    if (!train) return lc_fail(err, LC_ERR_INVALID, "induce: no training data");
    int n = g->n_nodes, any = 0, id = lc_act_identity_piece(LC_ACT_RELU);
    for (int k = 0; k < n; k++) any |= gated(g, k);
    if (n < 2 || n > LC_MAX_NODES) any = 0;
    if (!any)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "induce: the model has no hidden ReLU node "
                       "(gates are put on ReLU neurons only)");

    double *mean = NULL, *sd = NULL;
    lc_data *tr_std = NULL, *va_std = NULL;
    lc_graph *G = NULL, *R = NULL, *F = NULL;
    lc_plan *plan = NULL;
    const float **gates = calloc((size_t)n, sizeof *gates);
    lc_act *acts = malloc((size_t)n * sizeof *acts);
    lc_induce_trainer t = {.g = g, .o = o, .lambda = o->lambda0};
    res->n_nodes = n;
    res->linearized = calloc((size_t)n, sizeof *res->linearized);
    res->budget = t.budget = (size_t)floor(o->target_size * (double)lc_graph_file_params(g));
    if (!gates || !acts || !res->linearized) {
        st = lc_fail(err, LC_ERR_NOMEM, "induce: out of memory");
        goto done;
    }
    if ((st = measure(g, g->n_floats, val, test, &res->original, err)) ||
        (st = lc_induce_gate_graph(g, &G, err)))
        goto done;

    /* a model with stored preprocessing absorbed its standardisation in the
     * first layer (lincomp train): train on the scale it was trained on */
    bool std = g->pre != NULL;
    int cols = g->nodes[0].width;
    if (std) {
        mean = malloc((size_t)cols * sizeof *mean);
        sd = malloc((size_t)cols * sizeof *sd);
        if (!mean || !sd) {
            st = lc_fail(err, LC_ERR_NOMEM, "induce: out of memory");
            goto done;
        }
        lc_std_moments(train, mean, sd);
        if ((st = lc_std_data(train, mean, sd, &tr_std, err)) ||
            (val && (st = lc_std_data(val, mean, sd, &va_std, err))))
            goto done;
        lc_std_rescale_inputs(G, mean, sd, true);
    }
    t.G = G;
    st = lc_induce_train_gates(&t, std ? tr_std : train, std ? va_std : val, err);
    res->lambda = t.lambda;
    res->steps = (int)t.t;
    res->epochs = t.epochs;
    if (st) goto done;
    if (std) lc_std_rescale_inputs(G, mean, sd, false);
    if ((st = measure(G, t.est, val, test, &res->induced, err))) goto done;

    /* gates to exactly 0 or 1 */
    for (int k = 0; k < n; k++) gates[k] = gated(g, k) ? G->nodes[k].slope : NULL;
    if ((st = lc_induce_select(g, gates, res->budget, &plan, NULL, err))) goto done;
    for (int k = 0; k < n; k++)
        for (int i = 0; gated(g, k) && i < G->nodes[k].width; i++)
            G->nodes[k].slope[i] = lc_plan_get(plan, k, i) == id ? 1.0f : 0.0f;
    if ((st = measure(G, g->n_floats, val, test, &res->rounded, err))) goto done;

    /* the ReLU model with the trained weights; its gate-1 neurons fold exactly */
    for (int k = 0; k < n; k++) acts[k] = g->nodes[k].act;
    if ((st = lc_induce_with_acts(G, acts, &R, err)) || (st = lc_fold(R, plan, &F, NULL, err)) ||
        (st = max_diff(G, F, val ? val : train, &res->fold_max_abs_diff, err)) ||
        (st = measure(F, F->n_floats, val, test, &res->folded, err)))
        goto done;

    if (o->finetune_epochs > 0) {
        lc_train_opts to;
        lc_train_opts_default(&to);
        to.epochs = o->finetune_epochs;
        to.batch = o->batch;
        to.lr = o->lr;
        to.seed = o->seed ^ 0x5EEDF17Eull;
        to.teacher = o->finetune_labels ? NULL : g;
        to.temperature = o->temperature;
        to.alpha = o->alpha;
        if (o->epoch_cb) {
            to.epoch_cb = finetune_epoch;
            to.cb_ctx = (void *)o;
        }
        if ((st = lc_finetune(F, train, val, &to, err))) goto done;
    }
    if ((st = measure(F, F->n_floats, val, test, &res->finetuned, err))) goto done;
    for (int k = 0; k < n; k++)
        res->linearized[k] = gated(g, k) ? lc_plan_folded_linear(plan, k) : 0;
    res->met = F->n_floats <= res->budget;
    *out = F;
    F = NULL;
done:
    if (st) {
        free(res->linearized);
        res->linearized = NULL;
    }
    lc_induce_trainer_free(&t);
    lc_plan_free(plan);
    lc_graph_free(F);
    lc_graph_free(R);
    lc_graph_free(G);
    lc_data_free(tr_std);
    lc_data_free(va_std);
    free(mean);
    free(sd);
    free(acts);
    free(gates);
    return st;
}
