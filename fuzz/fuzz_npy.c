/* fuzz_npy.c - libFuzzer harness for lc_fuzz_npy() (fuzz/targets.c), built
 * and run by `make fuzz`; its findings live in fuzz/regressions/npy/. */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_fuzz_npy(data, size); /* refusing an input is no failure */
    return 0;
}
