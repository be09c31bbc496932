/* The allocator's state and its reconcile pass (rules in alloc.h): assignments by service
 * name, holders by IP (sharing), sharing groups by (namespace, key), and the used-address runs
 * per family that make "lowest free address" independent of pool size. Persists assigned
 * services as kind "assignment" ({"ips": [...], "pool": name}) and reloads them in alloc_new.
 * Owns no pool or service definitions: those come from struct cfg on each reconcile. */
#include <search.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "alloc/names.h"
#include "alloc/runs.h"
#include "lib/log.h"
#include "store/store.h"

/* 100,000 services each have one: strings shared by many (namespace, shared key, pools,
 * reasons) are atoms, the name is inline, and so are up to ASG_PORTS_INLINE ports (a heap copy
 * of one 4-byte port costs a 32-byte malloc chunk). The requested addresses are on the heap,
 * and only when there are any (most services request none). */
#define ASG_PORTS_INLINE 2

struct asg {
	struct alloc_assignment pub; /* pool and reason are atoms */
	const char *ns;		     /* atom */
	const char *key;	     /* atom: shared key, "" = never shares */
	const char *want_pool;	     /* atom */
	union {
		struct cfg_port in[ASG_PORTS_INLINE]; /* n_ports <= ASG_PORTS_INLINE */
		struct cfg_port *heap;
	} ports;
	/* the request as of the last pass: when it and the pools are unchanged, an assigned
	 * service needs no re-check (keeps a pass cheap with 100k services) */
	struct ip *req; /* n_req of them, NULL when n_req is 0 */
	unsigned gen;	/* reconcile pass that last saw the service */
	bool loaded;	/* from the store, ports and key not seen yet */
	bool changed;	/* ports or key changed in this pass */
	bool same_req;
	uint8_t n_req;	 /* at most 2 */
	uint8_t fam;	 /* enum cfg_family */
	uint8_t n_ports; /* at most CFG_MAX_PORTS */
	char name[];	 /* at most 2 * CFG_NAME_MAX bytes */
};
_Static_assert(CFG_MAX_PORTS <= UINT8_MAX, "asg.n_ports holds CFG_MAX_PORTS");

/* A string held by reference count; "" is never an atom. */
struct atom {
	unsigned ref;
	char s[];
};

/* The services holding one address: nearly always one, kept inline (an address costs a
 * 48-byte allocation); a shared address's list is on the heap, its room the next power of
 * two of n. */
struct holders {
	struct asg **v; /* &one while n <= 1 */
	struct asg *one;
	int n;
	struct ip ip;
};

struct group {
	char id[2 * CFG_NAME_MAX + 1]; /* namespace '\n' key */
	struct asg **v;
	int n, cap;
};

struct alloc {
	struct store *st;
	void *by_name;	     /* struct asg, ordered (alloc_foreach) */
	struct names names;  /* name -> struct asg, for O(1) lookups in a pass */
	void *atoms;	     /* the s of each struct atom */
	void *by_ip;	     /* struct holders */
	void *groups;	     /* struct group */
	struct runs used[2]; /* [0] IPv4, [1] IPv6 */
	unsigned gen;
	int n_pending;
	struct cfg_pool *pools; /* the pools of the last pass */
	int n_pools;
	const struct alloc_claims *claims; /* NULL: no cluster */
};

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (!p)
		log_fatal("alloc: out of memory");
	return p;
}

static void vec_push(struct asg ***v, int *n, int *cap, struct asg *a)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 2;
		*v = realloc(*v, (size_t)*cap * sizeof(**v));
		if (!*v)
			log_fatal("alloc: out of memory");
	}
	(*v)[(*n)++] = a;
}

static void vec_remove(struct asg **v, int *n, struct asg *a)
{
	for (int i = 0; i < *n; i++) {
		if (v[i] == a) {
			memmove(&v[i], &v[i + 1], (size_t)(*n - i - 1) * sizeof(*v));
			(*n)--;
			return;
		}
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct asg *)a)->name, ((const struct asg *)b)->name);
}

static int holders_cmp(const void *a, const void *b)
{
	return ip_cmp(&((const struct holders *)a)->ip, &((const struct holders *)b)->ip);
}

static int group_cmp(const void *a, const void *b)
{
	return strcmp(((const struct group *)a)->id, ((const struct group *)b)->id);
}

static struct runs *used_of(struct alloc *al, int family)
{
	return &al->used[family == AF_INET ? 0 : 1];
}

static int atom_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* s as an atom (a reference the caller holds), or "" for "". */
static const char *atom_get(struct alloc *al, const char *s)
{
	struct atom *a;
	void **n;

	if (!*s)
		return "";
	n = tfind(s, &al->atoms, atom_cmp);
	if (n) {
		a = (struct atom *)((char *)*n - offsetof(struct atom, s));
		a->ref++;
		return a->s;
	}
	a = malloc(sizeof(*a) + strlen(s) + 1);
	if (!a)
		log_fatal("alloc: out of memory");
	a->ref = 1;
	strcpy(a->s, s);
	if (!tsearch(a->s, &al->atoms, atom_cmp))
		log_fatal("alloc: out of memory");
	return a->s;
}

static void atom_put(struct alloc *al, const char *s)
{
	struct atom *a = (struct atom *)(s - offsetof(struct atom, s));

	if (!*s || --a->ref)
		return;
	tdelete(s, &al->atoms, atom_cmp);
	free(a);
}

/* *slot (an atom) becomes s, at most the first max - 1 bytes of it (as the fixed buffers
 * this replaces held). */
static void atom_set(struct alloc *al, const char **slot, const char *s, size_t max)
{
	char buf[256];
	const char *n;

	if (strlen(s) >= max && max <= sizeof(buf)) {
		snprintf(buf, max, "%s", s);
		s = buf;
	}
	if (!strcmp(*slot, s))
		return;
	n = atom_get(al, s);
	atom_put(al, *slot);
	*slot = n;
}

static const char *asg_name(const void *a)
{
	return ((const struct asg *)a)->name;
}

static struct asg *asg_find(struct alloc *al, const char *name)
{
	return names_get(&al->names, name);
}

static struct asg *asg_add(struct alloc *al, const char *name)
{
	size_t len = strnlen(name, 2 * CFG_NAME_MAX);
	struct asg *a = xcalloc(1, sizeof(*a) + len + 1);
	const char *slash;
	char ns[CFG_NAME_MAX];

	memcpy(a->name, name, len);
	slash = strchr(a->name, '/');
	snprintf(ns, sizeof(ns), "%.*s", slash ? (int)(slash - a->name) : 0, a->name);
	a->ns = a->key = a->want_pool = a->pub.pool = a->pub.reason = "";
	atom_set(al, &a->ns, ns, sizeof(ns));
	a->pub.service = a->name;
	a->pub.status = ALLOC_PENDING;
	if (!tsearch(a, &al->by_name, name_cmp))
		log_fatal("alloc: out of memory");
	names_add(&al->names, a);
	return a;
}

static void set_pool(struct alloc *al, struct asg *a, const char *pool)
{
	atom_set(al, &a->pub.pool, pool, CFG_NAME_MAX);
}

static void set_reason(struct alloc *al, struct asg *a, const char *reason)
{
	atom_set(al, &a->pub.reason, reason, 160);
}

static struct holders *holders_find(struct alloc *al, const struct ip *ip)
{
	struct holders probe = {.ip = *ip};
	void *n = tfind(&probe, &al->by_ip, holders_cmp);

	return n ? *(struct holders **)n : NULL;
}

static void ip_hold(struct alloc *al, struct asg *a, const struct ip *ip)
{
	struct holders *h = holders_find(al, ip);

	if (!h) {
		h = xcalloc(1, sizeof(*h));
		h->ip = *ip;
		if (!tsearch(h, &al->by_ip, holders_cmp))
			log_fatal("alloc: out of memory");
		runs_add(used_of(al, ip->family), ip_u128(ip));
	}
	if (h->n == 0) {
		h->v = &h->one;
	} else if (h->n == 1 || !(h->n & (h->n - 1))) { /* full: 1 inline, or a power of two */
		struct asg **v = h->n == 1 ? NULL : h->v;

		v = realloc(v, 2 * (size_t)h->n * sizeof(*v));
		if (!v)
			log_fatal("alloc: out of memory");
		if (h->n == 1)
			v[0] = h->one;
		h->v = v;
	}
	h->v[h->n++] = a;
}

static void holders_free(struct holders *h)
{
	if (h->v != &h->one)
		free(h->v);
	free(h);
}

static void ip_unhold(struct alloc *al, struct asg *a, const struct ip *ip)
{
	struct holders *h = holders_find(al, ip);

	if (!h)
		log_fatal("alloc: releasing an address nobody holds");
	vec_remove(h->v, &h->n, a);
	if (h->n == 1 && h->v != &h->one) {
		h->one = h->v[0];
		free(h->v);
		h->v = &h->one;
	}
	if (h->n)
		return;
	runs_del(used_of(al, ip->family), ip_u128(ip));
	tdelete(h, &al->by_ip, holders_cmp);
	holders_free(h);
}

static struct group *group_find(struct alloc *al, const char *ns, const char *key, bool create)
{
	struct group probe, *g;
	void *n;

	snprintf(probe.id, sizeof(probe.id), "%s\n%s", ns, key);
	n = tfind(&probe, &al->groups, group_cmp);
	if (n || !create)
		return n ? *(struct group **)n : NULL;
	g = xcalloc(1, sizeof(*g));
	strcpy(g->id, probe.id);
	if (!tsearch(g, &al->groups, group_cmp))
		log_fatal("alloc: out of memory");
	return g;
}

/* Sharing groups index holders of an address only. */
static void group_join(struct alloc *al, struct asg *a)
{
	struct group *g;

	if (!a->key[0])
		return;
	g = group_find(al, a->ns, a->key, true);
	vec_push(&g->v, &g->n, &g->cap, a);
}

static void group_leave(struct alloc *al, struct asg *a)
{
	struct group *g;

	if (!a->key[0])
		return;
	g = group_find(al, a->ns, a->key, false);
	if (!g)
		return;
	vec_remove(g->v, &g->n, a);
	if (g->n)
		return;
	tdelete(g, &al->groups, group_cmp);
	free(g->v);
	free(g);
}

static void persist(struct alloc *al, struct asg *a)
{
	struct json_object *o, *ips;
	char buf[IP_STRLEN];

	if (!al->st)
		return;
	o = json_object_new_object();
	ips = cfg_json_array(a->pub.n_ips);
	for (int i = 0; i < a->pub.n_ips; i++)
		json_object_array_add(ips, json_object_new_string(ip_str(&a->pub.ips[i], buf)));
	json_object_object_add(o, "ips", ips);
	json_object_object_add(o, "pool", json_object_new_string(a->pub.pool));
	if (store_put(al->st, ALLOC_KIND, a->name, o) < 0)
		log_err("alloc: %s: could not persist the assignment", a->name);
	json_object_put(o);
}

static void claim_release(struct alloc *al, const struct asg *a, const struct ip *ip);

/* Gives up a's addresses (the service went, or its request changed). */
static void release(struct alloc *al, struct asg *a, bool unpersist)
{
	char buf[IP_STRLEN];

	if (a->pub.status == ALLOC_ASSIGNED) {
		for (int i = 0; i < a->pub.n_ips; i++) {
			log_info("alloc: %s: released %s", a->name, ip_str(&a->pub.ips[i], buf));
			ip_unhold(al, a, &a->pub.ips[i]);
			claim_release(al, a, &a->pub.ips[i]);
		}
		group_leave(al, a);
		if (unpersist && al->st && store_del(al->st, ALLOC_KIND, a->name) < 0)
			log_err("alloc: %s: could not delete the assignment", a->name);
	}
	a->pub.n_ips = 0;
	a->pub.status = ALLOC_PENDING;
	a->pub.out_of_pool = false;
	set_pool(al, a, "");
	set_reason(al, a, "");
}

static const struct cfg_port *asg_ports(const struct asg *a)
{
	return a->n_ports <= ASG_PORTS_INLINE ? a->ports.in : a->ports.heap;
}

static void ports_free(struct asg *a)
{
	if (a->n_ports > ASG_PORTS_INLINE)
		free(a->ports.heap);
}

static void set_spec(struct asg *a, const struct cfg_service *s)
{
	size_t len = (size_t)s->n_ports * sizeof(*s->ports);
	struct cfg_port *p;

	a->changed = !a->loaded && (a->n_ports != s->n_ports ||
				    (s->n_ports && memcmp(asg_ports(a), s->ports, len)));
	a->loaded = false;
	if (a->n_ports != s->n_ports) {
		ports_free(a);
		if (s->n_ports > ASG_PORTS_INLINE)
			a->ports.heap = xcalloc((size_t)s->n_ports, sizeof(*s->ports));
		a->n_ports = (uint8_t)s->n_ports;
	}
	p = a->n_ports <= ASG_PORTS_INLINE ? a->ports.in : a->ports.heap;
	if (len)
		memcpy(p, s->ports, len);
}

/* Whether s requests what a did in the last pass (addresses, family, pool). */
static bool req_same(const struct asg *a, const struct cfg_service *s)
{
	return a->n_req == s->n_req_ips && a->fam == s->family &&
	       !strcmp(a->want_pool, cfg_service_pool(s)) &&
	       (!a->n_req || !memcmp(a->req, s->req_ips, a->n_req * sizeof(*a->req)));
}

static void req_set(struct alloc *al, struct asg *a, const struct cfg_service *s)
{
	if (a->n_req != s->n_req_ips) {
		free(a->req);
		a->req = s->n_req_ips ? xcalloc((size_t)s->n_req_ips, sizeof(*a->req)) : NULL;
		a->n_req = (uint8_t)s->n_req_ips;
	}
	if (a->n_req)
		memcpy(a->req, s->req_ips, a->n_req * sizeof(*a->req));
	a->fam = (uint8_t)s->family;
	atom_set(al, &a->want_pool, cfg_service_pool(s), CFG_NAME_MAX);
}

/* Can a service (ns, key, ports) share with holder h? 0, or -1 with the reason. */
static int share_ok(const struct asg *h, const char *ns, const char *key,
		    const struct cfg_port *ports, int n_ports, const struct ip *ip, char *msg,
		    size_t len)
{
	char a[IP_STRLEN], p[16];

	if (!key[0] || strcmp(h->key, key) != 0) {
		snprintf(msg, len, "%s is in use by %s (shared key %s%s%s differs)", ip_str(ip, a),
			 h->name, h->key[0] ? "\"" : "", h->key[0] ? h->key : "none",
			 h->key[0] ? "\"" : "");
		return -1;
	}
	if (strcmp(h->ns, ns) != 0) {
		snprintf(msg, len, "%s is in use by %s (sharing never crosses namespaces)",
			 ip_str(ip, a), h->name);
		return -1;
	}
	for (int i = 0; i < n_ports; i++) {
		for (int k = 0; k < h->n_ports; k++) {
			if (ports[i].port == asg_ports(h)[k].port &&
			    ports[i].proto == asg_ports(h)[k].proto) {
				snprintf(msg, len, "%s is in use by %s (port %s in both)",
					 ip_str(ip, a), h->name,
					 cfg_port_str(&ports[i], p, sizeof(p)));
				return -1;
			}
		}
	}
	return 0;
}

/* --- cluster claims (alloc.h) --------------------------------------------------------- */

/* The name a service's addresses are claimed under in the cluster. */
static const char *holder_of(const char *name, const char *ns, const char *key,
			     char buf[ALLOC_HOLDER_MAX])
{
	if (!key[0])
		return name;
	snprintf(buf, ALLOC_HOLDER_MAX, "%s sharedKey=%s", ns, key);
	return buf;
}

/* Whether the cluster gives ip (or is giving it) to a holder other than holder; msg says who. */
static bool claimed_elsewhere(struct alloc *al, const char *holder, const struct ip *ip, char *msg,
			      size_t len)
{
	char other[ALLOC_HOLDER_MAX], b[IP_STRLEN];

	if (!al->claims || al->claims->check(al->claims->ctx, ip, holder, other, sizeof(other)) !=
			       ALLOC_CLAIM_OTHER)
		return false;
	snprintf(msg, len, "%s is claimed by %s in the cluster", ip_str(ip, b), other);
	return true;
}

/* Asks the cluster for those of ips that are not holder's yet. True when all are; else the
 * first one still awaited is in waiting. */
static bool claims_granted(struct alloc *al, const char *holder, const struct ip *ips, int n,
			   char waiting[IP_STRLEN])
{
	bool all = true;

	for (int i = 0; i < n; i++) {
		enum alloc_claim st = al->claims->check(al->claims->ctx, &ips[i], holder, NULL, 0);

		if (st == ALLOC_CLAIM_MINE)
			continue;
		if (st == ALLOC_CLAIM_FREE)
			al->claims->claim(al->claims->ctx, &ips[i], holder);
		if (all)
			ip_str(&ips[i], waiting);
		all = false;
	}
	return all;
}

/* Whether a service here holds ip for holder. */
static bool held_here(struct alloc *al, const char *holder, const struct ip *ip)
{
	struct holders *h = holders_find(al, ip);
	char buf[ALLOC_HOLDER_MAX];

	for (int i = 0; h && i < h->n; i++)
		if (!strcmp(holder_of(h->v[i]->name, h->v[i]->ns, h->v[i]->key, buf), holder))
			return true;
	return false;
}

/* a gave ip back: so does the cluster, unless another service here holds ip for the same
 * holder (a shared address). */
static void claim_release(struct alloc *al, const struct asg *a, const struct ip *ip)
{
	char hbuf[ALLOC_HOLDER_MAX];
	const char *holder = holder_of(a->name, a->ns, a->key, hbuf);

	if (al->claims && !held_here(al, holder, ip))
		al->claims->release(al->claims->ctx, ip, holder);
}

void alloc_set_claims(struct alloc *al, const struct alloc_claims *cl)
{
	al->claims = cl;
}

/* Whether (self, ns, key, ports) may take ip now. */
static int ip_free_for(struct alloc *al, const char *self, const char *ns, const char *key,
		       const struct cfg_port *ports, int n_ports, const struct ip *ip, char *msg,
		       size_t len)
{
	struct holders *h = holders_find(al, ip);

	if (!h)
		return 0;
	for (int i = 0; i < h->n; i++) {
		if (!strcmp(h->v[i]->name, self))
			continue;
		if (share_ok(h->v[i], ns, key, ports, n_ports, ip, msg, len) < 0)
			return -1;
	}
	return 0;
}

int alloc_ip_check(struct alloc *al, const struct cfg_service *svc, const struct ip *ip, char *msg,
		   size_t len)
{
	char ns[CFG_NAME_MAX];
	const char *slash = strchr(svc->name, '/');

	char hbuf[ALLOC_HOLDER_MAX];

	snprintf(ns, sizeof(ns), "%.*s", slash ? (int)(slash - svc->name) : 0, svc->name);
	if (claimed_elsewhere(al, holder_of(svc->name, ns, cfg_service_key(svc), hbuf), ip, msg,
			      len))
		return -1;
	return ip_free_for(al, svc->name, ns, cfg_service_key(svc), svc->ports, svc->n_ports, ip,
			   msg, len);
}

const char *alloc_ip_owner(struct alloc *al, const struct ip *ip)
{
	struct holders *h = holders_find(al, ip);

	return h && h->n ? h->v[0]->name : NULL;
}

/* --- loading -------------------------------------------------------------------------- */

struct load_ctx {
	struct alloc *al;
	char *err;
	size_t errlen;
};

static int load_one(const char *key, struct json_object *val, void *arg)
{
	struct load_ctx *c = arg;
	struct json_object *ips = NULL, *pool = NULL;
	struct asg *a;
	int n;

	if (!json_object_object_get_ex(val, "ips", &ips) ||
	    !json_object_is_type(ips, json_type_array) ||
	    (n = (int)json_object_array_length(ips)) < 1 || n > 2)
		goto bad;
	if (asg_find(c->al, key))
		goto bad;
	a = asg_add(c->al, key);
	for (int i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(ips, i);

		if (!json_object_is_type(e, json_type_string) ||
		    ip_parse(json_object_get_string(e), &a->pub.ips[i]) < 0)
			goto bad;
	}
	a->pub.n_ips = n;
	if (json_object_object_get_ex(val, "pool", &pool))
		set_pool(c->al, a,
			 json_object_get_string(pool) ? json_object_get_string(pool) : "");
	a->pub.status = ALLOC_ASSIGNED;
	a->loaded = true;
	/* ports and key are not known until the first reconcile: nobody can share meanwhile */
	for (int i = 0; i < n; i++)
		ip_hold(c->al, a, &a->pub.ips[i]);
	return 0;
bad:
	snprintf(c->err, c->errlen,
		 "store: assignment %s: %s: not {\"ips\": [1 or 2 addresses], "
		 "\"pool\": name}; refusing to guess",
		 key, json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
	return -1;
}

struct alloc *alloc_new(struct store *st, char *err, size_t errlen)
{
	struct alloc *al = xcalloc(1, sizeof(*al));
	struct load_ctx c = {al, err, errlen};

	al->st = st;
	names_init(&al->names, asg_name);
	if (st && store_foreach(st, ALLOC_KIND, load_one, &c) != 0) {
		alloc_free(al);
		return NULL;
	}
	return al;
}

/* Frees a; alloc_free drops all atoms at once, asg_drop one assignment's. */
static void free_asg(void *p)
{
	struct asg *a = p;

	ports_free(a);
	free(a->req);
	free(a);
}

static void asg_drop(struct alloc *al, struct asg *a)
{
	atom_put(al, a->ns);
	atom_put(al, a->key);
	atom_put(al, a->want_pool);
	atom_put(al, a->pub.pool);
	atom_put(al, a->pub.reason);
	free_asg(a);
}

static void free_atom(void *s)
{
	free((char *)s - offsetof(struct atom, s));
}

static void free_holders(void *p)
{
	holders_free(p);
}

static void free_group(void *p)
{
	struct group *g = p;

	free(g->v);
	free(g);
}

void alloc_free(struct alloc *al)
{
	if (!al)
		return;
	names_free(&al->names);
	tdestroy(al->by_name, free_asg);
	tdestroy(al->atoms, free_atom);
	tdestroy(al->by_ip, free_holders);
	tdestroy(al->groups, free_group);
	runs_clear(&al->used[0]);
	runs_clear(&al->used[1]);
	free(al->pools);
	free(al);
}

/* --- assignment ----------------------------------------------------------------------- */

struct pass {
	struct alloc *al;
	const struct cfg *cfg;
	const struct cfg_pool **order; /* pools in allocation order */
	int n_order;
};

static const struct cfg_pool *pool_named(const struct pass *p, const char *name)
{
	for (int i = 0; i < p->cfg->n_pools; i++)
		if (!strcmp(p->cfg->pools[i].name, name))
			return &p->cfg->pools[i];
	return NULL;
}

/* Lowest address of [first, last] free here and not claimed by another holder in the
 * cluster. */
static bool lowest_free(struct alloc *al, int fam, u128 first, u128 last, bool avoid_buggy,
			const char *holder, u128 *out)
{
	char msg[160];
	struct ip ip;

	for (u128 from = first;; from = *out + 1) {
		if (!runs_lowest_free(used_of(al, fam), from, last, avoid_buggy, out))
			return false;
		u128_ip(fam, *out, &ip);
		if (!claimed_elsewhere(al, holder, &ip, msg, sizeof(msg)))
			return true;
		if (*out == last)
			return false;
	}
}

/* Lowest address of family fam in pool that is free or shareable for svc. */
static bool lowest_in_pool(struct pass *p, const struct cfg_pool *pool, int fam,
			   const struct cfg_service *svc, const struct asg *a, struct ip *out)
{
	bool found = false;
	u128 best = 0, x;
	char msg[160], hbuf[ALLOC_HOLDER_MAX];
	const char *holder = holder_of(a->name, a->ns, cfg_service_key(svc), hbuf);

	for (int i = 0; i < pool->n_ranges; i++) {
		const struct cfg_range *r = &pool->ranges[i];

		if (r->first.family != fam)
			continue;
		if (lowest_free(p->al, fam, ip_u128(&r->first), ip_u128(&r->last),
				pool->avoid_buggy_ips && fam == AF_INET, holder, &x) &&
		    (!found || x < best)) {
			best = x;
			found = true;
		}
	}
	if (cfg_service_key(svc)[0]) {
		struct group *g = group_find(p->al, a->ns, cfg_service_key(svc), false);

		for (int i = 0; g && i < g->n; i++) {
			const struct asg *m = g->v[i];

			if (m == a)
				continue;
			for (int k = 0; k < m->pub.n_ips; k++) {
				const struct ip *ip = &m->pub.ips[k];

				if (ip->family != fam || !alloc_pool_has(pool, ip) ||
				    (pool->avoid_buggy_ips && alloc_ip_buggy(ip)))
					continue;
				x = ip_u128(ip);
				if (found && x >= best)
					continue;
				if (ip_free_for(p->al, a->name, a->ns, cfg_service_key(svc),
						svc->ports, svc->n_ports, ip, msg,
						sizeof(msg)) == 0 &&
				    !claimed_elsewhere(p->al, holder, ip, msg, sizeof(msg))) {
					best = x;
					found = true;
				}
			}
		}
	}
	if (found)
		u128_ip(fam, best, out);
	return found;
}

static int pending(struct alloc *al, struct asg *a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int pending(struct alloc *al, struct asg *a, const char *fmt, ...)
{
	char reason[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	set_reason(al, a, reason);
	a->pub.status = ALLOC_PENDING;
	a->pub.n_ips = 0;
	return -1;
}

static const char *fam_name(int fam)
{
	return fam == AF_INET ? "IPv4" : "IPv6";
}

/* The pool ip would come from for a, in the named pool fixed or else an autoAssign pool,
 * serving a's namespace, not avoided, free here; NULL when it does not fit. */
static const struct cfg_pool *fit(struct pass *p, const struct cfg_service *svc,
				  const struct asg *a, const struct cfg_pool *fixed,
				  const struct ip *ip)
{
	const struct cfg_pool *pl =
	    fixed ? (alloc_pool_has(fixed, ip) ? fixed : NULL) : alloc_pool_of(p->cfg, ip);
	char msg[160];

	if (!pl || (!fixed && !pl->auto_assign) || !alloc_pool_ns_ok(pl, a->ns) ||
	    (pl->avoid_buggy_ips && alloc_ip_buggy(ip)) ||
	    ip_free_for(p->al, a->name, a->ns, cfg_service_key(svc), svc->ports, svc->n_ports, ip,
			msg, sizeof(msg)) < 0)
		return NULL;
	return pl;
}

#define HELD_MAX 8 /* addresses of one holder looked at */

/* The lowest address of family fam that the cluster holds (or, unless granted, is being
 * claimed) for holder and that fits a. Every node picks the same one, so two nodes that
 * claimed two addresses for one service at once agree on one of them. */
static const struct cfg_pool *lowest_held(struct pass *p, const struct cfg_service *svc,
					  const struct asg *a, const char *holder,
					  const struct cfg_pool *fixed, int fam, bool granted,
					  struct ip *out)
{
	const struct alloc_claims *cl = p->al->claims;
	struct ip held[HELD_MAX];
	const struct cfg_pool *best = NULL, *pl;
	int n = cl->held_by(cl->ctx, holder, held, HELD_MAX);

	for (int i = 0; i < n; i++) {
		if (held[i].family != fam || (best && ip_cmp(&held[i], out) >= 0) ||
		    (granted &&
		     cl->check(cl->ctx, &held[i], holder, NULL, 0) != ALLOC_CLAIM_MINE) ||
		    !(pl = fit(p, svc, a, fixed, &held[i])))
			continue;
		best = pl;
		*out = held[i];
	}
	return best;
}

/* The addresses the cluster holds for holder come first, as if requested: each family not
 * requested takes lowest_held's. */
static void cluster_ips(struct pass *p, const struct cfg_service *svc, const struct asg *a,
			const char *holder, const struct cfg_pool *fixed, const int *fams,
			int n_fams, struct ip *got, bool *have, const struct cfg_pool **pool_of)
{
	for (int f = 0; f < n_fams; f++) {
		const struct cfg_pool *pl;

		if (!have[f] &&
		    (pl = lowest_held(p, svc, a, holder, fixed, fams[f], false, &got[f]))) {
			have[f] = true;
			pool_of[f] = pl;
		}
	}
}

/* Claims of holder for addresses of ip's family above ip that no service here holds: made by
 * two nodes at once, or left by a node that moved to the lower one. */
static void release_surplus(struct alloc *al, const char *holder, const struct ip *ip)
{
	struct ip held[HELD_MAX];
	int n = al->claims->held_by(al->claims->ctx, holder, held, HELD_MAX);

	for (int i = 0; i < n; i++)
		if (held[i].family == ip->family && ip_cmp(&held[i], ip) > 0 &&
		    al->claims->check(al->claims->ctx, &held[i], holder, NULL, 0) ==
			ALLOC_CLAIM_MINE &&
		    !held_here(al, holder, &held[i]))
			al->claims->release(al->claims->ctx, &held[i], holder);
}

/* For an assigned service: NULL while the cluster gives it its addresses, else why it must
 * move: another holder has one, or the cluster holds a lower one for it (two nodes claimed
 * at once; a requested address stays). A free one is claimed again (after a restart, or
 * another node released it); claims above it for it are released. */
static const char *claims_lost(struct pass *p, const struct cfg_service *svc, struct asg *a,
			       char *msg, size_t len)
{
	struct alloc *al = p->al;
	char hbuf[ALLOC_HOLDER_MAX], b[IP_STRLEN];
	const char *holder = holder_of(a->name, a->ns, a->key, hbuf);
	const struct cfg_pool *fixed =
	    cfg_service_pool(svc)[0] ? pool_named(p, cfg_service_pool(svc)) : NULL;
	struct ip low;

	if (!al->claims->ready(al->claims->ctx))
		return NULL; /* not known yet: kept */
	for (int i = 0; i < a->pub.n_ips; i++) {
		const struct ip *ip = &a->pub.ips[i];

		if (claimed_elsewhere(al, holder, ip, msg, len))
			return msg;
		if (!svc->n_req_ips &&
		    lowest_held(p, svc, a, holder, fixed, ip->family, true, &low) &&
		    ip_cmp(&low, ip) < 0) {
			snprintf(msg, len, "the cluster holds the lower %s for it",
				 ip_str(&low, b));
			return msg;
		}
		if (al->claims->check(al->claims->ctx, ip, holder, NULL, 0) == ALLOC_CLAIM_FREE)
			al->claims->claim(al->claims->ctx, ip, holder);
		release_surplus(al, holder, ip);
	}
	return NULL;
}

/* Tries to give a (pending) its addresses. 0 assigned, -1 still pending (reason set). */
static int assign(struct pass *p, const struct cfg_service *svc, struct asg *a)
{
	int fams[2], n_fams = 0;
	struct ip got[2];
	bool have[2] = {false, false};
	const struct cfg_pool *fixed = NULL, *pool_of_ip[2] = {NULL, NULL};
	char buf[IP_STRLEN], msg[160], hbuf[ALLOC_HOLDER_MAX];
	const char *holder = holder_of(a->name, a->ns, cfg_service_key(svc), hbuf);

	if (svc->family != CFG_FAM_IPV6)
		fams[n_fams++] = AF_INET;
	if (svc->family != CFG_FAM_IPV4)
		fams[n_fams++] = AF_INET6;
	if (p->al->claims && !p->al->claims->ready(p->al->claims->ctx))
		return pending(p->al, a, "waiting for the cluster's address claims (etcd)");
	if (cfg_service_pool(svc)[0]) {
		fixed = pool_named(p, cfg_service_pool(svc));
		if (!fixed)
			return pending(p->al, a, "pool %s does not exist", cfg_service_pool(svc));
		if (!alloc_pool_ns_ok(fixed, a->ns))
			return pending(p->al, a, "pool %s does not serve namespace %s", fixed->name,
				       a->ns);
	}
	/* requested addresses first: they must lie in a pool and be free or shareable */
	for (int f = 0; f < n_fams; f++) {
		for (int i = 0; i < svc->n_req_ips; i++) {
			const struct ip *ip = &svc->req_ips[i];
			const struct cfg_pool *pl;

			if (ip->family != fams[f])
				continue;
			ip_str(ip, buf);
			pl = fixed ? (alloc_pool_has(fixed, ip) ? fixed : NULL)
				   : alloc_pool_of(p->cfg, ip);
			if (!pl)
				return fixed ? pending(p->al, a, "requested %s is not in pool %s",
						       buf, fixed->name)
					     : pending(p->al, a, "requested %s is not in any pool",
						       buf);
			if (!alloc_pool_ns_ok(pl, a->ns))
				return pending(p->al, a, "pool %s does not serve namespace %s",
					       pl->name, a->ns);
			if (pl->avoid_buggy_ips && alloc_ip_buggy(ip))
				return pending(p->al, a,
					       "requested %s ends in .0 or .255, which pool %s "
					       "avoids (avoidBuggyIPs)",
					       buf, pl->name);
			if (ip_free_for(p->al, a->name, a->ns, cfg_service_key(svc), svc->ports,
					svc->n_ports, ip, msg, sizeof(msg)) < 0 ||
			    claimed_elsewhere(p->al, holder, ip, msg, sizeof(msg)))
				return pending(p->al, a, "requested %s", msg);
			got[f] = *ip;
			have[f] = true;
			pool_of_ip[f] = pl;
		}
	}
	if (p->al->claims)
		cluster_ips(p, svc, a, holder, fixed, fams, n_fams, got, have, pool_of_ip);
	/* the other families from the pool of a requested address, else the eligible pools */
	if (!fixed)
		fixed = pool_of_ip[0] ? pool_of_ip[0] : pool_of_ip[1];
	if (!(n_fams == 1 ? have[0] : have[0] && have[1])) {
		const struct cfg_pool *cands[p->n_order + 1];
		int n_c = 0;
		bool done = false;

		if (fixed) {
			cands[n_c++] = fixed;
		} else {
			for (int i = 0; i < p->n_order; i++) {
				const struct cfg_pool *pl = p->order[i];
				bool fam_ok = true;

				for (int f = 0; f < n_fams; f++)
					if (!have[f] && !alloc_pool_has_family(pl, fams[f]))
						fam_ok = false;
				if (pl->auto_assign && alloc_pool_ns_ok(pl, a->ns) && fam_ok)
					cands[n_c++] = pl;
			}
		}
		for (int c = 0; c < n_c && !done; c++) {
			struct ip try[2];
			bool ok = true;

			for (int f = 0; f < n_fams && ok; f++) {
				if (have[f])
					try[f] = got[f];
				else if (!alloc_pool_has_family(cands[c], fams[f]) ||
					 !lowest_in_pool(p, cands[c], fams[f], svc, a, &try[f]))
					ok = false;
			}
			if (ok) {
				for (int f = 0; f < n_fams; f++) {
					got[f] = try[f];
					have[f] = true;
				}
				if (!pool_of_ip[0] && !pool_of_ip[1])
					pool_of_ip[0] = cands[c];
				done = true;
			}
		}
		if (!done) {
			const char *fam =
			    svc->family == CFG_FAM_DUAL ? "IPv4 and IPv6" : fam_name(fams[0]);

			if (n_c == 0)
				return pending(
				    p->al, a,
				    "no pool with autoAssign serves namespace %s with %s "
				    "addresses",
				    a->ns, fam);
			if (n_c == 1)
				return pending(p->al, a, "no free %s address in pool %s", fam,
					       cands[0]->name);
			return pending(
			    p->al, a, "no free %s address in the %d eligible pools (%s, %s%s)", fam,
			    n_c, cands[0]->name, cands[1]->name, n_c > 2 ? ", ..." : "");
		}
	}
	if (p->al->claims && !claims_granted(p->al, holder, got, n_fams, buf))
		return pending(p->al, a, "claiming %s in the cluster (etcd)", buf);
	a->pub.n_ips = n_fams;
	for (int f = 0; f < n_fams; f++) {
		a->pub.ips[f] = got[f];
		ip_hold(p->al, a, &got[f]);
		log_info("alloc: %s: assigned %s", a->name, ip_str(&got[f], buf));
	}
	set_pool(p->al, a, (pool_of_ip[0] ? pool_of_ip[0] : pool_of_ip[1])->name);
	a->pub.status = ALLOC_ASSIGNED;
	set_reason(p->al, a, "");
	a->pub.out_of_pool = false;
	group_join(p->al, a);
	persist(p->al, a);
	return 0;
}

/* ipFamily changed between single-stack and dual: keep the address of the family that stays,
 * drop the other one, or add one of the new family from the pool the kept address is in.
 * Anything else (or no room) is left to must_move. */
static void refit_family(struct pass *p, const struct cfg_service *svc, struct asg *a)
{
	bool want[2] = {svc->family != CFG_FAM_IPV6, svc->family != CFG_FAM_IPV4};
	int fams[2] = {AF_INET, AF_INET6}, have[2] = {-1, -1};
	const struct cfg_pool *pl;
	char buf[IP_STRLEN];
	struct ip add;

	for (int i = 0; i < a->pub.n_ips; i++)
		have[a->pub.ips[i].family == AF_INET ? 0 : 1] = i;
	if (a->pub.n_ips == 2 && !(want[0] && want[1])) {
		int drop = want[0] ? 1 : 0; /* family index to give back */
		struct ip gone = a->pub.ips[have[drop]];

		if (!want[drop ^ 1])
			return;
		ip_unhold(p->al, a, &gone);
		a->pub.ips[0] = a->pub.ips[have[drop ^ 1]];
		a->pub.n_ips = 1;
		log_info("alloc: %s: ipFamily now %s, released %s, kept %s", a->name,
			 cfg_family_str(svc->family), ip_str(&gone, buf),
			 ip_str(&a->pub.ips[0], (char[IP_STRLEN]){0}));
		persist(p->al, a);
		return;
	}
	if (a->pub.n_ips != 1 || !(want[0] && want[1]))
		return;
	{
		int miss = have[0] < 0 ? 0 : 1;

		for (int i = 0; i < svc->n_req_ips; i++)
			if (svc->req_ips[i].family == fams[miss])
				return; /* a requested address: must_move handles it */
		pl = alloc_pool_of(p->cfg, &a->pub.ips[0]);
		if (!pl ||
		    (cfg_service_pool(svc)[0] && strcmp(pl->name, cfg_service_pool(svc)) != 0) ||
		    !alloc_pool_has_family(pl, fams[miss]) ||
		    !lowest_in_pool(p, pl, fams[miss], svc, a, &add))
			return;
		ip_hold(p->al, a, &add);
		if (miss == 0) {
			a->pub.ips[1] = a->pub.ips[0];
			a->pub.ips[0] = add;
		} else {
			a->pub.ips[1] = add;
		}
		a->pub.n_ips = 2;
		log_info("alloc: %s: ipFamily now dual, added %s", a->name, ip_str(&add, buf));
		persist(p->al, a);
	}
}

/* Why an assigned service must give its addresses back because its own request changed, or
 * NULL to keep them. Pool edits never count: they flag, they do not move. */
static const char *must_move(struct pass *p, const struct cfg_service *svc, struct asg *a,
			     char *msg, size_t len)
{
	int want4 = svc->family != CFG_FAM_IPV6, want6 = svc->family != CFG_FAM_IPV4;
	int n4 = 0, n6 = 0;

	for (int i = 0; i < a->pub.n_ips; i++)
		a->pub.ips[i].family == AF_INET ? n4++ : n6++;
	if (n4 != want4 || n6 != want6)
		return "ipFamily changed";
	for (int i = 0; i < svc->n_req_ips; i++) {
		bool in = false;

		for (int k = 0; k < a->pub.n_ips; k++)
			in |= ip_eq(&a->pub.ips[k], &svc->req_ips[i]);
		if (!in)
			return "requested addresses changed";
	}
	if (cfg_service_pool(svc)[0]) {
		for (int i = 0; i < a->pub.n_ips; i++) {
			const struct cfg_pool *pl = alloc_pool_of(p->cfg, &a->pub.ips[i]);

			if (pl && strcmp(pl->name, cfg_service_pool(svc)) != 0)
				return "pool changed";
		}
	}
	/* sharing that no longer fits: the service whose ports or key changed moves; when both
	 * (or neither) changed, the first in config order does */
	for (int i = 0; i < a->pub.n_ips; i++) {
		struct holders *h = holders_find(p->al, &a->pub.ips[i]);

		for (int k = 0; h && k < h->n; k++) {
			const struct asg *o = h->v[k];

			if (o == a || (!a->changed && o->changed))
				continue;
			if (share_ok(o, a->ns, a->key, asg_ports(a), a->n_ports, &a->pub.ips[i],
				     msg, len) < 0)
				return msg;
		}
	}
	return NULL;
}

static void flag_pool(struct pass *p, struct asg *a)
{
	char buf[IP_STRLEN], reason[160] = "";
	bool was = a->pub.out_of_pool;

	a->pub.out_of_pool = false;
	for (int i = 0; i < a->pub.n_ips; i++) {
		const struct cfg_pool *pl = alloc_pool_of(p->cfg, &a->pub.ips[i]);

		if (pl) {
			if (i == 0 || a->pub.out_of_pool)
				set_pool(p->al, a, pl->name);
			continue;
		}
		if (!a->pub.out_of_pool && !was)
			log_warn("alloc: %s: %s is outside every pool now; kept, not moved",
				 a->name, ip_str(&a->pub.ips[i], buf));
		a->pub.out_of_pool = true;
		snprintf(reason, sizeof(reason),
			 "%s is outside every pool (pool %s changed or removed): kept, not moved",
			 ip_str(&a->pub.ips[i], buf), a->pub.pool[0] ? a->pub.pool : "?");
	}
	set_reason(p->al, a, reason);
}

struct collect {
	struct asg **v;
	int n, cap;
	unsigned gen;
};

static void collect_stale(const void *node, VISIT which, void *arg)
{
	struct collect *c = arg;
	struct asg *a = *(struct asg *const *)node;

	if ((which == postorder || which == leaf) && a->gen != c->gen)
		vec_push(&c->v, &c->n, &c->cap, a);
}

int alloc_reconcile(struct alloc *al, const struct cfg *cfg)
{
	const struct cfg_pool *order[cfg->n_pools + 1];
	struct pass p = {al, cfg, order, cfg->n_pools};
	struct asg **byidx = xcalloc((size_t)cfg->n_services + 1, sizeof(*byidx));
	struct collect stale = {.gen = ++al->gen};
	char msg[160];
	bool pools_same;
	int rc = 0;

	for (int i = 0; i < cfg->n_pools; i++)
		order[i] = &cfg->pools[i];
	qsort(order, (size_t)cfg->n_pools, sizeof(order[0]), alloc_pool_order);
	if (al->st)
		store_batch_begin(al->st);

	/* 1. the services that exist now, with their current ports and shared key */
	for (int i = 0; i < cfg->n_services; i++) {
		const struct cfg_service *s = &cfg->services[i];
		struct asg *a = asg_find(al, s->name);
		bool key_changed, was_loaded;

		if (!a)
			a = asg_add(al, s->name);
		if (a->gen == al->gen)
			continue; /* duplicate name in cfg: the first one wins */
		a->gen = al->gen;
		byidx[i] = a;
		key_changed = strcmp(a->key, cfg_service_key(s)) != 0;
		if (key_changed) {
			if (a->pub.status == ALLOC_ASSIGNED)
				group_leave(al, a);
			atom_set(al, &a->key, cfg_service_key(s), CFG_NAME_MAX);
			if (a->pub.status == ALLOC_ASSIGNED)
				group_join(al, a);
		}
		was_loaded = a->loaded;
		a->same_req = !was_loaded && req_same(a, s);
		req_set(al, a, s);
		set_spec(a, s);
		if (key_changed && !was_loaded)
			a->changed = true;
	}
	/* 2. services that are gone give their addresses back */
	twalk_r(al->by_name, collect_stale, &stale);
	for (int i = 0; i < stale.n; i++) {
		release(al, stale.v[i], true);
		names_del(&al->names, stale.v[i]->name);
		tdelete(stale.v[i], &al->by_name, name_cmp);
		asg_drop(al, stale.v[i]);
	}
	free(stale.v);
	/* 3. kept unless the service's own request changed; pool edits only flag */
	pools_same = al->pools && al->n_pools == cfg->n_pools &&
		     !memcmp(al->pools, cfg->pools, (size_t)cfg->n_pools * sizeof(*cfg->pools));
	for (int i = 0; i < cfg->n_services; i++) {
		struct asg *a = byidx[i];
		const char *why;

		if (!a || a->pub.status != ALLOC_ASSIGNED)
			continue;
		why = al->claims ? claims_lost(&p, &cfg->services[i], a, msg, sizeof(msg)) : NULL;
		if (!why && pools_same && a->same_req && !a->changed)
			continue; /* nothing it depends on changed since the last pass */
		if (!why)
			refit_family(&p, &cfg->services[i], a);
		if (!why)
			why = must_move(&p, &cfg->services[i], a, msg, sizeof(msg));
		if (!why && al->claims)
			why = claims_lost(&p, &cfg->services[i], a, msg, sizeof(msg)); /* refit */
		if (why) {
			log_info("alloc: %s: %s, reassigning", a->name, why);
			release(al, a, true);
			continue;
		}
		flag_pool(&p, a);
	}
	/* 4. pending services, in config order */
	al->n_pending = 0;
	for (int i = 0; i < cfg->n_services; i++) {
		struct asg *a = byidx[i];

		if (!a || a->pub.status == ALLOC_ASSIGNED)
			continue;
		if (assign(&p, &cfg->services[i], a) < 0)
			al->n_pending++;
	}
	free(al->pools);
	al->pools = xcalloc((size_t)cfg->n_pools + 1, sizeof(*cfg->pools));
	memcpy(al->pools, cfg->pools, (size_t)cfg->n_pools * sizeof(*cfg->pools));
	al->n_pools = cfg->n_pools;
	if (al->st && store_batch_end(al->st) < 0) {
		log_err("alloc: could not write the assignments to the store");
		rc = -1;
	}
	free(byidx);
	return rc;
}

const struct alloc_assignment *alloc_get(struct alloc *al, const char *service)
{
	struct asg *a = asg_find(al, service);

	return a ? &a->pub : NULL;
}

struct iter {
	alloc_iter_fn fn;
	void *arg;
};

static void iter_one(const void *node, VISIT which, void *arg)
{
	struct iter *it = arg;

	if (which == postorder || which == leaf)
		it->fn(&(*(struct asg *const *)node)->pub, it->arg);
}

void alloc_foreach(struct alloc *al, alloc_iter_fn fn, void *arg)
{
	struct iter it = {fn, arg};

	twalk_r(al->by_name, iter_one, &it);
}

int alloc_pending_count(struct alloc *al)
{
	return al->n_pending;
}

struct usage_ctx {
	const struct cfg *cfg;
	struct alloc_usage *out;
};

static void usage_ip(const void *node, VISIT which, void *arg)
{
	struct usage_ctx *c = arg;
	const struct holders *h = *(struct holders *const *)node;
	const struct cfg_pool *pl;

	if (which != postorder && which != leaf)
		return;
	pl = alloc_pool_of(c->cfg, &h->ip);
	if (pl)
		c->out[pl - c->cfg->pools].in_use[h->ip.family == AF_INET ? 0 : 1]++;
}

static void usage_svc(const struct alloc_assignment *as, void *arg)
{
	struct usage_ctx *c = arg;

	if (as->status != ALLOC_ASSIGNED)
		return;
	for (int i = 0; i < c->cfg->n_pools; i++) {
		if (!strcmp(c->cfg->pools[i].name, as->pool)) {
			c->out[i].services++;
			return;
		}
	}
}

void alloc_usage(struct alloc *al, const struct cfg *cfg, struct alloc_usage *out)
{
	struct usage_ctx c = {cfg, out};

	memset(out, 0, (size_t)cfg->n_pools * sizeof(*out));
	twalk_r(al->by_ip, usage_ip, &c);
	alloc_foreach(al, usage_svc, &c);
}
