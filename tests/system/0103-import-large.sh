#!/bin/sh
# 0103-import-large: generated streams (perl + Digest::SHA). The same
# entries imported in order and shuffled, with other batch sizes, dump to
# the same bytes; read commands answer while a large import writes.
. tests/system/lib.sh

if ! perl -MDigest::SHA -e 1 2>/dev/null; then
	echo "skip $T_NAME: perl Digest::SHA is missing"
	exit 0
fi

# gen NODES COUNT ORDER: COUNT valid entries of dataset "shop" spread over
# NODES chains, as a msgpack stream on stdout. ORDER is fwd or shuffle (a
# fixed seed). Node 0's seq 11 forks: a second entry with other data.
cat >"$TDIR/gen.pl" <<'EOF'
use strict;
use warnings;
use Digest::SHA qw(sha256);

my ($nodes, $count, $order) = @ARGV;
sub str { my $s = shift; (length($s) < 32 ? chr(0xa0 | length $s) : "\xd9" . chr(length $s)) . $s }
sub uint { "\xcf" . pack("Q>", shift) }
sub bin { my $b = shift; "\xc4" . chr(length $b) . $b }

sub entry {
	my ($node, $seq, $wall, $logic, $col, $key, $data, $prev) = @_;
	my $op = defined $data ? 1 : 2;
	my $pre = "oplog.v1" . pack("n", 4) . "shop" . pack("n", length $node) . $node
		. pack("Q>Q>N", $seq, $wall, $logic) . pack("n", length $col) . $col
		. pack("n", length $key) . $key . chr($op)
		. pack("N", defined $data ? length $data : 0) . ($data // "")
		. ($prev // "\0" x 32);
	my $hash = sha256($pre);
	my $n = 10 + (defined $data ? 1 : 0) + (defined $prev ? 1 : 0);
	my $m = chr(0x80 | $n) . str("v") . "\x01" . str("ds") . str("shop")
		. str("node") . str($node) . str("seq") . uint($seq) . str("wall") . uint($wall)
		. str("logic") . uint($logic) . str("col") . str($col) . str("key") . str($key)
		. str("op") . str($op == 1 ? "put" : "del") . str("hash") . bin($hash);
	$m .= str("data") . bin($data) if defined $data;
	$m .= str("prev") . bin($prev) if defined $prev;
	return ($m, $hash);
}

my (%prev, %seq, @msgs);
my $wall = 1763700000000;
for my $i (0 .. $count - 1) {
	my $node = "node-" . ($i % $nodes);
	my $seq = ++$seq{$node};
	my ($col, $key) = ("c" . ($i % 3), "k" . ($i % 97));
	$wall++ if $i % 4 == 0;
	my $data = $i % 10 == 9 ? undef : "{\"i\":$i}";
	my ($m, $h) = entry($node, $seq, $wall, $i % 4, $col, $key, $data, $prev{$node});
	push @msgs, $m;
	if ($node eq "node-0" && $seq == 11) {
		my ($f) = entry($node, $seq, $wall, $i % 4, $col, $key, "fork", $prev{$node});
		push @msgs, $f;
	}
	$prev{$node} = $h;
}
if ($order eq "shuffle") {
	srand(7);
	for (my $i = $#msgs; $i > 0; $i--) {
		my $j = int(rand($i + 1));
		@msgs[$i, $j] = @msgs[$j, $i];
	}
}
binmode STDOUT;
print @msgs;
EOF

# ---- convergence: order and batch split do not matter -------------------
perl "$TDIR/gen.pl" 4 20000 fwd >"$TDIR/fwd"
perl "$TDIR/gen.pl" 4 20000 shuffle >"$TDIR/shuf"
cmp -s "$TDIR/fwd" "$TDIR/shuf" && fail "the shuffle did not shuffle"
run "$OPLOGD" import --store "$TDIR/a" --batch 1000 --json "$TDIR/fwd"
assert_rc 0 "import fwd"
assert_eq "20001 20001 0" "$(json '"\(.messages) \(.applied) \(.late)"')" "fwd counts"
run "$OPLOGD" import --store "$TDIR/b" --batch 777 --json "$TDIR/shuf"
assert_rc 0 "import shuffled"
assert_eq "20001 20001" "$(json '"\(.messages) \(.applied)"')" "shuffled counts"
assert_eq true "$(json '.late > 0')" "shuffled: some entries are late"
run "$OPLOGD" dump --store "$TDIR/a"
cp "$TDIR/out" "$TDIR/dump.a"
run "$OPLOGD" dump --store "$TDIR/b"
cmp -s "$TDIR/dump.a" "$TDIR/out" || fail "dumps differ: $(diff "$TDIR/dump.a" "$TDIR/out" | head -5)"
assert_eq 20001 "$(jq '.datasets[0].entries | length' "$TDIR/out")" "dump: every entry"
assert_eq 291 "$(jq '.datasets[0].documents | length' "$TDIR/out")" "dump: 3 x 97 documents"
run "$OPLOGD" forks --store "$TDIR/b" --dataset shop --json
assert_eq "node-0 11 2" "$(json '.[0] | "\(.node) \(.seq) \(.hashes | length)"')" "the fork"
run "$OPLOGD" verify --store "$TDIR/b"
assert_rc 0 "verify shuffled"
run "$OPLOGD" watermarks --store "$TDIR/b" --dataset shop --json
assert_eq "5000 5000 5000 5000" "$(json '[.[].watermark] | join(" ")')" "watermarks"

# Paging through scan with --after and --limit sees every entry once
# (no two entries share an HLC tick in this stream).
run "$OPLOGD" scan --store "$TDIR/b" --dataset shop --limit 5 --json
assert_eq 5 "$(json length)" "scan --limit 5"
AFTER=$(json '.[-1] | "\(.wall):\(.logic)"')
run "$OPLOGD" scan --store "$TDIR/b" --dataset shop --after "$AFTER" --limit 5 --json
assert_eq "$(jq -r '[.datasets[0].entries[5:10][].hash] | join(",")' "$TDIR/dump.a")" \
	"$(json '[.[].hash] | join(",")')" "the second page"

# ---- reads while a large import writes ----------------------------------
perl "$TDIR/gen.pl" 4 200000 fwd >"$TDIR/big"
"$OPLOGD" import --store "$TDIR/c" --batch 500 --json "$TDIR/big" \
	>"$TDIR/import.out" 2>"$TDIR/import.err" &
IMPORT=$!
on_exit "kill $IMPORT 2>/dev/null"

has_entries() {
	n=$("$OPLOGD" stats --store "$TDIR/c" --json | jq .entries) && [ "$n" -gt 0 ]
}
wait_for 60 "the first batch of the import" has_entries
for cmd in "heads --dataset shop --json" "watermarks --dataset shop --json" \
	"scan --dataset shop --limit 10 --json" "stats --json" "rejects --json" \
	"doc --dataset shop --col c0 --key k0 --json" "forks --dataset shop --json"; do
	run "$OPLOGD" $cmd --store "$TDIR/c"
	assert_rc 0 "$cmd while importing"
	jq -e . "$TDIR/out" >/dev/null || fail "$cmd while importing: not JSON"
done
if kill -0 "$IMPORT" 2>/dev/null; then
	echo "  reads answered while the import was running"
else
	echo "  note: the import ended before the reads did; no overlap shown"
fi
RC=0
wait "$IMPORT" || RC=$?
assert_rc 0 "the background import"
assert_eq "200001 200001" "$(jq -r '"\(.messages) \(.applied)"' "$TDIR/import.out")" \
	"background import counts"
run "$OPLOGD" stats --store "$TDIR/c" --json
assert_eq 200001 "$(json .entries)" "every entry is there"
run "$OPLOGD" verify --store "$TDIR/c"
assert_rc 0 "verify after the large import"

echo "ok $T_NAME"
