#!/usr/bin/env bash
# BGP bench: time from Established until BIRD holds all of N announced prefixes, for edgelbd's
# own speaker and for GoBGP announcing the same prefixes to the same BIRD, plus the peak RSS
# (VmHWM) of both speakers, printed with ratios: edgelb's speaker is the edgelb-bgp process
# that edgelbd starts; the agent's own peak is printed beside it. Measures, asserts nothing.
#
#   +-- elb<id>n --------+          +-- elb<id>r --------------+          +-- elb<id>g ---------+
#   | edgelbd            |  veth    | bird: protocol edge (tE) |  veth    | gobgpd              |
#   | eN 192.0.2.2/24    |----------| eR 192.0.2.1  eS 198.51.100.1|---------| eG 198.51.100.2/24     |
#   +--------------------+          +--------------------------+          +---------------------+
#
# edgelbd gets N portless IPv4 services from one pool (its real allocator and speaker);
# GoBGP gets the same N /32s injected into its global RIB (gobgp mrt inject) before the peer
# is added. BENCH_SIZES overrides the sizes ("1000 10000 100000").
set -u
cd "$(dirname "$0")/../.."
: "${B:=build}"
B=$(realpath "$B")
SIZES=${BENCH_SIZES:-1000 10000 100000}
ID=$(printf '%x%03x' $$ $((RANDOM % 4096)))
NODE=elb${ID}n ROUTER=elb${ID}r GOBGP=elb${ID}g
DIR=$(mktemp -d /tmp/elb-bench-bgp-XXXXXX)
PIDS=()
DEADLINE_S=${BENCH_DEADLINE:-300}

for t in bird birdc gobgpd gobgp python3; do
	command -v "$t" >/dev/null || { echo "SKIP bgp bench: $t is not installed"; exit 0; }
done

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	PIDS=()
	for ns in "$NODE" "$ROUTER" "$GOBGP"; do ip netns del "$ns" 2>/dev/null || true; done
	while mountpoint -q "$DIR/bpffs" 2>/dev/null; do umount "$DIR/bpffs" || break; done
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now_ms() { date +%s%3N; }

topology() {
	for ns in "$NODE" "$ROUTER" "$GOBGP"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
	ip link add eN netns "$NODE" type veth peer name eR netns "$ROUTER"
	ip link add eG netns "$GOBGP" type veth peer name eS netns "$ROUTER"
	ip -n "$NODE" addr add 192.0.2.2/24 dev eN && ip -n "$NODE" link set eN up
	ip -n "$ROUTER" addr add 192.0.2.1/24 dev eR && ip -n "$ROUTER" link set eR up
	ip -n "$ROUTER" addr add 198.51.100.1/24 dev eS && ip -n "$ROUTER" link set eS up
	ip -n "$GOBGP" addr add 198.51.100.2/24 dev eG && ip -n "$GOBGP" link set eG up
}

bird_up() {
	cat >"$DIR/bird.conf" <<-EOF
	router id 192.0.2.1;
	timeformat protocol iso long ms;
	timeformat route iso long ms;
	protocol device { scan time 10; }
	ipv4 table tE;
	ipv4 table tG;
	protocol bgp edge {
		local 192.0.2.1 as 64512; neighbor 192.0.2.2 as 64513; connect retry time 1;
		ipv4 { table tE; import all; export none; };
	}
	protocol bgp gobgp {
		local 198.51.100.1 as 64512; neighbor 198.51.100.2 as 64514; connect retry time 1; passive;
		ipv4 { table tG; import all; export none; };
	}
	EOF
	ip netns exec "$ROUTER" bird -f -c "$DIR/bird.conf" -s "$DIR/bird.ctl" -P "$DIR/bird.pid" \
		>"$DIR/bird.out" 2>&1 &
	PIDS+=($!)
	wait_for 10 birdc -s "$DIR/bird.ctl" show status
}

# wait_for SECONDS CMD...: polls CMD every 20 ms until it succeeds or the deadline passes.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while ((SECONDS < deadline)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.02
	done
	return 1
}

bird_established() { birdc -s "$DIR/bird.ctl" show protocols "$1" | grep -q Established; }
bird_count() {
	birdc -s "$DIR/bird.ctl" show route count table "$1" | awk '/routes for/ { print $1; exit }'
}
bird_has_all() { [[ "$(bird_count "$1")" == "$2" ]]; }

# Time from Established until BIRD holds N routes in TABLE, both read from BIRD's own clock
# (the protocol's "since" and the newest route's import time); prints ms or FAIL.
measure() {
	local proto=$1 table=$2 n=$3
	wait_for "$DEADLINE_S" bird_established "$proto" || { echo FAIL FAIL; return; }
	wait_for "$DEADLINE_S" bird_has_all "$table" "$n" || { echo FAIL FAIL; return; }
	{
		birdc -s "$DIR/bird.ctl" show protocols "$proto"
		birdc -s "$DIR/bird.ctl" show route table "$table"
	} | python3 -c '
import re, sys, datetime
def ms(s):
    return datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f").timestamp() * 1000
t0, t1, tf = None, 0, None
for line in sys.stdin:
    m = re.search(r"\bup\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\s+Established", line)
    if m:
        t0 = ms(m.group(1))
    m = re.search(r"\[\S+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})", line)
    if m:
        t = ms(m.group(1))
        t1 = max(t1, t)
        tf = t if tf is None else min(tf, t)
# total, and when the first route arrived (the start-up share of the total)
print("%d %d" % (max(0, t1 - t0), max(0, tf - t0)) if t0 and tf is not None else "FAIL FAIL")
'
}

hwm_kb() { awk '/VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

edgelb_run() {
	local n=$1 conf="$DIR/node-$n.yaml" pid
	python3 - "$n" >"$conf" <<-'EOF'
	import sys
	n = int(sys.argv[1])
	print("node: {name: bench}")
	print("switches:\n  - {name: vSwitch1, interfaces: [eN], compute: true}")
	print("pools:\n  - {name: p1, addresses: [198.18.0.0/15], switch: vSwitch1}")
	print("bgpPeers: []")
	print("services:")
	for i in range(n):
	    print("  - {name: bench/s%d, ports: [tcp/80], pool: p1, ipFamily: ipv4}" % i)
	EOF
	mkdir -p "$DIR/state-$n" "$DIR/run-$n" "$DIR/bpffs"
	ip netns exec "$NODE" "$B/bin/edgelbd" --config "$conf" --state-dir "$DIR/state-$n" \
		--run-dir "$DIR/run-$n" --bpffs "$DIR/bpffs" --metrics none --log-level warn \
		--cleanup-on-exit >"$DIR/edgelbd-$n.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	export EDGELB_SOCKET="$DIR/run-$n/edgelb.sock"
	assigned() { [[ "$("$B/bin/edgelb" -o json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["servicesAssigned"])')" == "$n" ]]; }
	if ! wait_for "$DEADLINE_S" assigned; then
		echo "edgelb: $n services not assigned in time; log:" >&2
		tail -5 "$DIR/edgelbd-$n.log" >&2
		return
	fi
	"$B/bin/edgelb" bgp peer set --peer-address 192.0.2.1 --peer-asn 64512 --self-asn 64513 \
		--switch vSwitch1 --connect-time 1 >/dev/null
	read -r EDGE_MS EDGE_FIRST < <(measure edge tE "$n")
	EDGE_KB=$(hwm_kb "$(pgrep -P "$pid" -x edgelb-bgp)")
	AGENT_KB=$(hwm_kb "$pid")
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	wait_for 20 bash -c "! birdc -s $DIR/bird.ctl show protocols edge | grep -q Established"
}

gobgp_run() {
	local n=$1 pid mrt="$DIR/rib-$n.mrt"
	python3 - "$n" "$mrt" <<-'EOF'
	# MRT TABLE_DUMP_V2 (RFC 6396): a peer index table, then one RIB_IPV4_UNICAST per prefix
	import ipaddress, struct, sys
	n, path = int(sys.argv[1]), sys.argv[2]
	def rec(sub, body):
	    return struct.pack("!IHHI", 0, 13, sub, len(body)) + body
	peer = struct.pack("!BI4sI", 2, 0xc6336402, bytes([198, 51, 100, 2]), 64514)
	out = [rec(1, struct.pack("!IH", 0xc6336402, 0) + struct.pack("!H", 1) + peer)]
	attrs = (bytes([0x40, 1, 1, 0]) + bytes([0x40, 2, 6, 2, 1]) + struct.pack("!I", 64514)
	         + bytes([0x40, 3, 4, 198, 51, 100, 2]))
	base = int(ipaddress.IPv4Address("198.18.0.0"))
	for i in range(n):
	    ip = struct.pack("!I", base + i)
	    entry = struct.pack("!HIH", 0, 0, len(attrs)) + attrs
	    out.append(rec(2, struct.pack("!IB", i, 32) + ip + struct.pack("!H", 1) + entry))
	open(path, "wb").write(b"".join(out))
	EOF
	cat >"$DIR/gobgpd.toml" <<-EOF
	[global.config]
	  as = 64514
	  router-id = "198.51.100.2"
	  port = -1
	EOF
	ip netns exec "$GOBGP" gobgpd -f "$DIR/gobgpd.toml" -t toml --api-hosts 127.0.0.1:50077 \
		-l warn >"$DIR/gobgpd-$n.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	g() { ip netns exec "$GOBGP" gobgp -p 50077 "$@"; }
	wait_for 20 g global rib summary
	# `gobgp mrt inject` can end its stream before the daemon took every route: inject again
	# from where the table stops (arguments: file, count, skip), a bounded number of times
	local have=0 k
	for ((k = 0; k < 20000 && have < n && SECONDS < DEADLINE_S * 4; k++)); do
		g mrt inject global "$mrt" $((n - have)) "$have" >/dev/null 2>&1
		have=$(g global rib summary | awk -F'[ ,]+' '/Destination:/ { print $2 }')
		have=${have:-0}
	done
	echo "gobgp: $have of $n routes in the global RIB after $k injections" >&2
	g neighbor add 198.51.100.1 as 64512
	read -r GOBGP_MS GOBGP_FIRST < <(measure gobgp tG "$n")
	GOBGP_KB=$(hwm_kb "$pid")
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	wait_for 20 bash -c "! birdc -s $DIR/bird.ctl show protocols gobgp | grep -q Established"
}

ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.2f' % (a / b) if b else 'n/a')" "$1" "$2"; }

topology
bird_up
printf '%-8s %12s %12s %8s %12s %12s %8s %14s %14s %14s\n' prefixes edgelb_ms gobgp_ms time_x edgelb_rss_kb gobgp_rss_kb rss_x edgelb_first_ms gobgp_first_ms agent_rss_kb
for n in $SIZES; do
	EDGE_MS=FAIL EDGE_KB=0 GOBGP_MS=FAIL GOBGP_KB=0 EDGE_FIRST=- GOBGP_FIRST=- AGENT_KB=0
	edgelb_run "$n"
	gobgp_run "$n"
	if [[ $EDGE_MS == FAIL || $GOBGP_MS == FAIL ]]; then
		printf '%-8s %12s %12s %8s %12s %12s %8s %14s %14s %14s\n' "$n" "$EDGE_MS" "$GOBGP_MS" n/a "$EDGE_KB" "$GOBGP_KB" n/a "$EDGE_FIRST" "$GOBGP_FIRST" "$AGENT_KB"
		continue
	fi
	printf '%-8s %12s %12s %8s %12s %12s %8s %14s %14s %14s\n' "$n" "$EDGE_MS" "$GOBGP_MS" \
		"$(ratio "$EDGE_MS" "$GOBGP_MS")" "$EDGE_KB" "$GOBGP_KB" "$(ratio "$EDGE_KB" "$GOBGP_KB")" \
		"$EDGE_FIRST" "$GOBGP_FIRST" "$AGENT_KB"
done
echo "time_x = edgelb time / GoBGP time (goal <= 0.25 at 100000); rss_x = edgelb peak RSS / GoBGP peak RSS (goal <= 0.05)"
echo "edgelb_rss_kb: the speaker process (edgelb-bgp, sessions and adj-RIB-out); agent_rss_kb: edgelbd itself (allocator, dataplane loader, layer 2, the routes it feeds the speaker)"
echo "*_first_ms: Established until the first route arrived (time the speaker's process spent elsewhere)"
