/* Control commands of the allocator: pool.set/list/remove, service.set/list/show/remove,
 * apply. Each validates fully (decoder, overlap, requested IPs, references), then commits
 * through agent_commit (store + rebuilt desired state) and runs the allocator at once so the
 * answer carries the assignment. A runtime object with the name of one in the config file
 * overrides it; removing the runtime object brings the file's one back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "alloc/manifest.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "daemon/agent.h"
#include "dataplane/dp.h"
#include "store/store.h"

static const char *src_str(enum cfg_src s)
{
	return s == CFG_SRC_FILE ? "file" : "runtime";
}

/* --- pools -------------------------------------------------------------------------- */

static struct json_object *pool_row(struct agent *a, const struct cfg_pool *p,
				    const struct alloc_usage *u)
{
	struct json_object *o = cfg_pool_to_json(p);
	double t4 = alloc_pool_size(p, AF_INET), t6 = alloc_pool_size(p, AF_INET6);
	char buf[64];

	json_object_object_add(o, "source", json_object_new_string(src_str(p->src)));
	json_object_object_add(o, "services", json_object_new_int(u ? u->services : 0));
	json_object_object_add(o, "inUseV4", json_object_new_int64(u ? (int64_t)u->in_use[0] : 0));
	json_object_object_add(o, "inUseV6", json_object_new_int64(u ? (int64_t)u->in_use[1] : 0));
	json_object_object_add(o, "totalV4", json_object_new_double(t4));
	json_object_object_add(o, "totalV6", json_object_new_double(t6));
	/* a human summary for the table: "3/254" or "1/254 v4, 0/2^64 v6" */
	if (t6 == 0 || t4 == 0)
		snprintf(buf, sizeof(buf), "%llu/%.15g",
			 (unsigned long long)(u ? u->in_use[t4 ? 0 : 1] : 0), t4 ? t4 : t6);
	else
		snprintf(buf, sizeof(buf), "%llu/%.15g+%llu/%.6g",
			 (unsigned long long)(u ? u->in_use[0] : 0), t4,
			 (unsigned long long)(u ? u->in_use[1] : 0), t6);
	json_object_object_add(o, "usage", json_object_new_string(buf));
	return o;
}

static int cmd_pool_list(struct agent *a, struct json_object *args, struct json_object **res,
			 struct ctl_err *e)
{
	struct alloc_usage *u = calloc((size_t)a->cfg->n_pools + 1, sizeof(*u));
	struct json_object *rows = json_object_new_array();

	if (!u)
		abort();
	alloc_usage(a->alloc, a->cfg, u);
	for (int i = 0; i < a->cfg->n_pools; i++)
		json_object_array_add(rows, pool_row(a, &a->cfg->pools[i], &u[i]));
	free(u);
	*res = rows;
	return 0;
}

static int cmd_pool_set(struct agent *a, struct json_object *args, struct json_object **res,
			struct ctl_err *e)
{
	struct cfg_pool p;
	struct json_object *val;
	char msg[512];
	bool existed;

	if (cfg_pool_from_json(args, &p, msg, sizeof(msg)) < 0)
		return ctl_fail(e, "%s", msg);
	p.src = CFG_SRC_RUNTIME;
	for (int i = 0; i < a->cfg->n_pools; i++) {
		if (strcmp(a->cfg->pools[i].name, p.name) == 0)
			continue;
		if (alloc_pools_overlap(&p, &a->cfg->pools[i], msg, sizeof(msg)) < 0)
			return ctl_fail(e, "%s", msg);
	}
	existed = cfg_find_pool(a->cfg, p.name) != NULL;
	val = cfg_pool_to_json(&p);
	if (agent_commit(a, CFG_KIND_POOL, p.name, val, msg, sizeof(msg)) < 0) {
		json_object_put(val);
		return ctl_fail(e, "%s", msg);
	}
	json_object_put(val);
	alloc_reconcile(a->alloc, a->cfg);
	*res = json_object_new_object();
	json_object_object_add(*res, "name", json_object_new_string(p.name));
	json_object_object_add(*res, "action",
			       json_object_new_string(existed ? "updated" : "created"));
	return 0;
}

struct holders_ctx {
	const char *pool;
	int n;
	char names[160];
};

static void count_in_pool(const struct alloc_assignment *as, void *arg)
{
	struct holders_ctx *c = arg;
	size_t l = strlen(c->names);

	if (as->status != ALLOC_ASSIGNED || strcmp(as->pool, c->pool) != 0)
		return;
	if (c->n < 3)
		snprintf(c->names + l, sizeof(c->names) - l, "%s%s", c->n ? ", " : "", as->service);
	else if (c->n == 3)
		snprintf(c->names + l, sizeof(c->names) - l, ", ...");
	c->n++;
}

static int cmd_pool_remove(struct agent *a, struct json_object *args, struct json_object **res,
			   struct ctl_err *e)
{
	const char *name = NULL;
	bool force = false;
	struct holders_ctx hc = {0};
	const struct cfg_pool *p;
	char msg[512];

	if (ctl_arg_str(args, "name", true, &name, e) < 0 ||
	    ctl_arg_bool(args, "force", &force, e) < 0)
		return -1;
	p = cfg_find_pool(a->cfg, name);
	if (!p)
		return ctl_fail(e, "name: \"%s\": no such pool (allowed: a pool from pool list)",
				name);
	if (!store_has(a->store, CFG_KIND_POOL, name))
		return ctl_fail(e,
				"name: \"%s\": defined in the config file %s (allowed: pools "
				"created at run time; edit the file and reload to remove it)",
				name, a->config_path ? a->config_path : "");
	hc.pool = name;
	alloc_foreach(a->alloc, count_in_pool, &hc);
	if (hc.n && !force)
		return ctl_fail(e,
				"name: \"%s\": %d service%s still assigned from it (%s) (allowed: "
				"--force, which keeps their addresses and flags them out of pool)",
				name, hc.n, hc.n == 1 ? "" : "s", hc.names);
	if (agent_commit(a, CFG_KIND_POOL, name, NULL, msg, sizeof(msg)) < 0)
		return ctl_fail(e, "%s", msg);
	alloc_reconcile(a->alloc, a->cfg);
	*res = json_object_new_object();
	json_object_object_add(*res, "name", json_object_new_string(name));
	json_object_object_add(*res, "action", json_object_new_string("removed"));
	json_object_object_add(*res, "flaggedServices", json_object_new_int(hc.n));
	if (cfg_find_pool(a->cfg, name))
		json_object_object_add(*res, "note",
				       json_object_new_string("the config file's pool of that name "
							      "applies again"));
	return 0;
}

/* --- services ----------------------------------------------------------------------- */

static struct json_object *ips_json(const struct alloc_assignment *as)
{
	struct json_object *arr = json_object_new_array();
	char buf[IP_STRLEN];

	for (int i = 0; as && i < as->n_ips; i++)
		json_object_array_add(arr, json_object_new_string(ip_str(&as->ips[i], buf)));
	return arr;
}

static struct json_object *service_row(struct agent *a, const struct cfg_service *s)
{
	const struct alloc_assignment *as = alloc_get(a->alloc, s->name);
	struct json_object *o = json_object_new_object(), *spec = cfg_service_to_json(s), *v;
	bool assigned = as && as->status == ALLOC_ASSIGNED;

	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "ips", ips_json(as));
	json_object_object_get_ex(spec, "ports", &v);
	json_object_object_add(o, "ports", json_object_get(v));
	json_object_object_add(o, "pool",
			       json_object_new_string(assigned ? as->pool : cfg_service_pool(s)));
	json_object_object_add(o, "status",
			       json_object_new_string(assigned ? "assigned" : "pending"));
	json_object_object_add(o, "reason",
			       json_object_new_string(as ? as->reason : "not reconciled yet"));
	json_object_object_add(o, "outOfPool", json_object_new_boolean(as && as->out_of_pool));
	json_object_object_add(o, "ipFamily", json_object_new_string(cfg_family_str(s->family)));
	json_object_object_add(o, "sharedKey", json_object_new_string(cfg_service_key(s)));
	json_object_object_get_ex(spec, "ips", &v);
	json_object_object_add(o, "requestedIps", json_object_get(v));
	json_object_object_add(o, "requestedPool", json_object_new_string(cfg_service_pool(s)));
	json_object_object_add(o, "source", json_object_new_string(src_str(s->src)));
	json_object_put(spec);
	return o;
}

static struct json_object *service_row_at(void *ctx, int i)
{
	struct agent *a = ctx;

	return service_row(a, &a->cfg->services[i]);
}

static int cmd_service_list(struct agent *a, struct json_object *args, struct json_object **res,
			    struct ctl_err *e)
{
	*res = ctl_rows(a->cfg->n_services, service_row_at, a, NULL);
	return 0;
}

static int find_service(struct agent *a, struct json_object *args, const struct cfg_service **s,
			struct ctl_err *e)
{
	const char *name = NULL;

	if (ctl_arg_str(args, "name", true, &name, e) < 0)
		return -1;
	*s = cfg_find_service(a->cfg, name);
	if (!*s)
		return ctl_fail(e,
				"name: \"%s\": no such service (allowed: NAMESPACE/NAME from "
				"service list)",
				name);
	return 0;
}

static int cmd_service_show(struct agent *a, struct json_object *args, struct json_object **res,
			    struct ctl_err *e)
{
	const struct cfg_service *s;
	struct json_object *o, *spec, *v, *be;

	if (find_service(a, args, &s, e) < 0)
		return -1;
	o = service_row(a, s);
	spec = cfg_service_to_json(s);
	json_object_object_get_ex(spec, "allowIcmpEcho", &v);
	json_object_object_add(o, "allowIcmpEcho", json_object_get(v));
	be = a->dp ? dp_service_backends_json(a->dp, s->name) : NULL;
	if (!be && json_object_object_get_ex(spec, "backends", &v))
		be = json_object_get(v);
	json_object_object_add(o, "backends", be);
	json_object_put(spec);
	*res = o;
	return 0;
}

/* Checks a service against the running state: what the decoder cannot know. */
int alloc_check_service(struct agent *a, const struct cfg_service *s, char *msg, size_t len)
{
	const struct cfg_pool *named = NULL;
	char buf[IP_STRLEN];

	if (cfg_service_pool(s)[0]) {
		named = cfg_find_pool(a->cfg, cfg_service_pool(s));
		if (!named) {
			char list[256] = "";

			for (int i = 0; i < a->cfg->n_pools && strlen(list) < 200; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 i ? ", " : "", a->cfg->pools[i].name);
			snprintf(msg, len, "pool: \"%s\": no such pool (allowed: %s)",
				 cfg_service_pool(s),
				 list[0] ? list : "none defined yet; pool set first");
			return -1;
		}
	}
	for (int i = 0; i < s->n_req_ips; i++) {
		const struct ip *ip = &s->req_ips[i];
		const struct cfg_pool *p = named ? named : alloc_pool_of(a->cfg, ip);
		char why[200];

		ip_str(ip, buf);
		if (!p || !alloc_pool_has(p, ip)) {
			snprintf(msg, len, "ips: \"%s\": not in %s%s (allowed: an address of %s)",
				 buf, named ? "pool " : "any pool", named ? named->name : "",
				 named ? "that pool" : "a pool");
			return -1;
		}
		if (p->avoid_buggy_ips && alloc_ip_buggy(ip)) {
			snprintf(msg, len,
				 "ips: \"%s\": ends in .0 or .255, which pool %s avoids "
				 "(allowed: another address, or a pool without avoidBuggyIPs)",
				 buf, p->name);
			return -1;
		}
		if (alloc_ip_check(a->alloc, s, ip, why, sizeof(why)) < 0) {
			snprintf(
			    msg, len,
			    "ips: \"%s\": %s (allowed: a free address, or one shared "
			    "with the same sharedKey in the same namespace and no common port)",
			    buf, why);
			return -1;
		}
	}
	return 0;
}

static int cmd_service_set(struct agent *a, struct json_object *args, struct json_object **res,
			   struct ctl_err *e)
{
	struct cfg_service s;
	struct json_object *val;
	char msg[512];
	const struct cfg_service *now;

	if (cfg_service_from_json(args, &s, msg, sizeof(msg)) < 0)
		return ctl_fail(e, "%s", msg);
	s.src = CFG_SRC_RUNTIME;
	if (alloc_check_service(a, &s, msg, sizeof(msg)) < 0) {
		cfg_service_clear(&s);
		return ctl_fail(e, "%s", msg);
	}
	val = cfg_service_to_json(&s);
	if (agent_commit(a, CFG_KIND_SERVICE, s.name, val, msg, sizeof(msg)) < 0) {
		json_object_put(val);
		cfg_service_clear(&s);
		return ctl_fail(e, "%s", msg);
	}
	json_object_put(val);
	alloc_reconcile(a->alloc, a->cfg);
	now = cfg_find_service(a->cfg, s.name);
	*res = now ? service_row(a, now) : json_object_new_object();
	cfg_service_clear(&s);
	return 0;
}

static int cmd_service_remove(struct agent *a, struct json_object *args, struct json_object **res,
			      struct ctl_err *e)
{
	const struct cfg_service *s;
	char msg[512], name[2 * CFG_NAME_MAX + 1];

	if (find_service(a, args, &s, e) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s", s->name);
	if (!store_has(a->store, CFG_KIND_SERVICE, name))
		return ctl_fail(e,
				"name: \"%s\": defined in the config file %s (allowed: services "
				"created at run time; edit the file and reload to remove it)",
				name, a->config_path ? a->config_path : "");
	if (agent_commit(a, CFG_KIND_SERVICE, name, NULL, msg, sizeof(msg)) < 0)
		return ctl_fail(e, "%s", msg);
	alloc_reconcile(a->alloc, a->cfg);
	*res = json_object_new_object();
	json_object_object_add(*res, "name", json_object_new_string(name));
	json_object_object_add(*res, "action", json_object_new_string("removed"));
	return 0;
}

/* --- apply ---------------------------------------------------------------------------- */

static int cmd_apply(struct agent *a, struct json_object *args, struct json_object **res,
		     struct ctl_err *e)
{
	const char *yaml = NULL, *name = "apply";
	bool dry = false;

	if (ctl_arg_str(args, "yaml", true, &yaml, e) < 0 ||
	    ctl_arg_str(args, "file", false, &name, e) < 0 ||
	    ctl_arg_bool(args, "dryRun", &dry, e) < 0)
		return -1;
	return manifest_apply(a, name, yaml, dry, res, e->msg, sizeof(e->msg));
}

static const char *const name_fields[] = {"name", NULL};
static const char *const remove_fields[] = {"name", "force", NULL};
static const char *const apply_fields[] = {"yaml", "file", "dryRun", NULL};
static const char *const no_fields[] = {NULL};

const struct ctl_cmd alloc_ctl_cmds[] = {
    {"pool.set", cmd_pool_set, cfg_pool_json_keys},
    {"pool.list", cmd_pool_list, no_fields},
    {"pool.remove", cmd_pool_remove, remove_fields},
    {"service.set", cmd_service_set, cfg_service_json_keys},
    {"service.list", cmd_service_list, no_fields},
    {"service.show", cmd_service_show, name_fields},
    {"service.remove", cmd_service_remove, name_fields},
    {"apply", cmd_apply, apply_fields},
    {NULL},
};
