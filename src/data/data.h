/* data.h - the data set and preprocessing structures, shared by the data
 * module (src/data/), the trainer and the C exporter. Not installed. */
#ifndef LC_DATA_H
#define LC_DATA_H

#include "util/util.h"

/* Caps on what a file may declare, so that a hostile header is refused
 * before anything is allocated. */
#define LC_MAX_CLASSES     (1 << 20)  /* classes of a label column */
#define LC_MAX_CATEGORIES  1024       /* categories of one column in a spec */
#define LC_FIT_CATEGORIES  20         /* categories kept when fitting */
#define LC_MAX_FILE_BYTES  ((size_t)1 << 35)  /* 32 GiB of (decompressed) input */

/* A loaded data set. x is (rows, cols) row-major; y, when present, holds one
 * class index in [0, n_classes) per row. */
struct lc_data {
    size_t rows;
    int cols;
    float *x;            /* (rows, cols) */
    int32_t *y;          /* (rows) or NULL when unlabelled */
    int n_classes;       /* 0 when unlabelled */
    char **class_names;  /* (n_classes) or NULL (integer labels) */
    lc_preproc *pre;     /* fitted with opts->fit, owned, or NULL */
};

typedef enum lc_col_kind {
    LC_COL_NUMERIC = 0,
    LC_COL_CATEGORICAL
} lc_col_kind;

/* One raw CSV column of the spec. A numeric column gives one feature,
 * (x - mean) / sd when the spec standardises, else x; a missing cell takes
 * the mean. A categorical column gives n_cat + 1 one-hot features, the last
 * one for "other" (unknown or missing values). */
struct lc_pcol {
    char *name;
    lc_col_kind kind;
    double mean, sd;  /* numeric; sd > 0 (a constant column stores 1) */
    int n_cat;        /* categorical */
    char **cats;      /* (n_cat) */
};

/* The preprocessing spec: the CSV columns a model expects, in order, and
 * the class names of its outputs. */
struct lc_preproc {
    char *label;          /* label column name, or NULL */
    int standardize;      /* 1: apply() standardises numeric columns */
    int n_cols;
    struct lc_pcol *cols; /* (n_cols) */
    int n_classes;        /* 0: integer labels are class indices */
    char **classes;       /* (n_classes) or NULL */
};

/* ---- internal accessors for the trainer and the C exporter ---- */

/* Number of raw columns of the spec and column i (borrowed). */
int lc_preproc_n_columns(const lc_preproc *p);
const struct lc_pcol *lc_preproc_column(const lc_preproc *p, int i);
/* Index of column i's first feature in the vector that apply() produces. */
int lc_preproc_offset(const lc_preproc *p, int i);
/* Whether apply() standardises numeric columns; set to 0 once the trainer
 * has folded (x - mean) / sd into the first layer. */
int lc_preproc_standardize(const lc_preproc *p);
void lc_preproc_set_standardize(lc_preproc *p, int on);

/* ---- helpers shared inside the data module ---- */

/* Allocates an empty data set of rows x cols (labels when `labelled`),
 * with the size checks and caps. `what` names the file for messages. */
lc_status lc_data_alloc(size_t rows, int cols, bool labelled, const char *what,
                        lc_data **out, lc_error *err);
/* Reads a whole file, gunzipping it when it is gzip (zlib reads plain files
 * as they are). LC_ERR_FORMAT for a corrupt or truncated gzip stream. */
lc_status lc_read_maybe_gz(const char *path, unsigned char **buf, size_t *len,
                           lc_error *err);
/* Sorted, distinct copies of names; *out is (n_out) malloc'd strings. */
lc_status lc_sorted_distinct(char *const *names, size_t n, char ***out, int *n_out,
                             lc_error *err);
void lc_free_strings(char **s, int n);
/* order[0..n) = the indices of names in strcmp order; false on out of memory. */
bool lc_sort_order(char *const *names, int *order, int n);
/* Index of s among names[order[0..n)] (order from lc_sort_order), or -1. */
int lc_find_sorted(char *const *names, const int *order, int n, const char *s);

/* Format loaders, called by lc_data_load after detection. buf holds the
 * whole (decompressed) file. */
lc_status lc_csv_load(const char *path, const char *buf, size_t len,
                      const lc_load_opts *opts, lc_data **out, lc_error *err);
lc_status lc_idx_load(const char *path, const unsigned char *buf, size_t len,
                      const lc_load_opts *opts, lc_data **out, lc_error *err);
lc_status lc_npy_load(const char *path, const unsigned char *buf, size_t len,
                      const lc_load_opts *opts, lc_data **out, lc_error *err);
/* A numeric array read from an NPY or IDX file: a validated header and a
 * pointer to its payload (inside the caller's buffer). Dimensions after the
 * first are flattened into cols; a 1-D array has cols == 1. */
struct lc_array {
    char kind;            /* 'f' float, 'i' signed, 'u' unsigned integer */
    int size;             /* bytes per element: 1, 2, 4 or 8 */
    bool big_endian;      /* IDX is big-endian, NPY little-endian */
    int ndim;
    size_t rows, cols;
    const unsigned char *data;  /* rows * cols * size bytes */
};

/* Parse and validate a header against the file length: dimensions capped
 * and overflow-checked, payload exactly as long as the header says. */
lc_status lc_npy_parse(const char *path, const unsigned char *buf, size_t len,
                       struct lc_array *a, lc_error *err);
lc_status lc_idx_parse(const char *path, const unsigned char *buf, size_t len,
                       struct lc_array *a, lc_error *err);
/* Element i of the payload as a double. */
double lc_array_get(const struct lc_array *a, size_t i);
/* The array as an unlabelled data set, each value times scale; NaN or
 * infinity gives LC_ERR_NUMERIC naming the (0-based) row and column. */
lc_status lc_array_to_data(const char *path, const struct lc_array *a, double scale,
                           lc_data **out, lc_error *err);
/* Labels from a separate file (NPY of integers or integral floats, or IDX1),
 * exactly d->rows of them, each below `classes` when that is > 0 (the
 * model's); sets d->y and d->n_classes. */
lc_status lc_labels_load(const char *path, lc_data *d, int classes, lc_error *err);

bool lc_is_npy(const unsigned char *buf, size_t len);
bool lc_is_idx(const unsigned char *buf, size_t len);

#endif
