#!/usr/bin/env bash
# Runs every test tier (unit, bpf, fuzz, integration) against the build in $B and ends with
# one line: "N passed, N failed, N skipped". Each tier prints PASS/FAIL/SKIP lines (bats via
# TAP); a binary that dies without reporting a failure counts as one failure. Exit 1 on any failure.
set -u
cd "$(dirname "$0")/.."
B=$(realpath "${B:-build}")
export B
TIER_TIMEOUT=${TIER_TIMEOUT:-600}
FUZZ_SECONDS=${FUZZ_SECONDS:-5}
pass=0 fail=0 skip=0
failures=() skips=()
log_dir=$(mktemp -d /tmp/elb-test-XXXXXX)
trap 'rm -rf "$log_dir"' EXIT

# count_output NAME FILE RC: tallies PASS/FAIL/SKIP lines of one program's output.
count_output() {
	local name=$1 file=$2 rc=$3 p f s line
	p=$(grep -c '^PASS ' "$file")
	f=$(grep -c '^FAIL ' "$file")
	s=$(grep -c '^SKIP ' "$file")
	while IFS= read -r line; do failures+=("$name: ${line#FAIL }"); done < <(grep '^FAIL ' "$file")
	while IFS= read -r line; do skips+=("$name: ${line#SKIP }"); done < <(grep '^SKIP ' "$file")
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		f=1
		failures+=("$name: exited with status $rc without reporting a failed case")
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	printf '  %-28s %3d passed, %d failed, %d skipped\n' "$name" "$p" "$f" "$s"
}

run_bins() {
	local tier=$1 bin name out rc
	shift
	for bin in "$@"; do
		[[ -x $bin ]] || continue
		name="$tier/$(basename "$bin")"
		out="$log_dir/$(basename "$bin").log"
		timeout "$TIER_TIMEOUT" "$bin" >"$out" 2>&1
		rc=$?
		count_output "$name" "$out" "$rc"
		if grep -q '^FAIL ' "$out" || [[ $rc -ne 0 ]]; then sed 's/^/      /' "$out" | tail -60; fi
	done
}

echo "== unit"
run_bins unit "$B"/tests/unit/test_*

echo "== bpf"
if [[ $(id -u) -ne 0 ]]; then
	skip=$((skip + 1)); skips+=("bpf tier: needs root for BPF_PROG_TEST_RUN")
	echo "  skipped: needs root"
else
	run_bins bpf "$B"/tests/bpf/test_*
fi

echo "== fuzz (${FUZZ_SECONDS}s each)"
for bin in "$B"/tests/fuzz/fuzz_*; do
	[[ -x $bin ]] || continue
	name=$(basename "$bin")
	corpus="$log_dir/corpus-$name"
	mkdir -p "$corpus"
	[[ -d tests/fuzz/corpus/${name#fuzz_} ]] && cp -r "tests/fuzz/corpus/${name#fuzz_}/." "$corpus/"
	out="$log_dir/$name.log"
	timeout $((FUZZ_SECONDS * 4 + 60)) "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		"$corpus" >"$out" 2>&1
	rc=$?
	if [[ $rc -eq 0 ]]; then
		echo "PASS $name: $(grep -o 'Done [0-9]* runs' "$out" | tail -1)" >"$out.res"
	else
		echo "FAIL $name" >"$out.res"
		tail -40 "$out" | sed 's/^/      /'
	fi
	count_output "fuzz/$name" "$out.res" 0
done

echo "== integration"
if [[ $(id -u) -ne 0 ]]; then
	skip=$((skip + 1)); skips+=("integration tier: needs root for network namespaces")
	echo "  skipped: needs root"
elif ! command -v bats >/dev/null; then
	skip=$((skip + 1)); skips+=("integration tier: bats not installed (run make deps)")
else
	for f in tests/integration/*.bats; do
		[[ -e $f ]] || continue
		name="integration/$(basename "$f" .bats)"
		out="$log_dir/$(basename "$f").tap"
		timeout "$TIER_TIMEOUT" bats --tap "$f" >"$out" 2>&1
		rc=$?
		# TAP → PASS/FAIL/SKIP
		sed -n -e 's/^ok [0-9]* \(.*\) # skip\(.*\)$/SKIP \1:\2/p' \
			-e '/# skip/!s/^ok [0-9]* \(.*\)$/PASS \1/p' \
			-e 's/^not ok [0-9]* \(.*\)$/FAIL \1/p' "$out" >"$out.res"
		count_output "$name" "$out.res" "$rc"
		if grep -q '^FAIL ' "$out.res" || [[ $rc -ne 0 ]]; then sed 's/^/      /' "$out" | tail -80; fi
	done
fi

echo
if ((${#skips[@]})); then
	echo "skipped:"
	printf '  %s\n' "${skips[@]}"
fi
if ((${#failures[@]})); then
	echo "failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[[ $fail -eq 0 ]]
