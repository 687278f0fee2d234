#!/bin/sh
# Run every benchmark binary in $1/bench and print their tables, then the
# applier's against a real broker (bench/bench_apply.sh, runs $1/oplogd).
set -eu
build=${1:-build}
for b in "$build"/bench/bench_*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	"$b"
done
echo "== bench_apply"
sh "$(dirname "$0")/../bench/bench_apply.sh" "$build"
