#!/bin/sh
# 0341-prune-dry-run: `prune --dry-run` prints the cutoff as a UTC time
# and its age, counts what a prune would delete and keep, and changes
# nothing: the store file is byte-identical; the real prune then deletes
# exactly the counted entries.
. tests/system/lib.sh

W=1763700000000
run "$OPLOGD" gen --out "$TDIR/g" --count 400 --datasets 2 --gap-rate 0.05 --seed 5
assert_rc 0 "gen"
run "$OPLOGD" import --store "$TDIR/s" "$TDIR/g"
assert_rc 0 "import"
cp "$TDIR/s/data.mdb" "$TDIR/before.mdb"

run "$OPLOGD" prune --store "$TDIR/s" --dataset ds-0 --before "$((W + 100)):0" --dry-run
assert_rc 0 "dry run: $(err)"
assert_contains "$(out)" "dry run: cutoff 2025-11-21T04:40:00.100Z (" "the cutoff in UTC"
assert_contains "$(out)" " ago; wall $((W + 100)))" "its age and wall"
assert_contains "$(out)" "nothing changed" "says nothing changed"
run "$OPLOGD" prune --store "$TDIR/s" --dataset ds-0 --before "$((W + 100)):0" --dry-run --json
assert_rc 0 "dry run --json"
assert_eq true "$(json .dry_run)" "dry_run"
assert_eq 0 "$(json .batches)" "no batches"
would=$(json .pruned)
kept=$(json .kept_gap)
[ "$would" -gt 0 ] || fail "the dry run counts nothing to prune"
[ "$kept" -gt 0 ] || fail "the dry run counts nothing kept above a gap (gap-rate 0.05)"
cmp -s "$TDIR/s/data.mdb" "$TDIR/before.mdb" || fail "the dry run changed the store"
# --older-than 2w: everything (2025) is older; relative cutoffs work too.
run "$OPLOGD" prune --store "$TDIR/s" --dataset ds-1 --older-than 2w --dry-run
assert_rc 0 "dry run --older-than 2w"
assert_contains "$(out)" "(2w ago; wall" "the age of a 2w cutoff"
# An unknown dataset: nothing, and still no change.
run "$OPLOGD" prune --store "$TDIR/s" --dataset nope --older-than 1d --dry-run --json
assert_eq "0 0" "$(json '"\(.pruned) \(.kept_gap)"')" "unknown dataset"
cmp -s "$TDIR/s/data.mdb" "$TDIR/before.mdb" || fail "a dry run changed the store"
# A dry run does not create a missing store.
run "$OPLOGD" prune --store "$TDIR/absent" --dataset ds-0 --older-than 1d --dry-run
assert_rc 2 "dry run of a missing store"
[ ! -e "$TDIR/absent" ] || fail "a dry run created a store"

# The real prune deletes exactly what the dry run counted.
run "$OPLOGD" prune --store "$TDIR/s" --dataset ds-0 --before "$((W + 100)):0" --json
assert_rc 0 "prune"
assert_eq "$would $kept" "$(json '"\(.pruned) \(.kept_gap)"')" "prune matches its dry run"
run "$OPLOGD" prune --store "$TDIR/s" --dataset ds-0 --before "$((W + 100)):0" --dry-run --json
assert_eq "0 $kept" "$(json '"\(.pruned) \(.kept_gap)"')" "nothing more after the prune"
run "$OPLOGD" verify --store "$TDIR/s"
assert_rc 0 "verify"
echo "ok $T_NAME"
