# shellcheck shell=sh
# bench/lib.sh: helpers shared by the benchmark scripts (sourced, not run).
#
# The caller sets BENCH_NAME (its name in messages) before sourcing.
# Exit codes: die = 2 (setup failure: no binary, no broker, no stream),
# bad = 1 (a measured run went wrong: counts differ, a command failed).

# The stream every script measures: bench_store's shape (64 nodes x 4
# datasets, 200-byte data, seed 42, 10% deletes). gen has no --cols, so it
# keeps 4 collections; 40000 keys each give bench_store's 160000
# documents per dataset (8 x 20000).
BENCH_GEN_OPTS="--framing lenpfx --datasets 4 --nodes 64 --data-size 200 --keys 40000 --seed 42"
# The unit of every count: 1M entries, 100k with BENCH_SCALE=small (for a
# quick look, not for figures).
if [ "${BENCH_SCALE:-}" = small ]; then
	BENCH_UNIT=100000
else
	BENCH_UNIT=1000000
fi
BENCH_SLICES=5

# trap_exit FN: run FN when the script exits, and exit (so that FN runs)
# on INT, TERM, HUP and PIPE too: a benchmark interrupted or piped into
# head still removes its stores and stops its broker.
trap_exit() {
	trap "$1" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
}

die() {
	echo "$BENCH_NAME: $*" >&2
	exit 2
}

bad() {
	echo "$BENCH_NAME: $*" >&2
	exit 1
}

now() {
	date +%s.%N
}

# $1 / ($3 - $2), or 0 for a zero interval.
rate() {
	awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; printf "%.1f\n", (d > 0 ? n / d : 0) }'
}

# $1 / $2 with $3 decimals (default 2), or "" when $2 is 0 or either is empty.
ratio() {
	if [ -z "$1" ] || [ -z "$2" ]; then
		echo ""
		return 0
	fi
	awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b != 0) printf "%.*f\n", d, a / b; else print "" }'
}

# $2 - $1 in seconds, one decimal.
elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", b - a }'
}

# A count as the tables name it: 1M, 5M, 100k, 1234.
count_name() {
	awk -v n="$1" 'BEGIN {
		if (n % 1000000 == 0) printf "%dM\n", n / 1000000
		else if (n % 1000 == 0) printf "%dk\n", n / 1000
		else print n }'
}

# result KEY VALUE: one measured figure for the summary (bench_report.sh),
# appended to $BENCH_RESULTS when the caller collects them.
result() {
	[ -z "${BENCH_RESULTS:-}" ] || echo "$1=$2" >>"$BENCH_RESULTS"
}

# Disk space of directory $1 in bytes (blocks in use, not apparent size).
disk_bytes() {
	du -sB1 "$1" | cut -f1
}

# LMDB's last committed write transaction id in the environment at $1, or
# "" when it cannot be read (no mdb_stat, not an LMDB environment).
last_txn() {
	command -v mdb_stat >/dev/null 2>&1 || { echo ""; return 0; }
	mdb_stat -e "$1" 2>/dev/null | sed -n 's/^ *Last transaction ID: *\([0-9][0-9]*\)$/\1/p'
}

# stream_make OPLOGD DIR: the stream of BENCH_SLICES x BENCH_UNIT entries
# as DIR/slice-1.bin ... (lenpfx, BENCH_UNIT messages each, consecutive
# parts of one `oplogd gen` stream, so that slice-1 alone is the stream of
# BENCH_UNIT entries), made once: a DIR whose stream.info matches the
# options is used as it is. Prints nothing; dies on failure.
stream_make() {
	_info="gen $BENCH_GEN_OPTS --count $((BENCH_SLICES * BENCH_UNIT)), slices of $BENCH_UNIT"
	if [ -f "$2/stream.info" ] && [ "$(cat "$2/stream.info")" = "$_info" ]; then
		return 0
	fi
	mkdir -p "$2" || die "mkdir $2 failed"
	rm -f "$2/stream.info" "$2"/slice-*.bin
	# Piped, so that the whole stream is never written at once; gen's exit
	# status comes through a file, as sh has no pipefail.
	_split=$({
		# shellcheck disable=SC2086 # BENCH_GEN_OPTS is a list of options
		"$1" gen --out - $BENCH_GEN_OPTS --count $((BENCH_SLICES * BENCH_UNIT)) 2>"$2/gen.err"
		echo $? >"$2/gen.rc"
	} | perl -e '
		my ($per, $prefix) = @ARGV;
		my ($in, $file) = (\*STDIN, "the stream");
		binmode $in;
		my ($n, $slice, $out, $hdr, $body) = (0, 0);
		while (1) {
			my $got = read($in, $hdr, 4);
			die "read $file: $!\n" unless defined $got;
			last if $got == 0;
			die "$file: truncated length prefix after $n messages\n" if $got < 4;
			my $len = unpack("N", $hdr);
			$body = "";
			die "$file: message $n truncated\n" if $len && read($in, $body, $len) != $len;
			if ($n % $per == 0) {
				if ($out) { close($out) or die "$prefix$slice.bin: $!\n" }
				$slice++;
				open($out, ">:raw", "$prefix$slice.bin") or die "$prefix$slice.bin: $!\n";
			}
			print $out $hdr, $body or die "$prefix$slice.bin: $!\n";
			$n++;
		}
		if ($out) { close($out) or die "$prefix$slice.bin: $!\n" }
		print "$n $slice\n";' "$BENCH_UNIT" "$2/slice-" 2>"$2/split.err") ||
		die "splitting the stream failed: $(cat "$2/split.err")"
	[ "$(cat "$2/gen.rc")" = 0 ] || die "oplogd gen failed: $(cat "$2/gen.err")"
	[ "$_split" = "$((BENCH_SLICES * BENCH_UNIT)) $BENCH_SLICES" ] ||
		die "the stream split into '$_split' (messages slices), expected $((BENCH_SLICES * BENCH_UNIT)) $BENCH_SLICES"
	echo "$_info" >"$2/stream.info"
}

# Bytes per message of the stream files given, length prefixes excluded;
# $1 is their message count.
stream_msg_bytes() {
	_n=$1
	shift
	stat -c %s "$@" | awk -v n="$_n" '{ b += $1 } END { printf "%.1f\n", (b - 4 * n) / n }'
}
