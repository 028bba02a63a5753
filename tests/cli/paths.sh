# paths.sh - a command never writes over a file it reads or over its other
# output: -o and --report (or --csv and --svg) naming one file, or an output
# naming the data, is a usage error before any work, and the file is left as
# it was; -o may name the model itself (it is read first).
. "${ROOT:-$PWD}/tests/cli/lib.sh"
M="$TMP/m.onnx" X="$TMP/x.npy"
cp "$FIX/mlp_gemm.onnx" "$M"
cp "$FIX/mlp_gemm_in.npy" "$X"
cp "$X" "$TMP/x.orig"
cp "$M" "$TMP/m.orig"

expect_error paths/out-and-report 2 "-o and --report name the same file" "$TMP/same.onnx" \
    "$LINCOMP" compress "$M" --data "$X" -o "$TMP/same.onnx" --report "$TMP/same.onnx"
expect_error paths/report-is-model 2 "--report '.*' is also MODEL" - \
    "$LINCOMP" compress "$M" --data "$X" -o "$TMP/c.onnx" --report "$M"
expect_error paths/out-is-data 2 "-o '.*' is also --data" - \
    "$LINCOMP" compress "$M" --data "$X" -o "$X"
expect_error paths/predict-out-is-data 2 "-o '.*' is also --data" - \
    "$LINCOMP" predict "$M" --data "$X" -o "$X"
expect_error paths/sweep-csv-is-model 2 "--csv '.*' is also MODEL" - \
    "$LINCOMP" sweep "$M" --data "$X" --test "$X" --csv "$M"
# another name of the same file: a hard link, and a path through '..'
ln "$X" "$TMP/x_link.npy"
mkdir -p "$TMP/sub"
expect_error paths/hard-link 2 "is also --data" - \
    "$LINCOMP" predict "$M" --data "$X" -o "$TMP/x_link.npy"
expect_error paths/dot-dot 2 "name the same file" "$TMP/new.onnx" \
    "$LINCOMP" compress "$M" --data "$X" -o "$TMP/new.onnx" --report "$TMP/sub/../new.onnx"
if cmp -s "$X" "$TMP/x.orig" && cmp -s "$M" "$TMP/m.orig"; then pass paths/inputs-unchanged
else fail paths/inputs-unchanged "the model or the data changed"; fi
# -o over the model itself is allowed
if "$LINCOMP" compress "$M" --data "$X" -o "$M" >/dev/null 2>"$TMP/err" &&
    "$LINCOMP" info "$M" >/dev/null 2>&1; then pass paths/out-may-be-model
else fail paths/out-may-be-model "$(head -c 300 "$TMP/err")"; fi

# a model cannot go to standard output: -o - is refused, not a file named '-'
( cd "$TMP" && expect_error paths/model-not-to-stdout 2 "ONNX file, not to standard output" "$TMP/-" \
    "$LINCOMP" compress "$M" --data "$X" -o - )
# a folder given as a model says why it cannot be read
expect_error paths/folder-as-model 1 "Is a directory" - "$LINCOMP" info "$TMP/sub"
# fine-tuning on unlabelled rows reports agreement with the teacher, not accuracy
"$LINCOMP" compress "$M" --data "$X" --threshold 0.8 --finetune 1 -o "$TMP/ft.onnx" --report "$TMP/ft.json" >"$TMP/ft.out" 2>/dev/null
if grep -q "training agreement with the teacher" "$TMP/ft.out" &&
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
        if (j.finetune.train_score !== "teacher_agreement") throw new Error(j.finetune.train_score);' "$TMP/ft.json"; then
    pass paths/finetune-unlabelled-says-agreement
else fail paths/finetune-unlabelled-says-agreement "$(head -c 300 "$TMP/ft.out")"; fi
# an output that is a folder fails at once, saying so (it failed after the
# work with "Not a directory")
expect_error paths/out-is-folder 1 "is a folder; the output wants a file name" - \
    "$LINCOMP" compress "$M" --data "$X" -o "$TMP/sub"
expect_error paths/out-ends-in-slash 1 "is a folder" - \
    "$LINCOMP" train --train "$DATA/iris.csv" --hidden 4 --epochs 1 -o "$TMP/sub/"
