/* replay.c - runs saved fuzz inputs through the harnesses' entry points
 * without libFuzzer: `replay TARGET FILE...`. `make test` runs it over
 * fuzz/regressions/ and fuzz/corpus/ (tests/cli/regressions.sh), in the
 * normal build and in the sanitizer build, where a crash, a leak or
 * undefined behaviour ends the process with a non-zero status. Exit 0 when
 * every file ran through; 2 for usage or an unreadable file. With -v it
 * prints whether each file was accepted or refused. */
#include "targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file, malloc'd (never NULL on success, even when empty). */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        unsigned char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    /* -v: print whether each file was accepted (to check that seeds are valid) */
    int verbose = argc > 1 && !strcmp(argv[1], "-v");
    int a = 1 + verbose;
    lc_fuzz_fn fn = argc >= a + 2 ? lc_fuzz_find(argv[a]) : NULL;
    if (!fn) {
        fprintf(stderr, "usage: replay [-v] onnx|csv|idx|npy|preproc_json FILE...\n");
        return 2;
    }
    for (int i = a + 1; i < argc; i++) {
        size_t len;
        unsigned char *buf = slurp(argv[i], &len);
        if (!buf) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 2;
        }
        int st = fn(buf, len);
        if (verbose) printf("%s: %s\n", argv[i], st ? "refused" : "accepted");
        free(buf);
    }
    return 0;
}
