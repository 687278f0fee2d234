#!/bin/sh
# run-bench.sh BUILD: every benchmark `make bench` runs, then the summary.
#
# In order, each timed as a part: bench_codec (its own table), bench_store
# when asked for (its own table), the stream (bench/lib.sh's stream_make: made once, before any
# timing, and reused by what follows), bench/bench_import.sh (imports, the
# LMDB ceiling, point gets), bench/bench_apply.sh (the applier against a
# real Kafka 0.9 broker, and kcat). Then bench/bench_report.sh prints the
# summary table from the figures they wrote, with each part's seconds.
#
# Stores and the stream go in a temp dir under TMPDIR (default /var/tmp),
# removed at the end. BENCH_SCALE=small shrinks every count (for a quick
# look, not for figures). To keep the whole within about 15 minutes here,
# two runs are left out unless asked for: BENCH_STORE=1 runs bench_store
# (library-level apply, writemap, scans, prune: about 9 minutes at full
# scale on the current store), BENCH_APPLY_BIG=1 the applier's batch_size
# 100000 run (about 1 minute).
# A part that fails does not stop the others. Exits 2 when a part failed
# in its setup (exit 2: no binary, no broker, no stream), else 1 when a
# measured run went wrong (a part exited otherwise), else 0. Targets
# missed are reported, not failed.
set -u

BENCH_NAME=run-bench
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
build=$(cd "${1:-build}" 2>/dev/null && pwd -P) || die "no build directory ${1:-build}"

W=$(mktemp -d "${TMPDIR:-/var/tmp}/oplogd-bench.XXXXXX") || die "mktemp in ${TMPDIR:-/var/tmp} failed"
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	rc=$?
	rm -rf "$W"
	exit "$rc"
}
trap_exit cleanup

BENCH_RESULTS=$W/results
BENCH_STREAM_DIR=$W/stream
BENCH_APPLY_IMPORT=0   # bench_import measures the imports of the same file
BENCH_APPLY_BIG=${BENCH_APPLY_BIG:-0}
export BENCH_RESULTS BENCH_STREAM_DIR BENCH_APPLY_IMPORT BENCH_APPLY_BIG
: >"$BENCH_RESULTS"
setup_failed=0
run_failed=0

# part NAME COMMAND...: run COMMAND in a subshell, timed; its seconds go to
# the results as part_NAME_s and its failure is remembered.
part() {
	_name=$1
	shift
	echo "== $_name"
	_t0=$(now)
	("$@")
	_rc=$?
	_t1=$(now)
	result "part_${_name}_s" "$(elapsed "$_t0" "$_t1")"
	case $_rc in
	0) ;;
	2) setup_failed=1 ;;
	*) [ "$_rc" -lt 128 ] || exit "$_rc"  # interrupted: stop here
	   run_failed=1 ;;
	esac
	[ "$_rc" -eq 0 ] || echo "run-bench: $_name exited $_rc" >&2
}

# shellcheck disable=SC2317 # run by part
stream() {
	stream_make "$build/oplogd" "$BENCH_STREAM_DIR"
	echo "$BENCH_SLICES x $BENCH_UNIT entries: $(cat "$BENCH_STREAM_DIR/stream.info")"
}

# shellcheck disable=SC2317 # run by part
# The metrics page with ~100k datasets: the store read the apply loop does
# (at most every 50 times its cost) and the monitor thread's render,
# capped at the default [metrics] max_datasets and uncapped.
metrics() {
	_m=$W/metrics
	mkdir -p "$_m"
	"$build/oplogd" gen --datasets 100000 --nodes 1 --count 400000 --framing lenpfx \
		--out "$_m/stream.bin" 2>/dev/null || return 2
	"$build/oplogd" import --store "$_m/store" --framing lenpfx "$_m/stream.bin" >/dev/null ||
		return 2
	"$build/bench/bench_metrics" "$_m/store" 5 1000 >"$_m/capped.json" || return 2
	"$build/bench/bench_metrics" "$_m/store" 3 100000000 >"$_m/all.json" || return 2
	cat "$_m/capped.json" "$_m/all.json"
	result metrics_datasets "$(jq .datasets "$_m/capped.json")"
	result metrics_read_ms "$(jq .read_ms "$_m/capped.json")"
	result metrics_render_ms "$(jq .render_ms "$_m/capped.json")"
	result metrics_page_bytes "$(jq .page_bytes "$_m/capped.json")"
	result metrics_render_all_ms "$(jq .render_ms "$_m/all.json")"
	result metrics_page_all_bytes "$(jq .page_bytes "$_m/all.json")"
	rm -rf "$_m"
}

T0=$(now)
part codec "$build/bench/bench_codec"
if [ "${BENCH_STORE:-0}" = 1 ]; then
	part store "$build/bench/bench_store"
else
	echo "== store: skipped (BENCH_STORE=1 runs bench_store)"
fi
part stream stream
if [ -f "$BENCH_STREAM_DIR/stream.info" ]; then
	result stream_entries "$((BENCH_SLICES * BENCH_UNIT))"
	result stream_gen "gen $BENCH_GEN_OPTS"
	# shellcheck disable=SC2046 # the slice files
	result stream_msg_bytes "$(stream_msg_bytes $((BENCH_SLICES * BENCH_UNIT)) $(ls "$BENCH_STREAM_DIR"/slice-*.bin))"
fi
result bench_dir "${TMPDIR:-/var/tmp}"
part import sh "$ROOT/bench/bench_import.sh" "$build"
part apply sh "$ROOT/bench/bench_apply.sh" "$build"
part metrics metrics
result part_total_s "$(elapsed "$T0" "$(now)")"

sh "$ROOT/bench/bench_report.sh" "$BENCH_RESULTS" || setup_failed=1
[ "$setup_failed" -eq 0 ] || exit 2
[ "$run_failed" -eq 0 ] || exit 1
exit 0
