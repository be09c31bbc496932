# Sourced by scripts/bench/l2.sh and lb.sh (a library: make bench runs scripts/bench/*.sh only).
# Where the traffic generator and the node under test run, in one of two layouts (everything
# shares the one CPU of a one-CPU machine in both). GRO keeps a veth's NAPI instance alive with
# or without an XDP program, so frames sent into DEV by XDP are always received.
#   cpu_split NS DEV CPU (once per device): the generator on CPU 0, the node on CPU 1: DEV's
#     veth NAPI (in NS) is made threaded so its receive work can be pinned to CPU; sets GEN_CPU
#     and NODE_CPU to the taskset prefixes. The generator offers more than the node forwards.
#   cpu_shared NS DEV: the generator and the node on CPU 1: DEV's NAPI runs in the generator's
#     softirq after each batch of frames, so the node keeps pace with the generator (nearly
#     every frame sent is forwarded), no frame crosses between CPUs, and a rate is that of the
#     generator and the node together.
GEN_CPU=() NODE_CPU=() NAPI_PINS=() CPU_SHARED=
cpu_split() {
	ip netns exec "$1" ethtool -K "$2" gro on >/dev/null
	(($(nproc) >= 2)) || return 0
	ip netns exec "$1" sh -c "echo 1 >/sys/class/net/$2/threaded"
	GEN_CPU=(taskset -c 0) NODE_CPU=(taskset -c 1)
	NAPI_PINS+=("$2:$3")
}

cpu_shared() {
	ip netns exec "$1" ethtool -K "$2" gro on >/dev/null
	CPU_SHARED=1
	(($(nproc) >= 2)) || return 0
	GEN_CPU=(taskset -c 1) NODE_CPU=(taskset -c 1)
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
	if ((${#NODE_CPU[@]} == 0)); then
		echo "one CPU: generator and node share it"
	elif [[ -n $CPU_SHARED ]]; then
		echo "generator and node on CPU 1 (the node's receive work in the generator's softirq)"
	else
		echo "generator on CPU 0, the node's receive path on CPU 1"
	fi
}

# xcpu_rtt: ns per round trip of one cache line between CPU 0 and CPU 1 (tests/bench/bench_xcpu),
# or "-" on one CPU. In the split layout every forwarded frame crosses between the two CPUs, so
# the pps figures move with it; on this VM it changes between spells (likely where the host runs
# the vCPUs), and the benches print it with every round (in the shared layout too, to show the
# spell).
xcpu_rtt() {
	(($(nproc) >= 2)) || { echo -; return; }
	"$B/tests/bench/bench_xcpu" 0 1 | sed -E 's/rtt_ns=([0-9]+).*/\1/'
}
