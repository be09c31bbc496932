/* The agent: one process, one event loop, the desired state and the modules that act on it.
 * Modules keep their own state behind opaque pointers; they reach each other only through
 * the functions in their headers. agent_changed() schedules one reconcile pass (coalesced). */
#ifndef EDGELB_AGENT_H
#define EDGELB_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/etcd.h"

struct ev_loop;
struct ev_timer;
struct cfg;
struct store;
struct alloc;
struct dp;
struct l2;
struct bgp;
struct metrics;
struct ctl_server;
struct nl;
struct cluster;

struct agent {
	struct ev_loop *loop;
	struct cfg *cfg;	  /* effective desired state: file objects + runtime objects */
	struct cfg *file_cfg; /* what the config file alone says (reloaded on SIGHUP) */
	const char *config_path;
	const char *state_dir;
	const char *run_dir;
	const char *bpffs;
	const char *node_name;
	const char *metrics_addr; /* "ADDR:PORT" or "none" */
	uint16_t bgp_port;	  /* listen port; 179 by default */
	const char *etcd_endpoints; /* NULL: no cluster */
	unsigned etcd_lease_ttl;    /* seconds */
	struct etcd_tls etcd_tls;   /* files for https:// endpoints; NULLs: none */
	bool cleanup_on_exit;
	uint64_t started_ms;
	uint64_t reloads;

	struct store *store;
	struct alloc *alloc;
	struct dp *dp;
	struct l2 *l2;
	struct bgp *bgp;
	struct nl *nl;
	struct cluster *cluster; /* NULL: this node alone */
	struct metrics *metrics;
	struct ctl_server *ctl;
	struct ev_timer *reconcile_timer;
};

/* Schedule a reconcile pass on the next loop turn. */
void agent_changed(struct agent *a);
/* Run the reconcile pass now: allocation, then dataplane, layer 2 and BGP. */
void agent_reconcile(struct agent *a);
/* Rebuild a->cfg from a->file_cfg plus the runtime objects in the store. 0 ok, -1 (logged).
 * The file's services move into a->cfg (not copied): call it once per loaded file config
 * (startup, each reload); a failed build gives them back. */
int agent_rebuild_cfg(struct agent *a, char *err, size_t errlen);

/* The one way to change a runtime object (pool, peer, service) from the control socket:
 * builds the new desired state with (kind, key) set to val (NULL = deleted), validates the
 * whole of it, persists the change, swaps it in and schedules a reconcile. On any failure
 * returns -1 with a one-line message in err and nothing has changed. val is not consumed. */
struct json_object;
int agent_commit(struct agent *a, const char *kind, const char *key, struct json_object *val,
		 char *err, size_t errlen);
/* The same for several changes at once: one validation, one durable store batch (all or
 * nothing), one reconcile. `apply -f` uses it. */
struct agent_change {
	const char *kind, *key;
	struct json_object *val; /* NULL: delete */
};
int agent_commit_many(struct agent *a, const struct agent_change *ch, int n, char *err,
		      size_t errlen);

#endif
