#!/usr/bin/env bats
# BGP mode against ExaBGP 4.2: edgelbd's own speaker peers with a real ExaBGP in a router
# namespace. ExaBGP is the peer that sends routes TO edgelbd: through its process API it
# announces and withdraws routes with any attributes, raw (malformed) ones included, and
# reports as JSON what it receives (and, on request, what it sends).
#
#   +-- elb<id>n (node) ---------------+        +-- elb<id>r (router) ---------------+
#   |  edgelbd --bgp-port 1179         |        |  exabgp, connecting to port 1179   |
#   |  eN 192.0.2.2/24                 |--veth--|  eR 192.0.2.1/24                   |
#   |     2001:db8:77::2/64            |        |     2001:db8:77::1/64              |
#   +----------------------------------+        |  api.py: its JSON -> exa.rx        |
#                                               |          exa.cmd (FIFO) -> its API |
#                                               +------------------------------------+
#
# edgelbd is AS 64513, ExaBGP AS 64512, one IPv4 session carrying IPv4 and IPv6 unicast. The
# service IPs come from pool p1 (as in bgp_bird.bats). Assertions read `edgelb -o json`, the
# metrics, edgelbd's log and ExaBGP's JSON.

load lib/agent
load lib/bgp

METRICS=127.0.0.1:17474

setup() {
	command -v exabgp >/dev/null || skip "exabgp is not installed"
	[[ -x /usr/bin/python3 ]] || skip "python3 (ExaBGP's interpreter) is not installed"
	bgp_topology
	CONF=$(bgp_node_conf "$BGP_POOL")
}

teardown() {
	elb_teardown
}

# exa_start [send]: ExaBGP in ROUTER, connecting to the node on port 1179. Its API process
# (api.py) appends every line ExaBGP writes (JSON, "done" acks) to EXA_RX and passes what is
# written to the FIFO EXA_CMD on to ExaBGP. With "send", ExaBGP also reports the UPDATEs it
# sends; not for malformed attributes: ExaBGP 4.2 re-parses its own UPDATE for that report and
# crashes (TypeError) or resets the session on what it cannot decode. Stopped by elb_teardown.
exa_start() {
	local send=""
	[[ ${1:-} == send ]] && send="send { parsed; update; }"
	EXA_RX="$BGP_DIR/exa.rx" EXA_CMD="$BGP_DIR/exa.cmd"
	mkfifo "$EXA_CMD"
	: >"$EXA_RX"
	cat >"$BGP_DIR/api.py" <<-'EOF'
	# ExaBGP API process: stdin (ExaBGP's JSON) -> DIR/exa.rx, the FIFO DIR/exa.cmd -> stdout.
	import os, select, sys
	d = sys.argv[1]
	rx = os.open(d + "/exa.rx", os.O_WRONLY | os.O_APPEND)
	cmd = os.open(d + "/exa.cmd", os.O_RDWR)  # also a writer: never EOF
	while True:
	    ready = select.select([0, cmd], [], [])[0]
	    if 0 in ready:
	        b = os.read(0, 65536)
	        if not b:
	            break  # ExaBGP went away
	        os.write(rx, b)
	    if cmd in ready:
	        b = os.read(cmd, 65536)
	        while b:
	            b = b[os.write(1, b):]
	EOF
	cat >"$BGP_DIR/exabgp.conf" <<-EOF
	process api {
		run /usr/bin/python3 $BGP_DIR/api.py $BGP_DIR;
		encoder json;
	}
	neighbor $BGP_NODE4 {
		router-id $BGP_ROUTER4;
		local-address $BGP_ROUTER4;
		local-as 64512;
		peer-as 64513;
		connect 1179;
		hold-time 9;
		family { ipv4 unicast; ipv6 unicast; }
		capability { route-refresh; }
		api {
			processes [ api ];
			neighbor-changes;
			receive { parsed; update; notification; }
			$send
		}
	}
	EOF
	elb_bg "$ROUTER" env exabgp.daemon.user=root exabgp.daemon.daemonize=false \
		exabgp.api.cli=false exabgp.log.destination="$BGP_DIR/exa.log" \
		exabgp "$BGP_DIR/exabgp.conf" >>"$BGP_DIR/exa.out" 2>&1
}

# exa CMD...: API commands to ExaBGP, one per argument (bounded: the FIFO write times out).
exa() {
	printf '%s\n' "$@" | timeout 10 tee "$EXA_CMD" >/dev/null
}

# exa_json FILTER: jq FILTER over every JSON message ExaBGP reported, one compact line each.
exa_json() {
	jq -cR "fromjson? | select(type == \"object\") | $1" "$EXA_RX"
}

# exa_up: ExaBGP's last neighbor state change is "up".
exa_up() { [ "$(exa_json 'select(.type == "state") | .neighbor.state' | tail -1)" = '"up"' ]; }

established() { [ "$(node_peer_state)" = Established ] && exa_up; }

# exa_session [send]: edgelbd (metrics on) and ExaBGP peered, the dual-stack service set.
exa_session() {
	elb_start "$NODE" "$CONF" --bgp-port 1179 --metrics "$METRICS"
	exa_start "${1:-}"
	web_set
	node_peer_set --peer-asn 64512 --self-asn 64513 --hold-time 9
	elb_wait 20 established
}

peer() { elb -o json bgp peer show "$BGP_ROUTER4" | jq -r ".$1"; }

# metric NAME: the value of NAME for our peer on /metrics.
metric() {
	ip netns exec "$NODE" curl -s --max-time 3 "http://$METRICS/metrics" |
		awk -v m="$1{peer=\"$BGP_ROUTER4\",switch=\"vSwitch1\"}" '$1 == m { print $2 }'
}

# rx_route FAMILY PREFIX: for each UPDATE ExaBGP received announcing PREFIX in FAMILY ("ipv4
# unicast"), {"nh": [next hops], "attr": {attributes}}.
rx_route() {
	exa_json "select(.type == \"update\" and .neighbor.direction == \"receive\")
		| .neighbor.message.update | select(.announce[\"$1\"])
		| {nh: [.announce[\"$1\"] | to_entries[] | select(any(.value[]; .nlri == \"$2\")) | .key],
		   attr: .attribute} | select(.nh | length > 0)"
}

rx_count() { rx_route "$1" "$2" | wc -l; }
has_rx() { [ "$(rx_count "$1" "$2")" -ge "${3:-1}" ]; }

# nothing ExaBGP received was a withdrawal, and it got no NOTIFICATION
nothing_withdrawn() {
	[ -z "$(exa_json 'select(.neighbor.direction == "receive") | .neighbor.message.update.withdraw // empty')" ]
}
no_notification() { [ -z "$(exa_json 'select(.type == "notification")')" ]; }

# exa_sent FILTER: the sum over the UPDATEs ExaBGP reports sending of FILTER (on .update).
exa_sent() {
	exa_json "select(.type == \"update\" and .neighbor.direction == \"send\") | .neighbor.message | $1" |
		jq -s 'add // 0'
}
sent_updates() { exa_sent 1; }
sent_announced() { exa_sent '[.update.announce // {} | .[][] | length] | add // 0'; }
sent_withdrawn() { exa_sent '[.update.withdraw // {} | .[] | length] | add // 0'; }

# v4_all A.B.C: every prefix from A.B.C.0/24 to the /32s in it (511).
v4_all() {
	local len i
	for ((len = 24; len <= 32; len++)); do
		for ((i = 0; i < 256; i += 1 << (32 - len))); do printf ' %s.%d/%d' "$1" "$i" "$len"; done
	done
}

# v6_64s FIRST COUNT: COUNT /64s 2001:db8:<hex>::/64 from FIRST.
v6_64s() {
	local i
	for ((i = $1; i < $1 + $2; i++)); do printf ' 2001:db8:%x::/64' "$i"; done
}

@test "ExaBGP eBGP: IPv4 /32 and IPv6 /128 arrive with our next hops, AS_PATH, ORIGIN, communities, then End-of-RIB" {
	exa_session
	elb_wait 5 has_rx "ipv4 unicast" 192.0.2.100/32
	elb_wait 5 has_rx "ipv6 unicast" 2001:db8:77::100/128
	r4=$(rx_route "ipv4 unicast" 192.0.2.100/32)
	[ "$(wc -l <<<"$r4")" = 1 ]
	[ "$(jq -c .nh <<<"$r4")" = '["192.0.2.2"]' ]
	[ "$(jq -r .attr.origin <<<"$r4")" = igp ]
	[ "$(jq -c '.attr["as-path"]' <<<"$r4")" = '[64513]' ]
	[ "$(jq -c .attr.community <<<"$r4")" = '[[64512,7]]' ]
	[ "$(jq -c '.attr["large-community"]' <<<"$r4")" = '[[64512,1,2]]' ]
	[ "$(jq -c '.attr["local-preference"]' <<<"$r4")" = null ] # LOCAL_PREF is for iBGP only
	[ "$(jq -c .attr.med <<<"$r4")" = null ]
	r6=$(rx_route "ipv6 unicast" 2001:db8:77::100/128)
	[ "$(wc -l <<<"$r6")" = 1 ]
	ll=$(ip -n "$NODE" -6 addr show dev eN scope link | awk '/inet6/ { sub("/.*", "", $2); print $2 }')
	[ "$(jq -c .nh <<<"$r6")" = "[\"2001:db8:77::2\",\"$ll\"]" ]
	[ "$(jq -r .attr.origin <<<"$r6")" = igp ]
	[ "$(jq -c '.attr["as-path"]' <<<"$r6")" = '[64513]' ]
	[ "$(jq -c .attr.community <<<"$r6")" = '[[64512,7]]' ]
	[ "$(jq -c '.attr["large-community"]' <<<"$r6")" = '[[64512,1,2]]' ]
	# End-of-RIB for both families, after the routes (ExaBGP numbers its messages)
	eor() { exa_json "select(.neighbor.direction == \"receive\" and .neighbor.message.eor.afi == \"$1\") | .counter"; }
	upd() { exa_json "select(.neighbor.direction == \"receive\" and .neighbor.message.update.announce[\"$1\"]) | .counter"; }
	has_eor() { [ -n "$(eor ipv4)" ] && [ -n "$(eor ipv6)" ]; }
	elb_wait 5 has_eor
	[ "$(eor ipv4 | wc -l)" = 1 ]
	[ "$(eor ipv6 | wc -l)" = 1 ]
	(($(eor ipv4) > $(upd "ipv4 unicast")))
	(($(eor ipv6) > $(upd "ipv6 unicast")))
	[ "$(peer capabilities)" = "ipv4-unicast ipv6-unicast 4-octet-as route-refresh" ]
	[ "$(peer peerRouterId)" = 192.0.2.1 ]
	[ "$(peer prefixesSent)" = 2 ]
	[ "$(peer prefixesReceived)" = 0 ]
	[ "$(metric edgelb_bgp_session_up)" = 1 ]
}

@test "ExaBGP sends 2033 routes (communities, large communities, MED, long AS_PATH): counted and dropped, then withdrawn; the session stays" {
	exa_session send
	elb_wait 5 has_rx "ipv4 unicast" 192.0.2.100/32
	[ "$(peer prefixesReceived)" = 0 ]
	# 3 x 511 IPv4 prefixes (every /24../32 of the documentation /24s) + 500 IPv6 /64s, in
	# five attribute sets (ExaBGP spreads them over a few hundred UPDATEs)
	a="community [ 64512:100 64512:200 65535:666 ] large-community [ 64512:1:1 4200000000:2:3 ]"
	exa "announce attributes next-hop $BGP_ROUTER4 origin igp med 10 as-path [ 64512 64600 64601 4200000000 ] $a nlri$(v4_all 198.51.100)" \
		"announce attributes next-hop $BGP_ROUTER4 origin egp med 20 as-path [ 64512 64700 ] community [ 64512:300 ] nlri$(v4_all 203.0.113)" \
		"announce attributes next-hop $BGP_ROUTER4 origin incomplete med 30 as-path [ 64512 64800 64801 64802 64803 64804 64805 64806 ] $a nlri$(v4_all 192.0.2)" \
		"announce attributes next-hop $BGP_ROUTER6 med 40 as-path [ 64512 4200000001 ] $a nlri$(v6_64s 256 250)" \
		"announce attributes next-hop $BGP_ROUTER6 med 50 as-path [ 64512 64900 64901 ] large-community [ 64512:9:9 ] nlri$(v6_64s 1024 250)"
	all_sent() { [ "$(sent_announced)" = 2033 ]; }
	elb_wait 30 all_sent
	all_counted() { [ "$(peer prefixesReceived)" = 2033 ] && [ "$(peer updatesReceived)" = "$(sent_updates)" ]; }
	elb_wait 10 all_counted
	n=$(sent_updates)
	((n >= 2 + 5 + 2)) # EoRs + one or more UPDATEs per attribute set
	[ "$(metric edgelb_bgp_received_prefixes_total)" = 2033 ]
	[ "$(metric edgelb_bgp_updates_received_total)" = "$n" ]
	# nothing was reset, edgelbd runs, our routes are still at ExaBGP
	[ "$(node_peer_state)" = Established ]
	[ "$(peer established)" = 1 ]
	[ "$(metric edgelb_bgp_notifications_sent_total)" = 0 ]
	[ "$(metric edgelb_bgp_notifications_received_total)" = 0 ]
	kill -0 "$ELB_PID"
	[ "$(exa_json 'select(.type == "state") | .neighbor.state' | tr -d '"' | xargs)" = "connected up" ]
	nothing_withdrawn
	no_notification
	[ "$(peer prefixesSent)" = 2 ]
	# the same routes withdrawn
	exa "withdraw attributes next-hop $BGP_ROUTER4 nlri$(v4_all 198.51.100)$(v4_all 203.0.113)$(v4_all 192.0.2)" \
		"withdraw attributes next-hop $BGP_ROUTER6 nlri$(v6_64s 256 250)$(v6_64s 1024 250)"
	all_gone() { [ "$(sent_withdrawn)" = 2033 ]; }
	elb_wait 30 all_gone
	all_seen() { [ "$(peer updatesReceived)" = "$(sent_updates)" ]; }
	elb_wait 10 all_seen
	(($(sent_updates) > n))
	[ "$(peer prefixesReceived)" = 2033 ] # withdrawals are not received prefixes
	[ "$(node_peer_state)" = Established ]
	[ "$(peer established)" = 1 ]
	[ "$(metric edgelb_bgp_notifications_sent_total)" = 0 ]
	kill -0 "$ELB_PID"
	exa_up
	nothing_withdrawn
	no_notification
	# and the session keeps going: a keepalive exchange later, still the same one
	sleep 4
	[ "$(node_peer_state)" = Established ]
	[ "$(peer established)" = 1 ]
	exa_up
}

# RFC 7606 cases that keep the session: "PREFIX|ATTRIBUTES|what edgelbd logs", one UPDATE each.
# ExaBGP's `attribute [ CODE FLAGS 0xVALUE ]` goes on the wire as given (flags, code, length,
# value) and replaces the attribute of that code ExaBGP would send itself. An empty log column:
# the attribute is well formed or unknown and passed over, nothing logged or counted.
MALFORMED=(
	"203.0.113.1/32|attribute [ 0x01 0x40 0x05 ]|malformed ORIGIN: treat-as-withdraw"              # 7.1 value 5
	"203.0.113.2/32|attribute [ 0x01 0x40 0x0000 ]|malformed ORIGIN: treat-as-withdraw"            # 7.1 length 2
	"203.0.113.3/32|attribute [ 0x01 0xc0 0x00 ]|malformed ORIGIN: treat-as-withdraw"              # 3(c) optional bit
	"203.0.113.4/32|attribute [ 0x02 0x40 0x050100000001 ]|malformed AS_PATH: treat-as-withdraw"   # 7.2 segment type 5
	"203.0.113.5/32|attribute [ 0x02 0x40 0x0200 ]|malformed AS_PATH: treat-as-withdraw"           # 7.2 zero count
	"203.0.113.6/32|attribute [ 0x02 0x40 0x02020000fc00 ]|malformed AS_PATH: treat-as-withdraw"   # 7.2 overrun
	"203.0.113.7/32|attribute [ 0x04 0x80 0x000001 ]|malformed MULTI_EXIT_DISC: treat-as-withdraw" # 7.4 length 3
	"203.0.113.8/32|attribute [ 0x08 0xc0 0xfc0000 ]|malformed COMMUNITIES: treat-as-withdraw"     # 7.8 length 3
	"203.0.113.9/32|attribute [ 0x10 0xc0 0x0002fc0000 ]|malformed EXTENDED_COMMUNITIES: treat-as-withdraw" # 7.14
	"203.0.113.10/32|attribute [ 0x20 0xc0 0x0000fc0000000001 ]|malformed LARGE_COMMUNITY: treat-as-withdraw" # RFC 8092 6
	"203.0.113.11/32|next-hop 224.0.0.1|malformed NEXT_HOP: treat-as-withdraw"                    # 7.3 martian
	"203.0.113.12/32|attribute [ 0x06 0x40 0x00 ]|malformed ATOMIC_AGGREGATE: attribute discarded" # 7.6 length 1
	"203.0.113.13/32|attribute [ 0x07 0xc0 0x0000fc0001 ]|malformed AGGREGATOR: attribute discarded" # 7.7 length 5
	"203.0.113.14/32|attribute [ 0x11 0xc0 0x0501000000fc ]|malformed AS4_PATH: attribute discarded" # RFC 6793 6
	"203.0.113.15/32|attribute [ 0x12 0xc0 0x0000fc00 ]|malformed AS4_AGGREGATOR: attribute discarded" # RFC 6793 6
	"203.0.113.16/32|attribute [ 0x99 0xc0 0x01020304 ]|"           # unknown optional transitive: passed over
	"203.0.113.17/32|attribute [ 0x08 0xd0 0xfc000001 ]|"           # well formed, extended length: accepted
	"2001:db8:1::/64|attribute [ 0x01 0x40 0x07 ]|malformed ORIGIN: treat-as-withdraw" # the same over MP_REACH_NLRI
	"2001:db8:2::/64|attribute [ 0x20 0xc0 0x0000fc00 ]|malformed LARGE_COMMUNITY: treat-as-withdraw"
)

@test "RFC 7606 with ExaBGP: malformed attributes are treated as withdraw or discarded, never a session reset" {
	exa_session
	elb_wait 5 has_rx "ipv4 unicast" 192.0.2.100/32
	for c in "${MALFORMED[@]}"; do
		IFS='|' read -r pfx attrs want <<<"$c"
		nh=$BGP_ROUTER4
		[[ $pfx == *:* ]] && nh=$BGP_ROUTER6
		[[ $attrs == next-hop* ]] && nh=
		before=$(peer updatesReceived)
		taw=$(peer updatesTreatedAsWithdraw)
		disc=$(peer attributesDiscarded)
		logged=$(grep -c "UPDATE:" "$ELB_LOG" || true)
		exa "announce route $pfx ${nh:+next-hop $nh }$attrs"
		one_more() { [ "$(peer updatesReceived)" = $((before + 1)) ]; }
		elb_wait 5 one_more || { echo "$c: no UPDATE arrived" >&2; return 1; }
		new=$(sed -n "/UPDATE:/p" "$ELB_LOG" | tail -n +$((logged + 1)))
		if [[ -n $want ]]; then
			[[ "$new" == *"bgp: peer $BGP_ROUTER4: UPDATE: $want" ]] || { echo "$c: logged '$new'" >&2; return 1; }
			[ "$(wc -l <<<"$new")" = 1 ]
		else
			[ -z "$new" ] || { echo "$c: logged '$new'" >&2; return 1; }
		fi
		# and counted as what it is: one treat-as-withdraw or one discarded attribute, or none
		t=0 d=0
		[[ $want == *treat-as-withdraw ]] && t=1
		[[ $want == *"attribute discarded" ]] && d=1
		[ "$(peer updatesTreatedAsWithdraw)" = $((taw + t)) ]
		[ "$(peer attributesDiscarded)" = $((disc + d)) ]
		[ "$(node_peer_state)" = Established ]
	done
	# every one of them arrived on the first session: no reset, no NOTIFICATION either way
	[ "$(peer prefixesReceived)" = ${#MALFORMED[@]} ]
	[ "$(metric edgelb_bgp_updates_treated_as_withdraw_total)" = "$(peer updatesTreatedAsWithdraw)" ]
	[ "$(metric edgelb_bgp_attributes_discarded_total)" = 4 ]
	run elb bgp peer show "$BGP_ROUTER4"
	[[ "$output" == *"AttributesDiscarded"*": 4"* ]]
	[ "$(peer established)" = 1 ]
	[ "$(metric edgelb_bgp_notifications_sent_total)" = 0 ]
	[ "$(metric edgelb_bgp_notifications_received_total)" = 0 ]
	kill -0 "$ELB_PID"
	no_notification
	nothing_withdrawn
	exa_up
	[ "$(exa_json 'select(.type == "state" and .neighbor.state == "up")' | wc -l)" = 1 ]
}

# RFC 7606 cases that reset the session: "PREFIX|ATTRIBUTES|NOTIFICATION code/subcode|its data
# as ExaBGP shows it (0x: none)".
MP6="0002011020010db8007700000000000000000001" # MP_REACH_NLRI head: IPv6 unicast, next hop ROUTER6
RESETS=(
	# RFC 4271 6.3 (unchanged by RFC 7606): unrecognized well-known attribute, data = the attribute
	"203.0.113.20/32|attribute [ 0x99 0x40 0x01 ]|3/2|0x40990101"
	# RFC 7606 7.11, 5.3: MP_REACH_NLRI whose NLRI overruns (a /64 in 6 octets)
	"203.0.113.21/32|attribute [ 0x0e 0x80 0x${MP6}004020010db80006 ]|3/9|0x800e1c${MP6}004020010db80006"
	# RFC 7606 7.11: MP_REACH_NLRI with a next hop length of 5 for IPv6 unicast
	"203.0.113.22/32|attribute [ 0x0e 0x80 0x000201052001db800000 ]|3/9|0x800e0a000201052001db800000"
	# RFC 7606 7.11: MP_UNREACH_NLRI whose withdrawn /64 has 4 octets (edgelbd sends 3/9)
	"203.0.113.23/32|attribute [ 0x0f 0x80 0x0002014020010db8 ]|3/9|0x800f080002014020010db8"
	# RFC 7606 3(g): MP_REACH_NLRI twice (ours, then the one ExaBGP adds for the IPv6 route)
	"2001:db8:3::/64|attribute [ 0x0e 0x80 0x${MP6}004020010db800040000 ]|3/1|0x"
)

@test "RFC 7606 with ExaBGP: what must reset the session gets the right NOTIFICATION, then the session returns" {
	exa_session
	elb_wait 5 has_rx "ipv4 unicast" 192.0.2.100/32
	notifs() { exa_json 'select(.type == "notification" and .neighbor.direction == "receive") | .neighbor.notification'; }
	for c in "${RESETS[@]}"; do
		IFS='|' read -r pfx attrs want data <<<"$c"
		nh=$BGP_ROUTER4
		[[ $pfx == *:* ]] && nh=$BGP_ROUTER6
		seen=$(notifs | wc -l)
		sent=$(metric edgelb_bgp_notifications_sent_total)
		exa "announce route $pfx next-hop $nh $attrs"
		one_more() { [ "$(notifs | wc -l)" -gt "$seen" ]; }
		elb_wait 10 one_more || { echo "$c: no NOTIFICATION" >&2; return 1; }
		got=$(notifs | sed -n "$((seen + 1))p")
		[ "$(jq -r '"\(.code)/\(.subcode)"' <<<"$got")" = "$want" ] || { echo "$c: got $got" >&2; return 1; }
		[ "$(jq -r '.data | ascii_downcase' <<<"$got")" = "$data" ] || { echo "$c: got $got" >&2; return 1; }
		grep -q "sent NOTIFICATION $want" "$ELB_LOG"
		(($(metric edgelb_bgp_notifications_sent_total) > sent))
		kill -0 "$ELB_PID"
		# ExaBGP keeps the route and sends it again on reconnection: take it back, the session
		# comes back and stays
		exa "withdraw route $pfx next-hop $nh"
		elb_wait 20 established
		seen=$(notifs | wc -l) up=$(peer established)
		sleep 3
		[ "$(notifs | wc -l)" = "$seen" ]
		[ "$(peer established)" = "$up" ]
		[ "$(node_peer_state)" = Established ]
		elb_wait 5 has_rx "ipv4 unicast" 192.0.2.100/32 "$up"
	done
}

@test "ROUTE-REFRESH from ExaBGP is answered with the family's routes again" {
	exa_session
	elb_wait 5 has_rx "ipv4 unicast" 192.0.2.100/32
	elb_wait 5 has_rx "ipv6 unicast" 2001:db8:77::100/128
	[ "$(metric edgelb_bgp_route_refresh_received_total)" = 0 ]
	sent=$(peer updatesSent)
	exa "announce route-refresh ipv4 unicast"
	elb_wait 5 has_rx "ipv4 unicast" 192.0.2.100/32 2
	r4=$(rx_route "ipv4 unicast" 192.0.2.100/32 | tail -1)
	[ "$(jq -c .nh <<<"$r4")" = '["192.0.2.2"]' ]
	[ "$(jq -c '.attr["as-path"]' <<<"$r4")" = '[64513]' ]
	[ "$(jq -c .attr.community <<<"$r4")" = '[[64512,7]]' ]
	grep -q "peer $BGP_ROUTER4: route refresh for AFI 1" "$ELB_LOG"
	[ "$(metric edgelb_bgp_route_refresh_received_total)" = 1 ]
	(($(peer updatesSent) > sent))
	sleep 1 # only the family asked for
	[ "$(rx_count "ipv6 unicast" 2001:db8:77::100/128)" = 1 ]
	exa "announce route-refresh ipv6 unicast"
	elb_wait 5 has_rx "ipv6 unicast" 2001:db8:77::100/128 2
	ll=$(ip -n "$NODE" -6 addr show dev eN scope link | awk '/inet6/ { sub("/.*", "", $2); print $2 }')
	[ "$(rx_route "ipv6 unicast" 2001:db8:77::100/128 | tail -1 | jq -c .nh)" = "[\"2001:db8:77::2\",\"$ll\"]" ]
	[ "$(rx_count "ipv4 unicast" 192.0.2.100/32)" = 2 ]
	[ "$(metric edgelb_bgp_route_refresh_received_total)" = 2 ]
	# a refresh is not a reset
	[ "$(peer established)" = 1 ]
	nothing_withdrawn
	no_notification
}

# AS_PATH values that are well formed octet-wise but malformed by rule: confederation segments
# from a peer outside our confederation (RFC 5065 5; edgelbd has no confederation, so any peer)
# and AS 0 (RFC 7607 2). Both are a malformed AS_PATH, treat-as-withdraw (RFC 7606 7.2).
AS_PATH_RULES=(
	"198.51.100.1/32|attribute [ 0x02 0x40 0x03010000fc000201000000fc ]" # AS_CONFED_SEQUENCE
	"198.51.100.2/32|attribute [ 0x02 0x40 0x04010000fc000201000000fc ]" # AS_CONFED_SET
	"198.51.100.3/32|attribute [ 0x02 0x40 0x02020000fc0000000000 ]"     # AS_SEQUENCE 64512 0
)

@test "RFC 7606 with ExaBGP: AS_PATH with confederation segments or AS 0 from an eBGP peer is treat-as-withdraw" {
	exa_session
	elb_wait 5 has_rx "ipv4 unicast" 192.0.2.100/32
	bad=()
	for c in "${AS_PATH_RULES[@]}"; do
		IFS='|' read -r pfx attrs <<<"$c"
		before=$(peer updatesReceived)
		taw=$(peer updatesTreatedAsWithdraw)
		disc=$(peer attributesDiscarded)
		logged=$(grep -c "UPDATE:" "$ELB_LOG" || true)
		exa "announce route $pfx next-hop $BGP_ROUTER4 $attrs"
		one_more() { [ "$(peer updatesReceived)" = $((before + 1)) ]; }
		elb_wait 5 one_more
		new=$(sed -n "/UPDATE:/p" "$ELB_LOG" | tail -n +$((logged + 1)))
		[ "$(node_peer_state)" = Established ]
		[[ "$new" == *"UPDATE: malformed AS_PATH: treat-as-withdraw" ]] || bad+=("$c: logged '$new'")
	done
	printf '%s\n' "${bad[@]}" >&2
	[ ${#bad[@]} = 0 ]
	[ "$(peer established)" = 1 ]
	no_notification
}
