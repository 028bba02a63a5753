/* bench_forward.c - times lincomp's forward pass on the Fashion-MNIST-shaped
 * MLP 784-1024-1024-512-512-256-256-10 over the 10,000 test images.
 *
 *   bench_forward OUT_DIR [REPEATS [MODEL]]
 *   bench_forward --sign MODEL DATA
 *
 * Without MODEL, writes OUT_DIR/fmnist_mlp.onnx (PyTorch-style uniform init,
 * fixed seed) and times that; with MODEL (a trained model of any shape that
 * takes the 784 pixels), times MODEL. Writes OUT_DIR/t10k.npy (the images as
 * float32, for ONNX Runtime), then prints on stdout (best of REPEATS each):
 *   forward_seconds S   lc_forward over the 10,000 images
 *   stats_seconds S     lc_stats_compute over the same images
 *   folds_seconds S     the 20 plans and folds of a sweep (tau 1.00 .. 0.05),
 *                       without evaluation
 *
 * --sign counts the neurons that the paper's sign test proves linear (all
 * incoming weights and the bias >= 0, inputs >= 0) or dead (all <= 0), for
 * the baseline of the proof benchmark. A node's inputs count as non-negative
 * when every producer is a ReLU-like node, or is the input and DATA (loaded
 * with the model's preprocessing) has no negative value. Prints
 *   sign_linear N, sign_dead N, sign_seconds S */
#include "lincomp.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int write_npy(const char *path, const float *x, size_t rows, int cols)
{
    char hdr[128];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %d), }",
                     rows, cols);
    int total = 10 + n + 1, pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned short hl = (unsigned short)(n + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc(hl & 0xff, f);
    fputc(hl >> 8, f);
    fwrite(hdr, 1, (size_t)n, f);
    for (int i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    size_t ok = fwrite(x, sizeof(float), rows * (size_t)cols, f);
    return fclose(f) == 0 && ok == rows * (size_t)cols ? 0 : -1;
}

/* Activations whose output is never negative. */
static int nonneg_act(lc_act a)
{
    return a.kind == LC_ACT_RELU || (a.kind == LC_ACT_CLIP && a.lo >= 0);
}

static int sign_test(const char *model, const char *data)
{
    lc_error err = {0};
    lc_graph *g = NULL;
    lc_data *d = NULL;
    if (lc_onnx_load(model, &g, &err)) goto fail;
    lc_load_opts o = {0};
    o.pre = lc_graph_preproc(g);
    o.input_width = lc_graph_input_width(g);
    if (lc_data_load(data, &o, &d, &err)) goto fail;
    double t0 = now();
    const float *x = lc_data_x(d);
    size_t nx = lc_data_rows(d) * (size_t)lc_data_cols(d);
    int input_nonneg = 1;
    for (size_t i = 0; i < nx && input_nonneg; i++) input_nonneg = x[i] >= 0;
    long linear = 0, dead = 0;
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++) { /* hidden nodes */
        int ok = 1;
        for (int e = 0; e < lc_graph_n_in(g, k); e++) {
            int j = lc_graph_src(g, k, e);
            ok &= j == 0 ? input_nonneg : nonneg_act(lc_graph_act(g, j));
        }
        if (!ok) continue;
        const float *b = lc_graph_bias(g, k);
        for (int i = 0; i < lc_graph_width(g, k); i++) {
            int pos = b[i] >= 0, neg = b[i] <= 0;
            for (int e = 0; e < lc_graph_n_in(g, k); e++) {
                int w = lc_graph_width(g, lc_graph_src(g, k, e));
                const float *row = lc_graph_weight(g, k, e) + (size_t)i * (size_t)w;
                for (int c = 0; c < w; c++) {
                    pos &= row[c] >= 0;
                    neg &= row[c] <= 0;
                }
            }
            linear += pos;
            dead += neg && !pos;
        }
    }
    printf("sign_linear %ld\nsign_dead %ld\nsign_seconds %.6f\n", linear, dead, now() - t0);
    lc_data_free(d);
    lc_graph_free(g);
    return 0;
fail:
    fprintf(stderr, "bench_forward: %s\n", err.msg);
    lc_data_free(d);
    lc_graph_free(g);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--sign")) return sign_test(argv[2], argv[3]);
    if (argc < 2) {
        fprintf(stderr, "usage: bench_forward OUT_DIR [REPEATS [MODEL]]\n"
                        "       bench_forward --sign MODEL DATA\n");
        return 2;
    }
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    if (repeats < 1) repeats = 1;
    const int widths[] = {784, 1024, 1024, 512, 512, 256, 256, 10};
    enum { N = sizeof widths / sizeof *widths };
    lc_node_spec spec[N];
    int src[N];
    for (int k = 0; k < N; k++) {
        src[k] = k - 1;
        spec[k] = (lc_node_spec){NULL, widths[k], {k == N - 1 ? LC_ACT_IDENTITY : LC_ACT_RELU, 0, 0, 0},
                                 k ? 1 : 0, k ? &src[k] : NULL};
    }
    lc_error err = {0};
    lc_graph *g;
    char path[4096];
    if (argc > 3) {
        if (lc_onnx_load(argv[3], &g, &err)) goto fail;
        goto loaded;
    }
    if (lc_graph_create(N, spec, &g, &err)) goto fail;
    for (int k = 1; k < N; k++) { /* PyTorch's nn.Linear default: U(-1/sqrt(in), 1/sqrt(in)) */
        double b = 1.0 / sqrt(widths[k - 1]);
        float *w = lc_graph_weight(g, k, 0);
        for (int i = 0; i < widths[k] * widths[k - 1]; i++) w[i] = (float)((2 * uniform() - 1) * b);
        for (int i = 0; i < widths[k]; i++) lc_graph_bias(g, k)[i] = (float)((2 * uniform() - 1) * b);
    }
    snprintf(path, sizeof path, "%s/fmnist_mlp.onnx", argv[1]);
    if (lc_onnx_save(g, path, &err)) goto fail;
loaded:;

    lc_data *d;
    lc_load_opts o = {0};
    if (lc_data_load("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", &o, &d, &err))
        goto fail;
    size_t n = lc_data_rows(d);
    snprintf(path, sizeof path, "%s/t10k.npy", argv[1]);
    if (write_npy(path, lc_data_x(d), n, lc_data_cols(d))) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    float *out = malloc(n * (size_t)lc_graph_output_width(g) * sizeof(float));
    if (!out) {
        fprintf(stderr, "bench_forward: out of memory\n");
        return 1;
    }
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        if (lc_forward(g, lc_data_x(d), n, out, &err)) goto fail;
        double t = now() - t0;
        best = t < best ? t : best;
    }
    printf("forward_seconds %.6f\n", best);

    best = 1e30;
    lc_stats *st = NULL;
    for (int r = 0; r < repeats; r++) {
        lc_stats_free(st);
        double t0 = now();
        if (lc_stats_compute(g, lc_data_x(d), n, lc_data_cols(d), &st, &err)) goto fail;
        double t = now() - t0;
        best = t < best ? t : best;
    }
    printf("stats_seconds %.6f\n", best);

    best = 1e30;
    lc_layer_threshold lt = {LC_LAYER_AUTO, 0};
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        for (int i = 20; i >= 1; i--) {
            lc_plan *p;
            lc_graph *cg;
            if (lc_plan_from_stats(g, st, 0.05 * i, lt, &p, &err) || lc_fold(g, p, &cg, NULL, &err))
                goto fail;
            lc_graph_free(cg);
            lc_plan_free(p);
        }
        double t = now() - t0;
        best = t < best ? t : best;
    }
    printf("folds_seconds %.6f\n", best);
    lc_stats_free(st);
    free(out);
    lc_data_free(d);
    lc_graph_free(g);
    return 0;
fail:
    fprintf(stderr, "bench_forward: %s\n", err.msg);
    return 1;
}
