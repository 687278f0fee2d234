#!/bin/sh
# 0204-apply-metrics: the Prometheus endpoint of a running `oplogd apply`
# against a real Kafka broker. /metrics agrees with the store (applied,
# rejects by reason), shows lag 0 on every partition once caught up, and a
# batch-commit histogram whose count is the number of batches; /healthz
# answers ok; an unknown path is 404. A second applier on the same port
# exits non-zero with one line naming the address. The stream is produced
# by `oplogd gen --topic`, which must deliver every message.
# The gauges of the applier's state agree with the store and the group
# (assigned partitions, committed offsets, store bytes, rejects kept).
# Then the broker goes away with 2000 messages unread (apply was stopped
# while they were produced): within [metrics] health_grace /healthz turns
# 503 naming the bootstrap servers, the lag is NaN on the page and
# "unknown" in the progress line, never 0. With the broker back, all is
# applied and /healthz is ok again.
. tests/system/lib.sh
. tests/system/lib_kafka.sh
# Keyless (--key none): the messages spread over every partition, which
# keyed by dataset they would not with so few datasets.

N=6000
kafka_start --partitions 2
kafka_topic oplog 2
# shellcheck disable=SC2086 # KAFKA_CLIENT_PROPS is a list of words
run "$OPLOGD" gen --topic oplog --key none -X bootstrap.servers="$KAFKA_BOOTSTRAP" $KAFKA_CLIENT_PROPS \
	--datasets 2 --nodes 3 --count $N --dup-rate 0.05 --bad-rate 0.02 --seed 4
assert_rc 0 "gen --topic: $(err)"
assert_contains "$(err)" "gen: $N messages" "gen's summary"
kafka_kcat -C -t oplog -o beginning -e -q -f 'x\n' >"$TDIR/count" 2>/dev/null || fail "kcat count"
assert_eq "$N" "$(lines "$TDIR/count")" "messages on the broker"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
kafka_apply_conf "$TDIR/store" replica-m "[metrics]
listen = 127.0.0.1:$PORT
health_grace = 3s
[log]
progress_interval = 1s" >"$TDIR/apply.conf"

"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"

metric() {   # metric NAME_WITH_LABELS: its value on the last scraped page
	awk -v m="$1" '$1 == m { print $2; found = 1 } END { exit !found }' "$TDIR/page"
}
scrape() {
	curl -sf "$URL/metrics" >"$TDIR/page"
}
caught_up() {
	scrape || return 1
	[ "$(metric oplogd_messages_total)" = "$N" ] || return 1
	[ "$(metric 'oplogd_partition_lag{topic="oplog",partition="0"}')" = 0 ] || return 1
	[ "$(metric 'oplogd_partition_lag{topic="oplog",partition="1"}')" = 0 ]
}
wait_for 120 "/metrics to show all $N messages and lag 0" caught_up

run "$OPLOGD" stats --store "$TDIR/store" --json
assert_rc 0 "stats"
assert_eq "$(json .applied)" "$(metric oplogd_applied_total)" "applied: store vs /metrics"
assert_eq "$(json .duplicates)" "$(metric oplogd_duplicates_total)" "duplicates"
for reason in $(json '.rejected | keys[]'); do
	assert_eq "$(json ".rejected.$reason")" "$(metric "oplogd_rejected_total{reason=\"$reason\"}")" \
		"rejected $reason"
done
[ "$(json '[.rejected[]] | add')" -gt 0 ] || fail "the stream should hold bad messages"
assert_eq "$(metric oplogd_batches_total)" \
	"$(metric 'oplogd_batch_commit_seconds_bucket{le="+Inf"}')" "histogram +Inf bucket = batches"
assert_eq "$(metric oplogd_batches_total)" "$(metric oplogd_batch_commit_seconds_count)" \
	"histogram count = batches"
nodes=$(metric 'oplogd_nodes{dataset="ds-0"}') || fail "no oplogd_nodes gauge for ds-0: $(grep nodes "$TDIR/page")"
[ "$nodes" -eq 3 ] || fail "oplogd_nodes{ds-0} = $nodes, expected 3"
grep -q '^# TYPE oplogd_batch_commit_seconds histogram$' "$TDIR/page" || fail "no histogram TYPE line"
grep -q 'progress: .* lag 0,' "$TDIR/apply.log" || wait_for 5 "a progress line with lag 0" \
	grep -q 'progress: .* lag 0,' "$TDIR/apply.log"

assert_eq "200 ok" "$(curl -s -o "$TDIR/h" -w '%{http_code}' "$URL/healthz") $(cat "$TDIR/h")" "/healthz"
assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/nothing")" "unknown path"

# The applier's state.
committed_at_high() {
	scrape || return 1
	for p in 0 1; do
		[ "$(metric "oplogd_committed_offset{topic=\"oplog\",partition=\"$p\"}")" = \
			"$(kafka_kcat -Q -t oplog:$p:-1 | awk '{ print $NF }')" ] || return 1
	done
}
wait_for 20 "oplogd_committed_offset at each partition's end" committed_at_high
assert_eq 2 "$(metric oplogd_assigned_partitions)" "assigned partitions"
assert_eq 1 "$(metric "oplogd_build_info{version=\"$("$OPLOGD" --version | awk 'NR == 1 { print $2 }')\"}")" "build info"
run "$OPLOGD" stats --store "$TDIR/store" --json
kept=$(json .rejects_kept)
[ "$kept" -gt 0 ] || fail "no rejects kept"
# The store is read for these at most once a second.
wait_for 10 "oplogd_rejects_kept = $kept" sh -c \
	"curl -sf '$URL/metrics' | grep -qx 'oplogd_rejects_kept $kept'"
scrape || fail "/metrics"
[ "$(metric oplogd_store_bytes)" -gt 0 ] || fail "oplogd_store_bytes: $(metric oplogd_store_bytes)"
awk '$1 == "oplogd_seconds_since_broker_reply" && $2 < 3 { ok = 1 } END { exit !ok }' \
	"$TDIR/page" || fail "seconds since a broker reply: $(grep since_broker "$TDIR/page")"
for g in oplogd_seconds_since_store_commit oplogd_seconds_since_group_commit; do
	awk -v g=$g '$1 == g && $2 != "+Inf" { ok = 1 } END { exit !ok }' "$TDIR/page" ||
		fail "$g: $(grep "^$g" "$TDIR/page")"
done

# The broker goes away with messages unread.
kill -STOP $pid
# shellcheck disable=SC2086 # KAFKA_CLIENT_PROPS is a list of words
run "$OPLOGD" gen --topic oplog --key none -X bootstrap.servers="$KAFKA_BOOTSTRAP" $KAFKA_CLIENT_PROPS \
	--datasets 2 --nodes 3 --count 2000 --seed 41
assert_rc 0 "gen --topic (2000 more): $(err)"
kafka_kill_broker
kill -CONT $pid
unhealthy() {
	[ "$(curl -s -o "$TDIR/h" -w '%{http_code}' "$URL/healthz")" = 503 ] &&
		grep -q "no broker has answered for .* (bootstrap.servers $KAFKA_BOOTSTRAP)" "$TDIR/h"
}
wait_for 30 "/healthz 503 naming the bootstrap servers" unhealthy
# The page's lag is as of the loop's last snapshot, at most a second older.
lag_unknown() {
	scrape && [ "$(metric 'oplogd_partition_lag{topic="oplog",partition="0"}')" = NaN ] &&
		[ "$(metric 'oplogd_partition_lag{topic="oplog",partition="1"}')" = NaN ]
}
wait_for 5 "lag NaN on /metrics while the broker is down" lag_unknown
wait_for 10 "a progress line with lag unknown" \
	grep -q 'progress: .*, lag unknown (2 of 2 partitions without a current high watermark),' \
	"$TDIR/apply.log"
kafka_restart_broker
caught_up_again() {
	scrape && [ "$(metric oplogd_messages_total)" = $((N + 2000)) ] &&
		[ "$(metric 'oplogd_partition_lag{topic="oplog",partition="0"}')" = 0 ] &&
		[ "$(metric 'oplogd_partition_lag{topic="oplog",partition="1"}')" = 0 ] &&
		[ "$(curl -s "$URL/healthz")" = ok ]
}
wait_for 120 "everything applied and /healthz ok with the broker back" caught_up_again

# The port is taken: a second applier fails at once, one line, non-zero.
sed "s/group.id = replica-m/group.id = replica-m2/; s#path = $TDIR/store#path = $TDIR/store2#" \
	"$TDIR/apply.conf" >"$TDIR/second.conf"
run timeout 30 "$OPLOGD" apply -c "$TDIR/second.conf"
[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] || fail "second applier on a taken port: exit $RC"
assert_eq 1 "$(err | wc -l)" "one line on stderr"
assert_contains "$(err)" "127.0.0.1:$PORT: Address already in use" "the reason"

kill -TERM $pid
wait_for 15 "apply to exit after SIGTERM" sh -c "! kill -0 $pid 2>/dev/null"
wait $pid || fail "apply exited $? after SIGTERM: $(tail -n 5 "$TDIR/apply.log")"
echo "ok $T_NAME"
