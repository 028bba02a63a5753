/* compress_report.c - what `lincomp compress` tells: the JSON report
 * (--report, --json) and the tables on stdout. */
#include "compress.h"

#include <cjson/cJSON.h>

/* Folded neurons of node k that the proof covers. */
static int folded_proven(const lc_plan *p, const lc_proof *pf, const lc_graph *g, int k)
{
    int n = 0;
    for (int i = 0; pf && i < lc_graph_width(g, k); i++)
        n += lc_plan_get(p, k, i) != LC_KEEP && lc_proof_piece(pf, k, i) != LC_KEEP;
    return n;
}

/* Neurons of node k removed by importance (a joint budget plan holds them
 * as constant folds: lc_plan_removed_constant counts them too). */
static int pruned_at(const int *pruned, int k) { return pruned ? pruned[k] : 0; }

static cJSON *layer_report(const lc_graph *g, const lc_graph *cg, const lc_plan *p, const int *map,
                           const lc_proof *pf, const int *pruned)
{
    cJSON *layers = cJSON_CreateArray();
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddItemToArray(layers, l);
        cJSON_AddStringToObject(l, "name", lc_graph_name(g, k));
        cJSON_AddNumberToObject(l, "width_before", lc_graph_width(g, k));
        cJSON_AddNumberToObject(l, "width_after", map[k] >= 0 ? lc_graph_width(cg, map[k]) : 0);
        cJSON_AddNumberToObject(l, "folded_linear", lc_plan_folded_linear(p, k));
        cJSON_AddNumberToObject(l, "removed_constant",
                                lc_plan_removed_constant(p, k) - pruned_at(pruned, k));
        if (pruned) cJSON_AddNumberToObject(l, "pruned", pruned[k]);
        if (pf) cJSON_AddNumberToObject(l, "folded_proven", folded_proven(p, pf, g, k));
    }
    return layers;
}

static void print_table(const lc_graph *g, const lc_graph *cg, const lc_plan *p, const int *map,
                        const lc_proof *pf, const int *pruned)
{
    printf("  %-20s %8s %8s %8s %9s%s%s\n", "node", "before", "after", "linear", "constant",
           pruned ? "   pruned" : "", pf ? "   proven" : "");
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
        printf("  %-20.20s %8d %8d %8d %9d", lc_graph_name(g, k), lc_graph_width(g, k),
               map[k] >= 0 ? lc_graph_width(cg, map[k]) : 0, lc_plan_folded_linear(p, k),
               lc_plan_removed_constant(p, k) - pruned_at(pruned, k));
        if (pruned) printf(" %8d", pruned[k]);
        if (pf) printf(" %8d", folded_proven(p, pf, g, k));
        printf("\n");
    }
    printf("\n  %-20s %12s %12s %8s\n", "", "before", "after", "ratio");
    printf("  %-20s %12zu %12zu %8.4f\n", "parameters", lc_graph_params(g), lc_graph_params(cg),
           (double)lc_graph_params(cg) / (double)lc_graph_params(g));
    printf("  %-20s %12zu %12zu %8.4f\n", "FLOPs per sample", lc_graph_flops(g), lc_graph_flops(cg),
           (double)lc_graph_flops(cg) / (double)lc_graph_flops(g));
}

/* {node name: tau} of a budget's choice; null where nothing is folded. */
static cJSON *thresholds_json(const lc_graph *g, const double *tau)
{
    cJSON *t = cJSON_CreateObject();
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++)
        if (tau[k] > 1) cJSON_AddNullToObject(t, lc_graph_name(g, k));
        else cJSON_AddNumberToObject(t, lc_graph_name(g, k), tau[k]);
    return t;
}

static cJSON *budget_json(const compress_args *a, const lc_graph *g, const compress_outcome *r,
                          double seconds)
{
    const lc_budget_result *b = &r->b;
    cJSON *j = cJSON_CreateObject(), *pp = cJSON_CreateObject(), *pn = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", a->target > 0 ? "target_size" : "max_drop");
    cJSON_AddStringToObject(j, "score", r->agreement ? "calibration_agreement" : "val_accuracy");
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
    if (b->pruned) { /* --joint */
        cJSON *jn = cJSON_CreateObject();
        int total = 0;
        for (int k = 0; k < lc_graph_nodes(g); k++) total += b->pruned[k];
        cJSON_AddNumberToObject(jn, "params_after", (double)b->joint_params);
        cJSON_AddNumberToObject(jn, "score", b->joint_score);
        cJSON_AddBoolToObject(jn, "met", b->joint_met);
        cJSON_AddNumberToObject(jn, "steps", b->joint_steps);
        cJSON_AddItemToObject(j, "joint", jn);
        cJSON_AddNumberToObject(j, "pruned", total); /* in the plan written */
    }
    cJSON_AddNumberToObject(j, "evaluations", b->evaluations);
    if (a->drop_pp >= 0) {
        cJSON *cf = cJSON_CreateObject();
        cJSON_AddStringToObject(cf, "rows_from", "val");
        cJSON_AddNumberToObject(cf, "rows", (double)b->cert_rows);
        cJSON_AddNumberToObject(cf, "disagreements", (double)b->cert_disagreements);
        cJSON_AddNumberToObject(cf, "bound", b->cert_bound);
        cJSON_AddNumberToObject(cf, "confidence", b->confidence);
        cJSON_AddNumberToObject(cf, "plans_tested", b->cert_tested);
        cJSON_AddItemToObject(j, "certificate", cf);
    }
    cJSON_AddNumberToObject(j, "seconds", seconds);
    return j;
}

cJSON *compress_report(const char *model, const compress_args *a, const lc_graph *g, const lc_graph *cg,
                     const lc_data *d, const lc_plan *plan, const int *map, const lc_proof *pf,
                     double diff, bool val, const compress_outcome *r, double budget_secs)
{
    cJSON *rep = cJSON_CreateObject();
    cJSON_AddStringToObject(rep, "model", model);
    cJSON_AddStringToObject(rep, "output", a->out);
    cJSON_AddNumberToObject(rep, "params_before", (double)lc_graph_params(g));
    cJSON_AddNumberToObject(rep, "params_after", (double)lc_graph_params(cg));
    cJSON_AddNumberToObject(rep, "size_ratio", (double)lc_graph_params(cg) / (double)lc_graph_params(g));
    cJSON_AddNumberToObject(rep, "flops_before", (double)lc_graph_flops(g));
    cJSON_AddNumberToObject(rep, "flops_after", (double)lc_graph_flops(cg));
    if (r->budget && r->b.method != LC_BUDGET_PAPER) cJSON_AddNullToObject(rep, "threshold");
    else if (r->budget) cJSON_AddNumberToObject(rep, "threshold", r->b.paper_tau);
    else if (a->pr.on && !a->tau_set) cJSON_AddNullToObject(rep, "threshold");
    else cJSON_AddNumberToObject(rep, "threshold", a->tau);
    cJSON_AddStringToObject(rep, "layer_threshold", a->layer);
    cJSON_AddNumberToObject(rep, "calibration_samples", (double)lc_data_rows(d));
    cJSON_AddNumberToObject(rep, "calibration_max_abs_diff", diff);
    if (val) {
        cJSON_AddNumberToObject(rep, "accuracy_before", r->before.accuracy);
        cJSON_AddNumberToObject(rep, "accuracy_after", r->after.accuracy);
    } else {
        cJSON_AddNullToObject(rep, "accuracy_before");
        cJSON_AddNullToObject(rep, "accuracy_after");
    }
    if (a->target > 0) cJSON_AddNumberToObject(rep, "target_size", a->target);
    else cJSON_AddNullToObject(rep, "target_size");
    if (a->drop_pp >= 0) cJSON_AddNumberToObject(rep, "max_drop", a->drop_pp);
    else cJSON_AddNullToObject(rep, "max_drop");
    if (r->budget) {
        cJSON_AddStringToObject(rep, "method", lc_budget_method_name(r->b.method));
        cJSON_AddItemToObject(rep, "thresholds", thresholds_json(g, r->b.tau));
        cJSON_AddItemToObject(rep, "budget", budget_json(a, g, r, budget_secs));
    } else {
        cJSON_AddNullToObject(rep, "method");
        cJSON_AddNullToObject(rep, "thresholds");
        cJSON_AddNullToObject(rep, "budget");
    }
    if (r->recon_nodes >= 0) {
        cJSON *rc = cJSON_AddObjectToObject(rep, "reconstruct");
        cJSON_AddNumberToObject(rc, "nodes_refit", r->recon_nodes);
        cJSON_AddNumberToObject(rc, "seconds", r->recon_seconds);
    } else {
        cJSON_AddNullToObject(rep, "reconstruct");
    }
    cJSON_AddNumberToObject(rep, "finetune_epochs", a->finetune);
    if (a->finetune && val) cJSON_AddNumberToObject(rep, "accuracy_after_finetune", r->tuned.accuracy);
    else cJSON_AddNullToObject(rep, "accuracy_after_finetune");
    if (a->finetune) {
        cJSON *f = cJSON_AddObjectToObject(rep, "finetune");
        cJSON_AddStringToObject(f, "train", a->train ? a->train : a->data);
        cli_distill_json(f, &a->dist);
        cJSON_AddStringToObject(f, "optimizer", a->topts.optimizer == LC_OPT_SGD ? "sgd" : "adam");
        cJSON_AddNumberToObject(f, "lr", a->topts.lr);
        cJSON_AddNumberToObject(f, "batch", a->topts.batch);
        cJSON_AddNumberToObject(f, "seed", (double)a->topts.seed);
        cJSON_AddBoolToObject(f, "kept", r->tuned_kept);
        cJSON_AddNumberToObject(f, "train_accuracy", r->tuned_train_acc);
        cJSON_AddNumberToObject(f, "seconds", r->tuned_seconds);
    } else {
        cJSON_AddNullToObject(rep, "finetune");
    }
    if (pf) cJSON_AddItemToObject(rep, "proof", cli_prove_json(&a->pr, pf, g));
    else cJSON_AddNullToObject(rep, "proof");
    cJSON_AddItemToObject(rep, "layers",
                          layer_report(g, cg, plan, map, pf, r->budget ? r->b.pruned : NULL));
    return rep;
}

void compress_print(const char *model, const compress_args *a, const lc_graph *g, const lc_graph *cg,
                      const lc_data *d, const lc_plan *plan, const int *map, const lc_proof *pf,
                      double diff, bool val, const compress_outcome *r)
{
    if (r->budget && a->target > 0)
        printf("%s -> %s (target size %g, %s thresholds, %zu calibration samples)\n\n", model,
               a->out, a->target, lc_budget_method_name(r->b.method), lc_data_rows(d));
    else if (r->budget)
        printf("%s -> %s (max drop %g pp at %g confidence, %s thresholds, %zu calibration "
               "samples)\n\n", model, a->out, a->drop_pp, r->b.confidence,
               lc_budget_method_name(r->b.method), lc_data_rows(d));
    else if (pf)
        printf("%s -> %s (proven on the %s box by %s bounds%s, %zu calibration samples)\n\n",
               model, a->out, a->pr.box_kind, lc_prove_method_name(a->pr.method),
               a->tau_set ? " plus the threshold" : "", lc_data_rows(d));
    else
        printf("%s -> %s (threshold %g, layer threshold %s, %zu calibration samples)\n\n",
               model, a->out, a->tau, a->layer, lc_data_rows(d));
    print_table(g, cg, plan, map, pf, r->budget ? r->b.pruned : NULL);
    if (val)
        printf("  %-20s %12.4f %12.4f %+8.2f pp\n", "accuracy (--val)", r->before.accuracy,
               r->after.accuracy, 100 * (r->after.accuracy - r->before.accuracy));
    if (a->finetune && val)
        printf("  %-20s %12.4f %12.4f %+8.2f pp%s\n", "after fine-tuning", r->after.accuracy,
               r->tuned.accuracy, 100 * (r->tuned.accuracy - r->after.accuracy),
               r->tuned_kept ? "" : " (no epoch beat the folded model: kept it)");
    else if (a->finetune)
        printf("  fine-tuned for %d epochs (training accuracy %.4f in the last epoch)\n",
               a->finetune, r->tuned_train_acc);
    if (r->budget) {
        printf("  thresholds:");
        for (int k = 1; k < lc_graph_nodes(g) - 1; k++) {
            if (r->b.tau[k] > 1) printf(" %s=none", lc_graph_name(g, k));
            else printf(" %s=%g", lc_graph_name(g, k), r->b.tau[k]);
        }
        printf("\n  %s: paper (global tau) %zu params, %.4f; per-node %zu params, %.4f",
               r->agreement ? "agreement with the original on --data" : "accuracy on --val",
               r->b.paper_params, r->b.paper_score, r->b.per_node_params, r->b.per_node_score);
        if (r->b.pruned) printf("; joint %zu params, %.4f", r->b.joint_params, r->b.joint_score);
        printf("\n");
        if (a->drop_pp >= 0 && r->b.params < r->b.params_before)
            printf("  certificate: %zu of %zu --val rows disagree with the original; loss of "
                   "accuracy on new data <= %.2f pp at %g confidence (%d plans tested)\n",
                   r->b.cert_disagreements, r->b.cert_rows, 100 * r->b.cert_bound,
                   r->b.confidence, r->b.cert_tested);
        else if (a->drop_pp >= 0) /* say why: often too few rows for the promise */
            printf("  certificate: no folded model could be certified, the model is unchanged "
                   "(with %zu --val rows even no disagreement bounds the loss only to %.2f pp "
                   "at %g confidence)\n", r->b.cert_rows,
                   100 * lc_binomial_upper_bound(0, r->b.cert_rows, r->b.confidence),
                   r->b.confidence);
    }
    if (r->recon_nodes >= 0)
        printf("  reconstruction: %d node%s refit on the calibration data (%.1f s)\n",
               r->recon_nodes, r->recon_nodes == 1 ? "" : "s", r->recon_seconds);
    printf("  largest output change on the calibration data: %.3g\n", diff);
}
