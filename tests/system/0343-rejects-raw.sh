#!/bin/sh
# 0343-rejects-raw: `rejects --raw ID` writes the kept bytes of one reject,
# exactly the message that was rejected, so that `decode` says why again.
. tests/system/lib.sh

# A valid message, then two bad ones: not a map, and a truncated map.
M=8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657101a477616c6ccf0000019aa4b64500a56c6f67696300a3636f6ca57573657273a36b6579a27531a26f70a3707574a468617368c420aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75a464617461c40e7b226e616d65223a22616461227d
hex2bin "$M" >"$TDIR/m.bin"
printf '\x93\x01\x02\x03' >"$TDIR/bad1.bin"
head -c 40 "$TDIR/m.bin" >"$TDIR/bad2.bin"
for f in m bad1 bad2; do
	n=$(wc -c <"$TDIR/$f.bin")
	perl -e 'print pack("N", $ARGV[0])' "$n"
	cat "$TDIR/$f.bin"
done >"$TDIR/stream"
run "$OPLOGD" import --store "$TDIR/s" --framing lenpfx --json "$TDIR/stream"
assert_rc 0 "import"
assert_eq "1 2" "$(json '"\(.applied) \(.rejected | add)"')" "one applied, two rejected"

run "$OPLOGD" rejects --store "$TDIR/s" --json
ids=$(json '[.[].id] | map(tostring) | join(" ")')
id1=${ids% *}
id2=${ids#* }
run "$OPLOGD" rejects --store "$TDIR/s" --raw "$id1"
assert_rc 0 "rejects --raw $id1: $(err)"
cmp -s "$TDIR/out" "$TDIR/bad1.bin" || fail "reject $id1's bytes differ from the message"
"$OPLOGD" rejects --store "$TDIR/s" --raw "$id2" >"$TDIR/r2" || fail "rejects --raw $id2"
cmp -s "$TDIR/r2" "$TDIR/bad2.bin" || fail "reject $id2's bytes differ from the message"
run "$OPLOGD" decode --json "$TDIR/r2"
assert_rc 1 "decode of the kept bytes rejects them again"
assert_eq malformed "$(json .reason)" "the same reason"

# Only the first reject_max_bytes are kept: said on stderr.
hex2bin "${M%??}" >"$TDIR/long.bin"
{ perl -e 'print pack("N", $ARGV[0])' "$(wc -c <"$TDIR/long.bin")"; cat "$TDIR/long.bin"; } >"$TDIR/s2"
run "$OPLOGD" import --store "$TDIR/s" --framing lenpfx --set store.reject_max_bytes=16 "$TDIR/s2"
assert_rc 0 "import with a small reject_max_bytes"
run "$OPLOGD" rejects --store "$TDIR/s" --json
id3=$(json '.[-1].id')
run "$OPLOGD" rejects --store "$TDIR/s" --raw "$id3"
assert_rc 0 "rejects --raw of a cut reject"
assert_eq 16 "$(wc -c <"$TDIR/out" | tr -d ' ')" "the kept bytes"
assert_contains "$(err)" "kept 16 of its $(wc -c <"$TDIR/long.bin" | tr -d ' ') bytes" "the warning"

run "$OPLOGD" rejects --store "$TDIR/s" --raw 999
assert_rc 1 "no such reject"
assert_contains "$(err)" "no reject 999" "the answer"
run "$OPLOGD" rejects --store "$TDIR/s" --raw x
assert_rc 2 "a bad id"
run "$OPLOGD" rejects --store "$TDIR/s" --raw 1 --prune
assert_rc 2 "--raw with --prune"
echo "ok $T_NAME"
