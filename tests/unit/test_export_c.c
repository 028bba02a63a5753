/* test_export_c.c - lc_export_c: argument checks, refusals, the files it
 * leaves (none on failure), escaping of names from the model file, exact
 * float literals, and the test models for tests/cli/export_c.sh.
 *
 * export_c_models writes random graphs with skip edges and every activation
 * kind (and two with stored preprocessing) as ONNX files with inputs. When
 * LC_EXPORT_C_DIR is set it writes them there for the shell test, which
 * exports, compiles and runs them against `lincomp predict`; without it the
 * models go to a temporary folder, are exported once and removed. */
#include "test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------- helpers */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Removes every file in dir (flat), then dir. */
static void rm_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

/* A 2-3-2 MLP with set weights. */
static lc_graph *small_graph(lc_act hidden, lc_act out)
{
    int s0 = 0, s1 = 1;
    lc_node_spec spec[3] = {{"in", 2, {0}, 0, NULL},
                            {"hid", 3, hidden, 1, &s0},
                            {"out", 2, out, 1, &s1}};
    lc_graph *g;
    if (lc_graph_create(3, spec, &g, NULL)) return NULL;
    float *w1 = lc_graph_weight(g, 1, 0), *w2 = lc_graph_weight(g, 2, 0);
    for (int i = 0; i < 6; i++) {
        w1[i] = 0.25f * (float)(i - 2);
        w2[i] = 0.5f - 0.125f * (float)i;
    }
    lc_graph_bias(g, 1)[0] = -0.0f;
    lc_graph_bias(g, 1)[1] = 1.0f / 3.0f;
    lc_graph_bias(g, 2)[1] = 1e-40f; /* subnormal */
    return g;
}

/* ------------------------------------------------------- refusals */

TEST(export_c_bad_arguments)
{
    char dir[] = "/tmp/lc_export_c_XXXXXX";
    CHECK(mkdtemp(dir));
    lc_act relu = {LC_ACT_RELU, 0, 0, 0}, id = {LC_ACT_IDENTITY, 0, 0, 0};
    lc_graph *g = small_graph(relu, id);
    CHECK(g);
    lc_error err;
    char c[600], h[600], bad[600];
    snprintf(c, sizeof c, "%s/m.c", dir);
    snprintf(h, sizeof h, "%s/m.h", dir);
    const char *names[] = {"1abc", "a-b", "", "a b", "ü"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        CHECK_MSG(lc_export_c(g, c, names[i], &err) == LC_ERR_INVALID, "name '%s'", names[i]);
    snprintf(bad, sizeof bad, "%s/m.cc", dir);
    CHECK(lc_export_c(g, bad, "m", &err) == LC_ERR_INVALID);
    snprintf(bad, sizeof bad, "%s/.c", dir);
    CHECK(lc_export_c(g, bad, "m", &err) == LC_ERR_INVALID);
    snprintf(bad, sizeof bad, "%s/a\"b.c", dir);
    CHECK(lc_export_c(g, bad, "m", &err) == LC_ERR_INVALID);
    CHECK(!exists(c) && !exists(h));

    /* a folder that does not exist: LC_ERR_IO and nothing written */
    snprintf(bad, sizeof bad, "%s/no/such/m.c", dir);
    CHECK(lc_export_c(g, bad, NULL, &err) == LC_ERR_IO);

    /* non-finite weights are refused before anything is written */
    lc_graph_weight(g, 2, 0)[3] = NAN;
    CHECK(lc_export_c(g, c, "m", &err) == LC_ERR_NUMERIC);
    CHECK(strstr(err.msg, "out"));
    CHECK(!exists(c) && !exists(h));
    lc_graph_free(g);

    lc_act leaky = {LC_ACT_LEAKY_RELU, INFINITY, 0, 0};
    g = small_graph(leaky, id);
    CHECK(g);
    CHECK(lc_export_c(g, c, "m", &err) == LC_ERR_NUMERIC);
    lc_graph_free(g);
    CHECK(!exists(c) && !exists(h));
    rm_dir(dir);
}

/* The .c cannot be written (a folder of its name is in the way): the header
 * written just before is removed again. */
TEST(export_c_no_header_left_when_source_fails)
{
    char dir[] = "/tmp/lc_export_c_XXXXXX";
    CHECK(mkdtemp(dir));
    lc_act relu = {LC_ACT_RELU, 0, 0, 0}, id = {LC_ACT_IDENTITY, 0, 0, 0};
    lc_graph *g = small_graph(relu, id);
    CHECK(g);
    char c[600], h[600];
    snprintf(c, sizeof c, "%s/m.c", dir);
    snprintf(h, sizeof h, "%s/m.h", dir);
    CHECK(mkdir(c, 0700) == 0);
    lc_error err;
    CHECK(lc_export_c(g, c, "m", &err) == LC_ERR_IO);
    CHECK(!exists(h));
    lc_graph_free(g);
    rm_dir(dir);
}

/* ------------------------------------------------------ generated text */

TEST(export_c_text)
{
    char dir[] = "/tmp/lc_export_c_XXXXXX";
    CHECK(mkdtemp(dir));
    lc_act clip = {LC_ACT_CLIP, 0, -INFINITY, 6}, sm = {LC_ACT_SOFTMAX, 0, 0, 0};
    lc_graph *g = small_graph(clip, sm);
    CHECK(g);
    lc_error err;
    char c[600], h[600];
    snprintf(c, sizeof c, "%s/net.c", dir);
    snprintf(h, sizeof h, "%s/net.h", dir);
    CHECK_OK(lc_export_c(g, c, "My_net2", &err), &err);
    char *cs = slurp(c), *hs = slurp(h);
    CHECK(cs && hs);
    int ok = strstr(hs, "#define MY_NET2_INPUT_SIZE 2\n") && strstr(hs, "#define MY_NET2_OUTPUT_SIZE 2\n") &&
             strstr(hs, "void My_net2_forward(const float *input, float *output);") &&
             strstr(hs, "void My_net2_forward_batch(const float *input, float *output, size_t n);") &&
             strstr(hs, "extern \"C\"") && strstr(hs, "#ifndef MY_NET2_LINCOMP_H") &&
             strstr(cs, "#include \"net.h\"") && strstr(cs, "lincomp") &&
             strstr(cs, "node widths 2-3-2") && strstr(cs, "17 parameters") &&
             strstr(cs, "-0.0f") &&               /* negative zero kept */
             strstr(cs, "0.333333343f") &&        /* 1/3 in 9 digits */
             strstr(cs, "9.9999461e-41f") &&     /* the subnormal, exactly */
             strstr(cs, "> 6.0f") && !strstr(cs, "inf") && /* open lower bound */
             strstr(cs, "static const float My_net2_w1_0[6]");
    free(cs);
    free(hs);
    lc_graph_free(g);
    rm_dir(dir);
    CHECK(ok);
}

/* Names from the model file may hold comment ends, quotes and newlines. */
TEST(export_c_names_escaped)
{
    char dir[] = "/tmp/lc_export_c_XXXXXX";
    CHECK(mkdtemp(dir));
    int s0 = 0;
    lc_node_spec spec[2] = {{"in*/ x", 2, {0}, 0, NULL},
                            {"/*out\n\"q\"\\", 1, {LC_ACT_SIGMOID, 0, 0, 0}, 1, &s0}};
    lc_graph *g;
    lc_error err;
    CHECK_OK(lc_graph_create(2, spec, &g, &err), &err);
    char c[600];
    snprintf(c, sizeof c, "%s/n.c", dir);
    CHECK_OK(lc_export_c(g, c, "n", &err), &err);
    char *cs = slurp(c);
    CHECK(cs);
    int ok = strstr(cs, "\"in\\x2a/ x\"") && strstr(cs, "\"/\\x2aout\\x0a\\\"q\\\"\\\\\"");
    /* no comment may be closed or opened early: every open has its close */
    int depth = 0, bad = 0;
    for (const char *p = cs; *p; p++) {
        if (p[0] == '/' && p[1] == '*') bad |= depth++ != 0, p++;
        else if (p[0] == '*' && p[1] == '/') bad |= --depth != 0, p++;
    }
    free(cs);
    lc_graph_free(g);
    rm_dir(dir);
    CHECK(ok);
    CHECK(!bad && depth == 0);
}

/* ------------------------------------------ models for the shell test */

static lc_act hidden_act(int i)
{
    lc_act a = {LC_ACT_IDENTITY, 0, 0, 0};
    switch (i % 7) {
    case 0: a.kind = LC_ACT_RELU; break;
    case 1: a.kind = LC_ACT_LEAKY_RELU, a.alpha = 0.1f; break;
    case 2: a.kind = LC_ACT_PRELU; break;
    case 3: a.kind = LC_ACT_CLIP, a.lo = 0, a.hi = 6; break;
    case 4: a.kind = LC_ACT_CLIP, a.lo = -0.5f, a.hi = INFINITY; break;
    case 5: a.kind = LC_ACT_CLIP, a.lo = -INFINITY, a.hi = 0.75f; break;
    default: break; /* identity */
    }
    return a;
}

/* Random graph m: 2-5 hidden nodes with activations cycling through every
 * kind, skip edges (at least one), output activation by m % 4. */
static lc_graph *random_graph(test_rng *r, int m, int n_in, int wide)
{
    int hidden = wide ? 2 : test_randint(r, 2, 5), n = hidden + 2;
    lc_node_spec spec[8];
    int src[8][8];
    memset(spec, 0, sizeof spec);
    spec[0].width = n_in;
    static const lc_act_kind outs[4] = {LC_ACT_IDENTITY, LC_ACT_SOFTMAX, LC_ACT_LOG_SOFTMAX,
                                        LC_ACT_SIGMOID};
    for (int k = 1; k < n; k++) {
        spec[k].width = k == n - 1 ? test_randint(r, 1, 4) : test_randint(r, 1, 12);
        if (wide) spec[k].width = k == 1 ? 65540 : 2; /* over the stack limit */
        int ne = 0;
        src[k][ne++] = k - 1;
        for (int j = 0; j < k - 1; j++) /* wide: only the cheap skips from the input */
            if ((!wide && test_uniform(r) < 0.35) || (k == n - 1 && j == 0)) src[k][ne++] = j;
        spec[k].n_in = ne;
        spec[k].src = src[k];
        spec[k].act = k < n - 1 ? hidden_act(m + k) : (lc_act){outs[m % 4], 0, 0, 0};
    }
    lc_graph *g;
    if (lc_graph_create(n, spec, &g, NULL)) return NULL;
    for (int k = 1; k < n; k++) {
        int fan = 0;
        for (int e = 0; e < spec[k].n_in; e++) fan += spec[src[k][e]].width;
        for (int e = 0; e < spec[k].n_in; e++) {
            float *w = lc_graph_weight(g, k, e);
            size_t len = (size_t)spec[k].width * (size_t)spec[src[k][e]].width;
            for (size_t i = 0; i < len; i++) w[i] = (float)(1.5 * test_normal(r) / sqrt((double)fan));
        }
        float *b = lc_graph_bias(g, k), *sl = lc_graph_slope(g, k);
        for (int i = 0; i < spec[k].width; i++) {
            b[i] = (float)(0.5 * test_normal(r));
            if (sl) sl[i] = (float)(0.4 * test_normal(r));
        }
    }
    return g;
}

/* An unlabelled CSV of rows x cols random floats (printed exactly), which
 * is both `lincomp predict`'s input and the driver's. */
static int write_inputs(const char *path, test_rng *r, int rows, int cols)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    for (int j = 0; j < cols; j++) fprintf(f, "%sx%d", j ? "," : "", j);
    fputc('\n', f);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            fprintf(f, "%.9g%c", (double)(float)(4 * test_uniform(r) - 2), j + 1 < cols ? ',' : '\n');
    return fclose(f) == 0 ? 0 : -1;
}

/* A model with preprocessing: numeric "a", categorical "color" (blue, red,
 * other), numeric "km/h" with comment marks around the h (a name to
 * escape), standardised or not. The
 * raw CSV goes to predict; the feature file (one-hot, raw numbers, nan for
 * missing) to the driver. */
static int write_preproc_model(const char *dir, const char *base, test_rng *r, int standardize,
                               lc_error *err)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"version\":1,\"label\":\"y\",\"standardize\":%d,\"columns\":["
             "{\"name\":\"a\",\"kind\":\"numeric\",\"mean\":2.5,\"sd\":1.5},"
             "{\"name\":\"color\",\"kind\":\"categorical\",\"categories\":[\"blue\",\"red\"]},"
             "{\"name\":\"km/*h*/\",\"kind\":\"numeric\",\"mean\":-1.25,\"sd\":0.25}],"
             "\"classes\":[\"no\",\"yes*/\\n\",\"maybe\"]}",
             standardize);
    lc_preproc *p;
    if (lc_preproc_from_json(json, strlen(json), &p, err)) return -1;
    int hid[2] = {9, 7};
    lc_graph *g;
    lc_act relu = {LC_ACT_RELU, 0, 0, 0};
    if (lc_graph_mlp(5, hid, 2, 3, relu, 7 + (uint64_t)standardize, &g, err)) {
        lc_preproc_free(p);
        return -1;
    }
    lc_graph_set_preproc(g, p);
    char path[600];
    snprintf(path, sizeof path, "%s/%s.onnx", dir, base);
    lc_status st = lc_onnx_save(g, path, err);
    lc_graph_free(g);
    if (st) return -1;
    static const char *colors[] = {"blue", "red", "green", ""};
    char csvp[600], txtp[600];
    snprintf(csvp, sizeof csvp, "%s/%s_in.csv", dir, base);
    snprintf(txtp, sizeof txtp, "%s/%s_in.txt", dir, base);
    FILE *csv = fopen(csvp, "w"), *txt = fopen(txtp, "w");
    if (!csv || !txt) {
        if (csv) fclose(csv);
        if (txt) fclose(txt);
        return -1;
    }
    fprintf(csv, "km/*h*/,color,a\n"); /* column order differs from the spec's */
    for (int i = 0; i < 40; i++) {
        float a = (float)(2.5 + 3 * test_normal(r)), b = (float)(-1.25 + 0.5 * test_normal(r));
        int c = test_randint(r, 0, 3), miss_a = i % 7 == 3, miss_b = i % 5 == 1;
        char sa[32] = "", sb[32] = "";
        if (!miss_a) snprintf(sa, sizeof sa, "%.9g", (double)a);
        if (!miss_b) snprintf(sb, sizeof sb, "%.9g", (double)b);
        fprintf(csv, "%s,%s,%s\n", sb, colors[c], sa);
        fprintf(txt, "%s,%d,%d,%d,%s\n", miss_a ? "nan" : sa, c == 0, c == 1, c >= 2,
                miss_b ? "nan" : sb);
    }
    int bad = fclose(csv) | fclose(txt);
    return bad ? -1 : 0;
}

TEST(export_c_models)
{
    const char *env = getenv("LC_EXPORT_C_DIR");
    char tmp[] = "/tmp/lc_export_c_XXXXXX", dir[512];
    if (env) snprintf(dir, sizeof dir, "%s", env);
    else {
        CHECK(mkdtemp(tmp));
        snprintf(dir, sizeof dir, "%s", tmp);
    }
    test_rng r = {0x5eed0e7c};
    lc_error err;
    char path[600];
    /* 8 small random graphs (every hidden kind at least once, every output
     * kind twice), and one with a hidden node too wide for the stack */
    for (int m = 0; m <= 8; m++) {
        int wide = m == 8, n_in = wide ? 2 : test_randint(&r, 1, 8);
        if (wide && !env) continue; /* large; only for the shell test */
        lc_graph *g = random_graph(&r, m, n_in, wide);
        CHECK(g);
        snprintf(path, sizeof path, "%s/rand%d.onnx", dir, m);
        lc_status st = lc_onnx_save(g, path, &err);
        if (!st && !env) {
            snprintf(path, sizeof path, "%s/rand%d.c", dir, m);
            st = lc_export_c(g, path, "model", &err);
        }
        lc_graph_free(g);
        CHECK_OK(st, &err);
        snprintf(path, sizeof path, "%s/rand%d_in.csv", dir, m);
        CHECK(write_inputs(path, &r, wide ? 5 : 50, n_in) == 0);
    }
    for (int s = 0; s <= 1; s++) {
        char base[32];
        snprintf(base, sizeof base, "preproc%d", s);
        CHECK_MSG(write_preproc_model(dir, base, &r, s, &err) == 0, "%s: %s", base, err.msg);
    }
    /* the preprocessing model's header documents features and classes */
    snprintf(path, sizeof path, "%s/preproc1.onnx", dir);
    lc_graph *g;
    CHECK_OK(lc_onnx_load(path, &g, &err), &err);
    snprintf(path, sizeof path, "%s/pre_check.c", dir);
    lc_status st = lc_export_c(g, path, "pre", &err);
    lc_graph_free(g);
    CHECK_OK(st, &err);
    snprintf(path, sizeof path, "%s/pre_check.h", dir);
    char *hs = slurp(path);
    CHECK(hs);
    int ok = strstr(hs, "[0] \"a\": numeric") && strstr(hs, "(x - 2.5) / 1.5") &&
             strstr(hs, "[1..3] \"color\": categorical") && strstr(hs, "[2] \"red\"") &&
             strstr(hs, "[3] any other") && strstr(hs, "[4] \"km/\\x2ah\\x2a/\"") &&
             strstr(hs, "[1] \"yes\\x2a/\\x0a\"");
    free(hs);
    unlink(path);
    snprintf(path, sizeof path, "%s/pre_check.c", dir);
    unlink(path);
    if (!env) rm_dir(dir);
    CHECK(ok);
}
