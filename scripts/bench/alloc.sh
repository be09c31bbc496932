#!/usr/bin/env bash
# Allocation bench: 100,000 services allocated and persisted through the real allocator and
# store (tests/bench/bench_alloc.c) in a temp dir, in batches of 1000 per reconcile pass; then
# a restart and one more service. Prints times and peak RSS; measures, asserts nothing beyond
# "every service got an address". BENCH_ALLOC_N and BENCH_ALLOC_BATCH override the sizes.
set -u
cd "$(dirname "$0")/../.." || exit 1
: "${B:=build}"
B=$(realpath "$B")
bin="$B/tests/bench/bench_alloc"
[[ -x $bin ]] || { echo "SKIP alloc bench: $bin not built (make bench builds it)"; exit 0; }
n=${BENCH_ALLOC_N:-100000}
batch=${BENCH_ALLOC_BATCH:-1000}
# bounded: a run takes seconds; 300 s is a hang
timeout 300 "$bin" "$n" "$batch"
