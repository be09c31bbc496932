/* The agent's desired state and reconcile pass. a->cfg is always file config + runtime objects
 * from the store, validated as a whole; a change is built on a copy, validated, persisted, and
 * only then swapped in. Reconcile runs the modules in a fixed order (allocation first, BGP last)
 * so that layer-2 answers resume before BGP withdraws. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "bgp/bgp.h"
#include "config/config.h"
#include "daemon/agent.h"
#include "dataplane/dp.h"
#include "l2/l2.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "store/store.h"

struct merge {
	struct cfg *cfg;
	struct cfg_errs *errs;
	const char *kind;
	enum cfg_src src; /* what merged objects are marked as */
	struct cfg *file; /* the file config, which keeps file services a runtime one replaces */
};

static void peer_key(const struct cfg_peer *p, char *buf, size_t len)
{
	char a[IP_STRLEN];

	snprintf(buf, len, "%s/%s", p->sw, ip_str(&p->addr, a));
}

/* A file service that a runtime object replaces in the effective config moves to the file
 * config (whose services otherwise live in a->cfg, see build): file_version finds it there. */
static void keep_file_service(struct cfg *f, struct cfg_service *s)
{
	if (cfg_find_service(f, s->name)) {
		cfg_service_clear(s); /* kept already */
		return;
	}
	*(struct cfg_service *)cfg_array_push((void **)&f->services, &f->n_services, sizeof(*s)) =
	    *s;
}

/* Adds or replaces one runtime object in m->cfg (a runtime object overrides a file one). */
static int merge_one(const char *key, struct json_object *val, void *arg)
{
	struct merge *m = arg;
	struct cfg *c = m->cfg;
	char msg[512] = "";

	if (!strcmp(m->kind, CFG_KIND_POOL)) {
		struct cfg_pool p = {0}, *old;
		if (cfg_pool_from_json(val, &p, msg, sizeof(msg)) < 0)
			goto bad;
		p.src = m->src;
		old = cfg_find_pool(c, p.name);
		if (!old)
			old = cfg_array_push((void **)&c->pools, &c->n_pools, sizeof(p));
		*old = p;
	} else if (!strcmp(m->kind, CFG_KIND_PEER)) {
		struct cfg_peer p = {0}, *old;
		if (cfg_peer_from_json(val, &p, msg, sizeof(msg)) < 0)
			goto bad;
		p.src = m->src;
		old = cfg_find_peer(c, &p.addr, p.sw);
		if (!old)
			old = cfg_array_push((void **)&c->peers, &c->n_peers, sizeof(p));
		*old = p;
	} else {
		struct cfg_service s = {0}, *old;
		if (cfg_service_from_json(val, &s, msg, sizeof(msg)) < 0) {
			cfg_service_clear(&s);
			goto bad;
		}
		s.src = m->src;
		old = cfg_find_service(c, s.name);
		if (old && old->src == CFG_SRC_FILE)
			keep_file_service(m->file, old);
		else if (old)
			cfg_service_clear(old);
		else
			old = cfg_array_push((void **)&c->services, &c->n_services, sizeof(s));
		*old = s;
	}
	return 0;
bad:
	cfg_errs_add(m->errs, "%s \"%s\": %s", m->kind, key, msg);
	return 0;
}

static void remove_one(struct cfg *c, const char *kind, const char *key)
{
	char k[CFG_NAME_MAX + IP_STRLEN + 2];

	if (!strcmp(kind, CFG_KIND_POOL)) {
		for (int i = 0; i < c->n_pools; i++)
			if (!strcmp(c->pools[i].name, key))
				cfg_array_remove(c->pools, &c->n_pools, sizeof(*c->pools), i--);
	} else if (!strcmp(kind, CFG_KIND_PEER)) {
		for (int i = 0; i < c->n_peers; i++) {
			peer_key(&c->peers[i], k, sizeof(k));
			if (!strcmp(k, key))
				cfg_array_remove(c->peers, &c->n_peers, sizeof(*c->peers), i--);
		}
	} else {
		for (int i = 0; i < c->n_services; i++)
			if (!strcmp(c->services[i].name, key)) {
				cfg_service_clear(&c->services[i]);
				cfg_array_remove(c->services, &c->n_services, sizeof(*c->services), i--);
				cfg_index_reset(c);
			}
	}
}

/* Gives the file config its services back after a failed build: the replaced file services
 * return to their places, runtime services go. */
static void unlend(struct cfg *f, struct cfg *c, int n_file)
{
	for (int i = 0; i < f->n_services; i++) {
		struct cfg_service *s = cfg_find_service(c, f->services[i].name);

		cfg_service_clear(s);
		*s = f->services[i];
	}
	for (int i = n_file; i < c->n_services; i++)
		cfg_service_clear(&c->services[i]);
	free(f->services);
	cfg_index_reset(f);
	cfg_index_reset(c);
	f->services = c->services;
	f->n_services = n_file;
	f->services_lent = false;
	c->services = NULL;
	c->n_services = 0;
}

/* The effective config: the file config plus the store's runtime objects. The file's services
 * move into it instead of being copied (100,000 services once, not twice); the file config
 * keeps only those a runtime object replaces (keep_file_service). So a file config is built
 * from once: a reload loads the file again. */
static struct cfg *build(struct agent *a, struct cfg_errs *errs)
{
	static const char *const kinds[] = {CFG_KIND_POOL, CFG_KIND_PEER, CFG_KIND_SERVICE};
	struct cfg *f = a->file_cfg, *c;
	struct cfg_service *svcs = f->services;
	int n_file = f->n_services;
	struct merge m = {.errs = errs, .src = CFG_SRC_RUNTIME, .file = f};

	if (f->services_lent)
		log_fatal("agent: the file config was built from already (load the file again)");
	f->services = NULL;
	f->n_services = 0;
	cfg_index_reset(f);
	c = m.cfg = cfg_dup(f);
	free(c->services);
	c->services = svcs;
	c->n_services = n_file;
	f->services_lent = true;
	if (a->node_name)
		snprintf(c->node.name, sizeof(c->node.name), "%s", a->node_name);
	for (size_t i = 0; i < 3; i++) {
		m.kind = kinds[i];
		store_foreach(a->store, kinds[i], merge_one, &m);
	}
	if (errs->n == 0)
		cfg_validate(c, errs);
	if (errs->n) {
		unlend(f, c, n_file);
		cfg_free(c);
		return NULL;
	}
	return c;
}

static void first_err(struct cfg_errs *errs, char *err, size_t len)
{
	snprintf(err, len, "%s", errs->n ? errs->msgs[0] : "invalid");
	for (int i = 1; i < errs->n; i++)
		log_err("config: %s", errs->msgs[i]);
}

int agent_rebuild_cfg(struct agent *a, char *err, size_t errlen)
{
	struct cfg_errs errs = {0};
	struct cfg *c = build(a, &errs);

	if (!c) {
		first_err(&errs, err, errlen);
		cfg_errs_free(&errs);
		return -1;
	}
	cfg_free(a->cfg);
	a->cfg = c;
	return 0;
}

/* The file's own version of a service: kept in the file config when a runtime service
 * replaced it, else the effective config's when it came from the file (see build). */
static const struct cfg_service *file_service(const struct agent *a, const char *key)
{
	const struct cfg_service *s = cfg_find_service(a->file_cfg, key);

	if (s || !a->file_cfg->services_lent || !a->cfg)
		return s;
	s = cfg_find_service(a->cfg, key);
	return s && s->src == CFG_SRC_FILE ? s : NULL;
}

/* The file's own version of an object, as JSON, or NULL when the file does not define it. */
static struct json_object *file_version(const struct agent *a, const char *kind, const char *key)
{
	const struct cfg *f = a->file_cfg;
	char k[CFG_NAME_MAX + IP_STRLEN + 2];

	if (!strcmp(kind, CFG_KIND_POOL)) {
		const struct cfg_pool *p = cfg_find_pool(f, key);
		return p ? cfg_pool_to_json(p) : NULL;
	}
	if (!strcmp(kind, CFG_KIND_PEER)) {
		for (int i = 0; i < f->n_peers; i++) {
			peer_key(&f->peers[i], k, sizeof(k));
			if (!strcmp(k, key))
				return cfg_peer_to_json(&f->peers[i]);
		}
		return NULL;
	}
	const struct cfg_service *s = file_service(a, key);
	return s ? cfg_service_to_json(s) : NULL;
}

/* A copy of the running config for a change; one that changes no service shares the services
 * (100,000 of them are not copied to add a BGP peer): *shared is set, and the array passes to
 * the copy only when it is swapped in (unshare). */
static struct cfg *copy_for(const struct agent *a, const struct agent_change *ch, int n,
			    bool *shared)
{
	struct cfg *o = a->cfg, *c;
	struct cfg_service *svcs = o->services;
	int n_svcs = o->n_services;

	*shared = true;
	for (int i = 0; i < n; i++)
		if (strcmp(ch[i].kind, CFG_KIND_POOL) && strcmp(ch[i].kind, CFG_KIND_PEER))
			*shared = false; /* merge_one and remove_one take it as a service */
	if (!*shared)
		return cfg_dup(o);
	o->services = NULL;
	o->n_services = 0;
	c = cfg_dup(o);
	o->services = svcs;
	o->n_services = n_svcs;
	free(c->services);
	c->services = svcs;
	c->n_services = n_svcs;
	return c;
}

/* Frees c, or (unshare) the old config a copy with shared services replaces. */
static void free_shared(struct cfg *c)
{
	cfg_index_reset(c);
	c->services = NULL;
	c->n_services = 0;
	cfg_free(c);
}

int agent_commit_many(struct agent *a, const struct agent_change *ch, int n, char *err,
		      size_t errlen)
{
	struct cfg_errs errs = {0};
	bool shared;
	struct cfg *c = copy_for(a, ch, n, &shared);
	struct merge m = {.cfg = c, .errs = &errs, .src = CFG_SRC_RUNTIME, .file = a->file_cfg};
	int rc = 0;

	/* the change applied to a copy of the running state: O(changes), not O(objects) */
	for (int i = 0; i < n && errs.n == 0; i++) {
		struct json_object *fv;

		m.kind = ch[i].kind;
		if (ch[i].val) {
			merge_one(ch[i].key, ch[i].val, &m);
			continue;
		}
		remove_one(c, ch[i].kind, ch[i].key);
		fv = file_version(a, ch[i].kind, ch[i].key);
		if (fv) { /* removing a runtime override brings the file's object back */
			m.src = CFG_SRC_FILE;
			merge_one(ch[i].key, fv, &m);
			m.src = CFG_SRC_RUNTIME;
			json_object_put(fv);
		}
	}
	if (errs.n == 0)
		cfg_validate(c, &errs);
	if (errs.n) {
		first_err(&errs, err, errlen);
		cfg_errs_free(&errs);
		shared ? free_shared(c) : cfg_free(c);
		return -1;
	}
	store_batch_begin(a->store);
	for (int i = 0; i < n && rc == 0; i++)
		rc = ch[i].val ? store_put(a->store, ch[i].kind, ch[i].key, ch[i].val)
			       : store_del(a->store, ch[i].kind, ch[i].key);
	if (store_batch_end(a->store) < 0 || rc < 0) {
		snprintf(err, errlen, "state store: cannot persist the change (see the agent log); nothing changed");
		shared ? free_shared(c) : cfg_free(c);
		return -1;
	}
	shared ? free_shared(a->cfg) : cfg_free(a->cfg);
	a->cfg = c;
	agent_changed(a);
	return 0;
}

int agent_commit(struct agent *a, const char *kind, const char *key, struct json_object *val,
		 char *err, size_t errlen)
{
	struct agent_change ch = {.kind = kind, .key = key, .val = val};

	return agent_commit_many(a, &ch, 1, err, errlen);
}

static void on_reconcile(struct ev_timer *t, void *arg)
{
	agent_reconcile(arg);
}

void agent_changed(struct agent *a)
{
	if (!a->reconcile_timer)
		a->reconcile_timer = ev_timer_new(a->loop, on_reconcile, a);
	if (!ev_timer_armed(a->reconcile_timer))
		ev_timer_arm(a->reconcile_timer, 0);
}

void agent_reconcile(struct agent *a)
{
	if (a->alloc && alloc_reconcile(a->alloc, a->cfg) < 0)
		log_err("reconcile: allocation could not be persisted; will retry");
	if (a->dp && dp_reconcile(a->dp, a) < 0)
		log_warn("reconcile: dataplane incomplete; will retry on the next change");
	if (a->l2)
		l2_reconcile(a->l2, a);
	if (a->bgp)
		bgp_reconcile(a->bgp, a);
}
