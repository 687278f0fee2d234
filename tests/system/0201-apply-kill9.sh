#!/bin/sh
# 0201-apply-kill9: `oplogd apply` killed with SIGKILL in mid-stream, three
# times, at different points, against a real Kafka broker. Each restart
# resumes exactly from the offsets the store held right after the kill
# (read from the store itself with mdb_dump, and as the applier logs them),
# never below them and never above; what it reads again is only what the
# killed run had consumed without applying. At the end every entry is
# applied exactly once: the counters, `verify` and a dump equal those of a
# direct import of the same stream.
#
# The bound on what a kill costs: what a run holds not yet in the store,
# the batch the writer thread is committing and the one filling behind
# it, is together at most [apply] batch_size messages (BATCH here; the
# byte limit is far above what BATCH of these messages take), and it
# polls no message while they hold that many.
# Commits are adaptive (a batch also ends when a poll finds nothing
# waiting), so the store need not hold whole batches of BATCH; the test
# checks, after each kill, that what was taken in but not applied, and
# what the next run reads again, are both at most BATCH. The debug
# log has one "consumed T/P/O" line per message a run took in, written
# unbuffered before the message joins its batch.
. tests/system/lib.sh
. tests/system/lib_kafka.sh

N=120000
BATCH=5000
# When each killed run is killed: "log:COUNT" once it has taken in COUNT
# messages (its own debug lines), "store:COUNT" once the store has gained
# COUNT messages during the run (oplogd stats): right after a commit, so
# while it fills the next batch or applies it. Either way several batches,
# so that a run also gets past what the run before it had read without
# applying; different values, so the kills land at different points.
KILL_AT="log:20500 store:20000 log:21700"
GROUP=replica-k9

kafka_start --partitions 4
kafka_topic oplog 4

gen_reference $N 22
distinct=$(json .applied)
[ "$distinct" -ge 100000 ] || fail "the stream holds only $distinct distinct entries"

# No partition given: kcat spreads the messages over the four at random.
kafka_produce_file oplog "$TDIR/s.bin"
kafka_committed $GROUP oplog >"$TDIR/ends"
awk '{ print $1, $3 }' "$TDIR/ends" >"$TDIR/ends.pe"
assert_eq 4 "$(lines "$TDIR/ends.pe")" "partitions of oplog"
assert_eq $N "$(awk '{ s += $2 } END { print s }' "$TDIR/ends.pe")" "messages in oplog"
awk '$2 == 0 { exit 1 }' "$TDIR/ends.pe" || fail "a partition got no messages: $(tr '\n' ';' <"$TDIR/ends.pe")"

kafka_apply_conf "$TDIR/store" $GROUP "[apply]
batch_size = $BATCH
batch_ms = 5s
[log]
level = debug" >"$TDIR/apply.conf"

# ---- helpers ------------------------------------------------------------

pid=""
# shellcheck disable=SC2016 # expanded at exit: the run alive then, if any
on_exit '[ -z "$pid" ] || kill -9 $pid 2>/dev/null'

# start_run K: run K of apply, its log in apply.K.log.
start_run() {
	"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.$1.log" &
	pid=$!
}

# consumed_at_least K COUNT: run K has taken in COUNT messages or more.
consumed_at_least() {
	[ "$(grep -c ' debug consumed oplog/' "$TDIR/apply.$1.log")" -ge "$2" ]
}

# dead_or_due K WHEN: run K has reached its kill point WHEN (see KILL_AT).
# Also true when the run is gone, so that a run that died is reported as
# such (by the caller) rather than waited for.
dead_or_due() {
	! kill -0 "$pid" 2>/dev/null || case $2 in
	log:*) consumed_at_least "$1" "${2#log:}" ;;
	store:*) [ "$(store_messages "$TDIR/store")" -ge $((held + ${2#store:})) ] ;;
	esac
}

# consumed_of K: "partition offset" of each message run K took in, in order.
consumed_of() {
	sed -n 's|^.* debug consumed oplog/\([0-9]*\)/\([0-9]*\)$|\1 \2|p' "$TDIR/apply.$1.log"
}

# The store's Kafka offsets, "partition next_offset" sorted, read straight
# from its LMDB "offsets" table (key: topic, NUL, u32 partition; value:
# u64 next offset; big-endian), not through oplogd. Empty when the store
# holds none yet.
store_offsets() {
	if ! mdb_dump -s offsets "$TDIR/store" >"$TDIR/offsets.dump" 2>"$TDIR/offsets.err"; then
		grep -q MDB_NOTFOUND "$TDIR/offsets.err" ||
			fail "mdb_dump of the store's offsets: $(cat "$TDIR/offsets.err")"
		return 0
	fi
	perl -ne '
		if (/^HEADER=END/) { $in = 1; next }
		next unless $in;
		last if /^DATA=END/;
		s/^\s+//; chomp;
		if (!defined $k) { $k = $_; next }
		my ($topic, $part) = unpack("Z* N", pack("H*", $k));
		my ($hi, $lo) = unpack("N N", pack("H*", $_));
		print "$part ", $hi * 4294967296 + $lo, "\n" if $topic eq "oplog";
		undef $k;' "$TDIR/offsets.dump" | sort -n
}

# Messages the store has taken in: applied, duplicate or rejected.

all_in() {
	[ "$(store_messages "$TDIR/store" 2>/dev/null)" = "$N" ]
}

# ---- three runs killed in mid-stream, then one to the end ----------------

: >"$TDIR/consumed.before"
: >"$TDIR/offsets.0"
held=0
k=0
for at in $KILL_AT ""; do
	k=$((k + 1))
	prev=$((k - 1))
	start_run $k
	if [ -n "$at" ]; then
		kafka_wait_apply 120 "run $k to reach its kill point $at" "$TDIR/apply.$k.log" dead_or_due $k "$at"
		kill -9 "$pid" 2>/dev/null || fail "run $k died before its kill: $(tail -n 5 "$TDIR/apply.$k.log")"
		rc=0
		# (Quiet: the shell would print "Killed".)
		wait "$pid" 2>/dev/null || rc=$?
		pid=""
		assert_eq 137 "$rc" "exit status of run $k after SIGKILL"
	else
		kafka_wait_apply 180 "run $k to take in the rest of the $N messages" "$TDIR/apply.$k.log" all_in
	fi
	consumed_of $k >"$TDIR/consumed.$k"
	[ -s "$TDIR/consumed.$k" ] || fail "run $k logged no consumed message"
	# Per partition, a run reads on from where it starts, one offset
	# after the other: no message twice, none skipped.
	awk '($1 in last) && $2 != last[$1] + 1 { print "oplog/" $1 ": " $2 " after " last[$1]; bad = 1; exit }
		{ last[$1] = $2 } END { exit bad }' "$TDIR/consumed.$k" >"$TDIR/gaps" ||
		fail "run $k did not read its partitions in order: $(cat "$TDIR/gaps")"

	# Run k started where the store stood after the kill of run k-1:
	# what the applier logs, and the first offset it read per partition.
	for part in 0 1 2 3; do
		stored=$(awk -v p=$part '$1 == p { print $2 }' "$TDIR/offsets.$prev")
		first=$(awk -v p=$part '$1 == p { print $2; exit }' "$TDIR/consumed.$k")
		if [ -n "$stored" ]; then
			grep -q "assigned oplog/$part: from offset $stored (the store's)\$" "$TDIR/apply.$k.log" ||
				fail "run $k did not resume oplog/$part from the store's offset $stored: $(grep 'assigned oplog/' "$TDIR/apply.$k.log" | tr '\n' ';')"
		else
			stored=0
			grep -q "assigned oplog/$part: from earliest" "$TDIR/apply.$k.log" ||
				fail "run $k did not start oplog/$part, unknown to the store, from earliest: $(grep 'assigned oplog/' "$TDIR/apply.$k.log" | tr '\n' ';')"
		fi
		[ -z "$first" ] || assert_eq "$stored" "$first" "first offset run $k read from oplog/$part"
	done

	# Read again: offsets run k took in that run k-1 had taken in. Run k
	# starts at the store's offsets and reads on in order (both checked
	# above), so these are what run k-1 took in without applying them:
	# at most the batch being committed and the one filling when it was
	# killed, together at most BATCH.
	reread=0
	if [ $k -gt 1 ]; then
		reread=$(awk 'NR == FNR { seen[$0] = 1; next } ($0 in seen) { n++ } END { print n + 0 }' \
			"$TDIR/consumed.$prev" "$TDIR/consumed.$k")
	fi
	[ "$reread" -le "$BATCH" ] ||
		fail "run $k read $reread messages of run $prev again, more than batch_size ($BATCH)"
	cat "$TDIR/consumed.$k" >>"$TDIR/consumed.before"

	# The store after the run: it holds exactly the messages below its
	# offsets, each once.
	store_offsets >"$TDIR/offsets.$k"
	held=$(awk '{ s += $2 } END { print s + 0 }' "$TDIR/offsets.$k")
	assert_eq "$held" "$(store_messages "$TDIR/store")" "messages in the store after run $k vs its offsets"
	if [ -n "$at" ]; then
		# Offsets never go back, and never pass what was taken in.
		for part in 0 1 2 3; do
			now=$(awk -v p=$part '$1 == p { print $2 }' "$TDIR/offsets.$k")
			before=$(awk -v p=$part '$1 == p { print $2 }' "$TDIR/offsets.$prev")
			[ "${now:-0}" -ge "${before:-0}" ] ||
				fail "oplog/$part: the store's offset went back from $before to $now in run $k"
			max=$(awk -v p=$part '$1 == p && $2 > m { m = $2 } END { print m + 1 }' "$TDIR/consumed.before")
			[ "${now:-0}" -le "$max" ] ||
				fail "oplog/$part: the store's offset $now is past what was taken in ($max)"
		done
		lost=$(($(lines "$TDIR/consumed.$k") - held + $(awk '{ s += $2 } END { print s + 0 }' "$TDIR/offsets.$prev")))
		[ "$lost" -ge 0 ] && [ "$lost" -le "$BATCH" ] ||
			fail "run $k took in $lost messages it did not apply: not within 0 .. $BATCH"
		echo "# run $k: killed after taking in $(lines "$TDIR/consumed.$k") messages ($reread of the run before again); the store holds $held; $lost taken in but not applied"
	else
		echo "# run $k: took in $(lines "$TDIR/consumed.$k") messages ($reread of the run before again) to the end"
	fi
done

kill -TERM "$pid"
wait_for 15 "apply to exit after SIGTERM" sh -c "! kill -0 $pid 2>/dev/null"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" -eq 0 ] || fail "apply exited $rc after SIGTERM: $(tail -n 5 "$TDIR/apply.$k.log")"

# Every offset of every partition was taken in, and the store's offsets
# are the partitions' ends.
assert_eq "$(cat "$TDIR/ends.pe")" "$(store_offsets)" "the store's offsets at the end"
sort -u "$TDIR/consumed.before" | awk '{ n[$1]++ } END { for (p in n) print p, n[p] }' | sort -n >"$TDIR/covered"
assert_eq "$(cat "$TDIR/ends.pe")" "$(cat "$TDIR/covered")" "distinct offsets taken in per partition"

# Exactly once: the same counters as the direct import. A message applied
# twice would count as a duplicate here.
run "$OPLOGD" stats --store "$TDIR/store" --json
assert_eq "$distinct" "$(json .entries)" "entries in the store"
assert_same_as_reference "$TDIR/store"
echo "ok $T_NAME"
