#!/bin/sh
# Install the Debian packages oplogd needs to build, test and run its demo.
# Idempotent: when every package is present it does nothing and exits 0.
# Needs root (or sudo) only when something is missing.
set -eu

PKGS="build-essential pkg-config liblmdb-dev lmdb-utils librdkafka-dev
libmsgpack-dev check libssl-dev libjansson-dev
libmicrohttpd-dev kcat jq openjdk-17-jre-headless nodejs clang
python3 python3-kafka python3-lmdb curl openssl mount
debhelper dpkg-dev groff-base man-db systemd
libsystemd-dev"
# The status page test and the demo's screenshot: headless Chromium.
PKGS="$PKGS chromium"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: missing packages:$missing (run as root or install sudo)" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
