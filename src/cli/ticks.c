/* ticks.c - round axis ticks ("nice numbers"): the step is 1, 2 or 5 times a
 * power of ten, chosen so the axis gets about as many ticks as asked for,
 * and the axis runs from the tick at or below the data to the one at or
 * above it. Labels carry exactly the decimals the step needs. */
#include "ticks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The fewest decimals (0..9) that write x exactly, up to rounding noise. */
static int decimals(double x)
{
    double s = fabs(x);
    for (int d = 0; d < 9; d++, s *= 10)
        if (fabs(s - round(s)) < 1e-6 * fmax(1, s)) return d;
    return 9;
}

/* First and last multiple of step (as multiples) covering [lo, hi]; the
 * slack keeps 0.3 / 0.1 from rounding up to a fourth tick. */
static void cover(double lo, double hi, double step, tick_kind kind, long *i0, long *i1)
{
    *i0 = (long)floor(lo / step + 1e-9);
    *i1 = (long)ceil(hi / step - 1e-9);
    if (kind == TICK_FRACTION) { /* a share: no tick outside [0, 1] */
        if (*i0 < 0) *i0 = 0;
        long top = (long)floor(1 / step + 1e-9);
        if (*i1 > top) *i1 = top;
    }
}

static void label(const tick_axis *t, tick_kind kind, double v, char *out)
{
    int d = decimals(t->step);
    switch (kind) {
    case TICK_THRESHOLD: snprintf(out, TICK_LABEL_LEN, "%.1f", v); break;
    case TICK_PERCENT: snprintf(out, TICK_LABEL_LEN, "%.*f %%", d, v); break;
    case TICK_COUNT: {
        /* one unit for the whole axis, from its largest tick */
        double unit = t->hi >= 1e6 ? 1e6 : t->hi >= 1e3 ? 1e3 : 1;
        const char *suffix = unit == 1e6 ? "M" : unit == 1e3 ? "k" : "";
        if (v == 0) snprintf(out, TICK_LABEL_LEN, "0");
        else snprintf(out, TICK_LABEL_LEN, "%.*f%s", decimals(t->step / unit), v / unit, suffix);
        break;
    }
    default: snprintf(out, TICK_LABEL_LEN, "%.*f", d, v); break;
    }
}

int ticks_make(double lo, double hi, int target, tick_kind kind, tick_axis *t)
{
    if (target < 2) target = 2;
    if (target > TICKS_MAX - 4) target = TICKS_MAX - 4; /* room for the 1-2-5 rounding */
    if (!isfinite(lo) || !isfinite(hi)) lo = 0, hi = kind == TICK_PERCENT ? 100 : 1;
    if (lo > hi) {
        double s = lo;
        lo = hi, hi = s;
    }
    switch (kind) {
    case TICK_THRESHOLD: lo = 0, hi = 1; break;
    case TICK_COUNT:
    case TICK_PERCENT: lo = 0, hi = fmax(hi, 0); break; /* sizes start at nothing */
    case TICK_FRACTION: lo = fmin(fmax(lo, 0), 1), hi = fmin(fmax(hi, 0), 1); break;
    default: break;
    }
    if (hi - lo <= 1e-12 * fmax(1, fabs(hi))) { /* one value: a window around it */
        if (hi == 0) hi = kind == TICK_PERCENT ? 100 : 1;
        else {
            double d = 0.1 * fabs(hi);
            lo -= d, hi += d;
            if (kind == TICK_FRACTION) lo = fmax(lo, 0), hi = fmin(hi, 1);
        }
    }
    long best0 = 0, best1 = 1;
    double step = 1;
    if (kind == TICK_THRESHOLD) {
        step = 0.1, best0 = 0, best1 = 10;
    } else {
        static const double mant[3] = {1, 2, 5};
        int e = (int)floor(log10((hi - lo) / (target - 1)));
        int best_miss = -1;
        double best_waste = 0;
        for (int k = e - 1; k <= e + 1; k++)
            for (int m = 0; m < 3; m++) {
                double s = mant[m] * pow(10, k);
                if (kind == TICK_COUNT && s < 1) continue; /* no half parameters */
                long i0, i1;
                cover(lo, hi, s, kind, &i0, &i1);
                int n = (int)(i1 - i0 + 1), miss = abs(n - target);
                if (n < 2 || n > TICKS_MAX) continue;
                /* as many ticks as asked for; of two as close, the axis
                 * with less empty room beyond the data */
                double waste = (double)(i1 - i0) * s - (hi - lo);
                if (best_miss < 0 || miss < best_miss ||
                    (miss == best_miss && waste < best_waste - 1e-9 * (hi - lo)))
                    best_miss = miss, best_waste = waste, step = s, best0 = i0, best1 = i1;
            }
    }
    t->step = step;
    t->n = (int)(best1 - best0 + 1);
    for (int i = 0; i < t->n; i++) {
        double v = (double)(best0 + i) * step;
        t->v[i] = fabs(v) < 1e-9 * step ? 0 : v; /* never "-0.00" */
    }
    t->lo = t->v[0];
    t->hi = t->v[t->n - 1];
    for (int i = 0; i < t->n; i++) label(t, kind, t->v[i], t->label[i]);
    return t->n;
}
