/* test_forward.c - the forward pass's fast paths against their definitions:
 * the vectorised activations bit for bit against the scalar formulas, and
 * batch sizes at the edges of the row blocks against the reference. */
#include "test.h"
#include "core/internal.h"
#include "core/work.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The definitions, one element at a time (what lc_act_apply documents). */
static float def_act(lc_act a, float slope, float v)
{
    switch (a.kind) {
    case LC_ACT_RELU: return v > 0 ? v : 0.0f;
    case LC_ACT_LEAKY_RELU: return v > 0 ? v : a.alpha * v;
    case LC_ACT_PRELU: return v > 0 ? v : slope * v;
    case LC_ACT_CLIP: return v < a.lo ? a.lo : v > a.hi ? a.hi : v;
    default: return v;
    }
}

/* Same bits (so NaN == NaN and -0 != +0). */
static int same_bits(float a, float b)
{
    uint32_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y;
}

TEST(activations_vector_path_bitwise)
{
    lc_act acts[] = {{LC_ACT_RELU, 0, 0, 0}, {LC_ACT_LEAKY_RELU, 0.1f, 0, 0},
                     {LC_ACT_LEAKY_RELU, -3, 0, 0}, {LC_ACT_PRELU, 0, 0, 0},
                     {LC_ACT_CLIP, 0, 0, 6}, {LC_ACT_CLIP, 0, -0.5f, 0.5f}};
    const float special[] = {NAN, -NAN, 0.0f, -0.0f, INFINITY, -INFINITY, 1e-40f, -1e-40f, 6, -0.5f};
    const int ns = sizeof special / sizeof *special;
    test_rng r = {777};
    /* widths around the vector width, rows > 1 so PReLU's per-row slopes repeat */
    for (int width = 1; width <= 13; width++)
        for (size_t a = 0; a < sizeof acts / sizeof *acts; a++) {
            size_t rows = 3, len = rows * (size_t)width;
            float z[3 * 13], want[3 * 13], slope[13];
            for (int i = 0; i < width; i++) slope[i] = (float)(2 * test_uniform(&r) - 0.5);
            for (size_t i = 0; i < len; i++)
                z[i] = test_uniform(&r) < 0.3 ? special[test_randint(&r, 0, ns - 1)]
                                              : (float)(4 * test_normal(&r));
            for (size_t i = 0; i < len; i++) want[i] = def_act(acts[a], slope[i % width], z[i]);
            lc_act_apply(acts[a], acts[a].kind == LC_ACT_PRELU ? slope : NULL, z, rows, width);
            for (size_t i = 0; i < len; i++)
                CHECK_MSG(same_bits(z[i], want[i]), "%s width %d element %zu: got %g, want %g",
                          lc_act_name(acts[a].kind), width, i, z[i], want[i]);
        }
}

/* 1 row, exactly one block, one row more, and a ragged last block: every
 * row agrees with the reference (a row block that started at the wrong row
 * or a last block that ran short would not). */
TEST(forward_batch_edges)
{
    int s1[] = {0}, s2[] = {0, 1}, s3[] = {2, 1};
    lc_node_spec spec[] = {{"x", 7, {0}, 0, NULL},
                           {"h1", 9, {LC_ACT_RELU, 0, 0, 0}, 1, s1},
                           {"h2", 5, {LC_ACT_LEAKY_RELU, 0.2f, 0, 0}, 2, s2},
                           {"y", 3, {LC_ACT_IDENTITY, 0, 0, 0}, 2, s3}};
    lc_error err = {0};
    lc_graph *g;
    CHECK_OK(lc_graph_create(4, spec, &g, &err), &err);
    test_rng r = {4242};
    for (int k = 1; k < 4; k++) {
        for (int e = 0; e < lc_graph_n_in(g, k); e++) {
            float *w = lc_graph_weight(g, k, e);
            for (int i = 0; i < lc_graph_width(g, k) * lc_graph_width(g, lc_graph_src(g, k, e)); i++)
                w[i] = (float)test_normal(&r);
        }
        for (int i = 0; i < lc_graph_width(g, k); i++) lc_graph_bias(g, k)[i] = (float)test_normal(&r);
    }
    size_t sizes[] = {1, 2, LC_BATCH - 1, LC_BATCH, LC_BATCH + 1, 2 * LC_BATCH + 37};
    size_t nmax = 2 * LC_BATCH + 37;
    float *x = malloc(nmax * 7 * sizeof(float)), *y = malloc(nmax * 3 * sizeof(float)),
          *yr = malloc(nmax * 3 * sizeof(float));
    CHECK(x && y && yr);
    for (size_t i = 0; i < nmax * 7; i++) x[i] = (float)test_normal(&r);
    CHECK_OK(lc_forward_ref(g, x, nmax, yr, &err), &err);
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s], off = nmax - n; /* the last n rows: a batch not at row 0 */
        memset(y, 0xff, n * 3 * sizeof(float)); /* NaN: a row never written fails */
        CHECK_OK(lc_forward(g, x + off * 7, n, y, &err), &err);
        CHECK_CLOSE(y, yr + off * 3, n * 3, 1e-5, 1e-4);
    }
    free(x);
    free(y);
    free(yr);
    lc_graph_free(g);
}

/* lc_sgemm against its reference for every transposition, one-row and
 * one-column products (which it runs as SGEMV) among them, leading
 * dimensions wider than the matrices, and beta = 0 over a C full of NaN
 * (which must not leak through). */
TEST(sgemm_matches_reference_incl_vector_shapes)
{
    test_rng r = {99};
    const int dims[][3] = {{1, 7, 5}, {6, 1, 5}, {1, 1, 9}, {4, 3, 1}, {1, 300, 200}, {200, 1, 300},
                           {5, 6, 7}};
    for (size_t d = 0; d < sizeof dims / sizeof *dims; d++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int bz = 0; bz < 2; bz++) {
                    int m = dims[d][0], n = dims[d][1], k = dims[d][2];
                    int lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 3, ldc = n + 1;
                    size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb,
                           nc = (size_t)m * ldc;
                    float *a = malloc(na * sizeof(float)), *b = malloc(nb * sizeof(float)),
                          *c = malloc(nc * sizeof(float)), *cr = malloc(nc * sizeof(float));
                    CHECK(a && b && c && cr);
                    for (size_t i = 0; i < na; i++) a[i] = (float)test_normal(&r);
                    for (size_t i = 0; i < nb; i++) b[i] = (float)test_normal(&r);
                    for (size_t i = 0; i < nc; i++) c[i] = bz ? NAN : (float)test_normal(&r);
                    memcpy(cr, c, nc * sizeof(float));
                    float beta = bz ? 0.0f : 0.5f;
                    lc_sgemm(ta, tb, m, n, k, 1.5f, a, lda, b, ldb, beta, c, ldc);
                    lc_sgemm_ref(ta, tb, m, n, k, 1.5f, a, lda, b, ldb, beta, cr, ldc);
                    for (int i = 0; i < m; i++) /* only C's m x n part; padding stays as it was */
                        CHECK_CLOSE(c + (size_t)i * ldc, cr + (size_t)i * ldc, (size_t)n, 1e-4, 1e-4);
                    for (size_t i = 0; i + 1 < nc; i += (size_t)ldc) /* the padding column */
                        if (n + i < nc) CHECK(same_bits(c[i + n], cr[i + n]));
                    free(a);
                    free(b);
                    free(c);
                    free(cr);
                }
}
