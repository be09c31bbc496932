/* The desired-state object model: allocation, copy, lookup, cross-object validation and
 * printing of struct cfg. Parsing of the YAML file is in yaml.c, JSON forms of single objects
 * in *_json.c; this file never touches files or sockets. */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config/config.h"
#include "lib/log.h"

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p)
		log_fatal("config: out of memory");
	return p;
}

void cfg_errs_add(struct cfg_errs *e, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		log_fatal("config: out of memory");
	va_end(ap);
	e->msgs = realloc(e->msgs, sizeof(char *) * (size_t)(e->n + 1));
	if (!e->msgs)
		log_fatal("config: out of memory");
	e->msgs[e->n++] = m;
}

void cfg_errs_free(struct cfg_errs *e)
{
	for (int i = 0; i < e->n; i++)
		free(e->msgs[i]);
	free(e->msgs);
	e->msgs = NULL;
	e->n = 0;
}

struct cfg *cfg_new(void)
{
	struct cfg *c = xcalloc(1, sizeof(*c));

	c->node.heartbeat_max_ms = 3000;
	return c;
}


struct cfg_index {
	const struct cfg_service *base; /* services[] it was built for */
	int n;
	uint32_t mask;
	int *slot; /* index + 1; 0 = empty */
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

void cfg_index_reset(struct cfg *c)
{
	if (c->svc_index) {
		free(c->svc_index->slot);
		free(c->svc_index);
		c->svc_index = NULL;
	}
}

static struct cfg_index *index_build(const struct cfg *c)
{
	struct cfg_index *x = xcalloc(1, sizeof(*x));
	uint32_t cap = 16;

	while (cap < 4u * (uint32_t)c->n_services)
		cap *= 2; /* room to append as many again (index_extend) */
	x->base = c->services;
	x->n = c->n_services;
	x->mask = cap - 1;
	x->slot = xcalloc(cap, sizeof(int));
	for (int i = 0; i < c->n_services; i++) {
		uint32_t h = name_hash(c->services[i].name) & x->mask;

		while (x->slot[h])
			h = (h + 1) & x->mask;
		x->slot[h] = i + 1;
	}
	return x;
}

/* services[] grew by appends since x was built (apply adds services one at a time): index the
 * new ones instead of rebuilding, while the load stays at most 1/2 and the last entry x knew
 * is still where it was (an array edited otherwise is rebuilt). true if x now covers all. */
static bool index_extend(const struct cfg *c, struct cfg_index *x)
{
	uint32_t h;

	if (x->n == 0 || 2u * (uint32_t)c->n_services > x->mask + 1)
		return false;
	for (h = name_hash(c->services[x->n - 1].name) & x->mask; x->slot[h];
	     h = (h + 1) & x->mask)
		if (strcmp(c->services[x->slot[h] - 1].name, c->services[x->n - 1].name) == 0)
			break;
	if (x->slot[h] != x->n)
		return false;
	for (int i = x->n; i < c->n_services; i++) {
		h = name_hash(c->services[i].name) & x->mask;
		while (x->slot[h])
			h = (h + 1) & x->mask;
		x->slot[h] = i + 1;
	}
	x->n = c->n_services;
	return true;
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	cfg_index_reset(c);
	for (int i = 0; i < c->n_services; i++)
		cfg_service_clear(&c->services[i]);
	free(c->switches);
	free(c->pools);
	free(c->peers);
	free(c->services);
	free(c);
}

/* Arrays of struct cfg grow by doubling (cfg_array_push reallocates to the next power of two
 * when the allocation is full), so appending 100,000 services costs O(n), not O(n^2); copies
 * and loaded configs are cut to their exact size (cfg_dup, cfg_shrink), which costs nothing
 * extra when they grow again. The allocation's real size is malloc_usable_size: an array may
 * come from any of these functions. */
static size_t capacity(int n)
{
	size_t c = 1;

	while (c < (size_t)n)
		c *= 2;
	return c;
}

static void *dup_array(const void *src, int n, size_t elem)
{
	void *p = xcalloc((size_t)n, elem);

	if (n)
		memcpy(p, src, (size_t)n * elem);
	return p;
}

static char *dup_str(const char *s)
{
	char *p = s ? strdup(s) : NULL;

	if (s && !p)
		log_fatal("config: out of memory");
	return p;
}

/* Deep copies of a service's heap parts, exact size. */
static void dup_service_heap(struct cfg_service *s)
{
	s->name = dup_str(s->name);
	s->pool = dup_str(s->pool);
	s->shared_key = dup_str(s->shared_key);
	s->ports = s->n_ports ? dup_array(s->ports, s->n_ports, sizeof(*s->ports)) : NULL;
	s->backends =
	    s->n_backends ? dup_array(s->backends, s->n_backends, sizeof(*s->backends)) : NULL;
}

struct cfg *cfg_dup(const struct cfg *c)
{
	struct cfg *d = xcalloc(1, sizeof(*d));

	*d = *c;
	d->svc_index = NULL;
	d->switches = dup_array(c->switches, c->n_switches, sizeof(*c->switches));
	d->pools = dup_array(c->pools, c->n_pools, sizeof(*c->pools));
	d->peers = dup_array(c->peers, c->n_peers, sizeof(*c->peers));
	d->services = dup_array(c->services, c->n_services, sizeof(*c->services));
	for (int i = 0; i < d->n_services; i++)
		dup_service_heap(&d->services[i]);
	return d;
}

static void shrink_array(void **arr, int n, size_t elem)
{
	void *p;

	if (!*arr || !n)
		return;
	p = realloc(*arr, (size_t)n * elem);
	if (p)
		*arr = p;
}

void cfg_shrink(struct cfg *c)
{
	shrink_array((void **)&c->switches, c->n_switches, sizeof(*c->switches));
	shrink_array((void **)&c->pools, c->n_pools, sizeof(*c->pools));
	shrink_array((void **)&c->peers, c->n_peers, sizeof(*c->peers));
	shrink_array((void **)&c->services, c->n_services, sizeof(*c->services));
	cfg_index_reset(c);
}

void *cfg_array_push(void **arr, int *n, size_t elem)
{
	char *p = *arr;

	if (!p || malloc_usable_size(p) < elem * (size_t)(*n + 1)) {
		p = realloc(p, elem * capacity(*n + 1));
		if (!p)
			log_fatal("config: out of memory");
	}
	memset(p + elem * (size_t)*n, 0, elem);
	*arr = p;
	return p + elem * (size_t)(*n)++;
}

void cfg_array_remove(void *arr, int *n, size_t elem, int i)
{
	char *p = arr;

	memmove(p + elem * (size_t)i, p + elem * (size_t)(i + 1), elem * (size_t)(*n - i - 1));
	(*n)--;
}

struct cfg_switch *cfg_find_switch(const struct cfg *c, const char *name)
{
	for (int i = 0; i < c->n_switches; i++)
		if (strcmp(c->switches[i].name, name) == 0)
			return &c->switches[i];
	return NULL;
}

struct cfg_pool *cfg_find_pool(const struct cfg *c, const char *name)
{
	for (int i = 0; i < c->n_pools; i++)
		if (strcmp(c->pools[i].name, name) == 0)
			return &c->pools[i];
	return NULL;
}

struct cfg_peer *cfg_find_peer(const struct cfg *c, const struct ip *addr, const char *sw)
{
	for (int i = 0; i < c->n_peers; i++)
		if (ip_eq(&c->peers[i].addr, addr) && (!sw || strcmp(c->peers[i].sw, sw) == 0))
			return &c->peers[i];
	return NULL;
}

struct cfg_service *cfg_find_service(const struct cfg *c, const char *name)
{
	struct cfg *m = (struct cfg *)c; /* the index is a cache, not state */
	struct cfg_index *x = m->svc_index;

	if (x && x->n < c->n_services && index_extend(c, x))
		x->base = c->services;
	if (!x || x->base != c->services || x->n != c->n_services) {
		cfg_index_reset(m);
		x = m->svc_index = index_build(c);
	}
	for (uint32_t h = name_hash(name) & x->mask; x->slot[h]; h = (h + 1) & x->mask)
		if (strcmp(c->services[x->slot[h] - 1].name, name) == 0)
			return &c->services[x->slot[h] - 1];
	return NULL;
}

const struct cfg_switch *cfg_pool_switch(const struct cfg *c, const struct cfg_pool *p)
{
	if (p->sw[0])
		return cfg_find_switch(c, p->sw);
	for (int i = 0; i < c->n_switches; i++)
		if (c->switches[i].compute)
			return &c->switches[i];
	return NULL;
}

static bool ranges_overlap(const struct cfg_range *a, const struct cfg_range *b)
{
	if (a->first.family != b->first.family)
		return false;
	return ip_cmp(&a->first, &b->last) <= 0 && ip_cmp(&b->first, &a->last) <= 0;
}

/* True when two pools share an address; names the first overlapping entries. */
bool cfg_pools_overlap(const struct cfg_pool *a, const struct cfg_pool *b)
{
	for (int i = 0; i < a->n_ranges; i++)
		for (int j = 0; j < b->n_ranges; j++)
			if (ranges_overlap(&a->ranges[i], &b->ranges[j]))
				return true;
	return false;
}

static int svc_name_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct cfg_service *const *)a)->name,
		      (*(const struct cfg_service *const *)b)->name);
}

int cfg_validate(const struct cfg *c, struct cfg_errs *errs)
{
	int before = errs->n;

	for (int i = 0; i < c->n_switches; i++) {
		const struct cfg_switch *s = &c->switches[i];

		for (int j = 0; j < i; j++)
			if (strcmp(c->switches[j].name, s->name) == 0)
				cfg_errs_add(errs, "switches: name: \"%s\": defined twice (names must be unique)", s->name);
		for (int k = 0; k < s->n_ifaces; k++)
			for (int j = 0; j < i; j++)
				for (int l = 0; l < c->switches[j].n_ifaces; l++)
					if (strcmp(c->switches[j].ifaces[l], s->ifaces[k]) == 0)
						cfg_errs_add(errs, "switches: interfaces: \"%s\": in both \"%s\" and \"%s\" (an interface belongs to one switch)",
							     s->ifaces[k], c->switches[j].name, s->name);
	}
	for (int i = 0; i < c->n_pools; i++) {
		const struct cfg_pool *p = &c->pools[i];

		for (int j = 0; j < i; j++) {
			if (strcmp(c->pools[j].name, p->name) == 0)
				cfg_errs_add(errs, "pools: name: \"%s\": defined twice (names must be unique)", p->name);
			else if (cfg_pools_overlap(&c->pools[j], p))
				cfg_errs_add(errs, "pools: addresses: pools \"%s\" and \"%s\" overlap (pools must be disjoint)",
					     c->pools[j].name, p->name);
		}
		if (p->sw[0] && !cfg_find_switch(c, p->sw))
			cfg_errs_add(errs, "pools: %s: switch: \"%s\": no such switch (allowed: a switch in switches)", p->name, p->sw);
	}
	for (int i = 0; i < c->n_peers; i++) {
		const struct cfg_peer *p = &c->peers[i];
		const struct cfg_switch *s = cfg_find_switch(c, p->sw);
		char a[IP_STRLEN];

		if (!s)
			cfg_errs_add(errs, "bgpPeers: %s: switch: \"%s\": no such switch (allowed: a switch in switches)",
				     ip_str(&p->addr, a), p->sw);
		else if (!s->compute)
			cfg_errs_add(errs, "bgpPeers: %s: switch: \"%s\": not enabled for compute (allowed: a switch with compute: true)",
				     ip_str(&p->addr, a), p->sw);
		for (int j = 0; j < i; j++)
			if (ip_eq(&c->peers[j].addr, &p->addr) && strcmp(c->peers[j].sw, p->sw) == 0)
				cfg_errs_add(errs, "bgpPeers: peerAddress: %s: defined twice on switch \"%s\"",
					     ip_str(&p->addr, a), p->sw);
	}
	if (c->n_services > 1) { /* sorted, so 100,000 services check in O(n log n) */
		const struct cfg_service **v = xcalloc((size_t)c->n_services, sizeof(*v));

		for (int i = 0; i < c->n_services; i++)
			v[i] = &c->services[i];
		qsort(v, (size_t)c->n_services, sizeof(*v), svc_name_cmp);
		for (int i = 1; i < c->n_services; i++)
			if (strcmp(v[i - 1]->name, v[i]->name) == 0)
				cfg_errs_add(errs, "services: name: \"%s\": defined twice (names must be unique)", v[i]->name);
		free(v);
	}
	for (int i = 0; i < c->n_services; i++) {
		const struct cfg_service *s = &c->services[i];

		if (cfg_service_pool(s)[0] && !cfg_find_pool(c, cfg_service_pool(s)))
			cfg_errs_add(
			    errs,
			    "services: %s: pool: \"%s\": no such pool (allowed: a pool in pools)",
			    s->name, cfg_service_pool(s));
	}
	return errs->n > before ? -1 : 0;
}

struct json_object *cfg_json_array(int n)
{
	struct json_object *a = json_object_new_array_ext(n > 0 ? n : 1);

	if (!a)
		log_fatal("config: out of memory");
	return a;
}

static struct json_object *switch_to_json(const struct cfg_switch *s)
{
	struct json_object *o = json_object_new_object(), *ifs = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(s->name));
	for (int i = 0; i < s->n_ifaces; i++)
		json_object_array_add(ifs, json_object_new_string(s->ifaces[i]));
	json_object_object_add(o, "interfaces", ifs);
	json_object_object_add(o, "compute", json_object_new_boolean(s->compute));
	return o;
}

struct json_object *cfg_to_json(const struct cfg *c)
{
	struct json_object *o = json_object_new_object(), *node = json_object_new_object();
	struct json_object *a;

	json_object_object_add(node, "name", json_object_new_string(c->node.name));
	json_object_object_add(node, "garpRefreshSeconds", json_object_new_int(c->node.garp_refresh_s));
	json_object_object_add(node, "heartbeatTimeoutMs", json_object_new_int64(c->node.heartbeat_max_ms));
	if (c->node.hairpin_cgroup[0])
		json_object_object_add(node, "hairpinCgroup", json_object_new_string(c->node.hairpin_cgroup));
	json_object_object_add(o, "node", node);
	a = json_object_new_array();
	for (int i = 0; i < c->n_switches; i++)
		json_object_array_add(a, switch_to_json(&c->switches[i]));
	json_object_object_add(o, "switches", a);
	a = json_object_new_array();
	for (int i = 0; i < c->n_pools; i++)
		json_object_array_add(a, cfg_pool_to_json(&c->pools[i]));
	json_object_object_add(o, "pools", a);
	a = json_object_new_array();
	for (int i = 0; i < c->n_peers; i++)
		json_object_array_add(a, cfg_peer_to_json(&c->peers[i]));
	json_object_object_add(o, "bgpPeers", a);
	a = cfg_json_array(c->n_services);
	for (int i = 0; i < c->n_services; i++)
		json_object_array_add(a, cfg_service_to_json(&c->services[i]));
	json_object_object_add(o, "services", a);
	return o;
}

/* JSON is a subset of YAML: what this prints loads back as a config file. */
void cfg_print(const struct cfg *c, FILE *out)
{
	struct json_object *o = cfg_to_json(c);

	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
