/* BPF-only helpers shared by every program: the shared maps (config, ifaces, stats),
 * counters by reason, the heartbeat gate and small Ethernet/VLAN helpers.
 * Map contracts are in include/edgelb/maps.h; program logic lives in lib/l2.h and lib/lb.h. */
#ifndef EDGELB_BPF_COMMON_H
#define EDGELB_BPF_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <edgelb/maps.h>
#include <edgelb/stats.h>

/* config_v1: [0] → elb_config; agent writes, XDP reads. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct elb_config);
} config_v1 SEC(".maps");

/* ifaces_v1: ifindex → elb_iface; loader writes on attach, XDP reads (MAC, enabled features). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ELB_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct elb_iface);
} ifaces_v1 SEC(".maps");

/* stats_v1: reason → elb_counter per CPU; XDP/tc write, agent sums for `edgelb stats`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ELB_R_MAX);
	__type(key, __u32);
	__type(value, struct elb_counter);
} stats_v1 SEC(".maps");

static __always_inline void count(__u32 reason, __u64 bytes)
{
	struct elb_counter *c = bpf_map_lookup_elem(&stats_v1, &reason);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/* Nanoseconds per jiffy (the kernel's TICK_NSEC), set by the loader before load
 * (agent/dataplane/clock.c); 0 when the kernel's HZ is unknown. */
const volatile __u32 elb_tick_ns = 0;

/* The conntrack clock: jiffies x TICK_NSEC (bpf_jiffies64 is inlined by the verifier into one
 * load), else CLOCK_MONOTONIC_COARSE; the agent reads the same one (dp_clock_ns). */
static __always_inline __u64 ct_now(void)
{
	if (elb_tick_ns)
		return bpf_jiffies64() * elb_tick_ns;
	return bpf_ktime_get_coarse_ns();
}

/* The agent beats every second; a stale beat means nobody is managing this node. */
static __always_inline int heartbeat_ok(void)
{
	__u32 zero = 0;
	struct elb_config *cfg = bpf_map_lookup_elem(&config_v1, &zero);

	if (!cfg)
		return 0;
	if (cfg->heartbeat_max_ns == 0)
		return 1;
	return bpf_ktime_get_ns() - cfg->heartbeat_ns <= cfg->heartbeat_max_ns;
}

/* 802.1Q and 802.1ad tags: the responder answers untagged frames only. */
static __always_inline int eth_proto_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* The interface entry written by the loader, or NULL when this ifindex is not ours. */
static __always_inline struct elb_iface *iface_get(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;

	return bpf_map_lookup_elem(&ifaces_v1, &ifindex);
}

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

#endif
