/* csv_table.h - a CSV file tokenised (by Debian's libcsv) into a table of
 * strings, with the physical line on which each record starts, so that
 * errors can say "line N" as a text editor counts. Internal to src/data. */
#ifndef LC_CSV_TABLE_H
#define LC_CSV_TABLE_H

#include "data/data.h"

struct lc_table {
    char *text;       /* every field, NUL-terminated, one after the other */
    size_t text_len, text_cap;
    size_t *cell;     /* (n_rec, ncols) offsets into text, record-major */
    size_t n_cells, cell_cap;
    size_t *line;     /* (n_rec) line where each record starts; header = record 0 */
    size_t n_rec, rec_cap;
    int ncols;        /* fields of the header */
};

/* Tokenises buf. Every record must have as many fields as the header
 * (LC_ERR_FORMAT naming the line otherwise); lines of nothing but blanks
 * are skipped. An empty file gives n_rec == 0. */
lc_status lc_table_parse(const char *path, const char *buf, size_t len, struct lc_table *t,
                         lc_error *err);
void lc_table_free(struct lc_table *t);

/* " (the header is one column holding ';': ...)" when t's header is one
 * field holding a ';' or a tab, most likely a file with another delimiter
 * (lincomp reads commas only); else "". */
const char *lc_table_delimiter_hint(const struct lc_table *t);

/* A cell as a number: 0 with the number in *v; 1 when empty (a missing
 * value); -1 when not a number. Blanks around the number are allowed. */
int lc_parse_number(const char *s, double *v);

/* The label column j of t (records 1..n_rec-1) into d->y, d->n_classes and
 * d->class_names, as opts asks (csv_labels.c); a fitted spec, when given,
 * records class names. */
lc_status lc_csv_labels(const char *path, const struct lc_table *t, int j,
                        const lc_load_opts *opts, lc_preproc *fitted, lc_data *d,
                        lc_error *err);

static inline const char *lc_table_cell(const struct lc_table *t, size_t rec, int col)
{
    return t->text + t->cell[rec * (size_t)t->ncols + (size_t)col];
}

#endif
