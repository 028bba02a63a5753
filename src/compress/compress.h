/* compress.h - internals shared by the statistics (analysis.c), the folding
 * transform and plans (fold.c) and the policies (policy.c). The public API
 * is the "linearity analysis and folding" section of lincomp.h. */
#ifndef LC_COMPRESS_H
#define LC_COMPRESS_H

#include "core/internal.h"

#include <stdint.h>

struct lc_stats_node {
    int width, pieces;   /* 0 for the input and the output node */
    lc_act act;
    uint64_t *cnt;       /* (pieces, width): cnt[p * width + i] */
    float *zmin, *zmax;  /* (width) */
    int32_t *run;        /* (2, width) the two-piece counts of one batch (analysis.c) */
};

struct lc_stats {
    int n_nodes;
    size_t samples;
    struct lc_stats_node *node;  /* n_nodes entries */
};

struct lc_plan {
    int n_nodes;
    int *width;          /* per node, as in the graph the plan was made for */
    lc_act *act;
    size_t *off;         /* node k's neurons start at off[k] in piece/slope */
    signed char *piece;  /* LC_KEEP or the piece, per neuron */
    float *slope;        /* PReLU slopes (0 elsewhere), per neuron */
};

/* The node map lc_fold(g, p, ., map) gives (map[k]: node k's index in the
 * folded graph, -1 when folded away), from the shape-only fold that
 * lc_plan_params_after runs: no weights are touched. */
lc_status lc_fold_node_map(const lc_graph *g, const lc_plan *p, int *map, lc_error *err);

/* The ridge strength (relative to the mean diagonal of the Gram matrix) that
 * reconstruction uses when none is chosen on held-out rows. */
#define LC_RECON_ALPHA_DEFAULT 1e-3

/* The original model's pre-activations z[k] (n x width, k >= 1; z[0] NULL)
 * on x, for reconstructing many plans of one model on the same rows
 * (budget searches); free with lc_recon_zcache_free. */
lc_status lc_recon_zcache(const lc_graph *g, const float *x, size_t n, float ***out,
                          lc_error *err);
void lc_recon_zcache_free(float **z, int n_nodes);
/* A forward pass's hook (lc_forward_batch) that copies each node's z into
 * rows row0.. of the cache z. */
typedef struct {
    float **z;
    size_t row0;
    const lc_graph *g;
} lc_zcache_fill;
void lc_zcache_hook(void *ctx, int k, const float *z, size_t rows);
/* Its buffers, uninitialised (NULL: out of memory). */
float **lc_recon_zcache_alloc(const lc_graph *g, size_t n);
/* Whether a cache of n rows stays within LC_ZCACHE_MAX_FLOATS: the memory a
 * caller may spend to run the original once instead of once per use. */
#define LC_ZCACHE_MAX_FLOATS ((size_t)1 << 26)
bool lc_recon_zcache_fits(const lc_graph *g, size_t n);
/* lc_stats_compute that also keeps the original's z on the rows as
 * lc_recon_zcache gives them (*zc; zc NULL: not kept), from the same pass. */
lc_status lc_stats_compute_z(const lc_graph *g, const float *x, size_t n, int cols,
                             lc_stats **out, float ***zc, lc_error *err);
/* lc_reconstruct with the original's z from lc_recon_zcache(g, x, n) (or
 * NULL: computed here). */
lc_status lc_reconstruct_z(const lc_graph *g, const lc_plan *p, const int *node_map,
                           lc_graph *folded, const float *x, size_t n, const lc_recon_opts *o,
                           float *const *zorig, int *refit, lc_error *err);

/* A reconstruction kept for the next ones of a search (recon_state.c). */
typedef struct lc_recon_state {
    lc_plan *p;
    int *map;     /* p's node map */
    lc_graph *f;  /* the folded graph after the refits */
    float **h;    /* per folded node: its activations on the n rows */
    bool *bad;    /* per node of g: its h differs from the original's */
    int *changed; /* per node of g: its refit changed the folded node */
    size_t n;
} lc_recon_state;
void lc_recon_state_free(lc_recon_state *s);
const lc_plan *lc_recon_state_plan(const lc_recon_state *s);
/* The state of a reconstruction of (p, map, folded) on n rows: takes the
 * activations h[f] not borrowed (sets them NULL), copies the borrowed ones;
 * NULL when out of memory. */
lc_recon_state *lc_recon_state_keep(const lc_graph *g, const lc_plan *p, const int *map,
                                    const lc_graph *folded, float **h, const bool *borrowed,
                                    const bool *bad, const int *changed, size_t n);
/* The first node of g (>= 1) from which a reconstruction of (p, map,
 * folded) must run when st holds the one of st->p (1 when st is NULL). */
int lc_recon_reuse_from(const lc_graph *g, const lc_plan *p, const int *map,
                        const lc_graph *folded, const lc_recon_state *st, size_t n);
/* lc_reconstruct_z that, with zorig, takes the refits of every node before
 * the first whose plan differs from from's (NULL: none) from it unchanged
 * (they depend on nothing after), with the same result as computing them;
 * with save, *save keeps this one's (NULL on error). */
lc_status lc_reconstruct_reuse(const lc_graph *g, const lc_plan *p, const int *node_map,
                               lc_graph *folded, const float *x, size_t n,
                               const lc_recon_opts *o, float *const *zorig,
                               const lc_recon_state *from, lc_recon_state **save, int *refit,
                               lc_error *err);

/* Slope s and offset c of `piece` of activation act (prelu_slope is the
 * neuron's PReLU slope). The piece must be valid for the activation. */
void lc_piece_affine(lc_act act, float prelu_slope, int piece, float *s, float *c);

/* LC_ERR_SHAPE unless p was made for a graph shaped like g. */
lc_status lc_plan_check(const lc_graph *g, const lc_plan *p, lc_error *err);

/* certify.c: the certificate of one plan of a chain. */
typedef struct lc_certificate {
    size_t rows, disagreements; /* of the plan chosen (0 disagreements: none) */
    double bound;               /* upper bound of its disagreement rate */
    int tested;                 /* plans of the chain evaluated */
} lc_certificate;

/* Fixed-sequence certification of an accuracy budget: chain holds len
 * threshold vectors (lc_graph_nodes(g) entries each, as for
 * lc_plan_from_stats_per_node), in the order the search visited them.
 * Each plan is folded (and, when recon_x is not NULL, reconstructed with
 * lc_reconstruct on recon_n rows of recon_x with *ro: the model as it will
 * be written) and compared with g on `rows`; the first whose disagreement
 * bound at `confidence` exceeds max_drop stops the test. *chosen is the
 * last plan that passed, -1 when the first failed. */
lc_status lc_certify_chain(const lc_graph *g, const lc_stats *st, lc_layer_threshold lt,
                           const double *chain, int len, const lc_data *rows, double max_drop,
                           double confidence, const float *recon_x, size_t recon_n,
                           const lc_recon_opts *ro, int *chosen, lc_certificate *c,
                           lc_error *err);

#endif
