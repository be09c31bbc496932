/* The dataplane: loads xdp_ingress (and the return-path program) through the libbpf skeleton,
 * pins maps under --bpffs (mounting a bpf filesystem there if needed), adopts pins and
 * attachments left by a previous run, attaches to the compute-port interfaces, writes the
 * heartbeat, and offers typed writers for the maps. The only code that talks to libbpf. */
#ifndef EDGELB_DP_H
#define EDGELB_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent;
struct dp;

struct dp *dp_open(struct agent *a, char *err, size_t errlen);
/* cleanup: detach programs and unpin maps (--cleanup-on-exit); otherwise leave them running. */
void dp_close(struct dp *d, bool cleanup);
/* Attach to every interface of compute-enabled switches, detach from the rest; program the
 * services and backends maps from the desired state and the allocator. */
int dp_reconcile(struct dp *d, struct agent *a);


/* stats_v1 summed over CPUs: packets (and bytes, unless NULL) per reason, ELB_R_MAX of each
 * (include <edgelb/stats.h>). 0, or -1 when the dataplane is not loaded. */
int dp_reason_totals(struct dp *d, uint64_t *packets, uint64_t *bytes);
/* True when this run adopted the pins of a previous one: services kept being forwarded while
 * the agent was away (BGP graceful restart's Forwarding State, RFC 4724 3). */
bool dp_adopted(const struct dp *d);
/* For the other dataplane files and ctl: fds of the loaded maps/programs by name, or -1. */
int dp_map_fd(struct dp *d, const char *name);
/* The kernel id of the map behind fd (tells one map from its replacement); 0 if unknown. */
uint32_t dp_map_id(int fd);
int dp_prog_fd(struct dp *d, const char *name);
/* "native", "generic" or "none" for an interface (switch list). */
const char *dp_attach_mode(struct dp *d, const char *ifname);

/* An interface xdp_ingress is attached to, as the layer-2 announcer needs it. */
struct dp_iface_info {
	int ifindex;
	unsigned char mac[6];
};
/* 0 and *out when ifname carries xdp_ingress now, -1 otherwise. */
int dp_iface(struct dp *d, const char *ifname, struct dp_iface_info *out);
/* The directory holding the pins (<bpffs>), for loaders of other objects that share maps. */
const char *dp_pin_dir(struct dp *d);
/* dataplane/lb.c: program services, backends and Maglev tables from the desired state and the
 * allocator's assignments (called by dp_reconcile). */
int dp_lb_reconcile(struct dp *d, struct agent *a);
/* dataplane/lb.c: per-backend counters of a service as a JSON array (service show), or NULL. */
struct json_object;
struct json_object *dp_service_backends_json(struct dp *d, const char *service);

#endif
