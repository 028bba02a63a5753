/* train.c - PyTorch-style initialisation, mini-batch training with Adam or
 * SGD, early stopping, and the standardisation fold. The gradient itself is
 * in backward.c. */
#include "train/train.h"
#include "data/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- the random stream: splitmix64, state in the caller (no global) ---- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 24 random bits: every value is a float. */
static float rng_float(uint64_t *s) { return (float)(rng_next(s) >> 40) * 0x1p-24f; }

/* Uniform in [0, n) without modulo bias (rejects the short top range). */
static size_t rng_below(uint64_t *s, size_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, r;
    do r = rng_next(s);
    while (r >= limit);
    return (size_t)(r % n);
}

/* ---------------------------------------------------------------- the MLP */

lc_status lc_graph_mlp(int n_in, const int *hidden, int n_hidden, int n_out, lc_act act,
                       uint64_t seed, lc_graph **out, lc_error *err)
{
    *out = NULL;
    if (n_hidden < 0 || n_hidden > LC_MAX_NODES - 2 || (n_hidden > 0 && !hidden))
        return lc_fail(err, LC_ERR_INVALID, "MLP: %d hidden layers", n_hidden);
    if (lc_act_is_output(act.kind))
        return lc_fail(err, LC_ERR_INVALID, "MLP: %s cannot be a hidden activation",
                       lc_act_name(act.kind));
    int n = n_hidden + 2;
    lc_node_spec *spec = calloc((size_t)n, sizeof *spec);
    int *src = calloc((size_t)n, sizeof *src);
    char (*names)[24] = calloc((size_t)n, sizeof *names);
    if (!spec || !src || !names) {
        free(spec), free(src), free(names);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    }
    for (int k = 0; k < n; k++) {
        src[k] = k - 1;
        if (k == 0) snprintf(names[k], sizeof names[k], "input");
        else if (k == n - 1) snprintf(names[k], sizeof names[k], "output");
        else snprintf(names[k], sizeof names[k], "fc%d", k);
        spec[k].name = names[k];
        spec[k].width = k == 0 ? n_in : k == n - 1 ? n_out : hidden[k - 1];
        spec[k].act = k == n - 1 ? (lc_act){LC_ACT_IDENTITY, 0, 0, 0} : act;
        spec[k].n_in = k > 0;
        spec[k].src = k > 0 ? &src[k] : NULL;
    }
    lc_graph *g;
    lc_status st = lc_graph_create(n, spec, &g, err);
    free(spec), free(src), free(names);
    if (st) return st;
    /* nn.Linear.reset_parameters: weight then bias, both U(-1/sqrt(fan_in), +) */
    uint64_t s = seed;
    for (int k = 1; k < n; k++) {
        struct lc_node *nd = &g->nodes[k];
        size_t fan_in = (size_t)g->nodes[k - 1].width, nw = (size_t)nd->width * fan_in;
        float bound = (float)(1.0 / sqrt((double)fan_in));
        for (size_t i = 0; i < nw; i++) nd->in[0].w[i] = (2 * rng_float(&s) - 1) * bound;
        for (int i = 0; i < nd->width; i++) nd->bias[i] = (2 * rng_float(&s) - 1) * bound;
        if (nd->slope)
            for (int i = 0; i < nd->width; i++) nd->slope[i] = 0.25f;
    }
    *out = g;
    return LC_OK;
}

/* -------------------------------------------------------------- optimizer */

void lc_train_opts_default(lc_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 10;
    o->batch = 32;
    o->lr = 0;
    o->optimizer = LC_OPT_ADAM;
    o->momentum = 0.9;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->monitor = LC_MONITOR_VAL_LOSS;
    o->temperature = LC_DISTILL_T;
    o->alpha = LC_DISTILL_ALPHA;
}

/* Optimizer state; optim_slice() updates one slice of the block as soon as the
 * backward pass has finished its gradient (lc_grad_ready). */
typedef struct optim {
    lc_optimizer kind;
    float *p, *grad, *m, *v;  /* m: SGD momentum buffer or Adam's first moment */
    float lr, wd, mom, b1, b2, eps;
    float step_size, bc2_sqrt; /* Adam's bias corrections of this step */
    long t;
} optim;

static void optim_begin_step(optim *o)
{
    o->t++;
    if (o->kind == LC_OPT_ADAM) {
        double bc1 = 1 - pow(o->b1, (double)o->t), bc2 = 1 - pow(o->b2, (double)o->t);
        o->step_size = (float)(o->lr / bc1);
        o->bc2_sqrt = (float)sqrt(bc2);
    }
}

/* The update loops run once per batch over millions of parameters, so they
 * must run at memory speed in vector instructions. GCC's -O2 vectorises
 * only loops without a remainder; this one gets the full vectoriser
 * (clang's -O2 has it anyway). */
#if defined(__GNUC__) && !defined(__clang__)
#define LC_VECTORIZE __attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define LC_VECTORIZE
#endif

/* torch.optim.SGD: buf = mom buf + g (buf starts at 0, which equals
 * PyTorch's buf = g on the first step), p -= lr buf */
LC_VECTORIZE static void sgd_slice(float *restrict p, const float *restrict g,
                                   float *restrict m, size_t len, float lr, float mom, float wd)
{
    for (size_t i = 0; i < len; i++) {
        float b = mom * m[i] + (g[i] + wd * p[i]);
        m[i] = b;
        p[i] -= lr * b;
    }
}

/* torch.optim.Adam: m += (1-b1)(g-m); v = b2 v + (1-b2) g^2;
 * p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps). The compiler will not
 * vectorise sqrtf (errno), so SSE2 does it by hand, in the same order of
 * operations as the scalar tail, so both give the same bits. */
static void adam_slice(float *restrict p, const float *restrict g, float *restrict m,
                       float *restrict v, size_t len, const optim *o)
{
    float c1 = 1 - o->b1, b2 = o->b2, c2 = 1 - o->b2, wd = o->wd;
    float ss = o->step_size, bc = o->bc2_sqrt, eps = o->eps;
    size_t i = 0;
#if defined(__SSE2__)
    const __m128 C1 = _mm_set1_ps(c1), B2 = _mm_set1_ps(b2), C2 = _mm_set1_ps(c2),
                 WD = _mm_set1_ps(wd), SS = _mm_set1_ps(ss), BC = _mm_set1_ps(bc),
                 EPS = _mm_set1_ps(eps);
    for (; i + 4 <= len; i += 4) {
        __m128 pi = _mm_loadu_ps(p + i), mi = _mm_loadu_ps(m + i);
        __m128 gi = _mm_add_ps(_mm_loadu_ps(g + i), _mm_mul_ps(WD, pi));
        mi = _mm_add_ps(mi, _mm_mul_ps(C1, _mm_sub_ps(gi, mi)));
        __m128 vi = _mm_add_ps(_mm_mul_ps(B2, _mm_loadu_ps(v + i)), _mm_mul_ps(_mm_mul_ps(C2, gi), gi));
        _mm_storeu_ps(m + i, mi);
        _mm_storeu_ps(v + i, vi);
        __m128 den = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vi), BC), EPS);
        _mm_storeu_ps(p + i, _mm_sub_ps(pi, _mm_div_ps(_mm_mul_ps(SS, mi), den)));
    }
#endif
    for (; i < len; i++) {
        float gi = g[i] + wd * p[i];
        float mi = m[i] + c1 * (gi - m[i]);
        float vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= ss * mi / (sqrtf(vi) / bc + eps);
    }
}

static void optim_slice(void *ctx, size_t off, size_t len)
{
    optim *o = ctx;
    if (o->kind == LC_OPT_SGD)
        sgd_slice(o->p + off, o->grad + off, o->m + off, len, o->lr, o->mom, o->wd);
    else
        adam_slice(o->p + off, o->grad + off, o->m + off, o->v + off, len, o);
}

/* ------------------------------------------------------------ the trainer */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* need_y: labels are required (else checked when present). */
static lc_status check_data(const lc_graph *g, const lc_data *d, const char *what, bool need_y,
                            lc_error *err)
{
    if (lc_data_rows(d) == 0) return lc_fail(err, LC_ERR_INVALID, "%s data has no samples", what);
    if (need_y && !lc_data_y(d))
        return lc_fail(err, LC_ERR_INVALID, "%s data has no labels", what);
    if (lc_data_cols(d) != lc_graph_input_width(g))
        return lc_fail(err, LC_ERR_SHAPE, "%s data has %d features, the model takes %d", what,
                       lc_data_cols(d), lc_graph_input_width(g));
    return lc_data_y(d) ? lc_check_labels(g, lc_data_y(d), lc_data_rows(d), what, err) : LC_OK;
}

/* distill: the temperature and alpha are used (else not looked at, so that
 * options made without lc_train_opts_default keep working) */
static lc_status check_opts(const lc_train_opts *o, bool distill, lc_error *err)
{
    const char *bad = o->epochs < 1                               ? "epochs must be >= 1"
                      : o->batch < 1                              ? "batch must be >= 1"
                      : !(o->lr >= 0 && isfinite(o->lr))          ? "lr must be > 0"
                      : !(o->weight_decay >= 0 && isfinite(o->weight_decay))
                          ? "weight decay must be >= 0"
                      : o->patience < 0                           ? "patience must be >= 0"
                      : !(o->anneal >= 0 && o->anneal <= 1)       ? "anneal must be in [0, 1]"
                      : o->optimizer != LC_OPT_ADAM && o->optimizer != LC_OPT_SGD
                          ? "unknown optimizer"
                      : o->monitor != LC_MONITOR_VAL_LOSS && o->monitor != LC_MONITOR_VAL_ACC
                          ? "unknown early-stopping monitor"
                      : !(o->momentum >= 0 && o->momentum < 1)    ? "momentum must be in [0, 1)"
                      : !(o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 && o->beta2 < 1)
                          ? "Adam betas must be in [0, 1)"
                      : !(o->eps > 0 && isfinite(o->eps))         ? "Adam eps must be > 0"
                      : distill && !(o->temperature > 0 && isfinite(o->temperature))
                          ? "the distillation temperature must be > 0"
                      : distill && !(o->alpha >= 0 && o->alpha <= 1)
                          ? "the distillation alpha must be in [0, 1]"
                                                                   : NULL;
    return bad ? lc_fail(err, LC_ERR_INVALID, "training options: %s", bad) : LC_OK;
}

/* Everything a run allocates, freed in one place. */
typedef struct run {
    lc_bwork tw, vw;
    size_t *perm;
    float *xb, *tb, *grad, *m, *v, *entry, *best;
    int32_t *yb;
} run;

static void run_free(run *r)
{
    lc_bwork_free(&r->tw);
    lc_bwork_free(&r->vw);
    free(r->perm), free(r->xb), free(r->tb), free(r->yb), free(r->grad);
    free(r->m), free(r->v), free(r->entry), free(r->best);
}

static void evaluate(run *r, const lc_data *d, double *loss, double *acc)
{
    size_t n = lc_data_rows(d), rows = r->vw.rows, correct = 0;
    int cols = lc_data_cols(d);
    double sum = 0;
    for (size_t i = 0; i < n; i += rows) {
        size_t m = n - i < rows ? n - i : rows;
        sum += lc_batch_loss(&r->vw, lc_data_x(d) + i * (size_t)cols, lc_data_y(d) + i, m,
                             &correct);
    }
    *loss = sum / (double)n;
    *acc = (double)correct / (double)n;
}

lc_status lc_teacher_logits(const lc_graph *g, const lc_graph *t, const lc_data *d,
                            float **out, lc_error *err)
{
    *out = NULL;
    if (!t) return LC_OK;
    if (lc_graph_input_width(t) != lc_graph_input_width(g) ||
        lc_graph_output_width(t) != lc_graph_output_width(g) ||
        lc_data_cols(d) != lc_graph_input_width(t))
        return lc_fail(err, LC_ERR_SHAPE, "distillation: the teacher maps %d features to %d "
                       "outputs, the model %d to %d (the data has %d features)",
                       lc_graph_input_width(t), lc_graph_output_width(t),
                       lc_graph_input_width(g), lc_graph_output_width(g), lc_data_cols(d));
    size_t n = lc_data_rows(d), cells;
    if (!lc_mul_ok(n ? n : 1, (size_t)lc_graph_output_width(g), &cells))
        return lc_fail(err, LC_ERR_NOMEM, "distillation: too many rows");
    float *soft = malloc(cells * sizeof *soft);
    if (!soft) return lc_fail(err, LC_ERR_NOMEM, "out of memory for the teacher's outputs");
    lc_status st = lc_logits(t, lc_data_x(d), n, soft, err);
    if (st) free(soft);
    else *out = soft;
    return st;
}

lc_status lc_train(lc_graph *g, const lc_data *train, const lc_data *val,
                   const lc_train_opts *o, lc_error *err)
{
    float *soft;
    lc_status st;
    if ((st = check_opts(o, o->teacher, err)) ||
        (st = check_data(g, train, "training", !o->teacher, err)) ||
        (st = lc_teacher_logits(g, o->teacher, train, &soft, err)))
        return st;
    st = lc_train_soft(g, train, val, o, soft, err);
    free(soft);
    return st;
}

lc_status lc_train_soft(lc_graph *g, const lc_data *train, const lc_data *val,
                        const lc_train_opts *o, const float *soft, lc_error *err)
{
    lc_status st;
    if ((st = check_opts(o, soft, err)) || (st = check_data(g, train, "training", !soft, err)) ||
        (val && (st = check_data(g, val, "validation", true, err))))
        return st;
    size_t n = lc_data_rows(train), nf = g->n_floats;
    int out_w = lc_graph_output_width(g);
    size_t batch = (size_t)o->batch < n ? (size_t)o->batch : n;
    int in_w = g->nodes[0].width;
    bool adam = o->optimizer == LC_OPT_ADAM, stopping = val && o->patience > 0;

    run r = {0};
    if ((st = lc_bwork_init(&r.tw, g, batch, true, err))) return st;
    if (val && (st = lc_bwork_init(&r.vw, g, lc_data_rows(val) < LC_BATCH ? lc_data_rows(val)
                                                                          : LC_BATCH,
                                   false, err))) {
        run_free(&r);
        return st;
    }
    r.perm = malloc(n * sizeof *r.perm);
    r.xb = malloc(batch * (size_t)in_w * sizeof *r.xb);
    r.yb = malloc(batch * sizeof *r.yb);
    r.tb = soft ? malloc(batch * (size_t)out_w * sizeof *r.tb) : NULL;
    r.grad = malloc(nf * sizeof *r.grad);
    r.m = calloc(nf, sizeof *r.m);
    r.v = adam ? calloc(nf, sizeof *r.v) : NULL;
    r.entry = malloc(nf * sizeof *r.entry);
    r.best = stopping ? malloc(nf * sizeof *r.best) : NULL;
    if (!r.perm || !r.xb || !r.yb || (soft && !r.tb) || !r.grad || !r.m || (adam && !r.v) || !r.entry ||
        (stopping && !r.best)) {
        run_free(&r);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory for training");
    }
    memcpy(r.entry, g->block, nf * sizeof(float));

    r.tw.soft = (lc_soft){r.tb, o->temperature, o->alpha};
    optim opt = {.kind = o->optimizer, .p = g->block, .grad = r.grad, .m = r.m, .v = r.v,
                 .lr = (float)(o->lr > 0 ? o->lr : adam ? 1e-3 : 0.01),
                 .wd = (float)o->weight_decay, .mom = (float)o->momentum,
                 .b1 = (float)o->beta1, .b2 = (float)o->beta2, .eps = (float)o->eps};
    uint64_t rng = o->seed;
    /* the annealing: the rate falls linearly to 0 over the last o->anneal
     * of the run's steps (docs/training.md, "Learning-rate annealing") */
    double base_lr = opt.lr, steps = (double)o->epochs * (double)((n + batch - 1) / batch);
    double hold = steps * (1 - o->anneal), step_no = 0;
    const float *x = lc_data_x(train);
    const int32_t *y = lc_data_y(train);
    double best_score = INFINITY;
    int since_best = 0;
    st = LC_OK;
    for (int ep = 1; ep <= o->epochs; ep++) {
        double t0 = now(), loss = 0;
        size_t correct = 0;
        /* a fresh permutation each epoch (Fisher-Yates), as torch's RandomSampler */
        for (size_t i = 0; i < n; i++) r.perm[i] = i;
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = rng_below(&rng, i + 1), t = r.perm[i];
            r.perm[i] = r.perm[j];
            r.perm[j] = t;
        }
        for (size_t b0 = 0; b0 < n; b0 += batch) {
            size_t m = n - b0 < batch ? n - b0 : batch;
            for (size_t i = 0; i < m; i++) {
                size_t row = r.perm[b0 + i];
                memcpy(r.xb + i * (size_t)in_w, x + row * (size_t)in_w,
                       (size_t)in_w * sizeof(float));
                if (y) r.yb[i] = y[row];
                if (soft)
                    memcpy(r.tb + i * (size_t)out_w, soft + row * (size_t)out_w,
                           (size_t)out_w * sizeof(float));
            }
            if (step_no >= hold && o->anneal > 0)
                opt.lr = (float)(base_lr * (steps - step_no) / (steps - hold));
            step_no++;
            optim_begin_step(&opt);
            double bl = lc_batch_grad(&r.tw, r.xb, y ? r.yb : NULL, m, (float)(1.0 / (double)m), r.grad,
                                      false, &correct, optim_slice, &opt);
            if (!isfinite(bl)) {
                st = lc_fail(err, LC_ERR_NUMERIC,
                             "training diverged: loss is %g in epoch %d, batch %zu "
                             "(try a lower learning rate)", bl / (double)m, ep, b0 / batch + 1);
                goto out;
            }
            loss += bl;
            if (o->batch_cb) o->batch_cb(o->cb_ctx, ep, b0 + m, n);
        }
        lc_epoch_info info = {ep, o->epochs, loss / (double)n, (double)correct / (double)n,
                              NAN, NAN, 0, 0};
        if (val) {
            evaluate(&r, val, &info.val_loss, &info.val_acc);
            double score = o->monitor == LC_MONITOR_VAL_ACC ? -info.val_acc : info.val_loss;
            if (score < best_score || ep == 1) {
                best_score = score;
                since_best = 0;
                info.best = 1;
                if (stopping) memcpy(r.best, g->block, nf * sizeof(float));
            } else {
                since_best++;
            }
        }
        info.seconds = now() - t0;
        if (o->epoch_cb) o->epoch_cb(o->cb_ctx, &info);
        if (stopping && since_best >= o->patience) break;
    }
    if (stopping) memcpy(g->block, r.best, nf * sizeof(float));
    /* the last update is not covered by a loss check */
    st = lc_graph_check_finite(g, err);
    if (st) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err && err->msg[0] ? err->msg : "non-finite weight");
        st = lc_fail(err, LC_ERR_NUMERIC, "training diverged (%s); try a lower learning rate",
                     why);
    }
out:
    if (st) memcpy(g->block, r.entry, nf * sizeof(float));
    run_free(&r);
    return st;
}

/* ------------------------------------------------- the standardisation fold */

lc_status lc_graph_fold_standardize(lc_graph *g, const lc_preproc *p, lc_error *err)
{
    int in_w = g->nodes[0].width;
    if (lc_preproc_width(p) != in_w)
        return lc_fail(err, LC_ERR_SHAPE, "preprocessing gives %d features, the model takes %d",
                       lc_preproc_width(p), in_w);
    lc_preproc *c;
    lc_status st = lc_preproc_clone(p, &c, err);
    if (st) return st;
    if (lc_preproc_standardize(p)) {
        /* x_std = (x - mean) / sd, so W x_std + b = (W / sd) x + (b - W mean / sd) */
        for (int k = 1; k < g->n_nodes; k++) {
            struct lc_node *nd = &g->nodes[k];
            int e = lc_graph_find_edge(g, k, 0);
            if (e < 0) continue;
            float *w = nd->in[e].w;
            for (int i = 0; i < nd->width; i++) {
                float *row = w + (size_t)i * in_w;
                double shift = 0;
                for (int ci = 0; ci < lc_preproc_n_columns(p); ci++) {
                    const struct lc_pcol *col = lc_preproc_column(p, ci);
                    if (col->kind != LC_COL_NUMERIC) continue;
                    int f = lc_preproc_offset(p, ci);
                    double wf = (double)row[f] / col->sd;
                    shift += wf * col->mean;
                    row[f] = (float)wf;
                }
                nd->bias[i] = (float)((double)nd->bias[i] - shift);
            }
        }
    }
    lc_preproc_set_standardize(c, 0);
    lc_graph_set_preproc(g, c);
    return LC_OK;
}
