#!/usr/bin/env bats
# BGP mode against GoBGP: edgelbd's own speaker peers with gobgpd in a router namespace. GoBGP
# offers capabilities edgelbd does not implement (FQDN, extended next hop), so every session
# here also shows they are ignored as RFC 5492 asks.
#
#   +-- elb<id>n (node) ------+          +-- elb<id>r (router) ------------+
#   |  edgelbd --bgp-port 1179|--veth----|  gobgpd (API 127.0.0.1:50051)   |
#   |  eN 192.0.2.2/24        |          |  eR 192.0.2.1/24                 |
#   +-------------------------+          +----------------------------------+
#
# Assertions read `edgelb -o json` and `gobgp ... -j` (path attributes by type code:
# 1 ORIGIN, 2 AS_PATH, 3 NEXT_HOP, 5 LOCAL_PREF, 8 COMMUNITIES, 14 MP_REACH_NLRI,
# 32 LARGE_COMMUNITY).

load lib/agent
load lib/bgp

setup() {
	command -v gobgpd >/dev/null || skip "gobgpd is not installed"
	bgp_topology
	CONF=$(bgp_node_conf "$BGP_POOL")
}

teardown() {
	[[ -n ${GOBGP_PID:-} ]] && kill -CONT "$GOBGP_PID" 2>/dev/null || true
	[[ -n ${ELB_PID:-} ]] && kill -CONT "$ELB_PID" 2>/dev/null || true
	elb_teardown
}

established() { gobgp_up && [ "$(node_peer_state)" = Established ]; }
not_established() { [ "$(node_peer_state)" != Established ]; }
# attr AFI PREFIX TYPE JQ: JQ applied to the path attribute of type code TYPE.
attr() { gobgp_path "$1" "$2" | jq -c ".attrs[] | select(.type == $3) | $4"; }

# gobgp_session GOBGP_AS NODE_AS [NEIGHBOR_LINES [RESTART_TIME [PEER SET FLAGS...]]]: edgelbd
# and GoBGP peered, the dual-stack service set, the session Established on both sides.
gobgp_session() {
	local las=$1 pas=$2 extra=${3:-} gr=${4:-}
	shift $(($# < 4 ? $# : 4))
	elb_start "$NODE" "$CONF" --bgp-port 1179
	gobgp_start "$las" "$pas" "$extra" "$gr"
	web_set
	node_peer_set --peer-asn "$las" --self-asn "$pas" "$@"
	elb_wait 20 established
}

@test "GoBGP eBGP: IPv4 /32 and IPv6 /128 with our next hops, AS_PATH, ORIGIN, communities and large communities" {
	gobgp_session 64512 64513
	elb_wait 5 gobgp_has ipv4 192.0.2.100/32
	[ "$(attr ipv4 192.0.2.100/32 1 .value)" = 0 ] # IGP
	[ "$(attr ipv4 192.0.2.100/32 2 '.as_paths[0].asns')" = '[64513]' ]
	[ "$(attr ipv4 192.0.2.100/32 3 .nexthop)" = '"192.0.2.2"' ]
	# 64512:7 = 64512 * 65536 + 7
	[ "$(attr ipv4 192.0.2.100/32 8 .communities)" = '[4227858439]' ]
	[ "$(attr ipv4 192.0.2.100/32 32 '.value[0] | [.ASN, .LocalData1, .LocalData2]')" = '[64512,1,2]' ]
	[ -z "$(attr ipv4 192.0.2.100/32 5 .value)" ] # no LOCAL_PREF to an eBGP peer
	elb_wait 5 gobgp_has ipv6 2001:db8:77::100/128
	[ "$(attr ipv6 2001:db8:77::100/128 14 .nexthop)" = '"2001:db8:77::2"' ]
	[ "$(attr ipv6 2001:db8:77::100/128 14 '.value[0].prefix')" = '"2001:db8:77::100/128"' ]
	[ "$(attr ipv6 2001:db8:77::100/128 2 '.as_paths[0].asns')" = '[64513]' ]
	[ "$(attr ipv6 2001:db8:77::100/128 8 .communities)" = '[4227858439]' ]
	# GoBGP advertised FQDN and extended next hop; we negotiated what we know
	run elb -o json bgp peer show "$BGP_ROUTER4"
	[ "$(jq -r .capabilities <<<"$output")" = "ipv4-unicast ipv6-unicast 4-octet-as route-refresh" ]
	[ "$(jq -r .prefixesSent <<<"$output")" = 2 ]
}

@test "GoBGP iBGP: LOCAL_PREF from the pool, empty AS_PATH" {
	gobgp_session 64512 64512
	elb_wait 5 gobgp_has ipv4 192.0.2.100/32
	[ "$(attr ipv4 192.0.2.100/32 5 .value)" = 150 ]
	[ "$(attr ipv4 192.0.2.100/32 2 '[.as_paths[]?.asns[]] | length')" = 0 ]
	elb_wait 5 gobgp_has ipv6 2001:db8:77::100/128
	[ "$(attr ipv6 2001:db8:77::100/128 5 .value)" = 150 ]
}

@test "GoBGP with a 4-octet self ASN: AS_PATH carries 4200000000" {
	gobgp_session 64512 4200000000
	elb_wait 5 gobgp_has ipv4 192.0.2.100/32
	[ "$(attr ipv4 192.0.2.100/32 2 '.as_paths[0].asns')" = '[4200000000]' ]
}

@test "GoBGP: withdrawn on service removal, and on peer removal with Cease 6/3" {
	gobgp_session 64512 64513
	elb_req service.set '{"name":"default/api","ports":["tcp/8080"],"pool":"p1","ipFamily":"ipv4"}'
	elb_wait 5 gobgp_has ipv4 192.0.2.101/32
	elb_wait 5 gobgp_has ipv6 2001:db8:77::100/128
	elb_req service.remove '{"name":"default/api"}'
	elb_wait 5 gobgp_lacks ipv4 192.0.2.101/32
	gobgp_has ipv4 192.0.2.100/32
	gobgp_up
	elb bgp peer remove --peer-address "$BGP_ROUTER4" --switch vSwitch1
	elb_wait 5 gobgp_lacks ipv4 192.0.2.100/32
	elb_wait 5 gobgp_lacks ipv6 2001:db8:77::100/128
	elb_wait 5 grep -q '"Code":6,.*"Subcode":3,.*received notification' "$BGP_DIR/gobgpd.log"
}

@test "GoBGP TCP MD5: a wrong password never peers, the matching one does" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	gobgp_start 64512 64513 'auth-password = "s3cret-md5"'
	md5_wrong_then_right gobgp_up
}

@test "GoBGP: the session and the routes come back after gobgpd restarts" {
	gobgp_session 64512 64513
	elb_wait 5 gobgp_has ipv4 192.0.2.100/32
	kill -TERM "$GOBGP_PID"
	elb_wait 15 not_established
	wait "$GOBGP_PID" 2>/dev/null || true
	gobgp_run
	elb_wait 25 established
	elb_wait 5 gobgp_has ipv4 192.0.2.100/32
	elb_wait 5 gobgp_has ipv6 2001:db8:77::100/128
}

@test "GoBGP graceful restart: after kill -9 the routes stay as stale, the restarted agent refreshes them" {
	gobgp_session 64512 64513 "" 60 --graceful-restart
	elb_wait 5 gobgp_has ipv4 192.0.2.100/32
	[ "$(gobgp_path ipv4 192.0.2.100/32 | jq -r .stale)" = false ]
	elb_stop KILL
	stale() { [ "$(gobgp_path ipv4 192.0.2.100/32 | jq -r .stale)" = true ]; }
	elb_wait 10 stale
	[ "$(gobgp_path ipv6 2001:db8:77::100/128 | jq -r .stale)" = true ]
	elb_start "$NODE" "$CONF" --bgp-port 1179
	elb_wait 25 established
	fresh() { [ "$(gobgp_path ipv4 192.0.2.100/32 | jq -r .stale)" = false ] &&
		[ "$(gobgp_path ipv6 2001:db8:77::100/128 | jq -r .stale)" = false ]; }
	elb_wait 10 fresh
	grep -q "maps adopted" "$ELB_LOG"
}

@test "GoBGP: a killed agent's routes go at once (its TCP closes); a frozen speaker's stay until GoBGP's hold timer (9 s) expires" {
	gobgp_session 64512 64513
	elb_wait 5 gobgp_has ipv4 192.0.2.100/32
	elb_stop KILL
	elb_wait 3 gobgp_lacks ipv4 192.0.2.100/32
	gobgp_lacks ipv6 2001:db8:77::100/128
	elb_start "$NODE" "$CONF" --bgp-port 1179
	elb_wait 25 established
	elb_wait 5 gobgp_has ipv4 192.0.2.100/32
	# the speaker process holds the session: frozen, it sends no KEEPALIVE
	elb_speaker
	kill -STOP "$ELB_SPEAKER"
	sleep 3
	gobgp_has ipv4 192.0.2.100/32 # nothing told GoBGP yet
	elb_wait 12 gobgp_lacks ipv4 192.0.2.100/32
	grep -q 'hold timer expired' "$BGP_DIR/gobgpd.log"
	kill -CONT "$ELB_SPEAKER"
	elb_wait 30 established
	elb_wait 5 gobgp_has ipv4 192.0.2.100/32
}
