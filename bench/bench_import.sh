#!/bin/sh
# bench_import: `oplogd import` into a fresh, durable store, as `make bench`
# reports it.
#
#   sh bench/bench_import.sh [BUILD]   (runs BUILD/oplogd and BUILD/bench/*)
#
# The stream (bench/lib.sh: bench_store's shape, 5 x 1M entries as five
# lenpfx slice files of one `oplogd gen` stream) comes from
# BENCH_STREAM_DIR when that holds it, else it is made in a temp dir;
# either way before anything is timed. Every store is new, with the
# default store settings (durable commits, no writemap), in TMPDIR
# (default /var/tmp). Measured, each as the wall time of whole processes,
# with the default commit policy (no --batch), then with --batch 10000:
#   - import 5M: five `oplogd import` processes, one per slice, one after
#     the other into the same store. Window i is the wall time of the i-th
#     (process start, store open, its 1M entries, its last commit, exit);
#     the 5M rate is 5M over their sum;
#   - import 1M: the first of those processes, slice 1 into a new store
#     (the same run as a separate 1M import would be, so it is not redone);
#   - the LMDB ceiling (bench_append): slice 1 appended to one tree of a
#     new LMDB environment, MDB_APPEND, same map and durability, committing
#     as often as the default import did (its write transactions counted
#     with mdb_stat, less the ones an empty import makes);
#   - point gets (bench_get) of 100000 random entries on the 5M store of
#     the default policy, through oplog_store_get;
#   - disk use per entry (du of the store directory) after 1M and 5M.
# BENCH_SCALE=small makes every count a tenth (not for figures). Results go
# to BENCH_RESULTS (KEY=VALUE lines) when set, for bench_report.sh.
# Exits 1 when a measured run goes wrong (a command fails, counts differ),
# 2 on setup failure (no binary, no stream).
set -eu

BENCH_NAME=bench_import
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd -P) || BUILD=${1:-build}
OPLOGD=$BUILD/oplogd
APPEND=$BUILD/bench/bench_append
GET=$BUILD/bench/bench_get
GETS=${BENCH_GETS:-100000}
[ "${BENCH_SCALE:-}" != small ] || GETS=${BENCH_GETS:-20000}
FIXED=10000   # the --batch of the fixed-policy runs

for b in "$OPLOGD" "$APPEND" "$GET"; do
	[ -x "$b" ] || die "no $b (build it first: make bench)"
done
for tool in jq perl du; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (scripts/deps.sh installs it)"
done

T=$(mktemp -d "${TMPDIR:-/var/tmp}/oplogd-bench-import.XXXXXX")
cleanup() {
	rc=$?
	rm -rf "$T"
	exit "$rc"
}
trap_exit cleanup

STREAM=${BENCH_STREAM_DIR:-$T/stream}
stream_make "$OPLOGD" "$STREAM"
N1=$BENCH_UNIT
N5=$((BENCH_SLICES * BENCH_UNIT))
SLICES=""
i=1
while [ "$i" -le "$BENCH_SLICES" ]; do
	SLICES="$SLICES $STREAM/slice-$i.bin"
	i=$((i + 1))
done
# shellcheck disable=SC2086 # a list of files
MSG_BYTES=$(stream_msg_bytes "$N5" $SLICES)
# Nothing still being written back from making the stream while timing.
sync

# import_one STORE EXPECT_APPLIED ARGS...: one `oplogd import` process into
# STORE; sets SECONDS_TAKEN. Fails unless every message was applied as new.
import_one() {
	_store=$1 _want=$2
	shift 2
	_t0=$(now)
	"$OPLOGD" import --store "$_store" --framing lenpfx --json "$@" \
		>"$T/import.json" 2>"$T/import.err" ||
		bad "oplogd import $*: failed: $(tail -n 5 "$T/import.err")"
	_t1=$(now)
	_got=$(jq -r '[.messages, .applied, .duplicates, .late, ([.rejected[]] | add // 0)] | join(" ")' \
		"$T/import.json") || bad "oplogd import $*: unreadable summary: $(cat "$T/import.json")"
	[ "$_got" = "$_want $_want 0 0 0" ] ||
		bad "oplogd import $*: messages applied duplicates late rejected = $_got, expected $_want $_want 0 0 0"
	SECONDS_TAKEN=$(awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.3f\n", b - a }')
}

# Write transactions an import makes before its first batch (store
# creation): an empty file into a new store.
: >"$T/empty.bin"
"$OPLOGD" import --store "$T/empty" --framing lenpfx "$T/empty.bin" >/dev/null 2>"$T/import.err" ||
	bad "oplogd import of an empty file failed: $(tail -n 5 "$T/import.err")"
TXN_BASE=$(last_txn "$T/empty")
rm -rf "$T/empty"

# ---- 5M as five 1M windows; the first is the 1M import -------------------

# import_5m LABEL ARGS...: sets RATE_1M, BPE_1M and TXNS_1M (write
# transactions for the entries, "" if unknown) after window 1, then
# RATE_5M, WINDOWS (rates, space-separated), LAST_FIRST and BPE_5M; leaves
# the store in $T/s5.
import_5m() {
	_label=$1
	shift
	rm -rf "$T/s5"
	sync
	_sum=0 WINDOWS="" _i=1
	for _f in $SLICES; do
		import_one "$T/s5" "$N1" "$@" "$_f"
		_sum=$(awk -v a="$_sum" -v b="$SECONDS_TAKEN" 'BEGIN { print a + b }')
		_w=$(awk -v n="$N1" -v s="$SECONDS_TAKEN" 'BEGIN { printf "%.1f\n", n / s }')
		WINDOWS="$WINDOWS $_w"
		result "import_5m_${_label}_w$_i" "$_w"
		if [ "$_i" -eq 1 ]; then
			RATE_1M=$_w
			BPE_1M=$(awk -v b="$(disk_bytes "$T/s5")" -v n="$N1" 'BEGIN { printf "%.1f\n", b / n }')
			_last=$(last_txn "$T/s5")
			TXNS_1M=""
			[ -z "$_last" ] || [ -z "$TXN_BASE" ] || TXNS_1M=$((_last - TXN_BASE))
			result "import_1m_${_label}_rate" "$RATE_1M"
			result "import_1m_${_label}_bpe" "$BPE_1M"
			result "import_1m_${_label}_txns" "$TXNS_1M"
		fi
		_i=$((_i + 1))
	done
	_entries=$("$OPLOGD" stats --store "$T/s5" --json | jq -r .entries)
	[ "$_entries" = "$N5" ] || bad "import 5M ($_label): the store holds $_entries entries, expected $N5"
	RATE_5M=$(awk -v n="$N5" -v s="$_sum" 'BEGIN { printf "%.1f\n", n / s }')
	# shellcheck disable=SC2086 # a list of numbers
	LAST_FIRST=$(printf '%s\n' $WINDOWS | awk 'NR == 1 { f = $1 } { l = $1 } END { printf "%.2f\n", l / f }')
	BPE_5M=$(awk -v b="$(disk_bytes "$T/s5")" -v n="$N5" 'BEGIN { printf "%.1f\n", b / n }')
	result "import_5m_${_label}_rate" "$RATE_5M"
	result "import_5m_${_label}_last_first" "$LAST_FIRST"
	result "import_5m_${_label}_bpe" "$BPE_5M"
}

import_5m default
RATE_1M_DEF=$RATE_1M BPE_1M_DEF=$BPE_1M TXNS_1M_DEF=$TXNS_1M
RATE_5M_DEF=$RATE_5M WIN_DEF=$WINDOWS LF_DEF=$LAST_FIRST BPE_5M_DEF=$BPE_5M

# ---- point gets on the 5M store --------------------------------------------

# shellcheck disable=SC2086 # a list of files
"$GET" "$T/s5" "$GETS" $SLICES >"$T/get.json" 2>"$T/get.err" ||
	bad "bench_get failed: $(tail -n 5 "$T/get.err")"
read -r GET_P50 GET_P99 GET_P999 GET_MAX <<EOF
$(jq -r '"\(.p50_us) \(.p99_us) \(.p999_us) \(.max_us)"' "$T/get.json")
EOF
result get_p50 "$GET_P50"
result get_p99 "$GET_P99"
result get_p999 "$GET_P999"
rm -rf "$T/s5"

# ---- the ceiling: LMDB alone, same bytes, same commits ---------------------

# Entries per commit of the default import, rounded; --batch's when the
# commits could not be counted (said in the table).
if [ -n "$TXNS_1M_DEF" ] && [ "$TXNS_1M_DEF" -gt 0 ]; then
	CADENCE=$(((N1 + TXNS_1M_DEF / 2) / TXNS_1M_DEF))
	CADENCE_FROM="the default import's $TXNS_1M_DEF commits"
else
	CADENCE=$FIXED
	CADENCE_FROM="--batch $FIXED: the default import's commits could not be counted"
fi
sync
t0=$(now)
"$APPEND" "$T/append" "$CADENCE" "$STREAM/slice-1.bin" >"$T/append.json" 2>"$T/append.err" ||
	bad "bench_append failed: $(tail -n 5 "$T/append.err")"
t1=$(now)
got=$(jq -r .messages "$T/append.json")
[ "$got" = "$N1" ] || bad "bench_append appended $got messages of $N1"
CEIL_RATE=$(rate "$N1" "$t0" "$t1")
CEIL_BPE=$(awk -v b="$(disk_bytes "$T/append")" -v n="$N1" 'BEGIN { printf "%.1f\n", b / n }')
result ceiling_rate "$CEIL_RATE"
result ceiling_batch "$CADENCE"
rm -rf "$T/append"

# ---- the same with a fixed commit size -------------------------------------

import_5m fixed --batch "$FIXED"
RATE_1M_FIX=$RATE_1M BPE_1M_FIX=$BPE_1M TXNS_1M_FIX=$TXNS_1M
RATE_5M_FIX=$RATE_5M WIN_FIX=$WINDOWS LF_FIX=$LAST_FIRST BPE_5M_FIX=$BPE_5M
rm -rf "$T/s5"

# ---- the table ---------------------------------------------------------------

# row WHAT VALUE UNIT [DECIMALS]
row() {
	printf '| %-56s | %12.*f %-9s |\n' "$1" "${4:-1}" "$2" "$3"
}

S1=$(count_name "$N1") S5=$(count_name "$N5")
printf '\nimport benchmark: %s, %s bytes/message, durable, fresh store in %s%s\n' \
	"$BENCH_GEN_OPTS" "$MSG_BYTES" "${TMPDIR:-/var/tmp}" \
	"$([ "${BENCH_SCALE:-}" != small ] || echo " (BENCH_SCALE=small: not for figures)")"
printf 'rates: entries over the wall time of whole oplogd import processes\n\n'
printf '| %-56s | %-22s |\n' "measure" "value"
printf '|%s|%s|\n' "----------------------------------------------------------" "------------------------"
row "import $S1 (window 1), default policy" "$RATE_1M_DEF" "entries/s"
row "import $S1 (window 1), --batch $FIXED" "$RATE_1M_FIX" "entries/s"
row "LMDB ceiling: $S1 appended to one tree, $CADENCE/commit" "$CEIL_RATE" "entries/s"
row "import $S5 (5 x $S1 processes), default policy" "$RATE_5M_DEF" "entries/s"
row "import $S5 (5 x $S1 processes), --batch $FIXED" "$RATE_5M_FIX" "entries/s"
row "  last/first $S1 window, default policy" "$LF_DEF" "x" 2
row "  last/first $S1 window, --batch $FIXED" "$LF_FIX" "x" 2
row "point get p50, $S5 store (default policy)" "$GET_P50" "us" 2
row "point get p99" "$GET_P99" "us" 2
row "point get p99.9" "$GET_P999" "us" 2
row "disk per entry, $S1, default policy" "$BPE_1M_DEF" "bytes"
row "disk per entry, $S1, --batch $FIXED" "$BPE_1M_FIX" "bytes"
row "disk per entry, $S5, default policy" "$BPE_5M_DEF" "bytes"
row "disk per entry, $S5, --batch $FIXED" "$BPE_5M_FIX" "bytes"
row "disk per entry, LMDB ceiling" "$CEIL_BPE" "bytes"
# shellcheck disable=SC2086 # lists of numbers
printf '\n%s windows (entries/s, window i = the i-th import process on the same store):\n' "$S1"
# shellcheck disable=SC2086 # lists of numbers
printf '  default policy: %s\n  --batch %s:   %s\n' "$(printf ' %.0f' $WIN_DEF)" "$FIXED" \
	"$(printf ' %.0f' $WIN_FIX)"
printf 'write transactions for %s entries: default policy %s, --batch %s %s (mdb_stat, less the %s of store creation)\n' \
	"$S1" "${TXNS_1M_DEF:-unknown}" "$FIXED" "${TXNS_1M_FIX:-unknown}" "${TXN_BASE:-unknown}"
printf 'ceiling commit cadence: %s entries per commit, from %s\n' "$CADENCE" "$CADENCE_FROM"
printf 'import / ceiling: %s (default policy)\n' "$(ratio "$RATE_1M_DEF" "$CEIL_RATE")"
printf 'point gets: %s random entries of the %s, each oplog_store_get in its own read txn, after 1000 untimed; max %s us\n' \
	"$GETS" "$S5" "$GET_MAX"
