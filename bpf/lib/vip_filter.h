/* vip_filter_v1: the bitmap of every service IP the agent has assigned (hash → bit, contract
 * in include/edgelb/lb.h); the agent writes it, XDP reads it first. A clear bit means "not a
 * VIP" for one array lookup: non-service traffic (lib/lb.h) and ARP senders checked for
 * address conflicts (lib/l2.h) skip the hash lookups. A set bit may be a collision. */
#ifndef EDGELB_BPF_VIP_FILTER_H
#define EDGELB_BPF_VIP_FILTER_H

#include <edgelb/lb.h>

#include "lib/common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ELB_VIP_FILTER_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} vip_filter_v1 SEC(".maps");

/* 0 when ip is certainly no VIP. */
static __always_inline int vip_filter_maybe(const struct elb_ip *ip, __u8 family)
{
	__u32 h = elb_vip_filter_hash(ip, family), w = h >> 6;
	__u64 *bits = bpf_map_lookup_elem(&vip_filter_v1, &w);

	return bits && (*bits & (1ULL << (h & 63)));
}

#endif
