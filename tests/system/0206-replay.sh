#!/bin/sh
# 0206-replay: `oplogd replay` against a real Kafka broker.
# - A replay into an empty store gives the same store as apply (identical
#   dump), and moves neither the store's live offsets nor the group's.
# - A replay interrupted by SIGINT exits 3 and resumes from its cursor:
#   the second run reads only what the first did not apply, and the store
#   ends identical.
# - --verify reads without writing: all present on a full store (exit 0);
#   after entries are deleted from a copy of it (straight in LMDB), it
#   lists exactly those as missing and exits 1.
# - --from @MS fails clearly on this 0.9 broker (no time lookups).
. tests/system/lib.sh
. tests/system/lib_kafka.sh
# Keyless (--key none): the messages spread over every partition, which
# keyed by dataset they would not with so few datasets.

N=30000
kafka_start --partitions 3
kafka_topic oplog 3
# shellcheck disable=SC2086 # KAFKA_CLIENT_PROPS is a list of words
run "$OPLOGD" gen --topic oplog --key none -X bootstrap.servers="$KAFKA_BOOTSTRAP" $KAFKA_CLIENT_PROPS \
	--datasets 2 --nodes 4 --count $N --dup-rate 0.05 --late-rate 0.1 --bad-rate 0.01 \
	--fork-rate 0.002 --seed 8
assert_rc 0 "gen --topic: $(err)"

conf() {   # conf STORE [BATCH_SIZE]
	kafka_apply_conf "$1" replica-r "[apply]
batch_size = ${2:-10000}"
}
conf "$TDIR/applied" >"$TDIR/apply.conf"

# The reference: apply until every message is in, then stop.
"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"
all_in() {
	[ "$(store_messages "$TDIR/applied")" = "$N" ]
}
wait_for 120 "apply to take in $N messages" all_in
kill -TERM $pid
wait $pid || fail "apply exited $? after SIGTERM"
"$OPLOGD" dump --store "$TDIR/applied" >"$TDIR/applied.json" || fail "dump applied"
"$OPLOGD" lag -c "$TDIR/apply.conf" --json | jq -c '[.partitions[].committed]' >"$TDIR/committed" ||
	fail "lag of the applied store"

# 1. A replay into an empty store equals apply.
conf "$TDIR/replayed" >"$TDIR/replay.conf"
run "$OPLOGD" replay -c "$TDIR/replay.conf" --json
assert_rc 0 "replay: $(err)"
assert_eq true "$(json .complete)" "complete"
assert_eq $N "$(json .read)" "messages read"
assert_eq $N "$(json .total)" "messages in the range"
assert_contains "$(err)" "replay: $N/$N messages (100.0%)" "a plain progress line (no terminal)"
"$OPLOGD" dump --store "$TDIR/replayed" >"$TDIR/replayed.json" || fail "dump replayed"
cmp -s "$TDIR/applied.json" "$TDIR/replayed.json" || fail "the replayed store differs from the applied one"
run "$OPLOGD" stats --store "$TDIR/replayed" --json
assert_eq 0 "$(json '.offsets | length')" "live offsets of the replayed store"
"$OPLOGD" lag -c "$TDIR/apply.conf" --json | jq -c '[.partitions[].committed]' >"$TDIR/committed2" ||
	fail "lag after replay"
cmp -s "$TDIR/committed" "$TDIR/committed2" || fail "replay moved the group's offsets"
# Overlapping replays are harmless: again, everything is a duplicate.
run "$OPLOGD" replay -c "$TDIR/replay.conf" --json
assert_rc 0 "second replay"
assert_eq 0 "$(json .applied)" "entries applied by a second replay"
"$OPLOGD" dump --store "$TDIR/replayed" | cmp -s - "$TDIR/applied.json" || fail "store changed by a second replay"

# 2. Interrupted, then resumed from the cursor. Small batches make it slow
# enough to interrupt midway.
conf "$TDIR/resumed" 50 >"$TDIR/resume.conf"
"$OPLOGD" replay -c "$TDIR/resume.conf" --json >"$TDIR/first.json" 2>"$TDIR/first.err" &
rpid=$!
on_exit "kill -9 $rpid 2>/dev/null"
some_in() {
	_n=$(store_messages "$TDIR/resumed") && [ "$_n" -ge 2000 ]
}
wait_for 60 "the first replay to apply 2000 entries" some_in
kill -INT $rpid
rc=0
wait $rpid || rc=$?
assert_eq 3 "$rc" "exit code of an interrupted replay ($(cat "$TDIR/first.err"))"
assert_eq false "$(jq .complete "$TDIR/first.json")" "first run complete"
first_read=$(jq .read "$TDIR/first.json")
[ "$first_read" -lt $N ] || fail "the first run read everything ($first_read)"
# While its cursor is pending, another range is refused...
run "$OPLOGD" replay -c "$TDIR/resume.conf" --from 5
assert_rc 2 "another range with a cursor pending"
assert_contains "$(err)" "unfinished replay of topics=oplog from=earliest until=end" "the refusal"
assert_contains "$(err)" "--restart" "the way out"
# ...and --restart (tried on a copy) discards the cursor and reads it all.
run "$OPLOGD" snapshot --store "$TDIR/resumed" "$TDIR/restarted"
assert_rc 0 "snapshot of the interrupted store"
conf "$TDIR/restarted" >"$TDIR/restart.conf"
run "$OPLOGD" replay -c "$TDIR/restart.conf" --restart --json
assert_rc 0 "replay --restart"
assert_eq false "$(json .resumed)" "--restart resumed"
assert_eq $N "$(json .read)" "messages read after --restart"
"$OPLOGD" dump --store "$TDIR/restarted" | cmp -s - "$TDIR/applied.json" ||
	fail "the store after --restart differs from the applied one"
run "$OPLOGD" replay -c "$TDIR/resume.conf" --json
assert_rc 0 "resumed replay: $(err)"
assert_eq true "$(json .resumed)" "resumed"
assert_eq "$first_read" "$(json .resumed_at)" "where the second run resumed"
assert_eq $((N - first_read)) "$(json .read)" "messages read by the second run"
"$OPLOGD" dump --store "$TDIR/resumed" | cmp -s - "$TDIR/applied.json" ||
	fail "the resumed replay's store differs from the applied one"
# A different range while a cursor is pending would be refused; none is left now.
run "$OPLOGD" replay -c "$TDIR/resume.conf" --from 5 --json
assert_rc 0 "a new range after a finished replay"

# 3. --verify: complete store, then one with entries deleted in LMDB.
run "$OPLOGD" replay -c "$TDIR/replay.conf" --verify --json
assert_rc 0 "verify of a complete store"
assert_eq 0 "$(json .missing)" "missing in a complete store"
assert_eq "$(json .valid)" "$(json .present)" "every valid entry present"
valid=$(json .valid)
[ "$(json '[.rejected[]] | add')" -gt 0 ] || fail "the range holds bad messages"

run "$OPLOGD" snapshot --store "$TDIR/replayed" "$TDIR/damaged"
assert_rc 0 "snapshot"
/usr/bin/python3 - "$TDIR/damaged" >"$TDIR/deleted" <<'PY' || fail "deleting entries in LMDB"
import sys, lmdb
env = lmdb.open(sys.argv[1], max_dbs=32, subdir=True, map_size=1 << 32)
by_seq = env.open_db(b"by_seq", create=False)
entries = env.open_db(b"entries", create=False, dupsort=True)
with env.begin(write=True) as txn:
    # by_seq: ds u32 | nid u32 | seq u64 | hash -> log id u64 | prev
    picked = [(k, v) for k, v in txn.cursor(db=by_seq)][::997][:7]
    for k, v in picked:
        ds, h, log_id = k[0:4], k[16:48], v[0:8]
        # entries: epoch u32 (log id >> 18) | ds | hash[:8] -> log id
        epoch = (int.from_bytes(log_id, "big") >> 18).to_bytes(4, "big")
        if not txn.delete(epoch + ds + h[:8], log_id, db=entries):
            sys.exit("no entries record for " + h.hex())
        print(h.hex())
PY
assert_eq 7 "$(lines "$TDIR/deleted")" "entries deleted"
conf "$TDIR/damaged" >"$TDIR/damaged.conf"
# Missing counts messages (a duplicated entry counts again); the list
# names each entry once.
run "$OPLOGD" replay -c "$TDIR/damaged.conf" --verify --missing 100 --json
assert_rc 1 "verify of a damaged store"
missing=$(json .missing)
[ "$missing" -ge 7 ] && [ "$missing" -le 14 ] || fail "missing $missing for 7 deleted entries"
assert_eq "$valid" "$(($(json .present) + missing))" "present + missing = valid"
json '.missing_hashes[].hash' | sort >"$TDIR/listed"
sort "$TDIR/deleted" | cmp -s - "$TDIR/listed" || fail "listed $(cat "$TDIR/listed"), deleted $(cat "$TDIR/deleted")"
run "$OPLOGD" replay -c "$TDIR/damaged.conf" --verify --missing 5
assert_rc 1 "verify of a damaged store (text)"
assert_contains "$(out)" "parity: $N messages read, $valid valid, $((valid - missing)) present, $missing missing, 0 pruned" \
	"the parity report"
assert_eq 5 "$(out | grep -c '^missing ')" "missing hashes listed"
assert_contains "$(out)" "... and $((missing - 5)) more" "the rest counted"
# JSON only with --json: the text report is for people, --json for scripts.
if grep -q '^{' "$TDIR/out"; then fail "a JSON summary in the text report: $(out)"; fi
assert_contains "$(out)" "took " "the text report says how long it took"
run "$OPLOGD" replay -c "$TDIR/damaged.conf" --verify --missing 5 --json
assert_rc 1 "verify of a damaged store (--json)"
assert_eq 1 "$(lines "$TDIR/out")" "--json prints one line"
assert_eq "$missing" "$(json .missing)" "--json alone is one JSON document"
run "$OPLOGD" stats --store "$TDIR/damaged" --json
assert_eq 0 "$(json '.offsets | length')" "verify wrote nothing"

# 4. Times need a newer broker.
run "$OPLOGD" replay -c "$TDIR/replay.conf" --from @1700000000000
assert_rc 2 "--from @MS on Kafka 0.9"
assert_contains "$(err)" "cannot look up offsets by time" "the reason"
run "$OPLOGD" replay -c "$TDIR/replay.conf" --from yesterday
assert_rc 2 "a bad --from"
echo "ok $T_NAME"
