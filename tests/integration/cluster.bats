#!/usr/bin/env bats
# Two nodes of one cluster in layer-2 mode share a real etcd v3 (Debian's etcd-server): one
# lease per node, one key per service IP (/edgelb/l2/<ip>) naming the node that answers ARP
# for it. One answer on the wire; failover when the holder dies (lease expiry), leaves
# (revoke) or loses etcd (it stops answering by itself); the key goes when the IP does.
#
#   +-- elb<id>l (LAN) ----------------------------------------------+
#   |  br0 192.0.2.9/24, etcd serving http://192.0.2.9:2379           |
#   |  ports lA, lB (xdp_pass), lC                                    |
#   +----+-----------------------+-----------------------+-----------+
#        | veth                  | veth                  | veth
#   +----+---------------+  +----+---------------+  +----+-------------+
#   | elb<id>a node-a    |  | elb<id>b node-b    |  | elb<id>c client  |
#   | eN 192.0.2.1/24    |  | eN 192.0.2.3/24    |  | eC 192.0.2.2/24  |
#   | edgelbd, XDP on eN |  | edgelbd, XDP on eN |  | arping           |
#   +--------------------+  +--------------------+  +------------------+
#   VIP 192.0.2.100 (pool p1, service default/web on both nodes); 192.0.2.101 (pool p2)

load lib/agent
load lib/netns
load lib/etcd

VIP=192.0.2.100
VIP2=192.0.2.101
TTL=4

setup() {
	cluster_lan
	CLIENT=$(elb_ns c)
	elb_veth "$CLIENT" eC "$LAN" lC
	ip -n "$LAN" link set lC master br0
	# the nodes answer ARP with XDP_TX: a program on the receiving veth end takes it in
	elb_xdp_pass "$LAN" lA
	elb_xdp_pass "$LAN" lB
	ip -n "$CLIENT" addr add 192.0.2.2/24 dev eC
	MAC_A=$(elb_mac "$NA" eN)
	MAC_B=$(elb_mac "$NB" eN)
	elb_etcd "$LAN" 192.0.2.9
}

teardown() {
	elb_teardown
}

# node X NAME NS [edgelbd flags...]: starts NAME's agent in NS with the shared config; its
# PID, socket and log go to PID_X, SOCK_X and LOG_X.
node() {
	local x=$1 name=$2 ns=$3
	shift 3
	cluster_node "$name" "$ns" "$@"
	printf -v "PID_$x" %s "$ELB_PID"
	printf -v "SOCK_$x" %s "$EDGELB_SOCKET"
	printf -v "LOG_$x" %s "$ELB_LOG"
}

# on X CLI-ARGS...: the CLI against node X.
on() {
	local s="SOCK_$1"
	shift
	EDGELB_SOCKET=${!s} elb "$@"
}

# held X N / live X: node X holds N IPs / has a live lease (for elb_wait).
held() { [ "$(on "$1" -o json status | jq -r .l2IpsHeld)" = "$2" ]; }
live() { [ "$(on "$1" -o json status | jq -r .leaseLive)" = true ]; }
# key_is IP VALUE: etcd's /edgelb/l2/IP holds VALUE ("" absent).
key_is() { [ "$(etcd_value "/edgelb/l2/$1")" = "$2" ]; }

# macs: the distinct MACs answering three ARP requests for the VIP (3 s at most), sorted.
macs() {
	ip netns exec "$CLIENT" arping -c 3 -w 3 -I eC "$VIP" 2>/dev/null |
		grep -oE 'from ([0-9a-f]{2}:){5}[0-9a-f]{2}' | cut -d' ' -f2 | sort -u | paste -sd' '
}
only() { [ "$(macs)" = "$1" ]; }

# metric X SAMPLE: the value of SAMPLE (name{labels} as printed) on node X's /metrics, which
# node X serves when started with --metrics 127.0.0.1:7472 (each node has its own namespace).
metric() {
	local ns="N$1"
	ip netns exec "${!ns}" curl -s --max-time 2 http://127.0.0.1:7472/metrics |
		awk -v s="$2" '$1 == s { print $2 }'
}
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }

# kill_node X SIGNAL: stops node X by its PID.
kill_node() {
	local p="PID_$1"
	ELB_PID=${!p}
	elb_stop "$2"
}

@test "two nodes: the first holds the VIP in etcd and alone answers ARP; status says so" {
	node A node-a "$NA"
	elb_wait 10 held A 1
	node B node-b "$NB"
	elb_wait 10 live B
	run etcd_value "/edgelb/l2/$VIP"
	[ "$output" = node-a ]
	run on B -o json status
	[ "$(jq -r .l2IpsHeld,.l2IpsWanted,.etcd <<<"$output" | paste -sd' ')" = "0 1 $ETCD_URL" ]
	[ -n "$(jq -r .lease <<<"$output")" ]
	run macs
	[ "$output" = "$MAC_A" ]
	# both nodes are members, each on its own lease
	run etcdq get --prefix --keys-only /edgelb/nodes/
	[ "$(grep -c . <<<"$output")" -eq 2 ]
	run on A status
	[[ "$output" == *"L2IpsHeld        : 1"* ]]
}

@test "the holder killed (-9): its lease expires, the other node takes the VIP and alone answers" {
	node A node-a "$NA"
	elb_wait 10 held A 1
	node B node-b "$NB"
	elb_wait 10 live B
	kill_node A KILL
	# the key outlives the process until the lease TTL; then node-b holds it
	elb_wait $((TTL + 10)) key_is "$VIP" node-b
	elb_wait 5 held B 1
	elb_wait 5 only "$MAC_B"
	run macs
	[ "$output" = "$MAC_B" ]
	grep -q "held by this node: answering for it" "$LOG_B"
}

@test "failover metrics: node-b, answering after node-a was killed (-9), exports how long it took" {
	node A node-a "$NA"
	elb_wait 10 held A 1
	node B node-b "$NB" --metrics 127.0.0.1:7472
	elb_wait 10 live B
	elb_wait 5 metric_is B edgelb_cluster_members 2
	[ "$(metric B edgelb_l2_failover_duration_seconds_count)" = 0 ]
	[ "$(metric B edgelb_cluster_l2_ips_held)" = 0 ]
	kill_node A KILL
	elb_wait $((TTL + 10)) held B 1
	elb_wait 5 metric_is B edgelb_l2_failover_duration_seconds_count 1
	run metric B 'edgelb_l2_failover_duration_seconds_bucket{le="+Inf"}'
	[ "$output" = 1 ]
	# node-a's expired lease deletes /edgelb/nodes/node-a and /edgelb/l2/VIP in one revision;
	# node-b applies the member change first, so it is the VIP's only, hence preferred, member
	# and claims it at once (no DEFER_MS wait of 1 s): the duration is one etcd transaction and
	# one layer-2 pass (1-2 ms here), not the lease TTL node-a's death took to show
	run metric B edgelb_l2_failover_duration_seconds_sum
	echo "failover took $output s"
	awk -v s="$output" 'BEGIN { exit !(s > 0 && s < 1) }'
	run metric B 'edgelb_l2_failover_duration_seconds_bucket{le="1"}'
	[ "$output" = 1 ]
	[ "$(metric B 'edgelb_cluster_l2_transfers_total{event="taken"}')" = 1 ]
	[ "$(metric B 'edgelb_cluster_l2_transfers_total{event="fenced"}')" = 0 ]
	[ "$(metric B edgelb_cluster_lease_live)" = 1 ]
	[ "$(metric B edgelb_cluster_members)" = 1 ]
	[ "$(metric B edgelb_cluster_l2_ips_held)" = 1 ]
}

@test "the holder stopped (TERM): it stops answering and revokes its lease, the other takes over before any TTL" {
	TTL=30
	node A node-a "$NA"
	elb_wait 10 held A 1
	node B node-b "$NB"
	elb_wait 10 live B
	kill_node A TERM
	grep -q "revoked" "$LOG_A"
	# well within the 30 s TTL: the revoke, not an expiry, handed it over
	elb_wait 5 key_is "$VIP" node-b
	elb_wait 5 only "$MAC_B"
}

@test "a holder cut off from etcd stops answering when its lease runs out, and answers again when etcd is back" {
	node A node-a "$NA" --metrics 127.0.0.1:7472
	elb_wait 10 held A 1
	kill -STOP "$ETCD_PID"
	elb_wait $((TTL + 5)) grep -q "not renewed within its TTL: stopped answering" "$LOG_A"
	run macs
	[ -z "$output" ]
	run on A -o json status
	[ "$(jq -r .leaseLive,.l2IpsHeld <<<"$output" | paste -sd' ')" = "false 0" ]
	[ "$(metric A 'edgelb_cluster_l2_transfers_total{event="fenced"}')" = 1 ]
	[ "$(metric A edgelb_cluster_lease_live)" = 0 ]
	kill -CONT "$ETCD_PID"
	# etcd keeps leases across a pause (their TTLs restart with the leader), or they expired:
	# either way node-a holds the VIP again
	elb_wait 20 held A 1
	elb_wait 5 only "$MAC_A"
	# its own IP again, not a failover from another node
	[ "$(metric A edgelb_l2_failover_duration_seconds_count)" = 0 ]
	[ "$(metric A 'edgelb_cluster_l2_transfers_total{event="fenced"}')" = 1 ]
}

@test "an IP given up (service removed) leaves etcd and the wire; a new one is claimed" {
	node A node-a "$NA"
	elb_wait 10 held A 1
	on A service set default/api --ports tcp/80 --pool p2 >/dev/null
	elb_wait 5 key_is "$VIP2" node-a
	elb_wait 5 held A 2
	elb_wait 5 elb_arp_is "$CLIENT" eC "$VIP2" "$MAC_A"
	on A service remove default/api >/dev/null
	elb_wait 5 key_is "$VIP2" ""
	run elb_arp "$CLIENT" eC "$VIP2"
	[ "$status" -ne 0 ]
	run on A -o json status
	[ "$(jq -r .l2IpsWanted,.l2IpsHeld <<<"$output" | paste -sd' ')" = "1 1" ]
	[ "$(etcd_value "/edgelb/l2/$VIP")" = node-a ]
}

@test "IPs spread by rendezvous hashing: node-a hands 192.0.2.101 to node-b once node-b has been a member for a TTL" {
	# members_preferred (test_members): 192.0.2.100 prefers node-a, 192.0.2.101 node-b
	node A node-a "$NA" --metrics 127.0.0.1:7472
	on A service set default/api --ports tcp/80 --pool p2 >/dev/null
	elb_wait 10 held A 2
	node B node-b "$NB" --metrics 127.0.0.1:7472
	on B service set default/api --ports tcp/80 --pool p2 >/dev/null
	elb_wait $((2 * TTL + 10)) key_is "$VIP2" node-b
	elb_wait 5 held B 1
	elb_wait 5 elb_arp_is "$CLIENT" eC "$VIP2" "$MAC_B"
	run macs
	[ "$output" = "$MAC_A" ]
	[ "$(on A -o json status | jq -r .l2IpsHeld)" = 1 ]
	[ "$(etcd_value "/edgelb/l2/$VIP")" = node-a ]
	grep -q "/edgelb/l2/$VIP2 handed over to node-b" "$LOG_A"
	[ "$(metric A 'edgelb_cluster_l2_transfers_total{event="handed_over"}')" = 1 ]
	[ "$(metric A 'edgelb_cluster_l2_transfers_total{event="taken_back"}')" = 0 ]
	[ "$(metric B 'edgelb_cluster_l2_transfers_total{event="taken"}')" = 1 ]
	[ "$(metric B edgelb_l2_failover_duration_seconds_count)" = 1 ]
	# node-b took 192.0.2.101 when it was free, without a wait: it is its preferred node
	! grep -q "taken back" "$LOG_A"
}

@test "an IP handed to a node that does not want it is taken back, and not offered to it again" {
	node A node-a "$NA" --metrics 127.0.0.1:7472
	on A service set default/api --ports tcp/80 --pool p2 >/dev/null
	elb_wait 10 held A 2
	node B node-b "$NB" # without default/api: it never claims 192.0.2.101
	elb_wait $((2 * TTL + 10)) grep -q "taken back: node-b did not take it" "$LOG_A"
	elb_wait 5 held A 2
	elb_wait 5 elb_arp_is "$CLIENT" eC "$VIP2" "$MAC_A"
	# two more lease TTLs: no second hand-over to the same member
	sleep $((2 * TTL))
	[ "$(grep -c "handed over to node-b" "$LOG_A")" -eq 1 ]
	[ "$(etcd_value "/edgelb/l2/$VIP2")" = node-a ]
	[ "$(metric A 'edgelb_cluster_l2_transfers_total{event="handed_over"}')" = 1 ]
	[ "$(metric A 'edgelb_cluster_l2_transfers_total{event="taken_back"}')" = 1 ]
	# its own key, deleted by its own hand-over: no failover from another node
	[ "$(metric A edgelb_l2_failover_duration_seconds_count)" = 0 ]
}

@test "bad --etcd-endpoints and --etcd-lease-ttl: one-line errors naming the flag and what is allowed" {
	elb_dirs
	run "$ELB_BIN/edgelbd" --etcd-endpoints ftp://192.0.2.9:2379 --state-dir "$ELB_STATE" \
		--run-dir "$ELB_RUN" --bpffs "$ELB_BPFFS"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'--etcd-endpoints: "ftp://192.0.2.9:2379": not a list of URLs (allowed: 1-8 of http://HOST:PORT or https://HOST:PORT'* ]]
	run "$ELB_BIN/edgelbd" --etcd-lease-ttl 1
	[ "$status" -eq 2 ]
	[ "$output" = 'edgelbd: --etcd-lease-ttl: "1": out of range (allowed: 2..60 seconds)' ]
	run "$ELB_BIN/edgelbd" --etcd-endpoints "$ETCD_URL," --etcd-lease-ttl 61
	[ "$status" -eq 2 ]
}
