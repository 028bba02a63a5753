/* dataset.c - the lc_data object: allocation, accessors, copies, and
 * lc_data_load, which reads a file (gunzipping it when needed) and picks the
 * loader by content, not by file name. */
#include "data/data.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

lc_status lc_data_alloc(size_t rows, int cols, bool labelled, const char *what,
                        lc_data **out, lc_error *err)
{
    *out = NULL;
    size_t n;
    if (rows == 0) return lc_fail(err, LC_ERR_FORMAT, "%s: no data rows", what);
    if (cols < 1 || cols > LC_MAX_WIDTH)
        return lc_fail(err, LC_ERR_NOMEM, "%s: %d features per row, expected 1 to %d", what,
                       cols, LC_MAX_WIDTH);
    if (!lc_mul_ok(rows, (size_t)cols, &n) || n > LC_MAX_FLOATS)
        return lc_fail(err, LC_ERR_NOMEM, "%s: %zu rows x %d features exceed the cap of %zu values",
                       what, rows, cols, LC_MAX_FLOATS);
    lc_data *d = calloc(1, sizeof *d);
    if (!d) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", what);
    d->rows = rows;
    d->cols = cols;
    d->x = malloc(n * sizeof *d->x);
    if (labelled) d->y = calloc(rows, sizeof *d->y);
    if (!d->x || (labelled && !d->y)) {
        lc_data_free(d);
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %zu x %d values", what, rows,
                       cols);
    }
    *out = d;
    return LC_OK;
}

void lc_free_strings(char **s, int n)
{
    if (!s) return;
    for (int i = 0; i < n; i++) free(s[i]);
    free(s);
}

void lc_data_free(lc_data *d)
{
    if (!d) return;
    free(d->x);
    free(d->y);
    lc_free_strings(d->class_names, d->n_classes);
    lc_preproc_free(d->pre);
    free(d);
}

size_t lc_data_rows(const lc_data *d) { return d->rows; }
int lc_data_cols(const lc_data *d) { return d->cols; }
const float *lc_data_x(const lc_data *d) { return d->x; }
const int32_t *lc_data_y(const lc_data *d) { return d->y; }
int lc_data_classes(const lc_data *d) { return d->y ? d->n_classes : 0; }
const lc_preproc *lc_data_preproc(const lc_data *d) { return d->pre; }

const char *lc_data_class_name(const lc_data *d, int c)
{
    if (!d->class_names || c < 0 || c >= d->n_classes) return NULL;
    return d->class_names[c];
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

lc_status lc_sorted_distinct(char *const *names, size_t n, char ***out, int *n_out,
                             lc_error *err)
{
    *out = NULL;
    *n_out = 0;
    char **tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    memcpy(tmp, names, n * sizeof *tmp);
    qsort(tmp, n, sizeof *tmp, cmp_str_ptr);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(tmp[k - 1], tmp[i]) != 0) tmp[k++] = tmp[i];
    if (k > LC_MAX_CLASSES) {
        free(tmp);
        return lc_fail(err, LC_ERR_FORMAT, "%zu distinct names, more than the cap of %d", k,
                       LC_MAX_CLASSES);
    }
    char **res = calloc(k ? k : 1, sizeof *res);
    for (size_t i = 0; res && i < k; i++) {
        res[i] = strdup(tmp[i]);
        if (!res[i]) {
            lc_free_strings(res, (int)i);
            res = NULL;
        }
    }
    free(tmp);
    if (!res) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    *out = res;
    *n_out = (int)k;
    return LC_OK;
}

struct name_at { const char *s; int i; };
static int cmp_name_at(const void *a, const void *b)
{
    const struct name_at *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

bool lc_sort_order(char *const *names, int *order, int n)
{
    struct name_at *a = malloc((size_t)(n ? n : 1) * sizeof *a);
    if (!a) return false;
    for (int i = 0; i < n; i++) a[i] = (struct name_at){names[i], i};
    qsort(a, (size_t)n, sizeof *a, cmp_name_at);
    for (int i = 0; i < n; i++) order[i] = a[i].i;
    free(a);
    return true;
}

int lc_find_sorted(char *const *names, const int *order, int n, const char *s)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(names[order[mid]], s);
        if (c == 0) return order[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

static lc_status copy_class_names(lc_data *dst, const lc_data *src, lc_error *err)
{
    if (!src->class_names) return LC_OK;
    dst->class_names = calloc((size_t)src->n_classes, sizeof *dst->class_names);
    if (!dst->class_names) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    for (int c = 0; c < src->n_classes; c++)
        if (!(dst->class_names[c] = strdup(src->class_names[c])))
            return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    return LC_OK;
}

lc_status lc_data_from_arrays(size_t rows, int cols, const float *x, const int32_t *y,
                              int n_classes, lc_data **out, lc_error *err)
{
    *out = NULL;
    if (!x) return lc_fail(err, LC_ERR_INVALID, "lc_data_from_arrays: x is NULL");
    if (y && (n_classes < 1 || n_classes > LC_MAX_CLASSES))
        return lc_fail(err, LC_ERR_INVALID, "lc_data_from_arrays: %d classes, expected 1 to %d",
                       n_classes, LC_MAX_CLASSES);
    lc_data *d;
    lc_status st = lc_data_alloc(rows, cols, y != NULL, "lc_data_from_arrays", &d, err);
    if (st) return st;
    for (size_t r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            float v = x[r * (size_t)cols + c];
            if (!isfinite(v)) {
                lc_data_free(d);
                return lc_fail(err, LC_ERR_NUMERIC, "lc_data_from_arrays: row %zu, column %d: %g",
                               r, c, (double)v);
            }
        }
        if (y && (y[r] < 0 || y[r] >= n_classes)) {
            lc_data_free(d);
            return lc_fail(err, LC_ERR_INVALID,
                           "lc_data_from_arrays: label %d of row %zu not in [0, %d)", (int)y[r],
                           r, n_classes);
        }
    }
    memcpy(d->x, x, rows * (size_t)cols * sizeof *x);
    if (y) {
        memcpy(d->y, y, rows * sizeof *y);
        d->n_classes = n_classes;
    }
    *out = d;
    return LC_OK;
}

lc_status lc_data_subset(const lc_data *d, const size_t *idx, size_t n, lc_data **out,
                         lc_error *err)
{
    *out = NULL;
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= d->rows)
            return lc_fail(err, LC_ERR_INVALID, "lc_data_subset: index %zu is row %zu of %zu", i,
                           idx[i], d->rows);
    lc_data *s;
    lc_status st = lc_data_alloc(n, d->cols, d->y != NULL, "lc_data_subset", &s, err);
    if (st) return st;
    size_t w = (size_t)d->cols;
    for (size_t i = 0; i < n; i++) {
        memcpy(s->x + i * w, d->x + idx[i] * w, w * sizeof *s->x);
        if (d->y) s->y[i] = d->y[idx[i]];
    }
    s->n_classes = d->n_classes;
    st = copy_class_names(s, d, err);
    if (!st && d->pre) st = lc_preproc_clone(d->pre, &s->pre, err);
    if (st) {
        lc_data_free(s);
        return st;
    }
    *out = s;
    return LC_OK;
}

lc_status lc_read_maybe_gz(const char *path, unsigned char **buf, size_t *len, lc_error *err)
{
    *buf = NULL;
    *len = 0;
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return lc_fail(err, errno ? LC_ERR_IO : LC_ERR_NOMEM, "%s: cannot open: %s", path,
                       errno ? strerror(errno) : "out of memory");
    gzbuffer(f, 1 << 17);
    size_t n = 0, cap = 1 << 16;
    unsigned char *b = malloc(cap);
    lc_status st = LC_OK;
    while (b) {
        if (n == cap) {
            if (cap >= LC_MAX_FILE_BYTES) {
                st = lc_fail(err, LC_ERR_NOMEM, "%s: larger than %zu bytes", path,
                             LC_MAX_FILE_BYTES);
                break;
            }
            unsigned char *nb = realloc(b, cap * 2);
            if (!nb) break;
            b = nb;
            cap *= 2;
        }
        size_t want = cap - n > (1u << 30) ? (1u << 30) : cap - n;
        int got = gzread(f, b + n, (unsigned)want);
        if (got < 0) break;
        if (got == 0) break;
        n += (size_t)got;
    }
    if (!st && !b) st = lc_fail(err, LC_ERR_NOMEM, "%s: out of memory reading the file", path);
    if (!st) {
        int zerr = Z_OK;
        const char *msg = gzerror(f, &zerr);
        if (zerr == Z_ERRNO)
            st = lc_fail(err, LC_ERR_IO, "%s: read error: %s", path, strerror(errno));
        else if (zerr == Z_MEM_ERROR)
            st = lc_fail(err, LC_ERR_NOMEM, "%s: out of memory decompressing", path);
        else if (zerr != Z_OK) {
            /* zlib prefixes its message with the path: name the file once */
            size_t pl = strlen(path);
            if (msg && !strncmp(msg, path, pl) && !strncmp(msg + pl, ": ", 2)) msg += pl + 2;
            /* n counts only whole reads that succeeded, so it is a lower
             * bound of where the stream broke */
            st = lc_fail(err, LC_ERR_FORMAT,
                         "%s: corrupt gzip stream (%s) after at least %zu decompressed bytes",
                         path, msg ? msg : "unknown zlib error", n);
        }
    }
    gzclose(f);
    if (st) {
        free(b);
        return st;
    }
    *buf = b;
    *len = n;
    return LC_OK;
}

bool lc_is_npy(const unsigned char *buf, size_t len)
{
    return len >= 6 && memcmp(buf, "\x93NUMPY", 6) == 0;
}

/* Two zero bytes never start a text file, so they claim the file for IDX
 * even when the type byte is wrong: the IDX parser then names the problem. */
bool lc_is_idx(const unsigned char *buf, size_t len)
{
    return len >= 2 && buf[0] == 0 && buf[1] == 0;
}

lc_status lc_data_load(const char *path, const lc_load_opts *opts, lc_data **out,
                       lc_error *err)
{
    static const lc_load_opts none = {0};
    *out = NULL;
    if (!opts) opts = &none;
    if (opts->fit && opts->pre)
        return lc_fail(err, LC_ERR_INVALID,
                       "%s: cannot both fit new preprocessing and apply a stored one", path);
    unsigned char *buf;
    size_t len;
    lc_status st = lc_read_maybe_gz(path, &buf, &len, err);
    if (st) return st;
    if (lc_is_npy(buf, len))
        st = lc_npy_load(path, buf, len, opts, out, err);
    else if (lc_is_idx(buf, len))
        st = lc_idx_load(path, buf, len, opts, out, err);
    else if (opts->labels_path)
        st = lc_fail(err, LC_ERR_INVALID,
                     "%s: a separate labels file applies to NPY and IDX data, not CSV", path);
    else
        st = lc_csv_load(path, (const char *)buf, len, opts, out, err);
    free(buf);
    return st;
}
