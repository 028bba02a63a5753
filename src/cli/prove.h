/* prove.h - the --prove options shared by analyze and compress: the input
 * box (--bounds FILE, --input-range LO,HI, default the data's per-feature
 * min/max) and the method, turned into the library's lc_prove_opts. */
#ifndef LC_CLI_PROVE_H
#define LC_CLI_PROVE_H

#include "cli.h"

typedef struct cli_prove {
    bool on;
    lc_prove_method method;  /* default symbolic */
    const char *bounds;      /* --bounds FILE.csv */
    const char *range;       /* --input-range LO,HI */
    double lp_time;          /* --lp-time S, 0: the library's default */
} cli_prove;

/* Long options of the group (ids between the shared and the own ones). */
enum { OPT_PROVE = 1050, OPT_BOUNDS, OPT_INPUT_RANGE, OPT_LP_TIME };
#define CLI_PROVE_OPTIONS                                                       \
    {"prove", optional_argument, 0, OPT_PROVE},                                 \
    {"bounds", required_argument, 0, OPT_BOUNDS},                               \
    {"input-range", required_argument, 0, OPT_INPUT_RANGE},                     \
    {"lp-time", required_argument, 0, OPT_LP_TIME}
#define CLI_PROVE_HELP                                                          \
    "  --prove[=METHOD]         sound proofs over an input box: interval,\n"   \
    "                           symbolic (default) or lp (GLPK)\n"              \
    "  --bounds FILE.csv        the box: one line lo,hi per input feature\n"   \
    "  --input-range LO,HI      the box: the same range for every feature\n"   \
    "                           (default box: per-feature min/max of --data)\n" \
    "  --lp-time S              time limit of the LP stage (default 10)\n"

/* Handles one of the options above: 1 handled, 0 not ours, -1 usage error
 * (printed). */
int cli_prove_opt(cli_prove *p, int opt, const char *arg);
/* Usage checks after parsing (--bounds without --prove, both boxes): 0 or
 * EXIT_USAGE (printed). */
int cli_prove_check(const cli_prove *p);
/* The library's proof options from p (lc_compress_opts.prove,
 * lc_analyze_opts.prove): the box from --input-range or --bounds into *box
 * (owned by the caller: lc_box_free; NULL for the data's box). 0, 1 (error
 * printed) or EXIT_USAGE for a bad --input-range. */
int cli_prove_opts(const cli_prove *p, const lc_graph *g, lc_prove_opts *o, lc_box **box);

#endif
