#!/bin/sh
# 0304-systemd-unit: the installed oplogd.service passes
# `systemd-analyze verify` (with its ExecStart pointed at the installed
# binary and configuration, and its man: pages found in the install),
# has what the service needs (Type=notify, a watchdog, its own user and
# state directory, the hardening), and rates as low exposure in
# `systemd-analyze security`. A unit whose binary is missing fails the
# same check.
. tests/system/lib.sh
. tests/system/lib_install.sh

command -v systemd-analyze >/dev/null 2>&1 ||
	{ echo "skip $T_NAME: no systemd-analyze (Debian package systemd)"; exit 0; }
install_root
R=$TDIR/root
UNIT=$R/usr/lib/systemd/system/oplogd.service

for line in Type=notify WatchdogSec=30s User=oplogd StateDirectory=oplogd Restart=on-failure \
	"ExecStart=/usr/bin/oplogd apply -c /etc/oplogd/oplogd.conf" ProtectSystem=strict \
	ProtectHome=yes NoNewPrivileges=yes PrivateTmp=yes PrivateDevices=yes \
	ProtectKernelTunables=yes ProtectKernelModules=yes \
	"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"; do
	grep -qxF "$line" "$UNIT" || fail "oplogd.service lacks '$line'"
done

mkdir "$TDIR/unit"
sed -e "s|/usr/bin/oplogd|$R/usr/bin/oplogd|" -e "s|/etc/oplogd/|$R/etc/oplogd/|" \
	"$UNIT" >"$TDIR/unit/oplogd.service"
MANPATH=$R/usr/share/man run systemd-analyze verify "$TDIR/unit/oplogd.service"
assert_rc 0 "systemd-analyze verify"
if [ -s "$TDIR/out" ] || [ -s "$TDIR/err" ]; then
	fail "systemd-analyze verify complains: $(cat "$TDIR/out" "$TDIR/err" | head -10)"
fi

# Exposure at most 2.0 of 10 ("OK").
run systemd-analyze security --offline=yes --threshold=20 --no-pager "$TDIR/unit/oplogd.service"
assert_rc 0 "systemd-analyze security: $(grep 'Overall exposure' "$TDIR/out")"

# The check is not vacuous: a missing binary is reported.
sed "s|^ExecStart=[^ ]*|ExecStart=$TDIR/missing/oplogd|" "$TDIR/unit/oplogd.service" \
	>"$TDIR/unit/broken.service"
run systemd-analyze verify --man=no "$TDIR/unit/broken.service"
[ "$RC" -ne 0 ] || fail "systemd-analyze verify accepted a unit with a missing binary"
assert_contains "$(err)" "$TDIR/missing/oplogd" "the missing binary is named"

echo "ok $T_NAME"
