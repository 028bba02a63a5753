/* test_distill.c - distillation: the soft-target loss and its gradient
 * against an independent double-precision reference and finite differences
 * (per row and through a whole graph), and fine-tuning a lossy fold towards
 * its original on unlabelled data. */
#include "test.h"
#include "core/internal.h"
#include "train/train.h"

#include <stdlib.h>
#include <string.h>

/* ---- an independent reference of the loss, written from the definition ---- */

/* softmax(v / T) (sigmoid(v / T) and its complement for w == 1) into p. */
static void ref_probs(const double *v, int w, double T, double *p)
{
    if (w == 1) {
        p[1] = 1 / (1 + exp(-v[0] / T));
        p[0] = 1 - p[1];
        return;
    }
    double sum = 0;
    for (int i = 0; i < w; i++) sum += exp(v[i] / T);
    for (int i = 0; i < w; i++) p[i] = exp(v[i] / T) / sum;
}

/* alpha T^2 KL(p_t || p_s) + (1 - alpha) CE(s, y); y < 0: the KL term alone. */
static double ref_row(const double *s, const double *t, int w, int y, double T, double alpha)
{
    double ps[16], pt[16], p1[16], kl = 0;
    ref_probs(s, w, T, ps);
    ref_probs(t, w, T, pt);
    int m = w == 1 ? 2 : w;
    for (int i = 0; i < m; i++) kl += pt[i] * log(pt[i] / ps[i]);
    if (y < 0) return T * T * kl;
    ref_probs(s, w, 1, p1);
    double ce = -log(w == 1 ? p1[y == 1] : p1[y]);
    return alpha * T * T * kl + (1 - alpha) * ce;
}

TEST(distill_row_loss_and_gradient)
{
    test_rng rng = {0xd15711ull};
    static const int widths[] = {1, 2, 3, 7};
    static const double temps[] = {1, 2, 4, 0.5};
    static const double alphas[] = {0, 0.3, 0.7, 1};
    int checked = 0;
    for (int c = 0; c < 64; c++) {
        int w = widths[c % 4], y = c % 5 == 0 ? -1 : test_randint(&rng, 0, w == 1 ? 1 : w - 1);
        lc_soft soft = {NULL, temps[(c / 4) % 4], alphas[(c / 16) % 4]};
        float o[8], t[8], d[8];
        double od[8], td[8];
        /* logits on a 2^-8 grid: o +- h below is exact in float */
        for (int i = 0; i < w; i++) {
            o[i] = (float)(round(256 * 2.5 * test_normal(&rng)) / 256);
            t[i] = (float)(round(256 * 2.5 * test_normal(&rng)) / 256);
            od[i] = o[i];
            td[i] = t[i];
        }
        size_t correct = 0;
        double loss = lc_row_loss(o, w, y, &soft, t, 1.0f, d, &correct);
        double ref = ref_row(od, td, w, y, soft.temp, soft.alpha);
        CHECK_MSG(fabs(loss - ref) <= 1e-9 * (1 + fabs(ref)),
                  "case %d (w %d, y %d, T %g, alpha %g): loss %.12g, reference %.12g", c, w, y,
                  soft.temp, soft.alpha, loss, ref);
        const double h = 1.0 / 1024;
        for (int i = 0; i < w; i++) {
            double keep = od[i];
            od[i] = keep + h;
            double lp = ref_row(od, td, w, y, soft.temp, soft.alpha);
            od[i] = keep - h;
            double lm = ref_row(od, td, w, y, soft.temp, soft.alpha);
            od[i] = keep;
            double fd = (lp - lm) / (2 * h);
            checked++;
            CHECK_MSG(fabs(d[i] - fd) <= 1e-5 + 1e-4 * fabs(fd),
                      "case %d (w %d, y %d, T %g, alpha %g), logit %d: gradient %.9g, finite "
                      "difference %.9g", c, w, y, soft.temp, soft.alpha, i, (double)d[i], fd);
        }
        /* the same logits as the teacher's: no distillation loss, no pull */
        lc_soft pure = {NULL, soft.temp, 1};
        double self = lc_row_loss(t, w, -1, &pure, t, 1.0f, d, &correct);
        CHECK_MSG(fabs(self) < 1e-12, "case %d: KL of the teacher with itself %.3g", c, self);
        for (int i = 0; i < w; i++) CHECK(fabs(d[i]) < 1e-7);
    }
    CHECK(checked > 150);
}

/* ---- the same through a graph: lc_batch_grad with soft targets ---- */

/* Loss of rows of x through g with the parameters p (doubles, the block's
 * layout); hidden nodes ReLU (kinks avoided by the caller), the output's
 * pre-activation are the logits. *near: the smallest |z| of a ReLU. */
static double ref_graph(const lc_graph *g, const double *p, const float *x, const float *t,
                        const int32_t *y, size_t n, double T, double alpha, double *near)
{
    double h[8][16], total = 0, mind = INFINITY;
    int last = g->n_nodes - 1, w = g->nodes[last].width;
    for (size_t r = 0; r < n; r++) {
        for (int i = 0; i < g->nodes[0].width; i++) h[0][i] = x[r * g->nodes[0].width + i];
        for (int k = 1; k <= last; k++) {
            const struct lc_node *nd = &g->nodes[k];
            for (int i = 0; i < nd->width; i++) {
                double z = p[nd->bias - g->block + i];
                for (int e = 0; e < nd->n_in; e++) {
                    int j = nd->in[e].src, wj = g->nodes[j].width;
                    const double *wr = p + (nd->in[e].w - g->block) + (size_t)i * wj;
                    for (int c = 0; c < wj; c++) z += wr[c] * h[j][c];
                }
                if (k < last) mind = fmin(mind, fabs(z));
                h[k][i] = k < last && z < 0 ? 0 : z;
            }
        }
        double td[16];
        for (int i = 0; i < w; i++) td[i] = t[r * w + i];
        total += ref_row(h[last], td, w, y ? y[r] : -1, T, alpha);
    }
    if (near) *near = mind;
    return total / (double)n;
}

TEST(distill_graph_gradient_matches_finite_differences)
{
    test_rng rng = {0xfeedull};
    lc_error err = {0};
    int checked = 0;
    for (int variant = 0; variant < 4; variant++) {
        /* 4 -> 5 -> 4 -> out, with a skip edge from the input to the output;
         * softmax output (pre-activation logits) or one binary unit */
        int out_w = variant == 3 ? 1 : 3, src1[1] = {0}, src2[1] = {1}, src3[2] = {2, 0};
        lc_act relu = {LC_ACT_RELU, 0, 0, 0}, outa = {variant % 2 ? LC_ACT_SOFTMAX
                                                                  : LC_ACT_IDENTITY, 0, 0, 0};
        lc_node_spec spec[4] = {{NULL, 4, {LC_ACT_IDENTITY, 0, 0, 0}, 0, NULL},
                                {NULL, 5, relu, 1, src1}, {NULL, 4, relu, 1, src2},
                                {NULL, out_w, outa, 2, src3}};
        if (variant == 3) spec[3].act.kind = LC_ACT_SIGMOID;
        lc_graph *g;
        CHECK_OK(lc_graph_create(4, spec, &g, &err), &err);
        size_t nf = g->n_floats, n = 0;
        for (size_t i = 0; i < nf; i++) g->block[i] = (float)(0.7 * test_normal(&rng));
        double *p = malloc(nf * sizeof *p), T = variant == 2 ? 4 : 2, alpha = 0.6, near;
        for (size_t i = 0; i < nf; i++) p[i] = g->block[i];
        float x[20 * 4], t[20 * 3];
        int32_t y[20];
        for (int tries = 0; n < 20 && tries < 2000; tries++) {
            for (int i = 0; i < 4; i++) x[n * 4 + i] = (float)test_normal(&rng);
            for (int i = 0; i < out_w; i++) t[n * out_w + i] = (float)(2 * test_normal(&rng));
            y[n] = test_randint(&rng, 0, out_w == 1 ? 1 : out_w - 1);
            ref_graph(g, p, x + n * 4, t + n * out_w, y + n, 1, T, alpha, &near);
            if (near > 1e-3) n++;
        }
        CHECK(n >= 10);
        lc_bwork b;
        CHECK_OK(lc_bwork_init(&b, g, n, true, &err), &err);
        b.soft = (lc_soft){t, T, alpha};
        float *grad = malloc(nf * sizeof *grad);
        size_t correct = 0;
        /* labelled (mixed loss) for variants 0-1, unlabelled (KL alone) else */
        const int32_t *yl = variant < 2 ? y : NULL;
        double loss = lc_batch_grad(&b, x, yl, n, (float)(1.0 / (double)n), grad, false,
                                    &correct, NULL, NULL) / (double)n;
        double l0 = ref_graph(g, p, x, t, yl, n, T, alpha, NULL);
        CHECK_MSG(fabs(loss - l0) <= 1e-5 * (1 + fabs(l0)), "variant %d: loss %.9g vs %.9g",
                  variant, loss, l0);
        const double h = 1e-5;
        for (size_t i = 0; i < nf; i++) {
            double keep = p[i];
            p[i] = keep + h;
            double lp = ref_graph(g, p, x, t, yl, n, T, alpha, &near);
            p[i] = keep - h;
            double lm = ref_graph(g, p, x, t, yl, n, T, alpha, &near);
            p[i] = keep;
            double fd = (lp - lm) / (2 * h);
            checked++;
            CHECK_MSG(fabs(grad[i] - fd) <= 2e-5 + 1e-3 * fabs(fd),
                      "variant %d, parameter %zu of %zu: gradient %.9g, finite difference %.9g",
                      variant, i, nf, (double)grad[i], fd);
        }
        lc_bwork_free(&b);
        free(grad);
        free(p);
        lc_graph_free(g);
    }
    CHECK(checked > 200);
}

/* ---- fine-tuning a lossy fold towards its original without labels ---- */

/* Fraction of rows on which a and b predict different classes. */
static double disagreement(const lc_graph *a, const lc_graph *b, const lc_data *d)
{
    size_t n = lc_data_rows(d);
    int w = lc_graph_output_width(a);
    float *ya = malloc(n * w * sizeof *ya), *yb = malloc(n * w * sizeof *yb);
    lc_error err = {0};
    size_t differ = 0;
    if (lc_forward(a, lc_data_x(d), n, ya, &err) || lc_forward(b, lc_data_x(d), n, yb, &err))
        differ = n;
    for (size_t r = 0; differ < n && r < n; r++) {
        int ia = 0, ib = 0;
        for (int i = 1; i < w; i++) {
            ia = ya[r * w + i] > ya[r * w + ia] ? i : ia;
            ib = yb[r * w + i] > yb[r * w + ib] ? i : ib;
        }
        differ += ia != ib;
    }
    free(ya);
    free(yb);
    return (double)differ / (double)n;
}

TEST(distill_unlabelled_finetune_moves_towards_teacher)
{
    lc_error err = {0};
    lc_load_opts lo = {0};
    lo.fit = 1;
    lc_data *d = NULL, *u = NULL, *cal = NULL, *held = NULL;
    CHECK_OK(lc_data_load("../shared/data/vowel.csv", &lo, &d, &err), &err);
    size_t n = lc_data_rows(d), *idx = malloc(n * sizeof *idx);
    for (size_t i = 0; i < n; i++) idx[i] = (i * 7919) % n; /* n is not a multiple of 7919 */
    size_t nc = n * 3 / 4;
    CHECK_OK(lc_data_subset(d, idx, nc, &cal, &err), &err);
    CHECK_OK(lc_data_subset(d, idx + nc, n - nc, &held, &err), &err);
    /* the teacher: trained on the labels of the calibration part */
    int hidden[2] = {64, 64};
    lc_graph *teacher, *student;
    CHECK_OK(lc_graph_mlp(lc_data_cols(d), hidden, 2, lc_data_classes(d),
                          (lc_act){LC_ACT_RELU, 0, 0, 0}, 3, &teacher, &err), &err);
    lc_train_opts o;
    lc_train_opts_default(&o);
    o.epochs = 40;
    CHECK_OK(lc_train(teacher, cal, NULL, &o, &err), &err);
    /* the student: a lossy fold (neurons in one piece on 60 % of the rows) */
    lc_stats *st;
    lc_plan *plan;
    CHECK_OK(lc_stats_compute(teacher, lc_data_x(cal), nc, lc_data_cols(cal), &st, &err), &err);
    CHECK_OK(lc_plan_from_stats(teacher, st, 0.6, (lc_layer_threshold){LC_LAYER_COUNT, 0}, &plan,
                                &err), &err);
    CHECK_OK(lc_fold(teacher, plan, &student, NULL, &err), &err);
    /* the calibration rows without their labels */
    CHECK_OK(lc_data_from_arrays(nc, lc_data_cols(cal), lc_data_x(cal), NULL, 0, &u, &err), &err);
    double before = disagreement(teacher, student, u), held_before = disagreement(teacher, student, held);
    CHECK_MSG(before > 0.1, "the fold is too exact to test: disagreement %.3f", before);
    /* labels are required without a teacher */
    lc_train_opts f;
    lc_train_opts_default(&f);
    f.epochs = 20;
    CHECK(lc_finetune(student, u, NULL, &f, &err) == LC_ERR_INVALID);
    f.teacher = teacher;
    CHECK_OK(lc_finetune(student, u, NULL, &f, &err), &err);
    double after = disagreement(teacher, student, u), held_after = disagreement(teacher, student, held);
    CHECK_MSG(after < 0.5 * before && held_after < held_before,
              "disagreement with the teacher: calibration %.3f -> %.3f, held-out %.3f -> %.3f",
              before, after, held_before, held_after);
    /* a teacher of another shape is refused, the model left as it was */
    lc_graph *other;
    int h1[1] = {4};
    CHECK_OK(lc_graph_mlp(lc_data_cols(d), h1, 1, 2, (lc_act){LC_ACT_RELU, 0, 0, 0}, 1, &other,
                          &err), &err);
    f.teacher = other;
    CHECK(lc_finetune(student, u, NULL, &f, &err) == LC_ERR_SHAPE);
    CHECK(disagreement(teacher, student, u) == after);
    lc_graph_free(other);
    lc_stats_free(st);
    lc_plan_free(plan);
    lc_graph_free(student);
    lc_graph_free(teacher);
    lc_data_free(u);
    lc_data_free(cal);
    lc_data_free(held);
    lc_data_free(d);
    free(idx);
}
