#!/usr/bin/env bash
# Layer-2 bench: ARP replies per second from the XDP responder (the real xdp_ingress), from the
# kernel answering for an address it owns, and from a userspace AF_PACKET responder (MetalLB's
# approach), under the same flood (BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES), printed
# as ratios. Goal: XDP >= 5x the kernel and >= 10x userspace. Asserts nothing.
# CPU layout: the generator runs on CPU 0; the responder side (the veth's NAPI, made threaded
# and pinned, and the AF_PACKET process) runs on CPU 1, so each responder gets one CPU and is
# offered more than it can answer. On a one-CPU machine both share it (said in the output).
# A floor run (bench_reflect: flip the opcode, XDP_TX) measures the veth pipeline alone; the
# cost of each responder per reply is 1/rate - 1/floor, printed in ns and as ratios too. The
# round trip of a cache line between the two CPUs is printed with every round (lib/cpu.sh).
#
#   +-- elb<id>g (generator) ---------+        +-- elb<id>r (responder) --------------+
#   |  bench_tx floods, bench_count   |        |  xdp_ingress | kernel | AF_PACKET    |
#   |  counts replies on gA ----------+--veth--+- rA  192.0.2.1/24 (kernel case only) |
#   +---------------------------------+        +--------------------------------------+
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib/cpu.sh
B=$(realpath "${B:-build}")
TOOL="$B/tests/bench/bench_xdp_live"
SECS=${L2_BENCH_SECONDS:-2}
ID=$(printf '%x' $$)
G="elb${ID}g" R="elb${ID}r"
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$G" 2>/dev/null || true
	ip netns del "$R" 2>/dev/null || true
}
trap cleanup EXIT

if [[ ! -x $TOOL || ! -x $B/tests/bench/bench_xcpu ]]; then
	echo "l2 bench: $TOOL or bench_xcpu missing (make bench builds them)"
	exit 1
fi
ip netns add "$G"
ip netns add "$R"
ip -n "$G" link set lo up
ip -n "$R" link set lo up
ip link add gA netns "$G" type veth peer name rA netns "$R"
ip -n "$G" link set gA up
ip -n "$R" link set rA up
cpu_split "$R" rA 1

# responder ROLE: starts it in the background in R (bounded: SECS + 3 s), waits for "ready".
start_responder() {
	local out=$1 role=$2
	: >"$out"
	if [[ $role == reflect ]]; then
		ip netns exec "$R" "${NODE_CPU[@]}" "$TOOL" reflect rA $((SECS + 3)) >"$out" 2>&1 &
	else
		ip netns exec "$R" "${NODE_CPU[@]}" "$TOOL" "$role" rA 192.0.2.100 $((SECS + 3)) \
			>"$out" 2>&1 &
	fi
	PIDS+=($!)
	local deadline=$((SECONDS + 10))
	until grep -q ready "$out"; do
		((SECONDS < deadline)) || { cat "$out"; return 1; }
		sleep 0.1
	done
}

flood() { # TARGET -> prints replies per second
	local out
	pin_napi
	out=$(ip netns exec "$G" "${GEN_CPU[@]}" "$TOOL" gen gA 192.0.2.2 "$1" "$SECS")
	echo "   $out" >&2
	sed -n 's/.*replies_per_s=\([0-9]*\).*/\1/p' <<<"$out"
}

tmp=$(mktemp -d)
ROUNDS=${L2_BENCH_ROUNDS:-3}
echo "flood: ${SECS} s per responder, $ROUNDS rounds (medians), live frames from $G; $(cpu_layout)"

# one_round: floor, XDP, kernel, userspace in turn; appends each rate to its list.
FLOORS=() XDPS=() KERNS=() USERS=()
one_round() {
	echo "-- floor: bench_reflect (opcode flip, XDP_TX)"
	start_responder "$tmp/floor" reflect
	FLOORS+=("$(flood 192.0.2.100)")
	wait "${PIDS[-1]}" || true

	echo "-- xdp_ingress (native XDP on rA)"
	start_responder "$tmp/xdp" xdp
	XDPS+=("$(flood 192.0.2.100)")
	wait "${PIDS[-1]}" || true
	cat "$tmp/xdp"

	echo "-- kernel (192.0.2.1 on rA, pass-through XDP so veth delivers)"
	ip -n "$R" link set dev rA xdp obj "$B/bpf/xdp_pass.bpf.o" sec xdp
	ip -n "$R" addr add 192.0.2.1/24 dev rA
	KERNS+=("$(flood 192.0.2.1)")
	ip -n "$R" addr del 192.0.2.1/24 dev rA

	echo "-- userspace AF_PACKET responder"
	start_responder "$tmp/pkt" packet
	USERS+=("$(flood 192.0.2.100)")
	wait "${PIDS[-1]}" || true
	cat "$tmp/pkt"
	ip -n "$R" link set dev rA xdp off
}

median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

RTTS=()
for ((round = 1; round <= ROUNDS; round++)); do
	RTTS+=("$(xcpu_rtt)")
	echo "== round $round (CPU 0 <-> CPU 1 cache-line round trip ${RTTS[-1]} ns)"
	one_round
done
RTTS+=("$(xcpu_rtt)")
echo "-- xdp_ingress again with BPF run-time statistics (cost per run; slows the run itself)"
start_responder "$tmp/xdps" xdp-stats
flood 192.0.2.100 >/dev/null
wait "${PIDS[-1]}" || true
cat "$tmp/xdps"
xdp_ns=$(sed -n 's/.*prog_ns_per_run=\([0-9.]*\).*/\1/p' "$tmp/xdps")
rm -rf "$tmp"
floor=$(median "${FLOORS[@]}") xdp=$(median "${XDPS[@]}")
kern=$(median "${KERNS[@]}") user=$(median "${USERS[@]}")
echo "rounds: floor ${FLOORS[*]}; xdp ${XDPS[*]}; kernel ${KERNS[*]}; userspace ${USERS[*]}"
echo "CPU 0 <-> CPU 1 cache-line round trip before each round and after the last: ${RTTS[*]} ns"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "inf" }'; }
cost() { awk -v r="$1" -v f="$floor" 'BEGIN { if (r > 0 && f > 0) printf "%.0f", 1e9 / r - 1e9 / f; else print 0 }'; }
echo
printf '%-28s %12s %22s\n' "responder (median)" "replies/s" "ns/reply above floor"
printf '%-28s %12s %22s\n' "floor (opcode flip)" "$floor" "0"
printf '%-28s %12s %22s\n' "xdp_ingress (XDP)" "$xdp" "${xdp_ns:-?} (BPF stats)"
printf '%-28s %12s %22s\n' "kernel (owns the address)" "$kern" "$(cost "$kern")"
printf '%-28s %12s %22s\n' "userspace AF_PACKET" "$user" "$(cost "$user")"
echo "end to end:   xdp/kernel = $(ratio "$xdp" "$kern")x (goal >= 5x); xdp/userspace = $(ratio "$xdp" "$user")x (goal >= 10x)"
echo "per reply:    kernel/xdp = $(ratio "$(cost "$kern")" "${xdp_ns:-0}")x; userspace/xdp = $(ratio "$(cost "$user")" "${xdp_ns:-0}")x (xdp: BPF run-time stats; others: cost above the floor)"
