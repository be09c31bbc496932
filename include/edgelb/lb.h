/* Load-balancer maps: services, backends, Maglev tables, conntrack and per-service/backend
 * counters. Written by the agent (agent/dataplane/lb.c), read by xdp_ingress (bpf/lib/lb.h)
 * and the return-path program tc_revnat (bpf/tc_revnat.bpf.c); conntrack is written by both
 * programs. Map names are in maps.h. IPv4 and IPv6 share every map (family in the keys). */
#ifndef EDGELB_LB_H
#define EDGELB_LB_H

#include <edgelb/abi.h>

/* services_v1: hash elb_svc_key → elb_svc; agent writes, xdp_ingress reads.
 * Two kinds of keys: a VIP entry (port 0, proto 0) for every service IP, looked up first so
 * non-VIP traffic costs one lookup and ICMP echo finds its flags; and one entry per served
 * (VIP, port, proto). */
struct elb_svc_key {
	struct elb_ip vip;
	__be16 port; /* 0 in a VIP entry */
	__u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP; 0 in a VIP entry */
	__u8 family; /* ELB_AF_INET or ELB_AF_INET6 */
};
_Static_assert(sizeof(struct elb_svc_key) == 20, "elb_svc_key layout");

#define ELB_SVC_F_ICMP_ECHO 0x1 /* answer ICMP/ICMPv6 echo requests to the VIP */

struct elb_svc {
	__u32 id;	  /* 1..ELB_MAX_SERVICES-1, index of svc_stats_v1 and key of maglev_v1 */
	__u32 flags;	  /* ELB_SVC_F_* */
	__u32 n_backends; /* backends able to take new flows; 0 = drop new flows, counted */
	__u32 pad;
};
_Static_assert(sizeof(struct elb_svc) == 16, "elb_svc layout");

/* backends_v1: hash __u32 backend id → elb_backend; agent writes, xdp_ingress reads. A backend
 * that leaves the config is deleted; conntrack entries pointing at it then pick a new one. */
enum elb_backend_state {
	ELB_BE_ACTIVE = 0,	/* in the Maglev table: new flows */
	ELB_BE_TERMINATING = 1, /* out of the table: existing flows only */
	ELB_BE_NOT_READY = 2,	/* out of the table: existing flows only */
};

struct elb_backend {
	struct elb_ip addr;
	__be16 port;
	__u8 family;
	__u8 state; /* enum elb_backend_state */
	__u16 weight;
	__u16 pad;
	__u32 svc_id; /* owning service: backend ids are per service (counters per service) */
};
_Static_assert(sizeof(struct elb_backend) == 28, "elb_backend layout");

/* maglev_v1: hash __u32 service id → elb_maglev (whole table); agent writes (one update swaps
 * the table atomically), xdp_ingress reads table[hash(5-tuple, seed) % ELB_MAGLEV_SIZE].
 * BPF_F_NO_PREALLOC: a table is 64 KiB. */
struct elb_maglev {
	__u32 backend[ELB_MAGLEV_SIZE]; /* backend ids */
};
_Static_assert(sizeof(struct elb_maglev) == 4 * ELB_MAGLEV_SIZE, "elb_maglev layout");

/* ct_fwd_v2 and ct_reply_v2: LRU hashes elb_ct_key → elb_ct, global, one per direction;
 * xdp_ingress writes both entries of a flow on a miss and refreshes the forward one,
 * tc_revnat reads and refreshes the reply one; the agent reads for counters and explain.
 * Forward key (ct_fwd_v2): client → VIP as received; reply key (ct_reply_v2): backend →
 * client as the backend sends it (to the translated client port when xport is set). Entries
 * expire lazily: seen_ns + lifetime(state) < now is a miss, on the conntrack clock (jiffies
 * in ns where the loader knows the kernel's HZ, else CLOCK_MONOTONIC_COARSE:
 * bpf/lib/common.h ct_now, agent/dataplane/clock.h). */
#define ELB_CT_FORWARD 0
#define ELB_CT_REPLY   1

struct elb_ct_key {
	struct elb_ip src;
	struct elb_ip dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 dir; /* ELB_CT_FORWARD or ELB_CT_REPLY */
	__u8 pad;
};
_Static_assert(sizeof(struct elb_ct_key) == 40, "elb_ct_key layout");

enum elb_ct_state {
	ELB_CT_SYN = 0,	   /* TCP: SYN seen, no ACK yet */
	ELB_CT_EST = 1,	   /* TCP: ACK seen */
	ELB_CT_CLOSING = 2, /* TCP: FIN or RST seen */
	ELB_CT_UDP = 3,	   /* UDP flow */
};

/* Lifetimes per state (ns), measured from the last packet. */
#define ELB_CT_LIFE_SYN_NS     (60ULL * 1000000000ULL)
#define ELB_CT_LIFE_EST_NS     (6ULL * 3600 * 1000000000ULL)
#define ELB_CT_LIFE_CLOSING_NS (10ULL * 1000000000ULL)
#define ELB_CT_LIFE_UDP_NS     (60ULL * 1000000000ULL)
/* seen_ns is rewritten at most this often per flow unless the state changes (cache lines); a
 * flow with a flow-cache slot, every ELB_CT_CACHE_HOLD_NS (ct_cache_v2 below). */
#define ELB_CT_REFRESH_NS      (1000000000ULL)
/* A forward refresh rewrites the flow's reply entry only when the state changed or the refresh
 * falls in a new window of 2^ELB_CT_REPLY_WINDOW_SHIFT ns (about 17 s), not every second (an
 * LRU update per flow per second); a reply entry is therefore judged live for one window
 * beyond its lifetime, and never expires before its forward entry. */
#define ELB_CT_REPLY_WINDOW_SHIFT 34

struct elb_ct {
	__u64 seen_ns;	  /* the conntrack clock at the last packet (ns) */
	struct elb_ip nat; /* forward: backend address; reply: VIP */
	__be16 nat_port;   /* forward: backend port; reply: VIP port */
	/* Reply-tuple clash (the client's address and port already reach this backend address
	 * and port through another VIP:port): the client port is translated.
	 * forward: the client port as the backend sees it; reply: the client's own port to put
	 * back. 0 when the flow keeps its port. */
	__be16 xport;
	__u8 state;	   /* enum elb_ct_state */
	__u8 nh_ok;	   /* forward: the next hop below is valid (cached bpf_fib_lookup) */
	__u16 pad;
	__u32 backend_id;
	__u32 svc_id;
	/* forward: next hop toward the backend, looked up again at every refresh of seen_ns so
	 * a route or neighbour change is followed within ELB_CT_REFRESH_NS */
	__u32 nh_in_ifindex;  /* ingress interface the lookup was made for */
	__u32 nh_out_ifindex; /* egress interface */
	__u8 nh_dmac[6];
	__u8 nh_smac[6];
	__u32 pad2;
};
_Static_assert(sizeof(struct elb_ct) == 64, "elb_ct layout");

/* ct_cache_v2 (IPv4) and ct_cache6_v2 (IPv6): arrays of flow-cache sets, BPF_F_MMAPABLE (so
 * the values start on a page and every set fills aligned cache lines), and ct_cache_be_v1, a
 * per-CPU array of what their slots share per backend; xdp_ingress writes and reads them, nobody
 * else. Per-CPU caches of forward entries in front of ct_fwd_v2: a hit in the LRU hash waits on a
 * random bucket and then a random 152-byte element, about 15 MB for 64,512 flows, while a hit
 * here reads its set's slots up to the flow's: 32 bytes each for IPv4, two flows to a cache line
 * (64 for IPv6). A slot holds the flow's key, state and backend id; the backend's address, port,
 * service and next hop are in its ct_cache_be_v1 entry, which every slot of the backend reads on
 * this CPU (a line that stays in the L1 cache). CPU c owns sets c * (mask + 1) ..
 * c * (mask + 1) + mask, mask being the .rodata constant elb_ct_cache_mask (elb_ct_cache6_mask);
 * the loader sizes them (agent/dataplane/ct_cache.c). A slot copies its conntrack entry and
 * answers only while all of these hold, else the packet takes the conntrack path, which
 * refreshes the entry and writes the slot and its backend entry again:
 *   - now < until = the entry's seen_ns + ELB_CT_CACHE_HOLD_NS: a flow's entry is refreshed
 *     every ELB_CT_CACHE_HOLD_NS while its slot answers, so its seen_ns lags its last packet by
 *     up to that much (every lifetime is at least twice as long);
 *   - gen == the low 16 bits of elb_config.ct_gen: whoever deletes conntrack entries bumps
 *     ct_gen after (a slot lives seconds: 65,536 bumps in its time are out of reach);
 *   - the packet leaves the flow's TCP state as it is;
 *   - its backend entry holds its backend id and the whole ct_gen.
 * The next hop is looked up again (bpf_fib_lookup) by the first packet the backend entry answers
 * after nh_until, ELB_CT_REFRESH_NS after the last lookup, as on the conntrack path (a route or
 * neighbour change is followed within a second), or that arrived on another interface than the
 * lookup was made for. */
/* The most sets a CPU gets, fewer on hosts with many CPUs: 4 MiB of IPv4 slots (99.2% of 64,512
 * flows get one) and 8 MiB of IPv6 slots. A hit reads about 2.7 MB of IPv4 sets for 64,512 flows
 * (aligned pairs of lines, as the hardware fetches them); with 64-byte slots it read 4.7 MB
 * and cost more (README, Benchmarks). */
#define ELB_CT_CACHE_SETS  16384
#define ELB_CT_CACHE6_SETS 16384
#define ELB_CT_CACHE_WAYS  8
/* Backend entries per CPU: a backend id's entry is at id % ELB_CT_CACHE_BES (a flow whose
 * backend shares the entry with another's takes the conntrack path, which takes the entry). */
#define ELB_CT_CACHE_BES 4096
/* How long a slot answers after its entry's refresh (ns). */
#define ELB_CT_CACHE_HOLD_NS (4ULL * 1000000000ULL)
_Static_assert(2 * ELB_CT_CACHE_HOLD_NS <= ELB_CT_LIFE_CLOSING_NS, "hold under every lifetime");
_Static_assert(ELB_MAX_BACKENDS <= 65536, "backend ids fit a slot's 16 bits");

/* A slot's flow, in either family: all but its addresses and ports (the tests of a hit). */
struct elb_ct_cache_flow {
	__u64 until; /* conntrack clock; 0 = empty */
	__u8 proto;
	__u8 state; /* enum elb_ct_state */
	__u16 backend_id;
	__u16 gen;    /* low 16 bits of elb_config.ct_gen */
	__be16 xport; /* as elb_ct.xport */
};
_Static_assert(sizeof(struct elb_ct_cache_flow) == 16, "elb_ct_cache_flow layout");

struct elb_ct_cache_slot {
	struct elb_ct_cache_flow flow;
	__be32 src; /* forward key: client → VIP, as received */
	__be32 dst;
	__be16 sport;
	__be16 dport;
	__u32 pad;
};
_Static_assert(sizeof(struct elb_ct_cache_slot) == 32, "elb_ct_cache_slot layout");

struct elb_ct_cache6_slot {
	struct elb_ct_cache_flow flow;
	struct elb_ip src; /* forward key: client → VIP, as received */
	struct elb_ip dst;
	__be16 sport;
	__be16 dport;
	__u32 pad[3];
};
_Static_assert(sizeof(struct elb_ct_cache6_slot) == 64, "elb_ct_cache6_slot layout");

struct elb_ct_cache {
	struct elb_ct_cache_slot way[ELB_CT_CACHE_WAYS];
};

struct elb_ct_cache6 {
	struct elb_ct_cache6_slot way[ELB_CT_CACHE_WAYS];
};

/* ct_cache_be_v1: per-CPU array, id % ELB_CT_CACHE_BES → what the slots of backend id share. */
struct elb_ct_cache_be {
	struct elb_ip nat; /* backend address and port, as in its conntrack entries */
	__be16 nat_port;
	__u16 backend_id; /* 0 = empty (ids start at 1) */
	__u32 gen;	  /* elb_config.ct_gen when written */
	__u32 svc_id;
	/* the next hop's next lookup: the conntrack clock in units of 1024 ns, low 32 bits
	 * (compared as a signed difference: a lookup lives a second, the clock wraps in 73 min) */
	__u32 nh_until;
	__u32 in_ifindex; /* the lookup was made for packets arriving here */
	__u32 out_ifindex;
	__u8 dmac[6];
	__u8 smac[6];
};
_Static_assert(sizeof(struct elb_ct_cache_be) == 52, "elb_ct_cache_be layout");

/* vip_filter_v1: array of ELB_VIP_FILTER_WORDS __u64 → a bitmap with one bit set per VIP at
 * elb_vip_filter_hash(VIP); agent writes (new bits before the services, stale bits cleared
 * after), xdp_ingress reads. A clear bit means "no VIP": non-service traffic costs one array
 * lookup; a set bit may be a collision, settled by services_v1. */
#define ELB_MAP_VIP_FILTER   "vip_filter_v1"
#define ELB_VIP_FILTER_BITS  65536
#define ELB_VIP_FILTER_WORDS (ELB_VIP_FILTER_BITS / 64)

/* Multiplicative (Fibonacci) hash of the address words as stored (network order), so the
 * agent and the program compute it alike on one host. */
static inline __u32 elb_vip_filter_hash(const struct elb_ip *ip, __u8 family)
{
	__u32 x = ip->addr[0];

	if (family == ELB_AF_INET6)
		x ^= ip->addr[1] * 0x85ebca6bu ^ ip->addr[2] * 0xc2b2ae35u ^ ip->addr[3];
	return (x * 0x9e3779b1u) >> 16;
}

/* svc_stats_v1: per-CPU array service id → elb_lb_counter; be_stats_v1: per-CPU array
 * backend id → elb_lb_counter. xdp_ingress writes (packets and bytes toward backends, flows on
 * a conntrack miss); the agent sums them (service show, metrics) and zeroes an id on reuse. */
struct elb_lb_counter {
	__u64 packets;
	__u64 bytes;
	__u64 flows;
};
_Static_assert(sizeof(struct elb_lb_counter) == 24, "elb_lb_counter layout");

/* sock_revnat_v1: LRU hash elb_sock_key → elb_sock_nat; sock_lb (hairpin, on the cgroup of the
 * node's pods) writes one entry per socket and backend it steered a VIP:port to, and reads it to
 * show the VIP:port again to getpeername() and recvmsg(). Entries are forgotten by the LRU. */
#define ELB_SOCK_REVNAT_MAX 65536

struct elb_sock_key {
	__u64 cookie;	  /* the socket's cookie (bpf_get_socket_cookie) */
	struct elb_ip be; /* backend address */
	__be16 be_port;
	__u8 family;
	__u8 proto;
	__u32 pad;
};
_Static_assert(sizeof(struct elb_sock_key) == 32, "elb_sock_key layout");

struct elb_sock_nat {
	struct elb_ip vip;
	__be16 vport;
	__u16 pad;
	__u32 svc_id;
};
_Static_assert(sizeof(struct elb_sock_nat) == 24, "elb_sock_nat layout");

#endif
