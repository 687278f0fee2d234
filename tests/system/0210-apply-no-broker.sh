#!/bin/sh
# 0210-apply-no-broker: `oplogd apply` with bootstrap.servers naming a port
# where no broker listens (no Kafka is started). Within [metrics]
# health_grace /healthz answers 503 with one line naming the bootstrap
# servers and the last client error; /metrics says no broker ever replied
# (+Inf) and no partition is assigned; the progress line says the lag is
# unknown, never 0. SIGHUP reloads: a bad file is refused with a warning
# naming it; a good one applies [log] progress_interval at once and names
# the changed key that waits for a restart. SIGTERM still stops it cleanly. `oplogd lag --timeout 1s`
# then gives up within seconds, names the bootstrap servers, still prints
# the nodes of the store (text and JSON, total_lag null) and exits 2.
. tests/system/lib.sh

PORT=$(free_port)
DEAD=127.0.0.1:$(free_port)
URL=http://127.0.0.1:$PORT
cat >"$TDIR/apply.conf" <<CONF
[kafka]
bootstrap.servers = $DEAD
group.id = replica-nb
[apply]
topics = oplog
[store]
path = $TDIR/store
[metrics]
listen = 127.0.0.1:$PORT
health_grace = 2s
[log]
progress_interval = 1s
CONF

run "$OPLOGD" gen --out "$TDIR/stream.bin" --framing lenpfx --datasets 1 --nodes 2 --count 50
assert_rc 0 "gen: $(err)"
run "$OPLOGD" import -c "$TDIR/apply.conf" --framing lenpfx "$TDIR/stream.bin"
assert_rc 0 "import: $(err)"

"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"

unhealthy() {
	[ "$(curl -s -o "$TDIR/h" -w '%{http_code}' "$URL/healthz")" = 503 ] &&
		grep -q "no broker has answered since the start" "$TDIR/h"
}
wait_for 20 "/healthz 503: no broker has answered" unhealthy
assert_eq 1 "$(lines "$TDIR/h")" "one line of reason"
assert_contains "$(cat "$TDIR/h")" "(bootstrap.servers $DEAD); last error: " "the servers and the error"
curl -sf "$URL/metrics" >"$TDIR/page" || fail "/metrics"
grep -qx 'oplogd_seconds_since_broker_reply +Inf' "$TDIR/page" ||
	fail "broker reply gauge: $(grep since_broker "$TDIR/page")"
grep -qx 'oplogd_assigned_partitions 0' "$TDIR/page" ||
	fail "assigned partitions: $(grep assigned "$TDIR/page")"
wait_for 10 "a progress line with the lag unknown" \
	grep -q 'progress: .*, lag unknown (no partition assigned),' "$TDIR/apply.log"
grep -q 'progress: .*, lag 0,' "$TDIR/apply.log" && fail "a progress line said lag 0"

# SIGHUP reloads. A bad file changes nothing and says why.
cp "$TDIR/apply.conf" "$TDIR/good.conf"
printf '[log]\nlevel = loud\n' >>"$TDIR/apply.conf"
kill -HUP $pid
wait_for 10 "the failed reload's warning" \
	grep -q "reload: the configuration is unchanged: .*apply.conf:[0-9]*: .*loud" "$TDIR/apply.log"
# A good one: [log] applies at once, other keys are named and kept.
sed 's/^progress_interval = 1s$/progress_interval = 1h/; s/^group.id = replica-nb$/group.id = other/' \
	"$TDIR/good.conf" >"$TDIR/apply.conf"
kill -HUP $pid
wait_for 10 "the reload's lines" grep -q "reload: changed, kept until a restart: kafka.group.id" \
	"$TDIR/apply.log"
grep -q "info  reload: log.progress_interval$" "$TDIR/apply.log" ||
	fail "the reload's applied keys: $(grep reload: "$TDIR/apply.log")"
before=$(grep -c 'progress:' "$TDIR/apply.log")
sleep 3
kill -0 $pid || fail "apply exited after SIGHUP"
assert_eq "$before" "$(grep -c 'progress:' "$TDIR/apply.log")" "progress lines after progress_interval = 1h"

kill -TERM $pid
wait_for 30 "apply to exit after SIGTERM" sh -c "! kill -0 $pid 2>/dev/null"
wait $pid || fail "apply exited $? after SIGTERM: $(tail -n 5 "$TDIR/apply.log")"

t0=$(date +%s)
run "$OPLOGD" lag -c "$TDIR/apply.conf" --timeout 1s
assert_rc 2 "lag without a broker"
[ $(($(date +%s) - t0)) -le 8 ] || fail "lag --timeout 1s took $(($(date +%s) - t0)) s"
assert_contains "$(err)" "bootstrap.servers $DEAD" "lag's error names the servers"
assert_contains "$(out)" "partitions: unknown" "lag's partitions"
assert_contains "$(out)" "node-1" "lag's node section"
assert_contains "$(out)" "total_lag unknown" "lag's total"
run "$OPLOGD" lag -c "$TDIR/apply.conf" --timeout 1s --json
assert_rc 2 "lag --json without a broker"
assert_eq "2 null null" "$(json '"\(.nodes | length) \(.total_lag) \(.partitions)"')" "lag --json"
assert_contains "$(json .error)" "bootstrap.servers $DEAD" "lag --json error"
run "$OPLOGD" lag -c "$TDIR/apply.conf" --timeout 0
assert_rc 2 "lag --timeout 0"
assert_contains "$(err)" "--timeout: bad duration '0'" "bad --timeout"
echo "ok $T_NAME"
