#!/bin/sh
# 0345-replay-times: replay --from/--until take ISO 8601 UTC times and
# times relative to now (-1h) as well as @MS, and a time lookup that finds
# no message at or after the time is warned about. Against `oplogd
# broker`: its mock cluster takes time lookups but answers "none" to
# every one, which is what this checks; the 0.9 test broker refuses them
# (0206 checks that error).
. tests/system/lib.sh

dev_broker --partitions 2
A=$DEV_BOOTSTRAP
# gen's entries are from November 2025, and so are the message timestamps.
run "$OPLOGD" gen --topic oplog -X bootstrap.servers="$A" --count 200 --seed 2
assert_rc 0 "gen --topic: $(err)"
cat >"$TDIR/c.conf" <<CONF
[kafka]
bootstrap.servers = $A
group.id = r
[apply]
topics = oplog
[store]
path = $TDIR/s
[metrics]
listen =
CONF

# Usage: bad times are refused before any broker is asked.
for t in yesterday 2026-11-30 2026-11-30T12:00:00 2026-02-30T12:00:00Z -1x @x; do
	run "$OPLOGD" replay -c "$TDIR/c.conf" --from "$t"
	assert_rc 2 "--from $t"
	assert_contains "$(err)" "is not earliest, an offset or a time" "the refusal of $t"
done

# The mock cluster answers every time lookup with "none" (offset -1): so
# each --from or --until time here finds nothing, and is warned about.
run "$OPLOGD" replay -c "$TDIR/c.conf" --from -1h --json
assert_rc 0 "--from -1h: $(err)"
assert_eq "0 true" "$(json '"\(.read) \(.complete)"')" "nothing read"
assert_contains "$(err)" "2 of 2 partitions (first oplog/0) have no message at or after that time, so nothing is read there" \
	"the warning"
assert_contains "$(err)" "cannot look offsets up by time" "the other cause"
# -1h is an hour before now, to the second.
ms=$(sed -n 's/.*--from @\([0-9]*\) .*/\1/p' "$TDIR/err")
now=$(($(date +%s) * 1000))
if [ $((now - ms)) -lt 3590000 ] || [ $((now - ms)) -gt 3610000 ]; then
	fail "-1h gave @$ms at $now"
fi
# ISO times, with Z or an offset, become the same ms.
run "$OPLOGD" replay -c "$TDIR/c.conf" --from 2026-01-01T00:00:00Z --json
assert_rc 0 "--from ISO"
assert_contains "$(err)" "--from @1767225600000 (2026-01-01T00:00:00.000Z)" "the ISO time as ms"
run "$OPLOGD" replay -c "$TDIR/c.conf" --from 2026-01-01T01:30:00.250+01:30 --verify --json
assert_rc 0 "--from ISO with an offset"
assert_contains "$(err)" "--from @1767225600250 " "the offset applied"
# --until that finds nothing reads to the end, and says so.
run "$OPLOGD" replay -c "$TDIR/c.conf" --until -1s --json
assert_rc 0 "--until -1s: $(err)"
assert_eq 200 "$(json .read)" "all read"
assert_contains "$(err)" "--until @" "the --until warning"
assert_contains "$(err)" "so read to the end" "what --until does then"
case $(err) in *"--from @"*) fail "a --from warning without --from: $(err)" ;; esac
# @MS is still a time.
run "$OPLOGD" replay -c "$TDIR/c.conf" --from @0 --verify --json
assert_rc 0 "--from @0"
assert_contains "$(err)" "--from @0 (1970-01-01T00:00:00.000Z)" "@MS"
echo "ok $T_NAME"
