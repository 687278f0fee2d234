# lib_install.sh: for the 030x install and packaging tests, after lib.sh.
#
#   install_root                 `make install DESTDIR=$TDIR/root PREFIX=/usr`
#                                with the build directory of $OPLOGD; the
#                                make output is in $TDIR/install.log
#   BUILD_DIR                    that build directory, relative to the
#                                project root when it is under it

BUILD_DIR=$(dirname "$OPLOGD")
case $BUILD_DIR in
"$PWD"/*) BUILD_DIR=${BUILD_DIR#"$PWD"/} ;;
esac

install_root() {
	make -s --no-print-directory install BUILD="$BUILD_DIR" DESTDIR="$TDIR/root" PREFIX=/usr \
		>"$TDIR/install.log" 2>&1 || fail "make install: $(tail -5 "$TDIR/install.log")"
}
