#!/bin/sh
# install.sh - `make install` / `make uninstall` / `make examples`, as a user
# would run them, into a temporary prefix:
#
#   install/run         make install PREFIX=TMP succeeds (from the existing
#                       normal build)
#   install/files       bin/lincomp, lib/liblincomp.{a,so}, the soname file
#                       liblincomp.so.0, include/lincomp.h, lib/pkgconfig/
#                       lincomp.pc, share/man/man1/lincomp.1 are in place;
#                       the shared library carries the soname; the installed
#                       lincomp runs and prints the header's version
#   install/man         the man page renders with man -l (or groff) without a
#                       single warning, its version is the program's, and it
#                       has a subsection for every command `lincomp --help`
#                       lists
#   install/pkg-config  pkg-config finds lincomp with the prefix's paths
#   install/example     examples/compress_example.c built with
#                       `pkg-config --cflags --libs lincomp` compresses
#                       examples/iris.onnx on iris.csv: smaller or equal
#                       model, largest output difference < 1e-4, a loadable
#                       ONNX file; its error path exits 1 with one line
#   install/static      the same program linked with liblincomp.a and
#                       `pkg-config --static --libs lincomp` (Libs.private
#                       complete), with no run-time dependency on liblincomp
#   install/make-examples  `make examples` builds it against the prefix
#   install/python      PYTHONPATH=PREFIX/lib/python3/dist-packages python3
#                       imports lincomp, which loads the prefix's
#                       liblincomp.so.0 (not the build tree's), and compresses
#                       examples/iris.onnx on a few samples
#   install/uninstall   make uninstall leaves no file of lincomp behind (nor
#                       the byte code Python wrote)
. "${ROOT:-$PWD}/tests/cli/lib.sh"

P="$TMP/prefix"
VERSION=$(sed -n 's/^#define LC_VERSION "\(.*\)"/\1/p' "$ROOT/include/lincomp.h")
FILES="bin/lincomp lib/liblincomp.a lib/liblincomp.so lib/liblincomp.so.0 include/lincomp.h
       lib/pkgconfig/lincomp.pc share/man/man1/lincomp.1"

# The installed files always come from the normal build, never from the
# sanitizer one (a user's program does not link ASan). Variables of an outer
# `make test SANITIZE=1` travel in MAKEFLAGS, so drop them here.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" SANITIZE= "$@"; }

# run_example NAME EXE: runs EXE on iris and checks what it prints
run_example() {
    name=$1 exe=$2
    rm -f "$TMP/iris_small.onnx"
    if ! "$exe" "$ROOT/examples/iris.onnx" "$DATA/iris.csv" "$TMP/iris_small.onnx" \
        >"$TMP/ex.out" 2>"$TMP/ex.err"; then
        fail "$name" "exit $? ($(head -c 300 "$TMP/ex.err" | tr '\n' ' '))"
        return
    fi
    # "params 403 -> 71 (17.6 %), ... on 150 samples 3.81e-06"
    verdict=$(awk '/^params / { ok = ($2 + 0 >= $4 + 0) && ($NF + 0 < 1e-4) && ($NF + 0 >= 0)
                               print (ok ? "ok" : "bad") } END { if (NR != 1) print "lines=" NR }' \
              "$TMP/ex.out")
    if [ "$verdict" != ok ]; then
        fail "$name" "unexpected output: $(head -c 300 "$TMP/ex.out")"
    elif ! "$P/bin/lincomp" info "$TMP/iris_small.onnx" >/dev/null 2>"$TMP/ex.err"; then
        fail "$name" "the saved model does not load: $(head -c 200 "$TMP/ex.err")"
    else
        pass "$name"
    fi
}

# ---- install
if mk install PREFIX="$P" >"$TMP/make.out" 2>&1; then
    pass install/run
else
    fail install/run "make install failed: $(tail -c 400 "$TMP/make.out" | tr '\n' ' ')"
    exit 0
fi

missing=""
for f in $FILES; do [ -e "$P/$f" ] || missing="$missing $f"; done
soname=$(readelf -d "$P/lib/liblincomp.so.0" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
ver=$("$P/bin/lincomp" --version 2>&1)
if [ -n "$missing" ]; then fail install/files "missing:$missing"
elif [ ! -L "$P/lib/liblincomp.so" ] || [ "$(readlink "$P/lib/liblincomp.so")" != liblincomp.so.0 ]; then
    fail install/files "lib/liblincomp.so is not a link to liblincomp.so.0"
elif [ "$soname" != liblincomp.so.0 ]; then fail install/files "soname '$soname', wanted liblincomp.so.0"
elif [ "$ver" != "lincomp $VERSION" ]; then fail install/files "installed lincomp says '$ver'"
else pass install/files; fi

# ---- the man page: not one warning from the formatter
MAN="$P/share/man/man1/lincomp.1"
if command -v man >/dev/null 2>&1; then
    MANWIDTH=80 man --warnings -l "$MAN" >"$TMP/man.txt" 2>"$TMP/man.err"
else
    # -P-cbou: plain text, as man writes it to a file (no bold/underline codes)
    groff -man -Tutf8 -ww -P-cbou "$MAN" >"$TMP/man.txt" 2>"$TMP/man.err"
fi
rc=$?
if [ "$rc" -ne 0 ] || [ -s "$TMP/man.err" ]; then
    fail install/man "exit $rc: $(head -c 300 "$TMP/man.err" | tr '\n' ' ')"
elif ! grep -q "^LINCOMP(1)" "$TMP/man.txt" || ! grep -q "lincomp $VERSION" "$TMP/man.txt"; then
    fail install/man "rendered page lacks the title or version $VERSION"
else
    missing=""
    for s in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" ENVIRONMENT EXAMPLES "SEE ALSO"; do
        grep -q "^$s" "$TMP/man.txt" || missing="$missing '$s'"
    done
    # every command the program lists, and the ones the design names
    cmds=$("$P/bin/lincomp" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
    for c in $cmds info predict eval analyze compress sweep convert train export-c prune demo; do
        grep -q "^   $c\$" "$TMP/man.txt" || missing="$missing $c"
    done
    if [ -n "$missing" ]; then fail install/man "no section for$missing"; else pass install/man; fi
fi

# ---- pkg-config
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
flags=$(pkg-config --cflags --libs lincomp 2>"$TMP/pc.err")
if [ $? -ne 0 ]; then fail install/pkg-config "$(head -c 300 "$TMP/pc.err")"
elif [ "$(pkg-config --modversion lincomp)" != "$VERSION" ]; then
    fail install/pkg-config "version '$(pkg-config --modversion lincomp)', wanted $VERSION"
else
    case " $flags " in
    *" -I$P/include "*" -L$P/lib "*"-llincomp "*) pass install/pkg-config ;;
    *) fail install/pkg-config "flags '$flags' do not point into $P" ;;
    esac
fi

# ---- the example against the shared library (rpath: the prefix is not in
# the loader's path)
EX="$ROOT/examples/compress_example.c"
if cc -std=c11 -Wall -Wextra -Werror -pedantic -O2 -o "$TMP/ex_shared" "$EX" \
    $(pkg-config --cflags --libs lincomp) -lm -Wl,-rpath,"$P/lib" 2>"$TMP/cc.err"; then
    if ! readelf -d "$TMP/ex_shared" | grep -q 'NEEDED.*\[liblincomp\.so\.0\]'; then
        fail install/example "not linked against liblincomp.so.0"
    else
        run_example install/example "$TMP/ex_shared"
    fi
    "$TMP/ex_shared" "$TMP/no-such.onnx" "$DATA/iris.csv" "$TMP/never.onnx" >/dev/null 2>"$TMP/err"
    rc=$?
    if [ "$rc" -ne 1 ] || [ "$(wc -l <"$TMP/err")" -ne 1 ] || ! grep -q 'no-such.onnx' "$TMP/err" ||
        [ -e "$TMP/never.onnx" ]; then
        fail install/example-error "exit $rc, stderr: $(head -c 200 "$TMP/err")"
    else
        pass install/example-error
    fi
else
    fail install/example "does not compile: $(head -c 400 "$TMP/cc.err" | tr '\n' ' ')"
fi

# ---- the example linked statically with liblincomp.a
libs=""
for w in $(pkg-config --static --libs lincomp); do
    [ "$w" = -llincomp ] || libs="$libs $w"
done
if cc -std=c11 -O2 -o "$TMP/ex_static" "$EX" $(pkg-config --cflags lincomp) \
    "$P/lib/liblincomp.a" $libs 2>"$TMP/cc.err"; then
    if readelf -d "$TMP/ex_static" | grep -q 'NEEDED.*liblincomp'; then
        fail install/static "still needs liblincomp.so"
    else
        run_example install/static "$TMP/ex_static"
    fi
else
    fail install/static "does not link with Libs.private: $(head -c 400 "$TMP/cc.err" | tr '\n' ' ')"
fi

# ---- make examples
if mk examples PREFIX="$P" EXAMPLES_DIR="$TMP/examples" >"$TMP/make.out" 2>&1 &&
    [ -x "$TMP/examples/compress_example" ]; then
    run_example install/make-examples "$TMP/examples/compress_example"
else
    fail install/make-examples "$(tail -c 400 "$TMP/make.out" | tr '\n' ' ')"
fi

# ---- the Python package, finding the installed library by its own path
if PYTHONPATH="$P/lib/python3/dist-packages" LINCOMP_LIB= /usr/bin/python3 -c '
import sys, numpy as np, lincomp
assert lincomp.library_path == sys.argv[1] + "/lib/liblincomp.so.0", lincomp.library_path
assert lincomp.__file__.startswith(sys.argv[1]), lincomp.__file__
m = lincomp.load(sys.argv[2])
X = np.random.default_rng(0).normal(size=(50, m.input_width)).astype(np.float32)
small, rep = m.compress(X)
assert small.params == rep["params_after"] <= m.params
' "$P" "$ROOT/examples/iris.onnx" >"$TMP/py.out" 2>&1; then
    pass install/python
else
    fail install/python "$(tail -c 400 "$TMP/py.out" | tr '\n' ' ')"
fi

# ---- uninstall: nothing of lincomp left (empty folders may stay)
if ! mk uninstall PREFIX="$P" >"$TMP/make.out" 2>&1; then
    fail install/uninstall "make uninstall failed: $(tail -c 300 "$TMP/make.out" | tr '\n' ' ')"
else
    left=$(cd "$P" && find . ! -type d | sed 's|^\./||' | tr '\n' ' ')
    if [ -n "$left" ]; then fail install/uninstall "left behind: $left"; else pass install/uninstall; fi
fi
