// SPDX-License-Identifier: GPL-2.0
/* xdp_pass: a pass-through program for the far end of test veths. Frames sent with XDP_TX or
 * redirect into a veth whose peer has no XDP program can be delayed or lost. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
