#!/bin/sh
# 0101-import-stream: splitting `stream` framing (concatenated msgpack
# values) around broken and odd values, reading stdin, and the gap a
# missing seq leaves until it arrives.
. tests/system/lib.sh

H1=aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75
H2=bc1962f5bb6dae6ad109989c720d8c528443daf41903b504213947d6e544ffdb
M1=8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657101a477616c6ccf0000019aa4b64500a56c6f67696300a3636f6ca57573657273a36b6579a27531a26f70a3707574a468617368c420${H1}a464617461c40e7b226e616d65223a22616461227d
M2=8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657102a477616c6ccf0000019aa4b64500a56c6f67696301a3636f6ca57573657273a36b6579a27531a26f70a364656ca468617368c420${H2}a470726576c420${H1}

# The reserved byte c1 leaves the rest of the file unsplittable: one
# malformed reject for all of it (c1 and entry 2: 1 + 152 bytes).
hex2bin "${M1}c1${M2}" >"$TDIR/c1"
run "$OPLOGD" import --store "$TDIR/a" --json "$TDIR/c1"
assert_rc 1 "import with c1: skipped input is a problem found, exit 1"
assert_eq "2 1 1" "$(json '"\(.messages) \(.applied) \(.rejected.malformed)"')" "c1 counts"
assert_contains "$(err)" "153 bytes skipped" "stderr says how much was skipped"
assert_contains "$(err)" "at byte 134" "stderr says from which offset"
assert_contains "$(err)" "$TDIR/c1" "stderr names the file"
run "$OPLOGD" rejects --store "$TDIR/a" --json
assert_eq "$TDIR/c1:1 malformed 153" "$(json '.[0] | "\(.source) \(.reason) \(.size)"')" \
	"the unsplittable rest is one reject"
assert_contains "$(json '.[0].detail')" "0xc1" "the reject says why"

# A truncated last value: the same, for its bytes only.
hex2bin "${M1}${M2%??????}" >"$TDIR/trunc"
run "$OPLOGD" import --store "$TDIR/b" --json "$TDIR/trunc"
assert_rc 1 "import truncated: exit 1"
assert_eq "2 1 1" "$(json '"\(.messages) \(.applied) \(.rejected.malformed)"')" "truncated counts"
assert_contains "$(err)" "149 bytes skipped" "truncated: bytes skipped"

# Well-formed values that are not entries are rejected one by one and the
# stream goes on: an array, a nil, and 100 nested arrays (deeper than the
# decoder accepts, but still a value whose end can be found).
DEEP=$(perl -e 'print "91" x 100, "c0"')
hex2bin "${M1}93010203c0${DEEP}${M2}" >"$TDIR/odd"
run "$OPLOGD" import --store "$TDIR/c" --json "$TDIR/odd"
assert_rc 0 "import odd values"
assert_eq "5 2" "$(json '"\(.messages) \(.applied)"')" "odd: every value counted, both entries applied"
assert_eq 2 "$(json '.rejected.not_map')" "odd: array and nil are not maps"
assert_eq 3 "$(json '[.rejected[]] | add')" "odd: three rejects"
assert_eq "" "$(err)" "odd: nothing unsplittable"
run "$OPLOGD" rejects --store "$TDIR/c" --json
assert_eq "$TDIR/odd:1,$TDIR/odd:2,$TDIR/odd:3" "$(json '[.[].source] | join(",")')" \
	"reject sources are FILE:INDEX"

# stdin, an empty file, and several files in one run.
hex2bin "$M2" >"$TDIR/m2"
hex2bin "$M1" >"$TDIR/m1"
: >"$TDIR/empty"
run sh -c '"$OPLOGD" import --store "$1" --json - "$2" <"$3"' sh "$TDIR/d" "$TDIR/empty" "$TDIR/m2"
assert_rc 0 "import from stdin"
assert_eq "1 1" "$(json '"\(.messages) \(.applied)"')" "stdin counts"

# Entry 2 alone: node-a's head is seq 2 and seq 1 is a gap.
run "$OPLOGD" watermarks --store "$TDIR/d" --dataset shop --json
assert_eq "0 2 [[1,1]]" "$(json '.[0] | "\(.watermark) \(.head_seq) \(.gaps | tojson)"')" \
	"a gap at seq 1"
run "$OPLOGD" watermarks --store "$TDIR/d" --dataset shop
assert_contains "$(out | tr -s ' ')" "node-a 0 2 0 1" "gap in the table"
case "$(out)" in *1-1*) fail "a one-seq gap prints as 1-1: $(out)" ;; esac
run "$OPLOGD" chain --store "$TDIR/d" --dataset shop --node node-a --json
assert_eq "2 gap" "$(json '"\([.entries[].seq] | join(",")) \(.ends)"')" "the chain ends at the gap"
run "$OPLOGD" verify --store "$TDIR/d"
assert_rc 0 "verify with a gap"

# Entry 1 arrives late and closes the gap.
run "$OPLOGD" import --store "$TDIR/d" --json "$TDIR/m1"
assert_eq "1 1" "$(json '"\(.applied) \(.late)"')" "late entry 1"
run "$OPLOGD" watermarks --store "$TDIR/d" --dataset shop --json
assert_eq "2 2 []" "$(json '.[0] | "\(.watermark) \(.head_seq) \(.gaps | tojson)"')" "gap closed"
run "$OPLOGD" chain --store "$TDIR/d" --dataset shop --node node-a --json
assert_eq "2,1 genesis" "$(json '"\([.entries[].seq] | join(",")) \(.ends)"')" "whole chain"

# The size limit applies to import as to apply.
run "$OPLOGD" import --store "$TDIR/e" --set apply.max_message_bytes=140 --json "$TDIR/c1"
assert_eq "1 1" "$(json '"\(.applied) \(.rejected.malformed)"')" "134-byte entry 1 fits"
run "$OPLOGD" import --store "$TDIR/f" --set apply.max_message_bytes=100 --json "$TDIR/m1"
assert_eq 1 "$(json .rejected.too_large)" "too_large"

echo "ok $T_NAME"
