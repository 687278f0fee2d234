#!/bin/sh
# bench_report: the summary table of `make bench`, from the figures the
# benchmark scripts wrote.
#
#   sh bench/bench_report.sh RESULTS
#
# RESULTS holds KEY=VALUE lines (bench/lib.sh's result(); the last line of
# a key wins), written by bench_import.sh, bench_apply.sh and
# scripts/run-bench.sh (part_*_s: seconds per part, stream_* and scale).
# Prints one table: every headline figure with its target and a mark,
# "pass" or "MISS". A miss is reported, not failed: this exits 0 whenever
# it could print the table; a figure a failed part did not produce shows
# as "-", marked "no figure". Exits 2 when RESULTS cannot be read.
set -eu

BENCH_NAME=bench_report
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
RES=${1:-}
if [ -z "$RES" ] || [ ! -r "$RES" ]; then
	die "usage: bench_report.sh RESULTS (a readable file)"
fi

# val KEY: the figure, or "" when no part wrote it.
val() {
	sed -n "s/^$1=//p" "$RES" | tail -n 1
}

N1=$(count_name "$BENCH_UNIT")
N5=$(count_name $((BENCH_SLICES * BENCH_UNIT)))
FIXED=10000
PASSED=0
TARGETS=0
MISSED=""

# row WHAT VALUE UNIT [TARGET OP LIMIT] [DECIMALS]: OP is ">=" or "<";
# without a target the last columns stay empty.
row() {
	_what=$1 _v=$2 _unit=$3 _target="" _mark="" _dec=1
	if [ $# -ge 6 ]; then
		_target="$5 $6"
		[ $# -lt 7 ] || _dec=$7
		TARGETS=$((TARGETS + 1))
		if [ -z "$_v" ]; then
			_mark="no figure"
			MISSED="$MISSED; $_what (no figure)"
		elif awk -v v="$_v" -v op="$5" -v l="$6" 'BEGIN { exit !(op == ">=" ? v >= l : v < l) }'; then
			_mark=pass
			PASSED=$((PASSED + 1))
		else
			_mark=MISS
			MISSED="$MISSED; $_what"
		fi
	elif [ $# -ge 4 ]; then
		_dec=$4
	fi
	if [ -n "$_v" ]; then
		_v=$(awk -v v="$_v" -v d="$_dec" 'BEGIN { printf "%.*f\n", d, v }')
	else
		_v=-
	fi
	printf '| %-52s | %12s | %-11s | %-10s | %-9s |\n' "$_what" "$_v" "$_unit" "$_target" "$_mark"
}

# The apply target is relative to kcat's rate in the same run.
KCAT=$(val kcat_rate)
APPLY=$(val apply_default_rate)
TXNS=$(val import_1m_default_txns)

printf '\n== summary\n\n'
printf 'oplogd benchmark summary: %s entries of "oplogd %s",\n' \
	"$(val stream_entries)" "$(val stream_gen)"
printf '%s bytes/message; stores new and durable (default [store] settings) in %s; %s\n' \
	"$(val stream_msg_bytes)" "$(val bench_dir)" \
	"$([ "${BENCH_SCALE:-}" = small ] && echo "BENCH_SCALE=small: counts are a tenth, marks are not figures" || echo "full scale")"
printf '\n| %-52s | %-12s | %-11s | %-10s | %-9s |\n' measure value unit target result
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------------------------" \
	"--------------" "-------------" "------------" "-----------"
row "import $N1, default policy" "$(val import_1m_default_rate)" entries/s "" ">=" 150000
row "import $N1, --batch $FIXED" "$(val import_1m_fixed_rate)" entries/s "" ">=" 90000
row "import $N5, default policy" "$(val import_5m_default_rate)" entries/s
row "import $N5 default, last / first $N1 window" "$(val import_5m_default_last_first)" x "" ">=" 0.8 2
row "import $N5, --batch $FIXED" "$(val import_5m_fixed_rate)" entries/s
row "import $N5 --batch $FIXED, last / first $N1 window" "$(val import_5m_fixed_last_first)" x 2
row "LMDB ceiling: $N1 appended, $(val ceiling_batch)/commit" "$(val ceiling_rate)" entries/s
row "import $N1 default / ceiling" \
	"$(ratio "$(val import_1m_default_rate)" "$(val ceiling_rate)" 3)" x 3
row "kcat -C, $N1 backlog, Kafka 0.9 (median of 3)" "$KCAT" msgs/s
row "apply from Kafka, $N1 backlog, default policy" "$APPLY" entries/s "" ">=" 120000
row "apply / kcat" "$(ratio "$APPLY" "$KCAT")" x "" ">=" 0.25 2
row "point get p50, $N5 store" "$(val get_p50)" us 2
row "point get p99, $N5 store" "$(val get_p99)" us "" "<" 20 2
ND=$(count_name "$(val metrics_datasets)")
READ=$(val metrics_read_ms)
row "metrics, $ND datasets: store read (apply loop)" "$READ" ms 1
row "metrics: apply loop share (read / its period)" \
	"$([ -n "$READ" ] && awk -v r="$READ" 'BEGIN { p = 50 * r; if (p < 1000) p = 1000; print 100 * r / p }')" \
	% "" "<" 5 1
row "metrics: render, max_datasets 1000 (monitor thread)" "$(val metrics_render_ms)" ms 2
row "metrics: page bytes, max_datasets 1000" "$(val metrics_page_bytes)" bytes 0
row "metrics: render, every dataset" "$(val metrics_render_all_ms)" ms 1
row "metrics: page bytes, every dataset" "$(val metrics_page_all_bytes)" bytes 0
row "disk per entry, $N1 import (default policy)" "$(val import_1m_default_bpe)" bytes/entry
row "disk per entry, $N5 import (default policy)" "$(val import_5m_default_bpe)" bytes/entry

printf '\ntargets: %s of %s met' "$PASSED" "$TARGETS"
[ -z "$MISSED" ] || printf '; missed: %s' "${MISSED#; }"
printf '\n\nhow each figure is measured:\n'
printf -- '- import: wall time of whole "oplogd import --framing lenpfx" processes into a new store.\n'
printf -- '  %s = five processes, one per consecutive %s slice of one stream, into the same store;\n' "$N5" "$N1"
printf -- '  its rate is %s over their summed time; window i is the i-th process; %s = window 1.\n' "$N5" "$N1"
printf -- '- ceiling: bench_append, the same %s messages put with MDB_APPEND into one tree, same\n' "$N1"
printf -- '  map and durable commits, %s per commit (%s).\n' "$(val ceiling_batch)" \
	"$([ -n "$TXNS" ] && echo "the default import's $TXNS commits, counted with mdb_stat" || echo "the default import's commits could not be counted: --batch $FIXED's")"
printf -- '- apply: "oplogd apply" from the broker into a new store, from its start (group join\n'
printf -- '  included) until "oplogd stats" shows every entry; kcat -C reads the same topic in the same run.\n'
printf -- '- point get: bench_get, random entries of the %s, oplog_store_get each in its own read txn.\n' "$N5"
printf -- '- disk per entry: du of the store directory after the import, over the entries.\n'
printf -- '- metrics: bench_metrics on a store of ~100k datasets (gen --datasets 100000 --nodes 1):\n'
printf -- '  oplog_metrics_datasets (what the apply loop reads, at most every 50x its cost) and\n'
printf -- '  oplog_metrics_page (what the monitor thread renders once a second), means per round.\n'

printf '\nbench time (s, build not included):'
for p in codec store stream import apply metrics; do
	t=$(val "part_${p}_s")
	[ -z "$t" ] || printf ' %s %s,' "$p" "$t"
done
printf ' total %s\n' "$(val part_total_s)"
