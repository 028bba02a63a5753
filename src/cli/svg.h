/* svg.h - small line charts written as SVG text (for sweep and the demo).
 * Tick labels are <text> elements inside <g class='ticks' data-kind='K'>,
 * one group an axis, K one of plain, count, percent, fraction, threshold
 * (tests/cli/charts.sh reads them back). */
#ifndef LC_SVG_H
#define LC_SVG_H

#include "ticks.h"

#include <stdio.h>

enum { SVG_MAX_SERIES = 3 };

typedef struct svg_axis {
    const char *title;
    tick_kind kind;
    int reversed; /* high values on the left (x) */
} svg_axis;

typedef struct svg_series {
    const char *name; /* shown in a legend when a panel has several series */
    const double *y;  /* n values; NaN or infinite ones are left out */
} svg_series;

typedef struct svg_panel {
    const char *title;
    svg_axis x, y;
    const double *x_val;
    int n;
    svg_series s[SVG_MAX_SERIES];
    int n_series;
    svg_axis y2;           /* a second scale on the right, if y2_scale > 0 */
    double y2_scale;       /* right value = left value * y2_scale */
    double ref;            /* a dashed reference line at y = ref; NaN for none */
    const char *ref_label;
} svg_panel;

/* Writes panels side by side into f, under heading (and a smaller second
 * line, subheading, unless NULL). Returns 0, or -1 on a write error. */
int svg_write(FILE *f, const char *heading, const char *subheading, const svg_panel *p,
              int n_panels);

/* The threshold sweep's figure (sweep --svg, the demo's sweep.svg): size
 * against threshold (parameters, and percent of the original on the right;
 * skip-edge parameters as a second series if skip is not NULL and has any),
 * accuracy against threshold and accuracy against size (percent of the
 * original), both with the original model's accuracy as a dashed line. */
typedef struct svg_sweep {
    const char *heading;
    int n;
    const double *tau, *params, *skip, *acc; /* n each; skip may be NULL */
    double params0, acc0;                     /* the original model */
} svg_sweep;
int svg_write_sweep(FILE *f, const svg_sweep *s);

#endif
