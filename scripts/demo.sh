#!/usr/bin/env bash
# make demo: builds a small network in namespaces and shows edgelb announcing and serving a
# service. make demo-down (or leaving the demo) removes everything it made.
#
#   client (elbd<id>c)          router (elbd<id>r)              node (elbd<id>n)
#   192.0.2.10  c0 ---------- br0 192.0.2.1, BIRD AS64512 ---- eth1 192.0.2.2, edgelbd AS64513
#   2001:db8:1::10                                               |  p1,p2,p3
#                                                   pods elbd<id>1..3 198.51.100.{2,6,10} :80
#                                                   (in the cgroup <cgroup2>/elbd<id>pods: hairpin)
set -u
cd "$(dirname "$0")/.."
B=$(realpath "${B:-build}")
RUN=demo-run
STATE=$RUN/ids

down() {
	local id pid
	[[ -f $STATE ]] || { echo "demo: nothing to tear down"; return 0; }
	id=$(cat "$STATE")
	for pid in $(cat "$RUN"/*.pid 2>/dev/null); do kill "$pid" 2>/dev/null; done
	sleep 0.5
	for pid in $(cat "$RUN"/*.pid 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
	for ns in c r n 1 2 3; do ip netns del "elbd${id}$ns" 2>/dev/null; done
	[[ ! -f $RUN/cgroup ]] || rmdir "$(cat "$RUN/cgroup")" 2>/dev/null
	while mountpoint -q "$RUN/bpffs" 2>/dev/null; do umount "$RUN/bpffs" || break; done
	rm -rf "$RUN"
	echo "demo: torn down"
}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
in_ns() { ip netns exec "$@"; }

up() {
	[[ -f $STATE ]] && down
	mkdir -p "$RUN"/{state,run,bpffs,bird}
	id=$(printf '%x' $$)
	echo "$id" >"$STATE"
	C=elbd${id}c R=elbd${id}r N=elbd${id}n
	trap 'down' EXIT
	export EDGELB_SOCKET=$RUN/run/edgelb.sock
	EL="$B/bin/edgelb"

	step "topology: client, router (bridge + BIRD), node (edgelbd), three pods"
	for ns in $C $R $N; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
	ip -n "$R" link add br0 type bridge && ip -n "$R" link set br0 up
	ip -n "$R" addr add 192.0.2.1/24 dev br0 && ip -n "$R" addr add 2001:db8:1::1/64 dev br0 nodad
	ip link add c0 netns "$C" type veth peer name rc netns "$R"
	ip link add eth1 netns "$N" type veth peer name rn netns "$R"
	for p in rc rn; do ip -n "$R" link set "$p" master br0 up; done
	ip -n "$C" link set c0 up && ip -n "$C" addr add 192.0.2.10/24 dev c0 && ip -n "$C" addr add 2001:db8:1::10/64 dev c0 nodad
	ip -n "$N" link set eth1 up && ip -n "$N" addr add 192.0.2.2/24 dev eth1 && ip -n "$N" addr add 2001:db8:1::2/64 dev eth1 nodad
	# replies built with XDP_TX must land on an XDP-enabled peer (see DESIGN.md)
	ip -n "$R" link set rn xdp obj "$B/bpf/xdp_pass.bpf.o" sec xdp
	in_ns "$N" sysctl -qw net.ipv4.ip_forward=1
	for i in 1 2 3; do
		P=elbd${id}$i
		ip netns add "$P" && ip -n "$P" link set lo up
		ip link add "p$i" netns "$N" type veth peer name eth0 netns "$P"
		ip -n "$N" addr add "198.51.100.$((4 * i - 3))/30" dev "p$i" && ip -n "$N" link set "p$i" up
		ip -n "$P" addr add "198.51.100.$((4 * i - 2))/30" dev eth0 && ip -n "$P" link set eth0 up
		ip -n "$P" route add default via "198.51.100.$((4 * i - 3))"
		ip -n "$P" link set eth0 xdp obj "$B/bpf/xdp_pass.bpf.o" sec xdp
		in_ns "$P" ethtool -K eth0 tx off >/dev/null 2>&1
		# a bounded backend that answers HTTP GET with its name (tests/tools/elb_echo.c)
		ip netns exec "$P" "$B/tests/tools/elb_echo" "pod$i" 80 3600 >/dev/null 2>&1 &
		echo $! >"$RUN/pod$i.pid"
	done
	in_ns "$C" ethtool -K c0 tx off >/dev/null 2>&1

	# hairpin: the pods' cgroup (a cgroup v2 directory of its own) goes into the node's config
	CONF=scripts/demo/node.yaml CG=
	CG_MNT=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	if [[ -n $CG_MNT ]] && mkdir "$CG_MNT/elbd${id}pods" 2>/dev/null; then
		CG=$CG_MNT/elbd${id}pods
		echo "$CG" >"$RUN/cgroup"
		CONF=$RUN/node.yaml
		sed "s|^  name: demo-node$|&\n  hairpinCgroup: $CG|" scripts/demo/node.yaml >"$CONF"
	fi

	step "edgelbd starts in the node namespace with $CONF"
	nsenter --net="/run/netns/$N" "$B/bin/edgelbd" --config "$CONF" --state-dir "$RUN/state" \
		--run-dir "$RUN/run" --bpffs "$RUN/bpffs" --metrics 127.0.0.1:7472 >"$RUN/edgelbd.log" 2>&1 &
	echo $! >"$RUN/edgelbd.pid"
	for _ in $(seq 50); do "$EL" status >/dev/null 2>&1 && break; sleep 0.1; done
	show "$EL" status
	show "$EL" switch list

	step "a service of type LoadBalancer with three backends gets an IPv4 and an IPv6 address"
	show "$EL" service set default/web --ports tcp/80 --ip-family dual \
		--backends 198.51.100.2:80,198.51.100.6:80,198.51.100.10:80
	show "$EL" service list
	VIP=$("$EL" -o json service show default/web | jq -r '.ips[] | select(contains(".")) ')
	VIP6=$("$EL" -o json service show default/web | jq -r '.ips[] | select(contains(":")) ')

	step "layer 2: the client resolves the VIPs to the node's MAC (answered from XDP)"
	echo "node eth1 MAC: $(ip -n "$N" -j link show eth1 | jq -r '.[0].address')"
	show in_ns "$C" arping -c 2 -w 3 -I c0 "$VIP"
	show in_ns "$C" ndisc6 -n -r 2 -w 1000 "$VIP6" c0

	step "fast path: curl from the client to http://$VIP/ reaches all three pods"
	for i in $(seq 30); do in_ns "$C" curl -s --max-time 2 "http://$VIP/"; echo; done | grep . | sort | uniq -c
	show "$EL" stats

	if [[ -n $CG ]]; then
		step "hairpin: pod 1, in the pods' cgroup, reaches http://$VIP/ through sock_lb (connect() steered, no packet rewritten)"
		# shellcheck disable=SC2016 # $$ and $0 are the inner shell's
		for i in $(seq 9); do
			sh -c 'echo $$ >"$0/cgroup.procs" && exec ip netns exec "$1" curl -s --max-time 2 "http://$2/"' \
				"$CG" "elbd${id}1" "$VIP"
			echo
		done | grep . | sort | uniq -c
		show bpftool cgroup show "$CG"
	else
		step "hairpin: skipped (no cgroup v2 mount in /proc/mounts)"
	fi

	step "BGP: the seed's cmdlets peer the node with BIRD on the router"
	in_ns "$R" bird -c scripts/demo/bird.conf -s "$RUN/bird/sock" -P "$RUN/bird.pid"
	show "$EL" Set-HcsBGPPeer -PeerAddress 192.0.2.1 -PeerAsn 64512 -SelfAsn 64513 -SwitchName vSwitch1 -HoldTimeInSeconds 15
	for _ in $(seq 100); do in_ns "$R" birdc -s "$RUN/bird/sock" show route 2>/dev/null | grep -q "$VIP" && break; sleep 0.1; done
	show "$EL" Get-HcsBGPPeers -SwitchName vSwitch1
	show in_ns "$R" birdc -s "$RUN/bird/sock" show route
	show "$EL" switch list
	show "$EL" Remove-HcsBGPPeer -PeerAddress 192.0.2.1 -SwitchName vSwitch1
	show "$EL" Get-HcsBGPPeers -SwitchName vSwitch1

	step "metrics (first lines of each family)"
	in_ns "$N" curl -s --max-time 3 http://127.0.0.1:7472/metrics | grep -E '^edgelb_' | awk -F'[{ ]' '!seen[$1]++' | head -30

	step "the maps, as bpftool shows them"
	show bpftool map dump pinned "$RUN/bpffs/l2_vips_v1"
	if [[ -t 0 ]]; then
		printf '\nThe demo is up: EDGELB_SOCKET=%s %s ...; press Enter to tear it down (or run make demo-down).\n' \
			"$EDGELB_SOCKET" "$EL"
		read -r _
	fi
}

case "${1:-up}" in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
