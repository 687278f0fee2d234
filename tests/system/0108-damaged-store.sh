#!/bin/sh
# 0108-damaged-store: a data.mdb cut short is an error that names the file
# and says it is damaged (exit 2) for every command, never a SIGBUS, and a
# write with writemap does not extend it with zeros first.
. tests/system/lib.sh

run "$OPLOGD" gen --out "$TDIR/s.bin" --count 20000 --seed 3
assert_rc 0 "gen"
run "$OPLOGD" import --store "$TDIR/st" "$TDIR/s.bin"
assert_rc 0 "import"
size=$(stat -c %s "$TDIR/st/data.mdb")
truncate -s $((size / 2)) "$TDIR/st/data.mdb"

for cmd in stats verify dump "heads --dataset ds-0"; do
	# shellcheck disable=SC2086 # a command and its options
	run "$OPLOGD" $cmd --store "$TDIR/st"
	assert_rc 2 "$cmd of a store cut in half"
	assert_contains "$(err)" "$TDIR/st/data.mdb is damaged" "$cmd names the file and the damage"
done
run "$OPLOGD" snapshot --store "$TDIR/st" "$TDIR/snap"
assert_rc 2 "snapshot of a store cut in half"
run "$OPLOGD" import --store "$TDIR/st" --set store.writemap=yes "$TDIR/s.bin"
assert_rc 2 "import with writemap into a store cut in half"
assert_contains "$(err)" "is damaged" "import says so"
assert_eq $((size / 2)) "$(stat -c %s "$TDIR/st/data.mdb")" "the file was not extended"

# Cut below LMDB's meta pages: LMDB's own refusal, still exit 2.
truncate -s 100 "$TDIR/st/data.mdb"
run "$OPLOGD" stats --store "$TDIR/st"
assert_rc 2 "stats of a 100-byte data.mdb"
echo "ok $T_NAME"
