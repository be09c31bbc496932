# Helpers for the BGP integration tests: a node namespace running edgelbd and a router
# namespace running a real BGP daemon (BIRD 2, FRR or GoBGP), joined by one veth, dual-stack.
# Source after lib/agent (it records every namespace, process and dir for elb_teardown).
#
#   +-- elb<id>n (node) ------+          +-- elb<id>r (router) ------------+
#   |  edgelbd                |          |  bird / zebra+bgpd / gobgpd      |
#   |  eN 192.0.2.2/24        |--veth----|  eR 192.0.2.1/24                 |
#   |     2001:db8:77::2/64   |          |     2001:db8:77::1/64            |
#   +-------------------------+          +----------------------------------+

BGP_NODE4=192.0.2.2 BGP_ROUTER4=192.0.2.1
BGP_NODE6=2001:db8:77::2 BGP_ROUTER6=2001:db8:77::1

# bgp_topology: creates NODE and ROUTER namespaces and the veth, waits for IPv6 DAD.
bgp_topology() {
	NODE=$(elb_ns n)
	ROUTER=$(elb_ns r)
	elb_veth "$NODE" eN "$ROUTER" eR
	ip -n "$NODE" addr add "$BGP_NODE4/24" dev eN
	ip -n "$ROUTER" addr add "$BGP_ROUTER4/24" dev eR
	ip -n "$NODE" addr add "$BGP_NODE6/64" dev eN nodad
	ip -n "$ROUTER" addr add "$BGP_ROUTER6/64" dev eR nodad
	elb_wait 10 bash -c "ip -n $NODE -6 addr show dev eN scope link | grep -q 'inet6 fe80' &&
		! ip -n $NODE -6 addr show dev eN | grep -q tentative"
	elb_dirs
	BGP_DIR=$(mktemp -d /tmp/elb-bgp-XXXXXX)
	ELB_DIRS+=("$BGP_DIR")
	chmod 755 "$BGP_DIR"
}

# The interop files' pool: both families, with communities, a large community and LOCAL_PREF
# for the peer to show.
BGP_POOL="  - {name: p1, addresses: [192.0.2.100-192.0.2.110, '2001:db8:77::100-2001:db8:77::110'], switch: vSwitch1, communities: ['64512:7'], largeCommunities: ['64512:1:2'], localPref: 150}"

# bgp_node_conf [POOLS_YAML [SERVICES_YAML]]: writes the node config, prints its path.
bgp_node_conf() {
	local conf="$BGP_DIR/node.yaml"
	cat >"$conf" <<-YAML
	node: {name: node-a}
	switches:
	  - name: vSwitch1
	    interfaces: [eN]
	    compute: true
	  - name: vSwitch2
	    interfaces: [lo]
	pools:
	${1:-  []}
	bgpPeers: []
	services:
	${2:-  []}
	YAML
	echo "$conf"
}

# bird_start LOCAL_AS PEER_AS [EXTRA_PROTO_LINES]: BIRD in ROUTER peering with the node over
# IPv4 (both families) and IPv6 (both families), passive and active. Sets BIRD_PID, BIRD_SOCK.
bird_start() {
	local las=$1 pas=$2 extra=${3:-}
	BIRD_CONF="$BGP_DIR/bird.conf" BIRD_SOCK="$BGP_DIR/bird.ctl"
	cat >"$BIRD_CONF" <<-EOF
	router id $BGP_ROUTER4;
	log "$BGP_DIR/bird.log" all;
	protocol device { scan time 1; }
	ipv4 table t4;
	ipv6 table t6;
	protocol bgp edge4 {
		local $BGP_ROUTER4 as $las;
		neighbor $BGP_NODE4 as $pas;
		hold time 9;
		connect retry time 1;
		error wait time 1, 2;
		$extra
		ipv4 { table t4; import all; export none; };
		ipv6 { table t6; import all; export none; };
	}
	EOF
	bird_run
}

# bird_run [NS]: starts BIRD with BIRD_CONF on BIRD_SOCK in NS (ROUTER by default); sets BIRD_PID.
bird_run() {
	rm -f "$BIRD_SOCK"
	ip netns exec "${1:-$ROUTER}" bird -f -c "$BIRD_CONF" -s "$BIRD_SOCK" -P "$BGP_DIR/bird.pid" \
		>>"$BGP_DIR/bird.out" 2>&1 &
	BIRD_PID=$!
	ELB_PIDS+=("$BIRD_PID")
	elb_wait 10 birdc -s "$BIRD_SOCK" show status
}

birdc_() { birdc -s "$BIRD_SOCK" "$@"; }

# bird_state PROTO: the BGP state BIRD reports (Established, Active, Connect, ...).
bird_state() {
	birdc_ show protocols "$1" | awk -v p="$1" '$1 == p { print $6 }'
}

# bird_since PROTO: when BIRD's protocol last changed state (it moves when BGP restarts).
bird_since() { birdc_ show protocols "$1" | awk -v p="$1" '$1 == p { print $5 }'; }

# bird_same_time A B: two of BIRD's "hh:mm:ss.mmm" within 100 ms of each other. BIRD prints a
# monotonic instant as wall-clock time, so one instant can read a millisecond apart in two
# queries; a restart of a session moves it by a second or more.
bird_same_time() {
	local a b d day=86400000
	[[ $1 == *:*:*.* && $2 == *:*:*.* ]] || return 1
	a=$(awk -F'[:.]' '{ print (($1 * 60 + $2) * 60 + $3) * 1000 + $4 }' <<<"$1")
	b=$(awk -F'[:.]' '{ print (($1 * 60 + $2) * 60 + $3) * 1000 + $4 }' <<<"$2")
	d=$(((a - b + day) % day))
	((d <= 100 || d >= day - 100))
}

# bird_route TABLE PREFIX: BIRD's full view of a route ("" when absent).
bird_route() {
	birdc_ show route table "$1" for "$2" all 2>/dev/null | grep -v '^BIRD\|Network not found' || true
}

bird_has() { [[ -n "$(bird_route "$1" "$2")" ]] && bird_route "$1" "$2" | grep -q "$3"; }
bird_lacks() { [[ -z "$(bird_route "$1" "$2" | grep "$2")" ]]; }

# frr_start LOCAL_AS PEER_AS [EXTRA_NEIGHBOR_LINES]: zebra + bgpd in ROUTER. Sets FRR_DIR.
frr_start() {
	local las=$1 pas=$2 extra=${3:-}
	FRR_DIR="$BGP_DIR/frr"
	mkdir -p "$FRR_DIR"
	cat >"$FRR_DIR/bgpd.conf" <<-EOF
	hostname r
	log file $FRR_DIR/bgpd.log
	router bgp $las
	 bgp router-id $BGP_ROUTER4
	 no bgp ebgp-requires-policy
	 no bgp default ipv4-unicast
	 timers bgp 3 9
	 neighbor $BGP_NODE4 remote-as $pas
	 neighbor $BGP_NODE4 timers connect 1
	 $extra
	 address-family ipv4 unicast
	  neighbor $BGP_NODE4 activate
	 exit-address-family
	 address-family ipv6 unicast
	  neighbor $BGP_NODE4 activate
	 exit-address-family
	EOF
	: >"$FRR_DIR/zebra.conf"
	chown -R frr:frr "$FRR_DIR"
	ip netns exec "$ROUTER" /usr/lib/frr/zebra -d -A 127.0.0.1 -P 0 --vty_socket "$FRR_DIR" \
		-z "$FRR_DIR/zserv.api" -f "$FRR_DIR/zebra.conf" -i "$FRR_DIR/zebra.pid"
	elb_wait 10 test -s "$FRR_DIR/zebra.pid"
	ELB_PIDS+=("$(cat "$FRR_DIR/zebra.pid")")
	frr_bgpd_run
}

frr_bgpd_run() {
	rm -f "$FRR_DIR/bgpd.pid"
	ip netns exec "$ROUTER" /usr/lib/frr/bgpd -d -n -A 127.0.0.1 -P 0 --vty_socket "$FRR_DIR" \
		-z "$FRR_DIR/zserv.api" -f "$FRR_DIR/bgpd.conf" -i "$FRR_DIR/bgpd.pid"
	elb_wait 10 test -s "$FRR_DIR/bgpd.pid"
	FRR_BGPD_PID=$(cat "$FRR_DIR/bgpd.pid")
	ELB_PIDS+=("$FRR_BGPD_PID")
}

vtysh_() { vtysh --vty_socket "$FRR_DIR" -c "$*"; }

# frr_state: the neighbor's BGP state as FRR reports it.
frr_state() {
	vtysh_ "show bgp neighbors $BGP_NODE4 json" 2>/dev/null | jq -r ".\"$BGP_NODE4\".bgpState"
}

# frr_route AFI PREFIX: FRR's JSON view of a route ({} when absent).
frr_route() {
	vtysh_ "show bgp $1 unicast $2 json" 2>/dev/null
}

frr_has() { [[ "$(frr_route "$1" "$2" | jq -r '.paths | length')" -ge 1 ]] 2>/dev/null; }
frr_lacks() { [[ "$(frr_route "$1" "$2" | jq -r '.paths // [] | length')" == 0 ]]; }

# md5_wrong_then_right ROUTER_UP: the router expects TCP MD5 key s3cret-md5. The node's peer
# (AS 64513 to 64512) gets a wrong key first: within a bounded 4 s window no session comes up
# on either side (ROUTER_UP: succeeds while the router calls the session Established); then the
# matching key, and the session comes up on both sides.
md5_wrong_then_right() {
	echo wrong-key >"$BGP_DIR/bad.key"
	echo s3cret-md5 >"$BGP_DIR/good.key"
	node_peer_set --peer-asn 64512 --self-asn 64513 --password-file "$BGP_DIR/bad.key"
	sleep 4
	[ "$(node_peer_state)" != Established ] || return 1
	! "$1" || return 1
	node_peer_set --peer-asn 64512 --self-asn 64513 --password-file "$BGP_DIR/good.key"
	router_and_node_up() { "$1" && [ "$(node_peer_state)" = Established ]; }
	elb_wait 20 router_and_node_up "$1"
}

# node_peer_set ARGS...: bgp peer set for the router on vSwitch1 with short timers.
node_peer_set() {
	elb bgp peer set --peer-address "$BGP_ROUTER4" --switch vSwitch1 --connect-time 1 "$@"
}

node_peer_state() {
	elb -o json bgp peer list --switch vSwitch1 | jq -r ".[] | select(.peerAddress == \"${1:-$BGP_ROUTER4}\") | .state"
}

# elb_req CMD ARGS_JSON: one control request on the agent's socket; fails unless ok.
elb_req() {
	local out
	out=$(printf '{"cmd":"%s","args":%s}\n' "$1" "$2" | socat -t5 - "UNIX-CONNECT:$EDGELB_SOCKET")
	jq -e .ok <<<"$out" >/dev/null || { echo "$1: $out" >&2; return 1; }
}

# web_set: the dual-stack service both BGP files announce.
web_set() {
	elb_req service.set '{"name":"default/web","ports":["tcp/80"],"pool":"p1","ipFamily":"dual"}'
}

# gobgp_start LOCAL_AS PEER_AS [NEIGHBOR_CONFIG_LINES] [RESTART_TIME]: gobgpd in ROUTER, peering
# with the node on port 1179 over IPv4 (both families); NEIGHBOR_CONFIG_LINES go into the
# neighbor's config table (auth-password = "..."); RESTART_TIME turns graceful restart on as
# the receiving speaker. Sets GOBGP_CONF and GOBGP_PID.
gobgp_start() {
	local las=$1 pas=$2 extra=${3:-} gr=${4:-} fam
	GOBGP_CONF="$BGP_DIR/gobgpd.toml"
	cat >"$GOBGP_CONF" <<-EOF
	[global.config]
	  as = $las
	  router-id = "$BGP_ROUTER4"
	[[neighbors]]
	  [neighbors.config]
	    neighbor-address = "$BGP_NODE4"
	    peer-as = $pas
	    $extra
	  [neighbors.transport.config]
	    remote-port = 1179
	  [neighbors.timers.config]
	    connect-retry = 1
	    hold-time = 9
	    keepalive-interval = 3
	EOF
	if [[ -n $gr ]]; then
		printf '  [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = %s\n' \
			"$gr" >>"$GOBGP_CONF"
	fi
	for fam in ipv4-unicast ipv6-unicast; do
		printf '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "%s"\n' \
			"$fam" >>"$GOBGP_CONF"
		[[ -z $gr ]] || printf '    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n' >>"$GOBGP_CONF"
	done
	gobgp_run
}

# gobgp_run: starts gobgpd with GOBGP_CONF in ROUTER (API on its loopback); sets GOBGP_PID.
gobgp_run() {
	ip netns exec "$ROUTER" gobgpd -f "$GOBGP_CONF" -t toml --api-hosts 127.0.0.1:50051 -l info \
		>>"$BGP_DIR/gobgpd.log" 2>&1 &
	GOBGP_PID=$!
	ELB_PIDS+=("$GOBGP_PID")
	elb_wait 10 gobgp_ global rib summary
}

gobgp_() { ip netns exec "$ROUTER" gobgp -p 50051 "$@"; }

# gobgp_up: GoBGP reports the session with the node Established (session_state 6 in its API).
gobgp_up() {
	[ "$(gobgp_ neighbor "$BGP_NODE4" -j 2>/dev/null | jq -r '.state.session_state')" = 6 ]
}

# gobgp_path AFI PREFIX: GoBGP's best path for PREFIX in its global RIB as JSON ("" when absent).
gobgp_path() {
	gobgp_ global rib -a "$1" "$2" -j 2>/dev/null | jq -c --arg p "$2" '.[$p][0] // empty' 2>/dev/null
}

gobgp_has() { [[ -n "$(gobgp_path "$1" "$2")" ]]; }
gobgp_lacks() { [[ -z "$(gobgp_path "$1" "$2")" ]]; }
