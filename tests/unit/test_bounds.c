/* test_bounds.c - provable linearity: input boxes, hand-checked bounds, and
 * soundness of every method on random graphs and on the PyTorch fixtures:
 * 100,000 float32 points of the box (all corners when there are at most 12
 * inputs) run through the library's own batched forward pass, whose z-hook
 * checks that no proven neuron ever leaves its piece. Strength: symbolic
 * bounds prove strictly more than intervals on a stack of linear layers. */
#include "test.h"
#include "core/work.h"

#include <dirent.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_POINTS 100000
#define N_METHODS 3

/* ------------------------------------------------------------ helpers */

/* A float inside [lo, hi] near v (the box bounds are doubles). */
static float to_box(double v, double lo, double hi)
{
    float f = (float)v;
    if ((double)f < lo) f = nextafterf(f, INFINITY);
    if ((double)f > hi) f = nextafterf(f, -INFINITY);
    return f;
}

/* Point r of the sample: corners first (all of them for <= 12 inputs),
 * then random corners, points with some coordinates at a bound, and
 * uniform points. */
static void sample_point(const lc_box *b, size_t r, test_rng *rng, float *x)
{
    int n = lc_box_width(b);
    size_t n_corners = n <= 12 ? (size_t)1 << n : 0;
    int kind = r < n_corners ? 0 : (int)(r % 3) + 1;
    for (int j = 0; j < n; j++) {
        double lo = lc_box_lo(b, j), hi = lc_box_hi(b, j), u = test_uniform(rng), v;
        if (kind == 0) v = (r >> j) & 1 ? hi : lo;
        else if (kind == 1) v = u < 0.5 ? lo : hi;
        else if (kind == 2 && test_uniform(rng) < 0.5) v = u < 0.5 ? lo : hi;
        else v = lo + (hi - lo) * u;
        x[j] = to_box(v, lo, hi);
    }
}

typedef struct check_ctx {
    const lc_graph *g;
    const lc_proof *pr[N_METHODS];
    int n_pr;
    long violations, bound_misses;
    char first[256];
} check_ctx;

/* The closed interval of piece pc of node k's activation. */
static void piece_range(lc_act a, int pc, double *lo, double *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    if (a.kind == LC_ACT_CLIP) {
        if (pc == 0) *hi = a.lo;
        if (pc == 1) { *lo = a.lo; *hi = a.hi; }
        if (pc == 2) *lo = a.hi;
    } else if (a.kind != LC_ACT_IDENTITY) {
        if (pc == 0) *hi = 0;
        else *lo = 0;
    }
}

static void z_hook(void *vctx, int k, const float *z, size_t rows)
{
    check_ctx *c = vctx;
    if (k >= lc_graph_nodes(c->g) - 1) return;
    int w = lc_graph_width(c->g, k);
    lc_act a = lc_graph_act(c->g, k);
    for (int m = 0; m < c->n_pr; m++)
        for (int i = 0; i < w; i++) {
            int pc = lc_proof_piece(c->pr[m], k, i);
            double plo, phi, l = lc_proof_lower(c->pr[m], k, i), u = lc_proof_upper(c->pr[m], k, i);
            piece_range(a, pc, &plo, &phi);
            /* float32 z may differ from the exact z by its rounding */
            double tol_l = 1e-4 * (1 + fabs(l)), tol_u = 1e-4 * (1 + fabs(u));
            for (size_t r = 0; r < rows; r++) {
                double v = z[r * (size_t)w + i];
                if (!(v >= l - tol_l && v <= u + tol_u) && c->bound_misses++ == 0 && !c->first[0])
                    snprintf(c->first, sizeof c->first,
                             "%s: node %d neuron %d: z %.9g outside bounds [%.9g, %.9g]",
                             lc_prove_method_name((lc_prove_method)m), k, i, v, l, u);
                if (pc != LC_KEEP && !(v >= plo && v <= phi) && c->violations++ == 0 &&
                    !c->first[0])
                    snprintf(c->first, sizeof c->first,
                             "%s: node %d neuron %d proven in piece %d [%g, %g] but z = %.9g "
                             "(bounds [%.9g, %.9g])",
                             lc_prove_method_name((lc_prove_method)m), k, i, pc, plo, phi, v, l, u);
            }
        }
}

/* Runs N_POINTS points of the box through g and checks every proof. */
static int check_sound_n(const lc_graph *g, const lc_box *b, const lc_proof **pr, int n_pr,
                         unsigned long long seed, size_t n_points)
{
    check_ctx c = {.g = g, .n_pr = n_pr};
    for (int m = 0; m < n_pr; m++) c.pr[m] = pr[m];
    int n = lc_graph_input_width(g);
    lc_work w;
    lc_error err;
    if (lc_work_init(&w, g, LC_BATCH, &err)) {
        test_fail(__FILE__, __LINE__, "lc_work_init: %s", err.msg);
        return 0;
    }
    float *x = malloc((size_t)LC_BATCH * (size_t)n * sizeof *x);
    test_rng rng = {seed};
    for (size_t r0 = 0; x && r0 < n_points; r0 += LC_BATCH) {
        size_t m = n_points - r0 < LC_BATCH ? n_points - r0 : LC_BATCH;
        for (size_t r = 0; r < m; r++) sample_point(b, r0 + r, &rng, x + r * (size_t)n);
        lc_forward_batch(g, &w, x, m, z_hook, &c);
    }
    free(x);
    lc_work_free(&w);
    if (c.violations || c.bound_misses) {
        test_fail(__FILE__, __LINE__, "%ld piece violations, %ld bound misses; first: %s",
                  c.violations, c.bound_misses, c.first);
        return 0;
    }
    return 1;
}

static int check_sound(const lc_graph *g, const lc_box *b, const lc_proof **pr, int n_pr,
                       unsigned long long seed)
{
    return check_sound_n(g, b, pr, n_pr, seed, N_POINTS);
}

/* The box of row `row` of d widened by eps on each side. */
static lc_box *box_around(const lc_data *d, size_t row, double eps)
{
    int n = lc_data_cols(d);
    double *lo = malloc(2 * (size_t)n * sizeof *lo);
    lc_box *b = NULL;
    lc_error err;
    if (!lo) return NULL;
    for (int j = 0; j < n; j++) {
        double v = lc_data_x(d)[row * (size_t)n + (size_t)j];
        lo[j] = (float)(v - eps);
        lo[n + j] = (float)(v + eps);
    }
    lc_box_create(n, lo, lo + n, &b, &err);
    free(lo);
    return b;
}

/* Proofs by the three methods, each proven set containing the previous. */
static int prove_all(const lc_graph *g, const lc_box *b, lc_proof **pr)
{
    lc_error err;
    for (int m = 0; m < N_METHODS; m++) {
        lc_status st = lc_prove(g, b, (lc_prove_method)m, 20.0, &pr[m], &err);
        if (st) {
            test_fail(__FILE__, __LINE__, "lc_prove(%s): %s", lc_prove_method_name(m), err.msg);
            for (int q = 0; q < m; q++) lc_proof_free(pr[q]);
            return 0;
        }
    }
    for (int k = 1; k < lc_graph_nodes(g) - 1; k++)
        for (int i = 0; i < lc_graph_width(g, k); i++)
            for (int m = 1; m < N_METHODS; m++)
                if (lc_proof_piece(pr[m - 1], k, i) != LC_KEEP &&
                    lc_proof_piece(pr[m], k, i) != lc_proof_piece(pr[m - 1], k, i)) {
                    test_fail(__FILE__, __LINE__, "node %d neuron %d: %s proves piece %d, %s %d",
                              k, i, lc_prove_method_name(m - 1), lc_proof_piece(pr[m - 1], k, i),
                              lc_prove_method_name(m), lc_proof_piece(pr[m], k, i));
                    for (int q = 0; q < N_METHODS; q++) lc_proof_free(pr[q]);
                    return 0;
                }
    return 1;
}

static int total(const lc_proof *p, int (*fn)(const lc_proof *, int))
{
    int s = 0;
    for (int k = 1; k < lc_proof_nodes(p) - 1; k++) s += fn(p, k);
    return s;
}

/* ------------------------------------------------------------- boxes */

static char *write_tmp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/lc_test_boxXXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    size_t len = strlen(text);
    ssize_t wr = write(fd, text, len);
    close(fd);
    return wr == (ssize_t)len ? path : NULL;
}

TEST(bounds_box_load)
{
    lc_error err;
    lc_box *b = NULL;
    char *p = write_tmp("lo,hi\n# comment\n-1, 2\r\n0,0\n\n3.5,4e1\n");
    CHECK(p);
    CHECK_OK(lc_box_load(p, 3, &b, &err), &err);
    CHECK(lc_box_width(b) == 3 && lc_box_lo(b, 0) == -1 && lc_box_hi(b, 0) == 2);
    CHECK(lc_box_lo(b, 1) == 0 && lc_box_hi(b, 2) == 40);
    lc_box_free(b);
    CHECK(lc_box_load(p, 4, &b, &err) == LC_ERR_SHAPE && b == NULL);
    CHECK(strstr(err.msg, "3 rows") && strstr(err.msg, "4 input features"));
    CHECK(lc_box_load(p, 2, &b, &err) == LC_ERR_SHAPE && strstr(err.msg, ":6:"));
    unlink(p);

    p = write_tmp("0,1\n0,x\n");
    CHECK(lc_box_load(p, 2, &b, &err) == LC_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, ":2:") && strstr(err.msg, "lo,hi"), "%s", err.msg);
    unlink(p);
    p = write_tmp("2,1\n");
    CHECK(lc_box_load(p, 1, &b, &err) == LC_ERR_FORMAT && strstr(err.msg, ":1:"));
    unlink(p);
    p = write_tmp("0,inf\n");
    CHECK(lc_box_load(p, 1, &b, &err) == LC_ERR_FORMAT && strstr(err.msg, "finite"));
    unlink(p);
    CHECK(lc_box_load("/nonexistent/box.csv", 1, &b, &err) == LC_ERR_IO);

    CHECK_OK(lc_box_parse_range("-1.5,2", 4, &b, &err), &err);
    CHECK(lc_box_width(b) == 4 && lc_box_lo(b, 3) == -1.5 && lc_box_hi(b, 3) == 2);
    lc_box_free(b);
    CHECK(lc_box_parse_range("1", 4, &b, &err) == LC_ERR_INVALID && strstr(err.msg, "'1'"));
    CHECK(lc_box_parse_range("3,1", 4, &b, &err) == LC_ERR_INVALID);
    CHECK(lc_box_from_range(0, 0, 1, &b, &err) == LC_ERR_INVALID);

    float x[6] = {1, -2, 3, 0.5f, 7, -4};
    lc_data *d;
    CHECK_OK(lc_data_from_arrays(3, 2, x, NULL, 0, &d, &err), &err);
    CHECK_OK(lc_box_from_data(d, &b, &err), &err);
    CHECK(lc_box_lo(b, 0) == 1 && lc_box_hi(b, 0) == 7);
    CHECK(lc_box_lo(b, 1) == -4 && lc_box_hi(b, 1) == 0.5);
    lc_box_free(b);
    lc_data_free(d);
}

/* -------------------------------------------------- hand-checked bounds */

/* input [-1, 2] -> node 1 (3 neurons, act) -> output (1) */
static lc_graph *tiny(lc_act act, const float *w, const float *bias)
{
    int src0 = 0, src1 = 1;
    lc_node_spec spec[3] = {{.width = 1},
                            {.width = 3, .act = act, .n_in = 1, .src = &src0},
                            {.width = 1, .act = {.kind = LC_ACT_IDENTITY}, .n_in = 1, .src = &src1}};
    lc_graph *g;
    lc_error err;
    if (lc_graph_create(3, spec, &g, &err)) return NULL;
    memcpy(lc_graph_weight(g, 1, 0), w, 3 * sizeof(float));
    memcpy(lc_graph_bias(g, 1), bias, 3 * sizeof(float));
    lc_graph_weight(g, 2, 0)[0] = 1;
    return g;
}

TEST(bounds_hand_checked)
{
    lc_error err;
    lc_box *b;
    CHECK_OK(lc_box_from_range(1, -1, 2, &b, &err), &err);
    float w[3] = {2, -1, 1}, bias[3] = {3, -5, 0};
    lc_graph *g = tiny((lc_act){.kind = LC_ACT_RELU}, w, bias);
    CHECK(g);
    lc_proof *p;
    CHECK_OK(lc_prove(g, b, LC_PROVE_INTERVAL, 0, &p, &err), &err);
    double lo[3] = {1, -7, -1}, hi[3] = {7, -4, 2};
    for (int i = 0; i < 3; i++) {
        CHECK(lc_proof_lower(p, 1, i) <= lo[i] && lc_proof_lower(p, 1, i) > lo[i] - 1e-12);
        CHECK(lc_proof_upper(p, 1, i) >= hi[i] && lc_proof_upper(p, 1, i) < hi[i] + 1e-12);
    }
    CHECK(lc_proof_piece(p, 1, 0) == 1 && lc_proof_piece(p, 1, 1) == 0);
    CHECK(lc_proof_piece(p, 1, 2) == LC_KEEP);
    CHECK(lc_proof_method_of(p, 1, 0) == LC_PROVE_INTERVAL);
    CHECK(lc_proof_method_of(p, 1, 2) == LC_PROVE_NONE);
    CHECK(lc_proof_n_linear(p, 1) == 1 && lc_proof_n_constant(p, 1) == 1);
    CHECK(lc_proof_n_proven(p, 1) == 2 && lc_proof_n_by(p, 1, LC_PROVE_INTERVAL) == 2);
    CHECK(lc_proof_width(p, 0) == 0 && lc_proof_width(p, 2) == 0 && lc_proof_width(p, 1) == 3);
    CHECK(lc_proof_piece(p, 2, 0) == LC_KEEP && isnan(lc_proof_lower(p, 1, 3)));

    /* a plan receives the proven pieces */
    lc_plan *plan;
    CHECK_OK(lc_plan_create(g, &plan, &err), &err);
    CHECK_OK(lc_proof_apply(p, plan, &err), &err);
    CHECK(lc_plan_get(plan, 1, 0) == 1 && lc_plan_get(plan, 1, 1) == 0);
    CHECK(lc_plan_get(plan, 1, 2) == LC_KEEP);
    lc_plan_free(plan);
    lc_proof_free(p);
    lc_graph_free(g);

    /* clip(0, 6): z = x + 10 in [9, 12] saturates, 0.5x + 1 in [0.5, 2]
     * is inside, x - 5 in [-6, -3] below */
    float wc[3] = {1, 0.5f, 1}, bc[3] = {10, 1, -5};
    g = tiny((lc_act){LC_ACT_CLIP, 0, 0, 6}, wc, bc);
    CHECK(g);
    CHECK_OK(lc_prove(g, b, LC_PROVE_SYMBOLIC, 0, &p, &err), &err);
    CHECK(lc_proof_piece(p, 1, 0) == 2 && lc_proof_piece(p, 1, 1) == 1);
    CHECK(lc_proof_piece(p, 1, 2) == 0);
    CHECK(lc_proof_n_linear(p, 1) == 1 && lc_proof_n_constant(p, 1) == 2);
    lc_proof_free(p);
    lc_graph_free(g);

    /* identity neurons are always linear */
    g = tiny((lc_act){.kind = LC_ACT_IDENTITY}, w, bias);
    CHECK_OK(lc_prove(g, b, LC_PROVE_INTERVAL, 0, &p, &err), &err);
    CHECK(lc_proof_n_linear(p, 1) == 3);
    lc_proof_free(p);
    lc_graph_free(g);
    lc_box_free(b);
}

TEST(bounds_errors)
{
    lc_error err;
    lc_box *b;
    lc_proof *p;
    float w[3] = {1, 1, 1}, bias[3] = {0, 0, 0};
    lc_graph *g = tiny((lc_act){.kind = LC_ACT_RELU}, w, bias);
    CHECK(g);
    CHECK_OK(lc_box_from_range(2, 0, 1, &b, &err), &err);
    CHECK(lc_prove(g, b, LC_PROVE_INTERVAL, 0, &p, &err) == LC_ERR_SHAPE && p == NULL);
    lc_box_free(b);
    CHECK_OK(lc_box_from_range(1, 0, 1, &b, &err), &err);
    CHECK(lc_prove(g, b, (lc_prove_method)7, 0, &p, &err) == LC_ERR_INVALID);
    CHECK(lc_prove(g, b, LC_PROVE_LP, -1, &p, &err) == LC_ERR_INVALID);
    lc_graph_bias(g, 1)[0] = NAN;
    CHECK(lc_prove(g, b, LC_PROVE_INTERVAL, 0, &p, &err) == LC_ERR_NUMERIC);
    lc_graph_free(g);
    lc_box_free(b);
    lc_prove_method m;
    CHECK_OK(lc_prove_method_parse("symbolic", &m, &err), &err);
    CHECK(m == LC_PROVE_SYMBOLIC);
    CHECK(lc_prove_method_parse("milp", &m, &err) == LC_ERR_INVALID && strstr(err.msg, "lp"));
}

/* The paper's sign test passes a first-layer neuron with w >= 0, b >= 0
 * that a negative input switches off; the sound test does not. */
TEST(bounds_sign_test_unsound)
{
    lc_error err;
    float w[3] = {1, 1, -1}, bias[3] = {0, 2, 0};
    lc_graph *g = tiny((lc_act){.kind = LC_ACT_RELU}, w, bias);
    CHECK(g);
    lc_box *b;
    CHECK_OK(lc_box_from_range(1, -1, 1, &b, &err), &err);
    lc_proof *p;
    CHECK_OK(lc_prove(g, b, LC_PROVE_LP, 1, &p, &err), &err);
    CHECK(lc_sign_test(g, 1) == 2 && lc_sign_test(g, 0) == -1);
    CHECK(lc_proof_piece(p, 1, 0) == LC_KEEP);  /* z = x is negative at x = -1 */
    CHECK(lc_proof_piece(p, 1, 1) == 1);        /* z = x + 2 >= 1 */
    const lc_proof *pr[1] = {p};
    check_sound(g, b, pr, 1, 7);
    lc_proof_free(p);
    lc_box_free(b);
    lc_graph_free(g);
}

/* ------------------------------------------------------- random graphs */

static lc_act random_act(test_rng *r)
{
    switch (test_randint(r, 0, 5)) {
    case 0: return (lc_act){.kind = LC_ACT_RELU};
    case 1: return (lc_act){LC_ACT_LEAKY_RELU, test_uniform(r) < 0.5f ? 0.01f : 0.2f, 0, 0};
    case 2: return (lc_act){.kind = LC_ACT_PRELU};
    case 3: return (lc_act){LC_ACT_CLIP, 0, 0, 6};
    case 4: return (lc_act){LC_ACT_CLIP, 0, -1, 0.5f};
    default: return test_uniform(r) < 0.5 ? (lc_act){.kind = LC_ACT_IDENTITY} : (lc_act){.kind = LC_ACT_RELU};
    }
}

/* Random depth, widths, skip edges and activations; about a third of the
 * neurons get a bias that makes them stable (or nearly so). */
static lc_graph *random_graph(test_rng *r, int n_in)
{
    int n = test_randint(r, 3, 6);
    lc_node_spec spec[6];
    int src[6][6];
    for (int k = 0; k < n; k++) {
        spec[k] = (lc_node_spec){.width = k == 0 ? n_in : k == n - 1 ? 2 : test_randint(r, 2, 16)};
        if (k == 0) continue;
        spec[k].act = k == n - 1 ? (lc_act){.kind = LC_ACT_IDENTITY} : random_act(r);
        int m = 0;
        for (int j = 0; j < k; j++)
            if (j == k - 1 || test_uniform(r) < 0.3) src[k][m++] = j;
        spec[k].n_in = m;
        spec[k].src = src[k];
    }
    lc_graph *g;
    lc_error err;
    if (lc_graph_create(n, spec, &g, &err)) return NULL;
    for (int k = 1; k < n; k++) {
        int w = spec[k].width, fan = 0;
        for (int e = 0; e < spec[k].n_in; e++) fan += spec[src[k][e]].width;
        for (int e = 0; e < spec[k].n_in; e++) {
            float *W = lc_graph_weight(g, k, e);
            for (int q = 0; q < w * spec[src[k][e]].width; q++)
                W[q] = (float)(test_normal(r) / sqrt(fan));
        }
        float *b = lc_graph_bias(g, k);
        for (int i = 0; i < w; i++) {
            double u = test_uniform(r);
            b[i] = (float)(u < 0.15 ? 2 + test_uniform(r) : u < 0.3 ? -2 - test_uniform(r)
                                                                   : 0.3 * test_normal(r));
        }
        float *s = lc_graph_slope(g, k);
        for (int i = 0; s && i < w; i++) s[i] = (float)(test_uniform(r) * 2 - 0.5); /* [-0.5, 1.5) */
    }
    return g;
}

TEST(bounds_sound_random_graphs)
{
    test_rng r = {12345};
    int proven[N_METHODS] = {0}, lp_decided = 0;
    for (int trial = 0; trial < 12; trial++) {
        int n_in = trial % 3 == 2 ? test_randint(&r, 13, 24) : test_randint(&r, 1, 10);
        lc_graph *g = random_graph(&r, n_in);
        CHECK(g);
        double lo[24], hi[24];
        for (int j = 0; j < n_in; j++) {
            lo[j] = (float)(test_uniform(&r) * 3 - 2);
            hi[j] = j % 5 == 4 ? lo[j] : (double)(float)(lo[j] + test_uniform(&r) * 2);
        }
        lc_box *b;
        lc_error err;
        CHECK_OK(lc_box_create(n_in, lo, hi, &b, &err), &err);
        lc_proof *pr[N_METHODS];
        if (!prove_all(g, b, pr)) {
            lc_box_free(b);
            lc_graph_free(g);
            return;
        }
        int ok = check_sound(g, b, (const lc_proof **)pr, N_METHODS, 100 + trial);
        lp_decided += lc_proof_lp_decided(pr[2]);
        for (int m = 0; m < N_METHODS; m++) {
            proven[m] += total(pr[m], lc_proof_n_proven);
            lc_proof_free(pr[m]);
        }
        lc_box_free(b);
        lc_graph_free(g);
        if (!ok) return;
    }
    printf("    proven on 12 random graphs: interval %d, symbolic %d, lp %d (LP decided %d)\n",
           proven[0], proven[1], proven[2], lp_decided);
    CHECK(proven[0] > 0 && proven[1] >= proven[0] && proven[2] >= proven[1]);
}

/* ------------------------------------------------------------ strength */

/* Box [0, 1]^6. Node 1 (relu, 8): rows in identical pairs with mixed
 * signs and a bias that makes every neuron active: intervals prove it.
 * Node 2 (relu, 6): c (h_2m - h_2m+1) + 0.1 h_q + b. The pair cancels
 * exactly, so z >= b; intervals see c (u - l) of slack and prove nothing,
 * symbolic bounds substitute h = z and prove the neurons with b > 0. */
TEST(bounds_symbolic_beats_interval)
{
    int s0 = 0, s1 = 1, s2 = 2;
    lc_node_spec spec[4] = {{.width = 6},
                            {.width = 8, .act = {.kind = LC_ACT_RELU}, .n_in = 1, .src = &s0},
                            {.width = 6, .act = {.kind = LC_ACT_RELU}, .n_in = 1, .src = &s1},
                            {.width = 2, .act = {.kind = LC_ACT_IDENTITY}, .n_in = 1, .src = &s2}};
    lc_graph *g;
    lc_error err;
    CHECK_OK(lc_graph_create(4, spec, &g, &err), &err);
    test_rng r = {99};
    float *w1 = lc_graph_weight(g, 1, 0), *b1 = lc_graph_bias(g, 1);
    for (int m = 0; m < 4; m++) {
        double neg = 0;
        for (int j = 0; j < 6; j++) {
            float v = (float)test_normal(&r);
            w1[(2 * m) * 6 + j] = w1[(2 * m + 1) * 6 + j] = v;
            if (v < 0) neg -= v;
        }
        b1[2 * m] = b1[2 * m + 1] = (float)(neg + 0.25);
    }
    float *w2 = lc_graph_weight(g, 2, 0), *b2 = lc_graph_bias(g, 2);
    for (int i = 0; i < 6; i++) {
        int m = i % 4, q = (i + 3) % 8;
        w2[i * 8 + 2 * m] = 3;
        w2[i * 8 + 2 * m + 1] = -3;
        w2[i * 8 + ((2 * m + 2) % 8)] += -2;
        w2[i * 8 + ((2 * m + 3) % 8)] += 2;
        w2[i * 8 + q] += 0.1f;
        b2[i] = i < 4 ? 0.05f : -0.5f; /* the last two: undecided or dead */
    }
    float *w3 = lc_graph_weight(g, 3, 0);
    for (int q = 0; q < 12; q++) w3[q] = (float)test_normal(&r);
    lc_box *b;
    CHECK_OK(lc_box_from_range(6, 0, 1, &b, &err), &err);
    lc_proof *pr[N_METHODS];
    if (!prove_all(g, b, pr)) {
        lc_box_free(b);
        lc_graph_free(g);
        return;
    }
    int ni = lc_proof_n_proven(pr[0], 2), ns = lc_proof_n_proven(pr[1], 2);
    int nl = lc_proof_n_proven(pr[2], 2);
    printf("    node 2 proven: interval %d, symbolic %d, lp %d (node 1: %d/8 by intervals)\n",
           ni, ns, nl, lc_proof_n_linear(pr[0], 1));
    bool ok = lc_proof_n_linear(pr[0], 1) == 8 && ns > ni && nl >= ns &&
              lc_proof_n_linear(pr[1], 2) == 4 && lc_proof_n_by(pr[1], 2, LC_PROVE_SYMBOLIC) > 0;
    int sound = check_sound(g, b, (const lc_proof **)pr, N_METHODS, 5);
    for (int m = 0; m < N_METHODS; m++) lc_proof_free(pr[m]);
    lc_box_free(b);
    lc_graph_free(g);
    CHECK(sound);
    CHECK_MSG(ok, "interval %d, symbolic %d, lp %d", ni, ns, nl);
}

/* ------------------------------------------------------------ fixtures */

#define FIX "tests/fixtures/"

TEST(bounds_sound_fixtures)
{
    DIR *dir = opendir(FIX);
    if (!dir) {
        printf("    (no %s: skipped)\n", FIX);
        return;
    }
    struct dirent *de;
    int n_models = 0;
    while ((de = readdir(dir))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".onnx") != 0) continue;
        char path[512], in_path[512];
        snprintf(path, sizeof path, FIX "%s", de->d_name);
        snprintf(in_path, sizeof in_path, FIX "%.*s_in.npy", (int)(len - 5), de->d_name);
        lc_graph *g;
        lc_error err;
        if (lc_onnx_load(path, &g, &err)) {
            printf("    %s: not loaded (%s): skipped\n", de->d_name, err.msg);
            continue;
        }
        lc_data *d = NULL;
        lc_box *boxes[2] = {NULL, NULL};
        lc_load_opts opts = {.input_width = lc_graph_input_width(g)};
        if (access(in_path, R_OK) == 0 && lc_data_load(in_path, &opts, &d, &err) == LC_OK &&
            lc_data_cols(d) == lc_graph_input_width(g)) {
            /* the data's box, and a small box around one sample, where
             * most neurons are stable and deep proofs are exercised */
            lc_box_from_data(d, &boxes[0], &err);
            boxes[1] = box_around(d, 0, 0.02);
        }
        lc_data_free(d);
        if (!boxes[0])
            CHECK_OK(lc_box_from_range(lc_graph_input_width(g), -1, 1, &boxes[0], &err), &err);
        int ok = 1;
        for (int bi = 0; bi < 2 && ok && boxes[bi]; bi++) {
            lc_proof *pr[N_METHODS];
            if (!prove_all(g, boxes[bi], pr)) {
                ok = 0;
                break;
            }
            printf("    %s (%s box): proven interval %d, symbolic %d, lp %d of %d hidden\n",
                   de->d_name, bi ? "small" : "data", total(pr[0], lc_proof_n_proven),
                   total(pr[1], lc_proof_n_proven), total(pr[2], lc_proof_n_proven),
                   total(pr[0], lc_proof_width));
            ok = check_sound(g, boxes[bi], (const lc_proof **)pr, N_METHODS, 11 + bi);
            for (int m = 0; m < N_METHODS; m++) lc_proof_free(pr[m]);
        }
        lc_box_free(boxes[0]);
        lc_box_free(boxes[1]);
        lc_graph_free(g);
        n_models++;
        if (!ok) break;
    }
    closedir(dir);
    if (n_models == 0) printf("    (no fixture model loaded: skipped)\n");
}

/* Opt-in: LC_BOUNDS_MODEL=model.onnx LC_BOUNDS_DATA=x.npy [LC_BOUNDS_EPS=e]
 * checks proofs on a larger model over the box of eps around each of the
 * first 4 data rows (or the data's box without eps), with 20,000 points. */
TEST(bounds_sound_external)
{
    const char *mp = getenv("LC_BOUNDS_MODEL"), *dp = getenv("LC_BOUNDS_DATA");
    if (!mp || !dp) return;
    const char *es = getenv("LC_BOUNDS_EPS");
    lc_graph *g;
    lc_data *d;
    lc_error err;
    CHECK_OK(lc_onnx_load(mp, &g, &err), &err);
    lc_load_opts opts = {.input_width = lc_graph_input_width(g)};
    if (lc_data_load(dp, &opts, &d, &err)) {
        lc_graph_free(g);
        CHECK_OK(LC_ERR_IO, &err);
    }
    for (int row = 0; row < (es ? 4 : 1); row++) {
        lc_box *b = NULL;
        if (es) b = box_around(d, (size_t)row, atof(es));
        else lc_box_from_data(d, &b, &err);
        lc_proof *pr[N_METHODS];
        int ok = b && prove_all(g, b, pr);
        if (ok) {
            printf("    row %d: proven interval %d, symbolic %d, lp %d of %d hidden\n", row,
                   total(pr[0], lc_proof_n_proven), total(pr[1], lc_proof_n_proven),
                   total(pr[2], lc_proof_n_proven), total(pr[0], lc_proof_width));
            ok = check_sound_n(g, b, (const lc_proof **)pr, N_METHODS, 3, 20000);
            for (int m = 0; m < N_METHODS; m++) lc_proof_free(pr[m]);
        }
        lc_box_free(b);
        if (!ok) break;
    }
    lc_data_free(d);
    lc_graph_free(g);
}
