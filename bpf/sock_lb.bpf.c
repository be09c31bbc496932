// SPDX-License-Identifier: GPL-2.0
/* sock_lb: hairpin, the service fast path for clients on the node itself (pods, host
 * processes), at the socket layer. A pod's packets to a VIP never cross the compute port's XDP
 * hook, so these programs, attached to the cgroup of the node's pods (node.hairpinCgroup),
 * steer the socket instead: connect() (TCP, UDP) and sendmsg() with an address (UDP) to a
 * served VIP:port go to a backend of the service's Maglev table, picked by the socket's cookie
 * (one socket, one backend, while the table stands); the socket then talks to the backend
 * directly, with no packet rewritten anywhere, and a backend that is the client itself works.
 * getpeername() and recvmsg() show the VIP:port again, from sock_revnat_v1. An IPv6 socket
 * reaching an IPv4 VIP through its IPv4-mapped address (::ffff:VIP) is steered the same way. A
 * service without backends refuses the call (EPERM); anything else passes unchanged. Counted under
 * sock_lb and sock_lb_no_backend, and as flows of the service and backend. Maps are shared with
 * xdp_ingress; sock_revnat_v1 is this program's own. */
#include "lib/common.h"
#include "lib/lb.h"

#define SOCK_ALLOW 1
#define SOCK_DENY  0

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ELB_SOCK_REVNAT_MAX);
	__type(key, struct elb_sock_key);
	__type(value, struct elb_sock_nat);
} sock_revnat_v1 SEC(".maps");

/* MurmurHash3's 64-bit finalizer: consecutive cookies spread over the whole Maglev table. */
static __always_inline __u32 sock_hash(__u64 c)
{
	c ^= c >> 33;
	c *= 0xff51afd7ed558ccdULL;
	c ^= c >> 33;
	c *= 0xc4ceb9fe1a85ec53ULL;
	c ^= c >> 33;
	return (__u32)c;
}

static __always_inline void sock_flow(void *map, __u32 id)
{
	struct elb_lb_counter *c = bpf_map_lookup_elem(map, &id);

	if (c)
		c->flows++;
}

/* The address of the call as an elb_ip, and its family (ELB_AF_*): on an IPv6 hook, an
 * IPv4-mapped address (::ffff:a.b.c.d, RFC 4291 2.5.5.2: a dual-stack socket talking IPv4) is
 * the IPv4 address it carries. */
static __always_inline __u8 sock_dst(struct bpf_sock_addr *ctx, struct elb_ip *ip, __u8 hook)
{
	__builtin_memset(ip, 0, sizeof(*ip));
	if (hook == ELB_AF_INET) {
		ip->addr[0] = ctx->user_ip4;
		return ELB_AF_INET;
	}
	if (ctx->user_ip6[0] == 0 && ctx->user_ip6[1] == 0 &&
	    ctx->user_ip6[2] == bpf_htonl(0xffff)) {
		ip->addr[0] = ctx->user_ip6[3];
		return ELB_AF_INET;
	}
	ip->addr[0] = ctx->user_ip6[0];
	ip->addr[1] = ctx->user_ip6[1];
	ip->addr[2] = ctx->user_ip6[2];
	ip->addr[3] = ctx->user_ip6[3];
	return ELB_AF_INET6;
}

/* Writes ip:port (of family) back into the call; an IPv4 address on an IPv6 hook goes in
 * IPv4-mapped. */
static __always_inline void sock_set_dst(struct bpf_sock_addr *ctx, const struct elb_ip *ip,
					 __be16 port, __u8 hook, __u8 family)
{
	if (hook == ELB_AF_INET) {
		ctx->user_ip4 = ip->addr[0];
	} else if (family == ELB_AF_INET) {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0xffff);
		ctx->user_ip6[3] = ip->addr[0];
	} else {
		ctx->user_ip6[0] = ip->addr[0];
		ctx->user_ip6[1] = ip->addr[1];
		ctx->user_ip6[2] = ip->addr[2];
		ctx->user_ip6[3] = ip->addr[3];
	}
	ctx->user_port = port;
}

/* connect() and sendmsg(): a served VIP:port becomes a backend; the pair is remembered. */
static __always_inline int sock_steer(struct bpf_sock_addr *ctx, __u8 hook)
{
	struct elb_svc_key sk;
	struct elb_sock_key k;
	struct elb_sock_nat nat;
	struct elb_svc *svc;
	struct elb_backend *be;
	__u32 proto = ctx->protocol, be_id = 0;
	__be16 vport = (__be16)ctx->user_port;
	__u8 family;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return SOCK_ALLOW;
	__builtin_memset(&sk, 0, sizeof(sk));
	family = sock_dst(ctx, &sk.vip, hook);
	sk.port = vport;
	sk.proto = (__u8)proto;
	sk.family = family;
	svc = bpf_map_lookup_elem(&services_v1, &sk);
	if (!svc)
		return SOCK_ALLOW; /* not a served VIP:port */
	__builtin_memset(&k, 0, sizeof(k));
	k.cookie = bpf_get_socket_cookie(ctx);
	be = svc->n_backends ? lb_maglev_pick(svc, sock_hash(k.cookie), &be_id) : NULL;
	if (!be) { /* the agent gives a VIP backends of its own family only */
		count(ELB_R_SOCK_LB_NO_BACKEND, 0);
		return SOCK_DENY;
	}
	k.be = be->addr;
	k.be_port = be->port;
	k.family = family;
	k.proto = (__u8)proto;
	/* a datagram socket sends many times: its flow is counted once per backend */
	if (!bpf_map_lookup_elem(&sock_revnat_v1, &k)) {
		__builtin_memset(&nat, 0, sizeof(nat));
		nat.vip = sk.vip;
		nat.vport = vport;
		nat.svc_id = svc->id;
		bpf_map_update_elem(&sock_revnat_v1, &k, &nat, BPF_ANY);
		count(ELB_R_SOCK_LB, 0);
		sock_flow(&svc_stats_v1, svc->id);
		sock_flow(&be_stats_v1, be_id);
	}
	sock_set_dst(ctx, &be->addr, be->port, hook, family);
	return SOCK_ALLOW;
}

/* getpeername() and recvmsg(): a backend this socket was steered to shows as the VIP:port. */
static __always_inline int sock_unsteer(struct bpf_sock_addr *ctx, __u8 hook, __u8 proto)
{
	struct elb_sock_key k;
	struct elb_sock_nat *nat;
	__u8 family;

	__builtin_memset(&k, 0, sizeof(k));
	family = sock_dst(ctx, &k.be, hook);
	k.be_port = (__be16)ctx->user_port;
	k.family = family;
	k.proto = proto;
	k.cookie = bpf_get_socket_cookie(ctx);
	nat = bpf_map_lookup_elem(&sock_revnat_v1, &k);
	if (nat)
		sock_set_dst(ctx, &nat->vip, nat->vport, hook, family);
	return SOCK_ALLOW;
}

SEC("cgroup/connect4")
int sock_connect4(struct bpf_sock_addr *ctx)
{
	return sock_steer(ctx, ELB_AF_INET);
}

SEC("cgroup/connect6")
int sock_connect6(struct bpf_sock_addr *ctx)
{
	return sock_steer(ctx, ELB_AF_INET6);
}

SEC("cgroup/sendmsg4")
int sock_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock_steer(ctx, ELB_AF_INET);
}

SEC("cgroup/sendmsg6")
int sock_sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock_steer(ctx, ELB_AF_INET6);
}

SEC("cgroup/recvmsg4")
int sock_recvmsg4(struct bpf_sock_addr *ctx)
{
	return sock_unsteer(ctx, ELB_AF_INET, IPPROTO_UDP);
}

SEC("cgroup/recvmsg6")
int sock_recvmsg6(struct bpf_sock_addr *ctx)
{
	return sock_unsteer(ctx, ELB_AF_INET6, IPPROTO_UDP);
}

SEC("cgroup/getpeername4")
int sock_getpeername4(struct bpf_sock_addr *ctx)
{
	return sock_unsteer(ctx, ELB_AF_INET, (__u8)ctx->protocol);
}

SEC("cgroup/getpeername6")
int sock_getpeername6(struct bpf_sock_addr *ctx)
{
	return sock_unsteer(ctx, ELB_AF_INET6, (__u8)ctx->protocol);
}

char LICENSE[] SEC("license") = "GPL";
