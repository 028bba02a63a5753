/* test.h - a minimal unit-test harness. TEST(name) registers itself; the
 * runner (main.c) prints "PASS: name" or "FAIL: name: file:line: what". */
#ifndef LC_TEST_H
#define LC_TEST_H

#include "lincomp.h"

#include <math.h>
#include <stdio.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int test_failed(void);

#define TEST(name)                                                             \
    static void name(void);                                                    \
    __attribute__((constructor)) static void reg_##name(void)                  \
    {                                                                          \
        test_register(#name, name);                                            \
    }                                                                          \
    static void name(void)

/* Stops the current test on failure. */
#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            test_fail(__FILE__, __LINE__, "%s", #cond);                        \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_MSG(cond, ...)                                                   \
    do {                                                                       \
        if (!(cond)) {                                                         \
            test_fail(__FILE__, __LINE__, __VA_ARGS__);                        \
            return;                                                            \
        }                                                                      \
    } while (0)

/* lc_status must be LC_OK; prints the library message otherwise. */
#define CHECK_OK(call, errp)                                                   \
    do {                                                                       \
        lc_status st_ = (call);                                                \
        if (st_ != LC_OK) {                                                    \
            test_fail(__FILE__, __LINE__, "%s -> %s: %s", #call,               \
                      lc_status_str(st_), (errp)->msg);                        \
            return;                                                            \
        }                                                                      \
    } while (0)

/* |a - b| <= atol + rtol * |b| element-wise; reports the worst element. */
int test_close(const float *a, const float *b, size_t n, double atol, double rtol,
               const char *file, int line);
#define CHECK_CLOSE(a, b, n, atol, rtol)                                       \
    do {                                                                       \
        if (!test_close((a), (b), (n), (atol), (rtol), __FILE__, __LINE__))    \
            return;                                                            \
    } while (0)

/* Deterministic random numbers for tests (xorshift). */
typedef struct { unsigned long long s; } test_rng;
double test_uniform(test_rng *r);           /* [0, 1) */
double test_normal(test_rng *r);
int test_randint(test_rng *r, int lo, int hi); /* [lo, hi] */
/* n rows of standard normal features and uniform labels in [0, classes);
 * NULL when out of memory (lc_data_free). */
struct lc_data;
struct lc_data *test_random_data(test_rng *r, size_t n, int cols, int classes);

/* 1 when a and b are the same graph (names, activations, edges), weights
 * bit for bit (test_onnx.c). */
struct lc_graph;
int test_same_graph(struct lc_graph *a, struct lc_graph *b);

#endif
