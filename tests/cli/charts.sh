# charts.sh - every chart the CLI writes (sweep --svg here, the demo's
# sweep.svg in demo.sh) renders with rsvg-convert and labels its axes with
# round numbers; the parts a reader needs are there (axis titles, the
# original's accuracy as a dashed line, a legend for two series).
. "${ROOT:-$PWD}/tests/cli/lib.sh"
KINDS="threshold count percent fraction"

# the checker must reject the labels the old charts had
cat >"$TMP/old.svg" <<'SVG'
<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'>
<g class='ticks' data-kind='count'><text>-4.9e+03</text><text>1.2e+05</text><text>2.76e+05</text></g>
<g class='ticks' data-kind='fraction'><text>0.786</text><text>0.81</text><text>0.834</text></g>
<g class='ticks' data-kind='threshold'><text>1.05</text><text>0.786</text><text>0.0025</text></g>
</svg>
SVG
if r=$(node "$ROOT/tests/tools/chart_ticks.js" "$TMP/old.svg" 2>&1); then fail charts/checker-rejects "accepted arbitrary ticks"
else
    # all three axes must be reported
    case "$r" in *"axis 1"*"axis 2"*"axis 3"*) pass charts/checker-rejects ;; *) fail charts/checker-rejects "$r" ;; esac
fi

# iris: a small model (counts below 1000, sizes under 20 %, skip edges)
D="$DATA/iris.csv"
if "$LINCOMP" sweep "$ROOT/examples/iris.onnx" --data "$D" --test "$D" --svg "$TMP/iris.svg" --quiet >/dev/null 2>"$TMP/err"; then
    check_chart charts/sweep-iris "$TMP/iris.svg" $KINDS
    n=$(grep -c "class='reference'" "$TMP/iris.svg")
    # two series (all parameters, skip edges) in panel 1; iris has skip edges
    if [ "$n" -eq 2 ] && grep -q "class='legend'" "$TMP/iris.svg" && grep -q "on skip edges" "$TMP/iris.svg" &&
        grep -q ">original 0.987<" "$TMP/iris.svg" && grep -q ">% of the original<" "$TMP/iris.svg" &&
        grep -q ">size (% of the original parameters)<" "$TMP/iris.svg"; then pass charts/sweep-iris-parts
    else fail charts/sweep-iris-parts "$n reference lines; legend/titles missing"; fi
else fail charts/sweep-iris "exit $? $(head -c 300 "$TMP/err")"; fi

# a wider model: parameter counts in k
"$LINCOMP" train --train "$DATA/optdigits-test.csv" -o "$TMP/od.onnx" --hidden 512,256 --epochs 1 --quiet >/dev/null 2>&1
if "$LINCOMP" sweep "$TMP/od.onnx" --data "$DATA/optdigits-test.csv" --test "$DATA/optdigits-test.csv" --svg "$TMP/od.svg" --quiet >/dev/null 2>"$TMP/err"; then
    check_chart charts/sweep-optdigits "$TMP/od.svg" $KINDS
    sed -n "/data-kind='count'/,/<\/g>/p" "$TMP/od.svg" | grep -q ">[0-9.]*k<" &&
        pass charts/sweep-optdigits-k || fail charts/sweep-optdigits-k "no k labels on the parameter axis"
else fail charts/sweep-optdigits "exit $? $(head -c 300 "$TMP/err")"; fi

# one threshold: every range has zero width
if "$LINCOMP" sweep "$ROOT/examples/iris.onnx" --data "$D" --test "$D" --thresholds 1 --svg "$TMP/one.svg" --quiet >/dev/null 2>"$TMP/err"; then
    check_chart charts/sweep-one-threshold "$TMP/one.svg" $KINDS
else fail charts/sweep-one-threshold "exit $? $(head -c 300 "$TMP/err")"; fi

# a model path with XML's special characters in the heading stays valid SVG
cp "$ROOT/examples/iris.onnx" "$TMP/a&b<c>.onnx"
if "$LINCOMP" sweep "$TMP/a&b<c>.onnx" --data "$D" --test "$D" --thresholds 1,0.5 --svg "$TMP/esc.svg" --quiet >/dev/null 2>"$TMP/err"; then
    check_chart charts/sweep-escaped-heading "$TMP/esc.svg" $KINDS
else fail charts/sweep-escaped-heading "exit $? $(head -c 300 "$TMP/err")"; fi
