/* array.c - what NPY and IDX share once their headers are parsed: element
 * access in either byte order, conversion to a data set, and label files. */
#include "data/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double lc_array_get(const struct lc_array *a, size_t i)
{
    const unsigned char *p = a->data + i * (size_t)a->size;
    uint64_t u = 0;
    for (int k = 0; k < a->size; k++) {
        int b = a->big_endian ? k : a->size - 1 - k;
        u = (u << 8) | p[b];
    }
    if (a->kind == 'u') return (double)u;
    if (a->kind == 'i') {
        int bits = 8 * a->size;
        if (bits < 64 && (u >> (bits - 1)) & 1) u |= ~(uint64_t)0 << bits; /* sign-extend */
        return (double)(int64_t)u;
    }
    if (a->size == 4) {
        uint32_t w = (uint32_t)u;
        float f;
        memcpy(&f, &w, sizeof f);
        return f;
    }
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

lc_status lc_array_to_data(const char *path, const struct lc_array *a, double scale,
                           lc_data **out, lc_error *err)
{
    *out = NULL;
    if (a->cols > LC_MAX_WIDTH)
        return lc_fail(err, LC_ERR_NOMEM, "%s: %zu features per row, more than the cap of %d", path,
                       a->cols, LC_MAX_WIDTH);
    lc_data *d;
    lc_status st = lc_data_alloc(a->rows, (int)a->cols, false, path, &d, err);
    if (st) return st;
    size_t n = a->rows * a->cols;
    /* bytes (IDX images): a table of the 256 values, each computed as the
     * general path below computes it; a tenth of its time (a scale that
     * overflows takes the general path, which reports where) */
    if (a->kind == 'u' && a->size == 1 && isfinite((float)(255.0 * scale))) {
        float t[256];
        for (int u = 0; u < 256; u++) t[u] = (float)((double)u * scale);
        for (size_t i = 0; i < n; i++) d->x[i] = t[a->data[i]];
        *out = d;
        return LC_OK;
    }
    for (size_t i = 0; i < n; i++) {
        float v = (float)(lc_array_get(a, i) * scale);
        if (!isfinite(v)) {
            double raw = lc_array_get(a, i);
            lc_data_free(d);
            return lc_fail(err, LC_ERR_NUMERIC, "%s: row %zu, column %zu (0-based): %g is %s",
                           path, i / a->cols, i % a->cols, raw,
                           isfinite(raw) ? "beyond float range" : "not a finite number");
        }
        d->x[i] = v;
    }
    *out = d;
    return LC_OK;
}

lc_status lc_labels_load(const char *path, lc_data *d, int classes, lc_error *err)
{
    unsigned char *buf;
    size_t len;
    struct lc_array a;
    lc_status st = lc_read_maybe_gz(path, &buf, &len, err);
    if (st) return st;
    if (lc_is_npy(buf, len)) st = lc_npy_parse(path, buf, len, &a, err);
    else if (lc_is_idx(buf, len)) st = lc_idx_parse(path, buf, len, &a, err);
    else st = lc_fail(err, LC_ERR_FORMAT, "%s: expected an NPY or IDX1 labels file", path);
    if (!st && (a.cols != 1 || a.ndim > 2))
        st = lc_fail(err, LC_ERR_SHAPE, "%s: labels must be one column, found %zu per row", path,
                     a.cols);
    if (!st && a.rows != d->rows)
        st = lc_fail(err, LC_ERR_SHAPE, "%s: %zu labels for %zu data rows", path, a.rows, d->rows);
    int32_t *y = NULL;
    if (!st && !(y = malloc(a.rows * sizeof *y)))
        st = lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", path);
    int maxv = -1;
    for (size_t i = 0; !st && i < a.rows; i++) {
        double v = lc_array_get(&a, i);
        if (!(v >= 0 && v < LC_MAX_CLASSES && v == floor(v)))
            st = lc_fail(err, LC_ERR_FORMAT,
                         "%s: label %zu (0-based) is %g, expected an integer class in [0, %d)",
                         path, i, v, LC_MAX_CLASSES);
        else if (classes > 0 && v >= classes)
            st = lc_fail(err, LC_ERR_SHAPE,
                         "%s: label %zu (0-based) is %g, not one of the model's %d classes (0 to %d)",
                         path, i, v, classes, classes - 1);
        else if ((y[i] = (int32_t)v) > maxv)
            maxv = y[i];
    }
    free(buf);
    if (st) {
        free(y);
        return st;
    }
    free(d->y);
    d->y = y;
    d->n_classes = maxv + 1;
    return LC_OK;
}
