/* libFuzzer target for the XDP dataplane's packet parsers: every input is one frame run through
 * the real xdp_ingress object ($B/bpf/xdp_ingress.bpf.o) with BPF_PROG_TEST_RUN on ifindex 1
 * (lo of a private network namespace, where a veth with permanent neighbours makes the
 * backends routable so the forwarding paths run too). The maps hold one fixed service
 * (bpf_env.h), L2 VIPs on ifindex 1 and a heartbeat kept fresh. Asserted (abort() otherwise):
 * the kernel runs every frame of a size it accepts, the action is never XDP_ABORTED nor
 * unknown, and a frame that carries no VIP is passed byte-identical. The counter reasons a run
 * bumps guide libFuzzer (bpf_env.h). Seeds: corpus/xdp/; EDGELB_FUZZ_TRACE=1 prints each run. */
#include <sched.h>
#include <linux/bpf.h>

#include "fuzz/bpf_env.h"

#define WHO "fuzz_xdp"
/* Sizes BPF_PROG_TEST_RUN takes for XDP, measured on kernel 6.18 (x86-64): at least ETH_HLEN;
 * at most 3520 linear bytes (a page less 256 headroom and 320 of skb_shared_info) plus
 * MAX_SKB_FRAGS (17) pages of fragments; beyond, ENOMEM. */
#define FZ_XDP_MIN 14
#define FZ_XDP_MAX (4096 - 256 - 320 + 17 * 4096)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct bpf_object *obj; /* kept for the whole run (and reachable for LeakSanitizer) */
static int prog_fd, config_fd, trace;
static uint64_t beat_ns;
static struct fz_stats stats;
static uint8_t vip4[4], vip6[16];

static void sh(const char *cmd)
{
	char line[512];
	int rc;

	snprintf(line, sizeof(line), "%s >/dev/null 2>&1", cmd);
	rc = system(line);
	if (rc)
		fz_die(WHO, "set-up command failed (%d): %s", rc, cmd);
}

/* Private namespace: lo (ifindex 1) takes the frames; elbfz0 leads to the backends. */
static void netns_setup(void)
{
	static const char *const cmds[] = {
		"ip link set lo up",
		"ip link add elbfz0 address 02:00:00:00:00:b0 type veth peer name elbfz1",
		"ip link set elbfz0 up",
		"ip link set elbfz1 up",
		"sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv4.conf.lo.forwarding=1",
		"sysctl -qw net.ipv6.conf.all.forwarding=1",
		"ip addr add 192.0.2.1/24 dev elbfz0",
		"ip -6 addr add 2001:db8:b::1/64 dev elbfz0 nodad",
		"ip neigh add " FZ_BE4_A " lladdr 02:be:00:00:00:11 dev elbfz0 nud permanent",
		"ip neigh add " FZ_BE4_B " lladdr 02:be:00:00:00:12 dev elbfz0 nud permanent",
		"ip -6 neigh add " FZ_BE6_A " lladdr 02:be:00:00:00:11 dev elbfz0 nud permanent",
		"ip -6 neigh add " FZ_BE6_B " lladdr 02:be:00:00:00:12 dev elbfz0 nud permanent",
	};

	if (unshare(CLONE_NEWNET))
		fz_die(WHO, "unshare(CLONE_NEWNET): %s (the fuzz tier runs as root)",
		       strerror(errno));
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		sh(cmds[i]);
}

static void beat(void)
{
	__u32 zero = 0;
	struct elb_config c = {.heartbeat_ns = fz_now_ns(),
			       .heartbeat_max_ns = ELB_HEARTBEAT_MAX_NS,
			       .maglev_seed = ELB_MAGLEV_SEED};

	fz_put(WHO, config_fd, ELB_MAP_CONFIG, &zero, &c);
	beat_ns = c.heartbeat_ns;
}

static void put_l2(int fd, const char *vip)
{
	struct elb_l2_key k = {.ifindex = 1};
	struct elb_l2_vip v = {.flags = ELB_L2_F_ACTIVE};

	k.vip = fz_ip(vip, &k.family);
	fz_put(WHO, fd, ELB_MAP_L2_VIPS, &k, &v);
}

static void put_svc(int fd, const char *vip, uint16_t port, uint8_t proto, uint32_t id)
{
	struct elb_svc_key k = {.port = htons(port), .proto = proto};
	struct elb_svc v = {.id = id, .flags = port ? 0 : ELB_SVC_F_ICMP_ECHO, .n_backends = 2};

	k.vip = fz_ip(vip, &k.family);
	fz_put(WHO, fd, ELB_MAP_SERVICES, &k, &v);
}

static void put_backend(int fd, uint32_t id, const char *addr, uint32_t svc_id)
{
	struct elb_backend v = {.port = htons(FZ_BE_PORT), .state = ELB_BE_ACTIVE, .weight = 1,
				.svc_id = svc_id};

	v.addr = fz_ip(addr, &v.family);
	fz_put(WHO, fd, ELB_MAP_BACKENDS, &id, &v);
}

static void put_maglev(int fd, uint32_t svc_id, uint32_t be_a, uint32_t be_b)
{
	struct elb_maglev *t = malloc(sizeof(*t));

	if (!t)
		fz_die(WHO, "out of memory");
	for (uint32_t i = 0; i < ELB_MAGLEV_SIZE; i++)
		t->backend[i] = i % 2 ? be_b : be_a;
	fz_put(WHO, fd, ELB_MAP_MAGLEV, &svc_id, t);
	free(t);
}

static void put_filter(int fd, const char *vip)
{
	uint8_t fam;
	struct elb_ip ip = fz_ip(vip, &fam);
	__u32 h = elb_vip_filter_hash(&ip, fam), w = h >> 6;
	__u64 bits = 0;

	if (bpf_map_lookup_elem(fd, &w, &bits))
		fz_die(WHO, "map %s: lookup of word %u failed", ELB_MAP_VIP_FILTER, w);
	bits |= 1ULL << (h & 63);
	fz_put(WHO, fd, ELB_MAP_VIP_FILTER, &w, &bits);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct elb_iface ifc = {.flags = ELB_IFACE_F_L2 | ELB_IFACE_F_LB};
	__u32 one = 1;
	int svc, be;

	netns_setup();
	obj = fz_load(WHO, "xdp_ingress", NULL);
	prog_fd = fz_prog(WHO, obj, "xdp_ingress");
	config_fd = fz_map(WHO, obj, ELB_MAP_CONFIG);
	beat();
	memcpy(ifc.mac, FZ_IF_MAC, 6);
	fz_put(WHO, fz_map(WHO, obj, ELB_MAP_IFACES), ELB_MAP_IFACES, &one, &ifc);
	put_l2(fz_map(WHO, obj, ELB_MAP_L2_VIPS), FZ_VIP4);
	put_l2(fz_map(WHO, obj, ELB_MAP_L2_VIPS), FZ_VIP6);

	be = fz_map(WHO, obj, ELB_MAP_BACKENDS);
	put_backend(be, 1, FZ_BE4_A, FZ_SVC4_ID);
	put_backend(be, 2, FZ_BE4_B, FZ_SVC4_ID);
	put_backend(be, 3, FZ_BE6_A, FZ_SVC6_ID);
	put_backend(be, 4, FZ_BE6_B, FZ_SVC6_ID);
	put_maglev(fz_map(WHO, obj, ELB_MAP_MAGLEV), FZ_SVC4_ID, 1, 2);
	put_maglev(fz_map(WHO, obj, ELB_MAP_MAGLEV), FZ_SVC6_ID, 3, 4);
	svc = fz_map(WHO, obj, ELB_MAP_SERVICES);
	put_svc(svc, FZ_VIP4, 0, 0, FZ_SVC4_ID);
	put_svc(svc, FZ_VIP4, 80, IPPROTO_TCP, FZ_SVC4_ID);
	put_svc(svc, FZ_VIP4, 53, IPPROTO_UDP, FZ_SVC4_ID);
	put_svc(svc, FZ_VIP6, 0, 0, FZ_SVC6_ID);
	put_svc(svc, FZ_VIP6, 80, IPPROTO_TCP, FZ_SVC6_ID);
	put_filter(fz_map(WHO, obj, ELB_MAP_VIP_FILTER), FZ_VIP4);
	put_filter(fz_map(WHO, obj, ELB_MAP_VIP_FILTER), FZ_VIP6);

	fz_stats_init(WHO, &stats, fz_map(WHO, obj, ELB_MAP_STATS));
	trace = getenv("EDGELB_FUZZ_TRACE") != NULL; /* one line per frame: size, action */
	inet_pton(AF_INET, FZ_VIP4, vip4);
	inet_pton(AF_INET6, FZ_VIP6, vip6);
	fprintf(stderr, WHO ": xdp_ingress loaded, maps filled (VIP %s, %s)\n", FZ_VIP4, FZ_VIP6);
	return 0;
}

static void fail(const char *what, size_t size)
{
	fprintf(stderr, WHO ": %s (frame of %zu bytes)\n", what, size);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[FZ_XDP_MAX + 4096];
	struct xdp_md ctx = {.data_end = (__u32)size, .ingress_ifindex = 1};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = (__u32)size,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	int ours = fz_has(data, size, vip4, 4) || fz_has(data, size, vip6, 16);

	if (fz_now_ns() - beat_ns > 1000000000ULL) /* the agent beats every second */
		beat();
	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		if (size < FZ_XDP_MIN || size > FZ_XDP_MAX)
			return 0; /* a size the kernel refuses: nothing ran */
		fprintf(stderr, WHO ": BPF_PROG_TEST_RUN failed: %s\n", strerror(errno));
		fail("the kernel refused a frame of an accepted size", size);
	}
	if (size < FZ_XDP_MIN || size > FZ_XDP_MAX)
		fail("the kernel ran a frame of a size it should refuse (fix FZ_XDP_MIN/MAX)", size);
	fz_stats_note(WHO, &stats, o.retval);
	if (trace)
		fprintf(stderr, WHO ": %zu bytes -> action %u, %u bytes out%s%s\n", size, o.retval,
			o.data_size_out,
			o.data_size_out == size && !memcmp(out, data, size) ? "" : ", rewritten",
			ours ? "" : " (no VIP)");
	/* a frame without a VIP is nobody's business here: passed, untouched */
	if (!ours && o.retval != XDP_PASS && o.retval != XDP_ABORTED) {
		fprintf(stderr, WHO ": action %u\n", o.retval);
		fail("a frame that carries no VIP was not passed", size);
	}
	switch (o.retval) {
	case XDP_PASS:
		if (!ours && (o.data_size_out != size || memcmp(out, data, size)))
			fail("XDP_PASS changed a frame that carries no VIP", size);
		break;
	case XDP_TX:
	case XDP_DROP:
	case XDP_REDIRECT:
		break;
	case XDP_ABORTED:
		fail("XDP_ABORTED", size);
	default:
		fprintf(stderr, WHO ": action %u\n", o.retval);
		fail("unknown XDP action", size);
	}
	return 0;
}
