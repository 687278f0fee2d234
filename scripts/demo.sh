#!/bin/sh
# make demo: the whole system on one machine without Kafka. A dev broker
# (`oplogd broker`, librdkafka's in-memory mock cluster), a synthetic
# stream produced to it (`oplogd gen --topic`) with duplicates, late
# arrivals, forks, bad messages and entries lost upstream, the replica
# applier (`oplogd apply`) until the lag is 0, then what an operator looks
# at. Everything it starts is stopped at the end, pass or fail.
set -eu
OPLOGD=${OPLOGD:-build/oplogd}
dir=$(mktemp -d "${TMPDIR:-/tmp}/oplogd-demo.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

# Poll CMD until it succeeds, for at most $1 seconds.
wait_until() {
	_end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.2
	done
}

step "start the dev broker: librdkafka's mock cluster, in memory, 5 MiB kept per partition, for trying oplogd only"
"$OPLOGD" broker >"$dir/broker.addr" 2>"$dir/broker.log" &
pids="$!"
wait_until 10 test -s "$dir/broker.addr" || die "the broker did not start: $(cat "$dir/broker.log")"
BOOTSTRAP=$(cat "$dir/broker.addr")
echo "bootstrap: $BOOTSTRAP"

step "produce 20000 messages to topic oplog, keyed by dataset (3 datasets: 3 of the 16 partitions), walls ending now: 4 nodes each; 5% duplicates, 10% late, 1% bad, a few forks, 0.3% lost upstream"
"$OPLOGD" gen --topic oplog -X bootstrap.servers="$BOOTSTRAP" --datasets 3 --nodes 4 \
	--count 20000 --dup-rate 0.05 --late-rate 0.1 --bad-rate 0.01 --fork-rate 0.001 \
	--gap-rate 0.003 --seed 7

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$dir/oplogd.conf" <<CONF
[kafka]
bootstrap.servers = $BOOTSTRAP
group.id = demo-replica
session.timeout.ms = 6000
[apply]
topics = oplog
commit_interval = 200ms
[store]
path = $dir/store
[metrics]
listen = 127.0.0.1:$port
[log]
progress_interval = 1s
CONF

step "run the replica applier (oplogd apply -c oplogd.conf) until the lag is 0"
"$OPLOGD" apply -c "$dir/oplogd.conf" 2>"$dir/apply.log" &
apply_pid=$!
pids="$apply_pid $pids"
wait_until 60 "$OPLOGD" lag -c "$dir/oplogd.conf" --max-lag 0 ||
	die "lag not 0 after 60 s: $(tail -n 5 "$dir/apply.log")"
grep -E 'assigned|progress' "$dir/apply.log" | tail -n 6

step "lag: per partition and per node (oplogd lag)"
"$OPLOGD" lag -c "$dir/oplogd.conf"

step "a few of the Prometheus metrics (http://127.0.0.1:$port/metrics)"
# The page is rendered once a second.
wait_until 5 sh -c "curl -s http://127.0.0.1:$port/metrics | grep -qx 'oplogd_messages_total 20000'" || true
curl -s "http://127.0.0.1:$port/metrics" |
	grep -E '^oplogd_(messages|applied|duplicates|late|forks)_total|^oplogd_rejected_total\{reason="(malformed|hash_mismatch)"|^oplogd_nodes_with_gaps' || true
printf 'healthz: %s\n' "$(curl -s "http://127.0.0.1:$port/healthz")"

step "the status page (http://127.0.0.1:$port/), as a browser shows it"
# The chart keeps a sample every 10 s; the page shows the current one too.
wait_until 5 sh -c "curl -s http://127.0.0.1:$port/status.json | jq -e '.lag == 0' " || true
shot_dir=$(dirname "$OPLOGD")
if command -v chromium >/dev/null 2>&1; then
	if HOME=$dir chromium --headless --disable-gpu --no-sandbox --hide-scrollbars \
		--user-data-dir="$dir/chromium" --screenshot="$shot_dir/status.png" \
		--window-size=1280,900 "http://127.0.0.1:$port/" >"$dir/chromium.log" 2>&1; then
		echo "screenshot: $(cd "$shot_dir" && pwd)/status.png"
	else
		echo "no screenshot: chromium failed: $(tail -n 2 "$dir/chromium.log")"
	fi
else
	echo "no screenshot: chromium is not installed (sh scripts/deps.sh)"
fi
curl -s "http://127.0.0.1:$port/status.json" |
	jq -c '{version, uptime_s, lag, partitions: [.partitions[] | [.partition, .high, .stored, .committed, .lag]], gaps: .gaps.nodes, rejects: (.rejects | length)}'

step "heads of ds-0"
"$OPLOGD" heads -c "$dir/oplogd.conf" --dataset ds-0

step "watermarks and gaps of ds-0 (the gaps are the entries lost upstream)"
"$OPLOGD" watermarks -c "$dir/oplogd.conf" --dataset ds-0

step "one document: ds-0 c0/k1"
"$OPLOGD" doc -c "$dir/oplogd.conf" --dataset ds-0 --col c0 --key k1 || true

step "the last 5 rejected messages (of $("$OPLOGD" stats -c "$dir/oplogd.conf" --json | jq '[.rejected[]] | add'))"
"$OPLOGD" rejects -c "$dir/oplogd.conf" --limit 5

step "verify: every index and derived record agrees with the oplog"
"$OPLOGD" verify -c "$dir/oplogd.conf"

step "stop the applier (SIGTERM: finish the batch, commit, leave the group) and the broker"
kill -TERM "$apply_pid"
wait "$apply_pid" || die "apply exited $? after SIGTERM"
tail -n 1 "$dir/apply.log"
echo "demo done"
