/* svg.c - line charts as plain SVG, so figures need no plotting library. */
#include "svg.h"

#include <math.h>

enum { PW = 360, PH = 280, ML = 62, MR = 16, MT = 48, MB = 50 };

static void range(const double *v, int n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            *lo = fmin(*lo, v[i]);
            *hi = fmax(*hi, v[i]);
        }
    if (!isfinite(*lo)) *lo = 0, *hi = 1;
    if (*hi - *lo < 1e-12) *lo -= 0.5, *hi += 0.5;
    double pad = 0.05 * (*hi - *lo);
    *lo -= pad;
    *hi += pad;
}

static void panel(FILE *f, const svg_panel *p, double ox)
{
    double xl, xh, yl, yh;
    range(p->x, p->n, &xl, &xh);
    range(p->y, p->n, &yl, &yh);
    double w = PW - ML - MR, h = PH - MT - MB, x0 = ox + ML, y0 = MT;
#define SX(v) (x0 + w * (p->x_reversed ? (xh - (v)) : ((v) - xl)) / (xh - xl))
#define SY(v) (y0 + h * (yh - (v)) / (yh - yl))
    fprintf(f, "<text x='%g' y='%d' font-size='14' text-anchor='middle'>%s</text>\n",
            ox + ML + w / 2, MT - 14, p->title);
    fprintf(f, "<rect x='%g' y='%g' width='%g' height='%g' fill='none' stroke='#444'/>\n", x0, y0, w, h);
    for (int t = 0; t <= 4; t++) { /* 5 ticks per axis, labelled */
        double xv = xl + (xh - xl) * t / 4, yv = yl + (yh - yl) * t / 4;
        fprintf(f, "<line x1='%g' y1='%g' x2='%g' y2='%g' stroke='#ddd'/>\n", SX(xv), y0, SX(xv), y0 + h);
        fprintf(f, "<line x1='%g' y1='%g' x2='%g' y2='%g' stroke='#ddd'/>\n", x0, SY(yv), x0 + w, SY(yv));
        fprintf(f, "<text x='%g' y='%g' font-size='11' text-anchor='middle'>%.3g</text>\n", SX(xv),
                y0 + h + 15, xv);
        fprintf(f, "<text x='%g' y='%g' font-size='11' text-anchor='end'>%.3g</text>\n", x0 - 4,
                SY(yv) + 4, yv);
    }
    fprintf(f, "<text x='%g' y='%g' font-size='12' text-anchor='middle'>%s</text>\n", x0 + w / 2,
            y0 + h + 36, p->xlabel);
    fprintf(f, "<text transform='translate(%g,%g) rotate(-90)' font-size='12' text-anchor='middle'>%s</text>\n",
            ox + 14, y0 + h / 2, p->ylabel);
    fprintf(f, "<polyline fill='none' stroke='#1f77b4' stroke-width='2' points='");
    for (int i = 0; i < p->n; i++)
        if (isfinite(p->x[i]) && isfinite(p->y[i])) fprintf(f, "%.1f,%.1f ", SX(p->x[i]), SY(p->y[i]));
    fprintf(f, "'/>\n");
    for (int i = 0; i < p->n; i++)
        if (isfinite(p->x[i]) && isfinite(p->y[i]))
            fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='#1f77b4'/>\n", SX(p->x[i]), SY(p->y[i]));
#undef SX
#undef SY
}

int svg_write(FILE *f, const char *heading, const svg_panel *p, int n_panels)
{
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
               "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
            PW * n_panels, PH + 24);
    fprintf(f, "<text x='10' y='18' font-size='15' font-weight='bold'>%s</text>\n<g transform='translate(0,20)'>\n",
            heading);
    for (int i = 0; i < n_panels; i++) panel(f, &p[i], (double)(i * PW));
    fprintf(f, "</g>\n</svg>\n");
    return ferror(f) ? -1 : 0;
}
