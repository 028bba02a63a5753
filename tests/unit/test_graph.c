/* test_graph.c - graph operations and the forward pass against its reference. */
#include "test.h"
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

/* 2-2-1 XOR network with hand-set weights: h = relu(x W1^T + b1),
 * y = h W2^T + b2 gives exactly 0, 1, 1, 0. */
static lc_status make_xor(lc_graph **g, lc_error *err)
{
    int s1[] = {0}, s2[] = {1};
    lc_node_spec spec[] = {{"x", 2, {0}, 0, NULL},
                           {"h", 2, {LC_ACT_RELU, 0, 0, 0}, 1, s1},
                           {"y", 1, {LC_ACT_IDENTITY, 0, 0, 0}, 1, s2}};
    lc_status st = lc_graph_create(3, spec, g, err);
    if (st) return st;
    float w1[] = {1, 1, 1, 1}, b1[] = {0, -1}, w2[] = {1, -2}, b2[] = {0};
    memcpy(lc_graph_weight(*g, 1, 0), w1, sizeof w1);
    memcpy(lc_graph_bias(*g, 1), b1, sizeof b1);
    memcpy(lc_graph_weight(*g, 2, 0), w2, sizeof w2);
    memcpy(lc_graph_bias(*g, 2), b2, sizeof b2);
    return LC_OK;
}

TEST(graph_xor_exact)
{
    lc_error err = {0};
    lc_graph *g;
    CHECK_OK(make_xor(&g, &err), &err);
    float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[4], yr[4], want[] = {0, 1, 1, 0};
    CHECK_OK(lc_forward(g, x, 4, y, &err), &err);
    CHECK_OK(lc_forward_ref(g, x, 4, yr, &err), &err);
    CHECK_CLOSE(y, want, 4, 0, 0);
    CHECK_CLOSE(yr, want, 4, 0, 0);
    /* params: 4 + 2 + 2 + 1; flops: 2 x (4 + 2) */
    CHECK(lc_graph_params(g) == 9);
    CHECK(lc_graph_flops(g) == 12);
    CHECK(lc_graph_n_out(g, 0) == 1 && lc_graph_n_out(g, 1) == 1 && lc_graph_n_out(g, 2) == 0);
    lc_graph_free(g);
}

TEST(graph_clone_is_deep)
{
    lc_error err = {0};
    lc_graph *g, *c;
    CHECK_OK(make_xor(&g, &err), &err);
    CHECK_OK(lc_graph_clone(g, &c, &err), &err);
    lc_graph_weight(g, 1, 0)[0] = 5;
    CHECK(lc_graph_weight(c, 1, 0)[0] == 1);
    CHECK(!strcmp(lc_graph_name(c, 1), "h"));
    CHECK(lc_graph_params(c) == lc_graph_params(g));
    lc_graph_free(g);
    lc_graph_free(c);
}

TEST(graph_rejects_bad_specs)
{
    lc_error err = {0};
    lc_graph *g = (lc_graph *)1;
    int later[] = {2}, dup[] = {0, 0}, s0[] = {0}, s1[] = {1};
    lc_node_spec a[] = {{0, 3, {0}, 0, 0}, {0, 2, {LC_ACT_RELU, 0, 0, 0}, 1, later},
                        {0, 1, {0}, 1, s1}};
    CHECK(lc_graph_create(3, a, &g, &err) == LC_ERR_INVALID && g == NULL);
    CHECK(strstr(err.msg, "not an earlier node"));
    lc_node_spec b[] = {{0, 3, {0}, 0, 0}, {0, 2, {LC_ACT_RELU, 0, 0, 0}, 2, dup},
                        {0, 1, {0}, 1, s1}};
    CHECK(lc_graph_create(3, b, &g, &err) == LC_ERR_INVALID);
    lc_node_spec c[] = {{0, 3, {0}, 0, 0}, {0, 2, {LC_ACT_SOFTMAX, 0, 0, 0}, 1, s0},
                        {0, 1, {0}, 1, s1}};
    CHECK(lc_graph_create(3, c, &g, &err) == LC_ERR_INVALID);
    CHECK(strstr(err.msg, "output node"));
    lc_node_spec d[] = {{0, 3, {0}, 0, 0}, {0, 0, {LC_ACT_RELU, 0, 0, 0}, 1, s0},
                        {0, 1, {0}, 1, s1}};
    CHECK(lc_graph_create(3, d, &g, &err) == LC_ERR_INVALID);
    lc_node_spec e[] = {{0, 3, {0}, 0, 0}, {0, 2, {LC_ACT_CLIP, 0, 6, 0}, 1, s0},
                        {0, 1, {0}, 1, s1}};
    CHECK(lc_graph_create(3, e, &g, &err) == LC_ERR_INVALID);
}

/* A random graph with skip edges: every hidden node has the given
 * activation, the output `out`. Weights and biases N(0, 1/sqrt(fan-in)). */
static lc_graph *random_graph(test_rng *r, lc_act hidden, lc_act out, int depth)
{
    lc_node_spec spec[8];
    int srcs[8][8];
    for (int k = 0; k <= depth; k++) {
        spec[k] = (lc_node_spec){NULL, test_randint(r, 1, 40), k == depth ? out : hidden, 0,
                                 srcs[k]};
        if (k == 0) continue;
        srcs[k][spec[k].n_in++] = k - 1;
        for (int j = 0; j < k - 1; j++)
            if (test_uniform(r) < 0.3) srcs[k][spec[k].n_in++] = j;
    }
    lc_graph *g;
    if (lc_graph_create(depth + 1, spec, &g, NULL)) return NULL;
    for (int k = 1; k <= depth; k++) {
        for (int e = 0; e < lc_graph_n_in(g, k); e++) {
            int in = lc_graph_width(g, lc_graph_src(g, k, e));
            float *w = lc_graph_weight(g, k, e);
            for (int i = 0; i < lc_graph_width(g, k) * in; i++)
                w[i] = (float)(test_normal(r) / sqrt(in));
        }
        for (int i = 0; i < lc_graph_width(g, k); i++) {
            lc_graph_bias(g, k)[i] = (float)(0.5 * test_normal(r));
            if (lc_graph_slope(g, k)) lc_graph_slope(g, k)[i] = (float)test_uniform(r);
        }
    }
    return g;
}

TEST(forward_matches_reference_every_activation)
{
    lc_act hidden[] = {{LC_ACT_IDENTITY, 0, 0, 0}, {LC_ACT_RELU, 0, 0, 0},
                       {LC_ACT_LEAKY_RELU, 0.1f, 0, 0}, {LC_ACT_PRELU, 0, 0, 0},
                       {LC_ACT_CLIP, 0, 0, 6}, {LC_ACT_CLIP, 0, -0.5f, 0.5f}};
    lc_act outs[] = {{LC_ACT_IDENTITY, 0, 0, 0}, {LC_ACT_SOFTMAX, 0, 0, 0},
                     {LC_ACT_LOG_SOFTMAX, 0, 0, 0}, {LC_ACT_SIGMOID, 0, 0, 0}};
    test_rng r = {12345};
    lc_error err = {0};
    for (size_t h = 0; h < sizeof hidden / sizeof *hidden; h++)
        for (size_t o = 0; o < sizeof outs / sizeof *outs; o++) {
            lc_graph *g = random_graph(&r, hidden[h], outs[o], test_randint(&r, 2, 6));
            CHECK(g);
            /* more rows than one batch, so the batching path is covered */
            size_t n = 1100;
            int in = lc_graph_input_width(g), ow = lc_graph_output_width(g);
            float *x = malloc(n * in * sizeof(float)), *y = malloc(n * ow * sizeof(float)),
                  *yr = malloc(n * ow * sizeof(float));
            for (size_t i = 0; i < n * (size_t)in; i++) x[i] = (float)(2 * test_normal(&r));
            CHECK_OK(lc_forward(g, x, n, y, &err), &err);
            CHECK_OK(lc_forward_ref(g, x, n, yr, &err), &err);
            CHECK_CLOSE(y, yr, n * ow, 1e-5, 1e-4);
            free(x);
            free(y);
            free(yr);
            lc_graph_free(g);
        }
}

TEST(activations_by_definition)
{
    float z[] = {-2, -0.5f, 0, 0.5f, 7};
    float a[5];
    memcpy(a, z, sizeof z);
    lc_act_apply((lc_act){LC_ACT_LEAKY_RELU, 0.1f, 0, 0}, NULL, a, 1, 5);
    float leaky[] = {-0.2f, -0.05f, 0, 0.5f, 7};
    CHECK_CLOSE(a, leaky, 5, 0, 1e-7);
    memcpy(a, z, sizeof z);
    lc_act_apply((lc_act){LC_ACT_CLIP, 0, 0, 6}, NULL, a, 1, 5);
    float relu6[] = {0, 0, 0, 0.5f, 6};
    CHECK_CLOSE(a, relu6, 5, 0, 0);
    memcpy(a, z, sizeof z);
    float slope[] = {0.5f, 2, 1, 1, 1};
    lc_act_apply((lc_act){LC_ACT_PRELU, 0, 0, 0}, slope, a, 1, 5);
    float prelu[] = {-1, -1, 0, 0.5f, 7};
    CHECK_CLOSE(a, prelu, 5, 0, 0);
    memcpy(a, z, sizeof z);
    lc_act_apply((lc_act){LC_ACT_SOFTMAX, 0, 0, 0}, NULL, a, 1, 5);
    double s = 0;
    for (int i = 0; i < 5; i++) s += a[i];
    CHECK(fabs(s - 1) < 1e-6 && a[4] > 0.99f);
}

TEST(graph_nonfinite_weights_named)
{
    lc_error err = {0};
    lc_graph *g;
    CHECK_OK(make_xor(&g, &err), &err);
    CHECK_OK(lc_graph_check_finite(g, &err), &err);
    lc_graph_weight(g, 2, 0)[1] = NAN;
    CHECK(lc_graph_check_finite(g, &err) == LC_ERR_NUMERIC);
    CHECK(strstr(err.msg, "'y'") && strstr(err.msg, "[0, 1]"));
    lc_graph_free(g);
}

/* The one GEMM wrapper against its loop reference, for every transpose
 * combination, leading dimensions wider than the matrices, and alpha/beta
 * other than 1/0: equal up to float rounding of a k-term sum. */
TEST(graph_sgemm_matches_ref)
{
    enum { M = 7, N = 5, K = 37, LD = 41 };
    static float a[LD * LD], b[LD * LD], c0[M * LD], c[M * LD], r[M * LD];
    unsigned s = 12345;
    for (size_t i = 0; i < sizeof a / sizeof *a; i++) {
        s = s * 1103515245u + 12345u;
        a[i] = (float)((s >> 8) % 2001) / 1000.0f - 1.0f;
        s = s * 1103515245u + 12345u;
        b[i] = (float)((s >> 8) % 2001) / 1000.0f - 1.0f;
    }
    for (size_t i = 0; i < sizeof c0 / sizeof *c0; i++) c0[i] = (float)(i % 7) - 3.0f;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            memcpy(c, c0, sizeof c);
            memcpy(r, c0, sizeof r);
            lc_sgemm(ta, tb, M, N, K, 0.5f, a, LD, b, LD, 2.0f, c, LD);
            lc_sgemm_ref(ta, tb, M, N, K, 0.5f, a, LD, b, LD, 2.0f, r, LD);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double d = fabs((double)c[i * LD + j] - r[i * LD + j]);
                    CHECK_MSG(d <= 1e-4, "trans %d/%d: c[%d][%d] = %g, reference %g", ta, tb, i,
                              j, (double)c[i * LD + j], (double)r[i * LD + j]);
                }
            CHECK_MSG(c[0 * LD + N] == c0[N], "trans %d/%d wrote past n", ta, tb);
        }
}
