#!/bin/sh
# reconstruct.sh - least-squares reconstruction in `compress` end to end: on
# by default for lossy folds and better than the paper's fold
# (--no-reconstruct) on the calibration data, a no-op at tau = 1, off with
# --prove, budgets that score reconstructed candidates, and ONNX Runtime
# agreeing with lincomp on every reconstructed model.
. "${ROOT:-$PWD}/tests/cli/lib.sh"

# ge A B: A >= B (floats)
ge() { node -e 'process.exit(+process.argv[1] >= +process.argv[2] ? 0 : 1)' "$1" "$2"; }

# ort NAME MODEL DATA: ONNX Runtime gives lincomp's outputs on DATA
ort() {
    "$LINCOMP" predict "$2" --data "$3" -o "$TMP/lc.csv" 2>"$TMP/err" &&
        cut -d, -f1-$(($(head -1 "$3" | tr ',' '\n' | wc -l) - 1)) "$3" >"$TMP/x.csv" &&
        $ORT "$2" "$TMP/x.csv" "$TMP/ort.csv" 2>>"$TMP/err" &&
        r=$($CMP "$TMP/ort.csv" "$TMP/lc.csv" --rtol 1e-5 --atol 1e-5 2>&1)
    if [ $? -eq 0 ]; then pass "$1"; else fail "$1" "$r $(head -c 200 "$TMP/err")"; fi
}

ds=vowel
halves "$DATA/$ds.csv" "$TMP/a.csv" "$TMP/b.csv"
M="$TMP/m.onnx" A="$TMP/a.csv" B="$TMP/b.csv"
check reconstruct/train "$LINCOMP" train --train "$A" --val "$B" --epochs 20 --hidden 64,64,64 \
    --seed 1 --threads 1 --quiet -o "$M"

# lossy threshold: refit by default, better than the paper's fold on the
# calibration data, and ONNX Runtime agrees with the written model
for T in 0.8 0.6; do
    if "$LINCOMP" compress "$M" --data "$A" --threshold $T -o "$TMP/r.onnx" --json \
            >"$TMP/r.json" 2>"$TMP/err" &&
        "$LINCOMP" compress "$M" --data "$A" --threshold $T --no-reconstruct -o "$TMP/p.onnx" \
            --json >"$TMP/p.json" 2>>"$TMP/err"; then
        if json "$TMP/r.json" "j.reconstruct && j.reconstruct.nodes_refit >= 1" &&
            json "$TMP/p.json" "j.reconstruct === null"; then pass "reconstruct/report-$T"
        else fail "reconstruct/report-$T" "$(cat "$TMP/jerr")"; fi
        ar=$(model_acc "$TMP/r.onnx" "$A") ap=$(model_acc "$TMP/p.onnx" "$A")
        if ge "$ar" "$ap"; then pass "reconstruct/not-worse-$T"
        else fail "reconstruct/not-worse-$T" "calibration accuracy $ar with, $ap without"; fi
        ort "reconstruct/ort-$T" "$TMP/r.onnx" "$B"
    else
        fail "reconstruct/compress-$T" "$(head -c 300 "$TMP/err")"
    fi
done

# tau = 1 (exact on the data): nothing refit, the same model as the paper's fold
if "$LINCOMP" compress "$M" --data "$A" -o "$TMP/e.onnx" --json >"$TMP/e.json" 2>"$TMP/err" &&
    "$LINCOMP" compress "$M" --data "$A" --no-reconstruct -o "$TMP/e0.onnx" 2>>"$TMP/err" >/dev/null &&
    "$LINCOMP" predict "$TMP/e.onnx" --data "$B" -o "$TMP/e.csv" 2>>"$TMP/err" &&
    "$LINCOMP" predict "$TMP/e0.onnx" --data "$B" -o "$TMP/e0.csv" 2>>"$TMP/err" &&
    json "$TMP/e.json" "j.reconstruct.nodes_refit === 0" &&
    r=$($CMP "$TMP/e.csv" "$TMP/e0.csv" --rtol 1e-5 --atol 0 2>&1); then pass reconstruct/exact-noop
else fail reconstruct/exact-noop "$r $(head -c 200 "$TMP/err") $(cat "$TMP/jerr" 2>/dev/null)"; fi

# --prove: never reconstructed
if "$LINCOMP" compress "$M" --data "$A" --prove -o "$TMP/pr.onnx" --json >"$TMP/pr.json" 2>"$TMP/err" &&
    json "$TMP/pr.json" "j.reconstruct === null"; then pass reconstruct/prove-off
else fail reconstruct/prove-off "$(head -c 200 "$TMP/err") $(cat "$TMP/jerr" 2>/dev/null)"; fi

# a size budget scores reconstructed candidates: the size is met, the score
# it reports is the written model's accuracy on --val (alone: --search-rows
# 0), and it beats the paper's fold searched the same way
R=0.25
if "$LINCOMP" compress "$M" --data "$A" --val "$B" --target-size $R --search-rows 0 \
        -o "$TMP/t.onnx" --json >"$TMP/t.json" 2>"$TMP/err" &&
    "$LINCOMP" compress "$M" --data "$A" --val "$B" --target-size $R --no-reconstruct \
        --search-rows 0 -o "$TMP/t0.onnx" --json >"$TMP/t0.json" 2>>"$TMP/err"; then
    at=$(model_acc "$TMP/t.onnx" "$B") a0=$(model_acc "$TMP/t0.onnx" "$B")
    if json "$TMP/t.json" "j.params_after <= $R * j.params_before && j.reconstruct.nodes_refit >= 1 &&
            Math.abs(j.budget.score_after - $at) < 1e-5"; then pass reconstruct/budget-size
    else fail reconstruct/budget-size "accuracy $at; $(cat "$TMP/jerr")"; fi
    if ge "$at" "$a0"; then pass reconstruct/budget-better
    else fail reconstruct/budget-better "val accuracy $at with, $a0 without reconstruction"; fi
    ort reconstruct/budget-ort "$TMP/t.onnx" "$B"
else
    fail reconstruct/budget-size "$(head -c 300 "$TMP/err")"
fi

# --max-drop certifies on --val the reconstructed model it writes: the
# certificate's disagreements are those of the written file with the original
if "$LINCOMP" compress "$M" --data "$A" --val "$B" --max-drop 5 -o "$TMP/d.onnx" --json \
        >"$TMP/d.json" 2>"$TMP/err" &&
    "$LINCOMP" predict "$M" --data "$B" -o "$TMP/o.csv" 2>>"$TMP/err" &&
    "$LINCOMP" predict "$TMP/d.onnx" --data "$B" -o "$TMP/d.csv" 2>>"$TMP/err"; then
    k=$(node -e 'const fs = require("fs");
        const rows = f => fs.readFileSync(f, "utf8").trim().split("\n").slice(1)
            .map(l => { const v = l.split(",").map(Number); return v.indexOf(Math.max(...v)); });
        const a = rows(process.argv[1]), b = rows(process.argv[2]);
        console.log(a.filter((c, i) => c !== b[i]).length)' "$TMP/o.csv" "$TMP/d.csv")
    if json "$TMP/d.json" "j.reconstruct !== null && j.params_after < j.params_before &&
            j.budget.certificate.bound <= 0.05 && j.budget.certificate.disagreements === $k"
    then pass reconstruct/budget-drop
    else fail reconstruct/budget-drop "$k disagreements in the file; $(cat "$TMP/jerr")"; fi
else
    fail reconstruct/budget-drop "$(head -c 300 "$TMP/err")"
fi
