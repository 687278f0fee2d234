#!/bin/sh
# 0104-gen-import: `gen` and `import` agree on framing by default, and a
# generated stream with duplicates, late arrivals, forks and bad messages
# imports to the counts `gen` reports, into a consistent store.
. tests/system/lib.sh

# Default framing on both sides: every message applies.
run "$OPLOGD" gen --out "$TDIR/plain" --count 500 --nodes 2 --seed 3
assert_rc 0 "gen (stream framing)"
run "$OPLOGD" import --store "$TDIR/a" --json "$TDIR/plain"
assert_rc 0 "import of a plain generated stream"
assert_eq "$(json .messages)" 500 "messages read"
assert_eq "$(json .applied)" 500 "entries applied"
assert_eq "$(json '.rejected | length')" 0 "reject reasons"

# Short options name the same options as the long ones.
run "$OPLOGD" gen -o "$TDIR/short" -n 500 --nodes 2 --seed 3
assert_rc 0 "gen with short options -o and -n"
cmp -s "$TDIR/plain" "$TDIR/short" || fail "gen -o -n wrote another stream than --out --count"
run "$OPLOGD" gen -o
assert_rc 2 "gen -o without its argument"
assert_contains "$(err)" "option '-o' needs an argument" "the usage error names the option"

# Bad messages need length-prefixed framing, and say so.
run "$OPLOGD" gen --out "$TDIR/x" --count 10 --bad-rate 0.5
assert_rc 2 "gen --bad-rate with stream framing"
assert_contains "$(err)" "--framing lenpfx" "the usage error names the fix"

run "$OPLOGD" gen --out "$TDIR/mixed" --framing lenpfx --count 3000 --nodes 3 \
	--dup-rate 0.05 --late-rate 0.1 --bad-rate 0.02 --fork-rate 0.01 --seed 9
assert_rc 0 "gen (lenpfx, every kind of message)"
summary=$(err)
bad=$(echo "$summary" | sed -n 's/.* \([0-9]*\) bad$/\1/p')
dups=$(echo "$summary" | sed -n 's/.* \([0-9]*\) duplicates,.*/\1/p')
[ -n "$bad" ] && [ "$bad" -gt 0 ] || fail "gen made no bad messages: $summary"
run "$OPLOGD" import --store "$TDIR/b" --framing lenpfx --json "$TDIR/mixed"
assert_rc 0 "import of the mixed stream"
assert_eq "$(json '[.rejected[]] | add')" "$bad" "every bad message rejected"
assert_eq "$(json .duplicates)" "$dups" "every duplicate counted"
assert_eq "$(json .applied)" "$((3000 - bad - dups))" "the rest applied"
run "$OPLOGD" verify --store "$TDIR/b"
assert_rc 0 "verify after import"
run "$OPLOGD" rejects --store "$TDIR/b" --json
assert_eq "$(json length)" "$bad" "rejects kept"

# [store] rejects_max bounds what is kept, not what is counted.
run "$OPLOGD" import --store "$TDIR/capped" --set store.rejects_max=3 --framing lenpfx \
	--json "$TDIR/mixed"
assert_rc 0 "import with rejects_max = 3"
assert_eq "$(json '[.rejected[]] | add')" "$bad" "every bad message still counted"
run "$OPLOGD" rejects --store "$TDIR/capped" --json
assert_eq "$(json length)" 3 "only the newest 3 kept"
run "$OPLOGD" stats --store "$TDIR/capped" --json
assert_eq "$(json '[.rejected[]] | add')" "$bad" "stats counts every reject"
assert_eq "$(json .rejects_kept)" 3 "stats: 3 kept"
run "$OPLOGD" rejects --store "$TDIR/capped" --prune --keep 1 --json
assert_rc 0 "rejects --prune --keep 1"
assert_eq "$(json .pruned)" 2 "two pruned"
run "$OPLOGD" rejects --store "$TDIR/capped" --json
assert_eq "$(json length)" 1 "one left"
run "$OPLOGD" rejects --store "$TDIR/capped" --keep 1
assert_rc 2 "--keep without --prune"
assert_contains "$(err)" "--keep goes with --prune" "the usage error says why"
# An unknown node is a plain "no", and --json still prints one document.
run "$OPLOGD" chain --store "$TDIR/b" --dataset ds-0 --node no-such-node --json
assert_rc 1 "chain of an unknown node"
assert_eq "$(json .ends)" "null" "chain --json of an unknown node"
echo "ok $T_NAME"
