/* util.c - errors, threads and whole-file I/O. */
#include "util/util.h"

#include <cblas.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

lc_status lc_fail(lc_error *err, lc_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        /* Names and cells quoted from a file may hold newlines or other
         * control bytes (a quoted CSV header "a\nb", an ONNX node name);
         * the message must stay one printable line (found by fuzzing). */
        for (char *p = err->msg; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    }
    return code;
}

const char *lc_status_str(lc_status s)
{
    switch (s) {
    case LC_OK: return "ok";
    case LC_ERR_IO: return "i/o error";
    case LC_ERR_FORMAT: return "format error";
    case LC_ERR_UNSUPPORTED: return "unsupported";
    case LC_ERR_INVALID: return "invalid argument";
    case LC_ERR_SHAPE: return "shape mismatch";
    case LC_ERR_NOMEM: return "out of memory";
    case LC_ERR_NUMERIC: return "non-finite number";
    }
    return "unknown error";
}

const char *lc_version(void)
{
    return LC_VERSION;
}

void lc_set_threads(int n)
{
    if (n >= 1) openblas_set_num_threads(n);
}

lc_status lc_read_file(const char *path, size_t cap, char **buf, size_t *len, lc_error *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return lc_fail(err, LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t n = 0, size = 1 << 16;
    char *b = malloc(size + 1);
    while (b) {
        n += fread(b + n, 1, size - n, f);
        if (n < size) break;
        if (size >= cap) {
            free(b);
            fclose(f);
            return lc_fail(err, LC_ERR_NOMEM, "%s: larger than %zu bytes", path, cap);
        }
        size = size * 2 > cap ? cap : size * 2;
        char *nb = realloc(b, size + 1);
        if (!nb) free(b);
        b = nb;
    }
    if (!b) {
        fclose(f);
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory reading the file", path);
    }
    if (ferror(f)) {
        free(b);
        fclose(f);
        return lc_fail(err, LC_ERR_IO, "%s: read error: %s", path, strerror(errno));
    }
    fclose(f);
    b[n] = 0;
    *buf = b;
    *len = n;
    return LC_OK;
}

lc_status lc_write_atomic(const char *path, const void *buf, size_t len, lc_error *err)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    snprintf(tmp, pl + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        lc_status st = lc_fail(err, LC_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        free(tmp);
        return st;
    }
    fchmod(fd, 0644); /* mkstemp makes 0600; outputs are ordinary files */
    FILE *f = fdopen(fd, "wb");
    bool ok = f && fwrite(buf, 1, len, f) == len;
    ok = f && fflush(f) == 0 && ok;
    if (f) ok = fclose(f) == 0 && ok;
    else close(fd);
    if (ok) ok = rename(tmp, path) == 0;
    if (!ok) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return lc_fail(err, LC_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    free(tmp);
    return LC_OK;
}

lc_status lc_write_file(const char *path, const void *buf, size_t len, lc_error *err)
{
    return lc_write_atomic(path, buf, len, err);
}

void lc_free(void *p)
{
    free(p);
}
