/* main.c - the lincomp program: the BLAS kernels, then cli_run (run.c),
 * which dispatches to one file per subcommand. */
#include "cli.h"
#include "progress.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* OpenBLAS chooses its kernels when it loads: from OPENBLAS_CORETYPE, else
 * by detecting the CPU. On virtual CPUs that report a generic model the
 * detection can fall back to the SSE3 "Prescott" kernels, several times
 * slower than the AVX2 or AVX-512 ones on the Fashion-MNIST MLP (make bench
 * measures each). Then, once and only when the user has not chosen, restart
 * with the best kernels the CPU supports. LINCOMP_BLAS_AUTO=0 turns this off. */
static void prefer_fast_blas(char **argv)
{
    const char *core = openblas_get_corename();
    const char *off = getenv("LINCOMP_BLAS_AUTO");
    if (getenv("OPENBLAS_CORETYPE") || (off && !strcmp(off, "0")) || !core ||
        strcasecmp(core, "prescott") != 0)
        return;
    __builtin_cpu_init();
    const char *want = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        want = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        want = "Haswell";
    if (!want) return;
    if (setenv("OPENBLAS_CORETYPE", want, 1) == 0) execv("/proc/self/exe", argv);
    /* exec failed: go on with the kernels we have */
    unsetenv("OPENBLAS_CORETYPE");
}

int main(int argc, char **argv)
{
    prefer_fast_blas(argv);
    return cli_run(argc, argv);
}
