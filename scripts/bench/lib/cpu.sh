# Sourced by scripts/bench/l2.sh and lb.sh (a library: make bench runs scripts/bench/*.sh only).
# One CPU for the traffic generator, one for the node under test. cpu_split NS DEV CPU (once
# per device): makes DEV's veth NAPI (in NS) threaded so its receive work can be pinned to CPU,
# and sets GEN_CPU and NODE_CPU to the taskset prefixes for CPU 0 and CPU 1 (all empty on a
# one-CPU machine, where everything shares it). GRO keeps a veth's NAPI instance alive with or
# without an XDP program.
GEN_CPU=() NODE_CPU=() NAPI_PINS=()
cpu_split() {
	ip netns exec "$1" ethtool -K "$2" gro on >/dev/null
	(($(nproc) >= 2)) || return 0
	ip netns exec "$1" sh -c "echo 1 >/sys/class/net/$2/threaded"
	GEN_CPU=(taskset -c 0) NODE_CPU=(taskset -c 1)
	NAPI_PINS+=("$2:$3")
}

# pin_napi: each registered device's NAPI thread to its CPU (again before each run: attaching
# XDP may renew the thread).
pin_napi() {
	local pin p
	for pin in "${NAPI_PINS[@]}"; do
		for p in $(ps -eo pid=,comm= | awk -v d="napi/${pin%%:*}-" 'index($2, d) == 1 {print $1}'); do
			taskset -pc "${pin##*:}" "$p" >/dev/null
		done
	done
}

cpu_layout() {
	if ((${#NODE_CPU[@]})); then
		echo "generator on CPU 0, the node's receive path on CPU 1"
	else
		echo "one CPU: generator and node share it"
	fi
}

# xcpu_rtt: ns per round trip of one cache line between CPU 0 and CPU 1 (tests/bench/bench_xcpu),
# or "-" on one CPU. Every forwarded frame crosses between the two CPUs, so the pps figures move
# with it; on this VM it changes between spells (likely where the host runs the vCPUs), and the
# benches print it with every round.
xcpu_rtt() {
	((${#NODE_CPU[@]})) || { echo -; return; }
	"$B/tests/bench/bench_xcpu" 0 1 | sed -E 's/rtt_ns=([0-9]+).*/\1/'
}
