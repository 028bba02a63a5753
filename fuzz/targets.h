/* targets.h - the fuzz entry points, one per parser. The libFuzzer
 * harnesses (fuzz/fuzz_*.c) and the regression replayer (fuzz/replay.c,
 * built into build/replay and run by `make test`) call the same functions,
 * so a regression file exercises exactly the code path that found it.
 *
 * Each function takes one input as the fuzzer made it and returns the
 * parser's status, whether it accepted or refused the input. It abort()s
 * when an invariant the library promises is broken: an error message that is empty, spans
 * several lines or (for file formats) does not name the file; a loaded data
 * set with a NaN, an infinity or a label out of range; preprocessing that
 * does not survive a JSON round trip. Crashes, leaks and undefined behaviour
 * are left to the sanitizers.
 *
 * Input layouts (docs/robustness.md):
 *   onnx          the model file as is
 *   preproc_json  the JSON text as is
 *   csv, idx, npy one mode byte, then the file; the mode picks the options
 *                 and the entry point (see targets.c). */
#ifndef LC_FUZZ_TARGETS_H
#define LC_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

/* Each returns the status of the parser's main call (0: accepted). */
int lc_fuzz_onnx(const uint8_t *data, size_t size);
int lc_fuzz_csv(const uint8_t *data, size_t size);
int lc_fuzz_idx(const uint8_t *data, size_t size);
int lc_fuzz_npy(const uint8_t *data, size_t size);
int lc_fuzz_preproc_json(const uint8_t *data, size_t size);

/* The entry point of a target name ("onnx", "csv", ...), or NULL. */
typedef int (*lc_fuzz_fn)(const uint8_t *data, size_t size);
lc_fuzz_fn lc_fuzz_find(const char *name);

#endif
