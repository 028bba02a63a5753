/* test_binding.c - what the Python binding stands on: a model to and from
 * bytes (lc_onnx_save_mem, lc_onnx_load_mem) and commands run in-process on
 * in-memory inputs (lc_cli_run). */
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

/* `convert` of an in-memory model writes that model; a name not among the
 * inputs is still a file (missing: status 1); getopt restarts each call. */
TEST(binding_cli_run_memory_inputs)
{
    lc_error err = {0};
    lc_graph *g = small_mlp(), *back = NULL;
    CHECK(g);
    char out[64];
    snprintf(out, sizeof out, "/tmp/lc_test_binding_cli_%ld.onnx", (long)getpid());
    lc_cli_input in[1] = {{"mem:model", g, NULL}};
    char *argv[] = {"lincomp", "convert", "mem:model", "-o", out, NULL};
    for (int round = 0; round < 2; round++) { /* the second call parses afresh */
        remove(out);
        CHECK(lc_cli_run(5, argv, 1, in, NULL) == 0);
        CHECK_OK(lc_onnx_load(out, &back, &err), &err);
        float x[5 * 4], y1[5 * 3], y2[5 * 3];
        fill(x, 5 * 4, 11);
        CHECK_OK(lc_forward(g, x, 5, y1, &err), &err);
        CHECK_OK(lc_forward(back, x, 5, y2, &err), &err);
        lc_graph_free(back);
        back = NULL;
        CHECK(!memcmp(y1, y2, sizeof y1));
    }
    remove(out);
    char *missing[] = {"lincomp", "convert", "/nonexistent/lc_no_such.onnx", "-o", out, NULL};
    lc_error e = {0};
    CHECK(lc_cli_run(5, missing, 1, in, &e) == 1);
    CHECK(e.code == LC_ERR_IO && strstr(e.msg, "lc_no_such.onnx") && !strstr(e.msg, "lincomp"));
    char *unknown[] = {"lincomp", "no-such-command", NULL};
    e = (lc_error){0};
    CHECK(lc_cli_run(2, unknown, 0, NULL, &e) == 2);
    CHECK(e.code == LC_ERR_INVALID && strstr(e.msg, "no-such-command"));
    char *bad_tau[] = {"lincomp", "compress", "mem:model", "--data", "x", "-o", out,
                       "--threshold", "7", NULL};
    e = (lc_error){0};
    CHECK(lc_cli_run(9, bad_tau, 1, in, &e) == 2);
    CHECK(e.code == LC_ERR_INVALID && strstr(e.msg, "--threshold"));
    CHECK(lc_cli_run(2, unknown, 1, NULL, NULL) == 2); /* inputs NULL with n > 0 */
    lc_graph_free(g);
}

/* compress on an in-memory model and data set writes the model the same
 * command writes from files, and its --report. */
TEST(binding_cli_run_compress_memory_data)
{
    lc_error err = {0};
    lc_graph *g = small_mlp();
    CHECK(g);
    float x[64 * 4];
    fill(x, 64 * 4, 5);
    lc_data *d = NULL;
    CHECK_OK(lc_data_from_arrays(64, 4, x, NULL, 0, &d, &err), &err);
    char out[64], rep[64];
    snprintf(out, sizeof out, "/tmp/lc_test_binding_c_%ld.onnx", (long)getpid());
    snprintf(rep, sizeof rep, "/tmp/lc_test_binding_c_%ld.json", (long)getpid());
    lc_cli_input in[2] = {{"m", g, NULL}, {"x", NULL, d}};
    char *argv[] = {"lincomp", "compress", "m",  "--data", "x", "-o", out,
                    "--report", rep, "--threshold", "0.9", "--quiet", "--json", NULL};
    FILE *saved = stdout; /* the JSON copy on stdout is not wanted here */
    stdout = fopen("/dev/null", "w");
    int rc = lc_cli_run(13, argv, 2, in, NULL);
    fclose(stdout);
    stdout = saved;
    lc_graph *cg = NULL;
    lc_status st = rc ? LC_ERR_IO : lc_onnx_load(out, &cg, &err);
    FILE *f = fopen(rep, "r");
    char head[16] = {0};
    size_t got = f ? fread(head, 1, 1, f) : 0;
    if (f) fclose(f);
    remove(out);
    remove(rep);
    lc_data_free(d);
    CHECK(rc == 0 && st == LC_OK);
    CHECK(got == 1 && head[0] == '{');
    CHECK(lc_graph_input_width(cg) == 4 && lc_graph_output_width(cg) == 3);
    CHECK(lc_graph_params(cg) <= lc_graph_params(g));
    lc_graph_free(cg);
    lc_graph_free(g);
}
