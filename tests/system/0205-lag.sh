#!/bin/sh
# 0205-lag: `oplogd lag` against a real Kafka broker, while apply runs and
# after it stopped. Caught up, it agrees with kafka-consumer-groups.sh on
# every partition (committed = CURRENT-OFFSET, high = LOG-END-OFFSET, lag 0)
# and reports each node. With apply stopped and M more messages produced,
# total_lag is M, the committed offsets still carry this store's id,
# --max-lag M-1 exits 1 and --max-lag M exits 0. A store id other than the
# committer's is reported as such.
. tests/system/lib.sh
. tests/system/lib_kafka.sh
# Keyless (--key none): the messages spread over every partition, which
# keyed by dataset they would not with so few datasets.

N=3000 M=250
kafka_start --partitions 3
kafka_topic oplog 3
gen_to_topic() {   # gen_to_topic COUNT SEED
	# shellcheck disable=SC2086 # KAFKA_CLIENT_PROPS is a list of words
	run "$OPLOGD" gen --topic oplog --key none -X bootstrap.servers="$KAFKA_BOOTSTRAP" $KAFKA_CLIENT_PROPS \
		--datasets 2 --nodes 3 --count "$1" --seed "$2"
	assert_rc 0 "gen --topic: $(err)"
}
gen_to_topic $N 5

kafka_apply_conf "$TDIR/store" replica-l >"$TDIR/apply.conf"

"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"

lag_json() {
	"$OPLOGD" lag -c "$TDIR/apply.conf" --json >"$TDIR/lag.json" 2>"$TDIR/lag.err"
}
# Caught up in the store, and the group's commits caught up too.
caught_up() {
	lag_json && jq -e '.total_lag == 0 and ([.partitions[] | select(.committed == .high)] |
		length) == 3' "$TDIR/lag.json" >/dev/null
}
wait_for 120 "lag 0 with every commit at the high watermark" caught_up

# The same picture through Kafka's own tool, row by row.
rows=$(kafka_group_lag replica-l oplog)
assert_eq 3 "$(echo "$rows" | wc -l)" "rows from kafka-consumer-groups.sh: $rows"
ours=$(jq -r '.partitions[] | "\(.partition) \(.committed) \(.high) \(.lag)"' "$TDIR/lag.json")
assert_eq "$rows" "$ours" "lag vs kafka-consumer-groups.sh (partition current logend lag)"
jq -e '[.partitions[] | .committed_by_store and .stored == .high] | all' "$TDIR/lag.json" \
	>/dev/null || fail "stored/committed_by_store: $(cat "$TDIR/lag.json")"
assert_eq 6 "$(jq '.nodes | length' "$TDIR/lag.json")" "nodes reported"
jq -e '[.nodes[] | .head_seq > 0 and .gaps == 0 and .watermark == .head_seq and
	.time_lag_ms >= 0] | all' "$TDIR/lag.json" >/dev/null ||
	fail "nodes: $(jq -c .nodes "$TDIR/lag.json")"
run "$OPLOGD" lag -c "$TDIR/apply.conf"
assert_rc 0 "lag (text)"
assert_contains "$(out)" "total_lag 0" "text output"

# SIGHUP reloads and never kills; SIGTERM stops it cleanly (the group's
# offsets are checked below).
kill -HUP $pid
wait_for 10 "the reload's line" grep -q "reload: no reloadable key changed" "$TDIR/apply.log"
kill -0 $pid || fail "apply exited after SIGHUP: $(tail -n 5 "$TDIR/apply.log")"
kill -TERM $pid
wait_for 15 "apply to exit after SIGTERM" sh -c "! kill -0 $pid 2>/dev/null"
wait $pid || fail "apply exited $? after SIGTERM: $(tail -n 5 "$TDIR/apply.log")"

# Stopped; M more arrive. lag reads the store and the broker without the
# daemon, and never moves the group.
gen_to_topic $M 6
lag_json || fail "lag: $(cat "$TDIR/lag.err")"
assert_eq $M "$(jq .total_lag "$TDIR/lag.json")" "total_lag with apply stopped"
jq -e '[.partitions[] | .committed_by_store and .committed == .stored] | all' "$TDIR/lag.json" \
	>/dev/null || fail "committed offsets: $(jq -c .partitions "$TDIR/lag.json")"
run "$OPLOGD" lag -c "$TDIR/apply.conf" --max-lag $((M - 1))
assert_rc 1 "--max-lag below the lag"
run "$OPLOGD" lag -c "$TDIR/apply.conf" --max-lag $M
assert_rc 0 "--max-lag at the lag"
run "$OPLOGD" lag -c "$TDIR/apply.conf" --max-lag x
assert_rc 2 "--max-lag x"

# Another store: the group's offsets are not its own, and it would start
# from the earliest offset, so its lag is everything.
"$OPLOGD" import --store "$TDIR/other" /dev/null >/dev/null 2>&1 || fail "creating another store"
run "$OPLOGD" lag -c "$TDIR/apply.conf" --set store.path="$TDIR/other" --json
assert_rc 0 "lag of another store"
assert_eq $((N + M)) "$(json .total_lag)" "another store's lag"
assert_eq false "$(json '[.partitions[].committed_by_store] | any')" "committed_by_store"

# No broker there: a clear one-line error naming the request, exit 2.
run "$OPLOGD" lag -c "$TDIR/apply.conf" -X bootstrap.servers=127.0.0.1:1
assert_rc 2 "lag without a broker"
assert_eq 1 "$(err | wc -l)" "one line on stderr"
assert_contains "$(err)" "metadata for topic oplog" "the error names the request"
echo "ok $T_NAME"
