/* libFuzzer target for the cluster's handling of etcd's answers (agent/cluster/cluster.c): a
 * node's lease, membership, watch and per-IP claims, driven by whatever an etcd endpoint (or
 * anything that answers on its port) sends back. The transport is replaced by a stand-in that
 * records each call the cluster makes; the input is a script of lines that answer them:
 *   A<n> <json>   answer the n-th call in flight (mod their count) with this JSON text (a
 *                 stream keeps going: another message)
 *   E<n>          end it with a transport error
 *   P<mask>       one layer-2 pass claiming the IPs of mask's bits (192.0.2.100..103,
 *                 2001:db8::1..3), then checks that claims answer consistently
 *   C<mask>       the allocator claims the IPs of mask's bits (holder default/s<bit mod 3>),
 *                 then checks that the claims' answers agree with each other
 *   R<mask>       the same, releasing them
 *   T             runs the timers that are due
 * Calls in flight are numbered newest first. Every input starts a fresh cluster (node-a).
 * Seeds: tests/fuzz/corpus/cluster/ (shapes of etcd 3.4's gateway answers; EDGELB_FUZZ_LOG=1
 * shows what the cluster makes of one). Any crash or sanitizer report is a bug. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "cluster/cluster.h"
#include "cluster/etcd.h"
#include "daemon/agent.h"
#include "lib/ev.h"
#include "lib/ip.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the stand-in transport: calls in flight, answered by the script ---- */

struct etcd_req {
	const char *path;
	etcd_fn fn;
	void *arg;
	bool stream, busy, dead;
	struct etcd_req *next;
};

struct etcd {
	struct etcd_req *reqs;
};

static struct etcd *transport; /* the cluster's, the one made last */

struct etcd *etcd_new(struct ev_loop *loop, const char *endpoints, const struct etcd_tls *tls,
		      char *err, size_t errlen)
{
	(void)loop, (void)endpoints, (void)tls, (void)err, (void)errlen;
	transport = calloc(1, sizeof(struct etcd));
	return transport;
}

static void unlink_req(struct etcd *e, struct etcd_req *r)
{
	for (struct etcd_req **pp = &e->reqs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
}

void etcd_cancel(struct etcd *e, struct etcd_req *r)
{
	if (!r)
		return;
	if (r->busy) {
		r->dead = true;
		return;
	}
	unlink_req(e, r);
	free(r);
}

void etcd_free(struct etcd *e)
{
	while (e && e->reqs)
		etcd_cancel(e, e->reqs);
	free(e);
}

static struct etcd_req *start(struct etcd *e, const char *path, struct json_object *body,
			      bool stream, etcd_fn fn, void *arg)
{
	struct etcd_req *r = calloc(1, sizeof(*r));

	if (!r || !json_object_to_json_string(body))
		abort();
	r->path = path;
	r->fn = fn;
	r->arg = arg;
	r->stream = stream;
	r->next = e->reqs;
	e->reqs = r;
	return r;
}

struct etcd_req *etcd_call(struct etcd *e, const char *path, struct json_object *body,
			   unsigned timeout_ms, etcd_fn fn, void *arg)
{
	(void)timeout_ms;
	return start(e, path, body, false, fn, arg);
}

struct etcd_req *etcd_stream(struct etcd *e, const char *path, struct json_object *body, etcd_fn fn,
			     void *arg)
{
	return start(e, path, body, true, fn, arg);
}

int etcd_call_sync(struct etcd *e, const char *path, struct json_object *body, unsigned timeout_ms)
{
	(void)e, (void)path, (void)body, (void)timeout_ms;
	return 0;
}

const char *etcd_endpoint(const struct etcd *e)
{
	(void)e;
	return "http://192.0.2.9:2379";
}

/* Delivers resp (NULL: err) to the n-th call in flight; a unary call, or a stream given an
 * error, is over afterwards. */
static void deliver(struct etcd *e, unsigned n, struct json_object *resp, const char *err)
{
	struct etcd_req *r = e->reqs;
	unsigned count = 0;

	for (struct etcd_req *q = e->reqs; q; q = q->next)
		count++;
	if (!count)
		return;
	for (n %= count; n; n--)
		r = r->next;
	log_debug("fuzz: %s of %u in flight gets %s", r->path, count,
		  resp ? json_object_to_json_string(resp) : err);
	if (!r->stream || !resp)
		unlink_req(e, r);
	r->busy = true;
	r->fn(r->arg, resp, err);
	r->busy = false;
	if (r->dead)
		unlink_req(e, r);
	if (r->dead || !r->stream || !resp)
		free(r);
}

/* ---- the script ---- */

static const char *const ips[] = {"192.0.2.100", "192.0.2.101", "192.0.2.102", "192.0.2.103",
				  "2001:db8::1", "2001:db8::2", "2001:db8::3"};

static void pass(struct cluster *c, unsigned mask)
{
	bool got[sizeof(ips) / sizeof(ips[0])];
	struct cluster_stats st;
	int n = 0;

	cluster_l2_begin(c);
	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		struct ip ip;

		if (!(mask >> i & 1))
			continue;
		if (ip_parse(ips[i], &ip) < 0)
			abort();
		got[i] = cluster_l2_claim(c, &ip);
		n += got[i];
	}
	cluster_l2_end(c);
	cluster_stats(c, &st);
	/* what status and metrics say matches what the pass was told */
	if (st.l2_ips_held != n || st.members < 0 || (n && !st.lease_live))
		abort();
}

/* The allocator's side of the address claims: check and held_by tell the same story. */
static void claims(struct cluster *c, unsigned mask, bool release)
{
	const struct alloc_claims *cl = cluster_claims(c);
	char holder[3][ALLOC_HOLDER_MAX], other[ALLOC_HOLDER_MAX];
	struct ip ip[sizeof(ips) / sizeof(ips[0])], held[8];

	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		if (ip_parse(ips[i], &ip[i]) < 0)
			abort();
		snprintf(holder[i % 3], sizeof(holder[0]), "default/s%zu", i % 3);
		if (mask >> i & 1)
			(release ? cl->release : cl->claim)(cl->ctx, &ip[i], holder[i % 3]);
	}
	for (int h = 0; h < 3; h++) {
		int n = cl->held_by(cl->ctx, holder[h], held, 8);

		for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
			enum alloc_claim st =
			    cl->check(cl->ctx, &ip[i], holder[h], other, sizeof(other));
			bool in = false;

			for (int k = 0; k < n; k++)
				in |= ip_eq(&held[k], &ip[i]);
			if ((st == ALLOC_CLAIM_MINE || st == ALLOC_CLAIM_ASKING) != in)
				abort();
			if (st == ALLOC_CLAIM_OTHER && (!other[0] || !strcmp(other, holder[h])))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_loop *loop;
	struct agent a = {.node_name = "node-a", .etcd_lease_ttl = 5};
	struct json_object *status;
	struct cluster *c;
	char err[256], *text, *line, *save = NULL;

	if (!loop) {
		/* EDGELB_FUZZ_LOG set: the cluster's log and each answer, to write seeds */
		log_set_level(getenv("EDGELB_FUZZ_LOG") ? LOG_DEBUG
							: (enum log_level)(LOG_ERROR + 1));
		loop = ev_loop_new();
	}
	a.loop = loop;
	c = cluster_new(&a, "http://192.0.2.9:2379", 5, err, sizeof(err));
	if (!c)
		abort();
	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *end;
		unsigned long n = strtoul(line + 1, &end, 10);

		switch (line[0]) {
		case 'A': {
			struct json_object *o = json_tokener_parse(end);

			if (o)
				deliver(transport, (unsigned)n, o, NULL);
			json_object_put(o);
			break;
		}
		case 'E':
			deliver(transport, (unsigned)n, NULL, "http://192.0.2.9:2379: HTTP 503");
			break;
		case 'P':
			pass(c, (unsigned)n);
			break;
		case 'C':
		case 'R':
			claims(c, (unsigned)n, line[0] == 'R');
			break;
		case 'T':
			ev_loop_once(loop, 0);
			break;
		}
	}
	free(text);
	status = json_object_new_object();
	cluster_status_add(c, status);
	json_object_put(status);
	cluster_free(c);
	if (a.reconcile_timer)
		ev_timer_free(a.reconcile_timer);
	return 0;
}
