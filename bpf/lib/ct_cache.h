/* The per-CPU flow cache in front of the forward conntrack map (contract and rules in
 * include/edgelb/lb.h, ct_cache_v1): IPv4 flows only. lb_service (lib/lb.h) asks ctc_set for
 * the flow's set, ctc_find for a slot that may answer, and writes the slot again with ctc_put
 * whenever it took the conntrack path and knows the next hop; lb_cache_hit looks the next hop
 * up again when ctc_nh_due. */
#ifndef EDGELB_BPF_CT_CACHE_H
#define EDGELB_BPF_CT_CACHE_H

#include <edgelb/lb.h>

#include "lib/common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ELB_CT_CACHE_SETS); /* the loader sets CPUs x (mask + 1) */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct elb_ct_cache);
} ct_cache_v1 SEC(".maps");

/* Sets per CPU minus one (a power of two minus one), set by the loader with max_entries. */
const volatile __u32 elb_ct_cache_mask = ELB_CT_CACHE_SETS - 1;

/* The IPv4 flow's set on this CPU, and the generation its slots must carry (NULL when the map
 * was not sized for this CPU, or the config is missing). */
static __always_inline struct elb_ct_cache *ctc_set(__be32 src, __be32 dst, __be16 sport,
						    __be16 dport, __u32 *gen)
{
	__u32 zero = 0, h, idx;
	struct elb_config *cfg = bpf_map_lookup_elem(&config_v1, &zero);

	if (!cfg)
		return NULL;
	*gen = cfg->ct_gen;
	h = (src * 0x9e3779b1u ^ dst) + ((__u32)sport << 16 | dport);
	h ^= h >> 15;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	idx = bpf_get_smp_processor_id() * (elb_ct_cache_mask + 1) + (h & elb_ct_cache_mask);
	return bpf_map_lookup_elem(&ct_cache_v1, &idx);
}

static __always_inline int ctc_match(const struct elb_ct_cache_slot *s, __be32 src, __be32 dst,
				     __u32 ports, __u8 proto)
{
	return s->src == src && s->dst == dst && *(const __u32 *)&s->sport == ports &&
	       s->proto == proto;
}

/* The slot of the flow that may answer now, or NULL. ports: sport and dport as they lie in
 * the header (one 32-bit load). */
static __always_inline struct elb_ct_cache_slot *ctc_find(struct elb_ct_cache *set, __be32 src,
							  __be32 dst, __u32 ports, __u8 proto,
							  __u32 gen, __u64 now, __u32 in)
{
	for (int i = 0; i < ELB_CT_CACHE_WAYS; i++) {
		struct elb_ct_cache_slot *s = &set->way[i];

		if (ctc_match(s, src, dst, ports, proto) && now < s->until && s->gen == gen &&
		    s->in_ifindex == in)
			return s;
	}
	return NULL;
}

/* The clock of nh_until: the conntrack clock in units of 1024 ns, low 32 bits. */
static __always_inline __u32 ctc_nh_clock(__u64 ns)
{
	return (__u32)(ns >> 10);
}

/* Whether the slot's next hop is due to be looked up again. */
static __always_inline int ctc_nh_due(const struct elb_ct_cache_slot *s, __u64 now)
{
	return (__s32)(s->nh_until - ctc_nh_clock(now)) <= 0;
}

/* A next hop looked up at `at` (conntrack clock), into the slot: good for ELB_CT_REFRESH_NS. */
static __always_inline void ctc_nh_set(struct elb_ct_cache_slot *s, __u32 ifindex, const __u8 *dmac,
				       const __u8 *smac, __u64 at)
{
	s->out_ifindex = ifindex;
	__builtin_memcpy(s->dmac, dmac, ETH_ALEN);
	__builtin_memcpy(s->smac, smac, ETH_ALEN);
	s->nh_until = ctc_nh_clock(at + ELB_CT_REFRESH_NS);
}

/* Writes the flow's slot from its forward entry ct (whose next hop is valid): the flow's own
 * slot if it has one, else a slot no live flow holds. A set full of live flows keeps them:
 * evicting would let flows that share a set take turns missing. */
static __noinline void ctc_put(struct elb_ct_cache *set, const struct elb_ct_key *k,
			       const struct elb_ct *ct, __u32 gen, __u32 in)
{
	struct elb_ct_cache_slot *s = NULL;
	__u32 ports = *(const __u32 *)&k->sport; /* sport, dport: as in the header */
	__u64 now = ct_now();
	int i;

	if (!set)
		return;
	for (i = 0; i < ELB_CT_CACHE_WAYS; i++)
		if (ctc_match(&set->way[i], k->src.addr[0], k->dst.addr[0], ports, k->proto)) {
			s = &set->way[i];
			break;
		}
	for (i = 0; !s && i < ELB_CT_CACHE_WAYS; i++)
		if (set->way[i].until <= now || set->way[i].gen != gen)
			s = &set->way[i];
	if (!s)
		return;
	s->until = ct->seen_ns + ELB_CT_CACHE_HOLD_NS;
	s->src = k->src.addr[0];
	s->dst = k->dst.addr[0];
	s->sport = k->sport;
	s->dport = k->dport;
	s->proto = k->proto;
	s->state = ct->state;
	s->nat_port = ct->nat_port;
	s->nat = ct->nat.addr[0];
	s->xport = ct->xport;
	s->gen = gen;
	s->svc_id = ct->svc_id;
	s->backend_id = (__u16)ct->backend_id;
	s->in_ifindex = in;
	/* the entry's next hop was looked up when seen_ns was last written */
	ctc_nh_set(s, ct->nh_out_ifindex, ct->nh_dmac, ct->nh_smac, ct->seen_ns);
}

#endif
