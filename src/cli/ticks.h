/* ticks.h - round axis ticks for the charts (pure: a range in, values and
 * labels out), kept apart from the SVG writer so it can be unit-tested. */
#ifndef LC_TICKS_H
#define LC_TICKS_H

/* What an axis shows; decides where it starts, its step and its labels. */
typedef enum {
    TICK_PLAIN,     /* any numbers: 1-2-5 steps, decimals as the step needs */
    TICK_COUNT,     /* parameter counts: from 0, whole steps, k and M suffixes */
    TICK_PERCENT,   /* a percent value (0..100 = 0 % .. 100 %): from 0, "20 %" */
    TICK_FRACTION,  /* a share in [0, 1] (accuracy): ticks kept inside [0, 1] */
    TICK_THRESHOLD, /* the threshold tau: always 0.0 .. 1.0 in steps of 0.1 */
} tick_kind;

enum { TICKS_MAX = 16, TICK_LABEL_LEN = 16 };

typedef struct tick_axis {
    double lo, hi;  /* the axis range: the first and the last tick */
    double step;    /* 1, 2 or 5 times a power of ten */
    int n;          /* ticks in v and label, lo first */
    double v[TICKS_MAX];
    char label[TICKS_MAX][TICK_LABEL_LEN];
} tick_axis;

/* Ticks covering [lo, hi] (either order; NaN or infinite bounds mean no
 * data and give the kind's default range) with about `target` ticks
 * (2..TICKS_MAX - 4), at multiples of a 1-2-5 step. A range of zero width is
 * widened around its value. Fills *t and returns t->n. */
int ticks_make(double lo, double hi, int target, tick_kind kind, tick_axis *t);

#endif
