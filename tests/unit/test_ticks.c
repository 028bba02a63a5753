/* test_ticks.c - the charts' axis ticks (src/cli/ticks.c): round 1-2-5
 * steps, parameter and size axes from 0, shares inside [0, 1], the fixed
 * threshold axis, and ranges of zero width or without data. */
#include "test.h"

#include "cli/ticks.h"

#include <string.h>

/* Every tick is a whole multiple of the step, the step is 1, 2 or 5 times a
 * power of ten, and the ticks rise by exactly one step. */
static int round_ticks(const tick_axis *t, char *why, size_t len)
{
    double e = floor(log10(t->step)), m = t->step / pow(10, e);
    if (fabs(m - 1) > 1e-9 && fabs(m - 2) > 1e-9 && fabs(m - 5) > 1e-9)
        return snprintf(why, len, "step %g is not 1-2-5", t->step), 0;
    for (int i = 0; i < t->n; i++) {
        double k = t->v[i] / t->step;
        if (fabs(k - round(k)) > 1e-9) return snprintf(why, len, "tick %g off the step", t->v[i]), 0;
        if (i && fabs(t->v[i] - t->v[i - 1] - t->step) > 1e-9 * t->step)
            return snprintf(why, len, "gap before tick %d", i), 0;
    }
    if (t->lo != t->v[0] || t->hi != t->v[t->n - 1]) return snprintf(why, len, "lo/hi not the end ticks"), 0;
    return 1;
}

#define CHECK_ROUND(t)                                                         \
    do {                                                                       \
        char why_[80];                                                         \
        CHECK_MSG(round_ticks(&(t), why_, sizeof why_), "%s", why_);           \
    } while (0)

/* labels joined with '|' */
static const char *labels(const tick_axis *t)
{
    static char buf[TICKS_MAX * TICK_LABEL_LEN];
    buf[0] = 0;
    for (int i = 0; i < t->n; i++) {
        if (i) strcat(buf, "|");
        strcat(buf, t->label[i]);
    }
    return buf;
}

TEST(ticks_parameter_count)
{
    tick_axis t;
    ticks_make(15, 276000, 6, TICK_COUNT, &t); /* from 0, whatever the data's minimum */
    CHECK_ROUND(t);
    CHECK_MSG(!strcmp(labels(&t), "0|50k|100k|150k|200k|250k|300k"), "%s", labels(&t));
    ticks_make(300000, 1400000, 6, TICK_COUNT, &t);
    CHECK_ROUND(t);
    CHECK_MSG(!strcmp(labels(&t), "0|0.2M|0.4M|0.6M|0.8M|1.0M|1.2M|1.4M"), "%s", labels(&t));
    ticks_make(12, 71, 6, TICK_COUNT, &t);
    CHECK_ROUND(t);
    CHECK_MSG(!strcmp(labels(&t), "0|20|40|60|80"), "%s", labels(&t));
    /* a handful of parameters: whole steps only */
    ticks_make(0, 3, 6, TICK_COUNT, &t);
    CHECK_ROUND(t);
    CHECK(t.step >= 1);
    CHECK_MSG(!strcmp(labels(&t), "0|1|2|3"), "%s", labels(&t));
}

TEST(ticks_parameter_axis_never_negative)
{
    tick_axis t;
    double his[] = {1, 7, 99, 403, 4900, 276000, 3e6, 7.7e7};
    for (size_t i = 0; i < sizeof his / sizeof *his; i++) {
        ticks_make(his[i] * 0.9, his[i], 6, TICK_COUNT, &t);
        CHECK_ROUND(t);
        CHECK_MSG(t.v[0] == 0 && !strcmp(t.label[0], "0"), "hi %g starts at %g", his[i], t.v[0]);
        CHECK_MSG(t.hi >= his[i], "hi %g: axis ends at %g", his[i], t.hi);
        CHECK_MSG(t.n >= 2 && t.n <= 9, "hi %g: %d ticks", his[i], t.n);
        for (int k = 0; k < t.n; k++) CHECK(t.label[k][0] != '-');
    }
    ticks_make(-4900, 0, 6, TICK_COUNT, &t); /* nothing below zero, ever */
    CHECK(t.v[0] == 0 && t.n >= 2);
}

TEST(ticks_accuracy)
{
    tick_axis t;
    ticks_make(0.786, 0.881, 6, TICK_FRACTION, &t); /* 0.881 needs the 0.90 tick */
    CHECK_ROUND(t);
    CHECK_MSG(!strcmp(labels(&t), "0.78|0.80|0.82|0.84|0.86|0.88|0.90"), "%s", labels(&t));
    ticks_make(0.8, 0.88, 6, TICK_FRACTION, &t);
    CHECK_MSG(!strcmp(labels(&t), "0.80|0.82|0.84|0.86|0.88"), "%s", labels(&t));
    ticks_make(0.9733, 0.9867, 6, TICK_FRACTION, &t);
    CHECK_ROUND(t);
    CHECK_MSG(!strcmp(labels(&t), "0.970|0.975|0.980|0.985|0.990"), "%s", labels(&t));
    /* a share never leaves [0, 1], even when rounding out would */
    ticks_make(0.31, 0.999, 6, TICK_FRACTION, &t);
    CHECK_ROUND(t);
    CHECK_MSG(t.v[0] >= 0 && t.hi == 1 && !strcmp(t.label[t.n - 1], "1.0"), "%s", labels(&t));
}

TEST(ticks_zero_width)
{
    tick_axis t;
    ticks_make(1, 1, 6, TICK_FRACTION, &t); /* every model perfect */
    CHECK_ROUND(t);
    CHECK_MSG(t.n >= 2 && t.hi == 1 && t.lo < 1, "%s", labels(&t));
    ticks_make(0.5, 0.5, 6, TICK_PLAIN, &t);
    CHECK_ROUND(t);
    CHECK_MSG(t.n >= 2 && t.lo < 0.5 && t.hi > 0.5, "%s", labels(&t));
    ticks_make(0, 0, 6, TICK_COUNT, &t);
    CHECK_ROUND(t);
    CHECK_MSG(!strcmp(labels(&t), "0|1"), "%s", labels(&t));
    ticks_make(-250, -250, 6, TICK_PLAIN, &t);
    CHECK_ROUND(t);
    CHECK_MSG(t.lo < -250 && t.hi > -250, "%s", labels(&t));
    ticks_make(NAN, NAN, 6, TICK_FRACTION, &t); /* no data at all */
    CHECK_ROUND(t);
    CHECK(t.lo == 0 && t.hi == 1);
}

TEST(ticks_percent_and_threshold)
{
    tick_axis t;
    ticks_make(0, 100, 6, TICK_PERCENT, &t);
    CHECK_MSG(!strcmp(labels(&t), "0 %|20 %|40 %|60 %|80 %|100 %"), "%s", labels(&t));
    ticks_make(3.7, 17.6, 6, TICK_PERCENT, &t);
    CHECK_ROUND(t);
    CHECK_MSG(!strcmp(labels(&t), "0 %|5 %|10 %|15 %|20 %"), "%s", labels(&t));
    ticks_make(0.05, 0.5, 6, TICK_THRESHOLD, &t); /* always the whole 0..1 */
    CHECK_MSG(!strcmp(labels(&t), "0.0|0.1|0.2|0.3|0.4|0.5|0.6|0.7|0.8|0.9|1.0"), "%s", labels(&t));
}

TEST(ticks_plain_and_reversed_range)
{
    tick_axis t;
    ticks_make(0.0025, 1.05, 6, TICK_PLAIN, &t);
    CHECK_ROUND(t);
    CHECK_MSG(!strcmp(labels(&t), "0.0|0.2|0.4|0.6|0.8|1.0|1.2"), "%s", labels(&t));
    ticks_make(10, -4900, 6, TICK_PLAIN, &t); /* bounds in either order */
    CHECK_ROUND(t);
    CHECK_MSG(t.lo <= -4900 && t.hi >= 10 && !strcmp(t.label[t.n - 1], "1000"), "%s", labels(&t));
    /* about as many ticks as asked for, over many magnitudes */
    for (int e = -6; e <= 9; e++)
        for (double f = 1; f < 10; f += 0.7) {
            ticks_make(0.3 * f * pow(10, e), f * pow(10, e), 6, TICK_PLAIN, &t);
            CHECK_ROUND(t);
            CHECK_MSG(t.n >= 4 && t.n <= 9, "%g..%g: %d ticks", 0.3 * f * pow(10, e), f * pow(10, e), t.n);
        }
}
