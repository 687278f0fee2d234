#!/bin/sh
# 0301-man: the installed oplogd.1 and oplogd.conf.5 render with groff and
# man without a warning; oplogd.1 has every command of CLI_COMMANDS and
# every long option of each command's -h, oplogd.conf.5 exactly the keys
# --dump-config prints, section by section; `oplogd man` refuses another
# section.
. tests/system/lib.sh
. tests/system/lib_install.sh

command -v groff >/dev/null 2>&1 || { echo "skip $T_NAME: no groff (Debian package groff-base)"; exit 0; }
install_root
M1=$TDIR/root/usr/share/man/man1/oplogd.1
M5=$TDIR/root/usr/share/man/man5/oplogd.conf.5

for m in "$M1" "$M5"; do
	groff -man -ww -z "$m" >"$TDIR/groff" 2>&1 || fail "groff ${m##*/}: $(cat "$TDIR/groff")"
	[ ! -s "$TDIR/groff" ] || fail "groff warns on ${m##*/}: $(head -5 "$TDIR/groff")"
	if command -v man >/dev/null 2>&1; then
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$m" >"$TDIR/man.txt" 2>"$TDIR/man.err" ||
			fail "man -l ${m##*/}: $(cat "$TDIR/man.err")"
		[ ! -s "$TDIR/man.err" ] || fail "man warns on ${m##*/}: $(head -5 "$TDIR/man.err")"
	fi
done
assert_contains "$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$M1" 2>/dev/null)" "COMMAND DETAILS" "oplogd.1 renders"

# Every command in CLI_COMMANDS: listed, and described with its options.
sed -n 's/^[[:space:]]*X(\([a-z_]*\), ".*/\1/p' cli/cli.h >"$TDIR/commands"
[ "$(lines "$TDIR/commands")" -ge 20 ] || fail "could not read CLI_COMMANDS from cli/cli.h"
while read -r c; do
	grep -qx ".B $c" "$M1" || fail "oplogd.1 does not list the command $c"
	[ "$c" = man ] && continue
	grep -qx ".SS $c" "$M1" || fail "oplogd.1 has no section on $c"
	"$OPLOGD" "$c" -h | sed -n 's/^  *\(-[A-Za-z], \)\{0,1\}--\([a-z][a-z0-9-]*\).*/\2/p' >"$TDIR/opts"
	[ -s "$TDIR/opts" ] || fail "no options in oplogd $c -h"
	while read -r o; do
		grep -q "^\.B .*\\\\-\\\\-$(printf '%s' "$o" | sed 's/-/\\\\-/g')\\b" "$M1" ||
			fail "oplogd.1 lacks --$o of $c"
	done <"$TDIR/opts"
done <"$TDIR/commands"
# A command's own option sits in its section.
sed -n '/^\.SS import$/,/^\.SS /p' "$M1" | grep -q '^\.B \\-\\-framing' ||
	fail "import's --framing is not in its section"

# oplogd.conf.5: the same [section] key pairs as --dump-config.
"$OPLOGD" decode --dump-config |
	awk '/^\[/ { s = $1; next } /^[a-z_]+ =/ && s != "[kafka]" { print s, $1 }' | sort >"$TDIR/keys"
[ "$(lines "$TDIR/keys")" -ge 20 ] || fail "could not read the keys of --dump-config"
awk '/^\.SS \[/ { s = $2; next } /^\.B / && prev == ".TP" && s != "" { print s, $2 } { prev = $0 }' "$M5" |
	sort >"$TDIR/man_keys"
diff "$TDIR/keys" "$TDIR/man_keys" >"$TDIR/diff" || fail "oplogd.conf.5 keys differ from --dump-config: $(cat "$TDIR/diff")"
grep -q '^\.SS \[kafka\]' "$M5" || fail "oplogd.conf.5 has no [kafka]"
# Each key's default is the one --dump-config shows (here batch_size).
assert_contains "$(sed -n '/^\.B batch_size$/,/^\.TP/p' "$M5")" \
	"default: $("$OPLOGD" decode --dump-config | sed -n 's/^batch_size = //p')" "batch_size default"

run "$OPLOGD" man 7
assert_rc 2 "oplogd man 7"
assert_contains "$(err)" "no manual page in section '7'" "man 7 error"
run "$OPLOGD" man
assert_rc 2 "oplogd man without a section"

echo "ok $T_NAME"
