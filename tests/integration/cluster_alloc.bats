#!/usr/bin/env bats
# Two nodes of one cluster share a real etcd v3 and take service addresses through it: each
# address is claimed under /edgelb/ips/<ip> with a create-if-absent transaction, naming its
# holder (the service, or its namespace and shared key). So both nodes give every service the
# same address whatever order the services reach them in, never one address to two services,
# and an address comes free in the cluster when its service goes.
#
#   +-- elb<id>l (LAN) -------------------------------------+
#   |  br0 192.0.2.9/24, etcd serving http://192.0.2.9:2379 |
#   +----+--------------------------+-----------------------+
#        | veth lA                  | veth lB
#   +----+---------------+     +----+---------------+
#   | elb<id>a node-a    |     | elb<id>b node-b    |
#   | eN 192.0.2.1/24    |     | eN 192.0.2.3/24    |
#   +--------------------+     +--------------------+
#   pool p3 192.0.2.110-192.0.2.113 (set on each node); default/web holds 192.0.2.100 (p1)

load lib/agent
load lib/netns
load lib/etcd

VIP=192.0.2.100
VIP2=192.0.2.101
TTL=4

setup() {
	cluster_lan
	elb_etcd "$LAN" 192.0.2.9
}

teardown() {
	elb_teardown
}

# node X NAME NS: NAME's agent in NS, with pool p3 once it runs; PID_X, SOCK_X, LOG_X.
node() {
	local x=$1
	cluster_node "$2" "$3"
	printf -v "PID_$x" %s "$ELB_PID"
	printf -v "SOCK_$x" %s "$EDGELB_SOCKET"
	printf -v "LOG_$x" %s "$ELB_LOG"
	on "$x" pool set p3 --addresses 192.0.2.110-192.0.2.113 >/dev/null
}

on() {
	local s="SOCK_$1"
	shift
	EDGELB_SOCKET=${!s} elb "$@"
}

# assigned X: node X's services as "name=ips" lines, sorted (pending ones as name=pending).
assigned() {
	on "$1" -o json service list |
		jq -r '.[] | "\(.name)=\(if .status == "assigned" then (.ips | join(",")) else "pending" end)"' |
		sort
}
# settled X N: node X has N services, all assigned.
settled() {
	local out
	out=$(assigned "$1")
	[ "$(grep -c . <<<"$out")" = "$2" ] && ! grep -q =pending <<<"$out"
}
# claims: etcd's /edgelb/ips/ as "ip=holder" lines, sorted.
claims() {
	etcdq get --prefix /edgelb/ips/ | paste - - | sed 's|^/edgelb/ips/||; s|\t|=|' | sort
}
claim_is() { [ "$(etcd_value "/edgelb/ips/$1")" = "$2" ]; }
# p3_claims N: etcd holds N claims for addresses of p3.
p3_claims() { [ "$(claims | grep -c '^192.0.2.11')" = "$1" ]; }
# knows X N: node X sees N address claims in the cluster.
knows() { [ "$(on "$1" -o json status | jq -r .ipClaims)" = "$2" ]; }
both_settled() { settled A "$1" && settled B "$1"; }
same() { [ "$(assigned A)" = "$(assigned B)" ]; }

@test "two nodes give each service the same address, whatever order the services come in" {
	node A node-a "$NA"
	node B node-b "$NB"
	on A service set default/a --ports tcp/80 --pool p3 >/dev/null
	on A service set default/b --ports tcp/80 --pool p3 >/dev/null
	elb_wait 10 settled A 3
	# node-b learns them the other way round: alone, it would give default/b 192.0.2.110
	on B service set default/b --ports tcp/80 --pool p3 >/dev/null
	on B service set default/a --ports tcp/80 --pool p3 >/dev/null
	elb_wait 10 settled B 3
	[ "$(assigned B)" = "$(printf '%s\n' default/a=192.0.2.110 default/b=192.0.2.111 \
		default/web=$VIP)" ]
	same
	[ "$(claims)" = "$(printf '%s\n' 192.0.2.100=default/web 192.0.2.110=default/a \
		192.0.2.111=default/b)" ]
	grep -q 'assigned 192.0.2.111' <<<"$(grep 'default/b' "$LOG_B")"
}

@test "two nodes racing for the same addresses end up agreeing, one address per service" {
	local i pa
	node A node-a "$NA"
	node B node-b "$NB"
	elb_wait 10 both_settled 1
	# both nodes at once, in opposite orders: every first claim collides
	(for i in c d e; do on A service set default/$i --ports tcp/80 --pool p3 >/dev/null; done) &
	pa=$!
	(for i in e d c; do on B service set default/$i --ports tcp/80 --pool p3 >/dev/null; done) &
	wait "$pa" $!
	elb_wait 15 both_settled 4
	elb_wait 5 same
	# three services, three distinct addresses of p3, each claimed for its service
	[ "$(assigned A | grep -v web | cut -d= -f2 | sort -u | grep -c '^192.0.2.11[0-3]$')" = 3 ]
	elb_wait 5 p3_claims 3 # a claim made twice for one service is released
	for i in c d e; do
		claim_is "$(on A -o json service list | jq -r --arg n default/$i \
			'.[] | select(.name == $n) | .ips[0]')" default/$i
	done
}

@test "an address another node's service holds is refused here, naming its holder" {
	node A node-a "$NA"
	node B node-b "$NB"
	on A service set default/a --ports tcp/80 --pool p3 >/dev/null
	elb_wait 10 claim_is 192.0.2.110 default/a
	elb_wait 10 settled B 1
	elb_wait 5 knows B 2 # node-b's watch has told it
	run on B service set default/other --ports tcp/80 --ip 192.0.2.110
	[ "$status" -ne 0 ]
	[ "$output" = 'edgelb: ips: "192.0.2.110": 192.0.2.110 is claimed by default/a in the cluster (allowed: a free address, or one shared with the same sharedKey in the same namespace and no common port)' ]
	# nothing changed: node-b has no such service, the claim is default/a's
	[ "$(assigned B)" = "default/web=$VIP" ]
	claim_is 192.0.2.110 default/a
	# a free one is taken, and claimed for it
	on B service set default/other --ports tcp/80 --ip 192.0.2.112 >/dev/null
	elb_wait 10 settled B 2
	claim_is 192.0.2.112 default/other
}

@test "a service removed from every node frees its address in the cluster for another" {
	node A node-a "$NA"
	node B node-b "$NB"
	on A service set default/a --ports tcp/80 --pool p3 >/dev/null
	on B service set default/a --ports tcp/80 --pool p3 >/dev/null
	elb_wait 10 both_settled 2
	claim_is 192.0.2.110 default/a
	on A service remove default/a >/dev/null
	# node-b still has it: the claim stands (node-a's release compares the holder, and node-b
	# claims it again if it went)
	elb_wait 5 settled A 1
	sleep 1
	elb_wait 5 claim_is 192.0.2.110 default/a
	[ "$(assigned B)" = "$(printf '%s\n' default/a=192.0.2.110 default/web=$VIP)" ]
	on B service remove default/a >/dev/null
	elb_wait 5 claim_is 192.0.2.110 ""
	on A service set default/z --ports tcp/80 --pool p3 >/dev/null
	elb_wait 10 settled A 2
	[ "$(assigned A)" = "$(printf '%s\n' default/web=$VIP default/z=192.0.2.110)" ]
	claim_is 192.0.2.110 default/z
}

@test "claims wiped from etcd are made again by the nodes that hold the addresses" {
	node A node-a "$NA"
	on A service set default/a --ports tcp/80 --pool p3 >/dev/null
	elb_wait 10 settled A 2
	etcdq del --prefix /edgelb/ips/ >/dev/null
	elb_wait 10 claim_is 192.0.2.110 default/a
	elb_wait 10 claim_is "$VIP" default/web
	[ "$(assigned A)" = "$(printf '%s\n' default/a=192.0.2.110 default/web=$VIP)" ]
	# and a node restarted keeps its addresses, which the cluster still gives it
	elb_stop
	cluster_start "$NA"
	elb_wait 10 settled A 2
	[ "$(assigned A)" = "$(printf '%s\n' default/a=192.0.2.110 default/web=$VIP)" ]
	[ "$(claims | grep -c .)" = 2 ]
}

@test "a node that cannot reach etcd gives services no address until it can" {
	kill "$ETCD_PID"
	wait "$ETCD_PID" 2>/dev/null || true
	node A node-a "$NA"
	on A service set default/a --ports tcp/80 --pool p3 >/dev/null
	run on A -o json service list
	[ "$(jq -r '.[] | "\(.name) \(.status) \(.reason)"' <<<"$output" | sort)" = "$(printf '%s\n' \
		"default/a pending waiting for the cluster's address claims (etcd)" \
		"default/web pending waiting for the cluster's address claims (etcd)")" ]
	[ "$(on A -o json status | jq -r .ipClaimsRead)" = false ]
	# etcd back (a new one, empty): the node reads the claims, then claims its addresses
	elb_etcd "$LAN" 192.0.2.9
	elb_wait 15 settled A 2
	[ "$(assigned A)" = "$(printf '%s\n' default/a=192.0.2.110 default/web=$VIP)" ]
	[ "$(claims)" = "$(printf '%s\n' 192.0.2.100=default/web 192.0.2.110=default/a)" ]
	[ "$(on A -o json status | jq -r .ipClaimsRead,.ipClaims | paste -sd' ')" = "true 2" ]
}

@test "a thousand services applied to both nodes at once get the same addresses on both" {
	local f pa
	node A node-a "$NA"
	node B node-b "$NB"
	on A pool set p4 --addresses 198.51.100.0/22 >/dev/null
	on B pool set p4 --addresses 198.51.100.0/22 >/dev/null
	f=$ELB_STATE/../services.yaml
	{
		echo "services:"
		for i in $(seq 1 1000); do echo "  - {name: default/s$i, ports: [tcp/80], pool: p4}"; done
	} >"$f"
	# more claims than the 256 a node keeps in flight; node-b takes them in reverse order
	on A apply -f "$f" >/dev/null &
	pa=$!
	tac "$f" | sed '$d' | sed '1i services:' >"$f.rev"
	on B apply -f "$f.rev" >/dev/null
	wait "$pa"
	elb_wait 60 both_settled 1001
	elb_wait 10 same
	[ "$(claims | grep -c .)" = 1001 ]
	[ "$(assigned A | cut -d= -f2 | sort -u | grep -c .)" = 1001 ]
}

@test "a node whose etcd is replaced by a new, empty one claims its addresses there" {
	node A node-a "$NA"
	on A service set default/a --ports tcp/80 --pool p3 >/dev/null
	on A service set default/b --ports tcp/80 --pool p3 >/dev/null
	elb_wait 10 settled A 3
	# revisions in the new etcd start again below the ones the node has seen
	for i in 1 2 3 4 5 6 7 8 9 10; do etcdq put /elb-test/filler "$i" >/dev/null; done
	kill "$ETCD_PID"
	wait "$ETCD_PID" 2>/dev/null || true
	elb_etcd "$LAN" 192.0.2.9
	elb_wait 15 claim_is 192.0.2.111 default/b
	[ "$(claims)" = "$(printf '%s\n' 192.0.2.100=default/web 192.0.2.110=default/a \
		192.0.2.111=default/b)" ]
	[ "$(assigned A)" = "$(printf '%s\n' default/a=192.0.2.110 default/b=192.0.2.111 \
		default/web=$VIP)" ]
	grep -q "etcd's revision went back" "$LOG_A"
}
