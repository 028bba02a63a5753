# compress_options.sh - one option table for `lincomp compress`: every mode
# (threshold, budget, proofs, --induce) takes the shared options; an option
# a mode cannot use is one line that says why (exit 2, no output file); a
# name that is no option at all is still "unknown option". On iris (fast).
. "$ROOT/tests/cli/lib.sh"
I="$DATA/iris.csv"
M="$ROOT/examples/iris.onnx"
O="$TMP/out.onnx"
SHARED="--val $I --report $TMP/r.json --json --label class --threads 1 --quiet"

# the command line of issue 12: --data first, as in every other mode
check compress-opts/induce-issue-line "$LINCOMP" compress "$M" --data "$I" --induce --target-size 0.25 \
    --train "$I" --val "$I" -o "$O" --min-steps 200 --epochs 2 --seed 1 --threads 1 --report "$TMP/ri.json"
[ -s "$O" ] && node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    const why = [], c = j.calibration;
    if (!c) why.push("no calibration object");
    else {
        if (c.samples !== 150) why.push("samples " + c.samples);
        if (c.params_before !== j.stages.finetuned.params) why.push("params_before");
        if (c.params_after !== j.params_after) why.push("params_after");
        if (!(c.params_after <= c.params_before)) why.push("grew");
        if (!(c.max_abs_diff < 1e-4)) why.push("not exact on --data: " + c.max_abs_diff);
    }
    if (!(j.params_after <= j.target_params)) why.push("over the budget");
    for (const l of j.layers) if (l.width_after > l.width_before - l.folded_linear - l.removed_constant)
        why.push("width_after of " + l.name);
    if (why.length) { console.error(why.join("; ")); process.exit(1); }' "$TMP/ri.json" 2>"$TMP/why" &&
    pass compress-opts/induce-calibration || fail compress-opts/induce-calibration "$(cat "$TMP/why")"
# the result is what eval measures: the file holds the calibration fold
"$LINCOMP" eval "$O" --data "$I" --json >"$TMP/e.json" 2>"$TMP/err" &&
    node -e 'const e = JSON.parse(require("fs").readFileSync(process.argv[1]));
    const r = JSON.parse(require("fs").readFileSync(process.argv[2]));
    if (!(e.params === r.params_after && Math.abs(e.accuracy - r.accuracy_after) < 1e-5)) process.exit(1);' \
        "$TMP/e.json" "$TMP/ri.json" && pass compress-opts/induce-eval ||
    fail compress-opts/induce-eval "$(cat "$TMP/e.json" "$TMP/err")"

# every mode takes the shared options
for mode in "threshold:--threshold 0.9" "budget:--target-size 0.5" "prove:--prove" \
    "finetune:--finetune 1 --train $I" \
    "induce:--induce --target-size 0.5 --train $I --min-steps 50 --epochs 1 --finetune-epochs 0"; do
    name=${mode%%:*}
    rm -f "$O" "$TMP/r.json"
    # shellcheck disable=SC2086
    if "$LINCOMP" compress "$M" --data "$I" ${mode#*:} $SHARED -o "$O" >"$TMP/j.json" 2>"$TMP/err" &&
        [ -s "$O" ] && [ ! -s "$TMP/err" ] && cmp -s "$TMP/j.json" "$TMP/r.json"; then
        pass "compress-opts/shared-$name"
    else
        fail "compress-opts/shared-$name" "$(head -c 300 "$TMP/err")"
    fi
done
rm -f "$O"

# each option a mode cannot use: one line that names both and says why
C="$LINCOMP compress $M --data $I -o $O"
IND="--induce --target-size 0.5 --train $I --val $I"
expect_error compress-opts/prove-induce 2 "^lincomp compress: --prove cannot be combined with --induce: ." "$O" $C $IND --prove
expect_error compress-opts/bounds-induce 2 "--bounds cannot be combined with --induce: ." "$O" $C $IND --bounds "$TMP/b.csv"
expect_error compress-opts/threshold-induce 2 "--threshold cannot be combined with --induce: ." "$O" $C $IND --threshold 0.9
expect_error compress-opts/layer-induce 2 "--layer-threshold cannot be combined with --induce: ." "$O" $C $IND --layer-threshold 2
expect_error compress-opts/drop-induce 2 "--max-drop cannot be combined with --induce: ." "$O" $C $IND --max-drop 1
expect_error compress-opts/finetune-induce 2 "--finetune cannot be combined with --induce: .*--finetune-epochs" "$O" $C $IND --finetune 2
expect_error compress-opts/optimizer-induce 2 "--optimizer cannot be combined with --induce: .*Adam" "$O" $C $IND --optimizer sgd
expect_error compress-opts/momentum-induce 2 "--momentum cannot be combined with --induce: ." "$O" $C $IND --momentum 0.5
expect_error compress-opts/prove-budget 2 "--prove cannot be combined with --target-size: ." "$O" $C --target-size 0.5 --prove
expect_error compress-opts/prove-drop 2 "--prove cannot be combined with --max-drop: ." "$O" $C --val "$I" --max-drop 1 --prove
expect_error compress-opts/threshold-budget 2 "--threshold cannot be combined with --target-size: ." "$O" $C --target-size 0.5 --threshold 0.9
for o in "test $I" "epochs 2" "min-steps 10" "finetune-epochs 1" "gate-lr 0.1" "lambda0 0.1" "lambda-factor 2"; do
    expect_error "compress-opts/${o%% *}-needs-induce" 2 "--${o%% *} needs --induce: ." "$O" $C --${o%% *} ${o#* }
done
# not an option of any mode: still "unknown option"
expect_error compress-opts/unknown 2 "unknown option '--bogus'" "$O" $C --bogus
expect_error compress-opts/unknown-induce 2 "unknown option '--bogus'" "$O" $C $IND --bogus
# with --induce, --data is optional (the calibration fold is extra) but
# --train and --val are needed
expect_error compress-opts/induce-no-train 2 "--train is required with --induce" "$O" $C --induce --target-size 0.5 --val "$I"

# the usage lists every mode's options with the defaults the parser starts from
"$LINCOMP" compress --help >"$TMP/h" 2>&1
ok=1
for o in --data --val --train --report --json --label --labels --threads --quiet --threshold \
    --layer-threshold --target-size --max-drop --prove --finetune --optimizer --lr --batch \
    --momentum --seed --induce --test --epochs --min-steps --finetune-epochs --gate-lr \
    --lambda0 --lambda-factor; do
    grep -q -- "$o\b" "$TMP/h" || { ok=0; fail compress-opts/help "$o not in --help"; }
done
grep -q "default 1.0: exact" "$TMP/h" && grep -q "(default 32)" "$TMP/h" && grep -q "default 2000" "$TMP/h" &&
    grep -q "default 0.9)" "$TMP/h" || { ok=0; fail compress-opts/help "defaults missing"; }
[ $ok = 1 ] && pass compress-opts/help
