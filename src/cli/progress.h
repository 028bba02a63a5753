/* progress.h - progress on stderr: a bar with rate and ETA when stderr is a
 * terminal, one line per stage otherwise, nothing with --quiet. */
#ifndef LC_CLI_PROGRESS_H
#define LC_CLI_PROGRESS_H

#include "lincomp.h"

#include <stdbool.h>

typedef struct cli_progress {
    const char *what, *unit;
    double total, t0, last_draw;
    bool quiet, tty, drawn;
    bool counts;       /* show "done/total unit" (a total that is revised) */
    char note[72];     /* shown after the ETA, e.g. the best so far */
} cli_progress;

/* Starts a stage of `total` units (0: unknown, no bar). */
void cli_progress_start(cli_progress *p, bool quiet, const char *what, double total,
                        const char *unit);
void cli_progress_update(cli_progress *p, double done);
/* Draws now, without the throttle (the last state before a pause). */
void cli_progress_draw(cli_progress *p, double done);
/* Ends the stage; on a terminal the bar line is replaced by a summary. */
void cli_progress_end(cli_progress *p);
double cli_now(void);

/* The library's progress events (lc_progress) as the command shows them:
 * a stage line per stage (cli_stage), a bar on a terminal for updates
 * (budget search: candidates of planned; fine-tuning: samples of the epoch),
 * and the lines within a stage (an epoch, off a terminal a search step). */
struct cli_common;
typedef struct cli_events {
    const struct cli_common *c;
    cli_progress bar;
    bool bar_on;       /* bar holds a stage that got updates */
    int bar_epoch;
    char bar_what[32];
} cli_events;
/* An lc_progress_fn; ctx is a cli_events. */
void cli_on_progress(void *ctx, const lc_progress *p);

#endif
