#!/usr/bin/env bats
# A cluster node talks to etcd over TLS, as etcdctl does (--etcd-cacert, --etcd-cert,
# --etcd-key): a real etcd v3 serving https:// with client-certificate authentication, and a
# test PKI made with openssl (lib/etcd.bash etcd_certs). The node joins only with a certificate
# etcd trusts, and trusts etcd only through the CA it is given.
#
#   +-- elb<id>l (LAN) ----------------+        +-- elb<id>a node-a ---------+
#   |  lA 192.0.2.9/24, etcd serving    |--veth--|  eN 192.0.2.1/24           |
#   |  https://192.0.2.9:2379           |        |  edgelbd, XDP on eN        |
#   +-----------------------------------+        +----------------------------+
#   VIP 192.0.2.100 (pool p1, service default/web; pool p2 192.0.2.101 unused)

load lib/agent
load lib/etcd

VIP=192.0.2.100
VIP2=192.0.2.101
TTL=4

setup() {
	LAN=$(elb_ns l)
	NA=$(elb_ns a)
	elb_veth "$NA" eN "$LAN" lA
	ip -n "$LAN" addr add 192.0.2.9/24 dev lA
	ip -n "$NA" addr add 192.0.2.1/24 dev eN
	PKI=$(mktemp -d /tmp/elb-pki-XXXXXX)
	ELB_DIRS+=("$PKI")
	etcd_certs "$PKI" 192.0.2.9
	elb_etcd "$LAN" 192.0.2.9 "$PKI"
}

teardown() {
	elb_teardown
}

# node [edgelbd flags...]: node-a's agent in NA against the test's etcd.
node() {
	cluster_node node-a "$NA" "$@"
}

held() { [ "$(elb -o json status | jq -r .l2IpsHeld)" = "$1" ]; }
live() { [ "$(elb -o json status | jq -r .leaseLive)" = "$1" ]; }
key_is() { [ "$(etcd_value "/edgelb/l2/$1")" = "$2" ]; }

# edgelbd FLAGS...: the daemon's answer to flags alone (it exits at option parsing).
edgelbd() {
	run "$ELB_BIN/edgelbd" --state-dir "$ELB_STATE" --run-dir "$ELB_RUN" --bpffs "$ELB_BPFFS" \
		"$@"
}

@test "mutual TLS: with the CA, its certificate and key, a node joins etcd over https and holds the VIP" {
	node --etcd-cacert "$PKI/ca.crt" --etcd-cert "$PKI/client.crt" --etcd-key "$PKI/client.key"
	elb_wait 10 held 1
	elb_wait 5 key_is "$VIP" node-a
	run elb -o json status
	[ "$(jq -r .etcd,.leaseLive <<<"$output" | paste -sd' ')" = "https://192.0.2.9:2379 true" ]
	# the node's membership key is on its lease, over the same TLS
	[ "$(etcdq get --prefix --keys-only /edgelb/nodes/ | grep -c .)" -eq 1 ]
}

@test "a client certificate from another CA: etcd rejects it, the node logs the failed call and holds nothing" {
	node --etcd-cacert "$PKI/ca.crt" --etcd-cert "$PKI/other.crt" --etcd-key "$PKI/other.key"
	elb_wait 10 grep -q 'rejected connection from "192.0.2.1:.*certificate signed by unknown authority' \
		"$ETCD_LOG"
	# TLS 1.3 sends etcd's verdict after the client's handshake: the node sees the alert or a
	# reset, whichever comes first
	elb_wait 10 grep -q "cluster: .*https://192.0.2.9:2379: .*(retried every" "$ELB_LOG"
	sleep 2
	run elb -o json status
	[ "$(jq -r .leaseLive,.l2IpsHeld <<<"$output" | paste -sd' ')" = "false 0" ]
	[ -z "$(etcdq get --prefix --keys-only /edgelb/)" ]
}

@test "no client certificate: etcd asks for one and the node is refused" {
	node --etcd-cacert "$PKI/ca.crt"
	elb_wait 10 grep -q "rejected connection from \"192.0.2.1:.*client didn't provide a certificate" \
		"$ETCD_LOG"
	elb_wait 10 grep -q "cluster: .*https://192.0.2.9:2379: .*(retried every" "$ELB_LOG"
	sleep 2
	live false
	[ -z "$(etcdq get --prefix --keys-only /edgelb/)" ]
}

@test "etcd's certificate is verified: without --etcd-cacert its private CA is not trusted" {
	node --etcd-cert "$PKI/client.crt" --etcd-key "$PKI/client.key"
	elb_wait 10 grep -q "cluster: .*https://192.0.2.9:2379: .*certificate.*(retried every" \
		"$ELB_LOG"
	sleep 2
	live false
	[ -z "$(etcdq get --prefix --keys-only /edgelb/)" ]
}

@test "bad TLS flags: one-line errors naming the flag and what is allowed, exit 2" {
	elb_dirs
	edgelbd --etcd-endpoints "$ETCD_URL" --etcd-cert "$PKI/client.crt"
	[ "$status" -eq 2 ]
	[ "$output" = "edgelbd: --etcd-cert: given alone (allowed: --etcd-cert and --etcd-key together, or neither)" ]
	edgelbd --etcd-cacert "$PKI/ca.crt"
	[ "$status" -eq 2 ]
	[ "$output" = "edgelbd: --etcd-cacert: no --etcd-endpoints to use it with (allowed: with https:// endpoints)" ]
	edgelbd --etcd-endpoints "$ETCD_URL,http://192.0.2.10:2379" --etcd-cacert "$PKI/ca.crt"
	[ "$status" -eq 2 ]
	[ "$output" = 'edgelbd: --etcd-cacert: "http://192.0.2.10:2379" is not https:// (allowed: https:// endpoints only, when TLS files are given)' ]
	edgelbd --etcd-endpoints "$ETCD_URL" --etcd-cacert "$PKI/missing.crt"
	[ "$status" -eq 2 ]
	[ "$output" = "edgelbd: --etcd-cacert: \"$PKI/missing.crt\": cannot read: No such file or directory (allowed: a readable PEM file)" ]
	# a key given as the certificate, a certificate given as the key
	edgelbd --etcd-endpoints "$ETCD_URL" --etcd-cert "$PKI/client.key" --etcd-key "$PKI/client.key"
	[ "$status" -eq 2 ]
	[ "$output" = "edgelbd: --etcd-cert: \"$PKI/client.key\": not a PEM certificate (allowed: a file with a -----BEGIN CERTIFICATE----- block)" ]
	edgelbd --etcd-endpoints "$ETCD_URL" --etcd-cert "$PKI/client.crt" --etcd-key "$PKI/client.crt"
	[ "$status" -eq 2 ]
	[ "$output" = "edgelbd: --etcd-key: \"$PKI/client.crt\": not a PEM private key (allowed: a file with a -----BEGIN PRIVATE KEY----- block)" ]
	openssl pkcs8 -topk8 -in "$PKI/client.key" -out "$PKI/enc.key" -passout pass:elb 2>/dev/null
	edgelbd --etcd-endpoints "$ETCD_URL" --etcd-cert "$PKI/client.crt" --etcd-key "$PKI/enc.key"
	[ "$status" -eq 2 ]
	[ "$output" = "edgelbd: --etcd-key: \"$PKI/enc.key\": an encrypted private key (allowed: an unencrypted PEM key)" ]
	# nothing started: no state written
	[ -z "$(ls -A "$ELB_STATE")" ]
}
