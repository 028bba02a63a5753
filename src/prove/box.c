/* box.c - the input box of the provers: per-feature [lo, hi] of the model's
 * input vector, from arrays, one range, a data set or a CSV file. */
#include "prove/bounds.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct lc_box {
    int n;
    double *lo, *hi; /* (n) each, one allocation */
};

static lc_status box_alloc(int n, lc_box **out, lc_error *err)
{
    *out = NULL;
    if (n < 1 || n > LC_MAX_WIDTH)
        return lc_fail(err, LC_ERR_INVALID, "input box: %d features (expected 1..%d)", n,
                       LC_MAX_WIDTH);
    lc_box *b = calloc(1, sizeof *b);
    double *v = malloc(2 * (size_t)n * sizeof *v);
    if (!b || !v) {
        free(b);
        free(v);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory for an input box of %d features", n);
    }
    b->n = n;
    b->lo = v;
    b->hi = v + n;
    *out = b;
    return LC_OK;
}

void lc_box_free(lc_box *b)
{
    if (!b) return;
    free(b->lo);
    free(b);
}

int lc_box_width(const lc_box *b) { return b->n; }
double lc_box_lo(const lc_box *b, int j) { return b->lo[j]; }
double lc_box_hi(const lc_box *b, int j) { return b->hi[j]; }

static lc_status check_pair(double lo, double hi, int j, lc_error *err)
{
    if (!isfinite(lo) || !isfinite(hi))
        return lc_fail(err, LC_ERR_INVALID,
                       "input box: feature %d has a bound that is not finite (%g, %g)", j, lo, hi);
    if (lo > hi)
        return lc_fail(err, LC_ERR_INVALID, "input box: feature %d has lo %g > hi %g", j, lo, hi);
    return LC_OK;
}

lc_status lc_box_create(int n, const double *lo, const double *hi, lc_box **out, lc_error *err)
{
    *out = NULL;
    lc_box *b;
    lc_status st = box_alloc(n, &b, err);
    if (st) return st;
    for (int j = 0; j < n; j++) {
        if ((st = check_pair(lo[j], hi[j], j, err))) {
            lc_box_free(b);
            return st;
        }
        b->lo[j] = lo[j];
        b->hi[j] = hi[j];
    }
    *out = b;
    return LC_OK;
}

lc_status lc_box_from_range(int n, double lo, double hi, lc_box **out, lc_error *err)
{
    *out = NULL;
    lc_status st = check_pair(lo, hi, 0, err);
    if (st) return st;
    lc_box *b;
    if ((st = box_alloc(n, &b, err))) return st;
    for (int j = 0; j < n; j++) {
        b->lo[j] = lo;
        b->hi[j] = hi;
    }
    *out = b;
    return LC_OK;
}

/* Parses one number that fills [s, end) apart from blanks. */
static bool parse_num(const char *s, const char *end, double *v)
{
    while (s < end && isspace((unsigned char)*s)) s++;
    while (end > s && isspace((unsigned char)end[-1])) end--;
    if (s == end || end - s > 64) return false;
    char tmp[72];
    memcpy(tmp, s, (size_t)(end - s));
    tmp[end - s] = '\0';
    char *e;
    errno = 0;
    *v = strtod(tmp, &e);
    return *e == '\0' && errno != ERANGE;
}

lc_status lc_box_parse_range(const char *text, int n, lc_box **out, lc_error *err)
{
    *out = NULL;
    const char *comma = strchr(text, ',');
    double lo, hi;
    if (!comma || !parse_num(text, comma, &lo) ||
        !parse_num(comma + 1, comma + strlen(comma), &hi) || !isfinite(lo) || !isfinite(hi) ||
        lo > hi)
        return lc_fail(err, LC_ERR_INVALID,
                       "input range '%.64s': expected LO,HI with two finite numbers, LO <= HI",
                       text);
    return lc_box_from_range(n, lo, hi, out, err);
}

lc_status lc_box_from_data(const lc_data *d, lc_box **out, lc_error *err)
{
    *out = NULL;
    size_t rows = lc_data_rows(d);
    int cols = lc_data_cols(d);
    if (rows == 0)
        return lc_fail(err, LC_ERR_INVALID, "input box from data: the data set has no rows");
    lc_box *b;
    lc_status st = box_alloc(cols, &b, err);
    if (st) return st;
    const float *x = lc_data_x(d);
    for (int j = 0; j < cols; j++) b->lo[j] = b->hi[j] = x[j];
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * (size_t)cols;
        for (int j = 0; j < cols; j++) {
            double v = row[j];
            if (!isfinite(v)) {
                lc_box_free(b);
                return lc_fail(err, LC_ERR_NUMERIC,
                               "input box from data: row %zu, column %d is %g (expected a finite "
                               "number)", r, j, v);
            }
            if (v < b->lo[j]) b->lo[j] = v;
            if (v > b->hi[j]) b->hi[j] = v;
        }
    }
    *out = b;
    return LC_OK;
}

/* A box file is small: one short line per input feature. */
#define BOX_FILE_CAP ((size_t)1 << 30)

lc_status lc_box_load(const char *path, int n_features, lc_box **out, lc_error *err)
{
    *out = NULL;
    lc_box *b;
    lc_status st = box_alloc(n_features, &b, err);
    if (st) return st;
    char *buf;
    size_t len;
    if ((st = lc_read_file(path, BOX_FILE_CAP, &buf, &len, err))) {
        lc_box_free(b);
        return st;
    }
    int rows = 0;
    size_t line_no = 0;
    bool first_content = true;
    for (char *s = buf; s < buf + len;) {
        char *nl = memchr(s, '\n', (size_t)(buf + len - s));
        char *end = nl ? nl : buf + len;
        line_no++;
        char *t = s, *e = end;
        while (t < e && isspace((unsigned char)*t)) t++;
        while (e > t && isspace((unsigned char)e[-1])) e--; /* also drops a '\r' */
        s = nl ? nl + 1 : buf + len;
        if (t == e || *t == '#') continue;
        char *comma = memchr(t, ',', (size_t)(e - t));
        double lo, hi;
        bool ok = comma && parse_num(t, comma, &lo) && parse_num(comma + 1, e, &hi);
        if (!ok && first_content && comma && !memchr(comma + 1, ',', (size_t)(e - comma - 1)) &&
            !isdigit((unsigned char)*t) && *t != '-' && *t != '+' && *t != '.') {
            first_content = false; /* a header such as "lo,hi" */
            continue;
        }
        first_content = false;
        if (!ok) {
            st = lc_fail(err, LC_ERR_FORMAT,
                         "%s:%zu: expected two numbers 'lo,hi' (input feature %d), found '%.40s'",
                         path, line_no, rows, t);
            break;
        }
        if (!isfinite(lo) || !isfinite(hi) || lo > hi) {
            st = lc_fail(err, LC_ERR_FORMAT,
                         "%s:%zu: input feature %d: expected finite lo <= hi, found %g,%g", path,
                         line_no, rows, lo, hi);
            break;
        }
        if (rows == n_features) {
            st = lc_fail(err, LC_ERR_SHAPE,
                         "%s:%zu: more rows than the model's %d input features", path, line_no,
                         n_features);
            break;
        }
        b->lo[rows] = lo;
        b->hi[rows] = hi;
        rows++;
    }
    free(buf);
    if (!st && rows < n_features)
        st = lc_fail(err, LC_ERR_SHAPE,
                     "%s: %d rows of lo,hi, but the model has %d input features", path, rows,
                     n_features);
    if (st) {
        lc_box_free(b);
        return st;
    }
    *out = b;
    return LC_OK;
}
