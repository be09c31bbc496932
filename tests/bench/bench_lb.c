/* Load-balancer benchmark tool (scripts/bench/lb.sh), two roles, bounded:
 *   gen DEV DST_MAC SRC_IP DST_IP DPORT COUNT [FLOWS]
 *                                              send COUNT copies of one UDP frame out of DEV with
 *                                              BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES
 *                                              (bench_lb.bpf.c: bench_tx), the source port
 *                                              taking FLOWS values (default 1), in order for
 *                                              the first pass, then scrambled;
 *                                              prints seconds=S sent=N and where the
 *                                              frames start (frame_offset, align_back)
 *   cthit REPEAT [FLOWS...]                    in a private network namespace: ns per packet of
 *                                              xdp_ingress on a conntrack hit, in one flow and
 *                                              among each FLOWS (2..64512, default 64512), IPv4
 *                                              (ct_hit_*) and IPv6 (ct_hit6_*; the flow cache
 *                                              answers, redirecting to the next hop cached for
 *                                              the flow's backend), and on non-VIP traffic,
 *                                              beyond an empty XDP program, via
 *                                              BPF_PROG_TEST_RUN with repeat; key=value pairs
 *   fwd DEV OUT_DEV DST_MAC SECONDS            the floor: bench_fwd redirects DEV's frames to
 *                                              OUT_DEV (no lookup), detached after SECONDS */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>

#include <edgelb/lb.h>
#include <edgelb/maps.h>

#include "dataplane/clock.h"
#include "dataplane/ct_cache.h"
#include "dataplane/lb.h"
#include "lib/buf.h"
#include "lib/ip.h"
#include "bench_lb.skel.h"

static const char *bdir(void)
{
	const char *b = getenv("B");

	return b && *b ? b : "build";
}

static struct bpf_object *load(const char *name)
{
	char path[512];
	struct bpf_object *o;

	snprintf(path, sizeof(path), "%s/bpf/%s.bpf.o", bdir(), name);
	o = bpf_object__open_file(path, NULL);
	if (!o || libbpf_get_error(o) || dp_clock_set(o) || dp_ct_cache_size(o) ||
	    bpf_object__load(o)) {
		fprintf(stderr, "bench_lb: cannot load %s\n", path);
		exit(1);
	}
	return o;
}

static int prog_fd(struct bpf_object *o, const char *name)
{
	return bpf_program__fd(bpf_object__find_program_by_name(o, name));
}

static int map_fd(struct bpf_object *o, const char *name)
{
	return bpf_map__fd(bpf_object__find_map_by_name(o, name));
}

static uint32_t sum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet + IPv4 + UDP (18 payload bytes: a 60-byte frame), checksums complete. */
static size_t udp_frame(uint8_t *out, const uint8_t dmac[6], const uint8_t smac[6],
			const struct ip *src, const struct ip *dst, uint16_t sport, uint16_t dport)
{
	struct wbuf w = wbuf_make(out, 128);
	uint32_t ps;

	wbuf_bytes(&w, dmac, 6);
	wbuf_bytes(&w, smac, 6);
	wbuf_u16(&w, 0x0800);
	wbuf_u8(&w, 0x45);
	wbuf_u8(&w, 0);
	wbuf_u16(&w, 20 + 8 + 18);
	wbuf_u32(&w, 0x4000);
	wbuf_u8(&w, 64);
	wbuf_u8(&w, 17);
	wbuf_u16(&w, 0);
	wbuf_bytes(&w, src->a, 4);
	wbuf_bytes(&w, dst->a, 4);
	wbuf_u16(&w, sport);
	wbuf_u16(&w, dport);
	wbuf_u16(&w, 8 + 18);
	wbuf_u16(&w, 0);
	wbuf_zero(&w, 18);
	wbuf_put_u16_at(&w, 24, fold(sum(out + 14, 20, 0)));
	ps = sum(src->a, 4, 0);
	ps = sum(dst->a, 4, ps) + 17 + 26;
	wbuf_put_u16_at(&w, 40, fold(sum(out + 34, 26, ps)));
	return w.err ? 0 : w.len;
}

/* Ethernet + IPv6 + UDP (2 payload bytes: a 64-byte frame), checksum complete. */
static size_t udp6_frame(uint8_t *out, const uint8_t dmac[6], const uint8_t smac[6],
			 const struct ip *src, const struct ip *dst, uint16_t sport, uint16_t dport)
{
	struct wbuf w = wbuf_make(out, 128);
	uint32_t ps;

	wbuf_bytes(&w, dmac, 6);
	wbuf_bytes(&w, smac, 6);
	wbuf_u16(&w, 0x86dd);
	wbuf_u32(&w, 0x60000000);
	wbuf_u16(&w, 8 + 2);
	wbuf_u8(&w, 17);
	wbuf_u8(&w, 64);
	wbuf_bytes(&w, src->a, 16);
	wbuf_bytes(&w, dst->a, 16);
	wbuf_u16(&w, sport);
	wbuf_u16(&w, dport);
	wbuf_u16(&w, 8 + 2);
	wbuf_u16(&w, 0);
	wbuf_zero(&w, 2);
	ps = sum(src->a, 16, 0);
	ps = sum(dst->a, 16, ps) + 17 + 10;
	ps = fold(sum(out + 54, 10, ps));
	wbuf_put_u16_at(&w, 60, ps ? (uint16_t)ps : 0xffff); /* RFC 8200 8.1: never 0 */
	return w.err ? 0 : w.len;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6
		       ? 0
		       : -1;
}

static int dev_mac(const char *dev, uint8_t mac[6])
{
	char path[128], buf[64];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", dev);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	return parse_mac(buf, mac);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Where a live-frames test run puts a frame in its page: after struct xdp_page_head (whose
 * last member, a flexible array, is where the buffer starts) and XDP_PACKET_HEADROOM. -1 when
 * the kernel's BTF does not say. */
static int live_frame_offset(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	const struct btf_type *t;
	int id, off = -1;

	if (!vmlinux)
		return -1;
	id = btf__find_by_name_kind(vmlinux, "xdp_page_head", BTF_KIND_STRUCT);
	t = id > 0 ? btf__type_by_id(vmlinux, (__u32)id) : NULL;
	if (t && btf_vlen(t) > 0)
		off = (int)(btf_member_bit_offset(t, btf_vlen(t) - 1) / 8) + XDP_PACKET_HEADROOM;
	btf__free(vmlinux);
	return off;
}

/* The scrambled order's stride (bench_lb.bpf.c: flow_stride): coprime to flows, so that
 * i -> i x stride mod flows is a permutation, and near flows / phi, so that packets in a row are
 * far apart in the order the entries were made. */
static __u32 flow_stride(__u32 flows)
{
	__u32 s = (__u32)(flows * 0.618) | 1;

	for (;; s += 2) {
		__u32 a = s, b = flows;

		while (b) {
			__u32 t = a % b;

			a = b;
			b = t;
		}
		if (a == 1)
			return s;
	}
}

static int gen(char **argv, const char *flows)
{
	uint8_t dmac[6], smac[6], frame[128];
	struct ip src, dst;
	int ifindex = (int)if_nametoindex(argv[0]);
	long count = atol(argv[5]);
	struct bench_lb *sk;
	struct xdp_md ctx = {0};
	double t0, t1;
	int offset;
	size_t n;

	if (!ifindex || parse_mac(argv[1], dmac) || dev_mac(argv[0], smac) ||
	    ip_parse(argv[2], &src) || ip_parse(argv[3], &dst) || count <= 0 ||
	    count > 100000000L || atol(flows) < 1 || atol(flows) > 64512) {
		fprintf(stderr, "bench_lb gen: bad arguments\n");
		return 2;
	}
	sk = bench_lb__open_and_load();
	if (!sk) {
		fprintf(stderr, "bench_lb gen: cannot load bench_lb\n");
		return 1;
	}
	n = udp_frame(frame, dmac, smac, &src, &dst, 12345, (uint16_t)atoi(argv[4]));
	offset = live_frame_offset();
	/* the frame starts a cache line, as in a NIC's receive buffer (bench_lb.bpf.c) */
	sk->bss->align_back = offset > 0 ? (__u32)offset % 64 : 0;
	memcpy(sk->bss->tmpl, frame, sizeof(sk->bss->tmpl));
	sk->bss->flows = (__u32)atol(flows);
	sk->bss->flow_stride = flow_stride(sk->bss->flows);
	ctx.data_end = (__u32)n;
	ctx.ingress_ifindex = (__u32)ifindex;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)n,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = (__u32)count,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	t0 = now_s();
	if (bpf_prog_test_run_opts(bpf_program__fd(sk->progs.bench_tx), &opts)) {
		fprintf(stderr, "bench_lb gen: live frames run: %s\n", strerror(errno));
		return 1;
	}
	t1 = now_s();
	printf("seconds=%.3f sent=%ld frame_offset=%d align_back=%u\n", t1 - t0, count, offset,
	       sk->bss->align_back);
	bench_lb__destroy(sk);
	return 0;
}

/* A test run reuses its frame memory: after a DNAT the next repetition would see the rewritten
 * packet. bench_restore copies the pristine template back, then tail-calls slot 0 of
 * bench_progs; ns per run of (restore + target) minus (restore + bench_empty) is the target's
 * own cost beyond an empty program. Plain mode: the action is not carried out. */
static double run_ns(struct bench_lb *sk, int target, const uint8_t *pkt, size_t n, int ifindex,
		     __u32 repeat, __u32 *ret)
{
	uint8_t out[256];
	__u32 zero = 0;
	struct xdp_md ctx = {.data_end = (__u32)n, .ingress_ifindex = (__u32)ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)n,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = repeat);

	memcpy(sk->bss->tmpl, pkt, sizeof(sk->bss->tmpl));
	if (bpf_map_update_elem(bpf_map__fd(sk->maps.bench_progs), &zero, &target, BPF_ANY) ||
	    bpf_prog_test_run_opts(bpf_program__fd(sk->progs.bench_restore), &o))
		return -1;
	*ret = o.retval;
	return (double)o.duration;
}

#define CT_FLOWS_MAX 64512 /* source ports 1024..65535 */
#define BENCH_V4_LEN 60	   /* udp_frame's length; udp6_frame's is 64 */

/* ns per packet of xdp_ingress (xi) on the flow of frame, then among each of flows (a
 * NULL-ended list), beyond an empty program, printed as NAME_ns=... NAME_N_flows_ns=...; the
 * one flow's cost, or -1. */
static double hits(struct bench_lb *sk, int xi, int empty, const uint8_t *frame, size_t n, int in,
		   __u32 repeat, char **flows, const char *name)
{
	double hit, base, many;
	__u32 ret = 0;

	sk->bss->tmpl_v6 = n > BENCH_V4_LEN;
	sk->bss->flows = 1;
	run_ns(sk, xi, frame, n, in, 1, &ret); /* the first packet creates the entry */
	hit = run_ns(sk, xi, frame, n, in, repeat, &ret);
	if (ret != XDP_REDIRECT) {
		fprintf(stderr, "bench_lb cthit: %s: action %u, not XDP_REDIRECT\n", name, ret);
		return -1;
	}
	base = run_ns(sk, empty, frame, n, in, repeat, &ret);
	printf("%s_ns=%.1f", name, hit - base);
	/* many flows: one pass creates their entries, then every packet is a hit on an entry
	 * last touched FLOWS packets ago (a working set that may not stay in the CPU caches), in
	 * an order other than the entries' (bench_lb.bpf.c: flow_stride) */
	for (char **a = flows; *a; a++) {
		sk->bss->flows = (__u32)atol(*a);
		sk->bss->flow_seq = 0;
		sk->bss->flow_stride = flow_stride(sk->bss->flows);
		run_ns(sk, xi, frame, n, in, sk->bss->flows, &ret);
		many = run_ns(sk, xi, frame, n, in, repeat, &ret);
		if (ret != XDP_REDIRECT) {
			fprintf(stderr,
				"bench_lb cthit: %s, %s flows: action %u, not XDP_REDIRECT\n", name,
				*a, ret);
			return -1;
		}
		many -= run_ns(sk, empty, frame, n, in, repeat, &ret);
		printf(" %s_%s_flows_ns=%.1f", name, *a, many);
	}
	sk->bss->flows = 1;
	return hit - base;
}

/* cthit REPEAT [FLOWS...]: see the top of the file; argv ends with NULL. */
static int cthit(char **argv)
{
	static const char *const cmds[] = {
	    "ip link set lo up",
	    "ip link add elbbin0 type veth peer name elbbin1",
	    "ip link add elbbbe0 type veth peer name elbbbe1",
	    "sysctl -qw net.ipv4.ip_forward=1",
	    "sysctl -qw net.ipv6.conf.all.forwarding=1",
	    "ip link set elbbin0 up",
	    "ip link set elbbin1 up",
	    "ip link set elbbbe0 up",
	    "ip link set elbbbe1 up",
	    "ip addr add 198.51.100.1/24 dev elbbin0",
	    "ip addr add 192.0.2.1/24 dev elbbbe0",
	    "ip -6 addr add 2001:db8:c::1/64 dev elbbin0 nodad",
	    "ip -6 addr add 2001:db8:b::1/64 dev elbbbe0 nodad",
	    "ip neigh add 192.0.2.11 lladdr 02:be:00:00:00:11 dev elbbbe0 nud permanent",
	    "ip -6 neigh add 2001:db8:b::11 lladdr 02:be:00:00:00:11 dev elbbbe0 nud permanent",
	};
	static char *one_set[] = {"64512", NULL};
	static struct cfg_backend be[2];
	static struct cfg_service svc;
	static struct cfg_port svc_port[1];
	__u32 repeat = (__u32)atol(argv[0]), ret = 0;
	struct lb_vip vip = {.svc = &svc, .n_ips = 2};
	struct bpf_object *x;
	struct lb_fds f;
	uint8_t frame[128], mac[6] = {0x02, 0, 0, 0, 0, 1}, smac[6] = {0x02, 0, 0, 0, 0, 2};
	struct ip client, vipip, other, client6, vip6;
	char err[256];
	size_t n;
	int in;
	double hit, hit6, pass, noop, base;
	struct bench_lb *sk;
	int xi, empty;

	if (repeat == 0 || repeat > 100000000)
		return 2;
	for (char **a = argv + 1; *a; a++) {
		char *end;
		long v = strtol(*a, &end, 10);

		if (*end || v < 2 || v > CT_FLOWS_MAX) {
			fprintf(stderr, "bench_lb cthit: FLOWS must be 2..%d, not '%s'\n",
				CT_FLOWS_MAX, *a);
			return 2;
		}
	}
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "bench_lb cthit: unshare: %s\n", strerror(errno));
		return 1;
	}
	{ /* one CPU: the flow cache is per CPU, so the pass that makes the entries fills the
	   * slots the measured runs read */
		cpu_set_t one;
		int cpu = sched_getcpu();

		CPU_ZERO(&one);
		CPU_SET(cpu < 0 ? 0 : cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one)) {
			fprintf(stderr, "bench_lb cthit: sched_setaffinity: %s\n", strerror(errno));
			return 1;
		}
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (system(cmds[i])) {
			fprintf(stderr, "bench_lb cthit: %s failed\n", cmds[i]);
			return 1;
		}
	in = (int)if_nametoindex("elbbin0");
	x = load("xdp_ingress");
	f = (struct lb_fds){
	    map_fd(x, ELB_MAP_SERVICES),  map_fd(x, ELB_MAP_BACKENDS),	 map_fd(x, ELB_MAP_MAGLEV),
	    map_fd(x, ELB_MAP_SVC_STATS), map_fd(x, ELB_MAP_BE_STATS),	 map_fd(x, ELB_MAP_CT_FWD),
	    map_fd(x, ELB_MAP_CT_REPLY),  map_fd(x, ELB_MAP_VIP_FILTER), map_fd(x, ELB_MAP_CONFIG)};
	ip_parse("192.0.2.11", &be[0].addr);
	ip_parse("2001:db8:b::11", &be[1].addr);
	for (int i = 0; i < 2; i++) {
		be[i].port = 8080;
		be[i].weight = 1;
	}
	cfg_service_set_name(&svc, "bench/svc");
	svc.ports = svc_port;
	svc.ports[0] = (struct cfg_port){80, 17};
	svc.n_ports = 1;
	svc.backends = be;
	svc.n_backends = 2;
	ip_parse("203.0.113.10", &vip.ips[0]);
	ip_parse("2001:db8:f::10", &vip.ips[1]);
	if (lb_sync(&f, &vip, 1, NULL, err, sizeof(err))) {
		fprintf(stderr, "bench_lb cthit: %s\n", err);
		return 1;
	}
	ip_parse("198.51.100.7", &client);
	ip_parse("203.0.113.10", &vipip);
	ip_parse("198.51.100.99", &other);
	ip_parse("2001:db8:c::7", &client6);
	ip_parse("2001:db8:f::10", &vip6);
	n = udp_frame(frame, mac, smac, &client, &vipip, 40000, 80);
	sk = bench_lb__open_and_load();
	if (!sk) {
		fprintf(stderr, "bench_lb cthit: cannot load bench_lb\n");
		return 1;
	}
	xi = prog_fd(x, "xdp_ingress");
	empty = bpf_program__fd(sk->progs.bench_empty);
	hit = hits(sk, xi, empty, frame, n, in, repeat, argv[1] ? argv + 1 : one_set, "ct_hit");
	n = udp6_frame(frame, mac, smac, &client6, &vip6, 40000, 80);
	printf(" ");
	hit6 = hits(sk, xi, empty, frame, n, in, repeat, argv[1] ? argv + 1 : one_set, "ct_hit6");
	if (hit < 0 || hit6 < 0)
		return 1;
	n = udp_frame(frame, mac, smac, &client, &other, 40000, 80);
	sk->bss->tmpl_v6 = 0;
	base = run_ns(sk, empty, frame, n, in, repeat, &ret);
	pass = run_ns(sk, xi, frame, n, in, repeat, &ret);
	{
		struct xdp_md ctx = {.data_end = (__u32)n, .ingress_ifindex = (__u32)in};
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)n,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);

		bpf_prog_test_run_opts(empty, &o);
		noop = (double)o.duration;
	}
	printf(" non_vip_ns=%.1f empty_prog_ns=%.1f repeat=%u (ns per packet beyond an empty XDP "
	       "program; the conntrack hit is answered by the flow cache in front of ct_fwd_v2, "
	       "which DNATs and redirects to the next hop cached for the flow's backend)\n",
	       pass - base, noop, repeat);
	return 0;
}

/* fwd DEV OUT_DEV DMAC SECONDS: bench_fwd on DEV (XDP, driver mode) for SECONDS, then off. */
static int fwd(char **argv)
{
	int in = (int)if_nametoindex(argv[0]), out = (int)if_nametoindex(argv[1]);
	int secs = atoi(argv[3]);
	struct bench_lb *sk;

	if (!in || !out || secs <= 0 || secs > 600) {
		fprintf(stderr, "bench_lb fwd: bad arguments\n");
		return 2;
	}
	sk = bench_lb__open_and_load();
	if (!sk || parse_mac(argv[2], sk->bss->fwd_dmac) || dev_mac(argv[1], sk->bss->fwd_smac))
		return 1;
	sk->bss->fwd_ifindex = (__u32)out;
	if (bpf_xdp_attach(in, bpf_program__fd(sk->progs.bench_fwd), XDP_FLAGS_DRV_MODE, NULL)) {
		fprintf(stderr, "bench_lb fwd: attach: %s\n", strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sleep((unsigned)secs);
	bpf_xdp_detach(in, XDP_FLAGS_DRV_MODE, NULL);
	bench_lb__destroy(sk);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "fwd"))
		return fwd(argv + 2);
	if ((argc == 8 || argc == 9) && !strcmp(argv[1], "gen"))
		return gen(argv + 2, argc == 9 ? argv[8] : "1");
	if (argc >= 3 && !strcmp(argv[1], "cthit"))
		return cthit(argv + 2);
	fprintf(stderr, "usage: bench_lb gen DEV DST_MAC SRC_IP DST_IP DPORT COUNT [FLOWS]\n"
			"       bench_lb cthit REPEAT [FLOWS...]\n"
			"       bench_lb fwd DEV OUT_DEV DST_MAC SECONDS\n");
	return 2;
}
