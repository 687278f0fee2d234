#!/bin/sh
# 0002-fuzz-seeds: every fuzz target (fuzz/fuzz_*.c) builds and runs clean
# over its seed corpus (scripts/fuzz-corpus.sh, from gen and config/), by
# way of its replay driver, which make builds without libFuzzer next to
# oplogd ($FUZZ_REPLAY, else build/fuzz). A broken target, or a seed that
# breaks one of its checks, fails here; make fuzz does the fuzzing.
. tests/system/lib.sh

R=${FUZZ_REPLAY:-$(dirname "$OPLOGD")/fuzz}
run sh scripts/fuzz-corpus.sh "$OPLOGD" "$TDIR/corpus"
assert_rc 0 "making the seed corpus"

n=0
for src in fuzz/fuzz_*.c; do
	t=${src#fuzz/fuzz_}
	t=${t%.c}
	[ -x "$R/replay_$t" ] || fail "fuzz target $t has no replay driver $R/replay_$t (make builds it)"
	seeds=$(ls "$TDIR/corpus/$t" 2>/dev/null | wc -l)
	[ "$seeds" -gt 0 ] || fail "no seeds for fuzz target $t in $TDIR/corpus/$t"
	run "$R/replay_$t" "$TDIR/corpus/$t"
	assert_rc 0 "fuzz target $t over its seeds"
	assert_eq "replay: $seeds inputs" "$(out)" "inputs run by $t"
	n=$((n + 1))
done
assert_eq 3 "$n" "fuzz targets (decode, frame, ini)"

# The decoder's seeds hold valid and defective messages, and the INI
# target's seeds load (else its round trip would check nothing).
run "$OPLOGD" decode "$TDIR/corpus/decode/seed-0000"
assert_rc 0 "the first decode seed is a valid entry"
ok=0 bad=0
for f in "$TDIR"/corpus/decode/seed-00[0-9]?; do
	if "$OPLOGD" decode "$f" >/dev/null 2>&1; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
done
[ "$ok" -gt 0 ] && [ "$bad" -gt 0 ] || fail "decode seeds: $ok valid, $bad rejected; want both"
for f in "$TDIR"/corpus/ini/*; do
	run "$OPLOGD" gen --dump-config -c "$f"
	assert_rc 0 "the INI seed $(basename "$f") loads"
done

# A replay driver reports an input it cannot read rather than skip it.
run "$R/replay_ini" "$TDIR/no-such-file"
assert_rc 2 "replay of a missing file"
assert_contains "$(err)" "no-such-file" "the error names the file"

echo "ok $T_NAME"
