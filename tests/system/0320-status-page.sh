#!/bin/sh
# 0320-status-page: the status page of a running `oplogd apply`, loaded in
# a real browser. Apply reads a generated stream (with bad messages and
# entries lost upstream) from the dev broker (`oplogd broker`, three
# partitions) until caught up; then headless Chromium loads / and the
# rendered DOM shows the version, a partitions table with one row per
# partition and lag 0 in each, the lag and rate charts as SVG with a drawn
# path, the datasets with gaps and the last rejects (as many rows as the
# store keeps, at most 10, newest first, matching `oplogd rejects`).
# /status.json carries the same data and agrees with /metrics: messages,
# applied, rejects kept, every partition's lag and committed offset.
# Without chromium the browser part is skipped, saying so.
. tests/system/lib.sh

command -v jq >/dev/null || fail "jq is needed (sh scripts/deps.sh)"
command -v curl >/dev/null || fail "curl is needed (sh scripts/deps.sh)"

N=3000
dev_broker --partitions 3
BOOTSTRAP=$DEV_BOOTSTRAP

run "$OPLOGD" gen --topic oplog -X bootstrap.servers="$BOOTSTRAP" --datasets 3 --nodes 4 \
	--count $N --bad-rate 0.02 --gap-rate 0.01 --seed 11
assert_rc 0 "gen --topic: $(err)"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >"$TDIR/apply.conf" <<CONF
[kafka]
bootstrap.servers = $BOOTSTRAP
group.id = status-page
session.timeout.ms = 6000
[apply]
topics = oplog
commit_interval = 200ms
[store]
path = $TDIR/store
[metrics]
listen = 127.0.0.1:$PORT
CONF
"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"

# Caught up: every message taken in, three partitions, each with lag 0
# and its offsets committed to the group; every reject read back from the
# store (the page's list is read with the count); and two chart samples
# with a known lag (a sample is kept every 10 s, besides the current one).
caught_up() {
	curl -sf "$URL/status.json" >"$TDIR/status.json" || return 1
	jq -e --argjson n "$N" '.totals.messages == $n and (.partitions | length) == 3 and
		all(.partitions[]; .lag == 0 and .committed == .high and .stored == .high) and
		.totals.rejects_kept != 0 and .totals.rejects_kept == .totals.rejected and
		([.chart.samples[] | select(.lag != null)] | length) >= 2' "$TDIR/status.json" >/dev/null
}
wait_for 60 "/status.json to show all $N messages and lag 0" caught_up
curl -sf "$URL/metrics" >"$TDIR/metrics" || fail "/metrics"
curl -sf "$URL/status.json" >"$TDIR/status.json" || fail "/status.json"

# /status.json against /metrics and the store.
metric() {
	awk -v m="$1" '$1 == m { print $2; found = 1 } END { exit !found }' "$TDIR/metrics"
}
sj() {
	jq -r "$1" "$TDIR/status.json" || fail "/status.json is not the JSON expected by '$1'"
}
version=$("$OPLOGD" --version | head -n 1 | awk '{ print $2 }')
assert_eq "$version" "$(sj .version)" "version in /status.json"
assert_eq "$TDIR/store" "$(sj .store)" "store in /status.json"
assert_eq "status-page" "$(sj .group)" "group in /status.json"
assert_eq "$(metric oplogd_messages_total)" "$(sj .totals.messages)" "messages"
assert_eq "$(metric oplogd_applied_total)" "$(sj .totals.applied)" "applied"
assert_eq "$(metric oplogd_rejects_kept)" "$(sj .totals.rejects_kept)" "rejects kept"
for p in 0 1 2; do
	assert_eq "$(metric "oplogd_partition_lag{topic=\"oplog\",partition=\"$p\"}")" \
		"$(sj ".partitions[] | select(.partition == $p) | .lag")" "lag of partition $p"
	assert_eq "$(metric "oplogd_committed_offset{topic=\"oplog\",partition=\"$p\"}")" \
		"$(sj ".partitions[] | select(.partition == $p) | .committed")" "committed of partition $p"
done
high_sum=$(sj '[.partitions[].high] | add')
assert_eq "$N" "$high_sum" "high watermarks summed"
run "$OPLOGD" rejects --store "$TDIR/store" --json --limit 10
assert_rc 0 "rejects"
kept=$(json 'length')
[ "$kept" -gt 0 ] || fail "the stream should hold bad messages"
assert_eq "$(json '[.[].id] | reverse | tostring')" "$(sj '[.rejects[].id] | tostring')" \
	"the last rejects in /status.json, newest first"
assert_eq "$(json '.[-1].reason')" "$(sj '.rejects[0].reason')" "the newest reject's reason"
gap_nodes=$(metric 'oplogd_nodes_with_gaps{dataset="ds-0"}')
assert_eq "$gap_nodes" "$(sj '.gaps.listed[] | select(.dataset == "ds-0") | .with_gaps')" \
	"ds-0's nodes with gaps"

# The page itself, as served.
curl -sf -o "$TDIR/page.html" -w '%{content_type}' "$URL/" >"$TDIR/type" || fail "GET /"
assert_eq "text/html; charset=utf-8" "$(cat "$TDIR/type")" "the page's content type"
grep -q 'http-equiv="refresh"' "$TDIR/page.html" || fail "the page does not reload itself"
if grep -Eq '<script|<link|src="http|href="http' "$TDIR/page.html"; then
	fail "the page is not self-contained"
fi

if ! command -v chromium >/dev/null 2>&1; then
	echo "skip $T_NAME browser part: chromium is not installed (sh scripts/deps.sh)"
	echo "ok $T_NAME"
	exit 0
fi
# The DOM as the browser builds it.
HOME=$TDIR chromium --headless --disable-gpu --no-sandbox --user-data-dir="$TDIR/chromium" \
	--dump-dom "$URL/" >"$TDIR/dom.html" 2>"$TDIR/chromium.log" ||
	fail "chromium: $(tail -n 3 "$TDIR/chromium.log")"
# One element per line, to count and pick them.
tr '\n' ' ' <"$TDIR/dom.html" | sed 's/</\n</g' >"$TDIR/dom"
dom() { grep -c -- "$1" "$TDIR/dom" || true; }
grep -q "^<span class=\"ver\" id=\"version\">$version$" "$TDIR/dom" ||
	fail "no version $version in the rendered page: $(head -c 600 "$TDIR/dom.html")"
assert_eq 1 "$(dom '^<table id="partitions">')" "a partitions table"
assert_eq 3 "$(dom '^<tr class="partition">')" "rows of the partitions table"
assert_eq 3 "$(dom '^<td class="n lag" data-lag="0">0$')" "partitions with lag 0"
assert_eq 1 "$(dom '^<td class="n" id="lag-total" data-lag="0">')" "total lag 0"
for chart in chart-lag chart-rate; do
	sed -n "/^<figure id=\"$chart\">/,/^<\\/figure>/p" "$TDIR/dom" >"$TDIR/$chart"
	grep -q '^<svg' "$TDIR/$chart" || fail "$chart: no SVG element"
	grep -Eq '^<path class="line [a-z]+" d="M[0-9.]+ [0-9.]+ L[0-9.]+ [0-9.]+' "$TDIR/$chart" ||
		fail "$chart: no drawn path: $(grep '^<path' "$TDIR/$chart")"
done
assert_eq 1 "$(dom '^<table id="gaps">')" "a table of datasets with gaps"
assert_eq 1 "$(dom '^<table id="rejects">')" "a rejects section"
assert_eq "$kept" "$(dom '^<tr class="reject">')" "rows of the rejects table"
newest=$(sed -n '/^<tr class="reject">/{n;p;q}' "$TDIR/dom" | sed 's/^<td class="n">//')
assert_eq "$(json '.[-1].id')" "$(printf '%s' "$newest" | tr -d ' ')" "the newest reject first"

# An unknown path says which exist.
assert_eq 404 "$(curl -s -o "$TDIR/nf" -w '%{http_code}' "$URL/nothing")" "unknown path"
assert_contains "$(cat "$TDIR/nf")" "/status.json" "the 404 names the pages"
echo "ok $T_NAME"
