/* Nodes of one cluster agreeing, through etcd v3, on which node answers ARP/NDP for each
 * layer-2 service IP (DESIGN: node membership on a per-node lease, per-IP layer-2 leadership
 * on keys tied to that lease).
 *
 * Each agent holds one lease (TTL --etcd-lease-ttl seconds, kept alive every third of it) and
 * the key /edgelb/nodes/<node> on it. A layer-2 IP is answered only by the node holding
 * /edgelb/l2/<ip> (value: its node name, on its lease), taken with a create-if-absent
 * transaction, so two nodes never both hold it. A holder keeps the IP until it stops wanting
 * it, stops (the lease is revoked at exit), dies (the lease expires after its TTL) or hands it
 * to the member the IP prefers (members.h); a watch on /edgelb/ tells the other nodes at once,
 * and one of them takes it. A node that cannot renew its lease stops answering when its last
 * renewal's TTL runs out (by its own clock, counted from when the renewal was sent), before
 * etcd can give the IP away.
 *
 * Without --etcd-endpoints there is no cluster (c NULL): every wanted IP is this node's. */
#ifndef EDGELB_CLUSTER_H
#define EDGELB_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/histogram.h"

struct agent;
struct alloc_claims;
struct ip;
struct cluster;
struct json_object;

#define CLUSTER_TTL_MIN 2
#define CLUSTER_TTL_MAX 60
#define CLUSTER_TTL_DEF 5

/* Starts joining (asynchronous: nothing is held until etcd answers). NULL with a one-line err
 * when endpoints are malformed. */
struct cluster *cluster_new(struct agent *a, const char *endpoints, unsigned ttl_s, char *err,
			    size_t errlen);
/* Revokes the lease (waits up to a second for etcd), so other nodes take this node's IPs at
 * once; the caller stops answering for them first. NULL is fine. */
void cluster_free(struct cluster *c);

/* One layer-2 pass: begin, claim every IP this node would answer for, end. claim returns
 * whether this node holds ip now (always true without a cluster); IPs not claimed in a pass
 * are given up at end. A change of holder schedules another pass (agent_changed). */
void cluster_l2_begin(struct cluster *c);
bool cluster_l2_claim(struct cluster *c, const struct ip *ip);
void cluster_l2_end(struct cluster *c);

/* For `edgelb status`: adds etcd (the endpoint in use, "none" without a cluster), lease (hex),
 * leaseTtlSeconds, leaseLive, l2IpsHeld, l2IpsWanted, ipClaimsRead and ipClaims to o. */
void cluster_status_add(const struct cluster *c, struct json_object *o);

/* The address claims the allocator takes its addresses through (cluster/claims.h); NULL
 * without a cluster. */
const struct alloc_claims *cluster_claims(struct cluster *c);

/* For /metrics (cluster/metrics.c): counts since the agent started. */
struct cluster_stats {
	bool lease_live;
	int members;	 /* keys under /edgelb/nodes/ as the watch last told (this node's too) */
	int l2_ips_held; /* wanted IPs this node answers for */
	/* Seconds from the watch seeing another node's /edgelb/l2/<ip> deleted to the first pass
	 * that answers for ip after this node's transaction took the key. */
	struct histogram failover;
	unsigned long long taken;	/* IPs answered for after another node held them */
	unsigned long long handed_over; /* IPs handed to their preferred node */
	unsigned long long taken_back;	/* IPs handed over, let lie and taken back */
	unsigned long long fenced;	/* IPs no longer answered: the lease not renewed in time
					 * (fence) or found expired in etcd */
};

void cluster_stats(const struct cluster *c, struct cluster_stats *out);

#endif
