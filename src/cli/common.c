/* common.c - option parsing, error printing and loading shared by subcommands. */
#include "cli.h"
#include "progress.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cli_cmd = "lincomp";

int cli_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lincomp %s: ", cli_cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int cli_lc_error(const lc_error *err)
{
    return cli_error(1, "%s", err->msg[0] ? err->msg : lc_status_str(err->code));
}

/* Writes text and a newline to path, or to stdout for "-" (the JSON reports). */
int cli_write_text(const char *text, const char *path)
{
    if (!strcmp(path, "-")) return printf("%s\n", text) < 0 ? cli_error(1, "cannot write to stdout") : 0;
    lc_error err = {0};
    size_t len = strlen(text);
    char *buf = malloc(len + 1);
    if (!buf) return cli_error(1, "out of memory");
    memcpy(buf, text, len);
    buf[len] = '\n';
    int rc = lc_write_file(path, buf, len + 1, &err) ? cli_lc_error(&err) : 0;
    free(buf);
    return rc;
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lincomp %s: ", cli_cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'lincomp %s --help')\n", cli_cmd);
    va_end(ap);
    return EXIT_USAGE;
}

bool cli_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

bool cli_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

int cli_common_opt(cli_common *c, int opt, const char *arg, char **argv)
{
    long v;
    switch (opt) {
    case '?':
        if (optopt) cli_usage_error("unknown option '-%c'", optopt);
        else cli_usage_error("unknown option '%s'", argv[optind - 1]);
        return -1;
    case ':':
        cli_usage_error("option '%s' needs a value", argv[optind - 1]);
        return -1;
    case OPT_THREADS:
        if (!cli_parse_int(arg, 1, 1024, &v)) {
            cli_usage_error("--threads wants an integer from 1 to 1024, got '%s'", arg);
            return -1;
        }
        c->threads = (int)v;
        lc_set_threads(c->threads);
        return 1;
    case OPT_QUIET:
    case 'q': c->quiet = true; return 1;
    case OPT_VERBOSE: c->verbose = true; return 1;
    case OPT_JSON: c->json = true; return 1;
    case OPT_LABEL: c->label = arg; return 1;
    case OPT_LABELS: c->labels_path = arg; return 1;
    }
    return 0;
}

int cli_one_positional(int argc, char **argv, const char **out, const char *what)
{
    if (optind >= argc) return cli_usage_error("missing %s", what);
    if (optind + 1 < argc) return cli_usage_error("unexpected argument '%s'", argv[optind + 1]);
    *out = argv[optind];
    return 0;
}

int cli_load_model(const char *path, lc_graph **g)
{
    lc_error err = {0};
    if (lc_onnx_load(path, g, &err)) return cli_lc_error(&err);
    return 0;
}

const char *cli_labels_for(const cli_common *c, const char *path, const char *main,
                           const char *own)
{
    if (own) return own;
    if (!path || !main || !c->labels_path) return NULL;
    /* the same file under another name (./x.npy, a link) is the same file */
    struct stat a, b;
    bool same = !strcmp(path, main) || (!stat(path, &a) && !stat(main, &b) &&
                                        a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    return same ? c->labels_path : NULL;
}

int cli_load_data(const cli_common *c, const char *path, const char *labels_file,
                  const lc_graph *g, cli_labels labels, const lc_data *like, lc_data **d)
{
    lc_error err = {0};
    lc_load_opts o = {0};
    o.label = c->label;
    o.labels_path = labels_file;
    o.pre = g ? lc_graph_preproc(g) : NULL;
    o.input_width = g ? lc_graph_input_width(g) : 0;
    o.classes = g && labels != CLI_LABELS_UNUSED ? lc_graph_classes(g) : 0;
    o.labels_like = like;
    if (lc_data_load(path, &o, d, &err)) return cli_lc_error(&err);
    if (g && lc_data_cols(*d) != lc_graph_input_width(g)) {
        int rc = cli_error(1, "%s: %d features per sample, but the model takes %d", path,
                           lc_data_cols(*d), lc_graph_input_width(g));
        lc_data_free(*d);
        *d = NULL;
        return rc;
    }
    if (labels == CLI_LABELS_NEEDED && !lc_data_y(*d)) {
        lc_data_free(*d);
        *d = NULL;
        size_t len = strlen(path);
        bool csv = len >= 4 && !strcasecmp(path + len - 4, ".csv");
        return cli_error(1, "%s: no labels (needed here)%s", path,
                         labels_file || csv ? ""
                                     : "; an NPY file's labels come from its own option: --labels "
                                       "for the main file (--data; prune: --train), "
                                       "--val-labels, --train-labels or --test-labels for the "
                                       "others");
    }
    /* text labels numbered by this file's sorted order (not by the model's
     * stored classes, nor by an earlier file's, which had its own hint) */
    if (g && labels != CLI_LABELS_UNUSED && lc_data_y(*d) && lc_data_class_name(*d, 0) &&
        !(o.pre && lc_preproc_classes(o.pre) > 0) && !(like && lc_data_class_name(like, 0)))
        cli_label_order_hint(g, *d, path);
    return 0;
}

int cli_write_json(const cJSON *j, const char *path)
{
    char *text = cJSON_Print(j);
    if (!text) return cli_error(1, "out of memory writing JSON");
    size_t len = strlen(text);
    int rc = 0;
    if (!strcmp(path, "-")) {
        if (fwrite(text, 1, len, stdout) != len || putchar('\n') == EOF) rc = cli_error(1, "cannot write to stdout");
    } else {
        lc_error err = {0};
        text[len] = '\n'; /* replaces the NUL; length passed explicitly */
        if (lc_write_file(path, text, len + 1, &err)) rc = cli_lc_error(&err);
    }
    cJSON_free(text);
    return rc;
}

double cli_t0;

void cli_stage(const cli_common *c, const char *fmt, ...)
{
    /* off a terminal only once the command has run for a second (unless
     * --verbose): a quick failure stays one line, a long run reports its
     * stages */
    if (c->quiet || (!c->verbose && !isatty(2) && cli_now() - cli_t0 < 1.0)) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lincomp %s: ", cli_cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_parse_threshold(const char *s, double *out)
{
    if (!cli_parse_double(s, out) || *out < 0 || *out > 1)
        return cli_usage_error("--threshold wants a number in [0, 1], got '%s'", s);
    return 0;
}

/* The folder of path into dir ("." for a bare name); returns its own name. */
static const char *folder_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, len, ".");
    else if (slash == path) snprintf(dir, len, "/");
    else snprintf(dir, len, "%.*s", (int)(slash - path), path);
    return slash ? slash + 1 : path;
}

int cli_check_output(const char *path)
{
    if (!strcmp(path, "-")) return 0;
    /* a folder (or a name ending in '/') would fail only at the save, after
     * the work, with the system's puzzling "Not a directory" */
    struct stat st;
    size_t len = strlen(path);
    if ((len && path[len - 1] == '/') || (!stat(path, &st) && S_ISDIR(st.st_mode)))
        return cli_error(1, "%s: is a folder; the output wants a file name", path);
    char dir[PATH_MAX];
    folder_of(path, dir, sizeof dir);
    if (access(dir, W_OK | X_OK))
        return cli_error(1, "%s: cannot write into '%s': %s", path, dir, strerror(errno));
    return 0;
}

int cli_model_output(const char *path)
{
    if (strcmp(path, "-")) return 0;
    return cli_usage_error("-o wants a file name: the model is written as an ONNX file, not to "
                           "standard output");
}

/* path as an absolute name: its folder resolved (links, "..") and its own
 * name, so that a file that does not exist yet compares too. */
static bool canonical(const char *path, char *out, size_t len)
{
    char dir[PATH_MAX], real[PATH_MAX];
    const char *name = folder_of(path, dir, sizeof dir);
    if (!realpath(dir, real)) return false;
    return snprintf(out, len, "%s/%s", real, name) < (int)len;
}

/* Whether a and b are one file: the same inode when both exist (hard
 * links, links), else the same canonical name. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!strcmp(a, b)) return true;
    if (!stat(a, &sa) && !stat(b, &sb)) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char ca[PATH_MAX], cb[PATH_MAX];
    return canonical(a, ca, sizeof ca) && canonical(b, cb, sizeof cb) && !strcmp(ca, cb);
}

static bool is_file(const cli_path *p) { return p->path && strcmp(p->path, "-"); }

int cli_check_paths(const cli_path *out, int n_out, const cli_path *in, int n_in, bool model_out)
{
    for (int i = 0; i < n_out; i++) {
        if (!is_file(&out[i])) continue;
        for (int j = i + 1; j < n_out; j++)
            if (is_file(&out[j]) && same_file(out[i].path, out[j].path))
                return cli_usage_error("%s and %s name the same file '%s': one would overwrite "
                                       "the other", out[i].opt, out[j].opt, out[i].path);
        for (int j = 0; j < n_in; j++) {
            if (!is_file(&in[j]) || !same_file(out[i].path, in[j].path)) continue;
            if (model_out && !strcmp(out[i].opt, "-o") && !strcmp(in[j].opt, "MODEL")) continue;
            return cli_usage_error("%s '%s' is also %s, which this command reads: writing it "
                                   "would destroy it; choose another file", out[i].opt,
                                   out[i].path, in[j].opt);
        }
    }
    return 0;
}

int cli_optimizer_opt(lc_train_opts *o, int opt, const char *arg)
{
    long v;
    double x;
    switch (opt) {
    case OPT_BATCH:
        if (!cli_parse_int(arg, 1, INT_MAX, &v))
            return cli_usage_error("--batch wants a positive integer, got '%s'", arg), -1;
        o->batch = (int)v;
        return 1;
    case OPT_LR:
        if (!cli_parse_double(arg, &x) || !(x > 0))
            return cli_usage_error("--lr wants a positive number, got '%s'", arg), -1;
        o->lr = x;
        return 1;
    case OPT_OPTIMIZER:
        if (!strcmp(arg, "adam")) o->optimizer = LC_OPT_ADAM;
        else if (!strcmp(arg, "sgd")) o->optimizer = LC_OPT_SGD;
        else return cli_usage_error("unknown optimizer '%s' (adam or sgd)", arg), -1;
        return 1;
    case OPT_MOMENTUM:
        if (!cli_parse_double(arg, &x) || !(x >= 0 && x < 1))
            return cli_usage_error("--momentum wants a number in [0, 1), got '%s'", arg), -1;
        o->momentum = x;
        return 1;
    case OPT_SEED:
        if (!cli_parse_int(arg, 0, LONG_MAX, &v))
            return cli_usage_error("--seed wants a non-negative integer, got '%s'", arg), -1;
        o->seed = (uint64_t)v;
        return 1;
    }
    return 0;
}

void cli_distill_init(cli_distill *d)
{
    *d = (cli_distill){false, LC_DISTILL_T, LC_DISTILL_ALPHA, false};
}

int cli_distill_opt(cli_distill *d, int opt, const char *arg)
{
    double x;
    switch (opt) {
    case OPT_FT_TARGET:
        if (!strcmp(arg, "distill")) d->labels = false;
        else if (!strcmp(arg, "labels")) d->labels = true;
        else return cli_usage_error("--finetune-target wants distill or labels, got '%s'", arg), -1;
        break;
    case OPT_TEMPERATURE:
        if (!cli_parse_double(arg, &x) || !(x > 0))
            return cli_usage_error("--temperature wants a positive number, got '%s'", arg), -1;
        d->temp = x;
        break;
    case OPT_DISTILL_ALPHA:
        if (!cli_parse_double(arg, &x) || !(x >= 0 && x <= 1))
            return cli_usage_error("--distill-alpha wants a number in [0, 1], got '%s'", arg), -1;
        d->alpha = x;
        break;
    default: return 0;
    }
    d->given = true;
    return 1;
}

int cli_distill_check(const cli_distill *d)
{
    if (d->labels && (d->temp != LC_DISTILL_T || d->alpha != LC_DISTILL_ALPHA))
        return cli_usage_error("--temperature and --distill-alpha need --finetune-target distill");
    return 0;
}

void cli_distill_apply(const cli_distill *d, const lc_graph *teacher, lc_train_opts *o)
{
    o->teacher = d->labels ? NULL : teacher;
    o->temperature = d->temp;
    o->alpha = d->alpha;
}

int cli_max_abs_diff(const lc_graph *a, const lc_graph *b, const lc_data *d, double *out)
{
    size_t n = lc_data_rows(d);
    int w = lc_graph_output_width(a);
    float *ya = malloc((n ? n : 1) * (size_t)w * sizeof(float));
    float *yb = malloc((n ? n : 1) * (size_t)w * sizeof(float));
    lc_error err = {0};
    int rc = 0;
    if (!ya || !yb) rc = cli_error(1, "out of memory");
    else if (lc_forward(a, lc_data_x(d), n, ya, &err) || lc_forward(b, lc_data_x(d), n, yb, &err))
        rc = cli_lc_error(&err);
    double m = 0;
    for (size_t i = 0; !rc && i < n * (size_t)w; i++) {
        double dlt = fabs((double)ya[i] - yb[i]);
        m = dlt > m || isnan(dlt) ? dlt : m; /* a NaN must show, not vanish in fmax */
    }
    *out = m;
    free(ya);
    free(yb);
    return rc;
}

int cli_parse_target(const char *arg, double *out)
{
    if (!cli_parse_double(arg, out) || !(*out > 0 && *out <= 1))
        return cli_usage_error("--target-size wants a number in (0, 1], got '%s'", arg);
    return 0;
}
