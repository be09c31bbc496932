#!/usr/bin/env bash
# make bench: runs every scripts/bench/*.sh in turn. Benchmarks measure and print ratios against
# the peers (kernel, userspace responders, iptables/nftables, GoBGP); they assert nothing.
set -u
cd "$(dirname "$0")/.."
B=$(realpath "${B:-build}")
export B
rc=0
for s in scripts/bench/*.sh; do
	[[ -e $s ]] || continue
	echo "== $(basename "$s" .sh)"
	bash "$s" || { echo "bench $(basename "$s"): exited with $?"; rc=1; }
	echo
done
exit $rc
