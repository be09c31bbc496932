/* Dataplane counter reasons: numbered, append-only. A retired number is never reused.
 * stats_v1 is a per-CPU array indexed by reason → elb_counter. The CLI and the metrics
 * print names from elb_reason_names (define ELB_STATS_NAMES before including, once). */
#ifndef EDGELB_STATS_H
#define EDGELB_STATS_H

#include <linux/types.h>

#define ELB_REASONS(X)                                                      \
	X(0, PASS_OTHER, "pass_other")		 /* not ours: non-IP, non-ARP */ \
	X(1, PASS_TRUNCATED, "pass_truncated")	 /* shorter than its headers */  \
	X(2, ARP_REPLY, "arp_reply")		 /* ARP reply sent for a VIP */  \
	X(3, ARP_NOT_VIP, "arp_not_vip")	 /* target not announced here */ \
	X(4, ARP_BAD, "arp_bad")		 /* hw/proto type or lengths */  \
	X(5, ARP_NOT_REQUEST, "arp_not_request") /* reply or other opcode */     \
	X(6, ARP_GRATUITOUS, "arp_gratuitous")	 /* sender == target */          \
	X(7, ARP_PROBE, "arp_probe")		 /* sender 0.0.0.0 */            \
	X(8, NDP_NA_SENT, "ndp_na_sent")	 /* NA sent for a VIP */         \
	X(9, NDP_NOT_VIP, "ndp_not_vip")                                        \
	X(10, NDP_BAD, "ndp_bad")		/* hop limit, code, checksum, options */ \
	X(11, HEARTBEAT_STALE, "heartbeat_stale") /* agent silent: not answering */ \
	X(12, VLAN, "vlan")			/* tagged frame passed */          \
	X(13, LB_FORWARD, "lb_forward")		/* DNAT and redirect/TX */         \
	X(14, LB_PASS_NEIGH, "lb_pass_neigh")	/* DNAT, kernel resolves neighbour */ \
	X(15, LB_NO_BACKEND, "lb_no_backend")	/* service without backends: drop */ \
	X(16, LB_FRAGMENT, "lb_fragment")	/* fragment to a VIP */            \
	X(17, LB_NOT_SERVICE, "lb_not_service")	/* IP to no VIP:port */            \
	X(18, LB_CT_HIT, "lb_ct_hit")                                             \
	X(19, LB_CT_MISS, "lb_ct_miss")                                           \
	X(20, LB_REVNAT, "lb_revnat")		/* reply rewritten to VIP */       \
	X(21, LB_ICMP_XLATE, "lb_icmp_xlate")	/* ICMP error translated */        \
	X(22, LB_ICMP_ECHO, "lb_icmp_echo")	/* echo to a VIP answered */       \
	X(23, LB_BAD_L4, "lb_bad_l4")		/* malformed L4 to a VIP */        \
	X(24, LB_FIB_FAIL, "lb_fib_fail")	/* no route to backend: drop */    \
	X(25, LB_UNKNOWN_PROTO, "lb_unknown_proto") /* VIP, proto not served */ \
	X(26, LB_NO_PORT, "lb_no_port")		/* VIP, port/proto not served: drop */ \
	X(27, LB_ICMP_UNKNOWN, "lb_icmp_unknown") /* ICMP to a VIP: no echo, no known flow */ \
	X(28, ARP_CONFLICT, "arp_conflict")	/* another MAC claims a VIP (ARP) */ \
	X(29, NDP_CONFLICT, "ndp_conflict")	/* another MAC claims a VIP (NA) */ \
	X(30, LB_REPLY_CLASH, "lb_reply_clash") /* reply tuple taken, no free port: drop */ \
	X(31, LB_PORT_XLATE, "lb_port_xlate")	/* new flow's client port translated */ \
	X(32, SOCK_LB, "sock_lb")		/* hairpin: connect/sendmsg to a backend */ \
	X(33, SOCK_LB_NO_BACKEND, "sock_lb_no_backend") /* hairpin: refused, no backend */

enum elb_reason {
#define ELB_REASON_ENUM(n, id, name) ELB_R_##id = n,
	ELB_REASONS(ELB_REASON_ENUM)
#undef ELB_REASON_ENUM
	ELB_R_MAX = 64, /* array size: room to append */
};

struct elb_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct elb_counter) == 16, "elb_counter layout");

#ifdef ELB_STATS_NAMES
static const char *const elb_reason_names[ELB_R_MAX] = {
#define ELB_REASON_NAME(n, id, name) [n] = name,
	ELB_REASONS(ELB_REASON_NAME)
#undef ELB_REASON_NAME
};
#endif

#endif
