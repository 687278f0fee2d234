#!/bin/sh
# make demo: the store side of oplogd end to end, offline. A synthetic
# stream from 3 datasets x 4 nodes, with duplicates, late arrivals, forks
# and bad messages, is imported, verified and inspected. (The Kafka part
# of the demo arrives with the applier and the dev broker.)
set -eu
OPLOGD=${OPLOGD:-build/oplogd}
dir=$(mktemp -d "${TMPDIR:-/tmp}/oplogd-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
store="$dir/store"

step() { printf '\n== %s\n' "$*"; }

step "generate 20000 messages: 3 datasets x 4 nodes, 5% duplicates, 10% late, 1% bad, a few forks"
"$OPLOGD" gen --out "$dir/stream.bin" --framing lenpfx --datasets 3 --nodes 4 --count 20000 \
	--dup-rate 0.05 --late-rate 0.1 --bad-rate 0.01 --fork-rate 0.001 --seed 7

step "import it (length-prefixed framing keeps the bad messages separable)"
"$OPLOGD" import --store "$store" --framing lenpfx "$dir/stream.bin"

step "verify: every index and derived record agrees with the oplog"
"$OPLOGD" verify --store "$store"

step "stats"
"$OPLOGD" stats --store "$store"

step "heads of ds-0"
"$OPLOGD" heads --store "$store" --dataset ds-0

step "watermarks and gaps of ds-0"
"$OPLOGD" watermarks --store "$store" --dataset ds-0

step "one document: ds-0 c0/k1"
"$OPLOGD" doc --store "$store" --dataset ds-0 --col c0 --key k1 || true

step "forks of ds-0"
"$OPLOGD" forks --store "$store" --dataset ds-0

step "the last 5 rejected messages"
"$OPLOGD" rejects --store "$store" --limit 5

step "chain of node-0 in ds-0, backward from its head, 3 entries"
"$OPLOGD" chain --store "$store" --dataset ds-0 --node node-0 --limit 3
