# train.sh - `lincomp train` end to end: accuracy, the trained model in ONNX
# Runtime on raw CSV features, determinism, early stopping, and its errors.
. "$ROOT/tests/cli/lib.sh"
W="$DATA/wine.csv"
M="$TMP/wine.onnx"

check cli/train-help "$LINCOMP" train --help
grep -q "default 10" "$TMP/out" && pass cli/train-help-defaults || fail cli/train-help-defaults "no defaults in --help"

# wine: 13 numeric columns on very different scales (proline ~ 1000)
check cli/train-wine "$LINCOMP" train --train "$W" --val "$W" --epochs 12 --seed 1 --threads 1 -o "$M"
n=$(grep -c '^epoch ' "$TMP/err")
[ "$n" -eq 12 ] && pass cli/train-epoch-lines || fail cli/train-epoch-lines "$n epoch lines on stderr, wanted 12"
"$LINCOMP" eval "$M" --data "$W" --json >"$TMP/e.json" 2>"$TMP/err" &&
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    if (!(j.samples === 178 && j.accuracy >= 0.95)) process.exit(1);' "$TMP/e.json" &&
    pass cli/train-wine-accuracy || fail cli/train-wine-accuracy "$(cat "$TMP/e.json" "$TMP/err")"

# same seed, same threads: the same file, byte for byte; --quiet prints nothing
check cli/train-again "$LINCOMP" train --train "$W" --val "$W" --epochs 12 --seed 1 --threads 1 --quiet -o "$TMP/again.onnx"
[ -s "$TMP/err" ] && fail cli/train-quiet "stderr not empty: $(head -c 200 "$TMP/err")" || pass cli/train-quiet
cmp -s "$M" "$TMP/again.onnx" && pass cli/train-deterministic || fail cli/train-deterministic "two runs with seed 1 differ"

# the model takes raw features: lincomp and ONNX Runtime agree on the raw CSV
if [ -f "$ROOT/tests/tools/ort_run.js" ] && [ -f "$ROOT/tests/tools/compare.js" ]; then
    cut -d, -f1-13 "$W" >"$TMP/wine_x.csv"
    "$LINCOMP" predict "$M" --data "$W" -o "$TMP/lc.csv" 2>"$TMP/err" &&
        $ORT "$M" "$TMP/wine_x.csv" "$TMP/ort.csv" 2>>"$TMP/err" || fail cli/train-ort-run "$(head -c 300 "$TMP/err")"
    # raw features of ~1000 meet weights divided by their sd: float rounding
    # is relative to the largest logit, so the tolerance is 1e-5 of it
    atol=$(awk -F, 'NR > 1 { for (i = 1; i <= NF; i++) { v = $i < 0 ? -$i : $i; if (v > m) m = v } }
        END { printf "%.3g", m * 1e-5 }' "$TMP/ort.csv")
    if $CMP "$TMP/lc.csv" "$TMP/ort.csv" --rtol 1e-5 --atol "$atol" >"$TMP/cmp" 2>&1; then pass cli/train-ort-raw-features
    else fail cli/train-ort-raw-features "$(cat "$TMP/cmp")"; fi
else
    fail cli/train-ort-raw-features "tests/tools/ort_run.js or compare.js missing"
fi

# categorical columns and missing cells: one-hot and mean imputation, stored
check cli/train-penguins "$LINCOMP" train --train "$DATA/penguins.csv" --hidden 32,32 --epochs 30 --seed 2 --quiet -o "$TMP/peng.onnx"
"$LINCOMP" eval "$TMP/peng.onnx" --data "$DATA/penguins.csv" --json >"$TMP/e.json" 2>"$TMP/err" &&
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    if (!(j.samples === 344 && j.accuracy >= 0.95)) process.exit(1);' "$TMP/e.json" &&
    pass cli/train-penguins-accuracy || fail cli/train-penguins-accuracy "$(cat "$TMP/e.json" "$TMP/err")"

# early stopping keeps the best epoch; SGD and the other activations run
halves "$W" "$TMP/wine_a.csv" "$TMP/wine_b.csv"
"$LINCOMP" train --train "$TMP/wine_a.csv" --val "$TMP/wine_b.csv" --optimizer sgd --lr 0.05 --act leaky_relu:0.1 \
    --epochs 200 --patience 2 --quiet --json -o "$TMP/es.onnx" >"$TMP/es.json" 2>"$TMP/err" &&
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    if (!(j.epochs_run < 200 && j.epoch_kept === j.epochs_run - 2 && j.val_accuracy > 0.5 && j.params > 0))
        process.exit(1);' "$TMP/es.json" &&
    pass cli/train-early-stopping || fail cli/train-early-stopping "$(cat "$TMP/es.json" "$TMP/err")"
for a in relu6 prelu; do
    check "cli/train-act-$a" "$LINCOMP" train --train "$DATA/iris.csv" --act $a --hidden 8 --epochs 2 --quiet -o "$TMP/$a.onnx"
done

# bad input: one line, exit 2 for usage, 1 otherwise, no output file
O="$TMP/bad.onnx"
expect_error cli/train-err-optimizer 2 "optimizer" "$O" "$LINCOMP" train --train "$W" --optimizer rmsprop -o "$O"
expect_error cli/train-err-act 2 "activation" "$O" "$LINCOMP" train --train "$W" --act tanh -o "$O"
expect_error cli/train-err-alpha 2 "activation" "$O" "$LINCOMP" train --train "$W" --act leaky_relu:x -o "$O"
expect_error cli/train-err-epochs 2 "epochs" "$O" "$LINCOMP" train --train "$W" --epochs 0 -o "$O"
expect_error cli/train-err-batch 2 "batch" "$O" "$LINCOMP" train --train "$W" --batch -4 -o "$O"
expect_error cli/train-err-hidden 2 "hidden" "$O" "$LINCOMP" train --train "$W" --hidden 64,,32 -o "$O"
expect_error cli/train-err-hidden-zero 2 "hidden" "$O" "$LINCOMP" train --train "$W" --hidden 64,0 -o "$O"
expect_error cli/train-err-lr 2 "lr" "$O" "$LINCOMP" train --train "$W" --lr -1 -o "$O"
expect_error cli/train-err-patience 2 "val" "$O" "$LINCOMP" train --train "$W" --patience 3 -o "$O"
expect_error cli/train-err-no-train 2 "train" "$O" "$LINCOMP" train -o "$O"
expect_error cli/train-err-no-output 2 "-o" - "$LINCOMP" train --train "$W"
expect_error cli/train-err-unlabelled 1 "labels" "$O" "$LINCOMP" train --train "$FIX/mlp_gemm_in.npy" -o "$O"
expect_error cli/train-err-val-columns 1 "iris.csv" "$O" "$LINCOMP" train --train "$W" --val "$DATA/iris.csv" -o "$O"
expect_error cli/train-err-missing 1 "nope.csv" "$O" "$LINCOMP" train --train "$TMP/nope.csv" -o "$O"
expect_error cli/train-err-no-dir 1 "nodir" - "$LINCOMP" train --train "$W" -o "$TMP/nodir/m.onnx"
