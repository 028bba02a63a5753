#!/bin/sh
# export_c.sh - `lincomp export-c`: the generated C compiles with
# gcc -std=c99 -Wall -Wextra -Werror -pedantic and gives `lincomp predict`'s
# outputs within |a - b| <= 1e-6 + 1e-5 |b|.
#
#   export_c/fixture/M   every tests/fixtures/*.onnx (PyTorch exports), on the
#                        first input MANIFEST.tsv lists for it
#   export_c/rand*       random graphs from the unit test export_c_models:
#                        skip edges, every hidden activation (relu, leaky_relu,
#                        prelu, clip with two or one finite bound, identity),
#                        every output activation, one hidden node too wide for
#                        the stack (static buffers)
#   export_c/preproc*    a model with stored preprocessing (numeric and
#                        one-hot columns, missing values), standardised or not:
#                        the driver gets raw features, predict the raw CSV
#   export_c/name, export_c/err/...   --name, and the refusals
. "${ROOT:-$PWD}/tests/cli/lib.sh"

TOL="--rtol 1e-5 --atol 1e-6"
CFLAGS_C99="-std=c99 -Wall -Wextra -Werror -pedantic -O1"
DRIVER="$ROOT/tests/tools/export_c_driver.c"
UNIT="$ROOT/${B:-build}/test_unit"

# run NAME CMD...: run, fail NAME with the first stderr lines on error
run() {
    name=$1; shift
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 0 ] && return 0
    fail "$name" "exit $rc ($(head -c 300 "$TMP/err" | tr '\n' ' '))"
    return 1
}

# npy_to_text IN.npy OUT.txt: one comma-separated sample per line
npy_to_text() {
    node -e '
const t = require(process.argv[1]);
const T = t.readTable(process.argv[2]);
const w = t.rowWidth(T.shape);
const lines = [];
for (let r = 0; r < T.shape[0]; r++)
  lines.push(Array.from(T.data.subarray(r * w, (r + 1) * w), String).join(","));
process.stdout.write(lines.join("\n") + "\n");' "$ROOT/tests/tools/table_io.js" "$1" >"$2"
}

# try NAME MODEL DATA FEATURES [EXPORT-NAME]: export MODEL, compile it with the
# driver, run it on FEATURES (a text file of input vectors) and compare with
# `lincomp predict MODEL --data DATA`.
try() {
    name=$1 model=$2 data=$3 feats=$4 cname=${5:-model}
    d="$TMP/c_$(echo "$name" | tr '/' '_')"
    mkdir -p "$d"
    upper=$(echo "$cname" | tr 'a-z' 'A-Z')
    run "$name" "$LINCOMP" export-c "$model" -o "$d/net.c" --name "$cname" || return
    run "$name" gcc $CFLAGS_C99 -I"$d" -DNAME="$cname" -DUPPER="$upper" -DHEADER='"net.h"' \
        -o "$d/run" "$DRIVER" "$d/net.c" -lm || return
    run "$name" sh -c '"$1" <"$2" >"$3"' sh "$d/run" "$feats" "$d/c.csv" || return
    run "$name" "$LINCOMP" predict "$model" --data "$data" -o "$d/pred.csv" || return
    if r=$($CMP "$d/c.csv" "$d/pred.csv" $TOL 2>&1); then pass "$name"
    else fail "$name" "$(printf '%s' "$r" | head -c 300 | tr '\n' ' ')"; fi
}

if ! command -v gcc >/dev/null 2>&1; then
    fail export_c/setup "gcc is needed to compile the generated C"
    exit 0
fi

# ---- the PyTorch fixtures
tab=$(printf '\t')
for m in "$FIX"/*.onnx; do
    [ -f "$m" ] || continue
    base=$(basename "$m")
    input=$(awk -F"$tab" -v m="$base" '$1 == m { print $2; exit }' "$FIX/MANIFEST.tsv")
    if [ -z "$input" ]; then
        fail "export_c/fixture/${base%.onnx}" "no input listed in MANIFEST.tsv"
        continue
    fi
    case "$input" in
    *.npy) npy_to_text "$FIX/$input" "$TMP/feats.txt" ;;
    *) cp "$FIX/$input" "$TMP/feats.txt" ;;
    esac
    try "export_c/fixture/${base%.onnx}" "$m" "$FIX/$input" "$TMP/feats.txt"
done

# ---- random graphs with skip edges and every activation, preprocessing
G="$TMP/graphs"
mkdir -p "$G"
if LC_EXPORT_C_DIR="$G" "$UNIT" export_c_models >"$TMP/unit.out" 2>&1 &&
    grep -q '^PASS: unit/export_c_models' "$TMP/unit.out"; then
    pass export_c/setup
else
    fail export_c/setup "the unit test export_c_models did not write the models: $(head -c 300 "$TMP/unit.out" | tr '\n' ' ')"
fi
for m in "$G"/*.onnx; do
    [ -f "$m" ] || continue
    b=${m%.onnx}
    feats="${b}_in.csv"
    [ -f "${b}_in.txt" ] && feats="${b}_in.txt"   # raw features for preprocessing models
    try "export_c/$(basename "$b")" "$m" "${b}_in.csv" "$feats"
done

# ---- a NAME other than the default, and the JSON summary
M="$FIX/mlp_gemm.onnx"
try export_c/name "$M" "$FIX/mlp_gemm_in.csv" "$FIX/mlp_gemm_in.csv" Tiny_net2
if run export_c/json "$LINCOMP" export-c "$M" -o "$TMP/j.c" --json; then
    if grep -q '"input_size":[[:space:]]*8' "$TMP/out" && grep -q '"name":[[:space:]]*"model"' "$TMP/out" &&
        grep -q '#define MODEL_OUTPUT_SIZE 3' "$TMP/j.h"; then pass export_c/json
    else fail export_c/json "unexpected summary: $(head -c 300 "$TMP/out" | tr '\n' ' ')"; fi
fi

# ---- refusals
mkdir -p "$TMP/bad"
expect_error export_c/err/name_not_identifier 2 'C identifier' "$TMP/bad/a.c" \
    "$LINCOMP" export-c "$M" -o "$TMP/bad/a.c" --name 9lives
expect_error export_c/err/name_with_dash 2 'C identifier' "$TMP/bad/a.c" \
    "$LINCOMP" export-c "$M" -o "$TMP/bad/a.c" --name my-net
expect_error export_c/err/not_dot_c 2 '\.c' "$TMP/bad/a.cpp" \
    "$LINCOMP" export-c "$M" -o "$TMP/bad/a.cpp"
expect_error export_c/err/no_output 2 '-o' - \
    "$LINCOMP" export-c "$M"
expect_error export_c/err/missing_folder 1 'no/such' "$TMP/bad/no" \
    "$LINCOMP" export-c "$M" -o "$TMP/bad/no/such/a.c"
expect_error export_c/err/missing_model 1 'nothing\.onnx' "$TMP/bad/a.c" \
    "$LINCOMP" export-c "$TMP/nothing.onnx" -o "$TMP/bad/a.c"
if ls "$TMP/bad" | grep -q .; then fail export_c/err/nothing_left "left: $(ls "$TMP/bad" | tr '\n' ' ')"
else pass export_c/err/nothing_left; fi
