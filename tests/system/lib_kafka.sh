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
#   kafka_tls_ca NAME           a CA of its own (openssl): certificate
#                               $TDIR/tls/NAME.pem, key $TDIR/tls/NAME.key
#   kafka_start_tls [--partitions N]
#                               kafka_start, then the broker again with an
#                               SSL listener beside the PLAINTEXT one. Its
#                               certificate (SAN IP:127.0.0.1 and
#                               DNS:localhost, so that librdkafka's default
#                               hostname check passes) is signed by the CA
#                               "ca" (kafka_tls_ca ca) and kept in a JKS
#                               keystore made with keytool. Exports
#                               KAFKA_TLS_BOOTSTRAP (HOST:PORT of the SSL
#                               listener) and KAFKA_TLS_CA (the CA's PEM);
#                               KAFKA_BOOTSTRAP stays the PLAINTEXT listener
#   kafka_tls_ini CA_PEM        the [kafka] lines for a client of the SSL
#                               listener trusting CA_PEM, as INI for
#                               kafka_apply_conf
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

# The CA and the broker's certificate live in $TDIR/tls, which goes with
# the test. Each CA has its own serial file and key: a second CA signs
# nothing the broker presents.
kafka_tls_ca() {
	mkdir -p "$TDIR/tls"
	cat >"$TDIR/tls/$1.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = oplogd test CA $1
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -config "$TDIR/tls/$1.cnf" \
		-extensions ca_ext -keyout "$TDIR/tls/$1.key" -out "$TDIR/tls/$1.pem" \
		>"$TDIR/tls/$1.log" 2>&1 || fail "openssl: making the CA $1 failed: $(tail -n 3 "$TDIR/tls/$1.log")"
}

# keytool of the JVM that runs the broker (kafka-run-class.sh takes
# $JAVA_HOME/bin/java, else java on PATH).
kafka__keytool() {
	if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/keytool" ]; then
		echo "$JAVA_HOME/bin/keytool"
	elif _kt_java=$(command -v java); then
		_kt=$(dirname "$(readlink -f "$_kt_java")")/keytool
		[ -x "$_kt" ] || fail "no keytool beside $_kt_java (install openjdk-17-jre-headless: scripts/deps.sh)"
		echo "$_kt"
	else
		fail "java not found on PATH (install openjdk-17-jre-headless: scripts/deps.sh)"
	fi
}

# The broker's key and certificate go through a PKCS#12 file (openssl)
# into a JKS keystore (keytool), Kafka 0.9's default keystore type. The
# broker is started once by kafka_start with the PLAINTEXT listener only
# (kafka-broker.sh writes its configuration), then killed and started
# again from the same configuration with the SSL listener added.
# ZooKeeper, topics and the PLAINTEXT port stay as they were.
kafka_start_tls() {
	_kt=$(kafka__keytool)
	_pw=oplogd-test
	_tls=$TDIR/tls
	kafka_tls_ca ca
	cat >"$_tls/broker.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = 127.0.0.1
[broker_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
CNF
	{
		openssl req -new -newkey rsa:2048 -nodes -config "$_tls/broker.cnf" \
			-keyout "$_tls/broker.key" -out "$_tls/broker.csr" &&
		openssl x509 -req -in "$_tls/broker.csr" -CA "$_tls/ca.pem" -CAkey "$_tls/ca.key" \
			-set_serial 2 -days 2 -extfile "$_tls/broker.cnf" -extensions broker_ext \
			-out "$_tls/broker.pem" &&
		openssl pkcs12 -export -in "$_tls/broker.pem" -inkey "$_tls/broker.key" \
			-certfile "$_tls/ca.pem" -name broker -passout "pass:$_pw" -out "$_tls/broker.p12" &&
		"$_kt" -importkeystore -noprompt -srckeystore "$_tls/broker.p12" -srcstoretype PKCS12 \
			-srcstorepass "$_pw" -destkeystore "$_tls/broker.jks" -deststoretype JKS \
			-deststorepass "$_pw" -destkeypass "$_pw"
	} >"$_tls/broker.log" 2>&1 ||
		fail "making the broker's keystore failed: $(tail -n 5 "$_tls/broker.log")"

	kafka_start "$@"
	_port=${KAFKA_BOOTSTRAP##*:}
	_tls_port=$(perl -MIO::Socket::INET -e '
		for (1 .. 500) {
			my $p = 20000 + int(rand(12000));
			next if $p == $ARGV[0];
			my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $p,
				Proto => "tcp", Listen => 1, ReuseAddr => 1) or next;
			close $s;
			print "$p\n";
			exit 0;
		}
		exit 1;' "$_port") || fail "no free loopback port for the SSL listener"
	kafka_kill_broker
	_props=$KAFKA_DIR/server.properties
	sed -i -e "s|^listeners=.*|listeners=PLAINTEXT://127.0.0.1:$_port,SSL://127.0.0.1:$_tls_port|" \
		-e "s|^advertised.listeners=.*|advertised.listeners=PLAINTEXT://127.0.0.1:$_port,SSL://127.0.0.1:$_tls_port|" \
		"$_props" || fail "editing $_props failed"
	# Only clients use SSL: brokers talk PLAINTEXT, and no client
	# certificate is asked for.
	cat >>"$_props" <<PROPS
security.inter.broker.protocol=PLAINTEXT
ssl.keystore.type=JKS
ssl.keystore.location=$_tls/broker.jks
ssl.keystore.password=$_pw
ssl.key.password=$_pw
ssl.client.auth=none
PROPS
	kafka_restart_broker
	KAFKA_TLS_BOOTSTRAP=127.0.0.1:$_tls_port
	KAFKA_TLS_CA=$_tls/ca.pem
	export KAFKA_TLS_BOOTSTRAP KAFKA_TLS_CA
}

kafka_tls_ini() {
	cat <<INI
[kafka]
bootstrap.servers = $KAFKA_TLS_BOOTSTRAP
security.protocol = ssl
ssl.ca.location = $1
INI
}
