/* Layer-2 responder: ARP requests (RFC 826) and IPv6 Neighbor Solicitations (RFC 4861) for VIPs
 * in l2_vips_v1, answered in place with XDP_TX behind the heartbeat gate. Owns the l2_vips_v1
 * map. l2_handle() returns an XDP action when the frame was ARP/NDP (or too short to be
 * anything), or -1 to let the caller go on (IPv4/IPv6 traffic, tagged frames). */
#ifndef EDGELB_BPF_L2_H
#define EDGELB_BPF_L2_H

#include <linux/ipv6.h>
#include <linux/icmpv6.h>

#include <edgelb/l2.h>

#include "lib/common.h"
#include "lib/vip_filter.h"

/* l2_vips_v1: (ifindex, family, VIP) → flags + request/reply counters; the announcer writes,
 * XDP reads and bumps the counters atomically. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ELB_MAX_L2_VIPS);
	__type(key, struct elb_l2_key);
	__type(value, struct elb_l2_vip);
} l2_vips_v1 SEC(".maps");

/* RFC 826 packet for Ethernet hardware and IPv4 protocol addresses. */
struct l2_arp {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__u8 spa[4];
	__u8 tha[ETH_ALEN];
	__u8 tpa[4];
} __attribute__((packed));

/* RFC 4861 4.3/4.4: NS and NA share this fixed part; options follow in 8-octet units. */
struct l2_nd {
	__u8 type;
	__u8 code;
	__sum16 csum;
	__be32 flags; /* NS: reserved; NA: R|S|O */
	__be32 target[4];
};

#define L2_ARPHRD_ETHER	  1 /* linux/if_arp.h pulls in libc headers: the three values we need */
#define L2_ARPOP_REQUEST  1
#define L2_ARPOP_REPLY	  2
#define L2_ND_NS	  135
#define L2_ND_NA	  136
#define L2_ND_OPT_SLLA	  1
#define L2_ND_OPT_TLLA	  2
#define L2_NA_F_SOLICITED 0x40000000
#define L2_NA_F_OVERRIDE  0x20000000
#define L2_NS_MAX_LEN	  256 /* ICMPv6 bytes we checksum: 24 fixed + 29 options of 8 */
#define L2_NS_MAX_OPTS	  29
#define L2_NA_LEN	  (sizeof(struct l2_nd) + 8) /* fixed part + TLLA option */

static __always_inline int l2_pass(__u32 reason, __u64 len)
{
	count(reason, len);
	return XDP_PASS;
}

/* The VIP's entry on this ifindex when both the interface and the entry say answer; *ifcp
 * gets the interface (its MAC goes into the answer). */
static __always_inline struct elb_l2_vip *l2_vip_get(struct xdp_md *ctx, __u8 family,
						     const __be32 vip[4], struct elb_iface **ifcp)
{
	struct elb_iface *ifc = iface_get(ctx);
	struct elb_l2_key key;

	*ifcp = ifc;
	if (!ifc || !(ifc->flags & ELB_IFACE_F_L2))
		return NULL;
	__builtin_memset(&key, 0, sizeof(key));
	key.ifindex = ctx->ingress_ifindex;
	key.family = family;
	key.vip.addr[0] = vip[0];
	key.vip.addr[1] = vip[1];
	key.vip.addr[2] = vip[2];
	key.vip.addr[3] = vip[3];
	struct elb_l2_vip *v = bpf_map_lookup_elem(&l2_vips_v1, &key);

	if (!v || !(v->flags & ELB_L2_F_ACTIVE))
		return NULL;
	return v;
}

/* True (and the VIP's conflict counter bumped) when vip is announced here and mac is not
 * the interface's own. */
static __always_inline int l2_conflict(struct xdp_md *ctx, __u8 family, const __be32 vip[4],
				       const __u8 *mac)
{
	struct elb_iface *ifc;
	struct elb_l2_vip *v = l2_vip_get(ctx, family, vip, &ifc);

	if (!v || !ifc)
		return 0;
	if (*(__u32 *)mac == *(__u32 *)ifc->mac && *(__u16 *)(mac + 4) == *(__u16 *)(ifc->mac + 4))
		return 0;
	__sync_fetch_and_add(&v->conflicts, 1);
	return 1;
}

static __always_inline int l2_arp(struct xdp_md *ctx, __u64 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct l2_arp *arp = (void *)(eth + 1);
	struct elb_iface *ifc;
	struct elb_l2_vip *v;
	__be32 spa, tpa, vip[4] = {};

	if ((void *)(arp + 1) > data_end)
		return l2_pass(ELB_R_PASS_TRUNCATED, len);
	/* RFC 826: only Ethernet/IPv4 with matching address lengths; a multicast sender
	 * hardware address is never a host. */
	if (arp->htype != bpf_htons(L2_ARPHRD_ETHER) || arp->ptype != bpf_htons(ETH_P_IP) ||
	    arp->hlen != ETH_ALEN || arp->plen != 4 || (arp->sha[0] & 1))
		return l2_pass(ELB_R_ARP_BAD, len);
	__builtin_memcpy(&spa, arp->spa, 4);
	__builtin_memcpy(&tpa, arp->tpa, 4);
	/* RFC 5227 2.4: any ARP packet (request, reply, gratuitous) whose sender address is a VIP
	 * we announce, from another MAC, is an address conflict: counted on the VIP, left to the
	 * kernel. A request is looked at only when the VIP bitmap has its sender: one from an
	 * ordinary host costs one array lookup. */
	if (spa &&
	    (spa == tpa || arp->op == bpf_htons(L2_ARPOP_REPLY) ||
	     vip_filter_maybe(&(struct elb_ip){.addr = {spa}}, ELB_AF_INET)) &&
	    l2_conflict(ctx, ELB_AF_INET, (__be32[4]){spa}, arp->sha))
		return l2_pass(ELB_R_ARP_CONFLICT, len);
	/* Gratuitous ARP (either form) announces the sender's own address: not a question. */
	if (spa == tpa)
		return l2_pass(ELB_R_ARP_GRATUITOUS, len);
	if (arp->op != bpf_htons(L2_ARPOP_REQUEST))
		return l2_pass(ELB_R_ARP_NOT_REQUEST, len);
	/* RFC 5227 2.1.1: a probe (sender 0.0.0.0) is left to the kernel. */
	if (spa == 0)
		return l2_pass(ELB_R_ARP_PROBE, len);
	vip[0] = tpa;
	v = l2_vip_get(ctx, ELB_AF_INET, vip, &ifc);
	if (!v)
		return l2_pass(ELB_R_ARP_NOT_VIP, len);
	__sync_fetch_and_add(&v->requests, 1);
	if (!heartbeat_ok())
		return l2_pass(ELB_R_HEARTBEAT_STALE, len);

	/* RFC 826 reply: swap sender/target, our MAC as sender hardware address. */
	__builtin_memcpy(eth->h_dest, arp->sha, ETH_ALEN);
	__builtin_memcpy(eth->h_source, ifc->mac, ETH_ALEN);
	arp->op = bpf_htons(L2_ARPOP_REPLY);
	__builtin_memcpy(arp->tha, arp->sha, ETH_ALEN);
	__builtin_memcpy(arp->tpa, &spa, 4);
	__builtin_memcpy(arp->sha, ifc->mac, ETH_ALEN);
	__builtin_memcpy(arp->spa, &tpa, 4);
	__sync_fetch_and_add(&v->replies, 1);
	count(ELB_R_ARP_REPLY, len);
	return XDP_TX;
}

static __always_inline __u64 l2_sum16(const __be32 a[4])
{
	__u64 s = 0;

	for (int i = 0; i < 4; i++)
		s += (a[i] & 0xffff) + (a[i] >> 16);
	return s;
}

/* RFC 4861 7.1.1 validation of a Neighbor Solicitation, then 7.2.4 advertisement. */
static __always_inline int l2_ndp(struct xdp_md *ctx, __u64 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct l2_nd *nd = (void *)(ip6 + 1);
	__be32 src[4], dst[4], target[4];
	__u8 smac[ETH_ALEN], mymac[ETH_ALEN];
	struct elb_iface *ifc;
	struct elb_l2_vip *v;
	__u32 plen, off = sizeof(struct l2_nd);
	__u64 sum;
	int unspec, slla = 0, i;

	if ((void *)(ip6 + 1) > data_end)
		return l2_pass(ELB_R_PASS_TRUNCATED, len);
	plen = bpf_ntohs(ip6->payload_len);
	/* Shorter than its own payload length: nothing downstream can use it either. */
	if ((void *)(ip6 + 1) + plen > data_end)
		return l2_pass(ELB_R_PASS_TRUNCATED, len);
	if (ip6->nexthdr != IPPROTO_ICMPV6 || (void *)&nd->code > data_end)
		return -1; /* other IPv6 traffic: the fast path decides */
	/* RFC 4861 7.1.2 / RFC 4862 5.4.4: an on-link advertisement for a VIP we announce, from
	 * another MAC, is an address conflict: counted on the VIP, left to the kernel. */
	if (nd->type == L2_ND_NA && (void *)(nd + 1) <= data_end && ip6->hop_limit == 255 &&
	    nd->code == 0) {
		__be32 t[4];

		__builtin_memcpy(t, nd->target, 16);
		if (l2_conflict(ctx, ELB_AF_INET6, t, eth->h_source))
			return l2_pass(ELB_R_NDP_CONFLICT, len);
	}
	if (nd->type != L2_ND_NS)
		return -1;
	if ((void *)(nd + 1) > data_end)
		return l2_pass(ELB_R_PASS_TRUNCATED, len);
	if (plen < sizeof(*nd))
		return l2_pass(ELB_R_PASS_TRUNCATED, len);
	/* hop limit 255 proves the sender is on link; options are 8-octet units */
	if (ip6->hop_limit != 255 || nd->code != 0 || plen > L2_NS_MAX_LEN || (plen & 7))
		return l2_pass(ELB_R_NDP_BAD, len);
	__builtin_memcpy(src, &ip6->saddr, 16);
	__builtin_memcpy(dst, &ip6->daddr, 16);
	__builtin_memcpy(target, nd->target, 16);
	__builtin_memcpy(smac, eth->h_source, ETH_ALEN);
	if ((bpf_ntohl(target[0]) >> 24) == 0xff) /* target must not be multicast */
		return l2_pass(ELB_R_NDP_BAD, len);

	/* ICMPv6 checksum (RFC 4443 2.3) over the pseudo-header and the whole message. */
	sum = l2_sum16(src) + l2_sum16(dst) + bpf_htons(plen) + bpf_htons(IPPROTO_ICMPV6);
	for (i = 0; i < L2_NS_MAX_LEN / 2; i++) {
		__u16 *w = (void *)nd + i * 2;

		if (i * 2 >= plen)
			break;
		if ((void *)(w + 1) > data_end)
			return l2_pass(ELB_R_PASS_TRUNCATED, len);
		sum += *w;
	}
	if (csum_fold(sum) != 0)
		return l2_pass(ELB_R_NDP_BAD, len);

	/* Options: none of length 0; note a source link-layer address. */
	for (i = 0; i < L2_NS_MAX_OPTS; i++) {
		__u8 *opt;

		if (off >= plen || off > L2_NS_MAX_LEN)
			break;
		opt = (void *)nd + off;
		if ((void *)(opt + 2) > data_end)
			return l2_pass(ELB_R_NDP_BAD, len);
		if (opt[1] == 0 || off + opt[1] * 8 > plen)
			return l2_pass(ELB_R_NDP_BAD, len);
		if (opt[0] == L2_ND_OPT_SLLA)
			slla = 1;
		off += opt[1] * 8;
	}

	unspec = !(src[0] | src[1] | src[2] | src[3]);
	/* The destination is the target's solicited-node group (ff02::1:ffXX:XXXX) or, for
	 * unicast NUD, the target itself; from :: only the solicited-node group. */
	int to_sn = dst[0] == bpf_htonl(0xff020000) && dst[1] == 0 && dst[2] == bpf_htonl(1) &&
		    (dst[3] & bpf_htonl(0xff000000)) == bpf_htonl(0xff000000) &&
		    (dst[3] & bpf_htonl(0x00ffffff)) == (target[3] & bpf_htonl(0x00ffffff));
	int to_target = dst[0] == target[0] && dst[1] == target[1] && dst[2] == target[2] &&
			dst[3] == target[3];
	if (!to_sn && !(to_target && !unspec))
		return l2_pass(ELB_R_NDP_BAD, len);
	/* RFC 4861 7.1.1: no SLLA option when the source is the unspecified address. */
	if (unspec && slla)
		return l2_pass(ELB_R_NDP_BAD, len);

	v = l2_vip_get(ctx, ELB_AF_INET6, target, &ifc);
	if (!v)
		return l2_pass(ELB_R_NDP_NOT_VIP, len);
	__sync_fetch_and_add(&v->requests, 1);
	if (!heartbeat_ok())
		return l2_pass(ELB_R_HEARTBEAT_STALE, len);
	__builtin_memcpy(mymac, ifc->mac, ETH_ALEN);

	/* Resize to Ethernet + IPv6 + NA with one TLLA option; packet pointers are reloaded. */
	int want = sizeof(*eth) + sizeof(*ip6) + L2_NA_LEN;
	if (bpf_xdp_adjust_tail(ctx, want - (int)(data_end - data)))
		return l2_pass(ELB_R_PASS_TRUNCATED, len);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	ip6 = (void *)(eth + 1);
	nd = (void *)(ip6 + 1);
	__u8 *tlla = (void *)(nd + 1);
	if ((void *)(tlla + 8) > data_end)
		return XDP_ABORTED;

	/* RFC 4861 7.2.4: from ::, S=0 and multicast to all-nodes; else S=1, unicast back. */
	if (unspec) {
		__u8 allnodes_mac[ETH_ALEN] = {0x33, 0x33, 0, 0, 0, 1};

		__builtin_memcpy(eth->h_dest, allnodes_mac, ETH_ALEN);
		dst[0] = bpf_htonl(0xff020000);
		dst[1] = 0;
		dst[2] = 0;
		dst[3] = bpf_htonl(1);
	} else {
		__builtin_memcpy(eth->h_dest, smac, ETH_ALEN);
		__builtin_memcpy(dst, src, 16);
	}
	__builtin_memcpy(eth->h_source, mymac, ETH_ALEN);
	*(__be32 *)ip6 = bpf_htonl(0x60000000);
	ip6->payload_len = bpf_htons(L2_NA_LEN);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 255;
	__builtin_memcpy(&ip6->saddr, target, 16);
	__builtin_memcpy(&ip6->daddr, dst, 16);
	nd->type = L2_ND_NA;
	nd->code = 0;
	nd->csum = 0;
	nd->flags = bpf_htonl(L2_NA_F_OVERRIDE | (unspec ? 0 : L2_NA_F_SOLICITED));
	__builtin_memcpy(nd->target, target, 16);
	tlla[0] = L2_ND_OPT_TLLA;
	tlla[1] = 1;
	__builtin_memcpy(tlla + 2, mymac, ETH_ALEN);

	sum = l2_sum16(target) + l2_sum16(dst) + bpf_htons(L2_NA_LEN) + bpf_htons(IPPROTO_ICMPV6);
	__u16 *w = (void *)nd;
#pragma unroll
	for (i = 0; i < (int)(L2_NA_LEN / 2); i++)
		sum += w[i];
	nd->csum = csum_fold(sum);

	__sync_fetch_and_add(&v->replies, 1);
	count(ELB_R_NDP_NA_SENT, len);
	return XDP_TX;
}

static __always_inline int l2_handle(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 len = data_end - data;

	if ((void *)(eth + 1) > data_end)
		return l2_pass(ELB_R_PASS_TRUNCATED, len);
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return l2_arp(ctx, len);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return l2_ndp(ctx, len);
	return -1;
}

#endif
