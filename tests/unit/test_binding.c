/* test_binding.c - what the Python binding stands on: a model to and from
 * bytes (lc_onnx_save_mem, lc_onnx_load_mem); lc_compress and lc_analyze
 * are tested in test_pipeline.c. */
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static lc_graph *small_mlp(void)
{
    int hidden[2] = {6, 5};
    lc_graph *g = NULL;
    lc_error err;
    if (lc_graph_mlp(4, hidden, 2, 3, (lc_act){.kind = LC_ACT_RELU}, 7, &g, &err)) return NULL;
    return g;
}

static void fill(float *x, size_t n, unsigned long long seed)
{
    test_rng r = {seed};
    for (size_t i = 0; i < n; i++) x[i] = (float)test_normal(&r);
}

TEST(binding_save_mem_round_trip)
{
    lc_error err = {0};
    lc_graph *g = small_mlp(), *back = NULL;
    CHECK(g);
    void *buf = NULL;
    size_t len = 0;
    CHECK_OK(lc_onnx_save_mem(g, &buf, &len, &err), &err);
    CHECK(buf && len > 0);
    /* the same bytes as the file lc_onnx_save writes */
    char path[64];
    snprintf(path, sizeof path, "/tmp/lc_test_binding_%ld.onnx", (long)getpid());
    CHECK_OK(lc_onnx_save(g, path, &err), &err);
    FILE *f = fopen(path, "rb");
    CHECK(f);
    unsigned char *file = malloc(len + 1);
    size_t got = fread(file, 1, len + 1, f);
    fclose(f);
    remove(path);
    int same = got == len && !memcmp(file, buf, len);
    free(file);
    CHECK_OK(lc_onnx_load_mem(buf, len, NULL, &back, &err), &err);
    lc_free(buf);
    CHECK(same);
    float x[8 * 4], y1[8 * 3], y2[8 * 3];
    fill(x, 8 * 4, 3);
    CHECK_OK(lc_forward(g, x, 8, y1, &err), &err);
    CHECK_OK(lc_forward(back, x, 8, y2, &err), &err);
    CHECK(!memcmp(y1, y2, sizeof y1));
    lc_graph_free(back);
    lc_graph_free(g);
}

TEST(binding_save_mem_null_output)
{
    lc_error err = {0};
    lc_graph *g = small_mlp();
    CHECK(g);
    size_t len = 5;
    CHECK(lc_onnx_save_mem(g, NULL, &len, &err) == LC_ERR_INVALID);
    lc_graph_free(g);
    lc_free(NULL); /* a no-op */
}
