#!/bin/sh
# 0351-grafana-dashboard: every metric contrib/grafana-oplogd.json queries
# exists on the /metrics page of a live `oplogd apply` (against `oplogd
# broker`, fed by `gen --topic` with bad messages, forks and gaps, so that
# every family has samples). The names come from the panels' `expr` fields
# and the template variables' queries (each oplogd_[a-z_]+ in them); a name
# exists when the page has a sample of it, and a histogram's
# _bucket/_sum/_count also needs its base declared `# TYPE ... histogram`.
# The check itself is shown to fail on a misspelt name. The dashboard is
# one JSON object with a uid, a title and a data source on every panel,
# and it queries the metrics the operator needs (applied and rejected
# rates, lag, commit quantiles, store bytes, rejects kept, gaps, version).
. tests/system/lib.sh

DASH=contrib/grafana-oplogd.json
[ -f "$DASH" ] || fail "no $DASH"
jq -e 'type == "object" and (.uid | length > 0) and (.title | length > 0)' "$DASH" >/dev/null ||
	fail "$DASH is not a dashboard with a uid and a title"
nods=$(jq '[.panels[] | select(.type != "row" and .datasource == null)] | length' "$DASH")
assert_eq 0 "$nods" "panels without a data source"
jq -r '[(.. | objects | .expr? // empty), (.templating.list[].query | objects | .query)] | .[]' \
	"$DASH" >"$TDIR/exprs" || fail "reading the queries of $DASH"
grep -o 'oplogd_[a-z_]*' "$TDIR/exprs" | sort -u >"$TDIR/names"
[ "$(lines "$TDIR/names")" -ge 20 ] || fail "only $(lines "$TDIR/names") metric names in $DASH"
for want in 'rate(oplogd_applied_total' 'rate(oplogd_rejected_total' 'oplogd_partition_lag' \
	'histogram_quantile(0.99, sum by (instance, le) (rate(oplogd_batch_commit_seconds_bucket' \
	oplogd_seconds_since_broker_reply oplogd_seconds_since_store_commit \
	oplogd_seconds_since_group_commit oplogd_store_bytes oplogd_rejects_kept \
	oplogd_nodes_with_gaps oplogd_build_info; do
	grep -qF "$want" "$TDIR/exprs" || fail "$DASH has no query with '$want'"
done

# missing NAMES PAGE: the names of file NAMES that PAGE has no sample of.
missing() {
	while read -r name; do
		case $name in
		*_bucket|*_sum|*_count)
			base=${name%_*}
			grep -qx "# TYPE $base histogram" "$2" || { echo "$name"; continue; } ;;
		esac
		grep -Eq "^$name(\\{| )" "$2" || echo "$name"
	done <"$1"
}

dev_broker
B=$DEV_BOOTSTRAP
N=3000
run "$OPLOGD" gen --topic oplog -X bootstrap.servers="$B" --datasets 2 --nodes 3 --count $N \
	--dup-rate 0.05 --late-rate 0.1 --bad-rate 0.02 --fork-rate 0.01 --gap-rate 0.01 --seed 6
assert_rc 0 "gen --topic"

PORT=$(free_port)
cat >"$TDIR/apply.conf" <<CONF
[kafka]
bootstrap.servers = $B
group.id = dash
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

# Every family is on the page once all is applied and committed to the
# group (committed_offset) and the per-dataset gauges have been read.
page_complete() {
	curl -sf "http://127.0.0.1:$PORT/metrics" >"$TDIR/page" || return 1
	grep -qx "oplogd_messages_total $N" "$TDIR/page" || return 1
	grep -q '^oplogd_committed_offset{' "$TDIR/page" || return 1
	[ -z "$(missing "$TDIR/names" "$TDIR/page")" ]
}
end=$(($(date +%s) + 60))
until page_complete; do
	[ "$(date +%s)" -lt "$end" ] ||
		fail "metrics $DASH queries that /metrics lacks after 60 s:" \
			"$(missing "$TDIR/names" "$TDIR/page" | tr '\n' ' ')(apply: $(tail -n 3 "$TDIR/apply.log"))"
	sleep 0.2
done

# The check can fail: a misspelt name, a histogram's base name and a
# suffix on a metric that is no histogram are all reported.
printf '%s\n' oplogd_applied_totals oplogd_batch_commit_seconds oplogd_store_bytes_count \
	oplogd_applied_total >"$TDIR/bad"
assert_eq "oplogd_applied_totals oplogd_batch_commit_seconds oplogd_store_bytes_count " \
	"$(missing "$TDIR/bad" "$TDIR/page" | tr '\n' ' ')" "names missing from the page"
echo "ok $T_NAME"
