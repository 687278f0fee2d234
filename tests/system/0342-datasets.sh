#!/bin/sh
# 0342-datasets: `oplogd datasets` lists every dataset with its node count
# and stored entries (those pruned no longer count), as text and --json.
. tests/system/lib.sh

run "$OPLOGD" gen --out "$TDIR/g" --count 300 --datasets 3 --nodes 2 --seed 4
assert_rc 0 "gen"
run "$OPLOGD" import --store "$TDIR/s" --json "$TDIR/g"
assert_rc 0 "import"
total=$(json .applied)

run "$OPLOGD" datasets --store "$TDIR/s" --json
assert_rc 0 "datasets --json: $(err)"
assert_eq "ds-0 ds-1 ds-2" "$(json '[.[].dataset] | join(" ")')" "the datasets, sorted"
assert_eq "2 2 2" "$(json '[.[].nodes] | map(tostring) | join(" ")')" "nodes per dataset"
assert_eq "$total" "$(json '[.[].entries] | add')" "entries add up to those applied"
# Each dataset's count is what a scan of it returns.
for ds in ds-0 ds-1 ds-2; do
	n=$(jq -r --arg d "$ds" '.[] | select(.dataset == $d) | .entries' "$TDIR/out")
	got=$("$OPLOGD" scan --store "$TDIR/s" --dataset "$ds" --json | jq length)
	assert_eq "$got" "$n" "entries of $ds"
done
ds0=$(jq -r '.[0].entries' "$TDIR/out")

run "$OPLOGD" datasets --store "$TDIR/s"
assert_rc 0 "datasets"
assert_eq "DATASET NODES ENTRIES" "$(head -1 "$TDIR/out" | tr -s ' ')" "the header"
assert_eq "ds-0 2 $ds0" "$(sed -n 2p "$TDIR/out" | tr -s ' ')" "the first row"
assert_eq 4 "$(lines "$TDIR/out")" "a header and three rows"

# Pruned entries are no longer stored: the count drops by what prune says.
run "$OPLOGD" prune --store "$TDIR/s" --dataset ds-0 --older-than 1d --json
assert_rc 0 "prune"
pruned=$(json .pruned)
run "$OPLOGD" datasets --store "$TDIR/s" --json
assert_eq "$((ds0 - pruned))" "$(json '.[0].entries')" "entries after prune"

# An empty store has no datasets; a missing one is an error.
run "$OPLOGD" import --store "$TDIR/empty" /dev/null
run "$OPLOGD" datasets --store "$TDIR/empty" --json
assert_rc 0 "datasets of an empty store"
assert_eq "[]" "$(out)" "no datasets"
run "$OPLOGD" datasets --store "$TDIR/absent"
assert_rc 2 "datasets of a missing store"
echo "ok $T_NAME"
