#!/usr/bin/env bats
# Allocator end to end: pools and services through the CLI and the raw control socket, apply -f
# with MetalLB and Kubernetes manifests (tests/data), bad input refused in one line with nothing
# changed, assignments kept across SIGTERM restarts, kill -9 and SIGHUP reloads, and metrics.
#
#   +-- elb<id>n (node) -------------------------------+
#   |  edgelbd  (switch sw1 = lo, not compute: no XDP)  |
#   |  ctl socket in a private run dir                  |
#   |  metrics 127.0.0.1:7472                           |
#   +---------------------------------------------------+
# No traffic is sent: the allocator is checked through the CLI, the socket and /metrics.

load lib/agent

setup() {
	NODE=$(elb_ns n)
	elb_dirs
	CONF="$ELB_STATE/../node.yaml"
	write_conf 10.96.0.0/29
}

teardown() {
	elb_teardown
}

# write_conf CIDR: config file with one file-defined pool "filepool" of CIDR.
write_conf() {
	cat >"$CONF" <<-YAML
	node: {name: node-a}
	switches:
	  - name: sw1
	    interfaces: [lo]
	pools:
	  - name: filepool
	    addresses: [$1]
	    priority: 50
	services:
	  - name: file/svc
	    ports: [tcp/80]
	    pool: filepool
	YAML
}

# ips NAME: the service's addresses, comma-separated, from service list -o json.
ips() {
	elb -o json service list | jq -r --arg n "$1" '.[] | select(.name == $n) | .ips | join(",")'
}

field() {
	elb -o json service list | jq -r --arg n "$1" --arg f "$2" '.[] | select(.name == $n) | .[$f]'
}

state() {
	elb -o json pool list | jq -S 'map(del(.usage, .inUseV4, .inUseV6, .services))'
	elb -o json service list | jq -S .
}

@test "pools and services through the CLI: lowest free, priority, avoid-buggy-ips, auto-assign, dual-stack, sharing" {
	elb_start "$NODE" "$CONF"
	run elb pool set p1 --addresses 10.0.0.0/24,fd00::/120 --avoid-buggy-ips --priority 1
	[ "$status" -eq 0 ]
	run elb pool set reserved --addresses 10.0.9.10-10.0.9.20 --auto-assign=false
	[ "$status" -eq 0 ]
	elb service set default/a --ports tcp/80
	elb service set default/b --ports tcp/80,udp/53 --ip-family dual
	elb service set default/c --ports tcp/443 --shared-key k
	elb service set default/d --ports tcp/80 --shared-key k
	elb service set default/e --ports tcp/81 --shared-key other
	elb service set other/f --ports tcp/82 --shared-key k
	elb service set default/g --ports tcp/80 --pool reserved
	elb service set default/h --ports tcp/80 --ip 10.0.9.15
	[ "$(ips default/a)" = 10.0.0.1 ]              # .0 avoided, p1 first by priority
	[ "$(ips default/b)" = 10.0.0.2,fd00:: ]       # dual-stack
	[ "$(ips default/c)" = 10.0.0.3 ]
	[ "$(ips default/d)" = 10.0.0.3 ]              # same key, ports disjoint: shared
	[ "$(ips default/e)" = 10.0.0.4 ]              # other key: not shared
	[ "$(ips other/f)" = 10.0.0.5 ]                # other namespace: not shared
	[ "$(ips default/g)" = 10.0.9.10 ]             # autoAssign=false pool named explicitly
	[ "$(ips default/h)" = 10.0.9.15 ]             # requested IP in it
	[ "$(ips file/svc)" = 10.96.0.0 ]              # the config file's service and pool
	run elb -o json service list
	[ "$(jq -r '.[0] | has("name") and has("ips") and has("ports") and has("pool") and has("status") and has("reason")' <<<"$output")" = true ]
	[ "$(field default/b status)" = assigned ]
	[ "$(field default/b pool)" = p1 ]
	run elb service list
	[[ "$output" == *"default/d"*"{10.0.0.3}"*"{tcp/80}"*"p1"*"assigned"* ]]
	run elb pool list
	[[ "$output" == *"p1"*"{10.0.0.0/24, fd00::/120}"*"True"*"True"* ]]
	run elb service show default/b
	[ "$status" -eq 0 ]
	[[ "$output" == *"IPFamily      : dual"* ]]
}

@test "a service with no room is pending with the reason, and gets an address as soon as there is room" {
	elb_start "$NODE" "$CONF"
	elb pool set small --addresses 10.1.0.1 --priority 1
	elb service set default/a --ports tcp/80 --pool small
	elb service set default/b --ports tcp/80 --pool small
	[ "$(ips default/a)" = 10.1.0.1 ]
	[ "$(field default/b status)" = pending ]
	[[ "$(field default/b reason)" == "no free IPv4 address in pool small" ]]
	run elb service list
	[[ "$output" == *"default/b"*"pending"*"no free IPv4 address in pool small"* ]]
	elb pool set small --addresses 10.1.0.1-10.1.0.2 --priority 1
	elb_wait 5 test "$(ips default/b)" = 10.1.0.2
	[ "$(ips default/a)" = 10.1.0.1 ]
	elb service remove default/a
	elb service set default/c --ports tcp/80 --pool small
	[ "$(ips default/c)" = 10.1.0.1 ]
}

@test "bad input gets one line naming the field and changes nothing" {
	elb_start "$NODE" "$CONF"
	elb pool set p1 --addresses 10.0.0.0/24 --priority 1
	elb service set default/a --ports tcp/80
	before=$(state)
	run elb pool set p2 --addresses 10.0.0.300/24
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'addresses: "10.0.0.300/24": not a CIDR or range (allowed: '* ]]
	run elb pool set p2 --addresses 10.2.0.9-10.2.0.1
	[ "$status" -eq 1 ] && [ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'addresses: "10.2.0.9-10.2.0.1": reversed range'* ]]
	run elb pool set p2 --addresses 10.2.0.1-fd00::1
	[ "$status" -eq 1 ] && [ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'range mixes IPv4 and IPv6'* ]]
	run elb pool set p2 --addresses 10.0.0.128/25
	[ "$status" -eq 1 ] && [ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'"10.0.0.128/25" of pool p2 overlaps "10.0.0.0/24" of pool p1'* ]]
	run elb service set default/b --ports tcp/80 --pool nosuch
	[ "$status" -eq 1 ] && [ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'pool: "nosuch": no such pool'* ]]
	run elb service set default/b --ports tcp/80,sctp/90
	[ "$status" -eq 1 ] && [ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'ports: "sctp/90": unknown protocol "sctp" (allowed: tcp, udp)'* ]]
	run elb service set default/b --ports tcp/80 --ip 10.0.0.0
	[ "$status" -eq 1 ] && [ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'10.0.0.0 is in use by default/a'* ]]
	run elb apply -f "$BATS_TEST_DIRNAME/../data/bad-duplicate.yaml"
	[ "$status" -eq 1 ] && [ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'"default/twice" already declared'* ]]
	run elb pool remove p1
	[ "$status" -eq 1 ] && [ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'1 service still assigned from it (default/a)'* ]]
	run elb service set default/b
	[ "$status" -eq 2 ]
	[ "$(state)" = "$before" ]
}

@test "the control socket takes the same JSON and refuses unknown fields" {
	elb_start "$NODE" "$CONF"
	run bash -c "printf '%s\n' '{\"cmd\":\"pool.set\",\"args\":{\"name\":\"raw\",\"addresses\":[\"10.3.0.0/30\"]}}' | socat -t 5 - UNIX-CONNECT:$EDGELB_SOCKET"
	[ "$status" -eq 0 ]
	[ "$(jq -r .ok <<<"$output")" = true ]
	run bash -c "printf '%s\n' '{\"cmd\":\"service.set\",\"args\":{\"name\":\"raw/s\",\"ports\":[\"udp/53\"],\"pool\":\"raw\"}}' | socat -t 5 - UNIX-CONNECT:$EDGELB_SOCKET"
	[ "$(jq -r .ok <<<"$output")" = true ]
	[ "$(jq -r '.result.ips[0]' <<<"$output")" = 10.3.0.0 ]
	run bash -c "printf '%s\n' '{\"cmd\":\"pool.set\",\"args\":{\"name\":\"raw2\",\"addresses\":[\"10.4.0.0/30\"],\"color\":1}}' | socat -t 5 - UNIX-CONNECT:$EDGELB_SOCKET"
	[ "$(jq -r .ok <<<"$output")" = false ]
	[[ "$(jq -r .error <<<"$output")" == *'unknown field "color"'* ]]
	[ "$(elb -o json pool list | jq 'map(.name) | index("raw2")')" = null ]
}

@test "assignments survive SIGTERM restarts and kill -9; no address is handed out twice" {
	elb_start "$NODE" "$CONF"
	elb pool set p1 --addresses 10.0.0.0/24,fd00::/120 --priority 1
	elb service set default/a --ports tcp/80
	elb service set default/b --ports tcp/80 --ip-family dual
	elb service set default/c --ports tcp/80
	elb service remove default/a # leaves a hole at 10.0.0.0
	before=$(elb -o json service list | jq -c 'map({name, ips})')
	elb_stop TERM
	elb_start "$NODE" "$CONF"
	[ "$(elb -o json service list | jq -c 'map({name, ips})')" = "$before" ]
	elb_stop KILL
	elb_start "$NODE" "$CONF"
	[ "$(elb -o json service list | jq -c 'map({name, ips})')" = "$before" ]
	[ "$(ips default/b)" = 10.0.0.1,fd00:: ]
	[ "$(ips default/c)" = 10.0.0.2 ]
	elb service set default/d --ports tcp/80
	elb service set default/e --ports tcp/80
	[ "$(ips default/d)" = 10.0.0.0 ]
	[ "$(ips default/e)" = 10.0.0.3 ]
	# kill -9 right after a change: the acknowledged assignment is on disk
	elb service set default/f --ports tcp/80
	f=$(ips default/f)
	elb_stop KILL
	elb_start "$NODE" "$CONF"
	[ "$(ips default/f)" = "$f" ]
	[ "$(elb -o json service list | jq '[.[].ips[]] | length == (unique | length)')" = true ]
}

@test "SIGHUP: a file pool change moves nothing; an IP left outside every pool is flagged with the reason" {
	elb_start "$NODE" "$CONF"
	[ "$(ips file/svc)" = 10.96.0.0 ]
	elb service set default/x --ports tcp/80 --pool filepool
	[ "$(ips default/x)" = 10.96.0.1 ]
	write_conf 10.96.0.4/30
	kill -HUP "$ELB_PID"
	elb_wait 5 test "$(field default/x outOfPool)" = true
	[ "$(ips default/x)" = 10.96.0.1 ]
	[ "$(ips file/svc)" = 10.96.0.0 ]
	[ "$(field default/x status)" = assigned ]
	[[ "$(field default/x reason)" == *"10.96.0.1 is outside every pool"*"kept, not moved"* ]]
	run elb service show default/x
	[[ "$output" == *"OutOfPool     : True"* ]]
	elb service set default/y --ports tcp/80 --pool filepool
	[ "$(ips default/y)" = 10.96.0.4 ]
	write_conf 10.96.0.0/29
	kill -HUP "$ELB_PID"
	elb_wait 5 test "$(field default/x outOfPool)" = false
	[ "$(ips default/x)" = 10.96.0.1 ]
	[ "$(ips default/y)" = 10.96.0.4 ]
}

@test "apply -f: MetalLB pools and Kubernetes services; --dry-run says what would change and changes nothing" {
	elb_start "$NODE" "$CONF"
	before=$(state)
	run elb apply -f "$BATS_TEST_DIRNAME/../data/metallb-pools.yaml" --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *"pool/production created (dry run)"* ]]
	[ "$(state)" = "$before" ]
	run elb apply -f "$BATS_TEST_DIRNAME/../data/metallb-pools.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"pool/staging created"* ]]
	run elb apply -f "$BATS_TEST_DIRNAME/../data/k8s-services.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: Service api (k8s-services.yaml doc 5): spec.selector: not supported, ignored"* ]] ||
		[[ "$output" == *"spec.selector: not supported, ignored"* ]]
	[ "$(ips prod/web)" = 192.168.10.1,fd00:10:: ]
	[ "$(ips prod/dns-tcp)" = 192.168.10.53 ]
	[ "$(ips prod/dns-udp)" = 192.168.10.53 ]
	[ "$(ips dev/db)" = 192.168.30.5 ]
	[ "$(ips dev/api)" = 192.168.20.10 ]
	[ "$(elb -o json service list | jq 'map(select(.name == "dev/other-lb")) | length')" = 0 ]
	run elb -o json apply -f "$BATS_TEST_DIRNAME/../data/k8s-services.yaml" --dry-run
	[ "$(jq '[.changes[].action] | unique' -c <<<"$output")" = '["unchanged"]' ]
	run elb apply -f "$BATS_TEST_DIRNAME/../data/bad-protocol.yaml"
	[ "$status" -eq 1 ] && [ "${#lines[@]}" -eq 1 ]
	[ "$(elb -o json pool list | jq 'map(.name) | index("fine")')" = null ]
}

@test "metrics: addresses in use and total per pool and family, services per pool" {
	elb_start "$NODE" "$CONF" --metrics 127.0.0.1:7472
	elb pool set p1 --addresses 10.0.0.0/24,fd00::/64 --avoid-buggy-ips --priority 1
	elb service set default/a --ports tcp/80 --ip-family dual --shared-key k
	elb service set default/b --ports tcp/81 --ip-family dual --shared-key k
	elb service set default/c --ports tcp/80
	run ip netns exec "$NODE" curl -sf --max-time 5 http://127.0.0.1:7472/metrics
	[ "$status" -eq 0 ]
	[[ "$output" == *'edgelb_allocator_addresses_in_use_total{pool="p1",ip_family="ipv4"} 2'* ]]
	[[ "$output" == *'edgelb_allocator_addresses_in_use_total{pool="p1",ip_family="ipv6"} 1'* ]]
	[[ "$output" == *'edgelb_allocator_addresses_total{pool="p1",ip_family="ipv4"} 254'* ]]
	[[ "$output" == *'edgelb_allocator_addresses_total{pool="p1",ip_family="ipv6"} 1.8446744073709552e+19'* ]]
	[[ "$output" == *'edgelb_allocator_services_allocated{pool="p1"} 3'* ]]
	[[ "$output" == *'edgelb_allocator_addresses_total{pool="filepool",ip_family="ipv4"} 8'* ]]
}
