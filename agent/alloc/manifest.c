/* apply -f: manifests → runtime objects (see manifest.h). Owns the kind table and the
 * translations of MetalLB IPAddressPool (metallb.io/v1beta1), Kubernetes Service of type
 * LoadBalancer (v1) and edgelb's own YAML (documents with pools/services/bgpPeers lists).
 * Validates the whole set before anything is written: a refused apply changes nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "alloc/manifest.h"
#include "bgp/manifest_bgp.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "daemon/agent.h"
#include "lib/hash.h"
#include "l2/manifest_l2.h"
#include "lib/log.h"
#include "store/store.h"

/* --- helpers for rows ------------------------------------------------------------------ */

struct json_object *manifest_get(struct json_object *doc, const char *path)
{
	char buf[128], *save = NULL;
	struct json_object *cur = doc;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
		if (!json_object_is_type(cur, json_type_object) ||
		    !json_object_object_get_ex(cur, tok, &cur))
			return NULL;
	return cur;
}

const char *manifest_str(struct json_object *doc, const char *path)
{
	struct json_object *v = manifest_get(doc, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

const char *manifest_text(struct json_object *v)
{
	return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null";
}

struct json_object *manifest_later(struct manifest *m, const char *key, bool is_array)
{
	struct json_object *v;

	if (!m->later)
		m->later = json_object_new_object();
	if (json_object_object_get_ex(m->later, key, &v))
		return v;
	v = is_array ? json_object_new_array() : json_object_new_object();
	json_object_object_add(m->later, key, v);
	return v;
}

void manifest_warn(struct manifest *m, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(m->warnings, json_object_new_string(buf));
}

void manifest_unsupported(struct manifest *m, const char *what, const char *path,
			  struct json_object *obj, const char *const *known)
{
	if (!obj || !json_object_is_type(obj, json_type_object))
		return;
	json_object_object_foreach(obj, k, v)
	{
		bool ok = false;

		(void)v;
		for (const char *const *f = known; *f; f++)
			ok |= !strcmp(*f, k);
		if (!ok)
			manifest_warn(m, "%s: %s%s%s: not supported, ignored", what, path,
				      path[0] ? "." : "", k);
	}
}

/* The index key of (kind, key): a 64-bit hash; a hit is confirmed by comparing the strings. */
static unsigned long long obj_hash(const char *kind, const char *key)
{
	return hash_bytes(key, strlen(key), hash_bytes(kind, strlen(kind) + 1, 0));
}

static struct manifest_obj *find_obj(struct manifest *m, const char *kind, const char *key)
{
	unsigned long long h = obj_hash(kind, key);
	int i;

	if (m->idx && hmap_get(m->idx, &h, &i) && i < m->n && !strcmp(m->v[i].kind, kind) &&
	    !strcmp(m->v[i].key, key))
		return &m->v[i];
	if (m->idx && !hmap_get(m->idx, &h, NULL))
		return NULL; /* every object is indexed: no hash, no object */
	for (i = 0; i < m->n; i++) /* a hash collision: look at all */
		if (!strcmp(m->v[i].kind, kind) && !strcmp(m->v[i].key, key))
			return &m->v[i];
	return NULL;
}

/* Indexes v[i] once its kind and key are set. */
static void index_obj(struct manifest *m, int i)
{
	unsigned long long h = obj_hash(m->v[i].kind, m->v[i].key);

	if (!m->idx) {
		m->idx = calloc(1, sizeof(*m->idx));
		if (!m->idx)
			log_fatal("alloc: out of memory");
		hmap_init(m->idx, sizeof(h), 64);
	}
	if (!hmap_get(m->idx, &h, NULL))
		hmap_put(m->idx, &h, i); /* on a collision the first stays; find_obj scans */
}

/* A formatted string on the heap (the rows of a 100,000-object file are kept small). */
static char *str_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_of(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		log_fatal("alloc: out of memory");
	return s;
}

static struct manifest_obj *push_obj(struct manifest *m)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 8;
		m->v = realloc(m->v, (size_t)m->cap * sizeof(*m->v));
		if (!m->v)
			log_fatal("alloc: out of memory");
	}
	memset(&m->v[m->n], 0, sizeof(m->v[0]));
	return &m->v[m->n++];
}

int manifest_add(struct manifest *m, const char *kind, const char *key, struct json_object *val,
		 const char *what, const char *const *keep, char *msg, size_t len)
{
	struct manifest_obj *o = find_obj(m, kind, key);

	if (o && !o->implicit) {
		snprintf(msg, len,
			 "%s: %s \"%s\" already declared by %s (allowed: each object once "
			 "per apply)",
			 what, kind, key, o->what);
		json_object_put(val);
		return -1;
	}
	if (o) {
		for (const char *const *f = keep; f && *f; f++) {
			struct json_object *x;

			if (json_object_object_get_ex(o->val, *f, &x))
				json_object_object_add(val, *f, json_object_get(x));
		}
		json_object_put(o->val);
	} else {
		o = push_obj(m);
		snprintf(o->kind, sizeof(o->kind), "%s", kind);
		o->key = str_of("%s", key);
		index_obj(m, m->n - 1);
	}
	o->val = val;
	o->implicit = false;
	free(o->what);
	o->what = str_of("%s", what);
	return 0;
}

struct json_object *manifest_obj(struct manifest *m, const char *kind, const char *key)
{
	struct manifest_obj *o = find_obj(m, kind, key);
	struct json_object *cur = NULL;

	if (o)
		return o->val;
	if (store_has(m->a->store, kind, key)) {
		cur = store_read(m->a->store, kind, key); /* a private copy: the row edits it */
	} else if (!strcmp(kind, CFG_KIND_POOL) && cfg_find_pool(m->a->cfg, key)) {
		cur = cfg_pool_to_json(cfg_find_pool(m->a->cfg, key));
	} else if (!strcmp(kind, CFG_KIND_SERVICE) && cfg_find_service(m->a->cfg, key)) {
		cur = cfg_service_to_json(cfg_find_service(m->a->cfg, key));
	}
	if (!cur)
		return NULL;
	o = push_obj(m);
	snprintf(o->kind, sizeof(o->kind), "%s", kind);
	o->key = str_of("%s", key);
	index_obj(m, m->n - 1);
	o->what = str_of("%s %s (current)", kind, key);
	o->val = cur;
	o->implicit = true;
	return cur;
}

/* --- MetalLB IPAddressPool --------------------------------------------------------------- */

static int ipaddresspool(struct manifest *m, struct json_object *doc, const char *what, char *msg,
			 size_t len)
{
	static const char *const spec_known[] = {"addresses", "autoAssign", "avoidBuggyIPs",
						 "serviceAllocation", NULL};
	static const char *const alloc_known[] = {"priority", "namespaces", NULL};
	const char *name = manifest_str(doc, "metadata.name");
	struct json_object *spec = manifest_get(doc, "spec"), *o, *v;

	if (!name) {
		snprintf(msg, len, "%s: metadata.name: missing (allowed: a pool name)", what);
		return -1;
	}
	if (!spec || !json_object_is_type(spec, json_type_object)) {
		snprintf(msg, len, "%s: spec: missing (allowed: a mapping with addresses)", what);
		return -1;
	}
	manifest_unsupported(m, what, "spec", spec, spec_known);
	manifest_unsupported(m, what, "spec.serviceAllocation",
			     manifest_get(spec, "serviceAllocation"), alloc_known);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	if ((v = manifest_get(spec, "addresses")))
		json_object_object_add(o, "addresses", json_object_get(v));
	if ((v = manifest_get(spec, "autoAssign")))
		json_object_object_add(o, "autoAssign", json_object_get(v));
	if ((v = manifest_get(spec, "avoidBuggyIPs")))
		json_object_object_add(o, "avoidBuggyIPs", json_object_get(v));
	if ((v = manifest_get(spec, "serviceAllocation.priority")))
		json_object_object_add(o, "priority", json_object_get(v));
	if ((v = manifest_get(spec, "serviceAllocation.namespaces")))
		json_object_object_add(o, "namespaces", json_object_get(v));
	return manifest_add(m, CFG_KIND_POOL, name, o, what, NULL, msg, len);
}

/* --- Kubernetes Service of type LoadBalancer ------------------------------------------- */

/* MetalLB's annotations, current (metallb.io/) and legacy (metallb.universe.tf/) spelling. */
static const char *annotation(struct json_object *ann, const char *suffix)
{
	static const char *const prefixes[] = {"metallb.io/", "metallb.universe.tf/"};
	struct json_object *v;
	char key[128];

	for (size_t i = 0; i < 2; i++) {
		snprintf(key, sizeof(key), "%s%s", prefixes[i], suffix);
		if (ann && json_object_object_get_ex(ann, key, &v) &&
		    json_object_is_type(v, json_type_string))
			return json_object_get_string(v);
	}
	return NULL;
}

static const struct {
	const char *policy;
	bool dual;
} family_policies[] = {
    {"SingleStack", false},
    {"PreferDualStack", true},
    {"RequireDualStack", true},
};

static int service_ports(struct json_object *spec, struct json_object *out, const char *what,
			 char *msg, size_t len)
{
	struct json_object *ports = manifest_get(spec, "ports");

	if (!ports || !json_object_is_type(ports, json_type_array) ||
	    json_object_array_length(ports) == 0) {
		snprintf(msg, len,
			 "%s: spec.ports: missing or empty (allowed: a list of {port, "
			 "protocol})",
			 what);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		struct json_object *p = json_object_array_get_idx(ports, i), *port;
		const char *proto = manifest_str(p, "protocol");
		char buf[64];

		port = manifest_get(p, "port");
		if (!port || !json_object_is_type(port, json_type_int)) {
			snprintf(msg, len,
				 "%s: spec.ports[%zu].port: missing or not a number "
				 "(allowed: 1-65535)",
				 what, i);
			return -1;
		}
		snprintf(buf, sizeof(buf), "%s/%lld", proto ? proto : "TCP",
			 (long long)json_object_get_int64(port));
		for (char *c = buf; *c && *c != '/'; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		json_object_array_add(out, json_object_new_string(buf));
	}
	return 0;
}

static int service(struct manifest *m, struct json_object *doc, const char *what, char *msg,
		   size_t len)
{
	static const char *const spec_known[] = {"type",	   "ports",	 "loadBalancerIP",
						 "ipFamilyPolicy", "ipFamilies", "loadBalancerClass",
						 NULL};
	static const char *const keep[] = {"backends", NULL};
	const char *name = manifest_str(doc, "metadata.name");
	const char *ns = manifest_str(doc, "metadata.namespace");
	const char *type = manifest_str(doc, "spec.type");
	const char *lbip = manifest_str(doc, "spec.loadBalancerIP");
	const char *policy = manifest_str(doc, "spec.ipFamilyPolicy");
	struct json_object *ann = manifest_get(doc, "metadata.annotations");
	struct json_object *spec = manifest_get(doc, "spec"), *fams, *o, *arr;
	const char *ips = annotation(ann, "loadBalancerIPs"), *s;
	char key[2 * CFG_NAME_MAX + 2];
	bool dual = false;

	if (!name) {
		snprintf(msg, len, "%s: metadata.name: missing (allowed: a service name)", what);
		return -1;
	}
	if (!type || strcmp(type, "LoadBalancer") != 0) {
		manifest_warn(m,
			      "%s: spec.type %s: skipped (only type LoadBalancer gets an "
			      "external IP)",
			      what, type ? type : "ClusterIP");
		return 0;
	}
	if ((s = manifest_str(doc, "spec.loadBalancerClass")) && *s) {
		/* Kubernetes: a class names the implementation that serves it; MetalLB (with no
		 * class of its own) leaves such services alone, and so does edgelb */
		manifest_warn(m,
			      "%s: spec.loadBalancerClass \"%s\": skipped (another load balancer "
			      "serves it; edgelb takes services without a class)",
			      what, s);
		return 0;
	}
	snprintf(key, sizeof(key), "%s/%s", ns ? ns : "default", name);
	manifest_unsupported(m, what, "spec", spec, spec_known);
	if (ann && json_object_is_type(ann, json_type_object)) {
		json_object_object_foreach(ann, k, v)
		{
			static const char *const known[] = {"loadBalancerIPs", "address-pool",
							    "allow-shared-ip",
							    "ip-allocated-from-pool"};
			const char *sfx = !strncmp(k, "metallb.io/", 11)	    ? k + 11
					  : !strncmp(k, "metallb.universe.tf/", 20) ? k + 20
										    : NULL;
			bool ok = false;

			(void)v;
			if (!sfx)
				continue; /* other tools' annotations are none of ours */
			for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
				ok |= !strcmp(known[i], sfx);
			if (!ok)
				manifest_warn(m,
					      "%s: metadata.annotations.%s: not supported, ignored",
					      what, k);
		}
	}
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(key));
	arr = cfg_json_array(1);
	json_object_object_add(o, "ports", arr);
	if (service_ports(spec, arr, what, msg, len) < 0) {
		json_object_put(o);
		return -1;
	}
	if (ips && lbip) {
		snprintf(msg, len,
			 "%s: spec.loadBalancerIP \"%s\" and annotation "
			 "metallb.io/loadBalancerIPs \"%s\" both given (allowed: one of them)",
			 what, lbip, ips);
		json_object_put(o);
		return -1;
	}
	if (ips || lbip)
		json_object_object_add(o, "ips", json_object_new_string(ips ? ips : lbip));
	if ((s = annotation(ann, "address-pool")))
		json_object_object_add(o, "pool", json_object_new_string(s));
	if ((s = annotation(ann, "allow-shared-ip")))
		json_object_object_add(o, "sharedKey", json_object_new_string(s));
	if (policy) {
		bool found = false;

		for (size_t i = 0; i < sizeof(family_policies) / sizeof(family_policies[0]); i++) {
			if (!strcmp(policy, family_policies[i].policy)) {
				dual = family_policies[i].dual;
				found = true;
			}
		}
		if (!found) {
			snprintf(msg, len,
				 "%s: spec.ipFamilyPolicy: \"%s\": unknown (allowed: "
				 "SingleStack, PreferDualStack, RequireDualStack)",
				 what, policy);
			json_object_put(o);
			return -1;
		}
	}
	fams = manifest_get(spec, "ipFamilies");
	if (dual) {
		json_object_object_add(o, "ipFamily", json_object_new_string("dual"));
	} else if (fams && json_object_is_type(fams, json_type_array) &&
		   json_object_array_length(fams) > 0) {
		const char *f = json_object_get_string(json_object_array_get_idx(fams, 0));

		if (!f || (strcmp(f, "IPv4") && strcmp(f, "IPv6"))) {
			snprintf(msg, len,
				 "%s: spec.ipFamilies[0]: \"%s\": unknown (allowed: IPv4, "
				 "IPv6)",
				 what, f ? f : "");
			json_object_put(o);
			return -1;
		}
		json_object_object_add(
		    o, "ipFamily", json_object_new_string(!strcmp(f, "IPv6") ? "ipv6" : "ipv4"));
	}
	return manifest_add(m, CFG_KIND_SERVICE, key, o, what, keep, msg, len);
}

/* --- edgelb's own YAML: a document with pools / services / bgpPeers lists -------------- */

static int edgelb_doc(struct manifest *m, struct json_object *doc, const char *what, char *msg,
		      size_t len)
{
	static const char *const sections[] = {"pools", "services", "bgpPeers"};

	json_object_object_foreach(doc, k, v)
	{
		int sec = -1;

		for (int i = 0; i < 3; i++)
			if (!strcmp(sections[i], k))
				sec = i;
		if (sec < 0) {
			snprintf(msg, len,
				 "%s: %s: not an apply section (allowed: pools, services, "
				 "bgpPeers, or a manifest with apiVersion and kind)",
				 what, k);
			return -1;
		}
		if (!json_object_is_type(v, json_type_array)) {
			snprintf(msg, len, "%s: %s: not a list", what, k);
			return -1;
		}
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *x = json_object_array_get_idx(v, i);
			char key[300], w[400];
			const char *n = manifest_str(x, "name");

			snprintf(w, sizeof(w), "%s: %s[%zu]", what, k, i);
			if (sec == 2) {
				struct cfg_peer p;
				char a[IP_STRLEN], err[512];

				if (cfg_peer_from_json(x, &p, err, sizeof(err)) < 0) {
					snprintf(msg, len, "%s: %s", w, err);
					return -1;
				}
				snprintf(key, sizeof(key), "%s/%s", p.sw, ip_str(&p.addr, a));
			} else if (!n) {
				snprintf(msg, len, "%s: name: missing", w);
				return -1;
			} else {
				snprintf(key, sizeof(key), "%s", n);
			}
			if (manifest_add(m,
					 sec == 0   ? CFG_KIND_POOL
					 : sec == 1 ? CFG_KIND_SERVICE
						    : CFG_KIND_PEER,
					 key, json_object_get(x), w, NULL, msg, len) < 0)
				return -1;
		}
	}
	return 0;
}

int dp_manifest_endpointslice(struct manifest *m, struct json_object *doc, const char *what,
			      char *msg, size_t len); /* dataplane/endpointslice.c */

const struct manifest_kind manifest_kinds[] = {
    {"metallb.io", "IPAddressPool", ipaddresspool},
    {"", "Service", service},
    {"discovery.k8s.io", "EndpointSlice", dp_manifest_endpointslice},
    {"metallb.io", "BGPPeer", bgp_manifest_peer},
    {"metallb.io", "BGPAdvertisement", bgp_manifest_advertisement},
    {"metallb.io", "BFDProfile", bgp_manifest_bfdprofile},
    {"", "Secret", bgp_manifest_secret},
    {"metallb.io", "Community", bgp_manifest_community},
    {"metallb.io", "L2Advertisement", l2_manifest_advertisement},
    {NULL, NULL, NULL},
};

/* --- the apply itself ------------------------------------------------------------------ */

static int kind_rank(const char *kind)
{
	if (!strcmp(kind, CFG_KIND_POOL))
		return 0;
	if (!strcmp(kind, CFG_KIND_PEER))
		return 1;
	if (!strcmp(kind, CFG_KIND_SERVICE))
		return 3;
	return 2;
}

static int obj_order(const void *a, const void *b)
{
	const struct manifest_obj *x = a, *y = b;
	int r = kind_rank(x->kind) - kind_rank(y->kind);

	return r ? r : strcmp(x->key, y->key);
}

/* Where translate_doc writes its error. */
struct translate_out {
	struct manifest *m;
	char *msg;
	size_t len;
};

/* One document of the file (yaml_each_json frees it after): into m, or -1 with msg. */
static int translate_doc(struct json_object *doc, void *arg)
{
	struct translate_out *t = arg;
	struct manifest *m = t->m;
	char *msg = t->msg;
	size_t len = t->len;
	const char *api = manifest_str(doc, "apiVersion"), *kind = manifest_str(doc, "kind");
	const char *name = manifest_str(doc, "metadata.name");
	char group[128] = "", what[300];
	const struct manifest_kind *row = NULL;

	m->doc++;
	if (!json_object_is_type(doc, json_type_object)) {
		snprintf(msg, len, "%s doc %d: not a mapping", m->file, m->doc);
		return -1;
	}
	if (!kind && !api) {
		snprintf(what, sizeof(what), "%s doc %d", m->file, m->doc);
		return edgelb_doc(m, doc, what, msg, len);
	}
	if (api && strchr(api, '/'))
		snprintf(group, sizeof(group), "%.*s", (int)(strchr(api, '/') - api), api);
	for (const struct manifest_kind *k = manifest_kinds; k->kind; k++)
		if (kind && !strcmp(k->kind, kind) && !strcmp(k->group, group))
			row = k;
	snprintf(what, sizeof(what), "%s %s (%s doc %d)", kind ? kind : "?", name ? name : "?",
		 m->file, m->doc);
	if (!row) {
		char list[256] = "";

		for (const struct manifest_kind *k = manifest_kinds; k->kind; k++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s%s%s",
				 list[0] ? ", " : "", k->group[0] ? k->group : "v1",
				 k->group[0] ? "/" : " ", k->kind);
		snprintf(msg, len,
			 "%s doc %d: kind: \"%s\" apiVersion \"%s\": not supported (allowed: %s)",
			 m->file, m->doc, kind ? kind : "", api ? api : "", list);
		return -1;
	}
	return row->fn(m, doc, what, msg, len);
}

/* Every document of the file, parsed and translated one at a time (a big file's parsed tree
 * is never held whole), then the rows that refer to other documents (pools, peers, aliases). */
static int translate(struct manifest *m, const char *yaml, char *msg, size_t len)
{
	struct translate_out t = {m, msg, len};
	struct cfg_errs errs = {0};

	msg[0] = '\0';
	if (yaml_each_json(m->file, yaml, strlen(yaml), &errs, translate_doc, &t) < 0) {
		if (!msg[0]) /* a YAML error: translate_doc did not get to write one */
			snprintf(msg, len, "%s", errs.n ? errs.msgs[0] : "not YAML");
		cfg_errs_free(&errs);
		return -1;
	}
	cfg_errs_free(&errs);
	if (bgp_manifest_finish(m, msg, len) < 0 || l2_manifest_finish(m, msg, len) < 0)
		return -1;
	return 0;
}

/* Every object decoded by its own decoder, pools checked against each other and the running
 * ones, services against the pools they will see. */
static int validate(struct manifest *m, char *msg, size_t len)
{
	struct cfg_pool *pools;
	int n_pools = 0, max_pools = 0, rc = -1;
	char err[512];

	/* a cfg_pool is kilobytes: room for the pools only, not for every object */
	for (int i = 0; i < m->n; i++)
		max_pools += !strcmp(m->v[i].kind, CFG_KIND_POOL);
	pools = calloc((size_t)max_pools + 1, sizeof(*pools));
	if (!pools)
		log_fatal("alloc: out of memory");
	for (int i = 0; i < m->n; i++) {
		struct manifest_obj *o = &m->v[i];

		if (!strcmp(o->kind, CFG_KIND_POOL)) {
			if (cfg_pool_from_json(o->val, &pools[n_pools], err, sizeof(err)) < 0) {
				snprintf(msg, len, "%s: %s", o->what, err);
				goto out;
			}
			for (int k = 0; k < n_pools; k++)
				if (alloc_pools_overlap(&pools[n_pools], &pools[k], err,
							sizeof(err)) < 0) {
					snprintf(msg, len, "%s: %s", o->what, err);
					goto out;
				}
			for (int k = 0; k < m->a->cfg->n_pools; k++) {
				const struct cfg_pool *cur = &m->a->cfg->pools[k];
				bool replaced = false;

				for (int j = 0; j <= n_pools; j++)
					replaced |= !strcmp(pools[j].name, cur->name);
				if (!replaced && alloc_pools_overlap(&pools[n_pools], cur, err,
								     sizeof(err)) < 0) {
					snprintf(msg, len, "%s: %s", o->what, err);
					goto out;
				}
			}
			n_pools++;
		} else if (!strcmp(o->kind, CFG_KIND_PEER)) {
			struct cfg_peer p;

			if (cfg_peer_from_json(o->val, &p, err, sizeof(err)) < 0) {
				snprintf(msg, len, "%s: %s", o->what, err);
				goto out;
			}
		}
	}
	for (int i = 0; i < m->n; i++) {
		struct manifest_obj *o = &m->v[i];
		struct cfg_service s;
		bool pool_ok;

		if (strcmp(o->kind, CFG_KIND_SERVICE) != 0)
			continue;
		if (cfg_service_from_json(o->val, &s, err, sizeof(err)) < 0) {
			snprintf(msg, len, "%s: %s", o->what, err);
			goto out;
		}
		pool_ok =
		    !cfg_service_pool(&s)[0] || cfg_find_pool(m->a->cfg, cfg_service_pool(&s));
		for (int k = 0; k < n_pools; k++)
			pool_ok |= !strcmp(pools[k].name, cfg_service_pool(&s));
		if (!pool_ok) {
			snprintf(msg, len,
				 "%s: pool: \"%s\": no such pool (allowed: a pool defined "
				 "before or in this apply)",
				 o->what, cfg_service_pool(&s));
			cfg_service_clear(&s);
			goto out;
		}
		for (int r = 0; r < s.n_req_ips; r++) {
			bool in = alloc_pool_of(m->a->cfg, &s.req_ips[r]) != NULL;
			char a[IP_STRLEN];

			for (int k = 0; k < n_pools; k++)
				in |= alloc_pool_has(&pools[k], &s.req_ips[r]);
			if (!in) {
				snprintf(msg, len,
					 "%s: ips: \"%s\": not in any pool (allowed: an address "
					 "of a pool)",
					 o->what, ip_str(&s.req_ips[r], a));
				cfg_service_clear(&s);
				goto out;
			}
		}
		cfg_service_clear(&s);
	}
	rc = 0;
out:
	free(pools);
	return rc;
}

static const char *action_of(struct manifest *m, const struct manifest_obj *o)
{
	struct json_object *cur = store_read(m->a->store, o->kind, o->key);

	if (cur) {
		bool same = json_object_equal(cur, o->val);

		json_object_put(cur);
		return same ? "unchanged" : "configured";
	}
	if ((!strcmp(o->kind, CFG_KIND_POOL) && cfg_find_pool(m->a->cfg, o->key)) ||
	    (!strcmp(o->kind, CFG_KIND_SERVICE) && cfg_find_service(m->a->cfg, o->key)))
		return "configured (overrides the config file)";
	return "created";
}

static void manifest_free(struct manifest *m)
{
	for (int i = 0; i < m->n; i++) {
		json_object_put(m->v[i].val);
		free(m->v[i].key);
		free(m->v[i].what);
	}
	free(m->v);
	if (m->idx)
		hmap_free(m->idx);
	free(m->idx);
	json_object_put(m->warnings);
	json_object_put(m->later);
}

/* The stored form is the canonical one (to_json of the decoded object), so a re-apply of the
 * same file compares equal and reports "unchanged". */
static void canonical(struct manifest_obj *o)
{
	char err[512];
	struct json_object *c = NULL;

	if (!strcmp(o->kind, CFG_KIND_POOL)) {
		struct cfg_pool p;

		if (cfg_pool_from_json(o->val, &p, err, sizeof(err)) == 0)
			c = cfg_pool_to_json(&p);
	} else if (!strcmp(o->kind, CFG_KIND_SERVICE)) {
		struct cfg_service s;

		if (cfg_service_from_json(o->val, &s, err, sizeof(err)) == 0) {
			c = cfg_service_to_json(&s);
			cfg_service_clear(&s);
		}
	} else if (!strcmp(o->kind, CFG_KIND_PEER)) {
		struct cfg_peer p;

		if (cfg_peer_from_json(o->val, &p, err, sizeof(err)) == 0)
			c = cfg_peer_to_json(&p);
	}
	if (c) {
		json_object_put(o->val);
		o->val = c;
	}
}

/* The answer's changes: the manifest's objects (kind, key) and their actions. */
struct changes {
	struct manifest m;
	const char **acts;
};

static struct json_object *change_row(void *ctx, int i)
{
	const struct changes *ch = ctx;
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "kind", json_object_new_string(ch->m.v[i].kind));
	json_object_object_add(c, "name", json_object_new_string(ch->m.v[i].key));
	json_object_object_add(c, "action", json_object_new_string(ch->acts[i]));
	return c;
}

static void changes_free(void *ctx)
{
	struct changes *ch = ctx;

	free(ch->acts);
	manifest_free(&ch->m);
	free(ch);
}

static int apply(struct agent *a, const char *file, const char *yaml, bool dry,
		 struct json_object **res, char *msg, size_t len)
{
	struct manifest m = {.a = a, .file = file, .warnings = json_object_new_array()};
	struct agent_change *batch;
	struct changes *ch;
	const char **acts;
	int done = 0, rc;

	if (translate(&m, yaml, msg, len) < 0 || validate(&m, msg, len) < 0) {
		manifest_free(&m);
		return -1;
	}
	for (int i = 0; i < m.n; i++)
		canonical(&m.v[i]);
	if (m.n) /* a file of aliases or no-op kinds only has no objects (qsort(NULL) is UB) */
		qsort(m.v, (size_t)m.n, sizeof(m.v[0]), obj_order);
	batch = calloc((size_t)m.n + 1, sizeof(*batch));
	acts = calloc((size_t)m.n + 1, sizeof(*acts));
	if (!batch || !acts)
		log_fatal("alloc: out of memory");
	for (int i = 0; i < m.n; i++) {
		struct manifest_obj *o = &m.v[i];

		acts[i] = action_of(&m, o);
		if (!dry && strcmp(acts[i], "unchanged") != 0)
			batch[done++] = (struct agent_change){.kind = o->kind, .key = o->key, .val = o->val};
	}
	/* one validation and one durable batch: all of the file or nothing */
	rc = done ? agent_commit_many(a, batch, done, msg, len) : 0;
	free(batch);
	/* the objects live in the store now: their JSON is freed before the reconcile and the
	 * answer (with 100,000 objects, each of the three is tens of megabytes) */
	for (int i = 0; i < m.n; i++) {
		json_object_put(m.v[i].val);
		m.v[i].val = NULL;
	}
	if (rc < 0) {
		free(acts);
		manifest_free(&m);
		return -1;
	}
	if (!dry && done)
		alloc_reconcile(a->alloc, a->cfg);
	*res = json_object_new_object();
	json_object_object_add(*res, "dryRun", json_object_new_boolean(dry));
	json_object_object_add(*res, "warnings", json_object_get(m.warnings));
	/* one row per object, written as the answer is (the rows own m and acts) */
	ch = malloc(sizeof(*ch));
	if (!ch)
		log_fatal("alloc: out of memory");
	*ch = (struct changes){.m = m, .acts = acts};
	json_object_object_add(*res, "changes", ctl_rows(m.n, change_row, ch, changes_free));
	return 0;
}

int manifest_apply(struct agent *a, const char *file, const char *yaml, bool dry,
		   struct json_object **res, char *msg, size_t len)
{
	if (apply(a, file, yaml, dry, res, msg, len) < 0)
		return cfg_msg_oneline(msg);
	return 0;
}
