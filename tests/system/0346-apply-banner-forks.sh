#!/bin/sh
# 0346-apply-banner-forks: `apply` logs one start-up banner (version,
# store, group, topics, metrics address), and forks and chain breaks as
# rate-limited lines whose counts add up to the store's counters.
# Against `oplogd broker` (in memory, no Kafka install).
. tests/system/lib.sh

dev_broker --partitions 2
A=$DEV_BOOTSTRAP
N=3000
run "$OPLOGD" gen --topic oplog -X bootstrap.servers="$A" --count $N --fork-rate 0.05 \
	--late-rate 0.1 --seed 6
assert_rc 0 "gen --topic: $(err)"
PORT=$(free_port)
cat >"$TDIR/c.conf" <<CONF
[kafka]
bootstrap.servers = $A
group.id = banner-g
[apply]
topics = oplog
batch_size = 50
[store]
path = $TDIR/s
[metrics]
listen = 127.0.0.1:$PORT
CONF

start=$(date +%s)
"$OPLOGD" apply -c "$TDIR/c.conf" 2>"$TDIR/apply.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"
all_in() { [ "$(store_messages "$TDIR/s")" = "$N" ]; }
wait_for 60 "apply to take in $N messages" all_in
kill -TERM $pid
wait $pid || fail "apply exited $? after SIGTERM"

version=$("$OPLOGD" --version | head -1 | awk '{print $2}')
assert_eq 1 "$(grep -c ' info  oplogd .* apply: ' "$TDIR/apply.log")" "one banner"
banner=$(grep ' apply: store ' "$TDIR/apply.log")
assert_contains "$banner" "oplogd $version apply: store $TDIR/s, group banner-g, topics oplog, metrics 127.0.0.1:$PORT" \
	"the banner"
[ "$(head -1 "$TDIR/apply.log" | grep -c ' apply: store ')" = 1 ] || fail "the banner is not the first line"

run "$OPLOGD" stats --store "$TDIR/s" --json
forks=$(json .forks)
breaks=$(json .chain_breaks)
[ "$forks" -gt 0 ] || fail "no forks to log"
grep ' forks and .* chain breaks stored since the last such line' "$TDIR/apply.log" >"$TDIR/fl" ||
	fail "no fork line: $(cat "$TDIR/apply.log")"
# Batches of 50 make dozens of batches with forks; at most one line per
# 10 s (the first at once), plus the last at stop.
secs=$(($(date +%s) - start))
n=$(lines "$TDIR/fl")
[ "$n" -le $((secs / 10 + 2)) ] || fail "$n fork lines in ${secs}s: not rate-limited: $(cat "$TDIR/fl")"
assert_eq "$forks" "$(awk '{for (i = 1; i <= NF; i++) if ($(i+1) == "forks") s += $i} END {print s}' "$TDIR/fl")" \
	"the fork lines add up to the stored forks"
assert_eq "$breaks" "$(awk '{for (i = 1; i <= NF; i++) if ($(i+1) == "chain") s += $i} END {print s}' "$TDIR/fl")" \
	"the lines add up to the chain breaks"
echo "ok $T_NAME"
