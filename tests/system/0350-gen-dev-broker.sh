#!/bin/sh
# 0350-gen-dev-broker: `oplogd gen --topic` against `oplogd broker`, and
# the kcat pipes the README shows.
# - The broker says what it keeps when it starts: 16 partitions by
#   default, the last 5 MiB of each, 80 MiB for the topic.
# - gen --topic keys each message by its dataset: per partition, the keys
#   kcat prints (-f '%k') are exactly the datasets of the messages there
#   (read back with kcat -f '%R%s' | oplogd import --framing lenpfx -).
# - --key none sends keyless messages, spread over the partitions.
# - Its walls end near now: every entry applied is within a minute before
#   the time gen ran, and the newest message on the broker, piped with
#   kcat -D '' into `oplogd decode`, too. A small stream gives no warning.
# - --start makes the stream reproducible: two --out runs with the same
#   --start and --seed are identical bytes and start at --start (Unix ms
#   or ISO); --topic with --start sends those very bytes; without --start
#   --out keeps its fixed epoch (2025-11-21); a bad --start is a usage
#   error naming the forms.
# - Past the broker's limit, gen warns, and the warning is true: the
#   broker no longer has the partition's first messages.
. tests/system/lib.sh

command -v kcat >/dev/null || fail "kcat is needed (scripts/deps.sh installs it)"

dev_broker
B=$DEV_BOOTSTRAP
wait_for 5 "the broker's banner" grep -q 'Ctrl-C' "$TDIR/broker.log"
banner=$(cat "$TDIR/broker.log")
assert_contains "$banner" "topic oplog with 16 partitions" "the broker's default partitions"
assert_contains "$banner" "keeps its last 5 MiB" "the broker says its per-partition limit"
assert_contains "$banner" "at most 80 MiB" "the broker says what the topic holds"
kcat -b "$B" -L -t oplog >"$TDIR/meta" 2>&1 || fail "kcat -L: $(cat "$TDIR/meta")"
assert_contains "$(cat "$TDIR/meta")" "with 16 partitions" "the topic's partitions"

# Keys and times.
before=$(($(date +%s) * 1000))
run "$OPLOGD" gen --topic oplog -X bootstrap.servers="$B" --datasets 3 --nodes 2 --count 900 \
	--dup-rate 0.05 --late-rate 0.1 --seed 5
assert_rc 0 "gen --topic"
after=$(($(date +%s) * 1000 + 1000))
case $(err) in *warning*) fail "gen warned on a small stream: $(err)" ;; esac
kcat -b "$B" -C -t oplog -e -q -f '%p %k\n' >"$TDIR/keys" || fail "kcat -f '%k'"
assert_eq 900 "$(lines "$TDIR/keys")" "messages on the broker"
assert_eq "ds-0 ds-1 ds-2" "$(cut -d' ' -f2 "$TDIR/keys" | sort -u | tr '\n' ' ' | sed 's/ $//')" \
	"the keys are the datasets"
cut -d' ' -f1 "$TDIR/keys" | sort -u >"$TDIR/parts"
while read -r p; do
	kcat -b "$B" -C -t oplog -p "$p" -e -q -f '%R%s' </dev/null |
		"$OPLOGD" import --store "$TDIR/store-p$p" --framing lenpfx - >/dev/null ||
		fail "kcat -f '%R%s' | import of partition $p"
	want=$(awk -v p="$p" '$1 == p { print $2 }' "$TDIR/keys" | sort -u | tr '\n' ' ')
	got=$("$OPLOGD" dump --store "$TDIR/store-p$p" | jq -r '.datasets[].name' | sort | tr '\n' ' ')
	assert_eq "$want" "$got" "partition $p: its keys vs the datasets of its messages"
	"$OPLOGD" dump --store "$TDIR/store-p$p" |
		jq -r '.datasets[].entries[].wall' >>"$TDIR/walls" || fail "dump of partition $p"
done <"$TDIR/parts"
total=0
for d in "$TDIR"/store-p*; do
	total=$((total + $(store_messages "$d")))
done
assert_eq 900 "$total" "messages read back from the partitions"
min=$(sort -n "$TDIR/walls" | head -n 1)
max=$(sort -n "$TDIR/walls" | tail -n 1)
[ "$max" -le "$after" ] || fail "the newest wall $max is after gen ended ($after)"
[ "$min" -ge $((before - 60000)) ] || fail "the oldest wall $min is more than a minute before gen ($before)"
p=$(awk '$2 == "ds-0" { print $1; exit }' "$TDIR/keys")
kcat -b "$B" -C -t oplog -p "$p" -o -1 -c 1 -e -q -D '' >"$TDIR/last.bin" || fail "kcat -D ''"
run "$OPLOGD" decode --json "$TDIR/last.bin"
assert_rc 0 "decode of the newest message of partition $p"
assert_eq ds-0 "$(json .ds)" "its dataset"
wall=$(json .wall)
if [ "$wall" -lt $((before - 60000)) ] || [ "$wall" -gt "$after" ]; then
	fail "the newest message's wall $wall is not within a minute of now ($before)"
fi
kcat -b "$B" -C -t oplog -p "$p" -o -1 -c 1 -e -q -D '' | "$OPLOGD" decode >"$TDIR/last.txt" ||
	fail "kcat -D '' | oplogd decode"
assert_contains "$(cat "$TDIR/last.txt")" "ds:    ds-0" "decode from a pipe"

# --key none: keyless, spread over the partitions (4 on a topic made on
# first use) although one dataset.
run "$OPLOGD" gen --topic nokey -X bootstrap.servers="$B" --key none --count 200 --seed 5
assert_rc 0 "gen --topic --key none"
kcat -b "$B" -C -t nokey -e -q -f '%p [%k]\n' >"$TDIR/nokey" || fail "kcat of topic nokey"
assert_eq 200 "$(grep -c ' \[\]$' "$TDIR/nokey")" "keyless messages"
assert_eq 4 "$(cut -d' ' -f1 "$TDIR/nokey" | sort -u | wc -l | tr -d ' ')" "partitions used"
run "$OPLOGD" gen --topic nokey -X bootstrap.servers="$B" --key ds
assert_rc 2 "gen --key ds"
assert_contains "$(err)" "'ds' is not dataset or none" "the usage error names the choices"

# --start.
run "$OPLOGD" gen --out "$TDIR/a.bin" --framing lenpfx --count 300 --seed 8 --start 2026-01-02T03:04:05.5Z
assert_rc 0 "gen --start ISO"
run "$OPLOGD" gen --out "$TDIR/b.bin" --framing lenpfx --count 300 --seed 8 --start 1767323045500
assert_rc 0 "gen --start MS"
cmp -s "$TDIR/a.bin" "$TDIR/b.bin" || fail "the same --start and --seed gave other bytes"
run "$OPLOGD" import --store "$TDIR/st" --framing lenpfx "$TDIR/a.bin"
assert_rc 0 "import of the --start stream"
min=$("$OPLOGD" dump --store "$TDIR/st" | jq '[.datasets[].entries[].wall] | min')
if [ "$min" -lt 1767323045500 ] || [ "$min" -gt 1767323045502 ]; then
	fail "the first wall $min is not at --start 1767323045500"
fi
run "$OPLOGD" gen --out "$TDIR/c.bin" --framing lenpfx --count 300 --seed 8 --start 1767323045501
cmp -s "$TDIR/a.bin" "$TDIR/c.bin" && fail "another --start gave the same bytes"
run "$OPLOGD" gen --out "$TDIR/d.bin" --count 1 --seed 8
run "$OPLOGD" decode --json "$TDIR/d.bin"
wall=$(json .wall)
if [ "$wall" -lt 1763700000000 ] || [ "$wall" -gt 1763700000002 ]; then
	fail "--out without --start: wall $wall, expected the fixed epoch 1763700000000"
fi
run "$OPLOGD" gen --out "$TDIR/e.bin" --start 2026-02-30T00:00:00Z
assert_rc 2 "gen --start with a day February lacks"
assert_contains "$(err)" "YYYY-MM-DDTHH:MM:SS[.mmm]Z" "the usage error names the forms"
run "$OPLOGD" gen --topic one -X bootstrap.servers="$B" --count 300 --seed 8 \
	--start 2026-01-02T03:04:05.5Z
assert_rc 0 "gen --topic --start"
kcat -b "$B" -C -t one -e -q -f '%R%s' >"$TDIR/one.bin" || fail "kcat of topic one"
cmp -s "$TDIR/a.bin" "$TDIR/one.bin" || fail "gen --topic --start sent other bytes than --out"

# Past the limit: about 6 MB into one partition.
run "$OPLOGD" gen --topic big -X bootstrap.servers="$B" --count 1400 --data-size 4096 \
	--del-rate 0 --seed 2
assert_rc 0 "gen --topic past the dev broker's limit"
assert_contains "$(err)" "got more than the 5 MiB the dev broker keeps" "gen's warning"
assert_contains "$(err)" "1 partitions of big got more than the dev broker keeps" "gen's summary warning"
first=$(kcat -b "$B" -C -t big -o beginning -e -q -f '%o\n' | sort -n | head -n 1)
[ "$first" -gt 0 ] || fail "gen warned but the broker still has offset 0"
echo "ok $T_NAME"
