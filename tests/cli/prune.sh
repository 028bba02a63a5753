# prune.sh - `lincomp prune` end to end: the size budget, whole neurons
# removed (a smaller file, narrower nodes), the report, accuracy on wine,
# a model with skip edges, ONNX Runtime on the result, and its errors.
. "$ROOT/tests/cli/lib.sh"
W="$DATA/wine.csv"
I="$TMP/init.onnx"
P="$TMP/pruned.onnx"

check cli/prune-help "$LINCOMP" prune --help
grep -q "default 0.05" "$TMP/out" && grep -q "default 0.7" "$TMP/out" &&
    pass cli/prune-help-defaults || fail cli/prune-help-defaults "no defaults in --help"

# an almost untrained model (one epoch), as the paper prunes during training
"$LINCOMP" train --train "$W" --epochs 1 --seed 1 --threads 1 --quiet -o "$I" >/dev/null 2>"$TMP/err" ||
    fail cli/prune-init "$(cat "$TMP/err")"

check cli/prune-wine "$LINCOMP" prune "$I" --train "$W" --val "$W" --target-size 0.5 --epochs 20 \
    --seed 1 --threads 1 -o "$P" --report "$TMP/r.json"
n=$(grep -c '^epoch ' "$TMP/err")
[ "$n" -eq 20 ] && pass cli/prune-epoch-lines || fail cli/prune-epoch-lines "$n epoch lines on stderr, wanted 20"
grep -q "parameters" "$TMP/out" && pass cli/prune-table || fail cli/prune-table "no table on stdout"

# the budget: at most R of the parameters, and at most one neuron's worth
# below it (the widest hidden neuron of 13-64-128-128-256-256-3 frees
# 256 inputs + 256 outputs + 1 bias)
node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    const why = [];
    const budget = Math.floor(0.5 * j.params_before);
    if (j.target_params !== budget || !j.target_reached) why.push("target not reached");
    if (!(j.params_after <= budget)) why.push("params_after " + j.params_after + " > " + budget);
    if (!(budget - j.params_after <= 513)) why.push("far below the budget: " + j.params_after);
    if (Math.abs(j.size_ratio - j.params_after / j.params_before) > 1e-12) why.push("size_ratio");
    if (j.epochs !== 20 || j.per_epoch.length !== 20) why.push("per_epoch");
    for (const e of j.per_epoch)
        for (const k of ["epoch", "train_acc", "val_acc", "params"])
            if (typeof e[k] !== "number") why.push("per_epoch." + k);
    if (j.per_epoch[19].params !== j.params_after) why.push("last epoch params");
    if (!j.per_epoch.some(e => e.removed > 0)) why.push("nothing removed");
    if (j.layers.length !== 5) why.push("layers");
    if (!j.layers.every(l => l.width_after >= 1 && l.width_after <= l.width_before)) why.push("widths");
    if (!j.layers.some(l => l.width_after < l.width_before)) why.push("no width dropped");
    if (typeof j.accuracy_before !== "number" || !(j.accuracy_after >= 0.95)) why.push("accuracy_after " + j.accuracy_after);
    if (why.length) { console.error(why.join("; ")); process.exit(1); }' "$TMP/r.json" 2>"$TMP/why" &&
    pass cli/prune-report || fail cli/prune-report "$(cat "$TMP/why")"

# whole neurons leave: the file is smaller and eval agrees on the size
sb=$(wc -c <"$I"); sa=$(wc -c <"$P")
[ "$sa" -lt $((sb * 6 / 10)) ] && pass cli/prune-file-smaller || fail cli/prune-file-smaller "$sb -> $sa bytes"
"$LINCOMP" eval "$P" --data "$W" --json >"$TMP/e.json" 2>"$TMP/err" &&
    node -e 'const e = JSON.parse(require("fs").readFileSync(process.argv[1]));
    const r = JSON.parse(require("fs").readFileSync(process.argv[2]));
    if (!(e.params === r.params_after && e.accuracy >= 0.95)) process.exit(1);' "$TMP/e.json" "$TMP/r.json" &&
    pass cli/prune-eval || fail cli/prune-eval "$(cat "$TMP/e.json" "$TMP/err")"

# --json on stdout; --quiet; same seed and threads: the same file
"$LINCOMP" prune "$I" --train "$W" --target-size 0.5 --epochs 20 --seed 1 --threads 1 --quiet --json \
    -o "$TMP/again.onnx" >"$TMP/j.json" 2>"$TMP/err" &&
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    if (!(j.params_after <= j.target_params && j.accuracy_after === null)) process.exit(1);' "$TMP/j.json" &&
    pass cli/prune-json || fail cli/prune-json "$(head -c 300 "$TMP/j.json") $(cat "$TMP/err")"
[ -s "$TMP/err" ] && fail cli/prune-quiet "stderr not empty: $(head -c 200 "$TMP/err")" || pass cli/prune-quiet
cmp -s "$P" "$TMP/again.onnx" && pass cli/prune-deterministic || fail cli/prune-deterministic "two runs with seed 1 differ"

# the bias-correction option and SGD run and keep the budget
"$LINCOMP" prune "$I" --train "$W" --target-size 0.3 --epochs 15 --bias-correction --optimizer sgd \
    --lr 0.05 --quiet --json -o "$TMP/bc.onnx" >"$TMP/j.json" 2>"$TMP/err" &&
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    if (!(j.bias_correction === true && j.params_after <= j.target_params)) process.exit(1);' "$TMP/j.json" &&
    pass cli/prune-bias-correction || fail cli/prune-bias-correction "$(head -c 300 "$TMP/j.json") $(cat "$TMP/err")"

# a model with a skip edge (a lossy fold of a trained model): consumers on
# both paths lose the columns, the edge stays
"$LINCOMP" train --train "$W" --hidden 32,32,32 --epochs 15 --seed 4 --threads 1 --quiet -o "$TMP/w.onnx" >/dev/null 2>&1
"$LINCOMP" compress "$TMP/w.onnx" --data "$W" --threshold 0.9 -o "$TMP/skip.onnx" >/dev/null 2>&1
"$LINCOMP" info "$TMP/skip.onnx" >"$TMP/info" 2>&1
edges=$(awk '/ edges, / { for (i = 1; i <= NF; i++) if ($i == "edges,") print $(i - 1) }' "$TMP/info")
hidden=$(awk '/ hidden\), / { sub(/.*\(/, ""); print $1 }' "$TMP/info")
if [ -n "$edges" ] && [ "$edges" -gt $((hidden + 1)) ]; then
    "$LINCOMP" prune "$TMP/skip.onnx" --train "$W" --target-size 0.6 --epochs 10 --seed 2 --threads 1 \
        --quiet --json -o "$TMP/skip_p.onnx" >"$TMP/j.json" 2>"$TMP/err" &&
        "$LINCOMP" info "$TMP/skip_p.onnx" >"$TMP/info2" 2>&1 &&
        grep -q " $edges edges," "$TMP/info2" &&
        "$LINCOMP" eval "$TMP/skip_p.onnx" --data "$W" --json >"$TMP/e.json" 2>>"$TMP/err" &&
        node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
        const e = JSON.parse(require("fs").readFileSync(process.argv[2]));
        if (!(j.target_reached && j.params_after <= j.target_params && e.accuracy >= 0.9)) process.exit(1);' \
            "$TMP/j.json" "$TMP/e.json" &&
        pass cli/prune-skip-edges || fail cli/prune-skip-edges "$(head -c 300 "$TMP/j.json") $(cat "$TMP/err" "$TMP/info2" 2>/dev/null)"
else
    fail cli/prune-skip-edges "the lossy fold left no skip edge: $(cat "$TMP/info")"
fi

# the pruned model in ONNX Runtime gives lincomp's outputs on raw features
if [ -f "$ROOT/tests/tools/ort_run.js" ] && [ -f "$ROOT/tests/tools/compare.js" ]; then
    cut -d, -f1-13 "$W" >"$TMP/wine_x.csv"
    "$LINCOMP" predict "$P" --data "$W" -o "$TMP/lc.csv" 2>"$TMP/err" &&
        $ORT "$P" "$TMP/wine_x.csv" "$TMP/ort.csv" 2>>"$TMP/err" || fail cli/prune-ort-run "$(head -c 300 "$TMP/err")"
    atol=$(awk -F, 'NR > 1 { for (i = 1; i <= NF; i++) { v = $i < 0 ? -$i : $i; if (v > m) m = v } }
        END { printf "%.3g", m * 1e-5 }' "$TMP/ort.csv")
    if $CMP "$TMP/lc.csv" "$TMP/ort.csv" --rtol 1e-5 --atol "$atol" >"$TMP/cmp" 2>&1; then pass cli/prune-ort
    else fail cli/prune-ort "$(cat "$TMP/cmp")"; fi
else
    fail cli/prune-ort "tests/tools/ort_run.js or compare.js missing"
fi

# bad input: one line, exit 2 for usage, 1 otherwise, no output file
O="$TMP/bad.onnx"
for r in 0 1.5 -0.2 abc; do
    expect_error "cli/prune-err-target-$r" 2 "target-size" "$O" "$LINCOMP" prune "$I" --train "$W" --target-size "$r" -o "$O"
done
expect_error cli/prune-err-no-target 2 "target-size" "$O" "$LINCOMP" prune "$I" --train "$W" -o "$O"
expect_error cli/prune-err-no-output 2 "-o" - "$LINCOMP" prune "$I" --train "$W" --target-size 0.5
expect_error cli/prune-err-no-train 2 "train" "$O" "$LINCOMP" prune "$I" --target-size 0.5 -o "$O"
expect_error cli/prune-err-no-model 2 "MODEL" "$O" "$LINCOMP" prune --train "$W" --target-size 0.5 -o "$O"
expect_error cli/prune-err-quantile 2 "quantile" "$O" "$LINCOMP" prune "$I" --train "$W" --target-size 0.5 --quantile 0 -o "$O"
expect_error cli/prune-err-start-acc 2 "start-acc" "$O" "$LINCOMP" prune "$I" --train "$W" --target-size 0.5 --start-acc 2 -o "$O"
expect_error cli/prune-err-optimizer 2 "optimizer" "$O" "$LINCOMP" prune "$I" --train "$W" --target-size 0.5 --optimizer rmsprop -o "$O"
expect_error cli/prune-err-epochs 2 "epochs" "$O" "$LINCOMP" prune "$I" --train "$W" --target-size 0.5 --epochs 0 -o "$O"
cut -d, -f1-13 "$W" >"$TMP/unlabelled.csv"
expect_error cli/prune-err-unlabelled 1 "labels" "$O" "$LINCOMP" prune "$I" --train "$TMP/unlabelled.csv" --target-size 0.5 -o "$O"
expect_error cli/prune-err-val-unlabelled 1 "labels" "$O" "$LINCOMP" prune "$I" --train "$W" --val "$TMP/unlabelled.csv" --target-size 0.5 -o "$O"
expect_error cli/prune-err-columns 1 "iris.csv" "$O" "$LINCOMP" prune "$I" --train "$DATA/iris.csv" --target-size 0.5 -o "$O"
expect_error cli/prune-err-missing 1 "nope.onnx" "$O" "$LINCOMP" prune "$TMP/nope.onnx" --train "$W" --target-size 0.5 -o "$O"
expect_error cli/prune-err-no-dir 1 "nodir" - "$LINCOMP" prune "$I" --train "$W" --target-size 0.5 -o "$TMP/nodir/m.onnx"
