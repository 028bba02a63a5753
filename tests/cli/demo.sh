# demo.sh - `lincomp demo` in its fast mode (few images, one epoch): it
# verifies itself; here we check its files independently too.
. "${ROOT:-$PWD}/tests/cli/lib.sh"
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { fail demo/dataset "dataset-fashion-mnist is not installed"; return 0 2>/dev/null || exit 0; }
D="$TMP/demo"
if "$LINCOMP" demo --samples 3000 --epochs 1 --out "$D" --quiet >"$TMP/demo.txt" 2>"$TMP/err"; then pass demo/runs
else fail demo/runs "exit $? $(head -c 300 "$TMP/err")"; fi
grep -q "^verified: yes" "$TMP/demo.txt" && pass demo/verified || fail demo/verified "$(tail -3 "$TMP/demo.txt")"
for f in original.onnx exact.onnx lossy_finetuned.onnx budget50_finetuned.onnx budget25_reconstructed.onnx sweep.svg model.c model.h; do
    [ -s "$D/$f" ] || { fail demo/files "missing $f"; break; }
done && pass demo/files
# its chart renders and has round ticks (tests/cli/charts.sh checks sweep's)
check_chart demo/sweep-chart "$D/sweep.svg" threshold count percent fraction
grep -q "class='reference'" "$D/sweep.svg" && pass demo/sweep-chart-original ||
    fail demo/sweep-chart-original "no dashed line for the original's accuracy"
# the exact model gives the original's outputs on the held-out (calibration)
# images, in ONNX Runtime: with --samples 3000 those are training images 2500..2999
T=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
node -e '
const fs = require("fs"), zlib = require("zlib");
const b = zlib.gunzipSync(fs.readFileSync(process.argv[1]));
const rows = [];
for (let i = 2500; i < 3000; i++) { const r = []; for (let j = 0; j < 784; j++) r.push(b[16 + i * 784 + j] / 255); rows.push(r.join(",")); }
fs.writeFileSync(process.argv[2], Array.from({length: 784}, (_, j) => "p" + j).join(",") + "\n" + rows.join("\n") + "\n");
' "$T" "$TMP/x.csv"
"$LINCOMP" predict "$D/original.onnx" --data "$TMP/x.csv" -o "$TMP/o.csv" 2>/dev/null
if $ORT "$D/exact.onnx" "$TMP/x.csv" "$TMP/ort.csv" 2>"$TMP/err" && r=$($CMP "$TMP/ort.csv" "$TMP/o.csv" --rtol 1e-5 --atol 1e-5 2>&1); then
    pass demo/exact-in-ort
else fail demo/exact-in-ort "$r $(head -c 200 "$TMP/err")"; fi
# the generated C compiles cleanly
if gcc -std=c99 -Wall -Wextra -Werror -pedantic -c "$D/model.c" -o "$TMP/model.o" 2>"$TMP/err"; then pass demo/c-compiles
else fail demo/c-compiles "$(head -c 300 "$TMP/err")"; fi
