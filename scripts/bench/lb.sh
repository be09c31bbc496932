#!/usr/bin/env bash
# Load-balancer bench: packets per second through the node from a client to one backend behind
# VIP 192.0.2.100:80/udp, with (1) edgelbd's XDP fast path, (2) an nftables DNAT rule, (3)
# kube-proxy-style iptables chains (KUBE-SERVICES with 100 other services ahead, KUBE-SVC,
# KUBE-SEP, DNAT), same topology and run; then the per-packet cost of a conntrack hit through
# BPF_PROG_TEST_RUN (tests/bench/bench_lb cthit), in one flow and among 8,192, 32,768 and
# 64,512, IPv4 and IPv6. A floor run (bench_fwd: redirect with no lookup) gives the cost of the
# pipeline itself. Every round runs the four back to back; ratios are taken within a round and their
# median printed; asserts nothing.
# Goals (issue 6): XDP >= 4x nftables, >= 6x iptables; conntrack hit <= 100 ns.
# The generator is BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES (one UDP 5-tuple, or the
# source port taking many values). Where it and the node run (scripts/bench/lib/cpu.sh),
# LB_BENCH_CPUS:
#   1 (default): both on CPU 1; nA's NAPI runs in the generator's softirq after each batch, so
#     nearly every frame sent is forwarded (a rate is the generator's and the node's work
#     together: the generator's share, in the floor, lowers every ratio) and no frame crosses
#     between CPUs;
#   2: the generator on CPU 0, nA's NAPI threaded and pinned to CPU 1, offered more than it
#     forwards; every frame crosses between the CPUs and its page comes back, so the rates move
#     with the round trip of a cache line between them, which on this VM changes between spells
#     from about 70 ns to 370 ns and more (see README).
# The round trip is printed before each round and after the last in both layouts.
# The sink drops in XDP on the backend's veth; delivered packets are read from its xdp_drops
# counter.
#
#   +-- elb<id>g ---+        +-- elb<id>n (node) ----------------+        +-- elb<id>p -----+
#   | bench_lb gen  |--veth--| nA 192.0.2.1  (xdp_ingress |      |--veth--| pB 198.51.100.2 |
#   | gA 192.0.2.2  |        |  nft | iptables) nB 198.51.100.1  |        | bench_sink      |
#   +---------------+        +-----------------------------------+        +-----------------+
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib/cpu.sh
B=$(realpath "${B:-build}")
TOOL="$B/tests/bench/bench_lb"
CPUS=${LB_BENCH_CPUS:-1}
if [[ $CPUS != 1 && $CPUS != 2 ]]; then
	echo "lb bench: LB_BENCH_CPUS must be 1 or 2, not '$CPUS'"
	exit 2
fi
# packets per run: in layout 1 each is forwarded (a run takes COUNT / rate), in 2 most are not
COUNT=${LB_BENCH_PACKETS:-$((CPUS == 1 ? 2000000 : 5000000))}
WARM=$((COUNT / 5)) # warm-up packets before each measured run (more than 64,512)
# workloads: one UDP 5-tuple (every packet a conntrack hit in a hot cache), and the source port
# taking 64,512 values (conntrack working sets larger than the CPU caches): in order for the
# first pass, which makes the entries, then scrambled (bench_lb.bpf.c: flow_stride), so that,
# as in real traffic, packets in a row do not meet entries in the order they lie in memory
read -ra FLOWS <<<"${LB_BENCH_FLOWS:-1 64512}"
ROUNDS=${LB_BENCH_ROUNDS:-3} # rounds of every approach and workload; medians are kept
ID=$(printf '%x' $$)
G="elb${ID}g" N="elb${ID}n" P="elb${ID}p"
DIR=$(mktemp -d /tmp/elb-lbbench-XXXXXX)
AGENT= FWD=

cleanup() {
	[[ -z $FWD ]] || kill "$FWD" 2>/dev/null || true
	if [[ -n $AGENT ]]; then
		kill "$AGENT" 2>/dev/null || true
		wait "$AGENT" 2>/dev/null || true
	fi
	ip netns del "$G" 2>/dev/null || true
	ip netns del "$N" 2>/dev/null || true
	ip netns del "$P" 2>/dev/null || true
	while mountpoint -q "$DIR/bpffs" 2>/dev/null; do umount "$DIR/bpffs" || break; done
	rm -rf "$DIR"
}
trap cleanup EXIT

for f in "$TOOL" "$B/bin/edgelbd" "$B/bpf/bench_sink.bpf.o" "$B/tests/bench/bench_xcpu"; do
	[[ -e $f ]] || { echo "lb bench: $f missing (make bench builds it)"; exit 1; }
done
for ns in "$G" "$N" "$P"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip link add gA netns "$G" type veth peer name nA netns "$N"
ip link add nB netns "$N" type veth peer name pB netns "$P"
ip -n "$G" link set gA up
ip -n "$N" link set nA up
ip -n "$N" link set nB up
ip -n "$P" link set pB up
ip -n "$G" addr add 192.0.2.2/24 dev gA
ip -n "$N" addr add 192.0.2.1/24 dev nA
ip -n "$N" addr add 198.51.100.1/24 dev nB
ip -n "$P" addr add 198.51.100.2/24 dev pB
ip netns exec "$N" sysctl -qw net.ipv4.ip_forward=1
if ((CPUS == 1)); then
	cpu_shared "$N" nA
else
	cpu_split "$N" nA 1
fi
echo "$(cpu_layout); $COUNT packets per run after $WARM to warm up, $ROUNDS rounds"
PB_MAC=$(ip -n "$P" -j link show dev pB | jq -r '.[0].address')
NA_MAC=$(ip -n "$N" -j link show dev nA | jq -r '.[0].address')
ip -n "$N" neigh replace 198.51.100.2 lladdr "$PB_MAC" dev nB nud permanent
ip -n "$P" link set dev pB xdp obj "$B/bpf/bench_sink.bpf.o" sec xdp

delivered() {
	ip netns exec "$P" ethtool -S pB | awk '/xdp_drops/ {s += $2} END {print s + 0}'
}

# run1 FLOWS COUNT: one generator run of COUNT packets; prints the delivered packets per second.
run1() {
	local before after prev out secs deadline
	before=$(delivered)
	pin_napi
	out=$(ip netns exec "$G" "${GEN_CPU[@]}" "$TOOL" gen gA "$NA_MAC" 192.0.2.2 192.0.2.100 80 \
		"$2" "$1")
	secs=$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$out")
	grep -o 'frame_offset=.*' <<<"$out" >"$DIR/frames" # run1 runs in a subshell
	# the node may still drain its rings: poll until the count stops moving (3 s at most)
	deadline=$((SECONDS + 3))
	prev=-1
	after=$(delivered)
	while ((after != prev && SECONDS < deadline)); do
		prev=$after
		sleep 0.1
		after=$(delivered)
	done
	awk -v d=$((after - before)) -v s="$secs" 'BEGIN {printf "%.0f %d %.3f\n", d / s, d, s}'
}

# Each approach has an _on and an _off step; a round runs every approach back to back, so a
# change in the machine's speed between rounds (this VM has slow spells) weighs on all of them
# alike, and the ratios are taken within a round.
# 0. the floor: bench_fwd redirects to the backend with no lookup at all (the generator, the
# veths and the sink cost this much); each approach's own cost per packet is 1/rate - 1/floor
floor_on() {
	ip netns exec "$N" "$TOOL" fwd nA nB "$PB_MAC" 120 >"$DIR/fwd.out" 2>&1 &
	FWD=$!
	local deadline=$((SECONDS + 10))
	until grep -qs ready "$DIR/fwd.out"; do
		((SECONDS < deadline)) || { cat "$DIR/fwd.out"; exit 1; }
		sleep 0.1
	done
}
floor_off() {
	kill "$FWD" 2>/dev/null || true
	wait "$FWD" 2>/dev/null || true
	FWD=
	rm -f "$DIR/fwd.out"
	ip -n "$N" link set dev nA xdp off 2>/dev/null || true
}

# 1. XDP: edgelbd programs the service; explain confirms the redirect before measuring
mkdir -p "$DIR/state" "$DIR/run" "$DIR/bpffs"
cat >"$DIR/node.yaml" <<YAML
node: {name: bench}
switches:
  - name: vSwitch1
    interfaces: [nA]
    compute: true
pools:
  - name: p1
    addresses: [192.0.2.100/32]
bgpPeers: []
services:
  - name: bench/udp
    ports: ["udp/80"]
    pool: p1
    backends: ["198.51.100.2:8080"]
YAML
export EDGELB_SOCKET="$DIR/run/edgelb.sock"
xdp_on() {
	nsenter --net="/run/netns/$N" "$B/bin/edgelbd" --config "$DIR/node.yaml" \
		--state-dir "$DIR/state" --run-dir "$DIR/run" --bpffs "$DIR/bpffs" --metrics none \
		--cleanup-on-exit >"$DIR/edgelbd.log" 2>&1 &
	AGENT=$!
	local deadline=$((SECONDS + 15))
	until "$B/bin/edgelb" -o json explain --src 192.0.2.2:12345 --dst 192.0.2.100:80 \
		--proto udp 2>/dev/null | jq -e '.action == "XDP_REDIRECT"' >/dev/null; do
		((SECONDS < deadline)) || { echo "lb bench: service not programmed"; cat "$DIR/edgelbd.log"; exit 1; }
		sleep 0.2
	done
}
xdp_off() {
	kill "$AGENT"
	wait "$AGENT" 2>/dev/null || true
	AGENT=
}

# 2. nftables DNAT
nft_on() {
	ip netns exec "$N" nft -f - <<'NFT'
table ip elbbench {
	chain pre {
		type nat hook prerouting priority dstnat;
		ip daddr 192.0.2.100 udp dport 80 dnat to 198.51.100.2:8080
	}
}
NFT
}
nft_off() { ip netns exec "$N" nft delete table ip elbbench; }

# 3. kube-proxy-style iptables: the chains kube-proxy's iptables mode (v1.27 and later) keeps
# for a LoadBalancer service with externalTrafficPolicy Cluster and one endpoint, behind 100
# other services in KUBE-SERVICES: nat PREROUTING -> KUBE-SERVICES -> KUBE-EXT (mark for
# masquerade) -> KUBE-SVC -> KUBE-SEP (DNAT); nat POSTROUTING -> KUBE-POSTROUTING (masquerade
# marked traffic); filter FORWARD -> KUBE-PROXY-FIREWALL, KUBE-FORWARD, KUBE-SERVICES,
# KUBE-EXTERNAL-SERVICES. The nat chains see the first packet of a flow; the filter chains
# every packet.
{
	echo "*nat"
	for c in KUBE-SERVICES KUBE-POSTROUTING KUBE-MARK-MASQ KUBE-NODEPORTS KUBE-EXT-BENCH \
		KUBE-SVC-BENCH KUBE-SEP-BENCH1; do
		echo ":$c - [0:0]"
	done
	echo "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"
	echo "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING"
	echo "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN"
	echo "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0"
	echo "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully"
	for i in $(seq 1 100); do
		echo "-A KUBE-SERVICES -d 203.0.113.$i/32 -p tcp -m comment --comment \"ns/svc$i cluster IP\" -m tcp --dport 80 -j KUBE-SVC-BENCH"
	done
	echo "-A KUBE-SERVICES -d 192.0.2.100/32 -p udp -m comment --comment \"bench/udp loadbalancer IP\" -m udp --dport 80 -j KUBE-EXT-BENCH"
	echo "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"
	echo "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"
	echo "-A KUBE-EXT-BENCH -m comment --comment \"masquerade traffic for bench/udp external destinations\" -j KUBE-MARK-MASQ"
	echo "-A KUBE-EXT-BENCH -j KUBE-SVC-BENCH"
	echo "-A KUBE-SVC-BENCH -m comment --comment \"bench/udp -> 198.51.100.2:8080\" -m statistic --mode random --probability 1.0 -j KUBE-SEP-BENCH1"
	echo "-A KUBE-SEP-BENCH1 -s 198.51.100.2/32 -m comment --comment bench/udp -j KUBE-MARK-MASQ"
	echo "-A KUBE-SEP-BENCH1 -p udp -m comment --comment bench/udp -m udp -j DNAT --to-destination 198.51.100.2:8080"
	echo "COMMIT"
	echo "*filter"
	for c in KUBE-PROXY-FIREWALL KUBE-FORWARD KUBE-SERVICES KUBE-EXTERNAL-SERVICES; do
		echo ":$c - [0:0]"
	done
	echo "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL"
	echo "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD"
	echo "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"
	echo "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES"
	echo "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP"
	echo "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT"
	echo "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
	echo "COMMIT"
} >"$DIR/ipt.rules"
ipt_on() { ip netns exec "$N" iptables-restore <"$DIR/ipt.rules"; }
ipt_off() {
	for t in nat filter; do
		ip netns exec "$N" iptables -t $t -F
		ip netns exec "$N" iptables -t $t -X
	done
}

APPROACHES=(floor xdp nft ipt)
declare -A NAME=([floor]="floor (redirect, no lookup)" [xdp]="xdp (edgelb)" [nft]="nftables dnat"
	[ipt]="iptables (kube-proxy style)")
# RATES[approach flows] = the rates of the rounds, space-separated
declare -A RATES
RTTS=()
for ((k = 1; k <= ROUNDS; k++)); do
	RTTS+=("$(xcpu_rtt)")
	echo "round $k: CPU 0 <-> CPU 1 cache-line round trip ${RTTS[-1]} ns"
	for a in "${APPROACHES[@]}"; do
		"${a}_on"
		for f in "${FLOWS[@]}"; do
			# warm-up, not counted: every flow gets its conntrack entry (nf_conntrack or
			# edgelb's) before the measured run, which then sees hits only
			run1 "$f" "$WARM" >/dev/null
			read -r rate d secs <<<"$(run1 "$f" "$COUNT")"
			printf 'round %d, %s, %d flows: sent %d in %s s, delivered %d, %s pps\n' "$k" \
				"${NAME[$a]}" "$f" "$COUNT" "$secs" "$d" "$rate"
			RATES[$a $f]+="$rate "
		done
		"${a}_off"
	done
done

RTTS+=("$(xcpu_rtt)")
CT=$(B="$B" "$TOOL" cthit 2000000 8192 32768 64512)
for f in "${FLOWS[@]}"; do
	echo
	awk -v w="$f" -v fl="${RATES[floor $f]}" -v xs="${RATES[xdp $f]}" -v ns="${RATES[nft $f]}" \
		-v is="${RATES[ipt $f]}" '
	function med(a, n,    i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return a[int((n + 1) / 2)]
	}
	BEGIN {
		n = split(fl, F); split(xs, X); split(ns, N); split(is, I)
		for (k = 1; k <= n; k++) { rn[k] = N[k] ? X[k] / N[k] : 0; ri[k] = I[k] ? X[k] / I[k] : 0 }
		f = med(F, n); x = med(X, n); m = med(N, n); i = med(I, n)
		printf "%d flows (medians of %d rounds): pps through the node: xdp %.0f, nftables dnat %.0f, iptables kube-proxy %.0f (floor %.0f)\n", w, n, x, m, i, f
		printf "ratio of rates (median of the rounds'"'"' ratios): xdp/nftables %.2fx (goal >= 4x), xdp/iptables %.2fx (goal >= 6x)\n", med(rn, n), med(ri, n)
		if (f > 0 && x > 0 && m > 0 && i > 0) {
			cx = 1e9 / x - 1e9 / f; cn = 1e9 / m - 1e9 / f; ci = 1e9 / i - 1e9 / f
			printf "node cost per packet beyond the floor: xdp %.0f ns, nftables %.0f ns, iptables %.0f ns\n", cx, cn, ci
			if (cx > 0)
				printf "ratio of costs: nftables/xdp %.1fx, iptables/xdp %.1fx\n", cn / cx, ci / cx
		}
	}'
done
echo
echo "CPU 0 <-> CPU 1 cache-line round trip before each round and after the last: ${RTTS[*]} ns"
echo "generator's frames (bytes into their page; moved back to a cache line's start by): $(cat "$DIR/frames")"
echo "per packet via BPF_PROG_TEST_RUN with repeat: $CT"
awk -v l="$CT" 'function val(k) { return match(l, k "=[0-9.]+") ? substr(l, RSTART + length(k) + 1, RLENGTH - length(k) - 1) + 0 : -1 }
	BEGIN { v = val("ct_hit_ns")
	printf "conntrack hit %.1f ns per packet (goal <= 100 ns): %s; among 64,512 flows %.1f ns; IPv6 %.1f ns, among 64,512 flows %.1f ns\n", v, (v <= 100 ? "met" : "missed"), val("ct_hit_64512_flows_ns"), val("ct_hit6_ns"), val("ct_hit6_64512_flows_ns") }'
