/* svg.c - line charts as plain SVG, so figures need no plotting library.
 * Axes get round ticks (ticks.c), titles, a legend when a panel has more
 * than one series, and an optional dashed reference line. */
#include "svg.h"

#include <math.h>
#include <stdlib.h>

enum { PW = 410, PH = 300, ML = 64, MR = 74, MT = 34, MB = 50, HEAD = 46 };

static const char *const colour[SVG_MAX_SERIES] = {"#1f77b4", "#ff7f0e", "#2ca02c"};
static const char *const kind_name[] = {"plain", "count", "percent", "fraction", "threshold"};

/* Text from the caller (a model's path) may hold XML's special characters. */
static void put_text(FILE *f, const char *s)
{
    for (; s && *s; s++) switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

static void extend(double v, double *lo, double *hi)
{
    if (!isfinite(v)) return;
    if (!(*lo <= v)) *lo = v; /* also replaces the starting NaN */
    if (!(*hi >= v)) *hi = v;
}

typedef struct {
    double x0, y0, w, h; /* the plot area */
    tick_axis xt, yt;
    int xrev;
} frame;

static double sx(const frame *fr, double v)
{
    double u = (v - fr->xt.lo) / (fr->xt.hi - fr->xt.lo);
    return fr->x0 + fr->w * (fr->xrev ? 1 - u : u);
}

static double sy(const frame *fr, double v)
{
    return fr->y0 + fr->h * (fr->yt.hi - v) / (fr->yt.hi - fr->yt.lo);
}

static void axis_title(FILE *f, double x, double y, int rotate, const char *s)
{
    if (!s) return;
    if (rotate) fprintf(f, "<text transform='translate(%.1f,%.1f) rotate(%d)'", x, y, rotate);
    else fprintf(f, "<text x='%.1f' y='%.1f'", x, y);
    fputs(" font-size='12' text-anchor='middle'>", f);
    put_text(f, s);
    fputs("</text>\n", f);
}

/* The tick labels of one axis; side: 'x' below, 'l' left, 'r' right. Ticks
 * beyond max (the right axis ends where the left one does) are left out. */
static void tick_labels(FILE *f, const frame *fr, const tick_axis *t, tick_kind kind, char side,
                        double scale, double max)
{
    fprintf(f, "<g class='ticks' data-kind='%s' font-size='11'>\n", kind_name[kind]);
    for (int i = 0; i < t->n; i++) {
        if (t->v[i] > max * (1 + 1e-9) + 1e-12) continue;
        if (side == 'x')
            fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>%s</text>\n", sx(fr, t->v[i]),
                    fr->y0 + fr->h + 16, t->label[i]);
        else {
            double y = sy(fr, t->v[i] / scale), x = side == 'l' ? fr->x0 - 6 : fr->x0 + fr->w + 6;
            fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='%s'>%s</text>\n", x, y + 4,
                    side == 'l' ? "end" : "start", t->label[i]);
        }
    }
    fputs("</g>\n", f);
    /* short tick marks on the frame */
    fputs("<path stroke='#444' d='", f);
    for (int i = 0; i < t->n; i++) {
        if (t->v[i] > max * (1 + 1e-9) + 1e-12) continue;
        if (side == 'x') fprintf(f, "M%.1f,%.1fv4", sx(fr, t->v[i]), fr->y0 + fr->h);
        else if (side == 'l') fprintf(f, "M%.1f,%.1fh-4", fr->x0, sy(fr, t->v[i] / scale));
        else fprintf(f, "M%.1f,%.1fh4", fr->x0 + fr->w, sy(fr, t->v[i] / scale));
    }
    fputs("'/>\n", f);
}

static void series(FILE *f, const frame *fr, const svg_panel *p, int k)
{
    const double *y = p->s[k].y;
    fprintf(f, "<path fill='none' stroke='%s' stroke-width='2' stroke-linejoin='round' d='", colour[k]);
    int pen = 0; /* a point that is not finite breaks the line */
    for (int i = 0; i < p->n; i++) {
        if (!isfinite(p->x_val[i]) || !isfinite(y[i])) {
            pen = 0;
            continue;
        }
        fprintf(f, "%c%.1f,%.1f", pen ? 'L' : 'M', sx(fr, p->x_val[i]), sy(fr, y[i]));
        pen = 1;
    }
    fputs("'/>\n", f);
    for (int i = 0; i < p->n; i++)
        if (isfinite(p->x_val[i]) && isfinite(y[i]))
            fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>\n", sx(fr, p->x_val[i]),
                    sy(fr, y[i]), colour[k]);
}

static void legend(FILE *f, const frame *fr, const svg_panel *p)
{
    double w = 0;
    for (int k = 0; k < p->n_series; k++) {
        double tw = 0;
        for (const char *c = p->s[k].name; c && *c; c++) tw += 6.2; /* about 11 px sans */
        w = fmax(w, tw);
    }
    w += 36;
    double x = fr->x0 + fr->w - w - 6, y = fr->y0 + 6, h = 8 + 16.0 * p->n_series;
    fprintf(f, "<g class='legend' font-size='11'>\n<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' "
               "fill='white' fill-opacity='0.9' stroke='#bbb'/>\n", x, y, w, h);
    for (int k = 0; k < p->n_series; k++) {
        double ly = y + 14 + 16.0 * k;
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'/>\n",
                x + 6, ly - 4, x + 24, ly - 4, colour[k]);
        fprintf(f, "<text x='%.1f' y='%.1f'>", x + 30, ly);
        put_text(f, p->s[k].name);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
}

static void panel(FILE *f, const svg_panel *p, double ox)
{
    frame fr;
    fr.x0 = ox + ML, fr.y0 = HEAD + MT, fr.w = PW - ML - MR, fr.h = PH - MT - MB;
    fr.xrev = p->x.reversed;
    double xl = NAN, xh = NAN, yl = NAN, yh = NAN;
    for (int i = 0; i < p->n; i++) extend(p->x_val[i], &xl, &xh);
    for (int k = 0; k < p->n_series; k++)
        for (int i = 0; i < p->n; i++)
            if (isfinite(p->x_val[i])) extend(p->s[k].y[i], &yl, &yh);
    extend(p->ref, &yl, &yh);
    /* room above the reference line for its label (a share stops at 1) */
    if (isfinite(p->ref)) extend(p->ref + 0.1 * (yh - yl), &yl, &yh);
    ticks_make(xl, xh, 6, p->x.kind, &fr.xt);
    ticks_make(yl, yh, 6, p->y.kind, &fr.yt);

    fprintf(f, "<text x='%.1f' y='%.1f' font-size='14' text-anchor='middle'>", fr.x0 + fr.w / 2, fr.y0 - 12);
    put_text(f, p->title);
    fputs("</text>\n", f);
    /* grid at the ticks, then the frame over it */
    fputs("<path stroke='#e4e4e4' d='", f);
    for (int i = 0; i < fr.xt.n; i++) fprintf(f, "M%.1f,%.1fv%.1f", sx(&fr, fr.xt.v[i]), fr.y0, fr.h);
    for (int i = 0; i < fr.yt.n; i++) fprintf(f, "M%.1f,%.1fh%.1f", fr.x0, sy(&fr, fr.yt.v[i]), fr.w);
    fputs("'/>\n", f);
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#444'/>\n", fr.x0,
            fr.y0, fr.w, fr.h);
    tick_labels(f, &fr, &fr.xt, p->x.kind, 'x', 1, INFINITY);
    tick_labels(f, &fr, &fr.yt, p->y.kind, 'l', 1, INFINITY);
    axis_title(f, fr.x0 + fr.w / 2, fr.y0 + fr.h + 36, 0, p->x.title);
    axis_title(f, ox + 14, fr.y0 + fr.h / 2, -90, p->y.title);
    if (p->y2_scale > 0) {
        /* the right scale maps the left one: it starts where the left does
         * and keeps only its own round ticks that fit below the top */
        tick_axis t2;
        double top = fr.yt.hi * p->y2_scale;
        ticks_make(fr.yt.lo * p->y2_scale, top, 6, p->y2.kind, &t2);
        tick_labels(f, &fr, &t2, p->y2.kind, 'r', p->y2_scale, top);
        axis_title(f, fr.x0 + fr.w + 46, fr.y0 + fr.h / 2, 90, p->y2.title);
    }
    if (isfinite(p->ref)) {
        double y = sy(&fr, p->ref);
        fprintf(f, "<line class='reference' x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#d62728' "
                   "stroke-width='1.5' stroke-dasharray='6,4'/>\n", fr.x0, y, fr.x0 + fr.w, y);
        /* the label sits above the line, or below it when the line is at the top */
        double ly = y - 5 < fr.y0 + 12 ? y + 14 : y - 5;
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' fill='#d62728' text-anchor='end'>",
                fr.x0 + fr.w - 4, ly);
        put_text(f, p->ref_label);
        fputs("</text>\n", f);
    }
    for (int k = 0; k < p->n_series; k++) series(f, &fr, p, k);
    if (p->n_series > 1) legend(f, &fr, p);
}

int svg_write(FILE *f, const char *heading, const char *subheading, const svg_panel *p, int n_panels)
{
    fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n"
               "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d' "
               "font-family='DejaVu Sans, Arial, sans-serif'>\n"
               "<rect width='100%%' height='100%%' fill='white'/>\n",
            PW * n_panels, HEAD + PH, PW * n_panels, HEAD + PH);
    fputs("<text x='12' y='20' font-size='15' font-weight='bold'>", f);
    put_text(f, heading);
    fputs("</text>\n", f);
    if (subheading) {
        fputs("<text x='12' y='38' font-size='12' fill='#444'>", f);
        put_text(f, subheading);
        fputs("</text>\n", f);
    }
    for (int i = 0; i < n_panels; i++) panel(f, &p[i], (double)(i * PW));
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}

int svg_write_sweep(FILE *f, const svg_sweep *s)
{
    double *pct = malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *pct);
    if (!pct) return -1;
    double p0 = s->params0 > 0 ? s->params0 : 1;
    int any_skip = 0;
    for (int i = 0; i < s->n; i++) {
        pct[i] = 100 * s->params[i] / p0;
        if (s->skip && s->skip[i] > 0) any_skip = 1;
    }
    char ref[64], sub[160];
    snprintf(ref, sizeof ref, "original %.3f", s->acc0);
    snprintf(sub, sizeof sub, "original model: %.0f parameters, test accuracy %.4f", s->params0, s->acc0);
    svg_axis tau = {"threshold \xcf\x84", TICK_THRESHOLD, 1}, acc = {"test accuracy", TICK_FRACTION, 0};
    svg_panel p[3] = {
        {"size against threshold", tau, {"parameters", TICK_COUNT, 0}, s->tau, s->n,
         {{"all parameters", s->params}, {"on skip edges", s->skip}}, any_skip ? 2 : 1,
         {"% of the original", TICK_PERCENT, 0}, 100 / p0, NAN, NULL},
        {"accuracy against threshold", tau, acc, s->tau, s->n, {{"test accuracy", s->acc}}, 1,
         {0}, 0, s->acc0, ref},
        {"accuracy against size", {"size (% of the original parameters)", TICK_PERCENT, 0}, acc, pct,
         s->n, {{"test accuracy", s->acc}}, 1, {0}, 0, s->acc0, ref},
    };
    int rc = svg_write(f, s->heading, sub, p, 3);
    free(pct);
    return rc;
}
