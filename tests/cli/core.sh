# core.sh - info / predict / eval / convert end to end, and their errors.
. "$ROOT/tests/cli/lib.sh"
M="$ROOT/examples/iris.onnx"
S="$ROOT/examples/iris-sample.csv"

check cli/version "$LINCOMP" --version
grep -q "^lincomp [0-9]" "$TMP/out" && pass cli/version-text || fail cli/version-text "$(cat "$TMP/out")"
for c in info predict eval convert; do
    check "cli/help-$c" "$LINCOMP" $c --help
done
# --help prints the live defaults
"$LINCOMP" compress --help 2>&1 | grep -q "default 1.0" && "$LINCOMP" train --help 2>&1 | grep -q "64,128,128,256,256" &&
    pass cli/help-defaults || fail cli/help-defaults "compress or train --help does not show its defaults"

check cli/info "$LINCOMP" info "$M"
grep -Eq "[0-9]+ parameters, [0-9]+ FLOPs" "$TMP/out" && pass cli/info-totals || fail cli/info-totals "$(tail -2 "$TMP/out")"
"$LINCOMP" info "$M" --json >"$TMP/info.json" 2>&1 && node -e '
const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
if (!(j.params > 0 && j.nodes.length >= 3 && j.input_width === 4)) process.exit(1);' "$TMP/info.json" &&
    pass cli/info-json || fail cli/info-json "$(head -c 300 "$TMP/info.json")"

# predict to a file and to stdout give the same rows; 5 samples -> 5 rows + header
check cli/predict-file "$LINCOMP" predict "$M" --data "$S" -o "$TMP/p.csv"
"$LINCOMP" predict "$M" --data "$S" -o - >"$TMP/p2.csv" 2>/dev/null
if cmp -s "$TMP/p.csv" "$TMP/p2.csv" && [ "$(wc -l <"$TMP/p.csv")" -eq 6 ]; then pass cli/predict-stdout
else fail cli/predict-stdout "outputs differ or wrong row count"; fi
# -o NAME.npy writes a float32 NPY array: numpy reads it, with the values of
# the CSV (printed with 9 digits, exact for float32)
"$LINCOMP" predict "$M" --data "$S" -o "$TMP/p.npy" >/dev/null 2>&1
if /usr/bin/python3 -c 'import sys, numpy as np
a = np.load(sys.argv[1]); b = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, ndmin=2)
sys.exit(0 if a.dtype == np.float32 and a.shape == b.shape and np.array_equal(a, b.astype(np.float32)) else 1)' \
    "$TMP/p.npy" "$TMP/p.csv" 2>"$TMP/err"; then pass cli/predict-npy
else fail cli/predict-npy "$(head -c 300 "$TMP/err")"; fi

# eval on the iris data set: the example model is trained on it
"$LINCOMP" eval "$M" --data "$DATA/iris.csv" --json >"$TMP/e.json" 2>"$TMP/err" &&
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    if (!(j.samples === 150 && j.accuracy > 0.9 && j.loss > 0 && j.params > 0)) process.exit(1);' "$TMP/e.json" &&
    pass cli/eval-json || fail cli/eval-json "$(cat "$TMP/e.json" "$TMP/err")"

# bad input: one line, exit 1 (2 for usage), no output file
expect_error cli/err-missing-model 1 "nope.onnx" "$TMP/o.csv" "$LINCOMP" predict "$TMP/nope.onnx" --data "$S" -o "$TMP/o.csv"
printf 'hello, I am text\n' >"$TMP/text.onnx"
expect_error cli/err-text-model 1 "text.onnx" "$TMP/o.csv" "$LINCOMP" predict "$TMP/text.onnx" --data "$S" -o "$TMP/o.csv"
: >"$TMP/empty.onnx"
expect_error cli/err-empty-model 1 "empty.onnx" - "$LINCOMP" info "$TMP/empty.onnx"
head -c 300 "$M" >"$TMP/trunc.onnx"
expect_error cli/err-truncated-model 1 "trunc.onnx" - "$LINCOMP" info "$TMP/trunc.onnx"
printf 'a,b,c\n1,2,3\n' >"$TMP/w.csv"
expect_error cli/err-wrong-width 1 "w.csv" "$TMP/o.csv" "$LINCOMP" predict "$M" --data "$TMP/w.csv" -o "$TMP/o.csv"
expect_error cli/err-no-dir 1 "nodir" - "$LINCOMP" predict "$M" --data "$S" -o "$TMP/nodir/o.csv"
expect_error cli/err-eval-unlabelled 1 "label" - "$LINCOMP" eval "$M" --data "$S"
expect_error cli/err-unknown-command 2 "unknown command" - "$LINCOMP" frobnicate
expect_error cli/err-unknown-option 2 "option" - "$LINCOMP" info "$M" --frobnicate
expect_error cli/err-missing-data 2 "--data" - "$LINCOMP" predict "$M" -o "$TMP/o.csv"
expect_error cli/err-bad-threads 2 "threads" - "$LINCOMP" eval "$M" --data "$DATA/iris.csv" --threads 0

# a failed write never clobbers an existing good file
echo keep >"$TMP/good.csv"
"$LINCOMP" predict "$M" --data "$TMP/w.csv" -o "$TMP/good.csv" 2>/dev/null
[ "$(cat "$TMP/good.csv")" = keep ] && pass cli/no-clobber || fail cli/no-clobber "existing file changed"
