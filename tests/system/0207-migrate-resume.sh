#!/bin/sh
# 0207-migrate-resume: a store of schema 1 (tests/fixtures/store-v1) that
# applied the first K0 and K1 messages of the two partitions of topic
# oplog is upgraded by `oplogd apply` itself, against a real Kafka broker
# holding the whole stream, and resumes from its offsets: it reads each
# partition from the store's offset on, nothing below it, each message
# once. At the end its datasets of the stream equal a direct import of the
# whole stream, its counters moved by what the rest of the stream adds,
# and what the stream does not touch (dataset pr, the replay cursor, the
# other topic's offsets and lost ranges) is as the fixture had it.
. tests/system/lib.sh
. tests/system/lib_kafka.sh

F=tests/fixtures/store-v1
. "$F/stream.env"
GROUP=replica-migrated

# The stream the fixture was made from, again, byte for byte.
# shellcheck disable=SC2086 # GEN_ARGS is a list of words
run "$OPLOGD" gen --out "$TDIR/s.bin" $GEN_ARGS
assert_rc 0 "gen"
assert_eq "$(cut -d' ' -f1 "$F/stream.sha256")" "$(sha256sum <"$TDIR/s.bin" | cut -d' ' -f1)" \
	"the regenerated stream is the fixture's"
total=$(lenpfx_split "$TDIR/s.bin" "$SPLIT" "$TDIR/p0.bin" "$TDIR/p1.bin")
lenpfx_split "$TDIR/p0.bin" "$K0" "$TDIR/a0.bin" "$TDIR/b0.bin" >/dev/null
lenpfx_split "$TDIR/p1.bin" "$K1" "$TDIR/a1.bin" "$TDIR/b1.bin" >/dev/null
rest=$((total - K0 - K1))

# References: the whole stream, and the part the fixture holds.
run "$OPLOGD" import --store "$TDIR/direct" --framing lenpfx --json "$TDIR/s.bin"
assert_rc 0 "direct import"
cp "$TDIR/out" "$TDIR/direct.stats"
run "$OPLOGD" import --store "$TDIR/held" --framing lenpfx --json "$TDIR/a0.bin" "$TDIR/a1.bin"
assert_rc 0 "import of what the fixture holds"
cp "$TDIR/out" "$TDIR/held.stats"

kafka_start --partitions 2
kafka_topic oplog 2
kafka_produce_file oplog "$TDIR/p0.bin" 0
kafka_produce_file oplog "$TDIR/p1.bin" 1
kafka_committed $GROUP oplog >"$TDIR/ends"
assert_eq "0 $SPLIT
1 $((total - SPLIT))" "$(awk '{ print $1, $3 }' "$TDIR/ends")" "messages per partition"

mkdir "$TDIR/store"
cp "$F/data.mdb" "$TDIR/store/"
kafka_apply_conf "$TDIR/store" $GROUP "[apply]
batch_size = 50
[log]
level = debug" >"$TDIR/apply.conf"

taken_in() { # messages the store has taken in: applied, duplicate or rejected
	"$OPLOGD" stats --store "$TDIR/store" --json 2>/dev/null |
		jq -e '.applied + .duplicates + ([.rejected[]] | add // 0)'
}
fixture_in=$(jq '.applied + .duplicates + ([.rejected[]] | add // 0)' "$F/expected/stats")
all_in() {
	[ "$(taken_in)" = $((fixture_in + rest)) ]
}

"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"
kafka_wait_apply 120 "apply to take in the $rest messages past the store's offsets" \
	"$TDIR/apply.log" all_in
kill -TERM "$pid"
wait_for 15 "apply to exit after SIGTERM" sh -c "! kill -0 $pid 2>/dev/null"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || fail "apply exited $rc: $(tail -n 5 "$TDIR/apply.log")"

# Upgraded by apply's own open, and said so.
grep -q " info  upgrading store $TDIR/store from schema 1 to 2" "$TDIR/apply.log" ||
	fail "apply did not log the upgrade: $(head -n 5 "$TDIR/apply.log")"
grep -q " info  upgraded store $TDIR/store to schema 2" "$TDIR/apply.log" ||
	fail "apply did not log the end of the upgrade"

# Resumed from the store's offsets, read on in order, nothing twice.
for part in 0 1; do
	eval "k=\$K$part"
	grep -q "assigned oplog/$part: from offset $k (the store's)\$" "$TDIR/apply.log" ||
		fail "oplog/$part was not resumed from the store's offset $k: $(grep 'assigned oplog/' "$TDIR/apply.log" | tr '\n' ';')"
	sed -n "s|^.* debug consumed oplog/$part/\([0-9]*\)\$|\1|p" "$TDIR/apply.log" >"$TDIR/consumed.$part"
	assert_eq "$k" "$(head -n 1 "$TDIR/consumed.$part")" "first offset read from oplog/$part"
	awk -v k="$k" '$1 < k { print "offset " $1 " is below the store'"'"'s " k; exit 1 }
		NR > 1 && $1 != last + 1 { print $1 " after " last; exit 1 } { last = $1 }' \
		"$TDIR/consumed.$part" >"$TDIR/bad" || fail "oplog/$part: $(cat "$TDIR/bad")"
done
assert_eq "$rest" "$(cat "$TDIR/consumed.0" "$TDIR/consumed.1" | wc -l | tr -d ' ')" \
	"messages read in all"

run "$OPLOGD" stats --store "$TDIR/store" --json
assert_eq "[{\"topic\":\"oplog\",\"partition\":0,\"next\":$SPLIT},{\"topic\":\"oplog\",\"partition\":1,\"next\":$((total - SPLIT))}]" \
	"$(json '[.offsets[] | select(.topic == "oplog")] | tojson')" "offsets at the end"
assert_eq "$(jq -c '[.offsets[] | select(.topic != "oplog")], .lost_offsets, .store_id' "$F/expected/stats")" \
	"$(jq -c '[.offsets[] | select(.topic != "oplog")], .lost_offsets, .store_id' "$TDIR/out")" \
	"the other topic's offsets, the lost ranges, the store id"
# Counters: the fixture's, plus what the rest of the stream adds.
for c in applied duplicates; do
	want=$(($(jq ".$c" "$F/expected/stats") + $(jq ".$c" "$TDIR/direct.stats") - $(jq ".$c" "$TDIR/held.stats")))
	assert_eq "$want" "$(json ".$c")" "$c"
done
sum_rej='[.rejected[]] | add // 0'
want=$(($(jq "$sum_rej" "$F/expected/stats") + $(jq "$sum_rej" "$TDIR/direct.stats") - $(jq "$sum_rej" "$TDIR/held.stats")))
assert_eq "$want" "$(json "$sum_rej")" "rejected"

run "$OPLOGD" verify --store "$TDIR/store"
assert_rc 0 "verify"

# The stream's datasets as a direct import of the whole stream has them;
# pr as the fixture had it.
"$OPLOGD" dump --store "$TDIR/store" >"$TDIR/store.dump" || fail "dump"
"$OPLOGD" dump --store "$TDIR/direct" >"$TDIR/direct.dump" || fail "dump of the direct import"
jq -c '.datasets[] | select(.name != "pr")' "$TDIR/store.dump" >"$TDIR/got"
jq -c '.datasets[]' "$TDIR/direct.dump" >"$TDIR/want"
cmp -s "$TDIR/want" "$TDIR/got" ||
	fail "the resumed store differs from a direct import: $(diff "$TDIR/want" "$TDIR/got" | head -c 1500)"
assert_eq "$(jq -c '.datasets[] | select(.name == "pr")' "$F/expected/dump")" \
	"$(jq -c '.datasets[] | select(.name == "pr")' "$TDIR/store.dump")" "dataset pr"
mdb_dump -s replay "$TDIR/store" | grep -v '^mapsize=' >"$TDIR/got"
grep -v '^mapsize=' "$F/expected/mdb.replay" >"$TDIR/want"
cmp -s "$TDIR/want" "$TDIR/got" || fail "apply changed the replay cursor"

echo "ok $T_NAME"
