/* csv_table.c - CSV tokenising with libcsv into an lc_table.
 *
 * libcsv reports fields and record ends through callbacks but not where
 * they are in the file, so the input is fed one physical line at a time and
 * the callbacks read the current line number from the parse state. */
#include "data/csv_table.h"

#include <csv.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct parse_state {
    const char *path;
    struct lc_table *t;
    int nfields;             /* fields so far in the current record */
    size_t cur_line;         /* line being fed to libcsv */
    size_t rec_line;         /* line where the current record started */
    lc_status st;
    lc_error *err;
};

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 256;
    while (c < need) {
        if (c > ((size_t)-1 / 2) / elem) return false;
        c *= 2;
    }
    void *np = realloc(*p, c * elem);
    if (!np) return false;
    *p = np;
    *cap = c;
    return true;
}

static void on_field(void *s, size_t len, void *data)
{
    struct parse_state *ps = data;
    struct lc_table *t = ps->t;
    if (ps->st) return;
    if (ps->nfields == 0) ps->rec_line = ps->cur_line;
    if (t->n_rec > 0 && ps->nfields >= t->ncols) {
        ps->st = lc_fail(ps->err, LC_ERR_FORMAT, "%s: line %zu: more fields than the %d of the header%s",
                         ps->path, ps->rec_line, t->ncols, lc_table_delimiter_hint(t));
        return;
    }
    if (ps->nfields >= LC_MAX_WIDTH) {
        ps->st = lc_fail(ps->err, LC_ERR_NOMEM, "%s: line %zu: more than %d fields", ps->path,
                         ps->rec_line, LC_MAX_WIDTH);
        return;
    }
    if (!grow((void **)&t->text, &t->text_cap, t->text_len + len + 1, 1) ||
        !grow((void **)&t->cell, &t->cell_cap, t->n_cells + 1, sizeof *t->cell)) {
        ps->st = lc_fail(ps->err, LC_ERR_NOMEM, "%s: out of memory at line %zu", ps->path,
                         ps->cur_line);
        return;
    }
    t->cell[t->n_cells++] = t->text_len;
    if (len) memcpy(t->text + t->text_len, s, len);
    t->text_len += len;
    t->text[t->text_len++] = 0;
    ps->nfields++;
}

static void on_record(int c, void *data)
{
    (void)c;
    struct parse_state *ps = data;
    struct lc_table *t = ps->t;
    if (ps->st || ps->nfields == 0) return;
    int n = ps->nfields;
    ps->nfields = 0;
    /* a line of blanks is one empty field: skip it, unless the file has a
     * single column, where it is a missing value */
    if (n == 1 && t->text[t->cell[t->n_cells - 1]] == 0 && (t->n_rec == 0 || t->ncols > 1)) {
        t->text_len = t->cell[--t->n_cells];
        return;
    }
    if (t->n_rec == 0) {
        t->ncols = n;
    } else if (n != t->ncols) {
        ps->st = lc_fail(ps->err, LC_ERR_FORMAT, "%s: line %zu: %d fields, the header has %d%s",
                         ps->path, ps->rec_line, n, t->ncols, lc_table_delimiter_hint(t));
        return;
    }
    if (!grow((void **)&t->line, &t->rec_cap, t->n_rec + 1, sizeof *t->line)) {
        ps->st = lc_fail(ps->err, LC_ERR_NOMEM, "%s: out of memory at line %zu", ps->path,
                         ps->cur_line);
        return;
    }
    t->line[t->n_rec++] = ps->rec_line;
}

static lc_status parse_error(struct parse_state *ps, struct csv_parser *p)
{
    int e = csv_error(p);
    if (e == CSV_EPARSE)
        return lc_fail(ps->err, LC_ERR_FORMAT,
                       "%s: line %zu: malformed quoting (a quote inside an unquoted field, "
                       "text after a closing quote, or an unterminated quoted field)",
                       ps->path, ps->nfields ? ps->rec_line : ps->cur_line);
    return lc_fail(ps->err, LC_ERR_NOMEM, "%s: line %zu: %s", ps->path, ps->cur_line,
                   csv_strerror(e));
}

const char *lc_table_delimiter_hint(const struct lc_table *t)
{
    if (t->ncols != 1 || t->n_cells == 0) return "";
    const char *h = t->text + t->cell[0];
    if (strchr(h, ';')) return " (the header is one column holding ';': lincomp reads comma-separated files)";
    if (strchr(h, '\t')) return " (the header is one column holding tabs: lincomp reads comma-separated files)";
    return "";
}

/* A NUL byte has no place in a text file, and libcsv would hand a field
 * holding one to callers that read it as a C string, cut short there (2.5
 * then NUL then anything reads as 2.5). UTF-16, which Excel and PowerShell
 * write as "Unicode text", is mostly NULs between ASCII bytes. */
static lc_status check_text(const char *path, const char *buf, size_t len, lc_error *err)
{
    const char *z = memchr(buf, 0, len);
    if (!z) return LC_OK;
    const unsigned char *u = (const unsigned char *)buf;
    if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        return lc_fail(err, LC_ERR_FORMAT, "%s: the file is UTF-16 text (it starts with a UTF-16 byte order "
                       "mark); lincomp reads CSV as UTF-8 or ASCII: save it as UTF-8", path);
    size_t line = 1;
    for (const char *c = buf; c < z; c++) line += *c == '\n';
    return lc_fail(err, LC_ERR_FORMAT, "%s: line %zu: a NUL byte: this is not a text file (or it is "
                   "UTF-16/UTF-32 text; lincomp reads CSV as UTF-8 or ASCII)", path, line);
}

lc_status lc_table_parse(const char *path, const char *buf, size_t len, struct lc_table *t,
                         lc_error *err)
{
    memset(t, 0, sizeof *t);
    lc_status cs = check_text(path, buf, len, err);
    if (cs) return cs;
    struct parse_state ps = {.path = path, .t = t, .cur_line = 1, .err = err};
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", path);
    size_t pos = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) pos = 3; /* UTF-8 byte order mark */
    while (pos < len && !ps.st) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) + 1 : len;
        if (csv_parse(&p, buf + pos, end - pos, on_field, on_record, &ps) != end - pos &&
            !ps.st)
            ps.st = parse_error(&ps, &p);
        pos = end;
        if (nl) ps.cur_line++;
    }
    if (!ps.st && csv_fini(&p, on_field, on_record, &ps) != 0 && !ps.st)
        ps.st = parse_error(&ps, &p);
    csv_free(&p);
    if (ps.st) lc_table_free(t);
    return ps.st;
}

void lc_table_free(struct lc_table *t)
{
    free(t->text);
    free(t->cell);
    free(t->line);
    memset(t, 0, sizeof *t);
}

int lc_parse_number(const char *s, double *v)
{
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return 1;
    char *end;
    double x = strtod(s, &end);
    if (end == s) return -1;
    while (isspace((unsigned char)*end)) end++;
    if (*end) return -1;
    *v = x;
    return 0;
}
