/* Shared set-up of the BPF fuzz targets (fuzz_xdp, fuzz_revnat): loading the real objects from
 * $B/bpf (B from the environment, default "build"), map helpers and the fixed service the maps
 * are filled with. Header-only because the Makefile builds each fuzz_X.c alone.
 * Any set-up failure prints one line and exits 1: a broken object is never fuzzed silently.
 * Addresses are documentation ranges (RFC 5737, RFC 3849). */
#ifndef EDGELB_FUZZ_BPF_ENV_H
#define EDGELB_FUZZ_BPF_ENV_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <edgelb/abi.h>

#include "dataplane/ct_cache.h"
#include <edgelb/l2.h>
#include <edgelb/lb.h>
#include <edgelb/maps.h>
#include <edgelb/stats.h>

/* The service every target programs: VIP:80/tcp and VIP:53/udp (IPv4), VIP6:80/tcp, two
 * backends per family behind one Maglev table each; the client side is 198.51.100.0/24. */
#define FZ_VIP4	    "203.0.113.10"
#define FZ_VIP6	    "2001:db8:f::10"
#define FZ_BE4_A    "192.0.2.11"
#define FZ_BE4_B    "192.0.2.12"
#define FZ_BE6_A    "2001:db8:b::11"
#define FZ_BE6_B    "2001:db8:b::12"
#define FZ_CLIENT4  "198.51.100.7"
#define FZ_CLIENT6  "2001:db8:c::7"
#define FZ_BE_PORT  8080
#define FZ_SVC4_ID  1
#define FZ_SVC6_ID  2
/* the frames' own MAC for ifindex 1 (lo), as the loader would write it */
static const uint8_t FZ_IF_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};

static inline __attribute__((noreturn, format(printf, 2, 3))) void
fz_die(const char *who, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", who);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static inline struct elb_ip fz_ip(const char *s, uint8_t *family)
{
	struct elb_ip ip;

	memset(&ip, 0, sizeof(ip));
	if (inet_pton(AF_INET, s, &ip.addr[0]) == 1) {
		*family = ELB_AF_INET;
		return ip;
	}
	if (inet_pton(AF_INET6, s, ip.addr) != 1)
		fz_die("fuzz", "bad address %s in the fixed set-up", s);
	*family = ELB_AF_INET6;
	return ip;
}

static inline uint64_t fz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Opens $B/bpf/<name>.bpf.o; maps named like a map of share (if given) reuse its fds. */
static inline struct bpf_object *fz_load(const char *who, const char *name,
					 struct bpf_object *share)
{
	const char *b = getenv("B");
	char path[512];
	struct bpf_object *obj;
	struct bpf_map *m;

	snprintf(path, sizeof(path), "%s/bpf/%s.bpf.o", b && *b ? b : "build", name);
	obj = bpf_object__open_file(path, NULL);
	if (!obj || libbpf_get_error(obj))
		fz_die(who, "cannot open %s (B=%s): %s; build it first (make B=<dir> test-build)",
		       path, b && *b ? b : "build", strerror(errno));
	if (share)
		bpf_object__for_each_map(m, obj)
		{
			struct bpf_map *x = bpf_object__find_map_by_name(share, bpf_map__name(m));

			if (x && bpf_map__reuse_fd(m, bpf_map__fd(x)))
				fz_die(who, "map %s: reuse failed", bpf_map__name(m));
		}
	if (dp_ct_cache_size(obj))
		fz_die(who, "cannot size the flow cache of %s", path);
	if (bpf_object__load(obj)) {
		int err = errno;

		bpf_object__close(obj);
		fz_die(who, "cannot load %s: %s (the fuzz tier needs root and a BPF-capable kernel)",
		       path, strerror(err));
	}
	return obj;
}

static inline int fz_prog(const char *who, struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	if (!p || bpf_program__fd(p) < 0)
		fz_die(who, "object has no program %s", name);
	return bpf_program__fd(p);
}

static inline int fz_map(const char *who, struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (!m || bpf_map__fd(m) < 0)
		fz_die(who, "object has no map %s", name);
	return bpf_map__fd(m);
}

static inline void fz_put(const char *who, int fd, const char *map, const void *k, const void *v)
{
	if (bpf_map_update_elem(fd, k, v, BPF_ANY))
		fz_die(who, "map %s: update failed: %s", map, strerror(errno));
}

/* Reply conntrack entry backend:8080 → client:cport (as a forwarded flow leaves it): tc_revnat
 * rewrites such replies to VIP:vport. */
static inline void fz_put_reply_ct(const char *who, int ct_fd, const char *be, const char *client,
				   uint16_t cport, uint8_t proto, const char *vip, uint16_t vport,
				   uint32_t be_id, uint32_t svc_id)
{
	struct elb_ct_key k;
	struct elb_ct v;
	uint8_t fam;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.src = fz_ip(be, &fam);
	k.dst = fz_ip(client, &fam);
	k.sport = htons(FZ_BE_PORT);
	k.dport = htons(cport);
	k.proto = proto;
	k.family = fam;
	k.dir = ELB_CT_REPLY;
	v.seen_ns = fz_now_ns();
	v.nat = fz_ip(vip, &fam);
	v.nat_port = htons(vport);
	v.state = proto == IPPROTO_TCP ? ELB_CT_EST : ELB_CT_UDP;
	v.backend_id = be_id;
	v.svc_id = svc_id;
	fz_put(who, ct_fd, ELB_MAP_CT_REPLY, &k, &v);
}

/* Coverage from inside the kernel: libFuzzer sees only userspace edges, so the counter reasons
 * (stats_v1) a run bumped, crossed with its verdict, are handed to it as extra counters (the
 * __libfuzzer_extra_counters section, cleared by libFuzzer before each run): an input that
 * reaches a new reason or a reason under a new verdict is kept in the corpus. */
#define FZ_VERDICTS 8
__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t
	fz_extra[FZ_VERDICTS * ELB_R_MAX];

struct fz_stats {
	int fd, ncpu;
	uint64_t last[ELB_R_MAX];
	struct elb_counter *vals; /* ncpu values per reason */
};

/* Reads the packets per reason of stats_v1 (summed over CPUs) into now; 0 or -1. */
static inline int fz_stats_read(struct fz_stats *s, uint64_t now[ELB_R_MAX])
{
	__u32 keys[ELB_R_MAX], out = 0, n = ELB_R_MAX;
	int err = bpf_map_lookup_batch(s->fd, NULL, &out, keys, s->vals, &n, NULL);

	if ((err && errno != ENOENT) || n != ELB_R_MAX)
		return -1;
	for (__u32 i = 0; i < n; i++) {
		uint64_t sum = 0;

		for (int c = 0; c < s->ncpu; c++)
			sum += s->vals[(size_t)i * s->ncpu + c].packets;
		if (keys[i] < ELB_R_MAX)
			now[keys[i]] = sum;
	}
	return 0;
}

static inline void fz_stats_init(const char *who, struct fz_stats *s, int fd)
{
	s->fd = fd;
	s->ncpu = libbpf_num_possible_cpus();
	s->vals = s->ncpu > 0 ? calloc((size_t)s->ncpu * ELB_R_MAX, sizeof(*s->vals)) : NULL;
	if (!s->vals || fz_stats_read(s, s->last))
		fz_die(who, "map %s: batch lookup failed: %s", ELB_MAP_STATS, strerror(errno));
}

/* After a run: every reason counted since the last call marks (verdict, reason). */
static inline void fz_stats_note(const char *who, struct fz_stats *s, uint32_t verdict)
{
	uint64_t now[ELB_R_MAX] = {0};

	if (fz_stats_read(s, now))
		fz_die(who, "map %s: batch lookup failed: %s", ELB_MAP_STATS, strerror(errno));
	for (int r = 0; r < ELB_R_MAX; r++) {
		if (now[r] != s->last[r])
			fz_extra[(verdict % FZ_VERDICTS) * ELB_R_MAX + r] = 1;
		s->last[r] = now[r];
	}
}

/* 1 when pat occurs anywhere in the n bytes at p. */
static inline int fz_has(const uint8_t *p, size_t n, const void *pat, size_t plen)
{
	return n >= plen && memmem(p, n, pat, plen) != NULL;
}

#endif
