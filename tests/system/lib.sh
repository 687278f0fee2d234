# lib.sh: helpers shared by the numbered system tests (POSIX sh).
#
# A test starts with `. tests/system/lib.sh` and runs from the project
# root with $OPLOGD naming the binary (make system sets both). Sourcing
# turns on `set -eu`, creates $TDIR (a fresh directory removed on exit,
# together with whatever was registered with on_exit) and defines:
#
#   fail MSG...                  "FAIL <test>: MSG" on stderr, exit 1
#   assert_eq WANT GOT WHAT      fail unless the two strings are equal
#   assert_contains TEXT PART WHAT   fail unless TEXT contains PART
#   hex2bin HEX                  write the bytes of HEX to stdout (perl pack)
#   run CMD...                   run CMD; stdout to $TDIR/out, stderr to
#                                $TDIR/err, exit code in $RC; never fails
#   assert_rc WANT WHAT          fail unless the last run's $RC is WANT
#   out / err                    the last run's stdout / stderr
#   json FILTER                  jq -r FILTER over the last run's stdout
#   lines FILE                   the number of lines in FILE
#   wait_for SECS WHAT CMD...    poll CMD until it succeeds; fail after SECS
#   on_exit CMD                  run CMD (e.g. kill a daemon) when the test ends
#   gen_reference N SEED         a stream of N messages (2 datasets x 4 nodes;
#                                duplicates, late, bad, forks) in $TDIR/s.bin
#                                and its direct import in $TDIR/direct, whose
#                                --json summary is in $TDIR/direct.stats and
#                                is the last run's output
#   assert_same_as_reference DIR the store in DIR holds what gen_reference's
#                                direct import holds: the same applied,
#                                duplicate and rejected counts (so nothing
#                                was applied twice), verify 0, identical dump
#   lenpfx_split FILE K A B      the first K messages of a lenpfx FILE to A,
#                                the rest to B; prints how many in all
#   store_messages DIR           messages the store in DIR has taken in
#                                (applied + duplicates + rejected); fails,
#                                printing nothing, while there is no store
set -eu

: "${OPLOGD:?OPLOGD must name the oplogd binary}"
T_NAME=$(basename "$0" .sh)

fail() {
	echo "FAIL $T_NAME: $*" >&2
	if [ -s "$TDIR/err" ]; then
		echo "  last stderr: $(head -c 2000 "$TDIR/err")" >&2
	fi
	exit 1
}

assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

assert_contains() {
	case $1 in
	*"$2"*) ;;
	*) fail "$3: '$2' not found in '$1'" ;;
	esac
}

hex2bin() {
	perl -e 'print pack("H*", $ARGV[0])' "$1"
}

run() {
	RC=0
	"$@" >"$TDIR/out" 2>"$TDIR/err" || RC=$?
}

assert_rc() {
	[ "$RC" -eq "$1" ] || fail "$2: exit code $RC, expected $1"
}

out() { cat "$TDIR/out"; }
err() { cat "$TDIR/err"; }

json() {
	jq -r "$1" "$TDIR/out" || fail "stdout is not the JSON expected by '$1': $(out)"
}

lines() {
	wc -l <"$1" | tr -d ' '
}

# Poll, never sleep blindly: CMD is retried every 0.1 s until it succeeds.
wait_for() {
	_wf_secs=$1
	_wf_what=$2
	shift 2
	_wf_end=$(($(date +%s) + _wf_secs))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_wf_end" ] || fail "timed out after ${_wf_secs}s waiting for $_wf_what"
		sleep 0.1
	done
}

# A TCP port on 127.0.0.1 that nothing listens on now (for [metrics]
# listen, or for an address where no broker is).
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# dev_broker [ARGS]: start `oplogd broker ARGS` (librdkafka's mock cluster,
# in memory, no Java), stopped at exit; DEV_BOOTSTRAP gets its address and
# $TDIR/broker.log its stderr.
dev_broker() {
	"$OPLOGD" broker "$@" >"$TDIR/broker.addr" 2>"$TDIR/broker.log" &
	DEV_BROKER_PID=$!
	on_exit "kill $DEV_BROKER_PID 2>/dev/null; wait $DEV_BROKER_PID 2>/dev/null"
	wait_for 20 "oplogd broker to print its address" test -s "$TDIR/broker.addr"
	DEV_BOOTSTRAP=$(head -n 1 "$TDIR/broker.addr")
}

gen_reference() {
	run "$OPLOGD" gen --out "$TDIR/s.bin" --framing lenpfx --datasets 2 --nodes 4 --count "$1" \
		--dup-rate 0.05 --late-rate 0.1 --bad-rate 0.01 --fork-rate 0.002 --seed "$2"
	assert_rc 0 "gen"
	run "$OPLOGD" import --store "$TDIR/direct" --framing lenpfx --json "$TDIR/s.bin"
	assert_rc 0 "direct import"
	cp "$TDIR/out" "$TDIR/direct.stats"
}

assert_same_as_reference() {
	run "$OPLOGD" stats --store "$1" --json
	assert_eq "$(jq .applied "$TDIR/direct.stats")" "$(json .applied)" "entries applied"
	assert_eq "$(jq .duplicates "$TDIR/direct.stats")" "$(json .duplicates)" "duplicates"
	assert_eq "$(jq -c .rejected "$TDIR/direct.stats")" "$(json '.rejected | tojson')" \
		"rejected by reason"
	run "$OPLOGD" verify --store "$1"
	assert_rc 0 "verify of $1"
	"$OPLOGD" dump --store "$1" >"$TDIR/applied.json" || fail "dump of $1"
	"$OPLOGD" dump --store "$TDIR/direct" >"$TDIR/direct.json" || fail "dump of the direct import"
	cmp -s "$TDIR/applied.json" "$TDIR/direct.json" || fail "$1 differs from a direct import"
}

lenpfx_split() {
	perl -e '
		binmode STDIN; local $/; my $d = <STDIN>; my ($o, $i) = (0, 0);
		open(my $a, ">", $ARGV[1]) or die "$ARGV[1]: $!\n";
		open(my $b, ">", $ARGV[2]) or die "$ARGV[2]: $!\n";
		binmode $a; binmode $b;
		while ($o < length $d) {
			my $n = unpack("N", substr($d, $o, 4));
			print { $i++ < $ARGV[0] ? $a : $b } substr($d, $o, 4 + $n);
			$o += 4 + $n;
		}
		close $a or die; close $b or die;
		print "$i\n";' "$2" "$3" "$4" <"$1" || fail "splitting $1"
}

# Not `stats | jq -e`: jq 1.6 -e exits 0 on empty input, so a store not
# created yet would pass any check.
store_messages() {
	_sm_json=$("$OPLOGD" stats --store "$1" --json 2>/dev/null) || return 1
	printf '%s' "$_sm_json" | jq -e '.applied + .duplicates + ([.rejected[]] | add // 0)'
}

_on_exit=""
on_exit() {
	_on_exit="$1; $_on_exit"
}

_cleanup() {
	_rc=$?
	set +e
	eval "$_on_exit"
	rm -rf "$TDIR"
	exit "$_rc"
}

TDIR=$(mktemp -d "${TMPDIR:-/tmp}/oplogd-$T_NAME.XXXXXX")
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
