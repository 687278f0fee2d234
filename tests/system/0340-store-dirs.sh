#!/bin/sh
# 0340-store-dirs: durations in weeks; --store creates missing parent
# directories (with the store's directory mode); snapshot into a
# non-empty directory is refused by name, before anything is written.
. tests/system/lib.sh

run "$OPLOGD" gen --out "$TDIR/g" --count 50 --seed 3
assert_rc 0 "gen"

# mkdir -p: three missing levels above the store.
run "$OPLOGD" import --store "$TDIR/a/b/c/store" --json "$TDIR/g"
assert_rc 0 "import into a store whose parents are missing"
assert_eq 50 "$(json .applied)" "applied"
assert_eq 700 "$(stat -c %a "$TDIR/a/b")" "a parent gets the store's directory mode"
S=$TDIR/a/b/c/store
# A read-only command still finds no store where there is none, and makes none.
run "$OPLOGD" stats --store "$TDIR/x/y/store"
assert_rc 2 "stats of a missing store"
[ ! -e "$TDIR/x" ] || fail "a read-only command created directories"

# w is a week: 2w of a store written at 2025 times prunes nothing new.
run "$OPLOGD" prune --store "$S" --dataset ds-0 --older-than 2w --json
assert_rc 0 "prune --older-than 2w: $(err)"
run "$OPLOGD" prune --store "$S" --dataset ds-0 --older-than 1x
assert_rc 2 "a bad unit"
assert_contains "$(err)" "bad duration '1x'" "the bad duration"

# Snapshot: into a directory that already holds a store, and one holding
# any file, is refused with the directory's name and no LMDB call's.
run "$OPLOGD" snapshot --store "$S" "$TDIR/snap1"
assert_rc 0 "a first snapshot"
cp "$TDIR/snap1/data.mdb" "$TDIR/snap1.before"
run "$OPLOGD" snapshot --store "$S" "$TDIR/snap1"
assert_rc 2 "snapshot over a snapshot"
assert_eq "oplogd snapshot: $TDIR/snap1 is not empty (a snapshot goes into a new or empty directory)" \
	"$(err)" "the refusal"
cmp -s "$TDIR/snap1/data.mdb" "$TDIR/snap1.before" || fail "the old snapshot was touched"
mkdir "$TDIR/other"
echo keep >"$TDIR/other/notes.txt"
run "$OPLOGD" snapshot --store "$S" "$TDIR/other"
assert_rc 2 "snapshot into a directory with a file"
assert_contains "$(err)" "is not empty" "the refusal"
[ ! -e "$TDIR/other/data.mdb" ] || fail "a snapshot was written beside the file"
run "$OPLOGD" snapshot --store "$S" "$TDIR/other/notes.txt"
assert_rc 2 "snapshot onto a file"
assert_contains "$(err)" "is not a directory" "the refusal"
# An empty directory and missing parents are fine.
mkdir "$TDIR/empty"
run "$OPLOGD" snapshot --store "$S" "$TDIR/empty"
assert_rc 0 "snapshot into an empty directory"
run "$OPLOGD" snapshot --store "$S" "$TDIR/p/q/snap"
assert_rc 0 "snapshot with missing parents: $(err)"
run "$OPLOGD" verify --store "$TDIR/p/q/snap"
assert_rc 0 "the snapshot verifies"
echo "ok $T_NAME"
