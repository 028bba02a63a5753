/* compress_report.c - the table `lincomp compress` prints on stdout, read
 * from lc_compress's JSON report (src/pipeline/report.c), so that the table
 * and --report never disagree. */
#include "compress.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(get(o, key));
    return s ? s : "";
}

static void print_table(const cJSON *rep, bool proof)
{
    const cJSON *l;
    bool pruned = cJSON_IsNumber(get(get(rep, "budget"), "pruned")); /* --joint */
    bool unused = false; /* a column only when some node lost neurons so */
    cJSON_ArrayForEach(l, get(rep, "layers")) unused |= num(l, "removed_unused") > 0;
    printf("  %-20s %8s %8s %8s %9s%s%s%s\n", "node", "before", "after", "linear", "constant",
           pruned ? "   pruned" : "", unused ? "   unused" : "", proof ? "   proven" : "");
    cJSON_ArrayForEach(l, get(rep, "layers")) {
        printf("  %-20.20s %8.0f %8.0f %8.0f %9.0f", str(l, "name"), num(l, "width_before"),
               num(l, "width_after"), num(l, "folded_linear"), num(l, "removed_constant"));
        if (pruned) printf(" %8.0f", num(l, "pruned"));
        if (unused) printf(" %8.0f", num(l, "removed_unused"));
        if (proof) printf(" %8.0f", num(l, "folded_proven"));
        printf("\n");
    }
    double pb = num(rep, "params_before"), pa = num(rep, "params_after");
    double fb = num(rep, "flops_before"), fa = num(rep, "flops_after");
    printf("\n  %-20s %12s %12s %8s\n", "", "before", "after", "ratio");
    printf("  %-20s %12.0f %12.0f %8.4f\n", "parameters", pb, pa, pa / pb);
    printf("  %-20s %12.0f %12.0f %8.4f\n", "FLOPs per sample", fb, fa, fa / fb);
}

static void print_budget(const compress_args *a, const cJSON *rep)
{
    const cJSON *b = get(rep, "budget"), *t;
    printf("  thresholds:");
    cJSON_ArrayForEach(t, get(rep, "thresholds")) {
        if (cJSON_IsNull(t)) printf(" %s=none", t->string);
        else printf(" %s=%g", t->string, t->valuedouble);
    }
    const cJSON *pp = get(b, "paper"), *pn = get(b, "per_node");
    const cJSON *jn = get(b, "joint");
    const cJSON *srows = get(b, "score_rows");
    char what[96];
    if (!strcmp(str(b, "score"), "calibration_agreement"))
        snprintf(what, sizeof what, "agreement with the original on --data");
    else if (num(srows, "calibration") > 0) /* --val topped up (--search-rows) */
        snprintf(what, sizeof what, "accuracy on --val (%.0f rows) and agreement on %.0f --data "
                 "rows", num(srows, "val"), num(srows, "calibration"));
    else snprintf(what, sizeof what, "accuracy on --val");
    printf("\n  %s: paper (global tau) %.0f params, %.4f; per-node %.0f params, %.4f", what,
           num(pp, "params_after"), num(pp, "score"), num(pn, "params_after"), num(pn, "score"));
    if (jn) printf("; joint %.0f params, %.4f", num(jn, "params_after"), num(jn, "score"));
    printf("\n");
    if (a->drop_pp < 0) return;
    const cJSON *cf = get(b, "certificate");
    double rows = num(cf, "rows"), conf = num(cf, "confidence");
    if (num(cf, "bound") > 0)
        printf("  certificate: %.0f of %.0f --val rows disagree with the original; loss of "
               "accuracy on new data <= %.2f pp at %g confidence (%.0f plans tested)\n",
               num(cf, "disagreements"), rows, 100 * num(cf, "bound"), conf,
               num(cf, "plans_tested"));
    else /* nothing folded: the report's warning says why (often too few rows) */
        printf("  certificate: none, the model is unchanged (see the warning)\n");
}

void compress_print(const char *model, const compress_args *a, const cJSON *rep)
{
    bool budget = cJSON_IsObject(get(rep, "budget")), proof = cJSON_IsObject(get(rep, "proof"));
    bool val = cJSON_IsNumber(get(rep, "accuracy_before"));
    double samples = num(rep, "calibration_samples");
    if (budget && a->target > 0)
        printf("%s -> %s (target size %g, %s thresholds, %.0f calibration samples)\n\n", model,
               a->out, a->target, str(rep, "method"), samples);
    else if (budget)
        printf("%s -> %s (max drop %g pp at %g confidence, %s thresholds, %.0f calibration "
               "samples)\n\n", model, a->out, a->drop_pp,
               num(get(get(rep, "budget"), "certificate"), "confidence"), str(rep, "method"),
               samples);
    else if (proof)
        printf("%s -> %s (proven on the %s box by %s bounds%s, %.0f calibration samples)\n\n",
               model, a->out, str(get(rep, "proof"), "box"), str(get(rep, "proof"), "method"),
               a->tau_set ? " plus the threshold" : "", samples);
    else
        printf("%s -> %s (threshold %g, layer threshold %s, %.0f calibration samples)\n\n",
               model, a->out, a->tau, a->layer, samples);
    print_table(rep, proof);
    double before = num(rep, "accuracy_before"), after = num(rep, "accuracy_after");
    double tuned = num(rep, "accuracy_after_finetune");
    if (val)
        printf("  %-20s %12.4f %12.4f %+8.2f pp\n", "accuracy (--val)", before, after,
               100 * (after - before));
    if (a->finetune && val)
        printf("  %-20s %12.4f %12.4f %+8.2f pp%s\n", "after fine-tuning", after, tuned,
               100 * (tuned - after),
               cJSON_IsTrue(get(get(rep, "finetune"), "kept"))
                   ? "" : " (no epoch beat the folded model: kept it)");
    else if (a->finetune)
        printf("  fine-tuned for %d epochs (training %s %.4f in the last epoch)\n", a->finetune,
               strcmp(str(get(rep, "finetune"), "train_score"), "teacher_agreement")
                   ? "accuracy" : "agreement with the teacher",
               num(get(rep, "finetune"), "train_accuracy"));
    if (budget) print_budget(a, rep);
    const cJSON *rc = get(rep, "reconstruct");
    if (cJSON_IsObject(rc)) {
        int n = (int)num(rc, "nodes_refit");
        if (cJSON_IsTrue(get(rc, "in_budget_search")))
            printf("  reconstruction: %d node%s refit on the calibration data (in the budget "
                   "search)\n", n, n == 1 ? "" : "s");
        else
            printf("  reconstruction: %d node%s refit on the calibration data (%.1f s)\n", n,
                   n == 1 ? "" : "s", num(rc, "seconds"));
    }
    printf("  largest output change on the calibration data: %.4g\n",
           num(rep, "calibration_max_abs_diff"));
}
