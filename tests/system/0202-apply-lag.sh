#!/bin/sh
# 0202-apply-lag: the offsets `oplogd apply` commits to its Kafka group, as
# a client other than librdkafka reads them (kafka-python, OffsetFetch):
# after a SIGTERM that follows catching up they are the partitions' ends,
# with the store id as metadata; N2 messages produced while the applier is
# down show as a committed lag of exactly N2; restarted, it commits its way
# back to lag 0, which Kafka's own kafka-consumer-groups.sh confirms on
# every partition of the live group. The store then equals a direct import
# of the whole stream, each entry applied once.
. tests/system/lib.sh
. tests/system/lib_kafka.sh

N1=30000
N2=7321
N=$((N1 + N2))
GROUP=replica-lag

kafka_start --partitions 4
kafka_topic oplog 4

gen_reference $N 23

# The first N1 messages now, the other N2 while the applier is down.
assert_eq $N "$(lenpfx_split "$TDIR/s.bin" $N1 "$TDIR/s1.bin" "$TDIR/s2.bin")" \
	"messages in the stream"
kafka_produce_file oplog "$TDIR/s1.bin"

kafka_apply_conf "$TDIR/store" $GROUP >"$TDIR/apply.conf"

pid=""
# shellcheck disable=SC2016 # expanded at exit: the run alive then, if any
on_exit '[ -z "$pid" ] || kill -9 $pid 2>/dev/null'


# in_store COUNT: the store has taken in COUNT messages.
in_store() {
	[ "$(store_messages "$TDIR/store" 2>/dev/null)" = "$1" ]
}

# stop_apply LOG: SIGTERM, which must end the applier with status 0.
stop_apply() {
	kill -TERM "$pid"
	wait_for 15 "apply to exit after SIGTERM" sh -c "! kill -0 $pid 2>/dev/null"
	rc=0
	wait "$pid" || rc=$?
	pid=""
	[ "$rc" -eq 0 ] || fail "apply exited $rc after SIGTERM: $(tail -n 5 "$1")"
}

# check_metadata: every committed offset carries the store's id.
check_metadata() {
	awk -v id="$store_id" '$5 != id { print "oplog/" $1 ": metadata " $5; bad = 1 } END { exit bad }' \
		"$TDIR/committed" >"$TDIR/committed.bad" ||
		fail "committed offsets without the store id $store_id as metadata: $(tr '\n' ';' <"$TDIR/committed.bad")"
}

# ---- caught up, then stopped: committed = end everywhere ---------------

"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.1.log" &
pid=$!
kafka_wait_apply 120 "the first $N1 messages in the store" "$TDIR/apply.1.log" in_store $N1
stop_apply "$TDIR/apply.1.log"
store_id=$("$OPLOGD" stats --store "$TDIR/store" --json | jq -r .store_id) || fail "stats of the store"
case $store_id in "" | null) fail "no store id in stats" ;; esac

kafka_committed $GROUP oplog >"$TDIR/committed"
assert_eq 4 "$(lines "$TDIR/committed")" "partitions of oplog"
assert_eq $N1 "$(awk '{ s += $3 } END { print s }' "$TDIR/committed")" "messages in oplog"
awk '$2 != $3 { exit 1 }' "$TDIR/committed" ||
	fail "after SIGTERM the committed offsets are not the ends: $(tr '\n' ';' <"$TDIR/committed")"
check_metadata
cp "$TDIR/committed" "$TDIR/committed.1"

# ---- N2 more messages while it is down: lag N2 ------------------------

kafka_produce_file oplog "$TDIR/s2.bin"
kafka_committed $GROUP oplog >"$TDIR/committed"
assert_eq $N "$(awk '{ s += $3 } END { print s }' "$TDIR/committed")" "messages in oplog"
assert_eq $N2 "$(kafka_committed_lag $GROUP oplog)" "summed committed lag with the applier down"
# Nothing moved the group while no member was alive.
assert_eq "$(cut -d' ' -f1,2,5 "$TDIR/committed.1")" "$(cut -d' ' -f1,2,5 "$TDIR/committed")" \
	"committed offsets while the applier is down"

# ---- restarted: back to lag 0 ------------------------------------------

"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.2.log" &
pid=$!
lag_zero() {
	[ "$(kafka_committed_lag $GROUP oplog 2>/dev/null)" = 0 ]
}
kafka_wait_apply 120 "committed lag 0 after the restart" "$TDIR/apply.2.log" lag_zero
in_store $N || fail "committed lag is 0 but the store holds $(store_messages "$TDIR/store") of $N messages"
kafka_committed $GROUP oplog >"$TDIR/committed"
check_metadata

# Kafka's own tool on the live group agrees, partition by partition.
group_lag_zero() {
	rows=$(kafka_group_lag $GROUP oplog) || return 1
	[ "$(echo "$rows" | wc -l)" -eq 4 ] && echo "$rows" | awk '$4 != 0 { exit 1 }'
}
tries=0
until group_lag_zero; do
	tries=$((tries + 1))
	[ "$tries" -lt 30 ] || fail "kafka-consumer-groups.sh lag not 0 after 30 tries: $(kafka_group_lag $GROUP oplog | tr '\n' ';')"
	sleep 1
done
kill -0 "$pid" 2>/dev/null || fail "apply died: $(tail -n 5 "$TDIR/apply.2.log")"
stop_apply "$TDIR/apply.2.log"
grep -q "assigned oplog/.*(the store's)" "$TDIR/apply.2.log" ||
	fail "the restarted applier did not start from the store's offsets: $(grep assigned "$TDIR/apply.2.log" | tr '\n' ';')"

# ---- the store: everything once ----------------------------------------

assert_same_as_reference "$TDIR/store"
echo "ok $T_NAME"
