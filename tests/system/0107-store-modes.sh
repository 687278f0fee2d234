#!/bin/sh
# 0107-store-modes: a new store and a snapshot are private by default
# ([store] mode = 0600: files 0600, directory 0700) whatever the umask,
# [store] mode changes that, and an existing store keeps its files' modes.
. tests/system/lib.sh

mode() { stat -c %a "$1"; }

umask 000   # the old defaults (0755, 0644) would then be world-readable
run "$OPLOGD" gen --out "$TDIR/s.bin" --count 200 --seed 4
assert_rc 0 "gen"

run "$OPLOGD" import --store "$TDIR/a" "$TDIR/s.bin"
assert_rc 0 "import into a new store"
assert_eq 700 "$(mode "$TDIR/a")" "store directory"
assert_eq 600 "$(mode "$TDIR/a/data.mdb")" "data.mdb"
assert_eq 600 "$(mode "$TDIR/a/lock.mdb")" "lock.mdb"

run "$OPLOGD" snapshot --store "$TDIR/a" "$TDIR/snap"
assert_rc 0 "snapshot"
assert_eq 700 "$(mode "$TDIR/snap")" "snapshot directory"
assert_eq 600 "$(mode "$TDIR/snap/data.mdb")" "snapshot data.mdb"

run "$OPLOGD" import --store "$TDIR/b" --set store.mode=0640 "$TDIR/s.bin"
assert_rc 0 "import with [store] mode = 0640"
assert_eq 750 "$(mode "$TDIR/b")" "0640: directory"
assert_eq 640 "$(mode "$TDIR/b/data.mdb")" "0640: data.mdb"

run "$OPLOGD" import --store "$TDIR/c" --set store.mode=0400 "$TDIR/s.bin"
assert_rc 2 "a mode the owner cannot write is refused"
assert_contains "$(err)" "store.mode: mode '0400' does not let the owner read and write" \
	"the error names the key and why"
[ ! -e "$TDIR/c" ] || fail "a refused mode created the store anyway"

# An existing store's files keep what they have.
chmod 644 "$TDIR/a/data.mdb"
run "$OPLOGD" import --store "$TDIR/a" "$TDIR/s.bin"
assert_rc 0 "import into the existing store"
assert_eq 644 "$(mode "$TDIR/a/data.mdb")" "an existing store's data.mdb keeps its mode"
echo "ok $T_NAME"
