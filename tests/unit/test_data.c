/* test_data.c - the data loaders (CSV, IDX, NPY), preprocessing fit/apply
 * and its JSON, including malformed files. Small CSV fixtures live in
 * tests/fixtures/data/; binary files are written by the tests into a
 * temporary folder that is removed at exit. */
#include "test.h"
#include "data/data.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define FIX "tests/fixtures/data/"

/* ------------------------------------------------------------ helpers */

static char tmp_dir[64];
static char *tmp_files[256];
static int n_tmp;

static void cleanup(void)
{
    for (int i = 0; i < n_tmp; i++) {
        unlink(tmp_files[i]);
        free(tmp_files[i]);
    }
    if (tmp_dir[0]) rmdir(tmp_dir);
}

/* A path in the temporary folder (static storage, one per name). */
static const char *tmp_path(const char *name)
{
    if (!tmp_dir[0]) {
        strcpy(tmp_dir, "/tmp/lc_test_dataXXXXXX");
        if (!mkdtemp(tmp_dir)) abort();
        atexit(cleanup);
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", tmp_dir, name);
    for (int i = 0; i < n_tmp; i++)
        if (!strcmp(tmp_files[i], buf)) return tmp_files[i];
    if (n_tmp == 256) abort();
    return tmp_files[n_tmp++] = strdup(buf);
}

static const char *write_file(const char *name, const void *data, size_t len)
{
    const char *p = tmp_path(name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) abort();
    return p;
}

static const char *write_gz(const char *name, const void *data, size_t len)
{
    const char *p = tmp_path(name);
    gzFile f = gzopen(p, "wb");
    if (!f || gzwrite(f, data, (unsigned)len) != (int)len || gzclose(f) != Z_OK) abort();
    return p;
}

static const char *write_text(const char *name, const char *text)
{
    return write_file(name, text, strlen(text));
}

/* An IDX file: type, dims, then payload bytes. */
static size_t make_idx(unsigned char *out, int type, int nd, const unsigned *dims,
                       const void *payload, size_t plen)
{
    out[0] = out[1] = 0;
    out[2] = (unsigned char)type;
    out[3] = (unsigned char)nd;
    for (int k = 0; k < nd; k++)
        for (int b = 0; b < 4; b++) out[4 + 4 * k + b] = (unsigned char)(dims[k] >> (24 - 8 * b));
    memcpy(out + 4 + 4 * nd, payload, plen);
    return 4 + 4 * (size_t)nd + plen;
}

/* An NPY file of version `major` with the given header dict; the header is
 * padded to a multiple of 64 bytes as numpy does. */
static size_t make_npy(unsigned char *out, int major, const char *dict, const void *payload,
                       size_t plen)
{
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t hlen = ((pre + dl + 1 + 63) / 64) * 64 - pre;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (unsigned char)major;
    out[7] = 0;
    for (size_t b = 0; b < pre - 8; b++) out[8 + b] = (unsigned char)(hlen >> (8 * b));
    memset(out + pre, ' ', hlen);
    memcpy(out + pre, dict, dl);
    out[pre + hlen - 1] = '\n';
    memcpy(out + pre + hlen, payload, plen);
    return pre + hlen + plen;
}

static lc_status load(const char *path, const lc_load_opts *o, lc_data **d, lc_error *e)
{
    *d = NULL;
    memset(e, 0, sizeof *e);
    return lc_data_load(path, o, d, e);
}

/* The load must fail with `code` and a message containing each of up to
 * three fragments. */
#define CHECK_LOAD_FAILS(path, opts, code, f1, f2, f3)                           \
    do {                                                                       \
        lc_data *d_;                                                           \
        lc_error e_;                                                           \
        lc_status st_ = load((path), (opts), &d_, &e_);                         \
        lc_data_free(d_);                                                      \
        CHECK_MSG(st_ == (code), "%s: status %s, expected %s (%s)", (path),    \
                  lc_status_str(st_), lc_status_str(code), e_.msg);            \
        const char *fr_[3] = {(f1), (f2), (f3)};                               \
        for (int i_ = 0; i_ < 3; i_++)                                         \
            CHECK_MSG(!fr_[i_] || strstr(e_.msg, fr_[i_]),                     \
                      "message '%s' lacks '%s'", e_.msg, fr_[i_]);             \
    } while (0)

/* ---------------------------------------------------------------- CSV */

TEST(data_csv_numeric_labels)
{
    lc_data *d;
    lc_error e;
    const char *p = write_text("num.csv", "a,b,class\n1,2.5,0\n-3,4e1,2\n");
    CHECK_OK(load(p, NULL, &d, &e), &e);
    float want[] = {1, 2.5f, -3, 40};
    CHECK(lc_data_rows(d) == 2 && lc_data_cols(d) == 2);
    CHECK_CLOSE(lc_data_x(d), want, 4, 0, 0);
    CHECK(lc_data_y(d)[0] == 0 && lc_data_y(d)[1] == 2 && lc_data_classes(d) == 3);
    CHECK(lc_data_class_name(d, 0) == NULL && lc_data_preproc(d) == NULL);
    lc_data_free(d);

    /* the label by name; unlabelled when the width matches the model */
    lc_load_opts o = {.label = "a"};
    CHECK_OK(load(p, &o, &d, &e), &e);
    float want2[] = {2.5f, 0, 40, 2};
    CHECK_CLOSE(lc_data_x(d), want2, 4, 0, 0);
    /* labels 1 and -3: -3 is no class index, so they are names */
    CHECK(lc_data_classes(d) == 2 && !strcmp(lc_data_class_name(d, 0), "-3"));
    lc_data_free(d);
    CHECK_LOAD_FAILS(p, &((lc_load_opts){.label = "zz"}), LC_ERR_FORMAT, "'zz'", NULL, NULL);
    o = (lc_load_opts){.input_width = 3};
    CHECK_OK(load(p, &o, &d, &e), &e);
    CHECK(lc_data_cols(d) == 3 && lc_data_y(d) == NULL && lc_data_classes(d) == 0);
    lc_data_free(d);
}

/* Labels that are all whole numbers are class indices however spelt (pandas
 * writes "2.0"); with a negative one among them they are classes in order
 * of value, not of their text; a fraction is refused. */
TEST(data_csv_whole_number_labels)
{
    lc_data *d;
    lc_error e;
    const char *p = write_text("wf.csv", "a,class\n1,0.0\n2,2.0\n3,10.0\n4,1e1\n5, 3 \n");
    CHECK_OK(load(p, NULL, &d, &e), &e);
    const int32_t *y = lc_data_y(d);
    CHECK(y[0] == 0 && y[1] == 2 && y[2] == 10 && y[3] == 10 && y[4] == 3);
    CHECK(lc_data_classes(d) == 11 && lc_data_class_name(d, 0) == NULL);
    lc_data_free(d);

    p = write_text("wneg.csv", "a,class\n1,-2\n2,12.0\n3,-13\n4,2\n5,-0.0\n");
    CHECK_OK(load(p, NULL, &d, &e), &e);
    y = lc_data_y(d);
    CHECK(lc_data_classes(d) == 5 && !strcmp(lc_data_class_name(d, 0), "-13") &&
          !strcmp(lc_data_class_name(d, 2), "0") && !strcmp(lc_data_class_name(d, 4), "12"));
    CHECK(y[0] == 1 && y[1] == 4 && y[2] == 0 && y[3] == 3 && y[4] == 2);
    lc_data_free(d);
    /* fitted, the names go into the spec; a later file maps "12" and "12.0" alike */
    CHECK_OK(load(p, &((lc_load_opts){.fit = 1}), &d, &e), &e);
    CHECK(lc_preproc_classes(lc_data_preproc(d)) == 5);
    lc_data *d2;
    lc_load_opts o = {.pre = lc_data_preproc(d)};
    const char *q = write_text("wneg2.csv", "a,class\n1,12\n2,-2.0\n");
    CHECK_OK(load(q, &o, &d2, &e), &e);
    CHECK(lc_data_y(d2)[0] == 4 && lc_data_y(d2)[1] == 1);
    lc_data_free(d2);
    lc_data_free(d);

    p = write_text("wfrac.csv", "a,class\n1,0\n2,0.5\n");
    CHECK_LOAD_FAILS(p, NULL, LC_ERR_FORMAT, "wfrac.csv: line 3", "'0.5'", "not a whole one");
    /* numbers among text: all text */
    p = write_text("wmix.csv", "a,class\n1,2.0\n2,x\n");
    CHECK_OK(load(p, NULL, &d, &e), &e);
    CHECK(lc_data_classes(d) == 2 && !strcmp(lc_data_class_name(d, 0), "2.0"));
    lc_data_free(d);
}

/* Text labels numbered within one file shift when the file lacks a class:
 * with the model's class count known, another count is refused; integer
 * labels beyond it name the file and line. */
TEST(data_csv_labels_against_model_classes)
{
    lc_data *d, *full;
    lc_error e;
    const char *p = write_text("abc.csv", "a,class\n1,a\n2,b\n3,c\n");
    const char *q = write_text("bc.csv", "a,class\n1,c\n2,b\n");
    lc_load_opts o = {.classes = 3};
    CHECK_OK(load(p, &o, &full, &e), &e);
    CHECK_LOAD_FAILS(q, &o, LC_ERR_SHAPE, "bc.csv: 2 distinct labels in column 'class'",
                     "the model has 3 classes", "class indices 0 to 2");
    p = write_text("neg3.csv", "a,class\n1,-1\n2,1\n");
    CHECK_LOAD_FAILS(p, &o, LC_ERR_SHAPE, "2 distinct labels", "order of value", NULL);
    /* a single output is a binary model: two classes */
    o.classes = 2;
    CHECK_OK(load(q, &o, &d, &e), &e);
    CHECK(lc_data_y(d)[0] == 1 && lc_data_y(d)[1] == 0);
    lc_data_free(d);

    /* through the names of a file with every class, the same numbers */
    o = (lc_load_opts){.classes = 3, .labels_like = full};
    CHECK_OK(load(q, &o, &d, &e), &e);
    CHECK(lc_data_classes(d) == 3 && lc_data_y(d)[0] == 2 && lc_data_y(d)[1] == 1);
    lc_data_free(d);
    p = write_text("bd.csv", "a,class\n1,b\n2,d\n");
    CHECK_LOAD_FAILS(p, &o, LC_ERR_FORMAT, "bd.csv: line 3", "label 'd'", NULL);
    /* names of another count than the model's are not taken */
    o.classes = 4;
    CHECK_LOAD_FAILS(q, &o, LC_ERR_SHAPE, "2 distinct labels", NULL, NULL);
    lc_data_free(full);

    /* integer labels are indices: a file without class 0 is fine, one
     * beyond the model's classes names its line */
    p = write_text("int.csv", "a,class\n1,2\n2,1.0\n3,3\n");
    o = (lc_load_opts){.classes = 3};
    CHECK_LOAD_FAILS(p, &o, LC_ERR_SHAPE, "int.csv: line 4: label 3", "model's 3 classes (0 to 2)",
                     NULL);
    o.classes = 4;
    CHECK_OK(load(p, &o, &d, &e), &e);
    CHECK(lc_data_y(d)[0] == 2 && lc_data_y(d)[1] == 1 && lc_data_classes(d) == 4);
    lc_data_free(d);
}

/* Files that do not fit a model without preprocessing say why: the width
 * besides the label, a text column where the label was not looked for, a
 * delimiter other than the comma, a pandas index. */
TEST(data_csv_width_messages)
{
    lc_data *d;
    lc_error e;
    /* as many columns as inputs, but the last is text: a feature too few */
    const char *p = write_text("few.csv", "a,b,class\n1,2,x\n3,4,y\n");
    lc_load_opts o = {.input_width = 3};
    CHECK_LOAD_FAILS(p, &o, LC_ERR_SHAPE, "few.csv: 2 features per sample", "label 'class'",
                     "model takes 3");
    /* numbers only: unlabelled, as before */
    p = write_text("few2.csv", "a,b,c\n1,2,3\n");
    CHECK_OK(load(p, &o, &d, &e), &e);
    CHECK(lc_data_cols(d) == 3 && lc_data_y(d) == NULL);
    lc_data_free(d);
    p = write_text("first.csv", "class,a,b\nx,1,2\n");
    o.input_width = 2;
    CHECK_LOAD_FAILS(p, &o, LC_ERR_FORMAT, "column 'class'", "--label", NULL);
    CHECK_LOAD_FAILS(p, &((lc_load_opts){.label = "b"}), LC_ERR_FORMAT, "column 'class'", NULL,
                     NULL);
    lc_error e2;
    CHECK(load(p, &((lc_load_opts){.label = "b"}), &d, &e2) != LC_OK && !strstr(e2.msg, "--label"));
    p = write_text("semi.csv", "a;b;class\n1;2;0\n");
    CHECK_LOAD_FAILS(p, NULL, LC_ERR_FORMAT, "no feature columns", "';'", "comma-separated");
    p = write_text("index.csv", ",a,b,class\n0,1,2,x\n1,3,4,y\n");
    CHECK_LOAD_FAILS(p, &o, LC_ERR_SHAPE, "3 features per sample", "pandas index", NULL);
}

TEST(data_csv_string_labels_crlf_quotes)
{
    lc_data *d;
    lc_error e;
    CHECK_OK(load(FIX "crlf-strings.csv", NULL, &d, &e), &e);
    CHECK(lc_data_rows(d) == 3 && lc_data_cols(d) == 2 && lc_data_classes(d) == 3);
    CHECK(!strcmp(lc_data_class_name(d, 0), "setosa"));
    CHECK(!strcmp(lc_data_class_name(d, 1), "versi,color"));
    CHECK(!strcmp(lc_data_class_name(d, 2), "virginica"));
    CHECK(lc_data_y(d)[0] == 0 && lc_data_y(d)[1] == 1 && lc_data_y(d)[2] == 2);
    CHECK(lc_data_x(d)[4] == 7.7f);
    lc_data_free(d);
}

TEST(data_csv_malformed)
{
    CHECK_LOAD_FAILS(FIX "ragged.csv", NULL, LC_ERR_FORMAT, "ragged.csv", "line 3", "2 fields");
    CHECK_LOAD_FAILS(FIX "header-only.csv", NULL, LC_ERR_FORMAT, "no data rows", NULL, NULL);
    CHECK_LOAD_FAILS(FIX "empty.csv", NULL, LC_ERR_FORMAT, "empty file", NULL, NULL);
    CHECK_LOAD_FAILS(FIX "text-in-numeric.csv", NULL, LC_ERR_FORMAT, "line 3", "column 'b'",
                     "'abc'");
    CHECK_LOAD_FAILS(FIX "nan-cell.csv", NULL, LC_ERR_NUMERIC, "line 3", "column 'b'", "nan");
    CHECK_LOAD_FAILS(FIX "nan-cell.csv", &((lc_load_opts){.fit = 1}), LC_ERR_NUMERIC, "line 3",
                     "column 'b'", NULL);
    CHECK_LOAD_FAILS(FIX "missing-cell.csv", NULL, LC_ERR_FORMAT, "line 3", "column 'b'",
                     "missing");
    CHECK_LOAD_FAILS(FIX "empty-label.csv", NULL, LC_ERR_FORMAT, "line 3", "label", NULL);
    CHECK_LOAD_FAILS(FIX "duplicate-header.csv", NULL, LC_ERR_FORMAT, "columns 1 and 2", "'a'",
                     NULL);
    CHECK_LOAD_FAILS(FIX "bad-quotes.csv", NULL, LC_ERR_FORMAT, "line 2", "quot", NULL);
    const char *p = write_text("inf.csv", "a,b,class\n1,-inf,0\n");
    CHECK_LOAD_FAILS(p, NULL, LC_ERR_NUMERIC, "line 2", "column 'b'", NULL);
    p = write_text("big.csv", "a,b,class\n1,1e300,0\n");
    CHECK_LOAD_FAILS(p, NULL, LC_ERR_NUMERIC, "float range", NULL, NULL);
    p = write_text("onecol.csv", "class\n1\n");
    CHECK_LOAD_FAILS(p, NULL, LC_ERR_FORMAT, "no feature columns", NULL, NULL);
    CHECK_LOAD_FAILS(FIX "no-such-file.csv", NULL, LC_ERR_IO, "no-such-file.csv", NULL, NULL);
    CHECK_LOAD_FAILS(FIX "ragged.csv", &((lc_load_opts){.labels_path = "x.npy"}), LC_ERR_INVALID,
                     NULL, NULL, NULL);
}

TEST(data_csv_fit_onehot_and_imputation)
{
    lc_data *d;
    lc_error e;
    lc_load_opts o = {.fit = 1};
    CHECK_OK(load(FIX "mixed-train.csv", &o, &d, &e), &e);
    const lc_preproc *p = lc_data_preproc(d);
    CHECK(p && lc_preproc_width(p) == 8 && lc_data_cols(d) == 8);
    CHECK(lc_preproc_n_columns(p) == 4 && lc_preproc_standardize(p) == 1);
    const struct lc_pcol *age = lc_preproc_column(p, 0), *sex = lc_preproc_column(p, 1),
                         *port = lc_preproc_column(p, 3);
    CHECK(age->kind == LC_COL_NUMERIC && fabs(age->mean - 30) < 1e-12);
    CHECK(fabs(age->sd - sqrt(200.0 / 3)) < 1e-12);
    CHECK(sex->kind == LC_COL_CATEGORICAL && sex->n_cat == 2);
    CHECK(!strcmp(sex->cats[0], "female") && !strcmp(sex->cats[1], "male"));
    CHECK(port->n_cat == 2 && !strcmp(port->cats[0], "C") && !strcmp(port->cats[1], "S"));
    CHECK(lc_preproc_offset(p, 2) == 4 && lc_preproc_offset(p, 3) == 5);
    CHECK(lc_preproc_classes(p) == 2 && !strcmp(lc_preproc_class_name(p, 1), "yes"));
    double z = 10 / sqrt(200.0 / 3);
    float want[] = {
        (float)-z, 0, 1, 0, (float)-z, 0, 1, 0, /* 20,male,10,S */
        0, 1, 0, 0, (float)z, 1, 0, 0,         /* missing age -> mean */
        (float)z, 1, 0, 0, 0, 0, 1, 0,          /* missing fare -> mean */
        0, 0, 1, 0, 0, 0, 0, 1,                 /* missing port -> other */
    };
    CHECK_CLOSE(lc_data_x(d), want, 32, 1e-6, 1e-6);
    int32_t wy[] = {0, 1, 1, 0};
    CHECK(!memcmp(lc_data_y(d), wy, sizeof wy));

    /* without standardisation the raw values and means come through */
    lc_preproc *q;
    CHECK_OK(lc_preproc_clone(p, &q, &e), &e);
    lc_preproc_set_standardize(q, 0);
    lc_data *d2;
    lc_load_opts o2 = {.pre = q};
    lc_status st = load(FIX "mixed-train.csv", &o2, &d2, &e);
    lc_preproc_free(q);
    CHECK_OK(st, &e);
    CHECK(lc_data_x(d2)[0] == 20 && lc_data_x(d2)[8] == 30 && lc_data_x(d2)[20] == 20);
    lc_data_free(d2);
    lc_data_free(d);
}

TEST(data_csv_fit_keeps_20_categories)
{
    /* 25 categories: c00..c19 three times each, c20..c24 once: the rare
     * ones share the "other" slot */
    char text[8192] = "v,class\n";
    for (int i = 0; i < 25; i++)
        for (int k = 0; k < (i < 20 ? 3 : 1); k++)
            snprintf(text + strlen(text), sizeof text - strlen(text), "c%02d,%d\n", 24 - i, i % 2);
    lc_data *d;
    lc_error e;
    CHECK_OK(load(write_text("cats.csv", text), &((lc_load_opts){.fit = 1}), &d, &e), &e);
    const struct lc_pcol *c = lc_preproc_column(lc_data_preproc(d), 0);
    CHECK(c->n_cat == 20 && lc_data_cols(d) == 21);
    CHECK(!strcmp(c->cats[0], "c05") && !strcmp(c->cats[19], "c24"));
    const float *x = lc_data_x(d);
    CHECK(x[0 * 21 + 19] == 1); /* first row: c24 -> last category */
    CHECK(x[(size_t)(lc_data_rows(d) - 1) * 21 + 20] == 1); /* c00 -> other */
    lc_data_free(d);
}

TEST(data_csv_apply_spec)
{
    lc_data *tr, *d;
    lc_error e;
    CHECK_OK(load(FIX "mixed-train.csv", &((lc_load_opts){.fit = 1}), &tr, &e), &e);
    const lc_preproc *p = lc_data_preproc(tr);
    lc_load_opts o = {.pre = p};
    /* reordered columns, an extra one, unknown category, unknown label */
    CHECK_LOAD_FAILS(FIX "mixed-test.csv", &o, LC_ERR_FORMAT, "line 4", "'maybe'", NULL);
    const char *path = write_text("apply.csv", "id,port,fare,sex,age,class\n1,Q,5,alien,,yes\n");
    CHECK_OK(load(path, &o, &d, &e), &e);
    double s = sqrt(200.0 / 3);
    float want[] = {0, 0, 0, 1, (float)(-15 / s), 0, 0, 1};
    CHECK_CLOSE(lc_data_x(d), want, 8, 1e-6, 1e-6);
    CHECK(lc_data_y(d)[0] == 1 && lc_data_classes(d) == 2 && lc_data_preproc(d) == NULL);
    lc_data_free(d);
    /* without the label column: unlabelled; without a feature column: error */
    path = write_text("nolabel.csv", "age,sex,fare,port\n1,male,2,S\n");
    CHECK_OK(load(path, &o, &d, &e), &e);
    CHECK(lc_data_y(d) == NULL && lc_data_cols(d) == 8);
    lc_data_free(d);
    path = write_text("nofare.csv", "age,sex,port\n1,male,S\n");
    CHECK_LOAD_FAILS(path, &o, LC_ERR_FORMAT, "'fare'", NULL, NULL);
    lc_load_opts both = {.pre = p, .fit = 1};
    CHECK_LOAD_FAILS(path, &both, LC_ERR_INVALID, NULL, NULL, NULL);
    lc_data_free(tr);
}

/* ---------------------------------------------------------------- IDX */

TEST(data_idx_plain_and_gzip)
{
    unsigned char img[64], lab[16];
    unsigned char pix[12] = {0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 255};
    unsigned char lv[3] = {2, 0, 1};
    size_t ni = make_idx(img, 0x08, 3, (unsigned[]){3, 2, 2}, pix, 12);
    size_t nl = make_idx(lab, 0x08, 1, (unsigned[]){3}, lv, 3);
    lc_data *d;
    lc_error e;
    write_file("p-labels-idx1-ubyte", lab, nl);
    const char *p = write_file("p-images-idx3-ubyte", img, ni);
    CHECK_OK(load(p, NULL, &d, &e), &e);
    CHECK(lc_data_rows(d) == 3 && lc_data_cols(d) == 4 && lc_data_classes(d) == 3);
    CHECK(lc_data_x(d)[1] == 1.0f && fabsf(lc_data_x(d)[2] - 0.2f) < 1e-7f);
    CHECK(lc_data_y(d)[0] == 2 && lc_data_y(d)[2] == 1);
    lc_data_free(d);
    /* gzip images, labels only as plain file: "try both" */
    write_file("g-labels-idx1-ubyte", lab, nl);
    p = write_gz("g-images-idx3-ubyte.gz", img, ni);
    CHECK_OK(load(p, NULL, &d, &e), &e);
    CHECK(lc_data_rows(d) == 3 && lc_data_y(d) && lc_data_y(d)[0] == 2);
    lc_data_free(d);
    /* no labels file beside: unlabelled */
    p = write_file("n-images-idx3-ubyte", img, ni);
    CHECK_OK(load(p, NULL, &d, &e), &e);
    CHECK(lc_data_y(d) == NULL && lc_data_classes(d) == 0);
    lc_data_free(d);
    /* labels of the wrong count */
    nl = make_idx(lab, 0x08, 1, (unsigned[]){2}, lv, 2);
    write_file("w-labels-idx1-ubyte", lab, nl);
    p = write_file("w-images-idx3-ubyte", img, ni);
    CHECK_LOAD_FAILS(p, NULL, LC_ERR_SHAPE, "2 labels for 3", NULL, NULL);
    /* every byte value: v / 255 as the general conversion computes it
     * (lc_array_get in double, then float), which the byte table mirrors */
    unsigned char all[256], big[300];
    for (int v = 0; v < 256; v++) all[v] = (unsigned char)(255 - v);
    ni = make_idx(big, 0x08, 2, (unsigned[]){2, 128}, all, 256);
    CHECK_OK(load(write_file("all-images", big, ni), NULL, &d, &e), &e);
    for (int v = 0; v < 256; v++)
        CHECK_MSG(lc_data_x(d)[v] == (float)((double)(255 - v) * (1.0 / 255.0)), "byte %d", 255 - v);
    lc_data_free(d);
    /* float images are taken as they are */
    float fv[2] = {0.5f, -2};
    unsigned char be[8];
    for (int i = 0; i < 2; i++) {
        uint32_t u;
        memcpy(&u, &fv[i], 4);
        for (int b = 0; b < 4; b++) be[4 * i + b] = (unsigned char)(u >> (24 - 8 * b));
    }
    ni = make_idx(img, 0x0D, 2, (unsigned[]){1, 2}, be, 8);
    CHECK_OK(load(write_file("f-images", img, ni), NULL, &d, &e), &e);
    CHECK(lc_data_x(d)[0] == 0.5f && lc_data_x(d)[1] == -2);
    lc_data_free(d);
    be[0] = 0x7F, be[1] = 0xC0; /* a NaN */
    ni = make_idx(img, 0x0D, 2, (unsigned[]){1, 2}, be, 8);
    CHECK_LOAD_FAILS(write_file("nan-images", img, ni), NULL, LC_ERR_NUMERIC, "row 0, column 0",
                     NULL, NULL);
}

TEST(data_idx_malformed)
{
    unsigned char buf[128], pix[12] = {0};
    size_t n = make_idx(buf, 0x07, 3, (unsigned[]){3, 2, 2}, pix, 12);
    CHECK_LOAD_FAILS(write_file("badtype", buf, n), NULL, LC_ERR_FORMAT, "type byte 0x07", NULL,
                     NULL);
    n = make_idx(buf, 0x08, 1, (unsigned[]){3}, pix, 3);
    CHECK_LOAD_FAILS(write_file("x-labels-idx1-ubyte", buf, n), NULL, LC_ERR_FORMAT, "labels",
                     NULL, NULL);
    n = make_idx(buf, 0x08, 3, (unsigned[]){0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, pix, 0);
    CHECK_LOAD_FAILS(write_file("huge", buf, n), NULL, LC_ERR_NOMEM, "IDX dimensions", NULL, NULL);
    n = make_idx(buf, 0x08, 3, (unsigned[]){3, 2, 2}, pix, 10);
    CHECK_LOAD_FAILS(write_file("short", buf, n), NULL, LC_ERR_FORMAT, "ends at byte 26",
                     "28", NULL);
    n = make_idx(buf, 0x08, 3, (unsigned[]){3, 2, 2}, pix, 12);
    buf[n] = 9;
    CHECK_LOAD_FAILS(write_file("long", buf, n + 1), NULL, LC_ERR_FORMAT, "1 unexpected byte",
                     NULL, NULL);
    CHECK_LOAD_FAILS(write_file("hdr", buf, 9), NULL, LC_ERR_FORMAT, "header", NULL, NULL);
    /* corrupt and truncated gzip */
    const char *p = write_gz("c-images-idx3-ubyte.gz", buf, n);
    FILE *f = fopen(p, "rb");
    unsigned char gz[256];
    size_t gl = fread(gz, 1, sizeof gz, f);
    fclose(f);
    CHECK(gl > 20);
    CHECK_LOAD_FAILS(write_file("truncated.gz", gz, gl - 6), NULL, LC_ERR_FORMAT, "gzip", NULL,
                     NULL);
    for (size_t i = 12; i < gl - 8; i++) gz[i] ^= 0x5A;
    CHECK_LOAD_FAILS(write_file("corrupt.gz", gz, gl), NULL, LC_ERR_FORMAT, "gzip", NULL, NULL);
}

/* ---------------------------------------------------------------- NPY */

TEST(data_npy_dtypes_and_shapes)
{
    unsigned char buf[512];
    lc_data *d;
    lc_error e;
    float f4[6] = {1, 2, 3, 4, 5, 6.5f};
    size_t n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4,
                        sizeof f4);
    CHECK_OK(load(write_file("f4.npy", buf, n), NULL, &d, &e), &e);
    CHECK(lc_data_rows(d) == 2 && lc_data_cols(d) == 3 && lc_data_y(d) == NULL);
    CHECK_CLOSE(lc_data_x(d), f4, 6, 0, 0);
    lc_data_free(d);
    /* float64, version 2.0, 3-D flattened */
    double f8[8] = {1, -2, 3, 4, 5, 6, 7, 8.25};
    n = make_npy(buf, 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2, 2), }", f8,
                 sizeof f8);
    CHECK_OK(load(write_file("f8.npy", buf, n), NULL, &d, &e), &e);
    CHECK(lc_data_rows(d) == 2 && lc_data_cols(d) == 4 && lc_data_x(d)[7] == 8.25f);
    lc_data_free(d);
    /* 1-D int64 is one column; labels from an int64 and an integral float file */
    int64_t i8[3] = {-5, 7, 1LL << 40};
    n = make_npy(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", i8,
                 sizeof i8);
    const char *x = write_file("i8.npy", buf, n);
    int64_t yl[3] = {1, 0, 4};
    n = make_npy(buf, 3, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", yl,
                 sizeof yl);
    lc_load_opts o = {.labels_path = write_file("y.npy", buf, n)};
    CHECK_OK(load(x, &o, &d, &e), &e);
    CHECK(lc_data_cols(d) == 1 && lc_data_x(d)[0] == -5 && lc_data_x(d)[2] == 1099511627776.0f);
    CHECK(lc_data_classes(d) == 5 && lc_data_y(d)[2] == 4);
    lc_data_free(d);
    double yf[3] = {1, 0, 2.5};
    n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 1), }", yf,
                 sizeof yf);
    o.labels_path = write_file("yf.npy", buf, n);
    CHECK_LOAD_FAILS(x, &o, LC_ERR_FORMAT, "label 2", "2.5", NULL);
    /* with the model's class count known, a label beyond it names the file */
    o.labels_path = tmp_path("y.npy");
    o.classes = 4;
    CHECK_LOAD_FAILS(x, &o, LC_ERR_SHAPE, "y.npy: label 2 (0-based) is 4", "model's 4 classes",
                     NULL);
    o.classes = 0;
    /* unsigned bytes, '|u1', and int16 */
    unsigned char u1[4] = {0, 255, 3, 4};
    n = make_npy(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", u1, 4);
    CHECK_OK(load(write_file("u1.npy", buf, n), NULL, &d, &e), &e);
    CHECK(lc_data_x(d)[1] == 255); /* NPY bytes are not scaled */
    lc_data_free(d);
    int16_t i2[2] = {-300, 300};
    n = make_npy(buf, 1, "{'shape': (1, 2), 'fortran_order': False, 'descr': '<i2'}", i2, 4);
    CHECK_OK(load(write_file("i2.npy", buf, n), NULL, &d, &e), &e);
    CHECK(lc_data_x(d)[0] == -300 && lc_data_x(d)[1] == 300);
    lc_data_free(d);
}

TEST(data_npy_malformed)
{
    unsigned char buf[512];
    float f4[6] = {1, 2, 3, 4, 5, 6};
    const char *hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    size_t n = make_npy(buf, 1, hdr, f4, sizeof f4);
    CHECK_LOAD_FAILS(write_file("trunc.npy", buf, n - 5), NULL, LC_ERR_FORMAT, "24 bytes",
                     "19 found", NULL);
    CHECK_LOAD_FAILS(write_file("hdrtrunc.npy", buf, 40), NULL, LC_ERR_FORMAT, "header", NULL,
                     NULL);
    n = make_npy(buf, 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }", f4, 24);
    CHECK_LOAD_FAILS(write_file("c8.npy", buf, n), NULL, LC_ERR_UNSUPPORTED, "'<c8'", NULL, NULL);
    n = make_npy(buf, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", f4, 24);
    CHECK_LOAD_FAILS(write_file("be.npy", buf, n), NULL, LC_ERR_UNSUPPORTED, "'>f4'", NULL, NULL);
    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f4, 24);
    CHECK_LOAD_FAILS(write_file("fo.npy", buf, n), NULL, LC_ERR_UNSUPPORTED, "Fortran", NULL,
                     NULL);
    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f4, 4);
    CHECK_LOAD_FAILS(write_file("scalar.npy", buf, n), NULL, LC_ERR_UNSUPPORTED, "scalar", NULL,
                     NULL);
    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999), }", f4, 4);
    CHECK_LOAD_FAILS(write_file("huge.npy", buf, n), NULL, LC_ERR_NOMEM, NULL, NULL, NULL);
    n = make_npy(buf, 1, "{'descr': '<f4', 'shape': (2, 3), }", f4, 24);
    CHECK_LOAD_FAILS(write_file("noorder.npy", buf, n), NULL, LC_ERR_FORMAT, "fortran_order", NULL,
                     NULL);
    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3) ", f4, 24);
    CHECK_LOAD_FAILS(write_file("unclosed.npy", buf, n), NULL, LC_ERR_FORMAT, "NPY header", NULL,
                     NULL);
    n = make_npy(buf, 4, hdr, f4, 24);
    CHECK_LOAD_FAILS(write_file("v4.npy", buf, n), NULL, LC_ERR_UNSUPPORTED, "version 4", NULL,
                     NULL);
    f4[4] = INFINITY;
    n = make_npy(buf, 1, hdr, f4, 24);
    CHECK_LOAD_FAILS(write_file("inf.npy", buf, n), NULL, LC_ERR_NUMERIC, "row 1, column 1", NULL,
                     NULL);
}

/* ------------------------------------------------------ preprocessing JSON */

TEST(data_preproc_json_round_trip)
{
    lc_data *d;
    lc_error e;
    CHECK_OK(load(FIX "mixed-train.csv", &((lc_load_opts){.fit = 1}), &d, &e), &e);
    char *j1 = NULL, *j2 = NULL;
    lc_preproc *p = NULL;
    CHECK_OK(lc_preproc_to_json(lc_data_preproc(d), &j1, &e), &e);
    lc_status st = lc_preproc_from_json(j1, strlen(j1), &p, &e);
    if (!st) st = lc_preproc_to_json(p, &j2, &e);
    int same = j2 && !strcmp(j1, j2);
    const struct lc_pcol *a = p ? lc_preproc_column(p, 0) : NULL,
                         *b = lc_preproc_column(lc_data_preproc(d), 0);
    int exact = a && a->mean == b->mean && a->sd == b->sd;
    lc_preproc_free(p);
    free(j2);
    lc_data_free(d);
    CHECK_MSG(!st, "%s (json %s)", e.msg, j1);
    free(j1);
    CHECK(same && exact);
}

TEST(data_preproc_json_rejects)
{
    static const struct { const char *json, *why; } bad[] = {
        {"{\"version\":1,", "syntax error"},
        {"[1,2]", "object at the top"},
        {"{\"label\":null,\"standardize\":1,\"columns\":[],\"classes\":[]}", "\"version\""},
        {"{\"version\":2,\"label\":null,\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\",\"mean\":0,\"sd\":1}],\"classes\":[]}", "version 2"},
        {"{\"version\":1,\"label\":3,\"standardize\":1,\"columns\":[],\"classes\":[]}", "\"label\""},
        {"{\"version\":1,\"label\":null,\"standardize\":2,\"columns\":[],\"classes\":[]}", "0 or 1"},
        {"{\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[],\"classes\":[]}", "0 columns"},
        {"{\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\",\"mean\":\"0\",\"sd\":1}],\"classes\":[]}", "\"mean\""},
        {"{\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\",\"mean\":0,\"sd\":0}],\"classes\":[]}", "\"sd\""},
        {"{\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"text\"}],\"classes\":[]}", "kind 'text'"},
        {"{\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"categorical\",\"categories\":[1]}],\"classes\":[]}", "categories[0]"},
        {"{\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"categorical\",\"categories\":[\"x\",\"x\"]}],\"classes\":[]}", "twice"},
        {"{\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"categorical\"}],\"classes\":[]}", "\"categories\""},
        {"{\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\",\"mean\":0,\"sd\":1},{\"name\":\"a\",\"kind\":\"numeric\",\"mean\":0,\"sd\":1}],\"classes\":[]}", "column 'a' appears twice"},
        {"{\"version\":1,\"label\":\"a\",\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\",\"mean\":0,\"sd\":1}],\"classes\":[]}", "also the label"},
        {"{\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\",\"mean\":0,\"sd\":1,\"x\":1}],\"classes\":[]}", "unknown key 'x'"},
        {"{\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\",\"mean\":0,\"sd\":1}]}", "\"classes\""},
        {"{\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\",\"mean\":0,\"sd\":1}],\"classes\":[\"x\",\"x\"]}", "twice"},
        {"{\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[{\"name\":\"a\",\"kind\":\"numeric\",\"mean\":0,\"sd\":1}],\"classes\":[]} x", "unexpected text"},
        {"{\"version\":1,\"version\":1,\"label\":null,\"standardize\":1,\"columns\":[],\"classes\":[]}", "twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lc_preproc *p = NULL;
        lc_error e = {0};
        lc_status st = lc_preproc_from_json(bad[i].json, strlen(bad[i].json), &p, &e);
        lc_preproc_free(p);
        CHECK_MSG(st == LC_ERR_FORMAT && p == NULL, "case %zu accepted: %s", i, bad[i].json);
        CHECK_MSG(strstr(e.msg, bad[i].why), "case %zu: message '%s' lacks '%s'", i, e.msg,
                  bad[i].why);
    }
    /* too many categories */
    size_t cap = 64 + 8 * (LC_MAX_CATEGORIES + 1);
    char *j = malloc(cap);
    strcpy(j, "{\"version\":1,\"label\":null,\"standardize\":0,\"columns\":[{\"name\":\"a\","
              "\"kind\":\"categorical\",\"categories\":[");
    for (int i = 0; i <= LC_MAX_CATEGORIES; i++)
        sprintf(j + strlen(j), "%s\"%d\"", i ? "," : "", i);
    strcat(j, "]}],\"classes\":[]}");
    lc_preproc *p = NULL;
    lc_error e;
    lc_status st = lc_preproc_from_json(j, strlen(j), &p, &e);
    free(j);
    lc_preproc_free(p);
    CHECK(st == LC_ERR_FORMAT && strstr(e.msg, "at most"));
}

/* ------------------------------------------------------ arrays, subsets */

TEST(data_from_arrays_and_subset)
{
    float x[6] = {1, 2, 3, 4, 5, 6};
    int32_t y[3] = {0, 2, 1};
    lc_data *d, *s;
    lc_error e;
    CHECK_OK(lc_data_from_arrays(3, 2, x, y, 3, &d, &e), &e);
    size_t idx[2] = {2, 0};
    lc_status st = lc_data_subset(d, idx, 2, &s, &e);
    lc_data_free(d);
    CHECK_OK(st, &e);
    float want[4] = {5, 6, 1, 2};
    CHECK_CLOSE(lc_data_x(s), want, 4, 0, 0);
    CHECK(lc_data_y(s)[0] == 1 && lc_data_y(s)[1] == 0 && lc_data_classes(s) == 3);
    idx[0] = 7;
    CHECK(lc_data_subset(s, idx, 2, &d, &e) == LC_ERR_INVALID && d == NULL);
    lc_data_free(s);
    y[1] = 3;
    CHECK(lc_data_from_arrays(3, 2, x, y, 3, &d, &e) == LC_ERR_INVALID);
    x[3] = NAN;
    CHECK(lc_data_from_arrays(3, 2, x, NULL, 0, &d, &e) == LC_ERR_NUMERIC);
    CHECK(lc_data_from_arrays(0, 2, x, NULL, 0, &d, &e) != LC_OK);

    /* a subset of a CSV with class names keeps them and the fitted spec */
    CHECK_OK(load(FIX "mixed-train.csv", &((lc_load_opts){.fit = 1}), &d, &e), &e);
    st = lc_data_subset(d, (size_t[]){3}, 1, &s, &e);
    lc_data_free(d);
    CHECK_OK(st, &e);
    CHECK(!strcmp(lc_data_class_name(s, 1), "yes") && lc_data_preproc(s));
    lc_data_free(s);
}

/* ------------------------------------------------------------ real files */

static int have(const char *path)
{
    if (access(path, R_OK) == 0) return 1;
    printf("    (skipped: %s not found)\n", path);
    return 0;
}

TEST(data_real_csv_iris_titanic)
{
    lc_data *d;
    lc_error e;
    lc_load_opts o = {.fit = 1};
    const char *iris = "/work/shared/data/iris.csv", *tit = "/work/shared/data/titanic.csv";
    if (have(iris)) {
        CHECK_OK(load(iris, &o, &d, &e), &e);
        CHECK(lc_data_rows(d) == 150 && lc_data_cols(d) == 4 && lc_data_classes(d) == 3);
        CHECK(!strcmp(lc_data_class_name(d, 2), "Iris-virginica"));
        lc_data_free(d);
    }
    if (have(tit)) {
        CHECK_OK(load(tit, &o, &d, &e), &e);
        const lc_preproc *p = lc_data_preproc(d);
        /* pclass, sex(2+1), age, sibsp, parch, fare, embarked(3+1) */
        CHECK(lc_data_rows(d) == 1309 && lc_data_classes(d) == 2);
        CHECK(lc_preproc_column(p, 1)->kind == LC_COL_CATEGORICAL);
        CHECK(lc_data_cols(d) == lc_preproc_width(p) && lc_data_cols(d) == 12);
        for (size_t i = 0; i < lc_data_rows(d) * 12; i++) CHECK(isfinite(lc_data_x(d)[i]));
        lc_data_free(d);
    }
}

TEST(data_real_csv_all_shared)
{
    static const char *names[] = {"breast-cancer", "breast-w", "diabetes", "dna", "glass",
                                  "income", "ionosphere", "letter", "musk1", "olive",
                                  "optdigits-test", "penguins", "sonar", "soybean", "vote",
                                  "vowel", "wdbc", "wine"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[256];
        snprintf(path, sizeof path, "/work/shared/data/%s.csv", names[i]);
        if (!have(path)) continue;
        lc_data *d;
        lc_error e;
        CHECK_OK(load(path, &((lc_load_opts){.fit = 1}), &d, &e), &e);
        CHECK_MSG(lc_data_classes(d) >= 2, "%s: %d classes", path, lc_data_classes(d));
        lc_data_free(d);
    }
}

TEST(data_real_idx_fashion_mnist)
{
    const char *p = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    if (!have(p)) return;
    lc_data *d;
    lc_error e;
    CHECK_OK(load(p, NULL, &d, &e), &e);
    CHECK(lc_data_rows(d) == 10000 && lc_data_cols(d) == 784 && lc_data_classes(d) == 10);
    float lo = 1, hi = 0;
    for (size_t i = 0; i < 10000 * 784; i++) {
        lo = fminf(lo, lc_data_x(d)[i]);
        hi = fmaxf(hi, lc_data_x(d)[i]);
    }
    CHECK(lo == 0 && hi == 1);
    lc_data_free(d);
}
