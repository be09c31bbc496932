#include "cluster/claims.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "cluster/etcd.h"
#include "cluster/etcd_json.h"
#include "daemon/agent.h"
#include "lib/ip.h"
#include "lib/log.h"

#define CALL_MS	   2000
#define FLIGHT_MAX 256 /* calls in flight at most: 100,000 services must not be 100,000 calls */

/* One address etcd or this node has said something of. Kept once known (a few hundred bytes
 * for each address ever claimed), so the revision of its last news stays known. */
struct claim_entry {
	struct claims *cl;
	struct ip ip;
	char key[sizeof(KEY_IPS) + IP_STRLEN];
	char holder[ALLOC_HOLDER_MAX]; /* as of rev; "" none */
	char asking[ALLOC_HOLDER_MAX]; /* a claim in flight for it; "" none */
	long long rev;		       /* etcd's revision of the news in holder */
	unsigned gen;		       /* the read that last had the key */
	bool releasing;		       /* holder's claim is to go: in flight, or retried */
	struct etcd_req *req;
};

/* The entries naming one holder (claimed or asked for), for held_by. */
struct hold {
	struct claim_entry **v;
	int n, cap;
	char name[ALLOC_HOLDER_MAX];
};

struct claims {
	struct agent *a;
	struct etcd *e;
	void *by_ip;	 /* struct claim_entry */
	void *by_holder; /* struct hold */
	bool ready;
	bool retry;   /* a claim failed: the allocator asks again at the next tick */
	bool waiting; /* a claim waited for room in flight: asked again at the next answer */
	int held;
	int flight;	   /* calls in flight */
	long long max_rev; /* the newest revision heard of */
	unsigned gen;
	struct alloc_claims ops;
};

static int entry_cmp(const void *x, const void *y)
{
	return ip_cmp(&((const struct claim_entry *)x)->ip, &((const struct claim_entry *)y)->ip);
}

static int hold_cmp(const void *x, const void *y)
{
	return strcmp(((const struct hold *)x)->name, ((const struct hold *)y)->name);
}

static struct claim_entry *find(struct claims *cl, const struct ip *ip)
{
	struct claim_entry probe = {.ip = *ip};
	void *n = tfind(&probe, &cl->by_ip, entry_cmp);

	return n ? *(struct claim_entry **)n : NULL;
}

static struct claim_entry *get(struct claims *cl, const struct ip *ip)
{
	struct claim_entry *e = find(cl, ip);
	char s[IP_STRLEN];

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		log_fatal("cluster: out of memory");
	e->cl = cl;
	e->ip = *ip;
	snprintf(e->key, sizeof(e->key), KEY_IPS "%s", ip_str(ip, s));
	if (!tsearch(e, &cl->by_ip, entry_cmp))
		log_fatal("cluster: out of memory");
	return e;
}

static struct hold *hold_find(struct claims *cl, const char *name)
{
	struct hold probe;
	void *n;

	snprintf(probe.name, sizeof(probe.name), "%s", name);
	n = tfind(&probe, &cl->by_holder, hold_cmp);
	return n ? *(struct hold **)n : NULL;
}

/* The holder e counts for: etcd's, else the one asked for. */
static const char *named(const struct claim_entry *e)
{
	return e->holder[0] ? e->holder : e->asking;
}

static void unindex(struct claims *cl, struct claim_entry *e)
{
	struct hold *h = named(e)[0] ? hold_find(cl, named(e)) : NULL;

	cl->held -= e->holder[0] != '\0';
	for (int i = 0; h && i < h->n; i++) {
		if (h->v[i] != e)
			continue;
		h->v[i] = h->v[--h->n];
		if (!h->n) {
			tdelete(h, &cl->by_holder, hold_cmp);
			free(h->v);
			free(h);
		}
		return;
	}
}

static void reindex(struct claims *cl, struct claim_entry *e)
{
	struct hold *h;

	cl->held += e->holder[0] != '\0';
	if (!named(e)[0])
		return;
	h = hold_find(cl, named(e));
	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			log_fatal("cluster: out of memory");
		snprintf(h->name, sizeof(h->name), "%s", named(e));
		if (!tsearch(h, &cl->by_holder, hold_cmp))
			log_fatal("cluster: out of memory");
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 2;
		h->v = realloc(h->v, (size_t)h->cap * sizeof(*h->v));
		if (!h->v)
			log_fatal("cluster: out of memory");
	}
	h->v[h->n++] = e;
}

/* etcd says holder ("" none) has e's key as of rev: taken unless older than what e knows.
 * The allocator runs again when it changes; a release that was to come is moot. */
static void tell(struct claim_entry *e, const char *holder, long long rev, bool quiet)
{
	char s[IP_STRLEN];

	if (rev < e->rev)
		return;
	e->rev = rev;
	if (rev > e->cl->max_rev)
		e->cl->max_rev = rev;
	if (!strcmp(e->holder, holder))
		return;
	unindex(e->cl, e);
	snprintf(e->holder, sizeof(e->holder), "%s", holder);
	e->releasing = false;
	reindex(e->cl, e);
	agent_changed(e->cl->a);
	if (!quiet)
		log_info("cluster: %s %s%s", ip_str(&e->ip, s),
			 holder[0] ? "claimed by " : "released", holder);
}

static void set_asking(struct claim_entry *e, const char *holder)
{
	unindex(e->cl, e);
	snprintf(e->asking, sizeof(e->asking), "%s", holder);
	reindex(e->cl, e);
}

/* The answer to a transaction on e's key whose failure branch reads the key: on success the
 * key is ok_holder as of the answer's revision, else what the read found. */
static void told(struct claim_entry *e, struct json_object *resp, const char *ok_holder)
{
	long long rev = etcd_num(etcd_get(resp, "header", NULL), "revision");
	struct json_object *kv;
	char v[ALLOC_HOLDER_MAX];

	if (json_object_get_boolean(etcd_get(resp, "succeeded", NULL))) {
		tell(e, ok_holder, rev, false);
		return;
	}
	kv = etcd_item(etcd_item(resp, "responses", NULL, 0), "response_range", "kvs", 0);
	if (kv && etcd_unb64(kv, "value", v, sizeof(v)) >= 0)
		tell(e, v, etcd_num(kv, "mod_revision"), false);
	else
		tell(e, "", rev, false);
}

/* A call ended: claims that waited for room are asked for again. */
static void room(struct claims *cl)
{
	cl->flight--;
	if (cl->waiting)
		agent_changed(cl->a);
	cl->waiting = false;
}

static void on_claim(void *arg, struct json_object *resp, const char *err)
{
	struct claim_entry *e = arg;

	e->req = NULL;
	room(e->cl);
	if (!resp) {
		log_warn("cluster: claim of %s for %s: %s (asked again)", e->key, e->asking, err);
		e->cl->retry = true;
	} else {
		told(e, resp, e->asking);
	}
	set_asking(e, "");
}

static void claim(void *ctx, const struct ip *ip, const char *holder)
{
	struct claim_entry *e = get(ctx, ip);
	struct claims *cl = ctx;
	struct json_object *body;

	if (e->req || e->holder[0])
		return;
	if (cl->flight >= FLIGHT_MAX) {
		cl->waiting = true;
		return;
	}
	set_asking(e, holder);
	body = etcd_txn(etcd_compare(e->key, "CREATE", "create_revision", etcd_id(0)),
			etcd_op("request_put", e->key, holder, 0),
			etcd_op("request_range", e->key, NULL, 0));
	e->req = etcd_call(cl->e, "/v3/kv/txn", body, CALL_MS, on_claim, e);
	json_object_put(body);
	if (!e->req)
		set_asking(e, "");
	else
		cl->flight++;
}

static void on_release(void *arg, struct json_object *resp, const char *err)
{
	struct claim_entry *e = arg;

	e->req = NULL;
	room(e->cl);
	if (!resp) {
		log_warn("cluster: release of %s: %s (retried)", e->key, err);
		return;
	}
	told(e, resp, "");
	e->releasing = false;
}

static void send_release(struct claims *cl, struct claim_entry *e)
{
	struct json_object *body;

	if (e->req || cl->flight >= FLIGHT_MAX)
		return; /* sent at a tick */
	body = etcd_txn(etcd_compare(e->key, "VALUE", "value", etcd_b64s(e->holder)),
			etcd_op("request_delete_range", e->key, NULL, 0),
			etcd_op("request_range", e->key, NULL, 0));
	e->req = etcd_call(cl->e, "/v3/kv/txn", body, CALL_MS, on_release, e);
	json_object_put(body);
	cl->flight += e->req != NULL;
}

static void release(void *ctx, const struct ip *ip, const char *holder)
{
	struct claim_entry *e = find(ctx, ip);

	if (!e || strcmp(e->holder, holder))
		return;
	e->releasing = true;
	send_release(ctx, e);
}

static enum alloc_claim check(void *ctx, const struct ip *ip, const char *holder, char *other,
			      size_t len)
{
	struct claim_entry *e = find(ctx, ip);
	const char *n = e ? named(e) : "";

	if (!n[0])
		return ALLOC_CLAIM_FREE;
	if (strcmp(n, holder)) {
		if (other)
			snprintf(other, len, "%s", n);
		return ALLOC_CLAIM_OTHER;
	}
	return e->holder[0] && !e->releasing ? ALLOC_CLAIM_MINE : ALLOC_CLAIM_ASKING;
}

static int held_by(void *ctx, const char *holder, struct ip *out, int max)
{
	struct hold *h = hold_find(ctx, holder);
	int n = 0;

	for (int i = 0; h && i < h->n && n < max; i++)
		out[n++] = h->v[i]->ip;
	return n;
}

static bool ready(void *ctx)
{
	return ((struct claims *)ctx)->ready;
}

struct claims *claims_new(struct agent *a, struct etcd *e)
{
	struct claims *cl = calloc(1, sizeof(*cl));

	if (!cl)
		log_fatal("cluster: out of memory");
	cl->a = a;
	cl->e = e;
	cl->ops = (struct alloc_claims){cl, ready, check, claim, release, held_by};
	return cl;
}

static void free_hold(void *p)
{
	free(((struct hold *)p)->v);
	free(p);
}

/* etcd_free ran first: no call points at an entry any more. */
void claims_free(struct claims *cl)
{
	if (!cl)
		return;
	tdestroy(cl->by_ip, free);
	tdestroy(cl->by_holder, free_hold);
	free(cl);
}

static int ip_of_key(const char *key, struct ip *ip)
{
	if (strncmp(key, KEY_IPS, sizeof(KEY_IPS) - 1))
		return -1;
	return ip_parse(key + sizeof(KEY_IPS) - 1, ip);
}

/* etcd went back in time (a new or restored cluster): its read is the truth. */
static void unrev(const void *node, VISIT which, void *arg)
{
	(void)arg;
	if (which == postorder || which == leaf)
		(*(struct claim_entry *const *)node)->rev = 0;
}

/* A key the read did not have is free as of its revision. */
static void forget(const void *node, VISIT which, void *arg)
{
	struct claim_entry *e = *(struct claim_entry *const *)node;
	struct claims *cl = e->cl;

	if ((which == postorder || which == leaf) && e->gen != cl->gen)
		tell(e, "", *(long long *)arg, true);
}

void claims_load(struct claims *cl, struct json_object *resp)
{
	long long rev = etcd_num(etcd_get(resp, "header", NULL), "revision");
	struct claim_entry *e;

	cl->gen++;
	if (rev < cl->max_rev) {
		log_warn("cluster: etcd's revision went back from %lld to %lld (a new or restored "
			 "etcd): taking its address claims as they are",
			 cl->max_rev, rev);
		twalk_r(cl->by_ip, unrev, NULL);
		cl->max_rev = rev;
	}
	for (size_t i = 0; i < etcd_len(resp, "kvs", NULL); i++) {
		struct json_object *kv = etcd_item(resp, "kvs", NULL, i);
		char key[sizeof(KEY_IPS) + IP_STRLEN], v[ALLOC_HOLDER_MAX];
		struct ip ip;

		if (etcd_unb64(kv, "key", key, sizeof(key)) < 0 || ip_of_key(key, &ip) < 0 ||
		    etcd_unb64(kv, "value", v, sizeof(v)) < 0)
			continue;
		e = get(cl, &ip);
		e->gen = cl->gen;
		tell(e, v, etcd_num(kv, "mod_revision"), true);
	}
	twalk_r(cl->by_ip, forget, &rev);
	if (!cl->ready)
		log_info("cluster: %d address claims read", cl->held);
	cl->ready = true;
	agent_changed(cl->a);
}

void claims_event(struct claims *cl, const char *key, struct json_object *ev)
{
	struct json_object *kv = etcd_get(ev, "kv", NULL);
	bool del = !strcmp(json_object_get_string(etcd_get(ev, "type", NULL)) ?: "", "DELETE");
	char v[ALLOC_HOLDER_MAX];
	struct ip ip;

	if (ip_of_key(key, &ip) < 0)
		return;
	if (!del && etcd_unb64(kv, "value", v, sizeof(v)) < 0)
		return; /* not a holder: not edgelb's */
	tell(get(cl, &ip), del ? "" : v, etcd_num(kv, "mod_revision"), false);
}

static void resend(const void *node, VISIT which, void *arg)
{
	struct claim_entry *e = *(struct claim_entry *const *)node;

	if ((which == postorder || which == leaf) && e->releasing)
		send_release(arg, e);
}

void claims_tick(struct claims *cl)
{
	twalk_r(cl->by_ip, resend, cl);
	if (cl->retry || cl->waiting)
		agent_changed(cl->a);
	cl->retry = cl->waiting = false;
}

const struct alloc_claims *claims_ops(struct claims *cl)
{
	return &cl->ops;
}

int claims_held(const struct claims *cl)
{
	return cl->held;
}

bool claims_ready(const struct claims *cl)
{
	return cl->ready;
}
