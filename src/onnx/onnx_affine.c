/* onnx_affine.c - affine values sum_j A_j h_j + c for the ONNX importer
 * (see onnx_imp.h). Values are immutable and reference counted, so aliases
 * (Identity, Dropout) and shared weight matrices cost nothing. */
#include "onnx_imp.h"

#include <stdlib.h>
#include <string.h>

ox_blob *ox_blob_new(size_t n)
{
    if (n > ((size_t)-1 - sizeof(ox_blob)) / sizeof(double)) return NULL;
    ox_blob *b = calloc(1, sizeof *b + n * sizeof(double));
    if (!b) return NULL;
    b->refs = 1;
    b->n = n;
    return b;
}

ox_blob *ox_blob_ref(ox_blob *b)
{
    if (b) b->refs++;
    return b;
}

void ox_blob_unref(ox_blob *b)
{
    if (b && --b->refs == 0) free(b);
}

static ox_aff *aff_new(int n, int n_terms)
{
    ox_aff *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->t = calloc(n_terms ? (size_t)n_terms : 1, sizeof *a->t);
    if (!a->t) {
        free(a);
        return NULL;
    }
    a->refs = 1;
    a->n = n;
    a->n_terms = n_terms;
    return a;
}

void ox_aff_unref(ox_aff *a)
{
    if (!a || --a->refs > 0) return;
    for (int i = 0; i < a->n_terms; i++) ox_blob_unref(a->t[i].m);
    ox_blob_unref(a->c);
    free(a->t);
    free(a);
}

ox_aff *ox_aff_ref(ox_aff *a)
{
    if (a) a->refs++;
    return a;
}

ox_aff *ox_aff_node(int k, int n)
{
    ox_aff *a = aff_new(n, 1);
    if (a) a->t[0] = (ox_term){k, OX_IDENT, NULL, 0};
    return a;
}

/* Copies the terms of a, sharing their matrices. */
static ox_aff *aff_copy(const ox_aff *a, int extra)
{
    ox_aff *r = aff_new(a->n, a->n_terms + extra);
    if (!r) return NULL;
    r->n_terms = a->n_terms;
    for (int i = 0; i < a->n_terms; i++) {
        r->t[i] = a->t[i];
        ox_blob_ref(r->t[i].m);
    }
    return r;
}

ox_aff *ox_aff_scale(const ox_aff *a, const double *s)
{
    size_t n = (size_t)a->n;
    ox_aff *r = aff_new(a->n, a->n_terms);
    if (!r) return NULL;
    for (int i = 0; i < a->n_terms; i++) {
        const ox_term *t = &a->t[i];
        size_t len = t->kind == OX_DENSE ? t->m->n : n;
        ox_blob *m = ox_blob_new(len);
        if (!m) goto nomem;
        /* scaling rows keeps a selection one */
        r->t[i] = (ox_term){t->src, t->kind == OX_DENSE ? OX_DENSE : OX_DIAG, m, t->sel};
        if (t->kind == OX_IDENT) {
            memcpy(m->v, s, n * sizeof(double));
        } else if (t->kind == OX_DIAG) {
            for (size_t j = 0; j < n; j++) m->v[j] = s[j] * t->m->v[j];
        } else {
            size_t w = len / n;
            for (size_t j = 0; j < n; j++)
                for (size_t q = 0; q < w; q++) m->v[j * w + q] = s[j] * t->m->v[j * w + q];
        }
    }
    if (a->c) {
        if (!(r->c = ox_blob_new(n))) goto nomem;
        for (size_t j = 0; j < n; j++) r->c->v[j] = s[j] * a->c->v[j];
    }
    return r;
nomem:
    ox_aff_unref(r);
    return NULL;
}

ox_aff *ox_aff_shift(const ox_aff *a, const double *b)
{
    size_t n = (size_t)a->n;
    ox_aff *r = aff_copy(a, 0);
    if (!r || !(r->c = ox_blob_new(n))) {
        ox_aff_unref(r);
        return NULL;
    }
    for (size_t j = 0; j < n; j++) r->c->v[j] = (a->c ? a->c->v[j] : 0.0) + b[j];
    return r;
}

/* Entry (i, q) of a term as a dense matrix of width n. */
static double term_at(const ox_term *t, size_t n, size_t i, size_t q)
{
    if (t->kind == OX_DENSE) return t->m->v[i * (t->m->n / n) + q];
    if (i != q) return 0.0;
    return t->kind == OX_IDENT ? 1.0 : t->m->v[i];
}

/* x + sb * y for two terms from the same source. */
static ox_blob *term_add(const ox_term *x, const ox_term *y, size_t n, double sb, int *kind)
{
    int dense = x->kind == OX_DENSE || y->kind == OX_DENSE;
    size_t w = x->kind == OX_DENSE ? x->m->n / n : y->kind == OX_DENSE ? y->m->n / n : n;
    ox_blob *m = ox_blob_new(dense ? n * w : n);
    if (!m) return NULL;
    *kind = dense ? OX_DENSE : OX_DIAG;
    for (size_t i = 0; i < n; i++) {
        if (!dense) {
            m->v[i] = term_at(x, n, i, i) + sb * term_at(y, n, i, i);
            continue;
        }
        for (size_t q = 0; q < w; q++)
            m->v[i * w + q] = term_at(x, n, i, q) + sb * term_at(y, n, i, q);
    }
    return m;
}

ox_aff *ox_aff_sum(const ox_aff *a, const ox_aff *b, double sb)
{
    size_t n = (size_t)a->n;
    ox_aff *r = aff_copy(a, b->n_terms);
    if (!r) return NULL;
    for (int i = 0; i < b->n_terms; i++) {
        const ox_term *y = &b->t[i];
        int at = -1;
        for (int j = 0; j < a->n_terms; j++)
            if (a->t[j].src == y->src) at = j;
        if (at >= 0) {
            int kind;
            ox_blob *m = term_add(&a->t[at], y, n, sb, &kind);
            if (!m) goto nomem;
            ox_blob_unref(r->t[at].m);
            r->t[at] = (ox_term){y->src, kind, m, 0};
        } else if (sb == 1.0) {
            r->t[r->n_terms++] = (ox_term){y->src, y->kind, ox_blob_ref(y->m), y->sel};
        } else {
            ox_term zero = {y->src, OX_DIAG, NULL, 0};
            ox_blob *m = ox_blob_new(n);
            if (!m) goto nomem;
            zero.m = m; /* all zeros */
            int kind;
            ox_blob *s = term_add(&zero, y, n, sb, &kind);
            ox_blob_unref(m);
            if (!s) goto nomem;
            r->t[r->n_terms++] = (ox_term){y->src, kind, s, y->sel};
        }
    }
    if (a->c && !b->c) {
        r->c = ox_blob_ref(a->c);
    } else if (b->c && !a->c && sb == 1.0) {
        r->c = ox_blob_ref(b->c);
    } else if (b->c) {
        if (!(r->c = ox_blob_new(n))) goto nomem;
        for (size_t j = 0; j < n; j++) r->c->v[j] = (a->c ? a->c->v[j] : 0.0) + sb * b->c->v[j];
    }
    return r;
nomem:
    ox_aff_unref(r);
    return NULL;
}

/* Identity, diagonal, or a selection that Concat made: a dense layer on top
 * composes with it into its own weights, or one column block of them per
 * source. (Marked, not detected: a dense layer's own weights with one
 * nonzero per row would compose two dense layers into one, which can cost
 * more parameters than the two.) */
int ox_aff_is_diag(const ox_aff *a)
{
    for (int i = 0; i < a->n_terms; i++)
        if (a->t[i].kind == OX_DENSE && !a->t[i].sel) return 0;
    return 1;
}

/* Width of term t's source, for a value of width n. */
static size_t term_src_width(const ox_term *t, size_t n)
{
    return t->kind == OX_DENSE ? t->m->n / n : n;
}

ox_aff *ox_aff_concat(ox_aff *const *parts, int k)
{
    int n = 0, cap = 0;
    for (int p = 0; p < k; p++) {
        n += parts[p]->n;
        cap += parts[p]->n_terms;
    }
    ox_aff *r = aff_new(n, cap);
    if (!r) return NULL;
    r->n_terms = 0;
    /* one dense term per source, its rows filled part by part */
    for (int p = 0, off = 0; p < k; off += parts[p]->n, p++) {
        size_t np = (size_t)parts[p]->n;
        for (int i = 0; i < parts[p]->n_terms; i++) {
            const ox_term *t = &parts[p]->t[i];
            size_t w = term_src_width(t, np);
            int at = -1;
            for (int j = 0; j < r->n_terms; j++)
                if (r->t[j].src == t->src) at = j;
            if (at < 0) {
                ox_blob *m = ox_blob_new((size_t)n * w);
                if (!m) goto nomem;
                at = r->n_terms++;
                r->t[at] = (ox_term){t->src, OX_DENSE, m, 1};
            }
            /* the same source in two parts picks columns twice: still one
             * nonzero per row, so still a selection */
            r->t[at].sel &= t->kind != OX_DENSE || t->sel;
            double *rows = r->t[at].m->v + (size_t)off * w;
            for (size_t q = 0; q < np; q++)
                for (size_t c = 0; c < w; c++) rows[q * w + c] = term_at(t, np, q, c);
        }
        if (parts[p]->c) {
            if (!r->c && !(r->c = ox_blob_new((size_t)n))) goto nomem;
            memcpy(r->c->v + off, parts[p]->c->v, np * sizeof(double));
        }
    }
    return r;
nomem:
    ox_aff_unref(r);
    return NULL;
}

ox_aff *ox_aff_dense(const ox_aff *a, ox_blob *w, int m, double alpha, ox_blob *c)
{
    size_t n = (size_t)a->n, rows = (size_t)m;
    ox_aff *r = aff_new(m, a->n_terms);
    if (!r) return NULL;
    for (int i = 0; i < a->n_terms; i++) {
        const ox_term *t = &a->t[i];
        if (t->kind == OX_IDENT && alpha == 1.0) {
            r->t[i] = (ox_term){t->src, OX_DENSE, ox_blob_ref(w), 0};
            continue;
        }
        size_t ws = term_src_width(t, n);
        ox_blob *p = ox_blob_new(rows * ws);
        if (!p) goto nomem;
        r->t[i] = (ox_term){t->src, OX_DENSE, p, 0};
        if (t->kind != OX_DENSE) {
            for (size_t j = 0; j < rows; j++)
                for (size_t q = 0; q < n; q++)
                    p->v[j * n + q] = alpha * w->v[j * n + q] *
                                      (t->kind == OX_IDENT ? 1.0 : t->m->v[q]);
            continue;
        }
        /* W times a selection (ox_aff_is_diag): row q of the term scales
         * source column col[q] into W's column q. A loop over the nonzeros,
         * not a GEMM: the term has at most n of its n x ws entries set. */
        for (size_t q = 0; q < n; q++)
            for (size_t col = 0; col < ws; col++) {
                double s = t->m->v[q * ws + col];
                if (s == 0.0) continue;
                for (size_t j = 0; j < rows; j++) p->v[j * ws + col] += alpha * w->v[j * n + q] * s;
            }
    }
    if (!a->c) {
        r->c = ox_blob_ref(c);
        return r;
    }
    /* the input's constant part passes through the layer */
    if (!(r->c = ox_blob_new(rows))) goto nomem;
    for (size_t j = 0; j < rows; j++) {
        double s = 0;
        for (size_t q = 0; q < n; q++) s += w->v[j * n + q] * a->c->v[q];
        r->c->v[j] = alpha * s + (c ? c->v[j] : 0.0);
    }
    return r;
nomem:
    ox_aff_unref(r);
    return NULL;
}

void ox_term_to_float(const ox_term *t, int n, int w_src, float *out)
{
    size_t rows = (size_t)n, cols = (size_t)w_src;
    if (t->kind == OX_DENSE) {
        for (size_t i = 0; i < rows * cols; i++) out[i] = (float)t->m->v[i];
        return;
    }
    memset(out, 0, rows * cols * sizeof(float));
    for (size_t i = 0; i < rows; i++)
        out[i * cols + i] = t->kind == OX_IDENT ? 1.0f : (float)t->m->v[i];
}
