# Sourced by the benches: one CPU for the traffic generator, one for the node under test.
# cpu_split NS DEV: makes DEV's veth NAPI (in NS) threaded, so the node's receive work can be
# pinned to CPU 1 while the generator runs on CPU 0; sets GEN_CPU and NODE_CPU to the taskset
# prefixes (empty on a one-CPU machine, where both share it). GRO keeps the veth's NAPI
# instance alive with or without an XDP program.
cpu_split() {
	GEN_CPU=() NODE_CPU=() NAPI_DEV=$2
	ip netns exec "$1" ethtool -K "$2" gro on >/dev/null
	(($(nproc) >= 2)) || return 0
	ip netns exec "$1" sh -c "echo 1 >/sys/class/net/$2/threaded"
	GEN_CPU=(taskset -c 0) NODE_CPU=(taskset -c 1)
}

# pin_napi: the NAPI thread of NAPI_DEV to CPU 1 (again before each run: attaching XDP may
# renew it).
pin_napi() {
	((${#NODE_CPU[@]})) || return 0
	local p
	for p in $(ps -eo pid=,comm= | awk -v d="napi/$NAPI_DEV-" 'index($2, d) == 1 {print $1}'); do
		taskset -pc 1 "$p" >/dev/null
	done
}

cpu_layout() {
	if ((${#NODE_CPU[@]})); then
		echo "generator on CPU 0, the node's receive path on CPU 1"
	else
		echo "one CPU: generator and node share it"
	fi
}
