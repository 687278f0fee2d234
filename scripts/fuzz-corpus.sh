#!/bin/sh
# fuzz-corpus.sh OPLOGD DIR: write the seed corpus of each fuzz target
# (fuzz/fuzz_<name>.c) into DIR/<name>/, from `OPLOGD gen` and config/.
#   decode  one message a file: valid entries, duplicates, late ones, forks,
#           deletes and every kind of bad message gen makes
#   frame   whole small files in both framings, one with bad messages
#   ini     config/oplogd.conf, its --dump-config, and a file using each
#           piece of the syntax (BOM, ':', comments, an empty value)
# Seeds have fixed names, so a rerun replaces them and leaves what a fuzzer
# added. Run from the project root; exit 0, or 2 when a step fails.
set -eu
[ $# -eq 2 ] || { echo "usage: fuzz-corpus.sh OPLOGD DIR" >&2; exit 2; }
oplogd=$1 dir=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$dir/decode" "$dir/frame" "$dir/ini"

gen() {
	"$oplogd" gen "$@" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 2; }
}

gen --out "$dir/frame/seed-stream" --count 12 --nodes 2 --data-size 8 --seed 1
gen --out "$dir/frame/seed-lenpfx" --framing lenpfx --count 12 --nodes 2 --data-size 8 \
	--bad-rate 0.3 --seed 2

gen --out "$tmp/messages" --framing lenpfx --count 240 --nodes 3 --data-size 16 \
	--dup-rate 0.05 --late-rate 0.1 --bad-rate 0.3 --fork-rate 0.05 --del-rate 0.2 --seed 3
perl -e '
	binmode STDIN; local $/; my $d = <STDIN>; my ($o, $i) = (0, 0);
	while ($o + 4 <= length $d) {
		my $n = unpack("N", substr($d, $o, 4));
		my $f = sprintf("%s/seed-%04d", $ARGV[0], $i++);
		open(my $h, ">", $f) or die "$f: $!\n";
		binmode $h;
		print $h substr($d, $o + 4, $n);
		close $h or die "$f: $!\n";
		$o += 4 + $n;
	}' "$dir/decode" <"$tmp/messages" || exit 2

cp config/oplogd.conf "$dir/ini/seed-example.conf"
"$oplogd" gen --dump-config --show-secrets -c config/oplogd.conf >"$dir/ini/seed-dump.conf" ||
	exit 2
printf '\357\273\277; a BOM first\n# comment\n[kafka]\nbootstrap.servers: h1:9092,h2:9092 ; inline\n  sasl.password = a;b\nempty.value =\n[apply]\n\tbatch_size = 500\nbatch_ms=2s\n[store]\r\nmap_size = 1G\n[log]\nlevel = debug\n' \
	>"$dir/ini/seed-syntax.conf"
