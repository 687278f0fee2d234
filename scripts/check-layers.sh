#!/bin/sh
# Check that every source file includes only what its layer may use.
#
# The layers, lowest first; each may use itself and the layers it lists:
#   core      error, log, config, clock, bytes (and version.h)
#   wire      core                       the v1 codec and msgpack reader
#   store     core wire                  LMDB only
#   gen       core wire                  the synthetic stream generator
#   render    core wire store            JSON renderings
#   intake    core wire store            decode -> batch -> writer thread
#   consumer  core wire store intake     librdkafka, applier, metrics
#   cli       everything                 one cmd_<name>() per command
# A public header belongs to the layer named for it in HEADERS below; a
# quoted include without "oplog/" must be a private header of the same
# folder. Third-party headers are held to the layer that wraps them
# (LIBS below). A new public header fails the check until it is given a
# layer here. Exit 1 with one line per breach, 0 when the tree is clean.
set -eu
cd "$(dirname "$0")/.."

HEADERS='
core error.h log.h config.h clock.h bytes.h version.h
wire entry.h
store store.h
gen gen.h
render json.h dump.h
intake intake.h
consumer applier.h httpd.h kafka.h lag.h metrics.h replay.h
'
ALLOWED='
core core
wire core wire
store core wire store
gen core wire gen
render core wire store render
intake core wire store intake
consumer core wire store intake consumer
'
# Third-party headers: the folders that may include each.
LIBS='
lmdb.h store cli
librdkafka/ consumer cli
microhttpd.h consumer
msgpack.h wire gen cli
openssl/ wire
systemd/ consumer
'

breaches=$(mktemp)
trap 'rm -f "$breaches"' EXIT
breach() {
	echo "layers: $1" >&2
	echo x >>"$breaches"
}

layer_of_header() {
	echo "$HEADERS" | awk -v h="$1" 'NF > 1 { for (i = 2; i <= NF; i++) if ($i == h) print $1 }'
}

allowed() {  # allowed FROM TO
	[ "$1" = cli ] && return 0
	echo "$ALLOWED" | awk -v f="$1" -v t="$2" '$1 == f { for (i = 2; i <= NF; i++) if ($i == t) ok = 1 } END { exit !ok }'
}

# Every source file and public header, each after its layer ("-": none).
files() {
	for dir in core wire store gen render intake consumer cli; do
		for f in "$dir"/*.c "$dir"/*.h; do
			[ -e "$f" ] && echo "$dir $f"
		done
	done
	for f in include/oplog/*.h; do
		l=$(layer_of_header "${f##*/}")
		echo "${l:--} $f"
	done
}

# check_include LAYER FILE LINE INCLUDE
check_include() {
	layer=$1 f=$2 n=$3 inc=$4
	name=$(echo "$inc" | tr -d '<>"')
	case $inc in
	'"oplog/'*)
		h=${name#oplog/}
		to=$(layer_of_header "$h")
		if [ -z "$to" ]; then
			breach "$f:$n: oplog/$h has no layer in scripts/check-layers.sh"
		elif ! allowed "$layer" "$to"; then
			breach "$f:$n: $layer/ may not use $to/ (oplog/$h)"
		fi ;;
	'"'*)
		[ -e "$(dirname "$f")/$name" ] ||
			breach "$f:$n: \"$name\" is not a header of $(dirname "$f")/" ;;
	'<'*)
		echo "$LIBS" | while read -r lib dirs; do
			[ -n "$lib" ] || continue
			case $name in "$lib"*) ;; *) continue ;; esac
			case " $dirs " in
			*" $layer "*) ;;
			*) breach "$f:$n: <$name> belongs to $dirs only" ;;
			esac
		done ;;
	esac
}

files | while read -r layer f; do
	if [ "$layer" = - ]; then
		breach "$f has no layer in scripts/check-layers.sh"
		continue
	fi
	grep -n '^#include' "$f" | while IFS= read -r line; do
		inc=$(echo "$line" | sed -n 's/.*#include *\([<"][^>"]*[>"]\).*/\1/p')
		check_include "$layer" "$f" "${line%%:*}" "$inc"
	done
done
[ ! -s "$breaches" ] || exit 1
echo "layers: every include is allowed by its layer"
