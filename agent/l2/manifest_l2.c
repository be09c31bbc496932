/* apply -f row for MetalLB's L2Advertisement. edgelb has no per-pool layer-2 switch: a pool
 * is announced on its switch (layer 2 while the switch has no BGP peer, BGP otherwise). So
 * spec.interfaces maps only when it lists exactly the interfaces of one compute switch (the
 * pools move there); without interfaces nothing changes and a warning says so. Other fields
 * are warned about and ignored, as manifest.c does. Deferred state lives in m->later. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc/manifest.h"
#include "bgp/manifest_bgp.h"
#include "config/config.h"
#include "daemon/agent.h"
#include "l2/manifest_l2.h"

int l2_manifest_advertisement(struct manifest *m, struct json_object *doc, const char *what,
			      char *msg, size_t len)
{
	static const char *const spec_known[] = {"ipAddressPools", "interfaces", NULL};
	struct json_object *spec = manifest_get(doc, "spec"), *e, *list;

	if (spec && !json_object_is_type(spec, json_type_object)) {
		snprintf(msg, len, "%s: spec: not a mapping (allowed: a mapping)", what);
		return -1;
	}
	manifest_unsupported(m, what, "spec", spec, spec_known);
	list = manifest_later(m, "l2advertisements", true);
	e = json_object_new_object();
	json_object_object_add(e, "what", json_object_new_string(what));
	json_object_object_add(e, "spec", spec ? json_object_get(spec) : json_object_new_object());
	json_object_array_add(list, e);
	return 0;
}

/* The switch whose interfaces are exactly spec.interfaces. NULL with msg otherwise. */
static const struct cfg_switch *iface_switch(const struct cfg *c, struct json_object *ifs,
					     const char *what, char *msg, size_t len)
{
	const struct cfg_switch *sw = NULL;
	int n = 0;

	if (!json_object_is_type(ifs, json_type_array)) {
		snprintf(msg, len, "%s: spec.interfaces: not a list (allowed: interface names)",
			 what);
		return NULL;
	}
	for (size_t i = 0; i < json_object_array_length(ifs); i++) {
		struct json_object *e = json_object_array_get_idx(ifs, i);
		const char *ifn = json_object_get_string(e);
		const struct cfg_switch *of = NULL;
		bool dup = false;

		for (size_t k = 0; k < i; k++)
			dup |=
			    !strcmp(ifn, json_object_get_string(json_object_array_get_idx(ifs, k)));
		for (int s = 0; json_object_is_type(e, json_type_string) && s < c->n_switches; s++)
			for (int k = 0; k < c->switches[s].n_ifaces; k++)
				if (!strcmp(c->switches[s].ifaces[k], ifn))
					of = &c->switches[s];
		if (!of || (sw && of != sw) || !of->compute) {
			snprintf(msg, len,
				 "%s: spec.interfaces[%zu]: \"%s\": %s (allowed: all the "
				 "interfaces of one compute switch; a pool is announced on one "
				 "switch)",
				 what, i, ifn,
				 !of		  ? "on no switch"
				 : of != sw && sw ? "on another switch than the ones before"
						  : "on a switch not enabled for compute");
			return NULL;
		}
		sw = of;
		n += !dup;
	}
	if (sw && n != sw->n_ifaces) {
		snprintf(msg, len,
			 "%s: spec.interfaces: %d of the %d interfaces of switch \"%s\" (allowed: "
			 "all of them; edgelb announces a pool on every interface of its switch)",
			 what, n, sw->n_ifaces, sw->name);
		return NULL;
	}
	return sw;
}

/* The switch a pool is on now, in this apply or in the running state ("" = first compute). */
static const char *pool_switch(struct manifest *m, const char *name)
{
	const struct cfg_pool *p = cfg_find_pool(m->a->cfg, name);
	const struct cfg_switch *s;
	const char *sw = p ? p->sw : "";

	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].kind, CFG_KIND_POOL) && !strcmp(m->v[i].key, name))
			sw = manifest_str(m->v[i].val, "switch")
				 ? manifest_str(m->v[i].val, "switch")
				 : "";
	if (*sw)
		return sw;
	for (int i = 0; i < m->a->cfg->n_switches; i++) {
		s = &m->a->cfg->switches[i];
		if (s->compute)
			return s->name;
	}
	return "";
}

static int l2_advertisement(struct manifest *m, struct json_object *e, char *msg, size_t len)
{
	const char *what = manifest_str(e, "what");
	struct json_object *spec = manifest_get(e, "spec"), *ifs = manifest_get(spec, "interfaces");
	struct json_object *pools = json_object_new_array(), *owners, *x;
	const struct cfg_switch *sw = NULL;
	int rc = -1;

	if (bgp_manifest_pools(m, spec, what, pools, msg, len) < 0)
		goto out;
	if (!ifs ||
	    (json_object_is_type(ifs, json_type_array) && json_object_array_length(ifs) == 0)) {
		manifest_warn(m,
			      "%s: no change: edgelb announces each pool in layer 2 on its switch "
			      "while that switch has no BGP peer",
			      what);
		rc = 0;
		goto out;
	}
	sw = iface_switch(m->a->cfg, ifs, what, msg, len);
	if (!sw)
		goto out;
	owners = manifest_later(m, "l2switch", false);
	for (size_t i = 0; i < json_object_array_length(pools); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(pools, i));
		struct json_object *pool;

		if (json_object_object_get_ex(owners, name, &x) &&
		    strcmp(manifest_str(x, "switch"), sw->name) != 0) {
			snprintf(msg, len,
				 "%s: spec.interfaces: pool \"%s\" on switch \"%s\" but %s puts it "
				 "on \"%s\" (allowed: one switch per pool)",
				 what, name, sw->name, manifest_str(x, "what"),
				 manifest_str(x, "switch"));
			goto out;
		}
		x = json_object_new_object();
		json_object_object_add(x, "switch", json_object_new_string(sw->name));
		json_object_object_add(x, "what", json_object_new_string(what));
		json_object_object_add(owners, name, x);
		if (!strcmp(pool_switch(m, name), sw->name))
			continue; /* already there: nothing to change */
		pool = manifest_obj(m, CFG_KIND_POOL, name);
		if (pool)
			json_object_object_add(pool, "switch", json_object_new_string(sw->name));
	}
	rc = 0;
out:
	json_object_put(pools);
	return rc;
}

int l2_manifest_finish(struct manifest *m, char *msg, size_t len)
{
	struct json_object *advs;

	if (!m->later || !json_object_object_get_ex(m->later, "l2advertisements", &advs))
		return 0;
	for (size_t i = 0; i < json_object_array_length(advs); i++)
		if (l2_advertisement(m, json_object_array_get_idx(advs, i), msg, len) < 0)
			return -1;
	return 0;
}
