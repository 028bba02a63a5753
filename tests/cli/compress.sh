# compress.sh - analyze / compress / sweep end to end on the PyTorch fixtures:
# exactness at tau = 1 in lincomp and in ONNX Runtime, the size the cost
# model promises, the sweep's table and figure, and the bad-input catalogue.
. "${ROOT:-$PWD}/tests/cli/lib.sh"
TOL="--rtol 1e-5 --atol 1e-5"

tab=$(printf '\t')
seen=" "
while IFS="$tab" read -r model input expected inw outw notes <&3; do
    [ "$model" = model ] && continue
    case "$input" in *.npy) ;; *) continue ;; esac
    base=${model%.onnx}
    case "$seen" in *" $base "*) continue ;; esac
    seen="$seen$base "
    m="$FIX/$model" x="$FIX/$input" c="$TMP/c_$base.onnx"
    if ! "$LINCOMP" compress "$m" --data "$x" -o "$c" --report "$TMP/r.json" >"$TMP/out" 2>"$TMP/err"; then
        fail "compress/exact/$base" "exit $? ($(head -c 300 "$TMP/err"))"
        continue
    fi
    "$LINCOMP" predict "$m" --data "$x" -o "$TMP/orig.csv" 2>/dev/null
    "$LINCOMP" predict "$c" --data "$x" -o "$TMP/comp.csv" 2>/dev/null
    if r=$($CMP "$TMP/comp.csv" "$TMP/orig.csv" $TOL 2>&1); then pass "compress/exact/$base"
    else fail "compress/exact/$base" "$r"; fi
    if $ORT "$c" "$x" "$TMP/ort.csv" 2>"$TMP/err" && r=$($CMP "$TMP/ort.csv" "$TMP/orig.csv" $TOL 2>&1); then
        pass "compress/exact-ort/$base"
    else fail "compress/exact-ort/$base" "$r $(head -c 200 "$TMP/err")"; fi
    # the report's keys and its own verification agree with the files
    if node -e '
        const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
        const keys = ["params_before", "params_after", "size_ratio", "flops_before", "flops_after",
          "threshold", "calibration_samples", "calibration_max_abs_diff", "accuracy_before",
          "accuracy_after", "layers"];
        for (const k of keys) if (!(k in j)) throw new Error("missing " + k);
        // a model whose graph repeats weights (residual sums) can grow past
        // the count of the file at tau 1: then the report says so
        if (j.params_after > j.params_before &&
            !j.warnings.some((w) => w.includes("the model file holds"))) throw new Error("grew");
        if (Math.abs(j.size_ratio - j.params_after / j.params_before) > 1e-12) throw new Error("ratio");
        if (j.calibration_samples !== 64 || j.threshold !== 1) throw new Error("calibration");
        for (const l of j.layers) for (const k of ["name", "width_before", "width_after", "folded_linear", "removed_constant"])
            if (!(k in l)) throw new Error("layer key " + k);
    ' "$TMP/r.json" 2>"$TMP/err"; then pass "compress/report/$base"
    else fail "compress/report/$base" "$(head -c 200 "$TMP/err")"; fi
    # the written model keeps the file's interface: input and output names,
    # and the input's shape per sample ([N, 1, 8, 8] stays 4-D)
    if node -e '
        const ort = require(process.argv[1]);
        (async () => {
            const io = async (f) => { const s = await ort.InferenceSession.create(f);
                const m = (x) => x.map((v) => [v.name, JSON.stringify(v.shape.slice(1))]);
                return JSON.stringify([m(s.inputMetadata), m(s.outputMetadata)]); };
            const a = await io(process.argv[2]), b = await io(process.argv[3]);
            if (a !== b) { console.error(a + " became " + b); process.exit(1); }
        })().catch((e) => { console.error(String(e)); process.exit(1); });
    ' "$ROOT/tests/tools/node_modules/onnxruntime-node" "$m" "$c" 2>"$TMP/err"; then pass "compress/interface/$base"
    else fail "compress/interface/$base" "$(head -c 300 "$TMP/err")"; fi
done 3<"$FIX/MANIFEST.tsv"

# an output name of the exporter's own (and an input name with a space) is
# kept too, and the written model computes the same in ONNX Runtime
/usr/bin/python3 - "$FIX/mlp_gemm.onnx" "$TMP/names.onnx" <<'PY' 2>/dev/null
import sys, onnx
m = onnx.load(sys.argv[1])
g = m.graph
for n in g.node:
    n.input[:] = ["x in" if v == "input" else v for v in n.input]
    n.output[:] = ["logits/out:0" if v == "output" else v for v in n.output]
g.input[0].name, g.output[0].name = "x in", "logits/out:0"
onnx.save(m, sys.argv[2])
PY
if "$LINCOMP" compress "$TMP/names.onnx" --data "$FIX/mlp_gemm_in.npy" -o "$TMP/names_c.onnx" >/dev/null 2>"$TMP/err" &&
    $ORT "$TMP/names_c.onnx" "$FIX/mlp_gemm_in.npy" "$TMP/names_c.csv" 2>>"$TMP/err" &&
    $ORT "$TMP/names.onnx" "$FIX/mlp_gemm_in.npy" "$TMP/names.csv" 2>>"$TMP/err" &&
    r=$($CMP "$TMP/names_c.csv" "$TMP/names.csv" $TOL 2>&1) &&
    node -e '
        const ort = require(process.argv[1]);
        ort.InferenceSession.create(process.argv[2]).then((s) => {
            if (s.inputNames[0] !== "x in" || s.outputNames[0] !== "logits/out:0") {
                console.error(s.inputNames + " / " + s.outputNames); process.exit(1); } });
    ' "$ROOT/tests/tools/node_modules/onnxruntime-node" "$TMP/names_c.onnx" 2>>"$TMP/err"; then
    pass compress/interface-names
else fail compress/interface-names "$r $(head -c 300 "$TMP/err")"; fi

# a model with many always-active neurons shrinks as the cost model says
"$LINCOMP" compress "$FIX/mlp_linear_stack.onnx" --data "$FIX/mlp_linear_stack_in.npy" -o "$TMP/ls.onnx" --json >"$TMP/ls.json" 2>"$TMP/ls.err"
"$LINCOMP" analyze "$FIX/mlp_linear_stack.onnx" --data "$FIX/mlp_linear_stack_in.npy" --json >"$TMP/an.json" 2>&1
if node -e '
    const fs = require("fs");
    const c = JSON.parse(fs.readFileSync(process.argv[1])), a = JSON.parse(fs.readFileSync(process.argv[2]));
    if (!(c.size_ratio < 0.2)) throw new Error("size_ratio " + c.size_ratio);
    if (a.compressed_params["1"] !== c.params_after) throw new Error("analyze says " + a.compressed_params["1"]);
    const folded = c.layers.reduce((s, l) => s + l.folded_linear + l.removed_constant, 0);
    const always = a.layers.reduce((s, l) => s + l.always_active + l.never_active, 0);
    if (folded !== always) throw new Error("folded " + folded + " vs always/never " + always);
    for (const l of a.layers) if (l.rates.length !== l.width || l.provably_linear !== null) throw new Error("rates");
' "$TMP/ls.json" "$TMP/an.json" 2>"$TMP/err"; then pass compress/linear-stack-shrinks
else fail compress/linear-stack-shrinks "$(head -c 300 "$TMP/err")"; fi

# sweep: 20 thresholds, sizes never grow as tau falls, CSV and SVG written
D="$DATA/iris.csv"
if "$LINCOMP" sweep "$ROOT/examples/iris.onnx" --data "$D" --test "$D" --csv "$TMP/s.csv" --svg "$TMP/s.svg" >"$TMP/out" 2>"$TMP/err" &&
    [ "$(wc -l <"$TMP/s.csv")" -eq 21 ] &&
    awk -F, 'NR > 2 && $2 > prev { bad = 1 } NR > 1 { prev = $2 } END { exit bad }' "$TMP/s.csv" &&
    grep -q "<svg" "$TMP/s.svg" && grep -q "accuracy against size" "$TMP/s.svg"; then pass compress/sweep
else fail compress/sweep "$(head -c 300 "$TMP/err") $(head -3 "$TMP/s.csv" 2>/dev/null)"; fi
"$LINCOMP" sweep "$ROOT/examples/iris.onnx" --data "$D" --test "$D" --thresholds 1,0.5 --json >"$TMP/sj.json" 2>&1 &&
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
      if (j.sweep.length !== 2 || j.sweep[0].threshold !== 1 || !(j.sweep[0].test_acc > 0.9)) process.exit(1);' "$TMP/sj.json" &&
    pass compress/sweep-json || fail compress/sweep-json "$(head -c 300 "$TMP/sj.json")"

# bad input: one line, non-zero exit, no output file
M="$FIX/mlp_gemm.onnx" X="$FIX/mlp_gemm_in.npy" O="$TMP/bad.onnx"
expect_error compress/err-threshold-high 2 "threshold" "$O" "$LINCOMP" compress "$M" --data "$X" -o "$O" --threshold 1.5
expect_error compress/err-threshold-text 2 "threshold" "$O" "$LINCOMP" compress "$M" --data "$X" -o "$O" --threshold abc
expect_error compress/err-layer-threshold 2 "layer" "$O" "$LINCOMP" compress "$M" --data "$X" -o "$O" --layer-threshold half
expect_error compress/err-width 1 "features" "$O" "$LINCOMP" compress "$M" --data "$DATA/iris.csv" -o "$O"
expect_error compress/err-no-output 2 "-o" - "$LINCOMP" compress "$M" --data "$X"
expect_error compress/err-out-dir 1 "nodir" - "$LINCOMP" compress "$M" --data "$X" -o "$TMP/nodir/c.onnx"
expect_error analyze/err-width 1 "features" - "$LINCOMP" analyze "$M" --data "$DATA/iris.csv"
expect_error sweep/err-test-unlabelled 1 "label" "$TMP/s2.csv" "$LINCOMP" sweep "$M" --data "$X" --test "$X" --csv "$TMP/s2.csv"
expect_error sweep/err-thresholds 2 "thresholds" - "$LINCOMP" sweep "$M" --data "$X" --test "$X" --thresholds 1,2
# NaN weights: compress refuses, naming the node
/usr/bin/python3 - "$M" "$TMP/nan.onnx" <<'PY' 2>/dev/null
import sys, onnx, numpy as np
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
t = m.graph.initializer[0]
a = numpy_helper.to_array(t).copy(); a.flat[0] = np.nan
t.CopyFrom(numpy_helper.from_array(a, t.name))
onnx.save(m, sys.argv[2])
PY
[ -f "$TMP/nan.onnx" ] && expect_error compress/err-nan-weights 1 "nan" "$O" "$LINCOMP" compress "$TMP/nan.onnx" --data "$X" -o "$O"

# the sweep's fast evaluation (only samples a fold changes) equals running
# every compressed model on every sample (--exact-eval, the reference path)
for m in "$ROOT/examples/iris.onnx"; do
    "$LINCOMP" sweep "$m" --data "$D" --test "$D" --thresholds 1,0.9,0.8,0.7,0.6,0.5,0.4,0.3 --csv "$TMP/fast.csv" >/dev/null 2>&1
    "$LINCOMP" sweep "$m" --data "$D" --test "$D" --thresholds 1,0.9,0.8,0.7,0.6,0.5,0.4,0.3 --csv "$TMP/full.csv" --exact-eval >/dev/null 2>&1
    if [ -s "$TMP/fast.csv" ] && cmp -s "$TMP/fast.csv" "$TMP/full.csv"; then pass compress/sweep-fast-equals-exact
    else fail compress/sweep-fast-equals-exact "$(diff "$TMP/fast.csv" "$TMP/full.csv" | head -5 | tr '\n' ' ')"; fi
done

# few calibration rows: a warning on stderr and in the report (not with
# --quiet); 300 rows on the same 16-wide model: none
M="$FIX/mlp_gemm.onnx" X="$FIX/mlp_gemm_in.npy"
/usr/bin/python3 -c "
import numpy as np, sys
x = np.load(sys.argv[1]); np.save(sys.argv[2], np.tile(x, (5, 1)) * np.float32(1.01) ** np.arange(5 * len(x), dtype=np.float32)[:, None])
" "$X" "$TMP/rows320.npy"
"$LINCOMP" compress "$M" --data "$X" --threshold 0.7 -o "$TMP/few.onnx" --report "$TMP/few.json" >/dev/null 2>"$TMP/few.err"
"$LINCOMP" compress "$M" --data "$X" --threshold 0.7 --quiet -o "$TMP/fewq.onnx" >/dev/null 2>"$TMP/fewq.err"
"$LINCOMP" compress "$M" --data "$TMP/rows320.npy" --threshold 0.7 -o "$TMP/many.onnx" --report "$TMP/many.json" >/dev/null 2>"$TMP/many.err"
if grep -q "^lincomp compress: warning: only 64 calibration samples, fewer than 100" "$TMP/few.err" &&
    [ ! -s "$TMP/fewq.err" ] && ! grep -q warning "$TMP/many.err" &&
    node -e '
        const fs = require("fs"), [a, b] = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f)));
        if (a.warnings.length !== 1 || !/only 64 calibration samples/.test(a.warnings[0])) throw new Error("few: " + a.warnings);
        if (b.warnings.length !== 0 || b.calibration_samples !== 320) throw new Error("many: " + b.warnings);
        if (a.params_after >= a.params_before) throw new Error("nothing folded");
    ' "$TMP/few.json" "$TMP/many.json" 2>"$TMP/err"; then
    pass compress/warn-few-calibration-rows
else
    fail compress/warn-few-calibration-rows "$(head -c 300 "$TMP/few.err") $(head -c 200 "$TMP/err")"
fi

# a hidden layer that is never active folds to constants and leaves the layer
# feeding it unused: the written file has no node for it, and the report, the
# file and `info` count the same parameters (the output is then a constant,
# one Gemm from the input: 3 x 8 + 3)
/usr/bin/python3 - "$M" "$TMP/dead2.onnx" <<'PY' 2>/dev/null
import sys, onnx, numpy as np
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
for t in m.graph.initializer:
    if t.name == "2.bias":
        t.CopyFrom(numpy_helper.from_array(np.full(numpy_helper.to_array(t).shape, -1e4, np.float32), t.name))
onnx.save(m, sys.argv[2])
PY
if [ -f "$TMP/dead2.onnx" ]; then
    "$LINCOMP" compress "$TMP/dead2.onnx" --data "$X" --threshold 1 -o "$TMP/dead2_c.onnx" \
        --report "$TMP/dead2.json" >/dev/null 2>"$TMP/err"
    info=$("$LINCOMP" info "$TMP/dead2_c.onnx" 2>&1 | tail -n 1)
    "$LINCOMP" predict "$TMP/dead2.onnx" --data "$X" -o "$TMP/orig.csv" 2>/dev/null
    "$LINCOMP" predict "$TMP/dead2_c.onnx" --data "$X" -o "$TMP/comp.csv" 2>/dev/null
    if ! node -e '
        const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
        if (j.params_after !== 27) throw new Error("report params_after " + j.params_after);
        const w = j.layers.map(l => l.width_after).join(",");
        if (w !== "0,0") throw new Error("widths after " + w);
        const u = j.layers.map(l => l.removed_unused + "/" + l.removed_constant).join(",");
        if (u !== "16/0,0/16") throw new Error("unused/constant " + u);
    ' "$TMP/dead2.json" 2>"$TMP/err"; then fail compress/dead-layer-drops-unused "$(grep -m 1 "^Error" "$TMP/err")"
    elif [ "$info" != "  2 nodes (0 hidden), 1 edges, 27 parameters, 48 FLOPs per sample" ]; then
        fail compress/dead-layer-drops-unused "info: $info"
    elif [ "$(grep -c . "$TMP/orig.csv")" -lt 2 ] || ! r=$($CMP "$TMP/comp.csv" "$TMP/orig.csv" $TOL 2>&1); then
        fail compress/dead-layer-drops-unused "outputs: $r"
    else pass compress/dead-layer-drops-unused; fi
fi

# two always-active neurons of a 30-4-3 model folded on their own
# (--layer-threshold 0) add a skip edge input -> output (3 x 30) for the
# 2 x (30 + 1 + 3) parameters they remove: the model grows, and the report
# says so; the default (auto) does not fold them
/usr/bin/python3 - "$TMP/grow.onnx" "$TMP/grow_x.npy" <<'PY' 2>/dev/null
import sys, onnx, numpy as np
from onnx import helper, numpy_helper, TensorProto
rng = np.random.default_rng(5)
w1 = rng.normal(size=(30, 4)).astype(np.float32)
b1 = np.array([1e4, 1e4, 0, 0], np.float32)
w2 = rng.normal(size=(4, 3)).astype(np.float32)
b2 = np.zeros(3, np.float32)
init = [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))]
nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["z"]), helper.make_node("Relu", ["z"], ["h"]),
         helper.make_node("Gemm", ["h", "w2", "b2"], ["y"])]
g = helper.make_graph(nodes, "grow", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 30])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])], init)
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
np.save(sys.argv[2], rng.normal(size=(200, 30)).astype(np.float32))
PY
"$LINCOMP" compress "$TMP/grow.onnx" --data "$TMP/grow_x.npy" --threshold 1 --layer-threshold 0 \
    -o "$TMP/grow_c.onnx" --report "$TMP/grow.json" >/dev/null 2>"$TMP/err"
"$LINCOMP" compress "$TMP/grow.onnx" --data "$TMP/grow_x.npy" --threshold 1 -o "$TMP/grow_a.onnx" \
    --report "$TMP/grow_a.json" >/dev/null 2>>"$TMP/err"
if json "$TMP/grow.json" "j.params_before === 139 && j.params_after === 139 + 3 * 30 - 2 * (30 + 1 + 3) &&
        j.warnings.some((w) => w.startsWith('the compressed model is larger than the original'))" &&
    json "$TMP/grow_a.json" "j.params_after === 139 && j.warnings.length === 0"; then
    pass compress/warn-model-grew
else fail compress/warn-model-grew "$(cat "$TMP/jerr") $(head -c 300 "$TMP/err")"; fi
