/* idx.c - IDX files (the MNIST format): magic 00 00 <type> <ndims>, then
 * ndims big-endian uint32 sizes, then the payload in big-endian order.
 * Images (ubyte) are scaled to [0, 1]; the labels are in the file beside
 * them, named with "labels-idx1" in place of "images-idx3". */
#include "data/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDX_MAX_DIMS 8

lc_status lc_idx_parse(const char *path, const unsigned char *buf, size_t len,
                       struct lc_array *a, lc_error *err)
{
    memset(a, 0, sizeof *a);
    a->big_endian = true;
    if (len < 4)
        return lc_fail(err, LC_ERR_FORMAT, "%s: file ends at byte %zu inside the IDX magic", path, len);
    switch (buf[2]) {
    case 0x08: a->kind = 'u'; a->size = 1; break;
    case 0x09: a->kind = 'i'; a->size = 1; break;
    case 0x0B: a->kind = 'i'; a->size = 2; break;
    case 0x0C: a->kind = 'i'; a->size = 4; break;
    case 0x0D: a->kind = 'f'; a->size = 4; break;
    case 0x0E: a->kind = 'f'; a->size = 8; break;
    default:
        return lc_fail(err, LC_ERR_FORMAT, "%s: IDX type byte 0x%02X, expected 08, 09, 0B, 0C, 0D or 0E",
                       path, buf[2]);
    }
    a->ndim = buf[3];
    if (a->ndim < 1 || a->ndim > IDX_MAX_DIMS)
        return lc_fail(err, LC_ERR_FORMAT, "%s: IDX with %d dimensions, expected 1 to %d", path,
                       a->ndim, IDX_MAX_DIMS);
    size_t hdr = 4 + 4 * (size_t)a->ndim;
    if (len < hdr)
        return lc_fail(err, LC_ERR_FORMAT, "%s: file ends at byte %zu inside the IDX header of %zu bytes",
                       path, len, hdr);
    size_t count = 1;
    a->cols = 1;
    for (int k = 0; k < a->ndim; k++) {
        const unsigned char *p = buf + 4 + 4 * k;
        size_t dim = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        if (dim == 0)
            return lc_fail(err, LC_ERR_FORMAT, "%s: IDX dimension %d is 0", path, k);
        if (!lc_mul_ok(count, dim, &count) || count > LC_MAX_FLOATS)
            return lc_fail(err, LC_ERR_NOMEM, "%s: IDX dimensions give more than %zu values", path,
                           LC_MAX_FLOATS);
        if (k == 0) a->rows = dim;
        else a->cols *= dim; /* <= count, no overflow */
    }
    size_t want = count * (size_t)a->size; /* count <= 2^31, size <= 8 */
    if (len - hdr < want)
        return lc_fail(err, LC_ERR_FORMAT,
                       "%s: IDX payload ends at byte %zu, the header announces %zu bytes from byte %zu to %zu",
                       path, len, want, hdr, hdr + want);
    if (len - hdr > want)
        return lc_fail(err, LC_ERR_FORMAT, "%s: %zu unexpected bytes after the IDX payload at byte %zu",
                       path, len - hdr - want, hdr + want);
    a->data = buf + hdr;
    return LC_OK;
}

/* Replaces the first `from` in name by `to` into out (size cap); false if absent. */
static bool replace(const char *name, const char *from, const char *to, char *out, size_t cap)
{
    const char *base = strrchr(name, '/');
    const char *at = strstr(base ? base : name, from);
    if (!at) return false;
    int n = snprintf(out, cap, "%.*s%s%s", (int)(at - name), name, to, at + strlen(from));
    return n > 0 && (size_t)n < cap;
}

/* Candidate names of the labels file beside an images file: the same
 * .gz-ness first, then the other. Returns how many were written. */
static int labels_names(const char *path, char out[2][4096])
{
    static const char *const pairs[][2] = {{"images-idx3", "labels-idx1"},
                                           {"images.idx3", "labels.idx1"}};
    char base[4096];
    bool ok = false;
    for (size_t i = 0; i < 2 && !ok; i++)
        ok = replace(path, pairs[i][0], pairs[i][1], base, sizeof base);
    if (!ok) return 0;
    size_t n = strlen(base);
    snprintf(out[0], 4096, "%s", base);
    if (n > 3 && !strcmp(base + n - 3, ".gz")) snprintf(out[1], 4096, "%.*s", (int)(n - 3), base);
    else if (snprintf(out[1], 4096, "%s.gz", base) >= 4096) return 1;
    return 2;
}

lc_status lc_idx_load(const char *path, const unsigned char *buf, size_t len,
                      const lc_load_opts *opts, lc_data **out, lc_error *err)
{
    *out = NULL;
    struct lc_array a;
    lc_status st = lc_idx_parse(path, buf, len, &a, err);
    if (st) return st;
    if (a.ndim == 1)
        return lc_fail(err, LC_ERR_FORMAT,
                       "%s: a 1-dimensional IDX file holds labels, not features; give the images file",
                       path);
    /* ubyte pixels to [0, 1]; other types are taken as they are */
    lc_data *d;
    st = lc_array_to_data(path, &a, a.kind == 'u' && a.size == 1 ? 1.0 / 255.0 : 1.0, &d, err);
    if (st) return st;
    if (opts->labels_path) {
        st = lc_labels_load(opts->labels_path, d, opts->classes, err);
    } else {
        /* a missing labels file leaves the data unlabelled: commands that
         * need labels say so, calibration does not need them */
        char names[2][4096];
        int n = labels_names(path, names);
        for (int i = 0; i < n; i++) {
            FILE *f = fopen(names[i], "rb");
            if (!f && errno == ENOENT) continue;
            if (f) fclose(f);
            st = lc_labels_load(names[i], d, opts->classes, err);
            break;
        }
    }
    if (st) {
        lc_data_free(d);
        return st;
    }
    *out = d;
    return LC_OK;
}
