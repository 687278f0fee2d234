#!/bin/sh
# run-fuzz.sh OPLOGD DIR SECS NAME...: run each libFuzzer target
# DIR/fuzz/fuzz_NAME (make fuzz builds them) for SECS seconds over its
# corpus DIR/corpus/NAME, seeded first by scripts/fuzz-corpus.sh with
# OPLOGD. Leak detection is on (libFuzzer's default under ASan); an input
# that runs over 10 s counts as a hang. Each run's output goes to
# DIR/logs/NAME.log and a failing input to DIR/crashes/NAME/; reproduce one
# with `DIR/fuzz/fuzz_NAME FILE` or, without clang, `build/fuzz/replay_NAME
# FILE`. Prints one line per target (runs, execs/s, corpus size); exits 1
# when any target failed.
set -u
[ $# -ge 3 ] || { echo "usage: run-fuzz.sh OPLOGD DIR SECS NAME..." >&2; exit 2; }
oplogd=$1 dir=$2 secs=$3
shift 3
# libFuzzer takes 0 as no limit at all
case $secs in ''|*[!0-9]*|0) echo "run-fuzz.sh: SECS must be a whole number above 0" >&2; exit 2 ;; esac
sh scripts/fuzz-corpus.sh "$oplogd" "$dir/corpus" || exit 2
mkdir -p "$dir/logs"
fail=0
for t in "$@"; do
	log=$dir/logs/$t.log
	mkdir -p "$dir/crashes/$t"
	echo "== fuzz $t (${secs} s)"
	if "$dir/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$dir/crashes/$t/" "$dir/corpus/$t" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
		size=$(ls "$dir/corpus/$t" | wc -l)
		echo "fuzz $t: ok, $runs runs, $rate execs/s, corpus $size inputs"
	else
		fail=$((fail + 1))
		tail -n 30 "$log"
		echo "FAILED: fuzz $t (log $log, input in $dir/crashes/$t/)"
	fi
done
echo "fuzz: $(($# - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
