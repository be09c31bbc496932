#!/usr/bin/env bats
# Layer-2 mode: xdp_ingress on the node's compute port answers ARP and NDP for service IPs
# without the IPs being configured anywhere; gratuitous announcements, removal, the heartbeat
# gate after kill -9, adoption by a restarted agent, re-attachment, cleanup on exit.
#
#   +-- elb<id>n (node) -----------------------+          +-- elb<id>c (client) -----------+
#   |  edgelbd, xdp_ingress on eN              |          |  arping, ndisc6, tcpdump       |
#   |  eN 192.0.2.1/24 2001:db8::1/64 ---------+--veth----+- eC 192.0.2.2/24 2001:db8::2/64 |
#   |  VIPs 192.0.2.100, 2001:db8::100 (no IP) |          |  xdp_pass on eC                |
#   +------------------------------------------+          +--------------------------------+

load lib/agent
load lib/netns

VIP4=192.0.2.100
VIP6=2001:db8::100

setup() {
	elb_node_client
	NODE_MAC=$(elb_mac "$NODE" eN)
	elb_dirs
	CONF="$ELB_STATE/../node.yaml"
	write_conf
}

teardown() {
	elb_teardown
}

# write_conf [EXTRA_NODE_KEYS]: the node's file config; pools and services come from the CLI.
write_conf() {
	cat >"$CONF" <<-YAML
	node: {name: node-a${1:+, $1}}
	switches:
	  - name: vSwitch1
	    interfaces: [eN]
	    compute: true
	pools: []
	bgpPeers: []
	services: []
	YAML
}

# add_service: one pool of exactly one address per family, so the service's IPs are known.
add_service() {
	elb pool set p1 --addresses "$VIP4/32,$VIP6/128"
	elb service set default/web --ports tcp/80 --pool p1 --ip-family dual
}

start() {
	elb_start "$NODE" "$CONF" --metrics 127.0.0.1:7472 "$@"
	elb -o json service show default/web >/dev/null 2>&1 || add_service
	elb_wait 5 elb_arp_is "$CLIENT" eC "$VIP4" "$NODE_MAC"
}

@test "arping and ndisc6 from the client get the node's MAC for an IPv4 and an IPv6 VIP" {
	start
	run elb_arp "$CLIENT" eC "$VIP4"
	[ "$status" -eq 0 ]
	[ "$output" = "$NODE_MAC" ]
	elb_wait 5 elb_ndp_is "$CLIENT" eC "$VIP6" "$NODE_MAC"
	run elb_ndp "$CLIENT" eC "$VIP6"
	[ "$output" = "$NODE_MAC" ]
	# answered by XDP: counters by reason and per VIP
	run elb -o json stats
	[ "$status" -eq 0 ]
	[ "$(jq '.[] | select(.reason=="arp_reply") | .packets' <<<"$output")" -ge 2 ]
	[ "$(jq '.[] | select(.reason=="ndp_na_sent") | .packets' <<<"$output")" -ge 1 ]
	run bpftool map dump pinned "$ELB_BPFFS/l2_vips_v1"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"replies":'* ]]
	run elb -o json switch list
	[ "$(jq -r '.[0].xdp[0]' <<<"$output")" = native ]
	[ "$(jq -r '.[0].mode' <<<"$output")" = layer2 ]
	run ip netns exec "$NODE" curl -sf http://127.0.0.1:7472/metrics
	[[ "$output" == *"edgelb_l2_responses_sent_total{ip=\"$VIP4\",interface=\"eN\"}"* ]]
	[[ "$output" == *"edgelb_l2_requests_received_total{ip=\"$VIP6\",interface=\"eN\"}"* ]]
	[[ "$output" == *"edgelb_l2_gratuitous_sent_total{ip=\"$VIP4\",interface=\"eN\"}"* ]]
}

@test "a non-VIP gets no answer, and no VIP is configured on any interface" {
	start
	run elb_arp "$CLIENT" eC 192.0.2.105
	[ "$status" -ne 0 ]
	run elb_ndp "$CLIENT" eC 2001:db8::105
	[ "$status" -ne 0 ]
	run ip -n "$NODE" -j addr show
	[[ "$output" != *"$VIP4"* ]]
	[[ "$output" != *"$VIP6"* ]]
	# the node's own address is still answered by the kernel
	[ "$(elb_arp "$CLIENT" eC 192.0.2.1)" = "$NODE_MAC" ]
	run elb -o json stats
	[ "$(jq '.[] | select(.reason=="arp_not_vip") | .packets' <<<"$output")" -ge 2 ]
}

# ownership CHANGE: edgelb_l2_ownership_changes_total for eN and CHANGE (acquired|released)
ownership() {
	ip netns exec "$NODE" curl -sf http://127.0.0.1:7472/metrics |
		awk -v k="edgelb_l2_ownership_changes_total{interface=\"eN\",change=\"$1\"}" '$1 == k { print $2 }'
}

@test "removing the service stops the answers at once; ownership changes are counted" {
	start
	elb_wait 5 elb_ndp_is "$CLIENT" eC "$VIP6" "$NODE_MAC"
	[ "$(ownership acquired)" = 2 ] # the IPv4 and the IPv6 VIP
	[ "$(ownership released)" = 0 ]
	run elb service remove default/web
	[ "$status" -eq 0 ]
	elb_wait 3 elb_arp_silent "$CLIENT" eC "$VIP4"
	elb_wait 3 elb_ndp_silent "$CLIENT" eC "$VIP6"
	run bpftool -j map dump pinned "$ELB_BPFFS/l2_vips_v1"
	[ "$(jq length <<<"$output")" -eq 0 ]
	[ "$(ownership released)" = 2 ]
	[ "$(ownership acquired)" = 2 ]
}

@test "edgelbd killed with -9 keeps answering until the heartbeat bound, then stops" {
	start
	elb_stop KILL
	t0=$SECONDS
	# the last beat is at most 1 s old: answers go on for a while (bound 3 s)
	run elb_arp "$CLIENT" eC "$VIP4"
	[ "$output" = "$NODE_MAC" ]
	elb_wait 6 elb_arp_silent "$CLIENT" eC "$VIP4"
	[ $((SECONDS - t0)) -ge 1 ]
	elb_ndp_silent "$CLIENT" eC "$VIP6"
	# still attached: the gate, not a detach, silenced it
	[ -n "$(elb_xdp_id "$NODE" eN)" ]
	run bpftool -j map dump pinned "$ELB_BPFFS/stats_v1"
	[ "$status" -eq 0 ]
}

@test "a restarted edgelbd resumes without detaching: no gap in answers" {
	start
	old=$(elb_xdp_id "$NODE" eN)
	[ -n "$old" ]
	# 40 requests 100 ms apart while the agent restarts
	ip netns exec "$CLIENT" arping -c 40 -W 0.1 -w 10 -I eC "$VIP4" >"$ELB_RUN/../arping.out" 2>&1 &
	ap=$!
	ELB_PIDS+=("$ap")
	sleep 0.5
	elb_stop TERM
	elb_start "$NODE" "$CONF" --metrics 127.0.0.1:7472
	wait "$ap" || true
	cat "$ELB_RUN/../arping.out"
	[ "$(grep -c "bytes from $NODE_MAC" "$ELB_RUN/../arping.out")" -eq 40 ]
	new=$(elb_xdp_id "$NODE" eN)
	[ -n "$new" ] && [ "$new" != "$old" ]
	grep -q "adopted, replaced program id $old atomically" "$ELB_LOG"
	grep -q "maps adopted" "$ELB_LOG"
	# and it keeps answering after the old heartbeat bound
	sleep 3.5
	[ "$(elb_arp "$CLIENT" eC "$VIP4")" = "$NODE_MAC" ]
	# the VIPs were adopted from the pinned map: no owner changed
	[ "$(ownership acquired)" = 0 ]
	[ "$(ownership released)" = 0 ]
}

@test "gratuitous ARP (request and reply forms) and unsolicited NA reach the client" {
	ip netns exec "$CLIENT" timeout 15 tcpdump -l -nn -e -i eC -c 3 \
		'(arp and arp[6:2] <= 2 and arp[14:4] = arp[24:4]) or (icmp6 and ip6[40] = 136)' \
		>"$ELB_RUN/../tcpdump.out" 2>"$ELB_RUN/../tcpdump.err" &
	td=$!
	ELB_PIDS+=("$td")
	elb_wait 5 grep -q "listening on" "$ELB_RUN/../tcpdump.err"
	start
	wait "$td" || true
	cat "$ELB_RUN/../tcpdump.out"
	grep -q "$NODE_MAC > ff:ff:ff:ff:ff:ff.*Request who-has $VIP4 tell $VIP4" "$ELB_RUN/../tcpdump.out"
	grep -q "$NODE_MAC > ff:ff:ff:ff:ff:ff.*Reply $VIP4 is-at $NODE_MAC" "$ELB_RUN/../tcpdump.out"
	grep -q "$NODE_MAC > 33:33:00:00:00:01.*$VIP6 > ff02::1.*neighbor advertisement, tgt is $VIP6" "$ELB_RUN/../tcpdump.out"
}

@test "node.garpRefreshSeconds repeats the announcements after the burst" {
	write_conf "garpRefreshSeconds: 1"
	start
	n0=$(ip netns exec "$NODE" curl -sf http://127.0.0.1:7472/metrics |
		sed -n "s/^edgelb_l2_gratuitous_sent_total{ip=\"$VIP4\",interface=\"eN\"} //p")
	sleep 3.5
	n1=$(ip netns exec "$NODE" curl -sf http://127.0.0.1:7472/metrics |
		sed -n "s/^edgelb_l2_gratuitous_sent_total{ip=\"$VIP4\",interface=\"eN\"} //p")
	echo "gratuitous ARP frames: $n0 then $n1"
	# two frames (request and reply forms) per refresh, one refresh a second
	[ "$((n1 - n0))" -ge 4 ]
}

@test "without garpRefreshSeconds the announcements stop after the burst" {
	start
	sleep 2
	n0=$(ip netns exec "$NODE" curl -sf http://127.0.0.1:7472/metrics |
		sed -n "s/^edgelb_l2_gratuitous_sent_total{ip=\"$VIP4\",interface=\"eN\"} //p")
	sleep 2
	n1=$(ip netns exec "$NODE" curl -sf http://127.0.0.1:7472/metrics |
		sed -n "s/^edgelb_l2_gratuitous_sent_total{ip=\"$VIP4\",interface=\"eN\"} //p")
	[ "$n0" -eq 6 ] && [ "$n1" -eq 6 ]
}

@test "an interface that disappears and comes back is re-attached" {
	start
	ip -n "$NODE" link del eN
	elb_veth "$NODE" eN "$CLIENT" eC
	ip -n "$NODE" addr add 192.0.2.1/24 dev eN
	ip -n "$CLIENT" addr add 192.0.2.2/24 dev eC
	elb_xdp_pass "$CLIENT" eC
	NODE_MAC=$(elb_mac "$NODE" eN)
	elb_wait 5 elb_arp_is "$CLIENT" eC "$VIP4" "$NODE_MAC"
	[ -n "$(elb_xdp_id "$NODE" eN)" ]
}

@test "service IPs outside the compute port's subnet are warned about in switch list and the log" {
	ip -n "$NODE" addr del 192.0.2.1/24 dev eN
	start
	run elb -o json switch list
	[[ "$(jq -r '.[0].warnings' <<<"$output")" == *"$VIP4"*"outside the subnets of eN"* ]]
	grep -q "warn.*$VIP4.*outside the subnets of eN" "$ELB_LOG"
}

@test "many new VIPs outside the subnet in one pass: the first 3 are logged, the rest counted in one line" {
	ip -n "$NODE" addr del 192.0.2.1/24 dev eN
	cat >"$CONF" <<-YAML
	node: {name: node-a}
	switches:
	  - {name: vSwitch1, interfaces: [eN], compute: true}
	pools:
	  - {name: p5, addresses: [192.0.2.160/29]}
	bgpPeers: []
	services:
	YAML
	for i in 1 2 3 4 5; do
		echo "  - {name: default/s$i, ports: [tcp/80], pool: p5}" >>"$CONF"
	done
	elb_start "$NODE" "$CONF"
	elb_wait 10 grep -q "l2: 2 more new service IPs are outside the subnets of their compute ports" "$ELB_LOG"
	[ "$(grep -c 'is outside the subnets of eN; announcing it anyway' "$ELB_LOG")" = 3 ]
	[ "$(grep -c 'l2: vSwitch1: announcing 192.0.2.16[0-7] ' "$ELB_LOG")" = 5 ]
	run elb -o json switch list
	[ "$(jq -r '.[0].warnings' <<<"$output" | grep -o 'outside the subnets of eN' | wc -l)" -ge 3 ]
}

@test "--cleanup-on-exit detaches and unpins" {
	start --cleanup-on-exit
	[ -n "$(elb_xdp_id "$NODE" eN)" ]
	[ -e "$ELB_BPFFS/l2_vips_v1" ]
	elb_stop TERM
	[ -z "$(elb_xdp_id "$NODE" eN)" ]
	[ ! -e "$ELB_BPFFS/l2_vips_v1" ]
	[ ! -e "$ELB_BPFFS/config_v1" ]
}

@test "a BGP peer that is not Established keeps the switch in layer-2 mode" {
	start
	# nothing listens on 192.0.2.2:179: the session never reaches Established
	run elb bgp peer set --peer-address 192.0.2.2 --peer-asn 65001 --self-asn 65000 --switch vSwitch1
	[ "$status" -eq 0 ]
	sleep 1
	[ "$(elb_arp "$CLIENT" eC "$VIP4")" = "$NODE_MAC" ]
	[ "$(elb_ndp "$CLIENT" eC "$VIP6")" = "$NODE_MAC" ]
	run bpftool -j map dump pinned "$ELB_BPFFS/l2_vips_v1"
	[ "$(jq length <<<"$output")" -eq 2 ]
}

@test "the heartbeat bound comes from node.heartbeatTimeoutMs" {
	write_conf "heartbeatTimeoutMs: 1500"
	start
	run bpftool -j map dump pinned "$ELB_BPFFS/config_v1"
	[ "$(jq '.[0].formatted.value.heartbeat_max_ns' <<<"$output")" -eq 1500000000 ]
}

# conflicts: the address-conflict counter for VIP on eN, from the metrics
conflicts() {
	ip netns exec "$NODE" curl -sf http://127.0.0.1:7472/metrics |
		awk -v k="edgelb_l2_address_conflicts_total{ip=\"$1\",interface=\"eN\"}" '$1 == k {print $2}'
}
conflicts_are() { [ "$(conflicts "$1")" = "$2" ]; }

@test "another host claiming a VIP is counted per VIP, logged and shown in stats" {
	start
	[ "$(conflicts "$VIP4")" = 0 ]
	# the client takes the VIP itself and announces it: 2 gratuitous ARP requests
	ip -n "$CLIENT" addr add "$VIP4/32" dev eC
	ip netns exec "$CLIENT" arping -U -S "$VIP4" -c 2 -w 3 -I eC "$VIP4" || true
	elb_wait 5 conflicts_are "$VIP4" 2
	elb_wait 3 grep -q "l2: $VIP4: address conflict on eN: another host claimed it (1 frame" "$ELB_LOG"
	run elb -o json stats
	[ "$(jq '.[] | select(.reason=="arp_conflict") | .packets' <<<"$output")" -eq 2 ]
	# IPv6: the client's kernel advertises its addresses, the VIP among them, when its MAC
	# changes (ndisc_notify: one unsolicited NA each)
	ip netns exec "$CLIENT" sysctl -qw net.ipv6.conf.eC.ndisc_notify=1
	ip -n "$CLIENT" addr add "$VIP6/128" dev eC nodad
	ip -n "$CLIENT" link set eC address 02:00:00:00:00:99
	elb_wait 5 conflicts_are "$VIP6" 1
	elb_wait 3 grep -q "l2: $VIP6: address conflict on eN: another host claimed it (1 frame" "$ELB_LOG"
	run elb -o json stats
	[ "$(jq '.[] | select(.reason=="ndp_conflict") | .packets' <<<"$output")" -eq 1 ]
	# the node's own announcements are not conflicts, and it keeps answering
	[ "$(conflicts "$VIP4")" = 2 ]
}
