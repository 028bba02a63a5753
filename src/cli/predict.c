/* predict.c - `lincomp predict MODEL --data DATA -o OUT.csv|OUT.npy`. */
#include "cli.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: lincomp predict MODEL.onnx --data DATA -o OUT.csv [options]\n\n"
               "Writes one CSV row of model outputs per sample (header y0,y1,...), or\n"
               "with -o NAME.npy a float32 NPY array of shape (samples, outputs).\n\n"
               "  --data FILE     CSV, IDX (.gz or plain) or NPY samples\n"
               "  -o FILE         output CSV or .npy, '-' for CSV on stdout (required)\n"
               "  --label NAME    label column of a CSV (default: the last one)\n"
               "  --labels FILE   labels of an NPY data file (ignored here)\n"
               "  --threads N     BLAS threads (default: OpenBLAS's choice)\n");
}

/* Growable text buffer: the output is written in one piece, atomically. */
typedef struct { char *p; size_t len, cap; } text;

static int text_reserve(text *t, size_t more)
{
    if (t->len + more + 1 <= t->cap) return 0;
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + more + 1) cap *= 2;
    char *p = realloc(t->p, cap);
    if (!p) return -1;
    t->p = p;
    t->cap = cap;
    return 0;
}

/* The outputs as NPY 1.0: magic, version, a header padded with spaces to a
 * multiple of 64 bytes and ended by a newline, then the float32 values
 * little-endian in C order (what numpy.save writes for this dtype). */
static int npy_text(text *t, const float *out, size_t n, int w)
{
    char head[128];
    int len = snprintf(head, sizeof head,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %d), }", n, w);
    size_t pad = (64 - (10 + (size_t)len + 1) % 64) % 64, hl = (size_t)len + pad + 1;
    size_t bytes = n * (size_t)w * sizeof(float);
    if (text_reserve(t, 10 + hl + bytes)) return -1;
    memcpy(t->p, "\x93NUMPY\x01\x00", 8);
    t->p[8] = (char)(hl & 0xff);
    t->p[9] = (char)(hl >> 8);
    memcpy(t->p + 10, head, (size_t)len);
    memset(t->p + 10 + len, ' ', pad);
    t->p[10 + hl - 1] = '\n';
    unsigned char *dst = (unsigned char *)t->p + 10 + hl;
    for (size_t i = 0; i < n * (size_t)w; i++) {
        uint32_t u;
        memcpy(&u, &out[i], sizeof u);
        for (int b = 0; b < 4; b++) dst[4 * i + (size_t)b] = (unsigned char)(u >> (8 * b));
    }
    t->len = 10 + hl + bytes;
    return 0;
}

static bool ends_with_npy(const char *path)
{
    size_t len = strlen(path);
    return len >= 4 && !strcasecmp(path + len - 4, ".npy");
}

int cmd_predict(int argc, char **argv)
{
    enum { OPT_DATA = OPT_FIRST_OWN };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS, {"data", required_argument, 0, OPT_DATA},
        {"output", required_argument, 0, 'o'}, {0, 0, 0, 0}};
    cli_common c = {0};
    const char *data_path = NULL, *out_path = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, ":hqo:", opts, NULL)) != -1) {
        if (opt == 'h') return usage(stdout), 0;
        if (opt == OPT_DATA) data_path = optarg;
        else if (opt == 'o') out_path = optarg;
        else {
            int r = cli_common_opt(&c, opt, optarg, argv);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) return cli_usage_error("unknown option");
        }
    }
    const char *model_path;
    if (cli_one_positional(argc, argv, &model_path, "MODEL")) return EXIT_USAGE;
    if (!data_path) return cli_usage_error("--data is required");
    if (!out_path) return cli_usage_error("-o OUT.csv is required ('-' for stdout)");
    const cli_path outs[] = {{"-o", out_path}};
    const cli_path ins[] = {{"MODEL", model_path}, {"--data", data_path}, {"--labels", c.labels_path}};
    if (cli_check_paths(outs, 1, ins, 3, false)) return EXIT_USAGE;
    if (cli_check_output(out_path)) return 1;

    lc_graph *g = NULL;
    lc_data *d = NULL;
    float *out = NULL;
    text t = {0};
    int rc = 1;
    if (cli_load_model(model_path, &g) || cli_load_data(&c, data_path, c.labels_path, g, CLI_LABELS_UNUSED, NULL, &d)) goto done;
    size_t n = lc_data_rows(d);
    int w = lc_graph_output_width(g);
    lc_error err = {0};
    out = malloc((n ? n : 1) * (size_t)w * sizeof(float));
    if (!out) {
        cli_error(1, "out of memory for %zu outputs", n);
        goto done;
    }
    if (lc_forward(g, lc_data_x(d), n, out, &err)) {
        cli_lc_error(&err);
        goto done;
    }
    if (ends_with_npy(out_path)) {
        if (npy_text(&t, out, n, w)) goto nomem;
    } else {
        for (int i = 0; i < w; i++) {
            if (text_reserve(&t, 16)) goto nomem;
            t.len += (size_t)sprintf(t.p + t.len, "%sy%d", i ? "," : "", i);
        }
        if (text_reserve(&t, 1)) goto nomem;
        t.p[t.len++] = '\n';
        for (size_t r = 0; r < n; r++) {
            if (text_reserve(&t, (size_t)w * 18 + 2)) goto nomem;
            for (int i = 0; i < w; i++)
                t.len += (size_t)sprintf(t.p + t.len, "%s%.9g", i ? "," : "",
                                         (double)out[r * (size_t)w + i]);
            t.p[t.len++] = '\n';
        }
    }
    if (!strcmp(out_path, "-")) {
        if (fwrite(t.p, 1, t.len, stdout) != t.len || fflush(stdout)) {
            cli_error(1, "cannot write to stdout");
            goto done;
        }
    } else if (lc_write_file(out_path, t.p, t.len, &err)) {
        cli_lc_error(&err);
        goto done;
    }
    rc = 0;
    goto done;
nomem:
    cli_error(1, "out of memory formatting %zu outputs", n);
done:
    free(t.p);
    free(out);
    lc_data_free(d);
    lc_graph_free(g);
    return rc;
}
