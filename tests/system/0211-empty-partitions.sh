#!/bin/sh
# 0211-empty-partitions: every message of a 4-partition topic is in
# partition 0; a fresh group applies it and gets SIGTERM as soon as
# `oplogd lag` reads 0. Every partition, the three empty ones included,
# then has a committed offset equal to its high watermark (read with
# kafka-python, not with oplogd) and a stored one in the store.
. tests/system/lib.sh
. tests/system/lib_kafka.sh

N=500
kafka_start --partitions 4
kafka_topic oplog 4
run "$OPLOGD" gen --out "$TDIR/stream.bin" --framing lenpfx --count $N --seed 11
assert_rc 0 "gen: $(err)"
kafka_produce_file oplog "$TDIR/stream.bin" 0

kafka_apply_conf "$TDIR/store" replica-e >"$TDIR/apply.conf"
"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"

caught_up() {
	"$OPLOGD" lag -c "$TDIR/apply.conf" --json >"$TDIR/lag.json" 2>"$TDIR/lag.err" &&
		jq -e '.total_lag == 0 and (.partitions | length) == 4' "$TDIR/lag.json" >/dev/null
}
wait_for 60 "oplogd lag to read 0" caught_up
kill -TERM $pid
wait_for 30 "apply to exit after SIGTERM" sh -c "! kill -0 $pid 2>/dev/null"
wait $pid || fail "apply exited $? after SIGTERM: $(tail -n 5 "$TDIR/apply.log")"

kafka_committed replica-e oplog >"$TDIR/committed"
assert_eq 4 "$(lines "$TDIR/committed")" "partitions"
assert_eq "0 $N $N 0" "$(awk '$1 == 0 { print $1, $2, $3, $4 }' "$TDIR/committed")" "partition 0"
for p in 1 2 3; do
	assert_eq "$p 0 0 0" "$(awk -v p=$p '$1 == p { print $1, $2, $3, $4 }' "$TDIR/committed")" \
		"empty partition $p: committed offset, end, lag"
done
run "$OPLOGD" stats --store "$TDIR/store" --json
assert_eq "0:$N 1:0 2:0 3:0" "$(json '[.offsets[] | "\(.partition):\(.next)"] | join(" ")')" \
	"stored offsets"
echo "ok $T_NAME"
