// SPDX-License-Identifier: GPL-2.0
/* tc_revnat: the return path of the service fast path, on tc egress of the compute port.
 * Why tc egress rather than XDP on the backend side: replies from every backend (pods on veths,
 * local or routed) leave through the compute port, so one attach point per compute interface
 * sees them all after the kernel routed them; and the skb checksum helpers keep TCP/UDP sums
 * right when the backend's stack left them partial (veth tx offload), which XDP cannot see.
 * Replies (backend:port → client) found in ct_reply_v2 get their source rewritten to
 * VIP:port, and the client's own port back when it was translated; ICMP errors about forwarded
 * packets (quoted client → backend:port, e.g. Packet Too Big from a router behind the node, or
 * the kernel's own Frag Needed) get the quoted destination, and the outer source when it is the
 * backend, rewritten to the VIP (and the quoted client port put back likewise).
 * Everything else goes out untouched (TC_ACT_OK). Maps are shared with xdp_ingress. */
#include <linux/pkt_cls.h>

#include "lib/common.h"
#include "lib/lb.h"

#ifndef offsetof
#define offsetof(t, m) __builtin_offsetof(t, m)
#endif
#define RN_PULL 256 /* bytes made linear so the headers (and quoted headers) are direct */

static __always_inline int rn_tcpudp(struct __sk_buff *skb, struct lb_pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u8 *l4 = data + (p->l4_off & LB_OFF_MASK);
	__u32 csum_off, l3_off = p->l3_off & LB_OFF_MASK, l4_off = p->l4_off & LB_OFF_MASK;
	__u64 flags_m = 0;
	struct elb_ct_key k;
	struct elb_ct *ct;
	__be16 old_port, new_port, cport;
	struct elb_ip nat;
	__u8 tflags = 0;

	if (l4 + 8 > (__u8 *)data_end)
		return TC_ACT_OK;
	if (p->proto == IPPROTO_TCP) {
		if (l4 + sizeof(struct tcphdr) > (__u8 *)data_end)
			return TC_ACT_OK;
		tflags = l4[13];
		csum_off = l4_off + 16;
	} else {
		csum_off = l4_off + 6;
		flags_m = BPF_F_MARK_MANGLED_0;
	}
	__builtin_memset(&k, 0, sizeof(k));
	k.src = p->src;
	k.dst = p->dst;
	k.sport = *(__be16 *)l4;
	k.dport = *(__be16 *)(l4 + 2);
	k.proto = p->proto;
	k.family = p->family;
	k.dir = ELB_CT_REPLY;
	ct = bpf_map_lookup_elem(&ct_reply_v2, &k);
	if (!ct)
		return TC_ACT_OK;
	{
		__u64 now = ct_now();
		__u8 next = lb_ct_next(ct->state, p->proto, tflags);

		if (!lb_ct_reply_live(ct, now))
			return TC_ACT_OK;
		if ((tflags & (LB_TCP_SYN | LB_TCP_ACK)) == (LB_TCP_SYN | LB_TCP_ACK))
			next = ELB_CT_EST; /* SYN-ACK */
		lb_ct_touch(ct, next, now);
	}
	nat = ct->nat;
	new_port = ct->nat_port;
	old_port = k.sport;
	cport = ct->xport;

	if (p->family == ELB_AF_INET) {
		__u32 ip_check = l3_off + offsetof(struct iphdr, check);
		__u32 saddr_off = l3_off + offsetof(struct iphdr, saddr);

		if (bpf_l4_csum_replace(skb, csum_off, p->src.addr[0], nat.addr[0],
					BPF_F_PSEUDO_HDR | flags_m | 4) ||
		    bpf_l3_csum_replace(skb, ip_check, p->src.addr[0], nat.addr[0], 4) ||
		    bpf_skb_store_bytes(skb, saddr_off, &nat.addr[0], 4, 0))
			return TC_ACT_SHOT;
	} else {
		__u32 saddr_off = l3_off + offsetof(struct ipv6hdr, saddr);
		__s64 diff = bpf_csum_diff(p->src.addr, 16, nat.addr, 16, 0);

		if (diff < 0 ||
		    bpf_l4_csum_replace(skb, csum_off, 0, diff, BPF_F_PSEUDO_HDR | flags_m) ||
		    bpf_skb_store_bytes(skb, saddr_off, nat.addr, 16, 0))
			return TC_ACT_SHOT;
	}
	if (bpf_l4_csum_replace(skb, csum_off, old_port, new_port, flags_m | 2) ||
	    bpf_skb_store_bytes(skb, l4_off, &new_port, 2, 0))
		return TC_ACT_SHOT;
	/* a translated client port: the client's own port back */
	if (cport && (bpf_l4_csum_replace(skb, csum_off, k.dport, cport, flags_m | 2) ||
		      bpf_skb_store_bytes(skb, l4_off + 2, &cport, 2, 0)))
		return TC_ACT_SHOT;
	count(ELB_R_LB_REVNAT, skb->len);
	return TC_ACT_OK;
}

/* An ICMP error whose quoted packet is client → backend:port (a forwarded request). */
static __always_inline int rn_icmp(struct __sk_buff *skb, struct lb_pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u8 *icmp = data + (p->l4_off & LB_OFF_MASK);
	struct lb_pkt q;
	struct elb_ct_key k;
	struct elb_ct *ct;

	if (icmp + 8 > (__u8 *)data_end || !lb_icmp_is_error(p->family, icmp[0]))
		return TC_ACT_OK;
	__builtin_memset(&q, 0, sizeof(q));
	if (lb_quoted(data, data_end, p, &q))
		return TC_ACT_OK;
	{
		__u8 *ql4 = data + (q.l4_off & LB_OFF_MASK);

		if (ql4 + 4 > (__u8 *)data_end)
			return TC_ACT_OK;
		__builtin_memset(&k, 0, sizeof(k));
		k.src = q.dst; /* backend */
		k.dst = q.src; /* client */
		k.sport = *(__be16 *)(ql4 + 2);
		k.dport = *(__be16 *)ql4;
	}
	k.proto = q.proto;
	k.family = q.family;
	k.dir = ELB_CT_REPLY;
	ct = bpf_map_lookup_elem(&ct_reply_v2, &k);
	if (!ct)
		return TC_ACT_OK;
	{
		struct elb_ip backend = q.dst, vip = ct->nat;
		__be16 vport = ct->nat_port, cport = ct->xport;

		if (lb_icmp_rewrite(data, data_end, p, &q, 0, 1, &backend, &vip, vport, cport))
			return TC_ACT_OK;
	}
	count(ELB_R_LB_ICMP_XLATE, skb->len);
	return TC_ACT_OK;
}

SEC("tc")
int tc_revnat(struct __sk_buff *skb)
{
	void *data, *data_end;
	struct lb_pkt p;

	if (skb->data_end - skb->data < RN_PULL && skb->len > skb->data_end - skb->data)
		bpf_skb_pull_data(skb, skb->len < RN_PULL ? skb->len : RN_PULL);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	__builtin_memset(&p, 0, sizeof(p));
	if (lb_parse(data, data_end, &p) != LB_P_OK || p.frag)
		return TC_ACT_OK;
	if (p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP)
		return rn_tcpudp(skb, &p);
	if ((p.family == ELB_AF_INET && p.proto == IPPROTO_ICMP) ||
	    (p.family == ELB_AF_INET6 && p.proto == IPPROTO_ICMPV6))
		return rn_icmp(skb, &p);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
