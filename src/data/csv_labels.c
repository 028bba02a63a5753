/* csv_labels.c - a CSV's label column as class indices.
 *
 * Labels that are all whole numbers >= 0 are class indices, however they
 * are spelt: "3", "3.0" (pandas writes an integer column as floats once it
 * has held a NaN) and "3e0" alike, as NPY labels take integral floats.
 * Other labels are class names, mapped through, in this order,
 *   - the classes of the model's stored preprocessing,
 *   - the class names of another file of the same run (opts->labels_like),
 *   - the sorted distinct labels of this file.
 * The last is fragile: in a file that lacks one class every later class is
 * numbered one lower, and nothing downstream can tell. So when the model's
 * class count is known (opts->classes), a file with another number of
 * distinct labels is refused rather than silently misread. Whole numbers
 * with a negative one among them (-1/1) are names ordered by value, and
 * numbers that are not whole are refused: lincomp classifies. */
#include "data/csv_table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { TEXT, INDEX, SIGNED };

struct labels {
    const char *path;
    const struct lc_table *t;
    int j;            /* label column */
    const char *col;  /* its name */
    enum kind kind;
    double *v;        /* (rows) the values when the labels are numbers */
    lc_error *err;
};

/* Every label present; *kind INDEX, SIGNED (whole numbers, one negative) or
 * TEXT (one is not a number); a number that is not whole is an error. */
static lc_status classify(struct labels *L)
{
    const struct lc_table *t = L->t;
    size_t bad = 0;
    bool neg = false;
    L->kind = INDEX;
    for (size_t r = 1; r < t->n_rec; r++) {
        const char *s = lc_table_cell(t, r, L->j);
        double x;
        if (!*s)
            return lc_fail(L->err, LC_ERR_FORMAT, "%s: line %zu: the label (column '%.60s') is empty",
                           L->path, t->line[r], L->col);
        if (L->kind == TEXT) continue;
        if (lc_parse_number(s, &x) != 0 || !isfinite(x)) {
            L->kind = TEXT;
            continue;
        }
        if (x != floor(x) && !bad) bad = r;
        neg |= x < 0;
        L->v[r - 1] = x + 0.0; /* -0 is 0 */
    }
    if (L->kind == TEXT) return LC_OK;
    if (bad)
        return lc_fail(L->err, LC_ERR_FORMAT,
                       "%s: line %zu: label '%.40s' (column '%.60s') is a number but not a whole one; "
                       "lincomp classifies: labels are class indices 0, 1, ... or class names",
                       L->path, L->t->line[bad], lc_table_cell(t, bad, L->j), L->col);
    if (neg) L->kind = SIGNED;
    return LC_OK;
}

/* Whole numbers >= 0 as class indices, checked against the model's classes. */
static lc_status read_indices(const struct labels *L, const lc_load_opts *o, lc_data *d)
{
    const struct lc_table *t = L->t;
    int maxv = -1;
    for (size_t r = 1; r < t->n_rec; r++) {
        double x = L->v[r - 1];
        const char *s = lc_table_cell(t, r, L->j);
        if (o->classes > 0 && x >= o->classes)
            return lc_fail(L->err, LC_ERR_SHAPE,
                           "%s: line %zu: label %.40s is not one of the model's %d classes (0 to %d)",
                           L->path, t->line[r], s, o->classes, o->classes - 1);
        if (x >= LC_MAX_CLASSES)
            return lc_fail(L->err, LC_ERR_FORMAT, "%s: line %zu: label %.40s is beyond the cap of %d classes",
                           L->path, t->line[r], s, LC_MAX_CLASSES);
        d->y[r - 1] = (int32_t)x;
        if (d->y[r - 1] > maxv) maxv = d->y[r - 1];
    }
    d->n_classes = maxv + 1;
    return LC_OK;
}

/* The label of record r as a class name: the cell, or for numbers their
 * plain spelling ("3.0" and "3" name one class). */
static const char *key(const struct labels *L, size_t r, char buf[32])
{
    if (L->kind == TEXT || fabs(L->v[r - 1]) >= 1e15) return lc_table_cell(L->t, r, L->j);
    snprintf(buf, 32, "%.0f", L->v[r - 1]);
    return buf;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The distinct labels of the file as d->class_names: in strcmp order for
 * text, in order of value for numbers. */
static lc_status distinct_names(const struct labels *L, lc_data *d)
{
    size_t rows = L->t->n_rec - 1;
    if (L->kind == TEXT) {
        char **all = malloc(rows * sizeof *all);
        if (!all) return lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
        for (size_t r = 1; r <= rows; r++) all[r - 1] = (char *)lc_table_cell(L->t, r, L->j);
        lc_error e2; /* its messages do not name the file */
        lc_status st = lc_sorted_distinct(all, rows, &d->class_names, &d->n_classes, &e2);
        free(all);
        if (st) return lc_fail(L->err, st, "%s: label column '%.60s': %s", L->path, L->col, e2.msg);
        return LC_OK;
    }
    double *v = malloc(rows * sizeof *v);
    if (!v) return lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    memcpy(v, L->v, rows * sizeof *v);
    qsort(v, rows, sizeof *v, cmp_double);
    size_t k = 0;
    for (size_t i = 0; i < rows; i++)
        if (k == 0 || v[k - 1] != v[i]) v[k++] = v[i];
    lc_status st = LC_OK;
    if (k > LC_MAX_CLASSES || fabs(v[0]) >= 1e15 || fabs(v[k - 1]) >= 1e15)
        st = lc_fail(L->err, LC_ERR_FORMAT, "%s: label column '%.60s': %zu distinct numbers from %g to %g, "
                     "too many or too large for classes", L->path, L->col, k, v[0], v[k - 1]);
    else if (!(d->class_names = calloc(k, sizeof *d->class_names)))
        st = lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    for (size_t i = 0; !st && i < k; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.0f", v[i]);
        d->n_classes = (int)i + 1;
        if (!(d->class_names[i] = strdup(buf)))
            st = lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    }
    free(v);
    return st;
}

/* Copies of n names into *out, *count = n (the owner frees what is there
 * after a failure). */
static lc_status dup_names(const struct labels *L, char *const *names, int n, char ***out,
                           int *count)
{
    if (!(*out = calloc((size_t)n, sizeof **out)))
        return lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    *count = n;
    for (int c = 0; c < n; c++)
        if (!((*out)[c] = strdup(names[c])))
            return lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    return LC_OK;
}

/* Labels as class names: the names come from the model's spec, from the
 * other data set, or from this file (then their count must be the model's). */
static lc_status read_names(const struct labels *L, const lc_load_opts *o, lc_preproc *fitted,
                            lc_data *d)
{
    const struct lc_table *t = L->t;
    /* the other data's names only when they are as many as the model's
     * classes: names of a file without some class would shift the others */
    const lc_data *like = o->labels_like && o->labels_like->class_names &&
                                  (o->classes <= 0 || o->labels_like->n_classes == o->classes)
                              ? o->labels_like
                              : NULL;
    const char *from;
    lc_status st;
    if (o->pre && o->pre->n_classes > 0) {
        st = dup_names(L, o->pre->classes, o->pre->n_classes, &d->class_names, &d->n_classes);
        from = "the model's";
    } else if (like) {
        st = dup_names(L, like->class_names, like->n_classes, &d->class_names, &d->n_classes);
        from = "the other labelled data's";
    } else {
        st = distinct_names(L, d);
        from = "this file's";
        if (!st && o->classes > 0 && d->n_classes != o->classes)
            return lc_fail(L->err, LC_ERR_SHAPE,
                           "%s: %d distinct labels in column '%.60s', but the model has %d classes: "
                           "%s are numbered in %s within each file, so a file without some class "
                           "would shift the others; write the labels as class indices 0 to %d",
                           L->path, d->n_classes, L->col, o->classes,
                           L->kind == TEXT ? "text labels" : "labels with negative numbers",
                           L->kind == TEXT ? "sorted order" : "order of value", o->classes - 1);
    }
    if (st) return st;
    int *order = malloc((size_t)d->n_classes * sizeof *order);
    if (!order || !lc_sort_order(d->class_names, order, d->n_classes)) {
        free(order);
        return lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    }
    for (size_t r = 1; r < t->n_rec && !st; r++) {
        char buf[32];
        const char *s = key(L, r, buf);
        int c = lc_find_sorted(d->class_names, order, d->n_classes, s);
        if (c < 0)
            st = lc_fail(L->err, LC_ERR_FORMAT, "%s: line %zu: label '%.40s' is not one of %s %d classes",
                         L->path, t->line[r], s, from, d->n_classes);
        d->y[r - 1] = c;
    }
    free(order);
    if (!st && fitted)
        st = dup_names(L, d->class_names, d->n_classes, &fitted->classes, &fitted->n_classes);
    return st;
}

/* Whether every label of the file, spelt as a class name (key), is one of
 * the n names: whole-number labels of a model trained on number-like text
 * labels ("1", "2") are its names, other whole numbers are its indices. */
static bool all_named(const struct labels *L, char *const *names, int n)
{
    int *order = malloc((size_t)n * sizeof *order);
    bool all = order && lc_sort_order(names, order, n);
    for (size_t r = 1; all && r < L->t->n_rec; r++) {
        char buf[32];
        all = lc_find_sorted(names, order, n, key(L, r, buf)) >= 0;
    }
    free(order);
    return all;
}

lc_status lc_csv_labels(const char *path, const struct lc_table *t, int j,
                        const lc_load_opts *opts, lc_preproc *fitted, lc_data *d,
                        lc_error *err)
{
    size_t rows = t->n_rec - 1;
    struct labels L = {path, t, j, lc_table_cell(t, 0, j), TEXT, malloc(rows * sizeof(double)), err};
    if (!L.v) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", path);
    lc_status st = classify(&L);
    /* whole numbers are class indices, also for a model that stores class
     * names, unless they are those names */
    bool named = !st && L.kind == INDEX && opts->pre && opts->pre->n_classes > 0 &&
                 all_named(&L, opts->pre->classes, opts->pre->n_classes);
    if (!st && L.kind == INDEX && !named)
        st = read_indices(&L, opts, d);
    else if (!st)
        st = read_names(&L, opts, fitted, d);
    free(L.v);
    return st;
}
