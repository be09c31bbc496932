# Layer-2 helpers for integration tests, on top of lib/agent.bash (namespaces, veths, edgelbd,
# teardown): a pass-through XDP program on the receiving end of a veth, and ARP/NDP probes
# from a namespace that print the MAC that answered. Every probe is bounded in count and time.

# elb_xdp_pass NS DEV: XDP_TX into a veth whose peer has no XDP program can be delayed or
# lost; the pass-through program on the peer avoids that.
elb_xdp_pass() {
	ip -n "$1" link set dev "$2" xdp obj "$ELB_BIN/../bpf/xdp_pass.bpf.o" sec xdp
}

# elb_mac NS DEV: the interface's MAC, lowercase.
elb_mac() {
	ip -n "$1" -j link show dev "$2" | jq -r '.[0].address'
}

# elb_arp NS DEV IP: one ARP request (1 s timeout); prints the answering MAC, fails on silence.
elb_arp() {
	local out
	out=$(ip netns exec "$1" arping -c 1 -w 1 -I "$2" "$3" 2>/dev/null) || return 1
	grep -oE 'from ([0-9a-f]{2}:){5}[0-9a-f]{2}' <<<"$out" | head -1 | cut -d' ' -f2
}

# elb_ndp NS DEV IP: one Neighbor Solicitation (1 s); prints the target link-layer address
# (lowercase), fails on silence.
elb_ndp() {
	local out
	out=$(ip netns exec "$1" ndisc6 -1 -r 1 -w 1000 "$3" "$2" 2>/dev/null) || return 1
	grep -i 'Target link-layer address' <<<"$out" | awk '{print tolower($NF)}' | grep .
}

# elb_arp_is NS DEV IP MAC / elb_ndp_is ...: succeed when MAC answers (for elb_wait).
elb_arp_is() { [ "$(elb_arp "$1" "$2" "$3")" = "$4" ]; }
elb_ndp_is() { [ "$(elb_ndp "$1" "$2" "$3")" = "$4" ]; }
elb_arp_silent() { ! elb_arp "$@" >/dev/null; }
elb_ndp_silent() { ! elb_ndp "$@" >/dev/null; }

# elb_xdp_id NS DEV: id of the XDP program attached to DEV, empty when none.
elb_xdp_id() {
	ip -n "$1" -j link show dev "$2" | jq -r '.[0].xdp.prog.id // empty'
}

# elb_node_client: namespaces NODE and CLIENT on one link, the node's compute port eN
# (192.0.2.1/24, 2001:db8::1/64) facing the client's eC (192.0.2.2/24, 2001:db8::2/64, with
# the pass-through XDP program).
elb_node_client() {
	NODE=$(elb_ns n)
	CLIENT=$(elb_ns c)
	elb_veth "$NODE" eN "$CLIENT" eC
	ip -n "$NODE" addr add 192.0.2.1/24 dev eN
	ip -n "$NODE" addr add 2001:db8::1/64 dev eN nodad
	ip -n "$CLIENT" addr add 192.0.2.2/24 dev eC
	ip -n "$CLIENT" addr add 2001:db8::2/64 dev eC nodad
	elb_xdp_pass "$CLIENT" eC
}
