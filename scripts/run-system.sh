#!/bin/sh
# Run the numbered black-box scripts in tests/system against $OPLOGD.
set -u
: "${OPLOGD:?OPLOGD must name the oplogd binary}"
export OPLOGD
pass=0 fail=0
for t in tests/system/[0-9][0-9][0-9][0-9]-*.sh; do
	[ -e "$t" ] || continue
	echo "== $t"
	if sh "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t"; fi
done
echo "system: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
