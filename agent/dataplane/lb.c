/* Load-balancer map writers: services_v1, backends_v1, maglev_v1 (and zeroing counters of new
 * ids) from the services in the desired state and the IPs the allocator gave them. Ids are
 * derived from what the maps already hold, so they survive reconciles and agent restarts.
 * Order of writes keeps traffic flowing: backends, then whole Maglev tables, then services,
 * then deletions. Conntrack is never touched here: flows stay on a backend while it exists. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include <edgelb/lb.h>
#include <edgelb/maps.h>

#include "daemon/agent.h"
#include "alloc/alloc.h"
#include "dataplane/clock.h"
#include "dataplane/ct_cache.h"
#include "dataplane/dp.h"
#include "dataplane/lb.h"
#include "dataplane/maglev.h"
#include "lib/ev.h"
#include "lib/hash.h"
#include "lib/log.h"

struct want_be {
	uint32_t id;
	struct elb_backend v;
	bool same; /* backends_v1 already holds v under id */
};

struct want_svc {
	struct elb_svc_key key;
	struct elb_svc v;
	const struct cfg_service *svc;
	struct want_be *bes;
	int n_bes;
	bool same; /* services_v1 already holds v under key */
};

/* What matches a backends_v1 entry to a wanted backend (the id is reused). */
struct be_match {
	uint32_t svc_id;
	struct elb_ip addr;
	__be16 port;
	uint8_t family;
	uint8_t pad;
};

static struct be_match be_match_of(const struct elb_backend *b)
{
	struct be_match m;

	memset(&m, 0, sizeof(m));
	m.svc_id = b->svc_id;
	m.addr = b->addr;
	m.port = b->port;
	m.family = b->family;
	return m;
}

/* Service id → service name, as of the last sync: offsets into one string arena (0 = none),
 * so 100,000 names cost their length, not a fixed-size slot each. */
static uint32_t *lb_name_off; /* ELB_MAX_SERVICES entries */
static char *lb_name_arena;
static size_t lb_name_len;

/* The maglev_v1 entry last written per service id (a fingerprint of its backend set, 0 =
 * unknown), valid for the map with id lb_mg_map_id only: unchanged tables are not rebuilt. */
static uint64_t *lb_mg_fp;
static uint32_t lb_mg_map_id;

static uint8_t elb_family(uint8_t af)
{
	return af == AF_INET ? ELB_AF_INET : ELB_AF_INET6;
}

static uint8_t be_state(enum cfg_backend_state s)
{
	switch (s) {
	case CFG_BE_READY:
		return ELB_BE_ACTIVE;
	case CFG_BE_TERMINATING:
		return ELB_BE_TERMINATING;
	default:
		return ELB_BE_NOT_READY;
	}
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p)
		log_fatal("dataplane: out of memory");
	return p;
}

/* The lowest free id at or above *cursor (ids below it are taken): O(1) amortized per id. */
static int id_take(uint8_t *used, uint32_t max, uint32_t *cursor)
{
	for (uint32_t i = *cursor ? *cursor : 1; i < max; i++)
		if (!used[i]) {
			used[i] = 1;
			*cursor = i + 1;
			return (int)i;
		}
	*cursor = max;
	return -1;
}

static void zero_percpu(int fd, uint32_t id)
{
	int ncpu = libbpf_num_possible_cpus();
	struct elb_lb_counter *z = xcalloc(ncpu > 0 ? ncpu : 1, sizeof(*z));

	bpf_map_update_elem(fd, &id, z, BPF_ANY);
	free(z);
}

int lb_counter_sum(int fd, __u32 id, struct elb_lb_counter *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct elb_lb_counter *v;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return -1;
	v = xcalloc(ncpu, sizeof(*v));
	if (bpf_map_lookup_elem(fd, &id, v)) {
		free(v);
		return -1;
	}
	for (int i = 0; i < ncpu; i++) {
		out->packets += v[i].packets;
		out->bytes += v[i].bytes;
		out->flows += v[i].flows;
	}
	free(v);
	return 0;
}

/* Desired tuples (and VIP entries) from the services; ids filled later. wk and vk (empty,
 * initialised by the caller) get key → index into *out and *vout. */
static int build_wants(const struct lb_vip *vips, int n, struct want_svc **out, int *n_out,
		       struct want_svc **vout, int *n_vout, struct hmap *wk, struct hmap *vk,
		       char *err, size_t errlen)
{
	struct want_svc *w = NULL, *v = NULL;
	int nw = 0, nv = 0, cw = 0, cv = 0, total_be = 0;

	/* sized once: at most one VIP entry per address, one tuple per address and port */
	for (int i = 0; i < n; i++) {
		cv += vips[i].n_ips;
		cw += vips[i].n_ips * vips[i].svc->n_ports;
	}
	v = xcalloc(cv ? cv : 1, sizeof(*v));
	w = xcalloc(cw ? cw : 1, sizeof(*w));
	for (int i = 0; i < n; i++) {
		const struct cfg_service *s = vips[i].svc;

		for (int a = 0; a < vips[i].n_ips; a++) {
			const struct ip *ip = &vips[i].ips[a];
			struct elb_svc_key vkey = {0};
			int j;

			ip_to_elb(ip, &vkey.vip);
			vkey.family = elb_family(ip->family);
			j = hmap_put_new(vk, &vkey, nv);
			if (j == nv)
				v[nv++].key = vkey;
			if (s->allow_icmp_echo)
				v[j].v.flags |= ELB_SVC_F_ICMP_ECHO;
			for (int p = 0; p < s->n_ports; p++) {
				struct want_svc *x;
				int k;

				x = &w[nw++];
				x->key = vkey;
				x->key.port = htons(s->ports[p].port);
				x->key.proto = s->ports[p].proto;
				x->svc = s;
				k = hmap_put_new(wk, &x->key, nw - 1);
				if (k != nw - 1) {
					snprintf(err, errlen,
						 "service %s: %s port %u/%u already served by %s",
						 s->name, "VIP", s->ports[p].port, s->ports[p].proto,
						 w[k].svc->name);
					goto fail;
				}
				if (s->allow_icmp_echo)
					x->v.flags |= ELB_SVC_F_ICMP_ECHO;
				x->bes = s->n_backends ? xcalloc(s->n_backends, sizeof(*x->bes)) : NULL;
				for (int b = 0; b < s->n_backends; b++) {
					const struct cfg_backend *cb = &s->backends[b];
					struct elb_backend *e;

					if (cb->addr.family != ip->family)
						continue; /* a VIP reaches backends of its own family */
					e = &x->bes[x->n_bes++].v;
					ip_to_elb(&cb->addr, &e->addr);
					e->port = htons(cb->port);
					e->family = elb_family(cb->addr.family);
					e->state = be_state(cb->state);
					e->weight = cb->weight;
					if (e->state == ELB_BE_ACTIVE && e->weight)
						x->v.n_backends++;
				}
				total_be += x->n_bes;
			}
		}
	}
	if (nw >= ELB_MAX_SERVICES || total_be >= ELB_MAX_BACKENDS) {
		snprintf(err, errlen,
			 "load balancer: %d service ports and %d backends (allowed: fewer than %d "
			 "and %d)",
			 nw, total_be, ELB_MAX_SERVICES, ELB_MAX_BACKENDS);
		goto fail;
	}
	*out = w;
	*n_out = nw;
	*vout = v;
	*n_vout = nv;
	return 0;
fail:
	for (int i = 0; i < nw; i++)
		free(w[i].bes);
	free(w);
	free(v);
	return -1;
}

struct have_svc {
	struct elb_svc_key key;
	struct elb_svc v;
};
struct have_be {
	uint32_t id;
	struct elb_backend v;
};

/* Every (key, value) of a hash map read in chunks with BPF_MAP_LOOKUP_BATCH (a few syscalls
 * for 100,000 entries, not two per entry): keys and values into *keys / *vals (caller frees).
 * The count, or -1 when the kernel refuses (then the caller walks the keys). */
#define LB_BATCH 4096
static int dump_batch(int fd, size_t ksz, size_t vsz, int max, void **keys, void **vals)
{
	char *k = NULL, *v = NULL;
	uint64_t tok[8] = {0}, next[8] = {0}; /* opaque batch position (a bucket) */
	int n = 0, cap = 0, rc;
	bool first = true;

	for (;;) {
		__u32 count = LB_BATCH;

		if (n + LB_BATCH > cap) {
			cap = cap ? 2 * cap : LB_BATCH;
			k = realloc(k, (size_t)cap * ksz);
			v = realloc(v, (size_t)cap * vsz);
			if (!k || !v)
				log_fatal("dataplane: out of memory");
		}
		rc = bpf_map_lookup_batch(fd, first ? NULL : tok, next, k + (size_t)n * ksz,
					  v + (size_t)n * vsz, &count, NULL);
		if (rc && errno != ENOENT) {
			free(k);
			free(v);
			return -1;
		}
		n += (int)count;
		if (rc || n > max)
			break;
		memcpy(tok, next, sizeof(tok));
		first = false;
	}
	*keys = k;
	*vals = v;
	return n;
}

/* Every entry of a map: batched when the kernel allows, else one key walk (at most max
 * entries). Keys and values into *keys / *vals (caller frees); the count. */
static int dump_map(int fd, size_t ksz, size_t vsz, int max, void **keys, void **vals)
{
	char *k = NULL, *v = NULL, *last;
	void *prev = NULL;
	int n = dump_batch(fd, ksz, vsz, max, keys, vals), cap = 0;

	if (n >= 0)
		return n;
	n = 0;
	last = xcalloc(1, ksz);
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			k = realloc(k, (size_t)cap * ksz);
			v = realloc(v, (size_t)cap * vsz);
			if (!k || !v)
				log_fatal("dataplane: out of memory");
		}
		if (n > max || bpf_map_get_next_key(fd, prev, k + (size_t)n * ksz) != 0)
			break;
		prev = memcpy(last, k + (size_t)n * ksz, ksz);
		/* an entry deleted meanwhile leaves no slot (the next key overwrites it) */
		if (bpf_map_lookup_elem(fd, last, v + (size_t)n * vsz) == 0)
			n++;
	}
	free(last);
	*keys = k;
	*vals = v;
	return n;
}

static int dump_services(int fd, struct have_svc **out)
{
	void *bk, *bv;
	int n = dump_map(fd, sizeof(struct elb_svc_key), sizeof(struct elb_svc),
			 ELB_MAX_SERVICES * 2, &bk, &bv);
	struct have_svc *h = xcalloc(n, sizeof(*h));

	for (int i = 0; i < n; i++) {
		h[i].key = ((struct elb_svc_key *)bk)[i];
		h[i].v = ((struct elb_svc *)bv)[i];
	}
	free(bk);
	free(bv);
	*out = h;
	return n;
}

static int dump_backends(int fd, struct have_be **out)
{
	void *bk, *bv;
	int n = dump_map(fd, sizeof(__u32), sizeof(struct elb_backend), ELB_MAX_BACKENDS, &bk, &bv);
	struct have_be *h = xcalloc(n, sizeof(*h));

	for (int i = 0; i < n; i++) {
		h[i].id = ((__u32 *)bk)[i];
		h[i].v = ((struct elb_backend *)bv)[i];
	}
	free(bk);
	free(bv);
	*out = h;
	return n;
}

/* vip_filter_v1: the bitmap of every wanted VIP. */
static void filter_build(const struct want_svc *v, int nv, uint64_t *bits)
{
	memset(bits, 0, ELB_VIP_FILTER_WORDS * sizeof(*bits));
	for (int i = 0; i < nv; i++) {
		uint32_t h = elb_vip_filter_hash(&v[i].key.vip, v[i].key.family);

		bits[h >> 6] |= 1ULL << (h & 63);
	}
}

/* Writes words that differ from the map; with `add` only ever adds bits (old | new). */
static int filter_write(int fd, const uint64_t *bits, bool add)
{
	for (uint32_t w = 0; fd >= 0 && w < ELB_VIP_FILTER_WORDS; w++) {
		uint64_t cur = 0, want;

		bpf_map_lookup_elem(fd, &w, &cur);
		want = add ? cur | bits[w] : bits[w];
		if (want != cur && bpf_map_update_elem(fd, &w, &want, BPF_ANY))
			return -1;
	}
	return 0;
}

/* Service id → name for lb_service_name() and lb_backends_json(), in the order of w. */
struct lb_name {
	uint32_t off; /* into lb_name_arena */
	uint32_t id;
};
static struct lb_name *lb_names;
static int lb_n_names;

static void names_record(struct want_svc *w, int nw)
{
	size_t len = 1, at = 1;

	for (int i = 0; i < nw; i++)
		if (i == 0 || w[i].svc != w[i - 1].svc)
			len += strlen(w[i].svc->name) + 1;
	free(lb_names);
	free(lb_name_arena);
	lb_names = xcalloc(nw, sizeof(*lb_names));
	lb_n_names = nw;
	lb_name_arena = xcalloc(len, 1);
	lb_name_len = len;
	if (!lb_name_off)
		lb_name_off = xcalloc(ELB_MAX_SERVICES, sizeof(*lb_name_off));
	memset(lb_name_off, 0, ELB_MAX_SERVICES * sizeof(*lb_name_off));
	for (int i = 0; i < nw; i++) {
		if (i == 0 || w[i].svc != w[i - 1].svc) {
			size_t l = strlen(w[i].svc->name) + 1;

			memcpy(lb_name_arena + at, w[i].svc->name, l);
			at += l;
		}
		lb_names[i].off = (uint32_t)(at - strlen(w[i].svc->name) - 1);
		lb_names[i].id = w[i].v.id;
		if (w[i].v.id < ELB_MAX_SERVICES)
			lb_name_off[w[i].v.id] = lb_names[i].off;
	}
}

/* One pass over a conntrack map (ct_fwd_v2 or ct_reply_v2): backend ids with a live entry into
 * live[] (may be NULL), and every entry of a service id marked in purge[] (may be NULL)
 * deleted after the pass. Run only when a backend or a service port left the config. */
static void ct_scan(int fd, uint8_t *live, const uint8_t *purge)
{
	struct elb_ct_key k, prev, *pp = NULL, *del = NULL;
	uint64_t now = dp_clock_ns();
	long guard = 0;
	int nd = 0, cd = 0;

	while (fd >= 0 && bpf_map_get_next_key(fd, pp, &k) == 0 && guard++ < 4L * ELB_MAX_CT_FLOWS) {
		struct elb_ct v;
		uint64_t life;

		prev = k;
		pp = &prev;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		if (purge && v.svc_id < ELB_MAX_SERVICES && purge[v.svc_id]) {
			if (nd == cd) {
				cd = cd ? 2 * cd : 256;
				del = realloc(del, cd * sizeof(*del));
				if (!del)
					log_fatal("dataplane: out of memory");
			}
			del[nd++] = k;
			continue;
		}
		if (!live)
			continue;
		life = v.state == ELB_CT_SYN	   ? ELB_CT_LIFE_SYN_NS
		       : v.state == ELB_CT_EST	   ? ELB_CT_LIFE_EST_NS
		       : v.state == ELB_CT_CLOSING ? ELB_CT_LIFE_CLOSING_NS
						   : ELB_CT_LIFE_UDP_NS;
		if ((v.seen_ns > now || now - v.seen_ns <= life) && v.backend_id < ELB_MAX_BACKENDS)
			live[v.backend_id] = 1;
	}
	for (int i = 0; i < nd; i++)
		bpf_map_delete_elem(fd, &del[i]);
	free(del);
}

/* Which maglev_v1 the fingerprints in lb_mg_fp describe: another map (a restart, another test
 * object) forgets them all. */
static void mg_cache_check(int fd)
{
	uint32_t id = dp_map_id(fd);

	if (!lb_mg_fp)
		lb_mg_fp = xcalloc(ELB_MAX_SERVICES, sizeof(*lb_mg_fp));
	if (!id || id != lb_mg_map_id)
		memset(lb_mg_fp, 0, ELB_MAX_SERVICES * sizeof(*lb_mg_fp));
	lb_mg_map_id = id;
}

/* The fingerprint of a service's Maglev input (active backends with weight, their ids); 2 =
 * none (no entry), odd = a table. */
static uint64_t mg_fingerprint(const struct want_svc *w)
{
	uint64_t h = 0;
	int m = 0;

	for (int b = 0; b < w->n_bes; b++) {
		const struct elb_backend *e = &w->bes[b].v;

		if (e->state != ELB_BE_ACTIVE || !e->weight)
			continue;
		h = hash_bytes(&w->bes[b].id, sizeof(w->bes[b].id), h);
		h = hash_bytes(&e->addr, sizeof(e->addr), h);
		h = hash_bytes(&e->port, sizeof(e->port), h);
		h = hash_bytes(&e->family, sizeof(e->family), h);
		h = hash_bytes(&e->weight, sizeof(e->weight), h);
		m++;
	}
	return m ? (h << 1) | 1 : 2;
}

int lb_sync(const struct lb_fds *f, const struct lb_vip *vips, int n, int *lingering, char *err,
	    size_t errlen)
{
	struct want_svc *w = NULL, *v = NULL;
	struct have_svc *hs = NULL;
	struct have_be *hb = NULL;
	struct hmap wk, vk, hk, bk;
	int nw = 0, nv = 0, nhs = 0, nhb = 0, rc = -1;
	int *hb_next = NULL;
	uint32_t svc_cursor = 1, be_cursor = 1;
	uint8_t *svc_used = xcalloc(ELB_MAX_SERVICES, 1);
	uint8_t *be_used = xcalloc(ELB_MAX_BACKENDS, 1);
	uint8_t *svc_keep = xcalloc(ELB_MAX_SERVICES, 1);
	uint8_t *be_keep = xcalloc(ELB_MAX_BACKENDS, 1);
	uint32_t *table = xcalloc(ELB_MAGLEV_SIZE, sizeof(*table));
	uint64_t *filter = xcalloc(ELB_VIP_FILTER_WORDS, sizeof(*filter));

	hmap_init(&wk, sizeof(struct elb_svc_key), n);
	hmap_init(&vk, sizeof(struct elb_svc_key), n);
	hmap_init(&hk, sizeof(struct elb_svc_key), 0);
	hmap_init(&bk, sizeof(struct be_match), 0);
	if (build_wants(vips, n, &w, &nw, &v, &nv, &wk, &vk, err, errlen))
		goto out;
	mg_cache_check(f->maglev);
	nhs = dump_services(f->services, &hs);
	nhb = dump_backends(f->backends, &hb);
	/* sized for what the maps hold (no growth while 100,000 entries go in) */
	hmap_free(&hk);
	hmap_init(&hk, sizeof(struct elb_svc_key), (size_t)nhs);
	hmap_free(&bk);
	hmap_init(&bk, sizeof(struct be_match), (size_t)nhb);
	for (int i = 0; i < nhs; i++) {
		if (hs[i].v.id && hs[i].v.id < ELB_MAX_SERVICES)
			svc_used[hs[i].v.id] = 1;
		hmap_put(&hk, &hs[i].key, i);
	}
	/* backends by (service id, address, port): a chain per match key, highest index first */
	hb_next = xcalloc(nhb, sizeof(*hb_next));
	for (int i = 0; i < nhb; i++) {
		struct be_match m = be_match_of(&hb[i].v);
		int head = -1;

		if (hb[i].id < ELB_MAX_BACKENDS)
			be_used[hb[i].id] = 1;
		hmap_get(&bk, &m, &head);
		hb_next[i] = head;
		hmap_put(&bk, &m, i);
	}

	/* ids: keep what the maps say, then take free ones (counters zeroed) */
	for (int i = 0; i < nw; i++) {
		int j;

		if (hmap_get(&hk, &w[i].key, &j) && hs[j].v.id)
			w[i].v.id = hs[j].v.id;
		if (!w[i].v.id) {
			int id = id_take(svc_used, ELB_MAX_SERVICES, &svc_cursor);

			if (id < 0) {
				snprintf(err, errlen, "load balancer: no free service id");
				goto out;
			}
			w[i].v.id = id;
			zero_percpu(f->svc_stats, id);
		}
		svc_keep[w[i].v.id] = 1;
		for (int b = 0; b < w[i].n_bes; b++) {
			struct want_be *wb = &w[i].bes[b];
			struct be_match m;
			int hj = -1;

			wb->v.svc_id = w[i].v.id;
			m = be_match_of(&wb->v);
			if (!hmap_get(&bk, &m, &j))
				j = -1;
			for (; j >= 0; j = hb_next[j])
				if (hb[j].id >= ELB_MAX_BACKENDS || !be_keep[hb[j].id]) {
					hj = j; /* the last one in map order not taken yet */
					break;
				}
			if (hj >= 0) {
				wb->id = hb[hj].id;
				wb->same = !memcmp(&hb[hj].v, &wb->v, sizeof(wb->v));
			}
			if (!wb->id) {
				int id = id_take(be_used, ELB_MAX_BACKENDS, &be_cursor);

				if (id < 0) {
					snprintf(err, errlen, "load balancer: no free backend id");
					goto out;
				}
				wb->id = id;
				wb->same = false;
				zero_percpu(f->be_stats, id);
			}
			be_keep[wb->id] = 1;
		}
		if (hmap_get(&hk, &w[i].key, &j))
			w[i].same = !memcmp(&hs[j].v, &w[i].v, sizeof(w[i].v));
	}
	for (int i = 0; i < nv; i++) {
		int j;

		if (hmap_get(&hk, &v[i].key, &j))
			v[i].same = !memcmp(&hs[j].v, &v[i].v, sizeof(v[i].v));
	}

	/* 1. backends, 2. whole Maglev tables, 3. services: every reference exists first; an
	 * entry the map already holds with the same value is not written again */
	for (int i = 0; i < nw; i++)
		for (int b = 0; b < w[i].n_bes; b++)
			if (!w[i].bes[b].same &&
			    bpf_map_update_elem(f->backends, &w[i].bes[b].id, &w[i].bes[b].v,
						BPF_ANY)) {
				snprintf(err, errlen, "backends_v1: update id %u: %s", w[i].bes[b].id,
					 strerror(errno));
				goto out;
			}
	for (int i = 0; i < nw; i++) {
		uint64_t fp = mg_fingerprint(&w[i]);
		struct maglev_backend *mb;
		int m = 0;

		if (lb_mg_fp[w[i].v.id] == fp)
			continue;
		mb = xcalloc(w[i].n_bes, sizeof(*mb));
		for (int b = 0; b < w[i].n_bes; b++) {
			const struct elb_backend *e = &w[i].bes[b].v;

			if (e->state != ELB_BE_ACTIVE || !e->weight)
				continue;
			ip_from_elb(e->family == ELB_AF_INET ? AF_INET : AF_INET6, &e->addr,
				    &mb[m].addr);
			mb[m].port = ntohs(e->port);
			mb[m].weight = e->weight;
			mb[m].id = w[i].bes[b].id;
			m++;
		}
		lb_mg_fp[w[i].v.id] = 0;
		if (m == 0) {
			bpf_map_delete_elem(f->maglev, &w[i].v.id);
		} else if (maglev_build(mb, m, table, ELB_MAGLEV_SIZE) < 0 ||
			   bpf_map_update_elem(f->maglev, &w[i].v.id, table, BPF_ANY)) {
			snprintf(err, errlen, "maglev_v1: update service %s id %u: %s",
				 w[i].svc->name, w[i].v.id, strerror(errno));
			free(mb);
			goto out;
		}
		lb_mg_fp[w[i].v.id] = fp;
		free(mb);
	}
	filter_build(v, nv, filter);
	if (filter_write(f->vip_filter, filter, true)) {
		snprintf(err, errlen, "%s: update: %s", ELB_MAP_VIP_FILTER, strerror(errno));
		goto out;
	}
	for (int i = 0; i < nw; i++)
		if (!w[i].same && bpf_map_update_elem(f->services, &w[i].key, &w[i].v, BPF_ANY)) {
			snprintf(err, errlen, "services_v1: update %s: %s", w[i].svc->name,
				 strerror(errno));
			goto out;
		}
	for (int i = 0; i < nv; i++)
		if (!v[i].same && bpf_map_update_elem(f->services, &v[i].key, &v[i].v, BPF_ANY)) {
			snprintf(err, errlen, "services_v1: update VIP entry: %s", strerror(errno));
			goto out;
		}

	/* 4. deletions: entries no service wants any more; the flows of a removed service port
	 * go with it (XDP trusts a conntrack hit without a service lookup) */
	{
		uint8_t *purge = NULL;

		for (int j = 0; j < nhs; j++) {
			bool want = hmap_get(&wk, &hs[j].key, NULL) || hmap_get(&vk, &hs[j].key, NULL);

			if (!want)
				bpf_map_delete_elem(f->services, &hs[j].key);
			if (!want && hs[j].v.id && hs[j].v.id < ELB_MAX_SERVICES &&
			    !svc_keep[hs[j].v.id]) {
				bpf_map_delete_elem(f->maglev, &hs[j].v.id);
				lb_mg_fp[hs[j].v.id] = 0;
				if (!purge)
					purge = xcalloc(ELB_MAX_SERVICES, 1);
				purge[hs[j].v.id] = 1;
			}
		}
		if (purge) {
			ct_scan(f->ct_fwd, NULL, purge);
			ct_scan(f->ct_reply, NULL, purge);
			if (f->config >= 0 && dp_ct_forget(f->config))
				log_warn("dataplane: %s: conntrack generation not bumped: %s",
					 ELB_MAP_CONFIG, strerror(errno));
		}
		free(purge);
	}
	{
		uint8_t *live = NULL;
		int linger = 0;

		for (int j = 0; j < nhb; j++) {
			struct elb_backend t = hb[j].v;

			if (hb[j].id < ELB_MAX_BACKENDS && be_keep[hb[j].id])
				continue;
			if (!live) {
				live = xcalloc(ELB_MAX_BACKENDS, 1);
				ct_scan(f->ct_fwd, live, NULL);
			}
			if (hb[j].id < ELB_MAX_BACKENDS && live[hb[j].id] &&
			    t.svc_id < ELB_MAX_SERVICES && svc_keep[t.svc_id]) {
				/* gone from the config, flows still on it: drain */
				t.state = ELB_BE_TERMINATING;
				if (memcmp(&t, &hb[j].v, sizeof(t)))
					bpf_map_update_elem(f->backends, &hb[j].id, &t, BPF_ANY);
				linger++;
				continue;
			}
			bpf_map_delete_elem(f->backends, &hb[j].id);
		}
		free(live);
		if (lingering)
			*lingering = linger;
	}
	filter_write(f->vip_filter, filter, false); /* stale bits last */
	names_record(w, nw);
	rc = 0;
out:
	for (int i = 0; i < nw; i++)
		free(w[i].bes);
	free(w);
	free(v);
	free(hs);
	free(hb);
	free(hb_next);
	hmap_free(&wk);
	hmap_free(&vk);
	hmap_free(&hk);
	hmap_free(&bk);
	free(svc_used);
	free(be_used);
	free(svc_keep);
	free(be_keep);
	free(table);
	free(filter);
	return rc;
}

const char *lb_service_name(uint32_t id)
{
	if (!lb_name_off || id >= ELB_MAX_SERVICES || !lb_name_off[id])
		return NULL;
	return lb_name_arena + lb_name_off[id];
}

static const char *be_state_str(uint8_t s)
{
	static const char *const names[] = {"active", "terminating", "not-ready"};

	return s < 3 ? names[s] : "?";
}

struct json_object *lb_backends_json(const struct lb_fds *f, const char *service)
{
	struct json_object *rows = NULL;
	struct have_be *hb = NULL;
	int nhb;

	nhb = dump_backends(f->backends, &hb);
	for (int i = 0; i < lb_n_names; i++) {
		if (strcmp(lb_name_arena + lb_names[i].off, service))
			continue;
		if (!rows)
			rows = json_object_new_array();
		for (int j = 0; j < nhb; j++) {
			struct elb_lb_counter c;
			struct json_object *r, *o = NULL;
			char ip[IP_STRLEN], ep[IP_STRLEN + 8];
			struct ip a;

			if (hb[j].v.svc_id != lb_names[i].id)
				continue;
			ip_from_elb(hb[j].v.family == ELB_AF_INET ? AF_INET : AF_INET6,
				    &hb[j].v.addr, &a);
			snprintf(ep, sizeof(ep), a.family == AF_INET ? "%s:%u" : "[%s]:%u",
				 ip_str(&a, ip), ntohs(hb[j].v.port));
			lb_counter_sum(f->be_stats, hb[j].id, &c);
			/* one row per backend endpoint: sum over the service's ports and VIPs */
			for (size_t k = 0; k < json_object_array_length(rows); k++) {
				struct json_object *x = json_object_array_get_idx(rows, k), *be;

				if (json_object_object_get_ex(x, "backend", &be) &&
				    !strcmp(json_object_get_string(be), ep))
					o = x;
			}
			if (!o) {
				o = json_object_new_object();
				json_object_object_add(o, "backend", json_object_new_string(ep));
				json_object_object_add(o, "state",
						       json_object_new_string(be_state_str(hb[j].v.state)));
				json_object_object_add(o, "weight", json_object_new_int(hb[j].v.weight));
				json_object_object_add(o, "packets", json_object_new_int64(0));
				json_object_object_add(o, "bytes", json_object_new_int64(0));
				json_object_object_add(o, "flows", json_object_new_int64(0));
				json_object_array_add(rows, o);
			}
			json_object_object_get_ex(o, "packets", &r);
			json_object_set_int64(r, json_object_get_int64(r) + (int64_t)c.packets);
			json_object_object_get_ex(o, "bytes", &r);
			json_object_set_int64(r, json_object_get_int64(r) + (int64_t)c.bytes);
			json_object_object_get_ex(o, "flows", &r);
			json_object_set_int64(r, json_object_get_int64(r) + (int64_t)c.flows);
		}
	}
	free(hb);
	return rows;
}

static int lb_fds_get(struct dp *d, struct lb_fds *f)
{
	f->services = dp_map_fd(d, ELB_MAP_SERVICES);
	f->backends = dp_map_fd(d, ELB_MAP_BACKENDS);
	f->maglev = dp_map_fd(d, ELB_MAP_MAGLEV);
	f->svc_stats = dp_map_fd(d, ELB_MAP_SVC_STATS);
	f->be_stats = dp_map_fd(d, ELB_MAP_BE_STATS);
	f->ct_fwd = dp_map_fd(d, ELB_MAP_CT_FWD);
	f->ct_reply = dp_map_fd(d, ELB_MAP_CT_REPLY);
	f->vip_filter = dp_map_fd(d, ELB_MAP_VIP_FILTER);
	f->config = dp_map_fd(d, ELB_MAP_CONFIG);
	return f->services < 0 || f->backends < 0 || f->maglev < 0 || f->svc_stats < 0 ||
			       f->be_stats < 0 || f->vip_filter < 0
		       ? -1
		       : 0;
}

/* A removed backend lingers while flows use it; this timer asks for a reconcile pass to see
 * whether they ended (agent_changed coalesces passes). */
#define LB_RECHECK_MS 5000
static struct ev_timer *lb_recheck;

static void lb_recheck_cb(struct ev_timer *t, void *arg)
{
	agent_changed(arg);
}

/* What the last lb_sync was given: a fingerprint of every field lb_sync reads, and whether it
 * left nothing to redo (succeeded, no backend lingering). A reconcile pass caused by anything
 * else (a link or address event, a BGP change) then skips the maps, whose dump and rebuild
 * cost 30 MB and 0.1 s with 100,000 services; at least one full pass a minute still repairs
 * what someone else may have changed in them. */
#define LB_FULL_PASS_MS 60000
static unsigned long long lb_last_fp;
static uint64_t lb_last_full_ms;
static bool lb_last_clean;

static unsigned long long ip_fp(const struct ip *ip, unsigned long long h)
{
	h = hash_bytes(&ip->family, sizeof(ip->family), h);
	return hash_bytes(ip->a, ip->family == AF_INET ? 4 : sizeof(ip->a), h);
}

static unsigned long long vips_fp(const struct lb_vip *vips, int n, uint32_t map_id)
{
	unsigned long long h = hash_bytes(&map_id, sizeof(map_id), 0);

	h = hash_bytes(&n, sizeof(n), h);
	for (int i = 0; i < n; i++) {
		const struct cfg_service *s = vips[i].svc;
		uint8_t echo = s->allow_icmp_echo;

		h = hash_bytes(s->name, strlen(s->name) + 1, h);
		h = hash_bytes(&vips[i].n_ips, sizeof(vips[i].n_ips), h);
		for (int a = 0; a < vips[i].n_ips; a++)
			h = ip_fp(&vips[i].ips[a], h);
		h = hash_bytes(&echo, sizeof(echo), h);
		h = hash_bytes(&s->n_ports, sizeof(s->n_ports), h);
		for (int p = 0; p < s->n_ports; p++) {
			h = hash_bytes(&s->ports[p].port, sizeof(s->ports[p].port), h);
			h = hash_bytes(&s->ports[p].proto, sizeof(s->ports[p].proto), h);
		}
		h = hash_bytes(&s->n_backends, sizeof(s->n_backends), h);
		for (int b = 0; b < s->n_backends; b++) {
			const struct cfg_backend *cb = &s->backends[b];
			int st = (int)cb->state;

			h = ip_fp(&cb->addr, h);
			h = hash_bytes(&cb->port, sizeof(cb->port), h);
			h = hash_bytes(&cb->weight, sizeof(cb->weight), h);
			h = hash_bytes(&st, sizeof(st), h);
		}
	}
	return h;
}

int dp_lb_reconcile(struct dp *d, struct agent *a)
{
	unsigned long long fp;
	struct lb_vip *vips;
	struct lb_fds f;
	char err[256];
	int n = 0, rc, linger = 0;

	if (!d || !a->cfg || lb_fds_get(d, &f)) {
		log_debug("dataplane: load-balancer maps not loaded; services not programmed");
		return 0;
	}
	vips = xcalloc(a->cfg->n_services, sizeof(*vips));
	for (int i = 0; i < a->cfg->n_services; i++) {
		const struct cfg_service *s = &a->cfg->services[i];
		const struct alloc_assignment *as = a->alloc ? alloc_get(a->alloc, s->name) : NULL;

		if (!as || as->status != ALLOC_ASSIGNED || as->n_ips == 0)
			continue;
		vips[n].svc = s;
		vips[n].n_ips = as->n_ips > 2 ? 2 : as->n_ips;
		memcpy(vips[n].ips, as->ips, sizeof(vips[n].ips));
		n++;
	}
	fp = vips_fp(vips, n, dp_map_id(f.services));
	if (lb_last_clean && fp == lb_last_fp && ev_now_ms() - lb_last_full_ms < LB_FULL_PASS_MS) {
		free(vips);
		log_debug("dataplane: services, ports and backends unchanged; maps left as they are");
		return dp_revnat_reconcile(d);
	}
	rc = lb_sync(&f, vips, n, &linger, err, sizeof(err));
	free(vips);
	lb_last_fp = fp;
	lb_last_full_ms = ev_now_ms();
	lb_last_clean = rc == 0 && linger == 0;
	if (rc) {
		log_err("dataplane: %s", err);
		return -1;
	}
	/* removed backends still carrying flows: look again later, until they are unused */
	if (linger && a->loop) {
		if (!lb_recheck) {
			lb_recheck = ev_timer_new(a->loop, lb_recheck_cb, a);
		}
		if (!ev_timer_armed(lb_recheck))
			ev_timer_arm(lb_recheck, LB_RECHECK_MS);
		log_debug("dataplane: %d removed backend(s) drain until their flows end", linger);
	}
	return dp_revnat_reconcile(d);
}

struct json_object *dp_service_backends_json(struct dp *d, const char *service)
{
	struct lb_fds f;

	if (!d || lb_fds_get(d, &f))
		return NULL;
	return lb_backends_json(&f, service);
}
