/* The per-CPU flow caches in front of the forward conntrack map (contract and rules in
 * include/edgelb/lb.h): ct_cache_v1 for IPv4 flows, ct_cache6_v1 for IPv6. lb_service
 * (lib/lb.h) asks ctc_set (ctc6_set) for the flow's set, ctc_find (ctc6_find) for a slot that
 * may answer, and writes the slot again with ctc_put whenever it took the conntrack path and
 * knows the next hop; lb_cache_hit looks the next hop up again when ctc_nh_due. */
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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ELB_CT_CACHE6_SETS); /* the loader sets CPUs x (mask + 1) */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct elb_ct_cache6);
} ct_cache6_v1 SEC(".maps");

/* Sets per CPU minus one (a power of two minus one), set by the loader with max_entries. */
const volatile __u32 elb_ct_cache_mask = ELB_CT_CACHE_SETS - 1;
const volatile __u32 elb_ct_cache6_mask = ELB_CT_CACHE6_SETS - 1;

/* The index of a flow's set on this CPU, in a cache of mask + 1 sets per CPU, with the
 * generation its slots must carry in *gen; -1 when the config is missing. src, dst: the
 * addresses folded to 32 bits; ports: sport and dport as they lie in the header. */
static __always_inline __s64 ctc_index(__u32 src, __u32 dst, __u32 ports, __u32 mask, __u32 *gen)
{
	__u32 zero = 0, h;
	struct elb_config *cfg = bpf_map_lookup_elem(&config_v1, &zero);

	if (!cfg)
		return -1;
	*gen = cfg->ct_gen;
	h = (src * 0x9e3779b1u ^ dst) + ports;
	h ^= h >> 15;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return bpf_get_smp_processor_id() * (mask + 1) + (h & mask);
}

/* The IPv4 flow's set on this CPU (NULL when the map was not sized for this CPU, or the config
 * is missing), and the generation its slots must carry. */
static __always_inline struct elb_ct_cache *ctc_set(__be32 src, __be32 dst, __u32 ports, __u32 *gen)
{
	__s64 i = ctc_index(src, dst, ports, elb_ct_cache_mask, gen);
	__u32 idx = (__u32)i;

	return i < 0 ? NULL : bpf_map_lookup_elem(&ct_cache_v1, &idx);
}

static __always_inline __u32 ctc_fold(const struct elb_ip *a)
{
	return a->addr[0] ^ a->addr[1] ^ a->addr[2] ^ a->addr[3];
}

/* The same for an IPv6 flow. */
static __always_inline struct elb_ct_cache6 *
ctc6_set(const struct elb_ip *src, const struct elb_ip *dst, __u32 ports, __u32 *gen)
{
	__s64 i = ctc_index(ctc_fold(src), ctc_fold(dst), ports, elb_ct_cache6_mask, gen);
	__u32 idx = (__u32)i;

	return i < 0 ? NULL : bpf_map_lookup_elem(&ct_cache6_v1, &idx);
}

static __always_inline int ctc_match(const struct elb_ct_cache_slot *s, __be32 src, __be32 dst,
				     __u32 ports, __u8 proto)
{
	return s->src == src && s->dst == dst && *(const __u32 *)&s->sport == ports &&
	       s->flow.proto == proto;
}

static __always_inline int ctc6_match(const struct elb_ct_cache6_slot *s, const struct elb_ip *src,
				      const struct elb_ip *dst, __u32 ports, __u8 proto)
{
	return s->src.addr[0] == src->addr[0] && s->src.addr[1] == src->addr[1] &&
	       s->src.addr[2] == src->addr[2] && s->src.addr[3] == src->addr[3] &&
	       s->dst.addr[0] == dst->addr[0] && s->dst.addr[1] == dst->addr[1] &&
	       s->dst.addr[2] == dst->addr[2] && s->dst.addr[3] == dst->addr[3] &&
	       *(const __u32 *)&s->sport == ports && s->flow.proto == proto;
}

/* Whether a slot whose key matched may answer now for a packet that arrived on `in`. */
static __always_inline int ctc_live(const struct elb_ct_cache_flow *f, __u32 gen, __u64 now,
				    __u32 in)
{
	return now < f->until && f->gen == gen && f->in_ifindex == in;
}

/* Whether a slot holds no live flow: one a new flow may take. */
static __always_inline int ctc_free(const struct elb_ct_cache_flow *f, __u32 gen, __u64 now)
{
	return f->until <= now || f->gen != gen;
}

/* The slot of the IPv4 flow that may answer now, or NULL. ports: sport and dport as they lie
 * in the header (one 32-bit load). */
static __always_inline struct elb_ct_cache_slot *ctc_find(struct elb_ct_cache *set, __be32 src,
							  __be32 dst, __u32 ports, __u8 proto,
							  __u32 gen, __u64 now, __u32 in)
{
	for (int i = 0; i < ELB_CT_CACHE_WAYS; i++) {
		struct elb_ct_cache_slot *s = &set->way[i];

		if (ctc_match(s, src, dst, ports, proto) && ctc_live(&s->flow, gen, now, in))
			return s;
	}
	return NULL;
}

/* The same for an IPv6 flow. */
static __always_inline struct elb_ct_cache6_slot *
ctc6_find(struct elb_ct_cache6 *set, const struct elb_ip *src, const struct elb_ip *dst,
	  __u32 ports, __u8 proto, __u32 gen, __u64 now, __u32 in)
{
	for (int i = 0; i < ELB_CT_CACHE_WAYS; i++) {
		struct elb_ct_cache6_slot *s = &set->way[i];

		if (ctc6_match(s, src, dst, ports, proto) && ctc_live(&s->flow, gen, now, in))
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
static __always_inline int ctc_nh_due(const struct elb_ct_cache_flow *f, __u64 now)
{
	return (__s32)(f->nh_until - ctc_nh_clock(now)) <= 0;
}

/* A next hop looked up at `at` (conntrack clock), into the slot: good for ELB_CT_REFRESH_NS. */
static __always_inline void ctc_nh_set(struct elb_ct_cache_flow *f, __u32 ifindex, const __u8 *dmac,
				       const __u8 *smac, __u64 at)
{
	f->out_ifindex = ifindex;
	__builtin_memcpy(f->dmac, dmac, ETH_ALEN);
	__builtin_memcpy(f->smac, smac, ETH_ALEN);
	f->nh_until = ctc_nh_clock(at + ELB_CT_REFRESH_NS);
}

/* A slot's flow from its forward entry ct (whose next hop is valid). */
static __always_inline void ctc_flow_set(struct elb_ct_cache_flow *f, const struct elb_ct_key *k,
					 const struct elb_ct *ct, __u32 gen, __u32 in)
{
	f->until = ct->seen_ns + ELB_CT_CACHE_HOLD_NS;
	f->proto = k->proto;
	f->state = ct->state;
	f->nat_port = ct->nat_port;
	f->xport = ct->xport;
	f->gen = gen;
	f->svc_id = ct->svc_id;
	f->backend_id = (__u16)ct->backend_id;
	f->in_ifindex = in;
	/* the entry's next hop was looked up when seen_ns was last written */
	ctc_nh_set(f, ct->nh_out_ifindex, ct->nh_dmac, ct->nh_smac, ct->seen_ns);
}

/* Which way of its set a flow takes, given as bit masks the ways that hold it (own) and those
 * no live flow holds (free): its own if it has one, else a free one; -1 when the set is full of
 * live flows. They keep their slots: evicting would let flows that share a set take turns
 * missing. */
static __always_inline int ctc_pick(__u32 own, __u32 free)
{
	__u32 m = own ? own : free;

	for (int i = 0; i < ELB_CT_CACHE_WAYS; i++)
		if (m & (1u << i))
			return i;
	return -1;
}

/* Writes the IPv4 flow's slot in its set from its forward entry ct (whose next hop is valid). */
static __noinline void ctc_put4(struct elb_ct_cache *set, const struct elb_ct_key *k,
				const struct elb_ct *ct, __u32 gen, __u32 in)
{
	struct elb_ct_cache_slot *s = set->way;
	__u32 ports = *(const __u32 *)&k->sport; /* sport, dport: as in the header */
	__u32 own = 0, free = 0;
	__u64 now = ct_now();
	int i, w;

	for (i = 0; i < ELB_CT_CACHE_WAYS; i++) {
		own |= ctc_match(&s[i], k->src.addr[0], k->dst.addr[0], ports, k->proto) << i;
		free |= ctc_free(&s[i].flow, gen, now) << i;
	}
	w = ctc_pick(own, free);
	if (w < 0 || w >= ELB_CT_CACHE_WAYS)
		return;
	s[w].src = k->src.addr[0];
	s[w].dst = k->dst.addr[0];
	*(__u32 *)&s[w].sport = ports;
	s[w].nat = ct->nat.addr[0];
	ctc_flow_set(&s[w].flow, k, ct, gen, in);
}

/* The same for an IPv6 flow. */
static __noinline void ctc_put6(struct elb_ct_cache6 *set, const struct elb_ct_key *k,
				const struct elb_ct *ct, __u32 gen, __u32 in)
{
	struct elb_ct_cache6_slot *s = set->way;
	__u32 ports = *(const __u32 *)&k->sport;
	__u32 own = 0, free = 0;
	__u64 now = ct_now();
	int i, w;

	for (i = 0; i < ELB_CT_CACHE_WAYS; i++) {
		own |= ctc6_match(&s[i], &k->src, &k->dst, ports, k->proto) << i;
		free |= ctc_free(&s[i].flow, gen, now) << i;
	}
	w = ctc_pick(own, free);
	if (w < 0 || w >= ELB_CT_CACHE_WAYS)
		return;
	s[w].src = k->src;
	s[w].dst = k->dst;
	*(__u32 *)&s[w].sport = ports;
	s[w].nat = ct->nat;
	ctc_flow_set(&s[w].flow, k, ct, gen, in);
}

/* Writes the flow's slot in the cache of its family: set4 from ctc_set, or set6 from ctc6_set,
 * the other NULL (two pointers, not one: a subprogram's verifier must know which map its
 * pointer is in). */
static __always_inline void ctc_put(struct elb_ct_cache *set4, struct elb_ct_cache6 *set6,
				    const struct elb_ct_key *k, const struct elb_ct *ct, __u32 gen,
				    __u32 in)
{
	if (set4)
		ctc_put4(set4, k, ct, gen, in);
	else if (set6)
		ctc_put6(set6, k, ct, gen, in);
}

#endif
