# labels.sh - how a CSV's labels become the model's classes (docs/formats.md):
# text labels numbered in sorted order within one file must be as many as
# the model's classes (else a file without some class shifts the others,
# silently); one command numbers the text labels of all its files alike;
# whole numbers are class indices however spelt ("2.0" as pandas writes
# them); and a file that does not fit the model says why, naming the file
# and line.
. "${ROOT:-$PWD}/tests/cli/lib.sh"
M="$ROOT/examples/iris.onnx"   # no stored preprocessing: 4 inputs, 3 classes
IR="$DATA/iris.csv"            # labels Iris-setosa, Iris-versicolor, Iris-virginica
D="$TMP/labels"
mkdir -p "$D"

# the same rows with the labels as class indices, as integers and as floats
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next }
    { $5 = $5 == "Iris-setosa" ? 0 : $5 == "Iris-versicolor" ? 1 : 2; print }' "$IR" >"$D/int.csv"
sed '2,$s/,\([0-9]\)$/,\1.0/' "$D/int.csv" >"$D/float.csv"
# the rows without the first class, with text and with index labels
grep -v 'Iris-setosa' "$IR" >"$D/nosetosa.csv"
awk -F, 'NR == 1 || $5 != 0' "$D/int.csv" >"$D/nosetosa_int.csv"

# indices shifted by -2: negative whole numbers are classes in order of value
# (as text, "-1" < "-2" < "0")
awk -F, 'BEGIN { OFS = "," } NR > 1 { $5 -= 2 } { print }' "$D/int.csv" >"$D/neg.csv"
awk -F, 'NR == 1 || $5 != 0' "$D/float.csv" >"$D/nosetosa_float.csv"

acc_text=$(model_acc "$M" "$IR")
acc_int=$(model_acc "$M" "$D/int.csv")
acc_float=$(model_acc "$M" "$D/float.csv")
acc_neg=$(model_acc "$M" "$D/neg.csv")
acc_part=$(model_acc "$M" "$D/nosetosa_int.csv")
acc_part_float=$(model_acc "$M" "$D/nosetosa_float.csv")
# "1.0" and "2.0" without "0.0" are the indices 1 and 2, not the names of two classes
if [ -n "$acc_text" ] && [ "$acc_text" = "$acc_int" ] && [ "$acc_float" = "$acc_int" ] &&
    [ "$acc_part_float" = "$acc_part" ]; then
    pass labels/float-labels-are-indices
else fail labels/float-labels-are-indices "accuracy text $acc_text, int $acc_int, float $acc_float; without class 0: int $acc_part, float $acc_part_float"; fi
if [ -n "$acc_neg" ] && [ "$acc_neg" = "$acc_int" ]; then pass labels/negative-labels-by-value
else fail labels/negative-labels-by-value "accuracy $acc_neg, with indices $acc_int"; fi

# a file without one class: the text labels would be numbered 0..1, not 1..2
expect_error labels/text-file-lacks-a-class 1 \
    "nosetosa.csv: 2 distinct labels in column 'class', but the model has 3 classes: .*class indices 0 to 2" - \
    "$LINCOMP" eval "$M" --data "$D/nosetosa.csv"
# as indices the same rows are fine
if [ -n "$acc_part" ] && awk -v a="$acc_part" 'BEGIN { exit !(a > 0.9) }'; then pass labels/index-file-lacks-a-class
else fail labels/index-file-lacks-a-class "accuracy $acc_part"; fi
# one command maps --val through the class names of --data (every class)
"$LINCOMP" compress "$M" --data "$IR" --val "$D/nosetosa.csv" --report "$D/r.json" \
    -o "$D/o.onnx" >"$TMP/out" 2>"$TMP/err"
if json "$D/r.json" "Math.abs(j.accuracy_before - $acc_part) < 1e-6"; then pass labels/one-command-one-numbering
else fail labels/one-command-one-numbering "$(head -c 300 "$TMP/err") $(cat "$TMP/jerr") (want $acc_part)"; fi
# a command that never reads the labels does not check them
check labels/predict-ignores-labels "$LINCOMP" predict "$M" --data "$D/nosetosa.csv" -o "$D/p.csv"

# numbers that are not whole are no class
sed '3s/,[0-9]$/,0.5/' "$D/int.csv" >"$D/frac.csv"
expect_error labels/fraction 1 "frac.csv: line 3: label '0.5' \(column 'class'\) is a number but not a whole one" - \
    "$LINCOMP" eval "$M" --data "$D/frac.csv"
# an index beyond the model's classes: the file and the line, as other CSV errors
sed '5s/,[0-9]$/,3/' "$D/int.csv" >"$D/range.csv"
expect_error labels/out-of-range 1 "range.csv: line 5: label 3 is not one of the model's 3 classes \(0 to 2\)" - \
    "$LINCOMP" eval "$M" --data "$D/range.csv"

# a feature column too few: as many columns as inputs, the last text
cut -d, -f1-3,5 "$IR" >"$D/few.csv"
expect_error labels/feature-too-few 1 \
    "few.csv: 3 features per sample \(the columns besides the label 'class'\), but the model takes 4" - \
    "$LINCOMP" eval "$M" --data "$D/few.csv"
# the label first: where the label is looked for, and how to name it
awk -F, 'BEGIN { OFS = "," } { print $5, $1, $2, $3, $4 }' "$IR" | cut -d, -f1-4 >"$D/first.csv"
expect_error labels/label-not-last 1 "first.csv: line 2, column 'class': expected a number, found 'Iris-setosa' .*--label" - \
    "$LINCOMP" eval "$M" --data "$D/first.csv"
tr ',' ';' <"$IR" >"$D/semi.csv"
expect_error labels/semicolons 1 "semi.csv: no feature columns besides the label \(the header is one column holding ';'" - \
    "$LINCOMP" eval "$M" --data "$D/semi.csv"
# the same with decimal commas, as a European-locale spreadsheet writes it:
# the rows have more fields than the header, and the hint still comes
tr ',.' ';,' <"$IR" >"$D/semi-eu.csv"
expect_error labels/semicolons-decimal-commas 1 \
    "semi-eu.csv: line 2: more fields than the 1 of the header \(the header is one column holding ';'" - \
    "$LINCOMP" eval "$M" --data "$D/semi-eu.csv"
# a NUL byte inside a number (it used to cut the field short there: 5.1
# NUL 9 read as 5.1), and UTF-16 text (Excel's "Unicode text")
{ head -n 2 "$IR"; printf '5.1\0009,3.5,1.4,0.2,Iris-setosa\n'; tail -n +4 "$IR"; } >"$D/nul.csv"
expect_error labels/nul-byte 1 "nul.csv: line 3: a NUL byte: this is not a text file" - \
    "$LINCOMP" eval "$M" --data "$D/nul.csv"
{ printf '\377\376'; iconv -f UTF-8 -t UTF-16LE "$IR"; } >"$D/utf16.csv"
expect_error labels/utf16 1 "utf16.csv: the file is UTF-16 text .*save it as UTF-8" - \
    "$LINCOMP" eval "$M" --data "$D/utf16.csv"

# text labels whose sorted order is not the model's: versicolor, virginica,
# setosa sort as a, m, z, so the file's class 0 is the model's class 1. The
# command runs, and warns with the renaming and the accuracy it would give,
# which must be the accuracy of the correctly numbered file.
awk -F, 'BEGIN { OFS = "," } NR > 1 { $5 = $5 == "Iris-setosa" ? "z" : $5 == "Iris-versicolor" ? "a" : "m" } { print }' \
    "$IR" >"$D/renamed.csv"
pct=$(awk -v a="$acc_text" 'BEGIN { printf "%.1f", 100 * a }')
"$LINCOMP" eval "$M" --data "$D/renamed.csv" >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "eval: warning: renamed.csv: the model's predictions match the labels on [0-9.]* % of the rows, but on $pct % when its classes are renamed (class 0 as 'z', class 1 as 'a', class 2 as 'm'): .*class indices 0 to 2" "$TMP/err"; then
    pass labels/order-warning
else fail labels/order-warning "exit $rc, want $pct %: $(head -c 400 "$TMP/err")"; fi
# no warning where the order is the model's, nor for --val, which is numbered
# through --data's names (one warning per command)
"$LINCOMP" eval "$M" --data "$IR" >"$TMP/out" 2>"$TMP/err"
if [ ! -s "$TMP/err" ]; then pass labels/order-no-warning
else fail labels/order-no-warning "$(head -c 300 "$TMP/err")"; fi
"$LINCOMP" compress "$M" --data "$D/renamed.csv" --val "$D/renamed.csv" -o "$D/o2.onnx" -q >"$TMP/out" 2>"$TMP/err"
if [ "$(grep -c 'warning: renamed.csv: the model' "$TMP/err")" -eq 1 ]; then pass labels/order-warning-once
else fail labels/order-warning-once "$(head -c 600 "$TMP/err")"; fi

# --labels belongs to --data alone: an NPY --val of as many rows once got
# --data's labels without a word. Here --val holds the same rows as --data
# with other labels (the iris classes rotated by one).
/usr/bin/python3 - "$IR" "$D" <<'PY'
import sys, numpy as np
rows = [l.rstrip("\n").split(",") for l in open(sys.argv[1])][1:]
names = {"Iris-setosa": 0, "Iris-versicolor": 1, "Iris-virginica": 2}
x = np.array([[float(v) for v in r[:4]] for r in rows], np.float32)
y = np.array([names[r[4]] for r in rows], np.int64)
np.save(sys.argv[2] + "/x.npy", x)
np.save(sys.argv[2] + "/xv.npy", x)
np.save(sys.argv[2] + "/y.npy", y)
np.save(sys.argv[2] + "/yv.npy", (y + 1) % 3)
PY
acc_rot=$("$LINCOMP" eval "$M" --data "$D/xv.npy" --labels "$D/yv.npy" --json 2>/dev/null |
    node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).accuracy)')
"$LINCOMP" compress "$M" --data "$D/x.npy" --labels "$D/y.npy" --val "$D/xv.npy" \
    --val-labels "$D/yv.npy" --threshold 1 -o "$D/o3.onnx" --report "$D/r3.json" -q >"$TMP/out" 2>"$TMP/err"
if [ -n "$acc_rot" ] && json "$D/r3.json" "Math.abs(j.accuracy_before - $acc_rot) < 1e-6 && $acc_rot < 0.5"; then
    pass labels/val-labels
else fail labels/val-labels "want $acc_rot: $(cat "$TMP/jerr") $(head -c 300 "$TMP/err")"; fi
expect_error labels/labels-not-for-val 1 \
    "xv.npy: no labels \(needed here\); an NPY file's labels come from its own option: .*--val-labels" - \
    "$LINCOMP" compress "$M" --data "$D/x.npy" --labels "$D/y.npy" --val "$D/xv.npy" --threshold 1 -o "$D/o4.onnx"
# the same file as --data keeps --data's labels, also under another name
ln -sf "$D/x.npy" "$D/x-link.npy"
"$LINCOMP" compress "$M" --data "$D/x.npy" --labels "$D/y.npy" --val "$D/./x-link.npy" --threshold 1 \
    -o "$D/o5.onnx" --report "$D/r5.json" -q >"$TMP/out" 2>"$TMP/err"
if json "$D/r5.json" "Math.abs(j.accuracy_before - $acc_int) < 1e-6"; then pass labels/labels-same-file
else fail labels/labels-same-file "want $acc_int: $(cat "$TMP/jerr") $(head -c 300 "$TMP/err")"; fi
expect_error labels/val-labels-needs-val 2 "--val-labels needs --val" - \
    "$LINCOMP" compress "$M" --data "$D/x.npy" --val-labels "$D/yv.npy" --threshold 1 -o "$D/o6.onnx"
# sweep --test and prune --val take theirs the same way
"$LINCOMP" sweep "$M" --data "$D/x.npy" --test "$D/xv.npy" --test-labels "$D/yv.npy" \
    --thresholds 1 --json >"$TMP/out" 2>"$TMP/err"
if node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    const a = j.sweep[0].test_acc; // at tau 1 on the calibration rows: the original
    process.exit(Math.abs(a - process.argv[2]) < 1e-6 ? 0 : 1)' "$TMP/out" "$acc_rot" 2>/dev/null; then
    pass labels/sweep-test-labels
else fail labels/sweep-test-labels "want $acc_rot: $(head -c 300 "$TMP/out") $(head -c 200 "$TMP/err")"; fi

# a model that stores its class names (lincomp train on text labels) takes
# whole numbers as class indices too, as the rule says; names that are
# themselves whole numbers stay names (the classes of signed labels)
"$LINCOMP" train --train "$IR" --hidden 8 --epochs 5 --seed 1 -o "$D/stored.onnx" -q >/dev/null 2>&1
s_text=$(model_acc "$D/stored.onnx" "$IR")
s_int=$(model_acc "$D/stored.onnx" "$D/int.csv")
s_float=$(model_acc "$D/stored.onnx" "$D/float.csv")
if [ -n "$s_text" ] && [ "$s_int" = "$s_text" ] && [ "$s_float" = "$s_text" ]; then
    pass labels/stored-names-take-indices
else fail labels/stored-names-take-indices "text $s_text, indices $s_int, as floats $s_float"; fi
# classes -1, 0, 1 (iris's, shifted): a file with the labels 0 and 1 alone
# names the classes 1 and 2, the same rows labelled 1 and 2 (not all names)
# are those indices
awk -F, 'BEGIN { OFS = "," } NR > 1 { $5 -= 1 } { print }' "$D/int.csv" >"$D/pm.csv"
"$LINCOMP" train --train "$D/pm.csv" --hidden 16 --epochs 200 --seed 1 -o "$D/signed.onnx" -q >/dev/null 2>&1
awk -F, 'NR == 1 || $5 != -1' "$D/pm.csv" >"$D/pm-names.csv"
awk -F, 'BEGIN { OFS = "," } NR > 1 { $5 += 1 } { print }' "$D/pm-names.csv" >"$D/pm-indices.csv"
s_names=$(model_acc "$D/signed.onnx" "$D/pm-names.csv")
s_idx=$(model_acc "$D/signed.onnx" "$D/pm-indices.csv")
if [ -n "$s_names" ] && [ "$s_names" = "$s_idx" ] && awk -v a="$s_names" 'BEGIN { exit !(a > 0.5) }'; then
    pass labels/stored-number-names-stay-names
else fail labels/stored-number-names-stay-names "as names $s_names, as indices $s_idx"; fi
