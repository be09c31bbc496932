#!/usr/bin/env bats
# Service fast path end to end: a client namespace talks to VIP:port; xdp_ingress on the node's
# compute port load-balances over three backend "pod" namespaces running elb_echo (answers its
# own name); tc_revnat rewrites replies back to VIP:port. No iptables/nftables rule anywhere.
# Backends from the config file (SIGHUP to change them) and from EndpointSlice manifests.
#
#   +-- elb<id>c (client) --+        +-- elb<id>n (node) -----------------------+   +-- elb<id>p1 ------+
#   | eC 192.0.2.2/24       |--veth--| eN 192.0.2.1/24 2001:db8::1/64           |   | eP 198.51.100.2   |
#   |    2001:db8::2/64     |        |  xdp_ingress + tc_revnat (egress)        |---| 2001:db8:1:1::2   |
#   | xdp_pass, tx off      |        | nB1 198.51.100.1/26 2001:db8:1:1::1 .. nB3|   | elb_echo p1       |
#   +-----------------------+        | VIPs 192.0.2.100, 2001:db8::100 (ARP/NDP) |   +- p2, p3 alike ----+
#                                    +-------------------------------------------+
# Pod K's link is the /26 at 198.51.100.64(K-1): the node's end .64(K-1)+1, the pod .64(K-1)+2
# (p1 198.51.100.2, p2 .66, p3 .130).

load lib/agent
load lib/netns
load lib/pods

VIP4=192.0.2.100
VIP6=2001:db8::100

setup() {
	pods_topology
	elb_dirs
	CONF="$ELB_STATE/../node.yaml"
	write_conf 1 2 3
	elb_start "$NODE" "$CONF" --metrics 127.0.0.1:7473
	NODE_MAC=$(elb_mac "$NODE" eN)
	elb_wait 5 elb_arp_is "$CLIENT" eC "$VIP4" "$NODE_MAC"
}

teardown() {
	elb_teardown
}

# write_conf K...: the service with the backends of pods K.
write_conf() {
	local be="" k
	for k in "$@"; do
		be+="\"$(pod_ip $k):8080\", \"[2001:db8:1:$k::2]:8080\", "
	done
	cat >"$CONF" <<-YAML
	node: {name: node-a}
	switches:
	  - name: vSwitch1
	    interfaces: [eN]
	    compute: true
	pools:
	  - name: p1
	    addresses: [$VIP4/32, "$VIP6/128"]
	bgpPeers: []
	services:
	  - name: default/web
	    ports: ["tcp/80", "udp/80", "udp/81"]
	    ipFamily: dual
	    pool: p1
	    allowIcmpEcho: true
	    backends: [${be%, }]
	YAML
}

metrics() {
	ip netns exec "$NODE" curl -s --max-time 3 http://127.0.0.1:7473/metrics
}

# client PROTO DST CONNS ROUNDS [HOLD_FILE]: the bounded client, inside the client namespace.
client() {
	timeout 60 ip netns exec "$CLIENT" "$TOOLS/elb_lbclient" "$@"
}

no_v6_p1() {
	local m
	m=$(metrics)
	grep -q edgelb_backend_flows_total <<<"$m" && ! grep -qF 'backend="[2001:db8:1:1::2]:8080"' <<<"$m"
}

vip_served() {
	client tcp "$1" 80 1 1 | grep -qE '^conn 0 0 p[123]$'
}

@test "TCP: many connections to VIP:80 reach all three backends, each stays on one" {
	local out="$ELB_STATE/../tcp.out"
	elb_wait 10 vip_served "$VIP4"
	client tcp "$VIP4" 80 60 3 >"$out"
	[ "$(grep -c '^conn' "$out")" -eq 180 ]
	run check_sticky "$out"
	[ "$status" -eq 0 ]
	[ "$output" = "p1 p2 p3 " ]
	# the fast path did it: flows per backend in the metrics and counters by reason
	run metrics
	[[ "$output" == *'edgelb_backend_flows_total{service="default/web",backend="198.51.100.2:8080"}'* ]]
	for k in 1 2 3; do
		n=$(grep "edgelb_backend_flows_total{service=\"default/web\",backend=\"$(pod_ip $k):8080\"}" <<<"$output" | awk '{print $2}')
		[ "${n:-0}" -ge 1 ]
	done
	# service show: per-backend packets, bytes and flows
	run elb -o json service show default/web
	[ "$status" -eq 0 ]
	for k in 1 2 3; do
		[ "$(jq "[.backends[] | select(.backend==\"$(pod_ip $k):8080\")][0].flows" <<<"$output")" -ge 1 ]
		[ "$(jq "[.backends[] | select(.backend==\"$(pod_ip $k):8080\")][0].packets" <<<"$output")" -ge 3 ]
	done
	[ "$(jq '[.backends[].flows] | add' <<<"$output")" -ge 60 ]
	run elb -o json stats
	[ "$(jq '.[] | select(.reason=="lb_revnat") | .packets' <<<"$output")" -ge 180 ]
	[ "$(jq '.[] | select(.reason=="lb_ct_miss") | .packets' <<<"$output")" -ge 60 ]
}

@test "no iptables or nftables rule is involved" {
	elb_wait 10 vip_served "$VIP4"
	run ip netns exec "$NODE" nft list ruleset
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run ip netns exec "$NODE" iptables-save
	refute grep -q '^-A' <<<"$output"
	run ip netns exec "$NODE" ip6tables-save
	refute grep -q '^-A' <<<"$output"
}

@test "the client sees replies from the VIP, and ICMP echo to the VIP is answered" {
	local cap="$ELB_STATE/../cap.txt" pid
	elb_wait 10 vip_served "$VIP4"
	timeout 20 ip netns exec "$CLIENT" tcpdump -l -n -i eC -c 40 "tcp and port 80" >"$cap" 2>/dev/null &
	pid=$!
	sleep 1
	client tcp "$VIP4" 80 5 2 >/dev/null
	wait "$pid" || true
	# every reply to the client comes from VIP:80, none from a pod address
	grep -q "$VIP4.80 > 192.0.2.2" "$cap"
	refute grep -qE "198\.51\.100\.(2|66|130)[^0-9]" "$cap"
	run ip netns exec "$CLIENT" ping -c 1 -W 2 "$VIP4"
	[ "$status" -eq 0 ]
}

@test "removing a backend keeps its connections until they close; new ones go elsewhere" {
	local out="$ELB_STATE/../hold.out" hold="$ELB_STATE/../go" pid on1
	elb_wait 10 vip_served "$VIP4"
	client tcp "$VIP4" 80 30 1 "$hold" >"$out" &
	pid=$!
	elb_wait 20 grep -q '^ready' "$out"
	on1=$(awk '$1=="conn" && $3=="0" && $4=="p1"' "$out" | wc -l)
	[ "$on1" -ge 1 ]
	write_conf 2 3
	kill -HUP "$ELB_PID"
	# applied when p1's IPv6 entry (no flows) is gone; its IPv4 entry drains
	elb_wait 10 no_v6_p1
	touch "$hold"
	wait "$pid"
	# old connections: same backend as before, p1 included
	awk '$1=="conn" && $3=="0" {b[$2]=$4} $1=="conn" && $3=="after" && b[$2] != $4 {bad=1}
	     END {exit bad}' "$out"
	refute grep -q ERROR "$out"
	# new connections: never p1
	[ "$(grep -c '^new' "$out")" -eq 30 ]
	refute grep -qE '^new [0-9]+ p1$' "$out"
	# explain agrees: a new flow never picks the drained backend
	run elb -o json explain --src 192.0.2.2:45678 --dst "$VIP4:80" --proto tcp
	[ "$status" -eq 0 ]
	[[ "$(jq -r .backend <<<"$output")" =~ ^198\.51\.100\.(66|130):8080$ ]]
}

@test "edgelbd killed with -9: held and new connections are served while it is down; restarted without pod 1, it adopts the maps and pod 1 keeps its held connections" {
	local out="$ELB_STATE/../hold.out" hold="$ELB_STATE/../go" down="$ELB_STATE/../down.out"
	local pid before
	map_ids() {
		local m
		for m in services_v1 backends_v1 maglev_v1 ct_fwd_v2 ct_reply_v2; do
			bpftool -j map show pinned "$ELB_BPFFS/$m" | jq -r .id
		done | tr '\n' ' '
	}
	elb_wait 10 vip_served "$VIP4"
	client tcp "$VIP4" 80 30 1 "$hold" >"$out" &
	pid=$!
	elb_wait 20 grep -q '^ready' "$out"
	[ "$(awk '$1=="conn" && $3=="0" && $4=="p1"' "$out" | wc -l)" -ge 1 ]
	before=$(map_ids)
	elb_stop KILL
	# no agent: the attached programs and the pinned maps serve new flows on their own
	client tcp "$VIP4" 80 30 2 >"$down"
	run check_sticky "$down"
	[ "$status" -eq 0 ]
	[ "$output" = "p1 p2 p3 " ]
	# back with pod 1 gone from the config: its flows live on in the adopted conntrack
	write_conf 2 3
	elb_start "$NODE" "$CONF" --metrics 127.0.0.1:7473
	grep -q "maps adopted" "$ELB_LOG"
	[ "$(map_ids)" = "$before" ]
	elb_wait 10 no_v6_p1
	touch "$hold"
	wait "$pid"
	# every connection opened before the kill answered again, from the backend it had
	[ "$(awk '$1=="conn" && $3=="after"' "$out" | wc -l)" -eq 30 ]
	awk '$1=="conn" && $3=="0" {b[$2]=$4} $1=="conn" && $3=="after" && b[$2] != $4 {bad=1}
	     END {exit bad}' "$out"
	refute grep -q ERROR "$out"
	[ "$(grep -c '^new' "$out")" -eq 30 ]
	refute grep -qE '^new [0-9]+ p1$' "$out"
}

@test "UDP: datagrams to VIP:80 reach all three backends, answers come from the VIP" {
	local out="$ELB_STATE/../udp.out"
	elb_wait 10 vip_served "$VIP4"
	client udp "$VIP4" 80 60 3 >"$out"
	run check_sticky "$out"
	[ "$status" -eq 0 ]
	[ "$output" = "p1 p2 p3 " ]
}

@test "conntrack: forward entries in ct_fwd_v2, reply entries in ct_reply_v2; pins of earlier layouts (ct_v1, ct_fwd_v1, ct_reply_v1) are removed at start" {
	local out="$ELB_STATE/../udp.out" fwd rep
	elb_wait 10 vip_served "$VIP4"
	client udp "$VIP4" 80 20 2 >"$out"
	run check_sticky "$out"
	[ "$status" -eq 0 ]
	run bpftool -j map dump pinned "$ELB_BPFFS/ct_fwd_v2"
	[ "$status" -eq 0 ]
	# the client's 20 UDP flows (and vip_served's TCP one): forward direction, client -> VIP:80
	fwd=$(jq '[.[] | .formatted | select(.key.dir == 0 and .key.proto == 17 and .key.dport == 20480)] | length' <<<"$output")
	[ "$fwd" -ge 20 ]
	[ "$(jq '[.[] | .formatted | select(.key.dir != 0)] | length' <<<"$output")" -eq 0 ]
	run bpftool -j map dump pinned "$ELB_BPFFS/ct_reply_v2"
	[ "$status" -eq 0 ]
	# backend:8080 -> client, mapped back to VIP:80 (network order as bpftool prints it)
	rep=$(jq '[.[] | .formatted | select(.key.dir == 1 and .key.proto == 17 and .key.sport == 36895 and .value.nat_port == 20480)] | length' <<<"$output")
	[ "$rep" -ge 20 ]
	[ "$(jq '[.[] | .formatted | select(.key.dir != 1)] | length' <<<"$output")" -eq 0 ]
	# agents of earlier layouts left their conntrack maps pinned: the next start removes them
	elb_stop TERM
	for m in ct_v1 ct_fwd_v1 ct_reply_v1; do
		bpftool map create "$ELB_BPFFS/$m" type lru_hash key 40 value 56 entries 64 name "$m"
		[ -e "$ELB_BPFFS/$m" ]
	done
	elb_start "$NODE" "$CONF" --metrics 127.0.0.1:7473
	for m in ct_v1 ct_fwd_v1 ct_reply_v1; do
		[ ! -e "$ELB_BPFFS/$m" ]
		grep -q "removed $ELB_BPFFS/$m, a map of an earlier layout" "$ELB_LOG"
	done
	[ -e "$ELB_BPFFS/ct_fwd_v2" ] && [ -e "$ELB_BPFFS/ct_reply_v2" ]
	elb_wait 10 vip_served "$VIP4"
}

@test "a pass for an unrelated change leaves the maps alone; a backend change is still applied" {
	elb_wait 10 vip_served "$VIP4"
	local before
	before=$(grep -c "maps left as they are" "$ELB_LOG" || true)
	# a netlink event: the agent runs a reconcile pass, with the same services
	ip -n "$NODE" addr add 192.0.2.9/24 dev eN
	elb_wait 5 bash -c "[ \$(grep -c 'maps left as they are' '$ELB_LOG') -gt $before ]"
	vip_served "$VIP4"
	# the same pass machinery still applies a real change: pod 1 (198.51.100.2, as bpftool
	# prints the address word) leaves
	p1_active() {
		bpftool -j map dump pinned "$ELB_BPFFS/backends_v1" |
			jq -e '.[] | .formatted.value | select(.addr.addr[0] == 40121286 and .state == 0)' >/dev/null
	}
	p1_active
	write_conf 2 3
	kill -HUP "$ELB_PID"
	elb_wait 10 refute p1_active
}

@test "IPv6: TCP and UDP to the IPv6 VIP reach all three backends" {
	local out="$ELB_STATE/../v6.out"
	elb_wait 5 elb_ndp_is "$CLIENT" eC "$VIP6" "$NODE_MAC"
	elb_wait 10 vip_served "$VIP6"
	client tcp "$VIP6" 80 60 2 >"$out"
	run check_sticky "$out"
	[ "$status" -eq 0 ]
	[ "$output" = "p1 p2 p3 " ]
	client udp "$VIP6" 80 60 2 >"$out"
	run check_sticky "$out"
	[ "$status" -eq 0 ]
	[ "$output" = "p1 p2 p3 " ]
}

# ct_gen: the flow-cache generation in config_v1
ct_gen() { bpftool -j map dump pinned "$ELB_BPFFS/config_v1" | jq '.[0].formatted.value.ct_gen'; }

@test "explain names the backend a flow reaches and why" {
	elb_wait 10 vip_served "$VIP4"
	g0=$(ct_gen)
	run elb -o json explain --src 192.0.2.2:40000 --dst "$VIP4:80" --proto tcp
	[ "$status" -eq 0 ]
	[[ "$(jq -r .backend <<<"$output")" =~ ^198\.51\.100\.(2|66|130):8080$ ]]
	[ "$(jq -r .service <<<"$output")" = default/web ]
	[[ "$(jq -r .why <<<"$output")" == *Maglev* ]]
	# the flow it made is removed again, and the flow caches forget it: ct_gen moved on
	[ "$(jq -r .conntrack <<<"$output")" = "new flow (removed again)" ]
	[ "$(ct_gen)" -eq $((g0 + 1)) ]
	run elb -o json explain --src 192.0.2.2:40000 --dst "$VIP4:443" --proto tcp
	[ "$status" -eq 0 ]
	[ "$(jq -r .action <<<"$output")" = XDP_DROP ]
	[[ "$(jq -r '.reasons | join(",")' <<<"$output")" == *lb_no_port* ]]
	run elb explain --src 192.0.2.2:1 --dst "$VIP4:80" --proto sctp
	[ "$status" -ne 0 ]
	[[ "$output" == *"proto"* ]]
	run elb explain --src 192.0.2.2 --dst "$VIP4:80" --proto tcp
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == 'edgelb: src: "192.0.2.2": not an address and port (allowed: IPv4:PORT like'* ]]
}

# udp_ask PORT DPORT: one datagram from 192.0.2.2:PORT (SO_REUSEADDR, so two such sockets can
# share the port) to VIP4:DPORT; prints the answer's source and text, or "timeout" (2 s).
udp_ask() {
	timeout 10 ip netns exec "$CLIENT" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.2", int(sys.argv[1])))
s.connect((sys.argv[2], int(sys.argv[3])))
s.settimeout(2)
s.send(b"who\n")
try:
    d, a = s.recvfrom(100)
    print("%s:%d %s" % (a[0], a[1], d.decode().strip()))
except socket.timeout:
    print("timeout")
' "$1" "$VIP4" "$2"
}

explain_be() {
	elb -o json explain --src "192.0.2.2:$1" --dst "$VIP4:$2" --proto udp | jq -r .backend
}

@test "reply clash: one client port to two VIP ports of one backend; the second flow reaches it from another port, both get their replies" {
	local p a b found=0 x
	elb_wait 10 vip_served "$VIP4"
	# a client port whose flows to :80 and :81 reach the same backend (both go to its :8080)
	for ((p = 41000; p < 41100; p++)); do
		a=$(explain_be $p 80)
		b=$(explain_be $p 81)
		if [[ -n $a && $a == "$b" ]]; then found=1; break; fi
	done
	[ "$found" -eq 1 ]
	run udp_ask $p 80
	[[ "$output" =~ ^192\.0\.2\.100:80\ p[123]$ ]]
	first=${output##* }
	# explain sees the clash: the new flow would get another client port
	run elb -o json explain --src "192.0.2.2:$p" --dst "$VIP4:81" --proto udp
	[ "$(jq -r .action <<<"$output")" != XDP_DROP ]
	x=$(jq -r .client_port_to_backend <<<"$output")
	[[ $x =~ ^[0-9]+$ ]] && [ "$x" -ge 1024 ] && [ "$x" -ne "$p" ]
	[[ "$(jq -r .why <<<"$output")" == *"client port $p translated to $x"* ]]
	# the second flow is answered, from VIP:81, by the same backend
	run udp_ask $p 81
	[ "$output" = "192.0.2.100:81 $first" ]
	run elb -o json stats
	[ "$(jq '.[] | select(.reason=="lb_port_xlate") | .packets' <<<"$output")" -ge 1 ]
	# the backend saw the second flow from port x: its reply entry maps back to VIP:81 and p
	# (network order as bpftool prints it)
	run bpftool -j map dump pinned "$ELB_BPFFS/ct_reply_v2"
	[ "$(jq --argjson x $(( (x >> 8) | ((x & 255) << 8) )) --argjson p $(( (p >> 8) | ((p & 255) << 8) )) \
		'[.[] | .formatted | select(.key.dport == $x and .value.xport == $p and .value.nat_port == 20736)] | length' <<<"$output")" -eq 1 ]
	# both flows keep their replies
	run udp_ask $p 80
	[ "$output" = "192.0.2.100:80 $first" ]
	run udp_ask $p 81
	[ "$output" = "192.0.2.100:81 $first" ]
}

# es_manifest FILE COND1 COND2 COND3: a Service "default/es" on the IPv4 VIP and its
# EndpointSlice with pods 1-3 under the given conditions.
es_manifest() {
	cat >"$1" <<-YAML
	apiVersion: v1
	kind: Service
	metadata: {name: es, namespace: default}
	spec:
	  type: LoadBalancer
	  loadBalancerIP: $VIP4
	  ports: [{port: 80, protocol: TCP}]
	---
	apiVersion: discovery.k8s.io/v1
	kind: EndpointSlice
	metadata:
	  name: es-abc
	  namespace: default
	  labels: {kubernetes.io/service-name: es}
	addressType: IPv4
	ports: [{name: http, protocol: TCP, port: 8080}]
	endpoints:
	  - addresses: ["$(pod_ip 1)"]
	    conditions: $2
	  - addresses: ["$(pod_ip 2)"]
	    conditions: $3
	  - addresses: ["$(pod_ip 3)"]
	    conditions: $4
	YAML
}

@test "EndpointSlice: ready endpoints take new flows, a terminating one keeps only its own" {
	local out="$ELB_STATE/../es.out" hold="$ELB_STATE/../es.go" pid on3 m="$ELB_STATE/../es.yaml"
	# the service comes from apply (a runtime object), its backends from the slice
	write_conf
	sed -i '/^services:/,$d' "$CONF"
	echo "services: []" >>"$CONF"
	kill -HUP "$ELB_PID"
	es_manifest "$m" "{ready: true}" "{ready: true}" "{ready: true}"
	run elb apply -f "$m"
	[ "$status" -eq 0 ]
	elb_wait 10 vip_served "$VIP4"
	client tcp "$VIP4" 80 30 1 "$hold" >"$out" &
	pid=$!
	elb_wait 20 grep -q '^ready' "$out"
	on3=$(awk '$1=="conn" && $3=="0" && $4=="p3"' "$out" | wc -l)
	[ "$on3" -ge 1 ]
	# p2 not ready, p3 terminating but still serving its connections
	es_manifest "$m" "{ready: true}" "{ready: false, serving: false}" \
		"{ready: false, serving: true, terminating: true}"
	run elb apply -f "$m"
	[ "$status" -eq 0 ]
	elb_wait 10 bash -c "$ELB_BIN/edgelb -o json explain --src 192.0.2.2:1 --dst $VIP4:80 --proto tcp | jq -e '.backends_for_new_flows == 1'"
	touch "$hold"
	wait "$pid"
	# connections on the terminating p3 keep being answered by p3
	awk '$1=="conn" && $3=="0" {b[$2]=$4} $1=="conn" && $3=="after" && b[$2] != $4 {bad=1}
	     END {exit bad}' "$out"
	refute grep -q ERROR "$out"
	# new connections only reach the ready p1
	[ "$(grep -c '^new [0-9]* p1$' "$out")" -eq 30 ]
}

@test "a 20 MB reply arrives intact through the VIP (GSO and partial checksums on the way back)" {
	elb_wait 10 vip_served "$VIP4"
	run timeout 30 ip netns exec "$CLIENT" bash -c \
		"exec 3<>/dev/tcp/$VIP4/80; echo 'bulk 20000000' >&3; head -c 20000000 <&3 | tr -cd x | wc -c; head -n 1 <&3"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 20000000 ]
	[[ "${lines[1]}" =~ ^p[123]$ ]]
}

@test "curl from the client to http://VIP/ gets answers from each of the three pods" {
	local seen="" i
	elb_wait 10 vip_served "$VIP4"
	for i in $(seq 1 30); do
		seen+="$(ip netns exec "$CLIENT" curl -s --max-time 3 "http://$VIP4/") "
	done
	[[ "$seen" == *p1* && "$seen" == *p2* && "$seen" == *p3* ]]
	refute grep -qvE '^(p[123] )+$' <<<"$seen"
}
