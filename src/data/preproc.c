/* preproc.c - the preprocessing spec: ownership, accessors and its JSON
 * form (stored in ONNX metadata_props under "lincomp.preprocessing"):
 *
 *   {"version":1, "label":"class" | null, "standardize":1,
 *    "columns":[{"name":"age","kind":"numeric","mean":29.9,"sd":14.4},
 *               {"name":"sex","kind":"categorical","categories":["female","male"]}],
 *    "classes":["no","yes"]}
 *
 * The reader is strict: the JSON travels inside model files that may come
 * from anywhere, so every key, type and size is checked and anything
 * unexpected is refused with what was expected. */
#include "data/data.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRE_VERSION 1

static void free_col(struct lc_pcol *c)
{
    free(c->name);
    lc_free_strings(c->cats, c->n_cat);
}

void lc_preproc_free(lc_preproc *p)
{
    if (!p) return;
    for (int i = 0; i < p->n_cols; i++) free_col(&p->cols[i]);
    free(p->cols);
    free(p->label);
    lc_free_strings(p->classes, p->n_classes);
    free(p);
}

int lc_preproc_width(const lc_preproc *p)
{
    int w = 0;
    for (int i = 0; i < p->n_cols; i++)
        w += p->cols[i].kind == LC_COL_NUMERIC ? 1 : p->cols[i].n_cat + 1;
    return w;
}

int lc_preproc_classes(const lc_preproc *p) { return p->n_classes; }

const char *lc_preproc_class_name(const lc_preproc *p, int c)
{
    return c >= 0 && c < p->n_classes ? p->classes[c] : NULL;
}

int lc_preproc_n_columns(const lc_preproc *p) { return p->n_cols; }

const struct lc_pcol *lc_preproc_column(const lc_preproc *p, int i)
{
    return i >= 0 && i < p->n_cols ? &p->cols[i] : NULL;
}

int lc_preproc_offset(const lc_preproc *p, int i)
{
    int w = 0;
    for (int k = 0; k < i && k < p->n_cols; k++)
        w += p->cols[k].kind == LC_COL_NUMERIC ? 1 : p->cols[k].n_cat + 1;
    return w;
}

int lc_preproc_standardize(const lc_preproc *p) { return p->standardize; }
void lc_preproc_set_standardize(lc_preproc *p, int on) { p->standardize = on ? 1 : 0; }

/* Deep copy of n strings; false on out of memory (nothing leaks). */
static bool dup_strings(char *const *src, int n, char ***dst)
{
    *dst = NULL;
    if (!src || n == 0) return true;
    char **d = calloc((size_t)n, sizeof *d);
    if (!d) return false;
    for (int i = 0; i < n; i++) {
        if (!(d[i] = strdup(src[i]))) {
            lc_free_strings(d, i);
            return false;
        }
    }
    *dst = d;
    return true;
}

lc_status lc_preproc_clone(const lc_preproc *p, lc_preproc **out, lc_error *err)
{
    *out = NULL;
    if (!p) return LC_OK;
    lc_preproc *q = calloc(1, sizeof *q);
    if (!q) return lc_fail(err, LC_ERR_NOMEM, "out of memory copying preprocessing");
    q->standardize = p->standardize;
    bool ok = (!p->label || (q->label = strdup(p->label))) &&
              dup_strings(p->classes, p->n_classes, &q->classes);
    if (ok) q->n_classes = p->n_classes;
    if (ok && p->n_cols > 0) ok = (q->cols = calloc((size_t)p->n_cols, sizeof *q->cols)) != NULL;
    for (int i = 0; ok && i < p->n_cols; i++) {
        const struct lc_pcol *s = &p->cols[i];
        struct lc_pcol *c = &q->cols[i];
        q->n_cols = i + 1;
        *c = (struct lc_pcol){.kind = s->kind, .mean = s->mean, .sd = s->sd};
        ok = (c->name = strdup(s->name)) && dup_strings(s->cats, s->n_cat, &c->cats);
        if (ok) c->n_cat = s->n_cat;
    }
    if (!ok) {
        lc_preproc_free(q);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory copying preprocessing");
    }
    *out = q;
    return LC_OK;
}

/* ------------------------------------------------------------ writing */

static cJSON *string_array(char *const *s, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        cJSON *v = cJSON_CreateString(s[i]);
        if (!v || !cJSON_AddItemToArray(a, v)) {
            cJSON_Delete(v);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static bool add(cJSON *obj, const char *key, cJSON *v)
{
    if (!v) return false;
    if (cJSON_AddItemToObject(obj, key, v)) return true;
    cJSON_Delete(v);
    return false;
}

lc_status lc_preproc_to_json(const lc_preproc *p, char **json, lc_error *err)
{
    *json = NULL;
    cJSON *root = cJSON_CreateObject(), *cols = NULL;
    bool ok = root && add(root, "version", cJSON_CreateNumber(PRE_VERSION)) &&
              add(root, "label", p->label ? cJSON_CreateString(p->label) : cJSON_CreateNull()) &&
              add(root, "standardize", cJSON_CreateNumber(p->standardize)) &&
              add(root, "columns", cols = cJSON_CreateArray());
    for (int i = 0; ok && i < p->n_cols; i++) {
        const struct lc_pcol *c = &p->cols[i];
        cJSON *o = cJSON_CreateObject();
        if (o && !cJSON_AddItemToArray(cols, o)) {
            cJSON_Delete(o);
            o = NULL;
        }
        ok = o && add(o, "name", cJSON_CreateString(c->name));
        if (ok && c->kind == LC_COL_NUMERIC)
            ok = add(o, "kind", cJSON_CreateString("numeric")) &&
                 add(o, "mean", cJSON_CreateNumber(c->mean)) &&
                 add(o, "sd", cJSON_CreateNumber(c->sd));
        else if (ok)
            ok = add(o, "kind", cJSON_CreateString("categorical")) &&
                 add(o, "categories", string_array(c->cats, c->n_cat));
    }
    ok = ok && add(root, "classes", string_array(p->classes, p->n_classes));
    char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    /* hand back memory from malloc, as the API promises, whatever cJSON's hooks */
    if (s) {
        *json = strdup(s);
        cJSON_free(s);
    }
    if (!*json) return lc_fail(err, LC_ERR_NOMEM, "out of memory writing preprocessing JSON");
    return LC_OK;
}

/* ------------------------------------------------------------ reading */

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first name that occurs twice, or NULL (also NULL on out of memory,
 * where the check is skipped rather than failing a valid spec). */
static const char *find_duplicate(char *const *names, int n)
{
    if (n < 2) return NULL;
    char **t = malloc((size_t)n * sizeof *t);
    if (!t) return NULL;
    memcpy(t, names, (size_t)n * sizeof *t);
    qsort(t, (size_t)n, sizeof *t, cmp_str_ptr);
    const char *dup = NULL;
    for (int i = 1; i < n && !dup; i++)
        if (strcmp(t[i - 1], t[i]) == 0) dup = t[i];
    free(t);
    return dup;
}

#define BAD(...) (st = lc_fail(err, LC_ERR_FORMAT, "preprocessing JSON: " __VA_ARGS__))

/* Reads an array of distinct strings of at most cap entries. */
static lc_status read_strings(const cJSON *a, const char *what, int cap, char ***out, int *n,
                              lc_error *err)
{
    lc_status st = LC_OK;
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(a)) return BAD("%s: expected an array of strings", what);
    int len = cJSON_GetArraySize(a);
    if (len > cap) return BAD("%s: %d entries, expected at most %d", what, len, cap);
    if (len == 0) return LC_OK;
    char **s = calloc((size_t)len, sizeof *s);
    if (!s) return lc_fail(err, LC_ERR_NOMEM, "out of memory reading preprocessing JSON");
    int i = 0;
    for (const cJSON *v = a->child; v && !st; v = v->next, i++) {
        if (!cJSON_IsString(v)) BAD("%s[%d]: expected a string", what, i);
        else if (!(s[i] = strdup(v->valuestring)))
            st = lc_fail(err, LC_ERR_NOMEM, "out of memory reading preprocessing JSON");
    }
    const char *dup = st ? NULL : find_duplicate(s, len);
    if (dup) BAD("%s: '%.60s' appears twice", what, dup);
    if (st) {
        lc_free_strings(s, len);
        return st;
    }
    *out = s;
    *n = len;
    return LC_OK;
}

static lc_status read_column(const cJSON *o, int i, struct lc_pcol *c, lc_error *err)
{
    lc_status st = LC_OK;
    const cJSON *name = NULL, *kind = NULL, *mean = NULL, *sd = NULL, *cats = NULL;
    if (!cJSON_IsObject(o)) return BAD("columns[%d]: expected an object", i);
    for (const cJSON *v = o->child; v; v = v->next) {
        const cJSON **slot = !strcmp(v->string, "name")         ? &name
                             : !strcmp(v->string, "kind")       ? &kind
                             : !strcmp(v->string, "mean")       ? &mean
                             : !strcmp(v->string, "sd")         ? &sd
                             : !strcmp(v->string, "categories") ? &cats
                                                                : NULL;
        if (!slot) return BAD("columns[%d]: unknown key '%.40s'", i, v->string);
        if (*slot) return BAD("columns[%d]: key '%s' appears twice", i, v->string);
        *slot = v;
    }
    if (!cJSON_IsString(name)) return BAD("columns[%d]: expected a string \"name\"", i);
    if (!cJSON_IsString(kind)) return BAD("columns[%d]: expected a string \"kind\"", i);
    if (!strcmp(kind->valuestring, "numeric")) {
        c->kind = LC_COL_NUMERIC;
        if (cats) return BAD("columns[%d]: a numeric column has no \"categories\"", i);
        if (!cJSON_IsNumber(mean) || !isfinite(mean->valuedouble))
            return BAD("columns[%d] '%.40s': expected a finite number \"mean\"", i,
                       name->valuestring);
        if (!cJSON_IsNumber(sd) || !isfinite(sd->valuedouble) || !(sd->valuedouble > 0))
            return BAD("columns[%d] '%.40s': expected a positive finite number \"sd\"", i,
                       name->valuestring);
        c->mean = mean->valuedouble;
        c->sd = sd->valuedouble;
    } else if (!strcmp(kind->valuestring, "categorical")) {
        c->kind = LC_COL_CATEGORICAL;
        if (mean || sd) return BAD("columns[%d]: a categorical column has no \"mean\"/\"sd\"", i);
        if (!cats) return BAD("columns[%d]: expected an array \"categories\"", i);
        char what[64];
        snprintf(what, sizeof what, "columns[%d].categories", i);
        if ((st = read_strings(cats, what, LC_MAX_CATEGORIES, &c->cats, &c->n_cat, err)))
            return st;
    } else {
        return BAD("columns[%d]: kind '%.40s', expected \"numeric\" or \"categorical\"", i,
                   kind->valuestring);
    }
    if (!(c->name = strdup(name->valuestring)))
        return lc_fail(err, LC_ERR_NOMEM, "out of memory reading preprocessing JSON");
    return LC_OK;
}

static lc_status read_root(const cJSON *root, lc_preproc *p, lc_error *err)
{
    lc_status st = LC_OK;
    const cJSON *ver = NULL, *label = NULL, *stdz = NULL, *cols = NULL, *classes = NULL;
    if (!cJSON_IsObject(root)) return BAD("expected an object at the top");
    for (const cJSON *v = root->child; v; v = v->next) {
        const cJSON **slot = !strcmp(v->string, "version")       ? &ver
                             : !strcmp(v->string, "label")       ? &label
                             : !strcmp(v->string, "standardize") ? &stdz
                             : !strcmp(v->string, "columns")     ? &cols
                             : !strcmp(v->string, "classes")     ? &classes
                                                                 : NULL;
        if (!slot) return BAD("unknown key '%.40s'", v->string);
        if (*slot) return BAD("key '%s' appears twice", v->string);
        *slot = v;
    }
    if (!cJSON_IsNumber(ver)) return BAD("expected a number \"version\"");
    if (ver->valuedouble != PRE_VERSION)
        return BAD("version %g, this lincomp reads version %d", ver->valuedouble, PRE_VERSION);
    if (!cJSON_IsString(label) && !cJSON_IsNull(label))
        return BAD("expected \"label\": a string or null");
    if (!cJSON_IsNumber(stdz) || (stdz->valuedouble != 0 && stdz->valuedouble != 1))
        return BAD("expected \"standardize\": 0 or 1");
    if (!cJSON_IsArray(cols)) return BAD("expected an array \"columns\"");
    int n = cJSON_GetArraySize(cols);
    if (n < 1 || n > LC_MAX_WIDTH)
        return BAD("%d columns, expected 1 to %d", n, LC_MAX_WIDTH);
    if (!classes) return BAD("expected an array \"classes\" (empty for integer labels)");
    p->standardize = (int)stdz->valuedouble;
    if (cJSON_IsString(label) && !(p->label = strdup(label->valuestring)))
        return lc_fail(err, LC_ERR_NOMEM, "out of memory reading preprocessing JSON");
    if (!(p->cols = calloc((size_t)n, sizeof *p->cols)))
        return lc_fail(err, LC_ERR_NOMEM, "out of memory reading preprocessing JSON");
    long long width = 0;
    int i = 0;
    for (const cJSON *c = cols->child; c; c = c->next, i++) {
        p->n_cols = i + 1;
        if ((st = read_column(c, i, &p->cols[i], err))) return st;
        width += p->cols[i].kind == LC_COL_NUMERIC ? 1 : p->cols[i].n_cat + 1;
        if (width > LC_MAX_WIDTH) return BAD("more than %d features", LC_MAX_WIDTH);
        if (p->label && !strcmp(p->cols[i].name, p->label))
            return BAD("column '%.40s' is also the label", p->label);
    }
    char **names = malloc((size_t)n * sizeof *names);
    if (!names) return lc_fail(err, LC_ERR_NOMEM, "out of memory reading preprocessing JSON");
    for (i = 0; i < n; i++) names[i] = p->cols[i].name;
    const char *dup = find_duplicate(names, n);
    if (dup) BAD("column '%.60s' appears twice", dup);
    free(names);
    if (st) return st;
    return read_strings(classes, "classes", LC_MAX_CLASSES, &p->classes, &p->n_classes, err);
}

lc_status lc_preproc_from_json(const char *json, size_t len, lc_preproc **out, lc_error *err)
{
    *out = NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        return lc_fail(err, LC_ERR_FORMAT, "preprocessing JSON: syntax error at byte %zu of %zu",
                       at, len);
    }
    while (end && end < json + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end && end < json + len && *end) {
        size_t at = (size_t)(end - json);
        cJSON_Delete(root);
        return lc_fail(err, LC_ERR_FORMAT, "preprocessing JSON: unexpected text at byte %zu", at);
    }
    lc_preproc *p = calloc(1, sizeof *p);
    lc_status st = p ? read_root(root, p, err)
                     : lc_fail(err, LC_ERR_NOMEM, "out of memory reading preprocessing JSON");
    cJSON_Delete(root);
    if (st) {
        lc_preproc_free(p);
        return st;
    }
    *out = p;
    return LC_OK;
}
