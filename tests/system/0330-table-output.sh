#!/bin/sh
# 0330-table-output: the text tables of heads, watermarks, scan, forks, datasets,
# rejects, stats and lag have every column of every line at the offset of
# its header; times print in UTC ISO 8601 beside the Unix ms they come
# from; a one-seq gap prints as one number; sizes and durations read in
# units. The values are checked against the --json output of the same
# store.
. tests/system/lib.sh

# 12 nodes (node-0 .. node-11: names of two widths), seqs of one and two
# digits, gaps of one seq and of runs, forks and rejects (fixed seed).
run "$OPLOGD" gen -o "$TDIR/s.bin" --framing lenpfx --nodes 12 -n 400 --seed 5 \
	--gap-rate 0.03 --fork-rate 0.02 --bad-rate 0.02
assert_rc 0 "gen"
run "$OPLOGD" import --store "$TDIR/st" --framing lenpfx "$TDIR/s.bin"
assert_rc 0 "import"
S="--store $TDIR/st"

# Every line of the table in $TDIR/out has each column starting where the
# first line's does: the cell there starts with a non-space and is
# followed by at least two spaces before the next column. The offsets come
# from the first line (the header, or the first row of a list without one),
# whose cells hold no spaces. $2 says which table; $3 how many columns.
assert_aligned() {
	awk -v what="$1" -v ncols="$2" '
	NR == 1 {
		n = 0
		for (i = 1; i <= length($0); i++)
			if (substr($0, i, 1) != " " && (i == 1 || substr($0, i - 1, 1) == " "))
				off[++n] = i
		if (n != ncols) {
			printf "%s: %d columns in the first line, expected %d: %s\n", what, n, ncols, $0
			bad = 1
			exit
		}
	}
	{
		for (k = 1; k < n; k++) {
			cell = substr($0, off[k], off[k + 1] - off[k])
			if (cell !~ /^[^ ]/ || cell !~ /  $/) {
				printf "%s: line %d, column %d is not at offset %d: %s\n", what, NR, k, off[k], $0
				bad = 1
				exit
			}
		}
		if (substr($0, off[n], 1) !~ /[^ ]/) {
			printf "%s: line %d, last column is not at offset %d: %s\n", what, NR, off[n], $0
			bad = 1
			exit
		}
		if ($0 ~ / $/) {
			printf "%s: line %d ends with a space\n", what, NR
			bad = 1
			exit
		}
	}
	END { exit bad }' "$TDIR/out" >"$TDIR/why" || fail "$(cat "$TDIR/why")"
	[ "$(lines "$TDIR/out")" -ge 2 ] || fail "$1: no rows: $(out)"
}

# The UTC ISO 8601 form of Unix milliseconds, as date(1) gives it.
iso() {
	printf '%s.%03dZ' "$(date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%S)" $(($1 % 1000))
}

# ---- heads: WALL and its time ------------------------------------------
run "$OPLOGD" heads $S --dataset ds-0
assert_rc 0 "heads"
assert_eq "NODE SEQ WALL LOGIC TIME HASH" "$(head -n 1 "$TDIR/out" | tr -s ' ')" "heads header"
assert_aligned heads 6
assert_eq 13 "$(lines "$TDIR/out")" "heads: a header and 12 nodes"
tr -s ' ' <"$TDIR/out" | tail -n +2 | while read -r node seq wall logic time hash; do
	assert_eq "$(iso "$wall")" "$time" "heads: the TIME of $node is its WALL in UTC"
done
run "$OPLOGD" heads $S --dataset ds-0 --json
assert_eq "$(json '.[] | "\(.node) \(.seq) \(.wall) \(.logic) \(.hash)"')" \
	"$(cd "$TDIR" && "$OPLOGD" heads $S --dataset ds-0 | tail -n +2 | awk '{print $1, $2, $3, $4, $6}')" \
	"heads: the table's values are the --json ones"

# ---- watermarks: one missing seq prints as one number ------------------
run "$OPLOGD" watermarks $S --dataset ds-0 --json
json '.[] | "\(.node) \(if (.gaps | length) == 0 then "-" else
	([.gaps[] | if .[0] == .[1] then "\(.[0])" else "\(.[0])-\(.[1])" end] | join(",")) end)"' \
	>"$TDIR/want-gaps"
grep -q ' 15$' "$TDIR/want-gaps" || fail "the stream has no one-seq gap: $(cat "$TDIR/want-gaps")"
grep -q ' 6-7$' "$TDIR/want-gaps" || fail "the stream has no gap of a run: $(cat "$TDIR/want-gaps")"
run "$OPLOGD" watermarks $S --dataset ds-0
assert_rc 0 "watermarks"
assert_aligned watermarks 5
assert_eq "$(cat "$TDIR/want-gaps")" "$(tail -n +2 "$TDIR/out" | awk '{print $1, $5}')" \
	"watermarks: gaps (one seq as N, a run as FROM-TO)"
case "$(out)" in *" 15-15"*) fail "a one-seq gap printed as a range: $(out)" ;; esac

# ---- scan ----------------------------------------------------------------
run "$OPLOGD" scan $S --dataset ds-0
assert_rc 0 "scan"
assert_aligned scan 9
assert_eq "WALL LOGIC TIME NODE SEQ OP COL KEY HASH" "$(head -n 1 "$TDIR/out" | tr -s ' ')" \
	"scan header"
tr -s ' ' <"$TDIR/out" | sed -n '2p;$p' | while read -r wall logic time rest; do
	assert_eq "$(iso "$wall")" "$time" "scan: TIME is WALL in UTC"
done
run "$OPLOGD" scan $S --dataset ds-0 --json
n=$(json length)
run "$OPLOGD" scan $S --dataset ds-0
assert_eq $((n + 1)) "$(lines "$TDIR/out")" "scan: a header and every entry"

# ---- forks ---------------------------------------------------------------
run "$OPLOGD" forks $S --dataset ds-0
assert_rc 0 "forks"
assert_aligned forks 3
run "$OPLOGD" forks $S --dataset ds-0 --json
assert_eq "$(json '.[] | "\(.node) \(.seq) \(.hashes | join(","))"')" \
	"$("$OPLOGD" forks $S --dataset ds-0 | tail -n +2 | tr -s ' ')" "forks: the --json values"

# ---- datasets ------------------------------------------------------------
run "$OPLOGD" datasets $S
assert_rc 0 "datasets"
assert_aligned datasets 3
run "$OPLOGD" datasets $S --json
assert_eq "$(json '.[] | "\(.dataset) \(.nodes) \(.entries)"')" \
	"$("$OPLOGD" datasets $S | tail -n +2 | tr -s ' ')" "datasets: the --json values"

# ---- rejects: TIME is TIME_MS in UTC -------------------------------------
run "$OPLOGD" rejects $S
assert_rc 0 "rejects"
assert_aligned rejects 8
assert_eq "ID TIME TIME_MS SOURCE REASON FIELD SIZE DETAIL" "$(head -n 1 "$TDIR/out" | tr -s ' ')" \
	"rejects header"
tr -s ' ' <"$TDIR/out" | tail -n +2 | while read -r id time ms rest; do
	assert_eq "$(iso "$ms")" "$time" "reject $id: TIME is TIME_MS in UTC"
done
run "$OPLOGD" rejects $S --json
assert_eq "$(json '.[] | "\(.id) \(.time_ms) \(.reason) \(.size)"')" \
	"$("$OPLOGD" rejects $S | tail -n +2 | awk '{print $1, $3, $5, $7}')" "rejects: the --json values"

# ---- stats: aligned names, sizes in binary units -------------------------
run "$OPLOGD" stats $S --json
bytes=$(json .store_bytes)
map=$(json .map_size)
run "$OPLOGD" stats $S
assert_rc 0 "stats"
# Only the names' column is checked: values like "1.0 MiB (1048576)" hold
# spaces.
awk '{ print substr($0, 1, index($0, $2) - 1) "X" }' "$TDIR/out" >"$TDIR/names"
[ "$(awk '{ print length($0) }' "$TDIR/names" | sort -u | wc -l)" -eq 1 ] ||
	fail "stats: values do not start at one offset: $(out)"
assert_eq "map_size 256.0 MiB ($map)" "$(grep '^map_size ' "$TDIR/out" | tr -s ' ')" "stats map_size"
grep -Eq "^store_bytes +[0-9]+\.[0-9] (KiB|MiB|GiB) \($bytes\)$" "$TDIR/out" ||
	fail "stats store_bytes in units with the bytes: $(grep store_bytes "$TDIR/out")"

# ---- lag: SINCE_HEAD, a duration; the broker need not answer ------------
run "$OPLOGD" lag $S -X bootstrap.servers=127.0.0.1:1 -X group.id=g --set apply.topics=t \
	--timeout 500ms
assert_rc 2 "lag without a broker"
sed -n '/^DATASET/,/^$/p' "$TDIR/out" | sed '/^$/d' >"$TDIR/nodes"
cp "$TDIR/nodes" "$TDIR/out"
assert_aligned "lag nodes" 7
assert_eq "DATASET NODE HEAD_SEQ WATERMARK GAPS HEAD_TIME SINCE_HEAD" \
	"$(head -n 1 "$TDIR/nodes" | tr -s ' ')" "lag nodes header"
# gen's walls are from 2025: at least days ago, as days and hours.
tail -n +2 "$TDIR/nodes" | tr -s ' ' | while read -r ds node seq wm gaps time since; do
	case "$since" in
	*d\ *h | *d) ;;
	*) fail "lag: SINCE_HEAD of $node is '$since', not days and hours" ;;
	esac
	case "$time" in 20[0-9][0-9]-[01][0-9]-[0-3][0-9]T*Z) ;; *) fail "lag: HEAD_TIME '$time'" ;; esac
done
run "$OPLOGD" lag -h
assert_contains "$(out)" "SINCE_HEAD" "lag -h names the column"
assert_contains "$(out)" "time since the node's newest entry" "lag -h explains it"

# ---- -h lists the exit codes ---------------------------------------------
for cmd in $("$OPLOGD" -h | awk '/^  [a-z]/ { print $1 }'); do
	run "$OPLOGD" "$cmd" -h
	assert_rc 0 "$cmd -h"
	grep -q '^Exit 0.*2 ' "$TDIR/out" || fail "$cmd -h lists no exit codes: $(tail -n 3 "$TDIR/out")"
done
run "$OPLOGD" replay -h
assert_contains "$(out)" "3 interrupted" "replay -h: exit 3"
run "$OPLOGD" heads -h
case "$(out)" in *"1 "*"answer is no"*) fail "heads -h promises an exit 1 it never gives" ;; esac

echo "ok $T_NAME"
