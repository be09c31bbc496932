/* The per-CPU flow caches in front of the forward conntrack map (contract and rules in
 * include/edgelb/lb.h): ct_cache_v2 for IPv4 flows, ct_cache6_v2 for IPv6, and ct_cache_be_v1
 * for what their slots share per backend. lb_service (lib/lb.h) asks ctc_set (ctc6_set) for the
 * flow's set, ctc_find (ctc6_find) for a slot that may answer and ctc_be for its backend entry,
 * and writes both again with ctc_put whenever it took the conntrack path and knows the next
 * hop; lb_cache_hit looks the next hop up again when ctc_nh_due. */
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
} ct_cache_v2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ELB_CT_CACHE6_SETS); /* the loader sets CPUs x (mask + 1) */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct elb_ct_cache6);
} ct_cache6_v2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ELB_CT_CACHE_BES);
	__type(key, __u32);
	__type(value, struct elb_ct_cache_be);
} ct_cache_be_v1 SEC(".maps");

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

	return i < 0 ? NULL : bpf_map_lookup_elem(&ct_cache_v2, &idx);
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

	return i < 0 ? NULL : bpf_map_lookup_elem(&ct_cache6_v2, &idx);
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

/* Whether a slot holds a live flow (one that may answer now if its key matches). */
static __always_inline int ctc_live(const struct elb_ct_cache_flow *f, __u32 gen, __u64 now)
{
	return now < f->until && f->gen == (__u16)gen;
}

/* The flow of the IPv4 flow's slot if it may answer now, or NULL. ports: sport and dport as
 * they lie in the header (one 32-bit load). */
static __always_inline struct elb_ct_cache_flow *ctc_find(struct elb_ct_cache *set, __be32 src,
							  __be32 dst, __u32 ports, __u8 proto,
							  __u32 gen, __u64 now)
{
	for (int i = 0; i < ELB_CT_CACHE_WAYS; i++) {
		struct elb_ct_cache_slot *s = &set->way[i];

		if (ctc_match(s, src, dst, ports, proto) && ctc_live(&s->flow, gen, now))
			return &s->flow;
	}
	return NULL;
}

/* The same for an IPv6 flow. */
static __always_inline struct elb_ct_cache_flow *ctc6_find(struct elb_ct_cache6 *set,
							   const struct elb_ip *src,
							   const struct elb_ip *dst, __u32 ports,
							   __u8 proto, __u32 gen, __u64 now)
{
	for (int i = 0; i < ELB_CT_CACHE_WAYS; i++) {
		struct elb_ct_cache6_slot *s = &set->way[i];

		if (ctc6_match(s, src, dst, ports, proto) && ctc_live(&s->flow, gen, now))
			return &s->flow;
	}
	return NULL;
}

/* This CPU's entry of backend id in ct_cache_be_v1, whoever holds it (NULL: none). */
static __always_inline struct elb_ct_cache_be *ctc_be_entry(__u32 id)
{
	__u32 i = id % ELB_CT_CACHE_BES;

	return bpf_map_lookup_elem(&ct_cache_be_v1, &i);
}

/* The entry a slot of backend id may answer with under generation gen, or NULL. */
static __always_inline struct elb_ct_cache_be *ctc_be(__u32 id, __u32 gen)
{
	struct elb_ct_cache_be *e = ctc_be_entry(id);

	return e && e->backend_id == id && e->gen == gen ? e : NULL;
}

/* The clock of nh_until: the conntrack clock in units of 1024 ns, low 32 bits. */
static __always_inline __u32 ctc_nh_clock(__u64 ns)
{
	return (__u32)(ns >> 10);
}

/* Whether the backend's next hop is to be looked up again for a packet that arrived on `in`. */
static __always_inline int ctc_nh_due(const struct elb_ct_cache_be *e, __u64 now, __u32 in)
{
	return (__s32)(e->nh_until - ctc_nh_clock(now)) <= 0 || e->in_ifindex != in;
}

/* A next hop looked up at `at` (conntrack clock) for packets arriving on `in`, into the backend
 * entry: good for ELB_CT_REFRESH_NS. */
static __always_inline void ctc_nh_set(struct elb_ct_cache_be *e, __u32 ifindex, const __u8 *dmac,
				       const __u8 *smac, __u64 at, __u32 in)
{
	e->in_ifindex = in;
	e->out_ifindex = ifindex;
	__builtin_memcpy(e->dmac, dmac, ETH_ALEN);
	__builtin_memcpy(e->smac, smac, ETH_ALEN);
	e->nh_until = ctc_nh_clock(at + ELB_CT_REFRESH_NS);
}

/* A slot's flow from its forward entry ct. */
static __always_inline void ctc_flow_set(struct elb_ct_cache_flow *f, const struct elb_ct_key *k,
					 const struct elb_ct *ct, __u32 gen)
{
	f->until = ct->seen_ns + ELB_CT_CACHE_HOLD_NS;
	f->proto = k->proto;
	f->state = ct->state;
	f->backend_id = (__u16)ct->backend_id;
	f->gen = (__u16)gen;
	f->xport = ct->xport;
}

/* The slot a flow takes in its set, in ctc_put4 and ctc_put6: its own if it has one, else the
 * first that holds no live flow; none when the set is full of live flows, which keep their
 * slots (evicting would let flows that share a set take turns missing). Two passes that stop
 * at the first slot, so the verifier walks each way once per pass. */

/* Writes the IPv4 flow's slot in its set from its forward entry ct. */
static __noinline void ctc_put4(struct elb_ct_cache *set, const struct elb_ct_key *k,
				const struct elb_ct *ct, __u32 gen)
{
	__u32 ports = *(const __u32 *)&k->sport; /* sport, dport: as in the header */
	struct elb_ct_cache_slot *t = NULL;
	__u64 now = ct_now();
	int i;

	for (i = 0; i < ELB_CT_CACHE_WAYS && !t; i++)
		if (ctc_match(&set->way[i], k->src.addr[0], k->dst.addr[0], ports, k->proto))
			t = &set->way[i];
	for (i = 0; i < ELB_CT_CACHE_WAYS && !t; i++)
		if (!ctc_live(&set->way[i].flow, gen, now))
			t = &set->way[i];
	if (!t)
		return;
	t->src = k->src.addr[0];
	t->dst = k->dst.addr[0];
	*(__u32 *)&t->sport = ports;
	ctc_flow_set(&t->flow, k, ct, gen);
}

/* The same for an IPv6 flow. */
static __noinline void ctc_put6(struct elb_ct_cache6 *set, const struct elb_ct_key *k,
				const struct elb_ct *ct, __u32 gen)
{
	__u32 ports = *(const __u32 *)&k->sport;
	struct elb_ct_cache6_slot *t = NULL;
	__u64 now = ct_now();
	int i;

	for (i = 0; i < ELB_CT_CACHE_WAYS && !t; i++)
		if (ctc6_match(&set->way[i], &k->src, &k->dst, ports, k->proto))
			t = &set->way[i];
	for (i = 0; i < ELB_CT_CACHE_WAYS && !t; i++)
		if (!ctc_live(&set->way[i].flow, gen, now))
			t = &set->way[i];
	if (!t)
		return;
	t->src = k->src;
	t->dst = k->dst;
	*(__u32 *)&t->sport = ports;
	ctc_flow_set(&t->flow, k, ct, gen);
}

/* Writes the backend entry of forward entry ct (whose next hop, looked up for packets arriving
 * on `in`, is valid): 0, or -1 when there is no entry to write. */
static __always_inline int ctc_be_put(const struct elb_ct *ct, __u32 gen, __u32 in)
{
	struct elb_ct_cache_be *e = ctc_be_entry(ct->backend_id);

	if (!e)
		return -1;
	e->nat = ct->nat;
	e->nat_port = ct->nat_port;
	e->backend_id = (__u16)ct->backend_id;
	e->gen = gen;
	e->svc_id = ct->svc_id;
	/* the entry's next hop was looked up when seen_ns was last written */
	ctc_nh_set(e, ct->nh_out_ifindex, ct->nh_dmac, ct->nh_smac, ct->seen_ns, in);
	return 0;
}

/* Writes the flow's slot and its backend entry from its forward entry ct (whose next hop, looked
 * up for packets arriving on `in`, is valid), in the cache of its family: set4 from ctc_set, or
 * set6 from ctc6_set, the other NULL (two pointers, not one: a subprogram's verifier must know
 * which map its pointer is in). */
static __always_inline void ctc_put(struct elb_ct_cache *set4, struct elb_ct_cache6 *set6,
				    const struct elb_ct_key *k, const struct elb_ct *ct, __u32 gen,
				    __u32 in)
{
	if (ctc_be_put(ct, gen, in))
		return;
	if (set4)
		ctc_put4(set4, k, ct, gen);
	else if (set6)
		ctc_put6(set6, k, ct, gen);
}

#endif
