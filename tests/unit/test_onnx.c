/* test_onnx.c - ONNX import and export: exact round trips, refusal of bad
 * and unsupported files, and hand-built models (protobuf-c) whose outputs
 * are computed by hand here. */
#include "test.h"
#include "onnx.pb-c.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

static void tmp_path(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "/tmp/lc_test_onnx_%ld_%s.onnx", (long)getpid(), tag);
}

/* Graph of n nodes from widths, acts and source lists, random weights. */
static lc_graph *named_graph(int n, const char *const *names, const int *width,
                             const lc_act *act, const int *n_in, const int src[][4],
                             unsigned long long seed)
{
    lc_node_spec spec[16];
    for (int k = 0; k < n; k++)
        spec[k] = (lc_node_spec){names ? names[k] : NULL, width[k], act[k], n_in[k], src[k]};
    lc_graph *g;
    lc_error err;
    if (lc_graph_create(n, spec, &g, &err)) {
        printf("    create: %s\n", err.msg);
        return NULL;
    }
    test_rng r = {seed};
    for (int k = 1; k < n; k++) {
        for (int e = 0; e < n_in[k]; e++) {
            float *w = lc_graph_weight(g, k, e);
            for (int i = 0; i < width[k] * width[src[k][e]]; i++) w[i] = (float)test_normal(&r);
        }
        for (int i = 0; i < width[k]; i++) {
            lc_graph_bias(g, k)[i] = (float)test_normal(&r);
            if (lc_graph_slope(g, k)) lc_graph_slope(g, k)[i] = (float)(0.5 * test_uniform(&r));
        }
    }
    return g;
}

static lc_graph *random_graph(int n, const int *width, const lc_act *act, const int *n_in,
                              const int src[][4], unsigned long long seed)
{
    return named_graph(n, NULL, width, act, n_in, src, seed);
}

/* test.h */
int test_same_graph(lc_graph *a, lc_graph *b)
{
    if (lc_graph_nodes(a) != lc_graph_nodes(b)) return 0;
    for (int k = 0; k < lc_graph_nodes(a); k++) {
        int w = lc_graph_width(a, k);
        if (w != lc_graph_width(b, k) || strcmp(lc_graph_name(a, k), lc_graph_name(b, k)))
            return 0;
        if (k == 0) continue;
        lc_act x = lc_graph_act(a, k), y = lc_graph_act(b, k);
        if (x.kind != y.kind || lc_graph_n_in(a, k) != lc_graph_n_in(b, k)) return 0;
        if (x.kind == LC_ACT_LEAKY_RELU && x.alpha != y.alpha) return 0;
        if (x.kind == LC_ACT_CLIP && (x.lo != y.lo || x.hi != y.hi)) return 0;
        for (int e = 0; e < lc_graph_n_in(a, k); e++) {
            int s = lc_graph_src(a, k, e);
            if (s != lc_graph_src(b, k, e) ||
                memcmp(lc_graph_weight(a, k, e), lc_graph_weight(b, k, e),
                       (size_t)w * (size_t)lc_graph_width(a, s) * sizeof(float)))
                return 0;
        }
        if (memcmp(lc_graph_bias(a, k), lc_graph_bias(b, k), (size_t)w * sizeof(float)))
            return 0;
        if (x.kind == LC_ACT_PRELU &&
            memcmp(lc_graph_slope(a, k), lc_graph_slope(b, k), (size_t)w * sizeof(float)))
            return 0;
    }
    return 1;
}

/* save -> load; checks the graph and the forward outputs are identical. */
static int roundtrip(lc_graph *g, const char *tag)
{
    char path[256];
    lc_error err;
    lc_graph *h = NULL;
    tmp_path(path, sizeof path, tag);
    int ok = lc_onnx_save(g, path, &err) == LC_OK;
    if (!ok) printf("    save: %s\n", err.msg);
    if (ok && !(ok = lc_onnx_load(path, &h, &err) == LC_OK)) printf("    load: %s\n", err.msg);
    unlink(path);
    if (ok && !(ok = test_same_graph(g, h))) printf("    %s: graph differs after round trip\n", tag);
    if (ok) {
        enum { N = 7 };
        int in_w = lc_graph_input_width(g), out_w = lc_graph_output_width(g);
        float *x = malloc(sizeof(float) * N * (size_t)in_w);
        float *y1 = malloc(sizeof(float) * N * (size_t)out_w);
        float *y2 = malloc(sizeof(float) * N * (size_t)out_w);
        test_rng r = {99};
        for (int i = 0; i < N * in_w; i++) x[i] = (float)test_normal(&r);
        ok = x && y1 && y2 && !lc_forward(g, x, N, y1, &err) && !lc_forward(h, x, N, y2, &err) &&
             !memcmp(y1, y2, sizeof(float) * N * (size_t)out_w);
        if (!ok) printf("    %s: outputs differ after round trip\n", tag);
        free(x);
        free(y1);
        free(y2);
    }
    lc_graph_free(h);
    return ok;
}

#define A(kind) ((lc_act){kind, 0, 0, 0})

TEST(onnx_roundtrip_activations)
{
    lc_act hidden[] = {A(LC_ACT_RELU), {LC_ACT_LEAKY_RELU, 0.1f, 0, 0}, A(LC_ACT_PRELU),
                       {LC_ACT_CLIP, 0, 0, 6}, {LC_ACT_CLIP, 0, -1.5f, 2.25f},
                       A(LC_ACT_IDENTITY)};
    lc_act output[] = {A(LC_ACT_IDENTITY), A(LC_ACT_SOFTMAX), A(LC_ACT_LOG_SOFTMAX),
                       A(LC_ACT_SIGMOID), A(LC_ACT_RELU)};
    const int width[] = {5, 7, 6, 3}, n_in[] = {0, 1, 1, 1};
    const int src[][4] = {{0}, {0}, {1}, {2}};
    for (size_t i = 0; i < sizeof hidden / sizeof *hidden; i++)
        for (size_t o = 0; o < sizeof output / sizeof *output; o++) {
            lc_act act[] = {A(LC_ACT_IDENTITY), hidden[i], hidden[(i + 1) % 6], output[o]};
            lc_graph *g = random_graph(4, width, act, n_in, src, 1 + i * 10 + o);
            CHECK(g);
            char tag[32];
            snprintf(tag, sizeof tag, "act%zu_%zu", i, o);
            int ok = roundtrip(g, tag);
            lc_graph_free(g);
            CHECK_MSG(ok, "hidden act %d, output act %d", (int)hidden[i].kind,
                      (int)output[o].kind);
        }
}

TEST(onnx_roundtrip_skip_edges)
{
    /* identity node 2 feeds two consumers; skip edges from the input */
    const int width[] = {6, 8, 5, 7, 4, 3}, n_in[] = {0, 1, 2, 1, 3, 2};
    const int src[][4] = {{0}, {0}, {1, 0}, {2}, {3, 0, 2}, {4, 1}};
    lc_act act[] = {A(LC_ACT_IDENTITY), A(LC_ACT_RELU), A(LC_ACT_IDENTITY),
                    A(LC_ACT_PRELU), {LC_ACT_CLIP, 0, 0, 6}, A(LC_ACT_SOFTMAX)};
    lc_graph *g = random_graph(6, width, act, n_in, src, 7);
    CHECK(g);
    int ok = roundtrip(g, "skip");
    lc_graph_free(g);
    CHECK(ok);
}

/* ONNX Runtime refuses repeated node names; lc_graph allows them. */
TEST(onnx_repeated_names)
{
    const char *names[] = {"x", "dense", "dense", "output"};
    const int width[] = {3, 4, 4, 2}, n_in[] = {0, 1, 2, 1};
    const int src[][4] = {{0}, {0}, {1, 0}, {2}};
    lc_act act[] = {A(LC_ACT_IDENTITY), A(LC_ACT_RELU), A(LC_ACT_RELU), A(LC_ACT_IDENTITY)};
    lc_graph *g = named_graph(4, names, width, act, n_in, src, 5), *h = NULL;
    CHECK(g);
    char path[256];
    lc_error err;
    tmp_path(path, sizeof path, "names");
    lc_status st = lc_onnx_save(g, path, &err);
    lc_graph_free(g);
    CHECK_OK(st, &err);
    char buf[4096];
    FILE *f = fopen(path, "rb");
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    st = lc_onnx_load(path, &h, &err);
    unlink(path);
    CHECK_OK(st, &err);
    int ok = !strcmp(lc_graph_name(h, 0), "x") && !strcmp(lc_graph_name(h, 1), "dense") &&
             !strcmp(lc_graph_name(h, 2), "dense~2") && !strcmp(lc_graph_name(h, 3), "output");
    lc_graph_free(h);
    CHECK_MSG(ok, "names not kept or not made unique");
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, (const uint8_t *)buf);
    CHECK(m && m->graph);
    int dup = 0;
    for (size_t i = 0; i < m->graph->n_node; i++)
        for (size_t j = 0; j < i; j++)
            dup += !strcmp(m->graph->node[i]->name, m->graph->node[j]->name);
    onnx__model_proto__free_unpacked(m, NULL);
    CHECK_MSG(!dup, "%d repeated node names in the exported file", dup);
}

TEST(onnx_roundtrip_preprocessing)
{
    char csv[256];
    snprintf(csv, sizeof csv, "/tmp/lc_test_onnx_%ld.csv", (long)getpid());
    FILE *f = fopen(csv, "w");
    CHECK(f);
    fputs("a,b,color,label\n1,2,red,x\n3,4.5,blue,y\n5,,red,x\n", f);
    fclose(f);
    lc_load_opts o = {.fit = 1};
    lc_data *d;
    lc_error err;
    lc_status st = lc_data_load(csv, &o, &d, &err);
    unlink(csv);
    CHECK_OK(st, &err);
    lc_preproc *p = NULL;
    st = lc_preproc_clone(lc_data_preproc(d), &p, &err);
    int w = lc_data_cols(d);
    lc_data_free(d);
    CHECK_OK(st, &err);
    const int width[] = {w, 4, 2}, n_in[] = {0, 1, 1};
    const int src[][4] = {{0}, {0}, {1}};
    lc_act act[] = {A(LC_ACT_IDENTITY), A(LC_ACT_RELU), A(LC_ACT_SOFTMAX)};
    lc_graph *g = random_graph(3, width, act, n_in, src, 3), *h = NULL;
    if (!g) lc_preproc_free(p);
    CHECK(g);
    lc_graph_set_preproc(g, p);
    char path[256];
    tmp_path(path, sizeof path, "pre");
    st = lc_onnx_save(g, path, &err);
    if (!st) st = lc_onnx_load(path, &h, &err);
    unlink(path);
    char *j1 = NULL, *j2 = NULL;
    if (!st && lc_graph_preproc(h)) {
        lc_preproc_to_json(lc_graph_preproc(g), &j1, &err);
        lc_preproc_to_json(lc_graph_preproc(h), &j2, &err);
    }
    int same = j1 && j2 && !strcmp(j1, j2);
    free(j1);
    free(j2);
    lc_graph_free(g);
    lc_graph_free(h);
    CHECK_OK(st, &err);
    CHECK_MSG(same, "preprocessing differs after the round trip");
}

/* --------------------------------------------------------- bad files */

static lc_status load_bytes(const void *b, size_t n, lc_error *err)
{
    lc_graph *g = NULL;
    lc_status st = lc_onnx_load_mem(b, n, "bad.onnx", &g, err);
    lc_graph_free(g);
    return st;
}

TEST(onnx_malformed)
{
    lc_error err;
    CHECK(load_bytes("", 0, &err) == LC_ERR_FORMAT);
    CHECK(strstr(err.msg, "bad.onnx") && strstr(err.msg, "not an ONNX model"));
    const char *text = "a,b,c\n1,2,3\n4,5,6\n";
    CHECK(load_bytes(text, strlen(text), &err) == LC_ERR_FORMAT);
    const char *json = "{\"graph\": {\"node\": []}, \"ir_version\": 7}\n";
    CHECK(load_bytes(json, strlen(json), &err) == LC_ERR_FORMAT);
    test_rng r = {5};
    unsigned char rnd[4096];
    for (int t = 0; t < 20; t++) {
        size_t n = (size_t)test_randint(&r, 1, (int)sizeof rnd);
        for (size_t i = 0; i < n; i++) rnd[i] = (unsigned char)test_randint(&r, 0, 255);
        lc_status st = load_bytes(rnd, n, &err);
        CHECK_MSG(st == LC_ERR_FORMAT, "random bytes %d: %s", t, err.msg);
    }

    /* a valid file cut short anywhere */
    const int width[] = {4, 5, 2}, n_in[] = {0, 1, 1};
    const int src[][4] = {{0}, {0}, {1}};
    lc_act act[] = {A(LC_ACT_IDENTITY), A(LC_ACT_RELU), A(LC_ACT_IDENTITY)};
    lc_graph *g = random_graph(3, width, act, n_in, src, 11);
    CHECK(g);
    char path[256];
    tmp_path(path, sizeof path, "trunc");
    lc_status st = lc_onnx_save(g, path, &err);
    lc_graph_free(g);
    CHECK_OK(st, &err);
    FILE *f = fopen(path, "rb");
    unsigned char buf[8192];
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    unlink(path);
    CHECK(len > 100 && len < sizeof buf);
    for (size_t cut = 1; cut < len; cut += 7) {
        st = load_bytes(buf, cut, &err);
        CHECK_MSG(st == LC_ERR_FORMAT, "cut at %zu of %zu: %s (%s)", cut, len,
                  lc_status_str(st), err.msg);
    }
    CHECK(load_bytes(buf, len, &err) == LC_OK);
    lc_graph *h;
    CHECK(lc_onnx_load("/nonexistent/dir/m.onnx", &h, &err) == LC_ERR_IO);
}

/* ------------------------------------------- hand-built ModelProto */

/* A tiny model builder over fixed pools; strings are borrowed literals. */
enum { MB_N = 24 };
typedef struct mb {
    Onnx__ModelProto m;
    Onnx__GraphProto g;
    Onnx__OperatorSetIdProto op, *ops[1];
    Onnx__NodeProto node[MB_N], *np[MB_N];
    char *ins[MB_N][6], *outs[MB_N][2];
    Onnx__AttributeProto attr[MB_N][3], *ap[MB_N][3];
    Onnx__TensorProto init[MB_N], *ip[MB_N];
    int64_t idims[MB_N][4];
    Onnx__ValueInfoProto vi[2], *vin[1], *vout[1];
    Onnx__TypeProto tp[2];
    Onnx__TypeProto__Tensor tt[2];
    Onnx__TensorShapeProto sh[2];
    Onnx__TensorShapeProto__Dimension dim[2][5], *dp[2][5];
} mb;

static void mb_value(mb *b, int i, const char *name, int rank, const int64_t *dims)
{
    onnx__value_info_proto__init(&b->vi[i]);
    onnx__type_proto__init(&b->tp[i]);
    onnx__type_proto__tensor__init(&b->tt[i]);
    onnx__tensor_shape_proto__init(&b->sh[i]);
    for (int d = 0; d < rank; d++) {
        onnx__tensor_shape_proto__dimension__init(&b->dim[i][d]);
        b->dp[i][d] = &b->dim[i][d];
        if (d == 0) {
            b->dim[i][d].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            b->dim[i][d].dim_param = "batch";
        } else {
            b->dim[i][d].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            b->dim[i][d].dim_value = dims[d - 1];
        }
    }
    b->sh[i].n_dim = (size_t)rank;
    b->sh[i].dim = b->dp[i];
    b->tt[i].has_elem_type = 1;
    b->tt[i].elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    b->tt[i].shape = &b->sh[i];
    b->tp[i].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    b->tp[i].tensor_type = &b->tt[i];
    b->vi[i].name = (char *)name;
    b->vi[i].type = &b->tp[i];
}

/* in: [batch, in_dims...]; out: [batch, out_width] named out. */
static void mb_init(mb *b, int opset, int in_rank, const int64_t *in_dims, int out_width)
{
    memset(b, 0, sizeof *b);
    onnx__model_proto__init(&b->m);
    onnx__graph_proto__init(&b->g);
    onnx__operator_set_id_proto__init(&b->op);
    b->op.has_version = 1;
    b->op.version = opset;
    b->op.domain = "";
    b->ops[0] = &b->op;
    b->m.has_ir_version = 1;
    b->m.ir_version = opset >= 13 ? 7 : 6;
    b->m.n_opset_import = 1;
    b->m.opset_import = b->ops;
    b->m.graph = &b->g;
    int64_t od = out_width;
    mb_value(b, 0, "x", in_rank + 1, in_dims);
    mb_value(b, 1, "y", 2, &od);
    b->vin[0] = &b->vi[0];
    b->vout[0] = &b->vi[1];
    b->g.n_input = 1;
    b->g.input = b->vin;
    b->g.n_output = 1;
    b->g.output = b->vout;
    b->g.node = b->np;
    b->g.initializer = b->ip;
}

/* A float initializer (float_data) or, with raw, raw_data on this host. */
static Onnx__TensorProto *mb_tensor(mb *b, const char *name, const float *data, int rank,
                                    int64_t d0, int64_t d1)
{
    size_t i = b->g.n_initializer++;
    Onnx__TensorProto *t = &b->init[i];
    onnx__tensor_proto__init(t);
    b->ip[i] = t;
    b->idims[i][0] = d0;
    b->idims[i][1] = d1;
    t->n_dims = (size_t)rank;
    t->dims = b->idims[i];
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->name = (char *)name;
    t->n_float_data = (size_t)(rank == 0 ? 1 : rank == 1 ? d0 : d0 * d1);
    t->float_data = (float *)data;
    return t;
}

static Onnx__TensorProto *mb_ints(mb *b, const char *name, const int64_t *data, int64_t n)
{
    size_t i = b->g.n_initializer++;
    Onnx__TensorProto *t = &b->init[i];
    onnx__tensor_proto__init(t);
    b->ip[i] = t;
    b->idims[i][0] = n;
    t->n_dims = 1;
    t->dims = b->idims[i];
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    t->name = (char *)name;
    t->n_int64_data = (size_t)n;
    t->int64_data = (int64_t *)data;
    return t;
}

/* Node with up to 5 inputs (NULL-terminated) and one output. */
static Onnx__NodeProto *mb_node(mb *b, const char *op, const char *name, const char *out, ...)
{
    size_t i = b->g.n_node++;
    Onnx__NodeProto *n = &b->node[i];
    onnx__node_proto__init(n);
    b->np[i] = n;
    va_list ap;
    va_start(ap, out);
    const char *s;
    while ((s = va_arg(ap, const char *)) && n->n_input < 5) b->ins[i][n->n_input++] = (char *)s;
    va_end(ap);
    b->outs[i][0] = (char *)out;
    n->input = b->ins[i];
    n->n_output = 1;
    n->output = b->outs[i];
    n->name = (char *)name;
    n->op_type = (char *)op;
    n->attribute = b->ap[i];
    return n;
}

static void mb_attr(mb *b, Onnx__NodeProto *n, const char *name, int is_float, double v)
{
    size_t i = (size_t)(n - b->node);
    Onnx__AttributeProto *a = &b->attr[i][n->n_attribute];
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    if (is_float) {
        a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
        a->has_f = 1;
        a->f = (float)v;
    } else {
        a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        a->has_i = 1;
        a->i = (int64_t)v;
    }
    b->ap[i][n->n_attribute++] = a;
}

static lc_status mb_load(mb *b, lc_graph **g, lc_error *err)
{
    size_t len = onnx__model_proto__get_packed_size(&b->m);
    uint8_t *buf = malloc(len);
    if (!buf) return LC_ERR_NOMEM;
    onnx__model_proto__pack(&b->m, buf);
    lc_status st = lc_onnx_load_mem(buf, len, "built.onnx", g, err);
    free(buf);
    return st;
}

/* Runs g on x (n rows) and compares with want. */
static int check_outputs(lc_graph *g, const float *x, size_t n, const float *want, int out_w)
{
    float y[64];
    lc_error err;
    if (lc_forward(g, x, n, y, &err)) return 0;
    return test_close(y, want, n * (size_t)out_w, 1e-5, 1e-5, __FILE__, __LINE__);
}

/* Shared small weights: W1 (3, 2) as [out, in], b1 (3), W2 (2, 3), b2 (2). */
static const float W1[] = {1, -2, 0.5f, 1.5f, -1, -0.25f}, B1[] = {0.1f, -0.2f, 0.3f};
static const float W2[] = {0.7f, -1.1f, 2, 0.4f, 0.9f, -0.6f}, B2[] = {0.05f, -0.15f};
static const float X[] = {0.3f, -1.2f, 2.0f, 0.5f, -0.7f, -0.1f, 1.1f, 1.9f};

/* The shared weights as initializers W1, B1, W2, B2 of b. */
static void mb_mlp_weights(mb *b)
{
    mb_tensor(b, "W1", W1, 2, 3, 2);
    mb_tensor(b, "B1", B1, 1, 3, 0);
    mb_tensor(b, "W2", W2, 2, 2, 3);
    mb_tensor(b, "B2", B2, 1, 2, 0);
}

/* reference: out = W2 act(pre(W1 x + b1)) + b2 for 4 samples */
static void reference(float *out, double (*act)(double, int))
{
    for (int s = 0; s < 4; s++) {
        double h[3];
        for (int i = 0; i < 3; i++)
            h[i] = act(B1[i] + W1[2 * i] * X[2 * s] + W1[2 * i + 1] * X[2 * s + 1], i);
        for (int o = 0; o < 2; o++)
            out[2 * s + o] = (float)(B2[o] + W2[3 * o] * h[0] + W2[3 * o + 1] * h[1] +
                                     W2[3 * o + 2] * h[2]);
    }
}

static double relu(double z, int i) { (void)i; return z > 0 ? z : 0; }

TEST(onnx_unsupported_tanh)
{
    mb b;
    int64_t d = 2;
    mb_init(&b, 13, 1, &d, 2);
    mb_tensor(&b, "W1", W1, 2, 3, 2);
    mb_tensor(&b, "W2", W2, 2, 2, 3);
    mb_attr(&b, mb_node(&b, "Gemm", "fc1", "z", "x", "W1", NULL), "transB", 0, 1);
    mb_node(&b, "Tanh", "act1", "h", "z", NULL);
    mb_attr(&b, mb_node(&b, "Gemm", "fc2", "y", "h", "W2", NULL), "transB", 0, 1);
    lc_graph *g = NULL;
    lc_error err;
    lc_status st = mb_load(&b, &g, &err);
    lc_graph_free(g);
    CHECK_MSG(st == LC_ERR_UNSUPPORTED, "%s", err.msg);
    CHECK_MSG(strstr(err.msg, "act1") && strstr(err.msg, "Tanh") && strstr(err.msg, "built.onnx"),
              "%s", err.msg);

    /* Softmax in a hidden layer */
    b.node[1].op_type = "Softmax";
    st = mb_load(&b, &g, &err);
    lc_graph_free(g);
    CHECK_MSG(st == LC_ERR_UNSUPPORTED && strstr(err.msg, "Softmax"), "%s", err.msg);

    /* weights in an external file */
    b.node[1].op_type = "Relu";
    b.init[1].has_data_location = 1;
    b.init[1].data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    st = mb_load(&b, &g, &err);
    lc_graph_free(g);
    CHECK_MSG(st == LC_ERR_UNSUPPORTED && strstr(err.msg, "'W2'"), "%s", err.msg);
    b.init[1].has_data_location = 0;

    /* a weight shape that does not match the data */
    b.idims[1][1] = 2;
    b.init[1].n_float_data = 4;
    st = mb_load(&b, &g, &err);
    lc_graph_free(g);
    CHECK_MSG(st == LC_ERR_FORMAT && strstr(err.msg, "fc2"), "%s", err.msg);
    /* declared shape and data length disagree */
    b.idims[1][1] = 3;
    st = mb_load(&b, &g, &err);
    lc_graph_free(g);
    CHECK_MSG(st == LC_ERR_FORMAT && strstr(err.msg, "W2"), "%s", err.msg);
    b.init[1].n_float_data = 6;
    st = mb_load(&b, &g, &err);
    lc_graph_free(g);
    CHECK_OK(st, &err);
}

TEST(onnx_gemm_transb0_alpha_beta)
{
    /* W1 stored transposed (in, out), alpha = 0.5 on W, beta = 2 on C [1, 3] */
    float w1t[6], w1h[6], b1h[3], w2t[6];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) {
            w1t[j * 3 + i] = 2 * W1[i * 2 + j]; /* alpha 0.5 brings it back */
            w1h[i * 2 + j] = W1[i * 2 + j];
        }
    for (int i = 0; i < 3; i++) b1h[i] = B1[i] / 2; /* beta 2 */
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) w2t[j * 2 + i] = W2[i * 3 + j];
    (void)w1h;
    mb b;
    int64_t d = 2;
    mb_init(&b, 11, 1, &d, 2);
    mb_tensor(&b, "W1", w1t, 2, 2, 3);
    mb_tensor(&b, "C1", b1h, 2, 1, 3);
    mb_tensor(&b, "W2", w2t, 2, 3, 2);
    mb_tensor(&b, "C2", B2, 1, 2, 0);
    Onnx__NodeProto *n = mb_node(&b, "Gemm", "fc1", "z", "x", "W1", "C1", NULL);
    mb_attr(&b, n, "alpha", 1, 0.5);
    mb_attr(&b, n, "beta", 1, 2.0);
    mb_node(&b, "Relu", "r", "h", "z", NULL);
    mb_node(&b, "Gemm", "fc2", "y", "h", "W2", "C2", NULL);
    lc_graph *g;
    lc_error err;
    CHECK_OK(mb_load(&b, &g, &err), &err);
    float want[8];
    reference(want, relu);
    int ok = lc_graph_nodes(g) == 3 && lc_graph_act(g, 1).kind == LC_ACT_RELU &&
             !strcmp(lc_graph_name(g, 0), "x") && !strcmp(lc_graph_name(g, 1), "fc1") &&
             check_outputs(g, X, 4, want, 2);
    lc_graph_free(g);
    CHECK(ok);
}

TEST(onnx_matmul_add)
{
    float w1t[6], w2t[6];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) w1t[j * 3 + i] = W1[i * 2 + j];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) w2t[j * 2 + i] = W2[i * 3 + j];
    mb b;
    int64_t d = 2;
    mb_init(&b, 17, 1, &d, 2);
    mb_tensor(&b, "W1", w1t, 2, 2, 3);
    mb_tensor(&b, "b1", B1, 1, 3, 0);
    mb_tensor(&b, "W2", w2t, 2, 3, 2);
    mb_tensor(&b, "b2", B2, 2, 1, 2);
    mb_node(&b, "MatMul", "mm1", "m1", "x", "W1", NULL);
    mb_node(&b, "Add", "add1", "z1", "b1", "m1", NULL); /* constant first */
    mb_node(&b, "Relu", "r", "h", "z1", NULL);
    mb_node(&b, "MatMul", "mm2", "m2", "h", "W2", NULL);
    mb_node(&b, "Add", "add2", "y", "m2", "b2", NULL);
    lc_graph *g;
    lc_error err;
    CHECK_OK(mb_load(&b, &g, &err), &err);
    float want[8];
    reference(want, relu);
    int ok = lc_graph_nodes(g) == 3 && check_outputs(g, X, 4, want, 2);
    lc_graph_free(g);
    CHECK(ok);
}

static const float GAMMA[] = {1.5f, 0.5f, -2}, BETA[] = {0.1f, 0.2f, -0.3f};
static const float MEAN[] = {0.3f, -0.4f, 1}, VAR[] = {2, 0.5f, 0.1f};

static double bn(double z, int i)
{
    return (z - MEAN[i]) / sqrt(VAR[i] + 1e-3) * GAMMA[i] + BETA[i];
}
static double bn_relu(double z, int i) { return relu(bn(z, i), i); }
static double relu_bn(double z, int i) { return bn(relu(z, i), i); }

TEST(onnx_batchnorm_folding)
{
    for (int after = 0; after < 2; after++) {
        mb b;
        int64_t d = 2;
        mb_init(&b, 14, 1, &d, 2);
        mb_mlp_weights(&b);
        mb_tensor(&b, "g", GAMMA, 1, 3, 0);
        mb_tensor(&b, "be", BETA, 1, 3, 0);
        mb_tensor(&b, "mu", MEAN, 1, 3, 0);
        mb_tensor(&b, "var", VAR, 1, 3, 0);
        mb_attr(&b, mb_node(&b, "Gemm", "fc1", "z", "x", "W1", "B1", NULL), "transB", 0, 1);
        Onnx__NodeProto *n;
        if (after) {
            mb_node(&b, "Relu", "r", "h", "z", NULL);
            n = mb_node(&b, "BatchNormalization", "bn", "hb", "h", "g", "be", "mu", "var", NULL);
        } else {
            n = mb_node(&b, "BatchNormalization", "bn", "zb", "z", "g", "be", "mu", "var", NULL);
            mb_node(&b, "Relu", "r", "hb", "zb", NULL);
        }
        mb_attr(&b, n, "epsilon", 1, 1e-3);
        mb_node(&b, "Dropout", "drop", "hd", "hb", NULL);
        mb_attr(&b, mb_node(&b, "Gemm", "fc2", "y", "hd", "W2", "B2", NULL), "transB", 0, 1);
        lc_graph *g;
        lc_error err;
        CHECK_OK(mb_load(&b, &g, &err), &err);
        float want[8];
        reference(want, after ? relu_bn : bn_relu);
        int ok = lc_graph_nodes(g) == 3 && check_outputs(g, X, 4, want, 2);
        lc_graph_free(g);
        CHECK_MSG(ok, "BatchNorm %s the ReLU", after ? "after" : "before");
    }
}

/* BatchNorm in training mode normalises with the batch's statistics: the
 * running ones in the file would give other outputs, so it is refused at
 * every opset, whether marked by training_mode=1 (opset 14 on) or, before
 * that, by the optional statistics outputs. An optional output named ""
 * is absent and changes nothing. */
TEST(onnx_batchnorm_training_refused)
{
    static const struct {
        int opset, mode;
        const char *out1; /* name of output 2, NULL = one output */
        int ok;
    } cases[] = {
        {9, -1, "running_mean", 0}, {13, -1, "running_mean", 0}, {15, 1, NULL, 0},
        {15, 0, "running_mean", 0}, {13, -1, "", 1},              {15, 0, "", 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mb b;
        int64_t d = 2;
        mb_init(&b, cases[k].opset, 1, &d, 2);
        mb_tensor(&b, "W1", W1, 2, 3, 2);
        mb_tensor(&b, "W2", W2, 2, 2, 3);
        mb_tensor(&b, "g", GAMMA, 1, 3, 0);
        mb_tensor(&b, "be", BETA, 1, 3, 0);
        mb_tensor(&b, "mu", MEAN, 1, 3, 0);
        mb_tensor(&b, "var", VAR, 1, 3, 0);
        mb_attr(&b, mb_node(&b, "Gemm", "fc1", "z", "x", "W1", NULL), "transB", 0, 1);
        Onnx__NodeProto *n =
            mb_node(&b, "BatchNormalization", "bn7", "zb", "z", "g", "be", "mu", "var", NULL);
        if (cases[k].mode >= 0) mb_attr(&b, n, "training_mode", 0, cases[k].mode);
        if (cases[k].out1) {
            b.outs[n - b.node][1] = (char *)cases[k].out1;
            n->n_output = 2;
        }
        mb_node(&b, "Relu", "r", "h", "zb", NULL);
        mb_attr(&b, mb_node(&b, "Gemm", "fc2", "y", "h", "W2", NULL), "transB", 0, 1);
        lc_graph *g = NULL;
        lc_error err;
        lc_status st = mb_load(&b, &g, &err);
        lc_graph_free(g);
        if (cases[k].ok)
            CHECK_MSG(st == LC_OK, "case %zu: %s", k, err.msg);
        else
            CHECK_MSG(st == LC_ERR_UNSUPPORTED && strstr(err.msg, "node 'bn7'") &&
                          strstr(err.msg, "training mode"),
                      "case %zu: %s (%s)", k, lc_status_str(st), st ? err.msg : "");
    }
}

static double clip06(double z, int i) { (void)i; return z < 0 ? 0 : z > 0.6 ? 0.6 : z; }
static double clip_hi(double z, int i) { (void)i; return z > 0.6 ? 0.6 : z; }

TEST(onnx_clip_by_opset)
{
    static const float lo = 0, hi = 0.6f;
    for (int variant = 0; variant < 3; variant++) {
        mb b;
        int64_t d = 2;
        mb_init(&b, variant == 0 ? 9 : 13, 1, &d, 2);
        mb_mlp_weights(&b);
        mb_tensor(&b, "lo", &lo, 0, 0, 0);
        mb_tensor(&b, "hi", &hi, 0, 0, 0);
        mb_attr(&b, mb_node(&b, "Gemm", "fc1", "z", "x", "W1", "B1", NULL), "transB", 0, 1);
        if (variant == 0) { /* attributes */
            Onnx__NodeProto *n = mb_node(&b, "Clip", "c", "h", "z", NULL);
            mb_attr(&b, n, "min", 1, 0);
            mb_attr(&b, n, "max", 1, 0.6);
        } else if (variant == 1) {
            mb_node(&b, "Clip", "c", "h", "z", "lo", "hi", NULL);
        } else { /* max only: the min input is named "" */
            mb_node(&b, "Clip", "c", "h", "z", "", "hi", NULL);
        }
        mb_attr(&b, mb_node(&b, "Gemm", "fc2", "y", "h", "W2", "B2", NULL), "transB", 0, 1);
        lc_graph *g;
        lc_error err;
        CHECK_OK(mb_load(&b, &g, &err), &err);
        float want[8];
        reference(want, variant == 2 ? clip_hi : clip06);
        int ok = lc_graph_act(g, 1).kind == LC_ACT_CLIP && check_outputs(g, X, 4, want, 2);
        lc_graph_free(g);
        CHECK_MSG(ok, "Clip variant %d", variant);
    }
}

/* [N, 1, 1, 2] input, Sub/Div preprocessing, Reshape with a computed shape,
 * a residual Add of two computed values, and a final Sigmoid. */
TEST(onnx_shape_subgraph_and_residual)
{
    static const float mean = 0.5f, scale = 4.0f, wr[] = {1, 2, 3, 4, 5, 6}; /* (2, 3) */
    static const int64_t idx0 = 0, minus1[] = {-1}, axes[] = {0};
    mb b;
    int64_t d[3] = {1, 1, 2};
    mb_init(&b, 13, 3, d, 2);
    mb_tensor(&b, "mean", &mean, 0, 0, 0);
    mb_tensor(&b, "scale", &scale, 1, 1, 0);
    mb_mlp_weights(&b);
    mb_tensor(&b, "Wr", wr, 2, 2, 3);
    mb_ints(&b, "minus1", minus1, 1);
    mb_ints(&b, "axes", axes, 1);
    Onnx__TensorProto *i0 = mb_ints(&b, "idx0", &idx0, 1);
    i0->n_dims = 0; /* a scalar index */
    mb_node(&b, "Sub", "center", "xc", "x", "mean", NULL);
    mb_node(&b, "Div", "norm", "xn", "xc", "scale", NULL);
    mb_node(&b, "Shape", "shape", "s", "xn", NULL);
    mb_node(&b, "Gather", "gather", "n0", "s", "idx0", NULL);
    mb_node(&b, "Unsqueeze", "unsq", "n1", "n0", "axes", NULL);
    mb_node(&b, "Concat", "cat", "shp", "n1", "minus1", NULL);
    mb_node(&b, "Reshape", "flat", "xf", "xn", "shp", NULL);
    mb_attr(&b, mb_node(&b, "Gemm", "fc1", "z", "xf", "W1", "B1", NULL), "transB", 0, 1);
    mb_node(&b, "Relu", "r", "h", "z", NULL);
    mb_attr(&b, mb_node(&b, "Gemm", "fc2", "o", "h", "W2", "B2", NULL), "transB", 0, 1);
    mb_attr(&b, mb_node(&b, "Gemm", "res", "o2", "h", "Wr", NULL), "transB", 0, 1);
    mb_node(&b, "Add", "join", "o3", "o", "o2", NULL);
    mb_node(&b, "Sigmoid", "sig", "y", "o3", NULL);
    b.node[5].attribute = NULL; /* Concat's axis is irrelevant here */
    lc_graph *g;
    lc_error err;
    CHECK_OK(mb_load(&b, &g, &err), &err);
    float want[8], xn[8];
    for (int i = 0; i < 8; i++) xn[i] = (X[i] - mean) / scale;
    for (int s = 0; s < 4; s++) {
        double h[3];
        for (int i = 0; i < 3; i++)
            h[i] = relu(B1[i] + W1[2 * i] * xn[2 * s] + W1[2 * i + 1] * xn[2 * s + 1], i);
        for (int o = 0; o < 2; o++) {
            double z = B2[o];
            for (int j = 0; j < 3; j++) z += (W2[3 * o + j] + wr[3 * o + j]) * h[j];
            want[2 * s + o] = (float)(1 / (1 + exp(-z)));
        }
    }
    int ok = lc_graph_nodes(g) == 3 && lc_graph_act(g, 2).kind == LC_ACT_SIGMOID &&
             lc_graph_input_width(g) == 2 && check_outputs(g, X, 4, want, 2);
    lc_graph_free(g);
    CHECK(ok);
}

TEST(onnx_multiple_inputs_refused)
{
    mb b;
    int64_t d = 2;
    mb_init(&b, 13, 1, &d, 2);
    mb_tensor(&b, "W1", W1, 2, 3, 2);
    Onnx__ValueInfoProto x2 = b.vi[0], *two[2] = {&b.vi[0], &x2};
    x2.name = "x2";
    b.g.input = two;
    b.g.n_input = 2;
    mb_attr(&b, mb_node(&b, "Gemm", "fc1", "y", "x", "W1", NULL), "transB", 0, 1);
    lc_graph *g = NULL;
    lc_error err;
    lc_status st = mb_load(&b, &g, &err);
    lc_graph_free(g);
    CHECK_MSG(st == LC_ERR_UNSUPPORTED && strstr(err.msg, "inputs"), "%s", err.msg);
}

/* Types by name, not ONNX's numbers: users export float64 and int64 inputs
 * by accident and "element type 11" told them nothing. */
TEST(onnx_element_type_names)
{
    static const struct {
        int32_t type;
        int input; /* 1: the graph input's type, 0: an initializer's */
        const char *want;
    } cases[] = {
        {ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, 1, "input 'x' has element type double (float64)"},
        {ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, "input 'x' has element type int64;"},
        {ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, 1, "element type uint8;"},
        {99, 1, "element type ONNX data type 99;"},
        {ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, 0, "tensor 'W1' has data type float16"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mb b;
        int64_t d = 2;
        mb_init(&b, 13, 1, &d, 3);
        Onnx__TensorProto *w = mb_tensor(&b, "W1", W1, 2, 3, 2);
        mb_attr(&b, mb_node(&b, "Gemm", "fc1", "y", "x", "W1", NULL), "transB", 0, 1);
        if (cases[k].input)
            b.tt[0].elem_type = cases[k].type;
        else
            w->data_type = cases[k].type;
        lc_graph *g = NULL;
        lc_error err;
        lc_status st = mb_load(&b, &g, &err);
        lc_graph_free(g);
        CHECK_MSG(st == LC_ERR_UNSUPPORTED && strstr(err.msg, cases[k].want), "case %zu: %s", k,
                  st ? err.msg : "loaded");
    }
}

/* A hidden Sigmoid (alone or in SiLU, x * sigmoid(x)) is refused at the
 * Sigmoid as a smooth activation; a hidden Softmax keeps the output-only
 * message at the node it feeds. */
TEST(onnx_hidden_sigmoid_message)
{
    static const struct {
        const char *act, *mul, *want[3];
    } cases[] = {
        {"Sigmoid", NULL, {"node 's1' (Sigmoid)", "not piecewise-linear", "feeding node 'fc2'"}},
        {"Sigmoid", "Mul", {"node 's1' (Sigmoid)", "not piecewise-linear", "SiLU"}},
        {"Softmax", NULL, {"node 'fc2' (Gemm)", "comes from Softmax,", "last operation"}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mb b;
        int64_t d = 2;
        mb_init(&b, 13, 1, &d, 2);
        mb_tensor(&b, "W1", W1, 2, 3, 2);
        mb_tensor(&b, "W2", W2, 2, 2, 3);
        mb_attr(&b, mb_node(&b, "Gemm", "fc1", "z", "x", "W1", NULL), "transB", 0, 1);
        mb_node(&b, cases[k].act, "s1", cases[k].mul ? "sz" : "h", "z", NULL);
        if (cases[k].mul) mb_node(&b, "Mul", "silu", "h", "z", "sz", NULL);
        mb_attr(&b, mb_node(&b, "Gemm", "fc2", "y", "h", "W2", NULL), "transB", 0, 1);
        lc_graph *g = NULL;
        lc_error err;
        lc_status st = mb_load(&b, &g, &err);
        lc_graph_free(g);
        int ok = st == LC_ERR_UNSUPPORTED;
        for (int i = 0; i < 3 && ok; i++) ok = strstr(err.msg, cases[k].want[i]) != NULL;
        CHECK_MSG(ok, "case %zu: %s", k, st ? err.msg : "loaded");
    }
}

/* Reshape's leading 0 keeps the batch, unless allowzero=1 makes it a
 * dimension of size 0 (ONNX Runtime refuses such a [0, -1] too). */
TEST(onnx_reshape_allowzero)
{
    static const int64_t shp[] = {0, -1};
    for (int allow = 0; allow < 2; allow++) {
        mb b;
        int64_t d = 2;
        mb_init(&b, 14, 1, &d, 2);
        mb_mlp_weights(&b);
        mb_ints(&b, "shp", shp, 2);
        Onnx__NodeProto *r = mb_node(&b, "Reshape", "flat", "xr", "x", "shp", NULL);
        if (allow) mb_attr(&b, r, "allowzero", 0, 1);
        mb_attr(&b, mb_node(&b, "Gemm", "fc1", "z", "xr", "W1", "B1", NULL), "transB", 0, 1);
        mb_node(&b, "Relu", "r", "h", "z", NULL);
        mb_attr(&b, mb_node(&b, "Gemm", "fc2", "y", "h", "W2", "B2", NULL), "transB", 0, 1);
        lc_graph *g = NULL;
        lc_error err;
        lc_status st = mb_load(&b, &g, &err);
        if (!allow) CHECK_OK(st, &err);
        else CHECK_MSG(st == LC_ERR_UNSUPPORTED && strstr(err.msg, "'flat'") && strstr(err.msg, "allowzero=1"),
                       "%s", err.msg);
        lc_graph_free(g);
    }
}

/* Neg (PyTorch's -x) is a scaling by -1: on the input, on a ReLU's output,
 * and of a constant (shape bookkeeping, as before). */
TEST(onnx_neg)
{
    static const int64_t shp[] = {-1, 2};
    mb b;
    int64_t d = 2;
    mb_init(&b, 13, 1, &d, 2);
    mb_mlp_weights(&b);
    mb_ints(&b, "shp", shp, 2);
    mb_node(&b, "Neg", "neg_shape", "nshp", "shp", NULL);
    mb_node(&b, "Neg", "neg_shape2", "shp2", "nshp", NULL);
    mb_node(&b, "Reshape", "flat", "xr", "x", "shp2", NULL);
    mb_node(&b, "Neg", "neg_in", "xn", "xr", NULL);
    mb_attr(&b, mb_node(&b, "Gemm", "fc1", "z", "xn", "W1", "B1", NULL), "transB", 0, 1);
    mb_node(&b, "Relu", "r", "h", "z", NULL);
    mb_node(&b, "Neg", "neg_h", "hn", "h", NULL);
    mb_attr(&b, mb_node(&b, "Gemm", "fc2", "y", "hn", "W2", "B2", NULL), "transB", 0, 1);
    lc_graph *g;
    lc_error err;
    CHECK_OK(mb_load(&b, &g, &err), &err);
    float want[8];
    for (int s = 0; s < 4; s++) {
        double h[3];
        for (int i = 0; i < 3; i++)
            h[i] = -relu(B1[i] - W1[2 * i] * X[2 * s] - W1[2 * i + 1] * X[2 * s + 1], i);
        for (int o = 0; o < 2; o++)
            want[2 * s + o] = (float)(B2[o] + W2[3 * o] * h[0] + W2[3 * o + 1] * h[1] +
                                      W2[3 * o + 2] * h[2]);
    }
    int ok = lc_graph_nodes(g) == 3 && check_outputs(g, X, 4, want, 2);
    lc_graph_free(g);
    CHECK(ok);
}
