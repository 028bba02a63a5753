/* label_order.c - the warning that a data file numbers its classes in
 * another order than the model was trained with.
 *
 * Nothing in a model without stored preprocessing says which label is
 * class 0: lincomp numbers text labels in sorted order (docs/formats.md),
 * which is what scikit-learn's LabelEncoder and pandas' categories do, but
 * a model trained on labels numbered by first appearance reads as a bad
 * model, and every accuracy after it (budgets, --max-drop) is measured
 * against the wrong classes. The symptom is plain to see in the confusion
 * counts: the predictions agree with the labels once the classes are
 * renamed. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* How far above the plain accuracy the renamed one must be: a rule of
 * thumb. Well-trained models of shuffled labels show a gap of 0.5 and more,
 * while a model that merely confuses two classes gains a few points from
 * swapping them. */
#define GAP 0.2

void cli_label_order_hint(const lc_graph *g, const lc_data *d, const char *path)
{
    int k = lc_graph_classes(g);
    int *map = malloc((size_t)k * sizeof *map);
    double plain, matched;
    lc_error err;
    if (!map || lc_label_match(g, d, map, &plain, &matched, &err) || matched < plain + GAP) {
        free(map);
        return; /* a hint only: the command itself reports real errors */
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    fprintf(stderr,
            "lincomp %s: warning: %s: the model's predictions match the labels on %.1f %% of the "
            "rows, but on %.1f %% when its classes are renamed (",
            cli_cmd, base, 100 * plain, 100 * matched);
    int shown = 0, moved = 0;
    for (int c = 0; c < k; c++) {
        if (map[c] == c || moved++ >= 4) continue;
        const char *name = lc_data_class_name(d, map[c]);
        if (name) fprintf(stderr, "%sclass %d as '%.40s'", shown ? ", " : "", c, name);
        else fprintf(stderr, "%sclass %d as %d", shown ? ", " : "", c, map[c]);
        shown++;
    }
    fprintf(stderr, "%s): are the labels numbered in the order the model was trained with? "
            "Labels that are not class indices are numbered in sorted order (numbers by value) "
            "when the model stores no classes; write them as class indices 0 to %d to choose "
            "the order\n",
            moved > shown ? ", ..." : "", k - 1);
    free(map);
}
