#!/bin/sh
# joint.sh - `compress --target-size R --joint` end to end: one plan that
# prunes (by activation rate) and folds, chosen by the budget search. The
# size is met, the report counts what happened to every node's neurons, the
# result is the search's without --joint unless the joint plan wins (by the
# one-standard-error rule of the final choice), ONNX Runtime agrees
# with lincomp on the written (reconstructed) model, and the modes that
# cannot use --joint say why.
. "${ROOT:-$PWD}/tests/cli/lib.sh"


ds=vowel
halves "$DATA/$ds.csv" "$TMP/a.csv" "$TMP/b.csv"
M="$TMP/m.onnx" A="$TMP/a.csv" B="$TMP/b.csv"
check joint/train "$LINCOMP" train --train "$A" --val "$B" --epochs 20 --hidden 64,64,64 \
    --seed 1 --threads 1 --quiet -o "$M"

pruned_any=0
for R in 0.25 0.1; do
    # --search-rows 0: scored on --val alone, so that the score is the
    # written model's accuracy there
    if "$LINCOMP" compress "$M" --data "$A" --val "$B" --target-size $R --joint --search-rows 0 \
            -o "$TMP/j.onnx" --json >"$TMP/j.json" 2>"$TMP/err" &&
        "$LINCOMP" compress "$M" --data "$A" --val "$B" --target-size $R --search-rows 0 \
            -o "$TMP/n.onnx" --json >"$TMP/n.json" 2>>"$TMP/err"; then
        aj=$(model_acc "$TMP/j.onnx" "$B") an=$(model_acc "$TMP/n.onnx" "$B")
        # within the budget; the score is the written model's accuracy on
        # --val; every node's removed neurons are linear + constant + pruned
        if json "$TMP/j.json" "j.params_after <= $R * j.params_before &&
                Math.abs(j.budget.score_after - $aj) < 1e-5 && j.budget.joint.met &&
                ['paper', 'per-node', 'joint'].includes(j.method) &&
                (j.method === 'joint' || j.budget.pruned === 0) &&
                j.layers.every(l => l.pruned >= 0 &&
                    l.folded_linear + l.removed_constant + l.pruned + l.removed_unused === l.width_before - l.width_after) &&
                j.budget.pruned === j.layers.reduce((s, l) => s + l.pruned, 0)"; then
            pass "joint/report-$R"
        else fail "joint/report-$R" "$(cat "$TMP/jerr")"; fi
        json "$TMP/j.json" "j.budget.pruned > 0" && pruned_any=1
        # the same search plus one candidate: unless the joint plan is
        # chosen, the model is the one written without --joint
        pn=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).params_after)' "$TMP/n.json")
        if json "$TMP/j.json" "j.method === 'joint' || (j.params_after === $pn && $aj === $an)"
        then pass "joint/same-unless-chosen-$R"
        else fail "joint/same-unless-chosen-$R" "val accuracy $aj with --joint, $an without; $(cat "$TMP/jerr")"; fi
        if json "$TMP/n.json" "j.budget.joint === undefined && j.layers.every(l => l.pruned === undefined)"
        then pass "joint/off-by-default-$R"; else fail "joint/off-by-default-$R" "$(cat "$TMP/jerr")"; fi
        # ONNX Runtime computes what lincomp computes
        if "$LINCOMP" predict "$TMP/j.onnx" --data "$B" -o "$TMP/lc.csv" 2>"$TMP/err" &&
            cut -d, -f1-$(($(head -1 "$B" | tr ',' '\n' | wc -l) - 1)) "$B" >"$TMP/x.csv" &&
            $ORT "$TMP/j.onnx" "$TMP/x.csv" "$TMP/ort.csv" 2>>"$TMP/err" &&
            r=$($CMP "$TMP/ort.csv" "$TMP/lc.csv" --rtol 1e-5 --atol 1e-5 2>&1); then
            pass "joint/ort-$R"
        else fail "joint/ort-$R" "$r $(head -c 200 "$TMP/err")"; fi
    else
        fail "joint/compress-$R" "$(head -c 300 "$TMP/err")"
    fi
done
# on this model some budget takes pruned neurons (else the test shows nothing)
if [ $pruned_any = 1 ]; then pass joint/prunes; else fail joint/prunes "no plan pruned a neuron"; fi

# without reconstruction the joint plan is the paper's plain removal: it
# still meets the size and the report still counts
if "$LINCOMP" compress "$M" --data "$A" --val "$B" --target-size 0.25 --joint --no-reconstruct \
        -o "$TMP/p.onnx" --json >"$TMP/p.json" 2>"$TMP/err" &&
    json "$TMP/p.json" "j.params_after <= 0.25 * j.params_before && j.reconstruct === null &&
        j.budget.joint.params_after > 0"; then pass joint/no-reconstruct
else fail joint/no-reconstruct "$(head -c 200 "$TMP/err") $(cat "$TMP/jerr" 2>/dev/null)"; fi

O="$TMP/bad.onnx"
C="$LINCOMP compress $M --data $A -o $O"
expect_error joint/err-threshold 2 "--joint cannot be combined with the threshold mode" "$O" $C --joint
expect_error joint/err-max-drop 2 "--joint cannot be combined with --max-drop" "$O" $C --joint \
    --max-drop 1 --val "$B"
expect_error joint/err-prove 2 "--joint cannot be combined with --prove" "$O" $C --joint --prove
