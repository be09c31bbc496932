#!/usr/bin/env bats
# apply -f with MetalLB's BGP manifests (BGPPeer, BFDProfile, Community, BGPAdvertisement,
# IPAddressPool), a Kubernetes Service and a basic-auth Secret (passwordSecret), against a
# real BIRD 2 in a router namespace.
#
#   +-- elb<id>n (node) --------------+        +-- elb<id>r (router) ------+
#   |  edgelbd --bgp-port 1179        |        |  bird (tables t4, t6)     |
#   |  eN 192.0.2.2/24 2001:db8:77::2/64     |--veth--| eR 192.0.2.1/24 2001:db8:77::1/64|
#   +---------------------------------+        +---------------------------+
#
# The node's config has switches only (vSwitch1 on eN is the one compute switch); the peer,
# the pool, its advertisement and the service all come from one manifest file. iBGP (AS
# 64512 both sides) so LOCAL_PREF is sent. Assertions read `edgelb -o json` and `birdc`.

load lib/agent
load lib/bgp

setup() {
	command -v bird >/dev/null || skip "bird2 is not installed"
	bgp_topology
	CONF=$(bgp_node_conf)
	MLB="$BGP_DIR/metallb.yaml"
	cat >"$MLB" <<-'YAML'
	apiVersion: metallb.io/v1beta1
	kind: BGPAdvertisement
	metadata: {name: tor-adv, namespace: metallb-system}
	spec:
	  ipAddressPools: [p1]
	  communities: [vpn-only, '64512:7', 'large:64512:1:2']
	  localPref: 150
	  peers: [tor]
	---
	apiVersion: metallb.io/v1beta1
	kind: Community
	metadata: {name: aliases, namespace: metallb-system}
	spec:
	  communities:
	  - {name: vpn-only, value: '64512:300'}
	---
	apiVersion: metallb.io/v1beta2
	kind: BGPPeer
	metadata: {name: tor, namespace: metallb-system}
	spec:
	  myASN: 64512
	  peerASN: 64512
	  peerAddress: 192.0.2.1
	  holdTime: 9s
	  keepaliveTime: 3s
	  connectTime: 1s
	  bfdProfile: fast
	---
	apiVersion: metallb.io/v1beta1
	kind: IPAddressPool
	metadata: {name: p1, namespace: metallb-system}
	spec:
	  addresses: [192.0.2.100-192.0.2.110]
	---
	apiVersion: v1
	kind: Service
	metadata:
	  name: web
	  namespace: default
	  annotations: {metallb.io/address-pool: p1}
	spec:
	  type: LoadBalancer
	  ports: [{port: 80, protocol: TCP}]
	---
	apiVersion: metallb.io/v1beta1
	kind: BFDProfile
	metadata: {name: fast, namespace: metallb-system}
	spec: {receiveInterval: 200, transmitInterval: 250, detectMultiplier: 4}
	YAML
}

teardown() {
	elb_teardown
}

established() { [ "$(bird_state edge4)" = Established ] && [ "$(node_peer_state)" = Established ]; }

# state: the node's pools and peers as JSON (what a refused apply must leave alone).
state() {
	elb -o json pool list | jq -c 'map({name, communities, largeCommunities, localPref, peers})'
	elb -o json bgp peer list | jq -c 'map({peerAddress, peerAsn, selfAsn, holdTime})'
}

# store_sum: checksums of every file of the agent's state dir (a no-op apply writes none).
store_sum() { (cd "$ELB_STATE" && find . -type f -print0 | sort -z | xargs -0 -r md5sum); }

apply_ok() {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_start 64512 64512 "neighbor port 1179; direct;"
	run elb apply -f "$MLB"
	[ "$status" -eq 0 ]
	[[ "$output" == *"peer/vSwitch1/192.0.2.1 created"* ]]
	[[ "$output" == *"pool/p1 created"* ]]
	[[ "$output" == *"service/default/web created"* ]]
	[[ "$output" != *"warning"* ]]
	elb_wait 15 established
	# the BFDProfile's timers on the peer (this BIRD runs no BFD: the session stays Down and
	# never touches BGP)
	[ "$(elb -o json bgp peer show 192.0.2.1 | jq -c '{bfd, bfdMinRx, bfdMinTx, bfdMultiplier}')" = \
		'{"bfd":true,"bfdMinRx":200,"bfdMinTx":250,"bfdMultiplier":4}' ]
}

@test "apply -f BGPPeer+Community+BGPAdvertisement+pool: BIRD gets the route with communities and LOCAL_PREF" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	run elb apply -f "$MLB" --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *"peer/vSwitch1/192.0.2.1 created (dry run)"* ]]
	[ "$(elb -o json bgp peer list | jq length)" = 0 ]
	[ "$(elb -o json pool list | jq 'map(select(.name == "p1")) | length')" = 0 ]
	elb_stop
	apply_ok
	p=$(elb -o json bgp peer list | jq -c '.[0] | {peerAsn, selfAsn, holdTime, switch}')
	[ "$p" = '{"peerAsn":64512,"selfAsn":64512,"holdTime":9,"switch":"vSwitch1"}' ]
	elb_wait 5 bird_has t4 192.0.2.100/32 "BGP.local_pref: 150"
	r4=$(bird_route t4 192.0.2.100/32)
	[[ "$r4" == *"BGP.next_hop: 192.0.2.2"* ]]
	[[ "$r4" == *"(64512,300)"* ]] # the Community alias vpn-only
	[[ "$r4" == *"(64512,7)"* ]]
	[[ "$r4" == *"BGP.large_community: (64512, 1, 2)"* ]]
}

@test "apply -f of the same file twice: the second changes nothing and the session stays up" {
	apply_ok
	elb_wait 5 bird_has t4 192.0.2.100/32 "BGP.local_pref: 150"
	since=$(bird_since edge4)
	store=$(store_sum)
	[ -n "$store" ]
	run elb -o json apply -f "$MLB"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.changes[].action] | unique' <<<"$output")" = '["unchanged"]' ]
	[ "$(jq '.changes | length' <<<"$output")" = 3 ]
	[ "$(store_sum)" = "$store" ]
	sleep 1
	[ "$(bird_state edge4)" = Established ]
	bird_same_time "$(bird_since edge4)" "$since"
}

@test "a changed BGPAdvertisement re-advertises the route with the new communities" {
	apply_ok
	elb_wait 5 bird_has t4 192.0.2.100/32 "(64512,300)"
	cat >"$BGP_DIR/adv2.yaml" <<-'YAML'
	apiVersion: metallb.io/v1beta1
	kind: BGPAdvertisement
	metadata: {name: tor-adv}
	spec: {ipAddressPools: [p1], communities: ['64512:8'], localPref: 120}
	YAML
	run elb apply -f "$BGP_DIR/adv2.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == "pool/p1 configured" ]]
	elb_wait 10 bird_has t4 192.0.2.100/32 "BGP.local_pref: 120"
	r4=$(bird_route t4 192.0.2.100/32)
	[[ "$r4" == *"(64512,8)"* ]]
	[[ "$r4" != *"(64512,300)"* ]]
	[[ "$r4" != *"BGP.large_community"* ]]
}

@test "invalid manifests are refused in one line naming manifest, field and value; nothing changes" {
	apply_ok
	elb_wait 5 bird_has t4 192.0.2.100/32 "(64512,300)"
	before=$(state)
	# a valid new peer and pool edit beside one bad field: all or nothing
	cat >"$BGP_DIR/bad1.yaml" <<-'YAML'
	apiVersion: metallb.io/v1beta2
	kind: BGPPeer
	metadata: {name: tor2}
	spec: {myASN: 64512, peerASN: 64512, peerAddress: 192.0.2.9}
	---
	apiVersion: metallb.io/v1beta1
	kind: BGPAdvertisement
	metadata: {name: tor-adv}
	spec: {ipAddressPools: [p1], communities: [no-such-alias], peers: [tor2]}
	YAML
	run elb apply -f "$BGP_DIR/bad1.yaml"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"BGPAdvertisement tor-adv ($BGP_DIR/bad1.yaml doc 2): spec.communities[0]: \"no-such-alias\": no Community alias"* ]]
	[[ "$output" == *"allowed:"* ]]
	cat >"$BGP_DIR/bad2.yaml" <<-'YAML'
	apiVersion: metallb.io/v1beta1
	kind: BGPPeer
	metadata: {name: tor}
	spec: {myASN: 64512, peerASN: 64512, peerAddress: 192.0.2.1, holdTime: 2s}
	YAML
	run elb apply -f "$BGP_DIR/bad2.yaml"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"BGPPeer tor ($BGP_DIR/bad2.yaml doc 1): spec.holdTime: \"2s\": not a valid hold time (allowed: 0s or 3s-65535s)"* ]]
	cat >"$BGP_DIR/bad3.yaml" <<-'YAML'
	apiVersion: metallb.io/v1beta2
	kind: BGPPeer
	metadata: {name: tor3, annotations: {edgelb.io/switch: vSwitch2}}
	spec: {myASN: 64512, peerASN: 64512, peerAddress: 192.0.2.7}
	YAML
	run elb apply -f "$BGP_DIR/bad3.yaml"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"metadata.annotations.edgelb.io/switch: \"vSwitch2\": not enabled for compute"* ]]
	[ "$(state)" = "$before" ]
	r4=$(bird_route t4 192.0.2.100/32)
	[[ "$r4" == *"(64512,300)"* ]]
	[[ "$r4" == *"BGP.local_pref: 150"* ]]
}

@test "passwordSecret: BIRD peers with the basic-auth Secret's password as TCP MD5 key, not with another" {
	elb_start "$NODE" "$CONF" --bgp-port 1179
	bird_start 64512 64512 'neighbor port 1179; direct; password "s3cret-md5";'
	# $1: the Secret's base64 data.password
	peer_with_secret() {
		cat <<-YAML
		apiVersion: metallb.io/v1beta2
		kind: BGPPeer
		metadata: {name: tor, namespace: metallb-system}
		spec: {myASN: 64512, peerASN: 64512, peerAddress: 192.0.2.1, connectTime: 1s,
		       passwordSecret: {name: tor-md5}}
		---
		apiVersion: v1
		kind: Secret
		metadata: {name: tor-md5, namespace: metallb-system}
		type: kubernetes.io/basic-auth
		data: {password: $1}
		YAML
	}
	peer_with_secret "$(printf wrong-key | base64)" >"$BGP_DIR/wrong.yaml"
	peer_with_secret "$(printf s3cret-md5 | base64)" >"$BGP_DIR/good.yaml"
	run elb apply -f "$BGP_DIR/wrong.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"peer/vSwitch1/192.0.2.1 created"* ]]
	[[ "$output" != *"wrong-key"* ]]
	sleep 4 # a bounded window in which a session must NOT come up
	[ "$(node_peer_state)" != Established ]
	[ "$(bird_state edge4)" != Established ]
	run elb apply -f "$BGP_DIR/good.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"peer/vSwitch1/192.0.2.1 configured"* ]]
	elb_wait 15 established
}
