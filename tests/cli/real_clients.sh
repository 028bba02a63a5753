#!/bin/sh
# real_clients.sh - models written by torch.onnx.export (tests/fixtures, made
# by gen_fixtures.py; see MANIFEST.tsv) against PyTorch's own outputs, and
# lincomp's re-exported ONNX against ONNX Runtime.
#
# For every MANIFEST row (model, input, PyTorch output):
#   ort/...        ONNX Runtime on the original file gives PyTorch's outputs
#                  (guards the fixtures and the tools themselves)
#   predict/...    `lincomp predict` gives PyTorch's outputs
# Once per model:
#   roundtrip/...  `lincomp convert` re-exports it; ONNX Runtime on that file
#                  gives lincomp's outputs on the original
#   checker/...    the re-exported file passes onnx.checker (only when
#                  /usr/bin/python3 has the onnx package; silent otherwise)
# Tolerance everywhere: |a - b| <= 1e-6 + 1e-5 |b|.
. "${ROOT:-$PWD}/tests/cli/lib.sh"

TOL="--rtol 1e-5 --atol 1e-6"

# same NAME OUT REF: the two tables agree within TOL
same() {
    if r=$($CMP "$2" "$3" $TOL 2>&1); then pass "$1"
    else fail "$1" "$(printf '%s' "$r" | head -c 300 | tr '\n' ' ')"; fi
}

# run NAME CMD...: run, fail NAME with the first stderr line on error
run() {
    name=$1; shift
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 0 ] && return 0
    fail "$name" "exit $rc ($(head -c 300 "$TMP/err" | tr '\n' ' '))"
    return 1
}

checker=
if /usr/bin/python3 -c 'import onnx' >/dev/null 2>&1; then checker=yes; fi

tab=$(printf '\t')
seen=" "
# the loop reads the MANIFEST on fd 3, so commands cannot swallow it
while IFS="$tab" read -r model input expected inw outw notes <&3; do
    [ "$model" = model ] && continue            # the header row
    base=${model%.onnx}
    tag="$base.${input##*.}"                    # e.g. mlp_gemm.csv
    m="$FIX/$model"

    rm -f "$TMP/ort.csv" "$TMP/pred.csv"
    run "real_clients/ort/$tag" $ORT "$m" "$FIX/$input" "$TMP/ort.csv" &&
        same "real_clients/ort/$tag" "$TMP/ort.csv" "$FIX/$expected"

    run "real_clients/predict/$tag" "$LINCOMP" predict "$m" --data "$FIX/$input" -o "$TMP/pred.csv" &&
        same "real_clients/predict/$tag" "$TMP/pred.csv" "$FIX/$expected"

    case "$seen" in *" $base "*) continue ;; esac
    seen="$seen$base "
    rt="$TMP/rt_$base.onnx"
    if run "real_clients/roundtrip/$base" "$LINCOMP" convert "$m" -o "$rt"; then
        if [ ! -s "$TMP/pred.csv" ]; then
            fail "real_clients/roundtrip/$base" "no lincomp predict output to compare with"
        elif run "real_clients/roundtrip/$base" $ORT "$rt" "$FIX/$input" "$TMP/rt.csv"; then
            same "real_clients/roundtrip/$base" "$TMP/rt.csv" "$TMP/pred.csv"
        fi
    fi
done 3<"$FIX/MANIFEST.tsv"

# one interpreter for all re-exported files (each start costs a fraction of a second)
if [ -n "$checker" ] && ls "$TMP"/rt_*.onnx >/dev/null 2>&1; then
    /usr/bin/python3 - "$TMP"/rt_*.onnx <<'EOF' 2>&1
import os, sys
import onnx
for path in sys.argv[1:]:
    name = "real_clients/checker/" + os.path.basename(path)[3:-5]
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        print("PASS: " + name)
    except Exception as e:  # any failure to load or check is a FAIL line
        print("FAIL: %s: %s" % (name, " ".join(str(e).split())[:300]))
EOF
fi

# the parameters the file holds (its initializers' values) against lincomp's
# count: Concat's dense layer becomes one edge per source holding its own
# column block (the same count); a residual sum feeding a Linear becomes one
# edge per summand, each a copy of its weights (more), which file_params
# and budgets do not count
if [ -n "$checker" ]; then
    for m in catskip residual; do
        want=$(/usr/bin/python3 -c 'import sys, onnx, numpy as np
print(sum(int(np.prod(t.dims)) for t in onnx.load(sys.argv[1]).graph.initializer))' \
            "$FIX/mlp_$m.onnx" 2>/dev/null)
        "$LINCOMP" info "$FIX/mlp_$m.onnx" --json >"$TMP/info.json" 2>/dev/null
        if json "$TMP/info.json" "j.file_params === $want && ('$m' === 'catskip' ? j.params === $want : j.params > $want)"; then
            pass real_clients/file-params/$m
        else fail real_clients/file-params/$m "the file holds $want: $(cat "$TMP/jerr")"; fi
    done
    # over every fixture and two models built here (one layer applied twice;
    # a Concat holding a product without activation, which becomes a node
    # passing the other parts on through identity blocks): the weights
    # lincomp counts as the file's (file_params less biases and slopes) are
    # the values of the weight matrices the file's Gemm/MatMul nodes use,
    # each matrix once
    /usr/bin/python3 - "$LINCOMP" "$FIX" "$TMP" <<'PY' 2>&1
import json, os, subprocess, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
lc, fix, tmp = sys.argv[1:4]
rng = np.random.default_rng(3)
def model(path, nodes, inits, width_in, width_out):
    g = helper.make_graph(nodes, "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", width_in])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", width_out])],
                          [numpy_helper.from_array(rng.normal(size=s).astype(np.float32), n) for n, s in inits])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path
tied = model(os.path.join(tmp, "tied.onnx"),
             [helper.make_node("Gemm", ["x", "w1", "b1"], ["z1"], transB=1), helper.make_node("Relu", ["z1"], ["h1"]),
              helper.make_node("Gemm", ["h1", "w2", "b2"], ["z2"], transB=1), helper.make_node("Relu", ["z2"], ["h2"]),
              helper.make_node("Gemm", ["h2", "w2", "b2"], ["z3"], transB=1), helper.make_node("Relu", ["z3"], ["h3"]),
              helper.make_node("Gemm", ["h3", "w3", "b3"], ["y"], transB=1)],
             [("w1", (12, 6)), ("b1", (12,)), ("w2", (12, 12)), ("b2", (12,)), ("w3", (3, 12)), ("b3", (3,))], 6, 3)
catlin = model(os.path.join(tmp, "catlin.onnx"),
               [helper.make_node("Gemm", ["x", "wa", "ba"], ["za"], transB=1),
                helper.make_node("Gemm", ["x", "wb", "bb"], ["zb"], transB=1), helper.make_node("Relu", ["zb"], ["hb"]),
                helper.make_node("Concat", ["za", "hb", "x"], ["c"], axis=1),
                helper.make_node("Gemm", ["c", "wo", "bo"], ["y"], transB=1)],
               [("wa", (5, 6)), ("ba", (5,)), ("wb", (7, 6)), ("bb", (7,)), ("wo", (3, 18)), ("bo", (3,))], 6, 3)
paths = [os.path.join(fix, f) for f in sorted(os.listdir(fix)) if f.endswith(".onnx")] + [tied, catlin]
for path in paths:
    name = "real_clients/file-weights/" + os.path.basename(path)[:-5]
    r = subprocess.run([lc, "info", path, "--json"], capture_output=True, text=True)
    if r.returncode:
        continue  # the refused fixtures (tests/cli/catalogue.sh)
    j = json.loads(r.stdout)
    m = onnx.load(path)
    init = {t.name: t for t in m.graph.initializer}
    used = {n.input[1] for n in m.graph.node if n.op_type in ("Gemm", "MatMul") and n.input[1] in init}
    want = sum(int(np.prod(init[u].dims)) for u in used)
    got = j["file_params"] - (j["params"] - j["flops"] // 2)
    if got == want:
        print("PASS: " + name)
    else:
        print("FAIL: %s: lincomp counts %d weights of the file, its matrices hold %d (params %d)"
              % (name, got, want, j["params"]))
PY
    # two residual blocks of a 13-16-16-16-3 model whose first block has two
    # always-active neurons: folding them at tau 1 changes the copies of the
    # next layers apart, so the written model would grow past the file;
    # 'auto' then folds nothing (and says so), a forced layer threshold folds
    /usr/bin/python3 - "$TMP" <<'PY' 2>/dev/null
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
rng = np.random.default_rng(0)
D, W = 13, 16
inits = {"wi": rng.normal(size=(W, D)), "bi": np.zeros(W), "w0": rng.normal(size=(W, W)),
         "b0": np.zeros(W), "w1": rng.normal(size=(W, W)), "b1": np.zeros(W),
         "wo": rng.normal(size=(3, W)), "bo": np.zeros(3)}
inits["b0"][:2] = 50.0
nodes = [helper.make_node("Gemm", ["x", "wi", "bi"], ["zi"], transB=1), helper.make_node("Relu", ["zi"], ["h0"])]
for k in range(2):
    nodes += [helper.make_node("Gemm", ["h%d" % k, "w%d" % k, "b%d" % k], ["z%d" % k], transB=1),
              helper.make_node("Relu", ["z%d" % k], ["r%d" % k]),
              helper.make_node("Add", ["h%d" % k, "r%d" % k], ["h%d" % (k + 1)])]
nodes.append(helper.make_node("Gemm", ["h2", "wo", "bo"], ["y"], transB=1))
g = helper.make_graph(nodes, "res", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", D])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
                      [numpy_helper.from_array(v.astype(np.float32), n) for n, v in inits.items()])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1] + "/grow.onnx")
np.save(sys.argv[1] + "/grow_x.npy", rng.normal(size=(300, D)).astype(np.float32))
PY
    "$LINCOMP" compress "$TMP/grow.onnx" --data "$TMP/grow_x.npy" --threshold 1 -o "$TMP/grow1.onnx" \
        --report "$TMP/grow1.json" -q >"$TMP/out" 2>"$TMP/err"
    "$LINCOMP" compress "$TMP/grow.onnx" --data "$TMP/grow_x.npy" --threshold 1 --layer-threshold 0 \
        -o "$TMP/grow2.onnx" --report "$TMP/grow2.json" -q >"$TMP/out" 2>>"$TMP/err"
    if json "$TMP/grow1.json" "j.params_after === j.params_before &&
            j.warnings.some((w) => w.startsWith('the folds at this threshold would write'))" &&
        json "$TMP/grow2.json" "j.params_after > j.params_before"; then
        pass real_clients/residual-auto-never-grows
    else fail real_clients/residual-auto-never-grows "$(cat "$TMP/jerr") $(head -c 300 "$TMP/err")"; fi
    # a size budget counts against the file: at most half of its values
    "$LINCOMP" compress "$FIX/mlp_residual.onnx" --data "$FIX/mlp_residual_in.npy" --target-size 0.5 \
        -o "$TMP/res.onnx" --report "$TMP/res.json" -q >"$TMP/out" 2>"$TMP/err"
    if json "$TMP/res.json" "j.params_before === $want && j.params_after <= 0.5 * $want &&
            j.warnings.some(w => w.includes('the model file holds $want parameters'))"; then
        pass real_clients/residual-budget
    else fail real_clients/residual-budget "$(cat "$TMP/jerr") $(head -c 300 "$TMP/err")"; fi
    # at tau 1 the copies stay identical, and the written file holds them once
    # (a Sum of their sources into one Gemm): no larger than the file read,
    # and the report counts what it holds
    "$LINCOMP" compress "$FIX/mlp_residual.onnx" --data "$FIX/mlp_residual_in.npy" --threshold 1 \
        -o "$TMP/res1.onnx" --report "$TMP/res1.json" -q >"$TMP/out" 2>"$TMP/err"
    held=$(/usr/bin/python3 -c 'import sys, onnx, numpy as np
print(sum(int(np.prod(t.dims)) for t in onnx.load(sys.argv[1]).graph.initializer))' "$TMP/res1.onnx" 2>/dev/null)
    if [ -n "$held" ] && [ "$held" -le "$want" ] && json "$TMP/res1.json" "j.params_after === $held"; then
        pass real_clients/residual-written-once
    else fail real_clients/residual-written-once "the file read holds $want, the one written $held: $(cat "$TMP/jerr")"; fi
fi
