/* Service fast path: VIP:port → conntrack → Maglev → DNAT → forward, ICMP echo for VIPs and
 * ICMP errors about service flows (outer and quoted headers). Owns the load-balancer maps
 * (contracts in include/edgelb/lb.h); also included by tc_revnat.bpf.c for the maps, the
 * parser and the checksum helpers. lb_handle() returns an XDP action when the packet was IP
 * (to a VIP or counted as not), or -1 when it was not IP.
 * Non-VIP traffic is told apart by one array lookup (vip_filter_v1, a bitmap of VIP hashes);
 * TCP/UDP to a VIP asks the flow cache (lib/ct_cache.h), then conntrack, before any
 * service lookup, so a hit costs one array lookup or one hash lookup.
 * Decisions: fragments to a VIP are dropped (counted lb_fragment; later fragments carry no
 * ports, so no fragment could be steered consistently); a VIP on a port or protocol it does not
 * serve is dropped (lb_no_port), since the VIP is not a local address and the kernel would
 * route it back out; packets with TTL <= 1 are DNATed and passed so the kernel sends Time
 * Exceeded (translated back on the return path). */
#ifndef EDGELB_BPF_LB_H
#define EDGELB_BPF_LB_H

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>

#include <edgelb/lb.h>

#include "lib/common.h"
#include "lib/ct_cache.h"
#include "lib/vip_filter.h"

/* linux/icmp.h pulls in libc headers: the RFC 792 types we need */
#define ICMP_ECHOREPLY	     0
#define ICMP_DEST_UNREACH    3
#define ICMP_ECHO	     8
#define ICMP_TIME_EXCEEDED   11
#define ICMP_PARAMETERPROB   12

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* services_v1: (VIP, port, proto, family) → elb_svc; agent writes, XDP reads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * ELB_MAX_SERVICES);
	__type(key, struct elb_svc_key);
	__type(value, struct elb_svc);
} services_v1 SEC(".maps");

/* backends_v1: backend id → elb_backend; agent writes, XDP reads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ELB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct elb_backend);
} backends_v1 SEC(".maps");

/* maglev_v1: service id → whole table of backend ids; agent swaps, XDP reads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ELB_MAX_SERVICES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct elb_maglev);
} maglev_v1 SEC(".maps");

/* ct_fwd_v2 / ct_reply_v2: forward and reply 5-tuples → NAT target; XDP and tc write, agent
 * reads. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ELB_MAX_CT_FLOWS);
	__type(key, struct elb_ct_key);
	__type(value, struct elb_ct);
} ct_fwd_v2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ELB_MAX_CT_FLOWS);
	__type(key, struct elb_ct_key);
	__type(value, struct elb_ct);
} ct_reply_v2 SEC(".maps");

/* svc_stats_v1 / be_stats_v1: id → per-CPU packets, bytes, flows; XDP writes, agent sums. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ELB_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct elb_lb_counter);
} svc_stats_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ELB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct elb_lb_counter);
} be_stats_v1 SEC(".maps");

#define LB_IP6_MAX_EXT 6 /* extension headers walked before giving up (passed as truncated) */
#define LB_OFF_MASK    0x3ff

/* ---- checksums (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')), on raw 16-bit words ---- */

static __always_inline __u32 lb_diff16(__u32 acc, __u16 from, __u16 to)
{
	return acc + (__u16)~from + to;
}

static __always_inline __u32 lb_diff32(__u32 acc, __u32 from, __u32 to)
{
	acc = lb_diff16(acc, from & 0xffff, to & 0xffff);
	return lb_diff16(acc, from >> 16, to >> 16);
}

static __always_inline __u32 lb_diff_ip(__u32 acc, const struct elb_ip *from,
					const struct elb_ip *to, int family)
{
	acc = lb_diff32(acc, from->addr[0], to->addr[0]);
	if (family == ELB_AF_INET6) {
		acc = lb_diff32(acc, from->addr[1], to->addr[1]);
		acc = lb_diff32(acc, from->addr[2], to->addr[2]);
		acc = lb_diff32(acc, from->addr[3], to->addr[3]);
	}
	return acc;
}

static __always_inline __u16 lb_fold(__u32 c)
{
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	return (__u16)c;
}

/* Applies an accumulated difference to a checksum field. */
static __always_inline __u16 lb_csum_apply(__u16 sum, __u32 acc)
{
	return (__u16)~lb_fold((__u16)~sum + lb_fold(acc));
}

/* RFC 768: a zero UDP checksum (IPv4) means none; a computed zero is sent as 0xffff. */
static __always_inline __u16 lb_udp_apply(__u16 sum, __u32 acc)
{
	sum = lb_csum_apply(sum, acc);
	return sum ? sum : 0xffff;
}

/* ---- parser ---- */

struct lb_pkt {
	__u32 l3_off; /* offset of the IP header */
	__u32 l4_off; /* offset of the L4 header */
	__u16 l3_len; /* IPv4 total length / IPv6 payload length + 40, from the header */
	__u8 family;
	__u8 proto;
	__u8 frag;
	__u8 vlan;
	__u8 ttl;
	__u8 pad;
	struct elb_ip src;
	struct elb_ip dst;
};

enum { LB_P_OK = 0, LB_P_NOT_IP = 1, LB_P_TRUNC = 2 };

static __always_inline void lb_ip_load(struct elb_ip *dst, const void *p, int family)
{
	const __be32 *w = p;
	__u64 *d = (__u64 *)dst;

	if (family == ELB_AF_INET6) {
		dst->addr[0] = w[0];
		dst->addr[1] = w[1];
		dst->addr[2] = w[2];
		dst->addr[3] = w[3];
		return;
	}
	/* IPv4 in two 8-byte stores: the conntrack key copies the address 8 bytes at a time, and
	 * a load that spans two smaller stores cannot be forwarded from them (a stall) */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	d[0] = w[0];
#else
	d[0] = (__u64)w[0] << 32;
#endif
	d[1] = 0;
}

static __always_inline void lb_ip_store(void *p, const struct elb_ip *src, int family)
{
	__be32 *w = p;

	w[0] = src->addr[0];
	if (family == ELB_AF_INET6) {
		w[1] = src->addr[1];
		w[2] = src->addr[2];
		w[3] = src->addr[3];
	}
}

static __always_inline int lb_ip_eq(const struct elb_ip *a, const struct elb_ip *b)
{
	return a->addr[0] == b->addr[0] && a->addr[1] == b->addr[1] &&
	       a->addr[2] == b->addr[2] && a->addr[3] == b->addr[3];
}

/* IPv4 header at off: fills family..dst and l4_off. */
static __always_inline int lb_parse_ip4(void *data, void *data_end, __u32 off, struct lb_pkt *p)
{
	struct iphdr *ip = data + (off & LB_OFF_MASK);
	__u32 hl;

	if ((void *)(ip + 1) > data_end)
		return LB_P_TRUNC;
	hl = ip->ihl * 4;
	if (ip->version != 4 || hl < sizeof(*ip))
		return LB_P_TRUNC;
	if ((void *)ip + hl > data_end)
		return LB_P_TRUNC; /* options cut short */
	p->family = ELB_AF_INET;
	p->proto = ip->protocol;
	p->frag = (ip->frag_off & bpf_htons(0x3fff)) != 0; /* MF or offset */
	p->ttl = ip->ttl;
	p->l3_len = bpf_ntohs(ip->tot_len);
	p->l3_off = off;
	p->l4_off = off + hl;
	lb_ip_load(&p->src, &ip->saddr, ELB_AF_INET);
	lb_ip_load(&p->dst, &ip->daddr, ELB_AF_INET);
	return LB_P_OK;
}

/* IPv6 header at off, then extension headers (RFC 8200 4.1) up to LB_IP6_MAX_EXT. */
static __always_inline int lb_parse_ip6(void *data, void *data_end, __u32 off, struct lb_pkt *p)
{
	struct ipv6hdr *ip6 = data + (off & LB_OFF_MASK);
	__u32 l4;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return LB_P_TRUNC;
	if (ip6->version != 6)
		return LB_P_TRUNC;
	p->family = ELB_AF_INET6;
	p->frag = 0;
	p->ttl = ip6->hop_limit;
	p->l3_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	p->l3_off = off;
	lb_ip_load(&p->src, &ip6->saddr, ELB_AF_INET6);
	lb_ip_load(&p->dst, &ip6->daddr, ELB_AF_INET6);
	nh = ip6->nexthdr;
	l4 = off + sizeof(*ip6);
#pragma unroll
	for (i = 0; i < LB_IP6_MAX_EXT; i++) {
		__u8 *eh = data + (l4 & LB_OFF_MASK);

		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS &&
		    nh != IPPROTO_FRAGMENT)
			break;
		if ((void *)(eh + 8) > data_end)
			return LB_P_TRUNC;
		if (nh == IPPROTO_FRAGMENT) {
			/* RFC 8200 4.5: offset 0 and M=0 is an atomic fragment, still whole */
			if ((eh[2] << 8 | eh[3]) != 0)
				p->frag = 1;
			nh = eh[0];
			l4 += 8;
			continue;
		}
		nh = eh[0];
		l4 += (eh[1] + 1) * 8;
	}
	if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	    nh == IPPROTO_FRAGMENT)
		return LB_P_TRUNC; /* deeper than we walk */
	p->proto = nh;
	p->l4_off = l4 & LB_OFF_MASK;
	return LB_P_OK;
}

/* Ethernet, one optional 802.1Q/802.1ad tag, IPv4 or IPv6. */
static __always_inline int lb_parse(void *data, void *data_end, struct lb_pkt *p)
{
	struct ethhdr *eth = data;
	__be16 proto;
	__u32 off = sizeof(*eth);

	if ((void *)(eth + 1) > data_end)
		return LB_P_TRUNC;
	proto = eth->h_proto;
	p->vlan = 0;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		__be16 *inner = data + sizeof(*eth) + 2;

		if ((void *)(inner + 1) > data_end)
			return LB_P_TRUNC;
		proto = *inner;
		off += 4;
		p->vlan = 1;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return lb_parse_ip4(data, data_end, off, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return lb_parse_ip6(data, data_end, off, p);
	return LB_P_NOT_IP;
}

/* ---- conntrack ---- */

static __always_inline __u64 lb_ct_life(__u8 state)
{
	switch (state) {
	case ELB_CT_SYN:
		return ELB_CT_LIFE_SYN_NS;
	case ELB_CT_EST:
		return ELB_CT_LIFE_EST_NS;
	case ELB_CT_CLOSING:
		return ELB_CT_LIFE_CLOSING_NS;
	default:
		return ELB_CT_LIFE_UDP_NS;
	}
}

static __always_inline int lb_ct_live(const struct elb_ct *ct, __u64 now)
{
	return now - ct->seen_ns <= lb_ct_life(ct->state);
}

/* A reply entry lives one refresh window longer than its state's lifetime (lb_service writes
 * it at least once per window in which its forward entry is refreshed). */
static __always_inline int lb_ct_reply_live(const struct elb_ct *ct, __u64 now)
{
	return now - ct->seen_ns <= lb_ct_life(ct->state) + (1ULL << ELB_CT_REPLY_WINDOW_SHIFT);
}

/* TCP flags (byte 13 of the header) → the state a packet moves a flow to. */
#define LB_TCP_FIN 0x01
#define LB_TCP_SYN 0x02
#define LB_TCP_RST 0x04
#define LB_TCP_ACK 0x10

static __always_inline __u8 lb_ct_next(__u8 state, __u8 proto, __u8 flags)
{
	if (proto != IPPROTO_TCP)
		return ELB_CT_UDP;
	if (flags & (LB_TCP_FIN | LB_TCP_RST))
		return ELB_CT_CLOSING;
	if ((flags & (LB_TCP_SYN | LB_TCP_ACK)) == LB_TCP_SYN)
		return ELB_CT_SYN; /* a new connection (or a reuse of a closing tuple) */
	if (flags & LB_TCP_ACK)
		return state == ELB_CT_CLOSING ? ELB_CT_CLOSING : ELB_CT_EST;
	return state;
}

static __always_inline void lb_ct_touch(struct elb_ct *ct, __u8 next, __u64 now)
{
	if (ct->state != next || now - ct->seen_ns > ELB_CT_REFRESH_NS) {
		ct->state = next;
		ct->seen_ns = now;
	}
}

static __always_inline __u32 lb_rotl(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static __always_inline __u32 lb_mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51;
	k = lb_rotl(k, 15);
	k *= 0x1b873593;
	h ^= k;
	h = lb_rotl(h, 13);
	return h * 5 + 0xe6546b64;
}

_Static_assert(__builtin_offsetof(struct elb_ct_key, dst) == 16, "elb_ct_key: dst after src");

/* MurmurHash3-style hash of the 5-tuple with the agent's seed (same on every node). */
static __always_inline __u32 lb_flow_hash(const struct elb_ct_key *k, __u32 seed)
{
	const __u32 *w = (const __u32 *)k; /* src then dst: eight words */
	__u32 h = seed;
	int i;

	/* a loop, not eight inlined rounds: unrolled, the rounds' products are computed side by
	 * side and spilled, and the frame grows past the verifier's stack budget */
#pragma clang loop unroll(disable)
	for (i = 0; i < 8; i++)
		h = lb_mix(h, w[i]);
	h = lb_mix(h, (__u32)k->sport << 16 | k->dport);
	h = lb_mix(h, k->proto);
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

static __always_inline void lb_count_id(void *map, __u32 id, __u64 bytes, int new_flow)
{
	struct elb_lb_counter *c = bpf_map_lookup_elem(map, &id);

	if (c) {
		c->packets++;
		c->bytes += bytes;
		if (new_flow)
			c->flows++;
	}
}

/* A conntrack hit is only honoured while its backend still exists with the same address. */
static __always_inline struct elb_backend *lb_backend_of(const struct elb_ct *ct)
{
	__u32 id = ct->backend_id;
	struct elb_backend *be = bpf_map_lookup_elem(&backends_v1, &id);

	if (!be || be->port != ct->nat_port || !lb_ip_eq(&be->addr, &ct->nat))
		return NULL;
	return be;
}

/* The flow's hash with the agent's seed: its Maglev slot, and where a translated client port
 * is first looked for. */
static __always_inline __u32 lb_flow_hash_seeded(const struct elb_ct_key *k)
{
	__u32 zero = 0;
	struct elb_config *cfg = bpf_map_lookup_elem(&config_v1, &zero);

	return lb_flow_hash(k, cfg ? cfg->maglev_seed : 0);
}

static __always_inline struct elb_backend *lb_maglev_pick(const struct elb_svc *svc, __u32 hash,
							  __u32 *be_id)
{
	__u32 sid = svc->id, idx;
	struct elb_maglev *tbl = bpf_map_lookup_elem(&maglev_v1, &sid);

	if (!tbl)
		return NULL;
	idx = hash % ELB_MAGLEV_SIZE;
	/* the verifier does not track the range of a modulo; hide it from clang too */
	asm volatile("" : "+r"(idx));
	if (idx >= ELB_MAGLEV_SIZE)
		return NULL;
	*be_id = tbl->backend[idx];
	return bpf_map_lookup_elem(&backends_v1, be_id);
}

/* The reply entry's key of a flow: backend:port → client:cport, cport being the client port
 * as the backend sees it (translated or not). */
static __always_inline void lb_reply_key(struct elb_ct_key *rk, const struct elb_ct_key *fk,
					 const struct elb_ip *be, __be16 be_port, __be16 cport)
{
	__builtin_memset(rk, 0, sizeof(*rk));
	rk->src = *be;
	rk->sport = be_port;
	rk->dst = fk->src;
	rk->dport = cport;
	rk->proto = fk->proto;
	rk->family = fk->family;
	rk->dir = ELB_CT_REPLY;
}

/* The client port of a flow as its backend sees it. */
static __always_inline __be16 lb_seen_port(const struct elb_ct_key *fk, const struct elb_ct *fct)
{
	return fct->xport ? fct->xport : fk->sport;
}

/* Writes the reply entry of a flow: backend → client maps back to VIP:port (and to the
 * client's own port when it was translated). */
static __noinline void lb_ct_put_reply(const struct elb_ct_key *fk, const struct elb_ct *fct,
					    __be16 vport)
{
	struct elb_ct_key rk;
	struct elb_ct rv;

	lb_reply_key(&rk, fk, &fct->nat, fct->nat_port, lb_seen_port(fk, fct));
	__builtin_memset(&rv, 0, sizeof(rv));
	rv.seen_ns = fct->seen_ns;
	rv.nat = fk->dst;
	rv.nat_port = vport;
	rv.xport = fct->xport ? fk->sport : 0;
	rv.state = fct->state;
	rv.backend_id = fct->backend_id;
	rv.svc_id = fct->svc_id;
	bpf_map_update_elem(&ct_reply_v2, &rk, &rv, BPF_ANY);
}

/* Whether the reply tuple backend:port → client:cport is a live entry of another flow than
 * fk (another VIP:port, or another client port translated to cport). */
static __noinline int lb_reply_taken(const struct elb_ct_key *fk, const struct elb_ip *be,
				     __be16 be_port, __be16 cport, __u64 now)
{
	struct elb_ct_key rk;
	struct elb_ct *r;

	lb_reply_key(&rk, fk, be, be_port, cport);
	r = bpf_map_lookup_elem(&ct_reply_v2, &rk);
	if (!r || !lb_ct_reply_live(r, now))
		return 0;
	return !lb_ip_eq(&r->nat, &fk->dst) || r->nat_port != fk->dport ||
	       (r->xport ? r->xport : cport) != fk->sport;
}

/* Ports tried for a translated client port, and the range they come from (above the
 * well-known ports, like the kernel's own source-port translation). */
#define LB_XPORT_TRIES 32
#define LB_XPORT_MIN   1024
#define LB_XPORT_SPAN  (65536 - LB_XPORT_MIN)

/* The client port a new flow (fk, its forward entry fct filled but for xport) reaches its
 * backend with. Replies are found by backend:port → client:port, so when the client's
 * address and port already reach the same backend address and port through another VIP:port
 * (a service's ports to one backend port, or two VIPs sharing a backend), the new flow's port
 * is translated, as netfilter does on such a clash: candidates start at the flow's hash h (the
 * same flow finds its own port again) and the first whose reply tuple is free is taken into
 * fct->xport (left 0 when the port is kept). Returns -1 when every candidate is taken. */
static __noinline int lb_pick_port(const struct elb_ct_key *fk, struct elb_ct *fct, __u32 h)
{
	__u32 i;

	fct->xport = 0;
	if (!lb_reply_taken(fk, &fct->nat, fct->nat_port, fk->sport, fct->seen_ns))
		return 0;
	for (i = 0; i < LB_XPORT_TRIES; i++) {
		__be16 cand = bpf_htons(LB_XPORT_MIN + (h + i * 40503u) % LB_XPORT_SPAN);

		if (cand != fk->sport &&
		    !lb_reply_taken(fk, &fct->nat, fct->nat_port, cand, fct->seen_ns)) {
			fct->xport = cand;
			return 0;
		}
	}
	return -1;
}

/* ---- forwarding ---- */

/* RFC 1812 5.3.1: decrement TTL with an incremental checksum update. */
static __always_inline void lb_ttl_dec(void *l3, int family)
{
	if (family == ELB_AF_INET) {
		struct iphdr *ip = l3;
		__u16 old = *(__u16 *)&ip->ttl;

		ip->ttl--;
		ip->check = lb_csum_apply(ip->check, lb_diff16(0, old, *(__u16 *)&ip->ttl));
	} else {
		((struct ipv6hdr *)l3)->hop_limit--;
	}
}

struct lb_nh {
	__u32 ifindex;
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN];
};

/* FIB lookup toward the (rewritten) destination. Returns -1 with nh filled when the packet can
 * be sent by XDP, else the action (counted): XDP_PASS when the kernel must act (neighbour to
 * resolve, local backend, TTL about to expire, MTU), XDP_DROP when no route. */
static __noinline int lb_fib(struct xdp_md *ctx, struct lb_pkt *p, struct lb_nh *nh, __u64 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	void *l3 = data + (p->l3_off & LB_OFF_MASK);
	struct bpf_fib_lookup fib;
	int rc;

	if (p->ttl <= 1) { /* the kernel sends Time Exceeded */
		count(ELB_R_LB_PASS_NEIGH, len);
		return XDP_PASS;
	}
	__builtin_memset(&fib, 0, sizeof(fib));
	fib.ifindex = ctx->ingress_ifindex;
	fib.l4_protocol = p->proto;
	if (p->family == ELB_AF_INET) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > data_end)
			return XDP_ABORTED;
		fib.family = AF_INET;
		fib.tos = ip->tos;
		fib.tot_len = bpf_ntohs(ip->tot_len);
		fib.ipv4_src = ip->saddr;
		fib.ipv4_dst = ip->daddr;
	} else {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_ABORTED;
		fib.family = AF_INET6;
		fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
		fib.tot_len = bpf_ntohs(ip6->payload_len);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, 16);
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		nh->ifindex = fib.ifindex;
		__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
		__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
		return -1;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
		count(ELB_R_LB_FIB_FAIL, len);
		return XDP_DROP;
	default: /* NO_NEIGH, NOT_FWDED (local backend), FRAG_NEEDED, ...: the kernel knows */
		count(ELB_R_LB_PASS_NEIGH, len);
		return XDP_PASS;
	}
}

/* Sends the packet to the next hop: TTL, MACs (a VLAN tag is dropped toward another
 * interface: the MACs move up 4 bytes onto it), XDP_TX or redirect. */
static __always_inline int lb_xmit(struct xdp_md *ctx, struct lb_pkt *p, const struct lb_nh *nh,
				   __u64 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	void *l3 = data + (p->l3_off & LB_OFF_MASK);
	struct ethhdr *eth = data;

	if (p->ttl <= 1) {
		count(ELB_R_LB_PASS_NEIGH, len);
		return XDP_PASS;
	}
	if ((void *)(eth + 1) > data_end ||
	    l3 + (p->family == ELB_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr)) >
		    data_end)
		return XDP_ABORTED;
	lb_ttl_dec(l3, p->family);
	if (p->vlan && nh->ifindex != ctx->ingress_ifindex) {
		struct ethhdr *e2 = data + 4;

		if ((void *)(e2 + 1) > data_end)
			return XDP_ABORTED;
		__builtin_memcpy(e2->h_dest, nh->dmac, ETH_ALEN);
		__builtin_memcpy(e2->h_source, nh->smac, ETH_ALEN);
		if (bpf_xdp_adjust_head(ctx, 4))
			return XDP_ABORTED;
	} else {
		__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
		__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	}
	count(ELB_R_LB_FORWARD, len);
	if (nh->ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(nh->ifindex, 0);
}

static __always_inline int lb_forward(struct xdp_md *ctx, struct lb_pkt *p, __u64 len)
{
	struct lb_nh nh;
	int act = lb_fib(ctx, p, &nh, len);

	if (act >= 0)
		return act;
	return lb_xmit(ctx, p, &nh, len);
}

/* ---- DNAT of TCP/UDP ---- */

/* Rewrites the destination of the packet at p to (addr, port), and its source port to sport
 * when that is not 0 (a translated client port), checksums incrementally. */
static __always_inline int lb_dnat(void *data, void *data_end, struct lb_pkt *p,
				   const struct elb_ip *addr, __be16 port, __be16 sport)
{
	void *l3 = data + (p->l3_off & LB_OFF_MASK);
	void *l4 = data + (p->l4_off & LB_OFF_MASK);
	__u32 acc = 0;
	__be16 *dport;
	__u16 *csum;

	if (l4 + 8 > data_end)
		return -1;
	dport = l4 + 2;
	acc = lb_diff_ip(acc, &p->dst, addr, p->family);
	acc = lb_diff16(acc, *dport, port);
	if (sport) {
		acc = lb_diff16(acc, *(__be16 *)l4, sport);
		*(__be16 *)l4 = sport;
	}
	if (p->family == ELB_AF_INET) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > data_end)
			return -1;
		ip->check = lb_csum_apply(ip->check, lb_diff32(0, ip->daddr, addr->addr[0]));
		ip->daddr = addr->addr[0];
	} else {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		lb_ip_store(&ip6->daddr, addr, ELB_AF_INET6);
	}
	*dport = port;
	if (p->proto == IPPROTO_TCP) {
		if (l4 + sizeof(struct tcphdr) > data_end)
			return -1;
		csum = &((struct tcphdr *)l4)->check;
		*csum = lb_csum_apply(*csum, acc);
	} else {
		csum = &((struct udphdr *)l4)->check;
		if (*csum || p->family == ELB_AF_INET6)
			*csum = lb_udp_apply(*csum, acc);
	}
	p->dst = *addr;
	return 0;
}

static __always_inline int lb_drop(__u32 reason, __u64 len)
{
	count(reason, len);
	return XDP_DROP;
}

static __always_inline void lb_nh_save(struct elb_ct *ct, const struct lb_nh *nh, __u32 in)
{
	ct->nh_in_ifindex = in;
	ct->nh_out_ifindex = nh->ifindex;
	__builtin_memcpy(ct->nh_dmac, nh->dmac, ETH_ALEN);
	__builtin_memcpy(ct->nh_smac, nh->smac, ETH_ALEN);
	ct->nh_ok = 1;
}

/* A conntrack miss: the service of k's VIP:port, its backend from the Maglev table and the
 * client port toward it, into nct (seen_ns and state already set). Returns ELB_R_LB_CT_MISS
 * for a new flow, else the reason of the verdict: ELB_R_LB_NOT_SERVICE (not a VIP after all:
 * passed) or a drop reason. Out of line: the hot path (a conntrack hit) keeps a small frame. */
static __noinline int lb_new_flow(const struct elb_ct_key *k, struct elb_ct *nct)
{
	struct elb_svc_key sk;
	struct elb_svc *svc;
	struct elb_backend *be;
	__u32 hash, be_id = 0;

	__builtin_memset(&sk, 0, sizeof(sk));
	sk.vip = k->dst;
	sk.family = k->family;
	sk.proto = k->proto;
	sk.port = k->dport;
	svc = bpf_map_lookup_elem(&services_v1, &sk);
	if (!svc) {
		/* a VIP on a port it does not serve, or a filter collision: not a VIP */
		sk.proto = 0;
		sk.port = 0;
		if (!bpf_map_lookup_elem(&services_v1, &sk))
			return ELB_R_LB_NOT_SERVICE;
		return ELB_R_LB_NO_PORT;
	}
	if (svc->n_backends == 0)
		return ELB_R_LB_NO_BACKEND;
	hash = lb_flow_hash_seeded(k);
	be = lb_maglev_pick(svc, hash, &be_id);
	if (!be)
		return ELB_R_LB_NO_BACKEND;
	nct->nat = be->addr;
	nct->nat_port = be->port;
	nct->backend_id = be_id;
	nct->svc_id = svc->id;
	if (lb_pick_port(k, nct, hash))
		return ELB_R_LB_REPLY_CLASH;
	return ELB_R_LB_CT_MISS;
}

/* A flow-cache hit (lib/ct_cache.h): what a conntrack hit does, for the slot's flow f, to its
 * backend entry's address, with the entry's next hop, or a new one when the entry's is due
 * (kept when the lookup does not give one: the verdict is the lookup's, and the next packet
 * asks again). */
static __always_inline int lb_cache_hit(struct xdp_md *ctx, struct lb_pkt *p,
					const struct elb_ct_cache_flow *f,
					struct elb_ct_cache_be *be, __u64 len, __u64 now, __u32 in)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct lb_nh nh;
	int act;

	count(ELB_R_LB_CT_HIT, len);
	lb_count_id(&svc_stats_v1, be->svc_id, len, 0);
	lb_count_id(&be_stats_v1, f->backend_id, len, 0);
	if (lb_dnat(data, data_end, p, &be->nat, be->nat_port, f->xport))
		return lb_drop(ELB_R_LB_BAD_L4, len);
	if (ctc_nh_due(be, now, in)) {
		act = lb_fib(ctx, p, &nh, len);
		if (act >= 0)
			return act;
		ctc_nh_set(be, nh.ifindex, nh.dmac, nh.smac, now, in);
	} else {
		nh.ifindex = be->out_ifindex;
		__builtin_memcpy(nh.dmac, be->dmac, ETH_ALEN);
		__builtin_memcpy(nh.smac, be->smac, ETH_ALEN);
	}
	return lb_xmit(ctx, p, &nh, len);
}

static __always_inline int lb_service(struct xdp_md *ctx, struct lb_pkt *p, __u64 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *l4 = data + (p->l4_off & LB_OFF_MASK);
	struct elb_ct_key k;
	struct elb_ct *ct;
	struct elb_ct nct;
	struct lb_nh nh;
	__u64 now = ct_now();
	struct elb_ct_cache *set4 = NULL; /* the flow's set in the flow cache of its family */
	struct elb_ct_cache6 *set6 = NULL;
	const struct elb_ct_cache_flow *f = NULL; /* the flow's slot, if it may answer */
	__u32 be_id = 0, svc_id = 0, in = ctx->ingress_ifindex, gen = 0, ports;
	__u8 flags = 0, next;
	int new_flow = 0, cached = 0, hit = 0, act, r;
	struct elb_ip addr;
	__be16 vport, port, xport = 0;

	if (p->proto == IPPROTO_TCP) {
		if (l4 + sizeof(struct tcphdr) > (__u8 *)data_end)
			return lb_drop(ELB_R_LB_BAD_L4, len);
		flags = l4[13];
	} else if (l4 + sizeof(struct udphdr) > (__u8 *)data_end) {
		return lb_drop(ELB_R_LB_BAD_L4, len);
	}
	vport = *(__be16 *)(l4 + 2);
	ports = *(__u32 *)l4;
	if (p->family == ELB_AF_INET) {
		set4 = ctc_set(p->src.addr[0], p->dst.addr[0], ports, &gen);
		if (set4)
			f = ctc_find(set4, p->src.addr[0], p->dst.addr[0], ports, p->proto, gen,
				     now);
	} else {
		set6 = ctc6_set(&p->src, &p->dst, ports, &gen);
		if (set6)
			f = ctc6_find(set6, &p->src, &p->dst, ports, p->proto, gen, now);
	}
	if (f && lb_ct_next(f->state, p->proto, flags) == f->state) {
		struct elb_ct_cache_be *be = ctc_be(f->backend_id, gen);

		if (be)
			return lb_cache_hit(ctx, p, f, be, len, now, in);
	}
	/* Conntrack first: a live entry exists only for a served (VIP, port, proto), and the
	 * agent purges the entries of a service port it removes, so a hit needs no service
	 * lookup (one hash lookup less per packet). */
	__builtin_memset(&k, 0, sizeof(k));
	k.src = p->src;
	k.dst = p->dst;
	k.sport = *(__be16 *)l4;
	k.dport = vport;
	k.proto = p->proto;
	k.family = p->family;
	k.dir = ELB_CT_FORWARD;
	next = lb_ct_next(ELB_CT_SYN, p->proto, flags);
	ct = bpf_map_lookup_elem(&ct_fwd_v2, &k);
	/* A hit is honoured without looking the backend up: the agent keeps a backend that left
	 * the config (as terminating) while live entries use it, and deletes it only when none
	 * does, so a live entry's backend always exists. */
	if (ct && lb_ct_live(ct, now)) {
		hit = 1;
		svc_id = ct->svc_id;
		addr = ct->nat;
		port = ct->nat_port;
		xport = ct->xport;
		{
			__u64 before = ct->seen_ns;
			__u8 was = ct->state;

			be_id = ct->backend_id;
			next = lb_ct_next(was, p->proto, flags);
			lb_ct_touch(ct, next, now);
			if (ct->seen_ns != before) { /* refresh: next hop, reply entry when due */
				if (ct->state != was || (before >> ELB_CT_REPLY_WINDOW_SHIFT) !=
							     (now >> ELB_CT_REPLY_WINDOW_SHIFT))
					lb_ct_put_reply(&k, ct, vport);
				ct->nh_ok = 0;
			} else if (ct->nh_ok && ct->nh_in_ifindex == in) {
				nh.ifindex = ct->nh_out_ifindex;
				__builtin_memcpy(nh.dmac, ct->nh_dmac, ETH_ALEN);
				__builtin_memcpy(nh.smac, ct->nh_smac, ETH_ALEN);
				cached = 1;
			}
			count(ELB_R_LB_CT_HIT, len);
		}
	}
	if (!hit) {
		__builtin_memset(&nct, 0, sizeof(nct));
		nct.seen_ns = now;
		nct.state = next;
		r = lb_new_flow(&k, &nct);
		if (r == ELB_R_LB_NOT_SERVICE) {
			count(r, len);
			return XDP_PASS;
		}
		if (r != ELB_R_LB_CT_MISS)
			return lb_drop(r, len);
		if (nct.xport)
			count(ELB_R_LB_PORT_XLATE, len);
		count(ELB_R_LB_CT_MISS, len);
		svc_id = nct.svc_id;
		be_id = nct.backend_id;
		addr = nct.nat;
		port = nct.nat_port;
		xport = nct.xport;
		new_flow = 1;
	}
	lb_count_id(&svc_stats_v1, svc_id, len, new_flow);
	lb_count_id(&be_stats_v1, be_id, len, new_flow);
	if (lb_dnat(data, data_end, p, &addr, port, xport))
		return lb_drop(ELB_R_LB_BAD_L4, len);
	if (cached) {
		ctc_put(set4, set6, &k, ct, gen, in);
		return lb_xmit(ctx, p, &nh, len);
	}
	act = lb_fib(ctx, p, &nh, len);
	if (new_flow) {
		if (act < 0)
			lb_nh_save(&nct, &nh, in);
		r = bpf_map_update_elem(&ct_fwd_v2, &k, &nct, BPF_ANY);
		lb_ct_put_reply(&k, &nct, vport);
		if (act < 0 && r == 0)
			ctc_put(set4, set6, &k, &nct, gen, in);
	} else if (act < 0) {
		lb_nh_save(ct, &nh, in);
		ctc_put(set4, set6, &k, ct, gen, in);
	}
	if (act >= 0)
		return act;
	return lb_xmit(ctx, p, &nh, len);
}

/* ---- ICMP ---- */

/* RFC 792 / RFC 4443: echo request to a VIP answered in place (addresses and MACs swapped). */
static __always_inline int lb_echo(struct xdp_md *ctx, struct lb_pkt *p, __u64 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *l3 = data + (p->l3_off & LB_OFF_MASK);
	__u8 *l4 = data + (p->l4_off & LB_OFF_MASK);
	__u8 mac[ETH_ALEN];
	__u16 *csum, old;

	if ((void *)(eth + 1) > data_end || l4 + 8 > (__u8 *)data_end)
		return lb_drop(ELB_R_LB_BAD_L4, len);
	csum = (__u16 *)(l4 + 2);
	old = *(__u16 *)l4;
	l4[0] = p->family == ELB_AF_INET ? ICMP_ECHOREPLY : ICMPV6_ECHO_REPLY;
	/* swapping source and destination leaves the ICMPv6 pseudo-header sum unchanged */
	*csum = lb_csum_apply(*csum, lb_diff16(0, old, *(__u16 *)l4));
	if (p->family == ELB_AF_INET) {
		struct iphdr *ip = l3;
		__u16 ottl;

		if ((void *)(ip + 1) > data_end)
			return XDP_ABORTED;
		ottl = *(__u16 *)&ip->ttl;
		ip->ttl = 64;
		ip->check = lb_csum_apply(ip->check, lb_diff16(0, ottl, *(__u16 *)&ip->ttl));
		ip->saddr = p->dst.addr[0];
		ip->daddr = p->src.addr[0];
	} else {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_ABORTED;
		ip6->hop_limit = 64;
		lb_ip_store(&ip6->saddr, &p->dst, ELB_AF_INET6);
		lb_ip_store(&ip6->daddr, &p->src, ELB_AF_INET6);
	}
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	count(ELB_R_LB_ICMP_ECHO, len);
	return XDP_TX;
}

/* The header quoted in an ICMP error (RFC 792: IP header + 8 bytes; RFC 4443: as much as fits).
 * Fills q with its offsets and addresses; 0 when it is a TCP/UDP header we can translate. */
static __always_inline int lb_quoted(void *data, void *data_end, struct lb_pkt *p,
				     struct lb_pkt *q)
{
	__u32 off = p->l4_off + 8;

	if (p->family == ELB_AF_INET) {
		if (lb_parse_ip4(data, data_end, off, q))
			return -1;
	} else {
		struct ipv6hdr *ip6 = data + (off & LB_OFF_MASK);

		/* no extension headers in quoted packets: services see plain TCP/UDP */
		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return -1;
		q->family = ELB_AF_INET6;
		q->proto = ip6->nexthdr;
		q->l3_off = off;
		q->l4_off = off + sizeof(*ip6);
		lb_ip_load(&q->src, &ip6->saddr, ELB_AF_INET6);
		lb_ip_load(&q->dst, &ip6->daddr, ELB_AF_INET6);
	}
	if (q->proto != IPPROTO_TCP && q->proto != IPPROTO_UDP)
		return -1;
	if (data + (q->l4_off & LB_OFF_MASK) + 8 > data_end)
		return -1;
	return 0;
}

/* Rewrites one side (src when quoted_src, else dst) of the quoted header to (addr, port), the
 * other side's port to other_port when that is not 0 (a translated client port), the outer
 * address (outer_src ? source : destination) when it equals `match`, and every checksum
 * involved: quoted IPv4 header, quoted L4 (when its field is inside the packet), outer IPv4
 * header, ICMP (which covers the quoted bytes, and for ICMPv6 the outer pseudo-header).
 * Shared by the XDP path (client side) and tc_revnat (backend side). */
static __always_inline int lb_icmp_rewrite(void *data, void *data_end, struct lb_pkt *p,
					   struct lb_pkt *q, int quoted_src, int outer_src,
					   const struct elb_ip *match, const struct elb_ip *addr,
					   __be16 port, __be16 other_port)
{
	void *l3 = data + (p->l3_off & LB_OFF_MASK);
	__u8 *icmp = data + (p->l4_off & LB_OFF_MASK);
	void *ql3 = data + (q->l3_off & LB_OFF_MASK);
	__u8 *ql4 = data + (q->l4_off & LB_OFF_MASK);
	const struct elb_ip *old = quoted_src ? &q->src : &q->dst;
	__u32 icmp_acc = 0, l4_acc = 0;
	__be16 *qport, *qother;
	__u16 *qcsum = NULL;

	if (icmp + 8 > (__u8 *)data_end || ql4 + 8 > (__u8 *)data_end)
		return -1;
	qport = (__be16 *)(ql4 + (quoted_src ? 0 : 2));
	qother = (__be16 *)(ql4 + (quoted_src ? 2 : 0));

	/* quoted L4 checksum: UDP's is in the 8 quoted bytes; TCP's only if more was quoted */
	if (q->proto == IPPROTO_UDP) {
		qcsum = (__u16 *)(ql4 + 6);
		if (*qcsum == 0 && q->family == ELB_AF_INET)
			qcsum = NULL;
	} else if (ql4 + 18 <= (__u8 *)data_end) {
		qcsum = (__u16 *)(ql4 + 16);
	}
	l4_acc = lb_diff_ip(0, old, addr, q->family);
	l4_acc = lb_diff16(l4_acc, *qport, port);
	if (other_port) {
		l4_acc = lb_diff16(l4_acc, *qother, other_port);
		*qother = other_port;
	}
	icmp_acc = l4_acc; /* the address and port words are quoted bytes too */
	if (qcsum) {
		__u16 o = *qcsum, n;

		n = q->proto == IPPROTO_UDP ? lb_udp_apply(o, l4_acc) : lb_csum_apply(o, l4_acc);
		*qcsum = n;
		icmp_acc = lb_diff16(icmp_acc, o, n);
	}
	*qport = port;
	if (q->family == ELB_AF_INET) {
		struct iphdr *qip = ql3;
		__u16 o, n;

		if ((void *)(qip + 1) > data_end)
			return -1;
		o = qip->check;
		n = lb_csum_apply(o, lb_diff32(0, old->addr[0], addr->addr[0]));
		qip->check = n;
		icmp_acc = lb_diff16(icmp_acc, o, n);
		if (quoted_src)
			qip->saddr = addr->addr[0];
		else
			qip->daddr = addr->addr[0];
	} else {
		struct ipv6hdr *qip6 = ql3;

		if ((void *)(qip6 + 1) > data_end)
			return -1;
		if (quoted_src)
			lb_ip_store(&qip6->saddr, addr, ELB_AF_INET6);
		else
			lb_ip_store(&qip6->daddr, addr, ELB_AF_INET6);
	}
	/* outer address */
	{
		struct elb_ip *outer = outer_src ? &p->src : &p->dst;

		if (lb_ip_eq(outer, match)) {
			if (p->family == ELB_AF_INET) {
				struct iphdr *ip = l3;

				if ((void *)(ip + 1) > data_end)
					return -1;
				ip->check = lb_csum_apply(ip->check,
							  lb_diff32(0, outer->addr[0], addr->addr[0]));
				if (outer_src)
					ip->saddr = addr->addr[0];
				else
					ip->daddr = addr->addr[0];
			} else {
				struct ipv6hdr *ip6 = l3;

				if ((void *)(ip6 + 1) > data_end)
					return -1;
				/* RFC 4443 2.3: the ICMPv6 sum covers the pseudo-header */
				icmp_acc = lb_diff_ip(icmp_acc, outer, addr, ELB_AF_INET6);
				if (outer_src)
					lb_ip_store(&ip6->saddr, addr, ELB_AF_INET6);
				else
					lb_ip_store(&ip6->daddr, addr, ELB_AF_INET6);
			}
			*outer = *addr;
		}
	}
	*(__u16 *)(icmp + 2) = lb_csum_apply(*(__u16 *)(icmp + 2), icmp_acc);
	return 0;
}

static __always_inline int lb_icmp_is_error(__u8 family, __u8 type)
{
	if (family == ELB_AF_INET) /* RFC 792: unreachable (incl. frag needed), time exceeded, param */
		return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
		       type == ICMP_PARAMETERPROB;
	/* RFC 4443: 1..4 (packet too big is 2) */
	return type >= ICMPV6_DEST_UNREACH && type <= ICMPV6_PARAMPROB;
}

/* ICMP to a VIP: echo (when the service allows it) or an error about one of our replies, whose
 * quoted header is VIP:port → client: sent on to the backend as backend:port → client. */
static __always_inline int lb_icmp(struct xdp_md *ctx, struct lb_pkt *p, struct elb_svc *vip,
				   __u64 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *icmp = data + (p->l4_off & LB_OFF_MASK);
	struct lb_pkt q;
	struct elb_ct_key k;
	struct elb_ct *ct;
	__u8 type;

	if (icmp + 8 > (__u8 *)data_end)
		return lb_drop(ELB_R_LB_BAD_L4, len);
	type = icmp[0];
	if ((p->family == ELB_AF_INET && type == ICMP_ECHO) ||
	    (p->family == ELB_AF_INET6 && type == ICMPV6_ECHO_REQUEST)) {
		if (!(vip->flags & ELB_SVC_F_ICMP_ECHO))
			return lb_drop(ELB_R_LB_ICMP_UNKNOWN, len);
		return lb_echo(ctx, p, len);
	}
	if (!lb_icmp_is_error(p->family, type))
		return lb_drop(ELB_R_LB_ICMP_UNKNOWN, len);
	__builtin_memset(&q, 0, sizeof(q));
	if (lb_quoted(data, data_end, p, &q) || !lb_ip_eq(&q.src, &p->dst))
		return lb_drop(ELB_R_LB_ICMP_UNKNOWN, len);
	{
		__u8 *ql4 = data + (q.l4_off & LB_OFF_MASK);

		if (ql4 + 4 > (__u8 *)data_end)
			return lb_drop(ELB_R_LB_ICMP_UNKNOWN, len);
		__builtin_memset(&k, 0, sizeof(k));
		k.src = q.dst; /* the client */
		k.dst = q.src; /* the VIP */
		k.sport = *(__be16 *)(ql4 + 2);
		k.dport = *(__be16 *)ql4;
	}
	k.proto = q.proto;
	k.family = q.family;
	k.dir = ELB_CT_FORWARD;
	ct = bpf_map_lookup_elem(&ct_fwd_v2, &k);
	if (!ct || !lb_backend_of(ct))
		return lb_drop(ELB_R_LB_ICMP_UNKNOWN, len);
	{
		struct elb_ip vipaddr = p->dst, nat = ct->nat;
		__be16 nport = ct->nat_port, xport = ct->xport;

		if (lb_icmp_rewrite(data, data_end, p, &q, 1, 0, &vipaddr, &nat, nport, xport))
			return lb_drop(ELB_R_LB_ICMP_UNKNOWN, len);
	}
	count(ELB_R_LB_ICMP_XLATE, len);
	p->proto = p->family == ELB_AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	return lb_forward(ctx, p, len);
}

static __always_inline int lb_handle(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	struct elb_svc_key vk;
	struct elb_svc *vip;
	struct lb_pkt p;
	int r;

	__builtin_memset(&p, 0, sizeof(p));
	r = lb_parse(data, data_end, &p);
	if (r == LB_P_NOT_IP)
		return -1;
	if (r != LB_P_OK) {
		count(ELB_R_PASS_TRUNCATED, len);
		return XDP_PASS;
	}
	/* one array lookup (the VIP bitmap) decides for nearly all non-VIP traffic */
	if (!vip_filter_maybe(&p.dst, p.family)) {
		count(ELB_R_LB_NOT_SERVICE, len);
		return XDP_PASS;
	}
	/* TCP/UDP: conntrack first (lb_service); the VIP entry only on a miss */
	if (!p.frag && (p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP))
		return lb_service(ctx, &p, len);
	__builtin_memset(&vk, 0, sizeof(vk));
	vk.vip = p.dst;
	vk.family = p.family;
	vip = bpf_map_lookup_elem(&services_v1, &vk);
	if (!vip) {
		count(ELB_R_LB_NOT_SERVICE, len);
		return XDP_PASS;
	}
	if (p.frag)
		return lb_drop(ELB_R_LB_FRAGMENT, len);
	if ((p.family == ELB_AF_INET && p.proto == IPPROTO_ICMP) ||
	    (p.family == ELB_AF_INET6 && p.proto == IPPROTO_ICMPV6))
		return lb_icmp(ctx, &p, vip, len);
	return lb_drop(ELB_R_LB_UNKNOWN_PROTO, len);
}

#endif
