#!/bin/sh
# 0208-apply-rebalance: a rebalance while appliers hold a batch being
# committed and a batch filling under a long time window, against a real
# Kafka broker.
#
# Two `oplogd apply` processes, a and b, share one store in one group
# (batch_ms 30s, batch_size far above the stream). Once they have applied
# the first half of the stream, another process holds the store's LMDB
# write lock, as any other writer may, and the second half is produced:
# a's and b's writer threads wait for the lock with a batch each, while
# the next batches keep filling. Then a third applier, c (a store of its
# own), joins the group, so a's and b's partitions are revoked. They must
# apply both batches and commit their offsets before their revokes
# complete, because whoever gets a partition next starts from the store's
# offset; the lock is released once both have begun their revokes. c is
# stopped later and a and b read on to the end. So:
#   - a and b log their revokes with messages in flight and filling;
#   - together a and b read every offset of every partition exactly once
#     (a batch left behind would be read again by the next owner; offsets
#     stored ahead of their entries would skip messages);
#   - the store's offsets, read all along, never go back;
#   - the store ends equal to a direct import (nothing applied twice).
. tests/system/lib.sh
. tests/system/lib_kafka.sh

N=40000
FIRST=20000
GROUP=replica-rb
kafka_start --partitions 4
kafka_topic oplog 4

gen_reference $N 27
assert_eq $N "$(lenpfx_split "$TDIR/s.bin" $FIRST "$TDIR/s1.bin" "$TDIR/s2.bin")" "messages split"
kafka_produce_file oplog "$TDIR/s1.bin"

conf() {   # conf STORE
	kafka_apply_conf "$1" $GROUP "[kafka]
heartbeat.interval.ms = 500
[apply]
batch_size = 1000000
batch_ms = 30s
[log]
level = debug"
}
conf "$TDIR/store" >"$TDIR/apply.conf"
conf "$TDIR/store-c" >"$TDIR/apply-c.conf"

pa="" pb="" pc="" pw="" pl=""
# shellcheck disable=SC2016 # expanded at exit: whatever runs then
on_exit 'for p in $pa $pb $pc $pw $pl; do kill -9 $p 2>/dev/null; done'

# The store's offsets, "partition next" per line, every 0.1 s until told
# to stop, snapshots separated by "--".
( while [ ! -e "$TDIR/stop-watch" ]; do
	"$OPLOGD" stats --store "$TDIR/store" --json 2>/dev/null |
		jq -r '.offsets[] | "\(.partition) \(.next)"' 2>/dev/null
	echo --
	sleep 0.1
done ) >"$TDIR/watched" &
pw=$!

"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/a.log" &
pa=$!
"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/b.log" &
pb=$!
first_in() {
	[ "$(store_messages "$TDIR/store")" = $FIRST ] &&
		grep -q "info  assigned oplog/" "$TDIR/a.log" && grep -q "info  assigned oplog/" "$TDIR/b.log"
}
kafka_wait_apply 120 "a and b to apply the first $FIRST messages" "$TDIR/a.log" first_in
revokes_before=$(cat "$TDIR/a.log" "$TDIR/b.log" | grep -c "info  partitions revoked" || true)

# Another writer holds the store until told to let go (or for 60 s).
/usr/bin/python3 - "$TDIR/store" "$TDIR/release" >"$TDIR/lock.out" 2>&1 <<'PY' &
import os, sys, time, lmdb
env = lmdb.open(sys.argv[1], max_dbs=32, subdir=True, map_size=1 << 32)
txn = env.begin(write=True)
print("locked", flush=True)
deadline = time.time() + 60
while not os.path.exists(sys.argv[2]) and time.time() < deadline:
    time.sleep(0.05)
txn.abort()
env.close()
PY
pl=$!
locked() {
	grep -q locked "$TDIR/lock.out"
}
wait_for 30 "the store's write lock to be taken" locked

kafka_produce_file oplog "$TDIR/s2.bin"
consumed_count() {
	cat "$TDIR/a.log" "$TDIR/b.log" | grep -c ' debug consumed oplog/' || true
}
all_taken() {
	[ "$(consumed_count)" -ge $N ]
}
kafka_wait_apply 120 "a and b to take in the second half (the store locked)" "$TDIR/a.log" all_taken

"$OPLOGD" apply -c "$TDIR/apply-c.conf" 2>"$TDIR/c.log" &
pc=$!
both_revoking() {
	grep -q "info  partitions revoked" "$TDIR/a.log" && grep -q "info  partitions revoked" "$TDIR/b.log" &&
		[ "$(cat "$TDIR/a.log" "$TDIR/b.log" | grep -c "info  partitions revoked")" -ge $((revokes_before + 2)) ]
}
kafka_wait_apply 60 "a and b to begin their revokes" "$TDIR/a.log" both_revoking
: >"$TDIR/release"
wait "$pl" || fail "the lock holder failed: $(cat "$TDIR/lock.out")"
pl=""

c_read() {
	grep -q ' debug consumed oplog/' "$TDIR/c.log"
}
kafka_wait_apply 120 "c to read its partitions" "$TDIR/c.log" c_read
kill -TERM "$pc"
rc=0
wait "$pc" || rc=$?
pc=""
[ "$rc" -eq 0 ] || fail "c exited $rc after SIGTERM: $(tail -n 5 "$TDIR/c.log")"

all_in() {
	[ "$(store_messages "$TDIR/store")" = "$N" ]
}
kafka_wait_apply 300 "all $N messages in the store" "$TDIR/a.log" all_in
for p in $pa $pb; do
	kill -TERM "$p"
done
for p in $pa $pb; do
	rc=0
	wait "$p" || rc=$?
	[ "$rc" -eq 0 ] || fail "apply (pid $p) exited $rc after SIGTERM"
done
pa="" pb=""
: >"$TDIR/stop-watch"
wait "$pw" || true
pw=""

# The case under test: revokes while batches were in flight and filling.
for x in a b; do
	sed -n 's/^.* info  partitions revoked/# '$x': partitions revoked/p' "$TDIR/$x.log"
done
cat "$TDIR/a.log" "$TDIR/b.log" |
	grep -q "partitions revoked ([0-9]*): applying the [0-9]* messages taken in ([1-9][0-9]* in flight, [1-9][0-9]* filling)" ||
	fail "no revoke found a batch in flight and one filling"

# Every offset read exactly once, by a or b.
for x in a b; do
	sed -n 's|^.* debug consumed oplog/\([0-9]*\)/\([0-9]*\)$|\1 \2|p' "$TDIR/$x.log"
done >"$TDIR/consumed"
sort -k1,1n -k2,2n "$TDIR/consumed" | uniq -d >"$TDIR/twice"
[ ! -s "$TDIR/twice" ] ||
	fail "$(lines "$TDIR/twice") offsets were read twice, e.g. $(head -n 3 "$TDIR/twice" | tr '\n' ';')"
kafka_committed $GROUP oplog | awk '{ print $1, $3 }' >"$TDIR/ends.pe"
sort -u "$TDIR/consumed" | awk '{ n[$1]++ } END { for (p in n) print p, n[p] }' | sort -n >"$TDIR/covered"
assert_eq "$(cat "$TDIR/ends.pe")" "$(cat "$TDIR/covered")" "offsets read per partition"

# The store's offsets never went back.
awk '$1 == "--" { next } ($1 in last) && $2 < last[$1] { print "oplog/" $1 ": " last[$1] " -> " $2; bad = 1; exit }
	{ last[$1] = $2 } END { exit bad }' "$TDIR/watched" >"$TDIR/back" ||
	fail "the store's offset went back: $(cat "$TDIR/back")"
[ "$(grep -c -- '^--$' "$TDIR/watched")" -ge 10 ] || fail "the store's offsets were read too rarely"

run "$OPLOGD" stats --store "$TDIR/store" --json
assert_eq "$(cat "$TDIR/ends.pe")" "$(json '.offsets[] | "\(.partition) \(.next)"' | sort -n)" \
	"the store's offsets at the end"
assert_same_as_reference "$TDIR/store"
echo "ok $T_NAME"
