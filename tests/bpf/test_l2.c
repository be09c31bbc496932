/* BPF tier, layer-2 responder: the real xdp_ingress object answers ARP requests and Neighbor
 * Solicitations for VIPs of this ifindex with the exact expected bytes, and passes everything
 * else counted by reason (gratuitous ARP, probes, bad types, VLAN tags, truncation at every
 * length, non-VIP targets, another ifindex, a stale heartbeat, malformed NDP). */
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#define ELB_STATS_NAMES
#include <edgelb/l2.h>
#include <edgelb/lb.h>
#include <edgelb/maps.h>
#include <edgelb/stats.h>

#include "bpf/harness.h"
#include "bpf/pkt_l2.h"
#include "t.h"

static const uint8_t MY_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xaa};
static const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
#define IFX	   1 /* lo: test runs need an existing ingress device */
#define OTHER_IFX  7 /* an ifindex with its own VIP; packets never arrive on it here */
#define VIP4	   "192.0.2.10"
#define VIP4_OTHER "192.0.2.20"
#define VIP6	   "2001:db8::10"
#define PEER4	   "192.0.2.1"
#define PEER6	   "fe80::1"

static int prog, m_stats, m_vips, m_ifaces, m_config, m_filter, ncpu;
static uint32_t not_ours; /* an existing ifindex other than lo, 0 when there is none */

static uint32_t find_not_ours(void)
{
	struct if_nameindex *ni = if_nameindex(), *i;
	uint32_t found = 0;

	for (i = ni; i && i->if_index; i++)
		if (i->if_index != IFX && i->if_index != OTHER_IFX) {
			found = i->if_index;
			break;
		}
	if_freenameindex(ni);
	return found;
}

static uint64_t stat(int r)
{
	struct elb_counter per[ncpu];
	__u32 key = r;
	uint64_t n = 0;

	if (bpf_map_lookup_elem(m_stats, &key, per))
		return ~0ULL;
	for (int i = 0; i < ncpu; i++)
		n += per[i].packets;
	return n;
}

static struct elb_l2_key vip_key(int ifindex, const char *vip)
{
	struct elb_l2_key k = {.ifindex = (__u32)ifindex};

	if (strchr(vip, ':')) {
		k.family = ELB_AF_INET6;
		pkt_ip6(vip, (uint8_t *)k.vip.addr);
	} else {
		k.family = ELB_AF_INET;
		pkt_ip4(vip, (uint8_t *)k.vip.addr);
	}
	return k;
}

static struct elb_l2_vip vip_get(int ifindex, const char *vip)
{
	struct elb_l2_key k = vip_key(ifindex, vip);
	struct elb_l2_vip v = {0};

	bpf_map_lookup_elem(m_vips, &k, &v);
	return v;
}

/* An announced VIP: its l2_vips_v1 entry, and its bit in vip_filter_v1 as the agent sets it
 * for every assigned service IP. */
static void vip_put(int ifindex, const char *vip)
{
	struct elb_l2_key k = vip_key(ifindex, vip);
	struct elb_l2_vip v = {.flags = ELB_L2_F_ACTIVE};
	__u32 h = elb_vip_filter_hash(&k.vip, k.family), w = h >> 6;
	__u64 bits = 0;

	bpf_map_update_elem(m_vips, &k, &v, BPF_ANY);
	bpf_map_lookup_elem(m_filter, &w, &bits);
	bits |= 1ULL << (h & 63);
	bpf_map_update_elem(m_filter, &w, &bits, BPF_ANY);
}

static void heartbeat(int64_t age_ms)
{
	struct timespec ts;
	struct elb_config c = {.heartbeat_max_ns = ELB_HEARTBEAT_MAX_NS};
	__u32 zero = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	c.heartbeat_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec -
			 (uint64_t)age_ms * 1000000ULL;
	bpf_map_update_elem(m_config, &zero, &c, BPF_ANY);
}

/* Sum of the reasons the layer-2 responder counts (truncation, ARP, NDP, heartbeat, VLAN). */
static uint64_t l2_stats(void)
{
	uint64_t n = stat(ELB_R_PASS_TRUNCATED) + stat(ELB_R_PASS_OTHER) + stat(ELB_R_VLAN);

	for (int r = ELB_R_ARP_REPLY; r <= ELB_R_HEARTBEAT_STALE; r++)
		n += stat(r);
	return n + stat(ELB_R_ARP_CONFLICT) + stat(ELB_R_NDP_CONFLICT);
}

#define NOT_L2 ELB_R_MAX /* expected reason: none of the layer-2 ones (the fast path's call) */

/* Runs a frame expecting XDP_PASS, unchanged, counted under reason exactly once. */
static void expect_pass(const char *name, const uint8_t *f, size_t len, uint32_t ifindex,
			int reason)
{
	struct h_run r = {.ifindex = ifindex};
	uint64_t before = reason == NOT_L2 ? l2_stats() : stat(reason);

	T_BEGIN("l2 pass: %s -> %s", name,
		reason == NOT_L2 ? "not a layer-2 reason" : elb_reason_names[reason]);
	T_EXPECT(h_run_xdp(prog, f, len, &r) == 0, "test run succeeds");
	T_EXPECT(r.retval == XDP_PASS, "action: got %s want XDP_PASS", h_xdp_action(r.retval));
	T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, f, len), "frame unchanged");
	if (reason == NOT_L2)
		T_EXPECT(l2_stats() == before, "layer-2 reasons unchanged: got +%llu",
			 (unsigned long long)(l2_stats() - before));
	else
		T_EXPECT(stat(reason) == before + 1, "%s: got +%llu want +1",
			 elb_reason_names[reason], (unsigned long long)(stat(reason) - before));
	T_END();
}

static void test_arp_reply(void)
{
	struct pkt_arp q = pkt_arp_request(PEER_MAC, PEER4, VIP4), a;
	uint8_t f[128], want[128];
	size_t n, wn;
	struct h_run r = {.ifindex = IFX};
	struct elb_l2_vip before = vip_get(IFX, VIP4), after;
	uint64_t sent = stat(ELB_R_ARP_REPLY);

	for (int pad = 0; pad < 2; pad++) {
		q.pad_to = pad ? 60 : 0;
		n = pkt_arp_build(&q, f, sizeof(f));
		/* RFC 826 reply: to the asker, from us, roles swapped */
		a = q;
		memcpy(a.dst, PEER_MAC, 6);
		memcpy(a.src, MY_MAC, 6);
		a.op = 2;
		memcpy(a.sha, MY_MAC, 6);
		pkt_ip4(VIP4, a.spa);
		memcpy(a.tha, PEER_MAC, 6);
		pkt_ip4(PEER4, a.tpa);
		wn = pkt_arp_build(&a, want, sizeof(want));

		T_BEGIN("l2 arp: request for a VIP -> exact reply, XDP_TX (%zu-byte frame)", n);
		T_EXPECT(h_run_xdp(prog, f, n, &r) == 0, "test run succeeds");
		T_EXPECT(r.retval == XDP_TX, "action: got %s want XDP_TX", h_xdp_action(r.retval));
		T_EXPECT(h_bytes_eq("arp reply", r.out, r.out_len, want, wn), "reply bytes");
		T_END();
	}
	after = vip_get(IFX, VIP4);
	T_BEGIN("l2 arp: per-VIP and per-reason counters");
	T_EXPECT(after.requests == before.requests + 2, "requests: got %llu want %llu",
		 (unsigned long long)after.requests, (unsigned long long)before.requests + 2);
	T_EXPECT(after.replies == before.replies + 2, "replies: got %llu want %llu",
		 (unsigned long long)after.replies, (unsigned long long)before.replies + 2);
	T_EXPECT(stat(ELB_R_ARP_REPLY) == sent + 2, "arp_reply +2");
	T_END();
}

/* The NA the responder must send for an NS (RFC 4861 7.2.4). */
static size_t expected_na(const struct pkt_nd *ns, uint8_t *out, size_t cap)
{
	static const uint8_t zero[16];
	struct pkt_nd na = {.hop_limit = 255, .type = 136, .opt_type = 2, .opt_len = 1};
	bool unspec = memcmp(ns->src_ip, zero, 16) == 0;

	memcpy(na.src, MY_MAC, 6);
	memcpy(na.opt_mac, MY_MAC, 6);
	memcpy(na.target, ns->target, 16);
	memcpy(na.src_ip, ns->target, 16);
	if (unspec) {
		static const uint8_t allnodes[6] = {0x33, 0x33, 0, 0, 0, 1};

		memcpy(na.dst, allnodes, 6);
		pkt_ip6("ff02::1", na.dst_ip);
		na.flags = 0x20000000; /* O */
	} else {
		memcpy(na.dst, ns->src, 6);
		memcpy(na.dst_ip, ns->src_ip, 16);
		na.flags = 0x60000000; /* S|O */
	}
	return pkt_nd_build(&na, out, cap);
}

static void run_ns(const char *name, const struct pkt_nd *ns)
{
	uint8_t f[256], want[256];
	size_t n = pkt_nd_build(ns, f, sizeof(f)), wn = expected_na(ns, want, sizeof(want));
	struct h_run r = {.ifindex = IFX};
	struct elb_l2_vip before = vip_get(IFX, VIP6), after;
	uint64_t sent = stat(ELB_R_NDP_NA_SENT);

	T_BEGIN("l2 ndp: %s -> exact NA, XDP_TX", name);
	T_EXPECT(pkt_icmp6_verify(f, n) == 0, "the NS we built has a valid checksum");
	T_EXPECT(h_run_xdp(prog, f, n, &r) == 0, "test run succeeds");
	T_EXPECT(r.retval == XDP_TX, "action: got %s want XDP_TX", h_xdp_action(r.retval));
	T_EXPECT(pkt_icmp6_verify(r.out, r.out_len) == 0,
		 "NA checksum verified independently (residue 0x%04x)",
		 pkt_icmp6_verify(r.out, r.out_len));
	T_EXPECT(h_bytes_eq("na", r.out, r.out_len, want, wn), "NA bytes");
	after = vip_get(IFX, VIP6);
	T_EXPECT(after.requests == before.requests + 1 && after.replies == before.replies + 1,
		 "per-VIP requests/replies +1");
	T_EXPECT(stat(ELB_R_NDP_NA_SENT) == sent + 1, "ndp_na_sent +1");
	T_END();
}

static void test_ns(void)
{
	struct pkt_nd ns = pkt_ns_multicast(PEER_MAC, PEER6, VIP6);

	run_ns("multicast NS with SLLA", &ns);

	/* unicast NUD (RFC 4861 7.3.1): to the target and our MAC, SLLA may be omitted */
	ns = pkt_ns_multicast(PEER_MAC, PEER6, VIP6);
	memcpy(ns.dst, MY_MAC, 6);
	pkt_ip6(VIP6, ns.dst_ip);
	ns.opt_type = 0;
	run_ns("unicast NUD NS without options", &ns);

	ns = pkt_ns_multicast(PEER_MAC, "2001:db8::1", VIP6);
	memcpy(ns.dst, MY_MAC, 6);
	pkt_ip6(VIP6, ns.dst_ip);
	run_ns("unicast NS with SLLA from a global address", &ns);

	/* DAD (RFC 4862 5.4.2): from ::, no SLLA; the answer goes to all-nodes with S=0 */
	ns = pkt_ns_multicast(PEER_MAC, "::", VIP6);
	run_ns("DAD NS from the unspecified address", &ns);
}

typedef void (*arp_mut)(struct pkt_arp *a);
static void m_none(struct pkt_arp *a)
{
}
static void m_garp_req(struct pkt_arp *a)
{
	pkt_ip4(VIP4, a->spa);
}
static void m_garp_reply(struct pkt_arp *a)
{
	pkt_ip4(VIP4, a->spa);
	a->op = 2;
	memset(a->dst, 0xff, 6);
}
static void m_garp_mine(struct pkt_arp *a)
{
	m_garp_req(a);
	memcpy(a->src, MY_MAC, 6);
	memcpy(a->sha, MY_MAC, 6);
}
static void m_garp_not_vip(struct pkt_arp *a)
{
	pkt_ip4("192.0.2.99", a->spa);
	pkt_ip4("192.0.2.99", a->tpa);
}
static void m_reply_from_vip(struct pkt_arp *a)
{
	a->op = 2;
	pkt_ip4(VIP4, a->spa);
	pkt_ip4(PEER4, a->tpa);
}
static void m_request_from_vip(struct pkt_arp *a)
{
	pkt_ip4(VIP4, a->spa);
	pkt_ip4(PEER4, a->tpa);
}
static void m_request_from_vip_mine(struct pkt_arp *a)
{
	m_request_from_vip(a);
	memcpy(a->src, MY_MAC, 6);
	memcpy(a->sha, MY_MAC, 6);
}
static void m_probe(struct pkt_arp *a)
{
	memset(a->spa, 0, 4);
}
static void m_htype(struct pkt_arp *a)
{
	a->htype = 6; /* IEEE 802 */
}
static void m_ptype(struct pkt_arp *a)
{
	a->ptype = 0x86dd;
}
static void m_hlen(struct pkt_arp *a)
{
	a->hlen = 8;
}
static void m_plen(struct pkt_arp *a)
{
	a->plen = 16;
}
static void m_mcast_sha(struct pkt_arp *a)
{
	a->sha[0] = 0x01;
}
static void m_reply(struct pkt_arp *a)
{
	a->op = 2;
}
static void m_rarp_op(struct pkt_arp *a)
{
	a->op = 3;
}
static void m_vlan(struct pkt_arp *a)
{
	a->vlan = 100;
}
static void m_not_vip(struct pkt_arp *a)
{
	pkt_ip4("192.0.2.99", a->tpa);
}
static void m_other_ifx_vip(struct pkt_arp *a)
{
	pkt_ip4(VIP4_OTHER, a->tpa);
}

static void test_arp_pass(void)
{
	static const struct {
		const char *name;
		arp_mut mut;
		uint32_t ifindex;
		enum elb_reason reason;
	} rows[] = {
	    {"gratuitous ARP request for a VIP from another MAC", m_garp_req, IFX,
	     ELB_R_ARP_CONFLICT},
	    {"gratuitous ARP reply for a VIP from another MAC", m_garp_reply, IFX,
	     ELB_R_ARP_CONFLICT},
	    {"ARP reply from a VIP's address, another MAC", m_reply_from_vip, IFX,
	     ELB_R_ARP_CONFLICT},
	    {"ARP request from a VIP's address, another MAC", m_request_from_vip, IFX,
	     ELB_R_ARP_CONFLICT},
	    {"ARP request from a VIP's address, our own MAC", m_request_from_vip_mine, IFX,
	     ELB_R_ARP_NOT_VIP},
	    {"gratuitous ARP for a VIP from our own MAC", m_garp_mine, IFX, ELB_R_ARP_GRATUITOUS},
	    {"gratuitous ARP for a non-VIP", m_garp_not_vip, IFX, ELB_R_ARP_GRATUITOUS},
	    {"gratuitous ARP for a VIP of another ifindex", m_garp_req, 0, ELB_R_ARP_GRATUITOUS},
	    {"ARP probe (sender 0.0.0.0)", m_probe, IFX, ELB_R_ARP_PROBE},
	    {"hardware type IEEE 802", m_htype, IFX, ELB_R_ARP_BAD},
	    {"protocol type IPv6", m_ptype, IFX, ELB_R_ARP_BAD},
	    {"hardware length 8", m_hlen, IFX, ELB_R_ARP_BAD},
	    {"protocol length 16", m_plen, IFX, ELB_R_ARP_BAD},
	    {"multicast sender hardware address", m_mcast_sha, IFX, ELB_R_ARP_BAD},
	    {"ARP reply for a VIP", m_reply, IFX, ELB_R_ARP_NOT_REQUEST},
	    {"opcode 3 (RARP)", m_rarp_op, IFX, ELB_R_ARP_NOT_REQUEST},
	    {"802.1Q-tagged request for a VIP", m_vlan, IFX, ELB_R_VLAN},
	    {"request for a non-VIP", m_not_vip, IFX, ELB_R_ARP_NOT_VIP},
	    {"request for a VIP of another ifindex", m_other_ifx_vip, IFX, ELB_R_ARP_NOT_VIP},
	    {"request for a VIP on an ifindex not ours", m_none, 0, ELB_R_ARP_NOT_VIP},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pkt_arp a = pkt_arp_request(PEER_MAC, PEER4, VIP4);
		uint8_t f[128];
		size_t n;

		rows[i].mut(&a);
		n = pkt_arp_build(&a, f, sizeof(f));
		if (!rows[i].ifindex && !not_ours) {
			T_BEGIN("l2 pass: %s", rows[i].name);
			t_skip("no interface besides lo in this namespace");
			continue;
		}
		expect_pass(rows[i].name, f, n, rows[i].ifindex ? rows[i].ifindex : not_ours,
			    rows[i].reason);
	}
}

typedef void (*nd_mut)(struct pkt_nd *n);
static void n_hop(struct pkt_nd *n)
{
	n->hop_limit = 64;
}
static void n_code(struct pkt_nd *n)
{
	n->code = 1;
}
static void n_csum(struct pkt_nd *n)
{
	n->csum_delta = 1;
}
static void n_optlen0(struct pkt_nd *n)
{
	n->opt_len = 0;
}
static void n_optlong(struct pkt_nd *n)
{
	n->opt_len = 2; /* claims 16 bytes, 8 present */
}
static void n_unspec_slla(struct pkt_nd *n)
{
	memset(n->src_ip, 0, 16);
}
static void n_mcast_target(struct pkt_nd *n)
{
	pkt_ip6("ff02::1", n->target);
}
static void n_wrong_group(struct pkt_nd *n)
{
	pkt_ip6("ff02::1:ff00:99", n->dst_ip);
}
static void n_not_vip(struct pkt_nd *n)
{
	struct pkt_nd o = pkt_ns_multicast(PEER_MAC, PEER6, "2001:db8::99");

	*n = o;
}
static void n_na(struct pkt_nd *n)
{
	n->type = 136;
}
static void n_na_mine(struct pkt_nd *n)
{
	n->type = 136;
	memcpy(n->src, MY_MAC, 6);
}
static void n_na_not_vip(struct pkt_nd *n)
{
	n_not_vip(n);
	n->type = 136;
}
static void n_na_hop(struct pkt_nd *n)
{
	n->type = 136;
	n->hop_limit = 64;
}

static void test_ndp_pass(void)
{
	static const struct {
		const char *name;
		nd_mut mut;
		uint32_t ifindex;
		int reason;
	} rows[] = {
	    {"hop limit 64", n_hop, IFX, ELB_R_NDP_BAD},
	    {"code 1", n_code, IFX, ELB_R_NDP_BAD},
	    {"bad checksum", n_csum, IFX, ELB_R_NDP_BAD},
	    {"option length 0", n_optlen0, IFX, ELB_R_NDP_BAD},
	    {"option longer than the message", n_optlong, IFX, ELB_R_NDP_BAD},
	    {"SLLA from the unspecified address", n_unspec_slla, IFX, ELB_R_NDP_BAD},
	    {"multicast target", n_mcast_target, IFX, ELB_R_NDP_BAD},
	    {"solicited-node group of another address", n_wrong_group, IFX, ELB_R_NDP_BAD},
	    {"NS for a non-VIP", n_not_vip, IFX, ELB_R_NDP_NOT_VIP},
	    {"NS for a VIP on an ifindex not ours", NULL, 0, ELB_R_NDP_NOT_VIP},
	    {"NA for a VIP from another MAC", n_na, IFX, ELB_R_NDP_CONFLICT},
	    {"NA for a VIP from our own MAC", n_na_mine, IFX, NOT_L2},
	    {"NA for a non-VIP", n_na_not_vip, IFX, NOT_L2},
	    {"NA for a VIP with hop limit 64 (not on link)", n_na_hop, IFX, NOT_L2},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pkt_nd n = pkt_ns_multicast(PEER_MAC, PEER6, VIP6);
		uint8_t f[256];
		size_t len;

		if (rows[i].mut)
			rows[i].mut(&n);
		len = pkt_nd_build(&n, f, sizeof(f));
		if (!rows[i].ifindex && !not_ours) {
			T_BEGIN("l2 pass: %s", rows[i].name);
			t_skip("no interface besides lo in this namespace");
			continue;
		}
		expect_pass(rows[i].name, f, len, rows[i].ifindex ? rows[i].ifindex : not_ours,
			    rows[i].reason);
	}
}

/* Conflicts are counted on the VIP's own entry, which the agent exports per VIP. */
static void test_conflict_counter(void)
{
	struct pkt_arp a = pkt_arp_request(PEER_MAC, PEER4, VIP4);
	struct pkt_nd n = pkt_ns_multicast(PEER_MAC, PEER6, VIP6);
	uint32_t c4 = vip_get(IFX, VIP4).conflicts, c6 = vip_get(IFX, VIP6).conflicts;
	uint8_t f[256];
	size_t len;
	struct h_run r = {.ifindex = IFX};

	T_BEGIN("l2 conflict: another MAC's gratuitous ARP and NA counted on the VIP's entry");
	m_garp_req(&a);
	len = pkt_arp_build(&a, f, sizeof(f));
	for (int i = 0; i < 3; i++)
		T_EXPECT(h_run_xdp(prog, f, len, &r) == 0 && r.retval == XDP_PASS, "GARP passes");
	n_na(&n);
	len = pkt_nd_build(&n, f, sizeof(f));
	T_EXPECT(h_run_xdp(prog, f, len, &r) == 0 && r.retval == XDP_PASS, "NA passes");
	T_EXPECT(vip_get(IFX, VIP4).conflicts == c4 + 3, "IPv4 VIP conflicts: got %u want %u",
		 vip_get(IFX, VIP4).conflicts, c4 + 3);
	T_EXPECT(vip_get(IFX, VIP6).conflicts == c6 + 1, "IPv6 VIP conflicts: got %u want %u",
		 vip_get(IFX, VIP6).conflicts, c6 + 1);
	T_END();
}

/* Every prefix of a valid request, from the shortest frame a test run accepts (14 bytes). */
static void test_truncated(void)
{
	struct pkt_arp a = pkt_arp_request(PEER_MAC, PEER4, VIP4);
	struct pkt_nd ns = pkt_ns_multicast(PEER_MAC, PEER6, VIP6);
	uint8_t f[256];
	size_t n;
	int bad = 0;
	uint64_t before = stat(ELB_R_PASS_TRUNCATED),
		 replies = stat(ELB_R_ARP_REPLY) + stat(ELB_R_NDP_NA_SENT);
	size_t runs = 0;

	T_BEGIN("l2 truncated: ARP and NS frames cut at every length pass as pass_truncated");
	for (int which = 0; which < 2; which++) {
		n = which ? pkt_nd_build(&ns, f, sizeof(f)) : pkt_arp_build(&a, f, sizeof(f));
		for (size_t len = 14; len < n; len++) {
			struct h_run r = {.ifindex = IFX};

			runs++;
			if (h_run_xdp(prog, f, len, &r) != 0 || r.retval != XDP_PASS ||
			    !h_bytes_eq("cut frame", r.out, r.out_len, f, len)) {
				T_EXPECT(0, "%s cut to %zu bytes: %s", which ? "NS" : "ARP", len,
					 h_xdp_action(r.retval));
				bad++;
			}
		}
	}
	T_EXPECT(stat(ELB_R_PASS_TRUNCATED) == before + runs, "pass_truncated: got +%llu want +%zu",
		 (unsigned long long)(stat(ELB_R_PASS_TRUNCATED) - before), runs);
	T_EXPECT(stat(ELB_R_ARP_REPLY) + stat(ELB_R_NDP_NA_SENT) == replies, "no reply sent");
	T_END();
}

static void test_heartbeat(void)
{
	struct pkt_arp a = pkt_arp_request(PEER_MAC, PEER4, VIP4);
	struct pkt_nd ns = pkt_ns_multicast(PEER_MAC, PEER6, VIP6);
	uint8_t f[256];
	size_t n;
	struct elb_l2_vip before = vip_get(IFX, VIP4), after;
	struct h_run r = {.ifindex = IFX};

	heartbeat(10000); /* 10 s old, bound 3 s */
	n = pkt_arp_build(&a, f, sizeof(f));
	expect_pass("ARP request for a VIP, heartbeat 10 s old", f, n, IFX, ELB_R_HEARTBEAT_STALE);
	after = vip_get(IFX, VIP4);
	T_BEGIN("l2 heartbeat: a stale request is counted, not answered");
	T_EXPECT(after.requests == before.requests + 1, "requests +1");
	T_EXPECT(after.replies == before.replies, "replies unchanged");
	T_END();
	n = pkt_nd_build(&ns, f, sizeof(f));
	expect_pass("NS for a VIP, heartbeat 10 s old", f, n, IFX, ELB_R_HEARTBEAT_STALE);

	heartbeat(2000); /* within the bound again */
	n = pkt_arp_build(&a, f, sizeof(f));
	T_BEGIN("l2 heartbeat: a beat 2 s old (bound 3 s) answers again");
	T_EXPECT(h_run_xdp(prog, f, n, &r) == 0 && r.retval == XDP_TX, "action: got %s",
		 h_xdp_action(r.retval));
	T_END();
}

static void test_inactive(void)
{
	struct elb_l2_key k = vip_key(IFX, VIP4);
	struct elb_l2_vip v = {.flags = 0};
	struct pkt_arp a = pkt_arp_request(PEER_MAC, PEER4, VIP4);
	uint8_t f[128];
	size_t n = pkt_arp_build(&a, f, sizeof(f));
	__u32 ifx = IFX;
	struct elb_iface ifc = {.flags = ELB_IFACE_F_LB}; /* fast path only, no layer 2 */

	bpf_map_update_elem(m_vips, &k, &v, BPF_ANY);
	expect_pass("ARP request for a VIP entry without the active flag", f, n, IFX,
		    ELB_R_ARP_NOT_VIP);
	vip_put(IFX, VIP4);
	memcpy(ifc.mac, MY_MAC, 6);
	bpf_map_update_elem(m_ifaces, &ifx, &ifc, BPF_ANY);
	expect_pass("ARP request on an interface without the layer-2 flag", f, n, IFX,
		    ELB_R_ARP_NOT_VIP);
	ifc.flags = ELB_IFACE_F_L2;
	bpf_map_update_elem(m_ifaces, &ifx, &ifc, BPF_ANY);
}

int main(void)
{
	struct bpf_object *obj = h_load("xdp_ingress");
	struct elb_iface ifc = {.flags = ELB_IFACE_F_L2};
	__u32 ifx;

	prog = h_prog_fd(obj, "xdp_ingress");
	m_stats = h_map_fd(obj, ELB_MAP_STATS);
	m_vips = h_map_fd(obj, ELB_MAP_L2_VIPS);
	m_ifaces = h_map_fd(obj, ELB_MAP_IFACES);
	m_config = h_map_fd(obj, ELB_MAP_CONFIG);
	m_filter = h_map_fd(obj, ELB_MAP_VIP_FILTER);
	ncpu = libbpf_num_possible_cpus();
	not_ours = find_not_ours();

	memcpy(ifc.mac, MY_MAC, 6);
	ifx = IFX;
	bpf_map_update_elem(m_ifaces, &ifx, &ifc, BPF_ANY);
	ifc.mac[5] = 0xbb;
	ifx = OTHER_IFX;
	bpf_map_update_elem(m_ifaces, &ifx, &ifc, BPF_ANY);
	vip_put(IFX, VIP4);
	vip_put(IFX, VIP6);
	vip_put(OTHER_IFX, VIP4_OTHER);
	heartbeat(0);

	test_arp_reply();
	test_ns();
	test_arp_pass();
	test_ndp_pass();
	test_conflict_counter();
	test_truncated();
	test_inactive();
	test_heartbeat();

	bpf_object__close(obj);
	return t_exit();
}
