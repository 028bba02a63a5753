/* fuzz_csv.c - libFuzzer harness for lc_fuzz_csv() (fuzz/targets.c), built
 * and run by `make fuzz`; its findings live in fuzz/regressions/csv/. */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_fuzz_csv(data, size); /* refusing an input is no failure */
    return 0;
}
