#!/bin/sh
# 0310-apply-notify: `oplogd apply` under a service manager, against the
# dev broker (`oplogd broker`, no Java). With NOTIFY_SOCKET naming a unix
# datagram socket this test listens on and WATCHDOG_USEC=2000000, apply
# sends READY=1, then STATUS= lines with the applied count, rate and lag
# (lag 0 once the topic is applied), WATCHDOG=1 about every second (half
# the interval), and STOPPING=1 on SIGTERM, in that order, none after
# STOPPING. A WATCHDOG_PID naming another process turns the watchdog off.
# With JOURNAL_STREAM naming its stderr, the log lines carry their journald
# priority (<6> info, <4> warn) and no timestamp.
. tests/system/lib.sh

command -v python3 >/dev/null || fail "python3 is needed for the notify socket"

dev_broker --partitions 2
BOOTSTRAP=$DEV_BOOTSTRAP

run "$OPLOGD" gen --topic oplog -X bootstrap.servers="$BOOTSTRAP" --datasets 1 --nodes 2 --count 200
assert_rc 0 "gen --topic: $(err)"

# The service manager's end: every assignment of every datagram, one line
# each, after the monotonic time it arrived.
listen() {  # listen SOCKET FILE
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        d = s.recv(4096).decode()
        for a in d.split("\n"):
            if a:
                f.write("%.3f %s\n" % (time.monotonic(), a))
' "$1" "$2" &
	listener=$!
	on_exit "kill $listener 2>/dev/null"
	wait_for 10 "the notify socket $1" test -S "$1"
}

cat >"$TDIR/apply.conf" <<CONF
[kafka]
bootstrap.servers = $BOOTSTRAP
group.id = replica-notify
session.timeout.ms = 6000
[apply]
topics = oplog
commit_interval = 200ms
[store]
path = $TDIR/store
[log]
progress_interval = 1s
CONF

listen "$TDIR/notify.sock" "$TDIR/notify"
# stderr is the file JOURNAL_STREAM names, as systemd connects it.
: >"$TDIR/apply.log"
journal=$(stat -L -c '%d:%i' "$TDIR/apply.log")
NOTIFY_SOCKET=$TDIR/notify.sock WATCHDOG_USEC=2000000 JOURNAL_STREAM=$journal \
	"$OPLOGD" apply -c "$TDIR/apply.conf" 2>>"$TDIR/apply.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"

wait_for 20 "READY=1" grep -q ' READY=1$' "$TDIR/notify"
wait_for 60 "a STATUS= with all 200 applied and lag 0" \
	grep -q ' STATUS=applied 200 ([0-9]*/s), lag 0$' "$TDIR/notify"
wait_for 20 "five WATCHDOG=1" sh -c "[ \$(grep -c ' WATCHDOG=1\$' '$TDIR/notify') -ge 5 ]"

# A bad configuration on SIGHUP: a warning, at journald's warning priority.
cp "$TDIR/apply.conf" "$TDIR/good.conf"
printf '[log]\nlevel = loud\n' >>"$TDIR/apply.conf"
kill -HUP $pid
wait_for 10 "the failed reload's warning" grep -q '^<4>warn  reload: ' "$TDIR/apply.log"
cp "$TDIR/good.conf" "$TDIR/apply.conf"

kill -TERM $pid
wait_for 30 "apply to exit after SIGTERM" sh -c "! kill -0 $pid 2>/dev/null"
wait $pid || fail "apply exited $? after SIGTERM: $(tail -n 5 "$TDIR/apply.log")"
wait_for 5 "STOPPING=1" grep -q ' STOPPING=1$' "$TDIR/notify"

# The order: READY first, STATUS and WATCHDOG after it, STOPPING with
# only its own STATUS after it.
at() { grep -n "$1" "$TDIR/notify" | head -n 1 | cut -d: -f1; }
assert_eq 1 "$(at ' READY=1$')" "READY=1 first: $(head -n 3 "$TDIR/notify")"
assert_eq 1 "$(grep -c ' READY=1$' "$TDIR/notify")" "READY=1 sent once"
[ "$(at ' STATUS=applied ')" -gt 1 ] || fail "no STATUS= after READY"
[ "$(at ' WATCHDOG=1$')" -gt 1 ] || fail "no WATCHDOG=1 after READY"
after=$(sed -n "$(at ' STOPPING=1$'),\$p" "$TDIR/notify" | cut -d' ' -f2-)
assert_eq "STOPPING=1
STATUS=stopping" "$after" "what follows STOPPING=1"

# WATCHDOG=1 at half of WATCHDOG_USEC: no two within 0.95 s (it is not
# sent on every turn of the loop), about a second apart on average, and
# never 2 s apart, which would let the service manager kill the process.
grep ' WATCHDOG=1$' "$TDIR/notify" | awk '
	NR > 1 { d = $1 - prev; n++; sum += d; if (d < min || n == 1) min = d; if (d > max) max = d }
	{ prev = $1 }
	END { printf "%d %.3f %.3f %.3f\n", n, min, max, n ? sum / n : 0 }' >"$TDIR/intervals"
read -r count min max mean <"$TDIR/intervals"
echo "watchdog: $count intervals, min $min s, max $max s, mean $mean s"
[ "$count" -ge 4 ] || fail "only $count WATCHDOG intervals"
awk -v m="$min" 'BEGIN { exit !(m >= 0.95) }' || fail "WATCHDOG=1 $min s apart: faster than half the interval"
awk -v m="$mean" 'BEGIN { exit !(m <= 1.3) }' || fail "WATCHDOG=1 every $mean s on average, not every 1 s"
awk -v m="$max" 'BEGIN { exit !(m < 2.0) }' || fail "WATCHDOG=1 $max s apart: the watchdog would have fired"

# The log went to "the journal": priorities, no timestamps.
grep -q '^<6>info  progress: .*, lag 0,' "$TDIR/apply.log" ||
	fail "no <6> progress line: $(head -n 3 "$TDIR/apply.log")"
grep -v '^<[3467]>' "$TDIR/apply.log" | grep -q . &&
	fail "a line without its priority: $(grep -v '^<[3467]>' "$TDIR/apply.log" | head -n 1)"
grep -q '^<[0-9]>20[0-9][0-9]-' "$TDIR/apply.log" && fail "a journal line with a timestamp"

# WATCHDOG_PID naming another process: that watchdog is not this one's.
: >"$TDIR/notify2"
kill "$listener"
rm -f "$TDIR/notify.sock"
listen "$TDIR/notify.sock" "$TDIR/notify2"
NOTIFY_SOCKET=$TDIR/notify.sock WATCHDOG_USEC=2000000 WATCHDOG_PID=1 \
	"$OPLOGD" apply -c "$TDIR/apply.conf" 2>"$TDIR/apply2.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"
wait_for 20 "READY=1 (WATCHDOG_PID=1)" grep -q ' READY=1$' "$TDIR/notify2"
wait_for 20 "three STATUS= (WATCHDOG_PID=1)" \
	sh -c "[ \$(grep -c ' STATUS=applied ' '$TDIR/notify2') -ge 3 ]"
kill -TERM $pid
wait $pid || fail "the second apply exited $?: $(tail -n 5 "$TDIR/apply2.log")"
grep -q 'WATCHDOG=1' "$TDIR/notify2" && fail "WATCHDOG=1 sent for WATCHDOG_PID=1"
# Its stderr is not the journal: plain lines with a timestamp.
grep -q '^20[0-9-]*T[0-9:.]*Z info  ' "$TDIR/apply2.log" ||
	fail "apply's plain lines: $(head -n 3 "$TDIR/apply2.log")"
echo "ok $T_NAME"
