#!/usr/bin/env bats
# Foundation: edgelbd in a namespace with a veth as compute port, driven by the CLI.
#
#   +-- elb<id>n (node) ------------+        +-- elb<id>c (client) --+
#   |  edgelbd   eN (compute port) -+--veth--+- eC                  |
#   |  metrics 127.0.0.1:7472       |        |                       |
#   +-------------------------------+        +-----------------------+

load lib/agent

setup() {
	NODE=$(elb_ns n)
	CLIENT=$(elb_ns c)
	elb_veth "$NODE" eN "$CLIENT" eC
	elb_dirs
	CONF="$ELB_STATE/../node.yaml"
	cat >"$CONF" <<-YAML
	node: {name: node-a}
	switches:
	  - name: vSwitch1
	    interfaces: [eN]
	    compute: true
	  - name: vSwitch2
	    interfaces: [lo]
	pools: []
	bgpPeers: []
	services: []
	YAML
}

teardown() {
	elb_teardown
}

@test "status answers with the node name and the private dirs" {
	elb_start "$NODE" "$CONF"
	run elb -o json status
	[ "$status" -eq 0 ]
	[ "$(jq -r .nodeName <<<"$output")" = node-a ]
	[ "$(jq -r .stateDir <<<"$output")" = "$ELB_STATE" ]
	[ "$(jq -r .switches <<<"$output")" = 2 ]
}

@test "switch list shows the seed's columns, in table and JSON, and the cmdlet alias agrees" {
	elb_start "$NODE" "$CONF"
	run elb switch list
	[ "$status" -eq 0 ]
	[[ "$output" == *"Name              : vSwitch1"* ]]
	[[ "$output" == *"InterfaceAlias    : {eN}"* ]]
	[[ "$output" == *"EnabledForCompute : True"* ]]
	[[ "$output" == *"Mode              : layer2"* ]]
	run elb -o json switch list
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].name' <<<"$output")" = vSwitch1 ]
	[ "$(jq -r '.[0].interfaceAlias[0]' <<<"$output")" = eN ]
	[ "$(jq -r '.[0].enabledForCompute' <<<"$output")" = true ]
	[ "$(jq -r '.[1].enabledForCompute' <<<"$output")" = false ]
	[ "$(jq -r '.[0] | has("bgpPeers") and has("ipAddressPools") and has("mode")' <<<"$output")" = true ]
	json=$output
	run elb -o json get-hcsexternalvirtualswitch
	[ "$status" -eq 0 ]
	[ "$output" = "$json" ]
}

@test "metrics endpoint serves build info and process metrics" {
	elb_start "$NODE" "$CONF" --metrics 127.0.0.1:7472
	run ip netns exec "$NODE" curl -sf --max-time 5 http://127.0.0.1:7472/metrics
	[ "$status" -eq 0 ]
	[[ "$output" == *'edgelb_build_info{version="'*'node="node-a"} 1'* ]]
	[[ "$output" == *"process_resident_memory_bytes "* ]]
	[[ "$output" == *"# TYPE process_cpu_seconds_total counter"* ]]
}

@test "SIGHUP with a bad file is refused and the running config stays; a good file applies" {
	elb_start "$NODE" "$CONF"
	cp "$CONF" "$CONF.good"
	printf 'switches:\n  - name: vSwitch9\n    interfaces: [eN]\n    colour: red\n' >"$CONF"
	kill -HUP "$ELB_PID"
	elb_wait 5 grep -q "reload of $CONF refused" "$ELB_LOG"
	grep -q "$CONF:4: switches\[0\].colour: unknown key" "$ELB_LOG"
	run elb -o json switch list
	[ "$(jq -r '.[0].name' <<<"$output")" = vSwitch1 ]
	[ "$(elb -o json status | jq -r .reloads)" = 0 ]
	sed 's/vSwitch2/vSwitchB/' "$CONF.good" >"$CONF"
	kill -HUP "$ELB_PID"
	elb_wait 5 sh -c "'$ELB_BIN/edgelb' -o json status | jq -e '.reloads == 1'"
	[ "$(elb -o json switch list | jq -r '.[1].name')" = vSwitchB ]
	kill -0 "$ELB_PID"
}

@test "control socket is mode 0600; raw bad requests get one-line errors; oversized is refused" {
	elb_start "$NODE" "$CONF"
	[ "$(stat -c %a "$EDGELB_SOCKET")" = 600 ]
	run socat -t 5 - "UNIX-CONNECT:$EDGELB_SOCKET" <<<'{"cmd":"status","bogus":1}'
	[ "$(jq -r .ok <<<"$output")" = false ]
	[ "$(jq -r .error <<<"$output")" = 'request: unknown field "bogus" (allowed: cmd, args)' ]
	run socat -t 5 - "UNIX-CONNECT:$EDGELB_SOCKET" <<<'{"cmd":"switch.list","args":{"x":1}}'
	[ "$(jq -r .error <<<"$output")" = 'switch.list: unknown field "x" (allowed: none)' ]
	run bash -c "head -c 17000000 /dev/zero | tr '\\0' ' ' | socat -t 5 - UNIX-CONNECT:$EDGELB_SOCKET"
	[[ "$output" == *"larger than 16 MiB"* ]]
	run elb status
	[ "$status" -eq 0 ]
}

@test "CLI exit codes: 2 bad usage, 3 agent unreachable naming the socket" {
	run "$ELB_BIN/edgelb" --socket /nonexistent/edgelb.sock status
	[ "$status" -eq 3 ]
	[[ "$output" == *"/nonexistent/edgelb.sock"* ]]
	run "$ELB_BIN/edgelb" frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" == *'unknown command "frobnicate"'* ]]
	run "$ELB_BIN/edgelb" -o yaml status
	[ "$status" -eq 2 ]
	[[ "$output" == *"allowed: table, json"* ]]
	run "$ELB_BIN/edgelb" switch list --bogus
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	# a command group without its subcommand names the ones that may follow
	run "$ELB_BIN/edgelb" bgp peer
	[ "$status" -eq 2 ]
	[ "$output" = 'edgelb: bgp peer: missing subcommand (allowed: set, list, remove, show)' ]
	run "$ELB_BIN/edgelb" service frob
	[ "$status" -eq 2 ]
	[ "$output" = 'edgelb: service: unknown subcommand "frob" (allowed: set, list, show, remove)' ]
}

@test "both binaries print the version they were built from, and status reports the same" {
	local v
	v=$(git -C "$BATS_TEST_DIRNAME" describe --always --dirty 2>/dev/null) || skip "not a git checkout"
	run "$ELB_BIN/edgelb" --version
	[ "$status" -eq 0 ]
	[ "$output" = "edgelb $v" ]
	run "$ELB_BIN/edgelbd" --version
	[ "$status" -eq 0 ]
	[ "$output" = "edgelbd $v" ]
	elb_start "$NODE" "$CONF"
	[ "$("$ELB_BIN/edgelb" -o json status | jq -r .version)" = "$v" ]
}

@test "edgelbd flags: bad values are refused with the allowed values; --check-config reports every error with file:line" {
	run "$ELB_BIN/edgelbd" --log-level loud
	[ "$status" -eq 2 ]
	[[ "$output" == *'--log-level: "loud": unknown (allowed: debug, info, warn, error)'* ]]
	run "$ELB_BIN/edgelbd" --metrics nowhere
	[ "$status" -eq 2 ]
	run "$ELB_BIN/edgelbd" --check-config "$CONF"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.switches[0].name' <<<"$output")" = vSwitch1 ]
	printf 'node: {name: a, x: 1}\nswitches:\n  - name: s\n    interfaces: [e]\n    compute: maybe\n' >"$CONF.bad"
	run "$ELB_BIN/edgelbd" --check-config "$CONF.bad"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$CONF.bad:1: node.x: unknown key"* ]]
	[[ "$output" == *"$CONF.bad:5: switches[0].compute"* ]]
	[[ "$output" == *"2 errors"* ]]
}

@test "two agents run side by side with their own dirs; a live socket is never stolen" {
	elb_start "$NODE" "$CONF" --metrics none
	first_sock=$EDGELB_SOCKET first_run=$ELB_RUN
	ELB_STATE=
	elb_dirs
	elb_start "$CLIENT" "$CONF" --metrics none
	[ "$EDGELB_SOCKET" != "$first_sock" ]
	EDGELB_SOCKET=$first_sock run "$ELB_BIN/edgelb" status
	[ "$status" -eq 0 ]
	run timeout 10 nsenter --net="/run/netns/$NODE" "$ELB_BIN/edgelbd" --config "$CONF" --state-dir "$ELB_STATE.x" \
		--run-dir "$first_run" --bpffs "$ELB_BPFFS" --metrics none
	[ "$status" -ne 0 ]
	[[ "$output" == *"another edgelbd is listening there"* ]]
	EDGELB_SOCKET=$first_sock run "$ELB_BIN/edgelb" status
	[ "$status" -eq 0 ]
}

@test "SIGTERM exits cleanly and removes the socket" {
	elb_start "$NODE" "$CONF"
	pid=$ELB_PID
	elb_stop TERM
	! kill -0 "$pid" 2>/dev/null || false
	[ ! -e "$EDGELB_SOCKET" ]
	grep -q "shutting down" "$ELB_LOG"
}

@test "objects created through the CLI survive a restart and a kill -9" {
	elb_start "$NODE" "$CONF"
	run elb pool set edge --addresses 192.0.2.64/28
	[ "$status" -eq 0 ]
	elb_stop TERM
	elb_start "$NODE" "$CONF"
	[ "$(elb -o json pool list | jq -r '.[] | select(.name == "edge") | .addresses[0]')" = 192.0.2.64/28 ]
	run elb pool set edge2 --addresses 192.0.2.80/28
	[ "$status" -eq 0 ]
	elb_stop KILL
	elb_start "$NODE" "$CONF"
	[ "$(elb -o json pool list | jq -r '[.[].name] | sort | join(",")')" = edge,edge2 ]
}

@test "a second agent on the same state dir is refused and changes nothing" {
	elb_start "$NODE" "$CONF" --metrics none
	run timeout 10 nsenter --net="/run/netns/$CLIENT" "$ELB_BIN/edgelbd" --config "$CONF" --state-dir "$ELB_STATE" \
		--run-dir "$ELB_RUN.2" --bpffs "$ELB_BPFFS" --metrics none
	[ "$status" -ne 0 ]
	[[ "$output" == *"$ELB_STATE"* ]]
	run elb status
	[ "$status" -eq 0 ]
}
