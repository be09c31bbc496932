/* Layer-2 announcement map: which VIPs the node answers ARP/NDP for, per interface. */
#ifndef EDGELB_L2_H
#define EDGELB_L2_H

#include <edgelb/abi.h>

/* l2_vips_v1: hash (ifindex, family, VIP) → elb_l2_vip; written by the agent's announcer,
 * read (and counters bumped atomically) by xdp_ingress. */
struct elb_l2_key {
	__u32 ifindex;
	__u8 family; /* ELB_AF_INET or ELB_AF_INET6 */
	__u8 pad[3];
	struct elb_ip vip;
};
_Static_assert(sizeof(struct elb_l2_key) == 24, "elb_l2_key layout");

#define ELB_L2_F_ACTIVE 0x1 /* answer; a cleared flag keeps the counters but goes silent */

struct elb_l2_vip {
	__u32 flags;
	__u32 conflicts; /* frames from another MAC claiming this VIP (RFC 5227 2.4) */
	__u64 requests; /* requests seen for this VIP */
	__u64 replies;	/* replies sent */
};
_Static_assert(sizeof(struct elb_l2_vip) == 24, "elb_l2_vip layout");

#endif
