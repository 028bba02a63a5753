/* test_pipeline.c - lc_compress and lc_analyze: the threshold route equals
 * lc_plan_from_stats + lc_fold (+ lc_reconstruct), a size budget returns a
 * graph within the target, bad options fail with LC_ERR_* and a message,
 * progress events arrive in order, and the reports hold what they claim. */
#include "test.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { N = 300, IN = 6 };

/* A 6-16-16-3 ReLU MLP whose first node has always-active neurons (bias
 * +4): something to fold exactly. */
static lc_graph *model(void)
{
    int hidden[2] = {16, 16};
    lc_graph *g = NULL;
    lc_error err;
    if (lc_graph_mlp(IN, hidden, 2, 3, (lc_act){.kind = LC_ACT_RELU}, 3, &g, &err)) return NULL;
    float *b = lc_graph_bias(g, 1);
    for (int i = 0; i < 8; i++) b[i] += 4.0f;
    return g;
}

static lc_data *data(unsigned long long seed, bool labels)
{
    static float x[N * IN];
    static int32_t y[N];
    test_rng r = {seed};
    for (size_t i = 0; i < (size_t)N * IN; i++) x[i] = (float)test_normal(&r);
    for (int i = 0; i < N; i++) y[i] = (x[i * IN] + x[i * IN + 1] > 0) + (x[i * IN + 2] > 1);
    lc_data *d = NULL;
    lc_error err;
    if (lc_data_from_arrays(N, IN, x, labels ? y : NULL, 3, &d, &err)) return NULL;
    return d;
}

/* Largest |a(x) - b(x)| on d's rows. */
static double diff(const lc_graph *a, const lc_graph *b, const lc_data *d)
{
    static float ya[N * 3], yb[N * 3];
    lc_error err;
    if (lc_forward(a, lc_data_x(d), N, ya, &err) || lc_forward(b, lc_data_x(d), N, yb, &err))
        return INFINITY;
    double m = 0;
    for (int i = 0; i < N * 3; i++) m = fmax(m, fabs((double)ya[i] - yb[i]));
    return m;
}

/* lc_compress at tau 0.9 without and with reconstruction gives what the
 * functions it stands on give, bit for bit; the report says so. */
TEST(pipeline_threshold_equals_plan_and_fold)
{
    lc_error err = {0};
    lc_graph *g = model(), *cg = NULL, *ref = NULL;
    lc_data *d = data(1, false);
    CHECK(g && d);
    lc_stats *st = NULL;
    lc_plan *p = NULL;
    int map[4];
    CHECK_OK(lc_stats_compute(g, lc_data_x(d), N, IN, &st, &err), &err);
    lc_layer_threshold lt = {LC_LAYER_AUTO, 0};
    CHECK_OK(lc_plan_from_stats(g, st, 0.9, lt, &p, &err), &err);
    for (int recon = 0; recon < 2; recon++) {
        CHECK_OK(lc_fold(g, p, &ref, map, &err), &err);
        if (recon)
            CHECK_OK(lc_reconstruct(g, p, map, ref, lc_data_x(d), N, NULL, NULL, &err), &err);
        lc_compress_opts o;
        lc_compress_opts_default(&o);
        o.threshold = 0.9;
        o.reconstruct = recon;
        char *rep = NULL;
        CHECK_OK(lc_compress(g, d, NULL, NULL, &o, &cg, &rep, &err), &err);
        CHECK(lc_graph_params(cg) == lc_graph_params(ref) && lc_graph_params(cg) < lc_graph_params(g));
        CHECK(diff(cg, ref, d) == 0);
        cJSON *j = cJSON_Parse(rep);
        CHECK(j);
        CHECK(cJSON_GetObjectItem(j, "params_after")->valuedouble == (double)lc_graph_params(ref));
        CHECK(cJSON_GetObjectItem(j, "threshold")->valuedouble == 0.9);
        CHECK(fabs(cJSON_GetObjectItem(j, "calibration_max_abs_diff")->valuedouble -
                   diff(g, ref, d)) < 1e-12);
        CHECK(recon ? cJSON_IsObject(cJSON_GetObjectItem(j, "reconstruct"))
                    : cJSON_IsNull(cJSON_GetObjectItem(j, "reconstruct")));
        CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "model")));
        cJSON_Delete(j);
        lc_free(rep);
        lc_graph_free(cg);
        lc_graph_free(ref);
        cg = ref = NULL;
    }
    /* tau 1 is exact on the calibration data */
    lc_compress_opts o;
    lc_compress_opts_default(&o);
    CHECK_OK(lc_compress(g, d, NULL, NULL, &o, &cg, NULL, &err), &err);
    CHECK(lc_graph_params(cg) < lc_graph_params(g) && diff(g, cg, d) <= 1e-4);
    lc_graph_free(cg);
    lc_plan_free(p);
    lc_stats_free(st);
    lc_data_free(d);
    lc_graph_free(g);
}

typedef struct {
    int stages, updates, lines, ends, finals;
    char first[32], order[512];
    double last_done, last_total;
} seen;

static void on_progress(void *ctx, const lc_progress *p)
{
    seen *s = ctx;
    switch (p->kind) {
    case LC_PROGRESS_STAGE:
        if (!s->stages++) snprintf(s->first, sizeof s->first, "%s", p->stage);
        strncat(s->order, p->stage, sizeof s->order - strlen(s->order) - 2);
        strcat(s->order, "|");
        break;
    case LC_PROGRESS_UPDATE:
        s->updates++;
        s->finals += p->final && !strcmp(p->stage, "budget search");
        s->last_done = p->done;
        s->last_total = p->total;
        break;
    case LC_PROGRESS_LINE: s->lines++; break;
    case LC_PROGRESS_END: s->ends++; break;
    }
}

/* A size budget of 0.5 gives at most half the parameters, with the search
 * reported and the progress of every stage. */
TEST(pipeline_budget_within_target_and_progress)
{
    lc_error err = {0};
    lc_graph *g = model(), *cg = NULL;
    lc_data *d = data(2, false), *v = data(3, true);
    CHECK(g && d && v);
    lc_compress_opts o;
    lc_compress_opts_default(&o);
    o.target_size = 0.5;
    o.finetune_epochs = 1;
    seen s = {0};
    o.progress = on_progress;
    o.progress_ctx = &s;
    char *rep = NULL;
    CHECK_OK(lc_compress(g, d, v, NULL, &o, &cg, &rep, &err), &err);
    CHECK(lc_graph_params(cg) <= lc_graph_params(g) / 2);
    cJSON *j = cJSON_Parse(rep);
    CHECK(j);
    CHECK(cJSON_GetObjectItem(j, "size_ratio")->valuedouble <= 0.5);
    CHECK(cJSON_GetObjectItem(j, "target_size")->valuedouble == 0.5);
    cJSON *b = cJSON_GetObjectItem(j, "budget");
    /* 300 validation rows, topped up to LC_SEARCH_ROWS with all 300 calibration rows */
    CHECK(cJSON_IsObject(b) && !strcmp(cJSON_GetObjectItem(b, "score")->valuestring,
                                       "val_accuracy_and_calibration_agreement"));
    CHECK(cJSON_IsObject(cJSON_GetObjectItem(j, "finetune")));
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, "accuracy_after_finetune")));
    cJSON_Delete(j);
    lc_free(rep);
    CHECK_MSG(!strcmp(s.first, "statistics"), "first stage %s", s.first);
    CHECK_MSG(strstr(s.order, "statistics|pieces|budget search|folding|reconstruction|checking|"
                              "evaluating|fine-tuning|"), "stages %s", s.order);
    CHECK(s.updates > 2 && s.ends == 1 && s.finals == 1 && s.lines >= 1);
    CHECK(s.last_done == s.last_total); /* the last batch of the epoch */
    lc_graph_free(cg);
    lc_data_free(v);
    lc_data_free(d);
    lc_graph_free(g);
}

/* The class of each of n rows of x under g: the first largest output. */
static void classes_of(const lc_graph *g, const float *x, size_t n, int *cls)
{
    static float y[N * 3];
    lc_error err;
    CHECK_OK(lc_forward(g, x, n, y, &err), &err);
    for (size_t r = 0; r < n; r++) {
        int c = 0;
        for (int j = 1; j < 3; j++) c = y[r * 3 + j] > y[r * 3 + c] ? j : c;
        cls[r] = c;
    }
}

/* A size budget with validation data scores on val's rows (their labels)
 * and, up to search_rows, calibration rows spread evenly (row 2i of 300
 * when 150 are added) labelled with the original's predictions: the
 * report's score of the written model equals that share, computed here
 * from the two models' outputs; search_rows 0 scores val alone. */
TEST(pipeline_budget_scores_val_and_calibration_agreement)
{
    lc_error err = {0};
    /* an MLP without model()'s always-active neurons: its class varies
     * with the input, so that folds change some predictions */
    int hidden[2] = {16, 16};
    lc_graph *g = NULL;
    CHECK_OK(lc_graph_mlp(IN, hidden, 2, 3, (lc_act){.kind = LC_ACT_RELU}, 7, &g, &err), &err);
    lc_data *d = data(4, false), *v = data(5, true);
    CHECK(d && v);
    static int c0[N], c1[N], v1[N];
    classes_of(g, lc_data_x(d), N, c0);
    const size_t tops[3] = {N + N / 2, 0, 10 * N}, added[3] = {N / 2, 0, N};
    for (int t = 0; t < 3; t++) {
        lc_compress_opts o;
        lc_compress_opts_default(&o);
        o.target_size = 0.2;
        o.reconstruct = t != 0; /* the paper's fold: disagrees on some rows */
        o.search_rows = tops[t];
        lc_graph *cg = NULL;
        char *rep = NULL;
        CHECK_OK(lc_compress(g, d, v, NULL, &o, &cg, &rep, &err), &err);
        classes_of(cg, lc_data_x(d), N, c1);
        classes_of(cg, lc_data_x(v), N, v1);
        size_t right = 0, differ = 0;
        for (int r = 0; r < N; r++) right += v1[r] == lc_data_y(v)[r];
        for (int r = 0; r < N; r++) differ += c1[r] != c0[r] && (r % 2 == 0) != (r < N / 2);
        for (size_t i = 0; i < added[t]; i++) {
            size_t r = i * N / added[t]; /* evenly spread */
            right += c1[r] == c0[r];
        }
        cJSON *j = cJSON_Parse(rep), *b = cJSON_GetObjectItem(j, "budget");
        cJSON *rows = cJSON_GetObjectItem(b, "score_rows");
        CHECK_MSG(!strcmp(cJSON_GetObjectItem(b, "score")->valuestring,
                          added[t] ? "val_accuracy_and_calibration_agreement" : "val_accuracy"),
                  "score %s", cJSON_GetObjectItem(b, "score")->valuestring);
        CHECK(cJSON_GetObjectItem(rows, "val")->valuedouble == N);
        CHECK_MSG(cJSON_GetObjectItem(rows, "calibration")->valuedouble == (double)added[t],
                  "calibration rows %g, want %zu",
                  cJSON_GetObjectItem(rows, "calibration")->valuedouble, added[t]);
        /* the rows added matter: the model disagrees with the original on
         * rows that only one of "every second row" and "the first half" has */
        CHECK_MSG(t != 0 || differ > 0, "no row tells which calibration rows were scored");
        double want = (double)right / (double)(N + added[t]);
        double got = cJSON_GetObjectItem(b, "score_after")->valuedouble;
        CHECK_MSG(fabs(got - want) < 1e-12, "search %zu: score %.6f, recomputed %.6f", tops[t],
                  got, want);
        cJSON_Delete(j);
        lc_free(rep);
        lc_graph_free(cg);
    }
    lc_data_free(v);
    lc_data_free(d);
    lc_graph_free(g);
}

static void expect(lc_status want, const char *word, const lc_graph *g, const lc_data *d,
                   const lc_data *v, const lc_compress_opts *o, const char *file, int line)
{
    lc_error err = {0};
    lc_graph *cg = (lc_graph *)1;
    char *rep = (char *)1;
    lc_status st = lc_compress(g, d, v, NULL, o, &cg, &rep, &err);
    if (st != want || err.code != want || !strstr(err.msg, word) || cg || rep)
        test_fail(file, line, "want %s with '%s', got %s: %s", lc_status_str(want), word,
                  lc_status_str(st), err.msg);
}
#define EXPECT(want, word, g, d, v, o)                                          \
    do {                                                                        \
        expect(want, word, g, d, v, o, __FILE__, __LINE__);                     \
        if (test_failed()) return;                                              \
    } while (0)

TEST(pipeline_bad_options)
{
    lc_graph *g = model();
    lc_data *d = data(4, false), *v = data(5, true);
    CHECK(g && d && v);
    lc_compress_opts o;
    lc_compress_opts_default(&o);
    o.threshold = 1.5;
    EXPECT(LC_ERR_INVALID, "threshold", g, d, NULL, &o);
    o.threshold = NAN;
    EXPECT(LC_ERR_INVALID, "threshold", g, d, NULL, &o);
    lc_compress_opts_default(&o);
    o.target_size = 1.5;
    EXPECT(LC_ERR_INVALID, "target_size", g, d, NULL, &o);
    o.target_size = 0.5;
    o.max_drop = 1;
    EXPECT(LC_ERR_INVALID, "not both", g, d, v, &o);
    lc_compress_opts_default(&o);
    o.max_drop = 1;
    EXPECT(LC_ERR_INVALID, "validation", g, d, NULL, &o);
    o.confidence = 1;
    EXPECT(LC_ERR_INVALID, "confidence", g, d, v, &o);
    lc_compress_opts_default(&o);
    o.target_size = 0.5;
    o.prove.on = 1;
    EXPECT(LC_ERR_INVALID, "a proof", g, d, NULL, &o);
    lc_compress_opts_default(&o);
    double tau[4] = {0, 0.9, 0.9, 0};
    o.node_thresholds = tau;
    o.target_size = 0.5;
    EXPECT(LC_ERR_INVALID, "node_thresholds", g, d, NULL, &o);
    lc_compress_opts_default(&o);
    EXPECT(LC_ERR_INVALID, "no labels", g, d, d, &o); /* val without labels */
    o.finetune_epochs = 1;
    o.finetune_labels = 1;
    EXPECT(LC_ERR_INVALID, "labels", g, d, NULL, &o);
    lc_compress_opts_default(&o);
    o.target_size = 1e-6; /* folding everything is still bigger */
    EXPECT(LC_ERR_INVALID, "cannot be reached", g, d, NULL, &o);
    /* data of another width */
    float x[5 * 4] = {0};
    lc_data *narrow = NULL;
    lc_error err = {0};
    CHECK_OK(lc_data_from_arrays(5, 4, x, NULL, 0, &narrow, &err), &err);
    lc_compress_opts_default(&o);
    EXPECT(LC_ERR_SHAPE, "features", g, narrow, NULL, &o);
    lc_data_free(narrow);
    /* a non-finite weight */
    lc_graph *bad = NULL;
    CHECK_OK(lc_graph_clone(g, &bad, &err), &err);
    lc_graph_weight(bad, 2, 0)[3] = NAN;
    EXPECT(LC_ERR_NUMERIC, "node", bad, d, NULL, &o);
    lc_graph_free(bad);
    /* required arguments */
    lc_graph *cg = NULL;
    CHECK(lc_compress(g, NULL, NULL, NULL, &o, &cg, NULL, &err) == LC_ERR_INVALID && !cg);
    CHECK(lc_compress(g, d, NULL, NULL, NULL, &cg, NULL, &err) == LC_ERR_INVALID && !cg);
    lc_data_free(v);
    lc_data_free(d);
    lc_graph_free(g);
}

/* Proofs on a box that keeps the +4 neurons active fold them exactly on
 * every input in the box; the report names the box and the method. */
TEST(pipeline_prove_and_analyze)
{
    lc_error err = {0};
    lc_graph *g = model(), *cg = NULL;
    lc_data *d = data(6, false);
    CHECK(g && d);
    lc_box *box = NULL;
    CHECK_OK(lc_box_from_range(IN, -0.05, 0.05, &box, &err), &err);
    lc_compress_opts o;
    lc_compress_opts_default(&o);
    o.prove.on = 1;
    o.prove.method = LC_PROVE_INTERVAL;
    o.prove.box = box;
    o.prove.box_kind = "range";
    char *rep = NULL;
    CHECK_OK(lc_compress(g, d, NULL, NULL, &o, &cg, &rep, &err), &err);
    cJSON *j = cJSON_Parse(rep);
    CHECK(j);
    cJSON *pf = cJSON_GetObjectItem(j, "proof");
    CHECK(cJSON_IsObject(pf) && !strcmp(cJSON_GetObjectItem(pf, "box")->valuestring, "range"));
    CHECK(!strcmp(cJSON_GetObjectItem(pf, "method")->valuestring, "interval"));
    CHECK(cJSON_GetObjectItem(pf, "proven")->valuedouble >= 8);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "threshold")));
    CHECK(lc_graph_params(cg) < lc_graph_params(g));
    cJSON_Delete(j);
    lc_free(rep);
    lc_graph_free(cg);

    lc_analyze_opts ao;
    lc_analyze_opts_default(&ao);
    ao.model_name = "m.onnx";
    ao.prove = o.prove;
    CHECK_OK(lc_analyze(g, d, &ao, &rep, &err), &err);
    j = cJSON_Parse(rep);
    CHECK(j);
    CHECK(!strcmp(cJSON_GetObjectItem(j, "model")->valuestring, "m.onnx"));
    CHECK(cJSON_GetObjectItem(j, "samples")->valuedouble == N);
    cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "layers"), 0);
    CHECK(cJSON_GetObjectItem(l0, "always_active")->valuedouble >= 8);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(l0, "rates")) == 16);
    CHECK(cJSON_GetObjectItem(l0, "provably_linear")->valuedouble >= 8);
    cJSON *cp = cJSON_GetObjectItem(j, "compressed_params");
    CHECK(cJSON_GetObjectItem(cp, "1")->valuedouble < (double)lc_graph_params(g));
    CHECK(cJSON_GetObjectItem(cp, "0.9")->valuedouble <= cJSON_GetObjectItem(cp, "1")->valuedouble);
    cJSON_Delete(j);
    lc_free(rep);
    CHECK_OK(lc_analyze(g, d, NULL, &rep, &err), &err); /* opts NULL: the defaults */
    CHECK(strstr(rep, "\"proof\":\tnull") || strstr(rep, "\"proof\": null"));
    lc_free(rep);
    lc_box_free(box);
    lc_data_free(d);
    lc_graph_free(g);
}

/* induce: lc_induce's result through lc_compress, data optional, its
 * report; the options it refuses. */
TEST(pipeline_induce)
{
    lc_error err = {0};
    lc_graph *g = model(), *cg = NULL;
    lc_data *tr = data(7, true), *v = data(8, true);
    CHECK(g && tr && v);
    lc_compress_opts o;
    lc_compress_opts_default(&o);
    o.induce = 1;
    o.target_size = 0.5;
    o.induce_opts.epochs = 1;
    o.induce_opts.min_steps = 20;
    o.induce_opts.finetune_epochs = 0;
    seen s = {0};
    o.progress = on_progress;
    o.progress_ctx = &s;
    char *rep = NULL;
    CHECK_OK(lc_compress(g, NULL, v, tr, &o, &cg, &rep, &err), &err);
    cJSON *j = cJSON_Parse(rep);
    CHECK(j);
    CHECK(!strcmp(cJSON_GetObjectItem(j, "method")->valuestring, "induce"));
    CHECK(cJSON_GetObjectItem(j, "params_after")->valuedouble == (double)lc_graph_params(cg));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "calibration")));
    CHECK(cJSON_IsObject(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "stages"), "folded")));
    cJSON_Delete(j);
    lc_free(rep);
    lc_graph_free(cg);
    CHECK(s.stages >= 1 && s.lines >= 1 && !strcmp(s.first, "induce"));
    o.progress = NULL;
    EXPECT(LC_ERR_INVALID, "training", g, NULL, v, &o); /* expect() passes no train */
    o.max_drop = 1;
    EXPECT(LC_ERR_INVALID, "max_drop", g, tr, v, &o);
    lc_compress_opts_default(&o);
    o.induce = 1;
    lc_graph *none = NULL;
    CHECK(lc_compress(g, NULL, v, tr, &o, &none, NULL, &err) == LC_ERR_INVALID && !none &&
          strstr(err.msg, "target_size"));
    lc_data_free(v);
    lc_data_free(tr);
    lc_graph_free(g);
}
