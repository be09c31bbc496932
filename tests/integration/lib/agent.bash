# Helpers for integration tests: unique namespaces and veths, an edgelbd per test with private
# state/run/bpffs dirs, polling with deadlines, and a teardown that removes everything it
# recorded. Source from a .bats file; call elb_teardown from teardown().
#
# Everything created is recorded in ELB_* arrays so teardown can undo it even when a test fails
# half-way. Names carry the prefix "elb" and a per-run id.

: "${B:=build}"
B=$(realpath "$B")
ELB_BIN="$B/bin"
ELB_ID=${ELB_ID:-$(printf '%x%03x' $$ $((RANDOM % 4096)))}
ELB_NS=() ELB_PIDS=() ELB_DIRS=() ELB_MOUNTS=()

# elb_ns SUFFIX: creates namespace elb<id><suffix> with lo up; prints its name.
elb_ns() {
	local ns="elb${ELB_ID}$1"
	ip netns add "$ns"
	ELB_NS+=("$ns")
	ip -n "$ns" link set lo up
	echo "$ns"
}

# elb_veth NS1 IF1 NS2 IF2: a veth pair between two namespaces, both ends up.
elb_veth() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# elb_wait SECONDS CMD...: polls CMD every 0.1 s until it succeeds or the deadline passes.
elb_wait() {
	local deadline=$((SECONDS + $1))
	shift
	while ((SECONDS < deadline)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@"
}

# elb_dirs: makes a private state/run/bpffs set for one agent; sets ELB_STATE ELB_RUN ELB_BPFFS.
elb_dirs() {
	local d
	d=$(mktemp -d /tmp/elb-it-XXXXXX)
	ELB_DIRS+=("$d")
	ELB_STATE="$d/state" ELB_RUN="$d/run" ELB_BPFFS="$d/bpffs"
	mkdir -p "$ELB_STATE" "$ELB_RUN" "$ELB_BPFFS"
	ELB_MOUNTS+=("$ELB_BPFFS")
}

# elb_start NS CONFIG [extra edgelbd flags...]: starts edgelbd inside NS (network namespace
# only, so a bpffs it mounts stays in the host mount namespace and pins survive restarts) and
# waits for its control socket. Sets ELB_PID and ELB_LOG; export EDGELB_SOCKET for the CLI.
elb_start() {
	local ns=$1 conf=$2
	shift 2
	[[ -n ${ELB_STATE:-} ]] || elb_dirs
	ELB_LOG="$ELB_RUN/../edgelbd.log"
	nsenter --net="/run/netns/$ns" "$ELB_BIN/edgelbd" --config "$conf" --state-dir "$ELB_STATE" \
		--run-dir "$ELB_RUN" --bpffs "$ELB_BPFFS" --log-level debug "$@" >>"$ELB_LOG" 2>&1 &
	ELB_PID=$!
	ELB_PIDS+=("$ELB_PID")
	export EDGELB_SOCKET="$ELB_RUN/edgelb.sock"
	elb_wait 10 "$ELB_BIN/edgelb" status || { cat "$ELB_LOG" >&2; return 1; }
}

# elb_stop [SIGNAL]: stops the current agent by its PID and waits for it.
elb_stop() {
	local sig=${1:-TERM} i
	[[ -n ${ELB_PID:-} ]] || return 0
	kill -s "$sig" "$ELB_PID" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$ELB_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$ELB_PID" 2>/dev/null || true
	ELB_PID=
}

# elb_speaker: sets ELB_SPEAKER to the PID of the current agent's BGP speaker process
# (edgelb-bgp, its child) and records it for teardown.
elb_speaker() {
	ELB_SPEAKER=$(pgrep -P "$ELB_PID" -x edgelb-bgp) || return 1
	ELB_PIDS+=("$ELB_SPEAKER")
}

# elb_bg NS CMD...: runs CMD in the background inside NS, recorded for teardown; sets ELB_BGPID.
elb_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	ELB_BGPID=$!
	ELB_PIDS+=("$ELB_BGPID")
}

elb() { "$ELB_BIN/edgelb" "$@"; }

elb_teardown() {
	local p ns m d
	for p in "${ELB_PIDS[@]}"; do
		kill -s TERM "$p" 2>/dev/null || true
	done
	for p in "${ELB_PIDS[@]}"; do
		for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -s KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for ns in "${ELB_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	# NS=$(elb_ns x) runs elb_ns in a subshell, so ELB_NS misses those: go by the run's id too
	for ns in $(ip netns list | awk -v p="elb${ELB_ID}" 'index($1, p) == 1 {print $1}'); do
		ip netns del "$ns" 2>/dev/null || true
	done
	for m in "${ELB_MOUNTS[@]}"; do
		while mountpoint -q "$m" 2>/dev/null; do umount "$m" 2>/dev/null || break; done
	done
	for d in "${ELB_DIRS[@]}"; do
		rm -rf "$d"
	done
	ELB_NS=() ELB_PIDS=() ELB_DIRS=() ELB_MOUNTS=()
}
