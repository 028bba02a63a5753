/* bench_forward.c - times lincomp's forward pass on the Fashion-MNIST-shaped
 * MLP 784-1024-1024-512-512-256-256-10 over the 10,000 test images.
 *
 *   bench_forward OUT_DIR [REPEATS [MODEL [--forward-only]]]
 *   bench_forward --models REPEATS MODEL...
 *   bench_forward --sign MODEL DATA
 *
 * Without MODEL, writes OUT_DIR/fmnist_mlp.onnx (PyTorch-style uniform init,
 * fixed seed) and times that; with MODEL (a trained model of any shape that
 * takes the 784 pixels), times MODEL. Writes OUT_DIR/t10k.npy (the images as
 * float32, for ONNX Runtime), then prints on stdout (best of REPEATS each;
 * the forward pass and the raw SGEMM calls alternate, so that both see the
 * same load):
 *   forward_seconds S   lc_forward over the 10,000 images
 *   sgemm_seconds S     the smaller of the next two: the graph's matrix
 *                       products alone, each edge one plain cblas_sgemm over
 *                       all 10,000 rows (no bias, no activation, beta = 0)
 *   sgemm_transb_seconds S   with the weights as lincomp stores them (out, in)
 *   sgemm_notrans_seconds S  with the weights pre-transposed to (in, out)
 *   stats_seconds S     lc_stats_compute over the same images
 *   folds_seconds S     the 20 plans and folds of a sweep (tau 1.00 .. 0.05),
 *                       without evaluation
 * (--forward-only: the first four)
 *
 * --models times each MODEL's lc_forward on the 10,000 test images at
 * batch 10,000 (best of REPEATS) and at batch 1 (one call per image over the
 * first 1,000 images; the best of REPEATS of their mean), and prints per model
 *   model PATH, params N, batch_seconds S, row_seconds S
 *
 * --sign counts the neurons that the paper's sign test proves linear (all
 * incoming weights and the bias >= 0, inputs >= 0) or dead (all <= 0), for
 * the baseline of the proof benchmark. A node's inputs count as non-negative
 * when every producer is a ReLU-like node, or is the input and DATA (loaded
 * with the model's preprocessing) has no negative value. Prints
 *   sign_linear N, sign_dead N, sign_seconds S
 *
 * BENCH_CLOCK=cpu (environment) times by process CPU time: see now(). */
#include "lincomp.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* BENCH_CLOCK=cpu: process CPU time instead of wall time. With one thread
 * (OPENBLAS_NUM_THREADS=1) that counts the work alone, not the waits of a
 * machine that other jobs share; with more, OpenBLAS's spinning threads
 * inflate it. */
static double now(void)
{
    static int cpu = -1;
    if (cpu < 0) cpu = getenv("BENCH_CLOCK") && !strcmp(getenv("BENCH_CLOCK"), "cpu");
    struct timespec t;
    clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
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

/* The graph's matrix products as plain SGEMM calls over all n rows, each
 * edge's output in its own buffer (what the forward pass cannot beat with
 * this GEMM library): the lower limit forward_seconds is measured against. */
typedef struct {
    lc_graph *g;
    size_t n;
    float **h;   /* per node: (n, width) outputs; h[0] = the input */
    float **wt;  /* per edge, numbered node by node: (in, out) transposed weights */
} raw_gemm;

static int raw_init(raw_gemm *r, lc_graph *g, const float *x, size_t n)
{
    int nn = lc_graph_nodes(g), ne = 0;
    for (int k = 1; k < nn; k++) ne += lc_graph_n_in(g, k);
    *r = (raw_gemm){g, n, calloc((size_t)nn, sizeof(float *)), calloc((size_t)ne, sizeof(float *))};
    if (!r->h || !r->wt) return -1;
    r->h[0] = (float *)x;
    for (int k = 1, e0 = 0; k < nn; e0 += lc_graph_n_in(g, k), k++) {
        int w = lc_graph_width(g, k);
        if (!(r->h[k] = calloc(n * (size_t)w, sizeof(float)))) return -1;
        for (int e = 0; e < lc_graph_n_in(g, k); e++) {
            int in = lc_graph_width(g, lc_graph_src(g, k, e));
            const float *wk = lc_graph_weight(g, k, e);
            float *t = r->wt[e0 + e] = malloc((size_t)in * (size_t)w * sizeof(float));
            if (!t) return -1;
            for (int i = 0; i < w; i++)
                for (int j = 0; j < in; j++) t[(size_t)j * w + i] = wk[(size_t)i * in + j];
        }
    }
    return 0;
}

static void raw_free(raw_gemm *r)
{
    int nn = r->h ? lc_graph_nodes(r->g) : 0, ne = 0;
    for (int k = 1; k < nn; k++) {
        free(r->h[k]);
        ne += lc_graph_n_in(r->g, k);
    }
    for (int e = 0; r->wt && e < ne; e++) free(r->wt[e]);
    free(r->h);
    free(r->wt);
}

/* Seconds for every edge's product; the first edge of a node writes
 * (beta 0), the others add (beta 1), as a forward pass must. */
static double raw_run(raw_gemm *r, int transposed)
{
    double t0 = now();
    int m = (int)r->n;
    for (int k = 1, e0 = 0; k < lc_graph_nodes(r->g); e0 += lc_graph_n_in(r->g, k), k++) {
        int w = lc_graph_width(r->g, k);
        for (int e = 0; e < lc_graph_n_in(r->g, k); e++) {
            int s = lc_graph_src(r->g, k, e), in = lc_graph_width(r->g, s);
            if (transposed)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, w, in, 1.0f, r->h[s], in,
                            r->wt[e0 + e], w, e ? 1.0f : 0.0f, r->h[k], w);
            else
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, w, in, 1.0f, r->h[s], in,
                            lc_graph_weight(r->g, k, e), in, e ? 1.0f : 0.0f, r->h[k], w);
        }
    }
    return now() - t0;
}

static double min2(double a, double b) { return a < b ? a : b; }

static lc_data *load_test_images(lc_error *err)
{
    lc_data *d = NULL;
    lc_load_opts o = {0};
    lc_data_load("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", &o, &d, err);
    return d;
}

/* --models: throughput at batch n and latency at batch 1 of each model. */
static int time_models(int repeats, int nm, char **models)
{
    lc_error err = {0};
    lc_data *d = load_test_images(&err);
    if (!d) goto fail;
    size_t n = lc_data_rows(d), n1 = n < 1000 ? n : 1000;
    int in = lc_data_cols(d);
    for (int i = 0; i < nm; i++) {
        lc_graph *g;
        if (lc_onnx_load(models[i], &g, &err)) goto fail;
        float *out = malloc(n * (size_t)lc_graph_output_width(g) * sizeof(float));
        if (!out || lc_graph_input_width(g) != in) {
            fprintf(stderr, "bench_forward: %s: out of memory or not %d inputs\n", models[i], in);
            return 1;
        }
        double batch = 1e30, row = 1e30;
        for (int r = 0; r < repeats; r++) { /* the two alternate: same load */
            double t0 = now();
            if (lc_forward(g, lc_data_x(d), n, out, &err)) goto fail;
            batch = min2(batch, now() - t0);
            t0 = now();
            for (size_t j = 0; j < n1; j++)
                if (lc_forward(g, lc_data_x(d) + j * (size_t)in, 1, out, &err)) goto fail;
            row = min2(row, (now() - t0) / (double)n1);
        }
        printf("model %s\nparams %ld\nbatch_seconds %.6f\nrow_seconds %.9f\n", models[i],
               (long)lc_graph_params(g), batch, row);
        free(out);
        lc_graph_free(g);
    }
    lc_data_free(d);
    return 0;
fail:
    fprintf(stderr, "bench_forward: %s\n", err.msg);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--sign")) return sign_test(argv[2], argv[3]);
    if (argc >= 4 && !strcmp(argv[1], "--models"))
        return time_models(atoi(argv[2]) > 0 ? atoi(argv[2]) : 1, argc - 3, argv + 3);
    if (argc < 2) {
        fprintf(stderr, "usage: bench_forward OUT_DIR [REPEATS [MODEL [--forward-only]]]\n"
                        "       bench_forward --models REPEATS MODEL...\n"
                        "       bench_forward --sign MODEL DATA\n");
        return 2;
    }
    int forward_only = argc == 5 && !strcmp(argv[4], "--forward-only");
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

    lc_data *d = load_test_images(&err);
    if (!d) goto fail;
    size_t n = lc_data_rows(d);
    snprintf(path, sizeof path, "%s/t10k.npy", argv[1]);
    if (write_npy(path, lc_data_x(d), n, lc_data_cols(d))) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    float *out = malloc(n * (size_t)lc_graph_output_width(g) * sizeof(float));
    raw_gemm raw;
    if (!out || raw_init(&raw, g, lc_data_x(d), n)) {
        fprintf(stderr, "bench_forward: out of memory\n");
        return 1;
    }
    double best = 1e30, raw_t = 1e30, raw_n = 1e30;
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        if (lc_forward(g, lc_data_x(d), n, out, &err)) goto fail;
        best = min2(best, now() - t0);
        raw_t = min2(raw_t, raw_run(&raw, 0));
        raw_n = min2(raw_n, raw_run(&raw, 1));
    }
    raw_free(&raw);
    printf("forward_seconds %.6f\nsgemm_seconds %.6f\nsgemm_transb_seconds %.6f\n"
           "sgemm_notrans_seconds %.6f\n", best, min2(raw_t, raw_n), raw_t, raw_n);
    if (forward_only) {
        free(out);
        lc_data_free(d);
        lc_graph_free(g);
        return 0;
    }

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
