/* report.c - the JSON report of lc_compress: the keys of `lincomp compress
 * --report` (docs/budgets.md lists them). The command prints its tables
 * from this report too, so the two never disagree. */
#include "compress.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

/* Folded neurons of node k that the proof covers. */
static int folded_proven(const lc_plan *p, const lc_proof *pf, const lc_graph *g, int k)
{
    int n = 0;
    for (int i = 0; pf && i < lc_graph_width(g, k); i++)
        n += lc_plan_get(p, k, i) != LC_KEEP && lc_proof_piece(pf, k, i) != LC_KEEP;
    return n;
}

static cJSON *layer_report(const pl_compress *r, const lc_graph *cg)
{
    const lc_graph *g = r->g;
    cJSON *layers = cJSON_CreateArray();
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddItemToArray(layers, l);
        cJSON_AddStringToObject(l, "name", lc_graph_name(g, k));
        cJSON_AddNumberToObject(l, "width_before", lc_graph_width(g, k));
        cJSON_AddNumberToObject(l, "width_after",
                                r->map[k] >= 0 ? lc_graph_width(cg, r->map[k]) : 0);
        cJSON_AddNumberToObject(l, "folded_linear", lc_plan_folded_linear(r->plan, k));
        /* a joint plan holds its pruned neurons as constant folds */
        int pruned = r->budget && r->b.pruned ? r->b.pruned[k] : 0;
        cJSON_AddNumberToObject(l, "removed_constant",
                                lc_plan_removed_constant(r->plan, k) - pruned);
        if (r->budget && r->b.pruned) cJSON_AddNumberToObject(l, "pruned", pruned);
        /* kept by the plan, gone with their node: it feeds nothing any more
         * (every node it fed folded away) */
        int kept = lc_graph_width(g, k) - lc_plan_folded_linear(r->plan, k) -
                   lc_plan_removed_constant(r->plan, k);
        cJSON_AddNumberToObject(l, "removed_unused", r->map[k] < 0 ? kept : 0);
        if (r->pf) cJSON_AddNumberToObject(l, "folded_proven", folded_proven(r->plan, r->pf, g, k));
    }
    return layers;
}

/* {node name: tau}; null where nothing is folded (tau above 1). */
static cJSON *thresholds_json(const lc_graph *g, const double *tau)
{
    cJSON *t = cJSON_CreateObject();
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++)
        if (tau[k] > 1) cJSON_AddNullToObject(t, lc_graph_name(g, k));
        else cJSON_AddNumberToObject(t, lc_graph_name(g, k), tau[k]);
    return t;
}

static cJSON *budget_json(const pl_compress *r)
{
    const lc_budget_result *b = &r->b;
    cJSON *j = cJSON_CreateObject(), *pp = cJSON_CreateObject(), *pn = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", r->o->target_size > 0 ? "target_size" : "max_drop");
    cJSON *rows = cJSON_CreateObject();
    const char *score = r->agreement        ? "calibration_agreement"
                        : r->score_cal_rows ? "val_accuracy_and_calibration_agreement"
                                            : "val_accuracy";
    cJSON_AddStringToObject(j, "score", score);
    cJSON_AddNumberToObject(rows, "val", (double)r->score_val_rows);
    cJSON_AddNumberToObject(rows, "calibration", (double)r->score_cal_rows);
    cJSON_AddItemToObject(j, "score_rows", rows);
    cJSON_AddNumberToObject(j, "score_before", b->score_before);
    cJSON_AddNumberToObject(j, "score_after", b->score);
    if (b->paper_tau > 1) cJSON_AddNullToObject(pp, "threshold");
    else cJSON_AddNumberToObject(pp, "threshold", b->paper_tau);
    cJSON_AddNumberToObject(pp, "params_after", (double)b->paper_params);
    cJSON_AddNumberToObject(pp, "score", b->paper_score);
    cJSON_AddBoolToObject(pp, "met", b->paper_met);
    cJSON_AddItemToObject(j, "paper", pp);
    cJSON_AddNumberToObject(pn, "params_after", (double)b->per_node_params);
    cJSON_AddNumberToObject(pn, "score", b->per_node_score);
    cJSON_AddBoolToObject(pn, "met", b->per_node_met);
    cJSON_AddNumberToObject(pn, "steps", b->steps);
    cJSON_AddItemToObject(j, "per_node", pn);
    if (b->pruned) { /* joint */
        cJSON *jn = cJSON_CreateObject();
        int total = 0;
        for (int k = 0; k < lc_graph_nodes(r->g); k++) total += b->pruned[k];
        cJSON_AddNumberToObject(jn, "params_after", (double)b->joint_params);
        cJSON_AddNumberToObject(jn, "score", b->joint_score);
        cJSON_AddBoolToObject(jn, "met", b->joint_met);
        cJSON_AddNumberToObject(jn, "steps", b->joint_steps);
        cJSON_AddItemToObject(j, "joint", jn);
        cJSON_AddNumberToObject(j, "pruned", total); /* in the plan returned */
    }
    cJSON_AddNumberToObject(j, "evaluations", b->evaluations);
    cJSON_AddNumberToObject(j, "stopped_early", b->stopped_early);
    if (r->o->max_drop >= 0) {
        cJSON *cf = cJSON_CreateObject();
        cJSON_AddStringToObject(cf, "rows_from", "val");
        cJSON_AddNumberToObject(cf, "rows", (double)b->cert_rows);
        cJSON_AddNumberToObject(cf, "disagreements", (double)b->cert_disagreements);
        cJSON_AddNumberToObject(cf, "bound", b->cert_bound);
        cJSON_AddNumberToObject(cf, "confidence", b->confidence);
        cJSON_AddNumberToObject(cf, "plans_tested", b->cert_tested);
        cJSON_AddItemToObject(j, "certificate", cf);
    }
    cJSON_AddNumberToObject(j, "seconds", r->budget_seconds);
    return j;
}

/* The layer threshold as the command line spells it. */
static void add_layer_threshold(cJSON *o, lc_layer_threshold lt)
{
    char buf[32];
    if (lt.kind == LC_LAYER_AUTO) snprintf(buf, sizeof buf, "auto");
    else if (lt.kind == LC_LAYER_COUNT) snprintf(buf, sizeof buf, "%.0f", lt.value);
    else snprintf(buf, sizeof buf, "%g", lt.value);
    cJSON_AddStringToObject(o, "layer_threshold", buf);
}

static cJSON *finetune_json(const pl_compress *r)
{
    const lc_compress_opts *o = r->o;
    cJSON *f = cJSON_CreateObject();
    pl_json_name(f, "train", r->train_given ? o->train_name : o->data_name);
    pl_json_training(f, o->finetune_labels, o->finetune.temperature, o->finetune.alpha);
    pl_json_name(f, "teacher", o->finetune_labels ? NULL
                               : o->finetune.teacher ? o->teacher_name : o->model_name);
    cJSON_AddStringToObject(f, "optimizer", o->finetune.optimizer == LC_OPT_SGD ? "sgd" : "adam");
    cJSON_AddNumberToObject(f, "lr", r->lr);
    cJSON_AddNumberToObject(f, "anneal", o->finetune.anneal);
    cJSON_AddNumberToObject(f, "runs", r->lr_runs);
    cJSON_AddNumberToObject(f, "batch", o->finetune.batch);
    cJSON_AddNumberToObject(f, "seed", (double)o->finetune.seed);
    cJSON_AddBoolToObject(f, "kept", r->tuned_kept);
    cJSON_AddNumberToObject(f, "train_accuracy", r->tuned_train_acc);
    cJSON_AddStringToObject(f, "train_score", r->tuned_agreement ? "teacher_agreement" : "accuracy");
    cJSON_AddNumberToObject(f, "seconds", r->tuned_seconds);
    return f;
}

/* Few calibration rows: a neuron seen in one piece on all of a handful of
 * samples says little about new data, and a refit of a layer from fewer rows
 * than its inputs is fixed by the ridge alone. The bar (100 rows, or the
 * widest hidden layer) is a rule of thumb, said as such in the message. */
static cJSON *warnings_json(const pl_compress *r, const lc_graph *cg)
{
    cJSON *w = cJSON_CreateArray();
    const lc_compress_opts *o = r->o;
    int widest = 0, n = lc_graph_nodes(r->g);
    for (int k = 1; k < n - 1; k++)
        widest = lc_graph_width(r->g, k) > widest ? lc_graph_width(r->g, k) : widest;
    size_t bar = widest > 100 ? (size_t)widest : 100;
    bool empirical = !o->prove.on || o->prove_threshold;
    if (empirical && r->rows < bar && lc_graph_params(cg) < lc_graph_params(r->g)) {
        char msg[320];
        snprintf(msg, sizeof msg, "only %zu calibration samples, fewer than %zu (at least 100 "
                 "and the widest hidden layer): neurons linear on so few samples may not be on "
                 "new data; give more rows with --data and check the result on held-out data "
                 "(--val)", r->rows, bar);
        cJSON_AddItemToArray(w, cJSON_CreateString(msg));
    }
    /* --max-drop that certified nothing: say why in the report too (a
     * library or Python caller never sees the CLI's table) */
    if (o->max_drop >= 0 && r->budget && r->b.cert_bound == 0) { /* 0: nothing folded */
        char msg[320];
        double conf = r->b.confidence;
        snprintf(msg, sizeof msg, "no folded model could be certified, the model is unchanged: "
                 "with %zu validation rows even no disagreement bounds the loss of accuracy "
                 "only to %.2f pp at %g confidence; more validation rows certify smaller "
                 "losses (about 300 / rows pp)", r->b.cert_rows,
                 100 * lc_binomial_upper_bound(0, r->b.cert_rows, conf), conf);
        cJSON_AddItemToArray(w, cJSON_CreateString(msg));
    }
    if (lc_graph_params(cg) > lc_graph_params(r->g)) {
        char msg[400];
        snprintf(msg, sizeof msg, "the compressed model is larger than the original (%zu against "
                 "%zu parameters): a folded neuron adds a skip edge from every input of its "
                 "layer, which pays only when enough of the layer folds; --layer-threshold auto "
                 "(the default) folds a layer's linear neurons only where that saves parameters",
                 lc_graph_params(cg), lc_graph_params(r->g));
        cJSON_AddItemToArray(w, cJSON_CreateString(msg));
    }
    if (r->grew_to) {
        char msg[400];
        snprintf(msg, sizeof msg, "the folds at this threshold would write %zu parameters, more "
                 "than the %zu of the file read (they change copies of a layer's weights apart), "
                 "so none were made and the model is the original; a size budget "
                 "(--target-size) counts the file's parameters, a --layer-threshold N folds "
                 "anyway", r->grew_to, lc_graph_file_params(r->g));
        cJSON_AddItemToArray(w, cJSON_CreateString(msg));
    }
    size_t pf = lc_graph_file_params(r->g), pg = lc_graph_params(r->g);
    if (pf != pg) {
        char msg[560];
        snprintf(msg, sizeof msg, "the model file holds %zu parameters, lincomp's graph of it "
                 "%zu: its edges are dense matrices, so a layer fed by a residual sum gets a "
                 "copy of its weights per summand, and a value passed on unchanged (through a "
                 "Concat, or from one activation to another) an identity matrix. Sizes count "
                 "against the file's %zu. The written file holds copies that no fold changed "
                 "once; folds change copies apart, so a budget search may fold more than the "
                 "written size needs, and a forced --layer-threshold can write a model larger "
                 "than the file", pf, pg, pf);
        cJSON_AddItemToArray(w, cJSON_CreateString(msg));
    }
    return w;
}

cJSON *pl_compress_report(const pl_compress *r, const lc_graph *cg)
{
    const lc_compress_opts *o = r->o;
    const lc_graph *g = r->g;
    cJSON *rep = cJSON_CreateObject();
    pl_json_name(rep, "model", o->model_name);
    pl_json_name(rep, "output", o->output_name);
    pl_json_size(rep, g, cg);
    if (r->budget && r->b.method != LC_BUDGET_PAPER) cJSON_AddNullToObject(rep, "threshold");
    else if (r->budget) cJSON_AddNumberToObject(rep, "threshold", r->b.paper_tau);
    else if ((o->prove.on && !o->prove_threshold) || o->node_thresholds)
        cJSON_AddNullToObject(rep, "threshold");
    else cJSON_AddNumberToObject(rep, "threshold", o->threshold);
    add_layer_threshold(rep, o->lt);
    cJSON_AddNumberToObject(rep, "calibration_samples", (double)r->rows);
    cJSON_AddNumberToObject(rep, "calibration_max_abs_diff", r->diff);
    if (r->val) {
        cJSON_AddNumberToObject(rep, "accuracy_before", r->before.accuracy);
        cJSON_AddNumberToObject(rep, "accuracy_after", r->after.accuracy);
    } else {
        cJSON_AddNullToObject(rep, "accuracy_before");
        cJSON_AddNullToObject(rep, "accuracy_after");
    }
    if (o->target_size > 0) cJSON_AddNumberToObject(rep, "target_size", o->target_size);
    else cJSON_AddNullToObject(rep, "target_size");
    if (o->max_drop >= 0) cJSON_AddNumberToObject(rep, "max_drop", o->max_drop);
    else cJSON_AddNullToObject(rep, "max_drop");
    if (r->budget) {
        cJSON_AddStringToObject(rep, "method", lc_budget_method_name(r->b.method));
        cJSON_AddItemToObject(rep, "thresholds", thresholds_json(g, r->b.tau));
        cJSON_AddItemToObject(rep, "budget", budget_json(r));
    } else {
        cJSON_AddNullToObject(rep, "method");
        if (o->node_thresholds)
            cJSON_AddItemToObject(rep, "thresholds", thresholds_json(g, o->node_thresholds));
        else cJSON_AddNullToObject(rep, "thresholds");
        cJSON_AddNullToObject(rep, "budget");
    }
    if (r->recon_nodes >= 0) {
        cJSON *rc = cJSON_AddObjectToObject(rep, "reconstruct");
        cJSON_AddNumberToObject(rc, "nodes_refit", r->recon_nodes);
        cJSON_AddNumberToObject(rc, "seconds", r->recon_seconds);
        cJSON_AddBoolToObject(rc, "in_budget_search", r->recon_in_search);
    } else {
        cJSON_AddNullToObject(rep, "reconstruct");
    }
    cJSON_AddNumberToObject(rep, "finetune_epochs", o->finetune_epochs);
    if (o->finetune_epochs && r->val)
        cJSON_AddNumberToObject(rep, "accuracy_after_finetune", r->tuned.accuracy);
    else cJSON_AddNullToObject(rep, "accuracy_after_finetune");
    if (o->finetune_epochs) cJSON_AddItemToObject(rep, "finetune", finetune_json(r));
    else cJSON_AddNullToObject(rep, "finetune");
    if (r->pf)
        cJSON_AddItemToObject(rep, "proof", pl_proof_json(o->prove.method, r->box_kind,
                                                          r->prove_seconds, r->pf, g));
    else cJSON_AddNullToObject(rep, "proof");
    cJSON_AddItemToObject(rep, "layers", layer_report(r, cg));
    cJSON_AddItemToObject(rep, "warnings", warnings_json(r, cg));
    return rep;
}
