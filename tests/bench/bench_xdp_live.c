/* Layer-2 benchmark tool (scripts/bench/l2.sh), three roles, each bounded in time:
 *   gen DEV SENDER_IP TARGET_IP SECONDS   flood ARP requests out of DEV with BPF_PROG_TEST_RUN
 *                                         and BPF_F_TEST_XDP_LIVE_FRAMES (program bench_tx), count
 *                                         the ARP replies coming back (bench_count on DEV)
 *   xdp DEV VIP SECONDS                   the real xdp_ingress answering for VIP on DEV
 *   xdp-stats DEV VIP SECONDS             the same with BPF run-time statistics (ns per run)
 *   packet DEV VIP SECONDS                a userspace AF_PACKET responder (MetalLB's approach)
 *   reflect DEV SECONDS                   the floor: bench_reflect flips the opcode, XDP_TX
 * Prints one line of key=value pairs. Run each role inside its own namespace. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <edgelb/l2.h>
#include <edgelb/maps.h>
#include <edgelb/stats.h>

#include "lib/buf.h"
#include "lib/ip.h"
#include "netlink/nl.h"
#include "bench_l2.skel.h"
#include "xdp_ingress.skel.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_xdp_live: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void dev_info(const char *dev, int *ifindex, uint8_t mac[6])
{
	struct nl_link_info li;

	if (nl_link(dev, &li) < 0 || !li.ifindex) {
		fprintf(stderr, "bench_xdp_live: %s: no such interface\n", dev);
		exit(1);
	}
	*ifindex = li.ifindex;
	memcpy(mac, li.mac, 6);
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "bench_xdp_live: %s: not an IPv4 address\n", s);
		exit(2);
	}
	return a.s_addr;
}

/* RFC 826 request, Ethernet broadcast, padded to the 60-byte minimum. */
static size_t arp_frame(uint8_t *f, size_t cap, uint16_t op, const uint8_t dst[6],
			const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
	struct wbuf w = wbuf_make(f, cap);

	wbuf_bytes(&w, dst, 6);
	wbuf_bytes(&w, sha, 6);
	wbuf_u16(&w, ETH_P_ARP);
	wbuf_u16(&w, 1);
	wbuf_u16(&w, ETH_P_IP);
	wbuf_u8(&w, 6);
	wbuf_u8(&w, 4);
	wbuf_u16(&w, op);
	wbuf_bytes(&w, sha, 6);
	wbuf_bytes(&w, &spa, 4);
	wbuf_bytes(&w, tha, 6);
	wbuf_bytes(&w, &tpa, 4);
	wbuf_zero(&w, 60 - w.len);
	return w.err ? 0 : w.len;
}

static int gen(const char *dev, const char *sender, const char *target, double secs)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, zero[6];
	struct bench_l2 *sk = bench_l2__open_and_load();
	uint8_t mac[6], f[64];
	int ifindex, ncpu = libbpf_num_possible_cpus();
	size_t len;
	unsigned long long sent = 0, got = 0;
	double t0, t1;
	__u32 k = 0;

	if (!sk)
		die("bench_l2: load");
	dev_info(dev, &ifindex, mac);
	len = arp_frame(f, sizeof(f), 1, bcast, mac, ip4(sender), zero, ip4(target));
	if (bpf_map_update_elem(bpf_map__fd(sk->maps.frame), &k, f, BPF_ANY))
		die("frame template");
	if (bpf_xdp_attach(ifindex, bpf_program__fd(sk->progs.bench_count), XDP_FLAGS_DRV_MODE,
			   NULL))
		die("attach bench_count");
	struct xdp_md ctx = {.data_end = (__u32)len, .ingress_ifindex = (__u32)ifindex};
	/* Each live-frames run ends by waiting for an RCU grace period (milliseconds here): runs of
	 * 20,000 frames spent most of their time asleep in synchronize_rcu, so a run is a million
	 * frames (a fraction of a second) and the loop below still ends within one run of SECS. */
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (__u32)len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1000000, .batch_size = 64,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	t0 = now_s();
	while ((t1 = now_s()) - t0 < secs) {
		if (bpf_prog_test_run_opts(bpf_program__fd(sk->progs.bench_tx), &o))
			die("live-frames test run");
		sent += o.repeat;
	}
	t1 = now_s();
	usleep(200 * 1000); /* replies still in flight */
	__u64 per[ncpu];
	if (bpf_map_lookup_elem(bpf_map__fd(sk->maps.replies), &k, per) == 0)
		for (int i = 0; i < ncpu; i++)
			got += per[i];
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	bench_l2__destroy(sk);
	printf("sent=%llu replies=%llu seconds=%.3f sent_pps=%.0f replies_per_s=%.0f\n", sent, got,
	       t1 - t0, (double)sent / (t1 - t0), (double)got / (t1 - t0));
	return 0;
}

static int xdp_responder(const char *dev, const char *vip, double secs, bool stats)
{
	struct xdp_ingress *sk = xdp_ingress__open_and_load();
	struct elb_iface ifc = {.flags = ELB_IFACE_F_L2};
	struct elb_l2_key key;
	struct elb_l2_vip v = {.flags = ELB_L2_F_ACTIVE};
	struct elb_config c = {0}; /* heartbeat gate off: nothing beats here */
	int ifindex;
	__u32 k, zero = 0;

	if (!sk)
		die("xdp_ingress: load");
	dev_info(dev, &ifindex, ifc.mac);
	k = (__u32)ifindex;
	memset(&key, 0, sizeof(key));
	key.ifindex = k;
	key.family = ELB_AF_INET;
	key.vip.addr[0] = ip4(vip);
	if (bpf_map_update_elem(bpf_map__fd(sk->maps.ifaces_v1), &k, &ifc, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(sk->maps.l2_vips_v1), &key, &v, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(sk->maps.config_v1), &zero, &c, BPF_ANY))
		die("map update");
	if (bpf_xdp_attach(ifindex, bpf_program__fd(sk->progs.xdp_ingress), XDP_FLAGS_DRV_MODE,
			   NULL))
		die("attach xdp_ingress");
	/* run-time statistics while this fd is open (BPF_ENABLE_STATS), off again on close */
	int stats_fd = stats ? bpf_enable_stats(BPF_STATS_RUN_TIME) : -1;
	struct bpf_prog_info info = {0};
	__u32 ilen = sizeof(info);

	printf("ready\n");
	fflush(stdout);
	usleep((useconds_t)(secs * 1e6));
	bpf_map_lookup_elem(bpf_map__fd(sk->maps.l2_vips_v1), &key, &v);
	if (stats_fd >= 0 &&
	    bpf_obj_get_info_by_fd(bpf_program__fd(sk->progs.xdp_ingress), &info, &ilen) == 0 &&
	    info.run_cnt)
		printf("prog_runs=%llu prog_ns_per_run=%.1f\n", (unsigned long long)info.run_cnt,
		       (double)info.run_time_ns / (double)info.run_cnt);
	if (stats_fd >= 0)
		close(stats_fd);
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	xdp_ingress__destroy(sk);
	printf("requests=%llu replies=%llu\n", (unsigned long long)v.requests,
	       (unsigned long long)v.replies);
	return 0;
}

static int reflector(const char *dev, double secs)
{
	struct bench_l2 *sk = bench_l2__open_and_load();
	uint8_t mac[6];
	int ifindex;

	if (!sk)
		die("bench_l2: load");
	dev_info(dev, &ifindex, mac);
	if (bpf_xdp_attach(ifindex, bpf_program__fd(sk->progs.bench_reflect), XDP_FLAGS_DRV_MODE,
			   NULL))
		die("attach bench_reflect");
	printf("ready\n");
	fflush(stdout);
	usleep((useconds_t)(secs * 1e6));
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	bench_l2__destroy(sk);
	return 0;
}

static int packet_responder(const char *dev, const char *vip_s, double secs)
{
	uint8_t mac[6], in[256], out[64];
	int ifindex, fd;
	uint32_t vip = ip4(vip_s);
	unsigned long long seen = 0, replies = 0;
	double t0;

	dev_info(dev, &ifindex, mac);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (fd < 0)
		die("AF_PACKET socket");
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_ifindex = ifindex};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind");
	printf("ready\n");
	fflush(stdout);
	t0 = now_s();
	while (now_s() - t0 < secs) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, in, sizeof(in), MSG_DONTWAIT);
		if (n <= 0)
			continue;
		struct rbuf r = rbuf_make(in, (size_t)n);
		uint8_t sha[6];
		uint32_t spa, tpa;
		uint16_t op;

		rbuf_skip(&r, 14 + 6);
		op = rbuf_u16(&r);
		rbuf_bytes(&r, sha, 6);
		rbuf_bytes(&r, &spa, 4);
		rbuf_skip(&r, 6);
		rbuf_bytes(&r, &tpa, 4);
		if (r.err || op != 1 || tpa != vip)
			continue;
		seen++;
		size_t len = arp_frame(out, sizeof(out), 2, sha, mac, vip, sha, spa);
		if (send(fd, out, len, MSG_DONTWAIT) == (ssize_t)len)
			replies++;
	}
	close(fd);
	printf("requests=%llu replies=%llu\n", seen, replies);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "gen"))
		return gen(argv[2], argv[3], argv[4], atof(argv[5]));
	if (argc == 5 && !strcmp(argv[1], "xdp"))
		return xdp_responder(argv[2], argv[3], atof(argv[4]), false);
	if (argc == 5 && !strcmp(argv[1], "xdp-stats"))
		return xdp_responder(argv[2], argv[3], atof(argv[4]), true);
	if (argc == 5 && !strcmp(argv[1], "packet"))
		return packet_responder(argv[2], argv[3], atof(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "reflect"))
		return reflector(argv[2], atof(argv[3]));
	fprintf(stderr, "usage: bench_xdp_live gen DEV SENDER_IP TARGET_IP SECONDS\n"
			"       bench_xdp_live xdp|packet DEV VIP SECONDS\n");
	return 2;
}
