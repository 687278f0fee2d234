#!/bin/sh
# 0105-migrate-v1: a store written by schema 1 (tests/fixtures/store-v1,
# made by the schema-1 oplogd) upgraded to schema 2. Read commands refuse
# it with the command to run; `oplogd migrate` upgrades it; then every
# answer is byte for byte what the schema-1 oplogd gave (dump, stats but
# its file size, heads, watermarks, rejects, forks, chains both ways,
# documents whose winner was pruned, gets, scan pages), the trees copied
# verbatim are identical in mdb_dump text (meta but its schema), verify
# passes and a second migrate does nothing. A read-write command upgrades
# the store by itself and logs it; migrate refuses while another process
# has the store open; what an interrupted run left behind is cleared.
. tests/system/lib.sh

F=tests/fixtures/store-v1
S=$TDIR/s
mkdir "$S"
cp "$F/data.mdb" "$S/"

# ---- before: read commands refuse, and say what to do --------------------
run "$OPLOGD" stats --store "$S"
assert_rc 2 "stats of a schema-1 store"
assert_contains "$(err)" "has store schema 1" "the refusal names the schema"
assert_contains "$(err)" "oplogd migrate --store $S" "the refusal names the command"
run "$OPLOGD" dump --store "$S"
assert_rc 2 "dump of a schema-1 store"
assert_eq "" "$(out)" "nothing on stdout"

# ---- another process has it open: refused, nothing changed ----------------
mkfifo "$TDIR/hold"
/usr/bin/python3 -c '
import lmdb, sys
env = lmdb.open(sys.argv[1], readonly=True, max_dbs=32, lock=True)
print("open", flush=True)
sys.stdin.read()
' "$S" <"$TDIR/hold" >"$TDIR/holder.out" 2>&1 &
holder=$!
on_exit "kill $holder 2>/dev/null"
exec 3>"$TDIR/hold"
wait_for 10 "the other process to open the store" grep -q open "$TDIR/holder.out"
sum=$(md5sum <"$S/data.mdb")
run "$OPLOGD" migrate --store "$S"
assert_rc 2 "migrate while another process has the store open"
assert_contains "$(err)" "is open in another process (pid $holder)" "EBUSY names the process"
assert_eq "$sum" "$(md5sum <"$S/data.mdb")" "the store after a refused migrate"
[ ! -e "$S/migrate.tmp" ] || fail "a refused migrate left migrate.tmp"
exec 3>&-
wait "$holder" || true

# ---- migrate ----------------------------------------------------------------
# What a run killed in mid-build would leave: it is removed first.
mkdir "$S/migrate.tmp"
head -c 8192 /dev/urandom >"$S/migrate.tmp/data.mdb"
: >"$S/migrate.tmp/lock.mdb"
run "$OPLOGD" migrate --store "$S" --json
assert_rc 0 "migrate"
assert_eq "1 2 $(jq .entries "$F/expected/stats")" "$(json '"\(.from_schema) \(.schema) \(.entries)"')" \
	"from schema, to schema, entries"
assert_contains "$(err)" "upgrading store $S from schema 1 to 2" "the start line"
assert_contains "$(err)" "upgraded store $S to schema 2: $(jq .entries "$F/expected/stats") entries" \
	"the end line"
[ ! -e "$S/migrate.tmp" ] || fail "migrate left migrate.tmp behind"

# ---- every answer as the schema-1 oplogd gave it ---------------------------
n=0
while IFS='	' read -r name args; do
	# shellcheck disable=SC2086 # args is a list of words
	run "$OPLOGD" $args --store "$S"
	assert_rc 0 "oplogd $args"
	if [ "$name" = stats ]; then
		# The file is rebuilt: its size is its own. Everything else stays.
		jq -c 'del(.store_bytes)' "$TDIR/out" >"$TDIR/got"
		jq -c 'del(.store_bytes)' "$F/expected/stats" >"$TDIR/want"
	else
		cp "$TDIR/out" "$TDIR/got"
		cp "$F/expected/$name" "$TDIR/want"
	fi
	cmp -s "$TDIR/want" "$TDIR/got" ||
		fail "oplogd $args differs from schema 1: $(diff "$TDIR/want" "$TDIR/got" | head -c 1500)"
	n=$((n + 1))
done <"$F/checks.txt"
[ "$n" -ge 40 ] || fail "only $n checks in $F/checks.txt"

# The trees copied verbatim, in mdb_dump text. mapsize is the new file's
# (a header line); meta differs in the schema's value alone.
for t in meta names ids heads forks breaks offsets rejects counters lost replay; do
	mdb_dump -s $t "$S" | grep -v '^mapsize=' >"$TDIR/got" || fail "mdb_dump -s $t"
	grep -v '^mapsize=' "$F/expected/mdb.$t" >"$TDIR/want"
	if [ $t = meta ]; then
		# key "schema" (hex 736368656d61), then its value: 1 before, 2 now.
		perl -i -pe 'if ($next) { $_ = " 00000002\n"; $next = 0 } $next = 1 if /^ 736368656d61$/' \
			"$TDIR/want"
		grep -qx ' 00000002' "$TDIR/want" || fail "no schema record in the expected meta"
	fi
	cmp -s "$TDIR/want" "$TDIR/got" ||
		fail "tree $t differs: $(diff "$TDIR/want" "$TDIR/got" | head -c 1500)"
done
run mdb_dump -s links "$S"
[ "$RC" -ne 0 ] || fail "the upgraded store still has a links tree"

run "$OPLOGD" verify --store "$S"
assert_rc 0 "verify after migrate"

# ---- a second migrate does nothing -----------------------------------------
sum=$(md5sum <"$S/data.mdb")
run "$OPLOGD" migrate --store "$S" --json
assert_rc 0 "second migrate"
assert_eq "0 0" "$(json '"\(.from_schema) \(.entries)"')" "a current store is left alone"
assert_eq "$sum" "$(md5sum <"$S/data.mdb")" "the store after a second migrate"
run "$OPLOGD" migrate --store "$S"
assert_contains "$(out)" "at schema 2 already" "the text form says so"
run "$OPLOGD" migrate --store "$TDIR/absent"
assert_rc 2 "migrate of no store"
[ ! -e "$TDIR/absent" ] || fail "migrate created a store"

# ---- the store of a configuration file; the file's permissions stay ------------
C=$TDIR/c
mkdir "$C"
cp "$F/data.mdb" "$C/"
chmod 600 "$C/data.mdb"
printf '[store]\npath = %s\n' "$C" >"$TDIR/c.conf"
run "$OPLOGD" migrate -c "$TDIR/c.conf"
assert_rc 0 "migrate -c"
assert_contains "$(out)" "upgraded $C from schema 1 to 2: $(jq .entries "$F/expected/stats") entries" \
	"the text form says what it did"
assert_eq 600 "$(stat -c %a "$C/data.mdb")" "permissions of the upgraded file"

# ---- a read-write command upgrades by itself --------------------------------
A=$TDIR/a
mkdir "$A"
cp "$F/data.mdb" "$A/"
# The spec's first worked example: dataset shop, new to the store.
H1=aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75
hex2bin "8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657101a477616c6ccf0000019aa4b64500a56c6f67696300a3636f6ca57573657273a36b6579a27531a26f70a3707574a468617368c420${H1}a464617461c40e7b226e616d65223a22616461227d" >"$TDIR/m1"
run "$OPLOGD" import --store "$A" --json "$TDIR/m1"
assert_rc 0 "import into a schema-1 store"
assert_eq 1 "$(json .applied)" "the import applied its entry"
assert_contains "$(err)" " info  upgrading store $A from schema 1 to 2" "import logs the upgrade"
assert_contains "$(err)" " info  upgraded store $A to schema 2" "import logs its end"
run "$OPLOGD" get --store "$A" --dataset shop "$H1" --json
assert_eq "ada" "$(json '.data | @base64d | fromjson | .name')" "the new entry"
run "$OPLOGD" dump --store "$A"
jq -c '.datasets | map(select(.name != "shop"))' "$TDIR/out" >"$TDIR/got"
jq -c '.datasets' "$F/expected/dump" >"$TDIR/want"
cmp -s "$TDIR/want" "$TDIR/got" || fail "the auto-upgraded store lost or changed content"
run "$OPLOGD" stats --store "$A" --json
assert_eq "$(jq -c .offsets "$F/expected/stats")" "$(json '.offsets | tojson')" "offsets kept"
assert_eq "$(jq .store_id "$F/expected/stats")" "$(json .store_id | jq -R .)" "store id kept"
run "$OPLOGD" verify --store "$A"
assert_rc 0 "verify after the upgrade by import"

echo "ok $T_NAME"
