#!/usr/bin/env bats
# BGP mode against FRR: edgelbd's own speaker peers with zebra + bgpd (-n: nothing goes to the
# kernel) in a router namespace.
#
#   +-- elb<id>n (node) --------------+        +-- elb<id>r (router) ------+
#   |  edgelbd --bgp-port 1179        |        |  zebra, bgpd -n           |
#   |  eN 192.0.2.2/24 2001:db8:77::2/64     |--veth--| eR 192.0.2.1/24 2001:db8:77::1/64|
#   +---------------------------------+        +---------------------------+
#
# Assertions read `edgelb -o json` and `vtysh ... json`.

load lib/agent
load lib/bgp

setup() {
	[[ -x /usr/lib/frr/bgpd ]] || skip "frr is not installed"
	bgp_topology
	CONF=$(bgp_node_conf "$BGP_POOL")
}

teardown() {
	elb_teardown
}

established() { [ "$(frr_state)" = Established ] && [ "$(node_peer_state)" = Established ]; }
not_established() { [ "$(node_peer_state)" != Established ]; }
path() { frr_route "$1" "$2" | jq -r ".paths[0]$3"; }

# frr_session FRR_AS NODE_AS: edgelbd and FRR peered (port 1179), the dual-stack service set,
# the session Established on both sides.
frr_session() {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	frr_start "$1" "$2" "neighbor $BGP_NODE4 port 1179"
	web_set
	node_peer_set --peer-asn "$1" --self-asn "$2"
	elb_wait 20 established
}

@test "FRR eBGP: IPv4 and IPv6 routes with our next hops (global + link-local) and communities" {
	frr_session 64512 64513
	elb_wait 5 frr_has ipv4 192.0.2.100/32
	[ "$(path ipv4 192.0.2.100/32 .aspath.string)" = 64513 ]
	[ "$(path ipv4 192.0.2.100/32 .origin)" = IGP ]
	[ "$(path ipv4 192.0.2.100/32 .nexthops[0].ip)" = 192.0.2.2 ]
	[ "$(path ipv4 192.0.2.100/32 .valid)" = true ]
	[ "$(path ipv4 192.0.2.100/32 .community.string)" = 64512:7 ]
	[ "$(path ipv4 192.0.2.100/32 .largeCommunity.string)" = 64512:1:2 ]
	elb_wait 5 frr_has ipv6 2001:db8:77::100/128
	[ "$(path ipv6 2001:db8:77::100/128 '.nexthops[] | select(.scope == "global") | .ip')" = 2001:db8:77::2 ]
	ll=$(ip -n "$NODE" -6 addr show dev eN scope link | awk '/inet6/ { sub("/.*", "", $2); print $2 }')
	[ "$(path ipv6 2001:db8:77::100/128 '.nexthops[] | select(.scope == "link-local") | .ip')" = "$ll" ]
	[ "$(path ipv6 2001:db8:77::100/128 .valid)" = true ]
}

@test "FRR iBGP: LOCAL_PREF from the pool, empty AS_PATH" {
	frr_session 64512 64512
	elb_wait 5 frr_has ipv4 192.0.2.100/32
	[ "$(path ipv4 192.0.2.100/32 .locPrf)" = 150 ]
	[ "$(path ipv4 192.0.2.100/32 .aspath.length)" = 0 ]
	[ "$(path ipv4 192.0.2.100/32 .peer.type)" = internal ]
	elb_wait 5 frr_has ipv6 2001:db8:77::100/128
	[ "$(path ipv6 2001:db8:77::100/128 .locPrf)" = 150 ]
}

@test "FRR with a 4-octet self ASN: AS_PATH carries 4200000000" {
	frr_session 64512 4200000000
	elb_wait 5 frr_has ipv4 192.0.2.100/32
	[ "$(path ipv4 192.0.2.100/32 .aspath.string)" = 4200000000 ]
}

@test "FRR: withdrawn on service removal and on peer removal" {
	frr_session 64512 64513
	elb_wait 5 frr_has ipv4 192.0.2.100/32
	elb_wait 5 frr_has ipv6 2001:db8:77::100/128
	elb_req service.remove '{"name":"default/web"}'
	elb_wait 5 frr_lacks ipv4 192.0.2.100/32
	elb_wait 5 frr_lacks ipv6 2001:db8:77::100/128
	[ "$(frr_state)" = Established ]
	web_set
	elb_wait 5 frr_has ipv4 192.0.2.100/32
	elb bgp peer remove --peer-address "$BGP_ROUTER4" --switch vSwitch1
	elb_wait 5 frr_lacks ipv4 192.0.2.100/32
	elb_wait 5 bash -c "vtysh --vty_socket $FRR_DIR -c 'show bgp neighbors $BGP_NODE4 json' | jq -r '.\"$BGP_NODE4\".lastNotificationReason' | grep -qi 'de-configured'"
}

@test "FRR: the session comes back after bgpd restarts" {
	frr_session 64512 64513
	kill -TERM "$FRR_BGPD_PID"
	elb_wait 10 not_established
	elb_wait 10 bash -c "! kill -0 $FRR_BGPD_PID 2>/dev/null"
	frr_bgpd_run
	elb_wait 25 established
	elb_wait 5 frr_has ipv4 192.0.2.100/32
}

@test "FRR: ROUTE-REFRESH (clear bgp soft in) is answered with both families' routes again" {
	frr_session 64512 64513
	elb_wait 5 frr_has ipv4 192.0.2.100/32
	elb_wait 5 frr_has ipv6 2001:db8:77::100/128
	vtysh_ "clear bgp $BGP_NODE4 soft in"
	elb_wait 5 grep -q "route refresh for AFI 1" "$ELB_LOG"
	elb_wait 5 grep -q "route refresh for AFI 2" "$ELB_LOG"
	[ "$(frr_state)" = Established ]
	frr_has ipv4 192.0.2.100/32
	frr_has ipv6 2001:db8:77::100/128
}

@test "FRR TCP MD5: a wrong password never peers, the matching one does" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	frr_start 64512 64513 "neighbor $BGP_NODE4 port 1179
 neighbor $BGP_NODE4 password s3cret-md5"
	frr_up() { [ "$(frr_state)" = Established ]; }
	md5_wrong_then_right frr_up
}

@test "FRR graceful restart: after kill -9 FRR keeps our routes as stale; the restarted agent refreshes them" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	frr_start 64512 64513 "neighbor $BGP_NODE4 port 1179
 bgp graceful-restart
 bgp graceful-restart restart-time 60"
	web_set
	node_peer_set --peer-asn 64512 --self-asn 64513 --graceful-restart
	elb_wait 20 established
	elb_wait 5 frr_has ipv4 192.0.2.100/32
	stale() { [ "$(path "$1" "$2" .stale)" = true ]; }
	! stale ipv4 192.0.2.100/32 || false
	elb_stop KILL
	elb_wait 10 stale ipv4 192.0.2.100/32
	stale ipv6 2001:db8:77::100/128
	elb_start "$NODE" "$CONF" --bgp-port 1179
	elb_wait 25 established
	fresh() { frr_has ipv4 192.0.2.100/32 && ! stale ipv4 192.0.2.100/32 &&
		frr_has ipv6 2001:db8:77::100/128 && ! stale ipv6 2001:db8:77::100/128; }
	elb_wait 10 fresh
}
