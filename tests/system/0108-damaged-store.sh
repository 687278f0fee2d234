#!/bin/sh
# 0108-damaged-store: a data.mdb cut short is an error that names the file
# and says it is damaged (exit 2) for every command, never a SIGBUS, and a
# write with writemap does not extend it with zeros first; a data.mdb with
# flipped bits makes verify report problems or damage, never crash.
. tests/system/lib.sh

run "$OPLOGD" gen --out "$TDIR/s.bin" --count 20000 --seed 3
assert_rc 0 "gen"
run "$OPLOGD" import --store "$TDIR/st" --batch 20000 "$TDIR/s.bin"
assert_rc 0 "import"
size=$(stat -c %s "$TDIR/st/data.mdb")
cp "$TDIR/st/data.mdb" "$TDIR/good.mdb"
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
# 20 random bit flips past the meta pages, 40 times over (some of these
# crashed LMDB's page walk with SIGSEGV): verify ends with 1 (problems)
# or 2 (an error naming the damage), never by a signal.
mkdir "$TDIR/flip"
seed=0
while [ $seed -lt 40 ]; do
	python3 - "$TDIR/good.mdb" "$TDIR/flip/data.mdb" $seed <<'PY'
import random, sys
data = bytearray(open(sys.argv[1], 'rb').read())
r = random.Random(int(sys.argv[3]))
for _ in range(20):
    off = r.randrange(8192, len(data))
    data[off] ^= 1 << r.randrange(8)
open(sys.argv[2], 'wb').write(data)
PY
	rm -f "$TDIR/flip/lock.mdb"
	run "$OPLOGD" verify --store "$TDIR/flip"
	case $RC in
	1 | 2) ;;
	*) fail "verify after bit flips (seed $seed) ended with $RC: $(err)" ;;
	esac
	seed=$((seed + 1))
done
echo "ok $T_NAME"
