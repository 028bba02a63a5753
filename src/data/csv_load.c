/* csv_load.c - CSV to features and labels: the header is line 1; the label
 * is a column chosen by name (or the last one); the features come from
 *   - a stored preprocessing spec (columns matched by header name),
 *   - a spec fitted here (opts->fit), or
 *   - the raw numeric columns, in file order (no spec).
 * The same apply step serves all three, so training data and later data go
 * through identical code. The label column becomes class indices in
 * csv_labels.c. */
#include "data/csv_table.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct loader {
    const char *path;
    const struct lc_table *t;
    lc_error *err;
};

struct name_at { const char *s; int i; };
static int cmp_name_at(const void *a, const void *b)
{
    const struct name_at *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int find_column(const struct lc_table *t, const char *name)
{
    for (int j = 0; j < t->ncols; j++)
        if (!strcmp(lc_table_cell(t, 0, j), name)) return j;
    return -1;
}

/* Header names must be unique: columns are matched by name later. */
static lc_status check_header(const struct loader *L)
{
    int n = L->t->ncols;
    struct name_at *a = malloc((size_t)n * sizeof *a);
    if (!a) return lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    for (int j = 0; j < n; j++) a[j] = (struct name_at){lc_table_cell(L->t, 0, j), j};
    qsort(a, (size_t)n, sizeof *a, cmp_name_at);
    lc_status st = LC_OK;
    for (int j = 1; j < n && !st; j++)
        if (!strcmp(a[j - 1].s, a[j].s))
            st = lc_fail(L->err, LC_ERR_FORMAT, "%s: line %zu: columns %d and %d are both named '%.60s'",
                         L->path, L->t->line[0], a[j - 1].i + 1, a[j].i + 1, a[j].s);
    free(a);
    return st;
}

/* ------------------------------------------------------------- fitting */

struct run { const char *s; size_t count, first; };

static int cmp_run_str(const void *a, const void *b)
{
    const struct run *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->first > y->first) - (x->first < y->first);
}

static int cmp_run_freq(const void *a, const void *b)
{
    const struct run *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return (x->first > y->first) - (x->first < y->first);
}

/* Categories of column j: the LC_FIT_CATEGORIES most frequent non-empty
 * values (ties: the one seen first), stored in sorted order. */
static lc_status fit_categorical(const struct loader *L, int j, struct lc_pcol *c)
{
    const struct lc_table *t = L->t;
    size_t n = 0, rows = t->n_rec - 1;
    struct run *r = malloc(rows * sizeof *r);
    if (!r) return lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    for (size_t i = 1; i < t->n_rec; i++) {
        const char *s = lc_table_cell(t, i, j);
        if (*s) r[n++] = (struct run){s, 1, i};
    }
    qsort(r, n, sizeof *r, cmp_run_str);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && !strcmp(r[k - 1].s, r[i].s)) r[k - 1].count++;
        else r[k++] = r[i];
    }
    qsort(r, k, sizeof *r, cmp_run_freq);
    if (k > LC_FIT_CATEGORIES) k = LC_FIT_CATEGORIES;
    qsort(r, k, sizeof *r, cmp_run_str);
    lc_status st = LC_OK;
    if (k > 0 && !(c->cats = calloc(k, sizeof *c->cats))) st = LC_ERR_NOMEM;
    for (size_t i = 0; !st && i < k; i++) {
        if (!(c->cats[i] = strdup(r[i].s))) st = LC_ERR_NOMEM;
        c->n_cat = (int)i + 1;
    }
    free(r);
    if (st) return lc_fail(L->err, st, "%s: out of memory", L->path);
    return LC_OK;
}

/* Fits a spec over every column but `label`: numeric when every non-empty
 * cell is a number (mean and population sd over those), else categorical. */
static lc_status fit_spec(const struct loader *L, int label, lc_preproc **out)
{
    const struct lc_table *t = L->t;
    lc_preproc *p = calloc(1, sizeof *p);
    if (!p || !(p->cols = calloc((size_t)t->ncols, sizeof *p->cols))) {
        free(p);
        return lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    }
    *out = p;
    p->standardize = 1;
    if (label >= 0 && !(p->label = strdup(lc_table_cell(t, 0, label))))
        return lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    for (int j = 0; j < t->ncols; j++) {
        if (j == label) continue;
        struct lc_pcol *c = &p->cols[p->n_cols++];
        const char *name = lc_table_cell(t, 0, j);
        if (!(c->name = strdup(name)))
            return lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
        double sum = 0, v;
        size_t n = 0, i;
        for (i = 1; i < t->n_rec; i++) {
            int rc = lc_parse_number(lc_table_cell(t, i, j), &v);
            if (rc < 0) break;
            if (rc == 0 && !isfinite(v))
                return lc_fail(L->err, LC_ERR_NUMERIC, "%s: line %zu, column '%.60s': '%.40s' is not a finite number",
                               L->path, t->line[i], name, lc_table_cell(t, i, j));
            if (rc == 0) sum += v, n++;
        }
        if (i < t->n_rec) {
            c->kind = LC_COL_CATEGORICAL;
            lc_status st = fit_categorical(L, j, c);
            if (st) return st;
            continue;
        }
        c->kind = LC_COL_NUMERIC;
        c->mean = n ? sum / (double)n : 0;
        double ss = 0;
        for (i = 1; i < t->n_rec; i++)
            if (lc_parse_number(lc_table_cell(t, i, j), &v) == 0) ss += (v - c->mean) * (v - c->mean);
        c->sd = n ? sqrt(ss / (double)n) : 0;
        if (!(c->sd > 0) || !isfinite(c->sd)) c->sd = 1; /* constant column: leave it centred */
        if (!isfinite(c->mean))
            return lc_fail(L->err, LC_ERR_NUMERIC, "%s: column '%.60s': the mean overflows",
                           L->path, name);
    }
    if (p->n_cols == 0)
        return lc_fail(L->err, LC_ERR_FORMAT, "%s: no feature columns besides the label",
                       L->path);
    return LC_OK;
}

/* ------------------------------------------------------------ applying */

/* Fills d->x from the columns cols[0..n) found at file columns map[0..n).
 * raw: no spec, so a missing cell is an error and nothing is scaled;
 * guessed: the label is the last column by default, so a text column may
 * be the label in another place. */
static lc_status apply(const struct loader *L, const struct lc_pcol *cols, int n, const int *map,
                       bool raw, bool guessed, bool standardize, lc_data *d)
{
    const struct lc_table *t = L->t;
    int total = 0;
    for (int i = 0; i < n; i++) total += cols[i].kind == LC_COL_CATEGORICAL ? cols[i].n_cat : 0;
    int *order = malloc((size_t)(total ? total : 1) * sizeof *order);
    if (!order) return lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    lc_status st = LC_OK;
    for (int i = 0, o = 0; i < n && !st; o += cols[i].n_cat, i++)
        if (cols[i].kind == LC_COL_CATEGORICAL && !lc_sort_order(cols[i].cats, order + o, cols[i].n_cat))
            st = lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    for (size_t r = 1; r < t->n_rec && !st; r++) {
        float *x = d->x + (r - 1) * (size_t)d->cols;
        for (int i = 0, o = 0; i < n && !st; o += cols[i].n_cat, i++) {
            const struct lc_pcol *c = &cols[i];
            const char *s = lc_table_cell(t, r, map[i]);
            if (c->kind == LC_COL_CATEGORICAL) {
                int k = *s ? lc_find_sorted(c->cats, order + o, c->n_cat, s) : -1;
                memset(x, 0, (size_t)(c->n_cat + 1) * sizeof *x);
                x[k >= 0 ? k : c->n_cat] = 1;
                x += c->n_cat + 1;
                continue;
            }
            double v;
            int rc = lc_parse_number(s, &v);
            if (rc < 0)
                st = lc_fail(L->err, LC_ERR_FORMAT, "%s: line %zu, column '%.60s': expected a number, found '%.40s'%s%s%s",
                             L->path, t->line[r], c->name, s,
                             raw ? " (without stored preprocessing, every column but the label must be numeric" : "",
                             raw && guessed ? ", and the label is the last column unless --label names another" : "",
                             raw ? ")" : "");
            else if (rc == 1 && raw)
                st = lc_fail(L->err, LC_ERR_FORMAT,
                             "%s: line %zu, column '%.60s': missing value, and no stored preprocessing gives a mean to fill it in",
                             L->path, t->line[r], c->name);
            else if (rc == 0 && !isfinite(v))
                st = lc_fail(L->err, LC_ERR_NUMERIC, "%s: line %zu, column '%.60s': '%.40s' is not a finite number",
                             L->path, t->line[r], c->name, s);
            if (st) break;
            if (rc == 1) v = c->mean;
            if (standardize) v = (v - c->mean) / c->sd;
            *x = (float)v;
            if (!isfinite(*x))
                st = lc_fail(L->err, LC_ERR_NUMERIC, "%s: line %zu, column '%.60s': %.40s is beyond float range",
                             L->path, t->line[r], c->name, s);
            x++;
        }
    }
    free(order);
    return st;
}

/* ------------------------------------------------------------ the loader */

/* The label column, or -1 when the file is unlabelled. */
static lc_status pick_label(const struct loader *L, const lc_load_opts *o, int *label)
{
    const char *name = o->label ? o->label : o->pre ? o->pre->label : NULL;
    *label = -1;
    if (name) {
        *label = find_column(L->t, name);
        if (*label < 0 && (o->label || !o->pre))
            return lc_fail(L->err, LC_ERR_FORMAT, "%s: line %zu: no label column named '%.60s'",
                           L->path, L->t->line[0], name);
        return LC_OK; /* a stored spec's label column may be absent: unlabelled */
    }
    if (o->pre) return LC_OK;
    *label = L->t->ncols - 1;
    if (o->fit || o->input_width <= 0 || L->t->ncols != o->input_width) return LC_OK;
    /* as many columns as the model has inputs: unlabelled, unless the last
     * column holds text, which no input without preprocessing can take; then
     * it is the label of a file with a feature column too few, and the
     * width check says so instead of blaming the label's text */
    for (size_t r = 1; r < L->t->n_rec; r++) {
        double v;
        if (lc_parse_number(lc_table_cell(L->t, r, *label), &v) < 0) return LC_OK;
    }
    *label = -1;
    return LC_OK;
}

/* Why a file without preprocessing has n feature columns, not the model's
 * o->input_width: the label column, and the usual culprits. */
static lc_status raw_width_error(const struct loader *L, const lc_load_opts *o, int label, int n)
{
    const struct lc_table *t = L->t;
    const char *first = lc_table_cell(t, 0, 0);
    return lc_fail(L->err, LC_ERR_SHAPE, "%s: %d features per sample (the columns besides the label '%.60s'), "
                   "but the model takes %d%s", L->path, n, lc_table_cell(t, 0, label), o->input_width,
                   n == o->input_width + 1 && label != 0 && (!*first || !strcmp(first, "Unnamed: 0"))
                       ? "; the unnamed first column looks like a pandas index (write the CSV with index=False)"
                       : "");
}

static lc_status build(const struct loader *L, const lc_load_opts *o, lc_data **out)
{
    const struct lc_table *t = L->t;
    lc_preproc *fitted = NULL;
    struct lc_pcol *raw = NULL;
    int *map = NULL, label = -1;
    lc_status st = check_header(L);
    if (!st) st = pick_label(L, o, &label);
    if (!st && o->fit) st = fit_spec(L, label, &fitted);
    const lc_preproc *spec = o->pre ? o->pre : fitted;
    int n = spec ? spec->n_cols : t->ncols - (label >= 0);
    if (!st && n < 1)
        st = lc_fail(L->err, LC_ERR_FORMAT, "%s: no feature columns besides the label%s", L->path,
                     lc_table_delimiter_hint(t));
    if (!st && !spec && label >= 0 && o->input_width > 0 && n != o->input_width)
        st = raw_width_error(L, o, label, n);
    if (!st && !(map = malloc((size_t)n * sizeof *map)))
        st = lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
    if (!st && spec) {
        for (int i = 0; i < n && !st; i++)
            if ((map[i] = find_column(t, spec->cols[i].name)) < 0)
                st = lc_fail(L->err, LC_ERR_FORMAT, "%s: line %zu: no column named '%.60s', which the model's preprocessing needs",
                             L->path, t->line[0], spec->cols[i].name);
    } else if (!st) {
        if (!(raw = calloc((size_t)n, sizeof *raw)))
            st = lc_fail(L->err, LC_ERR_NOMEM, "%s: out of memory", L->path);
        for (int j = 0, i = 0; !st && j < t->ncols; j++) {
            if (j == label) continue;
            raw[i] = (struct lc_pcol){.name = (char *)lc_table_cell(t, 0, j), .sd = 1};
            map[i++] = j;
        }
    }
    int width = spec ? lc_preproc_width(spec) : n;
    lc_data *d = NULL;
    if (!st) st = lc_data_alloc(t->n_rec - 1, width, label >= 0, L->path, &d, L->err);
    if (!st)
        st = apply(L, spec ? spec->cols : raw, n, map, !spec, !o->label, spec && spec->standardize, d);
    if (!st && label >= 0) st = lc_csv_labels(L->path, t, label, o, fitted, d, L->err);
    free(map);
    free(raw);
    if (st) {
        lc_data_free(d);
        lc_preproc_free(fitted);
        return st;
    }
    d->pre = fitted;
    *out = d;
    return LC_OK;
}

lc_status lc_csv_load(const char *path, const char *buf, size_t len, const lc_load_opts *opts,
                      lc_data **out, lc_error *err)
{
    struct lc_table t;
    lc_status st = lc_table_parse(path, buf, len, &t, err);
    if (st) return st;
    if (t.n_rec == 0)
        st = lc_fail(err, LC_ERR_FORMAT, "%s: empty file, expected a CSV header row", path);
    else if (t.n_rec == 1)
        st = lc_fail(err, LC_ERR_FORMAT, "%s: only a header row, no data rows", path);
    else
        st = build(&(struct loader){path, &t, err}, opts, out);
    lc_table_free(&t);
    return st;
}
