#!/bin/sh
# 0200-apply-kafka: `oplogd apply` as a process against a real Apache Kafka
# broker over TCP: a stream with duplicates, late arrivals and bad
# messages lands exactly, the group's lag as Kafka's own tool reports it
# goes to 0, SIGTERM stops it cleanly, and the store equals a direct import.
# At scale: the stream holds more than 200000 distinct entries, sent three
# times over (over 600000 messages), and each is applied exactly once.
. tests/system/lib.sh
. tests/system/lib_kafka.sh

# 220000 messages of which about 94% are distinct valid entries: checked
# below to be at least MIN_ENTRIES, so the scale cannot shrink unnoticed.
N=220000
MIN_ENTRIES=200000
kafka_start --partitions 4
kafka_topic oplog 4

run "$OPLOGD" gen --out "$TDIR/s.bin" --framing lenpfx --datasets 2 --nodes 4 --count $N \
	--dup-rate 0.05 --late-rate 0.1 --bad-rate 0.01 --fork-rate 0.002 --seed 21
assert_rc 0 "gen"
bad=$(err | sed -n 's/.* \([0-9]*\) bad$/\1/p')
[ "${bad:-0}" -gt 0 ] || fail "gen reported no bad messages: $(err)"

# What the stream holds, from a direct import of the same file.
run "$OPLOGD" import --store "$TDIR/direct" --framing lenpfx --json "$TDIR/s.bin"
assert_rc 0 "direct import"
distinct=$(json .applied)
[ "$distinct" -ge $MIN_ENTRIES ] || fail "the stream holds $distinct distinct entries, fewer than $MIN_ENTRIES"
[ "$(json .duplicates)" -gt 0 ] || fail "the stream holds no duplicates: $(out)"
[ "$(json .late)" -gt 0 ] || fail "the stream holds no late entries: $(out)"
# The same stream into partitions 0-2: 3N messages, each entry three
# times over, across partitions; the store must hold each once.
# Partition 3 stays empty: its lag must read 0 too, not "unknown".
for part in 0 1 2; do
	kafka_produce_file oplog "$TDIR/s.bin" "$part"
done
TOTAL=$((3 * N))

kafka_apply_conf "$TDIR/store" replica-t >"$TDIR/apply.conf"

"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"

# Every message taken in: applied, duplicate or rejected.
all_in() {
	[ "$(store_messages "$TDIR/store")" = "$TOTAL" ]
}
kafka_wait_apply 300 "all $TOTAL messages in the store" "$TDIR/apply.log" all_in

# The group sees the real position: lag 0 on every partition.
lag_zero() {
	rows=$(kafka_group_lag replica-t oplog) || return 1
	[ "$(echo "$rows" | wc -l)" -eq 4 ] && echo "$rows" | awk '$4 != 0 { exit 1 }'
}
tries=0
until lag_zero; do
	tries=$((tries + 1))
	[ "$tries" -lt 60 ] || fail "group lag not 0 after 60 tries: $(kafka_group_lag replica-t oplog | tr '\n' ';')"
	sleep 1
done

kill -TERM $pid
wait_for 15 "apply to exit after SIGTERM" sh -c "! kill -0 $pid 2>/dev/null"
# (set -e would end the test silently on a non-zero status.)
rc=0
wait $pid || rc=$?
[ "$rc" -eq 0 ] || fail "apply exited $rc after SIGTERM: $(tail -n 5 "$TDIR/apply.log")"

run "$OPLOGD" verify --store "$TDIR/store"
assert_rc 0 "verify"
run "$OPLOGD" stats --store "$TDIR/store" --json
assert_eq "$(json '[.rejected[]] | add')" "$((3 * bad))" "rejected messages"
# Exactly once: every distinct entry applied once, every other valid
# message (the stream's own duplicates and the two extra copies) counted
# as a duplicate; late arrivals are among the applied.
assert_eq "$distinct" "$(json .applied)" "entries applied"
assert_eq "$distinct" "$(json .entries)" "entries in the store"
assert_eq "$((3 * (N - bad) - distinct))" "$(json .duplicates)" "duplicates"
[ "$(json .late)" -gt 0 ] || fail "no late entries counted: $(out)"

"$OPLOGD" dump --store "$TDIR/store" >"$TDIR/applied.json" || fail "dump of the applied store"
"$OPLOGD" dump --store "$TDIR/direct" >"$TDIR/direct.json" || fail "dump of the direct import"
cmp -s "$TDIR/applied.json" "$TDIR/direct.json" || fail "the applied store differs from a direct import"
echo "ok $T_NAME"
