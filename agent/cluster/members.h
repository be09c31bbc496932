/* The cluster's live nodes as this node sees them (the keys under /edgelb/nodes/), and which
 * of them a layer-2 IP prefers: rendezvous (highest random weight) hashing of (node, IP), so
 * every node that sees the same members picks the same one, IPs spread evenly, and a node
 * joining or leaving moves only the IPs it wins or held. */
#ifndef EDGELB_CLUSTER_MEMBERS_H
#define EDGELB_CLUSTER_MEMBERS_H

#include <stdint.h>

#include "config/config.h"

struct ip;

#define MEMBERS_MAX 256

struct members {
	int n;
	struct member {
		char name[CFG_NAME_MAX];
		uint64_t since_ms; /* when this node first saw it (a settle time counts from it) */
	} m[MEMBERS_MAX];
};

/* Adds name (seen now) unless present; a full set ignores it (logged by the caller). Returns
 * 1 when added, 0 when present, -1 when full. */
int members_put(struct members *s, const char *name, uint64_t now_ms);
void members_del(struct members *s, const char *name);
/* When name was first seen; 0 when it is not a member. */
uint64_t members_since(const struct members *s, const char *name);
/* The member ip prefers, self counted as a member whether listed or not. */
const char *members_preferred(const struct members *s, const char *self, const struct ip *ip);

#endif
