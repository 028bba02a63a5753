/* cli.h - shared pieces of the lincomp subcommands (one file each). */
#ifndef LC_CLI_H
#define LC_CLI_H

#include "lincomp.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#define EXIT_USAGE 2

/* Options every data-reading subcommand shares. */
typedef struct cli_common {
    int threads;              /* 0: OpenBLAS default */
    bool quiet, json;
    bool verbose;             /* --verbose: stage lines from the first second on */
    const char *label;        /* --label */
    const char *labels_path;  /* --labels */
} cli_common;

/* Long options shared by all subcommands; a subcommand appends its own. */
enum {
    OPT_THREADS = 1000, OPT_QUIET, OPT_JSON, OPT_LABEL, OPT_LABELS, OPT_HELP, OPT_VERBOSE,
    OPT_FIRST_OWN = 1100
};
#define CLI_COMMON_OPTIONS                                                      \
    {"threads", required_argument, 0, OPT_THREADS},                             \
    {"quiet", no_argument, 0, OPT_QUIET}, {"json", no_argument, 0, OPT_JSON},   \
    {"verbose", no_argument, 0, OPT_VERBOSE},                                   \
    {"label", required_argument, 0, OPT_LABEL},                                 \
    {"labels", required_argument, 0, OPT_LABELS}, {"help", no_argument, 0, 'h'}

/* The optimizer options that train, prune and compress --finetune share. */
enum { OPT_BATCH = 1010, OPT_LR, OPT_OPTIMIZER, OPT_MOMENTUM, OPT_SEED };
#define CLI_OPTIMIZER_OPTIONS                                                   \
    {"batch", required_argument, 0, OPT_BATCH}, {"lr", required_argument, 0, OPT_LR}, \
    {"optimizer", required_argument, 0, OPT_OPTIMIZER},                         \
    {"momentum", required_argument, 0, OPT_MOMENTUM},                           \
    {"seed", required_argument, 0, OPT_SEED}
/* Handles one of CLI_OPTIMIZER_OPTIONS into o: 1 if handled, 0 if opt is
 * not one of them, -1 on a bad value (usage message printed). */
int cli_optimizer_opt(lc_train_opts *o, int opt, const char *arg);

/* What fine-tuning trains towards (compress --finetune, prune, compress
 * --induce): the original model's outputs (distillation, the default) or
 * the labels alone. */
enum { OPT_FT_TARGET = 1020, OPT_TEMPERATURE, OPT_DISTILL_ALPHA };
#define CLI_DISTILL_OPTIONS                                                     \
    {"finetune-target", required_argument, 0, OPT_FT_TARGET},                   \
    {"temperature", required_argument, 0, OPT_TEMPERATURE},                     \
    {"distill-alpha", required_argument, 0, OPT_DISTILL_ALPHA}
/* DEF: the command's default target, "distill" or "labels" */
#define CLI_DISTILL_HELP(DEF)                                                   \
    "  --finetune-target T      distill: towards the original model's outputs\n" \
    "                           (soft targets, mixed with labels where the data\n" \
    "                           has them); labels: the labels alone (default\n" \
    "                           " DEF ")\n"                                       \
    "  --temperature T          of the soft targets (default " CLI_STR(LC_DISTILL_T) ")\n" \
    "  --distill-alpha A        weight of the soft targets against the labels,\n" \
    "                           0..1 (default " CLI_STR(LC_DISTILL_ALPHA) "; rows without labels: 1)\n"
#define CLI_STR_(x) #x
#define CLI_STR(x) CLI_STR_(x)
typedef struct cli_distill {
    bool labels;         /* --finetune-target labels */
    double temp, alpha;
    bool given;          /* any of the options */
} cli_distill;
void cli_distill_init(cli_distill *d);
/* As cli_optimizer_opt, for CLI_DISTILL_OPTIONS. */
int cli_distill_opt(cli_distill *d, int opt, const char *arg);
/* Usage error (message printed, EXIT_USAGE) for --temperature or
 * --distill-alpha with --finetune-target labels; else 0. */
int cli_distill_check(const cli_distill *d);
/* Puts the teacher (NULL with --finetune-target labels), temperature and
 * alpha into o. */
void cli_distill_apply(const cli_distill *d, const lc_graph *teacher, lc_train_opts *o);

/* Handles a shared option, or an unknown one / a missing value ('?', ':'
 * from getopt_long with optstring starting with ':'); returns 1 if handled,
 * 0 if not, -1 on a usage error (message printed). */
int cli_common_opt(cli_common *c, int opt, const char *arg, char **argv);

/* Prints "lincomp CMD: message" on stderr; returns code. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the library error on stderr; returns 1. */
int cli_lc_error(const lc_error *err);
/* Writes text plus a newline to path, or stdout for "-"; returns 0 or 1. */
int cli_write_text(const char *text, const char *path);
/* Usage error: message plus "try lincomp CMD --help"; returns 2. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cli_load_model(const char *path, lc_graph **g);
/* What a command does with the labels of a data file. */
typedef enum cli_labels {
    CLI_LABELS_UNUSED,  /* loaded if present, never read: not checked */
    CLI_LABELS_USED,    /* used if present: checked against the model's classes */
    CLI_LABELS_NEEDED   /* checked, and a file without labels is an error */
} cli_labels;
/* Loads data for model g (its preprocessing, input width and classes) and
 * checks the width. labels_file: the labels file of an NPY or IDX file, or
 * NULL (IDX: the labels file beside it, if any). Text labels are mapped
 * through the class names of `like` (an earlier file of the command, or
 * NULL) when it has some, so that one command numbers the classes of all
 * its files alike. */
int cli_load_data(const cli_common *c, const char *path, const char *labels_file,
                  const lc_graph *g, cli_labels labels, const lc_data *like, lc_data **d);

/* The labels file of a command's other data file `path`: its own option
 * (`own`, --val-labels say) when given, else --labels when `path` is the
 * command's main file `main` itself, else NULL. --labels belongs to one
 * file: applied to another file of as many rows it would label it wrongly
 * without a word. */
const char *cli_labels_for(const cli_common *c, const char *path, const char *main,
                           const char *own);

/* Warns on stderr when g's predictions agree with d's labels far better
 * once its classes are renamed (lc_label_match): d's labels are then
 * numbered in another order than g was trained with. Says nothing
 * otherwise, nor on an error (the command reports those itself). */
void cli_label_order_hint(const lc_graph *g, const lc_data *d, const char *path);

/* Parses numbers strictly; false on trailing garbage or out of range. */
bool cli_parse_int(const char *s, long lo, long hi, long *out);
bool cli_parse_double(const char *s, double *out);

/* Positional argument handling: exactly one MODEL argument after options. */
int cli_one_positional(int argc, char **argv, const char **out, const char *what);

struct cJSON;
/* Writes a cJSON tree (pretty) to path atomically, or to stdout for "-";
 * frees nothing. Returns 0 or 1 (message printed). */
int cli_write_json(const struct cJSON *j, const char *path);
/* A stage line on stderr ("lincomp compress: folding ...") unless --quiet;
 * when stderr is not a terminal, only after the command's first second
 * (from the start with --verbose). */
void cli_stage(const cli_common *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The folder of an output path must be writable, checked before a long run
 * so that it does not end in a failed save ("-" is stdout). 0 or 1
 * (message printed). */
int cli_check_output(const char *path);
/* -o of a command that writes an ONNX model: "-" is refused (a model is
 * binary and goes to a file; other commands read "-" as standard output).
 * 0 or EXIT_USAGE (message printed). */
int cli_model_output(const char *path);
/* A file a command reads or writes, with the option that names it. */
typedef struct {
    const char *opt; /* "-o", "--report", "--data", "MODEL", ... */
    const char *path; /* NULL or "-": not a file, not checked */
} cli_path;
/* Refuses (usage error, EXIT_USAGE returned, message printed) when two
 * outputs name the same file, or an output names a file the command reads:
 * the write would destroy the other output or an input. The one exception,
 * when model_out is set: -o may name MODEL (the model is read first, and
 * replacing it is a user's choice). 0 when they are all apart. */
int cli_check_paths(const cli_path *out, int n_out, const cli_path *in, int n_in, bool model_out);
/* Largest |a(x) - b(x)| over the rows of d (NaN if any output differs by
 * NaN). 0 or 1 (message printed). */
int cli_max_abs_diff(const lc_graph *a, const lc_graph *b, const lc_data *d, double *out);
/* Parses --target-size R, 0 < R <= 1; 0 or EXIT_USAGE (message printed). */
int cli_parse_target(const char *arg, double *out);
/* Parses a threshold in [0, 1]; usage error message printed on failure. */
int cli_parse_threshold(const char *s, double *out);

/* Parameters of cg = lc_fold(g, ...) on skip edges (new edges, between nodes
 * not joined in g); map is lc_fold's node map. In sweep.c. */
size_t cli_skip_params(const lc_graph *g, const lc_graph *cg, const int *map);

/* When the command started (cli_now() clock), set by cli_run. */
extern double cli_t0;

/* The list of commands (run.c). */
void cli_usage(FILE *f);
/* Runs `lincomp COMMAND ...` (argv[1] the command): its exit status
 * (0 success, 1 failure, 2 usage). */
int cli_run(int argc, char **argv);

/* Name of the running subcommand, for messages. */
extern const char *cli_cmd;

/* Subcommands. */
int cmd_info(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_compress(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_export_c(int argc, char **argv);

#endif
