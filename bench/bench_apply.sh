#!/bin/sh
# bench_apply: the applier's catch-up speed, as `make bench` reports it.
#
#   sh bench/bench_apply.sh [BUILD]     (runs BUILD/oplogd; default: build)
#
# Starts its own Kafka 0.9.0.1 broker (scripts/kafka-broker.sh) in a temp
# dir, generates 1M entries (64 nodes x 4 datasets, seed 1) and produces
# them to a topic of 4 partitions. Then, from that backlog, on loopback:
#   - kcat -C reading the whole topic, 3 times, median: the client's
#     ceiling on this machine with the same librdkafka settings;
#   - oplogd apply into an empty store, from its start until every message
#     is in the store (stats polled every 0.2 s), with the default
#     [apply] batch_size and with 100000; then SIGTERM, which must exit 0;
#   - oplogd import of the same file at the same batch sizes, for
#     reference: the store alone, no Kafka.
# The messages carry no key and spread at random over the partitions, so
# the applier sees each node's entries interleaved across partitions and
# counts most of them late; import reads them in file order.
# BENCH_APPLY_COUNT sets the entry count (for a quick look, not for
# figures); BENCH_APPLY_BIG=0 skips the batch 100000 run. Targets not met
# are reported, not failed. Exits 1 when a measured run goes wrong (counts
# differ, apply exits non-zero), 2 on setup failure (no binary, no broker).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
BROKER_SH=$ROOT/scripts/kafka-broker.sh
BUILD=${1:-build}
OPLOGD=$(cd "$BUILD" 2>/dev/null && pwd -P)/oplogd || OPLOGD=$BUILD/oplogd
COUNT=${BENCH_APPLY_COUNT:-1000000}
BIG=${BENCH_APPLY_BIG:-1}
PARTITIONS=4
TOPIC=oplog
POLL=0.2
# The targets: apply >= RATIO x kcat's rate and >= FLOOR entries/s.
TARGET_RATIO=0.2
TARGET_FLOOR=100000

die() {
	echo "bench_apply: $*" >&2
	exit 2
}

bad() {
	echo "bench_apply: $*" >&2
	exit 1
}

case $COUNT in
"" | *[!0-9]* | 0*) die "BENCH_APPLY_COUNT must be a positive integer, not '$COUNT'" ;;
esac
[ -x "$OPLOGD" ] || die "no oplogd binary at $BUILD/oplogd (build it first)"
for tool in kcat jq perl; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (scripts/deps.sh installs it)"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/oplogd-bench-apply.XXXXXX")
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
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# Also when stdout goes away (e.g. piped into head): the broker must stop.
trap 'exit 129' HUP
trap 'exit 141' PIPE

now() {
	date +%s.%N
}

# $1 / ($3 - $2), or 0 for a zero interval.
rate() {
	awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; printf "%.1f\n", (d > 0 ? n / d : 0) }'
}

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

"$OPLOGD" gen --out "$T/stream.bin" --framing lenpfx --datasets 4 --nodes 64 \
	--count "$COUNT" --seed 1 2>"$T/gen.err" || die "oplogd gen failed: $(cat "$T/gen.err")"
BYTES=$(wc -c <"$T/stream.bin" | tr -d ' ')
produced=$(sh "$BROKER_SH" produce "$T/kafka" "$TOPIC" "$T/stream.bin") ||
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
DEFAULT_BATCH=$("$OPLOGD" apply -c "$T/apply.conf" --dump-config |
	sed -n '/^\[apply\]/,/^\[/s/^batch_size *= *//p')
[ -n "$DEFAULT_BATCH" ] || die "no [apply] batch_size in apply --dump-config"

# apply_run BATCH: apply into an empty store, in its own group, until every
# message is in; sets APPLY_RATE, APPLY_START (s to the first entries seen)
# and APPLY_CPU (share of one core while catching up).
apply_run() {
	rm -rf "$T/store"
	log=$T/apply-$1.log
	limit=$((COUNT / 5000 + 120))
	first=""
	t0=$(now)
	"$OPLOGD" apply -c "$T/apply.conf" -X "group.id=bench-apply-$1" \
		--set "apply.batch_size=$1" 2>"$log" &
	APPLY_PID=$!
	while :; do
		in=$(taken_in "$T/store")
		t1=$(now)
		if [ -n "$in" ]; then
			[ -n "$first" ] || [ "$in" -eq 0 ] || first=$t1
			[ "$in" -lt "$COUNT" ] || break
		fi
		kill -0 "$APPLY_PID" 2>/dev/null ||
			bad "apply (batch $1) exited early, $in of $COUNT in: $(tail -n 5 "$log")"
		awk -v a="$t0" -v b="$t1" -v l="$limit" 'BEGIN { exit !(b - a > l) }' &&
			bad "apply (batch $1): $in of $COUNT in after ${limit}s: $(tail -n 5 "$log")"
		sleep "$POLL"
	done
	cpu=$(cpu_s "$APPLY_PID")
	[ "$in" -eq "$COUNT" ] || bad "apply (batch $1): $in messages in the store, $COUNT produced"
	kill -TERM "$APPLY_PID"
	rc=0
	wait "$APPLY_PID" || rc=$?
	APPLY_PID=""
	[ "$rc" -eq 0 ] || bad "apply (batch $1) exited $rc after SIGTERM: $(tail -n 5 "$log")"
	applied=$("$OPLOGD" stats --store "$T/store" --json | jq -r .applied)
	[ "$applied" = "$COUNT" ] || bad "apply (batch $1): $applied entries applied, $COUNT produced"
	APPLY_RATE=$(rate "$COUNT" "$t0" "$t1")
	APPLY_START=$(awk -v a="$t0" -v b="$first" 'BEGIN { printf "%.1f\n", b - a }')
	APPLY_CPU=$(awk -v c="$cpu" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", 100 * c / (b - a) }')
	rm -rf "$T/store"
}

apply_run "$DEFAULT_BATCH"
RATE_DEF=$APPLY_RATE START_DEF=$APPLY_START CPU_DEF=$APPLY_CPU
RATE_BIG="" START_BIG="" CPU_BIG=""
if [ "$BIG" != 0 ] && [ "$DEFAULT_BATCH" != 100000 ]; then
	apply_run 100000
	RATE_BIG=$APPLY_RATE START_BIG=$APPLY_START CPU_BIG=$APPLY_CPU
fi

# ---- the store alone: import of the same file ------------------------------

# import_run BATCH: import the file into an empty store; sets IMPORT_RATE.
import_run() {
	rm -rf "$T/import"
	t0=$(now)
	"$OPLOGD" import --store "$T/import" --framing lenpfx --batch "$1" --json \
		"$T/stream.bin" >"$T/import.json" 2>"$T/import.err" ||
		bad "oplogd import (batch $1) failed: $(tail -n 5 "$T/import.err")"
	t1=$(now)
	imported=$(jq -r .applied "$T/import.json")
	[ "$imported" = "$COUNT" ] || bad "import (batch $1) applied $imported entries of $COUNT"
	IMPORT_RATE=$(rate "$COUNT" "$t0" "$t1")
	rm -rf "$T/import"
}

import_run "$DEFAULT_BATCH"
IMPORT_DEF=$IMPORT_RATE
IMPORT_BIG=""
if [ -n "$RATE_BIG" ]; then
	import_run 100000
	IMPORT_BIG=$IMPORT_RATE
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

printf '\napply benchmark: %s entries, 64 nodes x 4 datasets, %.1f bytes/message, %s partitions,\n' \
	"$COUNT" "$(awk -v b="$BYTES" -v n="$COUNT" 'BEGIN { print (b - 4 * n) / n }')" "$PARTITIONS"
printf 'Kafka 0.9.0.1 on loopback, backlog read from the beginning%s\n\n' \
	"$([ "$COUNT" -eq 1000000 ] || echo " (BENCH_APPLY_COUNT=$COUNT: start-up costs weigh more, not for figures)")"
printf '| %-48s | %-22s | %-22s |\n' "measure" "value" "target"
printf '|%s|%s|%s|\n' "--------------------------------------------------" \
	"------------------------" "------------------------"
row "kcat -C, whole topic (median of 3)" "$KCAT_RATE" "msgs/s" ""
row "apply, empty store, batch $DEFAULT_BATCH" "$RATE_DEF" "entries/s" ">= $TARGET_FLOOR"
row "apply/kcat, batch $DEFAULT_BATCH" \
	"$(awk -v a="$RATE_DEF" -v k="$KCAT_RATE" 'BEGIN { print a / k }')" "x" ">= $TARGET_RATIO" 2
if [ -n "$RATE_BIG" ]; then
	row "apply, empty store, batch 100000" "$RATE_BIG" "entries/s" ">= $TARGET_FLOOR"
	row "apply/kcat, batch 100000" \
		"$(awk -v a="$RATE_BIG" -v k="$KCAT_RATE" 'BEGIN { print a / k }')" "x" ">= $TARGET_RATIO" 2
fi
row "import, same file, batch $DEFAULT_BATCH (store only)" "$IMPORT_DEF" "entries/s" ""
[ -z "$IMPORT_BIG" ] || row "import, same file, batch 100000 (store only)" "$IMPORT_BIG" "entries/s" ""
# shellcheck disable=SC2086 # a list of numbers
printf '\nkcat runs:%s msgs/s\n' "$(printf ' %.0f' $kcat_rates)"
printf 'apply start-up (start to first entries seen in the store, polled every %ss): %ss at batch %s' \
	"$POLL" "$START_DEF" "$DEFAULT_BATCH"
[ -z "$START_BIG" ] || printf ', %ss at batch 100000' "$START_BIG"
printf '\napply CPU while catching up (%% of one core, all threads): %s%% at batch %s' \
	"$CPU_DEF" "$DEFAULT_BATCH"
[ -z "$CPU_BIG" ] || printf ', %s%% at batch 100000' "$CPU_BIG"
printf '\napply/import: %s at batch %s' \
	"$(awk -v a="$RATE_DEF" -v i="$IMPORT_DEF" 'BEGIN { printf "%.2f", a / i }')" "$DEFAULT_BATCH"
[ -z "$IMPORT_BIG" ] || printf ', %s at batch 100000' \
	"$(awk -v a="$RATE_BIG" -v i="$IMPORT_BIG" 'BEGIN { printf "%.2f", a / i }')"
printf '\n'
printf 'targets, batch %s: %s\n' "$DEFAULT_BATCH" "$(verdict "$RATE_DEF")"
[ -z "$RATE_BIG" ] || printf 'targets, batch 100000: %s\n' "$(verdict "$RATE_BIG")"
