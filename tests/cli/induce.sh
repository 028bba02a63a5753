# induce.sh - `lincomp induce` (compress --induce) end to end: a 64-128-128
# MLP trained on 60 % of wine is induced to 25 % of its parameters; the
# budget, the report (stages, layers, schedule), accuracy on the held-out
# 40 %, ONNX Runtime on the result, determinism, and its errors.
. "$ROOT/tests/cli/lib.sh"
W="$DATA/wine.csv"
M="$TMP/wine.onnx"
O="$TMP/induced.onnx"

# a fixed 60/40 split by row number (wine.csv is ordered by class, so every
# class is on both sides)
awk -F, 'NR == 1 || (NR - 2) % 5 < 3' "$W" >"$TMP/tr.csv"
awk -F, 'NR == 1 || (NR - 2) % 5 >= 3' "$W" >"$TMP/te.csv"

check cli/induce-help "$LINCOMP" compress --induce --help
grep -q "default 10" "$TMP/out" && grep -q "default 2000" "$TMP/out" &&
    pass cli/induce-help-defaults || fail cli/induce-help-defaults "no defaults in --help"
"$LINCOMP" --help | grep -q '^  induce' && fail cli/induce-hidden "listed in lincomp --help" ||
    pass cli/induce-hidden

"$LINCOMP" train --train "$TMP/tr.csv" --hidden 64,128,128 --epochs 30 --seed 1 --threads 1 \
    --quiet -o "$M" >/dev/null 2>"$TMP/err" || fail cli/induce-train "$(cat "$TMP/err")"

check cli/induce-wine "$LINCOMP" compress "$M" --induce --target-size 0.25 --train "$TMP/tr.csv" \
    --val "$TMP/te.csv" --test "$TMP/te.csv" --seed 1 --threads 1 -o "$O" --report "$TMP/r.json"
grep -q "fine-tuned" "$TMP/out" && grep -q "fold exactness" "$TMP/out" &&
    pass cli/induce-table || fail cli/induce-table "no table on stdout"
grep -q '^induce ' "$TMP/err" && grep -q '^finetune ' "$TMP/err" &&
    pass cli/induce-epoch-lines || fail cli/induce-epoch-lines "no epoch lines on stderr"

# the budget is met; the fold of gate-1 neurons is exact (the rounded and
# the folded model agree); the result is within 5 pp of the original on the
# held-out rows (71 samples: one sample is 1.4 pp)
node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    const why = [];
    const budget = Math.floor(0.25 * j.params_before);
    if (j.target_params !== budget || !j.target_reached) why.push("target not reached");
    if (!(j.params_after <= budget)) why.push("params_after " + j.params_after + " > " + budget);
    if (Math.abs(j.size_ratio - j.params_after / j.params_before) > 1e-12) why.push("size_ratio");
    for (const s of ["original", "induced", "rounded", "folded", "finetuned"])
        for (const k of ["params", "size_ratio", "val_accuracy", "test_accuracy"])
            if (typeof j.stages[s][k] !== "number") why.push("stages." + s + "." + k);
    if (j.stages.original.params !== j.params_before || j.stages.finetuned.params !== j.params_after)
        why.push("stage params");
    if (j.stages.rounded.test_accuracy !== j.stages.folded.test_accuracy) why.push("fold changed accuracy");
    if (!(j.fold_max_abs_diff < 1e-3)) why.push("fold_max_abs_diff " + j.fold_max_abs_diff);
    if (!(j.test_accuracy_after >= j.test_accuracy_before - 0.05))
        why.push("test accuracy " + j.test_accuracy_after + " vs " + j.test_accuracy_before);
    if (j.layers.length !== 3) why.push("layers");
    if (!j.layers.some(l => l.folded_linear > 0)) why.push("nothing linearized");
    for (const l of j.layers)
        if (l.width_after !== l.width_before - l.folded_linear) why.push("width_after of " + l.name);
    for (const k of ["epochs", "min_steps", "lambda0", "lambda_factor", "lambda_final", "steps", "gate_lr"])
        if (typeof j.schedule[k] !== "number") why.push("schedule." + k);
    if (!(j.schedule.steps >= 2000)) why.push("steps " + j.schedule.steps);
    if (why.length) { console.error(why.join("; ")); process.exit(1); }' "$TMP/r.json" 2>"$TMP/why" &&
    pass cli/induce-report || fail cli/induce-report "$(cat "$TMP/why")"

# eval agrees on size and accuracy: the model takes the raw CSV like the original
"$LINCOMP" eval "$O" --data "$TMP/te.csv" --json >"$TMP/e.json" 2>"$TMP/err" &&
    node -e 'const e = JSON.parse(require("fs").readFileSync(process.argv[1]));
    const r = JSON.parse(require("fs").readFileSync(process.argv[2]));
    if (!(e.params === r.params_after && Math.abs(e.accuracy - r.test_accuracy_after) < 1e-5)) process.exit(1);' \
        "$TMP/e.json" "$TMP/r.json" &&
    pass cli/induce-eval || fail cli/induce-eval "$(cat "$TMP/e.json" "$TMP/err")"

# --json on stdout, --quiet, same seed and threads: the same file
"$LINCOMP" compress --induce "$M" --target-size 0.25 --train "$TMP/tr.csv" --val "$TMP/te.csv" --seed 1 \
    --threads 1 --quiet --json -o "$TMP/again.onnx" >"$TMP/j.json" 2>"$TMP/err" &&
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    if (!(j.target_reached && j.test_accuracy_after === null)) process.exit(1);' "$TMP/j.json" &&
    pass cli/induce-json || fail cli/induce-json "$(head -c 300 "$TMP/j.json") $(cat "$TMP/err")"
[ -s "$TMP/err" ] && fail cli/induce-quiet "stderr not empty: $(head -c 200 "$TMP/err")" || pass cli/induce-quiet
cmp -s "$O" "$TMP/again.onnx" && pass cli/induce-deterministic || fail cli/induce-deterministic "two runs with seed 1 differ"

# ONNX Runtime gives lincomp's outputs on the raw features
if [ -f "$ROOT/tests/tools/ort_run.js" ] && [ -f "$ROOT/tests/tools/compare.js" ]; then
    cut -d, -f1-13 "$TMP/te.csv" >"$TMP/te_x.csv"
    "$LINCOMP" predict "$O" --data "$TMP/te.csv" -o "$TMP/lc.csv" 2>"$TMP/err" &&
        $ORT "$O" "$TMP/te_x.csv" "$TMP/ort.csv" 2>>"$TMP/err" || fail cli/induce-ort-run "$(head -c 300 "$TMP/err")"
    atol=$(awk -F, 'NR > 1 { for (i = 1; i <= NF; i++) { v = $i < 0 ? -$i : $i; if (v > m) m = v } }
        END { printf "%.3g", m * 1e-5 }' "$TMP/ort.csv")
    if $CMP "$TMP/lc.csv" "$TMP/ort.csv" --rtol 1e-5 --atol "$atol" >"$TMP/cmp" 2>&1; then pass cli/induce-ort
    else fail cli/induce-ort "$(cat "$TMP/cmp")"; fi
else
    fail cli/induce-ort "tests/tools/ort_run.js or compare.js missing"
fi

# bad input: one line, exit 2 for usage, 1 otherwise, no output file
B="$TMP/bad.onnx"
for r in 0 1.5 -0.2 abc; do
    expect_error "cli/induce-err-target-$r" 2 "target-size" "$B" "$LINCOMP" compress --induce "$M" --train "$TMP/tr.csv" --val "$TMP/te.csv" --target-size "$r" -o "$B"
done
expect_error cli/induce-err-no-target 2 "target-size" "$B" "$LINCOMP" compress --induce "$M" --train "$TMP/tr.csv" --val "$TMP/te.csv" -o "$B"
expect_error cli/induce-err-no-train 2 "train" "$B" "$LINCOMP" compress --induce "$M" --val "$TMP/te.csv" --target-size 0.5 -o "$B"
expect_error cli/induce-err-no-val 2 "val" "$B" "$LINCOMP" compress --induce "$M" --train "$TMP/tr.csv" --target-size 0.5 -o "$B"
expect_error cli/induce-err-no-output 2 "-o" - "$LINCOMP" compress --induce "$M" --train "$TMP/tr.csv" --val "$TMP/te.csv" --target-size 0.5
expect_error cli/induce-err-no-model 2 "MODEL" "$B" "$LINCOMP" compress --induce --train "$TMP/tr.csv" --val "$TMP/te.csv" --target-size 0.5 -o "$B"
expect_error cli/induce-err-epochs 2 "epochs" "$B" "$LINCOMP" compress --induce "$M" --train "$TMP/tr.csv" --val "$TMP/te.csv" --target-size 0.5 --epochs 0 -o "$B"
expect_error cli/induce-err-lr 2 "lr" "$B" "$LINCOMP" compress --induce "$M" --train "$TMP/tr.csv" --val "$TMP/te.csv" --target-size 0.5 --lr -1 -o "$B"
expect_error cli/induce-err-factor 2 "lambda-factor" "$B" "$LINCOMP" compress --induce "$M" --train "$TMP/tr.csv" --val "$TMP/te.csv" --target-size 0.5 --lambda-factor 1 -o "$B"
expect_error cli/induce-err-option 2 "unknown option" "$B" "$LINCOMP" compress --induce "$M" --train "$TMP/tr.csv" --val "$TMP/te.csv" --target-size 0.5 --bogus -o "$B"
cut -d, -f1-13 "$TMP/tr.csv" >"$TMP/unlabelled.csv"
expect_error cli/induce-err-unlabelled 1 "labels" "$B" "$LINCOMP" compress --induce "$M" --train "$TMP/unlabelled.csv" --val "$TMP/te.csv" --target-size 0.5 -o "$B"
expect_error cli/induce-err-val-unlabelled 1 "labels" "$B" "$LINCOMP" compress --induce "$M" --train "$TMP/tr.csv" --val "$TMP/unlabelled.csv" --target-size 0.5 -o "$B"
expect_error cli/induce-err-columns 1 "iris.csv" "$B" "$LINCOMP" compress --induce "$M" --train "$DATA/iris.csv" --val "$TMP/te.csv" --target-size 0.5 -o "$B"
expect_error cli/induce-err-missing 1 "nope.onnx" "$B" "$LINCOMP" compress --induce "$TMP/nope.onnx" --train "$TMP/tr.csv" --val "$TMP/te.csv" --target-size 0.5 -o "$B"
expect_error cli/induce-err-no-dir 1 "nodir" - "$LINCOMP" compress --induce "$M" --train "$TMP/tr.csv" --val "$TMP/te.csv" --target-size 0.5 -o "$TMP/nodir/m.onnx"
