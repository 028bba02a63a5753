/* compress.h (pipeline) - the state of one lc_compress run, which its
 * report (report.c) reads. */
#ifndef LC_PIPELINE_COMPRESS_H
#define LC_PIPELINE_COMPRESS_H

#include "pipeline.h"

typedef struct pl_compress {
    const lc_compress_opts *o;
    const lc_graph *g;
    size_t rows;                /* calibration rows */
    bool budget, agreement;     /* a budget ran; its score is agreement */
    /* the budget's scoring rows: from val (accuracy), from the calibration
     * data (agreement with the original) */
    size_t score_val_rows, score_cal_rows;
    lc_budget_result b;
    double budget_seconds;
    lc_plan *plan;
    int *map;                   /* lc_fold's node map */
    lc_proof *pf;
    double prove_seconds;
    const char *box_kind;
    double diff;                /* largest output change on the calibration data */
    bool val;
    lc_eval_result before, after, tuned;
    bool tuned_kept;
    double tuned_train_acc, tuned_seconds;
    bool tuned_agreement; /* tuned_train_acc is agreement with the teacher (no labels) */
    double lr;                  /* fine-tuning's, resolved (the kept run's) */
    int lr_runs;                /* fine-tuning runs: 2 when the default lr backed off */
    bool train_given;
    int recon_nodes;            /* -1: not run */
    double recon_seconds;
    bool recon_in_search;       /* the budget search reconstructed it (no seconds of its own) */
    float **zc;                 /* the original's z on the calibration rows (NULL: too big) */
    size_t grew_to;             /* > 0: the folds would have written this many parameters,
                                   more than the file read, so none were made (auto) */
} pl_compress;

/* The JSON report of a finished run; cg the result. NULL when out of memory. */
struct cJSON *pl_compress_report(const pl_compress *r, const lc_graph *cg);

/* lc_compress with o->induce (induce.c); d may be NULL. */
lc_status pl_induce(const lc_graph *g, const lc_data *d, const lc_data *tr, const lc_data *va,
                    const lc_compress_opts *o, lc_graph **out, char **report, lc_error *err);
/* Largest |a(x) - b(x)| over the rows of d (NaN shows); za, when not
 * NULL, a's z on those rows (lc_recon_zcache), so that a is not run. */
lc_status pl_max_abs_diff(const lc_graph *a, float *const *za, const lc_graph *b,
                          const lc_data *d, double *out, lc_error *err);

#endif
