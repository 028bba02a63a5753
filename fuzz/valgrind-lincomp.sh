#!/bin/sh
# valgrind-lincomp.sh - runs build/lincomp (or $VG_LINCOMP) under valgrind
# memcheck, silent unless it finds something, and then exits 99. Used to
# run the CLI tests under memcheck (docs/robustness.md), e.g.
#     LINCOMP=$PWD/fuzz/valgrind-lincomp.sh sh tests/cli/catalogue.sh
# A memcheck report adds lines on stderr, which expect_error counts.
here=$(cd "$(dirname "$0")/.." && pwd)
export OPENBLAS_NUM_THREADS=1
exec valgrind --tool=memcheck -q --leak-check=full \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
    "${VG_LINCOMP:-$here/build/lincomp}" "$@"
