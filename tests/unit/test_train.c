/* test_train.c - the gradient against double-precision finite differences on
 * random graphs with skip edges, the optimizers' update rules, training on a
 * real data set, determinism, early stopping and the standardisation fold. */
#include "test.h"
#include "core/internal.h"
#include "data/data.h"
#include "core/work.h"

#include <stdlib.h>
#include <string.h>

/* ---- a double-precision reference of the model and its loss ---- */

/* Piece of the activation that z falls in, and the distance to the nearest
 * kink (INFINITY for smooth activations). */
static int piece(lc_act a, double z, double *dist)
{
    switch (a.kind) {
    case LC_ACT_RELU:
    case LC_ACT_LEAKY_RELU:
    case LC_ACT_PRELU: *dist = fabs(z); return z > 0;
    case LC_ACT_CLIP:
        *dist = fmin(fabs(z - a.lo), fabs(z - a.hi));
        return z <= a.lo ? 0 : z < a.hi ? 1 : 2;
    default: *dist = INFINITY; return 0;
    }
}

static double act_d(lc_act a, const double *slope, int i, double z)
{
    switch (a.kind) {
    case LC_ACT_RELU: return z > 0 ? z : 0;
    case LC_ACT_LEAKY_RELU: return z > 0 ? z : a.alpha * z;
    case LC_ACT_PRELU: return z > 0 ? z : slope[i] * z;
    case LC_ACT_CLIP: return z < a.lo ? a.lo : z > a.hi ? a.hi : z;
    default: return z; /* identity; output activations: the loss takes z */
    }
}

/* Mean loss of n samples with the parameters p (doubles in the block's
 * layout). *sig hashes the piece of every neuron on every sample, *near is
 * the smallest distance of any z to a kink. */
static double ref_loss(const lc_graph *g, const double *p, const float *x, const int32_t *y,
                       size_t n, uint64_t *sig, double *near)
{
    double *h[64];
    for (int k = 0; k < g->n_nodes; k++) h[k] = calloc((size_t)g->nodes[k].width, sizeof(double));
    uint64_t s = 1469598103934665603ull;
    double total = 0, mind = INFINITY;
    for (size_t r = 0; r < n; r++) {
        for (int i = 0; i < g->nodes[0].width; i++) h[0][i] = x[r * g->nodes[0].width + i];
        for (int k = 1; k < g->n_nodes; k++) {
            const struct lc_node *nd = &g->nodes[k];
            const double *b = p + (nd->bias - g->block);
            const double *sl = nd->slope ? p + (nd->slope - g->block) : NULL;
            for (int i = 0; i < nd->width; i++) {
                double z = b[i], d;
                for (int e = 0; e < nd->n_in; e++) {
                    int j = nd->in[e].src, wj = g->nodes[j].width;
                    const double *w = p + (nd->in[e].w - g->block) + (size_t)i * wj;
                    for (int c = 0; c < wj; c++) z += w[c] * h[j][c];
                }
                int pc = piece(nd->act, z, &d);
                s = (s ^ (uint64_t)pc) * 1099511628211ull;
                mind = fmin(mind, d);
                h[k][i] = act_d(nd->act, sl, i, z);
            }
        }
        const double *o = h[g->n_nodes - 1];
        int w = g->nodes[g->n_nodes - 1].width;
        if (w == 1) {
            total += log1p(exp(o[0])) - (y[r] == 1) * o[0];
        } else {
            double mx = o[0], sum = 0;
            for (int i = 1; i < w; i++) mx = fmax(mx, o[i]);
            for (int i = 0; i < w; i++) sum += exp(o[i] - mx);
            total += log(sum) + mx - o[y[r]];
        }
    }
    for (int k = 0; k < g->n_nodes; k++) free(h[k]);
    if (sig) *sig = s;
    if (near) *near = mind;
    return total / (double)n;
}

/* A random graph: every node reads its predecessor plus random skip edges;
 * hidden activations cycle through every piecewise-linear kind. */
static lc_graph *random_graph(test_rng *rng, int variant, lc_error *err)
{
    static const lc_act acts[] = {
        {LC_ACT_RELU, 0, 0, 0},       {LC_ACT_LEAKY_RELU, 0.1f, 0, 0},
        {LC_ACT_PRELU, 0, 0, 0},      {LC_ACT_CLIP, 0, -0.3f, 0.6f},
        {LC_ACT_IDENTITY, 0, 0, 0},   {LC_ACT_LEAKY_RELU, -0.4f, 0, 0},
    };
    static const lc_act outs[] = {{LC_ACT_IDENTITY, 0, 0, 0}, {LC_ACT_SOFTMAX, 0, 0, 0},
                                  {LC_ACT_LOG_SOFTMAX, 0, 0, 0}, {LC_ACT_SIGMOID, 0, 0, 0}};
    int n = 4 + variant % 3;
    lc_node_spec spec[8];
    int src[8][8];
    for (int k = 0; k < n; k++) {
        spec[k] = (lc_node_spec){NULL, test_randint(rng, 2, 5), acts[(k + variant) % 6], 0, src[k]};
        if (k == 0) continue;
        src[k][spec[k].n_in++] = k - 1;
        for (int j = 0; j < k - 1; j++)
            if (test_uniform(rng) < 0.5) src[k][spec[k].n_in++] = j;
    }
    spec[n - 1].act = outs[variant % 4];
    spec[n - 1].width = variant == 5 ? 1 : 3; /* one binary-output case */
    lc_graph *g;
    if (lc_graph_create(n, spec, &g, err)) return NULL;
    for (size_t i = 0; i < g->n_floats; i++) g->block[i] = (float)(0.6 * test_normal(rng));
    for (int k = 1; k < n; k++)
        if (g->nodes[k].slope)
            for (int i = 0; i < g->nodes[k].width; i++)
                g->nodes[k].slope[i] = (float)(test_uniform(rng) * 1.6 - 0.5);
    return g;
}

TEST(train_gradient_matches_finite_differences)
{
    test_rng rng = {0x1234567ull};
    lc_error err = {0};
    int checked = 0, skipped = 0;
    for (int variant = 0; variant < 12; variant++) {
        lc_graph *g = random_graph(&rng, variant, &err);
        CHECK_MSG(g, "random graph: %s", err.msg);
        int in_w = g->nodes[0].width, out_w = lc_graph_output_width(g);
        size_t n = 0, want = 24, nf = g->n_floats;
        float x[24 * 8];
        int32_t y[24];
        double *p = malloc(nf * sizeof *p), near;
        for (size_t i = 0; i < nf; i++) p[i] = g->block[i];
        /* samples whose every z is at least 1e-3 from a kink, so that float
         * rounding cannot put the float pass on another piece */
        for (int tries = 0; n < want && tries < 2000; tries++) {
            for (int i = 0; i < in_w; i++) x[n * in_w + i] = (float)test_normal(&rng);
            y[n] = test_randint(&rng, 0, out_w == 1 ? 1 : out_w - 1);
            ref_loss(g, p, x + n * in_w, y + n, 1, NULL, &near);
            if (near > 1e-3) n++;
        }
        CHECK_MSG(n >= 8, "variant %d: only %zu usable samples", variant, n);
        float *grad = malloc(nf * sizeof *grad);
        double loss;
        CHECK_OK(lc_loss_grad(g, x, y, n, grad, &loss, &err), &err);
        uint64_t sig0;
        double l0 = ref_loss(g, p, x, y, n, &sig0, NULL);
        CHECK_MSG(fabs(loss - l0) <= 1e-5 * (1 + fabs(l0)), "variant %d: loss %.9g vs %.9g",
                  variant, loss, l0);
        const double h = 1e-5;
        for (size_t i = 0; i < nf; i++) {
            double keep = p[i];
            uint64_t sp, sm;
            p[i] = keep + h;
            double lp = ref_loss(g, p, x, y, n, &sp, NULL);
            p[i] = keep - h;
            double lm = ref_loss(g, p, x, y, n, &sm, NULL);
            p[i] = keep;
            if (sp != sig0 || sm != sig0) { /* the step crossed a kink */
                skipped++;
                continue;
            }
            double fd = (lp - lm) / (2 * h);
            checked++;
            CHECK_MSG(fabs(grad[i] - fd) <= 2e-5 + 1e-3 * fabs(fd),
                      "variant %d, parameter %zu of %zu: gradient %.9g, finite difference %.9g",
                      variant, i, nf, (double)grad[i], fd);
        }
        free(grad);
        free(p);
        lc_graph_free(g);
    }
    CHECK_MSG(checked > 500 && skipped < checked / 20, "checked %d, skipped %d", checked, skipped);
}

/* The gradient of n > LC_BATCH rows is the mean over batches. */
TEST(train_gradient_accumulates_over_batches)
{
    test_rng rng = {77};
    lc_error err = {0};
    lc_graph *g = random_graph(&rng, 2, &err);
    CHECK(g);
    int in_w = g->nodes[0].width, out_w = lc_graph_output_width(g);
    size_t n = 2 * LC_BATCH + 100, nf = g->n_floats;
    float *x = malloc(n * in_w * sizeof *x), *ga = malloc(nf * 4), *g1 = malloc(nf * 4),
          *g2 = malloc(nf * 4), *gm = malloc(nf * 4);
    int32_t *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n * in_w; i++) x[i] = (float)test_normal(&rng);
    for (size_t i = 0; i < n; i++) y[i] = test_randint(&rng, 0, out_w - 1);
    double la, l1, l2;
    size_t h1 = 700;
    CHECK_OK(lc_loss_grad(g, x, y, n, ga, &la, &err), &err);
    CHECK_OK(lc_loss_grad(g, x, y, h1, g1, &l1, &err), &err);
    CHECK_OK(lc_loss_grad(g, x + h1 * in_w, y + h1, n - h1, g2, &l2, &err), &err);
    for (size_t i = 0; i < nf; i++)
        gm[i] = (float)(((double)g1[i] * h1 + (double)g2[i] * (n - h1)) / n);
    CHECK_CLOSE(ga, gm, nf, 1e-6, 1e-4);
    CHECK(fabs(la - (l1 * h1 + l2 * (n - h1)) / n) < 1e-9);
    double lonly;
    CHECK_OK(lc_loss_grad(g, x, y, n, NULL, &lonly, &err), &err);
    CHECK(lonly == la);
    y[5] = out_w;
    CHECK(lc_loss_grad(g, x, y, n, ga, &la, &err) == LC_ERR_SHAPE);
    free(x), free(y), free(ga), free(g1), free(g2), free(gm);
    lc_graph_free(g);
}

TEST(train_mlp_init_like_pytorch)
{
    lc_error err = {0};
    lc_graph *a, *b, *c;
    int hidden[] = {300, 50};
    lc_act relu = {LC_ACT_RELU, 0, 0, 0};
    CHECK_OK(lc_graph_mlp(100, hidden, 2, 10, relu, 7, &a, &err), &err);
    CHECK_OK(lc_graph_mlp(100, hidden, 2, 10, relu, 7, &b, &err), &err);
    CHECK_OK(lc_graph_mlp(100, hidden, 2, 10, relu, 8, &c, &err), &err);
    CHECK(lc_graph_nodes(a) == 4 && lc_graph_width(a, 1) == 300 && lc_graph_output_width(a) == 10);
    CHECK(lc_graph_act(a, 3).kind == LC_ACT_IDENTITY && lc_graph_act(a, 2).kind == LC_ACT_RELU);
    CHECK(!memcmp(a->block, b->block, a->n_floats * sizeof(float)));
    CHECK(memcmp(a->block, c->block, a->n_floats * sizeof(float)));
    /* U(-1/sqrt(100), 1/sqrt(100)): bounded, mean 0, variance bound^2 / 3 */
    const float *w = lc_graph_weight(a, 1, 0);
    double s = 0, s2 = 0, mx = 0;
    for (int i = 0; i < 30000; i++) {
        s += w[i];
        s2 += (double)w[i] * w[i];
        mx = fmax(mx, fabs(w[i]));
    }
    CHECK(mx <= 0.1 && mx > 0.099);
    CHECK(fabs(s / 30000) < 0.002);
    CHECK(fabs(s2 / 30000 - 0.01 / 3) < 0.0002);
    const float *b3 = lc_graph_bias(a, 3); /* fan_in 50 */
    for (int i = 0; i < 10; i++) CHECK(fabs(b3[i]) <= 1 / sqrt(50.0));
    lc_graph_free(a), lc_graph_free(b), lc_graph_free(c);
    lc_act prelu = {LC_ACT_PRELU, 0, 0, 0}, soft = {LC_ACT_SOFTMAX, 0, 0, 0};
    CHECK_OK(lc_graph_mlp(4, hidden, 1, 3, prelu, 1, &a, &err), &err);
    CHECK(lc_graph_slope(a, 1)[0] == 0.25f && lc_graph_slope(a, 1)[299] == 0.25f);
    lc_graph_free(a);
    CHECK_OK(lc_graph_mlp(4, NULL, 0, 3, relu, 1, &a, &err), &err); /* linear model */
    CHECK(lc_graph_nodes(a) == 2);
    lc_graph_free(a);
    CHECK(lc_graph_mlp(4, hidden, 1, 3, soft, 1, &a, &err) == LC_ERR_INVALID);
    int bad[] = {0};
    CHECK(lc_graph_mlp(4, bad, 1, 3, relu, 1, &a, &err) == LC_ERR_INVALID);
}

/* One full-batch step each: SGD's and Adam's update rules, PyTorch's. */
TEST(train_optimizer_steps)
{
    test_rng rng = {5};
    lc_error err = {0};
    lc_graph *g0 = random_graph(&rng, 0, &err);
    CHECK(g0);
    int in_w = g0->nodes[0].width;
    size_t n = 40, nf = g0->n_floats;
    float x[40 * 8], *g1 = malloc(nf * 4), *g2 = malloc(nf * 4), *want = malloc(nf * 4);
    int32_t y[40];
    for (size_t i = 0; i < n * in_w; i++) x[i] = (float)test_normal(&rng);
    for (size_t i = 0; i < n; i++) y[i] = test_randint(&rng, 0, 2);
    lc_data *d;
    CHECK_OK(lc_data_from_arrays(n, in_w, x, y, 3, &d, &err), &err);
    lc_train_opts o;
    lc_train_opts_default(&o);
    o.batch = (int)n;
    o.epochs = 1;

    /* SGD, two steps: buf = g1, then buf = 0.9 g1 + g2; p -= lr buf */
    lc_graph *g;
    CHECK_OK(lc_graph_clone(g0, &g, &err), &err);
    o.optimizer = LC_OPT_SGD;
    o.lr = 0.1;
    o.epochs = 2;
    CHECK_OK(lc_train(g, d, NULL, &o, &err), &err);
    lc_graph *ref;
    CHECK_OK(lc_graph_clone(g0, &ref, &err), &err);
    CHECK_OK(lc_loss_grad(ref, x, y, n, g1, NULL, &err), &err);
    for (size_t i = 0; i < nf; i++) ref->block[i] -= 0.1f * g1[i];
    CHECK_OK(lc_loss_grad(ref, x, y, n, g2, NULL, &err), &err);
    for (size_t i = 0; i < nf; i++) want[i] = ref->block[i] - 0.1f * (0.9f * g1[i] + g2[i]);
    CHECK_CLOSE(g->block, want, nf, 1e-5, 1e-4);
    lc_graph_free(g);

    /* Adam, one step: m^ = g, v^ = g^2, so p -= lr g / (|g| + eps) */
    CHECK_OK(lc_graph_clone(g0, &g, &err), &err);
    o.optimizer = LC_OPT_ADAM;
    o.lr = 0.01;
    o.epochs = 1;
    CHECK_OK(lc_train(g, d, NULL, &o, &err), &err);
    for (size_t i = 0; i < nf; i++)
        want[i] = g0->block[i] - (float)(0.01 * g1[i] / (fabs(g1[i]) + 1e-8));
    /* near-zero gradients flip the step's sign with rounding: skip those */
    for (size_t i = 0; i < nf; i++)
        if (fabs(g1[i]) < 1e-5) want[i] = g->block[i];
    CHECK_CLOSE(g->block, want, nf, 1e-5, 1e-4);
    lc_graph_free(g);
    lc_graph_free(ref);
    lc_graph_free(g0);
    lc_data_free(d);
    free(g1), free(g2), free(want);
}

/* anneal: the rate of step i of T stays lr while i < (1 - anneal) T and is
 * lr (T - i) / (anneal T) after, reaching 0 at the end of the run. Four
 * full-batch SGD steps (momentum 0.9) against the update written out. */
TEST(train_anneal_schedule)
{
    test_rng rng = {6};
    lc_error err = {0};
    lc_graph *g0 = random_graph(&rng, 0, &err);
    CHECK(g0);
    int in_w = g0->nodes[0].width;
    size_t n = 30, nf = g0->n_floats;
    float *x = malloc(n * (size_t)in_w * sizeof *x), *grad = malloc(nf * 4), *buf = malloc(nf * 4);
    int32_t y[30];
    for (size_t i = 0; i < n * (size_t)in_w; i++) x[i] = (float)test_normal(&rng);
    for (size_t i = 0; i < n; i++) y[i] = test_randint(&rng, 0, 2);
    lc_data *d;
    CHECK_OK(lc_data_from_arrays(n, in_w, x, y, 3, &d, &err), &err);
    const double anneal[] = {0.5, 1}, factor[][4] = {{1, 1, 1, 0.5}, {1, 0.75, 0.5, 0.25}};
    for (int a = 0; a < 2; a++) {
        lc_train_opts o;
        lc_train_opts_default(&o);
        o.batch = (int)n;
        o.epochs = 4;
        o.optimizer = LC_OPT_SGD;
        o.lr = 0.1;
        o.anneal = anneal[a];
        lc_graph *g, *ref;
        CHECK_OK(lc_graph_clone(g0, &g, &err), &err);
        CHECK_OK(lc_train(g, d, NULL, &o, &err), &err);
        CHECK_OK(lc_graph_clone(g0, &ref, &err), &err);
        memset(buf, 0, nf * 4);
        for (int step = 0; step < 4; step++) {
            float lr = (float)(0.1 * factor[a][step]);
            CHECK_OK(lc_loss_grad(ref, x, y, n, grad, NULL, &err), &err);
            for (size_t i = 0; i < nf; i++) {
                buf[i] = 0.9f * buf[i] + grad[i];
                ref->block[i] -= lr * buf[i];
            }
        }
        CHECK_CLOSE(g->block, ref->block, nf, 1e-5, 1e-4);
        lc_graph_free(g);
        lc_graph_free(ref);
    }
    lc_train_opts o;
    lc_train_opts_default(&o);
    CHECK(o.anneal == 0); /* lc_train from scratch: a constant rate */
    o.anneal = 1.5;
    CHECK(lc_train(g0, d, NULL, &o, &err) == LC_ERR_INVALID && strstr(err.msg, "anneal"));
    lc_data_free(d);
    lc_graph_free(g0);
    free(x), free(grad), free(buf);
}

/* ---- training on real data ---- */

#define IRIS "../shared/data/iris.csv"

static lc_status load_iris(lc_data **d, lc_error *err)
{
    lc_load_opts lo = {0};
    lo.fit = 1;
    return lc_data_load(IRIS, &lo, d, err);
}

typedef struct cb_log {
    int calls;
    double first_loss, last_loss, best_val_loss;
    int best_epoch;
} cb_log;

static void log_epoch(void *ctx, const lc_epoch_info *e)
{
    cb_log *l = ctx;
    if (l->calls++ == 0) l->first_loss = e->train_loss;
    l->last_loss = e->train_loss;
    if (e->best) {
        l->best_val_loss = e->val_loss;
        l->best_epoch = e->epoch;
    }
}

TEST(train_iris_reaches_accuracy)
{
    lc_error err = {0};
    lc_data *d;
    CHECK_OK(load_iris(&d, &err), &err);
    lc_graph *g;
    int hidden[] = {32, 32};
    CHECK_OK(lc_graph_mlp(lc_data_cols(d), hidden, 2, lc_data_classes(d),
                          (lc_act){LC_ACT_RELU, 0, 0, 0}, 1, &g, &err), &err);
    lc_train_opts o;
    lc_train_opts_default(&o);
    o.epochs = 40;
    o.batch = 16;
    o.seed = 1;
    cb_log log = {0};
    o.epoch_cb = log_epoch;
    o.cb_ctx = &log;
    CHECK_OK(lc_train(g, d, NULL, &o, &err), &err);
    CHECK(log.calls == 40 && log.last_loss < 0.5 * log.first_loss);
    lc_eval_result res;
    CHECK_OK(lc_evaluate(g, d, &res, &err), &err);
    CHECK_MSG(res.accuracy >= 0.95, "iris training accuracy %.3f", res.accuracy);
    lc_graph_free(g);
    lc_data_free(d);
}

static lc_status train_once(const lc_data *d, lc_optimizer opt, uint64_t seed, lc_graph **g,
                            lc_error *err)
{
    int hidden[] = {16, 16};
    lc_status st = lc_graph_mlp(lc_data_cols(d), hidden, 2, lc_data_classes(d),
                                (lc_act){LC_ACT_PRELU, 0, 0, 0}, seed, g, err);
    if (st) return st;
    lc_train_opts o;
    lc_train_opts_default(&o);
    o.epochs = 3;
    o.batch = 8;
    o.seed = seed;
    o.optimizer = opt;
    o.weight_decay = 1e-3;
    return lc_train(*g, d, NULL, &o, err);
}

TEST(train_is_deterministic)
{
    lc_error err = {0};
    lc_data *d;
    CHECK_OK(load_iris(&d, &err), &err);
    lc_set_threads(1);
    for (int opt = 0; opt < 2; opt++) {
        lc_graph *a, *b, *c;
        CHECK_OK(train_once(d, (lc_optimizer)opt, 1, &a, &err), &err);
        CHECK_OK(train_once(d, (lc_optimizer)opt, 1, &b, &err), &err);
        CHECK_OK(train_once(d, (lc_optimizer)opt, 2, &c, &err), &err);
        CHECK(a->n_floats == b->n_floats);
        CHECK_MSG(!memcmp(a->block, b->block, a->n_floats * sizeof(float)),
                  "optimizer %d: two runs with seed 1 differ", opt);
        CHECK(memcmp(a->block, c->block, a->n_floats * sizeof(float)));
        lc_graph_free(a), lc_graph_free(b), lc_graph_free(c);
    }
    lc_data_free(d);
}

TEST(train_early_stopping_keeps_best)
{
    lc_error err = {0};
    lc_data *d, *tr, *va;
    CHECK_OK(load_iris(&d, &err), &err);
    size_t idx_tr[100], idx_va[50];
    for (size_t i = 0, a = 0, b = 0; i < 150; i++) {
        if (i % 3 == 2) idx_va[b++] = i;
        else idx_tr[a++] = i;
    }
    CHECK_OK(lc_data_subset(d, idx_tr, 100, &tr, &err), &err);
    CHECK_OK(lc_data_subset(d, idx_va, 50, &va, &err), &err);
    lc_graph *g;
    int hidden[] = {64};
    CHECK_OK(lc_graph_mlp(4, hidden, 1, 3, (lc_act){LC_ACT_RELU, 0, 0, 0}, 3, &g, &err), &err);
    lc_train_opts o;
    lc_train_opts_default(&o);
    o.epochs = 300;
    o.lr = 0.05; /* large enough to overfit and wobble, so it stops */
    o.patience = 3;
    cb_log log = {0};
    o.epoch_cb = log_epoch;
    o.cb_ctx = &log;
    CHECK_OK(lc_train(g, tr, va, &o, &err), &err);
    CHECK_MSG(log.calls < 300 && log.calls == log.best_epoch + 3, "%d epochs, best %d",
              log.calls, log.best_epoch);
    double vl;
    CHECK_OK(lc_loss_grad(g, lc_data_x(va), lc_data_y(va), 50, NULL, &vl, &err), &err);
    CHECK_MSG(vl == log.best_val_loss, "val loss %.9g, best %.9g", vl, log.best_val_loss);
    lc_graph_free(g);
    lc_data_free(d), lc_data_free(tr), lc_data_free(va);
}

TEST(train_rejects_bad_input_and_keeps_model)
{
    lc_error err = {0};
    lc_graph *g, *c;
    int hidden[] = {4};
    CHECK_OK(lc_graph_mlp(2, hidden, 1, 3, (lc_act){LC_ACT_RELU, 0, 0, 0}, 0, &g, &err), &err);
    CHECK_OK(lc_graph_clone(g, &c, &err), &err);
    float x[] = {1, 2, 3, 4, 5, 6};
    int32_t y[] = {0, 1, 2}, ybad[] = {0, 3, 1};
    lc_data *d, *nolab, *lab3, *wide;
    CHECK_OK(lc_data_from_arrays(3, 2, x, y, 3, &d, &err), &err);
    CHECK_OK(lc_data_from_arrays(3, 2, x, NULL, 0, &nolab, &err), &err);
    CHECK_OK(lc_data_from_arrays(3, 2, x, ybad, 4, &lab3, &err), &err);
    CHECK_OK(lc_data_from_arrays(2, 3, x, y, 3, &wide, &err), &err);
    lc_train_opts o;
    lc_train_opts_default(&o);
    o.epochs = 0;
    CHECK(lc_train(g, d, NULL, &o, &err) == LC_ERR_INVALID && strstr(err.msg, "epochs"));
    lc_train_opts_default(&o);
    o.batch = -1;
    CHECK(lc_train(g, d, NULL, &o, &err) == LC_ERR_INVALID);
    lc_train_opts_default(&o);
    CHECK(lc_train(g, nolab, NULL, &o, &err) == LC_ERR_INVALID && strstr(err.msg, "labels"));
    CHECK(lc_train(g, lab3, NULL, &o, &err) == LC_ERR_SHAPE && strstr(err.msg, "label 3"));
    CHECK(lc_train(g, wide, NULL, &o, &err) == LC_ERR_SHAPE);
    CHECK(lc_train(g, d, wide, &o, &err) == LC_ERR_SHAPE && strstr(err.msg, "validation"));
    /* divergence is reported and the model restored */
    o.optimizer = LC_OPT_SGD;
    o.lr = 1e30;
    o.epochs = 5;
    o.batch = 1;
    CHECK(lc_train(g, d, NULL, &o, &err) == LC_ERR_NUMERIC);
    CHECK(!memcmp(g->block, c->block, g->n_floats * sizeof(float)));
    lc_graph_free(g), lc_graph_free(c);
    lc_data_free(d), lc_data_free(nolab), lc_data_free(lab3), lc_data_free(wide);
}

/* The folded model on raw features computes the trained model on
 * standardised ones. */
TEST(train_fold_standardize)
{
    lc_error err = {0};
    lc_data *d, *raw;
    CHECK_OK(load_iris(&d, &err), &err);
    const lc_preproc *pre = lc_data_preproc(d);
    CHECK(pre && lc_preproc_standardize(pre));
    lc_graph *g, *f;
    int hidden[] = {8};
    CHECK_OK(lc_graph_mlp(4, hidden, 1, 3, (lc_act){LC_ACT_RELU, 0, 0, 0}, 1, &g, &err), &err);
    CHECK_OK(lc_graph_clone(g, &f, &err), &err);
    CHECK_OK(lc_graph_fold_standardize(f, pre, &err), &err);
    CHECK(lc_graph_preproc(f) && !lc_preproc_standardize(lc_graph_preproc(f)));
    lc_load_opts lo = {0};
    lo.pre = lc_graph_preproc(f);
    CHECK_OK(lc_data_load(IRIS, &lo, &raw, &err), &err);
    CHECK(lc_data_x(raw)[0] == 5.1f); /* raw, not standardised */
    float a[150 * 3], b[150 * 3];
    CHECK_OK(lc_forward(g, lc_data_x(d), 150, a, &err), &err);
    CHECK_OK(lc_forward(f, lc_data_x(raw), 150, b, &err), &err);
    CHECK_CLOSE(b, a, 450, 1e-5, 1e-4);
    lc_graph_free(g), lc_graph_free(f);
    lc_data_free(d), lc_data_free(raw);
}
