// SPDX-License-Identifier: GPL-2.0
/* bench_lb: programs of the load-balancer benchmark (tests/bench/bench_lb.c); not used by
 * edgelbd. A test run (plain or live frames) reuses its frame memory, and whatever the previous
 * run or the receiver wrote into it (DNAT, new MACs) stays, so every program here first copies
 * the pristine template (tmpl: BENCH_LEN bytes, 4 more for IPv6; set by the tool) over the frame:
 *   bench_tx       template, then XDP_TX: the live-frames traffic generator; with flows > 1
 *                  the UDP source port takes flows values (1024 up; in order for the first
 *                  pass, then scrambled: flow_stride), checksum kept;
 *                  first moves the frame's start back by align_back bytes, so that it starts a
 *                  cache line as a NIC's receive buffer does (a test run puts it 48 bytes into
 *                  one on 6.18, and the headers then straddle two lines);
 *   bench_restore  template (source port cycling like bench_tx), then tail call to slot 0
 *                  of bench_progs (xdp_ingress, or bench_empty for the baseline): the
 *                  conntrack-hit cost with repeat, over one flow or many;
 *   bench_fwd      on the node's ingress: new MACs and redirect to fwd_ifindex, no lookup at
 *                  all: the floor of the pipeline (generator, veths, sink). */
#include <linux/if_ether.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define BENCH_LEN 60 /* IPv4 + UDP frames; IPv6 ones are 4 bytes longer */

__u8 tmpl[BENCH_LEN + 4];
__u32 tmpl_v6; /* set by the tool: the template is an IPv6 frame (BENCH_LEN + 4 bytes) */

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_progs SEC(".maps");

static __always_inline int restore(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + BENCH_LEN > data_end)
		return -1;
	__builtin_memcpy(data, tmpl, BENCH_LEN);
	if (tmpl_v6) {
		if (data + BENCH_LEN + 4 > data_end)
			return -1;
		__builtin_memcpy(data + BENCH_LEN, tmpl + BENCH_LEN, 4);
	}
	return 0;
}

__u32 flows; /* set by the tool; 0 or 1: one 5-tuple */
__u32 flow_seq;
/* set by the tool, coprime to flows: after the first pass (which makes the conntrack entries,
 * and with them their order in memory) packet i takes flow i x flow_stride mod flows, so that
 * packets in a row meet entries far apart in memory, as real traffic does, not one after the
 * other as they were made */
__u32 flow_stride;

/* Ethernet + IPv4 without options (or IPv6 without extension headers) + UDP: source port at 34
 * (54), checksum at 40 (60), updated as RFC 1624 says. */
static __always_inline void next_flow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u16 *sport = data + (tmpl_v6 ? 54 : 34), *check = data + (tmpl_v6 ? 60 : 40);
	__u32 c, i;
	__u16 port;

	if (flows < 2 || (void *)(check + 1) > data_end || (void *)(sport + 1) > data_end)
		return;
	i = flow_seq % flows;
	if (flow_seq++ >= flows)
		i = i * flow_stride % flows;
	port = bpf_htons((__u16)(1024 + i));
	c = (__u16)~*check + (__u16)~*sport + port;
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	*sport = port;
	*check = (__u16)~c;
}

__u32 align_back; /* set by the tool: bytes from a cache line's start to the frame's, 0..63 */

SEC("xdp")
int bench_tx(struct xdp_md *ctx)
{
	if (align_back && bpf_xdp_adjust_head(ctx, -(int)(align_back & 63)))
		return XDP_ABORTED;
	if (restore(ctx))
		return XDP_ABORTED;
	next_flow(ctx);
	return XDP_TX;
}

SEC("xdp")
int bench_restore(struct xdp_md *ctx)
{
	if (restore(ctx))
		return XDP_ABORTED;
	next_flow(ctx);
	bpf_tail_call(ctx, &bench_progs, 0);
	return XDP_ABORTED;
}

SEC("xdp")
int bench_empty(struct xdp_md *ctx)
{
	return XDP_DROP;
}

__u32 fwd_ifindex;
__u8 fwd_dmac[ETH_ALEN];
__u8 fwd_smac[ETH_ALEN];

SEC("xdp")
int bench_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, fwd_dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fwd_smac, ETH_ALEN);
	return bpf_redirect(fwd_ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
