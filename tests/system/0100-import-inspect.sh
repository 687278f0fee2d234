#!/bin/sh
# 0100-import-inspect: `import` of the wire-format-v1 worked examples in
# both framings and both orders, with duplicates and broken messages, then
# every inspection command against the result.
. tests/system/lib.sh

# The worked examples of wire-format-v1: seq 1 puts u1, seq 2 deletes it.
H1=aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75
H2=bc1962f5bb6dae6ad109989c720d8c528443daf41903b504213947d6e544ffdb
M1=8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657101a477616c6ccf0000019aa4b64500a56c6f67696300a3636f6ca57573657273a36b6579a27531a26f70a3707574a468617368c420${H1}a464617461c40e7b226e616d65223a22616461227d
M2=8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657102a477616c6ccf0000019aa4b64500a56c6f67696301a3636f6ca57573657273a36b6579a27531a26f70a364656ca468617368c420${H2}a470726576c420${H1}
# Entry 1 with one byte of its hash changed: hash_mismatch.
BAD=$(echo "$M1" | sed "s/c420${H1}/c420aff7ce8c${H1#aff7ce8b}/")
W=1763700000000

# u32 big-endian length of a hex string's bytes, as hex.
lenpfx() {
	printf '%08x%s' $((${#1} / 2)) "$1"
}

hex2bin "$M1$M2$M1" >"$TDIR/fwd"          # in order, then a duplicate
hex2bin "$M2$M1$M2" >"$TDIR/rev"          # reversed: seq 2 arrives first
# lenpfx: entry 2, entry 1, a hash mismatch, a duplicate, the reserved
# byte c1 alone, then a frame that claims more bytes than follow.
hex2bin "$(lenpfx "$M2")$(lenpfx "$M1")$(lenpfx "$BAD")$(lenpfx "$M1")$(lenpfx c1)000001008ba176" \
	>"$TDIR/framed"

# ---- import -------------------------------------------------------------
run "$OPLOGD" import --store "$TDIR/s1" --json "$TDIR/fwd"
assert_rc 0 "import fwd"
assert_eq 1 "$(lines "$TDIR/out")" "import: one JSON line"
assert_eq "messages,applied,duplicates,late,below_boundary,rejected" \
	"$(json 'keys_unsorted | join(",")')" "import summary fields"
assert_eq 3 "$(json .messages)" "fwd messages"
assert_eq 2 "$(json .applied)" "fwd applied"
assert_eq 1 "$(json .duplicates)" "fwd duplicates"
assert_eq 0 "$(json .late)" "fwd late"
assert_eq 0 "$(json .below_boundary)" "fwd below_boundary"
assert_eq '{}' "$(json '.rejected | tojson')" "fwd rejected"

run "$OPLOGD" import --store "$TDIR/s2" --json --batch 1 "$TDIR/rev"
assert_rc 0 "import rev"
assert_eq 3 "$(json .messages)" "rev messages"
assert_eq 2 "$(json .applied)" "rev applied"
assert_eq 1 "$(json .duplicates)" "rev duplicates"
assert_eq 1 "$(json .late)" "rev late: seq 1 came after the head"

run "$OPLOGD" import --store "$TDIR/s3" --framing lenpfx --json "$TDIR/framed"
assert_rc 1 "import lenpfx ending in a frame longer than the file: skipped input, exit 1"
assert_contains "$(err)" "7 bytes skipped" "stderr says how much was skipped"
assert_eq 6 "$(json .messages)" "lenpfx messages"
assert_eq 2 "$(json .applied)" "lenpfx applied"
assert_eq 1 "$(json .duplicates)" "lenpfx duplicates"
assert_eq 1 "$(json .rejected.hash_mismatch)" "lenpfx hash_mismatch"
assert_eq 2 "$(json .rejected.malformed)" "lenpfx malformed (c1, short frame)"

# The table form.
run "$OPLOGD" import --store "$TDIR/s4" "$TDIR/fwd"
assert_rc 0 "import, table"
assert_contains "$(out)" "applied         2" "table applied"

# ---- dump: the same logical content whatever the order -----------------
run "$OPLOGD" dump --store "$TDIR/s1"
assert_rc 0 "dump s1"
cp "$TDIR/out" "$TDIR/dump1"
run "$OPLOGD" dump --store "$TDIR/s2" --json
assert_rc 0 "dump s2"
cmp -s "$TDIR/dump1" "$TDIR/out" || fail "dumps of fwd and rev differ: $(diff "$TDIR/dump1" "$TDIR/out")"
run "$OPLOGD" dump --store "$TDIR/s3" --json
cmp -s "$TDIR/dump1" "$TDIR/out" || fail "dump of the lenpfx import differs"
assert_eq shop "$(json '.datasets[0].name')" "dump dataset"
assert_eq "1,2" "$(json '[.datasets[0].entries[].seq] | join(",")')" "dump entries in HLC order"
assert_eq del "$(json '.datasets[0].documents[0].op')" "dump document"
assert_eq "name,entries,heads,watermarks,documents,forks,chain_breaks" \
	"$(json '.datasets[0] | keys_unsorted | join(",")')" "dump sections"

# ---- heads, watermarks --------------------------------------------------
run "$OPLOGD" heads --store "$TDIR/s2" --dataset shop --json
assert_rc 0 "heads"
assert_eq 1 "$(json length)" "one head"
assert_eq "node-a 2 $W 1 $H2" "$(json '.[0] | "\(.node) \(.seq) \(.wall) \(.logic) \(.hash)"')" "head"
run "$OPLOGD" heads --store "$TDIR/s2" --dataset other --json
assert_rc 0 "heads of an unknown dataset"
assert_eq "[]" "$(out)" "no heads"

run "$OPLOGD" watermarks --store "$TDIR/s2" --dataset shop --json
assert_rc 0 "watermarks"
assert_eq "node-a 2 2 []" \
	"$(json '.[0] | "\(.node) \(.watermark) \(.head_seq) \(.gaps | tojson)"')" "watermark"

# ---- doc: a tombstone is found -----------------------------------------
run "$OPLOGD" doc --store "$TDIR/s1" --dataset shop --col users --key u1 --json
assert_rc 0 "doc u1"
assert_eq "found,op,node,seq,wall,logic,hash,data" "$(json 'keys_unsorted | join(",")')" \
	"doc fields"
assert_eq "true del 2 $H2 null" "$(json '"\(.found) \(.op) \(.seq) \(.hash) \(.data)"')" "doc u1"
run "$OPLOGD" doc --store "$TDIR/s1" --dataset shop --col users --key u2 --json
assert_rc 1 "doc u2 is not found"
assert_eq false "$(json .found)" "doc u2 found"
run "$OPLOGD" doc --store "$TDIR/s1" --dataset shop --col users --key u1
assert_rc 0 "doc, table"
assert_contains "$(out)" "op:    del" "doc table op"

# ---- get ----------------------------------------------------------------
run "$OPLOGD" get --store "$TDIR/s1" --dataset shop "$H1" --json
assert_rc 0 "get H1"
assert_eq "ds,node,seq,wall,logic,col,key,op,data,prev,hash" \
	"$(json 'keys_unsorted | join(",")')" "get: decode form"
assert_eq '{"name":"ada"}' "$(json '.data | @base64d')" "get data"
assert_eq "$H1" "$(json .hash)" "get hash"
run "$OPLOGD" get --store "$TDIR/s1" --dataset shop "$(echo "$H2" | tr a-f A-F)" --json
assert_rc 0 "get H2 in upper case"
assert_eq "$H1" "$(json .prev)" "get prev"
run "$OPLOGD" get --store "$TDIR/s1" --dataset shop "${H1%?}0" --json
assert_rc 1 "get: no such entry"
assert_eq null "$(out)" "get: null when not found"
run "$OPLOGD" get --store "$TDIR/s1" --dataset shop 1234
assert_rc 2 "get: a bad hash is a usage error"

# ---- scan ---------------------------------------------------------------
run "$OPLOGD" scan --store "$TDIR/s2" --dataset shop --json
assert_rc 0 "scan"
assert_eq "$H1,$H2" "$(json '[.[].hash] | join(",")')" "scan in HLC order"
run "$OPLOGD" scan --store "$TDIR/s2" --dataset shop --after "$W:0" --json
assert_eq "$H2" "$(json '[.[].hash] | join(",")')" "scan --after W:0"
run "$OPLOGD" scan --store "$TDIR/s2" --dataset shop --after "$((W - 1))" --json
assert_eq 2 "$(json length)" "scan --after the wall before"
run "$OPLOGD" scan --store "$TDIR/s2" --dataset shop --after "$W" --json
assert_eq 0 "$(json length)" "scan --after W skips every logic at W"
run "$OPLOGD" scan --store "$TDIR/s2" --dataset shop --node node-a --limit 1 --json
assert_eq "$H1" "$(json '[.[].hash] | join(",")')" "scan --node --limit 1"
run "$OPLOGD" scan --store "$TDIR/s2" --dataset shop
assert_rc 0 "scan, table"
assert_eq 3 "$(lines "$TDIR/out")" "scan table: header and two entries"

# ---- chain --------------------------------------------------------------
run "$OPLOGD" chain --store "$TDIR/s2" --dataset shop --node node-a --json
assert_rc 0 "chain from the head"
assert_eq "2,1 genesis" "$(json '"\([.entries[].seq] | join(",")) \(.ends)"')" "chain backward"
run "$OPLOGD" chain --store "$TDIR/s2" --dataset shop --node node-a --from "$H1" --forward --json
assert_eq "1,2 head" "$(json '"\([.entries[].seq] | join(",")) \(.ends)"')" "chain forward"
run "$OPLOGD" chain --store "$TDIR/s2" --dataset shop --node node-a --limit 1 --json
assert_eq "2 limit" "$(json '"\([.entries[].seq] | join(",")) \(.ends)"')" "chain --limit"
run "$OPLOGD" chain --store "$TDIR/s2" --dataset shop --node node-z --json
assert_rc 1 "chain of an unknown node"
run "$OPLOGD" chain --store "$TDIR/s2" --dataset shop
assert_rc 2 "chain without --node"

# ---- forks, stats, verify, rejects -------------------------------------
run "$OPLOGD" forks --store "$TDIR/s1" --dataset shop --json
assert_rc 0 "forks"
assert_eq "[]" "$(out)" "no forks"

run "$OPLOGD" stats --store "$TDIR/s3" --json
assert_rc 0 "stats"
for f in entries datasets nodes duplicates late forks chain_breaks below_boundary rejected store_bytes; do
	assert_eq true "$(json "has(\"$f\")")" "stats has $f"
done
assert_eq "2 1 1 1 1" "$(json '"\(.entries) \(.datasets) \(.nodes) \(.duplicates) \(.late)"')" \
	"stats counts"
assert_eq '{"malformed":2,"hash_mismatch":1}' "$(json '.rejected | tojson')" "stats rejected"
assert_eq true "$(json '.store_bytes > 0')" "stats store_bytes"

run "$OPLOGD" verify --store "$TDIR/s3"
assert_rc 0 "verify"
assert_eq consistent "$(out)" "verify says consistent"
run "$OPLOGD" verify --store "$TDIR/s3" --json
assert_rc 0 "verify --json"
assert_eq "true 0" "$(json '"\(.consistent) \(.problems | length)"')" "verify --json"

run "$OPLOGD" rejects --store "$TDIR/s3" --json
assert_rc 0 "rejects"
assert_eq "id,time_ms,source,reason,field,detail,size" \
	"$(json '.[0] | keys_unsorted | join(",")')" "rejects fields"
assert_eq "$TDIR/framed:2 hash_mismatch hash 134" \
	"$(json '.[0] | "\(.source) \(.reason) \(.field) \(.size)"')" "reject 1"
assert_eq "$TDIR/framed:4 malformed null 1" \
	"$(json '.[1] | "\(.source) \(.reason) \(.field) \(.size)"')" "reject 2"
assert_eq "$TDIR/framed:5 malformed" "$(json '.[2] | "\(.source) \(.reason)"')" "reject 3"
assert_contains "$(json '.[2].detail')" "7 bytes skipped" "reject 3 says what was skipped"
run "$OPLOGD" rejects --store "$TDIR/s3" --limit 1 --json
assert_eq "$TDIR/framed:5" "$(json '[.[].source] | join(",")')" "rejects --limit: the newest"
run "$OPLOGD" rejects --store "$TDIR/s3"
assert_rc 0 "rejects, table"
# Columns are padded: squeeze the spaces to read the row's values.
assert_contains "$(out | tr -s ' ')" "hash_mismatch hash 134" "rejects table"

# ---- usage and store errors --------------------------------------------
for cmd in heads watermarks forks scan; do
	run "$OPLOGD" $cmd --store "$TDIR/s1"
	assert_rc 2 "$cmd without --dataset"
	assert_eq 1 "$(lines "$TDIR/err")" "$cmd without --dataset: one line"
	assert_contains "$(err)" "--dataset" "$cmd names --dataset"
done
run "$OPLOGD" doc --store "$TDIR/s1" --dataset shop --col users
assert_rc 2 "doc without --key"
for cmd in "heads --dataset shop" "stats" "dump" "verify" "rejects"; do
	run "$OPLOGD" $cmd --store "$TDIR/absent"
	assert_rc 2 "$cmd on a missing store"
	assert_contains "$(err)" "no store at $TDIR/absent" "$cmd names the missing store"
done
[ ! -e "$TDIR/absent" ] || fail "a read command created a store"
run "$OPLOGD" import --store "$TDIR/s5" --framing nope "$TDIR/fwd"
assert_rc 2 "import: bad framing"
run "$OPLOGD" import --store "$TDIR/s5"
assert_rc 2 "import: no FILE"
run "$OPLOGD" import --store "$TDIR/s5" "$TDIR/absent-file"
assert_rc 2 "import: unreadable FILE"
assert_contains "$(err)" "$TDIR/absent-file" "import names the file"
run "$OPLOGD" stats -h
assert_rc 0 "stats -h"
assert_contains "$(out)" "usage: oplogd stats" "stats -h usage"

# The store path from the configuration file.
printf '[store]\npath = %s\n' "$TDIR/s1" >"$TDIR/conf"
run "$OPLOGD" heads -c "$TDIR/conf" --dataset shop --json
assert_rc 0 "heads -c"
assert_eq 2 "$(json '.[0].seq')" "heads from [store] path"

echo "ok $T_NAME"
