#!/bin/sh
# 0303-bash-completion: the installed completion script is valid bash and
# completes commands and each command's options from the installed
# oplogd: `oplogd ap<TAB>` is apply.
. tests/system/lib.sh
. tests/system/lib_install.sh

command -v bash >/dev/null 2>&1 || { echo "skip $T_NAME: no bash"; exit 0; }
install_root
C=$TDIR/root/usr/share/bash-completion/completions/oplogd
run bash -n "$C"
assert_rc 0 "bash -n of the completion script"

# complete WORD...: COMPREPLY for the last word, with oplogd on the PATH.
complete_words() {
	PATH="$TDIR/root/usr/bin:$PATH" bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_oplogd
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' complete "$C" "$@"
}
assert_eq "apply " "$(complete_words oplogd ap)" "oplogd ap<TAB>"
# Every command -h lists that starts with d, and no other word.
d_cmds=$("$OPLOGD" -h | awk '/^commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 }' |
	grep '^d' | sort | tr '\n' ' ')
case "$d_cmds" in *"decode "*"dump "*) ;; *) fail "oplogd -h lists no decode/dump: '$d_cmds'" ;; esac
assert_eq "$d_cmds" "$(complete_words oplogd d)" "oplogd d<TAB>"
assert_eq "--framing " "$(complete_words oplogd import --fr)" "oplogd import --fr<TAB>"
assert_contains "$(complete_words oplogd apply --)" "--config" "apply's options"
assert_contains "$(complete_words oplogd prune --)" "--older-than" "prune's own option"
mkdir "$TDIR/storedir"
assert_eq "$TDIR/storedir " "$(complete_words oplogd stats --store "$TDIR/stor")" "--store completes a directory"
PATH="$TDIR/root/usr/bin:$PATH" bash -c '. "$1"; complete -p oplogd' x "$C" >"$TDIR/out" 2>&1 ||
	fail "no completion registered for oplogd"
assert_contains "$(out)" "-F _oplogd" "complete -F"

echo "ok $T_NAME"
