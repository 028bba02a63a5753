/* pipeline.h - the parts of the pipeline room: progress events and proofs
 * (common.c), shared by lc_compress (compress.c, its report in report.c),
 * lc_analyze (analyze.c) and lc_prune_report (prune.c). Not installed; the API is include/lincomp.h. */
#ifndef LC_PIPELINE_H
#define LC_PIPELINE_H

#include "util/util.h"

#include <stdbool.h>

struct cJSON;

/* Where progress goes (fn may be NULL: nothing is formatted). */
typedef struct pl_sink {
    lc_progress_fn fn;
    void *ctx;
} pl_sink;

/* A STAGE or LINE event with a formatted message. */
void pl_say(const pl_sink *s, lc_progress_kind kind, const char *stage, int epoch,
            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* An UPDATE event. */
void pl_update(const pl_sink *s, const char *stage, double done, double total, const char *unit,
               bool estimated, bool final, int epoch, const char *note);
/* An END event. */
void pl_end(const pl_sink *s, const char *stage);

/* A proof as the options say (the box from them or from d's min and max),
 * with a STAGE event; *seconds the wall time of lc_prove, *box_kind the
 * report's name of the box. */
lc_status pl_prove(const lc_graph *g, const lc_data *d, const lc_prove_opts *o, const pl_sink *s,
                   lc_proof **out, double *seconds, const char **box_kind, lc_error *err);
/* Checks prove options (method, lp_time, box width): LC_OK or LC_ERR_INVALID
 * / LC_ERR_SHAPE with a message. */
lc_status pl_prove_check(const lc_graph *g, const lc_prove_opts *o, lc_error *err);
/* The "proof" object of both reports. */
struct cJSON *pl_proof_json(lc_prove_method method, const char *box_kind, double seconds,
                            const lc_proof *pf, const lc_graph *g);
/* The report as a pretty-printed string the caller frees with lc_free;
 * frees j. */
lc_status pl_json_string(struct cJSON *j, char **out, lc_error *err);
/* The report keys every command that makes a model smaller writes:
 * params_before/after, size_ratio, flops_before/after of g and its result. */
void pl_json_size(struct cJSON *j, const lc_graph *g, const lc_graph *result);
/* key: name, or null when name is NULL (a file the caller did not name). */
void pl_json_name(struct cJSON *j, const char *key, const char *name);
/* The "training target" keys of a report into j: target ("labels" or
 * "distill"), temperature and alpha (null for labels). */
void pl_json_training(struct cJSON *j, bool labels, double temperature, double alpha);
/* Checks that d holds features for g: rows, width. `what` names it. */
lc_status pl_check_data(const lc_graph *g, const lc_data *d, const char *what, lc_error *err);
double pl_now(void);

#endif
