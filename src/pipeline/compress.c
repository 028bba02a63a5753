/* compress.c - lc_compress: what `lincomp compress` runs between reading
 * its options and files and printing (DESIGN section 6, docs/budgets.md):
 * statistics, a plan (threshold, budget or proof), the fold, reconstruction,
 * the check on the calibration data, accuracy on validation data and
 * fine-tuning. The command and the Python binding call this one function,
 * so they give the same numbers and the same report. */
#include "compress.h"
#include "compress/compress.h" /* the z cache of the original (lc_stats_compute_z) */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FINETUNE_LR_ADAM 1e-3
#define FINETUNE_LR_SGD 1e-2

void lc_compress_opts_default(lc_compress_opts *o)
{
    memset(o, 0, sizeof *o);
    o->threshold = 1.0;
    o->lt = (lc_layer_threshold){LC_LAYER_AUTO, 0};
    o->max_drop = -1;
    o->confidence = 0.95;
    o->reconstruct = 1;
    o->search_rows = LC_SEARCH_ROWS;
    o->prove.method = LC_PROVE_SYMBOLIC;
    lc_train_opts_default(&o->finetune);
    o->finetune.lr = 0; /* the optimizer's default, resolved at the run */
    o->finetune.anneal = LC_FINETUNE_ANNEAL;
    lc_induce_opts_default(&o->induce_opts);
}

/* Everything that can be checked before the long work starts. */
static lc_status check(const lc_graph *g, const lc_data *d, const lc_data *v, const lc_data *tr,
                       const lc_compress_opts *o, lc_error *err)
{
    lc_status st;
    bool budget = o->target_size != 0 || o->max_drop >= 0;
    if (!o->node_thresholds && !(o->threshold >= 0 && o->threshold <= 1))
        return lc_fail(err, LC_ERR_INVALID, "threshold wants a number in [0, 1], got %g",
                       o->threshold);
    if (o->target_size != 0 && !(o->target_size > 0 && o->target_size <= 1))
        return lc_fail(err, LC_ERR_INVALID, "target_size wants a number in (0, 1], got %g",
                       o->target_size);
    if (isnan(o->max_drop) || o->max_drop > 100)
        return lc_fail(err, LC_ERR_INVALID, "max_drop wants percentage points from 0 to 100, "
                       "got %g", o->max_drop);
    if (o->target_size != 0 && o->max_drop >= 0)
        return lc_fail(err, LC_ERR_INVALID, "give either target_size or max_drop, not both");
    if (!(o->confidence > 0 && o->confidence < 1))
        return lc_fail(err, LC_ERR_INVALID, "confidence wants a probability in (0, 1), got %g",
                       o->confidence);
    if (o->node_thresholds && (budget || o->prove.on))
        return lc_fail(err, LC_ERR_INVALID, "node_thresholds cannot be combined with a budget "
                       "(which chooses them) or a proof");
    if (budget && o->prove.on)
        return lc_fail(err, LC_ERR_INVALID, "a budget chooses thresholds by measured accuracy, "
                       "a proof folds only what holds on the whole box: give one");
    if (o->joint && !(o->target_size > 0))
        return lc_fail(err, LC_ERR_INVALID, "joint (pruning and folding in one plan) needs a "
                       "size budget: target_size");
    if (o->max_drop >= 0 && !v)
        return lc_fail(err, LC_ERR_INVALID, "max_drop needs validation data: rows the search "
                       "never sees, to certify the promise");
    if (o->finetune_epochs < 0)
        return lc_fail(err, LC_ERR_INVALID, "finetune_epochs wants a number >= 0, got %d",
                       o->finetune_epochs);
    if (o->finetune_epochs && (o->finetune.batch < 1 || !(o->finetune.lr >= 0) ||
                               !(o->finetune.anneal >= 0 && o->finetune.anneal <= 1)))
        return lc_fail(err, LC_ERR_INVALID, "fine-tuning wants batch >= 1, lr >= 0 and anneal "
                       "in [0, 1]");
    const lc_graph *t = o->finetune.teacher;
    if (o->finetune_epochs && !o->finetune_labels && t &&
        (lc_graph_input_width(t) != lc_graph_input_width(g) ||
         lc_graph_output_width(t) != lc_graph_output_width(g)))
        return lc_fail(err, LC_ERR_SHAPE, "the teacher maps %d features to %d outputs, the model "
                       "%d to %d", lc_graph_input_width(t), lc_graph_output_width(t),
                       lc_graph_input_width(g), lc_graph_output_width(g));
    if ((st = pl_prove_check(g, &o->prove, err))) return st;
    if ((st = lc_graph_check_finite(g, err))) return st;
    if ((st = pl_check_data(g, d, o->data_name ? o->data_name : "calibration data", err)))
        return st;
    if (v && (st = pl_check_data(g, v, "validation data", err))) return st;
    if (v && !lc_data_y(v)) return lc_fail(err, LC_ERR_INVALID, "validation data: no labels");
    if (tr && (st = pl_check_data(g, tr, "training data", err))) return st;
    if (o->finetune_epochs && o->finetune_labels && !lc_data_y(tr ? tr : d))
        return lc_fail(err, LC_ERR_INVALID, "no labels to fine-tune on the labels (give "
                       "labelled training data)");
    return LC_OK;
}

/* The budget search as it runs: candidates scored of planned and the best
 * so far; a line per accepted step of the per-node search. Each greedy walk
 * (from tau 1, from the paper's result, the joint plan's) counts its steps
 * from 1, so a step number not above the last one starts the next walk. */
typedef struct {
    const pl_sink *s;
    double params_before;
    int walk, last;
} search_log;

static void on_step(void *ctx, int step, size_t params, double score)
{
    search_log *l = ctx;
    if (step <= l->last) l->walk++;
    l->last = step;
    pl_say(l->s, LC_PROGRESS_LINE, "budget search", 0,
           "budget search walk %d step %d: %zu parameters, score %.4f", l->walk, step, params,
           score);
}

static void on_search(void *ctx, const lc_budget_progress *p)
{
    const search_log *l = ctx;
    char note[72];
    if (isnan(p->best_score)) snprintf(note, sizeof note, "best: none within the budget yet");
    else
        snprintf(note, sizeof note, "best %.4f at %.1f%% size", p->best_score,
                 100 * (double)p->best_params / l->params_before);
    pl_update(l->s, "budget search", p->evaluated, p->planned, "candidates", true, p->finished,
              0, note);
}

/* The scoring rows of a size budget with val (docs/budgets.md, "Scoring
 * rows"): val's rows with their labels, then, while fewer than `want`,
 * calibration rows spread evenly over d (row i * rows(d) / added), labelled
 * with g's own predictions, so that a few validation rows do not leave the
 * search blind. *out stays NULL when nothing is added. */
static lc_status scoring_rows(const lc_graph *g, const lc_data *d, const lc_data *v, size_t want,
                              lc_data **out, size_t *added, lc_error *err)
{
    size_t nv = lc_data_rows(v), nd = lc_data_rows(d), n;
    *out = NULL;
    *added = nv < want ? (want - nv < nd ? want - nv : nd) : 0;
    if (!*added) return LC_OK;
    int cols = lc_data_cols(v);
    n = nv + *added;
    size_t *idx = malloc(*added * sizeof *idx);
    float *x = malloc(n * (size_t)cols * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    lc_data *sub = NULL, *pred = NULL;
    lc_status st = idx && x && y ? LC_OK : lc_fail(err, LC_ERR_NOMEM, "out of memory for %zu "
                                                   "scoring rows", n);
    for (size_t i = 0; !st && i < *added; i++) idx[i] = i * nd / *added;
    if (!st) st = lc_data_subset(d, idx, *added, &sub, err);
    if (!st) st = lc_data_predicted(g, sub, &pred, err);
    if (!st) {
        memcpy(x, lc_data_x(v), nv * (size_t)cols * sizeof *x);
        memcpy(x + nv * (size_t)cols, lc_data_x(pred), *added * (size_t)cols * sizeof *x);
        memcpy(y, lc_data_y(v), nv * sizeof *y);
        memcpy(y + nv, lc_data_y(pred), *added * sizeof *y);
        int classes = lc_data_classes(v) > lc_data_classes(pred) ? lc_data_classes(v)
                                                                 : lc_data_classes(pred);
        st = lc_data_from_arrays(n, cols, x, y, classes, out, err);
    }
    lc_data_free(sub);
    lc_data_free(pred);
    free(idx);
    free(x);
    free(y);
    return st;
}

static lc_status budget_plan(pl_compress *r, const lc_data *d, const lc_data *v,
                             const lc_stats *st, const pl_sink *s, lc_error *err)
{
    const lc_compress_opts *o = r->o;
    const lc_graph *g = r->g;
    lc_data *scored = NULL; /* the scoring rows when they are not val as it is */
    lc_pieces *pc = NULL;
    search_log log = {s, (double)lc_graph_file_params(g), 1, 0};
    bool drop = o->max_drop >= 0;
    lc_budget_opts bo = {.kind = drop ? LC_BUDGET_DROP : LC_BUDGET_SIZE,
                         .target_size = o->target_size, .max_drop = drop ? o->max_drop / 100.0 : 0,
                         .lt = o->lt, .step_cb = on_step, .cb_ctx = &log,
                         .progress_cb = on_search, .certify = drop ? v : NULL,
                         .confidence = o->confidence, .joint = o->joint};
    if (o->reconstruct) { /* the search scores what is returned */
        bo.recon_x = lc_data_x(d);
        bo.recon_n = lc_data_rows(d);
        bo.recon_z = r->zc;
    }
    r->budget = true;
    /* max_drop proposes on the calibration data and certifies on val,
     * which the search must not see (docs/budgets.md) */
    r->agreement = !v || drop;
    lc_status st2 = LC_OK;
    if (r->agreement) {
        pl_say(s, LC_PROGRESS_STAGE, "labelling", 0,
               "labelling %zu calibration samples with the model's predictions", lc_data_rows(d));
        if ((st2 = lc_data_predicted(g, d, &scored, err))) goto done;
        r->score_cal_rows = lc_data_rows(d);
    } else { /* a size budget with val */
        if ((st2 = scoring_rows(g, d, v, o->search_rows, &scored, &r->score_cal_rows, err)))
            goto done;
        r->score_val_rows = lc_data_rows(v);
    }
    const lc_data *sd = scored ? scored : v;
    pl_say(s, LC_PROGRESS_STAGE, "pieces", 0, "linear pieces of %zu samples", lc_data_rows(sd));
    if ((st2 = lc_pieces_compute(g, sd, &pc, err))) goto done;
    if (r->score_val_rows && r->score_cal_rows)
        pl_say(s, LC_PROGRESS_STAGE, "budget search", 0, "budget search on %zu samples (%zu "
               "validation, %zu calibration labelled with the model's predictions)",
               lc_data_rows(sd), r->score_val_rows, r->score_cal_rows);
    else
        pl_say(s, LC_PROGRESS_STAGE, "budget search", 0, "budget search on %zu samples",
               lc_data_rows(sd));
    double t0 = pl_now();
    st2 = lc_budget_search(g, st, sd, pc, &bo, &r->b, err);
    r->budget_seconds = pl_now() - t0;
    pl_end(s, "budget search");
    if (st2) goto done;
    if (!r->b.met) {
        /* a forced layer threshold can be what blocks the folds */
        char lt[160] = "";
        if (o->lt.kind == LC_LAYER_COUNT)
            snprintf(lt, sizeof lt, " with layer threshold %g (a node folds only when more than "
                     "%g of its neurons qualify; 'auto' folds where the model shrinks)",
                     o->lt.value, o->lt.value);
        else if (o->lt.kind == LC_LAYER_FRACTION)
            snprintf(lt, sizeof lt, " with layer threshold %g (a node folds only when more than "
                     "that share of its neurons qualify; 'auto' folds where the model shrinks)",
                     o->lt.value);
        st2 = lc_fail(err, LC_ERR_INVALID, "target size %g cannot be reached: folding every "
                      "neuron (tau 0)%s leaves %zu of %zu parameters (%.4f)", o->target_size, lt,
                      r->b.params, r->b.params_before,
                      (double)r->b.params / (double)r->b.params_before);
        goto done;
    }
    st2 = lc_plan_clone(r->b.plan, &r->plan, err);
done:
    lc_pieces_free(pc);
    lc_data_free(scored);
    return st2;
}

/* Proven folds, and with prove_threshold the empirical ones on top. */
static lc_status proof_plan(pl_compress *r, const lc_data *d, const lc_stats *st, const pl_sink *s,
                            lc_error *err)
{
    const lc_graph *g = r->g;
    lc_plan *cand = NULL, *emp = NULL;
    lc_status e = pl_prove(g, d, &r->o->prove, s, &r->pf, &r->prove_seconds, &r->box_kind, err);
    if (!e) e = lc_plan_create(g, &cand, err);
    if (!e) e = lc_proof_apply(r->pf, cand, err);
    if (!e && r->o->prove_threshold) {
        lc_layer_threshold every = {LC_LAYER_COUNT, 0};
        e = lc_plan_from_stats(g, st, r->o->threshold, every, &emp, err);
        for (int k = 1; !e && k < lc_graph_nodes(g) - 1; k++)
            for (int i = 0; !e && i < lc_graph_width(g, k); i++)
                if (lc_plan_get(cand, k, i) == LC_KEEP && lc_plan_get(emp, k, i) != LC_KEEP)
                    e = lc_plan_set(cand, k, i, lc_plan_get(emp, k, i), err);
    }
    if (!e) e = lc_plan_select(g, cand, r->o->lt, &r->plan, err);
    lc_plan_free(cand);
    lc_plan_free(emp);
    return e;
}

/* Fine-tuning: every epoch a line, every batch an update. */
typedef struct {
    const pl_sink *s;
    double train_acc, seconds;
} tune_log;

static void on_epoch(void *ctx, const lc_epoch_info *e)
{
    tune_log *t = ctx;
    t->train_acc = e->train_acc;
    t->seconds += e->seconds;
    if (isnan(e->val_acc))
        pl_say(t->s, LC_PROGRESS_LINE, "fine-tuning", e->epoch,
               "fine-tuning epoch %d/%d: loss %.4f acc %.4f", e->epoch, e->epochs, e->train_loss,
               e->train_acc);
    else
        pl_say(t->s, LC_PROGRESS_LINE, "fine-tuning", e->epoch,
               "fine-tuning epoch %d/%d: loss %.4f acc %.4f val_acc %.4f", e->epoch, e->epochs,
               e->train_loss, e->train_acc, e->val_acc);
}

static void on_batch(void *ctx, int epoch, size_t done, size_t n)
{
    const tune_log *t = ctx;
    pl_update(t->s, "fine-tuning", (double)done, (double)n, "samples", false, done == n, epoch,
              NULL);
}

/* Fine-tunes *cgp; with val keeps the best epoch, and the folded model
 * itself when no epoch beats it on val. The rate is annealed as
 * o->finetune.anneal says (lc_train). With the default learning rate and
 * val, a run that does not beat the folded model (a tie included) is
 * repeated once from the folded model at a tenth of the rate (a
 * learning-rate backoff): a safety net for a model that the default step
 * size, set for training from scratch, moves away from a good minimum
 * (docs/budgets.md, "Fine-tuning", has the measurements). */
static lc_status finetune(pl_compress *r, lc_graph **cgp, const lc_data *tr, const lc_data *v,
                          const pl_sink *s, lc_error *err)
{
    const lc_compress_opts *o = r->o;
    lc_train_opts t = o->finetune;
    tune_log log = {s, 0, 0};
    t.epochs = o->finetune_epochs;
    t.epoch_cb = on_epoch;
    t.batch_cb = on_batch;
    t.cb_ctx = &log;
    t.patience = 0;
    t.monitor = LC_MONITOR_VAL_LOSS;
    if (v) {
        t.patience = t.epochs + 1; /* never stops; restores the best */
        t.monitor = LC_MONITOR_VAL_ACC;
    }
    /* the teacher: the model given (by default the one compressed here) */
    t.teacher = o->finetune_labels ? NULL : o->finetune.teacher ? o->finetune.teacher : r->g;
    int runs = v && !(o->finetune.lr > 0) ? 2 : 1;
    lc_graph *keep = NULL;
    lc_status st = lc_graph_clone(*cgp, &keep, err);
    if (st) return st;
    r->tuned_kept = false;
    for (int run = 0; run < runs && !r->tuned_kept; run++) {
        t.lr = run ? r->lr / 10 : r->lr;
        if (run) {
            lc_graph_free(*cgp);
            *cgp = NULL;
            if ((st = lc_graph_clone(keep, cgp, err))) goto done;
            pl_say(s, LC_PROGRESS_STAGE, "fine-tuning", 0, "no epoch beat the folded model on "
                   "the validation data: fine-tuning again at lr %g", t.lr);
        } else {
            pl_say(s, LC_PROGRESS_STAGE, "fine-tuning", 0,
                   "fine-tuning for %d epochs on %zu samples (%s)", t.epochs, lc_data_rows(tr),
                   o->finetune_labels ? "labels" : "distillation");
        }
        if ((st = lc_finetune(*cgp, tr, v, &t, err))) goto done;
        r->lr = t.lr;
        r->lr_runs = run + 1;
        r->tuned_kept = true;
        r->tuned_train_acc = log.train_acc;
        r->tuned_agreement = !lc_data_y(tr); /* lc_finetune then scores agreement */
        if (v) {
            if ((st = lc_evaluate(*cgp, v, &r->tuned, err))) goto done;
            /* a run that only ties the folded model backs off; the last run
             * is kept on a tie */
            r->tuned_kept = r->tuned.accuracy > r->after.accuracy ||
                            (run == runs - 1 && r->tuned.accuracy == r->after.accuracy);
        }
    }
    r->tuned_seconds = log.seconds; /* both runs */
    if (!r->tuned_kept) { /* back to the folded model */
        lc_graph_free(*cgp);
        *cgp = keep;
        keep = NULL;
        r->tuned = r->after;
    }
done:
    lc_graph_free(keep);
    return st;
}

/* NaN shows (not lost in fmax). */
lc_status pl_max_abs_diff(const lc_graph *a, float *const *za, const lc_graph *b,
                          const lc_data *d, double *out, lc_error *err)
{
    size_t n = lc_data_rows(d), cnt;
    if (!lc_mul_ok(n, (size_t)lc_graph_output_width(a), &cnt))
        return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    float *ya = malloc((cnt ? cnt : 1) * sizeof(float)), *yb = malloc((cnt ? cnt : 1) * sizeof(float));
    lc_status st = !ya || !yb ? lc_fail(err, LC_ERR_NOMEM, "out of memory") : LC_OK;
    if (!st && za) { /* the output node's activation of its cached z */
        const struct lc_node *on = &a->nodes[a->n_nodes - 1];
        memcpy(ya, za[a->n_nodes - 1], cnt * sizeof(float));
        lc_act_apply(on->act, on->slope, ya, n, on->width);
    } else if (!st) {
        st = lc_forward(a, lc_data_x(d), n, ya, err);
    }
    if (!st) st = lc_forward(b, lc_data_x(d), n, yb, err);
    double m = 0;
    for (size_t i = 0; !st && i < cnt; i++) {
        double dl = fabs((double)ya[i] - yb[i]);
        m = dl > m || isnan(dl) ? dl : m;
    }
    *out = m;
    free(ya);
    free(yb);
    return st;
}

lc_status lc_compress(const lc_graph *g, const lc_data *d, const lc_data *v, const lc_data *tr,
                      const lc_compress_opts *o, lc_graph **out, char **report, lc_error *err)
{
    if (out) *out = NULL;
    if (report) *report = NULL;
    if (!g || !o || !out || (!d && !o->induce))
        return lc_fail(err, LC_ERR_INVALID, "lc_compress: g, data, opts and out are required");
    if (o->induce) {
        if (o->threads > 0) lc_set_threads(o->threads);
        return pl_induce(g, d, tr, v, o, out, report, err);
    }
    lc_status st = check(g, d, v, tr, o, err);
    if (st) return st;
    if (o->threads > 0) lc_set_threads(o->threads);
    pl_sink s = {o->progress, o->progress_ctx};
    pl_compress r = {.o = o, .g = g, .rows = lc_data_rows(d), .val = v != NULL,
                     .train_given = tr != NULL, .recon_nodes = -1};
    r.lr = o->finetune.lr > 0 ? o->finetune.lr
           : o->finetune.optimizer == LC_OPT_SGD ? FINETUNE_LR_SGD : FINETUNE_LR_ADAM;
    lc_stats *stats = NULL;
    lc_graph *cg = NULL;
    pl_say(&s, LC_PROGRESS_STAGE, "statistics", 0, "statistics over %zu samples", r.rows);
    /* the original's z on the calibration rows, kept from the statistics'
     * pass: reconstruction, the budget's final candidates and the check
     * below then do not run the original again (only when it fits) */
    if ((st = lc_stats_compute_z(g, lc_data_x(d), r.rows, lc_data_cols(d), &stats,
                                 lc_recon_zcache_fits(g, r.rows) ? &r.zc : NULL, err)))
        goto done;
    if (o->target_size != 0 || o->max_drop >= 0) st = budget_plan(&r, d, v, stats, &s, err);
    else if (o->prove.on) st = proof_plan(&r, d, stats, &s, err);
    else if (o->node_thresholds)
        st = lc_plan_from_stats_per_node(g, stats, o->node_thresholds, o->lt, &r.plan, err);
    else st = lc_plan_from_stats(g, stats, o->threshold, o->lt, &r.plan, err);
    if (st) goto done;
    if (!(r.map = malloc((size_t)lc_graph_nodes(g) * sizeof *r.map))) {
        st = lc_fail(err, LC_ERR_NOMEM, "out of memory");
        goto done;
    }
    pl_say(&s, LC_PROGRESS_STAGE, "folding", 0, "folding");
    bool recon = o->reconstruct && !o->prove.on; /* proven folds are exact */
    if (r.b.graph && recon == (r.b.recon_refit >= 0)) {
        /* the budget search built it (lc_fold, lc_reconstruct of the plan) */
        cg = r.b.graph;
        r.b.graph = NULL;
        memcpy(r.map, r.b.node_map, (size_t)lc_graph_nodes(g) * sizeof *r.map);
        r.recon_nodes = r.b.recon_refit;
        r.recon_in_search = recon;
        if (recon)
            pl_say(&s, LC_PROGRESS_STAGE, "reconstruction", 0,
                   "reconstruction on %zu samples: done in the budget search", r.rows);
        recon = false;
    } else if ((st = lc_fold(g, r.plan, &cg, r.map, err))) {
        goto done;
    }
    if (recon) {
        pl_say(&s, LC_PROGRESS_STAGE, "reconstruction", 0, "reconstruction on %zu samples", r.rows);
        double t0 = pl_now();
        if ((st = lc_reconstruct_z(g, r.plan, r.map, cg, lc_data_x(d), r.rows, NULL, r.zc,
                                   &r.recon_nodes, err)))
            goto done;
        r.recon_seconds = pl_now() - t0;
    }
    /* --layer-threshold auto never returns a larger model; the cost model
     * counts lincomp's graph, whose copies of a layer (a residual sum) the
     * export writes once only while no fold changed them apart: checked on
     * what would be written */
    if (!r.budget && o->lt.kind == LC_LAYER_AUTO &&
        lc_graph_file_params(cg) > lc_graph_file_params(g)) {
        r.grew_to = lc_graph_file_params(cg);
        lc_graph_free(cg);
        cg = NULL;
        lc_plan_free(r.plan);
        r.plan = NULL;
        r.recon_nodes = 0;
        if ((st = lc_plan_create(g, &r.plan, err)) || (st = lc_fold(g, r.plan, &cg, r.map, err)))
            goto done;
    }
    pl_say(&s, LC_PROGRESS_STAGE, "checking", 0,
           "checking the folded model on the %zu calibration samples", r.rows);
    if ((st = pl_max_abs_diff(g, r.zc, cg, d, &r.diff, err))) goto done;
    lc_recon_zcache_free(r.zc, lc_graph_nodes(g)); /* its last use: not held through fine-tuning */
    r.zc = NULL;
    if (v) {
        pl_say(&s, LC_PROGRESS_STAGE, "evaluating", 0,
               "accuracy before and after on %zu validation samples", lc_data_rows(v));
        if ((st = lc_evaluate(g, v, &r.before, err)) || (st = lc_evaluate(cg, v, &r.after, err)))
            goto done;
    }
    if (o->finetune_epochs && (st = finetune(&r, &cg, tr ? tr : d, v, &s, err))) goto done;
    if (report) {
        cJSON *j = pl_compress_report(&r, cg);
        if ((st = pl_json_string(j, report, err))) goto done;
    }
    *out = cg;
    cg = NULL;
done:
    lc_graph_free(cg);
    free(r.map);
    lc_budget_result_clear(&r.b);
    lc_proof_free(r.pf);
    lc_plan_free(r.plan);
    lc_stats_free(stats);
    lc_recon_zcache_free(r.zc, lc_graph_nodes(g));
    return st;
}
