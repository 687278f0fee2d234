#!/bin/sh
# Run every benchmark binary in $1/bench and print their tables.
set -eu
build=${1:-build}
for b in "$build"/bench/bench_*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	"$b"
done
