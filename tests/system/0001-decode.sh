#!/bin/sh
# 0001-decode: `oplogd decode` against the worked examples of
# wire-format-v1, their corruptions, and the CLI's usage and config errors.
. tests/system/lib.sh

# The worked examples of wire-format-v1 ("Worked examples"), verbatim.
H1=aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75
H2=bc1962f5bb6dae6ad109989c720d8c528443daf41903b504213947d6e544ffdb
M1=8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657101a477616c6ccf0000019aa4b64500a56c6f67696300a3636f6ca57573657273a36b6579a27531a26f70a3707574a468617368c420${H1}a464617461c40e7b226e616d65223a22616461227d
M2=8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657102a477616c6ccf0000019aa4b64500a56c6f67696301a3636f6ca57573657273a36b6579a27531a26f70a364656ca468617368c420${H2}a470726576c420${H1}

hex2bin "$M1" >"$TDIR/m1"
hex2bin "$M2" >"$TDIR/m2"
assert_eq 134 "$(wc -c <"$TDIR/m1" | tr -d ' ')" "entry 1 size"

# Entry 1: a put on seq 1, from a file.
run "$OPLOGD" decode --json "$TDIR/m1"
assert_rc 0 "decode entry 1"
assert_eq 1 "$(lines "$TDIR/out")" "one JSON document on one line"
assert_eq true "$(json .ok)" "entry 1 ok"
assert_eq shop "$(json .ds)" "entry 1 ds"
assert_eq node-a "$(json .node)" "entry 1 node"
assert_eq 1 "$(json .seq)" "entry 1 seq"
assert_eq 1763700000000 "$(json .wall)" "entry 1 wall"
assert_eq 0 "$(json .logic)" "entry 1 logic"
assert_eq users "$(json .col)" "entry 1 col"
assert_eq u1 "$(json .key)" "entry 1 key"
assert_eq put "$(json .op)" "entry 1 op"
assert_eq eyJuYW1lIjoiYWRhIn0= "$(json .data)" "entry 1 data"
assert_eq '{"name":"ada"}' "$(json '.data | @base64d')" "entry 1 data bytes"
assert_eq null "$(json .prev)" "entry 1 prev"
assert_eq "$H1" "$(json .hash)" "entry 1 hash"
assert_eq number "$(json '.wall | type')" "wall is a JSON number"
assert_eq "ok,ds,node,seq,wall,logic,col,key,op,data,prev,hash" \
	"$(json 'keys_unsorted | join(",")')" "field order"
assert_eq "" "$(err)" "nothing on stderr"

# Entry 2: a del on seq 2, from stdin with -.
run sh -c '"$OPLOGD" decode --json - <"$1"' sh "$TDIR/m2"
assert_rc 0 "decode entry 2"
assert_eq true "$(json .ok)" "entry 2 ok"
assert_eq shop "$(json .ds)" "entry 2 ds"
assert_eq node-a "$(json .node)" "entry 2 node"
assert_eq 2 "$(json .seq)" "entry 2 seq"
assert_eq 1763700000000 "$(json .wall)" "entry 2 wall"
assert_eq 1 "$(json .logic)" "entry 2 logic"
assert_eq users "$(json .col)" "entry 2 col"
assert_eq u1 "$(json .key)" "entry 2 key"
assert_eq del "$(json .op)" "entry 2 op"
assert_eq null "$(json .data)" "entry 2 data"
assert_eq "$H1" "$(json .prev)" "entry 2 prev"
assert_eq "$H2" "$(json .hash)" "entry 2 hash"

# The table form, from stdin without an operand.
run sh -c '"$OPLOGD" decode <"$1"' sh "$TDIR/m2"
assert_rc 0 "decode entry 2 as a table"
assert_contains "$(out)" "op:    del" "table op"
assert_contains "$(out)" "prev:  $H1" "table prev"
assert_contains "$(out)" "hash:  $H2" "table hash"
assert_contains "$(out)" "wall:  1763700000000" "table wall"

# One byte of hash changed: hash_mismatch, exit 1.
BAD=$(echo "$M1" | sed "s/c420${H1}/c420aff7ce8c${H1#aff7ce8b}/")
[ "$BAD" != "$M1" ] || fail "the corrupt message is not corrupt"
hex2bin "$BAD" >"$TDIR/bad"
run "$OPLOGD" decode --json "$TDIR/bad"
assert_rc 1 "hash mismatch exit"
assert_eq false "$(json .ok)" "hash mismatch ok"
assert_eq hash_mismatch "$(json .reason)" "hash mismatch reason"
assert_eq hash "$(json .field)" "hash mismatch field"
assert_eq string "$(json '.detail | type')" "hash mismatch detail"
assert_eq "ok,reason,field,detail" "$(json 'keys_unsorted | join(",")')" "reject fields"
run "$OPLOGD" decode "$TDIR/bad"
assert_rc 1 "hash mismatch exit, table"
assert_contains "$(out)" "rejected: reason=hash_mismatch field=hash detail=" "reject line"

# Truncated: malformed, no field, exit 1.
hex2bin "${M1%????}" >"$TDIR/short"
run "$OPLOGD" decode --json "$TDIR/short"
assert_rc 1 "truncated exit"
assert_eq malformed "$(json .reason)" "truncated reason"
assert_eq null "$(json .field)" "truncated field"

# Trailing bytes after the value, and an empty input: malformed too.
hex2bin "${M1}c0" >"$TDIR/trailing"
run "$OPLOGD" decode --json "$TDIR/trailing"
assert_rc 1 "trailing exit"
assert_eq malformed "$(json .reason)" "trailing reason"
: >"$TDIR/empty"
run "$OPLOGD" decode --json "$TDIR/empty"
assert_rc 1 "empty exit"
assert_eq malformed "$(json .reason)" "empty reason"

# The size limit is [apply] max_message_bytes.
run "$OPLOGD" decode --json --set apply.max_message_bytes=133 "$TDIR/m1"
assert_rc 1 "too large exit"
assert_eq too_large "$(json .reason)" "too large reason"
assert_contains "$(json .detail)" "134 bytes" "too large detail names the size"
run "$OPLOGD" decode --json --set apply.max_message_bytes=134 "$TDIR/m1"
assert_rc 0 "at the limit"

# Help and usage errors.
run "$OPLOGD" decode -h
assert_rc 0 "decode -h"
assert_contains "$(out)" "usage: oplogd decode" "decode -h usage"
assert_contains "$(out)" "--json" "decode -h lists --json"
assert_eq "" "$(err)" "decode -h stderr"
run "$OPLOGD" decode --no-such-option "$TDIR/m1"
assert_rc 2 "bad option"
assert_eq 1 "$(lines "$TDIR/err")" "bad option: one stderr line"
assert_contains "$(err)" "--no-such-option" "bad option named"
assert_eq "" "$(out)" "bad option: nothing on stdout"
run "$OPLOGD" decode "$TDIR/m1" "$TDIR/m2"
assert_rc 2 "two operands"
assert_eq 1 "$(lines "$TDIR/err")" "two operands: one stderr line"
run "$OPLOGD" decode "$TDIR/absent"
assert_rc 2 "unreadable input"
assert_contains "$(err)" "$TDIR/absent" "unreadable input named"

# The top level.
run "$OPLOGD" --version
assert_rc 0 "--version"
assert_contains "$(out)" "oplogd " "--version names oplogd"
assert_contains "$(out)" "lmdb " "--version names lmdb"
assert_contains "$(out)" "librdkafka " "--version names librdkafka"
assert_contains "$(out)" "msgpack" "--version names msgpack"
run "$OPLOGD" --help
assert_rc 0 "--help"
assert_contains "$(out)" "decode" "--help lists decode"
run "$OPLOGD" no-such-command
assert_rc 2 "unknown command"
assert_eq 1 "$(lines "$TDIR/err")" "unknown command: one stderr line"
run "$OPLOGD"
assert_rc 2 "no command"

# Configuration: errors name file:line and key; the command line wins.
printf '[apply]\nbatch_size = 5\nbatchsize = 6\n' >"$TDIR/bad.conf"
run "$OPLOGD" decode -c "$TDIR/bad.conf" "$TDIR/m1"
assert_rc 2 "bad config"
assert_contains "$(err)" "$TDIR/bad.conf:3:" "bad config file:line"
assert_contains "$(err)" "batchsize" "bad config key"
assert_eq 1 "$(lines "$TDIR/err")" "bad config: one stderr line"
run "$OPLOGD" decode --set store.map_size=abc "$TDIR/m1"
assert_rc 2 "bad --set"
assert_contains "$(err)" "--set store.map_size" "bad --set named"
run "$OPLOGD" decode -c config/oplogd.conf --store "$TDIR/s" -X client.id=t1 \
	--set apply.batch_size=7 --dump-config
assert_rc 0 "--dump-config"
assert_contains "$(out)" "path = $TDIR/s" "--store wins over the file"
assert_contains "$(out)" "batch_size = 7" "--set wins over the file"
assert_contains "$(out)" "client.id = t1" "-X reaches [kafka]"
assert_contains "$(out)" "bootstrap.servers = 127.0.0.1:9092" "the file's [kafka] keys"

# Secrets are not printed unless asked for.
run "$OPLOGD" decode -X sasl.password=hunter2 -X ssl.key.password=k3y --dump-config
assert_rc 0 "--dump-config with secrets"
assert_contains "$(out)" "sasl.password = (redacted)" "sasl.password redacted"
assert_contains "$(out)" "ssl.key.password = (redacted)" "ssl.key.password redacted"
case "$(out)" in *hunter2* | *k3y*) fail "a secret was printed: $(out)" ;; esac
run "$OPLOGD" decode -X sasl.password=hunter2 --dump-config --show-secrets
assert_contains "$(out)" "sasl.password = hunter2" "--show-secrets prints it"

echo "ok $T_NAME"
