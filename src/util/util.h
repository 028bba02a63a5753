/* util.h - errors, size caps and whole-file I/O: what every room of the
 * library uses, and the only thing data/ needs from below it. Not
 * installed; the public API is include/lincomp.h. */
#ifndef LC_UTIL_H
#define LC_UTIL_H

#include "lincomp.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Caps on sizes read from files: refuse before allocating. */
#define LC_MAX_WIDTH   (1 << 24)          /* neurons in one node / features */
#define LC_MAX_FLOATS  ((size_t)1 << 31)  /* floats in one model or data set */
#define LC_MAX_NODES   4096

/* Formats an error into err (if not NULL) and returns code. */
lc_status lc_fail(lc_error *err, lc_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Overflow-checked size product; false on overflow. */
static inline bool lc_mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a) return false;
    *out = a * b;
    return true;
}

/* Writes `len` bytes to a temporary file beside path and renames it, so a
 * failure never leaves a partial file nor clobbers a good one. */
lc_status lc_write_atomic(const char *path, const void *buf, size_t len, lc_error *err);
/* Reads a whole file (any size up to cap). *buf is malloc'd (NUL-terminated). */
lc_status lc_read_file(const char *path, size_t cap, char **buf, size_t *len, lc_error *err);

#endif
