/* A small agent for the unit tests of control commands and apply -f: an event loop, the real
 * store in a fresh temp dir, a file config the test fills (fx_pool), then the effective config
 * and the allocator (fx_agent_ready); a fingerprint of the store (fx_store_dump). Header-only:
 * each unit test is one translation unit. */
#ifndef EDGELB_TEST_AGENT_FIXTURE_H
#define EDGELB_TEST_AGENT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "config/config.h"
#include "daemon/agent.h"
#include "lib/ev.h"
#include "store/store.h"

static char fx_dir[256];

/* The agent with an empty file config; the store in $TMPDIR/<tag>XXXXXX. Exits 2 on failure. */
static struct agent *fx_agent_new(const char *tag)
{
	struct agent *a = calloc(1, sizeof(*a));
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char err[256];

	snprintf(fx_dir, sizeof(fx_dir), "%s/%sXXXXXX", tmp, tag);
	if (!a || !mkdtemp(fx_dir))
		exit(2);
	a->loop = ev_loop_new();
	a->store = store_open(fx_dir, err, sizeof(err));
	if (!a->store) {
		printf("  setup: %s\n", err);
		exit(2);
	}
	a->file_cfg = cfg_new();
	a->config_path = "/etc/edgelb.yaml";
	a->node_name = "n1";
	return a;
}

/* A pool of the config file, from its JSON form. */
static void fx_pool(struct cfg *c, const char *json)
{
	struct cfg_pool *p = cfg_array_push((void **)&c->pools, &c->n_pools, sizeof(*p));
	struct json_object *j = json_tokener_parse(json);
	char err[256];

	if (cfg_pool_from_json(j, p, err, sizeof(err)) < 0) {
		printf("  setup: %s\n", err);
		exit(2);
	}
	json_object_put(j);
}

/* The effective config and the allocator, once the file config is filled. */
static void fx_agent_ready(struct agent *a)
{
	char err[256];

	if (agent_rebuild_cfg(a, err, sizeof(err)) < 0) {
		printf("  setup: %s\n", err);
		exit(2);
	}
	a->alloc = alloc_new(a->store, err, sizeof(err));
}

static int fx_dump_one(const char *key, struct json_object *val, void *arg)
{
	json_object_object_add(arg, key, json_object_get(val));
	return 0;
}

/* A fingerprint of every kind in the store (pools, peers, services, assignments), to prove
 * that a refused request wrote nothing or a re-apply changed nothing. Caller frees. */
static char *fx_store_dump(struct agent *a)
{
	static const char *const kinds[] = {CFG_KIND_POOL, CFG_KIND_PEER, CFG_KIND_SERVICE,
					    ALLOC_KIND};
	struct json_object *all = json_object_new_object();
	char *s;

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct json_object *o = json_object_new_object();

		store_foreach(a->store, kinds[k], fx_dump_one, o);
		json_object_object_add(all, kinds[k], o);
	}
	s = strdup(json_object_to_json_string(all));
	json_object_put(all);
	return s;
}

/* An answer as a client reads it: written as text (list results exist only as text, see
 * ctl_rows) and parsed again; r is released. */
static struct json_object *fx_wire(struct json_object *r)
{
	struct json_object *back = r ? json_tokener_parse(json_object_to_json_string(r)) : NULL;

	json_object_put(r);
	return back;
}

static void fx_agent_free(struct agent *a)
{
	char cmd[300];

	alloc_free(a->alloc);
	store_close(a->store);
	cfg_free(a->cfg);
	cfg_free(a->file_cfg);
	ev_timer_free(a->reconcile_timer);
	ev_loop_free(a->loop);
	free(a);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx_dir);
	if (system(cmd) != 0)
		printf("  could not remove %s\n", fx_dir);
}

#endif
