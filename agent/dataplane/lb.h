/* Load-balancer map programming, below dp_lb_reconcile(): takes map fds and the services with
 * their assigned IPs, so the bpf tier can drive it against a test-loaded object. */
#ifndef EDGELB_DP_LB_H
#define EDGELB_DP_LB_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

struct json_object;

struct lb_fds {
	int services, backends, maglev, svc_stats, be_stats;
	/* conntrack per direction: removed backends linger while live forward entries use them,
	 * a removed service's entries are deleted; -1 = neither */
	int ct_fwd, ct_reply;
	int vip_filter;
	/* config_v1: its ct_gen is bumped after conntrack entries are deleted, so the flow caches
	 * forget them (dataplane/ct_cache.h); -1 = none */
	int config;
};

struct lb_vip {
	const struct cfg_service *svc;
	struct ip ips[2];
	int n_ips;
};

/* Brings services_v1, backends_v1 and maglev_v1 in line with vips (validated first: nothing
 * is written when a limit is exceeded). Ids already in the maps are kept for the same
 * (VIP, port, proto) and (service, backend address, port); new ids take the lowest free
 * number and their counters are zeroed. A backend that left the config while live conntrack
 * entries still use it stays as terminating (no new flows, its flows keep going) and is
 * deleted by the first sync that finds it unused; *lingering (may be NULL) gets how many
 * stayed. 0, or -1 with err filled. */
int lb_sync(const struct lb_fds *f, const struct lb_vip *vips, int n, int *lingering, char *err,
	    size_t errlen);
/* Per-backend counters of a service (as last synced) as a JSON array, or NULL if unknown. */
struct json_object *lb_backends_json(const struct lb_fds *f, const char *service);
/* Sum of a per-CPU elb_lb_counter map entry. 0 ok. */
struct elb_lb_counter;
int lb_counter_sum(int fd, __u32 id, struct elb_lb_counter *out);

/* dataplane/revnat.c: load tc_revnat (maps shared with xdp_ingress) and keep it on tc egress of
 * every interface xdp_ingress is attached to. close: detach when cleanup, then unload. */
struct dp;
struct agent;
struct ctl_err;
int dp_revnat_reconcile(struct dp *d);
void dp_revnat_close(struct dp *d, bool cleanup);
/* dataplane/socklb.c: hairpin, sock_lb's links on the cgroup ("" = none); close keeps them
 * pinned unless cleanup. */
int dp_socklb_reconcile(struct dp *d, const char *cgroup);
void dp_socklb_close(struct dp *d, bool cleanup);

/* The service name of a service id as of the last sync, or NULL. */
const char *lb_service_name(uint32_t id);
/* dataplane/explain.c: the "explain" control command and its argument names. */
extern const char *const dp_explain_fields[];
int dp_ctl_explain(struct agent *a, struct json_object *args, struct json_object **res,
		   struct ctl_err *e);

#endif
