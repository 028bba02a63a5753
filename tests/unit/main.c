/* main.c - runs every registered unit test (or those whose name contains
 * argv[1]) and prints one PASS/FAIL line each. */
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TESTS 1024
struct test_entry { const char *name; test_fn fn; };
static struct test_entry tests[MAX_TESTS];
static int n_tests, current_failed;

void test_register(const char *name, test_fn fn)
{
    if (n_tests < MAX_TESTS) tests[n_tests++] = (struct test_entry){name, fn};
}

int test_failed(void) { return current_failed; }

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("    %s:%d: ", file, line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    current_failed = 1;
}

int test_close(const float *a, const float *b, size_t n, double atol, double rtol,
               const char *file, int line)
{
    size_t worst = 0;
    double worst_ex = -1;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]), lim = atol + rtol * fabs((double)b[i]);
        if (!(d <= lim) && (d - lim > worst_ex || worst_ex < 0 || isnan(d))) {
            worst = i;
            worst_ex = isnan(d) ? INFINITY : d - lim;
        }
    }
    if (worst_ex < 0) return 1;
    test_fail(file, line, "element %zu of %zu: %.9g vs %.9g (atol %g, rtol %g)", worst, n,
              (double)a[worst], (double)b[worst], atol, rtol);
    return 0;
}

double test_uniform(test_rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (double)(r->s >> 11) / 9007199254740992.0;
}

double test_normal(test_rng *r)
{
    double u = test_uniform(r), v = test_uniform(r);
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

int test_randint(test_rng *r, int lo, int hi)
{
    return lo + (int)(test_uniform(r) * (hi - lo + 1));
}

lc_data *test_random_data(test_rng *r, size_t n, int cols, int classes)
{
    float *x = malloc(n * (size_t)cols * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    lc_data *d = NULL;
    if (x && y) {
        for (size_t i = 0; i < n * (size_t)cols; i++) x[i] = (float)test_normal(r);
        for (size_t i = 0; i < n; i++) y[i] = test_randint(r, 0, classes - 1);
        lc_error err = {0};
        if (lc_data_from_arrays(n, cols, x, y, classes, &d, &err)) d = NULL;
    }
    free(x);
    free(y);
    return d;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (int i = 0; i < n_tests; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
        current_failed = 0;
        tests[i].fn();
        printf("%s: unit/%s\n", current_failed ? "FAIL" : "PASS", tests[i].name);
        fflush(stdout);
        current_failed ? failed++ : passed++;
    }
    fprintf(stderr, "unit: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
