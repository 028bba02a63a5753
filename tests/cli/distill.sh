# distill.sh - compress --finetune towards the original model: on an
# unlabelled .npy calibration set alone (agreement with the original rises,
# measured by `lincomp predict` on both files), mixed with labels, the label
# mode as before, and the bad-input catalogue of the distillation options.
. "${ROOT:-$PWD}/tests/cli/lib.sh"

# disagree A.csv B.csv: the fraction of rows whose largest output differs
disagree() {
    node -e 'const fs = require("fs");
        const rows = f => fs.readFileSync(f, "utf8").trim().split("\n").slice(1)
            .map(l => { const v = l.split(",").map(Number); return v.indexOf(Math.max(...v)); });
        const a = rows(process.argv[1]), b = rows(process.argv[2]);
        if (a.length !== b.length || !a.length) process.exit(1);
        console.log(a.filter((c, i) => c !== b[i]).length / a.length)' "$1" "$2"
}

# a vowel model trained on half of the rows; the other half's features as an
# unlabelled float32 .npy (the model takes the raw numeric columns)
halves "$DATA/vowel.csv" "$TMP/a.csv" "$TMP/b.csv"
check distill/train "$LINCOMP" train --train "$TMP/a.csv" --epochs 20 --hidden 64,64 --seed 1 \
    --threads 1 --quiet -o "$TMP/m.onnx"
node -e 'const fs = require("fs");
    const rows = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").slice(1)
        .map(l => l.split(",").slice(0, 10).map(Number));
    let h = `{"descr": "<f4", "fortran_order": False, "shape": (${rows.length}, 10), }`;
    h = h.padEnd(118, " ") + "\n";
    const x = Float32Array.from(rows.flat());
    fs.writeFileSync(process.argv[2], Buffer.concat([Buffer.from("\x93NUMPY\x01\x00", "latin1"),
        Buffer.from([h.length & 255, h.length >> 8]), Buffer.from(h, "latin1"), Buffer.from(x.buffer)]));' \
    "$TMP/b.csv" "$TMP/u.npy"
M="$TMP/m.onnx" U="$TMP/u.npy"

# unlabelled calibration data alone: --finetune without --train distils on
# --data's rows and moves the lossy fold (the paper's, not reconstructed)
# towards the original there
if "$LINCOMP" compress "$M" --data "$U" --threshold 0.6 --no-reconstruct -o "$TMP/f0.onnx" --quiet >/dev/null 2>"$TMP/err" &&
    "$LINCOMP" compress "$M" --data "$U" --threshold 0.6 --no-reconstruct --finetune 10 -o "$TMP/f1.onnx" \
        --json >"$TMP/f1.json" 2>>"$TMP/err" &&
    json "$TMP/f1.json" "j.finetune.target === 'distill' && j.finetune.train === '$U' &&
        j.finetune.temperature > 0 && j.finetune.alpha >= 0 && j.finetune.kept" &&
    "$LINCOMP" predict "$M" --data "$U" -o "$TMP/p.csv" 2>>"$TMP/err" &&
    "$LINCOMP" predict "$TMP/f0.onnx" --data "$U" -o "$TMP/p0.csv" 2>>"$TMP/err" &&
    "$LINCOMP" predict "$TMP/f1.onnx" --data "$U" -o "$TMP/p1.csv" 2>>"$TMP/err"; then
    d0=$(disagree "$TMP/p.csv" "$TMP/p0.csv") d1=$(disagree "$TMP/p.csv" "$TMP/p1.csv")
    echo "    vowel at tau 0.6, unlabelled: disagreement with the original $d0 -> $d1 after 10 epochs"
    if node -e "process.exit($d0 > 0.05 && $d1 < 0.5 * $d0 ? 0 : 1)"; then pass distill/unlabelled-npy
    else fail distill/unlabelled-npy "disagreement $d0 -> $d1"; fi
else fail distill/unlabelled-npy "$(head -c 300 "$TMP/err") $(cat "$TMP/jerr" 2>/dev/null)"; fi

# --teacher: an already compressed model (f0, the lossy fold above) fine-tuned
# towards the original rather than towards itself. On the unlabelled rows its
# disagreement with the original falls by half with the original as teacher,
# and not without (the model is then its own teacher: nothing pulls it
# towards the original); the report names the teacher.
if [ -f "$TMP/f0.onnx" ] &&
    "$LINCOMP" compress "$TMP/f0.onnx" --data "$U" --threshold 1 --layer-threshold 1000000 --finetune 10 \
        --teacher "$M" -o "$TMP/t1.onnx" --json >"$TMP/t1.json" 2>"$TMP/err" &&
    json "$TMP/t1.json" "j.finetune.teacher === '$M' && j.finetune.kept" &&
    "$LINCOMP" compress "$TMP/f0.onnx" --data "$U" --threshold 1 --layer-threshold 1000000 --finetune 10 \
        -o "$TMP/t0.onnx" --json >"$TMP/t0.json" 2>>"$TMP/err" &&
    json "$TMP/t0.json" "j.finetune.teacher === '$TMP/f0.onnx'" &&
    "$LINCOMP" predict "$TMP/t1.onnx" --data "$U" -o "$TMP/pt1.csv" 2>>"$TMP/err" &&
    "$LINCOMP" predict "$TMP/t0.onnx" --data "$U" -o "$TMP/pt0.csv" 2>>"$TMP/err"; then
    d0=$(disagree "$TMP/p.csv" "$TMP/p0.csv") d1=$(disagree "$TMP/p.csv" "$TMP/pt1.csv")
    ds=$(disagree "$TMP/p.csv" "$TMP/pt0.csv")
    echo "    compressed model, disagreement with the original $d0 -> $d1 (teacher: the original), $ds (itself)"
    if node -e "process.exit($d1 < 0.5 * $d0 && $ds > 0.75 * $d0 ? 0 : 1)"; then pass distill/teacher
    else fail distill/teacher "disagreement $d0 -> $d1 (original), $ds (itself)"; fi
else fail distill/teacher "$(head -c 300 "$TMP/err") $(cat "$TMP/jerr" 2>/dev/null)"; fi

# with labels (--train a labelled CSV): the mixed loss, and --val still
# measures accuracy; the label mode is the old fine-tuning
for T in distill labels; do
    if "$LINCOMP" compress "$M" --data "$TMP/a.csv" --val "$TMP/b.csv" --threshold 0.6 --finetune 10 \
            --train "$TMP/a.csv" --finetune-target $T -o "$TMP/g.onnx" --json >"$TMP/g.json" 2>"$TMP/err" &&
        json "$TMP/g.json" "j.finetune.target === '$T' && j.accuracy_after_finetune > j.accuracy_after &&
            (j.finetune.temperature === null) === ('$T' === 'labels')"; then
        pass "distill/labelled-$T"
        node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
            console.log(`    ${j.finetune.target}: val accuracy ${j.accuracy_before.toFixed(4)} -> folded ${j.accuracy_after.toFixed(4)} -> fine-tuned ${j.accuracy_after_finetune.toFixed(4)}`)' "$TMP/g.json"
    else fail "distill/labelled-$T" "$(head -c 300 "$TMP/err") $(cat "$TMP/jerr" 2>/dev/null)"; fi
done
# learning-rate backoff: a fine-tuning run at the default rate that no epoch
# of beats the folded model on --val is repeated once at a tenth of the
# rate; a rate given with --lr is used as given. One label for every row
# (training towards it can only lose validation accuracy) makes the first
# run fail for sure.
awk -F, 'NR == 1 { print; next } NR == 2 { c = $NF } { sub(/[^,]*$/, c); print }' "$TMP/a.csv" >"$TMP/r.csv"
if "$LINCOMP" compress "$M" --data "$TMP/a.csv" --val "$TMP/b.csv" --threshold 0.6 --finetune 10 \
        --train "$TMP/r.csv" --finetune-target labels -o "$TMP/r1.onnx" --json >"$TMP/r1.json" 2>"$TMP/err" &&
    json "$TMP/r1.json" "j.finetune.runs === 2 && j.finetune.lr === 1e-4" &&
    "$LINCOMP" compress "$M" --data "$TMP/a.csv" --val "$TMP/b.csv" --threshold 0.6 --finetune 10 \
        --train "$TMP/r.csv" --finetune-target labels --lr 1e-3 -o "$TMP/r2.onnx" --json >"$TMP/r2.json" 2>"$TMP/err" &&
    json "$TMP/r2.json" "j.finetune.runs === 1 && j.finetune.lr === 1e-3 && !j.finetune.kept"; then
    pass distill/lr-backoff
else fail distill/lr-backoff "$(head -c 300 "$TMP/err") $(cat "$TMP/jerr" 2>/dev/null)"; fi
check distill/options "$LINCOMP" compress "$M" --data "$U" --threshold 0.6 --finetune 1 --temperature 4 \
    --distill-alpha 0.5 --anneal 0.25 -o "$TMP/h.onnx" --report "$TMP/h.json"
json "$TMP/h.json" "j.finetune.temperature === 4 && j.finetune.alpha === 0.5 && j.finetune.anneal === 0.25" &&
    json "$TMP/f1.json" "j.finetune.anneal === 0.5" &&
    pass distill/options-reported || fail distill/options-reported "$(cat "$TMP/jerr")"

# prune distils from the model it is given on request: unlabelled data then
# suffice; its default stays the labels
if "$LINCOMP" prune "$M" --train "$U" --target-size 0.5 --epochs 6 --quantile 0.2 --finetune-target distill \
        -o "$TMP/p.onnx" --json >"$TMP/p.json" 2>"$TMP/err" &&
    json "$TMP/p.json" "j.training.target === 'distill' && j.training.temperature > 0 && j.target_reached &&
        j.per_epoch[j.per_epoch.length - 1].train_acc > 0.8"; then
    pass distill/prune-unlabelled
else fail distill/prune-unlabelled "$(head -c 300 "$TMP/err") $(cat "$TMP/jerr" 2>/dev/null)"; fi
expect_error distill/err-prune-unlabelled 1 "no labels" "$TMP/p2.onnx" "$LINCOMP" prune "$M" --train "$U" \
    --target-size 0.5 -o "$TMP/p2.onnx"

# bad input: one line, exit 2 for usage and 1 otherwise, no output file
O="$TMP/bad.onnx"
C="$LINCOMP compress $M --data $U --threshold 0.6 -o $O"
expect_error distill/err-labels-unlabelled 1 "no labels" "$O" $C --finetune 1 --finetune-target labels
expect_error distill/err-labels-unlabelled-train 1 "label" "$O" $C --finetune 1 --finetune-target labels --train "$U"
expect_error distill/err-target 2 "finetune-target" "$O" $C --finetune 1 --finetune-target soft
expect_error distill/err-temperature 2 "temperature" "$O" $C --finetune 1 --temperature 0
expect_error distill/err-alpha 2 "distill-alpha" "$O" $C --finetune 1 --distill-alpha 1.5
expect_error distill/err-temperature-labels 2 "need --finetune-target distill" "$O" $C --finetune 1 \
    --finetune-target labels --temperature 3
expect_error distill/err-no-finetune 2 "need --finetune" "$O" $C --temperature 3
expect_error distill/err-teacher-labels 2 "--teacher needs --finetune-target distill" "$O" $C --finetune 1 \
    --finetune-target labels --train "$TMP/a.csv" --teacher "$M"
expect_error distill/err-teacher-no-finetune 2 "need --finetune" "$O" $C --teacher "$M"
expect_error distill/err-teacher-shape 1 "teacher maps 8 features" "$O" $C --finetune 1 \
    --teacher "$ROOT/tests/fixtures/mlp_gemm.onnx"
expect_error distill/err-teacher-missing 1 "nothere.onnx" "$O" $C --finetune 1 --teacher "$TMP/nothere.onnx"
expect_error distill/err-anneal 2 "--anneal wants" "$O" $C --finetune 1 --anneal 1.5
expect_error distill/err-anneal-no-finetune 2 "need --finetune" "$O" $C --anneal 0.5
expect_error distill/err-anneal-induce 2 "--anneal cannot be combined with --induce" "$O" "$LINCOMP" \
    compress "$M" --induce --target-size 0.5 --train "$TMP/a.csv" --val "$TMP/b.csv" --anneal 0.5 -o "$O"
