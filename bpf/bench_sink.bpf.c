// SPDX-License-Identifier: GPL-2.0
/* bench_sink: the benchmark's packet sink on the backend's veth: drops every frame so the
 * receive counters (ethtool -S: rx_queue_N_xdp_drops) count what the node delivered, without
 * the backend's stack in the measurement. Not used by edgelbd. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bench_sink(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
