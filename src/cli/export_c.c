/* export_c.c - `lincomp export-c MODEL -o FILE.c [--name NAME]`: the model
 * as dependency-free C (lc_export_c does the work; docs/export-c.md). */
#include "cli.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: lincomp export-c MODEL.onnx -o FILE.c [--name NAME] [--json]\n\n"
               "Writes FILE.c and FILE.h: the weights as static const float arrays and\n"
               "  void NAME_forward(const float *input, float *output);\n"
               "  void NAME_forward_batch(const float *input, float *output, size_t n);\n"
               "with NAME_INPUT_SIZE / NAME_OUTPUT_SIZE (upper case) in the header. C99, libm\n"
               "only, no allocation. See docs/export-c.md.\n\n"
               "  -o FILE.c      the C file to write; the header gets the same name with .h\n"
               "  --name NAME    prefix of the generated names, a C identifier (default: model)\n"
               "  --json         print a JSON summary instead of the text one\n");
}

static bool identifier(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_') return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return false;
    return true;
}

static int print_json(const char *c_path, const char *name, const lc_graph *g)
{
    cJSON *j = cJSON_CreateObject();
    size_t hl = strlen(c_path);
    char *h_path = malloc(hl + 1);
    int rc = 1;
    if (j && h_path) {
        memcpy(h_path, c_path, hl + 1);
        h_path[hl - 1] = 'h';
        if (cJSON_AddStringToObject(j, "c_file", c_path) &&
            cJSON_AddStringToObject(j, "h_file", h_path) &&
            cJSON_AddStringToObject(j, "name", name) &&
            cJSON_AddNumberToObject(j, "input_size", lc_graph_input_width(g)) &&
            cJSON_AddNumberToObject(j, "output_size", lc_graph_output_width(g)) &&
            cJSON_AddNumberToObject(j, "params", (double)lc_graph_params(g)) &&
            cJSON_AddNumberToObject(j, "flops", (double)lc_graph_flops(g)))
            rc = cli_write_json(j, "-");
        else
            rc = cli_error(1, "out of memory");
    } else {
        rc = cli_error(1, "out of memory");
    }
    free(h_path);
    cJSON_Delete(j);
    return rc;
}

int cmd_export_c(int argc, char **argv)
{
    enum { OPT_NAME = OPT_FIRST_OWN };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS, {"name", required_argument, 0, OPT_NAME},
        {"output", required_argument, 0, 'o'}, {0, 0, 0, 0}};
    cli_common c = {0};
    const char *out_path = NULL, *name = "model";
    int opt;
    while ((opt = getopt_long(argc, argv, ":hqo:", opts, NULL)) != -1) {
        if (opt == 'h') return usage(stdout), 0;
        if (opt == OPT_NAME) name = optarg;
        else if (opt == 'o') out_path = optarg;
        else {
            int r = cli_common_opt(&c, opt, optarg, argv);
            if (r < 0) return EXIT_USAGE;
            if (r == 0) return cli_usage_error("unknown option");
        }
    }
    const char *model_path;
    if (cli_one_positional(argc, argv, &model_path, "MODEL")) return EXIT_USAGE;
    if (!out_path) return cli_usage_error("-o FILE.c is required");
    size_t ol = strlen(out_path);
    if (ol < 3 || strcmp(out_path + ol - 2, ".c") || out_path[ol - 3] == '/')
        return cli_usage_error("-o wants a file name ending in .c, got '%s'", out_path);
    if (!identifier(name) || strlen(name) > 64)
        return cli_usage_error("--name wants a C identifier of at most 64 characters "
                               "(letters, digits, '_', not starting with a digit), got '%s'",
                               name);

    lc_graph *g = NULL;
    if (cli_load_model(model_path, &g)) return 1;
    lc_error err = {0};
    int rc = 0;
    if (lc_export_c(g, out_path, name, &err)) {
        rc = cli_lc_error(&err);
    } else if (c.json) {
        rc = print_json(out_path, name, g);
    } else {
        printf("wrote %s and %.*sh: %s_forward(), input %d floats, output %d floats, "
               "%zu parameters\n",
               out_path, (int)(ol - 1), out_path, name, lc_graph_input_width(g),
               lc_graph_output_width(g), lc_graph_params(g));
    }
    lc_graph_free(g);
    return rc;
}
