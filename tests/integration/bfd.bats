#!/usr/bin/env bats
# BFD (RFC 5880/5881, multihop RFC 5883) for BGP sessions against BIRD 2: edgelbd's BFD
# session with BIRD's `protocol bfd`, and RFC 5882 client behaviour (BFD Down tears the BGP
# session down at once).
#
#   +-- elb<id>n (node) --------------+        +-- elb<id>r (router) ------------+
#   |  edgelbd --bgp-port 1179        |        |  bird: protocol bfd (eR)        |
#   |  BFD UDP 3784, TTL 255          |--veth--|  bgp edge4 192.0.2.2  bfd on    |
#   |  eN 192.0.2.2/24 2001:db8:77::2/64     |        |  bgp edge6 2001:db8:77::2    (no BFD)  |
#   +---------------------------------+        |  (or zebra + bgpd + bfdd, FRR)  |
#                                              |  eR 192.0.2.1/24 2001:db8:77::1/64     |
#                                              +---------------------------------+
#
# The IPv4 peer runs BFD 300 ms x 3 with a 90 s hold time; the IPv6 peer has no BFD. Freezing
# BIRD (SIGSTOP) must take the IPv4 session down within the detection time, long before the
# hold timer, and leave the IPv6 session alone. Authentication keys roll over (RFC 5880 6.7:
# the Auth Key ID selects the key) while BIRD is reconfigured live, and the sessions stay up.
# Assertions read `edgelb -o json`, the agent's log and `birdc show bfd sessions`.

load lib/agent
load lib/bgp

setup() {
	bgp_topology
	CONF=$(bgp_node_conf)
}

teardown() {
	[[ -n ${BIRD_PID:-} ]] && kill -CONT "$BIRD_PID" 2>/dev/null || true
	[[ -n ${FRR_BFDD_PID:-} ]] && kill -CONT "$FRR_BFDD_PID" 2>/dev/null || true
	elb_teardown
}

# bird_bfd_start [BFD4 [BFD6 [PASSIVE]]]: BIRD with BFD on eR (300 ms x 3); edge4 with `bfd on`
# and edge6 without unless told otherwise (on/off); BIRD's BFD active unless PASSIVE is on.
# BIRD_BFD_IFACE: more options for the eR block (`authentication keyed md5; password ...;`).
bird_bfd_start() {
	local bfd4=${1:-on} bfd6=${2:-off} passive=${3:-off}
	command -v bird >/dev/null || skip "bird2 is not installed"
	BIRD_CONF="$BGP_DIR/bird.conf" BIRD_SOCK="$BGP_DIR/bird.ctl"
	cat >"$BIRD_CONF" <<-EOF
	router id $BGP_ROUTER4;
	log "$BGP_DIR/bird.log" all;
	protocol device { scan time 1; }
	ipv4 table t4;
	ipv6 table t6;
	protocol bfd {
		interface "eR" { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; passive $passive; ${BIRD_BFD_IFACE:-} };
		neighbor $BGP_NODE4;
		neighbor $BGP_NODE6;
	}
	protocol bgp edge4 {
		local $BGP_ROUTER4 as 64512;
		neighbor $BGP_NODE4 as 64513;
		neighbor port 1179;
		hold time 90;
		connect retry time 1;
		error wait time 1, 2;
		bfd $bfd4;
		ipv4 { table t4; import all; export none; };
	}
	protocol bgp edge6 {
		local $BGP_ROUTER6 as 64512;
		neighbor $BGP_NODE6 as 64513;
		neighbor port 1179;
		hold time 90;
		connect retry time 1;
		error wait time 1, 2;
		bfd $bfd6;
		ipv6 { table t6; import all; export none; };
	}
	EOF
	bird_run
}

# bird_bfd_state IP: the BFD session state BIRD reports for IP ("" when none).
bird_bfd_state() {
	birdc_ show bfd sessions | awk -v ip="$1" '$1 == ip { print $3 }'
}

peer_json() { elb -o json bgp peer show "$1"; }
peer_field() { peer_json "$1" | jq -r ".$2"; }
node_bfd_state() { peer_field "$BGP_ROUTER4" bfdState; }

bfd_peers_set() {
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd --bfd-min-tx 300 \
		--bfd-min-rx 300 --bfd-multiplier 3
	elb bgp peer set --peer-address "$BGP_ROUTER6" --switch vSwitch1 --connect-time 1 \
		--peer-asn 64512 --self-asn 64513 --hold-time 90
}

both_up() {
	[ "$(bird_bfd_state "$BGP_NODE4")" = Up ] && [ "$(node_bfd_state)" = Up ] &&
		[ "$(bird_state edge4)" = Established ] && [ "$(node_peer_state)" = Established ] &&
		[ "$(node_peer_state "$BGP_ROUTER6")" = Established ]
}

# log_ms PATTERN: epoch milliseconds of the last agent log line matching PATTERN.
log_ms() {
	local ts
	ts=$(grep -F "$1" "$ELB_LOG" | tail -1 | awk '{ print $1 }')
	[[ -n $ts ]] || return 1
	echo $(($(date -u -d "$ts" +%s%3N)))
}

@test "BFD comes Up with BIRD; show and metrics report it; a peer without BFD shows Off" {
	elb_start "$NODE" "$CONF" --bgp-port 1179 --metrics 127.0.0.1:17473
	bird_bfd_start
	bfd_peers_set
	elb_wait 20 both_up
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -r .bfd <<<"$out")" = true ]
	[ "$(jq -r .bfdRemoteState <<<"$out")" = Up ]
	[ "$(jq -r .bfdMinTx <<<"$out")" = 300 ]
	[ "$(jq -r .bfdMinRx <<<"$out")" = 300 ]
	[ "$(jq -r .bfdMultiplier <<<"$out")" = 3 ]
	[ "$(jq -r .bfdDetectTime <<<"$out")" = 900 ]
	[ "$(jq -r .bfdUpCount <<<"$out")" = 1 ]
	[ "$(jq -r .bfdDownCount <<<"$out")" = 0 ]
	[ "$(jq -r .bfdRemoteDiscriminator <<<"$out")" != 0 ]
	[ "$(jq -r .bfdPacketsDropped <<<"$out")" = 0 ]
	# after the poll sequence that follows Up, packets are paced at 300 ms
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .bfdTxInterval)\" = 300 ]"
	[ "$(peer_field "$BGP_ROUTER6" bfdState)" = Off ]
	[ "$(peer_field "$BGP_ROUTER6" bfd)" = false ]
	run elb bgp peer show "$BGP_ROUTER4"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Bfd "*": Up"* ]]
	m=$(ip netns exec "$NODE" curl -s http://127.0.0.1:17473/metrics)
	grep -q '^edgelb_bfd_session_up{peer="192.0.2.1",switch="vSwitch1"} 1' <<<"$m"
	# one count per state change the agent logged: Down -> Init -> Up, or Down -> Up when BIRD
	# was in Init first (RFC 5880 6.8.6), so 1 or 2 by timing
	changes=$(grep -c 'bfd: peer 192.0.2.1: [A-Za-z]* -> ' "$ELB_LOG")
	((changes >= 1))
	grep -q "^edgelb_bfd_session_state_changes_total{peer=\"192.0.2.1\",switch=\"vSwitch1\"} $changes\$" <<<"$m"
	! grep -q '^edgelb_bfd_session_up{peer="2001:db8:77::1"' <<<"$m" || false
	# BIRD's packets carry TTL 255 and were all accepted (GTSM, RFC 5881 5)
	grep -q 'bfd: peer 192.0.2.1: Down -> ' "$ELB_LOG"
	! grep -q 'bfd: packet from 192.0.2.1 dropped' "$ELB_LOG" || false
}

v4_up() {
	[ "$(bird_bfd_state "$BGP_NODE4")" = Up ] && [ "$(node_bfd_state)" = Up ] &&
		[ "$(bird_state edge4)" = Established ] && [ "$(node_peer_state)" = Established ]
}

@test "apply -f of a MetalLB BGPPeer naming a BFDProfile: BFD Up with BIRD at the profile's timers" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_bfd_start
	cat >"$BGP_DIR/mlb.yaml" <<-EOF
	apiVersion: metallb.io/v1beta2
	kind: BGPPeer
	metadata: {name: tor, namespace: metallb-system}
	spec: {myASN: 64513, peerASN: 64512, peerAddress: $BGP_ROUTER4, holdTime: 90s,
	       connectTime: 1s, bfdProfile: fast}
	---
	apiVersion: metallb.io/v1beta1
	kind: BFDProfile
	metadata: {name: fast, namespace: metallb-system}
	spec: {receiveInterval: 200, transmitInterval: 250, detectMultiplier: 4, echoMode: false}
	EOF
	run elb apply -f "$BGP_DIR/mlb.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"peer/vSwitch1/$BGP_ROUTER4 created"* ]]
	elb_wait 20 v4_up
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -c '{bfd, bfdMinTx, bfdMinRx, bfdMultiplier}' <<<"$out")" = \
		'{"bfd":true,"bfdMinTx":250,"bfdMinRx":200,"bfdMultiplier":4}' ]
	# BIRD's timeout is our multiplier 4 x max(its 300 ms min rx, our 250 ms min tx)
	[ "$(birdc_ show bfd sessions | awk -v ip="$BGP_NODE4" '$1 == ip { print $3, $6 }')" = "Up 1.200" ]
	[ "$(jq -c '{bfdEchoMode, bfdEchoActive}' <<<"$out")" = \
		'{"bfdEchoMode":false,"bfdEchoActive":false}' ]
	# echoMode that is not a boolean is refused and changes nothing
	sed -i 's/echoMode: false/echoMode: maybe/' "$BGP_DIR/mlb.yaml"
	run elb apply -f "$BGP_DIR/mlb.yaml"
	[ "$status" -ne 0 ]
	[[ "$output" == *"BFDProfile fast ($BGP_DIR/mlb.yaml doc 2): spec.echoMode: \"maybe\": not a boolean (allowed: true, false)"* ]]
	[ "$(peer_field "$BGP_ROUTER4" bfdEchoMode)" = false ]
	# echoMode: true with echoInterval reaches the peer; BIRD has no echo function (it
	# advertises no Required Min Echo RX), so none is sent and the session stays Up
	sed -i 's/echoMode: maybe/echoMode: true, echoInterval: 100/' "$BGP_DIR/mlb.yaml"
	run elb apply -f "$BGP_DIR/mlb.yaml"
	[ "$status" -eq 0 ]
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .bfdEchoInterval)\" = 100 ]"
	[ "$(peer_field "$BGP_ROUTER4" bfdEchoPacketsSent)" = 0 ]
	[ "$(peer_field "$BGP_ROUTER4" bfdMinTx)" = 250 ]
	v4_up
}

@test "passive role (RFC 5880 6.1): nothing is sent until BIRD's first packet, then Up" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd --bfd-passive
	grep -q 'bfd: peer 192.0.2.1: session created (discriminator [0-9]*, 300/300 ms x 3, passive)' "$ELB_LOG"
	# no BFD speaker on the link yet: an active session sends a Down every second
	sleep 2.5
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -r .bfdPassive <<<"$out")" = true ]
	[ "$(jq -r .bfdState <<<"$out")" = Down ]
	[ "$(jq -r .bfdRemoteDiscriminator <<<"$out")" = 0 ]
	[ "$(jq -r .bfdPacketsSent <<<"$out")" = 0 ]
	bird_bfd_start
	elb_wait 20 v4_up
	(($(peer_field "$BGP_ROUTER4" bfdPacketsSent) > 0))
	run elb bgp peer show "$BGP_ROUTER4"
	[[ "$output" == *"BfdPassive "*": True"* ]]
}

@test "BIRD passive too: neither end starts and nothing is sent; turning ours active brings BFD Up" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_bfd_start on off on
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd --bfd-passive
	bgp_up() { [ "$(bird_state edge4)" = Established ] && [ "$(node_peer_state)" = Established ]; }
	elb_wait 20 bgp_up
	sleep 3
	[ "$(node_bfd_state)" = Down ]
	[ "$(peer_field "$BGP_ROUTER4" bfdPacketsSent)" = 0 ]
	[ "$(peer_field "$BGP_ROUTER4" bfdPacketsReceived)" = 0 ]
	[ "$(bird_bfd_state "$BGP_NODE4")" != Up ]
	est=$(peer_field "$BGP_ROUTER4" established)
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd
	elb_wait 20 v4_up
	grep -q 'bfd: peer 192.0.2.1: active role, minimum TTL 255' "$ELB_LOG"
	[ "$(peer_field "$BGP_ROUTER4" bfdPassive)" = false ]
	# the role changed without restarting BGP
	[ "$(peer_field "$BGP_ROUTER4" established)" = "$est" ]
}

@test "GTSM and 6.8.6: a Down with TTL 64 and a version-0 packet are dropped, counted, ignored" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_bfd_start
	bfd_peers_set
	elb_wait 20 both_up
	d0=$(peer_field "$BGP_ROUTER4" bfdPacketsDropped)
	# State Down, My Discriminator 0x51, Your Discriminator 0, 1 s / 1 s: valid but for the TTL
	down='\x20\x40\x03\x18\x00\x00\x00\x51\x00\x00\x00\x00\x00\x0f\x42\x40\x00\x0f\x42\x40\x00\x00\x00\x00'
	# shellcheck disable=SC2059
	printf "$down" | ip netns exec "$ROUTER" socat -u - "UDP4-SENDTO:$BGP_NODE4:3784,ttl=64"
	# shellcheck disable=SC2059
	printf "\\x00${down:4}" | ip netns exec "$ROUTER" socat -u - "UDP4-SENDTO:$BGP_NODE4:3784,ttl=255"
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .bfdPacketsDropped)\" = $((d0 + 2)) ]"
	grep -q 'bfd: packet from 192.0.2.1 dropped: ttl' "$ELB_LOG"
	grep -q 'bfd: packet from 192.0.2.1 dropped: version' "$ELB_LOG"
	[ "$(node_bfd_state)" = Up ]
	[ "$(peer_field "$BGP_ROUTER4" bfdDownCount)" = 0 ]
	[ "$(node_peer_state)" = Established ]
}

@test "BIRD frozen: BFD Down within 3 x 300 ms tears BGP down long before the 90 s hold time" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_bfd_start
	bfd_peers_set
	elb_wait 20 both_up
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .bfdTxInterval)\" = 300 ]"
	t0=$(date +%s%3N)
	kill -STOP "$BIRD_PID"
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .bfdState)\" != Up ]"
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .state)\" != Established ]"
	t_bfd=$(log_ms "bfd: peer 192.0.2.1: Up -> Down (control detection time expired)")
	t_bgp=$(log_ms "bgp: peer 192.0.2.1: Established -> Idle (BFD session down)")
	echo "BFD down after $((t_bfd - t0)) ms, BGP down after $((t_bgp - t0)) ms" >&3
	# the last packet came at most one interval (300 ms) before the freeze: 600-900 ms
	((t_bfd - t0 >= 400 && t_bfd - t0 <= 1200))
	((t_bgp - t_bfd >= 0 && t_bgp - t_bfd <= 100))
	grep -q 'sent NOTIFICATION 6/10 (cease / BFD down)' "$ELB_LOG"
	! grep -q 'hold timer expired' "$ELB_LOG" || false
	[ "$(peer_field "$BGP_ROUTER4" bfdDiagnostic)" = "control detection time expired" ]
	[ "$(peer_field "$BGP_ROUTER4" bfdDownCount)" = 1 ]
	# the peer without BFD keeps its session: only its 90 s hold timer would notice
	[ "$(node_peer_state "$BGP_ROUTER6")" = Established ]
	sleep 2
	[ "$(node_peer_state "$BGP_ROUTER6")" = Established ]
	[ "$(node_peer_state)" != Established ]
	kill -CONT "$BIRD_PID"
	elb_wait 30 both_up
	[ "$(peer_field "$BGP_ROUTER4" bfdUpCount)" = 2 ]
}

@test "BFD over IPv6 (peer 2001:db8:77::1): BIRD frozen takes it down, the IPv4 peer without BFD stays" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_bfd_start off on
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90
	elb bgp peer set --peer-address "$BGP_ROUTER6" --switch vSwitch1 --connect-time 1 \
		--peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd
	v6_up() {
		[ "$(bird_bfd_state "$BGP_NODE6")" = Up ] && [ "$(peer_field "$BGP_ROUTER6" bfdState)" = Up ] &&
			[ "$(node_peer_state "$BGP_ROUTER6")" = Established ] && [ "$(node_peer_state)" = Established ]
	}
	elb_wait 20 v6_up
	[ "$(peer_field "$BGP_ROUTER6" bfdDetectTime)" = 900 ]
	[ "$(peer_field "$BGP_ROUTER4" bfdState)" = Off ]
	t0=$(date +%s%3N)
	kill -STOP "$BIRD_PID"
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER6 | jq -r .state)\" != Established ]"
	t_bfd=$(log_ms "bfd: peer 2001:db8:77::1: Up -> Down (control detection time expired)")
	echo "BFD (IPv6) down after $((t_bfd - t0)) ms" >&3
	((t_bfd - t0 >= 400 && t_bfd - t0 <= 1200))
	grep -q 'bgp: peer 2001:db8:77::1: Established -> Idle (BFD session down)' "$ELB_LOG"
	[ "$(node_peer_state)" = Established ]
	kill -CONT "$BIRD_PID"
	elb_wait 30 v6_up
}

@test "BFD settings persist across an agent restart and the session comes back Up" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_bfd_start
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd --bfd-min-tx 200 \
		--bfd-multiplier 4
	elb_wait 20 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .bfdState)\" = Up ]"
	elb_stop
	elb_start "$NODE" "$CONF" --bgp-port 1179
	out=$(elb -o json bgp peer list)
	[ "$(jq length <<<"$out")" = 1 ]
	elb_wait 20 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .bfdState)\" = Up ]"
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -r .bfdMinTx <<<"$out")" = 200 ]
	[ "$(jq -r .bfdMinRx <<<"$out")" = 300 ]
	[ "$(jq -r .bfdMultiplier <<<"$out")" = 4 ]
	elb_wait 20 bash -c "[ \"\$(birdc -s $BIRD_SOCK show bfd sessions | awk '\$1 == \"$BGP_NODE4\" { print \$3 }')\" = Up ]"
}

@test "removing the peer sends AdminDown: BIRD goes Down at once, not after its detection time" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_bfd_start
	bfd_peers_set
	elb_wait 20 both_up
	elb bgp peer remove --peer-address "$BGP_ROUTER4" --switch vSwitch1
	elb_wait 10 bash -c "[ \"\$(birdc -s $BIRD_SOCK show bfd sessions | awk '\$1 == \"$BGP_NODE4\" { print \$3 }')\" = Down ]"
	t_rm=$(log_ms "bfd: peer 192.0.2.1: Up -> AdminDown (removed)")
	since=$(birdc_ show bfd sessions | awk -v ip="$BGP_NODE4" '$1 == ip { print $4 }')
	t_bird=$(date -d "$(date +%F) $since" +%s%3N)
	echo "BIRD's session went Down $((t_bird - t_rm)) ms after our AdminDown" >&3
	# AdminDown (RFC 5880 6.8.16) is acted on at once; a silent stop would take BIRD's
	# detection time (900 ms, at least 600 ms after the last packet)
	((t_bird - t_rm >= -50 && t_bird - t_rm <= 300))
	# the other session and BFD-less peers carry on
	[ "$(node_peer_state "$BGP_ROUTER6")" = Established ]
}

@test "BFD timers change at run time without restarting BGP (poll sequence)" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_bfd_start
	bfd_peers_set
	elb_wait 20 both_up
	est=$(peer_field "$BGP_ROUTER4" established)
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd --bfd-min-tx 500 \
		--bfd-min-rx 400 --bfd-multiplier 4
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .bfdTxInterval)\" = 500 ]"
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -r .bfdMinTx <<<"$out")" = 500 ]
	[ "$(jq -r .bfdMultiplier <<<"$out")" = 4 ]
	# BIRD sends at 300 ms, we ask for no faster than 400: the detection time is 3 x 400
	[ "$(jq -r .bfdDetectTime <<<"$out")" = 1200 ]
	[ "$(jq -r .bfdState <<<"$out")" = Up ]
	[ "$(jq -r .established <<<"$out")" = "$est" ]
	[ "$(jq -r .state <<<"$out")" = Established ]
	grep -q 'bfd: peer 192.0.2.1: timers 500/400 ms x 4 (poll sequence)' "$ELB_LOG"
	# turning BFD off keeps the BGP session too
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .bfdState)\" = Off ]"
	[ "$(peer_field "$BGP_ROUTER4" established)" = "$est" ]
}

@test "bgp peer set refuses bad BFD values with one line naming the field" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	run elb bgp peer set --peer-address "$BGP_ROUTER4" --switch vSwitch1 --peer-asn 64512 \
		--self-asn 64513 --bfd --bfd-min-tx 5
	[ "$status" -ne 0 ]
	[[ "$output" == *"bfdMinTx: 5"*"10-60000"* ]]
	run elb bgp peer set --peer-address "$BGP_ROUTER4" --switch vSwitch1 --peer-asn 64512 \
		--self-asn 64513 --bfd --bfd-multiplier 0
	[ "$status" -ne 0 ]
	[[ "$output" == *"bfdMultiplier: 0"*"1-255"* ]]
	run elb bgp peer set --peer-address "$BGP_ROUTER4" --switch vSwitch1 --peer-asn 64512 \
		--self-asn 64513 --bfd-min-rx 100
	[ "$status" -ne 0 ]
	[[ "$output" == *"bfdMinRx"*"bfd: true"* ]]
	run elb bgp peer set --peer-address "$BGP_ROUTER4" --switch vSwitch1 --peer-asn 64512 \
		--self-asn 64513 --bfd --bfd-minimum-ttl 0
	[ "$status" -ne 0 ]
	[[ "$output" == *"bfdMinimumTtl: 0: not a TTL (allowed: 1-255)"* ]]
	run elb bgp peer set --peer-address "$BGP_ROUTER4" --switch vSwitch1 --peer-asn 64512 \
		--self-asn 64513 --bfd-passive
	[ "$status" -ne 0 ]
	[[ "$output" == *"bfdPassive: set without bfd: true"* ]]
	[ "$(elb -o json bgp peer list | jq length)" = 0 ]
}

# bird_bfd_auth TYPE KEY: BIRD_BFD_IFACE for BIRD's BFD authentication TYPE (in BIRD's words:
# simple, keyed md5, meticulous keyed sha1, ...) with KEY as password ID 7.
bird_bfd_auth() { BIRD_BFD_IFACE="authentication $1; password \"$2\" { id 7; };"; }

# bird_stop: stops BIRD by its PID and reaps it.
bird_stop() {
	kill -TERM "$BIRD_PID"
	elb_wait 10 bash -c "! ps -o stat= -p $BIRD_PID | grep -q '^[^Z]'"
	wait "$BIRD_PID" 2>/dev/null || true
	BIRD_PID=
}

bgp4_up() { [ "$(bird_state edge4)" = Established ] && [ "$(node_peer_state)" = Established ]; }

# node_drops REASON: received BFD packets dropped for REASON, from the agent's metrics
# (edgelbd started with --metrics 127.0.0.1:17473).
node_drops() {
	ip netns exec "$NODE" curl -sf http://127.0.0.1:17473/metrics |
		awk -v m="edgelb_bfd_packets_dropped_total{reason=\"$1\"}" '$1 == m {print $2; n++} END {exit n != 1}'
}

@test "BFD authentication with BIRD: meticulous keyed SHA1 and keyed MD5 come Up; show names the type and key ID, never the key" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	# a 20-byte key for SHA1 and a 16-byte one for MD5: the longest each allows
	for row in "meticulous-keyed-sha1:meticulous keyed sha1:sha1-key-of-20-bytes" \
		"keyed-md5:keyed md5:md5-key-16-bytes"; do
		IFS=: read -r t bird_t key <<<"$row"
		bird_bfd_auth "$bird_t" "$key"
		bird_bfd_start
		run elb -o json bgp peer set --peer-address "$BGP_ROUTER4" --switch vSwitch1 \
			--connect-time 1 --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd \
			--bfd-auth-type "$t" --bfd-auth-key "$key" --bfd-auth-key-id 7
		[ "$status" -eq 0 ]
		[ "$(jq -r .bfdAuthKey <<<"$output")" = '********' ]
		[ "$(jq -r .bfdAuthType <<<"$output")" = "$t" ]
		[[ "$output" != *"$key"* ]]
		elb_wait 20 v4_up
		grep -q "bfd: peer 192.0.2.1: session created (discriminator [0-9]*, 300/300 ms x 3, authentication $t)" "$ELB_LOG"
		out=$(peer_json "$BGP_ROUTER4")
		[ "$(jq -r .bfdAuthType <<<"$out")" = "$t" ]
		[ "$(jq -r .bfdAuthKeyId <<<"$out")" = 7 ]
		[[ "$out" != *"$key"* ]]
		run elb bgp peer show "$BGP_ROUTER4"
		[ "$status" -eq 0 ]
		[[ "$output" == *"BfdAuthType "*": $t"* ]]
		[[ "$output" != *"$key"* ]]
		run elb -o json bgp peer list
		[[ "$output" != *"$key"* ]]
		# the sequence numbers keep passing both ends' windows: no drop, no flap
		sleep 2
		out=$(peer_json "$BGP_ROUTER4")
		[ "$(jq -r .bfdState <<<"$out")" = Up ]
		[ "$(jq -r .bfdDownCount <<<"$out")" = 0 ]
		[ "$(jq -r .bfdPacketsDropped <<<"$out")" = 0 ]
		[ "$(bird_bfd_state "$BGP_NODE4")" = Up ]
		elb bgp peer remove --peer-address "$BGP_ROUTER4" --switch vSwitch1
		bird_stop
	done
}

@test "a wrong BFD key never comes Up and is counted as authentication-failed; the right key set at run time brings it Up without restarting BGP" {
	elb_start "$NODE" "$CONF" --bgp-port 1179 --metrics 127.0.0.1:17473
	bird_bfd_auth "keyed sha1" key-A-right
	bird_bfd_start
	sha1_peer_set() {
		node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd \
			--bfd-auth-type keyed-sha1 --bfd-auth-key-id 7 --bfd-auth-key "$1"
	}
	sha1_peer_set key-B-wrong
	# BGP does not wait for BFD: it comes up, and a BFD session never Up cannot take it down
	elb_wait 20 bgp4_up
	est=$(peer_field "$BGP_ROUTER4" established)
	since=$(bird_since edge4)
	sleep 4
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -r .bfdState <<<"$out")" != Up ]
	[ "$(jq -r .bfdUpCount <<<"$out")" = 0 ]
	[ "$(jq -r .bfdRemoteDiscriminator <<<"$out")" = 0 ]
	(($(jq -r .bfdPacketsDropped <<<"$out") > 0))
	[ "$(bird_bfd_state "$BGP_NODE4")" != Up ]
	(($(node_drops authentication-failed) > 0))
	[ "$(node_drops authentication-sequence)" = 0 ]
	[ "$(node_drops authentication-missing)" = 0 ]
	sha1_peer_set key-A-right
	grep -q 'bfd: peer 192.0.2.1: authentication keyed-sha1, key ID 7' "$ELB_LOG"
	elb_wait 10 v4_up
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -r .bfdUpCount <<<"$out")" = 1 ]
	[ "$(jq -r .established <<<"$out")" = "$est" ]
	bird_same_time "$(bird_since edge4)" "$since"
	# with the right key nothing more is dropped
	dropped=$(jq -r .bfdPacketsDropped <<<"$out")
	sleep 1
	[ "$(peer_field "$BGP_ROUTER4" bfdPacketsDropped)" = "$dropped" ]
	[ "$(node_drops authentication-sequence)" = 0 ]
}

@test "simple password with BIRD comes Up; a password of digits only goes from the CLI as text" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_bfd_auth simple 20261125
	bird_bfd_start
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd \
		--bfd-auth-type simple --bfd-auth-key 20261125 --bfd-auth-key-id 7
	elb_wait 20 v4_up
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -r .bfdAuthType <<<"$out")" = simple ]
	[ "$(jq -r .bfdAuthKeyId <<<"$out")" = 7 ]
	[ "$(jq -r .bfdPacketsDropped <<<"$out")" = 0 ]
}

@test "BIRD authenticates, edgelb does not: dropped as authentication (A bit), never Up" {
	elb_start "$NODE" "$CONF" --bgp-port 1179 --metrics 127.0.0.1:17473
	bird_bfd_auth "keyed md5" md5-bird-only
	bird_bfd_start
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd
	elb_wait 20 bgp4_up
	sleep 3
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -r .bfdAuthType <<<"$out")" = none ]
	[ "$(jq -r .bfdAuthKeyId <<<"$out")" = null ]
	[ "$(jq -r .bfdState <<<"$out")" != Up ]
	[ "$(jq -r .bfdUpCount <<<"$out")" = 0 ]
	(($(jq -r .bfdPacketsDropped <<<"$out") > 0))
	[ "$(bird_bfd_state "$BGP_NODE4")" != Up ]
	(($(node_drops authentication) > 0))
	[ "$(node_drops authentication-failed)" = 0 ]
	[ "$(node_peer_state)" = Established ]
}

@test "bgp peer set refuses bad BFD authentication values with one line naming the field, never the key" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	auth_set() {
		elb bgp peer set --peer-address "$BGP_ROUTER4" --switch vSwitch1 --peer-asn 64512 \
			--self-asn 64513 --bfd "$@"
	}
	run auth_set --bfd-auth-type keyed-md5 --bfd-auth-key md5-key-17-bytesX
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bfdAuthKey: 17 bytes, too long for keyed-md5"*"1-16"* ]]
	[[ "$output" != *"md5-key-17-bytes"* ]]
	run auth_set --bfd-auth-type keyed-sha1 --bfd-auth-key sha1-key-of-21-bytesX
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bfdAuthKey: 21 bytes (allowed: "*"1-20"* ]]
	[[ "$output" != *"sha1-key-of-21"* ]]
	run auth_set --bfd-auth-type bogus --bfd-auth-key some-key
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'bfdAuthType: "bogus": not a type (allowed: none, simple, keyed-md5, meticulous-keyed-md5, keyed-sha1 or meticulous-keyed-sha1)'* ]]
	run auth_set --bfd-auth-key lonely-key
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bfdAuthKey: set without bfdAuthType"* ]]
	[[ "$output" != *"lonely-key"* ]]
	[ "$(elb -o json bgp peer list | jq length)" = 0 ]
}

# Key rollover (RFC 5880 6.7: the Auth Key ID selects the key). BIRD signs with the password
# whose `generate` window holds the present and takes every one whose `accept` window does
# (both unbounded unless set): a `generate to` in the past keeps a password for receiving only.
# shellcheck disable=SC2034 # read by name: ${!k} with k=ROLL_K<id>
ROLL_K1=rollover-key-one ROLL_K2=rollover-key-two ROLL_K3=rollover-key-three
ROLL_PAST='generate to "2000-01-01 00:00:00";'

# bird_roll_keys SIGN KEYS...: BIRD_BFD_IFACE for meticulous keyed SHA1 with password IDs KEYS
# (1, 2 or 3: ROLL_K1..3), all accepted, signing with ID SIGN only.
bird_roll_keys() {
	local sign=$1 id k gen
	shift
	BIRD_BFD_IFACE="authentication meticulous keyed sha1;"
	for id in "$@"; do
		k=ROLL_K$id gen=
		[ "$id" = "$sign" ] || gen=$ROLL_PAST
		BIRD_BFD_IFACE+=" password \"${!k}\" { id $id; $gen };"
	done
}

# bird_roll_reconfigure SIGN KEYS...: BIRD's running config with other passwords
# (bird_roll_keys), applied by `birdc configure` without a restart.
bird_roll_reconfigure() {
	local conf old=$BIRD_BFD_IFACE
	bird_roll_keys "$@"
	conf=$(<"$BIRD_CONF")
	[[ $conf == *"$old"* ]]
	printf '%s\n' "${conf/"$old"/"$BIRD_BFD_IFACE"}" >"$BIRD_CONF"
	[[ "$(birdc_ configure)" == *"Reconfigured"* ]]
}

# roll_peer_set SEND_ID [ACCEPT_ID...]: the peer with meticulous keyed SHA1, sending with key
# SEND_ID and accepting the others given (ROLL_K1..3 by ID).
roll_peer_set() {
	local k=ROLL_K$1 id a=() kid
	for id in "${@:2}"; do
		kid=ROLL_K$id
		a+=(--bfd-auth-accept-key "$id:${!kid}")
	done
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd \
		--bfd-auth-type meticulous-keyed-sha1 --bfd-auth-key-id "$1" \
		--bfd-auth-key "${!k}" "${a[@]}"
}

# node_drops_over REASON N: more than N received BFD packets dropped for REASON.
node_drops_over() {
	local n
	n=$(node_drops "$1") && ((n > $2))
}

# rcvd_key_is ID: the last authenticated BFD packet from the router carried key ID ID.
rcvd_key_is() { [ "$(peer_field "$BGP_ROUTER4" bfdAuthReceivedKeyId)" = "$1" ]; }

# bird_bfd_since IP: when BIRD's BFD session to IP last changed state.
bird_bfd_since() { birdc_ show bfd sessions | awk -v ip="$1" '$1 == ip { print $4 }'; }

# roll_steady UP_SINCE BIRD_SINCE EST: the sessions as they were: BFD Up on both ends with one
# Up and no Down since the start, BIRD's BFD and BGP sessions not restarted, our BGP session
# Established as often as before, nothing dropped.
roll_steady() {
	local out
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -r .bfdState <<<"$out")" = Up ]
	[ "$(jq -r .bfdUpCount <<<"$out")" = 1 ]
	[ "$(jq -r .bfdDownCount <<<"$out")" = 0 ]
	[ "$(jq -r .bfdPacketsDropped <<<"$out")" = 0 ]
	[ "$(jq -r .state <<<"$out")" = Established ]
	[ "$(jq -r .established <<<"$out")" = "$3" ]
	[ "$(bird_bfd_state "$BGP_NODE4")" = Up ]
	bird_same_time "$(bird_bfd_since "$BGP_NODE4")" "$2"
	[ "$(bird_state edge4)" = Established ]
	bird_same_time "$(bird_since edge4)" "$1"
}

@test "BFD key rollover with BIRD (meticulous keyed SHA1): BIRD moves to key 2, then we do; the sessions never go down" {
	elb_start "$NODE" "$CONF" --bgp-port 1179 --metrics 127.0.0.1:17473
	# BIRD signs with key 1 and takes 1 and 2; we sign with 1 and also take 2
	bird_roll_keys 1 1 2
	bird_bfd_start
	run elb -o json bgp peer set --peer-address "$BGP_ROUTER4" --switch vSwitch1 \
		--connect-time 1 --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd \
		--bfd-auth-type meticulous-keyed-sha1 --bfd-auth-key-id 1 \
		--bfd-auth-key "$ROLL_K1" --bfd-auth-accept-key "2:$ROLL_K2"
	[ "$status" -eq 0 ]
	[ "$(jq -c .bfdAuthAcceptKeys <<<"$output")" = '["2:********"]' ]
	[[ "$output" != *"$ROLL_K1"* && "$output" != *"$ROLL_K2"* ]]
	elb_wait 20 v4_up
	grep -q "bfd: peer 192.0.2.1: session created (discriminator [0-9]*, 300/300 ms x 3, authentication meticulous-keyed-sha1, accepting key IDs 2)" "$ELB_LOG"
	out=$(peer_json "$BGP_ROUTER4")
	ids=$(jq -c '[.bfdAuthKeyId, .bfdAuthAcceptKeyIds, .bfdAuthReceivedKeyId]' <<<"$out")
	[ "$ids" = '[1,[2],1]' ]
	est=$(jq -r .established <<<"$out")
	since=$(bird_since edge4)
	bfd_since=$(bird_bfd_since "$BGP_NODE4")
	roll_steady "$since" "$bfd_since" "$est"

	# BIRD moves first: it signs with key 2 (key 1 still taken); we verify with accepted key 2
	bird_roll_reconfigure 2 1 2
	elb_wait 10 rcvd_key_is 2
	sleep 2 # more than twice the detection time (900 ms) on key 2
	roll_steady "$since" "$bfd_since" "$est"

	# then we sign with key 2, and still take key 1 for a while
	roll_peer_set 2 1
	grep -q 'bfd: peer 192.0.2.1: authentication meticulous-keyed-sha1, key ID 2, accepting key IDs 1$' "$ELB_LOG"
	[ "$(peer_field "$BGP_ROUTER4" bfdAuthAcceptKeyIds | jq -c .)" = '[1]' ]
	sleep 2
	roll_steady "$since" "$bfd_since" "$est"

	# key 1 retired on both ends: BIRD has key 2 only, so its session staying Up shows that
	# our packets carry key 2, with sequence numbers that went on across the change
	bird_roll_reconfigure 2 2
	roll_peer_set 2
	[ "$(peer_field "$BGP_ROUTER4" bfdAuthAcceptKeyIds | jq -c .)" = '[]' ]
	sleep 2
	roll_steady "$since" "$bfd_since" "$est"
	[ "$(peer_field "$BGP_ROUTER4" bfdAuthReceivedKeyId)" = 2 ]
	! grep -q 'Authentication failed' "$BGP_DIR/bird.log" || false
	for r in missing failed sequence; do
		[ "$(node_drops "authentication-$r")" = 0 ]
	done
	[ "$(node_drops authentication)" = 0 ]
	# the keys are in no answer and no log line
	for k in "$ROLL_K1" "$ROLL_K2"; do
		! grep -qF "$k" "$ELB_LOG" || false
		run elb -o json bgp peer list
		[[ "$output" != *"$k"* ]]
		run elb bgp peer show "$BGP_ROUTER4"
		[[ "$output" != *"$k"* ]]
	done
}

@test "a BFD key ID we do not accept is refused as authentication-failed; the right accepted key at run time brings BFD Up without restarting BGP" {
	elb_start "$NODE" "$CONF" --bgp-port 1179 --metrics 127.0.0.1:17473
	# BIRD signs with key 3 (it takes 1 and 3); we sign with 1 and take 2
	bird_roll_keys 3 1 3
	bird_bfd_start
	roll_peer_set 1 2
	elb_wait 20 bgp4_up
	est=$(peer_field "$BGP_ROUTER4" established)
	since=$(bird_since edge4)
	elb_wait 10 node_drops_over authentication-failed 1
	sleep 2
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -r .bfdState <<<"$out")" != Up ]
	[ "$(jq -r .bfdUpCount <<<"$out")" = 0 ]
	[ "$(jq -r .bfdPacketsReceived <<<"$out")" = 0 ]
	[ "$(jq -r .bfdAuthReceivedKeyId <<<"$out")" = null ]
	[ "$(bird_bfd_state "$BGP_NODE4")" != Up ]
	failed=$(node_drops authentication-failed)
	(($(jq -r .bfdPacketsDropped <<<"$out") >= failed && failed >= 3))
	[ "$(node_drops authentication-sequence)" = 0 ]
	[ "$(node_drops authentication-missing)" = 0 ]
	# key ID 3 accepted, but with the wrong secret: still refused, still counted
	ROLL_K3=not-the-key-three roll_peer_set 1 2 3
	[ "$(peer_field "$BGP_ROUTER4" bfdAuthAcceptKeyIds | jq -c .)" = '[2,3]' ]
	sleep 3
	[ "$(node_drops authentication-failed)" -gt "$failed" ]
	[ "$(peer_field "$BGP_ROUTER4" bfdUpCount)" = 0 ]
	[ "$(peer_field "$BGP_ROUTER4" bfdPacketsReceived)" = 0 ]
	# the right key 3: Up, BGP untouched
	roll_peer_set 1 2 3
	elb_wait 10 v4_up
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -r .bfdAuthReceivedKeyId <<<"$out")" = 3 ]
	[ "$(jq -r .bfdUpCount <<<"$out")" = 1 ]
	[ "$(jq -r .established <<<"$out")" = "$est" ]
	bird_same_time "$(bird_since edge4)" "$since"
	failed=$(node_drops authentication-failed)
	sleep 1
	[ "$(node_drops authentication-failed)" = "$failed" ]
}

@test "bgp peer set refuses bad BFD accepted keys with one line naming the field, never the key; the keys persist" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	acc_set() {
		elb bgp peer set --peer-address "$BGP_ROUTER4" --switch vSwitch1 --peer-asn 64512 \
			--self-asn 64513 --bfd "$@"
	}
	sha1=(--bfd-auth-type keyed-sha1 --bfd-auth-key send-key-1)
	run acc_set "${sha1[@]}" --bfd-auth-accept-key 2:dup-key-A --bfd-auth-accept-key 2:dup-key-B
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bfdAuthAcceptKeys[1]: key ID 2 given twice (allowed: each key ID once, bfdAuthKeyId 1 included)"* ]]
	[[ "$output" != *dup-key* && "$output" != *send-key* ]]
	run acc_set "${sha1[@]}" --bfd-auth-accept-key 1:same-as-send
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bfdAuthAcceptKeys[0]: key ID 1 given twice"* ]]
	[[ "$output" != *same-as-send* ]]
	run acc_set --bfd-auth-accept-key 2:no-type-key
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bfdAuthAcceptKeys: set without bfdAuthType (allowed: with bfdAuthType simple, keyed-md5, meticulous-keyed-md5, keyed-sha1 or meticulous-keyed-sha1)"* ]]
	[[ "$output" != *no-type-key* ]]
	run acc_set --bfd-auth-type keyed-md5 --bfd-auth-key md5-send \
		--bfd-auth-accept-key 2:md5-key-17-bytesX
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bfdAuthAcceptKeys[0]: key ID 2: 17 bytes, too long for keyed-md5 (allowed: 1-16 bytes; 1-20 with keyed-sha1 and meticulous-keyed-sha1)"* ]]
	[[ "$output" != *md5-key-17* ]]
	run acc_set "${sha1[@]}" --bfd-auth-accept-key 3:sha1-key-of-21-bytesX
	[ "$status" -ne 0 ]
	[[ "$output" == *"bfdAuthAcceptKeys[0]: key ID 3: 21 bytes (allowed: 1-16 bytes; 1-20 with "* ]]
	[[ "$output" != *sha1-key-of-21* ]]
	run acc_set "${sha1[@]}" --bfd-auth-accept-key 2:a --bfd-auth-accept-key 3:b \
		--bfd-auth-accept-key 4:c --bfd-auth-accept-key 5:d \
		--bfd-auth-accept-key 6:fifth-key
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bfdAuthAcceptKeys: 5 keys (allowed: up to 4)"* ]]
	run acc_set "${sha1[@]}" --bfd-auth-accept-key no-id-given
	[ "$status" -ne 0 ]
	[[ "$output" == *'bfdAuthAcceptKeys[0]: not ID:KEY (allowed: a key ID 0-255, a colon, then the key, like "2:s3cret")'* ]]
	[[ "$output" != *no-id-given* ]]
	[ "$(elb -o json bgp peer list | jq length)" = 0 ]

	# a good one (the cmdlet spelling too), then a bad change leaves it as it was
	acc_set "${sha1[@]}" --bfd-auth-key-id 7 --bfd-auth-accept-key "8:key:with:colons" \
		-BfdAuthAcceptKey 0:zero-key
	[ "$(peer_field "$BGP_ROUTER4" bfdAuthAcceptKeyIds | jq -c .)" = '[8,0]' ]
	run acc_set "${sha1[@]}" --bfd-auth-key-id 7 --bfd-auth-accept-key 7:clash
	[ "$status" -ne 0 ]
	[[ "$output" == *"bfdAuthAcceptKeys[0]: key ID 7 given twice (allowed: each key ID once, bfdAuthKeyId 7 included)"* ]]
	out=$(peer_json "$BGP_ROUTER4")
	[ "$(jq -c '[.bfdAuthKeyId, .bfdAuthAcceptKeyIds]' <<<"$out")" = '[7,[8,0]]' ]
	# kept in the state file as bfdAuthKey is, shown nowhere else; back after a restart
	grep -rqF '"8:key:with:colons"' "$ELB_STATE"
	grep -rqF '"send-key-1"' "$ELB_STATE"
	run elb -o json bgp peer list
	[[ "$output" != *zero-key* && "$output" != *with:colons* ]]
	[[ "$out" != *zero-key* && "$out" != *with:colons* ]]
	! grep -qF zero-key "$ELB_LOG" || false
	elb_stop
	elb_start "$NODE" "$CONF" --bgp-port 1179
	[ "$(peer_field "$BGP_ROUTER4" bfdAuthAcceptKeyIds | jq -c .)" = '[8,0]' ]
	run elb bgp peer show "$BGP_ROUTER4"
	[[ "$output" == *"BfdAuthAcceptKeyIds "*": {8, 0}"* ]]
	[[ "$output" != *zero-key* ]]

	# edgelb's YAML (the config file's bgpPeers form) through apply -f: the same field
	cat >"$BGP_DIR/peer.yaml" <<-EOF
	bgpPeers:
	  - {peerAddress: "$BGP_ROUTER6", switch: vSwitch1, peerAsn: 64512, selfAsn: 64513,
	     bfd: true, bfdAuthType: keyed-md5, bfdAuthKeyId: 3, bfdAuthKey: yaml-send,
	     bfdAuthAcceptKeys: ["4:yaml-accept-4", "5:yaml-accept-5"]}
	EOF
	run elb apply -f "$BGP_DIR/peer.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" != *yaml-accept* ]]
	[ "$(peer_field "$BGP_ROUTER6" bfdAuthAcceptKeyIds | jq -c .)" = '[4,5]' ]
	sed -i 's/"5:yaml-accept-5"/"3:yaml-accept-5"/' "$BGP_DIR/peer.yaml"
	run elb apply -f "$BGP_DIR/peer.yaml"
	[ "$status" -ne 0 ]
	[[ "$output" == *"bgpPeers[0]: bfdAuthAcceptKeys[1]: key ID 3 given twice (allowed: each key ID once, bfdAuthKeyId 3 included)"* ]]
	[[ "$output" != *yaml-accept* ]]
	[ "$(peer_field "$BGP_ROUTER6" bfdAuthAcceptKeyIds | jq -c .)" = '[4,5]' ]
}

# frr_bfd_start: FRR with `neighbor ... bfd` and bfdd (300 ms x 3) next to zebra and bgpd;
# FRR_BFD_PROFILE: more lines for the profile (echo-mode ...).
frr_bfd_start() {
	[[ -x /usr/lib/frr/bfdd ]] || skip "frr's bfdd is not installed"
	frr_start 64512 64513 "neighbor $BGP_NODE4 port 1179
	 neighbor $BGP_NODE4 bfd
	 neighbor $BGP_NODE4 bfd profile fast"
	cat >"$FRR_DIR/bfdd.conf" <<-EOF
	bfd
	 profile fast
	  receive-interval 300
	  transmit-interval 300
	  detect-multiplier 3
	  ${FRR_BFD_PROFILE:-}
	 !
	 peer $BGP_NODE4 local-address $BGP_ROUTER4
	  profile fast
	 !
	!
	EOF
	chown frr:frr "$FRR_DIR/bfdd.conf"
	ip netns exec "$ROUTER" /usr/lib/frr/bfdd -d -A 127.0.0.1 -P 0 --vty_socket "$FRR_DIR" \
		-z "$FRR_DIR/zserv.api" --bfdctl "$FRR_DIR/bfdd.sock" -f "$FRR_DIR/bfdd.conf" \
		-i "$FRR_DIR/bfdd.pid"
	elb_wait 10 test -s "$FRR_DIR/bfdd.pid"
	FRR_BFDD_PID=$(cat "$FRR_DIR/bfdd.pid")
	ELB_PIDS+=("$FRR_BFDD_PID")
}

frr_bfd_status() {
	vtysh_ "show bfd peers json" 2>/dev/null | jq -r ".[] | select(.peer == \"$BGP_NODE4\") | .status"
}

@test "FRR bfdd: BFD comes Up; bfdd frozen takes BGP down at once; both return after SIGCONT" {
	[[ -x /usr/lib/frr/bgpd ]] || skip "frr is not installed"
	elb_start "$NODE" "$CONF" --bgp-port 1179
	frr_bfd_start
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd
	frr_up() {
		[ "$(frr_bfd_status)" = up ] && [ "$(node_bfd_state)" = Up ] &&
			[ "$(frr_state)" = Established ] && [ "$(node_peer_state)" = Established ]
	}
	elb_wait 30 frr_up
	[ "$(peer_field "$BGP_ROUTER4" bfdDetectTime)" = 900 ]
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .bfdTxInterval)\" = 300 ]"
	t0=$(date +%s%3N)
	kill -STOP "$FRR_BFDD_PID"
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .state)\" != Established ]"
	t_bfd=$(log_ms "bfd: peer 192.0.2.1: Up -> Down (control detection time expired)")
	echo "BFD down after $((t_bfd - t0)) ms" >&3
	((t_bfd - t0 >= 400 && t_bfd - t0 <= 1200))
	grep -q 'bgp: peer 192.0.2.1: Established -> Idle (BFD session down)' "$ELB_LOG"
	kill -CONT "$FRR_BFDD_PID"
	elb_wait 30 frr_up
}

# BIRD in a third namespace, two hops from the node (through ROUTER, which forwards):
#   node eN 192.0.2.2 -- eR 192.0.2.1 ROUTER eF 203.0.113.1 -- eB 203.0.113.2 FAR (bird)
# BGP multihop 2 with `bfd on`: BIRD runs the BFD session as multihop (RFC 5883, port 4784).
far_bird_start() {
	command -v bird >/dev/null || skip "bird2 is not installed"
	FAR=$(elb_ns f)
	elb_veth "$ROUTER" eF "$FAR" eB
	ip -n "$ROUTER" addr add 203.0.113.1/24 dev eF
	ip -n "$FAR" addr add 203.0.113.2/24 dev eB
	ip -n "$FAR" route add 192.0.2.0/24 via 203.0.113.1
	ip -n "$NODE" route add 203.0.113.0/24 via 192.0.2.1
	ip netns exec "$ROUTER" sysctl -qw net.ipv4.ip_forward=1
	BIRD_CONF="$BGP_DIR/bird-far.conf" BIRD_SOCK="$BGP_DIR/bird-far.ctl"
	cat >"$BIRD_CONF" <<-EOF2
	router id 203.0.113.2;
	log "$BGP_DIR/bird.log" all;
	protocol device { scan time 1; }
	ipv4 table t4;
	protocol bfd {
		multihop { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; };
	}
	protocol bgp far {
		local 203.0.113.2 as 64512;
		neighbor $BGP_NODE4 as 64513;
		neighbor port 1179;
		multihop 2;
		hold time 90;
		connect retry time 1;
		error wait time 1, 2;
		bfd on;
		ipv4 { table t4; import all; export none; };
	}
	EOF2
	bird_run "$FAR"
}

@test "multihop BFD (RFC 5883) with BIRD two hops away: Up over port 4784; BIRD frozen takes BGP down" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	far_bird_start
	elb bgp peer set --peer-address 203.0.113.2 --switch vSwitch1 --connect-time 1 \
		--peer-asn 64512 --self-asn 64513 --hold-time 90 --ebgp-multihop 2 --bfd \
		--bfd-min-tx 300 --bfd-min-rx 300 --bfd-multiplier 3
	far_up() {
		[ "$(bird_bfd_state "$BGP_NODE4")" = Up ] && [ "$(peer_field 203.0.113.2 bfdState)" = Up ] &&
			[ "$(bird_state far)" = Established ] && [ "$(node_peer_state 203.0.113.2)" = Established ]
	}
	elb_wait 30 far_up
	# BIRD sends multihop packets with the default TTL (64, less one router): a single-hop
	# session would have dropped every one of them
	[ "$(peer_field 203.0.113.2 bfdPacketsDropped)" = 0 ]
	ip netns exec "$NODE" ss -Huln 'sport = :4784' | grep -q 4784
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show 203.0.113.2 | jq -r .bfdTxInterval)\" = 300 ]"
	kill -STOP "$BIRD_PID"
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show 203.0.113.2 | jq -r .bfdState)\" != Up ]"
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show 203.0.113.2 | jq -r .state)\" != Established ]"
	grep -q 'bfd: peer 203.0.113.2: Up -> Down (control detection time expired)' "$ELB_LOG"
	grep -q 'sent NOTIFICATION 6/10 (cease / BFD down)' "$ELB_LOG"
	! grep -q 'hold timer expired' "$ELB_LOG" || false
	kill -CONT "$BIRD_PID"
	elb_wait 30 far_up
}

@test "multihop minimum TTL (RFC 5883 5): BIRD's packets, one router away, dropped at 64 and taken at 63" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	far_bird_start
	far_peer_set() {
		elb bgp peer set --peer-address 203.0.113.2 --switch vSwitch1 --connect-time 1 \
			--peer-asn 64512 --self-asn 64513 --hold-time 90 --ebgp-multihop 2 --bfd "$@"
	}
	far_peer_set --bfd-minimum-ttl 64
	[ "$(peer_field 203.0.113.2 bfdMinimumTtl)" = 64 ]
	# BIRD sends with TTL 64, the router in between leaves 63: every packet is dropped
	elb_wait 10 bash -c "(( \$($ELB_BIN/edgelb -o json bgp peer show 203.0.113.2 | jq -r .bfdPacketsDropped) >= 2 ))"
	out=$(peer_json 203.0.113.2)
	[ "$(jq -r .bfdPacketsReceived <<<"$out")" = 0 ]
	[ "$(jq -r .bfdState <<<"$out")" = Down ]
	[ "$(bird_bfd_state "$BGP_NODE4")" != Up ]
	far_peer_set --bfd-minimum-ttl 63
	grep -q 'bfd: peer 203.0.113.2: active role, minimum TTL 63' "$ELB_LOG"
	far_up() {
		[ "$(bird_bfd_state "$BGP_NODE4")" = Up ] && [ "$(peer_field 203.0.113.2 bfdState)" = Up ] &&
			[ "$(bird_state far)" = Established ] && [ "$(node_peer_state 203.0.113.2)" = Established ]
	}
	elb_wait 30 far_up
	dropped=$(peer_field 203.0.113.2 bfdPacketsDropped)
	sleep 1
	[ "$(peer_field 203.0.113.2 bfdPacketsDropped)" = "$dropped" ]
	[ "$(peer_field 203.0.113.2 bfdMinimumTtl)" = 63 ]
}

frr_bfd_peer() { vtysh_ "show bfd peers json" 2>/dev/null | jq -r ".[] | select(.peer == \"$BGP_NODE4\") | .\"$1\""; }
frr_bfd_counter() { vtysh_ "show bfd peers counters json" 2>/dev/null | jq -r ".[] | select(.peer == \"$BGP_NODE4\") | .\"$1\""; }
frr_bfd_echo_start() {
	FRR_BFD_PROFILE="echo-mode
	  echo transmit-interval 50
	  echo receive-interval 50" frr_bfd_start
}
frr_up() {
	[ "$(frr_bfd_status)" = up ] && [ "$(node_bfd_state)" = Up ] &&
		[ "$(frr_state)" = Established ] && [ "$(node_peer_state)" = Established ]
}
echo_up() { frr_up && [ "$(peer_field "$BGP_ROUTER4" bfdEchoActive)" = true ]; }

@test "BFD echo with FRR bfdd (RFC 5880 6.4): each end loops the other's echo packets; a path that stops looping ours takes BFD and BGP down in 3 x 50 ms" {
	[[ -x /usr/lib/frr/bgpd ]] || skip "frr is not installed"
	ip netns exec "$NODE" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$ROUTER" sysctl -qw net.ipv4.ip_forward=1
	elb_start "$NODE" "$CONF" --bgp-port 1179
	frr_bfd_echo_start
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd --bfd-echo-mode \
		--bfd-echo-interval 50
	elb_wait 30 echo_up
	# both advertise 50 ms; 6.8.3: with echo doing the detecting, we ask FRR for control
	# packets every second at most, so our control detection time is 3 x 1 s
	[ "$(peer_field "$BGP_ROUTER4" bfdEchoReceiveInterval)" = 50 ]
	[ "$(peer_field "$BGP_ROUTER4" bfdRemoteEchoReceiveInterval)" = 50 ]
	[ "$(peer_field "$BGP_ROUTER4" bfdEchoTxInterval)" = 50 ]
	[ "$(frr_bfd_peer remote-echo-receive-interval)" = 50 ]
	elb_wait 5 bash -c "[ \"\$(vtysh --vty_socket $FRR_DIR -c 'show bfd peers json' | jq -r '.[0].\"remote-receive-interval\"')\" = 1000 ]"
	elb_wait 5 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .bfdDetectTime)\" = 3000 ]"
	# over one second, ours come back and FRR's go through our kernel, about 20 each way
	sent0=$(peer_field "$BGP_ROUTER4" bfdEchoPacketsSent)
	back0=$(peer_field "$BGP_ROUTER4" bfdEchoPacketsReceived)
	frr0=$(frr_bfd_counter echo-packet-input)
	sleep 1
	sent1=$(peer_field "$BGP_ROUTER4" bfdEchoPacketsSent)
	back1=$(peer_field "$BGP_ROUTER4" bfdEchoPacketsReceived)
	frr1=$(frr_bfd_counter echo-packet-input)
	echo "echo in 1 s: ours sent $((sent1 - sent0)), back $((back1 - back0)); FRR's back $((frr1 - frr0))" >&3
	((sent1 - sent0 >= 15 && sent1 - sent0 <= 30))
	((back1 - back0 >= 15 && back1 - sent1 + sent0 - back0 <= 2))
	((frr1 - frr0 >= 15))
	[ "$(peer_field "$BGP_ROUTER4" bfdPacketsDropped)" = 0 ]
	# the router stops forwarding: our echoes no longer come back while its bfdd still
	# answers; the echo detection time (3 x 50 ms) takes BFD and BGP down, not the 3 s of
	# control packets
	t0=$(date +%s%3N)
	ip netns exec "$ROUTER" sysctl -qw net.ipv4.ip_forward=0
	elb_wait 5 grep -q "bfd: peer 192.0.2.1: Up -> Down (echo detection time expired)" "$ELB_LOG"
	t_bfd=$(log_ms "bfd: peer 192.0.2.1: Up -> Down (echo detection time expired)")
	echo "BFD down $((t_bfd - t0)) ms after the router stopped forwarding" >&3
	((t_bfd - t0 >= 100 && t_bfd - t0 <= 1000))
	elb_wait 5 grep -q 'bgp: peer 192.0.2.1: Established -> Idle (BFD session down)' "$ELB_LOG"
	! grep -q "control detection time expired" "$ELB_LOG"
	ip netns exec "$ROUTER" sysctl -qw net.ipv4.ip_forward=1
	elb_wait 30 echo_up
	downs=$(peer_field "$BGP_ROUTER4" bfdDownCount)
	sleep 1
	[ "$(peer_field "$BGP_ROUTER4" bfdDownCount)" = "$downs" ]
	[ "$(node_bfd_state)" = Up ]
}

@test "BFD echo on a node that does not forward: no Required Min Echo RX advertised, FRR sends none, ours still loop through FRR" {
	[[ -x /usr/lib/frr/bgpd ]] || skip "frr is not installed"
	ip netns exec "$NODE" sysctl -qw net.ipv4.conf.all.forwarding=0
	ip netns exec "$ROUTER" sysctl -qw net.ipv4.ip_forward=1
	elb_start "$NODE" "$CONF" --bgp-port 1179
	frr_bfd_echo_start
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd --bfd-echo-mode
	elb_wait 30 echo_up
	[ "$(peer_field "$BGP_ROUTER4" bfdEchoInterval)" = 50 ]
	[ "$(peer_field "$BGP_ROUTER4" bfdEchoReceiveInterval)" = 0 ]
	[ "$(frr_bfd_peer remote-echo-receive-interval)" = 0 ]
	grep -q "echo function (not looping the peer's: this node does not forward IPv4)" "$ELB_LOG"
	back0=$(peer_field "$BGP_ROUTER4" bfdEchoPacketsReceived)
	sleep 1
	[ "$(frr_bfd_counter echo-packet-output)" = 0 ]
	(($(peer_field "$BGP_ROUTER4" bfdEchoPacketsReceived) - back0 >= 15))
	[ "$(node_bfd_state)" = Up ]
}

@test "BFD echo mode with BIRD, which has no echo function: none sent, timers untouched, Up" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_bfd_start on off
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 90 --bfd --bfd-min-tx 300 \
		--bfd-min-rx 300 --bfd-multiplier 3 --bfd-echo-mode --bfd-echo-interval 100
	elb_wait 30 bash -c "[ \"\$($ELB_BIN/edgelb -o json bgp peer show $BGP_ROUTER4 | jq -r .bfdState)\" = Up ]"
	sleep 1
	[ "$(peer_field "$BGP_ROUTER4" bfdRemoteEchoReceiveInterval)" = 0 ]
	[ "$(peer_field "$BGP_ROUTER4" bfdEchoActive)" = false ]
	[ "$(peer_field "$BGP_ROUTER4" bfdEchoPacketsSent)" = 0 ]
	[ "$(peer_field "$BGP_ROUTER4" bfdDetectTime)" = 900 ]
	[ "$(bird_bfd_state "$BGP_NODE4")" = Up ]
}

@test "bgp peer set refuses bad BFD echo settings with one line naming the field" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	run node_peer_set --peer-asn 64512 --self-asn 64513 --bfd-echo-mode
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bfdEchoMode: set without bfd: true"* ]]
	run node_peer_set --peer-asn 64512 --self-asn 64513 --bfd --bfd-echo-mode --bfd-echo-interval 5
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bfdEchoInterval: 5: not a BFD interval (allowed: 10-60000 milliseconds)"* ]]
	run node_peer_set --peer-asn 64512 --self-asn 64513 --bfd --bfd-echo-mode --ebgp-multihop 2
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bfdEchoMode: true: "*"(allowed: single-hop peers"* ]]
	run elb bgp peer set --peer-address "$BGP_ROUTER6" --switch vSwitch1 --peer-asn 64512 \
		--self-asn 64513 --bfd --bfd-echo-mode
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bfdEchoMode: true: IPv6 peer 2001:db8:77::1 (allowed: IPv4 peers"* ]]
	[ "$(elb -o json bgp peer list | jq length)" = 0 ]
}
