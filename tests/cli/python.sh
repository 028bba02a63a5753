#!/bin/sh
# python.sh - the Python binding's tests (python/tests, pytest) against this
# build's liblincomp (LINCOMP_LIB) and lincomp program: one PASS/FAIL line a
# test case, "SKIP:" for a skipped one (torch missing), counted apart.
# A sanitizer build's library needs the ASan runtime loaded first into the
# interpreter; Python's own allocations are not leak-checked.
. "${ROOT:-$PWD}/tests/cli/lib.sh"

LIBSO="$ROOT/${B:-build}/liblincomp.so"
if ! /usr/bin/python3 -c 'import numpy, pytest' 2>"$TMP/err"; then
    fail python/setup "needs python3-numpy and python3-pytest (scripts/setup.sh test): $(tail -n 1 "$TMP/err")"
    exit 0
fi
preload=
if readelf -d "$LIBSO" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
    preload=$(${CC:-cc} -print-file-name=libasan.so)
    export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export LINCOMP_ASAN_PRELOADED=1  # torch's exporter cannot run there: skipped
fi

cd "$ROOT/python" || exit 1
LD_PRELOAD="$preload" LINCOMP_LIB="$LIBSO" LINCOMP="$LINCOMP" PYTHONPATH="$ROOT/python" \
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -rA -q -p no:cacheprovider tests \
    >"$TMP/py.out" 2>&1
rc=$?
# the short summary: "PASSED id", "FAILED id - why", "ERROR id - why",
# "SKIPPED [n] file:line: why"
sed -n -e 's/^PASSED \(.*\)$/PASS: python\/\1/p' \
       -e 's/^FAILED \([^ ]*\)\(.*\)$/FAIL: python\/\1:\2/p' \
       -e 's/^ERROR \([^ ]*\)\(.*\)$/FAIL: python\/\1:\2/p' \
       -e 's/^SKIPPED \[[0-9]*\] \(.*\)$/SKIP: python\/\1/p' "$TMP/py.out"
if ! grep -q '^PASSED ' "$TMP/py.out" || { [ "$rc" -ne 0 ] && ! grep -q '^FAILED \|^ERROR ' "$TMP/py.out"; }; then
    fail python/pytest "exit $rc: $(tail -c 600 "$TMP/py.out" | tr '\n' ' ')"
fi
