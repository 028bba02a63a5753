/* export_c.h - what the two halves of the C exporter share: the text buffer
 * and the summary of export_c.c (the writer), the generated source of
 * export_c_code.c (the code). Not installed. */
#ifndef LC_EXPORT_C_H
#define LC_EXPORT_C_H

#include "core/internal.h"

/* Activation buffers of more floats than this (256 KiB) are static. */
#define EXPORT_STACK_FLOATS 65536
#define EXPORT_NAME_MAX 64

/* A growing text; out of memory is sticky in nomem, checked once at the end. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool nomem; /* sticky: checked once at the end */
} sbuf;

/* Appends printf-style text to b. */
void ec_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A name from the model file, in double quotes, safe inside a comment
 * (export_c.c says how). */
void ec_put_quoted(sbuf *b, const char *s);

/* The opening comment both files start with: file name, lincomp version,
 * node widths, edges, parameters and FLOPs. */
void ec_put_summary(sbuf *b, const lc_graph *g, const char *file);

/* The whole FILE.c: tables, weights, the dot product and the forward
 * functions; hfile is the header's name for its #include. */
void ec_put_source(sbuf *b, const lc_graph *g, const char *name, const char *upper,
                   const char *file, const char *hfile, bool static_buffers);

#endif
