/* Map names and the layouts of maps shared by every program: config and ifaces.
 * Layer-2 maps are in l2.h, load-balancer maps in lb.h, counters in stats.h.
 * Names carry the layout version; pins live under <bpffs>/<name>. */
#ifndef EDGELB_MAPS_H
#define EDGELB_MAPS_H

#include <edgelb/abi.h>

#define ELB_MAP_CONFIG	 "config_v1"
#define ELB_MAP_IFACES	 "ifaces_v1"
#define ELB_MAP_STATS	 "stats_v1"
#define ELB_MAP_L2_VIPS	 "l2_vips_v1"
#define ELB_MAP_SERVICES "services_v1"
#define ELB_MAP_BACKENDS "backends_v1"
#define ELB_MAP_MAGLEV	 "maglev_v1"
#define ELB_MAP_CT_FWD	 "ct_fwd_v2"
#define ELB_MAP_CT_REPLY "ct_reply_v2"
#define ELB_MAP_CT_CACHE    "ct_cache_v2"
#define ELB_MAP_CT_CACHE6   "ct_cache6_v2"
#define ELB_MAP_CT_CACHE_BE "ct_cache_be_v1"
#define ELB_MAP_SVC_STATS "svc_stats_v1"
#define ELB_MAP_BE_STATS  "be_stats_v1"
#define ELB_MAP_SOCK_REVNAT "sock_revnat_v1"

/* config_v1: array[1] → elb_config; written by the agent (heartbeat each second), read by XDP. */
struct elb_config {
	__u64 heartbeat_ns;	/* CLOCK_MONOTONIC (bpf_ktime_get_ns) of the last agent beat */
	__u64 heartbeat_max_ns; /* 0 = gate disabled */
	__u32 maglev_seed;
	/* Bumped by whoever deletes conntrack entries (the agent, explain), after deleting: the
	 * flow caches (ct_cache_v2, ct_cache6_v2) then forget every slot (edgelb/lb.h). */
	__u32 ct_gen;
};
_Static_assert(sizeof(struct elb_config) == 24, "elb_config layout");

#define ELB_IFACE_F_L2	0x1 /* answer ARP/NDP on this interface */
#define ELB_IFACE_F_LB	0x2 /* run the service fast path on this interface */

/* ifaces_v1: hash ifindex → elb_iface; written by the loader on attach, read by XDP. */
struct elb_iface {
	__u8 mac[6];
	__u16 pad;
	__u32 flags;
};
_Static_assert(sizeof(struct elb_iface) == 12, "elb_iface layout");

#endif
