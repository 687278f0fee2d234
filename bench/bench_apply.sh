#!/bin/sh
# bench_apply: the applier's catch-up speed, as `make bench` reports it.
#
#   sh bench/bench_apply.sh [BUILD]     (runs BUILD/oplogd; default: build)
#
# Starts its own Kafka 0.9.0.1 broker (scripts/kafka-broker.sh) in a temp
# dir and produces 1M entries (bench/lib.sh's stream: bench_store's shape,
# 64 nodes x 4 datasets, 200-byte data) to a topic of 4 partitions. Then,
# from that backlog, on loopback:
#   - kcat -C reading the whole topic, 3 times, median: the client's
#     ceiling on this machine with the same librdkafka settings;
#   - oplogd apply into an empty store, from its start until every message
#     is in the store (stats polled every 0.2 s), with the default intake
#     and commit policy (no --set) and with [apply] batch_size 100000;
#     then SIGTERM, which must exit 0;
#   - oplogd import of the same file, default policy and --batch 100000,
#     for reference: the store alone, no Kafka.
# The messages carry no key and spread at random over the partitions, so
# the applier sees each node's entries interleaved across partitions and
# counts most of them late; import reads them in file order.
# The stream is slice 1 of BENCH_STREAM_DIR when given (made once by
# bench/lib.sh's stream_make, shared with bench_import.sh), else made here.
# BENCH_SCALE=small or BENCH_APPLY_COUNT sets the entry count (for a quick
# look, not for figures); BENCH_APPLY_BIG=0 skips the batch 100000 runs,
# BENCH_APPLY_IMPORT=0 the imports. Results go to BENCH_RESULTS (KEY=VALUE
# lines) when set, for bench_report.sh. Targets not met are reported, not
# failed. Exits 1 when a measured run goes wrong (counts differ, apply
# exits non-zero), 2 on setup failure (no binary, no broker).
set -eu

BENCH_NAME=bench_apply
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
BROKER_SH=$ROOT/scripts/kafka-broker.sh
BUILD=${1:-build}
OPLOGD=$(cd "$BUILD" 2>/dev/null && pwd -P)/oplogd || OPLOGD=$BUILD/oplogd
COUNT=${BENCH_APPLY_COUNT:-$BENCH_UNIT}
BIG=${BENCH_APPLY_BIG:-1}
IMPORT=${BENCH_APPLY_IMPORT:-1}
PARTITIONS=4
TOPIC=oplog
POLL=0.2
# The targets: apply >= RATIO x kcat's rate and >= FLOOR entries/s.
TARGET_RATIO=0.25
TARGET_FLOOR=120000

case $COUNT in
"" | *[!0-9]* | 0*) die "BENCH_APPLY_COUNT must be a positive integer, not '$COUNT'" ;;
esac
if [ -n "${BENCH_STREAM_DIR:-}" ] && [ "$COUNT" != "$BENCH_UNIT" ]; then
	die "BENCH_APPLY_COUNT=$COUNT with BENCH_STREAM_DIR, whose slices hold $BENCH_UNIT"
fi
[ -x "$OPLOGD" ] || die "no oplogd binary at $BUILD/oplogd (build it first)"
for tool in kcat jq perl; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (scripts/deps.sh installs it)"
done

T=$(mktemp -d "${TMPDIR:-/var/tmp}/oplogd-bench-apply.XXXXXX")
APPLY_PID=""
cleanup() {
	rc=$?
	set +e
	if [ -n "$APPLY_PID" ]; then
		kill -9 "$APPLY_PID" 2>/dev/null
		wait "$APPLY_PID" 2>/dev/null
	fi
	sh "$BROKER_SH" stop "$T/kafka" >/dev/null
	rm -rf "$T"
	exit "$rc"
}
# Also when stdout goes away (e.g. piped into head): the broker must stop.
trap_exit cleanup

# Messages taken into the store so far: applied, duplicate or rejected.
# Empty while there is no store yet.
taken_in() {
	"$OPLOGD" stats --store "$1" --json 2>/dev/null |
		jq -r '.applied + .duplicates + ([.rejected[]] | add // 0)' 2>/dev/null || true
}

# CPU seconds (user + system) the process $1 has used so far.
cpu_s() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null |
		awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($12 + $13) / hz }'
}

# ---- broker and topic ------------------------------------------------------

sh "$BROKER_SH" install >&2 || die "installing Kafka failed (see above)"
BOOTSTRAP=$(sh "$BROKER_SH" start "$T/kafka" --partitions "$PARTITIONS") ||
	die "the Kafka broker did not start (see above)"
sh "$BROKER_SH" topic "$T/kafka" "$TOPIC" "$PARTITIONS" || die "creating topic $TOPIC failed"
KCAT="kcat -b $BOOTSTRAP -X api.version.request=false -X broker.version.fallback=0.9.0.1"
# The first consumer group on a fresh broker makes it create its offsets
# topic, which takes a second or two: done here, by a group that starts at
# the end and leaves at once, so that no measured run pays for it.
# shellcheck disable=SC2086 # KCAT is a command and its arguments
$KCAT -X session.timeout.ms=6000 -X auto.offset.reset=latest -G bench-apply-warmup -e -q \
	"$TOPIC" >/dev/null 2>"$T/warmup.err" || die "kcat -G warm-up failed: $(tail -n 5 "$T/warmup.err")"

if [ -n "${BENCH_STREAM_DIR:-}" ]; then
	stream_make "$OPLOGD" "$BENCH_STREAM_DIR"
	STREAM=$BENCH_STREAM_DIR/slice-1.bin
else
	# The same messages as slice 1 of stream_make's stream: gen's output
	# for a count is a prefix of its output for any larger count.
	STREAM=$T/stream.bin
	# shellcheck disable=SC2086 # BENCH_GEN_OPTS is a list of options
	"$OPLOGD" gen --out "$STREAM" $BENCH_GEN_OPTS --count "$COUNT" 2>"$T/gen.err" ||
		die "oplogd gen failed: $(cat "$T/gen.err")"
fi
MSG_BYTES=$(stream_msg_bytes "$COUNT" "$STREAM")
produced=$(sh "$BROKER_SH" produce "$T/kafka" "$TOPIC" "$STREAM") ||
	die "producing to $TOPIC failed (see above)"
on_broker=$(sh "$BROKER_SH" count "$T/kafka" "$TOPIC") || die "counting $TOPIC failed (see above)"
if [ "$produced" != "$COUNT" ] || [ "$on_broker" != "$COUNT" ]; then
	bad "generated $COUNT messages, produced $produced, the broker holds $on_broker"
fi

# ---- the ceiling: kcat reading the whole topic -----------------------------

kcat_rates=""
for _ in 1 2 3; do
	t0=$(now)
	# shellcheck disable=SC2086 # KCAT is a command and its arguments
	$KCAT -C -t "$TOPIC" -o beginning -e -q -f '%p\n' >"$T/kcat.out" 2>"$T/kcat.err" ||
		bad "kcat -C failed: $(tail -n 5 "$T/kcat.err")"
	t1=$(now)
	got=$(wc -l <"$T/kcat.out" | tr -d ' ')
	[ "$got" = "$COUNT" ] || bad "kcat -C read $got messages, the topic holds $COUNT"
	kcat_rates="$kcat_rates $(rate "$COUNT" "$t0" "$t1")"
done
rm -f "$T/kcat.out"
# shellcheck disable=SC2086 # a list of numbers
KCAT_RATE=$(printf '%s\n' $kcat_rates | sort -n | sed -n 2p)

# ---- the applier -------------------------------------------------------------

cat >"$T/apply.conf" <<EOF
[kafka]
bootstrap.servers = $BOOTSTRAP
group.id = bench-apply
api.version.request = false
broker.version.fallback = 0.9.0.1
session.timeout.ms = 6000
[apply]
topics = $TOPIC
[store]
path = $T/store
[metrics]
listen =
EOF
# What the default policy is made of, for the table ("" when the
# configuration no longer has the key).
DEFAULT_BATCH=$("$OPLOGD" apply -c "$T/apply.conf" --dump-config |
	sed -n '/^\[apply\]/,/^\[/s/^batch_size *= *//p')

# apply_run NAME [--set apply.KEY=VALUE]: apply into an empty store, in its
# own group, until every message is in; sets APPLY_RATE, APPLY_START (s to
# the first entries seen) and APPLY_CPU (share of one core while catching
# up).
apply_run() {
	name=$1
	shift
	rm -rf "$T/store"
	log=$T/apply-$name.log
	limit=$((COUNT / 5000 + 120))
	first=""
	t0=$(now)
	"$OPLOGD" apply -c "$T/apply.conf" -X "group.id=bench-apply-$name" "$@" 2>"$log" &
	APPLY_PID=$!
	while :; do
		in=$(taken_in "$T/store")
		t1=$(now)
		if [ -n "$in" ]; then
			[ -n "$first" ] || [ "$in" -eq 0 ] || first=$t1
			[ "$in" -lt "$COUNT" ] || break
		fi
		kill -0 "$APPLY_PID" 2>/dev/null ||
			bad "apply ($name) exited early, $in of $COUNT in: $(tail -n 5 "$log")"
		awk -v a="$t0" -v b="$t1" -v l="$limit" 'BEGIN { exit !(b - a > l) }' &&
			bad "apply ($name): $in of $COUNT in after ${limit}s: $(tail -n 5 "$log")"
		sleep "$POLL"
	done
	cpu=$(cpu_s "$APPLY_PID")
	[ "$in" -eq "$COUNT" ] || bad "apply ($name): $in messages in the store, $COUNT produced"
	kill -TERM "$APPLY_PID"
	rc=0
	wait "$APPLY_PID" || rc=$?
	APPLY_PID=""
	[ "$rc" -eq 0 ] || bad "apply ($name) exited $rc after SIGTERM: $(tail -n 5 "$log")"
	applied=$("$OPLOGD" stats --store "$T/store" --json | jq -r .applied)
	[ "$applied" = "$COUNT" ] || bad "apply ($name): $applied entries applied, $COUNT produced"
	APPLY_RATE=$(rate "$COUNT" "$t0" "$t1")
	APPLY_START=$(awk -v a="$t0" -v b="$first" 'BEGIN { printf "%.1f\n", b - a }')
	APPLY_CPU=$(awk -v c="$cpu" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", 100 * c / (b - a) }')
	rm -rf "$T/store"
}

apply_run default
RATE_DEF=$APPLY_RATE START_DEF=$APPLY_START CPU_DEF=$APPLY_CPU
result kcat_rate "$KCAT_RATE"
result apply_default_rate "$RATE_DEF"
result apply_default_start "$START_DEF"
result apply_default_cpu "$CPU_DEF"
RATE_BIG="" START_BIG="" CPU_BIG=""
# Only while [apply] batch_size exists: a policy without it has no such run.
if [ "$BIG" != 0 ] && [ -n "$DEFAULT_BATCH" ] && [ "$DEFAULT_BATCH" != 100000 ]; then
	apply_run batch100000 --set apply.batch_size=100000
	RATE_BIG=$APPLY_RATE START_BIG=$APPLY_START CPU_BIG=$APPLY_CPU
	result apply_b100k_rate "$RATE_BIG"
fi

# ---- the store alone: import of the same file ------------------------------

# import_run [--batch N]: import the file into an empty store; sets
# IMPORT_RATE.
import_run() {
	rm -rf "$T/import"
	t0=$(now)
	"$OPLOGD" import --store "$T/import" --framing lenpfx "$@" --json \
		"$STREAM" >"$T/import.json" 2>"$T/import.err" ||
		bad "oplogd import $* failed: $(tail -n 5 "$T/import.err")"
	t1=$(now)
	imported=$(jq -r .applied "$T/import.json")
	[ "$imported" = "$COUNT" ] || bad "import $* applied $imported entries of $COUNT"
	IMPORT_RATE=$(rate "$COUNT" "$t0" "$t1")
	rm -rf "$T/import"
}

IMPORT_DEF="" IMPORT_BIG=""
if [ "$IMPORT" != 0 ]; then
	import_run
	IMPORT_DEF=$IMPORT_RATE
	if [ -n "$RATE_BIG" ]; then
		import_run --batch 100000
		IMPORT_BIG=$IMPORT_RATE
	fi
fi

# ---- the table ---------------------------------------------------------------

# row WHAT VALUE UNIT TARGET [DECIMALS]
row() {
	printf '| %-48s | %12.*f %-9s | %-22s |\n' "$1" "${5:-1}" "$2" "$3" "$4"
}

# verdict RATE: the two targets for one apply rate.
verdict() {
	awk -v r="$1" -v k="$KCAT_RATE" -v x="$TARGET_RATIO" -v f="$TARGET_FLOOR" 'BEGIN {
		printf "%s x kcat %s, %d/s %s\n", x, (r >= x * k ? "met" : "not met"),
			f, (r >= f ? "met" : "not met") }'
}

DEF=default
[ -z "$DEFAULT_BATCH" ] || DEF="default (batch_size $DEFAULT_BATCH)"
printf '\napply benchmark: %s entries, 64 nodes x 4 datasets, %s bytes/message, %s partitions,\n' \
	"$COUNT" "$MSG_BYTES" "$PARTITIONS"
printf 'Kafka 0.9.0.1 on loopback, backlog read from the beginning%s\n\n' \
	"$([ "$COUNT" -eq 1000000 ] || echo " ($COUNT entries: start-up costs weigh more, not for figures)")"
printf '| %-48s | %-22s | %-22s |\n' "measure" "value" "target"
printf '|%s|%s|%s|\n' "--------------------------------------------------" \
	"------------------------" "------------------------"
row "kcat -C, whole topic (median of 3)" "$KCAT_RATE" "msgs/s" ""
row "apply, empty store, $DEF" "$RATE_DEF" "entries/s" ">= $TARGET_FLOOR"
row "apply/kcat, $DEF" "$(ratio "$RATE_DEF" "$KCAT_RATE")" "x" ">= $TARGET_RATIO" 2
if [ -n "$RATE_BIG" ]; then
	row "apply, empty store, batch_size 100000" "$RATE_BIG" "entries/s" ""
	row "apply/kcat, batch_size 100000" "$(ratio "$RATE_BIG" "$KCAT_RATE")" "x" "" 2
fi
[ -z "$IMPORT_DEF" ] || row "import, same file, default (store only)" "$IMPORT_DEF" "entries/s" ""
[ -z "$IMPORT_BIG" ] || row "import, same file, --batch 100000 (store only)" "$IMPORT_BIG" "entries/s" ""
# shellcheck disable=SC2086 # a list of numbers
printf '\nkcat runs:%s msgs/s\n' "$(printf ' %.0f' $kcat_rates)"
printf 'apply rate: entries over the time from its start (group join included) until stats shows them all, polled every %ss\n' "$POLL"
printf 'apply start-up (start to first entries seen in the store): %ss default' "$START_DEF"
[ -z "$START_BIG" ] || printf ', %ss at batch_size 100000' "$START_BIG"
printf '\napply CPU while catching up (%% of one core, all threads): %s%% default' "$CPU_DEF"
[ -z "$CPU_BIG" ] || printf ', %s%% at batch_size 100000' "$CPU_BIG"
if [ -n "$IMPORT_DEF" ]; then
	printf '\napply/import: %s default' "$(ratio "$RATE_DEF" "$IMPORT_DEF")"
	[ -z "$IMPORT_BIG" ] || printf ', %s at 100000' "$(ratio "$RATE_BIG" "$IMPORT_BIG")"
fi
printf '\n'
printf 'targets, default: %s\n' "$(verdict "$RATE_DEF")"
