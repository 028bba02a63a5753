/* compress.c - `lincomp compress MODEL --data DATA -o OUT.onnx`: statistics,
 * a plan (by threshold and layer threshold, by a size or accuracy budget, or
 * from proofs), the fold, verification on the calibration data, optional
 * fine-tuning, the ONNX file and the report (DESIGN section 6,
 * docs/budgets.md). */
#include "compress.h"
#include "progress.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The budget search as it runs: on a terminal a bar (candidates scored of
 * planned, ETA, the best so far), off one a stage line per accepted step. */
typedef struct {
    const cli_common *c;
    cli_progress bar;
    double params_before;
} search_log;

static void on_step(void *ctx, int step, size_t params, double score)
{
    const search_log *l = ctx;
    if (l->bar.tty) return;
    cli_stage(l->c, "budget search step %d: %zu parameters, score %.4f", step, params, score);
}

static void on_progress(void *ctx, const lc_budget_progress *p)
{
    search_log *l = ctx;
    if (isnan(p->best_score))
        snprintf(l->bar.note, sizeof l->bar.note, "best: none within the budget yet");
    else
        snprintf(l->bar.note, sizeof l->bar.note, "best %.4f at %.1f%% size", p->best_score,
                 100 * (double)p->best_params / l->params_before);
    l->bar.total = p->planned;
    if (p->finished) cli_progress_draw(&l->bar, p->evaluated);
    else cli_progress_update(&l->bar, p->evaluated);
}

static void on_epoch(void *ctx, const lc_epoch_info *e)
{
    const cli_common *c = ctx;
    if (isnan(e->val_acc))
        cli_stage(c, "fine-tuning epoch %d/%d: loss %.4f acc %.4f", e->epoch, e->epochs,
                  e->train_loss, e->train_acc);
    else
        cli_stage(c, "fine-tuning epoch %d/%d: loss %.4f acc %.4f val_acc %.4f", e->epoch,
                  e->epochs, e->train_loss, e->train_acc, e->val_acc);
}

typedef struct {
    double train_acc, seconds;
    const cli_common *c;
    cli_progress bar;  /* on a terminal: the epoch in progress */
    int bar_epoch;
    char bar_what[32];
} tune_log;

static void on_epoch_log(void *ctx, const lc_epoch_info *e)
{
    tune_log *t = ctx;
    t->train_acc = e->train_acc;
    t->seconds += e->seconds;
    if (t->bar.drawn) fprintf(stderr, "\r%100s\r", ""); /* the epoch line replaces the bar */
    t->bar.drawn = false;
    on_epoch((void *)t->c, e);
}

static void on_batch(void *ctx, int epoch, size_t done, size_t n)
{
    tune_log *t = ctx;
    if (epoch != t->bar_epoch) {
        t->bar_epoch = epoch;
        snprintf(t->bar_what, sizeof t->bar_what, "fine-tuning epoch %d", epoch);
        cli_progress_start(&t->bar, t->c->quiet, t->bar_what, (double)n, "samples");
    }
    cli_progress_update(&t->bar, (double)done);
}

/* The plan: a budget, proofs (plus the empirical threshold when given), or
 * the threshold. */
static int choose_plan(const cli_common *c, const compress_args *a, const lc_graph *g, const lc_data *d,
                       const lc_data *v, const lc_stats *st, lc_layer_threshold lt,
                       lc_proof **pf, compress_outcome *r, lc_plan **plan)
{
    lc_error err = {0};
    lc_plan *cand = NULL, *emp = NULL;
    lc_data *agree = NULL;
    lc_pieces *pc = NULL;
    int rc = 1;
    if (a->target > 0 || a->drop_pp >= 0) {
        search_log log = {c, {0}, (double)lc_graph_params(g)};
        bool drop = a->drop_pp >= 0;
        lc_budget_opts o = {.kind = drop ? LC_BUDGET_DROP : LC_BUDGET_SIZE,
                            .target_size = a->target, .max_drop = a->drop_pp / 100.0, .lt = lt,
                            .step_cb = on_step, .cb_ctx = &log, .progress_cb = on_progress,
                            .certify = drop ? v : NULL, .confidence = a->confidence,
                            .joint = a->joint};
        if (!a->no_recon) { /* the search scores what compress writes */
            o.recon_x = lc_data_x(d);
            o.recon_n = lc_data_rows(d);
        }
        r->budget = true;
        /* --max-drop proposes on the calibration data and certifies on
         * --val, which the search must not see (docs/budgets.md) */
        r->agreement = !v || drop;
        if (r->agreement)
            cli_stage(c, "labelling %zu calibration samples with the model's predictions",
                      lc_data_rows(d));
        if (r->agreement && lc_data_predicted(g, d, &agree, &err)) goto lcerr;
        const lc_data *sd = r->agreement ? agree : v;
        cli_stage(c, "linear pieces of %zu samples", lc_data_rows(sd));
        if (lc_pieces_compute(g, sd, &pc, &err)) goto lcerr;
        cli_stage(c, "budget search on %zu samples", lc_data_rows(sd));
        cli_progress_start(&log.bar, c->quiet, "budget search", 0, "candidates");
        log.bar.counts = true;
        lc_status bs = lc_budget_search(g, st, sd, pc, &o, &r->b, &err);
        cli_progress_end(&log.bar);
        if (bs) goto lcerr;
        if (!r->b.met) {
            cli_error(1, "--target-size %g cannot be reached: folding every neuron (tau 0) "
                         "leaves %zu of %zu parameters (%.4f)", a->target, r->b.params,
                      r->b.params_before, (double)r->b.params / (double)r->b.params_before);
            goto done;
        }
        if (lc_plan_clone(r->b.plan, plan, &err)) goto lcerr;
    } else if (a->pr.on) {
        cli_stage(c, "proving (%s bounds)", lc_prove_method_name(a->pr.method));
        int pr = cli_prove_run((cli_prove *)&a->pr, g, d, pf);
        if (pr) {
            rc = pr;
            goto done;
        }
        lc_layer_threshold every = {LC_LAYER_COUNT, 0};
        if (lc_plan_create(g, &cand, &err) || lc_proof_apply(*pf, cand, &err)) goto lcerr;
        if (a->tau_set) { /* the empirical folds on top of the proven ones */
            if (lc_plan_from_stats(g, st, a->tau, every, &emp, &err)) goto lcerr;
            for (int k = 1; k < lc_graph_nodes(g) - 1; k++)
                for (int i = 0; i < lc_graph_width(g, k); i++)
                    if (lc_plan_get(cand, k, i) == LC_KEEP && lc_plan_get(emp, k, i) != LC_KEEP &&
                        lc_plan_set(cand, k, i, lc_plan_get(emp, k, i), &err))
                        goto lcerr;
        }
        if (lc_plan_select(g, cand, lt, plan, &err)) goto lcerr;
    } else if (lc_plan_from_stats(g, st, a->tau, lt, plan, &err)) {
        goto lcerr;
    }
    rc = 0;
    goto done;
lcerr:
    cli_lc_error(&err);
done:
    lc_plan_free(cand);
    lc_plan_free(emp);
    lc_pieces_free(pc);
    lc_data_free(agree);
    return rc;
}

/* Fine-tunes cg; with --val keeps the best epoch, and the folded model
 * itself when no epoch beats it on --val. */
static int finetune(const cli_common *c, compress_args *a, const lc_graph *g, lc_graph **cgp,
                    const lc_data *tr, const lc_data *v, compress_outcome *r)
{
    lc_graph *cg = *cgp;
    lc_error err = {0};
    lc_graph *keep = NULL;
    tune_log log = {.c = c};
    a->topts.epoch_cb = on_epoch_log;
    a->topts.batch_cb = on_batch;
    a->topts.cb_ctx = &log;
    if (v) {
        a->topts.patience = a->topts.epochs + 1; /* never stops; restores the best */
        a->topts.monitor = LC_MONITOR_VAL_ACC;
    }
    cli_distill_apply(&a->dist, g, &a->topts); /* the original is the teacher */
    if (lc_graph_clone(cg, &keep, &err)) return cli_lc_error(&err);
    cli_stage(c, "fine-tuning for %d epochs on %zu samples (%s)", a->finetune, lc_data_rows(tr),
              a->dist.labels ? "labels" : "distillation");
    if (lc_finetune(cg, tr, v, &a->topts, &err)) {
        lc_graph_free(keep);
        return cli_lc_error(&err);
    }
    r->tuned_kept = true;
    r->tuned_train_acc = log.train_acc;
    r->tuned_seconds = log.seconds;
    if (v) {
        if (lc_evaluate(cg, v, &r->tuned, &err)) {
            lc_graph_free(keep);
            return cli_lc_error(&err);
        }
        if (r->tuned.accuracy < r->after.accuracy) { /* back to the folded model */
            lc_graph_free(cg);
            *cgp = keep;
            keep = NULL;
            r->tuned = r->after;
            r->tuned_kept = false;
        }
    }
    lc_graph_free(keep);
    return 0;
}

int cmd_compress(int argc, char **argv)
{
    cli_common c = {0};
    compress_args a;
    compress_defaults(&a);
    const char *model_path;
    int prc = compress_parse(argc, argv, &c, &a, &model_path);
    if (prc >= 0) return prc;
    if (a.mode == MODE_INDUCE) return compress_induce(&c, &a, model_path);
    lc_error err = {0};
    lc_layer_threshold lt;
    if (lc_layer_threshold_parse(a.layer, &lt, &err)) return cli_usage_error("%s", err.msg);
    if (cli_check_output(a.out) || (a.report && cli_check_output(a.report))) return 1;

    lc_graph *g = NULL, *cg = NULL;
    lc_data *d = NULL, *v = NULL, *tr = NULL;
    lc_stats *st = NULL;
    lc_plan *plan = NULL;
    lc_proof *pf = NULL;
    int *map = NULL;
    cJSON *rep = NULL;
    compress_outcome r = {0};
    int rc = 1;
    if (cli_load_model(model_path, &g)) goto done;
    if (lc_graph_check_finite(g, &err)) {
        cli_error(1, "%s: %s", model_path, err.msg);
        goto done;
    }
    if (cli_load_data(&c, a.data, g, false, &d)) goto done;
    if (a.val && cli_load_data(&c, a.val, g, true, &v)) goto done;
    if (a.train && cli_load_data(&c, a.train, g, a.dist.labels, &tr)) goto done;
    if (a.finetune && a.dist.labels && !a.train && !lc_data_y(d)) {
        cli_error(1, "%s: no labels for --finetune-target labels (give --train)", a.data);
        goto done;
    }
    if (lc_data_rows(d) == 0) {
        cli_error(1, "%s: no samples", a.data);
        goto done;
    }
    cli_stage(&c, "statistics over %zu samples", lc_data_rows(d));
    if (lc_stats_compute(g, lc_data_x(d), lc_data_rows(d), lc_data_cols(d), &st, &err)) goto lcerr;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((rc = choose_plan(&c, &a, g, d, v, st, lt, &pf, &r, &plan))) goto done;
    rc = 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double budget_secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    map = malloc((size_t)lc_graph_nodes(g) * sizeof *map);
    if (!map) goto done;
    cli_stage(&c, "folding");
    if (lc_fold(g, plan, &cg, map, &err)) goto lcerr;
    r.recon_nodes = -1;
    if (!a.no_recon && a.mode != MODE_PROVE) {
        cli_stage(&c, "reconstruction on %zu samples", lc_data_rows(d));
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (lc_reconstruct(g, plan, map, cg, lc_data_x(d), lc_data_rows(d), NULL, &r.recon_nodes,
                           &err))
            goto lcerr;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        r.recon_seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    }

    double diff;
    cli_stage(&c, "checking the folded model on the %zu calibration samples", lc_data_rows(d));
    if (cli_max_abs_diff(g, cg, d, &diff)) goto done;
    if (v) cli_stage(&c, "accuracy before and after on %zu --val samples", lc_data_rows(v));
    if (v && (lc_evaluate(g, v, &r.before, &err) || lc_evaluate(cg, v, &r.after, &err))) goto lcerr;
    if (a.finetune && finetune(&c, &a, g, &cg, tr ? tr : d, v, &r)) goto done;
    cli_stage(&c, "writing %s", a.out);
    if (lc_onnx_save(cg, a.out, &err)) goto lcerr;

    rep = compress_report(model_path, &a, g, cg, d, plan, map, pf, diff, v != NULL, &r, budget_secs);
    if (!c.json) compress_print(model_path, &a, g, cg, d, plan, map, pf, diff, v != NULL, &r);
    if ((c.json && cli_write_json(rep, "-")) || (a.report && cli_write_json(rep, a.report))) {
        remove(a.out); /* no half-finished result */
        goto done;
    }
    rc = 0;
    goto done;
lcerr:
    cli_lc_error(&err);
done:
    cJSON_Delete(rep);
    free(map);
    lc_budget_result_clear(&r.b);
    lc_proof_free(pf);
    lc_plan_free(plan);
    lc_stats_free(st);
    lc_graph_free(cg);
    lc_graph_free(g);
    lc_data_free(tr);
    lc_data_free(v);
    lc_data_free(d);
    return rc;
}
