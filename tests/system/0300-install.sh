#!/bin/sh
# 0300-install: `make install DESTDIR=... PREFIX=/usr` installs exactly the
# binary, library, headers, oplog.pc, both manual pages, the example
# configuration (store in /var/lib/oplogd) under /etc, the unit (with the
# installed paths) and bash completion; a second install keeps an edited
# configuration; PREFIX=/usr/local puts the configuration under it.
. tests/system/lib.sh
. tests/system/lib_install.sh

install_root
R=$TDIR/root
(cd "$R" && find . -type f | sort) >"$TDIR/files"
for h in include/oplog/*.h; do echo "./usr/include/oplog/${h##*/}"; done >"$TDIR/want.h"
{
	cat "$TDIR/want.h"
	printf '%s\n' ./etc/oplogd/oplogd.conf ./usr/bin/oplogd ./usr/lib/liboplog.a \
		./usr/lib/pkgconfig/oplog.pc ./usr/lib/systemd/system/oplogd.service \
		./usr/share/bash-completion/completions/oplogd ./usr/share/man/man1/oplogd.1 \
		./usr/share/man/man5/oplogd.conf.5
} | sort >"$TDIR/want"
diff -u "$TDIR/want" "$TDIR/files" >"$TDIR/diff" || fail "installed files differ: $(cat "$TDIR/diff")"

run "$R/usr/bin/oplogd" --version
assert_rc 0 "installed oplogd --version"
assert_contains "$(out)" "oplogd " "version line"
[ -x "$R/usr/bin/oplogd" ] || fail "oplogd is not executable"
assert_eq "-rw-r--r--" "$(stat -c %A "$R/usr/lib/systemd/system/oplogd.service")" "unit mode"

# The unit and the configuration name the installed places.
U=$(cat "$R/usr/lib/systemd/system/oplogd.service")
assert_contains "$U" "ExecStart=/usr/bin/oplogd apply -c /etc/oplogd/oplogd.conf" "unit ExecStart"
run "$R/usr/bin/oplogd" stats -c "$R/etc/oplogd/oplogd.conf" --dump-config
assert_rc 0 "the installed configuration loads"
assert_contains "$(out)" "path = /var/lib/oplogd" "installed store path"
# Apart from [kafka], everything else is the default, as in the example.
run "$R/usr/bin/oplogd" stats --dump-config
sed -e '/^\[apply\]/,$!d' -e 's|^path = .*|path = /var/lib/oplogd|' "$TDIR/out" >"$TDIR/defaults"
run "$R/usr/bin/oplogd" stats -c "$R/etc/oplogd/oplogd.conf" --dump-config
sed -n '/^\[apply\]/,$p' "$TDIR/out" >"$TDIR/installed"
cmp -s "$TDIR/defaults" "$TDIR/installed" || fail "installed configuration: $(diff "$TDIR/defaults" "$TDIR/installed")"

# An edited configuration survives a second install, which says so.
echo "; edited by the operator" >>"$R/etc/oplogd/oplogd.conf"
cp "$R/etc/oplogd/oplogd.conf" "$TDIR/edited"
install_root
cmp -s "$TDIR/edited" "$R/etc/oplogd/oplogd.conf" || fail "the second install replaced the edited configuration"
assert_contains "$(cat "$TDIR/install.log")" "keeping the existing" "second install message"

# Another PREFIX: configuration under PREFIX/etc, unit paths follow.
make -s --no-print-directory install BUILD="$BUILD_DIR" DESTDIR="$TDIR/local" PREFIX=/usr/local \
	>"$TDIR/install.log" 2>&1 || fail "make install PREFIX=/usr/local: $(tail -5 "$TDIR/install.log")"
[ -f "$TDIR/local/usr/local/etc/oplogd/oplogd.conf" ] || fail "no PREFIX/etc/oplogd/oplogd.conf"
assert_contains "$(cat "$TDIR/local/usr/local/lib/systemd/system/oplogd.service")" \
	"ExecStart=/usr/local/bin/oplogd apply -c /usr/local/etc/oplogd/oplogd.conf" "unit paths under /usr/local"
assert_contains "$(cat "$TDIR/local/usr/local/lib/pkgconfig/oplog.pc")" "prefix=/usr/local" "oplog.pc prefix"

echo "ok $T_NAME"
