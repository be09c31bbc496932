# A real etcd v3 (Debian's etcd-server) for cluster tests, on top of lib/agent.bash: one member
# in a namespace, its data in a private dir, recorded for teardown. Every wait is bounded.

# elb_etcd NS ADDR: starts etcd inside NS serving clients on http://ADDR:2379 (peers on
# 127.0.0.1:2380); waits until it answers. Sets ETCD_URL, ETCD_NS and ETCD_PID.
elb_etcd() {
	local d
	d=$(mktemp -d /tmp/elb-etcd-XXXXXX)
	ELB_DIRS+=("$d")
	ETCD_NS=$1 ETCD_URL="http://$2:2379"
	ip netns exec "$1" etcd --name elb --data-dir "$d/data" \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster elb=http://127.0.0.1:2380 >"$d/etcd.log" 2>&1 &
	ETCD_PID=$!
	ELB_PIDS+=("$ETCD_PID")
	elb_wait 15 etcdq endpoint health || { cat "$d/etcd.log" >&2; return 1; }
}

# etcdq ARGS...: etcdctl (API v3) against the test's etcd, from its namespace, 2 s at most.
etcdq() {
	ip netns exec "$ETCD_NS" env ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" \
		--dial-timeout 1s --command-timeout 2s "$@"
}

# etcd_value KEY: the value stored under KEY ("" when absent).
etcd_value() {
	etcdq get --print-value-only "$1"
}
