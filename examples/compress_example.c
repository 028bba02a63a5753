/*
 * compress_example.c - the C API in one page: load an ONNX model and
 * calibration data, fold every neuron that stays in one linear piece on all
 * samples (tau = 1, exact on the data), check the outputs, save the result.
 *
 *     compress_example MODEL.onnx DATA OUT.onnx
 *
 * Build against an installed lincomp (make install, then make examples):
 *
 *     cc compress_example.c $(pkg-config --cflags --libs lincomp)
 *
 * Exit status: 0 on success, 1 with the library's message on any error,
 * 2 for wrong arguments.
 */
#include <lincomp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Largest |a - b| over n values; NaN wins, so a broken fold cannot hide. */
static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || isnan(d)) m = d;
    }
    return m;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL.onnx DATA OUT.onnx\n", argv[0]);
        return 2;
    }
    const char *model_path = argv[1], *data_path = argv[2], *out_path = argv[3];

    /* Everything the library hands out is ours to free; NULL is safe for
     * every *_free, so one cleanup block serves all paths. */
    lc_error err = {0};
    lc_graph *g = NULL, *small = NULL;
    lc_data *d = NULL;
    lc_stats *st = NULL;
    lc_plan *plan = NULL;
    float *y0 = NULL, *y1 = NULL;
    int rc = 1;

    if (lc_onnx_load(model_path, &g, &err)) goto fail;

    /* Read the data the way the model expects it: its stored preprocessing
     * (one-hot, standardisation) when it has one, else the raw numeric
     * columns; a CSV as wide as the input is taken as unlabelled. */
    lc_load_opts opts = {0};
    opts.pre = lc_graph_preproc(g);
    opts.input_width = lc_graph_input_width(g);
    if (lc_data_load(data_path, &opts, &d, &err)) goto fail;
    size_t n = lc_data_rows(d);

    /* One pass over the data counts, per neuron, the samples in each piece. */
    if (lc_stats_compute(g, lc_data_x(d), n, lc_data_cols(d), &st, &err)) goto fail;

    /* tau = 1: fold only neurons that never left their piece (exact on the
     * data); "auto": fold a layer only where the whole model gets smaller. */
    lc_layer_threshold lt;
    if (lc_layer_threshold_parse("auto", &lt, &err)) goto fail;
    if (lc_plan_from_stats(g, st, 1.0, lt, &plan, &err)) goto fail;
    if (lc_fold(g, plan, &small, NULL, &err)) goto fail;

    /* Folding at tau = 1 must not change the outputs beyond float rounding. */
    size_t n_out = n * (size_t)lc_graph_output_width(g);
    y0 = malloc((n_out ? n_out : 1) * sizeof *y0);
    y1 = malloc((n_out ? n_out : 1) * sizeof *y1);
    if (!y0 || !y1) {
        fprintf(stderr, "%s: out of memory for %zu outputs\n", argv[0], n_out);
        goto done;
    }
    if (lc_forward(g, lc_data_x(d), n, y0, &err)) goto fail;
    if (lc_forward(small, lc_data_x(d), n, y1, &err)) goto fail;
    double diff = max_abs_diff(y0, y1, n_out);

    if (lc_onnx_save(small, out_path, &err)) goto fail;

    size_t before = lc_graph_params(g), after = lc_graph_params(small);
    printf("params %zu -> %zu (%.1f %%), hidden nodes %d -> %d, "
           "max abs output difference on %zu samples %.3g\n",
           before, after, before ? 100.0 * (double)after / (double)before : 0.0,
           lc_graph_nodes(g) - 2, lc_graph_nodes(small) - 2, n, diff);
    rc = 0;
    goto done;

fail:
    fprintf(stderr, "%s: %s (%s)\n", argv[0], err.msg, lc_status_str(err.code));
done:
    free(y0);
    free(y1);
    lc_graph_free(small);
    lc_plan_free(plan);
    lc_stats_free(st);
    lc_data_free(d);
    lc_graph_free(g);
    return rc;
}
