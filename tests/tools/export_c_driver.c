/* export_c_driver.c - runs a model written by `lincomp export-c` on samples
 * from stdin and prints its outputs as CSV on stdout, like `lincomp predict`
 * (header y0,y1,..., values with %.9g), for tests/cli/export_c.sh.
 *
 * Build it with the generated source, naming the model:
 *   gcc -std=c99 -Wall -Wextra -Werror -pedantic -I DIR \
 *       -DNAME=model -DUPPER=MODEL -DHEADER='"model.h"' \
 *       export_c_driver.c DIR/model.c -lm
 *
 * Input: one sample per line, NAME_INPUT_SIZE numbers separated by commas
 * and/or blanks ("nan" allowed: a missing feature). A line whose first
 * field is not a number (a CSV header) is skipped, as are blank lines.
 *
 * All samples go through NAME_forward_batch; each is also run through
 * NAME_forward and must give the same bits (exit 3 otherwise). Exit 2 on
 * bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NAME
#define NAME model
#define UPPER MODEL
#define HEADER "model.h"
#endif
#include HEADER

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FORWARD CAT(NAME, _forward)
#define FORWARD_BATCH CAT(NAME, _forward_batch)
#define IN_SIZE CAT(UPPER, _INPUT_SIZE)
#define OUT_SIZE CAT(UPPER, _OUTPUT_SIZE)

static void die(const char *msg, size_t line)
{
    fprintf(stderr, "export_c_driver: line %lu: %s\n", (unsigned long)line, msg);
    exit(2);
}

/* Reads one line of any length into *buf; 0 at end of input. */
static int read_line(char **buf, size_t *cap)
{
    size_t len = 0;
    int c;
    while ((c = getchar()) != EOF && c != '\n') {
        if (len + 2 > *cap) {
            *cap = *cap ? *cap * 2 : 1024;
            if (!(*buf = realloc(*buf, *cap))) die("out of memory", 0);
        }
        (*buf)[len++] = (char)c;
    }
    if (c == EOF && len == 0) return 0;
    if (!*buf && !(*buf = malloc(*cap = 16))) die("out of memory", 0);
    (*buf)[len] = 0;
    return 1;
}

int main(void)
{
    float *x = NULL, *y, *y1;
    size_t n = 0, cap_rows = 0, line_no = 0, cap = 0;
    char *line = NULL;
    while (read_line(&line, &cap)) {
        line_no++;
        char *p = line, *end;
        while (*p == ' ' || *p == '\t' || *p == '\r') p++;
        if (!*p) continue;
        strtof(p, &end);
        if (end == p) continue; /* a header */
        if (n == cap_rows) {
            cap_rows = cap_rows ? 2 * cap_rows : 64;
            x = realloc(x, cap_rows * IN_SIZE * sizeof *x);
            if (!x) die("out of memory", line_no);
        }
        for (int j = 0; j < IN_SIZE; j++) {
            while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r') p++;
            float v = strtof(p, &end);
            if (end == p) die("fewer numbers than the model's input size", line_no);
            x[n * IN_SIZE + j] = v;
            p = end;
        }
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r') p++;
        if (*p) die("more numbers than the model's input size", line_no);
        n++;
    }
    y = malloc((n ? n : 1) * OUT_SIZE * sizeof *y);
    y1 = malloc(OUT_SIZE * sizeof *y1);
    if (!y || !y1) die("out of memory", 0);
    FORWARD_BATCH(x, y, n);
    for (size_t i = 0; i < n; i++) {
        FORWARD(x + i * IN_SIZE, y1);
        if (memcmp(y1, y + i * OUT_SIZE, OUT_SIZE * sizeof *y1)) {
            fprintf(stderr, "export_c_driver: sample %lu: forward and forward_batch differ\n",
                    (unsigned long)i);
            return 3;
        }
    }
    for (int j = 0; j < OUT_SIZE; j++) printf("%sy%d", j ? "," : "", j);
    putchar('\n');
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < OUT_SIZE; j++)
            printf("%.9g%c", (double)y[i * OUT_SIZE + j], j + 1 < OUT_SIZE ? ',' : '\n');
    free(x);
    free(y);
    free(y1);
    free(line);
    return fflush(stdout) == 0 ? 0 : 2;
}
