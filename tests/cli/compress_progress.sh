# compress_progress.sh - progress of compress --target-size on a
# Fashion-MNIST MLP: off a terminal the stage lines (one per step of the
# budget search, and its time), on a terminal (through script(1)) a bar
# with candidates scored of planned, the best so far and an ETA.
. "$ROOT/tests/cli/lib.sh"
T=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
[ -f "$T" ] || { fail compress-progress/data "$T missing"; exit 0; }
# the 10,000 images as an IDX file: a search of a few seconds
/usr/bin/python3 - "$T" "$TMP/cal.idx" <<'PY'
import gzip, struct, sys
with gzip.open(sys.argv[1]) as f:
    magic, n, h, w = struct.unpack(">IIII", f.read(16))
    n = 10000
    body = f.read(n * h * w)
with open(sys.argv[2], "wb") as o:
    o.write(struct.pack(">IIII", magic, n, h, w) + body)
PY
M="$TMP/fm.onnx"
"$LINCOMP" train --train "$T" --hidden 128,128,128 --epochs 1 --seed 1 --quiet -o "$M" >/dev/null 2>"$TMP/err" ||
    fail compress-progress/train "$(cat "$TMP/err")"

# off a terminal with --verbose: the stage lines from the start, one per
# accepted step, and the search's time; no bar (no carriage returns)
"$LINCOMP" compress "$M" --data "$TMP/cal.idx" --target-size 0.25 --verbose -o "$TMP/a.onnx" >/dev/null 2>"$TMP/off"
if grep -q "^lincomp compress: budget search on 10000 samples" "$TMP/off" &&
    grep -q "^lincomp compress: budget search walk 1 step 1: [0-9]* parameters, score " "$TMP/off" &&
    grep -q "^lincomp compress: budget search walk 2 step 1: [0-9]* parameters, score " "$TMP/off" &&
    grep -q "^lincomp compress: folding$" "$TMP/off" && ! grep -q "$(printf '\r')" "$TMP/off" &&
    ! grep -q "candidates" "$TMP/off"; then
    pass compress-progress/off-terminal
else
    fail compress-progress/off-terminal "$(head -c 400 "$TMP/off")"
fi
# without --verbose a command that fails at once stays one line
"$LINCOMP" compress "$M" --data "$TMP/missing.csv" --target-size 0.25 -o "$TMP/x.onnx" >/dev/null 2>"$TMP/fast"
[ "$(wc -l <"$TMP/fast")" -eq 1 ] && grep -q "missing.csv" "$TMP/fast" &&
    pass compress-progress/quick-failure-one-line ||
    fail compress-progress/quick-failure-one-line "$(head -c 400 "$TMP/fast")"

# on a terminal: the bar, redrawn in place, ending with the count equal to
# the plan; the step lines are not printed between
if command -v script >/dev/null; then
    script -qec "'$LINCOMP' compress '$M' --data '$TMP/cal.idx' --target-size 0.25 -o '$TMP/b.onnx' >/dev/null" \
        /dev/null >"$TMP/tty" 2>&1
    tr '\r' '\n' <"$TMP/tty" | grep -a "budget search  .*candidates" >"$TMP/bars"
    last=$(tail -n 1 "$TMP/bars")
    if [ "$(wc -l <"$TMP/bars")" -ge 2 ] && grep -q "ETA" "$TMP/bars" && grep -q "best 0\.[0-9]* at [0-9.]*% size" "$TMP/bars" &&
        echo "$last" | grep -Eq ' ([0-9]+)/\1 candidates' && ! grep -aq "budget search walk" "$TMP/tty" &&
        grep -aq "budget search  *done in" "$TMP/tty" && cmp -s "$TMP/a.onnx" "$TMP/b.onnx"; then
        pass compress-progress/terminal
    else
        fail compress-progress/terminal "$(tr '\r' '\n' <"$TMP/tty" | head -c 600)"
    fi
else
    fail compress-progress/terminal "script(1) not installed (util-linux)"
fi
# --quiet: nothing on either
"$LINCOMP" compress "$M" --data "$TMP/cal.idx" --target-size 0.25 -o "$TMP/c.onnx" --quiet >/dev/null 2>"$TMP/q"
[ -s "$TMP/q" ] && fail compress-progress/quiet "$(head -c 200 "$TMP/q")" || pass compress-progress/quiet
# -q is --quiet, with --verbose given too (the last of the two is not what
# decides: quiet wins, as with --quiet)
"$LINCOMP" compress "$M" --data "$TMP/cal.idx" --target-size 0.25 -o "$TMP/d.onnx" -q --verbose >/dev/null 2>"$TMP/q2"
[ -s "$TMP/q2" ] && fail compress-progress/quiet-short "$(head -c 200 "$TMP/q2")" || pass compress-progress/quiet-short
