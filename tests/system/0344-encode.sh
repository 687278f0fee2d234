#!/bin/sh
# 0344-encode: `oplogd encode` makes get --json's form into message bytes
# with the hash computed: get --json -> encode -> decode gives the entry
# and the hash that are stored, for puts and deletes, first and later
# seqs; the bytes apply to a new store as the same entry; bad input is
# refused with the field named and nothing written.
. tests/system/lib.sh

# A message built by hand (as in 0102): encode gives back its very bytes.
H1=aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75
M1=8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657101a477616c6ccf0000019aa4b64500a56c6f67696300a3636f6ca57573657273a36b6579a27531a26f70a3707574a468617368c420${H1}a464617461c40e7b226e616d65223a22616461227d
hex2bin "$M1" >"$TDIR/m1"
run "$OPLOGD" import --store "$TDIR/hand" "$TDIR/m1"
assert_rc 0 "import m1"
"$OPLOGD" get --store "$TDIR/hand" --dataset shop --json "$H1" >"$TDIR/m1.json" || fail "get m1"
# The hash in the input is ignored: a wrong one changes nothing.
jq '.hash = "00"' "$TDIR/m1.json" >"$TDIR/m1-badhash.json"
run "$OPLOGD" encode "$TDIR/m1-badhash.json"
assert_rc 0 "encode: $(err)"
cmp -s "$TDIR/out" "$TDIR/m1" || fail "encode did not give back the message's bytes"
run "$OPLOGD" encode - <"$TDIR/m1.json"
assert_rc 0 "encode from stdin"
cmp -s "$TDIR/out" "$TDIR/m1" || fail "encode from stdin differs"

# Generated entries with deletes, chains and several nodes.
run "$OPLOGD" gen --out "$TDIR/g" --count 200 --nodes 3 --del-rate 0.3 --seed 9
assert_rc 0 "gen"
run "$OPLOGD" import --store "$TDIR/s" "$TDIR/g"
assert_rc 0 "import"
"$OPLOGD" scan --store "$TDIR/s" --dataset ds-0 --json | jq -c '.[]' >"$TDIR/entries"
[ "$(grep -c '"op":"del"' "$TDIR/entries")" -gt 0 ] || fail "no delete to test"
[ "$(grep -c '"prev":null' "$TDIR/entries")" -gt 0 ] || fail "no seq 1 to test"
i=0
while read -r e; do
	i=$((i + 1))
	[ $((i % 7)) -eq 0 ] || [ $i -le 3 ] || continue   # a sample, and the first seqs
	h=$(printf '%s' "$e" | jq -r .hash)
	"$OPLOGD" get --store "$TDIR/s" --dataset ds-0 --json "$h" >"$TDIR/e.json" || fail "get $h"
	"$OPLOGD" encode "$TDIR/e.json" >"$TDIR/e.bin" || fail "encode of $h"
	"$OPLOGD" decode --json "$TDIR/e.bin" | jq -S 'del(.ok)' >"$TDIR/d.json" || fail "decode of $h"
	jq -S . "$TDIR/e.json" >"$TDIR/want.json"
	cmp -s "$TDIR/want.json" "$TDIR/d.json" || fail "round trip of $h: $(diff "$TDIR/want.json" "$TDIR/d.json")"
	cat "$TDIR/e.bin" >>"$TDIR/again"
done <"$TDIR/entries"
# The bytes go into a store as the same entries.
run "$OPLOGD" import --store "$TDIR/again.s" --json "$TDIR/again"
assert_rc 0 "import of encoded messages"
assert_eq 0 "$(json '.rejected | add // 0')" "no rejects"

# Bad input: named, exit 2, nothing on stdout.
bad() {   # bad JQ-EDIT EXPECTED-ERROR
	jq "$1" "$TDIR/m1.json" >"$TDIR/bad.json"
	run "$OPLOGD" encode "$TDIR/bad.json"
	assert_rc 2 "encode with $1"
	assert_contains "$(err)" "$2" "the error of $1"
	[ ! -s "$TDIR/out" ] || fail "encode with $1 wrote bytes"
}
bad 'del(.node)' '"node" must be a string'
bad '.seq = -1' '"seq" must be a whole number'
bad '.op = "upsert"' '"op" must be "put" or "del"'
bad '.data = "not base64!"' '"data" is not standard base64'
bad '.prev = "abc"' '"prev" must be 64 hex digits or null'
bad '.extra = 1' 'unknown field "extra"'
bad '.data = null' '"data" of a put must be a base64 string'
bad '.seq = 2' 'the entry would be rejected: bad_prev'
run "$OPLOGD" encode - </dev/null
assert_rc 2 "empty input"
printf '{"ds":' | { run "$OPLOGD" encode -; assert_rc 2 "broken JSON"; }
echo "ok $T_NAME"
