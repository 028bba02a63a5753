/* compress.h - the parts of `lincomp compress`: compress.c runs it (files
 * and lc_compress), compress_opts.c reads its options and prints its
 * usage, compress_report.c prints the table from the report, induce.c runs
 * --induce. */
#ifndef LC_CLI_COMPRESS_H
#define LC_CLI_COMPRESS_H

#include "prove.h"

#define FINETUNE_LR_ADAM 1e-3
#define FINETUNE_LR_SGD 1e-2

/* The modes of compress; the option table says which options each can use. */
enum {
    MODE_THRESHOLD = 1, /* fold by --threshold (and --layer-threshold) */
    MODE_BUDGET = 2,    /* --target-size or --max-drop: thresholds searched */
    MODE_PROVE = 4,     /* --prove: fold what is proven on an input box */
    MODE_INDUCE = 8     /* --induce: train neurons to become linear, then fold */
};

typedef struct compress_args {
    int mode;                 /* one MODE_ */
    const char *data, *out, *val, *report, *train;
    const char *teacher;      /* --teacher: distil towards this model, not MODEL */
    const char *test;         /* --induce: test data for the report */
    /* the labels files of NPY/IDX --val, --train and --test (--labels is
     * --data's: cli_labels_for) */
    const char *val_labels, *train_labels, *test_labels;
    double tau, confidence;
    bool tau_set;
    const char *layer;
    double target;   /* 0: off */
    double drop_pp;  /* < 0: off */
    int finetune;    /* epochs, 0: off */
    bool no_recon;   /* --no-reconstruct: the paper's fold */
    bool joint;      /* --joint: the budget search adds the joint plan (prune + fold) */
    long search_rows; /* --search-rows; -1: not given (LC_SEARCH_ROWS) */
    lc_train_opts topts;
    cli_distill dist;         /* --finetune-target, --temperature, --distill-alpha */
    cli_prove pr;
    lc_induce_opts io;        /* --induce: the schedule */
} compress_args;

/* The defaults (the usage text prints these). */
void compress_defaults(compress_args *a);

/* Parses the options into a; returns -1 to go on, else the exit status. */
int compress_parse(int argc, char **argv, cli_common *c, compress_args *a, const char **model);

struct cJSON;
/* The table on stdout, from lc_compress's report. */
void compress_print(const char *model, const compress_args *a, const struct cJSON *rep);

/* compress --induce (induce.c), after compress_parse. */
int compress_induce(const cli_common *c, const compress_args *a, const char *model);

#endif
