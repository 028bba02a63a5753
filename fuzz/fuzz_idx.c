/* fuzz_idx.c - libFuzzer harness for lc_fuzz_idx() (fuzz/targets.c), built
 * and run by `make fuzz`; its findings live in fuzz/regressions/idx/. */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_fuzz_idx(data, size); /* refusing an input is no failure */
    return 0;
}
