/* The cluster's address claims (alloc.h's struct alloc_claims, in etcd): /edgelb/ips/<ip>
 * names the holder of a service IP ("ns/name", or "ns sharedKey=KEY" for a shared one). No
 * lease: a claim outlives the nodes that made it, as an assignment outlives a restart. Taken
 * with a create-if-absent transaction and given back with a delete that compares the value,
 * so two nodes never hand one address to two holders. This node's view is read with the
 * members, then kept by the watch on /edgelb/; each key's view only moves forward in etcd's
 * revisions, whether the watch or a transaction's answer tells it. */
#ifndef EDGELB_CLUSTER_CLAIMS_H
#define EDGELB_CLUSTER_CLAIMS_H

#include <stdbool.h>

#define KEY_IPS "/edgelb/ips/"

struct agent;
struct etcd;
struct claims;
struct json_object;
struct alloc_claims;

struct claims *claims_new(struct agent *a, struct etcd *e);
void claims_free(struct claims *cl); /* NULL is fine */
/* A range read of /edgelb/ (its kvs and header): the view becomes what it says of
 * /edgelb/ips/, keys that changed since its revision excepted. The claims are ready then. */
void claims_load(struct claims *cl, struct json_object *resp);
/* One watch event on key, under KEY_IPS. */
void claims_event(struct claims *cl, const char *key, struct json_object *ev);
/* Every third of a TTL: releases that failed are sent again; claims that failed are asked
 * for again by the allocator's next pass. */
void claims_tick(struct claims *cl);
/* The allocator's interface over cl (lives as long as cl). */
const struct alloc_claims *claims_ops(struct claims *cl);
int claims_held(const struct claims *cl); /* addresses the cluster gives some holder */
bool claims_ready(const struct claims *cl);

#endif
