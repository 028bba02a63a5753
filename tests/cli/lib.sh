# lib.sh - helpers for the CLI test scripts (sourced, not run).
# Each check prints "PASS: name" or "FAIL: name: why".
# LINCOMP (the binary) and ROOT are set by tests/run.
: "${ROOT:=$PWD}" "${LINCOMP:=$ROOT/build/lincomp}"
FIX="$ROOT/tests/fixtures"
DATA="$ROOT/../shared/data"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ORT="node $ROOT/tests/tools/ort_run.js"
CMP="node $ROOT/tests/tools/compare.js"

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }

# check NAME CMD...: the command must succeed.
check() {
    name=$1; shift
    if "$@" >"$TMP/out" 2>"$TMP/err"; then pass "$name"; else fail "$name" "exit $? ($(head -c 300 "$TMP/err" | tr '\n' ' '))"; fi
}

# expect_error NAME STATUS PATTERN OUTFILE CMD...: the command must exit with
# STATUS, print exactly one line on stderr matching PATTERN (grep -E), and
# leave no OUTFILE (give - when there is none).
expect_error() {
    name=$1 want=$2 pat=$3 outf=$4; shift 4
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    lines=$(wc -l <"$TMP/err")
    if [ "$rc" -ne "$want" ]; then fail "$name" "exit $rc, wanted $want ($(head -c 200 "$TMP/err"))"
    elif [ "$lines" -ne 1 ]; then fail "$name" "$lines lines on stderr, wanted 1: $(head -c 300 "$TMP/err" | tr '\n' '|')"
    elif ! grep -Eq -- "$pat" "$TMP/err"; then fail "$name" "stderr '$(cat "$TMP/err")' does not match '$pat'"
    elif [ "$outf" != - ] && [ -e "$outf" ]; then fail "$name" "left $outf behind"
    elif [ "$outf" != - ] && ls "$(dirname "$outf")" | grep -q '\.tmp'; then fail "$name" "left a temporary file"
    else pass "$name"; fi
}

# check_chart NAME SVG [KIND...]: the chart renders with rsvg-convert (Debian
# librsvg2-bin, which scripts/setup.sh installs) into a non-empty PNG, and
# its tick labels are round numbers of their axes' kinds, each KIND present
# (tests/tools/chart_ticks.js). Prints NAME/render and NAME/ticks.
check_chart() {
    name=$1 svgf=$2; shift 2
    if ! command -v rsvg-convert >/dev/null; then fail "$name/render" "librsvg2-bin not installed"
    elif ! rsvg-convert -o "$TMP/chart.png" "$svgf" 2>"$TMP/err"; then fail "$name/render" "rsvg-convert: $(head -c 300 "$TMP/err")"
    elif [ ! -s "$TMP/chart.png" ]; then fail "$name/render" "empty PNG"
    else pass "$name/render"; fi
    if r=$(node "$ROOT/tests/tools/chart_ticks.js" "$svgf" "$@" 2>&1); then pass "$name/ticks"
    else fail "$name/ticks" "$r"; fi
}

# json FILE EXPR: EXPR (JavaScript over the parsed file, j) must be true;
# on failure the file's start is in $TMP/jerr
json() {
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
        if (!(eval(process.argv[2]))) { console.error(JSON.stringify(j).slice(0, 400)); process.exit(1); }' "$1" "$2" 2>"$TMP/jerr"
}
# model_acc MODEL DATA: the accuracy `lincomp eval --json` prints (6 decimals)
model_acc() { "$LINCOMP" eval "$1" --data "$2" --json 2>/dev/null |
        node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).accuracy)'; }
# halves CSV A B: the header and every even data row into A, the header and
# every odd one into B (a train/validation split that keeps class balance)
halves() {
    awk 'NR == 1 || NR % 2 == 0' "$1" >"$2"
    awk 'NR == 1 || NR % 2 == 1' "$1" >"$3"
}
