#!/bin/sh
# 0102-prune-snapshot: `prune` cutoffs (inclusive, WALL alone = any logic,
# --older-than), what prune keeps, entries arriving below the boundary,
# and `snapshot` as a store of its own.
. tests/system/lib.sh

H1=aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75
H2=bc1962f5bb6dae6ad109989c720d8c528443daf41903b504213947d6e544ffdb
M1=8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657101a477616c6ccf0000019aa4b64500a56c6f67696300a3636f6ca57573657273a36b6579a27531a26f70a3707574a468617368c420${H1}a464617461c40e7b226e616d65223a22616461227d
M2=8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657102a477616c6ccf0000019aa4b64500a56c6f67696301a3636f6ca57573657273a36b6579a27531a26f70a364656ca468617368c420${H2}a470726576c420${H1}
W=1763700000000

hex2bin "$M1$M2" >"$TDIR/both"
hex2bin "$M1" >"$TDIR/m1"
hex2bin "$M2" >"$TDIR/m2"
run "$OPLOGD" import --store "$TDIR/s" "$TDIR/both"
assert_rc 0 "import"

# Usage: exactly one cutoff, a dataset, sane values; no store is created.
run "$OPLOGD" prune --store "$TDIR/s" --dataset shop
assert_rc 2 "prune without a cutoff"
run "$OPLOGD" prune --store "$TDIR/s" --dataset shop --before "$W" --older-than 1d
assert_rc 2 "prune with two cutoffs"
run "$OPLOGD" prune --store "$TDIR/s" --before "$W"
assert_rc 2 "prune without --dataset"
run "$OPLOGD" prune --store "$TDIR/s" --dataset shop --older-than soon
assert_rc 2 "prune with a bad duration"
run "$OPLOGD" prune --store "$TDIR/s" --dataset shop --before "$W:x"
assert_rc 2 "prune with a bad HLC"
run "$OPLOGD" prune --store "$TDIR/absent" --dataset shop --before "$W"
assert_rc 2 "prune of a missing store"
[ ! -e "$TDIR/absent" ] || fail "prune created a store"

# Before the first entry: nothing goes.
run "$OPLOGD" prune --store "$TDIR/s" --dataset shop --before "$((W - 1))" --json
assert_rc 0 "prune before everything"
assert_eq 0 "$(json .pruned)" "nothing pruned"

# --before W:0 is inclusive: entry 1 (at W:0) goes, entry 2 (W:1) stays.
run "$OPLOGD" prune --store "$TDIR/s" --dataset shop --before "$W:0" --batch 1 --json
assert_rc 0 "prune --before W:0"
assert_eq "1 0" "$(json '"\(.pruned) \(.kept_gap)"')" "entry 1 pruned"
run "$OPLOGD" get --store "$TDIR/s" --dataset shop "$H1"
assert_rc 1 "entry 1 is gone"
run "$OPLOGD" get --store "$TDIR/s" --dataset shop "$H2"
assert_rc 0 "entry 2 stays"
run "$OPLOGD" chain --store "$TDIR/s" --dataset shop --node node-a --json
assert_eq "2 pruned" "$(json '"\([.entries[].seq] | join(",")) \(.ends)"')" "chain stops at the boundary"
run "$OPLOGD" watermarks --store "$TDIR/s" --dataset shop --json
assert_eq "2 2 1" "$(json '.[0] | "\(.watermark) \(.head_seq) \(.pruned_through)"')" \
	"watermark kept, pruned_through 1"
run "$OPLOGD" verify --store "$TDIR/s"
assert_rc 0 "verify after prune"

# Entry 1 again: below the boundary, not put back.
run "$OPLOGD" import --store "$TDIR/s" --json "$TDIR/m1"
assert_eq "0 1" "$(json '"\(.applied) \(.below_boundary)"')" "below boundary"
run "$OPLOGD" get --store "$TDIR/s" --dataset shop "$H1"
assert_rc 1 "entry 1 stays pruned"

# A snapshot is a store of its own with the same content and id.
run "$OPLOGD" snapshot --store "$TDIR/s" "$TDIR/snap"
assert_rc 0 "snapshot"
run "$OPLOGD" dump --store "$TDIR/s"
cp "$TDIR/out" "$TDIR/dump.s"
run "$OPLOGD" dump --store "$TDIR/snap"
assert_rc 0 "dump of the snapshot"
cmp -s "$TDIR/dump.s" "$TDIR/out" || fail "the snapshot's dump differs"
run "$OPLOGD" stats --store "$TDIR/s" --json
ID=$(json .store_id)
run "$OPLOGD" stats --store "$TDIR/snap" --json
assert_eq "$ID" "$(json .store_id)" "the snapshot keeps the store id"
run "$OPLOGD" verify --store "$TDIR/snap"
assert_rc 0 "verify the snapshot"
run "$OPLOGD" snapshot --store "$TDIR/s" "$TDIR/snap"
assert_rc 2 "snapshot into a used directory"
run "$OPLOGD" snapshot --store "$TDIR/s"
assert_rc 2 "snapshot without DIR"

# WALL alone includes every logic at WALL: entry 2 (W:1) goes. The
# document (a tombstone) and the head stay.
run "$OPLOGD" prune --store "$TDIR/snap" --dataset shop --before "$W" --json
assert_eq 1 "$(json .pruned)" "entry 2 pruned"
run "$OPLOGD" scan --store "$TDIR/snap" --dataset shop --json
assert_eq 0 "$(json length)" "no entries left"
run "$OPLOGD" doc --store "$TDIR/snap" --dataset shop --col users --key u1 --json
assert_eq "true del $H2" "$(json '"\(.found) \(.op) \(.hash)"')" "the tombstone stays"
run "$OPLOGD" heads --store "$TDIR/snap" --dataset shop --json
assert_eq "2 $H2" "$(json '.[0] | "\(.seq) \(.hash)"')" "the head stays"

# --older-than counts back from now; the examples are from 2025-11-21.
hex2bin "$M1$M2" >"$TDIR/both"
run "$OPLOGD" import --store "$TDIR/t" "$TDIR/both"
run "$OPLOGD" prune --store "$TDIR/t" --dataset shop --older-than 36500d --json
assert_eq 0 "$(json .pruned)" "nothing is a century old"
run "$OPLOGD" prune --store "$TDIR/t" --dataset shop --older-than 1m --json
assert_eq 2 "$(json .pruned)" "both are older than a minute"
run "$OPLOGD" prune --store "$TDIR/t" --dataset shop --older-than 1m
assert_rc 0 "prune, table"
assert_contains "$(out)" "pruned 0 entries" "prune table"

echo "ok $T_NAME"
