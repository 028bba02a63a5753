/* targets.c - the fuzz entry points shared by the libFuzzer harnesses and
 * the regression replayer (see targets.h). Built twice: with
 * -fsanitize=fuzzer,address,undefined into build-fuzz/ by `make fuzz`, and
 * normally (or with SANITIZE=1) into the replayer that `make test` runs.
 *
 * The data loaders are called through their from-memory entry points
 * (lc_csv_load, lc_idx_load, lc_npy_load in src/data/data.h), so nothing
 * touches the disk on the common path. Two code paths only exist behind a
 * file name - gzip detection in lc_data_load and separate label files in
 * lc_labels_load - and for those the input is put into an anonymous
 * memory file (memfd) and handed over as /proc/self/fd/N. */
#define _GNU_SOURCE /* memfd_create */
#include "targets.h"

#include "data/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Names the inputs carry in messages; every error must mention them. */
#define ONNX_NAME "fuzz.onnx"
#define DATA_NAME "fuzz-input"

/* Graphs and data sets beyond this many values skip the extra work
 * (forward pass, export) so that one input stays fast. */
#define FUZZ_MAX_WORK ((size_t)1 << 22)

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz invariant broken: %s: %s\n", what, detail);
    abort();
}

/* One line, not empty, and naming the input when `name` is given. */
static void check_err(lc_status st, const lc_error *e, const char *name)
{
    if (st == LC_OK) return;
    if (e->code != st) die("error code differs from the returned status", e->msg);
    if (!e->msg[0]) die("empty error message", lc_status_str(st));
    if (strchr(e->msg, '\n') || strchr(e->msg, '\r')) die("error message of several lines", e->msg);
    if (name && !strstr(e->msg, name)) die("error message does not name the input", e->msg);
}

static void check_data(const lc_data *d)
{
    size_t rows = lc_data_rows(d);
    int cols = lc_data_cols(d);
    const float *x = lc_data_x(d);
    const int32_t *y = lc_data_y(d);
    if (rows == 0 || cols < 1) die("loaded data", "no rows or no columns");
    for (size_t i = 0; i < rows * (size_t)cols; i++)
        if (!isfinite(x[i])) die("loaded data", "a feature is NaN or infinite");
    if (!y) return;
    int k = lc_data_classes(d);
    if (k < 1) die("loaded data", "labels but no classes");
    for (size_t r = 0; r < rows; r++)
        if (y[r] < 0 || y[r] >= k) die("loaded data", "a label outside [0, classes)");
}

/* A spec the reader accepted (or the fitter produced) must be written and
 * read back unchanged in shape: it travels that way inside model files. */
static void check_roundtrip(const lc_preproc *p)
{
    char *js = NULL;
    lc_error e;
    if (lc_preproc_to_json(p, &js, &e)) return; /* only out of memory */
    lc_preproc *q = NULL;
    lc_status st = lc_preproc_from_json(js, strlen(js), &q, &e);
    if (st) die("preprocessing JSON written by lincomp is refused by lincomp", e.msg);
    if (lc_preproc_width(q) != lc_preproc_width(p) ||
        lc_preproc_classes(q) != lc_preproc_classes(p) ||
        lc_preproc_n_columns(q) != lc_preproc_n_columns(p) ||
        lc_preproc_standardize(q) != lc_preproc_standardize(p))
        die("preprocessing JSON round trip", js);
    lc_preproc_free(q);
    free(js);
}

/* An anonymous in-memory file holding buf, for the path-only entry points.
 * Returns the descriptor (close it when done) and the path in `path`. */
static int mem_file(const uint8_t *buf, size_t len, char path[64])
{
    int fd = memfd_create("lc_fuzz", 0);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

/* ------------------------------------------------------------------ ONNX */

/* A folder for export round trips, made on first use, removed at exit. */
static char export_dir[64];
static char export_path[96];

static void remove_export_dir(void)
{
    unlink(export_path);
    rmdir(export_dir);
}

static const char *export_file(void)
{
    if (!export_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(export_dir, sizeof export_dir, "%s/lc_fuzz_XXXXXX",
                 tmp && strlen(tmp) < 40 ? tmp : "/tmp");
        if (!mkdtemp(export_dir)) {
            export_dir[0] = 0;
            return NULL;
        }
        snprintf(export_path, sizeof export_path, "%s/out.onnx", export_dir);
        atexit(remove_export_dir);
    }
    return export_path;
}

int lc_fuzz_onnx(const uint8_t *data, size_t size)
{
    lc_graph *g = NULL;
    lc_error e;
    lc_status st = lc_onnx_load_mem(data, size, ONNX_NAME, &g, &e);
    check_err(st, &e, ONNX_NAME);
    if (st) return st;
    if (lc_graph_check_finite(g, &e)) die("imported graph", e.msg);
    const lc_preproc *pre = lc_graph_preproc(g);
    if (pre) check_roundtrip(pre);
    size_t params = lc_graph_params(g);
    int in = lc_graph_input_width(g), out = lc_graph_output_width(g);
    if (params <= FUZZ_MAX_WORK && (size_t)in + (size_t)out <= FUZZ_MAX_WORK) {
        /* the forward pass on two rows: zeros and ones */
        float *x = calloc(2 * (size_t)in, sizeof *x), *y = malloc(2 * (size_t)out * sizeof *y);
        if (x && y) {
            for (int i = 0; i < in; i++) x[in + i] = 1.0f;
            lc_forward(g, x, 2, y, &e);
        }
        free(x);
        free(y);
        /* what lincomp writes, lincomp must read back */
        const char *path = export_file();
        if (path && !lc_onnx_save(g, path, &e)) {
            lc_graph *h = NULL;
            st = lc_onnx_load(path, &h, &e);
            if (st) die("an exported model does not load", e.msg);
            if (lc_graph_input_width(h) != in || lc_graph_output_width(h) != out)
                die("export round trip", "input or output width changed");
            lc_graph_free(h);
        }
    }
    lc_graph_free(g);
    return LC_OK;
}

/* ------------------------------------------------------------------- CSV */

/* The stored spec that mode bit 2 applies: like one `lincomp train` writes. */
static const char spec_json[] =
    "{\"version\":1,\"label\":\"y\",\"standardize\":1,\"columns\":["
    "{\"name\":\"a\",\"kind\":\"numeric\",\"mean\":1.5,\"sd\":2},"
    "{\"name\":\"b\",\"kind\":\"categorical\",\"categories\":[\"p\",\"q\"]},"
    "{\"name\":\"c\",\"kind\":\"numeric\",\"mean\":0,\"sd\":1}],"
    "\"classes\":[\"no\",\"yes\"]}";

/* Mode byte: bit 0 fit a spec, bit 1 give the model's input width and
 * class count as (mode >> 4) + 1, bit 2 apply the stored spec above (instead
 * of fitting), bit 3 name the label column "y". */
int lc_fuzz_csv(const uint8_t *data, size_t size)
{
    if (size < 1) return LC_ERR_FORMAT;
    static lc_preproc *spec;
    lc_error e;
    if (!spec && lc_preproc_from_json(spec_json, sizeof spec_json - 1, &spec, &e))
        die("the harness's own spec", e.msg);
    int mode = data[0];
    lc_load_opts o = {0};
    if (mode & 4) o.pre = spec;
    else o.fit = mode & 1;
    if (mode & 2) o.input_width = o.classes = (mode >> 4) + 1;
    if (mode & 8) o.label = "y";
    lc_data *d = NULL;
    lc_status st = lc_csv_load(DATA_NAME, (const char *)data + 1, size - 1, &o, &d, &e);
    check_err(st, &e, DATA_NAME);
    if (st) return st;
    check_data(d);
    const lc_preproc *fitted = lc_data_preproc(d);
    if (o.fit) {
        if (!fitted) die("fitting", "no spec kept with the data");
        if (lc_preproc_width(fitted) != lc_data_cols(d)) die("fitting", "spec width != columns");
        check_roundtrip(fitted);
        /* train then eval on the same file: the fitted spec must load it
         * again and give the same features and labels */
        lc_load_opts o2 = {.pre = fitted, .label = o.label};
        lc_data *d2 = NULL;
        st = lc_csv_load(DATA_NAME, (const char *)data + 1, size - 1, &o2, &d2, &e);
        if (st) die("the fitted spec refuses its own training file", e.msg);
        size_t n = lc_data_rows(d) * (size_t)lc_data_cols(d);
        if (lc_data_rows(d2) != lc_data_rows(d) || lc_data_cols(d2) != lc_data_cols(d) ||
            memcmp(lc_data_x(d), lc_data_x(d2), n * sizeof(float)) != 0)
            die("the fitted spec", "gives other features on its own training file");
        if (!lc_data_y(d) != !lc_data_y(d2) ||
            (lc_data_y(d) &&
             memcmp(lc_data_y(d), lc_data_y(d2), lc_data_rows(d) * sizeof(int32_t)) != 0))
            die("the fitted spec", "gives other labels on its own training file");
        lc_data_free(d2);
    } else if (fitted) {
        die("loading", "a spec kept without fitting");
    }
    lc_data_free(d);
    return LC_OK;
}

/* ------------------------------------------------------------ IDX and NPY */

/* The file as a labels file for a data set of as many rows as it holds. */
static lc_status labels_mode(const uint8_t *buf, size_t len, bool npy)
{
    struct lc_array a;
    lc_error e;
    lc_status st = npy ? lc_npy_parse(DATA_NAME, buf, len, &a, &e)
                       : lc_idx_parse(DATA_NAME, buf, len, &a, &e);
    check_err(st, &e, DATA_NAME);
    size_t rows = !st && a.rows <= 65536 ? a.rows : 1;
    lc_data *d = NULL;
    if (lc_data_alloc(rows, 1, false, DATA_NAME, &d, &e)) return LC_ERR_NOMEM;
    memset(d->x, 0, rows * sizeof *d->x);
    char path[64];
    int fd = mem_file(buf, len, path);
    if (fd >= 0) {
        st = lc_labels_load(path, d, 0, &e);
        check_err(st, &e, path);
        if (!st) check_data(d);
        close(fd);
    }
    lc_data_free(d);
    return st;
}

/* The whole lc_data_load: gunzipping, detection, then the loader. */
static lc_status path_mode(const uint8_t *buf, size_t len)
{
    char path[64];
    int fd = mem_file(buf, len, path);
    if (fd < 0) return LC_ERR_IO;
    lc_data *d = NULL;
    lc_error e;
    lc_status st = lc_data_load(path, NULL, &d, &e);
    check_err(st, &e, path);
    if (!st) check_data(d);
    lc_data_free(d);
    close(fd);
    return st;
}

/* Mode byte of both: bit 0 read the file as a labels file, else bit 1 go
 * through lc_data_load (gzip, detection), else the format's loader. */
static lc_status array_target(const uint8_t *data, size_t size, bool npy)
{
    if (size < 1) return LC_ERR_FORMAT;
    int mode = data[0];
    const uint8_t *buf = data + 1;
    size_t len = size - 1;
    if (mode & 1) return labels_mode(buf, len, npy);
    if (mode & 2) return path_mode(buf, len);
    lc_load_opts o = {0};
    lc_data *d = NULL;
    lc_error e;
    lc_status st = npy ? lc_npy_load(DATA_NAME, buf, len, &o, &d, &e)
                       : lc_idx_load(DATA_NAME, buf, len, &o, &d, &e);
    check_err(st, &e, DATA_NAME);
    if (!st) check_data(d);
    lc_data_free(d);
    return st;
}

int lc_fuzz_idx(const uint8_t *data, size_t size) { return array_target(data, size, false); }
int lc_fuzz_npy(const uint8_t *data, size_t size) { return array_target(data, size, true); }

/* ------------------------------------------------------ preprocessing JSON */

int lc_fuzz_preproc_json(const uint8_t *data, size_t size)
{
    lc_preproc *p = NULL;
    lc_error e;
    lc_status st = lc_preproc_from_json((const char *)data, size, &p, &e);
    check_err(st, &e, "preprocessing JSON");
    if (st) return st;
    if (lc_preproc_width(p) < 1) die("accepted spec", "width < 1");
    check_roundtrip(p);
    lc_preproc_free(p);
    return LC_OK;
}

lc_fuzz_fn lc_fuzz_find(const char *name)
{
    static const struct {
        const char *name;
        lc_fuzz_fn fn;
    } t[] = {{"onnx", lc_fuzz_onnx},
             {"csv", lc_fuzz_csv},
             {"idx", lc_fuzz_idx},
             {"npy", lc_fuzz_npy},
             {"preproc_json", lc_fuzz_preproc_json}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(name, t[i].name)) return t[i].fn;
    return NULL;
}
