/* npy.c - NumPy .npy files: "\x93NUMPY", version bytes, a little-endian
 * header length, then a Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (10000, 784), }
 * and the raw C-order payload.
 *
 * The header is parsed by hand: Debian has no C library for NPY (libcnpy
 * is C++ and trusts the header), and the format is a small fixed subset of
 * Python literals. The parser reads only within the header's bounds and
 * accepts only that subset. */
#include "data/data.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_DIMS 32

struct scan {
    const char *p, *end;
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (isspace((unsigned char)*s->p) || *s->p == 0)) s->p++;
}

static bool eat(struct scan *s, char c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

/* A quoted string ('...' or "..."), without escapes: numpy writes none. */
static bool quoted(struct scan *s, const char **str, size_t *n)
{
    skip_ws(s);
    if (s->p >= s->end || (*s->p != '\'' && *s->p != '"')) return false;
    char q = *s->p++;
    const char *start = s->p;
    while (s->p < s->end && *s->p != q) s->p++;
    if (s->p >= s->end) return false;
    *str = start;
    *n = (size_t)(s->p - start);
    s->p++;
    return true;
}

static bool word(struct scan *s, const char *w)
{
    skip_ws(s);
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0) return false;
    s->p += n;
    return true;
}

/* A non-negative integer (Python 2 files may add an L); the caller caps
 * the product of the dimensions. */
static bool integer(struct scan *s, size_t *v)
{
    skip_ws(s);
    if (s->p >= s->end || !isdigit((unsigned char)*s->p)) return false;
    size_t x = 0;
    while (s->p < s->end && isdigit((unsigned char)*s->p)) {
        if (x > ((size_t)-1 - 9) / 10) return false;
        x = x * 10 + (size_t)(*s->p++ - '0');
    }
    if (s->p < s->end && *s->p == 'L') s->p++;
    *v = x;
    return true;
}

static lc_status parse_descr(const char *path, const char *d, size_t n, struct lc_array *a,
                             lc_error *err)
{
    if (n == 3 && (d[0] == '<' || d[0] == '|' || (d[0] == '>' && d[2] == '1'))) {
        int size = d[2] - '0';
        bool ok = (d[1] == 'f' && (size == 4 || size == 8)) ||
                  ((d[1] == 'i' || d[1] == 'u') &&
                   (size == 1 || size == 2 || size == 4 || size == 8)) ||
                  (d[1] == 'b' && size == 1);
        if (ok) {
            a->kind = d[1] == 'b' ? 'u' : d[1];
            a->size = size;
            return LC_OK;
        }
    }
    return lc_fail(err, LC_ERR_UNSUPPORTED,
                   "%s: NPY dtype '%.*s', expected little-endian <f4, <f8, <i1..<i8 or <u1..<u8",
                   path, (int)(n > 16 ? 16 : n), d);
}

static lc_status parse_shape(const char *path, struct scan *s, struct lc_array *a, lc_error *err)
{
    size_t dims[NPY_MAX_DIMS];
    int nd = 0;
    if (!eat(s, '('))
        return lc_fail(err, LC_ERR_FORMAT, "%s: NPY header: expected a tuple after 'shape'", path);
    while (!eat(s, ')')) {
        if (nd == NPY_MAX_DIMS)
            return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: NPY array of more than %d dimensions",
                           path, NPY_MAX_DIMS);
        if (!integer(s, &dims[nd]))
            return lc_fail(err, LC_ERR_FORMAT,
                           "%s: NPY header: shape entry %d is not a non-negative integer", path, nd);
        nd++;
        if (!eat(s, ',')) {
            if (eat(s, ')')) break;
            return lc_fail(err, LC_ERR_FORMAT, "%s: NPY header: expected ',' or ')' in the shape",
                           path);
        }
    }
    if (nd == 0)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: NPY holds a scalar, expected an array", path);
    size_t count = 1;
    for (int k = 0; k < nd; k++)
        if (!lc_mul_ok(count, dims[k], &count) || count > LC_MAX_FLOATS)
            return lc_fail(err, LC_ERR_NOMEM, "%s: NPY shape gives more than %zu values", path,
                           LC_MAX_FLOATS);
    a->ndim = nd;
    a->rows = dims[0];
    a->cols = 1;
    for (int k = 1; k < nd; k++) a->cols *= dims[k];
    if (count == 0) return lc_fail(err, LC_ERR_FORMAT, "%s: NPY array is empty", path);
    return LC_OK;
}

lc_status lc_npy_parse(const char *path, const unsigned char *buf, size_t len,
                       struct lc_array *a, lc_error *err)
{
    memset(a, 0, sizeof *a);
    if (len < 10) return lc_fail(err, LC_ERR_FORMAT, "%s: NPY header truncated at byte %zu", path, len);
    int major = buf[6], minor = buf[7];
    size_t start, hlen;
    if (major == 1) {
        hlen = buf[8] | (size_t)buf[9] << 8;
        start = 10;
    } else if ((major == 2 || major == 3) && len >= 12) {
        hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        start = 12;
    } else if (major == 2 || major == 3) {
        return lc_fail(err, LC_ERR_FORMAT, "%s: NPY header truncated at byte %zu", path, len);
    } else {
        return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: NPY version %d.%d, expected 1.0, 2.0 or 3.0",
                       path, major, minor);
    }
    if (len - start < hlen)
        return lc_fail(err, LC_ERR_FORMAT, "%s: NPY header of %zu bytes, but the file ends at byte %zu",
                       path, hlen, len);
    struct scan s = {(const char *)buf + start, (const char *)buf + start + hlen};
    bool have_descr = false, have_order = false, have_shape = false;
    lc_status st = LC_OK;
    if (!eat(&s, '{')) return lc_fail(err, LC_ERR_FORMAT, "%s: NPY header: expected '{'", path);
    while (!st && !eat(&s, '}')) { /* numpy writes a trailing ',' before '}' */
        const char *key, *val;
        size_t kn, vn;
        if (!quoted(&s, &key, &kn) || !eat(&s, ':'))
            return lc_fail(err, LC_ERR_FORMAT, "%s: NPY header: expected 'key': value", path);
        if (kn == 5 && !memcmp(key, "descr", 5)) {
            skip_ws(&s);
            if (s.p < s.end && *s.p == '[')
                return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: NPY structured dtype, expected a plain number type", path);
            if (!quoted(&s, &val, &vn))
                return lc_fail(err, LC_ERR_FORMAT, "%s: NPY header: expected a string for 'descr'", path);
            st = parse_descr(path, val, vn, a, err);
            have_descr = true;
        } else if (kn == 13 && !memcmp(key, "fortran_order", 13)) {
            if (word(&s, "True"))
                return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: NPY in Fortran order, expected C order (numpy.ascontiguousarray)", path);
            if (!word(&s, "False"))
                return lc_fail(err, LC_ERR_FORMAT, "%s: NPY header: expected True or False for 'fortran_order'", path);
            have_order = true;
        } else if (kn == 5 && !memcmp(key, "shape", 5)) {
            st = parse_shape(path, &s, a, err);
            have_shape = true;
        } else {
            return lc_fail(err, LC_ERR_FORMAT, "%s: NPY header: unknown key '%.*s'", path,
                           (int)(kn > 32 ? 32 : kn), key);
        }
        if (st || eat(&s, ',')) continue;
        if (eat(&s, '}')) break;
        return lc_fail(err, LC_ERR_FORMAT, "%s: NPY header: expected ',' or '}'", path);
    }
    if (st) return st;
    if (!have_descr || !have_order || !have_shape)
        return lc_fail(err, LC_ERR_FORMAT, "%s: NPY header lacks '%s'", path,
                       !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    size_t want = a->rows * a->cols * (size_t)a->size; /* <= 2^31 * 8 */
    size_t have = len - start - hlen;
    if (have < want)
        return lc_fail(err, LC_ERR_FORMAT, "%s: NPY truncated: %zu bytes of data expected after the header, %zu found",
                       path, want, have);
    if (have > want)
        return lc_fail(err, LC_ERR_FORMAT, "%s: %zu unexpected bytes after the NPY data", path,
                       have - want);
    a->data = buf + start + hlen;
    return LC_OK;
}

lc_status lc_npy_load(const char *path, const unsigned char *buf, size_t len,
                      const lc_load_opts *opts, lc_data **out, lc_error *err)
{
    *out = NULL;
    struct lc_array a;
    lc_status st = lc_npy_parse(path, buf, len, &a, err);
    lc_data *d = NULL;
    if (!st) st = lc_array_to_data(path, &a, 1.0, &d, err);
    if (!st && opts->labels_path) st = lc_labels_load(opts->labels_path, d, opts->classes, err);
    if (st) {
        lc_data_free(d);
        return st;
    }
    *out = d;
    return LC_OK;
}
