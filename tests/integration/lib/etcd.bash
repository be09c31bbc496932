# A real etcd v3 (Debian's etcd-server) for cluster tests, on top of lib/agent.bash: one member
# in a namespace, its data in a private dir, recorded for teardown. Every wait is bounded.

# elb_etcd NS ADDR [TLSDIR]: starts etcd inside NS serving clients on http://ADDR:2379 (peers on
# 127.0.0.1:2380); with TLSDIR (from etcd_certs), on https:// with TLSDIR's server certificate,
# asking every client for a certificate of TLSDIR's CA. Waits until it answers. Sets ETCD_URL,
# ETCD_NS, ETCD_PID and ETCD_LOG.
elb_etcd() {
	local d tls=()
	d=$(mktemp -d /tmp/elb-etcd-XXXXXX)
	ELB_DIRS+=("$d")
	ETCD_NS=$1 ETCD_URL="http://$2:2379" ETCD_TLS=() ETCD_LOG="$d/etcd.log"
	if [[ -n ${3:-} ]]; then
		ETCD_URL="https://$2:2379"
		tls=(--cert-file "$3/server.crt" --key-file "$3/server.key"
			--trusted-ca-file "$3/ca.crt" --client-cert-auth)
		ETCD_TLS=(--cacert "$3/ca.crt" --cert "$3/client.crt" --key "$3/client.key")
	fi
	ip netns exec "$1" etcd --name elb --data-dir "$d/data" \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster elb=http://127.0.0.1:2380 "${tls[@]}" >"$ETCD_LOG" 2>&1 &
	ETCD_PID=$!
	ELB_PIDS+=("$ETCD_PID")
	elb_wait 15 etcdq endpoint health || { cat "$ETCD_LOG" >&2; return 1; }
}

# etcdq ARGS...: etcdctl (API v3) against the test's etcd, from its namespace, 2 s at most.
etcdq() {
	ip netns exec "$ETCD_NS" env ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" \
		--dial-timeout 1s --command-timeout 2s "${ETCD_TLS[@]}" "$@"
}

# etcd_value KEY: the value stored under KEY ("" when absent).
etcd_value() {
	etcdq get --print-value-only "$1"
}

# etcd_certs DIR ADDR: a test PKI in DIR (EC P-256, valid 2 days): ca.crt/key; server.crt/key
# for IP ADDR (serverAuth and clientAuth: etcd's gateway dials its own gRPC port with it);
# client.crt/key (CN node-a) from the CA; and other-ca.crt with other.crt/key from a second,
# untrusted CA.
etcd_certs() {
	local d=$1 ip=$2 ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	mkdir -p "$d"
	openssl req -x509 "${ec[@]}" -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
		-subj /CN=elb-test-ca 2>/dev/null
	openssl req -x509 "${ec[@]}" -keyout "$d/other-ca.key" -out "$d/other-ca.crt" -days 2 \
		-subj /CN=elb-other-ca 2>/dev/null
	etcd_cert "$d" server ca "subjectAltName=IP:$ip
extendedKeyUsage=serverAuth,clientAuth"
	etcd_cert "$d" client ca "extendedKeyUsage=clientAuth"
	etcd_cert "$d" other other-ca "extendedKeyUsage=clientAuth"
}

# etcd_cert DIR NAME CA EXTENSIONS: DIR/NAME.crt and .key signed by DIR/CA.crt.
etcd_cert() {
	local d=$1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/$2.key" \
		-out "$d/$2.csr" -subj "/CN=$2" 2>/dev/null
	openssl x509 -req -in "$d/$2.csr" -CA "$d/$3.crt" -CAkey "$d/$3.key" -CAcreateserial \
		-out "$d/$2.crt" -days 2 -extfile <(printf '%s\n' "$4") 2>/dev/null
}

# cluster_lan: the segment of the two-node cluster tests. LAN holds bridge br0 (192.0.2.9/24,
# for etcd) with ports lA and lB; NA (node-a, 192.0.2.1) and NB (node-b, 192.0.2.3) reach it
# through their eN.
cluster_lan() {
	LAN=$(elb_ns l)
	NA=$(elb_ns a)
	NB=$(elb_ns b)
	ip -n "$LAN" link add br0 type bridge
	ip -n "$LAN" link set br0 up
	ip -n "$LAN" addr add 192.0.2.9/24 dev br0
	elb_veth "$NA" eN "$LAN" lA
	elb_veth "$NB" eN "$LAN" lB
	ip -n "$LAN" link set lA master br0
	ip -n "$LAN" link set lB master br0
	ip -n "$NA" addr add 192.0.2.1/24 dev eN
	ip -n "$NB" addr add 192.0.2.3/24 dev eN
}

# cluster_node NAME NS [edgelbd flags...]: an agent for node NAME in NS, joined to the test's
# etcd with lease TTL $TTL, from the config every cluster test shares: compute port eN, pool p1
# ($VIP), pool p2 ($VIP2), service default/web in p1. Sets what elb_start sets.
cluster_node() {
	local name=$1 ns=$2
	shift 2
	elb_dirs
	cat >"$ELB_STATE/../node.yaml" <<-YAML
	node: {name: $name}
	switches:
	  - name: vSwitch1
	    interfaces: [eN]
	    compute: true
	pools:
	  - name: p1
	    addresses: [$VIP/32]
	  - name: p2
	    addresses: [$VIP2/32]
	bgpPeers: []
	services:
	  - name: default/web
	    ports: ["tcp/80"]
	    pool: p1
	YAML
	cluster_start "$ns" "$@"
}

# cluster_start NS [edgelbd flags...]: the agent of the last cluster_node again (its state, run
# dir and config), as after a restart.
cluster_start() {
	local ns=$1
	shift
	elb_start "$ns" "$ELB_STATE/../node.yaml" --metrics none --etcd-endpoints "$ETCD_URL" \
		--etcd-lease-ttl "$TTL" "$@"
}
