#!/bin/sh
# 0305-deb: `make deb` builds a Debian package (debhelper) whose contents
# are those of `make install PREFIX=/usr`, whose oplogd runs, whose
# configuration is a conffile, and which creates the oplogd user on
# install. About 15 s on two cores.
. tests/system/lib.sh
. tests/system/lib_install.sh

for t in dpkg-buildpackage dh dpkg-deb; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "skip $T_NAME: no $t (Debian packages debhelper, dpkg-dev)"; exit 0; }
done

make -s --no-print-directory deb BUILD="$BUILD_DIR" DEB_DIR="$TDIR/deb" >"$TDIR/deb.log" 2>&1 ||
	fail "make deb: $(tail -20 "$TDIR/deb.log")"
V=$("$OPLOGD" --version | sed -n 's/^oplogd //p')
DEB=$TDIR/deb/oplogd_${V}_$(dpkg --print-architecture).deb
[ -f "$DEB" ] || fail "no $DEB; make deb said: $(cat "$TDIR/deb.log")"
assert_contains "$(cat "$TDIR/deb.log")" "$DEB" "make deb prints the package's path"

dpkg-deb -x "$DEB" "$TDIR/x" || fail "dpkg-deb -x"
run "$TDIR/x/usr/bin/oplogd" --version
assert_rc 0 "the package's oplogd --version"
assert_eq "oplogd $V" "$(out | head -1)" "the package's version line"

for f in etc/oplogd/oplogd.conf lib/systemd/system/oplogd.service usr/lib/liboplog.a \
	usr/lib/pkgconfig/oplog.pc usr/include/oplog/store.h usr/share/man/man1/oplogd.1.gz \
	usr/share/man/man5/oplogd.conf.5.gz usr/share/bash-completion/completions/oplogd; do
	[ -f "$TDIR/x/$f" ] || fail "the package lacks /$f"
done
run dpkg-deb -f "$DEB" Package Version Depends
assert_contains "$(out)" "Package: oplogd" "package name"
assert_contains "$(out)" "Version: $V" "package version"
assert_contains "$(out)" "librdkafka" "shared library dependencies"
dpkg-deb -e "$DEB" "$TDIR/ctl" || fail "dpkg-deb -e"
assert_contains "$(cat "$TDIR/ctl/conffiles")" "/etc/oplogd/oplogd.conf" "configuration is a conffile"
assert_contains "$(cat "$TDIR/ctl/postinst")" "adduser --system" "postinst creates the user"
run sh -n "$TDIR/ctl/postinst"
assert_rc 0 "postinst is valid sh"

echo "ok $T_NAME"
