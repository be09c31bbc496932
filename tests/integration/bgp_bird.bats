#!/usr/bin/env bats
# BGP mode against BIRD 2: edgelbd's own speaker peers with a real BIRD in a router namespace.
#
#   +-- elb<id>n (node) --------------+        +-- elb<id>r (router) ------+
#   |  edgelbd --bgp-port 1179        |        |  bird (tables t4, t6)     |
#   |  eN 192.0.2.2/24 2001:db8:77::2/64     |--veth--| eR 192.0.2.1/24 2001:db8:77::1/64|
#   +---------------------------------+        +---------------------------+
#
# Service IPs come from pool p1 (192.0.2.100-110, 2001:db8:77::100-110) on vSwitch1 (eN); services
# are created through the control socket. Assertions read `edgelb -o json` and `birdc`.

load lib/agent
load lib/bgp

setup() {
	command -v bird >/dev/null || skip "bird2 is not installed"
	bgp_topology
	CONF=$(bgp_node_conf "$BGP_POOL")
}

teardown() {
	[[ -n ${BIRD_PID:-} ]] && kill -CONT "$BIRD_PID" 2>/dev/null || true
	elb_teardown
}

established() { [ "$(bird_state edge4)" = Established ] && [ "$(node_peer_state)" = Established ]; }
not_established() { [ "$(node_peer_state)" != Established ]; }

# bird_session BIRD_AS NODE_AS "EXTRA BIRD LINES" [PEER SET FLAGS...]: edgelbd and BIRD peered
# (port 1179), the dual-stack service set, the session Established on both sides.
bird_session() {
	local las=$1 pas=$2 extra=$3
	shift 3
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_start "$las" "$pas" "neighbor port 1179; $extra"
	web_set
	node_peer_set --peer-asn "$las" --self-asn "$pas" "$@"
	elb_wait 15 established
}

@test "eBGP: IPv4 /32 and IPv6 /128 reach BIRD with our next hops, AS_PATH and communities" {
	elb_start "$NODE" "$CONF" --bgp-port 1179 --metrics 127.0.0.1:17472
	bird_start 64512 64513 "neighbor port 1179;"
	web_set
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 9
	elb_wait 15 established
	elb_wait 5 bird_has t4 192.0.2.100/32 "BGP.next_hop: 192.0.2.2"
	r4=$(bird_route t4 192.0.2.100/32)
	[[ "$r4" == *"BGP.as_path: 64513"* ]]
	[[ "$r4" == *"BGP.origin: IGP"* ]]
	[[ "$r4" == *"BGP.community: (64512,7)"* ]]
	[[ "$r4" == *"BGP.large_community: (64512, 1, 2)"* ]]
	[[ "$r4" != *"BGP.local_pref: 150"* ]] # LOCAL_PREF is for iBGP only
	elb_wait 5 bird_has t6 2001:db8:77::100/128 "BGP.next_hop: 2001:db8:77::2 fe80::"
	r6=$(bird_route t6 2001:db8:77::100/128)
	[[ "$r6" == *"BGP.as_path: 64513"* ]]
	[[ "$r6" == *"BGP.community: (64512,7)"* ]]
	ll=$(ip -n "$NODE" -6 addr show dev eN scope link | awk '/inet6/ { sub("/.*", "", $2); print $2 }')
	[[ "$r6" == *"2001:db8:77::2 $ll"* ]]
	run elb -o json bgp peer show "$BGP_ROUTER4"
	[ "$status" -eq 0 ]
	[ "$(jq -r .capabilities <<<"$output")" = "ipv4-unicast ipv6-unicast 4-octet-as route-refresh" ]
	[ "$(jq -r .negotiatedHoldTime <<<"$output")" = 9 ]
	[ "$(jq -r .keepaliveTime <<<"$output")" = 3 ]
	[ "$(jq -r .prefixesSent <<<"$output")" = 2 ]
	m=$(ip netns exec "$NODE" curl -s http://127.0.0.1:17472/metrics)
	grep -q '^edgelb_bgp_session_up{peer="192.0.2.1",switch="vSwitch1"} 1' <<<"$m"
	grep -q '^edgelb_bgp_announced_prefixes_total{peer="192.0.2.1",switch="vSwitch1"} 2' <<<"$m"
	grep -q '^edgelb_bgp_opens_sent_total{peer="192.0.2.1",switch="vSwitch1"} [1-9]' <<<"$m"
	grep -q '^edgelb_bgp_keepalives_received_total{peer="192.0.2.1"' <<<"$m"
	grep -q '^edgelb_bgp_pending_prefixes{peer="192.0.2.1",switch="vSwitch1"} 0' <<<"$m"
}

@test "iBGP: empty AS_PATH and the pool's LOCAL_PREF" {
	bird_session 64512 64512 "direct;"
	elb_wait 5 bird_has t4 192.0.2.100/32 "BGP.local_pref: 150"
	r4=$(bird_route t4 192.0.2.100/32)
	[[ "$r4" == *"BGP.as_path: "$'\n'* || "$r4" =~ BGP.as_path:[[:space:]]*$'\n' ]]
	[[ "$r4" == *"BGP.next_hop: 192.0.2.2"* ]]
	elb_wait 5 bird_has t6 2001:db8:77::100/128 "BGP.local_pref: 150"
}

@test "dynamicAsn external: BIRD peers as eBGP with an AS we were not told; BIRD with our own AS is refused" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_start 64600 64513 "neighbor port 1179;"
	web_set
	node_peer_set --dynamic-asn external --self-asn 64513 --hold-time 9
	elb_wait 15 established
	[ "$(elb -o json bgp peer show "$BGP_ROUTER4" | jq -c '{peerAsn, dynamicAsn}')" = \
		'{"peerAsn":64600,"dynamicAsn":"external"}' ]
	elb_wait 5 bird_has t4 192.0.2.100/32 "BGP.as_path: 64513"
	[[ "$(bird_route t4 192.0.2.100/32)" != *"BGP.local_pref: 150"* ]] # the pool's, iBGP only
	# the same BIRD in our AS: OPEN refused with Bad Peer AS (2/2), no session
	kill "$BIRD_PID"
	wait "$BIRD_PID" 2>/dev/null || true
	bird_start 64513 64513 "neighbor port 1179;"
	elb_wait 15 grep -q "OPEN: AS 64513 is ours (dynamicAsn external wants another)" "$ELB_LOG"
	[ "$(node_peer_state)" != Established ]
	run elb bgp peer set --peer-address "$BGP_ROUTER4" --switch vSwitch1 --self-asn 64513 \
		--peer-asn 64600 --dynamic-asn external
	[ "$status" -eq 1 ]
	[[ "$output" == *"peerAsn: set together with dynamicAsn (allowed: one of them)"* ]]
	run elb bgp peer set --peer-address "$BGP_ROUTER4" --switch vSwitch1 --self-asn 64513 \
		--dynamic-asn any
	[ "$status" -eq 1 ]
	[[ "$output" == *'dynamicAsn: "any": not a mode (allowed: internal or external)'* ]]
}

@test "routes are withdrawn when the service goes, and when the peer is removed (Cease 6/3)" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_start 64512 64513 "neighbor port 1179;"
	web_set
	elb_req service.set '{"name":"default/api","ports":["tcp/8080"],"pool":"p1","ipFamily":"ipv4"}'
	node_peer_set --peer-asn 64512 --self-asn 64513
	elb_wait 15 established
	elb_wait 5 bird_has t4 192.0.2.100/32 192.0.2.2
	elb_wait 5 bird_has t4 192.0.2.101/32 192.0.2.2
	elb_req service.remove '{"name":"default/api"}'
	elb_wait 5 bird_lacks t4 192.0.2.101/32
	bird_has t4 192.0.2.100/32 192.0.2.2
	bird_has t6 2001:db8:77::100/128 2001:db8:77::2
	run elb bgp peer remove --peer-address "$BGP_ROUTER4" --switch vSwitch1
	[ "$status" -eq 0 ]
	elb_wait 5 bird_lacks t4 192.0.2.100/32
	elb_wait 5 bird_lacks t6 2001:db8:77::100/128
	elb_wait 5 grep -qi "de-configured" "$BGP_DIR/bird.log"
	run elb -o json bgp peer list
	[ "$output" = "[]" ] || [ "$(jq length <<<"$output")" = 0 ]
}

@test "TCP MD5: the matching password peers, a wrong one does not" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_start 64512 64513 'neighbor port 1179; password "s3cret-md5";'
	bird_up() { [ "$(bird_state edge4)" = Established ]; }
	md5_wrong_then_right bird_up
}

@test "hold timer expires when BIRD is frozen (SIGSTOP), the session returns after SIGCONT" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_start 64512 64513 "neighbor port 1179;"
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 3
	elb_wait 15 established
	kill -STOP "$BIRD_PID"
	elb_wait 8 not_established
	grep -q "hold timer expired" "$ELB_LOG"
	kill -CONT "$BIRD_PID"
	elb_wait 20 established
}

@test "the session comes back after BIRD restarts, with the routes" {
	bird_session 64512 64513 ""
	kill -TERM "$BIRD_PID"
	elb_wait 10 not_established
	wait "$BIRD_PID" 2>/dev/null || true
	bird_run
	elb_wait 20 established
	elb_wait 5 bird_has t4 192.0.2.100/32 192.0.2.2
}

@test "ROUTE-REFRESH from BIRD is answered with the table again" {
	bird_session 64512 64513 ""
	elb_wait 5 bird_has t4 192.0.2.100/32 192.0.2.2
	birdc_ reload in edge4
	elb_wait 5 grep -q "route refresh for AFI 1" "$ELB_LOG"
	bird_has t4 192.0.2.100/32 192.0.2.2
}

@test "the seed's cmdlet transcript works verbatim, with its validation" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_start 64512 64513 "neighbor port 1179;"
	run elb Set-HcsBGPPeer -PeerAddress 192.0.2.1 -PeerAsn 64512 -SelfAsn 64513 -SwitchName vSwitch1 -HoldTimeInSeconds 15
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run elb Get-HcsBGPPeers -SwitchName vSwitch1
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^PeerAddress\ +PeerAsn\ +SelfAsn\ +HoldTime\ +State ]]
	[[ "${lines[1]}" =~ ^-----------\ +-------\ +-------\ +--------\ +----- ]]
	[[ "${lines[2]}" =~ ^192\.0\.2\.1\ +64512\ +64513\ +15\ + ]]
	elb_wait 15 established
	run elb -o json get-hcsbgppeers -switchname vSwitch1
	[ "$(jq -r '.[0] | "\(.peerAddress) \(.peerAsn) \(.selfAsn) \(.holdTime) \(.switch) \(.state)"' <<<"$output")" = "192.0.2.1 64512 64513 15 vSwitch1 Established" ]
	run elb Remove-HcsBGPPeer -PeerAddress 192.0.2.1 -SwitchName vSwitch1
	[ "$status" -eq 0 ]
	run elb Get-HcsBGPPeers -SwitchName vSwitch1
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# refused values name what is allowed and change nothing
	run elb Set-HcsBGPPeer -PeerAddress 192.0.2.1 -PeerAsn 23456 -SelfAsn 64513 -SwitchName vSwitch1
	[ "$status" -eq 1 ]
	[[ "$output" == *"peerAsn: 23456"*"1-65534 or 131072-4294967294"* ]]
	run elb Set-HcsBGPPeer -PeerAddress 192.0.2.1 -PeerAsn 64512 -SelfAsn 65535 -SwitchName vSwitch1
	[ "$status" -eq 1 ]
	[[ "$output" == *"selfAsn: 65535"*"1-65534 or 131072-4294967294"* ]]
	run elb Set-HcsBGPPeer -PeerAddress 192.0.2.1 -PeerAsn 4294967295 -SelfAsn 64513 -SwitchName vSwitch1
	[ "$status" -eq 1 ]
	run elb Set-HcsBGPPeer -PeerAddress 192.0.2.1 -PeerAsn 64512 -SelfAsn 64513 -SwitchName vSwitch1 -HoldTimeInSeconds 2
	[ "$status" -eq 1 ]
	[[ "$output" == *"holdTime: 2"*"0 or 3-65535"* ]]
	run elb Set-HcsBGPPeer -PeerAddress 224.0.0.5 -PeerAsn 64512 -SelfAsn 64513 -SwitchName vSwitch1
	[ "$status" -eq 1 ]
	[[ "$output" == *"peerAddress"*"224.0.0.5"* ]]
	run elb Set-HcsBGPPeer -PeerAddress 192.0.2.1 -PeerAsn 64512 -SelfAsn 64513 -SwitchName vSwitch2
	[ "$status" -eq 1 ]
	[[ "$output" == *"vSwitch2"*"compute"* ]]
	run elb Set-HcsBGPPeer -PeerAddress 192.0.2.1 -PeerAsn 64512 -SelfAsn 64513 -SwitchName vSwitch9
	[ "$status" -eq 1 ]
	[[ "$output" == *"vSwitch9"*"no such switch"* ]]
	run elb -o json bgp peer list
	[ "$(jq length <<<"$output")" = 0 ]
	run elb bgp peer set --peer-address 192.0.2.1 --peer-asn 64512
	[ "$status" -eq 2 ]
}

@test "peers persist across an agent restart" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_start 64512 64513 "neighbor port 1179;"
	node_peer_set --peer-asn 4200000000 --self-asn 64513 --hold-time 9 || true
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 9
	elb_wait 15 established
	elb_stop
	elb_start "$NODE" "$CONF" --bgp-port 1179
	run elb -o json bgp peer list
	[ "$(jq -r '.[0].peerAsn' <<<"$output")" = 64512 ]
	elb_wait 15 established
}

@test "layer-2 <-> BGP: ARP answers stop once BIRD has the route, resume when the peer goes" {
	command -v arping >/dev/null || skip "arping is not installed"
	ip -n "$ROUTER" link set dev eR xdp obj "$B/bpf/xdp_pass.bpf.o" sec xdp
	elb_start "$NODE" "$CONF" --bgp-port 1179 --metrics 127.0.0.1:17473
	bird_start 64512 64513 "neighbor port 1179;"
	web_set
	arp() { ip netns exec "$ROUTER" arping -c 1 -w 1 -I eR 192.0.2.100 >/dev/null 2>&1; }
	mode() { elb -o json switch list | jq -r '.[] | select(.name == "vSwitch1") | .mode'; }
	# MetalLB's speaker_announced: the protocol this node announces the VIP by
	announced_by() {
		ip netns exec "$NODE" curl -s --max-time 3 http://127.0.0.1:17473/metrics |
			grep -E '^edgelb_speaker_announced\{ip="192\.0\.2\.100",' |
			grep -oE 'protocol="[a-z0-9]+",service="default/web"\} 1$'
	}
	elb_wait 10 arp
	[ "$(mode)" = layer2 ]
	[ "$(announced_by)" = 'protocol="layer2",service="default/web"} 1' ]
	node_peer_set --peer-asn 64512 --self-asn 64513
	elb_wait 15 established
	elb_wait 5 bird_has t4 192.0.2.100/32 192.0.2.2
	elb_wait 5 bash -c "! ip netns exec $ROUTER arping -c 1 -w 1 -I eR 192.0.2.100"
	[ "$(mode)" = bgp ]
	[ "$(announced_by)" = 'protocol="bgp",service="default/web"} 1' ]
	elb bgp peer remove --peer-address "$BGP_ROUTER4" --switch vSwitch1
	elb_wait 10 arp
	[ "$(mode)" = layer2 ]
	[ "$(announced_by)" = 'protocol="layer2",service="default/web"} 1' ]
	elb_wait 5 bird_lacks t4 192.0.2.100/32
}

@test "IPv6 session (peer 2001:db8:77::1): both families over it, IPv4 next hop from the same link; graceful restart only when asked" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	BIRD_CONF="$BGP_DIR/bird.conf" BIRD_SOCK="$BGP_DIR/bird.ctl"
	cat >"$BIRD_CONF" <<-EOF
	router id $BGP_ROUTER4;
	log "$BGP_DIR/bird.log" all;
	protocol device { scan time 1; }
	ipv4 table t4;
	ipv6 table t6;
	protocol bgp edge6 {
		local $BGP_ROUTER6 as 64512;
		neighbor $BGP_NODE6 port 1179 as 64513;
		connect retry time 1;
		error wait time 1, 2;
		ipv4 { table t4; import all; export none; next hop address $BGP_ROUTER4; };
		ipv6 { table t6; import all; export none; };
	}
	EOF
	bird_run
	web_set
	elb bgp peer set --peer-address "$BGP_ROUTER6" --switch vSwitch1 --connect-time 1 \
		--peer-asn 64512 --self-asn 64513 --graceful-restart
	up6() { [ "$(bird_state edge6)" = Established ] && [ "$(node_peer_state "$BGP_ROUTER6")" = Established ]; }
	elb_wait 15 up6
	elb_wait 5 bird_has t6 2001:db8:77::100/128 "BGP.next_hop: 2001:db8:77::2 fe80::"
	elb_wait 5 bird_has t4 192.0.2.100/32 "BGP.next_hop: 192.0.2.2"
	run elb -o json bgp peer show "$BGP_ROUTER6"
	[[ "$(jq -r .capabilities <<<"$output")" == *graceful-restart* ]]
	# the same peer without the option: the capability is not advertised
	elb bgp peer set --peer-address "$BGP_ROUTER6" --switch vSwitch1 --connect-time 1 \
		--peer-asn 64512 --self-asn 64513
	caps() { elb -o json bgp peer show "$BGP_ROUTER6" | jq -r .capabilities; }
	no_gr() { up6 && [[ "$(caps)" == *ipv6-unicast* && "$(caps)" != *graceful-restart* ]]; }
	elb_wait 20 no_gr
}

@test "pool advertisement: aggregationLength sends one covering prefix, peers limits who gets a pool" {
	CONF=$(bgp_node_conf "  - {name: agg, addresses: [192.0.2.100-192.0.2.103], switch: vSwitch1, aggregationLength: 28}
  - {name: other, addresses: [192.0.2.120-192.0.2.121], switch: vSwitch1, peers: [192.0.2.9]}")
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_start 64512 64513 "neighbor port 1179;"
	elb_req service.set '{"name":"default/a","ports":["tcp/80"],"pool":"agg","ipFamily":"ipv4"}'
	elb_req service.set '{"name":"default/b","ports":["tcp/80"],"pool":"agg","ipFamily":"ipv4"}'
	elb_req service.set '{"name":"default/c","ports":["tcp/80"],"pool":"other","ipFamily":"ipv4"}'
	node_peer_set --peer-asn 64512 --self-asn 64513
	elb_wait 15 established
	elb_wait 5 bird_has t4 192.0.2.96/28 "BGP.next_hop: 192.0.2.2"
	bird_lacks t4 192.0.2.100/32
	bird_lacks t4 192.0.2.101/32
	# default/c has its address (so its absence on BIRD is the peers filter at work)
	printf '{"cmd":"service.show","args":{"name":"default/c"}}\n' |
		socat -t5 - "UNIX-CONNECT:$EDGELB_SOCKET" | grep -q '192.0.2.120'
	bird_lacks t4 192.0.2.120/32
	[ "$(elb -o json bgp peer show "$BGP_ROUTER4" | jq -r .prefixesSent)" = 1 ]
}

@test "graceful restart: after kill -9 and a restart with the dataplane kept, BIRD holds the route throughout" {
	bird_session 64512 64513 "graceful restart on; graceful restart time 60;" --graceful-restart
	elb_wait 5 bird_has t4 192.0.2.100/32 192.0.2.2
	caps() { birdc_ show protocols all edge4 | sed -n '/Neighbor capabilities/,/Session/p'; }
	# a first start: graceful restart, but neither Restart State nor Forwarding State
	caps | grep -q "Graceful restart"
	! caps | grep -q "Restart recovery" || false
	! caps | grep -q "AF preserved: ipv4" || false
	# kill -9: the pins stay; BIRD keeps our routes as stale. Watch the route every 100 ms
	# (at most 300 looks) from before the kill until after the new End-of-RIB.
	watch="$BGP_DIR/watch.out"
	(for ((i = 0; i < 300; i++)); do
		if bird_route t4 192.0.2.100/32 | grep -q 192.0.2.100; then echo have; else echo MISS; fi
		[[ -e $BGP_DIR/watch.stop ]] && break
		sleep 0.1
	done) >"$watch" 2>&1 &
	ELB_PIDS+=($!)
	watcher=$!
	sleep 0.3
	elb_stop KILL
	elb_start "$NODE" "$CONF" --bgp-port 1179
	elb_wait 15 established
	# the restarted speaker said so, and that it kept forwarding both families
	caps | grep -q "Restart recovery"
	caps | grep -q "AF preserved: ipv4 ipv6"
	grep -q "maps adopted" "$ELB_LOG"
	elb_wait 5 bird_has t4 192.0.2.100/32 192.0.2.2
	sleep 1
	touch "$BGP_DIR/watch.stop"
	wait "$watcher" || true
	[ "$(grep -c have "$watch")" -ge 10 ]
	! grep -q MISS "$watch" || false
}

@test "the speaker process: killed, it is restarted and BIRD gets the routes again; layer 2 answers meanwhile" {
	bird_session 64512 64513 ""
	elb_wait 5 bird_has t4 192.0.2.100/32 192.0.2.2
	mode() { elb -o json switch list | jq -r '.[] | select(.name == "vSwitch1") | .mode'; }
	bgp_mode() { [ "$(mode)" = bgp ]; }
	l2_more() { [ "$(grep -c 'l2: vSwitch1: announcing 192.0.2.100 ' "$ELB_LOG")" -gt "$l2" ]; }
	elb_wait 5 bgp_mode
	elb_speaker
	old=$ELB_SPEAKER
	l2=$(grep -c 'l2: vSwitch1: announcing 192.0.2.100 ' "$ELB_LOG")
	kill -KILL "$old"
	elb_wait 5 grep -q "bgp: the speaker (pid $old) is gone" "$ELB_LOG"
	# until the new speaker has the table at BIRD again, layer 2 answers for the switch
	elb_wait 5 l2_more
	elb_wait 20 established
	elb_speaker
	[ "$ELB_SPEAKER" != "$old" ]
	elb_wait 5 bird_has t4 192.0.2.100/32 192.0.2.2
	elb_wait 5 bird_has t6 2001:db8:77::100/128 2001:db8:77::2
	elb_wait 5 bgp_mode
	run elb -o json bgp peer show "$BGP_ROUTER4"
	[ "$(jq -r .prefixesSent <<<"$output")" = 2 ]
}

@test "the speaker process: SIGTERM to edgelbd sends BIRD a Cease (shutdown) and takes the speaker along" {
	bird_session 64512 64513 ""
	elb_speaker
	elb_stop TERM
	elb_wait 5 grep -q "Received: Administrative shutdown" "$BGP_DIR/bird.log"
	! kill -0 "$ELB_SPEAKER" 2>/dev/null
}

@test "edgelbd without edgelb-bgp beside it refuses to start and says where it looked" {
	elb_dirs
	mkdir "$ELB_STATE/alone"
	cp "$ELB_BIN/edgelbd" "$ELB_STATE/alone/"
	run ip netns exec "$NODE" "$ELB_STATE/alone/edgelbd" --config "$CONF" --state-dir "$ELB_STATE" \
		--run-dir "$ELB_RUN" --bpffs "$ELB_BPFFS" --bgp-port 1179 --metrics none
	[ "$status" -ne 0 ]
	[[ "$output" == *"$ELB_STATE/alone/edgelb-bgp: No such file or directory (the speaker is installed next to edgelbd)"* ]]
}

@test "edgelbd refuses to start when the speaker's root, <run-dir>/bgp-empty, is not empty or not root's alone" {
	elb_dirs
	mkdir -m 0755 "$ELB_RUN/bgp-empty"
	touch "$ELB_RUN/bgp-empty/left"
	run ip netns exec "$NODE" "$ELB_BIN/edgelbd" --config "$CONF" --state-dir "$ELB_STATE" \
		--run-dir "$ELB_RUN" --bpffs "$ELB_BPFFS" --bgp-port 1179 --metrics none
	[ "$status" -ne 0 ]
	[[ "$output" == *"$ELB_RUN/bgp-empty: not empty (the BGP speaker's root must be empty)"* ]]
	rm "$ELB_RUN/bgp-empty/left"
	chmod 0777 "$ELB_RUN/bgp-empty"
	run ip netns exec "$NODE" "$ELB_BIN/edgelbd" --config "$CONF" --state-dir "$ELB_STATE" \
		--run-dir "$ELB_RUN" --bpffs "$ELB_BPFFS" --bgp-port 1179 --metrics none
	[ "$status" -ne 0 ]
	[[ "$output" == *"$ELB_RUN/bgp-empty: not a directory owned by root and writable by root alone"* ]]
}

@test "the speaker runs as nobody, chrooted to an empty directory, without capabilities; a TCP MD5 key in a root-only file still peers, and a new key in it restarts the session" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	elb_speaker
	[ "$(readlink "/proc/$ELB_SPEAKER/root")" = "$(realpath "$ELB_RUN")/bgp-empty" ]
	[ -z "$(ls -A "$ELB_RUN/bgp-empty")" ]
	grep -q "bgp: speaker runs as uid 65534 gid 65534 in $ELB_RUN/bgp-empty, no capabilities" "$ELB_LOG"
	grep -qE '^Uid:\s+65534\s+65534\s+65534\s+65534$' "/proc/$ELB_SPEAKER/status"
	grep -qE '^CapEff:\s+0+$' "/proc/$ELB_SPEAKER/status"
	grep -qE '^NoNewPrivs:\s+1$' "/proc/$ELB_SPEAKER/status"
	bird_start 64512 64513 'neighbor port 1179; password "s3cret-md5";'
	(umask 077 && echo s3cret-md5 >"$BGP_DIR/root.key")
	web_set
	node_peer_set --peer-asn 64512 --self-asn 64513 --password-file "$BGP_DIR/root.key"
	elb_wait 15 established
	elb_wait 5 bird_has t4 192.0.2.100/32 192.0.2.2
	# a key the speaker could not read itself: the agent read it
	run setpriv --reuid=65534 --regid=65534 --clear-groups cat "$BGP_DIR/root.key"
	[ "$status" -ne 0 ]
	# the same peer again (an upsert that changes nothing) reads the key again
	echo other-key >"$BGP_DIR/root.key"
	node_peer_set --peer-asn 64512 --self-asn 64513 --password-file "$BGP_DIR/root.key"
	elb_wait 10 grep -q "the key in $BGP_DIR/root.key changed, restarting the session" "$ELB_LOG"
	sleep 3
	[ "$(node_peer_state)" != Established ]
}
