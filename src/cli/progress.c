/* progress.c - see progress.h. Drawing is throttled to 10 per second so that
 * the bar costs nothing next to the work it reports. */
#include "progress.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double cli_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void cli_progress_start(cli_progress *p, bool quiet, const char *what, double total,
                        const char *unit)
{
    *p = (cli_progress){what, unit, total, cli_now(), 0, quiet, isatty(2) != 0, false, false, ""};
}

static void clock_str(char *buf, size_t n, double s)
{
    int t = (int)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%d:%02d", t / 60, t % 60);
}

void cli_progress_update(cli_progress *p, double done)
{
    if (p->quiet || !p->tty) return;
    if (cli_now() - p->last_draw < 0.1) return;
    cli_progress_draw(p, done);
}

void cli_progress_draw(cli_progress *p, double done)
{
    if (p->quiet || !p->tty) return;
    double now = cli_now();
    p->last_draw = now;
    double el = now - p->t0, rate = el > 0 ? done / el : 0;
    char eta[32] = "--:--";
    if (p->total > 0 && rate > 0) clock_str(eta, sizeof eta, (p->total - done) / rate);
    if (p->total > 0 && p->counts) {
        int fill = (int)(20 * (done / p->total) + 0.5);
        fill = fill < 0 ? 0 : fill > 20 ? 20 : fill;
        fprintf(stderr, "\r%-16.16s [%.*s%*s] %.0f/%.0f %s  ETA %s  %-44.44s", p->what, fill,
                "####################", 20 - fill, "", done, p->total, p->unit, eta, p->note);
    } else if (p->total > 0) {
        int fill = (int)(30 * (done / p->total) + 0.5);
        fill = fill < 0 ? 0 : fill > 30 ? 30 : fill;
        fprintf(stderr, "\r%-24.24s [%.*s%*s] %3.0f%%  %.3g %s/s  ETA %s %s", p->what, fill,
                "##############################", 30 - fill, "", 100 * done / p->total, rate,
                p->unit, eta, p->note);
    } else {
        fprintf(stderr, "\r%-24.24s %.0f %s  %.3g %s/s %s", p->what, done, p->unit, rate, p->unit,
                p->note);
    }
    p->drawn = true;
}

void cli_progress_end(cli_progress *p)
{
    if (p->quiet) return;
    if (!p->tty) { /* one line for a stage that took a while */
        double took = cli_now() - p->t0;
        if (took >= 1.0) fprintf(stderr, "lincomp %s: %s: done in %.1f s\n", cli_cmd, p->what, took);
        return;
    }
    if (p->drawn)
        fprintf(stderr, "\r%-24.24s done in %.1f s %s%50s\n", p->what, cli_now() - p->t0, p->note,
                "");
    p->drawn = false;
}

void cli_on_progress(void *ctx, const lc_progress *p)
{
    cli_events *ev = ctx;
    const cli_common *c = ev->c;
    bool search = p->stage && !strcmp(p->stage, "budget search");
    switch (p->kind) {
    case LC_PROGRESS_STAGE:
        cli_stage(c, "%s", p->message);
        if (search) { /* its bar counts from the start of the search */
            cli_progress_start(&ev->bar, c->quiet, "budget search", 0, "candidates");
            ev->bar.counts = true;
            ev->bar_on = true;
        }
        break;
    case LC_PROGRESS_UPDATE:
        if (!search && (!ev->bar_on || p->epoch != ev->bar_epoch)) { /* a new epoch's bar */
            ev->bar_epoch = p->epoch;
            snprintf(ev->bar_what, sizeof ev->bar_what, "%s epoch %d", p->stage, p->epoch);
            cli_progress_start(&ev->bar, c->quiet, ev->bar_what, p->total, p->unit);
            ev->bar_on = true;
        }
        if (p->message) snprintf(ev->bar.note, sizeof ev->bar.note, "%s", p->message);
        ev->bar.total = p->total;
        if (p->final && search) cli_progress_draw(&ev->bar, p->done);
        else cli_progress_update(&ev->bar, p->done);
        break;
    case LC_PROGRESS_LINE:
        if (search && ev->bar.tty) return; /* the bar shows the search's steps */
        if (ev->bar.drawn) fprintf(stderr, "\r%100s\r", ""); /* the line replaces the bar */
        ev->bar.drawn = false;
        cli_stage(c, "%s", p->message);
        break;
    case LC_PROGRESS_END:
        if (ev->bar_on) cli_progress_end(&ev->bar);
        ev->bar_on = false;
        break;
    }
}
