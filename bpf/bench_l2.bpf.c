// SPDX-License-Identifier: GPL-2.0
/* Programs for the layer-2 benchmark only (scripts/bench/l2.sh, tests/bench/bench_xdp_live.c):
 * bench_tx sends its template frame (the generator, run with BPF_F_TEST_XDP_LIVE_FRAMES): the
 * template is rewritten each time because a responder answering in place (XDP_TX) modifies the
 * generator's recycled page;
 * bench_count counts ARP replies arriving at the generator's veth and drops them; bench_reflect
 * is the floor of the pipeline: it turns a request into a reply by its opcode alone and sends it
 * back, so (1/rate - 1/floor rate) is what a real responder costs per reply. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* replies: [0] → ARP replies seen per CPU; bench_count writes, the bench tool sums. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} replies SEC(".maps");

#define BENCH_FRAME 60

/* frame: [0] → the 60-byte frame to send; the bench tool writes it before the flood. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[BENCH_FRAME]);
} frame SEC(".maps");

SEC("xdp")
int bench_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	__u8 *t = bpf_map_lookup_elem(&frame, &zero);

	if (!t || data + BENCH_FRAME > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data, t, BENCH_FRAME);
	return XDP_TX;
}

SEC("xdp")
int bench_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 *arp = (void *)(eth + 1);
	__u32 zero = 0;
	__u64 *n;

	if ((void *)(arp + 8) > data_end || eth->h_proto != bpf_htons(ETH_P_ARP))
		return XDP_PASS;
	if (arp[6] != 0 || arp[7] != 2) /* opcode reply */
		return XDP_PASS;
	n = bpf_map_lookup_elem(&replies, &zero);
	if (n)
		*n += 1;
	return XDP_DROP;
}

SEC("xdp")
int bench_reflect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *arp = data + sizeof(struct ethhdr);

	if ((void *)(arp + 8) > data_end)
		return XDP_PASS;
	arp[7] = 2;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
