/* The allocator: gives services IPs from pools, MetalLB semantics (priority, auto-assign,
 * avoid-buggy-ips, requested IP, pool by name, sharing by key, dual-stack).
 * Assignments persist in the store (kind "assignment") and never move while a service exists.
 * Blind to which store back end is behind it.
 *
 * Rules (MetalLB's, plus what its users asked for):
 * - pools are tried in order of priority (1 first; 0 = no priority = after every prioritised
 *   pool, as MetalLB's serviceAllocation.priority), then name; a service gets the lowest
 *   free (or shareable) address of the first eligible pool;
 * - eligible: autoAssign (unless the service names the pool or asks for an IP), namespace in
 *   the pool's list (empty = any), has a range of each family the service needs;
 * - avoidBuggyIPs skips IPv4 addresses ending in .0 and .255 (also when requested);
 * - sharing: same non-empty shared key, same namespace, no port (proto/port) in common;
 * - an assigned IP is kept while the service exists, even when its pool changes or goes
 *   away: then it is flagged out_of_pool with a reason, never moved silently. It is only
 *   released when the service goes, or when the service's own request changes (requested
 *   IPs, pool name, family, or sharing that no longer fits) - the user asked for it.
 * - no room: pending with a reason, retried on every reconcile. */
#ifndef EDGELB_ALLOC_H
#define EDGELB_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct store;
struct alloc;
struct json_object;

#define ALLOC_KIND "assignment"

enum alloc_status { ALLOC_PENDING, ALLOC_ASSIGNED };

struct alloc_assignment {
	const char *service; /* namespace/name */
	const char *pool;    /* "" when none */
	const char *reason;  /* why pending, or why flagged; "" when neither */
	struct ip ips[2];
	bool out_of_pool; /* assigned IP no longer inside any pool: flagged, not moved */
	enum alloc_status status;
	int n_ips;
};

/* Cluster-wide address claims, the store's cluster back end for addresses (cluster/claims.c
 * keeps them in etcd; none on a single node). With claims, an address is assigned only once
 * the cluster gives it to the service's holder: the service ("ns/name"), or its namespace and
 * shared key when it shares ("ns sharedKey=KEY"). So two nodes never hand one address to
 * different holders, and a service the cluster already holds addresses for gets those on
 * every node, whatever order the services came in. An assigned address the cluster gives
 * another holder is given back and the service assigned again. */
enum alloc_claim {
	ALLOC_CLAIM_FREE,   /* nobody's: claim it */
	ALLOC_CLAIM_MINE,   /* the holder's */
	ALLOC_CLAIM_ASKING, /* being claimed for the holder */
	ALLOC_CLAIM_OTHER,  /* another holder's, or being claimed for one */
};
struct alloc_claims {
	void *ctx;
	/* the claims are known (read from the cluster at least once) */
	bool (*ready)(void *ctx);
	/* ip's state for holder; OTHER names the other holder in other */
	enum alloc_claim (*check)(void *ctx, const struct ip *ip, const char *holder, char *other,
				  size_t len);
	/* asks the cluster for ip for holder (asynchronous: check tells the outcome) */
	void (*claim)(void *ctx, const struct ip *ip, const char *holder);
	/* gives ip back if the cluster has it for holder */
	void (*release)(void *ctx, const struct ip *ip, const char *holder);
	/* the addresses held or being claimed for holder, up to max; returns how many */
	int (*held_by)(void *ctx, const char *holder, struct ip *out, int max);
};
#define ALLOC_HOLDER_MAX (2 * CFG_NAME_MAX + 16)

struct alloc *alloc_new(struct store *st, char *err, size_t errlen);
/* From now on (NULL: none). cl is not copied: it must outlive al. */
void alloc_set_claims(struct alloc *al, const struct alloc_claims *cl);
void alloc_free(struct alloc *al);
/* Bring assignments in line with cfg: keep existing ones, assign pending services, release
 * those of removed services. Persists changes (one batch). 0 ok, -1 on a store failure. */
int alloc_reconcile(struct alloc *al, const struct cfg *cfg);
const struct alloc_assignment *alloc_get(struct alloc *al, const char *service);
typedef void (*alloc_iter_fn)(const struct alloc_assignment *as, void *arg);
/* In service-name order. */
void alloc_foreach(struct alloc *al, alloc_iter_fn fn, void *arg);

/* The service holding ip (the first one when shared), or NULL. */
const char *alloc_ip_owner(struct alloc *al, const struct ip *ip);
/* Whether svc may take ip right now (free, or shareable with its holders; svc itself, by
 * name, does not count). 0, or -1 with a one-line reason naming the holder. */
int alloc_ip_check(struct alloc *al, const struct cfg_service *svc, const struct ip *ip, char *msg,
		   size_t len);
/* Per-pool usage for metrics: index-aligned with cfg->pools. */
struct alloc_usage {
	uint64_t in_use[2]; /* distinct addresses in use: [0] IPv4, [1] IPv6 */
	int services;	    /* services with an address from the pool */
};
void alloc_usage(struct alloc *al, const struct cfg *cfg, struct alloc_usage *out);
int alloc_pending_count(struct alloc *al);

/* Pool helpers (alloc/pool.c). */
/* Number of usable addresses of a family (AF_INET/AF_INET6) in a pool, after avoidBuggyIPs. */
double alloc_pool_size(const struct cfg_pool *p, int family);
/* The pool holding ip (first in allocation order), or NULL. */
const struct cfg_pool *alloc_pool_of(const struct cfg *cfg, const struct ip *ip);
/* 0 when a and b share no address, else -1 with "pool A entry X overlaps pool B entry Y". */
int alloc_pools_overlap(const struct cfg_pool *a, const struct cfg_pool *b, char *msg, size_t len);
bool alloc_ip_buggy(const struct ip *ip);
bool alloc_range_has(const struct cfg_range *r, const struct ip *ip);
bool alloc_pool_has(const struct cfg_pool *p, const struct ip *ip);
bool alloc_pool_ns_ok(const struct cfg_pool *p, const char *ns);
bool alloc_pool_has_family(const struct cfg_pool *p, int family);
/* qsort comparator over an array of const struct cfg_pool *: allocation order. */
int alloc_pool_order(const void *a, const void *b);

/* JSON helpers defined in config/pool_json.c and config/service_json.c (the allocator
 * engineer's files); declared here to keep config.h untouched. */
extern const char *const cfg_pool_json_keys[];
extern const char *const cfg_service_json_keys[];
const char *cfg_port_str(const struct cfg_port *p, char *buf, size_t len);
const char *cfg_range_str(const struct cfg_range *r, char *buf, size_t len);
bool cfg_name_ok(const char *s, size_t max);
int cfg_json_bool(const char *field, struct json_object *v, bool *out, char *msg, size_t len);
int cfg_json_int(const char *field, struct json_object *v, int64_t min, int64_t max, int64_t *out,
		 char *msg, size_t len);
int cfg_json_str(const char *field, struct json_object *v, char *out, size_t cap, char *msg,
		 size_t len);
typedef int (*cfg_elem_fn)(const char *field, const char *s, void *ctx, char *msg, size_t len);
int cfg_json_list(const char *field, struct json_object *v, int max, cfg_elem_fn fn, void *ctx,
		  char *msg, size_t len);
const char *cfg_family_str(enum cfg_family f);
/* Replaces control characters of a message (quoted user input) by '?'; returns -1. */
int cfg_msg_oneline(char *msg);

#endif
