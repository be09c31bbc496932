#include "cluster/cluster.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cluster/claims.h"
#include "cluster/etcd.h"
#include "cluster/etcd_json.h"
#include "cluster/members.h"
#include "config/config.h"
#include "daemon/agent.h"
#include "lib/ev.h"
#include "lib/hash.h"
#include "lib/ip.h"
#include "lib/log.h"

#define KEY_ALL	      "/edgelb/"
#define KEY_ALL_END   "/edgelb0" /* a prefix's range end: its last byte + 1 */
#define KEY_NODES     "/edgelb/nodes/"
#define KEY_L2	      "/edgelb/l2/"
#define CALL_MS	      2000
#define REWATCH_MS    1000
#define DEFER_MS      1000 /* a free IP waits this long for its preferred node */
#define KEY_MAX	      (sizeof(KEY_L2) + IP_STRLEN)
#define EVENT_KEY_MAX (sizeof(KEY_NODES) + CFG_NAME_MAX + IP_STRLEN) /* longer: not ours */

/* edgelb_l2_failover_duration_seconds: an etcd round trip at the low end; DEFER_MS, claims
 * retried every third of a TTL and etcd outages above */
static const double failover_le[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

/* One layer-2 IP this node wants or still holds. Freed only at a pass's end with no call in
 * flight (calls point at it). */
struct claim {
	struct cluster *c;
	struct ip ip;
	char key[KEY_MAX];
	char owner[CFG_NAME_MAX]; /* the holder etcd last told us of, "" none */
	long long owner_lease;
	bool seen;		       /* claimed in the current pass */
	bool yield;		       /* held, being handed to its preferred node */
	bool withdrawn;		       /* not answered since the last pass: may be released */
	bool probing;		       /* the call in flight only looks */
	uint64_t free_since_ms;	       /* when we learned no node holds it; 0 unknown */
	char yielded_to[CFG_NAME_MAX]; /* the node of the last hand-over */
	uint64_t yielded_to_since;     /* its membership then (members_since) */
	bool refused;		       /* ... which did not take it: not offered again while it
					* stays a member */
	uint64_t other_freed_ns;       /* when the watch saw another node's key deleted; 0 none
					* (observed, then cleared, at the first answer since) */
	struct etcd_req *req;
};

struct cluster {
	struct agent *a;
	struct etcd *e;
	unsigned ttl_s;
	long long lease;	/* 0: none */
	uint64_t live_until_ms; /* the lease is surely ours until then, by our clock */
	uint64_t sent_ms;	/* when the grant or keepalive in flight was sent */
	bool fenced;		/* the lease ran out here without a renewal */
	bool unreachable;	/* logged once per outage */
	struct etcd_req *grant, *keepalive, *watch;
	struct ev_timer *tick, *fence, *rewatch;
	struct etcd_req *read_req; /* the read of /edgelb/ the watch starts after */
	struct claims *claims;
	struct claim **cl;
	int n, cap;
	struct hmap idx; /* ip_key → index in cl */
	struct members members;
	bool members_known; /* read once (the watch starts after each read) */
	struct histogram failover;
	unsigned long long n_taken, n_handed_over, n_taken_back, n_fenced; /* cluster_stats */
};

static void ip_key(const struct ip *ip, unsigned char k[17])
{
	memset(k, 0, 17);
	k[0] = ip->family;
	memcpy(k + 1, ip->a, ip->family == AF_INET ? 4 : 16);
}

static void reindex(struct cluster *c)
{
	hmap_free(&c->idx);
	hmap_init(&c->idx, 17, (size_t)c->n + 16);
	for (int i = 0; i < c->n; i++) {
		unsigned char k[17];

		ip_key(&c->cl[i]->ip, k);
		hmap_put(&c->idx, k, i);
	}
}

static struct claim *find(struct cluster *c, const struct ip *ip)
{
	unsigned char k[17];
	int i;

	ip_key(ip, k);
	return hmap_get(&c->idx, k, &i) ? c->cl[i] : NULL;
}

static bool live(const struct cluster *c)
{
	return c->lease && ev_now_ms() < c->live_until_ms;
}

static bool held(const struct cluster *c, const struct claim *k)
{
	return c->lease && k->owner_lease == c->lease && !strcmp(k->owner, c->a->node_name);
}

static bool mine(const struct cluster *c, const struct claim *k)
{
	return live(c) && held(c, k) && !k->yield;
}

/* The wanted IPs this node answers for while its lease is live. */
static int answered(const struct cluster *c)
{
	int n = 0;

	for (int i = 0; i < c->n; i++)
		n += c->cl[i]->seen && held(c, c->cl[i]) && !c->cl[i]->yield;
	return n;
}

/* Records the holder a key-value says; schedules a pass when this node's answer changes. */
static void set_owner(struct claim *k, struct json_object *kv)
{
	struct cluster *c = k->c;
	bool was = mine(c, k), was_held = held(c, k);

	if (!kv || etcd_unb64(kv, "value", k->owner, sizeof(k->owner)) < 0)
		k->owner[0] = '\0';
	k->owner_lease = k->owner[0] ? etcd_num(kv, "lease") : 0;
	k->free_since_ms = k->owner[0] ? 0 : ev_now_ms();
	if (!held(c, k))
		k->yield = false;
	if (k->owner[0] && strcmp(k->owner, c->a->node_name)) {
		k->yielded_to[0] = '\0'; /* another node holds it: a hand-over worked */
		k->refused = false;
		k->other_freed_ns = 0;
	} else if (!was_held && held(c, k) && k->yielded_to[0] && !k->refused) {
		/* ours again (by our answer or the watch, whichever comes first) */
		k->refused = true;
		c->n_taken_back++;
		log_info("cluster: %s taken back: %s did not take it", k->key, k->yielded_to);
	}
	if (was != mine(c, k)) {
		char s[IP_STRLEN];

		log_info("cluster: %s %s", ip_str(&k->ip, s),
			 was ? k->owner[0] ? "taken by another node" : "released"
			     : "held by this node: answering for it");
		agent_changed(c->a);
	}
}

static void campaign(struct cluster *c, struct claim *k, long long mod_rev);

/* This node may take the IP now: wanted, not held, and under its own name on an older lease,
 * or (the members known) not held by another node and preferring this node, or free for
 * DEFER_MS (its preferred node did not take it). */
static bool open_claim(const struct cluster *c, const struct claim *k)
{
	const char *self = c->a->node_name;

	if (!k->seen || held(c, k))
		return false;
	if (k->owner[0])
		return !strcmp(k->owner, self);
	if (!c->members_known)
		return false;
	return !strcmp(members_preferred(&c->members, self, &k->ip), self) ||
	       (k->free_since_ms && ev_now_ms() - k->free_since_ms >= DEFER_MS);
}

static void on_campaign(void *arg, struct json_object *resp, const char *err)
{
	struct claim *k = arg;
	struct cluster *c = k->c;
	struct json_object *kv;

	k->req = NULL;
	if (!resp) {
		log_warn("cluster: claim of %s: %s (retried)", k->key, err);
		return;
	}
	if (json_object_get_boolean(etcd_get(resp, "succeeded", NULL)) && k->probing) {
		set_owner(k, NULL); /* free: open_claim says when to take it */
		if (open_claim(c, k))
			campaign(c, k, 0);
		return;
	}
	if (json_object_get_boolean(etcd_get(resp, "succeeded", NULL))) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "value", etcd_b64s(c->a->node_name));
		json_object_object_add(o, "lease", etcd_id(c->lease));
		set_owner(k, o);
		json_object_put(o);
		return;
	}
	/* lost the race, or the key stood: who holds it (response_range of the failure branch) */
	kv = etcd_item(etcd_item(resp, "responses", NULL, 0), "response_range", "kvs", 0);
	set_owner(k, kv);
	if (!kv) {
		if (open_claim(c, k))
			campaign(c, k, 0); /* deleted in between: try again */
		return;
	}
	/* our name on another lease: a previous run of this node, not yet expired; take it over
	 * unless it changed since we looked */
	if (!held(c, k) && !strcmp(k->owner, c->a->node_name) && k->seen)
		campaign(c, k, etcd_num(kv, "mod_revision"));
}

/* Puts the key with our name on our lease if it is absent (mod_rev 0) or still at mod_rev and
 * this node may take it (open_claim); else only learns whether it is free or who holds it. */
static void campaign(struct cluster *c, struct claim *k, long long mod_rev)
{
	struct json_object *body, *cmp;

	if (k->req || !live(c))
		return;
	k->probing = !mod_rev && !open_claim(c, k);
	if (mod_rev)
		cmp = etcd_compare(k->key, "MOD", "mod_revision", etcd_id(mod_rev));
	else
		cmp = etcd_compare(k->key, "CREATE", "create_revision", etcd_id(0));
	body = etcd_txn(
	    cmp, k->probing ? NULL : etcd_op("request_put", k->key, c->a->node_name, c->lease),
	    etcd_op("request_range", k->key, NULL, 0));
	k->req = etcd_call(c->e, "/v3/kv/txn", body, CALL_MS, on_campaign, k);
	json_object_put(body);
}

static void on_resign(void *arg, struct json_object *resp, const char *err)
{
	struct claim *k = arg;

	k->req = NULL;
	if (!resp) {
		log_warn("cluster: release of %s: %s (retried)", k->key, err);
		return;
	}
	set_owner(k, NULL); /* deleted, or someone else's already */
}

/* Deletes the key if it still names this node. */
static void resign(struct cluster *c, struct claim *k)
{
	struct json_object *body;

	if (k->req)
		return;
	body = etcd_txn(etcd_compare(k->key, "VALUE", "value", etcd_b64s(c->a->node_name)),
			etcd_op("request_delete_range", k->key, NULL, 0), NULL);
	k->req = etcd_call(c->e, "/v3/kv/txn", body, CALL_MS, on_resign, k);
	json_object_put(body);
}

/* Every wanted IP not held: asked for (the answer names the holder of those held). */
static void campaign_all(struct cluster *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->cl[i]->seen && !held(c, c->cl[i]))
			campaign(c, c->cl[i], 0);
}

/* After the members or time changed: free IPs this node may now take are claimed; held IPs
 * whose preferred node has been a member for a TTL are handed over (stop answering, then the
 * key goes at the pass's end), unless that node let it lie once already (it may not want it:
 * another config, no compute port) and has stayed a member since. */
static void rebalance(struct cluster *c)
{
	const char *self = c->a->node_name;
	uint64_t now = ev_now_ms();

	for (int i = 0; i < c->n; i++) {
		struct claim *k = c->cl[i];
		const char *p;
		uint64_t since;

		if (open_claim(c, k)) {
			campaign(c, k, 0);
			continue;
		}
		if (!k->seen || !mine(c, k))
			continue;
		p = members_preferred(&c->members, self, &k->ip);
		since = members_since(&c->members, p);
		if (!strcmp(p, self) || !since || now - since < c->ttl_s * 1000ULL)
			continue;
		if (k->refused && !strcmp(p, k->yielded_to) && since == k->yielded_to_since)
			continue;
		k->yield = true;
		k->refused = false;
		snprintf(k->yielded_to, sizeof(k->yielded_to), "%s", p);
		k->yielded_to_since = since;
		c->n_handed_over++;
		log_info("cluster: %s handed over to %s, the node it prefers", k->key, p);
		agent_changed(c->a);
	}
}

static void arm_fence(struct cluster *c)
{
	uint64_t now = ev_now_ms();

	ev_timer_arm(c->fence, c->live_until_ms > now ? c->live_until_ms - now : 0);
}

static void watch(struct cluster *c);
static void start_watch(struct cluster *c, long long rev);

/* etcd answers again after an outage: a watch that outlived it may be a dead connection
 * (no reset came), so it starts afresh; its first message claims every wanted IP again. */
static void reachable(struct cluster *c)
{
	if (!c->unreachable)
		return;
	c->unreachable = false;
	log_info("cluster: etcd %s answers again", etcd_endpoint(c->e));
	etcd_cancel(c->e, c->watch);
	c->watch = NULL;
	watch(c);
}

static void unreachable(struct cluster *c, const char *what, const char *err)
{
	if (!c->unreachable)
		log_warn("cluster: %s: %s (retried every %u ms)", what, err, c->ttl_s * 1000 / 3);
	c->unreachable = true;
}

/* The lease is gone: nothing is held; a new lease is asked for at the next tick. */
static void lose_lease(struct cluster *c, const char *why)
{
	log_warn("cluster: lease %llx %s: answering for none of its IPs", c->lease, why);
	if (!c->fenced)
		c->n_fenced += (unsigned long long)answered(c);
	c->lease = 0;
	c->fenced = false;
	ev_timer_stop(c->fence);
	agent_changed(c->a);
}

static void on_put_node(void *arg, struct json_object *resp, const char *err)
{
	(void)arg;
	if (!resp)
		log_warn("cluster: %s: %s", KEY_NODES, err);
}

static void on_grant(void *arg, struct json_object *resp, const char *err)
{
	struct cluster *c = arg;
	long long id = etcd_num(resp, "ID"), ttl = etcd_num(resp, "TTL");
	char key[sizeof(KEY_NODES) + CFG_NAME_MAX];
	struct json_object *body, *v;

	c->grant = NULL;
	if (!resp || id <= 0 || ttl <= 0) {
		unreachable(c, "lease grant", resp ? "no lease in the answer" : err);
		return;
	}
	reachable(c);
	c->lease = id;
	c->live_until_ms = c->sent_ms + (uint64_t)ttl * 1000;
	arm_fence(c);
	log_info("cluster: node %s joined through %s (lease %llx, TTL %lld s)", c->a->node_name,
		 etcd_endpoint(c->e), id, ttl);
	snprintf(key, sizeof(key), KEY_NODES "%s", c->a->node_name);
	v = json_object_new_object();
	json_object_object_add(v, "node", json_object_new_string(c->a->node_name));
	body = etcd_kv(key, json_object_to_json_string(v), id);
	json_object_put(v);
	etcd_call(c->e, "/v3/kv/put", body, CALL_MS, on_put_node, c);
	json_object_put(body);
	campaign_all(c);
}

static void on_keepalive(void *arg, struct json_object *resp, const char *err)
{
	struct cluster *c = arg;
	struct json_object *r = etcd_get(resp, "result", NULL);
	long long ttl = etcd_num(r, "TTL");

	c->keepalive = NULL;
	if (!resp || !r) {
		unreachable(c, "lease keepalive", resp ? "no result in the answer" : err);
		return;
	}
	reachable(c);
	if (ttl <= 0) {
		lose_lease(c, "expired in etcd");
		return;
	}
	c->live_until_ms = c->sent_ms + (uint64_t)ttl * 1000;
	arm_fence(c);
	if (c->fenced) {
		c->fenced = false;
		log_info("cluster: lease %llx renewed after a lapse: claiming its IPs again",
			 c->lease);
		agent_changed(c->a);
		campaign_all(c);
	}
}

static void on_fence(struct ev_timer *t, void *arg)
{
	struct cluster *c = arg;

	(void)t;
	if (!c->lease || live(c))
		return;
	c->fenced = true;
	c->n_fenced += (unsigned long long)answered(c);
	log_warn("cluster: lease %llx not renewed within its TTL: stopped answering (another node "
		 "may hold the IPs now)",
		 c->lease);
	agent_changed(c->a);
}

static void on_rewatch(struct ev_timer *t, void *arg)
{
	(void)t;
	watch(arg);
}

static void member(struct cluster *c, const char *name)
{
	if (members_put(&c->members, name, ev_now_ms()) < 0)
		log_warn("cluster: more than %d nodes: %s not counted for spreading IPs",
			 MEMBERS_MAX, name);
}

/* The members and address claims as etcd has them at the range's revision; the watch starts
 * right after it, so no change in between is missed or applied twice. */
static void on_read(void *arg, struct json_object *resp, const char *err)
{
	struct cluster *c = arg;
	struct members old = c->members;

	c->read_req = NULL;
	if (!resp) {
		unreachable(c, KEY_NODES, err);
		ev_timer_arm(c->rewatch, REWATCH_MS);
		return;
	}
	c->members.n = 0;
	c->members_known = true;
	for (size_t i = 0; i < etcd_len(resp, "kvs", NULL); i++) {
		char key[sizeof(KEY_NODES) + CFG_NAME_MAX];
		const char *name = key + sizeof(KEY_NODES) - 1;

		if (etcd_unb64(etcd_item(resp, "kvs", NULL, i), "key", key, sizeof(key)) < 0 ||
		    strncmp(key, KEY_NODES, sizeof(KEY_NODES) - 1) || !*name)
			continue;
		member(c, name);
		if (members_since(&old, name)) /* known before: its settle time goes on */
			c->members.m[c->members.n - 1].since_ms = members_since(&old, name);
	}
	claims_load(c->claims, resp);
	start_watch(c, etcd_num(etcd_get(resp, "header", NULL), "revision"));
	rebalance(c);
}

static void read_all(struct cluster *c)
{
	struct json_object *body = json_object_new_object();

	json_object_object_add(body, "key", etcd_b64s(KEY_ALL));
	json_object_object_add(body, "range_end", etcd_b64s(KEY_ALL_END));
	c->read_req = etcd_call(c->e, "/v3/kv/range", body, CALL_MS, on_read, c);
	json_object_put(body);
}

/* One change under /edgelb/: a member came or went, an address claim changed, or the holder
 * of a layer-2 IP changed (a deleted key is claimed when this node may take it). */
static void on_event(struct cluster *c, struct json_object *ev, const char *key)
{
	struct json_object *kv = etcd_get(ev, "kv", NULL);
	bool del = !strcmp(json_object_get_string(etcd_get(ev, "type", NULL)) ?: "", "DELETE");
	struct claim *k;
	struct ip ip;

	if (!strncmp(key, KEY_NODES, sizeof(KEY_NODES) - 1)) {
		if (del)
			members_del(&c->members, key + sizeof(KEY_NODES) - 1);
		else if (key[sizeof(KEY_NODES) - 1])
			member(c, key + sizeof(KEY_NODES) - 1);
		return;
	}
	if (!strncmp(key, KEY_IPS, sizeof(KEY_IPS) - 1)) {
		claims_event(c->claims, key, ev);
		return;
	}
	if (strncmp(key, KEY_L2, sizeof(KEY_L2) - 1) ||
	    ip_parse(key + sizeof(KEY_L2) - 1, &ip) < 0 || !(k = find(c, &ip)))
		return;
	/* expired, revoked or handed over (a DELETE carries no value: the holder is k->owner) */
	if (del && k->owner[0] && strcmp(k->owner, c->a->node_name))
		k->other_freed_ns = ev_now_ns();
	set_owner(k, del ? NULL : kv);
}

/* The watch on /edgelb/. Its first message (created) is followed by a claim of every wanted
 * IP, which also tells the holders of those that changed while no watch ran. Members are
 * applied before IPs (a dead node's keys go in one revision), then the IPs are rebalanced. A
 * watch etcd cancels (its start revision compacted away) starts again with a new read. */
static void on_watch(void *arg, struct json_object *resp, const char *err)
{
	struct cluster *c = arg;
	struct json_object *r = etcd_get(resp, "result", NULL);

	if (!resp) {
		c->watch = NULL;
		unreachable(c, "watch " KEY_ALL, err);
		ev_timer_arm(c->rewatch, REWATCH_MS);
		return;
	}
	if (json_object_get_boolean(etcd_get(r, "canceled", NULL))) {
		log_warn("cluster: watch " KEY_ALL
			 " canceled by etcd (compacted at revision %lld): "
			 "reading the members again",
			 etcd_num(r, "compact_revision"));
		etcd_cancel(c->e, c->watch);
		c->watch = NULL;
		ev_timer_arm(c->rewatch, 0);
		return;
	}
	if (json_object_get_boolean(etcd_get(r, "created", NULL))) {
		campaign_all(c);
		return;
	}
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < etcd_len(r, "events", NULL); i++) {
			struct json_object *ev = etcd_item(r, "events", NULL, i);
			char key[EVENT_KEY_MAX];
			bool key_ok =
			    etcd_unb64(etcd_get(ev, "kv", NULL), "key", key, sizeof(key)) >= 0;
			bool node = key_ok && !strncmp(key, KEY_NODES, sizeof(KEY_NODES) - 1);

			if ((pass == 0) == node && (node || key_ok))
				on_event(c, ev, key);
		}
	rebalance(c);
}

/* List, then watch: /edgelb/ is read (members, address claims), and the watch starts after
 * that read's revision. */
static void watch(struct cluster *c)
{
	if (!c->watch && !c->read_req)
		read_all(c);
}

/* The watch from the revision after rev (the read's), or from now when rev is none. */
static void start_watch(struct cluster *c, long long rev)
{
	struct json_object *body = json_object_new_object(), *w = json_object_new_object();

	etcd_cancel(c->e, c->watch);
	json_object_object_add(w, "key", etcd_b64s(KEY_ALL));
	json_object_object_add(w, "range_end", etcd_b64s(KEY_ALL_END));
	if (rev > 0 && rev < LLONG_MAX)
		json_object_object_add(w, "start_revision", etcd_id(rev + 1));
	json_object_object_add(body, "create_request", w);
	c->watch = etcd_stream(c->e, "/v3/watch", body, on_watch, c);
	json_object_put(body);
}

static void tick_ms(struct cluster *c)
{
	ev_timer_arm(c->tick, c->ttl_s * 1000 / 3);
}

/* Every third of the TTL: renew (or ask for) the lease, and retry what failed. */
static void on_tick(struct ev_timer *t, void *arg)
{
	struct cluster *c = arg;
	struct json_object *body;

	(void)t;
	tick_ms(c);
	if (!c->lease) {
		if (!c->grant) {
			body = json_object_new_object();
			json_object_object_add(body, "TTL", json_object_new_int((int)c->ttl_s));
			c->sent_ms = ev_now_ms();
			c->grant = etcd_call(c->e, "/v3/lease/grant", body, CALL_MS, on_grant, c);
			json_object_put(body);
		}
		return;
	}
	if (!c->keepalive) {
		body = json_object_new_object();
		json_object_object_add(body, "ID", etcd_id(c->lease));
		c->sent_ms = ev_now_ms();
		c->keepalive =
		    etcd_call(c->e, "/v3/lease/keepalive", body, CALL_MS, on_keepalive, c);
		json_object_put(body);
	}
	for (int i = 0; i < c->n; i++)
		if (c->cl[i]->withdrawn && held(c, c->cl[i]))
			resign(c, c->cl[i]); /* a release that failed */
	rebalance(c);
	claims_tick(c->claims);
}

struct cluster *cluster_new(struct agent *a, const char *endpoints, unsigned ttl_s, char *err,
			    size_t errlen)
{
	struct cluster *c = calloc(1, sizeof(*c));

	if (!c)
		log_fatal("cluster: out of memory");
	c->e = etcd_new(a->loop, endpoints, &a->etcd_tls, err, errlen);
	if (!c->e) {
		free(c);
		return NULL;
	}
	c->a = a;
	c->ttl_s = ttl_s;
	hmap_init(&c->idx, 17, 16);
	histogram_init(&c->failover, failover_le, sizeof(failover_le) / sizeof(failover_le[0]));
	c->tick = ev_timer_new(a->loop, on_tick, c);
	c->fence = ev_timer_new(a->loop, on_fence, c);
	c->rewatch = ev_timer_new(a->loop, on_rewatch, c);
	c->claims = claims_new(a, c->e);
	ev_timer_arm(c->tick, 0);
	watch(c);
	return c;
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	if (c->lease) {
		struct json_object *body = json_object_new_object();

		json_object_object_add(body, "ID", etcd_id(c->lease));
		if (etcd_call_sync(c->e, "/v3/lease/revoke", body, 1000) == 0)
			log_info("cluster: lease %llx revoked: other nodes take this node's IPs",
				 c->lease);
		json_object_put(body);
	}
	etcd_free(c->e);
	claims_free(c->claims);
	ev_timer_free(c->tick);
	ev_timer_free(c->fence);
	ev_timer_free(c->rewatch);
	for (int i = 0; i < c->n; i++)
		free(c->cl[i]);
	free(c->cl);
	hmap_free(&c->idx);
	free(c);
}

void cluster_l2_begin(struct cluster *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n; i++)
		c->cl[i]->seen = false;
}

bool cluster_l2_claim(struct cluster *c, const struct ip *ip)
{
	struct claim *k;
	char s[IP_STRLEN];
	bool fresh = false;

	if (!c)
		return true;
	k = find(c, ip);
	if (!k) {
		fresh = true;
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 16;
			c->cl = realloc(c->cl, (size_t)c->cap * sizeof(*c->cl));
			if (!c->cl)
				log_fatal("cluster: out of memory");
		}
		k = calloc(1, sizeof(*k));
		if (!k)
			log_fatal("cluster: out of memory");
		k->c = c;
		k->ip = *ip;
		snprintf(k->key, sizeof(k->key), KEY_L2 "%s", ip_str(ip, s));
		c->cl[c->n] = k;
		{
			unsigned char hk[17];

			ip_key(ip, hk);
			hmap_put(&c->idx, hk, c->n);
		}
		c->n++;
	}
	if (!k->seen) {
		k->seen = true;
		/* a newly wanted IP asks who holds it even when this node may not take it (a
		 * probe): the watch names a holder only when its key changes, and a holder's
		 * death is a failover only when this node knew the holder */
		if (fresh || open_claim(c, k))
			campaign(c, k, 0);
	}
	if (!mine(c, k))
		return false;
	/* this pass answers: a take from another node completes (in ns: it can take less than a
	 * millisecond) */
	if (k->other_freed_ns) {
		histogram_observe(&c->failover, (double)(ev_now_ns() - k->other_freed_ns) / 1e9);
		c->n_taken++;
		k->other_freed_ns = 0;
	}
	return true;
}

void cluster_l2_end(struct cluster *c)
{
	int w = 0;

	if (!c)
		return;
	for (int i = 0; i < c->n; i++) {
		struct claim *k = c->cl[i];

		/* this pass stopped answering for it: the key may go */
		k->withdrawn = !k->seen || k->yield;
		if (k->withdrawn && held(c, k))
			resign(c, k);
		if (!k->seen)
			k->other_freed_ns = 0; /* not wanted now: a later take is no failover */
		if (k->seen || k->req || held(c, k)) {
			c->cl[w++] = k;
			continue;
		}
		free(k);
	}
	if (w != c->n) {
		c->n = w;
		reindex(c);
	}
}

void cluster_status_add(const struct cluster *c, struct json_object *o)
{
	int held_n, wanted = 0;
	char id[24];

	if (!c) {
		json_object_object_add(o, "etcd", json_object_new_string("none"));
		return;
	}
	for (int i = 0; i < c->n; i++)
		wanted += c->cl[i]->seen;
	held_n = live(c) ? answered(c) : 0;
	snprintf(id, sizeof(id), "%llx", c->lease);
	json_object_object_add(o, "etcd", json_object_new_string(etcd_endpoint(c->e)));
	json_object_object_add(o, "lease", json_object_new_string(c->lease ? id : ""));
	json_object_object_add(o, "leaseTtlSeconds", json_object_new_int((int)c->ttl_s));
	json_object_object_add(o, "leaseLive", json_object_new_boolean(live(c)));
	json_object_object_add(o, "l2IpsHeld", json_object_new_int(held_n));
	json_object_object_add(o, "l2IpsWanted", json_object_new_int(wanted));
	json_object_object_add(o, "ipClaimsRead", json_object_new_boolean(claims_ready(c->claims)));
	json_object_object_add(o, "ipClaims", json_object_new_int(claims_held(c->claims)));
}

const struct alloc_claims *cluster_claims(struct cluster *c)
{
	return c ? claims_ops(c->claims) : NULL;
}

void cluster_stats(const struct cluster *c, struct cluster_stats *out)
{
	out->lease_live = live(c);
	out->members = c->members.n;
	out->l2_ips_held = out->lease_live ? answered(c) : 0;
	out->failover = c->failover;
	out->taken = c->n_taken;
	out->handed_over = c->n_handed_over;
	out->taken_back = c->n_taken_back;
	out->fenced = c->n_fenced;
}
