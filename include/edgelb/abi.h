/* The kernel/user contract of edgelb: limits and common types shared by bpf/, agent/ and tests/.
 * Every struct that crosses into a BPF map lives under include/edgelb/, padding named,
 * sizes pinned with _Static_assert: a silent layout change corrupts pinned maps.
 * Bump ELB_ABI_VERSION (and the _vN suffix of map names) on any layout change. */
#ifndef EDGELB_ABI_H
#define EDGELB_ABI_H

#include <linux/types.h>

#define ELB_ABI_VERSION 1

/* Address families as stored in maps (values of AF_INET/AF_INET6 on Linux). */
#define ELB_AF_INET  2
#define ELB_AF_INET6 10

/* An IPv4 or IPv6 address in network byte order; IPv4 uses addr[0], the rest is zero. */
struct elb_ip {
	__be32 addr[4];
};
_Static_assert(sizeof(struct elb_ip) == 16, "elb_ip layout");

#define ELB_MAX_IFACES	   64
#define ELB_MAX_L2_VIPS	   131072 /* room for 100,000 services on one switch */
#define ELB_MAX_SERVICES   131072
#define ELB_MAX_BACKENDS   65536
#define ELB_MAGLEV_SIZE	   16381 /* prime; table of backend ids per service */
/* Every node must hash a flow alike for Maglev to pick the same backend everywhere: the flow
 * hash seed is a constant of the layout, not a per-node random. */
#define ELB_MAGLEV_SEED	   0x454c4231u /* "ELB1" */
/* Flows in conntrack: entries in each of ct_fwd_v2 and ct_reply_v2 (the kernel's default
 * nf_conntrack_max). One map per direction keeps the forward map's bucket array (4 MiB) small
 * enough to stay in cache: a hit among 64,512 flows cost 205 ns with both directions in one
 * map of 1,048,576 entries. */
#define ELB_MAX_CT_FLOWS   262144

/* Heartbeat bound default: the responder goes silent when the agent is quiet this long. */
#define ELB_HEARTBEAT_MAX_NS (3ULL * 1000 * 1000 * 1000)

#endif
