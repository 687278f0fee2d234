# lib_kafka.sh: a real Kafka 0.9.0.1 broker for the numbered system tests
# (POSIX sh). Source it after lib.sh, from the project root:
#
#   . tests/system/lib.sh
#   . tests/system/lib_kafka.sh
#   kafka_start                  # or: kafka_start --partitions 8
#
# Every broker belongs to one test: its state lives in $TDIR/kafka and it
# is stopped when the test ends, passed or failed. A broker that cannot be
# installed or started (no Java, no npm registry, ...) fails the test: the
# tests that need a broker must not pass without one.
#
#   kafka_start [--port P] [--partitions N]
#                               install if needed, start ZooKeeper and the
#                               broker, export KAFKA_BOOTSTRAP (HOST:PORT)
#   kafka_stop                  stop both now (also done at exit)
#   kafka_kill_broker           SIGKILL the broker (ZooKeeper stays up)
#   kafka_restart_broker        start the broker again on the same port
#   kafka_topic NAME N          create topic NAME with N partitions, wait
#                               until every partition has a leader
#   kafka_kcat ARGS...          kcat with -b $KAFKA_BOOTSTRAP and the client
#                               settings this broker needs
#   kafka_produce_file TOPIC FILE [PARTITION]
#                               produce each message of a lenpfx FILE (u32
#                               big-endian length + bytes), in file order;
#                               without PARTITION they spread at random
#   kafka_consume_file TOPIC FILE COUNT [PARTITION]
#                               write COUNT messages from the beginning to
#                               FILE in lenpfx framing
#   kafka_apply_conf STORE GROUP [INI]
#                               an `oplogd apply` config for this broker on
#                               stdout: topic oplog, group GROUP, store
#                               STORE, a 6 s session, commits every 200 ms,
#                               no metrics endpoint; INI (text such as
#                               "[apply]\nbatch_size = 50") comes last and wins
#   kafka_group_lag GROUP [TOPIC]
#                               "partition current logend lag" per line,
#                               sorted; Kafka 0.9 only describes a group
#                               that has live members
#   kafka_committed GROUP TOPIC "partition committed end lag metadata" per
#                               partition of TOPIC, sorted: GROUP's committed
#                               offset and metadata as the broker keeps them
#                               (OffsetFetch, no group membership needed, so
#                               it also works while no member is alive), the
#                               log end offset and end - committed. Nothing
#                               committed: committed and lag are -1; empty
#                               metadata is "-". Uses kafka-python through
#                               /usr/bin/python3 (Debian's python3-kafka), a
#                               client independent of librdkafka
#   kafka_committed_lag GROUP TOPIC
#                               the summed lag of kafka_committed; fails when
#                               a partition has nothing committed
#   kafka_wait_apply SECS WHAT LOG CMD...
#                               wait_for, for a condition an `oplogd apply`
#                               writing LOG has to bring about: on timeout
#                               the failure also shows LOG's last non-debug
#                               lines (its progress lines say why)
#
# KAFKA_CLIENT_SETTINGS holds the librdkafka settings (key=value words) any
# client needs for a 0.9 broker, which has no ApiVersion request;
# KAFKA_CLIENT_PROPS is the same as kcat arguments (-X key=value ...).

command -v on_exit >/dev/null 2>&1 || . tests/system/lib.sh

KAFKA_BROKER_SH=$PWD/scripts/kafka-broker.sh
KAFKA_CLIENT_SETTINGS="api.version.request=false broker.version.fallback=0.9.0.1"
KAFKA_CLIENT_PROPS="-X api.version.request=false -X broker.version.fallback=0.9.0.1"
export KAFKA_CLIENT_SETTINGS KAFKA_CLIENT_PROPS
KAFKA_DIR=$TDIR/kafka
KAFKA_BOOTSTRAP=""

kafka_start() {
	sh "$KAFKA_BROKER_SH" install >&2 || fail "installing Kafka failed (see above)"
	# Registered before starting so that a half-started ZooKeeper is
	# stopped too; stop is idempotent.
	on_exit "sh '$KAFKA_BROKER_SH' stop '$KAFKA_DIR'"
	KAFKA_BOOTSTRAP=$(sh "$KAFKA_BROKER_SH" start "$KAFKA_DIR" "$@") ||
		fail "Kafka broker did not start (see above)"
	export KAFKA_BOOTSTRAP
}

kafka_apply_conf() {
	cat <<CONF
[kafka]
bootstrap.servers = $KAFKA_BOOTSTRAP
group.id = $2
api.version.request = false
broker.version.fallback = 0.9.0.1
session.timeout.ms = 6000
[apply]
topics = oplog
commit_interval = 200ms
[store]
path = $1
[metrics]
listen =
CONF
	[ -z "${3:-}" ] || printf '%s\n' "$3"
}

kafka_stop() {
	sh "$KAFKA_BROKER_SH" stop "$KAFKA_DIR" || fail "stopping Kafka failed"
}

kafka_kill_broker() {
	sh "$KAFKA_BROKER_SH" kill "$KAFKA_DIR" || fail "killing the Kafka broker failed"
}

kafka_restart_broker() {
	sh "$KAFKA_BROKER_SH" restart-broker "$KAFKA_DIR" >/dev/null ||
		fail "Kafka broker did not restart (see above)"
}

kafka_topic() {
	sh "$KAFKA_BROKER_SH" topic "$KAFKA_DIR" "$1" "$2" || fail "creating topic $1 failed"
}

kafka_kcat() {
	# shellcheck disable=SC2086 # KAFKA_CLIENT_PROPS is a list of words
	kcat -b "$KAFKA_BOOTSTRAP" $KAFKA_CLIENT_PROPS "$@"
}

# kafka-broker.sh produce rejoins the messages with a delimiter kcat can
# split on (see there).
kafka_produce_file() {
	sh "$KAFKA_BROKER_SH" produce "$KAFKA_DIR" "$1" "$2" ${3:+"$3"} >/dev/null ||
		fail "kafka_produce_file $1 $2 failed (see above)"
}

# %R writes each payload's length as a u32 big-endian: lenpfx again.
kafka_consume_file() {
	_kc_part=""
	[ -z "${4:-}" ] || _kc_part="-p $4"
	# shellcheck disable=SC2086 # _kc_part is empty or two words
	kafka_kcat -C -t "$1" $_kc_part -o beginning -c "$3" -e -q -f '%R%s' >"$2" \
		2>"$TDIR/kafka-consume.err" || fail "kcat -C from $1 failed: $(tail -n 5 "$TDIR/kafka-consume.err")"
}

# Parses the 0.9 tool's "GROUP, TOPIC, PARTITION, CURRENT OFFSET, LOG END
# OFFSET, LAG, OWNER" rows; an unknown offset ("unknown") is printed as -1.
kafka_group_lag() {
	sh "$KAFKA_BROKER_SH" tool "$KAFKA_DIR" kafka-consumer-groups.sh --new-consumer \
		--bootstrap-server "$KAFKA_BOOTSTRAP" --describe --group "$1" \
		>"$TDIR/kafka-lag.out" 2>&1 || fail "kafka-consumer-groups.sh --describe $1 failed: $(tail -n 5 "$TDIR/kafka-lag.out")"
	awk -F', *' -v g="$1" -v t="${2:-}" '
		$1 == g && (t == "" || $2 == t) && $3 ~ /^[0-9]+$/ {
			for (i = 4; i <= 6; i++) if ($i !~ /^-?[0-9]+$/) $i = -1
			print $3, $4, $5, $6
		}' "$TDIR/kafka-lag.out" | sort -n
}

# kafka-python 2.0.2 as Debian ships it: committed(tp, metadata=True) gives
# the OffsetAndMetadata. The consumer never subscribes, so it does not join
# (or rebalance) GROUP; api_version is pinned because 0.9 cannot be probed
# with ApiVersion requests. /usr/bin/python3 on purpose: another python3
# earlier on PATH may lack the kafka module.
kafka_committed() {
	/usr/bin/python3 - "$KAFKA_BOOTSTRAP" "$1" "$2" >"$TDIR/kafka-committed.out" \
		2>"$TDIR/kafka-committed.err" <<'PY' || fail "kafka_committed $1 $2: $(tail -n 5 "$TDIR/kafka-committed.err")"
import sys
from kafka import KafkaConsumer, TopicPartition

bootstrap, group, topic = sys.argv[1:4]
c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, api_version=(0, 9),
                  enable_auto_commit=False, session_timeout_ms=10000,
                  request_timeout_ms=20000)
try:
    parts = c.partitions_for_topic(topic)
    if not parts:
        sys.exit("topic %s: no partitions in the metadata" % topic)
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    ends = c.end_offsets(tps)
    for tp in tps:
        om = c.committed(tp, metadata=True)
        if om is None or om.offset is None or om.offset < 0:
            off, lag, meta = -1, -1, "-"
        else:
            off, lag, meta = om.offset, ends[tp] - om.offset, om.metadata or "-"
        print(tp.partition, off, ends[tp], lag, meta)
finally:
    c.close(autocommit=False)
PY
	cat "$TDIR/kafka-committed.out"
}

kafka_committed_lag() {
	kafka_committed "$1" "$2" >"$TDIR/kafka-committed.rows"
	[ -s "$TDIR/kafka-committed.rows" ] || fail "kafka_committed $1 $2: no partitions"
	awk '$2 < 0 { bad = 1 } { sum += $4 } END { if (bad) exit 1; print sum }' \
		"$TDIR/kafka-committed.rows" ||
		fail "group $1 has no committed offset on some partition of $2: $(tr '\n' ';' <"$TDIR/kafka-committed.rows")"
}

kafka_wait_apply() {
	_wa_secs=$1
	_wa_what=$2
	_wa_log=$3
	shift 3
	_wa_end=$(($(date +%s) + _wa_secs))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_wa_end" ] ||
			fail "timed out after ${_wa_secs}s waiting for $_wa_what; last lines of $_wa_log:
$(grep -v '^[^ ]* debug ' "$_wa_log" | tail -n 8)"
		sleep 0.1
	done
}
