/* Private state of the dataplane loader, shared by dp.c (lifecycle, pins, heartbeat) and
 * attach.c (XDP attachment per interface). Nothing outside agent/dataplane/ includes it. */
#ifndef EDGELB_DP_PRIV_H
#define EDGELB_DP_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/limits.h>

#include <edgelb/abi.h>

#include "config/config.h"
#include "dataplane/dp.h"

struct xdp_ingress;

/* One compute-port interface we manage. mode: 0 (not attached), XDP_FLAGS_DRV_MODE or
 * XDP_FLAGS_SKB_MODE. */
struct dp_if {
	char name[CFG_IFNAME_MAX];
	int ifindex;
	uint32_t mode;
	uint8_t mac[6];
	bool seen;   /* still wanted in this reconcile pass */
	bool warned; /* a foreign program was reported once */
};

struct dp {
	struct agent *a;
	struct xdp_ingress *skel;
	char pin_dir[PATH_MAX];
	struct ev_timer *beat;
	uint64_t heartbeat_max_ns;
	bool adopted; /* the maps (and so the forwarding state) of a previous run are in use */
	struct dp_if ifs[ELB_MAX_IFACES];
	int n_ifs;
};

/* attach.c */
int dp_attach_reconcile(struct dp *d, struct agent *a);
void dp_detach_all(struct dp *d);

#endif
