#!/bin/sh
# 0203-apply-broker-down: the only Kafka broker dies (SIGKILL) while
# `oplogd apply` is in mid-stream and stays down 20 s. The applier rides it
# out: it is alive all along and after the broker is back, then fetches the
# rest of the stream and what is produced after the restart, commits its
# group offsets again (lag 0, with the store id), and exits 0 on SIGTERM.
# Each message is taken in once and each entry applied once: the counters,
# `verify` and a dump equal those of a direct import of the whole stream.
. tests/system/lib.sh
. tests/system/lib_kafka.sh

N1=50000
N2=10000
N=$((N1 + N2))
DOWN=20
GROUP=replica-down

kafka_start --partitions 4
kafka_topic oplog 4

gen_reference $N 24

# The first N1 messages before the outage, the other N2 after it.
assert_eq $N "$(lenpfx_split "$TDIR/s.bin" $N1 "$TDIR/s1.bin" "$TDIR/s2.bin")" \
	"messages in the stream"
kafka_produce_file oplog "$TDIR/s1.bin"

# A small prefetch (queued.max.messages.kbytes) keeps most of the stream on
# the broker when it dies, so the outage hits fetching, not only commits.
kafka_apply_conf "$TDIR/store" $GROUP '[kafka]
queued.max.messages.kbytes = 1024
[log]
progress_interval = 1s' >"$TDIR/apply.conf"

"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.log" &
pid=$!
# shellcheck disable=SC2016 # expanded at exit: the run alive then, if any
on_exit '[ -z "$pid" ] || kill -9 $pid 2>/dev/null'


# in_store_at_least COUNT
in_store_at_least() {
	[ "$(store_messages "$TDIR/store" 2>/dev/null)" -ge "$1" ]
}

alive() {
	kill -0 "$pid" 2>/dev/null || fail "apply is gone $*: $(tail -n 5 "$TDIR/apply.log")"
}

# ---- the outage ------------------------------------------------------------

kafka_wait_apply 120 "part of the stream in the store" "$TDIR/apply.log" in_store_at_least 10000
log_at_kill=$(lines "$TDIR/apply.log")
kafka_kill_broker
killed_at=$(store_messages "$TDIR/store") || fail "stats of the store"
# Held down DOWN seconds, checking all along that the applier lives.
end=$(($(date +%s) + DOWN))
while [ "$(date +%s)" -lt "$end" ]; do
	alive "while the broker is down"
	sleep 0.5
done
alive "after $DOWN s without a broker"
down_at=$(store_messages "$TDIR/store") || fail "stats of the store"
[ "$down_at" -lt $N1 ] ||
	fail "the applier had all $N1 messages before the broker came back: the outage did not hit mid-stream"
# The applier noticed: librdkafka's errors reach its log as warnings.
tail -n "+$((log_at_kill + 1))" "$TDIR/apply.log" | grep -q ' warn  kafka: ' ||
	fail "no 'kafka:' warning in the applier's log during the outage: $(tail -n "+$((log_at_kill + 1))" "$TDIR/apply.log" | tail -n 5)"

kafka_restart_broker
alive "after the broker restarted"

# ---- after it: the rest, and more ---------------------------------------------

kafka_produce_file oplog "$TDIR/s2.bin"
in_store() {
	[ "$(store_messages "$TDIR/store" 2>/dev/null)" = "$1" ]
}
kafka_wait_apply 180 "all $N messages in the store" "$TDIR/apply.log" in_store $N
alive "after catching up"
echo "# broker killed with $killed_at of $N messages in the store, $down_at after ${DOWN}s down"

# Group commits work again: the committed offsets reach the ends.
lag_zero() {
	[ "$(kafka_committed_lag $GROUP oplog 2>/dev/null)" = 0 ]
}
kafka_wait_apply 60 "committed lag 0 after the outage" "$TDIR/apply.log" lag_zero
store_id=$("$OPLOGD" stats --store "$TDIR/store" --json | jq -r .store_id) || fail "stats of the store"
kafka_committed $GROUP oplog >"$TDIR/committed"
assert_eq $N "$(awk '{ s += $3 } END { print s }' "$TDIR/committed")" "messages in oplog"
awk -v id="$store_id" '$5 != id { exit 1 }' "$TDIR/committed" ||
	fail "committed offsets without the store id $store_id as metadata: $(tr '\n' ';' <"$TDIR/committed")"

kill -TERM "$pid"
wait_for 15 "apply to exit after SIGTERM" sh -c "! kill -0 $pid 2>/dev/null"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" -eq 0 ] || fail "apply exited $rc after SIGTERM: $(tail -n 5 "$TDIR/apply.log")"
# Each message taken in once over the whole run, outage included.
grep -q " info  stopped: $N messages, " "$TDIR/apply.log" ||
	fail "the applier did not take in exactly $N messages: $(grep ' stopped: ' "$TDIR/apply.log")"

# ---- the store: everything once ------------------------------------------------

assert_same_as_reference "$TDIR/store"
echo "ok $T_NAME"
