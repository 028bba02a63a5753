# regressions.sh - replays every saved fuzz input (fuzz/regressions/<target>/,
# the crashes and slow inputs the fuzzers found, kept forever) and every
# seed (fuzz/corpus/<target>/) through the harnesses' own entry points
# (fuzz/targets.c, built into $B/replay). In the sanitizer build
# (make test SANITIZE=1) ASan and UBSan watch each run. An input passes when
# the replayer exits 0 within 20 seconds: no crash, no sanitizer report, no
# broken invariant (targets.h). Seeds must also be accepted.
. "${ROOT:-$PWD}/tests/cli/lib.sh"
REPLAY="$ROOT/${B:-build}/replay"
if [ ! -x "$REPLAY" ]; then
    fail regress/replay-built "no $REPLAY (make ${B:-build}/replay)"
else
    for dir in "$ROOT"/fuzz/regressions/* "$ROOT"/fuzz/corpus/*; do
        [ -d "$dir" ] || continue
        t=$(basename "$dir")
        kind=$(basename "$(dirname "$dir")")
        for f in "$dir"/*; do
            [ -f "$f" ] || continue
            name="regress/$kind/$t/$(basename "$f")"
            if [ "$kind" = corpus ]; then
                timeout 20 "$REPLAY" -v "$t" "$f" >"$TMP/out" 2>"$TMP/err"
            else
                timeout 20 "$REPLAY" "$t" "$f" >"$TMP/out" 2>"$TMP/err"
            fi
            rc=$?
            if [ "$rc" -ne 0 ]; then fail "$name" "exit $rc: $(head -c 300 "$TMP/err" | tr '\n' ' ')"
            elif [ "$kind" = corpus ] && ! grep -q ': accepted$' "$TMP/out"; then fail "$name" "seed refused"
            else pass "$name"; fi
        done
    done
fi
