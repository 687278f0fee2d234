#!/bin/sh
# 0302-pkgconfig: the installed oplog.pc gives the flags to build a small
# program against the installed headers and liboplog.a with its
# dependencies; the program opens a store and reads its counters.
. tests/system/lib.sh
. tests/system/lib_install.sh

command -v pkg-config >/dev/null 2>&1 || { echo "skip $T_NAME: no pkg-config"; exit 0; }
install_root
export PKG_CONFIG_PATH="$TDIR/root/usr/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$TDIR/root"

run pkg-config --modversion oplog
assert_rc 0 "pkg-config --modversion oplog"
assert_eq "$("$OPLOGD" --version | sed -n 's/^oplogd //p')" "$(out)" "oplog.pc version"
run pkg-config --cflags --libs oplog
assert_rc 0 "pkg-config --cflags --libs oplog"
FLAGS=$(out)
assert_contains "$FLAGS" "-I$TDIR/root/usr/include" "cflags into the installed headers"
assert_contains "$FLAGS" "-L$TDIR/root/usr/lib -loplog" "libs of the installed library"
assert_contains "$FLAGS" "-llmdb" "a dependency"

cat >"$TDIR/prog.c" <<'C'
#include <stdio.h>
#include <string.h>

#include <oplog/store.h>
#include <oplog/version.h>

int main(int argc, char **argv)
{
	struct oplog_store_opts opts;
	struct oplog_store *s = NULL;
	struct oplog_stats st;
	int err;

	if (argc != 2)
		return 2;
	memset(&opts, 0, sizeof(opts));
	opts.path = argv[1];
	if ((err = oplog_store_open(&s, &opts)) != 0 || (err = oplog_store_stats(s, &st)) != 0) {
		fprintf(stderr, "prog: %d\n", err);
		oplog_store_close(s);
		return 1;
	}
	printf("%s %llu\n", OPLOG_VERSION, (unsigned long long)st.entries);
	oplog_store_close(s);
	return 0;
}
C
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -Wall -Werror -o "$TDIR/prog" "$TDIR/prog.c" $FLAGS >"$TDIR/cc.log" 2>&1 ||
	fail "compiling against the installed files: $(head -20 "$TDIR/cc.log")"
run "$TDIR/prog" "$TDIR/store"
assert_rc 0 "the program"
assert_eq "$("$OPLOGD" --version | sed -n 's/^oplogd //p') 0" "$(out)" "the program's output"
run "$OPLOGD" stats --store "$TDIR/store" --json
assert_rc 0 "oplogd reads the store the program created"

echo "ok $T_NAME"
