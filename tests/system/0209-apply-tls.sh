#!/bin/sh
# 0209-apply-tls: oplogd over TLS against a real Kafka 0.9 broker with an
# SSL listener, whose CA and keystore are made here (openssl, keytool).
# - With [kafka] security.protocol = ssl and ssl.ca.location naming the CA
#   that signed the broker's certificate, apply takes the stream in exactly
#   (the store equals a direct import of it) and lag reads the broker over
#   TLS too. librdkafka's hostname check stays on (its default,
#   ssl.endpoint.identification.algorithm = https): the certificate names
#   127.0.0.1, the address the broker advertises.
# - With a CA that did not sign the broker's certificate, apply does not
#   run on: it exits 2 within seconds with one line that names the TLS
#   handshake, the broker, the reason and ssl.ca.location, and has applied
#   nothing. lag and replay end with exit 2 and the same reason.
. tests/system/lib.sh
. tests/system/lib_kafka.sh

N=5000
kafka_start_tls --partitions 2
kafka_topic oplog 2
kafka_tls_ca other

gen_reference $N 9
# Produced over the PLAINTEXT listener: only oplogd's side is under test.
kafka_produce_file oplog "$TDIR/s.bin"

# ---- the right CA: the stream, exactly --------------------------------------
kafka_apply_conf "$TDIR/store" replica-tls "$(kafka_tls_ini "$KAFKA_TLS_CA")" >"$TDIR/apply.conf"
"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"
all_in() {
	[ "$(store_messages "$TDIR/store")" = "$N" ]
}
kafka_wait_apply 120 "all $N messages in the store over TLS" "$TDIR/apply.log" all_in

run "$OPLOGD" lag -c "$TDIR/apply.conf" --json
assert_rc 0 "lag over TLS: $(err)"
assert_eq 2 "$(json '.partitions | length')" "partitions lag saw over TLS"
assert_eq 0 "$(json .total_lag)" "total lag over TLS"

kill -TERM $pid
wait_for 15 "apply to exit after SIGTERM" sh -c "! kill -0 $pid 2>/dev/null"
rc=0
wait $pid || rc=$?
[ "$rc" -eq 0 ] || fail "apply over TLS exited $rc after SIGTERM: $(tail -n 5 "$TDIR/apply.log")"
assert_same_as_reference "$TDIR/store"

# ---- a CA that did not sign the broker's certificate --------------------------
kafka_apply_conf "$TDIR/wrong" replica-wrong "$(kafka_tls_ini "$TDIR/tls/other.pem")" \
	>"$TDIR/wrong.conf"
"$OPLOGD" apply -c "$TDIR/wrong.conf" 2>"$TDIR/wrong.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"
kafka_wait_apply 30 "apply with a CA that did not sign the broker's certificate to exit" \
	"$TDIR/wrong.log" sh -c "! kill -0 $pid 2>/dev/null"
rc=0
wait $pid || rc=$?
[ "$rc" -eq 2 ] || fail "apply with the wrong CA exited $rc, expected 2: $(tail -n 5 "$TDIR/wrong.log")"
# The line the command ends with: the log has the same text as an error.
[ "$(grep -c '^oplogd apply: ' "$TDIR/wrong.log")" -eq 1 ] ||
	fail "expected one 'oplogd apply:' line: $(tail -n 5 "$TDIR/wrong.log")"
line=$(grep '^oplogd apply: ' "$TDIR/wrong.log")
assert_contains "$line" "TLS handshake with broker ssl://$KAFKA_TLS_BOOTSTRAP/" "the error line"
assert_contains "$line" "certificate verify failed" "the error line"
assert_contains "$line" "[kafka] ssl.ca.location" "the error line"
got=$(store_messages "$TDIR/wrong") || got=0
assert_eq 0 "$got" "messages taken in with the wrong CA"

# lag and replay build their own clients: an error that says why, not a
# wait. (timeout only keeps a hang from stalling the suite.) lag reads a
# store read-only, so it gets an empty one.
"$OPLOGD" import --store "$TDIR/wrong-lag" /dev/null >/dev/null 2>&1 || fail "creating an empty store"
for cmd in lag replay; do
	run timeout 60 "$OPLOGD" $cmd -c "$TDIR/wrong.conf" --set store.path="$TDIR/wrong-$cmd"
	assert_rc 2 "$cmd with the wrong CA"
	assert_eq 1 "$(err | wc -l)" "$cmd: lines on stderr"
	assert_contains "$(err)" "oplogd $cmd: " "$cmd's error"
	assert_contains "$(err)" "ssl://$KAFKA_TLS_BOOTSTRAP/" "$cmd's error"
	assert_contains "$(err)" "certificate verify failed" "$cmd's error"
done
echo "ok $T_NAME"
