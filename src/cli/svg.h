/* svg.h - small line charts written as SVG text (for sweep and the demo). */
#ifndef LC_SVG_H
#define LC_SVG_H

#include <stdio.h>

typedef struct svg_panel {
    const char *title, *xlabel, *ylabel;
    const double *x, *y; /* n points, drawn as a line with markers */
    int n;
    int x_reversed;      /* draw x from high (left) to low (right) */
} svg_panel;

/* Writes panels side by side into f. Returns 0, or -1 on a write error. */
int svg_write(FILE *f, const char *heading, const svg_panel *p, int n_panels);

#endif
