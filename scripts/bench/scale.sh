#!/usr/bin/env bash
# Scale bench: how long edgelbd's reconcile pass takes with many services. For each N (default
# 10000 and 100000; SCALE_NS="1000 10000" to choose) a fresh agent in its own namespace (one
# veth as compute port, 198.18.0.1/15, no traffic sent) gets `edgelb apply -f` of N Kubernetes
# LoadBalancer Services (one tcp port each, addresses from pool 198.18.0.0/15), then measures:
#   apply    time of the apply command (parse, validate, allocate, store)
#   settle   time until `edgelb status` answers after it (= the reconcile pass that follows)
#   one      time of one more `edgelb service set` plus the following `status` (one change)
#   rss      peak RSS of edgelbd (VmHWM)
# Every wait has a deadline (SCALE_DEADLINE seconds per step, default 600). Asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$(realpath "${B:-build}")
NS_LIST=${SCALE_NS:-"10000 100000"}
DEADLINE=${SCALE_DEADLINE:-600}
ID=$(printf '%x' $$)
NS="elb${ID}s"
DIR=$(mktemp -d /tmp/elb-scalebench-XXXXXX)
AGENT=

stop_agent() {
	if [[ -n $AGENT ]]; then
		kill "$AGENT" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$AGENT" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$AGENT" 2>/dev/null || true
		wait "$AGENT" 2>/dev/null || true
		AGENT=
	fi
}
cleanup() {
	stop_agent
	ip netns del "$NS" 2>/dev/null || true
	for m in "$DIR"/*/bpffs; do
		while mountpoint -q "$m" 2>/dev/null; do umount "$m" || break; done
	done
	rm -rf "$DIR"
}
trap cleanup EXIT

for f in "$B/bin/edgelbd" "$B/bin/edgelb"; do
	[[ -x $f ]] || { echo "scale bench: $f missing (make bench builds it)"; exit 1; }
done
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth1 type veth peer name eth1p
ip -n "$NS" link set eth1 up
ip -n "$NS" link set eth1p up
ip -n "$NS" addr add 198.18.0.1/15 dev eth1

now() { date +%s.%N; }
# run CMD... with the step deadline; prints elapsed seconds, fails the bench on timeout/error
timed() {
	local t0 t1
	t0=$(now)
	if ! timeout "$DEADLINE" "$@" >"$DIR/out" 2>&1; then
		echo "scale bench: '$*' failed or exceeded ${DEADLINE}s:" >&2
		tail -5 "$DIR/out" >&2
		return 1
	fi
	t1=$(now)
	echo "$t1 - $t0" | bc
}

gen() { # N FILE: N Services s0..s(N-1), namespace bench, one tcp port each
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++)
		printf "apiVersion: v1\nkind: Service\nmetadata:\n  name: s%d\n  namespace: bench\n" \
		       "spec:\n  type: LoadBalancer\n  ports:\n    - port: 80\n      protocol: TCP\n---\n", i }' \
		>"$2"
}

declare -a ROWS
for N in $NS_LIST; do
	D="$DIR/$N"
	mkdir -p "$D/state" "$D/run" "$D/bpffs"
	cat >"$D/edgelb.yaml" <<YAML
switches:
  - {name: vSwitch1, interfaces: [eth1], compute: true}
pools:
  - {name: big, addresses: [198.18.0.0/15]}
YAML
	gen "$N" "$D/svcs.yaml"
	CLI=("$B/bin/edgelb" --socket "$D/run/edgelb.sock")
	nsenter --net="/run/netns/$NS" "$B/bin/edgelbd" --config "$D/edgelb.yaml" \
		--state-dir "$D/state" --run-dir "$D/run" --bpffs "$D/bpffs" --metrics none \
		--node-name scale --log-level warn >"$D/log" 2>&1 &
	AGENT=$!
	end=$((SECONDS + 60))
	until "${CLI[@]}" status >/dev/null 2>&1; do
		((SECONDS < end)) || { echo "scale bench: agent did not start"; tail "$D/log"; exit 1; }
		kill -0 "$AGENT" || { echo "scale bench: agent exited"; tail "$D/log"; exit 1; }
		sleep 0.1
	done
	t_apply=$(timed "${CLI[@]}" apply -f "$D/svcs.yaml")
	t_settle=$(timed "${CLI[@]}" status)
	t_one=$(timed bash -c '"$@" service set bench/extra --ports tcp/80 && "$@" status' _ "${CLI[@]}")
	rss=$(awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$AGENT/status")
	n_assigned=$("${CLI[@]}" -o json service list 2>/dev/null | jq '[.[] | select(.status == "assigned")] | length' 2>/dev/null || echo "?")
	ROWS+=("$(printf '%-8s %9.2f %9.2f %9.2f %8s %9s' "$N" "$t_apply" "$t_settle" "$t_one" "$rss" "$n_assigned")")
	stop_agent
	while mountpoint -q "$D/bpffs" 2>/dev/null; do umount "$D/bpffs" || break; done
	rm -rf "$D"
done
printf '%-8s %9s %9s %9s %8s %9s\n' services apply_s settle_s one_s rss_MB assigned
printf '%s\n' "${ROWS[@]}"
