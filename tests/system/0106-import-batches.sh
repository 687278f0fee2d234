#!/bin/sh
# 0106-import-batches: `import` makes the same store however its batches
# are cut: fixed with --batch N (N messages per write transaction, from a
# handful to the whole file in one), or adaptive by the [apply] limits
# (here small ones, so that one file spans many batches cut by count, by
# bytes, or as soon as the writer is free), from a file, from stdin, and
# from two files. Every store's counters, `verify` and `dump` equal those
# of the reference: gen_reference's direct import with the defaults.
. tests/system/lib.sh

N=20000
gen_reference $N 31
[ "$(jq .applied "$TDIR/direct.stats")" -gt $((N / 2)) ] || fail "the reference applied too little: $(cat "$TDIR/direct.stats")"
[ "$(jq '[.rejected[]] | add' "$TDIR/direct.stats")" -gt 0 ] || fail "the reference has no rejects"
half=$(lenpfx_split "$TDIR/s.bin" 7000 "$TDIR/s1.bin" "$TDIR/s2.bin")
assert_eq $N "$half" "messages split in two files"

k=0
# check_import HOW ARGS...: import with ARGS into a new store, compare.
check_import() {
	k=$((k + 1))
	_how=$1
	shift
	run "$@"
	assert_rc 0 "import ($_how)"
	assert_eq "$(jq -c . "$TDIR/direct.stats")" "$(jq -c . "$TDIR/out")" "import summary ($_how)"
	assert_same_as_reference "$TDIR/st.$k"
}

for batch in 7 777 10000 1000000; do
	check_import "--batch $batch" "$OPLOGD" import --store "$TDIR/st.$((k + 1))" --framing lenpfx \
		--json --batch $batch "$TDIR/s.bin"
done
for set in apply.batch_size=500 apply.batch_bytes=16K apply.batch_ms=0; do
	check_import "adaptive, $set" "$OPLOGD" import --store "$TDIR/st.$((k + 1))" --framing lenpfx \
		--json --set "$set" "$TDIR/s.bin"
done
check_import "adaptive, stdin" sh -c '"$1" import --store "$2" --framing lenpfx --json \
	--set apply.batch_size=300 - <"$3"' sh "$OPLOGD" "$TDIR/st.$((k + 1))" "$TDIR/s.bin"
check_import "adaptive, two files" "$OPLOGD" import --store "$TDIR/st.$((k + 1))" --framing lenpfx \
	--json --set apply.batch_size=900 "$TDIR/s1.bin" "$TDIR/s2.bin"
check_import "--batch, two files" "$OPLOGD" import --store "$TDIR/st.$((k + 1))" --framing lenpfx \
	--json --batch 900 "$TDIR/s1.bin" "$TDIR/s2.bin"

# Reject sources stay FILE:INDEX, counted per file.
run "$OPLOGD" rejects --store "$TDIR/st.$k" --json
first=$(json '[.[].source | select(startswith("'"$TDIR"'/s2.bin:"))][0]')
case $first in
"$TDIR/s2.bin:"[0-9]*) ;;
*) fail "no reject with source $TDIR/s2.bin:INDEX: $first" ;;
esac
idx=${first##*:}
[ "$idx" -lt $((N - 7000)) ] || fail "reject index $idx is not an index in s2.bin"
echo "ok $T_NAME"
