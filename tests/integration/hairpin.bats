#!/usr/bin/env bats
# Hairpin: processes on the node (a client "pod" namespace q, and a backend pod itself) reach a
# service VIP through sock_lb, eight cgroup programs attached to node.hairpinCgroup: connect()
# and unconnected sendmsg() to VIP:port go straight to a Maglev-picked backend, getpeername()
# and recvmsg() show VIP:port. No packet NAT, no XDP on the way: q's packets are routed by the
# node to the pod links. The client namespace c reaches the VIP through XDP on eN as in lb.bats.
#
#   +-- elb<id>c (client) --+        +-- elb<id>n (node) -----------------------+   +-- elb<id>p1 ------+
#   | eC 192.0.2.2/24       |--veth--| eN 192.0.2.1/24 2001:db8::1/64           |   | eP 198.51.100.2   |
#   |    2001:db8::2/64     |        |  xdp_ingress + tc_revnat (egress)        |---| 2001:db8:1:1::2   |
#   | xdp_pass, tx off      |        | nB1 198.51.100.1/26 2001:db8:1:1::1 .. nB3|   | elb_echo p1       |
#   +-----------------------+        | nB4 198.51.100.193/26 2001:db8:1:4::1     |   +- p2, p3 alike ----+
#                                    | VIPs 192.0.2.100-102, 2001:db8::100       |
#                                    +---------------------+---------------------+
#   cgroup v2 <mnt>/elb<id>cg: sock_lb        +-- elb<id>q (client pod) ---------+
#   (clients started in it run in q or p1)    | eP 198.51.100.194/26 2001:db8:1:4::2 |
#                                             +----------------------------------+
# Pod K's link is the /26 at 198.51.100.64(K-1): the node's end .64(K-1)+1, the pod .64(K-1)+2
# (p1 198.51.100.2, p2 .66, p3 .130, q .194). Services: default/web on VIP4/VIP6 (tcp/80,
# udp/80, pods 1-3), default/empty on 192.0.2.101 (tcp/81, udp/81, no backend), default/self
# on 192.0.2.102 (tcp/80, pod 1 only).

load lib/agent
load lib/netns
load lib/pods

VIP4=192.0.2.100
VIP6=2001:db8::100
VIP_EMPTY=192.0.2.101
VIP_SELF=192.0.2.102

setup() {
	CG_MNT=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	[ -n "$CG_MNT" ] || skip "no cgroup2 mount in /proc/mounts"
	pods_topology
	Q=$(elb_ns q)
	pod_link 4 "$Q"
	CG="$CG_MNT/elb${ELB_ID}cg"
	mkdir "$CG"
	elb_dirs
	CONF="$ELB_STATE/../node.yaml"
}

# cg_remove: the test cgroup goes, any process left in it moved to the parent first.
cg_remove() {
	local i p
	[[ -n ${CG:-} && -d $CG ]] || return 0
	for ((i = 0; i < 20; i++)); do
		while read -r p; do
			echo "$p" >"$(dirname "$CG")/cgroup.procs" 2>/dev/null || true
		done <"$CG/cgroup.procs"
		rmdir "$CG" 2>/dev/null && return 0
		sleep 0.1
	done
	rmdir "$CG"
}

teardown() {
	local rc=0
	elb_teardown || rc=$?
	cg_remove || rc=$?
	return $rc
}

# write_conf [HAIRPIN_CGROUP]: web on pods 1-3, empty, self on pod 1; hairpin off without
# the argument.
write_conf() {
	local be="" k node="node: {name: node-a}"
	[[ -z ${1:-} ]] || node="node: {name: node-a, hairpinCgroup: \"$1\"}"
	for k in 1 2 3; do
		be+="\"$(pod_ip $k):8080\", \"[2001:db8:1:$k::2]:8080\", "
	done
	cat >"$CONF" <<-YAML
	$node
	switches:
	  - name: vSwitch1
	    interfaces: [eN]
	    compute: true
	pools:
	  - name: p1
	    addresses: [$VIP4-$VIP_SELF, "$VIP6/128"]
	bgpPeers: []
	services:
	  - name: default/web
	    ports: ["tcp/80", "udp/80"]
	    ips: [$VIP4, "$VIP6"]
	    ipFamily: dual
	    pool: p1
	    backends: [${be%, }]
	  - name: default/empty
	    ports: ["tcp/81", "udp/81"]
	    ips: [$VIP_EMPTY]
	    ipFamily: ipv4
	    pool: p1
	    backends: []
	  - name: default/self
	    ports: ["tcp/80"]
	    ips: [$VIP_SELF]
	    ipFamily: ipv4
	    pool: p1
	    backends: ["$(pod_ip 1):8080"]
	YAML
}

# in_cg NS CMD...: CMD inside the test cgroup and namespace NS, at most 60 s.
# shellcheck disable=SC2016 # $$ and $0 are the inner shell's
in_cg() {
	timeout 60 sh -c 'echo $$ >"$0/cgroup.procs" && exec ip netns exec "$@"' "$CG" "$@"
}

# qclient PROTO DST PORT CONNS ROUNDS: elb_lbclient in q inside the cgroup.
qclient() { in_cg "$Q" "$TOOLS/elb_lbclient" "$@"; }

# counter REASON: packets of one counter reason, 0 when it is not listed.
counter() {
	elb -o json stats | jq --arg r "$1" '[.[] | select(.reason == $r) | .packets] | add // 0'
}

# flows BACKEND: flows of one backend of default/web.
flows() {
	elb -o json service show default/web | jq --arg b "$1" '[.backends[] | select(.backend == $b) | .flows] | add // 0'
}

# cg_progs: "ATTACH_TYPE NAME" of every program attached to the test cgroup (bpftool prints
# nothing at all when there is none).
cg_progs() {
	bpftool -j cgroup show "$CG" | jq -rs 'add // [] | .[] | "\(.attach_type) \(.name)"'
}

# cg_hooked N: N programs on the cgroup, all sock_lb's, each on its own hook.
cg_hooked() {
	local p
	p=$(cg_progs) || return 1
	[ "$(grep -c . <<<"$p")" -eq "$1" ] || return 1
	[ "$(awk '{print $1}' <<<"$p" | sort -u | grep -c .)" -eq "$1" ] || return 1
	[ "$(grep -c ' sock_' <<<"$p")" -eq "$1" ]
}

# cg_prog_ids: the ids of the programs on the test cgroup, sorted.
cg_prog_ids() {
	bpftool -j cgroup show "$CG" | jq -rs 'add // [] | .[].id' | sort -n | tr '\n' ' '
}

# progs_renewed OLD_IDS: some program is attached and none of OLD_IDS is (a restarted agent
# has loaded its own).
progs_renewed() {
	local now id
	now=$(cg_prog_ids)
	[ -n "$now" ] || return 1
	for id in $now; do
		[[ " $1 " != *" $id "* ]] || return 1
	done
}

# link_pins: the sock_lb link pins in the bpffs dir, one per line.
link_pins() {
	find "$ELB_BPFFS" -maxdepth 1 -name 'sock_lb_*' | sort
}

# link_ids: the ids of the pinned links, in pin order.
link_ids() {
	local p
	for p in $(link_pins); do
		bpftool -j link show pinned "$p" | jq -r .id
	done | tr '\n' ' '
}

# q_reaches_all PROTO DST: 60 sockets from q in the cgroup to DST:80, two rounds each, reach
# p1, p2 and p3, each socket always the same pod.
q_reaches_all() {
	local out="$ELB_STATE/../reach.out"
	qclient "$1" "$2" 80 60 2 >"$out"
	run check_sticky "$out"
	[ "$status" -eq 0 ]
	[ "$output" = "p1 p2 p3 " ]
}

# hairpin_served VIP: one connection from q in the cgroup to VIP:80 is answered by a pod.
hairpin_served() {
	qclient tcp "$1" 80 1 1 | grep -qE '^conn 0 0 p[123]$'
}

# start_hairpin [edgelbd flags...]: the agent with hairpin on the test cgroup, serving.
start_hairpin() {
	write_conf "$CG"
	elb_start "$NODE" "$CONF" "$@"
	elb_wait 10 cg_hooked 8
	elb_wait 15 hairpin_served "$VIP4"
}

@test "TCP from the cgroup in q: connections to VIP:80 reach all three pods, each stays on one; sock_lb counts them, the XDP counters do not move" {
	local out="$ELB_STATE/../tcp.out" lb miss hit k sum=0 n
	start_hairpin
	lb=$(counter sock_lb)
	miss=$(counter lb_ct_miss)
	hit=$(counter lb_ct_hit)
	qclient tcp "$VIP4" 80 60 3 >"$out"
	[ "$(grep -c '^conn' "$out")" -eq 180 ]
	run check_sticky "$out"
	[ "$status" -eq 0 ]
	[ "$output" = "p1 p2 p3 " ]
	# one steered connect per connection
	[ "$(counter sock_lb)" -eq $((lb + 60)) ]
	[ "$(counter sock_lb)" -ge 60 ]
	[ "$(counter lb_ct_miss)" -eq "$miss" ]
	[ "$(counter lb_ct_hit)" -eq "$hit" ]
	for k in 1 2 3; do
		n=$(flows "$(pod_ip $k):8080")
		[ "$n" -ge 1 ]
		sum=$((sum + n))
	done
	[ "$sum" -ge 60 ]
}

@test "unchanged without the hook: q outside the cgroup gets no answer from the VIP; inside it, a port the VIP does not serve and a pod address are left alone" {
	local out="$ELB_STATE/../neg.out" lb nob
	start_hairpin
	timeout 60 ip netns exec "$Q" "$TOOLS/elb_lbclient" tcp "$VIP4" 80 2 1 >"$out"
	[ "$(grep -c '^conn [01] 0 ERROR$' "$out")" -eq 2 ]
	refute grep -q 'p[123]' "$out"
	lb=$(counter sock_lb)
	nob=$(counter sock_lb_no_backend)
	run qclient tcp "$VIP4" 443 1 1
	[ "$output" = "conn 0 0 ERROR" ]
	# a pod's own address is not a VIP: the connection goes to that pod and no other
	run qclient tcp "$(pod_ip 2)" 8080 5 2
	[ "$(grep -c '^conn [0-4] [01] p2$' <<<"$output")" -eq 10 ]
	[ "$(counter sock_lb)" -eq "$lb" ]
	[ "$(counter sock_lb_no_backend)" -eq "$nob" ]
}

@test "getpeername and unconnected UDP: the socket shows VIP:80 while ss shows the pod; sendto(VIP) is answered from VIP:80" {
	start_hairpin
	run in_cg "$Q" python3 -c '
import socket, subprocess, sys
vip = sys.argv[1]
t = socket.create_connection((vip, 80), timeout=3)
print("peer %s %d" % t.getpeername()[:2])
ss = subprocess.run(["ss", "-Htn", "sport = :%d" % t.getsockname()[1]],
                    capture_output=True, text=True, timeout=3).stdout.split()
print("ss", ss[4] if len(ss) > 4 else "none")
t.sendall(b"who\n")
print("tcp", t.recv(100).decode().strip())
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
u.sendto(b"who\n", (vip, 80))
d, a = u.recvfrom(100)
print("udp %s %d %s" % (a[0], a[1], d.decode().strip()))
' "$VIP4"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "peer $VIP4 80" ]
	[[ "${lines[1]}" =~ ^ss\ 198\.51\.100\.(2|66|130):8080$ ]]
	[[ "${lines[2]}" =~ ^tcp\ p[123]$ ]]
	[[ "${lines[3]}" =~ ^udp\ 192\.0\.2\.100\ 80\ p[123]$ ]]
	run bpftool -j map dump pinned "$ELB_BPFFS/sock_revnat_v1"
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" -ge 1 ]
}

@test "IPv6: TCP and UDP from the cgroup to the IPv6 VIP reach all three pods" {
	local k
	start_hairpin
	elb_wait 15 hairpin_served "$VIP6"
	q_reaches_all tcp "$VIP6"
	q_reaches_all udp "$VIP6"
	for k in 1 2 3; do
		[ "$(flows "[2001:db8:1:$k::2]:8080")" -ge 1 ]
	done
}

@test "IPv4-mapped: an IPv6 socket to ::ffff:VIP4 is steered (TCP, connected and unconnected UDP); getpeername and recvfrom show ::ffff:VIP4 port 80" {
	local before
	start_hairpin
	before=$(counter sock_lb)
	q_reaches_all tcp "::ffff:$VIP4"
	q_reaches_all udp "::ffff:$VIP4"
	[ "$(counter sock_lb)" -eq $((before + 120)) ]
	run in_cg "$Q" python3 -c '
import socket, sys
vip = "::ffff:" + sys.argv[1]
t = socket.create_connection((vip, 80), timeout=3)
print("peer %s %d" % t.getpeername()[:2])
t.sendall(b"who\n")
print("tcp", t.recv(100).decode().strip())
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.settimeout(3)
u.sendto(b"who\n", (vip, 80))
d, a = u.recvfrom(100)
print("udp %s %d %s" % (a[0], a[1], d.decode().strip()))
' "$VIP4"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "peer ::ffff:$VIP4 80" ]
	[[ "${lines[1]}" =~ ^tcp\ p[123]$ ]]
	[[ "${lines[2]}" =~ ^udp\ ::ffff:192\.0\.2\.100\ 80\ p[123]$ ]]
}

@test "a service without backends: connect() and sendto() fail with EPERM at once; sock_lb_no_backend counts them" {
	local nob
	start_hairpin
	nob=$(counter sock_lb_no_backend)
	run in_cg "$Q" python3 -c '
import socket, sys, time
vip = sys.argv[1]
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.settimeout(3)
t0 = time.monotonic()
try:
    t.connect((vip, 81))
    print("tcp connected")
except OSError as e:
    print("tcp errno %d ms %d" % (e.errno, (time.monotonic() - t0) * 1000))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.sendto(b"who\n", (vip, 81))
    print("udp sent")
except OSError as e:
    print("udp errno %d" % e.errno)
' "$VIP_EMPTY"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^tcp\ errno\ 1\ ms\ ([0-9]+)$ ]]
	[ "${BASH_REMATCH[1]}" -lt 1000 ]
	[ "${lines[1]}" = "udp errno 1" ]
	[ "$(counter sock_lb_no_backend)" -ge $((nob + 2)) ]
}

@test "self-hairpin: pod 1, in the cgroup, reaches a service whose only backend is itself" {
	local out="$ELB_STATE/../self.out"
	start_hairpin
	in_cg "${POD[1]}" "$TOOLS/elb_lbclient" tcp "$VIP_SELF" 80 5 2 >"$out"
	[ "$(grep -c '^conn [0-4] [01] p1$' "$out")" -eq 10 ]
	# a pod of web's is a client like any other: all three backends
	in_cg "${POD[1]}" "$TOOLS/elb_lbclient" tcp "$VIP4" 80 60 1 >"$out"
	run check_sticky "$out"
	[ "$status" -eq 0 ]
	[ "$output" = "p1 p2 p3 " ]
}

@test "lifecycle: the links outlive edgelbd (SIGTERM and kill -9), a restart updates them in place, removing hairpinCgroup detaches and unpins" {
	local ids progs sig
	start_hairpin
	[ "$(link_pins | grep -c .)" -eq 8 ]
	[ -e "$ELB_BPFFS/sock_revnat_v1" ]
	ids=$(link_ids)
	[[ "$ids" =~ ^([0-9]+\ ){8}$ ]]
	for sig in TERM KILL; do
		progs=$(cg_prog_ids)
		elb_stop "$sig"
		# no agent: the pinned links keep the hooks, which keep serving
		cg_hooked 8
		[ "$(link_pins | grep -c .)" -eq 8 ]
		[ -e "$ELB_BPFFS/sock_revnat_v1" ]
		hairpin_served "$VIP4"
		# restarted: its own programs on the same links, one attachment per hook
		elb_start "$NODE" "$CONF"
		elb_wait 10 progs_renewed "$progs"
		cg_hooked 8
		[ "$(link_ids)" = "$ids" ]
		hairpin_served "$VIP4"
	done
	write_conf
	kill -HUP "$ELB_PID"
	elb_wait 10 cg_hooked 0
	[ -z "$(link_pins)" ]
	[ ! -e "$ELB_BPFFS/sock_revnat_v1" ]
	run qclient tcp "$VIP4" 80 1 1
	[ "$output" = "conn 0 0 ERROR" ]
}

@test "--cleanup-on-exit: the hooks and the pins go when edgelbd exits" {
	start_hairpin --cleanup-on-exit
	[ "$(link_pins | grep -c .)" -eq 8 ]
	elb_stop TERM
	cg_hooked 0
	[ -z "$(link_pins)" ]
	[ ! -e "$ELB_BPFFS/sock_revnat_v1" ]
	run qclient tcp "$VIP4" 80 1 1
	[ "$output" = "conn 0 0 ERROR" ]
}

@test "a hairpinCgroup that is not a cgroup v2 directory: one error line, nothing attached or pinned, the XDP path still serves; moved there on SIGHUP, the old links go" {
	local dir="$ELB_STATE/../not-a-cgroup" miss
	mkdir "$dir"
	write_conf "$dir"
	elb_start "$NODE" "$CONF"
	elb_wait 10 grep -q 'not a cgroup v2 directory' "$ELB_LOG"
	[ "$(grep 'hairpinCgroup' "$ELB_LOG" | grep -c 'not a cgroup v2 directory')" -eq 1 ]
	grep 'not a cgroup v2 directory' "$ELB_LOG" | grep -qF "$dir"
	[ -z "$(link_pins)" ]
	[ ! -e "$ELB_BPFFS/sock_revnat_v1" ]
	cg_hooked 0
	# the rest of the agent: a connection from the client namespace through XDP
	elb_wait 5 elb_arp_is "$CLIENT" eC "$VIP4" "$(elb_mac "$NODE" eN)"
	miss=$(counter lb_ct_miss)
	run timeout 10 ip netns exec "$CLIENT" "$TOOLS/elb_lbclient" tcp "$VIP4" 80 1 1
	[[ "$output" =~ ^conn\ 0\ 0\ p[123]$ ]]
	[ "$(counter lb_ct_miss)" -gt "$miss" ]
	kill -0 "$ELB_PID"
	# said once, not at every pass
	[ "$(grep -c 'not a cgroup v2 directory' "$ELB_LOG")" -eq 1 ]
	# on the test cgroup, then moved to the plain directory: hairpin is off, not left behind
	write_conf "$CG"
	kill -HUP "$ELB_PID"
	elb_wait 10 cg_hooked 8
	elb_wait 15 hairpin_served "$VIP4"
	write_conf "$dir"
	kill -HUP "$ELB_PID"
	elb_wait 10 cg_hooked 0
	[ -z "$(link_pins)" ]
	[ ! -e "$ELB_BPFFS/sock_revnat_v1" ]
	grep -q "sock_lb detached from cgroup $CG" "$ELB_LOG"
	[ "$(grep -c 'not a cgroup v2 directory' "$ELB_LOG")" -eq 2 ]
}

@test "a relative hairpinCgroup is refused in one line naming node.hairpinCgroup: at --check-config, at start and on SIGHUP" {
	write_conf elb/relative
	run "$ELB_BIN/edgelbd" --check-config "$CONF"
	[ "$status" -eq 1 ]
	[ "$(grep -c 'hairpinCgroup' <<<"$output")" -eq 1 ]
	[[ "$output" == *"$CONF:1: node.hairpinCgroup: \"elb/relative\""* ]]
	[[ "$output" == *"$CONF: 1 error"* ]]
	run timeout 10 nsenter --net="/run/netns/$NODE" "$ELB_BIN/edgelbd" --config "$CONF" \
		--state-dir "$ELB_STATE" --run-dir "$ELB_RUN" --bpffs "$ELB_BPFFS" --metrics none
	[ "$status" -eq 1 ]
	[ "$(grep -c 'node.hairpinCgroup' <<<"$output")" -eq 1 ]
	# running with hairpin on, a reload to a relative path changes nothing
	start_hairpin
	write_conf elb/relative
	kill -HUP "$ELB_PID"
	elb_wait 5 grep -q "reload of $CONF refused" "$ELB_LOG"
	[ "$(grep -c 'node.hairpinCgroup: "elb/relative"' "$ELB_LOG")" -eq 1 ]
	[ "$(elb -o json status | jq -r .reloads)" = 0 ]
	cg_hooked 8
	hairpin_served "$VIP4"
}
