/* BPF tier, service fast path: the real xdp_ingress and tc_revnat objects, maps programmed by
 * the real agent code (lb_sync), packets from the builder in pkt_l4.c. Expected frames are
 * built independently with full checksums, and every output is re-verified by recomputing its
 * checksums. bpf_fib_lookup uses this process's network namespace, so the test moves into a
 * private one (unshare) with two veth pairs and permanent neighbours:
 *
 *   client 198.51.100.7 / 2001:db8:c::7 ── elbin0 [XDP here] │ elbbe0 ── backends 192.0.2.11..
 *                                     198.51.100.1           │ 192.0.2.1   2001:db8:b::11..
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <linux/pkt_cls.h>

#define ELB_STATS_NAMES
#include <edgelb/stats.h>
#include <edgelb/lb.h>
#include <edgelb/maps.h>

#include "bpf/harness.h"
#include "bpf/pkt_l4.h"
#include "dataplane/clock.h"
#include "dataplane/ct_cache.h"
#include "dataplane/lb.h"
#include "t.h"

static const uint8_t MAC_IN[6] = {0x02, 0, 0, 0, 0, 0xa0};
static const uint8_t MAC_BE0[6] = {0x02, 0, 0, 0, 0, 0xb0};
static const uint8_t MAC_CLIENT[6] = {0x02, 0xc1, 0, 0, 0, 0x07};
static const uint8_t MAC_B11[6] = {0x02, 0xbe, 0, 0, 0, 0x11};
static const uint8_t MAC_B21[6] = {0x02, 0xbe, 0, 0, 0, 0x21}; /* .11's after a change */

static struct bpf_object *xobj, *tobj;
static int xprog, tprog, stats_fd;
static int ct_fd[2]; /* by direction: ct_fwd_v1, ct_reply_v1 */
static struct lb_fds fds;
static int if_in, if_be;

static struct ip IP(const char *s)
{
	struct ip ip;

	if (ip_parse(s, &ip)) {
		fprintf(stderr, "bad ip %s\n", s);
		exit(1);
	}
	return ip;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc)
		printf("  command failed (%d): %s\n", rc, cmd);
	return rc;
}

static int netns_setup(void)
{
	static const char *const cmds[] = {
		"ip link set lo up",
		"ip link add elbin0 address 02:00:00:00:00:a0 type veth peer name elbin1",
		"ip link add elbbe0 address 02:00:00:00:00:b0 type veth peer name elbbe1",
		"sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1",
		"sysctl -qw net.ipv6.conf.default.forwarding=1",
		"ip link set elbin0 up", "ip link set elbin1 up", "ip link set elbbe0 up",
		"ip link set elbbe1 up",
		"ip addr add 198.51.100.1/24 dev elbin0",
		"ip addr add 192.0.2.1/24 dev elbbe0",
		"ip -6 addr add 2001:db8:c::1/64 dev elbin0 nodad",
		"ip -6 addr add 2001:db8:b::1/64 dev elbbe0 nodad",
		"ip neigh add 192.0.2.11 lladdr 02:be:00:00:00:11 dev elbbe0 nud permanent",
		"ip neigh add 192.0.2.12 lladdr 02:be:00:00:00:12 dev elbbe0 nud permanent",
		"ip neigh add 192.0.2.13 lladdr 02:be:00:00:00:13 dev elbbe0 nud permanent",
		"ip neigh add 192.0.2.14 lladdr 02:be:00:00:00:14 dev elbbe0 nud permanent",
		"ip neigh add 192.0.2.15 lladdr 02:be:00:00:00:15 dev elbbe0 nud permanent",
		"ip neigh add 192.0.2.16 lladdr 02:be:00:00:00:16 dev elbbe0 nud permanent",
		"ip -6 neigh add 2001:db8:b::11 lladdr 02:be:00:00:00:11 dev elbbe0 nud permanent",
		"ip neigh add 198.51.100.7 lladdr 02:c1:00:00:00:07 dev elbin0 nud permanent",
		"ip -6 neigh add 2001:db8:c::7 lladdr 02:c1:00:00:00:07 dev elbin0 nud permanent",
	};

	if (unshare(CLONE_NEWNET))
		return -1;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (sh(cmds[i]))
			return -1;
	if_in = (int)if_nametoindex("elbin0");
	if_be = (int)if_nametoindex("elbbe0");
	return if_in && if_be ? 0 : -1;
}

/* tc_revnat shares every map of xdp_ingress (as the loader does with pins). */
static void load_objects(void)
{
	const char *b = getenv("B");
	char path[512];
	struct bpf_map *m;

	xobj = h_load("xdp_ingress");
	xprog = h_prog_fd(xobj, "xdp_ingress");
	snprintf(path, sizeof(path), "%s/bpf/tc_revnat.bpf.o", b && *b ? b : "build");
	tobj = bpf_object__open_file(path, NULL);
	if (!tobj || libbpf_get_error(tobj)) {
		fprintf(stderr, "open %s failed\n", path);
		exit(1);
	}
	bpf_object__for_each_map(m, tobj)
	{
		struct bpf_map *x = bpf_object__find_map_by_name(xobj, bpf_map__name(m));

		if (x && bpf_map__reuse_fd(m, bpf_map__fd(x))) {
			fprintf(stderr, "reuse %s failed\n", bpf_map__name(m));
			exit(1);
		}
	}
	if (dp_clock_set(tobj) || bpf_object__load(tobj)) {
		fprintf(stderr, "load tc_revnat failed\n");
		exit(1);
	}
	tprog = h_prog_fd(tobj, "tc_revnat");
	stats_fd = h_map_fd(xobj, ELB_MAP_STATS);
	ct_fd[ELB_CT_FORWARD] = h_map_fd(xobj, ELB_MAP_CT_FWD);
	ct_fd[ELB_CT_REPLY] = h_map_fd(xobj, ELB_MAP_CT_REPLY);
	fds.services = h_map_fd(xobj, ELB_MAP_SERVICES);
	fds.backends = h_map_fd(xobj, ELB_MAP_BACKENDS);
	fds.maglev = h_map_fd(xobj, ELB_MAP_MAGLEV);
	fds.svc_stats = h_map_fd(xobj, ELB_MAP_SVC_STATS);
	fds.be_stats = h_map_fd(xobj, ELB_MAP_BE_STATS);
	fds.ct_fwd = ct_fd[ELB_CT_FORWARD];
	fds.ct_reply = ct_fd[ELB_CT_REPLY];
	fds.vip_filter = h_map_fd(xobj, ELB_MAP_VIP_FILTER);
	fds.config = h_map_fd(xobj, ELB_MAP_CONFIG);
}

static uint64_t reason(int r)
{
	int ncpu = libbpf_num_possible_cpus();
	struct elb_counter per[ncpu];
	__u32 key = r;
	uint64_t n = 0;

	if (bpf_map_lookup_elem(stats_fd, &key, per))
		return 0;
	for (int i = 0; i < ncpu; i++)
		n += per[i].packets;
	return n;
}

/* ---- services under test ---- */

static struct cfg_backend be_one[2], be_web[8], be_noneigh[1];
static struct cfg_port ports_one[3], ports_web[1], ports_empty[1], ports_noneigh[1];
static struct cfg_service svc_one, svc_web, svc_empty, svc_noneigh;
static struct lb_vip vips[4];

static struct cfg_backend BE(const char *ip, uint16_t port, uint16_t weight,
			     enum cfg_backend_state st)
{
	return (struct cfg_backend){.addr = IP(ip), .port = port, .weight = weight, .state = st};
}

static void services_init(void)
{
	be_one[0] = BE("192.0.2.11", 8080, 1, CFG_BE_READY);
	be_one[1] = BE("2001:db8:b::11", 8080, 1, CFG_BE_READY);
	cfg_service_set_name(&svc_one, "default/one");
	svc_one.ports = ports_one;
	svc_one.ports[0] = (struct cfg_port){80, IPPROTO_TCP};
	svc_one.ports[1] = (struct cfg_port){53, IPPROTO_UDP};
	svc_one.ports[2] = (struct cfg_port){8443, IPPROTO_TCP}; /* to the same backend port */
	svc_one.n_ports = 3;
	svc_one.backends = be_one;
	svc_one.n_backends = 2;
	svc_one.allow_icmp_echo = true;
	vips[0] = (struct lb_vip){.svc = &svc_one, .ips = {IP("203.0.113.11"), IP("2001:db8:f::11")},
				  .n_ips = 2};

	be_web[0] = BE("192.0.2.12", 8080, 1, CFG_BE_READY);
	be_web[1] = BE("192.0.2.13", 8080, 1, CFG_BE_READY);
	be_web[2] = BE("192.0.2.14", 8080, 1, CFG_BE_READY);
	cfg_service_set_name(&svc_web, "default/web");
	svc_web.ports = ports_web;
	svc_web.ports[0] = (struct cfg_port){80, IPPROTO_TCP};
	svc_web.n_ports = 1;
	svc_web.backends = be_web;
	svc_web.n_backends = 3;
	vips[1] = (struct lb_vip){.svc = &svc_web, .ips = {IP("203.0.113.10")}, .n_ips = 1};

	cfg_service_set_name(&svc_empty, "default/empty");
	svc_empty.ports = ports_empty;
	svc_empty.ports[0] = (struct cfg_port){80, IPPROTO_TCP};
	svc_empty.n_ports = 1;
	vips[2] = (struct lb_vip){.svc = &svc_empty, .ips = {IP("203.0.113.20")}, .n_ips = 1};

	be_noneigh[0] = BE("192.0.2.99", 80, 1, CFG_BE_READY);
	cfg_service_set_name(&svc_noneigh, "default/noneigh");
	svc_noneigh.ports = ports_noneigh;
	svc_noneigh.ports[0] = (struct cfg_port){80, IPPROTO_TCP};
	svc_noneigh.n_ports = 1;
	svc_noneigh.backends = be_noneigh;
	svc_noneigh.n_backends = 1;
	vips[3] = (struct lb_vip){.svc = &svc_noneigh, .ips = {IP("203.0.113.30")}, .n_ips = 1};
}

static int linger;

static int sync_all(void)
{
	char err[256] = "";
	int rc = lb_sync(&fds, vips, 4, &linger, err, sizeof(err));

	if (rc)
		printf("  lb_sync: %s\n", err);
	return rc;
}

/* ---- packets ---- */

static struct l4_spec client_pkt(const char *dst, uint8_t proto, uint16_t sport, uint16_t dport,
				  uint8_t flags)
{
	struct l4_spec s = {0};

	memcpy(s.dmac, MAC_IN, 6);
	memcpy(s.smac, MAC_CLIENT, 6);
	s.dst = IP(dst);
	s.src = IP(s.dst.family == AF_INET ? "198.51.100.7" : "2001:db8:c::7");
	s.proto = proto;
	s.sport = sport;
	s.dport = dport;
	s.tcp_flags = flags;
	return s;
}

/* The same packet as the node forwards it to backend be:port (new MACs, TTL - 1). */
static struct l4_spec forwarded(struct l4_spec s, const char *be, uint16_t port,
				 const uint8_t dmac[6])
{
	s.dst = IP(be);
	s.dport = port;
	s.vlan = 0;
	memcpy(s.dmac, dmac, 6);
	memcpy(s.smac, MAC_BE0, 6);
	s.ttl = (s.ttl ? s.ttl : 64) - 1;
	return s;
}

/* A reply from a backend toward a client, as it leaves the compute port (tc_revnat's input). */
static struct l4_spec backend_reply(const char *be, const char *client, uint8_t proto,
				     uint16_t sport, uint16_t dport, uint8_t flags)
{
	struct l4_spec s = {0};

	memcpy(s.dmac, MAC_CLIENT, 6);
	memcpy(s.smac, MAC_IN, 6);
	s.src = IP(be);
	s.dst = IP(client);
	s.proto = proto;
	s.sport = sport;
	s.dport = dport;
	s.tcp_flags = flags;
	return s;
}

static int run_xdp(const uint8_t *pkt, size_t len, struct h_run *r)
{
	memset(r, 0, sizeof(*r));
	r->ifindex = if_in;
	return h_run_xdp(xprog, pkt, len, r);
}

static int run_tc(const uint8_t *pkt, size_t len, uint8_t *out, uint32_t *out_len,
		  uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = 2048, .repeat = 1);

	if (bpf_prog_test_run_opts(tprog, &o))
		return -errno;
	*out_len = o.data_size_out;
	*retval = o.retval;
	return 0;
}

static int verified(const uint8_t *f, size_t len)
{
	char why[128];
	uint16_t res;

	if (l4_verify(f, len, &res, why, sizeof(why)))
		return 1;
	printf("  checksum recomputation: %s\n", why);
	return 0;
}

/* One row: a packet to VIP 203.0.113.11 / 2001:db8:f::11 must leave redirected to backend
 * .11 port 8080 on elbbe0, byte-exact. */
struct fwd_row {
	const char *name;
	const char *vip, *be;
	uint8_t proto, flags;
	uint16_t vlan;
	int ip_opts, ext_hdrs;
	uint16_t sport;
	int payload;
};

static void test_forward_rows(void)
{
	static const uint8_t data[64] = "edgelb payload bytes";
	struct fwd_row rows[] = {
		{"TCP SYN IPv4", "203.0.113.11", "192.0.2.11", IPPROTO_TCP, L4_TCP_SYN, 0, 0, 0, 40001, 0},
		{"TCP ACK IPv4 (same flow)", "203.0.113.11", "192.0.2.11", IPPROTO_TCP, L4_TCP_ACK, 0, 0, 0, 40001, 20},
		{"TCP FIN IPv4", "203.0.113.11", "192.0.2.11", IPPROTO_TCP, L4_TCP_FIN | L4_TCP_ACK, 0, 0, 0, 40001, 0},
		{"TCP RST IPv4", "203.0.113.11", "192.0.2.11", IPPROTO_TCP, L4_TCP_RST, 0, 0, 0, 40002, 0},
		{"UDP IPv4", "203.0.113.11", "192.0.2.11", IPPROTO_UDP, 0, 0, 0, 0, 40003, 33},
		{"TCP SYN IPv6", "2001:db8:f::11", "2001:db8:b::11", IPPROTO_TCP, L4_TCP_SYN, 0, 0, 0, 40004, 0},
		{"UDP IPv6", "2001:db8:f::11", "2001:db8:b::11", IPPROTO_UDP, 0, 0, 0, 0, 40005, 17},
		{"VLAN-tagged TCP SYN (tag dropped toward the backend)", "203.0.113.11", "192.0.2.11", IPPROTO_TCP, L4_TCP_SYN, 100, 0, 0, 40006, 0},
		{"IPv4 options (12 bytes)", "203.0.113.11", "192.0.2.11", IPPROTO_TCP, L4_TCP_SYN, 0, 12, 0, 40007, 0},
		{"IPv4 options (40 bytes)", "203.0.113.11", "192.0.2.11", IPPROTO_UDP, 0, 0, 40, 0, 40008, 5},
		{"IPv6 hop-by-hop + destination options", "2001:db8:f::11", "2001:db8:b::11", IPPROTO_TCP, L4_TCP_SYN, 0, 0, 2, 40009, 0},
		{"IPv6 extension headers, UDP, VLAN", "2001:db8:f::11", "2001:db8:b::11", IPPROTO_UDP, 0, 7, 0, 1, 40010, 9},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fwd_row *w = &rows[i];
		uint16_t vport = w->proto == IPPROTO_TCP ? 80 : 53;
		struct l4_spec s = client_pkt(w->vip, w->proto, w->sport, vport, w->flags);
		struct l4_spec e;
		uint8_t in[512], want[512];
		size_t n, wn;
		struct h_run r;
		uint64_t fwd0 = reason(ELB_R_LB_FORWARD);

		s.vlan = w->vlan;
		s.ip_opts = w->ip_opts;
		s.ext_hdrs = w->ext_hdrs;
		s.payload = data;
		s.plen = w->payload;
		e = forwarded(s, w->be, 8080, MAC_B11);
		n = l4_build(&s, in, sizeof(in));
		wn = l4_build(&e, want, sizeof(want));
		T_BEGIN("lb: %s → backend %s:8080, exact bytes", w->name, w->be);
		T_EXPECT(verified(in, n), "input checksums valid");
		T_EXPECT(run_xdp(in, n, &r) == 0, "test run");
		T_EXPECT(r.retval == XDP_REDIRECT, "action: got %s want XDP_REDIRECT",
			 h_xdp_action(r.retval));
		T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, want, wn), "output bytes");
		T_EXPECT(verified(r.out, r.out_len), "output checksums valid (full recomputation)");
		T_EXPECT(reason(ELB_R_LB_FORWARD) == fwd0 + 1, "lb_forward counted");
		T_END();
	}
}

static struct elb_ct_key ct_key(const char *src, uint16_t sport, const char *dst,
				uint16_t dport, uint8_t proto, int dir)
{
	struct elb_ct_key k = {0};
	struct ip s = IP(src), d = IP(dst);

	ip_to_elb(&s, &k.src);
	ip_to_elb(&d, &k.dst);
	k.sport = htons(sport);
	k.dport = htons(dport);
	k.proto = proto;
	k.family = s.family == AF_INET ? ELB_AF_INET : ELB_AF_INET6;
	k.dir = dir;
	return k;
}

static int ct_get(const char *src, uint16_t sport, const char *dst, uint16_t dport,
		  uint8_t proto, int dir, struct elb_ct *out)
{
	struct elb_ct_key k = ct_key(src, sport, dst, dport, proto, dir);

	return bpf_map_lookup_elem(ct_fd[dir], &k, out);
}

static void test_conntrack_states(void)
{
	struct elb_ct ct;
	struct ip be;

	T_BEGIN("lb: conntrack forward and reply entries for the TCP flow");
	T_EXPECT(ct_get("198.51.100.7", 40001, "203.0.113.11", 80, IPPROTO_TCP, ELB_CT_FORWARD,
			&ct) == 0,
		 "forward entry exists");
	ip_from_elb(AF_INET, &ct.nat, &be);
	T_EXPECT(ip_eq(&be, &(struct ip){0}) == 0 && ct.nat_port == htons(8080), "NAT to :8080");
	T_EXPECT(ct.state == ELB_CT_CLOSING, "state after FIN: got %u want closing", ct.state);
	T_EXPECT(ct_get("192.0.2.11", 8080, "198.51.100.7", 40001, IPPROTO_TCP, ELB_CT_REPLY,
			&ct) == 0,
		 "reply entry exists");
	T_EXPECT(ct.nat_port == htons(80), "reply maps back to port 80");
	T_EXPECT(ct_get("198.51.100.7", 40003, "203.0.113.11", 53, IPPROTO_UDP, ELB_CT_FORWARD,
			&ct) == 0 &&
			 ct.state == ELB_CT_UDP,
		 "UDP flow state udp");
	T_EXPECT(ct_get("198.51.100.7", 40004, "203.0.113.11", 80, IPPROTO_TCP, ELB_CT_FORWARD,
			&ct) != 0,
		 "no entry for a flow never seen");
	T_END();
}

/* Every header boundary of a TCP SYN (untagged, tagged, IPv6): cut there, the frame passes
 * unchanged (too short to judge) or, with a whole IP header for a VIP, is dropped as bad L4. */
static void test_truncation(void)
{
	struct {
		const char *name;
		const char *vip;
		uint16_t vlan;
		int ext;
	} kinds[] = {{"IPv4", "203.0.113.11", 0, 0},
		     {"VLAN IPv4", "203.0.113.11", 5, 0},
		     {"IPv6 + ext", "2001:db8:f::11", 0, 1}};

	for (size_t k = 0; k < 3; k++) {
		struct l4_spec s = client_pkt(kinds[k].vip, IPPROTO_TCP, 41000, 80, L4_TCP_SYN);
		uint8_t in[256];
		size_t n, l2 = 14 + (kinds[k].vlan ? 4 : 0);
		size_t l3 = kinds[k].vip[0] == '2' && kinds[k].vip[1] == '0' &&
					    strchr(kinds[k].vip, ':')
				    ? 40 + 8 * kinds[k].ext
				    : 20;
		size_t cuts[] = {0,	     6,		12,	     13,	     l2 - 1,
				 l2,	     l2 + 1,	l2 + 19,     l2 + 20,	     l2 + 39,
				 l2 + 40,    l2 + 47,	l2 + l3 - 1, l2 + l3,	     l2 + l3 + 4,
				 l2 + l3 + 19};

		s.vlan = kinds[k].vlan;
		s.ext_hdrs = kinds[k].ext;
		n = l4_build(&s, in, sizeof(in));
		for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
			struct h_run r;
			size_t len = cuts[c];
			int v6 = strchr(kinds[k].vip, ':') != NULL;
			/* IPv4 with a whole header is judged (dropped as bad L4); IPv6 shorter than
			 * its payload length is passed as truncated by the layer-2 parser first */
			uint32_t want = (!v6 && len >= l2 + l3) ? XDP_DROP : XDP_PASS;
			int rc;

			if (len >= n || (c > 0 && len <= cuts[c - 1]) || (!v6 && len > l2 + 20 &&
									     len < l2 + l3))
				continue; /* past the end, repeated, or no boundary of this kind */
			T_BEGIN("lb: truncated %s at %zu of %zu bytes → %s", kinds[k].name, len, n,
				h_xdp_action(want));
			if (len < 14) {
				/* BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header */
				rc = run_xdp(in, len, &r);
				T_EXPECT(rc != 0 || r.retval == XDP_PASS, "short frame not forwarded");
				T_END();
				continue;
			}
			rc = run_xdp(in, len, &r);
			T_EXPECT(rc == 0, "test run");
			T_EXPECT(r.retval == want, "action: got %s want %s", h_xdp_action(r.retval),
				 h_xdp_action(want));
			T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, in, len), "unchanged");
			T_END();
		}
	}
}

static void test_bad_checksum(void)
{
	struct {
		const char *name, *vip;
		uint8_t proto;
	} rows[] = {{"TCP IPv4", "203.0.113.11", IPPROTO_TCP},
		    {"UDP IPv4", "203.0.113.11", IPPROTO_UDP},
		    {"TCP IPv6", "2001:db8:f::11", IPPROTO_TCP}};

	for (int i = 0; i < 3; i++) {
		struct l4_spec s = client_pkt(rows[i].vip, rows[i].proto, 42000 + i,
					       rows[i].proto == IPPROTO_TCP ? 80 : 53, L4_TCP_SYN);
		uint8_t in[256];
		char why[128];
		uint16_t rin = 0, rout = 0;
		struct h_run r;
		size_t n;

		s.bad_csum = 0x1111;
		n = l4_build(&s, in, sizeof(in));
		T_BEGIN("lb: bad L4 checksum (%s) stays bad by the same amount", rows[i].name);
		T_EXPECT(!l4_verify(in, n, &rin, why, sizeof(why)), "input is bad");
		T_EXPECT(run_xdp(in, n, &r) == 0 && r.retval == XDP_REDIRECT, "forwarded: %s",
			 h_xdp_action(r.retval));
		T_EXPECT(!l4_verify(r.out, r.out_len, &rout, why, sizeof(why)), "output is bad");
		T_EXPECT(rin == rout, "residual: in 0x%04x out 0x%04x", rin, rout);
		T_END();
	}
}

static void expect_drop_pass(const char *name, const uint8_t *in, size_t n, uint32_t act,
			     int rsn)
{
	uint64_t before = reason(rsn);
	struct h_run r;

	T_BEGIN("lb: %s → %s, counted %s", name, h_xdp_action(act), elb_reason_names[rsn]);
	T_EXPECT(run_xdp(in, n, &r) == 0, "test run");
	T_EXPECT(r.retval == act, "action: got %s want %s", h_xdp_action(r.retval),
		 h_xdp_action(act));
	T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, in, n), "unchanged");
	T_EXPECT(reason(rsn) == before + 1, "%s: got %llu want %llu", elb_reason_names[rsn],
		 (unsigned long long)reason(rsn), (unsigned long long)before + 1);
	T_END();
}

static void test_not_forwarded(void)
{
	uint8_t in[256];
	size_t n;
	struct l4_spec s;

	s = client_pkt("203.0.113.11", IPPROTO_UDP, 43000, 53, 0);
	s.frag = 1;
	n = l4_build(&s, in, sizeof(in));
	expect_drop_pass("IPv4 fragment (MF) to a VIP", in, n, XDP_DROP, ELB_R_LB_FRAGMENT);
	s = client_pkt("2001:db8:f::11", IPPROTO_UDP, 43000, 53, 0);
	s.frag = 1;
	s.ext_hdrs = 1;
	n = l4_build(&s, in, sizeof(in));
	expect_drop_pass("IPv6 fragment header to a VIP", in, n, XDP_DROP, ELB_R_LB_FRAGMENT);
	s = client_pkt("198.51.100.99", IPPROTO_TCP, 43001, 80, L4_TCP_SYN);
	n = l4_build(&s, in, sizeof(in));
	expect_drop_pass("non-VIP TCP", in, n, XDP_PASS, ELB_R_LB_NOT_SERVICE);
	s = client_pkt("2001:db8:c::99", IPPROTO_UDP, 43001, 53, 0);
	n = l4_build(&s, in, sizeof(in));
	expect_drop_pass("non-VIP UDP IPv6", in, n, XDP_PASS, ELB_R_LB_NOT_SERVICE);
	s = client_pkt("203.0.113.11", IPPROTO_TCP, 43002, 443, L4_TCP_SYN);
	n = l4_build(&s, in, sizeof(in));
	expect_drop_pass("VIP on a port it does not serve", in, n, XDP_DROP, ELB_R_LB_NO_PORT);
	s = client_pkt("203.0.113.11", IPPROTO_UDP, 43002, 80, 0);
	n = l4_build(&s, in, sizeof(in));
	expect_drop_pass("VIP port served for TCP, sent UDP", in, n, XDP_DROP, ELB_R_LB_NO_PORT);
	s = client_pkt("203.0.113.11", 47 /* GRE */, 0, 0, 0);
	n = l4_build(&s, in, sizeof(in));
	expect_drop_pass("VIP, protocol not served (GRE)", in, n, XDP_DROP,
			 ELB_R_LB_UNKNOWN_PROTO);
	s = client_pkt("203.0.113.20", IPPROTO_TCP, 43003, 80, L4_TCP_SYN);
	n = l4_build(&s, in, sizeof(in));
	expect_drop_pass("service with zero backends", in, n, XDP_DROP, ELB_R_LB_NO_BACKEND);
	s = client_pkt("203.0.113.10", IPPROTO_ICMP, 0, 0, 0);
	s.icmp_type = 8;
	s.icmp_rest = 0x00010001;
	n = l4_build(&s, in, sizeof(in));
	expect_drop_pass("ICMP echo to a VIP whose service does not allow it", in, n, XDP_DROP,
			 ELB_R_LB_ICMP_UNKNOWN);
}

/* An address whose bit in vip_filter_v1 is a VIP's (a hash collision) is still not a VIP:
 * conntrack and services_v1 settle it, and it passes untouched. */
static void test_filter_collision(void)
{
	struct ip vip = IP("203.0.113.11"), x = IP("100.64.0.0");
	struct elb_ip ev, ex;
	uint8_t in[256];
	size_t n;
	int found = 0;
	char buf[IP_STRLEN];

	ip_to_elb(&vip, &ev);
	for (uint32_t i = 0; i < (1u << 22) && !found; i++) {
		x.a[1] = (uint8_t)(64 + (i >> 16));
		x.a[2] = (uint8_t)(i >> 8);
		x.a[3] = (uint8_t)i;
		ip_to_elb(&x, &ex);
		found = elb_vip_filter_hash(&ex, ELB_AF_INET) == elb_vip_filter_hash(&ev, ELB_AF_INET);
	}
	T_BEGIN("lb: VIP filter collision found for the test");
	T_EXPECT(found, "an address sharing 203.0.113.11's filter bit");
	T_END();
	if (!found)
		return;
	struct l4_spec s = client_pkt(ip_str(&x, buf), IPPROTO_TCP, 43100, 80, L4_TCP_SYN);
	n = l4_build(&s, in, sizeof(in));
	expect_drop_pass("non-VIP TCP whose filter bit collides with a VIP", in, n, XDP_PASS,
			 ELB_R_LB_NOT_SERVICE);
	s = client_pkt(ip_str(&x, buf), IPPROTO_ICMP, 0, 0, 0);
	s.icmp_type = 8;
	n = l4_build(&s, in, sizeof(in));
	expect_drop_pass("non-VIP ICMP whose filter bit collides with a VIP", in, n, XDP_PASS,
			 ELB_R_LB_NOT_SERVICE);
}

static void test_no_neigh(void)
{
	struct l4_spec s = client_pkt("203.0.113.30", IPPROTO_TCP, 44000, 80, L4_TCP_SYN), e;
	uint8_t in[256], want[256];
	size_t n, wn;
	struct h_run r;
	uint64_t before = reason(ELB_R_LB_PASS_NEIGH);

	n = l4_build(&s, in, sizeof(in));
	e = s;
	e.dst = IP("192.0.2.99"); /* DNAT done, MACs and TTL left to the kernel */
	wn = l4_build(&e, want, sizeof(want));
	T_BEGIN("lb: backend without a resolved neighbour → DNAT and XDP_PASS");
	T_EXPECT(run_xdp(in, n, &r) == 0, "test run");
	T_EXPECT(r.retval == XDP_PASS, "action: got %s want XDP_PASS", h_xdp_action(r.retval));
	T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, want, wn), "DNAT only");
	T_EXPECT(reason(ELB_R_LB_PASS_NEIGH) == before + 1, "lb_pass_neigh counted");
	T_END();
}

static void test_echo(void)
{
	const char *vips_[] = {"203.0.113.11", "2001:db8:f::11"};

	for (int i = 0; i < 2; i++) {
		int v6 = i == 1;
		struct l4_spec s = client_pkt(vips_[i], v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, 0, 0, 0);
		struct l4_spec e;
		static const uint8_t data[32] = "ping payload";
		uint8_t in[256], want[256];
		size_t n, wn;
		struct h_run r;

		s.icmp_type = v6 ? 128 : 8;
		s.icmp_rest = 0x12340001;
		s.payload = data;
		s.plen = sizeof(data);
		s.ttl = 57;
		n = l4_build(&s, in, sizeof(in));
		e = s;
		e.src = s.dst;
		e.dst = s.src;
		memcpy(e.dmac, s.smac, 6);
		memcpy(e.smac, s.dmac, 6);
		e.icmp_type = v6 ? 129 : 0;
		e.ttl = 64;
		wn = l4_build(&e, want, sizeof(want));
		T_BEGIN("lb: ICMP%s echo to a VIP that allows it → reply, XDP_TX", v6 ? "v6" : "");
		T_EXPECT(run_xdp(in, n, &r) == 0, "test run");
		T_EXPECT(r.retval == XDP_TX, "action: got %s want XDP_TX", h_xdp_action(r.retval));
		T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, want, wn), "echo reply bytes");
		T_EXPECT(verified(r.out, r.out_len), "reply checksums valid");
		T_END();
	}
}

/* The reply of a forwarded flow, as the backend sends it through the node. */
static void test_revnat(void)
{
	struct {
		const char *name, *be, *client, *vip;
		uint8_t proto;
		uint16_t cport, vport;
	} rows[] = {
		{"TCP IPv4", "192.0.2.11", "198.51.100.7", "203.0.113.11", IPPROTO_TCP, 40001, 80},
		{"UDP IPv4", "192.0.2.11", "198.51.100.7", "203.0.113.11", IPPROTO_UDP, 40003, 53},
		{"TCP IPv6", "2001:db8:b::11", "2001:db8:c::7", "2001:db8:f::11", IPPROTO_TCP, 40004, 80},
		{"UDP IPv6", "2001:db8:b::11", "2001:db8:c::7", "2001:db8:f::11", IPPROTO_UDP, 40005, 53},
	};

	for (int i = 0; i < 4; i++) {
		struct l4_spec s, e;
		static const uint8_t data[16] = "reply";
		uint8_t in[256], want[256], out[2048];
		uint32_t on = 0, ret = 99;
		size_t n, wn;
		uint64_t before = reason(ELB_R_LB_REVNAT);

		s = backend_reply(rows[i].be, rows[i].client, rows[i].proto, 8080, rows[i].cport,
				  L4_TCP_SYN | L4_TCP_ACK);
		s.payload = data;
		s.plen = sizeof(data);
		e = s;
		e.src = IP(rows[i].vip);
		e.sport = rows[i].vport;
		n = l4_build(&s, in, sizeof(in));
		wn = l4_build(&e, want, sizeof(want));
		T_BEGIN("revnat: %s reply from the backend leaves as VIP:%u", rows[i].name,
			rows[i].vport);
		T_EXPECT(run_tc(in, n, out, &on, &ret) == 0, "test run");
		T_EXPECT(ret == TC_ACT_OK, "action: got %u want TC_ACT_OK", ret);
		T_EXPECT(h_bytes_eq("frame", out, on, want, wn), "output bytes");
		T_EXPECT(verified(out, on), "checksums valid");
		T_EXPECT(reason(ELB_R_LB_REVNAT) == before + 1, "lb_revnat counted");
		T_END();
	}
	{
		/* port 49999: no such flow */
		struct l4_spec s = backend_reply("192.0.2.11", "198.51.100.7", IPPROTO_TCP, 8080,
						 49999, L4_TCP_ACK);
		uint8_t in[256], out[2048];
		uint32_t on = 0, ret = 99;
		size_t n;

		n = l4_build(&s, in, sizeof(in));
		T_BEGIN("revnat: traffic of no tracked flow leaves untouched");
		T_EXPECT(run_tc(in, n, out, &on, &ret) == 0 && ret == TC_ACT_OK, "test run");
		T_EXPECT(h_bytes_eq("frame", out, on, in, n), "unchanged");
		T_END();
	}
}

/* One client packet through xdp_ingress; 0 when it was forwarded. */
static int send_client(const char *vip, uint8_t proto, uint16_t sport, uint16_t dport,
		       uint8_t flags)
{
	struct l4_spec s = client_pkt(vip, proto, sport, dport, flags);
	uint8_t in[256];
	struct h_run r;
	size_t n = l4_build(&s, in, sizeof(in));

	return run_xdp(in, n, &r) == 0 && r.retval == XDP_REDIRECT ? 0 : -1;
}

/* After the test rewrote or deleted conntrack entries behind the programs' back (standing in
 * for time passing, or an entry lost): every CPU's flow cache forgets its slots, as the agent
 * makes them do after deleting entries (dataplane/ct_cache.h). */
static void ct_forget(void)
{
	if (dp_ct_forget(fds.config)) {
		fprintf(stderr, "test_lb: %s: ct_gen not bumped\n", ELB_MAP_CONFIG);
		exit(1);
	}
}

/* Sets seen_ns of a flow's two entries (0: leave as is). */
static int ct_age(const char *vip, uint8_t proto, uint16_t cport, uint16_t vport,
		  uint64_t fwd_seen, uint64_t reply_seen)
{
	struct elb_ct_key fk = ct_key("198.51.100.7", cport, vip, vport, proto, ELB_CT_FORWARD),
			  rk = ct_key("192.0.2.11", 8080, "198.51.100.7", cport, proto,
				      ELB_CT_REPLY);
	struct elb_ct f, r;

	if (bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], &fk, &f) ||
	    bpf_map_lookup_elem(ct_fd[ELB_CT_REPLY], &rk, &r))
		return -1;
	if (fwd_seen)
		f.seen_ns = fwd_seen;
	if (reply_seen)
		r.seen_ns = reply_seen;
	if (bpf_map_update_elem(ct_fd[ELB_CT_FORWARD], &fk, &f, BPF_EXIST) ||
	    bpf_map_update_elem(ct_fd[ELB_CT_REPLY], &rk, &r, BPF_EXIST))
		return -1;
	ct_forget();
	return 0;
}

/* The programs stamp entries on the clock the agent reads (dataplane/clock.h): jiffies here,
 * where the kernel's config names CONFIG_HZ; the two clocks are about 2^32 jiffies apart, so a
 * stamp from the other one would be far outside the bounds. */
static void test_ct_clock(void)
{
	const char *vip = "203.0.113.11", *client = "198.51.100.7";
	uint64_t slack = 1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK), before, after;
	struct elb_ct fct;

	T_BEGIN("lb: conntrack entries are stamped on the agent's clock");
	if (!dp_tick_ns()) {
		t_skip("no kernel config (/boot/config-*, /proc/config.gz) names CONFIG_HZ");
		return;
	}
	before = dp_clock_ns();
	T_EXPECT(send_client(vip, IPPROTO_UDP, 42100, 53, 0) == 0, "forwarded");
	after = dp_clock_ns();
	T_EXPECT(ct_get(client, 42100, vip, 53, IPPROTO_UDP, ELB_CT_FORWARD, &fct) == 0 &&
			 fct.seen_ns >= before && fct.seen_ns <= after + slack,
		 "stamp %llu within [%llu, %llu]", (unsigned long long)fct.seen_ns,
		 (unsigned long long)before, (unsigned long long)(after + slack));
	T_END();
}

/* A forward refresh (seen_ns older than ELB_CT_REFRESH_NS) rewrites the reply entry only when
 * the state changes or the refresh falls in a new window; tc_revnat honours a reply entry one
 * window beyond its lifetime, and not longer. */
static void test_ct_refresh(void)
{
	const uint64_t window = 1ULL << ELB_CT_REPLY_WINDOW_SHIFT, sec = 1000000000ULL;
	const char *vip = "203.0.113.11", *be = "192.0.2.11", *client = "198.51.100.7";
	uint64_t now = dp_clock_ns(), mark;
	struct elb_ct fct, rct;

	/* room for a refresh inside the current window: at least 2 s into it */
	if (now % window < 2 * sec) {
		usleep((useconds_t)((2 * sec - now % window) / 1000 + 10000));
		now = dp_clock_ns();
	}
	mark = now - 1500000000ULL; /* same window, older than the refresh interval */

	T_BEGIN("lb: a refresh inside one window keeps the reply entry");
	T_EXPECT(send_client(vip, IPPROTO_UDP, 42000, 53, 0) == 0, "first packet forwarded");
	T_EXPECT(ct_age(vip, IPPROTO_UDP, 42000, 53, mark, mark) == 0, "entries aged 1.5 s");
	T_EXPECT(send_client(vip, IPPROTO_UDP, 42000, 53, 0) == 0, "forwarded");
	T_EXPECT(ct_get(client, 42000, vip, 53, IPPROTO_UDP, ELB_CT_FORWARD, &fct) == 0 &&
			 fct.seen_ns >= now,
		 "forward entry refreshed");
	T_EXPECT(ct_get(be, 8080, client, 42000, IPPROTO_UDP, ELB_CT_REPLY, &rct) == 0 &&
			 rct.seen_ns == mark,
		 "reply entry untouched (seen %llu, mark %llu)", (unsigned long long)rct.seen_ns,
		 (unsigned long long)mark);
	T_END();

	T_BEGIN("lb: a refresh in a new window rewrites the reply entry");
	T_EXPECT(ct_age(vip, IPPROTO_UDP, 42000, 53, now - now % window - sec, 0) == 0,
		 "forward entry last seen in the previous window");
	T_EXPECT(send_client(vip, IPPROTO_UDP, 42000, 53, 0) == 0, "forwarded");
	T_EXPECT(ct_get(be, 8080, client, 42000, IPPROTO_UDP, ELB_CT_REPLY, &rct) == 0 &&
			 rct.seen_ns >= now && rct.nat_port == htons(53),
		 "reply entry rewritten");
	T_END();

	T_BEGIN("lb: a state change rewrites the reply entry at once");
	mark = now - sec / 2; /* no refresh due by age */
	T_EXPECT(send_client(vip, IPPROTO_TCP, 42001, 80, L4_TCP_SYN) == 0, "SYN forwarded");
	T_EXPECT(ct_age(vip, IPPROTO_TCP, 42001, 80, mark, mark) == 0, "entries aged 0.5 s");
	T_EXPECT(send_client(vip, IPPROTO_TCP, 42001, 80, L4_TCP_ACK) == 0, "ACK forwarded");
	T_EXPECT(ct_get(be, 8080, client, 42001, IPPROTO_TCP, ELB_CT_REPLY, &rct) == 0 &&
			 rct.state == ELB_CT_EST && rct.seen_ns >= now,
		 "reply entry established (state %u)", rct.state);
	T_END();

	{
		struct l4_spec s = backend_reply(be, client, IPPROTO_UDP, 8080, 42000, 0), e = s;
		uint8_t in[256], out[2048], want[256];
		uint32_t on = 0, ret = 99;
		size_t n, wn;

		e.src = IP(vip);
		e.sport = 53;
		n = l4_build(&s, in, sizeof(in));
		wn = l4_build(&e, want, sizeof(want));
		T_BEGIN("revnat: a reply entry past its lifetime but within one window is honoured");
		T_EXPECT(ct_age(vip, IPPROTO_UDP, 42000, 53, 0,
				dp_clock_ns() - ELB_CT_LIFE_UDP_NS - 5 * sec) == 0,
			 "reply entry seen 65 s ago (UDP lifetime 60 s)");
		T_EXPECT(run_tc(in, n, out, &on, &ret) == 0 && ret == TC_ACT_OK, "test run");
		T_EXPECT(h_bytes_eq("frame", out, on, want, wn), "leaves as VIP:53");
		T_END();
		T_BEGIN("revnat: a reply entry older than its lifetime and one window is not");
		T_EXPECT(ct_age(vip, IPPROTO_UDP, 42000, 53, 0,
				dp_clock_ns() - ELB_CT_LIFE_UDP_NS - window - sec) == 0,
			 "reply entry seen 78 s ago");
		T_EXPECT(run_tc(in, n, out, &on, &ret) == 0 && ret == TC_ACT_OK, "test run");
		T_EXPECT(h_bytes_eq("frame", out, on, in, n), "leaves untouched");
		T_END();
	}
}

/* s made an ICMP error about the quoted bytes: IPv4 fragmentation needed (MTU 1400) or ICMPv6
 * packet too big (MTU 1280). */
static struct l4_spec icmp_too_big(struct l4_spec s, const uint8_t *quoted, size_t qn)
{
	int v6 = s.dst.family == AF_INET6;

	s.proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	s.icmp_type = v6 ? 2 : 3;
	s.icmp_code = v6 ? 0 : 4;
	s.icmp_rest = v6 ? 1280 : 1400;
	s.payload = quoted;
	s.plen = qn;
	return s;
}

/* The ICMP error s quoting q, run through xdp_ingress (xdp) or tc_revnat, leaves as e quoting
 * qe: outer and quoted bytes, with valid checksums. */
static void expect_icmp(const char *name, int xdp, struct l4_spec s, struct l4_spec e,
			const struct l4_spec *q, const struct l4_spec *qe)
{
	uint8_t quoted[128], quoted_e[128], in[512], want[512], out[2048];
	uint32_t on = 0, ret = 99;
	struct h_run r;
	size_t n, wn;

	s = icmp_too_big(s, quoted, l4_build(q, quoted, sizeof(quoted)));
	e = icmp_too_big(e, quoted_e, l4_build(qe, quoted_e, sizeof(quoted_e)));
	n = l4_build(&s, in, sizeof(in));
	wn = l4_build(&e, want, sizeof(want));
	T_BEGIN("%s", name);
	if (xdp) {
		T_EXPECT(run_xdp(in, n, &r) == 0 && r.retval == XDP_REDIRECT, "action: got %s want "
			 "XDP_REDIRECT", h_xdp_action(r.retval));
		T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, want, wn), "outer and quoted");
		T_EXPECT(verified(r.out, r.out_len), "checksums valid");
	} else {
		T_EXPECT(run_tc(in, n, out, &on, &ret) == 0 && ret == TC_ACT_OK, "test run");
		T_EXPECT(h_bytes_eq("frame", out, on, want, wn), "outer and quoted");
		T_EXPECT(verified(out, on), "checksums valid");
	}
	T_END();
}

/* A packet quoted in an ICMP error (no Ethernet header). */
static struct l4_spec quoted_pkt(const char *src, uint16_t sport, const char *dst, uint16_t dport,
				 uint8_t proto)
{
	struct l4_spec q = {0};

	q.no_eth = 1;
	q.src = IP(src);
	q.dst = IP(dst);
	q.proto = proto;
	q.sport = sport;
	q.dport = dport;
	return q;
}

/* The outer header of an ICMP error a backend (or a router behind the node) sends toward a
 * client, as it leaves the compute port. */
static struct l4_spec backend_icmp(const char *src, const char *client)
{
	struct l4_spec s = {0};

	memcpy(s.dmac, MAC_CLIENT, 6);
	memcpy(s.smac, MAC_IN, 6);
	s.src = IP(src);
	s.dst = IP(client);
	return s;
}

/* Client port translation on a reply-tuple clash: one client address and port reaching two
 * VIP:ports that go to one backend address and port (here the service's ports 80 and 8443,
 * both to backend :8080). The backend's replies would be alike, so the second flow reaches
 * the backend from another client port; its replies and ICMP errors get the client's own port
 * back, and the first flow keeps its replies. */
struct clash_fam {
	const char *vip, *be, *client, *router;
	uint16_t cport;
};

/* The frame a client's TCP packet leaves the node as: to be:8080 from client port xport. */
static size_t clash_fwd(const struct clash_fam *f, uint16_t vport, uint16_t xport, uint8_t flags,
			uint8_t *in, size_t *n, uint8_t *want)
{
	struct l4_spec s = client_pkt(f->vip, IPPROTO_TCP, f->cport, vport, flags), e;

	e = forwarded(s, f->be, 8080, MAC_B11);
	e.sport = xport;
	*n = l4_build(&s, in, 256);
	return l4_build(&e, want, 256);
}

static void test_clash_flows(const struct clash_fam *f, uint16_t *xport_out)
{
	uint8_t in[256], want[256], out[2048];
	uint32_t on = 0, ret = 99;
	struct elb_ct fct, rct;
	struct h_run r;
	uint64_t before;
	size_t n, wn;
	uint16_t x;

	wn = clash_fwd(f, 80, f->cport, L4_TCP_SYN, in, &n, want);
	T_BEGIN("lb: port xlate %s: the first flow to VIP:80 keeps its client port", f->vip);
	T_EXPECT(run_xdp(in, n, &r) == 0 && r.retval == XDP_REDIRECT, "action %s",
		 h_xdp_action(r.retval));
	T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, want, wn), "DNAT only");
	T_EXPECT(ct_get(f->be, 8080, f->client, f->cport, IPPROTO_TCP, ELB_CT_REPLY, &rct) == 0 &&
			 rct.nat_port == htons(80) && rct.xport == 0,
		 "reply entry maps back to port 80");
	T_END();

	before = reason(ELB_R_LB_PORT_XLATE);
	T_BEGIN("lb: port xlate %s: the same client port to VIP:8443 (same backend :8080) is "
		"translated", f->vip);
	T_EXPECT(ct_get(f->client, f->cport, f->vip, 8443, IPPROTO_TCP, ELB_CT_FORWARD, &fct) != 0,
		 "no flow yet");
	clash_fwd(f, 8443, 0, L4_TCP_SYN, in, &n, want);
	T_EXPECT(run_xdp(in, n, &r) == 0 && r.retval == XDP_REDIRECT, "action %s",
		 h_xdp_action(r.retval));
	T_EXPECT(ct_get(f->client, f->cport, f->vip, 8443, IPPROTO_TCP, ELB_CT_FORWARD, &fct) == 0,
		 "forward entry");
	x = ntohs(fct.xport);
	T_EXPECT(x >= 1024 && x != f->cport, "translated port %u", x);
	wn = clash_fwd(f, 8443, x, L4_TCP_SYN, in, &n, want);
	T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, want, wn), "DNAT and source port %u", x);
	T_EXPECT(verified(r.out, r.out_len), "checksums valid");
	T_EXPECT(reason(ELB_R_LB_PORT_XLATE) == before + 1, "lb_port_xlate counted");
	T_EXPECT(ct_get(f->be, 8080, f->client, x, IPPROTO_TCP, ELB_CT_REPLY, &rct) == 0 &&
			 rct.nat_port == htons(8443) && rct.xport == htons(f->cport),
		 "reply entry to port %u maps back to VIP:8443 and client port %u", x, f->cport);
	T_EXPECT(ct_get(f->be, 8080, f->client, f->cport, IPPROTO_TCP, ELB_CT_REPLY, &rct) == 0 &&
			 rct.nat_port == htons(80),
		 "the first flow's reply entry is untouched");
	T_END();

	T_BEGIN("lb: port xlate %s: the translated flow's next packet, and the flow again after "
		"its forward entry was lost", f->vip);
	wn = clash_fwd(f, 8443, x, L4_TCP_ACK, in, &n, want);
	T_EXPECT(run_xdp(in, n, &r) == 0 && r.retval == XDP_REDIRECT, "action %s",
		 h_xdp_action(r.retval));
	T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, want, wn), "conntrack hit: port %u", x);
	{
		struct elb_ct_key fk = ct_key(f->client, f->cport, f->vip, 8443, IPPROTO_TCP,
					      ELB_CT_FORWARD);

		T_EXPECT(bpf_map_delete_elem(ct_fd[ELB_CT_FORWARD], &fk) == 0, "forward entry gone");
		ct_forget();
	}
	T_EXPECT(run_xdp(in, n, &r) == 0 && r.retval == XDP_REDIRECT, "action %s",
		 h_xdp_action(r.retval));
	T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, want, wn),
		 "the flow finds its own port %u again", x);
	T_END();

	T_BEGIN("revnat: port xlate %s: replies get the client's own port back", f->vip);
	for (int first = 0; first < 2; first++) {
		struct l4_spec rs = backend_reply(f->be, f->client, IPPROTO_TCP, 8080,
						  first ? f->cport : x, L4_TCP_SYN | L4_TCP_ACK),
			       e = rs;

		e.src = IP(f->vip);
		e.sport = first ? 80 : 8443;
		e.dport = f->cport;
		n = l4_build(&rs, in, sizeof(in));
		wn = l4_build(&e, want, sizeof(want));
		T_EXPECT(run_tc(in, n, out, &on, &ret) == 0 && ret == TC_ACT_OK, "tc test run");
		T_EXPECT(h_bytes_eq("reply", out, on, want, wn), "to port %u leaves as VIP:%u → %u",
			 rs.dport, e.sport, f->cport);
		T_EXPECT(verified(out, on), "checksums valid");
	}
	T_END();
	*xport_out = x;
}

/* ICMP errors about the translated flow, both ways: quoted headers carry the port each side
 * knows. */
static void test_clash_icmp(const struct clash_fam *f, uint16_t x)
{
	struct l4_spec q, qe, s, e;
	char name[160];

	/* client side: about our reply VIP:8443 → client:cport; the backend knows client:x */
	q = quoted_pkt(f->vip, 8443, f->client, f->cport, IPPROTO_TCP);
	q.tcp_flags = L4_TCP_ACK;
	q.ttl = 60;
	qe = q;
	qe.src = IP(f->be);
	qe.sport = 8080;
	qe.dport = x;
	s = client_pkt(f->vip, IPPROTO_ICMP, 0, 0, 0);
	s.src = IP(f->router);
	e = forwarded(s, f->be, 0, MAC_B11);
	snprintf(name, sizeof(name), "lb: port xlate %s: an ICMP error from the client side quotes "
		 "port %u to the backend", f->vip, x);
	expect_icmp(name, 1, s, e, &q, &qe);

	/* backend side: about the forwarded client:x → backend:8080 */
	q = quoted_pkt(f->client, x, f->be, 8080, IPPROTO_TCP);
	q.tcp_flags = L4_TCP_ACK;
	qe = q;
	qe.dst = IP(f->vip);
	qe.dport = 8443;
	qe.sport = f->cport;
	s = backend_icmp(f->be, f->client);
	e = s;
	e.src = IP(f->vip);
	snprintf(name, sizeof(name), "revnat: port xlate %s: an ICMP error from the backend quotes "
		 "the client's own port %u", f->vip, f->cport);
	expect_icmp(name, 0, s, e, &q, &qe);
}

/* Every client port a translation could take is a live flow's: the new flow is refused
 * (dropped, counted lb_reply_clash), and starts once the clash is gone. */
static void test_clash_exhausted(const struct clash_fam *f)
{
	static uint8_t added[65536];
	struct elb_ct_key rk;
	struct elb_ct v = {0}, fct;
	uint8_t in[256], want[256];
	size_t n, wn;
	uint16_t cport = f->cport + 1;
	struct l4_spec s;
	struct h_run r;
	int ok = 1;

	{
		struct ip vip = IP(f->vip);

		ip_to_elb(&vip, &v.nat);
	}
	v.nat_port = htons(80);
	v.state = ELB_CT_EST;
	v.seen_ns = dp_clock_ns();
	memset(added, 0, sizeof(added));
	for (uint32_t p = 1; p < 65536; p++) {
		rk = ct_key(f->be, 8080, f->client, (uint16_t)p, IPPROTO_TCP, ELB_CT_REPLY);
		if (bpf_map_update_elem(ct_fd[ELB_CT_REPLY], &rk, &v, BPF_NOEXIST) == 0)
			added[p] = 1;
		else if (errno != EEXIST)
			ok = 0;
	}
	T_BEGIN("lb: port xlate %s: with every client port taken, the new flow is refused",
		f->vip);
	T_EXPECT(ok, "65,535 reply entries of other flows (client:* ← backend:8080 for VIP:80)");
	s = client_pkt(f->vip, IPPROTO_TCP, cport, 8443, L4_TCP_SYN);
	n = l4_build(&s, in, sizeof(in));
	T_END();
	expect_drop_pass("port xlate: no free client port", in, n, XDP_DROP, ELB_R_LB_REPLY_CLASH);
	T_BEGIN("lb: port xlate %s: the refused flow left no entry; it starts once the other "
		"flows are gone", f->vip);
	T_EXPECT(ct_get(f->client, cport, f->vip, 8443, IPPROTO_TCP, ELB_CT_FORWARD, &fct) != 0,
		 "no forward entry");
	for (uint32_t p = 1; p < 65536; p++)
		if (added[p]) {
			rk = ct_key(f->be, 8080, f->client, (uint16_t)p, IPPROTO_TCP, ELB_CT_REPLY);
			bpf_map_delete_elem(ct_fd[ELB_CT_REPLY], &rk);
		}
	wn = clash_fwd(&(struct clash_fam){f->vip, f->be, f->client, f->router, cport}, 8443,
		       cport, L4_TCP_SYN, in, &n, want);
	T_EXPECT(run_xdp(in, n, &r) == 0 && r.retval == XDP_REDIRECT, "action %s",
		 h_xdp_action(r.retval));
	T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, want, wn), "its own port kept");
	T_END();
}

static void test_reply_clash(void)
{
	static const struct clash_fam fams[2] = {
		{"203.0.113.11", "192.0.2.11", "198.51.100.7", "198.51.100.254", 41000},
		{"2001:db8:f::11", "2001:db8:b::11", "2001:db8:c::7", "2001:db8:c::fe", 41000},
	};

	for (int i = 0; i < 2; i++) {
		uint16_t x = 0;

		test_clash_flows(&fams[i], &x);
		test_clash_icmp(&fams[i], x);
	}
	test_clash_exhausted(&fams[0]);
}

static void test_icmp_errors(void)
{
	for (int v6 = 0; v6 < 2; v6++) {
		const char *vip = v6 ? "2001:db8:f::11" : "203.0.113.11";
		const char *be = v6 ? "2001:db8:b::11" : "192.0.2.11";
		const char *client = v6 ? "2001:db8:c::7" : "198.51.100.7";
		const char *router = v6 ? "2001:db8:c::fe" : "198.51.100.254";
		const char *what = v6 ? "ICMPv6 packet too big" : "ICMP frag needed";
		struct l4_spec q, qe, s, e;
		char name[160];

		/* quoted: our reply VIP:80 → client:40001 as the client side saw it */
		q = quoted_pkt(vip, 80, client, v6 ? 40004 : 40001, IPPROTO_TCP);
		q.tcp_flags = L4_TCP_ACK;
		q.ttl = 60;
		qe = q;
		qe.src = IP(be);
		qe.sport = 8080;
		s = client_pkt(vip, IPPROTO_ICMP, 0, 0, 0);
		s.src = IP(router);
		e = forwarded(s, be, 0, MAC_B11);
		snprintf(name, sizeof(name), "lb: %s about a service flow, client side → to the "
			 "backend, translated", what);
		expect_icmp(name, 1, s, e, &q, &qe);

		/* backend side: the backend says the client's UDP packet was too big / port
		 * unreachable; quoted client:40003 → backend:8080 */
		q = quoted_pkt(client, v6 ? 40005 : 40003, be, 8080, IPPROTO_UDP);
		q.payload = (const uint8_t *)"0123456789";
		q.plen = 10;
		qe = q;
		qe.dst = IP(vip);
		qe.dport = 53;
		s = backend_icmp(be, client);
		e = s;
		e.src = IP(vip);
		snprintf(name, sizeof(name), "revnat: %s from the backend → to the client, from the "
			 "VIP", what);
		expect_icmp(name, 0, s, e, &q, &qe);

		/* the same from a router between node and backend: outer source kept */
		s = backend_icmp(v6 ? "2001:db8:b::fe" : "192.0.2.254", client);
		snprintf(name, sizeof(name), "revnat: %s from a router behind the node keeps its "
			 "source", v6 ? "ICMPv6" : "ICMP");
		expect_icmp(name, 0, s, s, &q, &qe);
	}
}

/* Which backend (last octet) a TCP packet of this flow is sent to, or -1. */
static int web_backend(uint16_t sport, uint8_t flags)
{
	struct l4_spec s = client_pkt("203.0.113.10", IPPROTO_TCP, sport, 80, flags);
	uint8_t in[256];
	size_t n = l4_build(&s, in, sizeof(in));
	struct h_run r;

	if (run_xdp(in, n, &r) || r.retval != XDP_REDIRECT || r.out_len < 34)
		return -1;
	return r.out[14 + 19];
}

static void test_maglev_change(void)
{
	int before[64], hits[256] = {0}, kept = 1, moved = 0, n_be = 0;

	T_BEGIN("lb: 64 flows spread over all three backends");
	for (int i = 0; i < 64; i++) {
		before[i] = web_backend(50000 + i, L4_TCP_SYN);
		if (before[i] >= 0 && !hits[before[i]]++)
			n_be++;
	}
	T_EXPECT(n_be == 3 && hits[12] && hits[13] && hits[14], "backends used: %d (.12 %d, .13 %d, .14 %d)",
		 n_be, hits[12], hits[13], hits[14]);
	T_END();

	/* add two backends: the Maglev table is rebuilt and swapped */
	be_web[3] = BE("192.0.2.15", 8080, 1, CFG_BE_READY);
	be_web[4] = BE("192.0.2.16", 8080, 1, CFG_BE_READY);
	svc_web.n_backends = 5;
	T_BEGIN("lb: conntrack hit after a Maglev table change keeps each flow's backend");
	T_EXPECT(sync_all() == 0, "resync with 5 backends");
	for (int i = 0; i < 64; i++)
		if (web_backend(50000 + i, L4_TCP_ACK) != before[i])
			kept = 0;
	T_EXPECT(kept, "every established flow stayed on its backend");
	/* the same tuples as new flows: some now land elsewhere, so the table did change */
	for (int i = 0; i < 64; i++) {
		struct elb_ct_key k = {0};
		struct ip s = IP("198.51.100.7"), d = IP("203.0.113.10");

		ip_to_elb(&s, &k.src);
		ip_to_elb(&d, &k.dst);
		k.sport = htons(50000 + i);
		k.dport = htons(80);
		k.proto = IPPROTO_TCP;
		k.family = ELB_AF_INET;
		bpf_map_delete_elem(ct_fd[ELB_CT_FORWARD], &k);
		ct_forget();
		if (web_backend(50000 + i, L4_TCP_SYN) != before[i])
			moved++;
	}
	T_EXPECT(moved > 0, "tuples re-picked after forgetting conntrack: %d of 64 moved", moved);
	T_END();

	/* terminating: .12 keeps its flows, gets no new ones */
	be_web[0].state = CFG_BE_TERMINATING;
	T_BEGIN("lb: a terminating backend keeps existing flows and gets no new ones");
	{
		int kept12 = 1, new12 = 0, had12 = 0;

		for (int i = 0; i < 64; i++)
			before[i] = web_backend(50000 + i, L4_TCP_ACK);
		T_EXPECT(sync_all() == 0, "resync");
		for (int i = 0; i < 64; i++) {
			if (before[i] == 12) {
				had12++;
				if (web_backend(50000 + i, L4_TCP_ACK) != 12)
					kept12 = 0;
			}
		}
		for (int i = 0; i < 200; i++)
			if (web_backend(51000 + i, L4_TCP_SYN) == 12)
				new12++;
		T_EXPECT(had12 > 0, "some flows were on .12: %d", had12);
		T_EXPECT(kept12, "flows on .12 stayed there");
		T_EXPECT(new12 == 0, "new flows to .12: %d", new12);
	}
	T_END();

	/* removed from the config: .12 lingers as terminating while its flows live */
	be_web[0] = be_web[4];
	svc_web.n_backends = 4;
	T_BEGIN("lb: a removed backend keeps its live flows and gets no new ones");
	{
		int kept12 = 1, new12 = 0, on12 = 0;

		for (int i = 0; i < 64; i++)
			before[i] = web_backend(50000 + i, L4_TCP_ACK);
		T_EXPECT(sync_all() == 0, "resync without .12");
		T_EXPECT(linger == 1, "lingering backends: %d want 1", linger);
		for (int i = 0; i < 64; i++)
			if (before[i] == 12) {
				on12++;
				if (web_backend(50000 + i, L4_TCP_ACK) != 12)
					kept12 = 0;
			}
		for (int i = 0; i < 200; i++)
			if (web_backend(52000 + i, L4_TCP_SYN) == 12)
				new12++;
		T_EXPECT(on12 > 0 && kept12, "flows on .12 (%d) stayed there", on12);
		T_EXPECT(new12 == 0, "new flows to .12: %d", new12);
	}
	T_END();

	T_BEGIN("lb: once its flows ended, the removed backend is deleted and its tuples move");
	{
		int to12 = 0, fails = 0;

		/* the flows on .12 end: FIN then the closing lifetime; here their entries go */
		for (int i = 0; i < 64; i++) {
			struct elb_ct_key k = {0};
			struct ip s = IP("198.51.100.7"), d = IP("203.0.113.10");

			if (before[i] != 12)
				continue;
			ip_to_elb(&s, &k.src);
			ip_to_elb(&d, &k.dst);
			k.sport = htons(50000 + i);
			k.dport = htons(80);
			k.proto = IPPROTO_TCP;
			k.family = ELB_AF_INET;
			bpf_map_delete_elem(ct_fd[ELB_CT_FORWARD], &k);
		}
		ct_forget();
		T_EXPECT(sync_all() == 0 && linger == 0, "resync: lingering %d want 0", linger);
		for (int i = 0; i < 64; i++) {
			int b = web_backend(50000 + i, L4_TCP_ACK);

			if (b == 12)
				to12++;
			if (b < 0)
				fails++;
		}
		T_EXPECT(to12 == 0 && fails == 0, "to .12: %d, not forwarded: %d", to12, fails);
	}
	T_END();
}

/* The services_v1 entry of a VIP's TCP port 80 into *out; 0 when present. */
static int svc_entry(const char *vip, struct elb_svc *out)
{
	struct elb_svc_key k = {0};
	struct ip ip = IP(vip);

	ip_to_elb(&ip, &k.vip);
	k.port = htons(80);
	k.proto = IPPROTO_TCP;
	k.family = ip.family == AF_INET ? ELB_AF_INET : ELB_AF_INET6;
	return bpf_map_lookup_elem(fds.services, &k, out);
}

static void test_ids_and_counters(void)
{
	struct elb_svc v1, v2;
	struct json_object *rows;

	T_BEGIN("lb: service ids stable across syncs, counters per backend");
	T_EXPECT(svc_entry("203.0.113.11", &v1) == 0, "service entry");
	T_EXPECT(sync_all() == 0, "resync");
	T_EXPECT(svc_entry("203.0.113.11", &v2) == 0 && v1.id == v2.id,
		 "same id %u -> %u", v1.id, v2.id);
	T_EXPECT(v1.n_backends == 1, "n_backends: %u", v1.n_backends);
	rows = lb_backends_json(&fds, "default/one");
	T_EXPECT(rows && json_object_array_length(rows) == 2, "two backend rows");
	if (rows) {
		struct json_object *r0 = json_object_array_get_idx(rows, 0), *x;
		int64_t pk = 0, fl = 0;

		for (size_t i = 0; i < json_object_array_length(rows); i++) {
			r0 = json_object_array_get_idx(rows, i);
			json_object_object_get_ex(r0, "backend", &x);
			if (strcmp(json_object_get_string(x), "192.0.2.11:8080"))
				continue;
			json_object_object_get_ex(r0, "packets", &x);
			pk = json_object_get_int64(x);
			json_object_object_get_ex(r0, "flows", &x);
			fl = json_object_get_int64(x);
		}
		T_EXPECT(pk >= 8 && fl >= 4, "192.0.2.11:8080 packets %lld flows %lld",
			 (long long)pk, (long long)fl);
		json_object_put(rows);
	}
	T_END();
}

/* Entries of a service id in one conntrack map. */
static int ct_count(int fd, __u32 svc_id)
{
	struct elb_ct_key k, prev, *pp = NULL;
	struct elb_ct v;
	int n = 0;

	for (int guard = 0; guard < 100000 && bpf_map_get_next_key(fd, pp, &k) == 0; guard++) {
		prev = k;
		pp = &prev;
		if (bpf_map_lookup_elem(fd, &k, &v) == 0 && v.svc_id == svc_id)
			n++;
	}
	return n;
}

/* ---- the flow caches (ct_cache_v2, ct_cache6_v2): main pins this process to CPU 0, whose sets
 * come first ---- */

static struct elb_ct_cache *cache_sets; /* the maps, mmapped */
static struct elb_ct_cache6 *cache6_sets;
static uint32_t cache_n, cache6_n;

static void *cache_mmap(const char *name, size_t set_size, uint32_t *n)
{
	struct bpf_map *m = bpf_object__find_map_by_name(xobj, name);
	size_t len;
	void *p;

	*n = bpf_map__max_entries(m);
	len = ((size_t)*n * set_size + 4095) & ~(size_t)4095;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "test_lb: mmap %s: %s\n", name, strerror(errno));
		exit(1);
	}
	return p;
}

static void cache_map(void)
{
	cache_sets = cache_mmap(ELB_MAP_CT_CACHE, sizeof(struct elb_ct_cache), &cache_n);
	cache6_sets = cache_mmap(ELB_MAP_CT_CACHE6, sizeof(struct elb_ct_cache6), &cache6_n);
}

static uint32_t ct_gen(void)
{
	struct elb_config c = {0};
	__u32 zero = 0;

	bpf_map_lookup_elem(fds.config, &zero, &c);
	return c.ct_gen;
}

/* All CPUs' values of backend id's entry in ct_cache_be_v1 (per-CPU values are 8-byte
 * aligned): a buffer to free, NULL when the lookup failed. */
static uint8_t *cache_be_all(uint32_t id, size_t *stride)
{
	struct bpf_map *m = bpf_object__find_map_by_name(xobj, ELB_MAP_CT_CACHE_BE);
	uint32_t i = id % ELB_CT_CACHE_BES;
	uint8_t *v;

	*stride = (sizeof(struct elb_ct_cache_be) + 7) & ~(size_t)7;
	v = calloc((size_t)libbpf_num_possible_cpus(), *stride);
	if (v && bpf_map_lookup_elem(bpf_map__fd(m), &i, v)) {
		free(v);
		v = NULL;
	}
	return v;
}

/* CPU 0's entry of backend id in ct_cache_be_v1, whichever backend holds it: 0, or -1. */
static int cache_be(uint32_t id, struct elb_ct_cache_be *e)
{
	size_t stride;
	uint8_t *v = cache_be_all(id, &stride);

	if (!v)
		return -1;
	memcpy(e, v, sizeof(*e));
	free(v);
	return 0;
}

/* Writes e as CPU 0's entry of backend id (the other CPUs' are left as they are): 0, or -1. */
static int cache_be_set(uint32_t id, const struct elb_ct_cache_be *e)
{
	struct bpf_map *m = bpf_object__find_map_by_name(xobj, ELB_MAP_CT_CACHE_BE);
	uint32_t i = id % ELB_CT_CACHE_BES;
	size_t stride;
	uint8_t *v = cache_be_all(id, &stride);
	int rc;

	if (!v)
		return -1;
	memcpy(v, e, sizeof(*e));
	rc = bpf_map_update_elem(bpf_map__fd(m), &i, v, BPF_EXIST);
	free(v);
	return rc ? -1 : 0;
}

/* Whether CPU 0's entry of backend id (of service svc_id) holds the backend be:8080 with the
 * current generation and a next hop through elbbe0 to the MAC dmac, looked up for packets
 * arriving on elbin0. */
static int cache_be_is(uint32_t id, uint32_t svc_id, const char *be, const uint8_t *dmac)
{
	struct elb_ct_cache_be e;
	struct ip a = IP(be);
	struct elb_ip want;

	ip_to_elb(&a, &want);
	return cache_be(id, &e) == 0 && e.backend_id == id && e.gen == ct_gen() &&
	       e.svc_id == svc_id && !memcmp(&e.nat, &want, sizeof(want)) &&
	       e.nat_port == htons(8080) && e.in_ifindex == (uint32_t)if_in &&
	       e.out_ifindex == (uint32_t)if_be && !memcmp(e.dmac, dmac, 6);
}

/* The slot holding the client's IPv4 flow to vip:vport on CPU 0, or NULL. */
static struct elb_ct_cache_slot *cache_slot(uint16_t cport, const char *vip, uint16_t vport,
					    uint8_t proto)
{
	struct elb_ct_key k = ct_key("198.51.100.7", cport, vip, vport, proto, ELB_CT_FORWARD);
	uint32_t per_cpu = cache_n / (uint32_t)libbpf_num_possible_cpus();

	for (uint32_t i = 0; i < per_cpu; i++)
		for (int w = 0; w < ELB_CT_CACHE_WAYS; w++) {
			struct elb_ct_cache_slot *s = &cache_sets[i].way[w];

			if (s->flow.until && s->src == k.src.addr[0] && s->dst == k.dst.addr[0] &&
			    s->sport == k.sport && s->dport == k.dport && s->flow.proto == proto)
				return s;
		}
	return NULL;
}

/* The slot holding the client's IPv6 flow to vip:vport on CPU 0, or NULL. */
static struct elb_ct_cache6_slot *cache6_slot(uint16_t cport, const char *vip, uint16_t vport,
					      uint8_t proto)
{
	struct elb_ct_key k = ct_key("2001:db8:c::7", cport, vip, vport, proto, ELB_CT_FORWARD);
	uint32_t per_cpu = cache6_n / (uint32_t)libbpf_num_possible_cpus();

	for (uint32_t i = 0; i < per_cpu; i++)
		for (int w = 0; w < ELB_CT_CACHE_WAYS; w++) {
			struct elb_ct_cache6_slot *s = &cache6_sets[i].way[w];

			if (s->flow.until && !memcmp(&s->src, &k.src, 16) &&
			    !memcmp(&s->dst, &k.dst, 16) && s->sport == k.sport &&
			    s->dport == k.dport && s->flow.proto == proto)
				return s;
		}
	return NULL;
}

/* The client's TCP packet to default/one (vip:80) forwarded to be:8080, toward the MAC dmac,
 * with exactly the expected bytes. */
static int fwd_to(const char *vip, const char *be, uint16_t cport, uint8_t flags,
		  const uint8_t *dmac)
{
	struct l4_spec s = client_pkt(vip, IPPROTO_TCP, cport, 80, flags);
	struct l4_spec e = forwarded(s, be, 8080, dmac);
	uint8_t in[256], want[256];
	size_t n = l4_build(&s, in, sizeof(in)), wn = l4_build(&e, want, sizeof(want));
	struct h_run r;

	return run_xdp(in, n, &r) == 0 && r.retval == XDP_REDIRECT &&
		       h_bytes_eq("frame", r.out, r.out_len, want, wn)
		   ? 0
		   : -1;
}

static int one_fwd_to(uint16_t cport, uint8_t flags, const uint8_t *dmac)
{
	return fwd_to("203.0.113.11", "192.0.2.11", cport, flags, dmac);
}

static int one6_fwd_exact(uint16_t cport, uint8_t flags)
{
	return fwd_to("2001:db8:f::11", "2001:db8:b::11", cport, flags, MAC_B11);
}

static int one_fwd_exact(uint16_t cport, uint8_t flags)
{
	return one_fwd_to(cport, flags, MAC_B11);
}

/* A TCP flow's SYN and then ACK: 0 when both were forwarded. */
static int syn_ack(const char *vip, uint16_t cport, uint16_t vport)
{
	return send_client(vip, IPPROTO_TCP, cport, vport, L4_TCP_SYN) ||
	       send_client(vip, IPPROTO_TCP, cport, vport, L4_TCP_ACK);
}

/* Deletes a TCP flow's forward entry behind the cache's back and sends the flow's next ACK:
 * 0 when it went through conntrack (forwarded, and the entry made again). */
static int via_conntrack(const struct elb_ct_key *fk, const char *vip, uint16_t cport,
			 uint16_t vport)
{
	struct elb_ct ct;

	if (bpf_map_delete_elem(ct_fd[ELB_CT_FORWARD], fk))
		return -1;
	if (send_client(vip, IPPROTO_TCP, cport, vport, L4_TCP_ACK))
		return -1;
	return bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], fk, &ct);
}

static void test_ct_cache(void)
{
	struct elb_ct_key
	    fk = ct_key("198.51.100.7", 47011, "203.0.113.11", 80, IPPROTO_TCP, ELB_CT_FORWARD),
	    fk3 = ct_key("198.51.100.7", 47013, "203.0.113.11", 80, IPPROTO_TCP, ELB_CT_FORWARD),
	    fk4 = ct_key("198.51.100.7", 47014, "203.0.113.11", 80, IPPROTO_TCP, ELB_CT_FORWARD),
	    fk5 = ct_key("198.51.100.7", 47015, "203.0.113.11", 80, IPPROTO_TCP, ELB_CT_FORWARD),
	    fk6 = ct_key("2001:db8:c::7", 47011, "2001:db8:f::11", 80, IPPROTO_TCP, ELB_CT_FORWARD);
	int ncpu = libbpf_num_possible_cpus();
	uint32_t per_cpu = cache_n / (uint32_t)ncpu, per6 = cache6_n / (uint32_t)ncpu, g;
	struct elb_ct_cache_slot *s;
	struct elb_ct_cache6_slot *s6;
	struct elb_ct_cache_be be;
	struct elb_svc one;
	struct elb_ct ct;
	uint64_t hits, aged;

	T_BEGIN("flow cache: sized per CPU, a power of two sets each, 16 MiB at most in all");
	T_EXPECT(per_cpu * (uint32_t)ncpu == cache_n && (per_cpu & (per_cpu - 1)) == 0 &&
		     per_cpu <= ELB_CT_CACHE_SETS &&
		     (per_cpu * ELB_CT_CACHE_WAYS * (uint64_t)ncpu <= 2 * ELB_MAX_CT_FLOWS ||
		      per_cpu == 1024),
		 "%u sets for %d CPUs", cache_n, ncpu);
	/* the most that fits: twice as many would break the bound */
	T_EXPECT(per_cpu == ELB_CT_CACHE_SETS ||
		     2 * per_cpu * ELB_CT_CACHE_WAYS * (uint64_t)ncpu > 2 * ELB_MAX_CT_FLOWS,
		 "%u sets per CPU, not the most the bound allows", per_cpu);
	/* IPv6: slots twice as large, half as many in all */
	T_EXPECT(
	    per6 * (uint32_t)ncpu == cache6_n && (per6 & (per6 - 1)) == 0 &&
		per6 <= ELB_CT_CACHE6_SETS &&
		(per6 * ELB_CT_CACHE_WAYS * (uint64_t)ncpu <= ELB_MAX_CT_FLOWS || per6 == 1024),
	    "IPv6: %u sets for %d CPUs", cache6_n, ncpu);
	T_EXPECT(per6 == ELB_CT_CACHE6_SETS ||
		     2 * per6 * ELB_CT_CACHE_WAYS * (uint64_t)ncpu > ELB_MAX_CT_FLOWS,
		 "IPv6: %u sets per CPU, not the most the bound allows", per6);
	T_END();

	T_BEGIN("flow cache: a repeated IPv4 packet is answered from its slot, bytes as a "
		"conntrack hit's");
	T_EXPECT(one_fwd_exact(47011, L4_TCP_SYN) == 0, "SYN forwarded");
	T_EXPECT(one_fwd_exact(47011, L4_TCP_ACK) == 0, "ACK forwarded");
	s = cache_slot(47011, "203.0.113.11", 80, IPPROTO_TCP);
	T_EXPECT(bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], &fk, &ct) == 0, "forward entry");
	T_EXPECT(s && s->flow.state == ELB_CT_EST && s->flow.gen == (uint16_t)ct_gen() &&
		     s->flow.backend_id == ct.backend_id && s->flow.xport == 0,
		 "slot of the flow on CPU 0: state, generation, backend id");
	T_EXPECT(svc_entry("203.0.113.11", &one) == 0 &&
		     cache_be_is(ct.backend_id, one.id, "192.0.2.11", MAC_B11),
		 "its backend's entry: address, port, service, generation, next hop");
	/* the forward entry goes behind the cache's back: only the slot can answer now */
	T_EXPECT(bpf_map_delete_elem(ct_fd[ELB_CT_FORWARD], &fk) == 0, "forward entry deleted");
	hits = reason(ELB_R_LB_CT_HIT);
	T_EXPECT(one_fwd_exact(47011, L4_TCP_ACK) == 0, "next ACK forwarded");
	T_EXPECT(reason(ELB_R_LB_CT_HIT) == hits + 1, "counted as a conntrack hit");
	T_EXPECT(bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], &fk, &ct) != 0,
		 "conntrack not consulted: no forward entry made");
	T_END();

	T_BEGIN("flow cache: a new generation (ct_gen) makes every slot forget its flow");
	g = ct_gen();
	ct_forget();
	T_EXPECT(ct_gen() == g + 1, "ct_gen %u -> %u", g, ct_gen());
	s = cache_slot(47011, "203.0.113.11", 80, IPPROTO_TCP);
	T_EXPECT(s && cache_be(s->flow.backend_id, &be) == 0, "slot and backend entry present");
	be.gen = ct_gen(); /* as another flow of the backend through conntrack would leave it */
	T_EXPECT(s && cache_be_set(s->flow.backend_id, &be) == 0,
		 "backend entry of the new generation");
	T_EXPECT(one_fwd_exact(47011, L4_TCP_ACK) == 0, "ACK forwarded");
	T_EXPECT(bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], &fk, &ct) == 0,
		 "through conntrack: the forward entry is back");
	s = cache_slot(47011, "203.0.113.11", 80, IPPROTO_TCP);
	T_EXPECT(s && s->flow.gen == (uint16_t)(g + 1) &&
		     cache_be_is(s->flow.backend_id, one.id, "192.0.2.11", MAC_B11),
		 "slot and backend entry written again with the new generation");
	T_END();

	T_BEGIN("flow cache: a slot whose backend entry another backend or generation holds does "
		"not answer; the conntrack path writes the entry again");
	T_EXPECT(syn_ack("203.0.113.11", 47015, 80) == 0, "SYN, ACK forwarded");
	s = cache_slot(47015, "203.0.113.11", 80, IPPROTO_TCP);
	T_EXPECT(s && cache_be(s->flow.backend_id, &be) == 0, "slot and backend entry present");
	be.backend_id = (uint16_t)(be.backend_id + ELB_CT_CACHE_BES); /* same index */
	T_EXPECT(s && cache_be_set(s->flow.backend_id, &be) == 0, "entry held by another backend");
	T_EXPECT(via_conntrack(&fk5, "203.0.113.11", 47015, 80) == 0,
		 "the next ACK went through conntrack: its forward entry is back");
	T_EXPECT(s && cache_be_is(s->flow.backend_id, one.id, "192.0.2.11", MAC_B11),
		 "the backend's entry written again");
	T_EXPECT(s && cache_be(s->flow.backend_id, &be) == 0, "backend entry present");
	be.gen--;
	T_EXPECT(s && cache_be_set(s->flow.backend_id, &be) == 0, "entry of the last generation");
	T_EXPECT(via_conntrack(&fk5, "203.0.113.11", 47015, 80) == 0,
		 "the next ACK went through conntrack again");
	T_EXPECT(s && cache_be_is(s->flow.backend_id, one.id, "192.0.2.11", MAC_B11),
		 "the backend's entry written again with this generation");
	T_END();

	T_BEGIN("flow cache: a packet that changes the TCP state goes to conntrack");
	T_EXPECT(one_fwd_exact(47011, L4_TCP_FIN | L4_TCP_ACK) == 0, "FIN forwarded");
	T_EXPECT(ct_get("198.51.100.7", 47011, "203.0.113.11", 80, IPPROTO_TCP, ELB_CT_FORWARD,
			&ct) == 0 &&
		     ct.state == ELB_CT_CLOSING,
		 "forward entry closing");
	s = cache_slot(47011, "203.0.113.11", 80, IPPROTO_TCP);
	T_EXPECT(s && s->flow.state == ELB_CT_CLOSING, "slot closing too");
	T_END();

	T_BEGIN("flow cache: a slot past its time (the entry's next refresh) does not answer");
	s = cache_slot(47011, "203.0.113.11", 80, IPPROTO_TCP);
	T_EXPECT(s != NULL, "slot present");
	if (s)
		s->flow.until = 1;
	T_EXPECT(via_conntrack(&fk, "203.0.113.11", 47011, 80) == 0,
		 "the next ACK went through conntrack: its forward entry is back");
	T_END();

	T_BEGIN("flow cache: a slot answers for ELB_CT_CACHE_HOLD_NS after its entry's refresh, "
		"then the entry is refreshed");
	T_EXPECT(syn_ack("203.0.113.11", 47013, 80) == 0, "SYN, ACK forwarded");
	T_EXPECT(bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], &fk3, &ct) == 0, "forward entry");
	/* 2 s old: due for a refresh on the conntrack path, not yet for the slot */
	aged = ct.seen_ns = dp_clock_ns() - 2 * ELB_CT_REFRESH_NS;
	T_EXPECT(bpf_map_update_elem(ct_fd[ELB_CT_FORWARD], &fk3, &ct, BPF_EXIST) == 0,
		 "entry aged 2 s behind the cache's back");
	T_EXPECT(one_fwd_exact(47013, L4_TCP_ACK) == 0, "ACK forwarded");
	T_EXPECT(bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], &fk3, &ct) == 0 && ct.seen_ns == aged,
		 "answered by the slot: the entry not refreshed");
	s = cache_slot(47013, "203.0.113.11", 80, IPPROTO_TCP);
	T_EXPECT(s != NULL, "slot present");
	if (s)
		s->flow.until = 1; /* its hold is over */
	T_EXPECT(one_fwd_exact(47013, L4_TCP_ACK) == 0, "next ACK forwarded");
	T_EXPECT(bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], &fk3, &ct) == 0 &&
		     ct.seen_ns > dp_clock_ns() - ELB_CT_REFRESH_NS,
		 "through conntrack: the entry refreshed (it was 2 s old)");
	s = cache_slot(47013, "203.0.113.11", 80, IPPROTO_TCP);
	T_EXPECT(s && s->flow.until == ct.seen_ns + ELB_CT_CACHE_HOLD_NS,
		 "slot held again until the refresh + ELB_CT_CACHE_HOLD_NS");
	T_END();

	T_BEGIN("flow cache: a backend entry looks its next hop up again a second after the last "
		"lookup, and for a packet from another interface");
	T_EXPECT(syn_ack("203.0.113.11", 47014, 80) == 0, "SYN, ACK forwarded");
	T_EXPECT(bpf_map_delete_elem(ct_fd[ELB_CT_FORWARD], &fk4) == 0,
		 "forward entry deleted: only the slot can answer");
	T_EXPECT(system("ip neigh replace 192.0.2.11 lladdr 02:be:00:00:00:21 dev elbbe0 "
			"nud permanent") == 0,
		 "backend's MAC changed");
	T_EXPECT(one_fwd_exact(47014, L4_TCP_ACK) == 0, "within the second: to the old MAC");
	s = cache_slot(47014, "203.0.113.11", 80, IPPROTO_TCP);
	T_EXPECT(s && cache_be(s->flow.backend_id, &be) == 0, "slot and backend entry present");
	be.nh_until = (uint32_t)((dp_clock_ns() - ELB_CT_REFRESH_NS) >> 10); /* a second ago */
	T_EXPECT(s && cache_be_set(s->flow.backend_id, &be) == 0, "backend entry's lookup aged");
	T_EXPECT(one_fwd_to(47014, L4_TCP_ACK, MAC_B21) == 0, "then to the new MAC");
	T_EXPECT(bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], &fk4, &ct) != 0,
		 "answered by the slot: no forward entry made");
	T_EXPECT(s && cache_be(s->flow.backend_id, &be) == 0 && !memcmp(be.dmac, MAC_B21, 6) &&
		     (int32_t)(be.nh_until - (uint32_t)(dp_clock_ns() >> 10)) > 0,
		 "backend entry holds the new next hop, due again in a second");
	T_EXPECT(system("ip neigh replace 192.0.2.11 lladdr 02:be:00:00:00:11 dev elbbe0 "
			"nud permanent") == 0,
		 "backend's MAC back");
	be.in_ifindex = (uint32_t)if_be; /* as if looked up for packets from the backend side */
	T_EXPECT(s && cache_be_set(s->flow.backend_id, &be) == 0,
		 "backend entry's lookup made for another interface, due in a second");
	T_EXPECT(one_fwd_exact(47014, L4_TCP_ACK) == 0,
		 "a packet from elbin0 looks it up again: to the MAC back");
	T_EXPECT(s && cache_be(s->flow.backend_id, &be) == 0 && be.in_ifindex == (uint32_t)if_in &&
		     !memcmp(be.dmac, MAC_B11, 6),
		 "backend entry's lookup made for elbin0");
	ct_forget();
	T_END();

	T_BEGIN("flow cache: a repeated IPv6 packet is answered from its slot, bytes as a "
		"conntrack hit's");
	T_EXPECT(one6_fwd_exact(47011, L4_TCP_SYN) == 0, "SYN forwarded");
	T_EXPECT(one6_fwd_exact(47011, L4_TCP_ACK) == 0, "ACK forwarded");
	s6 = cache6_slot(47011, "2001:db8:f::11", 80, IPPROTO_TCP);
	T_EXPECT(bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], &fk6, &ct) == 0, "forward entry");
	T_EXPECT(s6 && s6->flow.state == ELB_CT_EST && s6->flow.gen == (uint16_t)ct_gen() &&
		     s6->flow.backend_id == ct.backend_id,
		 "slot of the flow on CPU 0: state, generation, backend id");
	T_EXPECT(svc_entry("2001:db8:f::11", &one) == 0 &&
		     cache_be_is(ct.backend_id, one.id, "2001:db8:b::11", MAC_B11),
		 "its backend's entry: address, port, service, generation, next hop");
	T_EXPECT(cache_slot(47011, "2001:db8:f::11", 80, IPPROTO_TCP) == NULL,
		 "not in the IPv4 cache");
	T_EXPECT(bpf_map_delete_elem(ct_fd[ELB_CT_FORWARD], &fk6) == 0, "forward entry deleted");
	hits = reason(ELB_R_LB_CT_HIT);
	T_EXPECT(one6_fwd_exact(47011, L4_TCP_ACK) == 0, "next ACK forwarded");
	T_EXPECT(reason(ELB_R_LB_CT_HIT) == hits + 1, "counted as a conntrack hit");
	T_EXPECT(bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], &fk6, &ct) != 0,
		 "conntrack not consulted: no forward entry made");
	T_END();

	T_BEGIN("flow cache: an IPv6 slot forgets its flow on a new generation, and a state "
		"change goes to conntrack");
	ct_forget();
	T_EXPECT(one6_fwd_exact(47011, L4_TCP_ACK) == 0, "ACK forwarded");
	T_EXPECT(bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], &fk6, &ct) == 0,
		 "through conntrack: the forward entry is back");
	s6 = cache6_slot(47011, "2001:db8:f::11", 80, IPPROTO_TCP);
	T_EXPECT(s6 && s6->flow.gen == (uint16_t)ct_gen(),
		 "slot written again with the new generation");
	T_EXPECT(one6_fwd_exact(47011, L4_TCP_FIN | L4_TCP_ACK) == 0, "FIN forwarded");
	T_EXPECT(bpf_map_lookup_elem(ct_fd[ELB_CT_FORWARD], &fk6, &ct) == 0 &&
		     ct.state == ELB_CT_CLOSING && s6 && s6->flow.state == ELB_CT_CLOSING,
		 "forward entry and slot closing");
	T_END();

	T_BEGIN("flow cache: the flows of a service port that left the config are not answered");
	T_EXPECT(syn_ack("203.0.113.11", 47012, 8443) == 0, "SYN, ACK to port 8443 forwarded");
	T_EXPECT(cache_slot(47012, "203.0.113.11", 8443, IPPROTO_TCP) != NULL, "flow cached");
	g = ct_gen();
	svc_one.n_ports = 2; /* 8443 leaves; the VIP stays */
	T_EXPECT(sync_all() == 0, "sync without port 8443");
	T_EXPECT(ct_gen() == g + 1, "ct_gen bumped after the port's entries went: %u -> %u", g,
		 ct_gen());
	hits = reason(ELB_R_LB_NO_PORT);
	T_EXPECT(send_client("203.0.113.11", IPPROTO_TCP, 47012, 8443, L4_TCP_ACK) != 0 &&
		     reason(ELB_R_LB_NO_PORT) == hits + 1,
		 "the flow's next packet is dropped as for a port not served");
	svc_one.n_ports = 3;
	T_EXPECT(sync_all() == 0, "port 8443 back");
	T_END();
}

/* A service that leaves the config takes its flows along, in both directions (XDP honours a
 * conntrack hit without a service lookup); other services' flows stay. */
static void test_service_removal(void)
{
	struct elb_svc one, web;
	char err[256] = "";
	int f0, r0, wf0, wr0;

	T_BEGIN("lb: a removed service's conntrack entries are deleted from both maps");
	T_EXPECT(svc_entry("203.0.113.11", &one) == 0, "default/one programmed");
	T_EXPECT(svc_entry("203.0.113.10", &web) == 0, "default/web programmed");
	f0 = ct_count(ct_fd[ELB_CT_FORWARD], one.id);
	r0 = ct_count(ct_fd[ELB_CT_REPLY], one.id);
	wf0 = ct_count(ct_fd[ELB_CT_FORWARD], web.id);
	wr0 = ct_count(ct_fd[ELB_CT_REPLY], web.id);
	T_EXPECT(f0 > 0 && r0 > 0 && wf0 > 0 && wr0 > 0,
		 "flows before: one %d/%d, web %d/%d", f0, r0, wf0, wr0);
	T_EXPECT(lb_sync(&fds, vips + 1, 3, &linger, err, sizeof(err)) == 0, "sync without "
		 "default/one: %s", err);
	T_EXPECT(ct_count(ct_fd[ELB_CT_FORWARD], one.id) == 0 &&
			 ct_count(ct_fd[ELB_CT_REPLY], one.id) == 0,
		 "default/one's entries gone");
	T_EXPECT(ct_count(ct_fd[ELB_CT_FORWARD], web.id) == wf0 &&
			 ct_count(ct_fd[ELB_CT_REPLY], web.id) == wr0,
		 "default/web's entries kept");
	T_EXPECT(sync_all() == 0, "default/one back");
	T_END();
}

int main(void)
{
	if (geteuid() != 0 || netns_setup()) {
		T_BEGIN("lb: private network namespace");
		t_skip("needs root to unshare a network namespace and create veths");
		return 0;
	}
	{ /* one CPU: a flow's next packet finds the slot its last one wrote (ct_cache_v2) */
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(0, &one);
		if (sched_setaffinity(0, sizeof(one), &one)) {
			fprintf(stderr, "test_lb: sched_setaffinity: %s\n", strerror(errno));
			return 1;
		}
	}
	load_objects();
	cache_map();
	services_init();
	T_CASE(sync_all() == 0, "lb: agent programs the maps (lb_sync)");
	test_forward_rows();
	test_conntrack_states();
	test_truncation();
	test_bad_checksum();
	test_not_forwarded();
	test_filter_collision();
	test_no_neigh();
	test_echo();
	test_revnat();
	test_icmp_errors();
	test_reply_clash();
	test_ct_clock();
	test_ct_refresh();
	test_ids_and_counters();
	test_maglev_change();
	test_ct_cache();
	test_service_removal();
	bpf_object__close(tobj);
	bpf_object__close(xobj);
	return t_exit();
}
