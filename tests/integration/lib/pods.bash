# The service topology of the fast-path tests (lb.bats, hairpin.bats), on top of
# lib/agent.bash and lib/netns.bash: a node namespace whose compute port eN faces a client
# namespace, and pod namespaces on their own links to the node, each running elb_echo (answers
# its own name on 8080, TCP and UDP). Pod K's link is the /26 at 198.51.100.64(K-1), the node's
# end .64(K-1)+1, the pod .64(K-1)+2, and 2001:db8:1:K::/64 (::1 the node, ::2 the pod).
#
#   +-- elb<id>c (client) --+        +-- elb<id>n (node) ------------------------+   +-- elb<id>pK -----+
#   | eC 192.0.2.2/24       |--veth--| eN 192.0.2.1/24 2001:db8::1/64            |---| eP, elb_echo pK  |
#   |    2001:db8::2/64     |        | nBK 198.51.100.64(K-1)+1/26 2001:db8:1:K::1|   +------------------+
#   +-----------------------+        +--------------------------------------------+

TOOLS="$B/tests/tools"

pod_gw() { echo "198.51.100.$((64 * $1 - 63))"; }
pod_ip() { echo "198.51.100.$((64 * $1 - 62))"; }

# pod_link K NS: NS on the node's link K (addresses and default routes as above).
pod_link() {
	elb_veth "$NODE" "nB$1" "$2" eP
	ip -n "$NODE" addr add "$(pod_gw "$1")/26" dev "nB$1"
	ip -n "$NODE" addr add "2001:db8:1:$1::1/64" dev "nB$1" nodad
	ip -n "$2" addr add "$(pod_ip "$1")/26" dev eP
	ip -n "$2" addr add "2001:db8:1:$1::2/64" dev eP nodad
	ip -n "$2" route add default via "$(pod_gw "$1")"
	ip -n "$2" -6 route add default via "2001:db8:1:$1::1"
}

# pods_topology: NODE, CLIENT and POD[1..3] with elb_echo p1..p3 running; skips when the test
# tools are not built.
pods_topology() {
	[ -x "$TOOLS/elb_echo" ] && [ -x "$TOOLS/elb_lbclient" ] ||
		skip "tests/tools not built (make B=$B test-build)"
	elb_node_client
	ip netns exec "$NODE" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# XDP rewrites TCP: the sender must put full checksums on the wire
	ip netns exec "$CLIENT" ethtool -K eC tx off >/dev/null
	for k in 1 2 3; do
		POD[$k]=$(elb_ns "p$k")
		pod_link "$k" "${POD[$k]}"
		# frames redirected by XDP into nB$k arrive here
		elb_xdp_pass "${POD[$k]}" eP
		elb_bg "${POD[$k]}" "$TOOLS/elb_echo" "p$k" 8080 120
	done
}

# check_sticky FILE: every connection of elb_lbclient's output got answers, always from the
# same backend; prints the set of backends seen.
check_sticky() {
	if grep -q ERROR "$1"; then grep ERROR "$1" | head >&2; return 1; fi
	awk '$1=="conn" && $3 != "after" { if (($2 in n) && n[$2] != $4) bad=1; n[$2]=$4 }
	     END { exit bad }' "$1" || { echo "a connection changed backend" >&2; return 1; }
	awk '$1=="conn" {print $4}' "$1" | sort -u | tr '\n' ' '
}

# refute CMD...: succeeds when CMD fails (a bare "! cmd" does not fail a bats test).
refute() { ! "$@"; }
