#!/bin/sh
# 0109-full-disk: an import whose store's disk fills up exits 2 and says
# that the disk holding the store is out of space, with [store] writemap
# off (LMDB's short write, EIO) and on (no SIGBUS: the map's file space is
# reserved when it grows). Nothing is half applied: verify passes and the
# store holds whole batches. Once space is freed the same import finishes,
# and the store equals one imported on a roomy disk, nothing applied twice.
# Also: with writemap a map larger than the disk is refused at open; a new
# store on a disk with next to no room, or none, and reading a store there
# whose lock.mdb is new, are errors in the same words, never a crash.
#
# The small disk is a tmpfs mounted in a private mount namespace: as root
# with unshare -m, otherwise as a user namespace's root with unshare -rm.
set -eu
T_NAME=$(basename "$0" .sh)
if [ -z "${OPLOG_T_NAMESPACE:-}" ]; then
	if [ "$(id -u)" -eq 0 ]; then ns="-m"; else ns="-rm"; fi
	# shellcheck disable=SC2086,SC2016 # $ns is two words; $d is the inner shell's
	if ! unshare $ns sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" &&
	                        umount "$d" && rmdir "$d"' >/dev/null 2>&1; then
		echo "FAIL $T_NAME: cannot mount a small tmpfs (neither as root with" \
		     "unshare -m nor with unshare -rm); a full disk cannot be tested here" >&2
		exit 1
	fi
	OPLOG_T_NAMESPACE=1 exec unshare $ns sh "$0"
fi
. tests/system/lib.sh

N=20000
gen_reference $N 9
direct_entries=$("$OPLOGD" stats --store "$TDIR/direct" --json | jq .entries)

MNT="$TDIR/mnt"
mkdir "$MNT"
mounted=0
# shellcheck disable=SC2016 # read when the test ends
on_exit '[ "$mounted" = 0 ] || umount "$MNT"'

small_disk() {
	[ "$mounted" = 0 ] || umount "$MNT"
	mount -t tmpfs -o size=4m tmpfs "$MNT" || fail "mount a 4 MiB tmpfs"
	mounted=1
}

for wm in no yes; do
	small_disk
	ST="$MNT/st"
	# map_size 1M: with writemap the map grows (1, 2, 4 MiB) on this disk.
	set -- import --store "$ST" --framing lenpfx --batch 1000 \
		--set store.writemap=$wm --set store.map_size=1M "$TDIR/s.bin"
	run "$OPLOGD" "$@"
	assert_rc 2 "writemap=$wm: import onto a full disk"
	assert_contains "$(err)" "the disk holding the store $ST is out of space" \
		"writemap=$wm: the error says the store's disk is full"

	run "$OPLOGD" verify --store "$ST"
	assert_rc 0 "writemap=$wm: verify after the failure"
	kept=$(store_messages "$ST") || fail "writemap=$wm: no store after the failure"
	if [ "$kept" -le 0 ] || [ "$kept" -ge $N ] || [ $((kept % 1000)) -ne 0 ]; then
		fail "writemap=$wm: the store took $kept messages, expected whole batches of 1000"
	fi

	mount -t tmpfs -o remount,size=64m tmpfs "$MNT" || fail "remount the tmpfs larger"
	run "$OPLOGD" "$@" --json
	assert_rc 0 "writemap=$wm: the same import once space is freed"
	run "$OPLOGD" stats --store "$ST" --json
	assert_eq "$direct_entries" "$(json .entries)" "writemap=$wm: entries after the resume"
	assert_eq "$(jq .applied "$TDIR/direct.stats")" "$(json .applied)" \
		"writemap=$wm: entries applied (none twice)"
	run "$OPLOGD" verify --store "$ST"
	assert_rc 0 "writemap=$wm: verify after the resume"
	"$OPLOGD" dump --store "$ST" >"$TDIR/resumed.json" || fail "dump of $ST"
	"$OPLOGD" dump --store "$TDIR/direct" >"$TDIR/direct.json" || fail "dump of the direct import"
	cmp -s "$TDIR/resumed.json" "$TDIR/direct.json" ||
		fail "writemap=$wm: the resumed store differs from a direct import"
done

# writemap reserves the initial map on disk: a map larger than the disk is
# refused at open, before anything is written.
small_disk
run "$OPLOGD" import --store "$MNT/big" --framing lenpfx --set store.writemap=yes \
	--set store.map_size=16M "$TDIR/s.bin"
assert_rc 2 "writemap=yes: a 16 MiB map on a 4 MiB disk"
assert_contains "$(err)" "the disk holding the store $MNT/big is out of space" \
	"writemap=yes: the error at open says the store's disk is full"
assert_contains "$(err)" "reserving the map's 16 MiB on disk" "the error says what was reserved"

# A new store on a disk with next to no room (12 KiB): refused in words,
# and once there is room it is created (a half-written first meta page
# used to leave a data.mdb LMDB refused for good).
small_disk
dd if=/dev/zero of="$MNT/room" bs=4k count=3 2>/dev/null || fail "write 12 KiB"
dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null || true
rm "$MNT/room"
run "$OPLOGD" import --store "$MNT/tight" --framing lenpfx "$TDIR/s.bin"
assert_rc 2 "a new store on a disk with 12 KiB left"
assert_contains "$(err)" "the disk holding the store $MNT/tight is out of space" \
	"the error for a new store on a nearly full disk"
rm "$MNT/fill"
# 4 MiB do not hold the whole stream: the store is created and takes
# batches until the disk is full again.
run "$OPLOGD" import --store "$MNT/tight" --framing lenpfx --batch 1000 "$TDIR/s.bin"
assert_rc 2 "the same import with 4 MiB free"
run "$OPLOGD" verify --store "$MNT/tight"
assert_rc 0 "verify of the store created once there was room"
kept=$(store_messages "$MNT/tight") || fail "no store once there was room"
[ "$kept" -gt 0 ] || fail "the store created once there was room took no batch"
rm -r "$MNT/tight"

# A disk with no room at all: a new store is refused in words too (LMDB
# writes its lock file through a map), and so is reading a store copied
# there without its lock file (which used to be reported as damaged).
run "$OPLOGD" gen --out "$TDIR/few.bin" --count 50 --seed 2
assert_rc 0 "gen of a few messages"
run "$OPLOGD" import --store "$TDIR/few" "$TDIR/few.bin"
assert_rc 0 "import of a few messages"
mkdir "$MNT/copy"
cp "$TDIR/few/data.mdb" "$MNT/copy/" || fail "copy data.mdb to the small disk"
dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null || true
run "$OPLOGD" verify --store "$MNT/copy"
assert_rc 2 "verify of a store without lock.mdb on a disk with no room"
assert_contains "$(err)" "the disk holding the store $MNT/copy is out of space" \
	"verify: the error says the store's disk is full"
for wm in no yes; do
	run "$OPLOGD" import --store "$MNT/new-$wm" --framing lenpfx --set store.writemap=$wm \
		"$TDIR/s.bin"
	assert_rc 2 "writemap=$wm: a new store on a disk with no room"
	assert_contains "$(err)" "the disk holding the store $MNT/new-$wm is out of space" \
		"writemap=$wm: the error for a new store on a full disk"
done
echo "ok $T_NAME"
