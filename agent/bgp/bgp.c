/* The agent's side of BGP: which sessions exist, and per session the routes it should carry
 * (the service IPs of the peer's switch with the pool's advertisement options and the node's
 * next hops). The sessions themselves run in the speaker process (speaker.c, exec'd as
 * edgelb-bgp next to edgelbd), which this file starts, feeds with changes (ipc.h), mirrors for
 * the control commands and metrics, and restarts if it dies. Owns no config: it reads a->cfg
 * and the allocator, and tells the agent when a switch's announcement state changes. BFD
 * sessions stay here and tell the speaker when one goes Down. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "bfd/bfd.h"
#include "bgp/bgp.h"
#include "bgp/ipc.h"
#include "config/config.h"
#include "daemon/agent.h"
#include "dataplane/dp.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "netlink/nl.h"

#define MAX_ADDRS  32
#define SYNC_MS	   2000 /* how long a query waits for the speaker */
#define SEND_MS	   5000 /* how long a message waits for room in the channel */
#define RESPAWN_MS 1000 /* pause before restarting a speaker that died young */
#define ATTR_IDS   65535

struct route {
	struct prefix pfx;
	uint32_t attr; /* want: index into the rib's attribute sets; shadow: the set's id */
};

struct rib {
	struct route *r;
	size_t n, cap;
	struct bgp_attrs *attrs;
	size_t n_attrs, cap_attrs;
};

/* A session as the agent sees it. */
struct sess {
	struct bgp_peer_view v; /* the speaker's last report */
	uint32_t id;
	struct bgp *b;
	struct rib want;   /* what the peer should have */
	struct rib shadow; /* what the speaker was told (attr = set id; attrs = the sets by id) */
	bool leaving;	   /* de-configured: layer 2 takes over before the session closes */
	/* the TCP MD5 key, read here: the speaker runs unprivileged and reads no files */
	char key[CFG_PASSWORD_MAX + 1];
	bool warned_nh4, warned_nh6, warned_ids, warned_key;
	struct bfd_sess *bfd; /* when the peer has bfd: true */
};

struct bgp {
	struct agent *a;
	struct ev_loop *loop;
	struct sess **s;
	int n;
	uint32_t next_id;
	char path[PATH_MAX]; /* edgelb-bgp */
	char root[PATH_MAX]; /* the empty directory it is chrooted to; "" when not root */
	pid_t pid;
	int fd; /* the channel to the speaker; -1 while none runs */
	uint64_t spawned_ms;
	struct ev_timer *respawn;
	struct bfd *bfd; /* opened with the first BFD-enabled peer */
};

static bool announced(const struct sess *s)
{
	return !s->leaving && s->v.table_sent && s->v.state == BGP_ESTABLISHED;
}

/* --- adj-RIB-out ------------------------------------------------------------------------- */

static void rib_clear(struct rib *r)
{
	r->n = 0;
	r->n_attrs = 0;
}

static void rib_free(struct rib *r)
{
	free(r->r);
	free(r->attrs);
	memset(r, 0, sizeof(*r));
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap * 2 : 64;
	while (c < need)
		c *= 2;
	p = realloc(p, c * elem);
	if (!p)
		log_fatal("bgp: out of memory");
	*cap = c;
	return p;
}

static uint32_t rib_attr(struct rib *r, const struct bgp_attrs *at)
{
	for (size_t i = 0; i < r->n_attrs; i++)
		if (!memcmp(&r->attrs[i], at, sizeof(*at)))
			return (uint32_t)i;
	r->attrs = grow(r->attrs, &r->cap_attrs, r->n_attrs + 1, sizeof(*at));
	r->attrs[r->n_attrs] = *at;
	return (uint32_t)r->n_attrs++;
}

static void rib_add(struct rib *r, const struct prefix *p, uint32_t attr)
{
	r->r = grow(r->r, &r->cap, r->n + 1, sizeof(*r->r));
	r->r[r->n].pfx = *p;
	r->r[r->n].attr = attr;
	r->n++;
}

static int route_cmp(const void *x, const void *y)
{
	return prefix_cmp(&((const struct route *)x)->pfx, &((const struct route *)y)->pfx);
}

/* Sorted, one entry per prefix (aggregation can map several IPs onto one prefix). */
static void rib_sort(struct rib *r)
{
	size_t o = 0;

	qsort(r->r, r->n, sizeof(*r->r), route_cmp);
	for (size_t i = 0; i < r->n; i++)
		if (!o || prefix_cmp(&r->r[o - 1].pfx, &r->r[i].pfx))
			r->r[o++] = r->r[i];
	r->n = o;
}

/* --- next hops ----------------------------------------------------------------------------- */

static bool is_ll(const struct ip *ip)
{
	return ip->family == AF_INET6 && ip->a[0] == 0xfe && (ip->a[1] & 0xc0) == 0x80;
}

/* RFC 4271 5.1.3 / RFC 2545 3: the node's address on the switch interface that shares the
 * peer's subnet (for the other family, an address on the same interface); the IPv6
 * link-local address too when the peer is on that link. */
static void next_hops(const struct cfg *cfg, const struct cfg_peer *pc, struct bgp_attrs *at)
{
	const struct cfg_switch *sw = cfg_find_switch(cfg, pc->sw);
	struct prefix addrs[MAX_ADDRS];
	int link = -1, n;

	if (!sw)
		return;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < sw->n_ifaces; i++) {
			n = nl_iface_addrs(sw->ifaces[i], addrs, MAX_ADDRS);
			if (pass == 0) {
				for (int k = 0; k < n; k++)
					if (!is_ll(&addrs[k].ip) && prefix_contains(&addrs[k], &pc->addr))
						link = i;
				continue;
			}
			if (link >= 0 && i != link)
				continue;
			for (int k = 0; k < n; k++) {
				const struct ip *ip = &addrs[k].ip;

				if (ip->family == AF_INET && !at->nh4.family)
					at->nh4 = *ip;
				else if (is_ll(ip) && link >= 0 && !pc->ebgp_multihop &&
					 !at->nh6_ll.family)
					at->nh6_ll = *ip;
				else if (ip->family == AF_INET6 && !is_ll(ip) && !at->nh6.family)
					at->nh6 = *ip;
			}
			/* the address in the peer's subnet wins for the session's family */
			for (int k = 0; k < n && link >= 0; k++)
				if (prefix_contains(&addrs[k], &pc->addr)) {
					if (pc->addr.family == AF_INET)
						at->nh4 = addrs[k].ip;
					else
						at->nh6 = addrs[k].ip;
				}
		}
		if (link < 0 && pass == 0 && pc->source_addr.family) {
			/* multihop: the source address is the next hop of its family */
			if (pc->source_addr.family == AF_INET)
				at->nh4 = pc->source_addr;
			else
				at->nh6 = pc->source_addr;
		}
	}
	if (!at->nh6.family)
		memset(&at->nh6_ll, 0, sizeof(at->nh6_ll));
}

/* --- desired routes ------------------------------------------------------------------------ */

struct collect {
	struct sess *s;
	const struct cfg *cfg;
	struct bgp_attrs base;
};

static bool pool_for_peer(const struct cfg_pool *pool, const struct cfg_peer *pc)
{
	if (!pool->adv.n_peers)
		return true;
	for (int i = 0; i < pool->adv.n_peers; i++) {
		struct ip ip;
		if (ip_parse(pool->adv.peers[i], &ip) == 0 && ip_eq(&ip, &pc->addr))
			return true;
	}
	return false;
}

static void collect_one(const struct alloc_assignment *as, void *arg)
{
	struct collect *c = arg;
	struct sess *s = c->s;
	const struct cfg_pool *pool;
	const struct cfg_switch *sw;
	struct bgp_attrs at;
	uint32_t idx;

	if (as->status != ALLOC_ASSIGNED)
		return;
	pool = cfg_find_pool(c->cfg, as->pool);
	if (!pool)
		return;
	sw = cfg_pool_switch(c->cfg, pool);
	if (!sw || strcmp(sw->name, s->v.cfg.sw) || !pool_for_peer(pool, &s->v.cfg))
		return;
	at = c->base;
	at.n_comm = (uint8_t)(pool->adv.n_communities < BGP_MAX_COMM ? pool->adv.n_communities :
								       BGP_MAX_COMM);
	for (int i = 0; i < at.n_comm; i++)
		at.comm[i] = pool->adv.communities[i];
	at.n_large = (uint8_t)(pool->adv.n_large < BGP_MAX_COMM ? pool->adv.n_large : BGP_MAX_COMM);
	for (int i = 0; i < at.n_large; i++) {
		at.large[i][0] = pool->adv.large[i].global;
		at.large[i][1] = pool->adv.large[i].local1;
		at.large[i][2] = pool->adv.large[i].local2;
	}
	if (!at.ebgp) {
		at.has_local_pref = true; /* RFC 4271 5.1.5: always towards internal peers */
		at.local_pref = pool->adv.has_local_pref ? pool->adv.local_pref : 100;
	}
	idx = rib_attr(&s->want, &at);
	for (int i = 0; i < as->n_ips; i++) {
		struct prefix pfx = {.ip = as->ips[i]};
		int bits = ip_bits(&as->ips[i]);
		int len = as->ips[i].family == AF_INET ? pool->adv.agg_len4 : pool->adv.agg_len6;

		pfx.len = (uint8_t)(len > 0 && len <= bits ? len : bits);
		for (int b = pfx.len; b < bits; b++)
			pfx.ip.a[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
		rib_add(&s->want, &pfx, idx);
	}
}

static void warn_nh(struct sess *s)
{
	for (size_t i = 0; i < s->want.n_attrs; i++) {
		const struct bgp_attrs *at = &s->want.attrs[i];
		if (!at->nh4.family && !s->warned_nh4) {
			log_warn(
			    "bgp: peer %s: no IPv4 address on switch \"%s\": IPv4 routes not sent",
			    s->v.name, s->v.cfg.sw);
			s->warned_nh4 = true;
		}
		if (!at->nh6.family && !s->warned_nh6) {
			log_warn(
			    "bgp: peer %s: no IPv6 address on switch \"%s\": IPv6 routes not sent",
			    s->v.name, s->v.cfg.sw);
			s->warned_nh6 = true;
		}
	}
}

/* The desired adj-RIB-out (the 4-octet AS_PATH flag is the speaker's, per session). */
static void compute_want(struct sess *s, struct agent *a)
{
	struct collect c = {.s = s, .cfg = a->cfg};
	const struct cfg_peer *pc = &s->v.cfg;

	rib_clear(&s->want);
	c.base.ebgp = pc->peer_asn != pc->self_asn;
	c.base.local_as = pc->self_asn;
	next_hops(a->cfg, pc, &c.base);
	if (a->alloc)
		alloc_foreach(a->alloc, collect_one, &c);
	rib_sort(&s->want);
	if (s->v.state == BGP_ESTABLISHED)
		warn_nh(s);
}

/* --- the speaker process ------------------------------------------------------------------- */

static void spawn(struct bgp *b);
static void speaker_lost(struct bgp *b, const char *why);

/* Waits while the speaker's queue is full (it never waits on us: it queues), but not for a
 * speaker that stopped reading: after SEND_MS it is killed and restarted. */
static void ipc_send(struct bgp *b, const void *msg, size_t len)
{
	uint64_t until = ev_now_ms() + SEND_MS;

	while (b->fd >= 0 && send(b->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		struct pollfd pfd = {.fd = b->fd, .events = POLLOUT};
		uint64_t now = ev_now_ms();

		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			speaker_lost(b, strerror(errno));
			return;
		}
		if (now >= until) {
			speaker_lost(b, "not reading its channel");
			return;
		}
		poll(&pfd, 1, (int)(until - now));
	}
}

static struct sess *find_id(struct bgp *b, uint32_t id)
{
	for (int i = 0; i < b->n; i++)
		if (b->s[i]->id == id)
			return b->s[i];
	return NULL;
}

static void on_status(struct bgp *b, const struct bgp_ipc_status *m)
{
	struct sess *s = find_id(b, m->h.peer);
	struct cfg_peer cfg;
	bool was, up;

	if (!s)
		return;
	was = announced(s);
	up = s->v.state == BGP_ESTABLISHED;
	cfg = s->v.cfg; /* ours: BFD options change without the speaker */
	s->v = m->v;
	s->v.cfg = cfg;
	/* a new session: a pass recomputes its routes (next hops, warnings) */
	if (was != announced(s) || up != (s->v.state == BGP_ESTABLISHED))
		agent_changed(b->a);
}

/* One message from the speaker; true for the end of a query's answer. */
static bool handle(struct bgp *b, const uint8_t *buf, size_t len)
{
	const struct bgp_ipc_hdr *h = (const struct bgp_ipc_hdr *)buf;

	if (len < sizeof(*h))
		return false;
	if (h->type == BGP_IPC_STATUS && len == sizeof(struct bgp_ipc_status))
		on_status(b, (const struct bgp_ipc_status *)buf);
	return h->type == BGP_IPC_QUERY_END;
}

/* Reads what is there; true when a query's end came by. */
static bool ipc_read(struct bgp *b)
{
	static uint8_t buf[sizeof(struct bgp_ipc_status) + 64];
	bool end = false;

	while (b->fd >= 0) {
		ssize_t r = recv(b->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) {
			speaker_lost(b, r ? strerror(errno) : "channel closed");
			break;
		}
		end |= handle(b, buf, (size_t)r);
	}
	return end;
}

static void ipc_cb(int fd, uint32_t events, void *arg)
{
	ipc_read(arg);
}

void bgp_sync(struct bgp *b)
{
	struct bgp_ipc_hdr q = {BGP_IPC_QUERY, 0};
	uint64_t until = ev_now_ms() + SYNC_MS;

	if (!b || b->fd < 0)
		return;
	ipc_send(b, &q, sizeof(q));
	while (b->fd >= 0) {
		struct pollfd pfd = {.fd = b->fd, .events = POLLIN};
		uint64_t now = ev_now_ms();

		if (now >= until) {
			log_warn("bgp: the speaker did not answer within %d ms", SYNC_MS);
			return;
		}
		if (poll(&pfd, 1, (int)(until - now)) > 0 && ipc_read(b))
			return;
	}
}

/* --- telling the speaker ------------------------------------------------------------------- */

/* Reads the peer's key (password, or the first line of passwordFile); true when it differs
 * from the one the session has. */
static bool key_changed(struct sess *s)
{
	char key[sizeof(s->key)];

	if (bgp_peer_key(&s->v.cfg, key, sizeof(key)) < 0 && !s->warned_key) {
		log_warn("bgp: peer %s: password file %s: %s (no TCP MD5 key until it can be read)",
			 s->v.name, s->v.cfg.password_file, strerror(errno));
		s->warned_key = true;
	}
	if (!strcmp(key, s->key))
		return false;
	memcpy(s->key, key, sizeof(key));
	return true;
}

static void send_peer(struct sess *s)
{
	struct bgp *b = s->b;
	struct bgp_ipc_peer m = {.h = {BGP_IPC_PEER, s->id},
				 .cfg = s->v.cfg,
				 .router_id = s->v.router_id,
				 /* RFC 4724 4.1: the agent that adopted the previous run's
				  * dataplane kept forwarding while it was away */
				 .gr_fwd = dp_adopted(b->a->dp),
				 .agent_started_ms = b->a->started_ms};

	snprintf(m.cfg.password, sizeof(m.cfg.password), "%s", s->key);
	m.cfg.password_file[0] = '\0';
	ipc_send(b, &m, sizeof(m));
	for (size_t i = 0; i < s->shadow.n_attrs; i++) {
		struct bgp_ipc_attrs at = {
		    .h = {BGP_IPC_ATTRS, s->id}, .id = (uint16_t)(i + 1), .at = s->shadow.attrs[i]};
		ipc_send(b, &at, sizeof(at));
	}
}

/* The stable id of an attribute set (sent to the speaker when new); 0 when ids ran out. */
static uint16_t attr_id(struct sess *s, const struct bgp_attrs *at)
{
	struct rib *sh = &s->shadow;
	size_t n = sh->n_attrs;
	struct bgp_ipc_attrs m = {.h = {BGP_IPC_ATTRS, s->id}, .at = *at};

	for (size_t i = 0; i < n; i++)
		if (!memcmp(&sh->attrs[i], at, sizeof(*at)))
			return (uint16_t)(i + 1);
	if (n == ATTR_IDS) {
		if (!s->warned_ids)
			log_err("bgp: peer %s: more than %d distinct attribute sets: routes with "
				"new ones are not sent",
				s->v.name, ATTR_IDS);
		s->warned_ids = true;
		return 0;
	}
	rib_attr(sh, at);
	m.id = (uint16_t)(n + 1);
	ipc_send(s->b, &m, sizeof(m));
	return m.id;
}

struct batch {
	struct sess *s;
	struct bgp_ipc_routes *m;
};

static void batch_add(struct batch *t, const struct prefix *p, uint16_t attr)
{
	t->m->r[t->m->n++] = (struct bgp_ipc_route){*p, attr};
	if (t->m->n < BGP_IPC_ROUTES_MAX)
		return;
	ipc_send(t->s->b, t->m, sizeof(*t->m) + t->m->n * sizeof(t->m->r[0]));
	t->m->n = 0;
}

/* Sends the speaker the difference between what it holds for the session and `want`. */
static void send_routes(struct sess *s)
{
	static uint8_t buf[BGP_IPC_MAX];
	struct batch t = {s, (struct bgp_ipc_routes *)buf};
	uint16_t *ids = malloc((s->want.n_attrs + 1) * sizeof(*ids));
	const struct rib *sh = &s->shadow;
	struct route *next;
	size_t i = 0, j = 0;

	if (!ids || !(next = malloc((s->want.n + 1) * sizeof(*next))))
		log_fatal("bgp: out of memory");
	*t.m = (struct bgp_ipc_routes){.h = {BGP_IPC_ROUTES, s->id}};
	for (size_t k = 0; k < s->want.n_attrs; k++)
		ids[k] = attr_id(s, &s->want.attrs[k]);
	for (size_t k = 0; k < s->want.n; k++)
		next[k] = (struct route){s->want.r[k].pfx, ids[s->want.r[k].attr]};
	while (i < sh->n || j < s->want.n) {
		int c = i == sh->n	 ? 1
			: j == s->want.n ? -1
					 : prefix_cmp(&sh->r[i].pfx, &next[j].pfx);

		if (c < 0)
			batch_add(&t, &sh->r[i++].pfx, 0);
		else if (c > 0 || sh->r[i++].attr != next[j].attr)
			batch_add(&t, &next[j].pfx, (uint16_t)next[j].attr);
		if (c >= 0)
			j++;
	}
	t.m->complete = 1;
	ipc_send(s->b, t.m, sizeof(*t.m) + t.m->n * sizeof(t.m->r[0]));
	free(s->shadow.r);
	s->shadow.r = next;
	s->shadow.n = s->shadow.cap = s->want.n;
	free(ids);
}

/* --- sessions ------------------------------------------------------------------------------ */

static uint32_t router_id(struct agent *a, const struct cfg_peer *pc)
{
	const struct cfg_switch *sw;
	struct prefix addrs[MAX_ADDRS];
	uint32_t h = 2166136261u;

	if (pc->router_id.family == AF_INET)
		return (uint32_t)pc->router_id.a[0] << 24 | pc->router_id.a[1] << 16 |
		       pc->router_id.a[2] << 8 | pc->router_id.a[3];
	sw = cfg_find_switch(a->cfg, pc->sw);
	for (int i = 0; sw && i < sw->n_ifaces; i++) {
		int n = nl_iface_addrs(sw->ifaces[i], addrs, MAX_ADDRS);
		for (int k = 0; k < n; k++)
			if (addrs[k].ip.family == AF_INET)
				return (uint32_t)addrs[k].ip.a[0] << 24 | addrs[k].ip.a[1] << 16 |
				       addrs[k].ip.a[2] << 8 | addrs[k].ip.a[3];
	}
	/* no IPv4 address: a stable identifier from the node name (RFC 6286 allows any) */
	for (const char *c = a->node_name ? a->node_name : "edgelb"; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	return h ? h : 1;
}

/* RFC 5882 4.2: a BFD session that was Up going Down tears the BGP session down at once. The
 * remote's AdminDown is not a failure (RFC 5882 3.2) and changes nothing here. */
static void on_bfd(struct bfd_sess *bs, enum bfd_state old, void *arg)
{
	struct sess *s = arg;
	struct bgp_ipc_hdr m = {BGP_IPC_BFD_DOWN, s->id};

	if (old == BFD_UP && bs->state == BFD_DOWN && bs->remote_state != BFD_ADMIN_DOWN)
		ipc_send(s->b, &m, sizeof(m));
}

_Static_assert(CFG_BFD_KEY_MAX == BFD_AUTH_KEY_MAX, "bfd: key sizes");
_Static_assert(CFG_BFD_ACCEPT_MAX == BFD_AUTH_ACCEPT_MAX, "bfd: accepted key counts");

/* A key of the peer's BFD authentication type (key at most CFG_BFD_KEY_MAX bytes). */
static struct bfd_auth bfd_key(const struct cfg_peer *pc, uint8_t id, const char *key)
{
	struct bfd_auth a = {.type = pc->bfd_auth_type, .key_id = id};

	a.key_len = (uint8_t)strlen(key);
	memcpy(a.key, key, a.key_len);
	return a;
}

static struct bfd_params bfd_params(const struct cfg_peer *pc)
{
	uint32_t echo_ms =
	    pc->bfd_echo_interval_ms ? pc->bfd_echo_interval_ms : CFG_BFD_ECHO_DEF_MS;
	struct bfd_params pr = {
	    .min_tx_us = (pc->bfd_min_tx_ms ? pc->bfd_min_tx_ms : BFD_DEF_MIN_TX_MS) * 1000u,
	    .min_rx_us = (pc->bfd_min_rx_ms ? pc->bfd_min_rx_ms : BFD_DEF_MIN_RX_MS) * 1000u,
	    .mult = pc->bfd_mult ? pc->bfd_mult : BFD_DEF_MULT,
	    /* a peer reached through routers (ebgpMultiHop above 1) gets multihop BFD */
	    .multihop = pc->ebgp_multihop > 1,
	    .min_ttl = pc->bfd_min_ttl,
	    .passive = pc->bfd_passive,
	    .auth = bfd_key(pc, pc->bfd_auth_key_id, pc->bfd_auth_key),
	    .n_accept = pc->bfd_auth_type ? pc->n_bfd_auth_accept : 0,
	    .echo_us = pc->bfd_echo ? echo_ms * 1000u : 0,
	    /* the peer's echoes come back to it through this node's forwarding */
	    .echo_reflect = pc->bfd_echo && bfd_echo_can_reflect(),
	};

	for (int i = 0; i < pr.n_accept; i++)
		pr.accept[i] = bfd_key(pc, pc->bfd_auth_accept[i].id, pc->bfd_auth_accept[i].key);
	return pr;
}

/* Brings the peer's BFD session to what pc asks for, without restarting BGP. */
static void sess_bfd_sync(struct sess *s, const struct cfg_peer *pc)
{
	struct bfd_params pr = bfd_params(pc);
	struct cfg_peer *cur = &s->v.cfg;

	cur->bfd = pc->bfd;
	cur->bfd_min_tx_ms = pc->bfd_min_tx_ms;
	cur->bfd_min_rx_ms = pc->bfd_min_rx_ms;
	cur->bfd_mult = pc->bfd_mult;
	cur->bfd_passive = pc->bfd_passive;
	cur->bfd_min_ttl = pc->bfd_min_ttl;
	cur->bfd_echo = pc->bfd_echo;
	cur->bfd_echo_interval_ms = pc->bfd_echo_interval_ms;
	cur->bfd_auth_type = pc->bfd_auth_type;
	cur->bfd_auth_key_id = pc->bfd_auth_key_id;
	memcpy(cur->bfd_auth_key, pc->bfd_auth_key, sizeof(cur->bfd_auth_key));
	cur->n_bfd_auth_accept = pc->n_bfd_auth_accept;
	memcpy(cur->bfd_auth_accept, pc->bfd_auth_accept, sizeof(cur->bfd_auth_accept));
	if (!pc->bfd) {
		bfd_sess_free(s->bfd);
		s->bfd = NULL;
		return;
	}
	if (s->bfd) {
		bfd_sess_set_params(s->bfd, &pr);
		return;
	}
	if (!s->b->bfd)
		s->b->bfd = bfd_new(s->b->loop, BFD_PORT, NULL, NULL);
	s->bfd = bfd_sess_new(s->b->bfd, &pc->addr, &pc->source_addr, &pr, on_bfd, s);
}

struct bfd_sess *bgp_peer_bfd(const struct bgp_peer_view *v)
{
	const struct sess *s = (const struct sess *)((const char *)v - offsetof(struct sess, v));
	return s->bfd;
}

struct bfd *bgp_bfd(const struct bgp *b)
{
	return b->bfd;
}

static struct sess *sess_new(struct bgp *b, const struct cfg_peer *pc)
{
	struct sess *s = calloc(1, sizeof(*s));

	if (!s)
		log_fatal("bgp: out of memory");
	s->b = b;
	s->id = ++b->next_id;
	s->v.cfg = *pc;
	ip_str(&pc->addr, s->v.name);
	s->v.router_id = router_id(b->a, pc);
	s->v.peer_asn = pc->peer_asn;
	if (pc->asn_mode == CFG_ASN_EXTERNAL)
		log_info("bgp: peer %s: configured (AS: any but ours, from its OPEN; our AS %u, "
			 "switch \"%s\")",
			 s->v.name, pc->self_asn, pc->sw);
	else
		log_info("bgp: peer %s: configured (AS %u, our AS %u, switch \"%s\")", s->v.name,
			 pc->peer_asn, pc->self_asn, pc->sw);
	key_changed(s);
	sess_bfd_sync(s, pc);
	send_peer(s);
	return s;
}

/* Closes with a Cease (RFC 4486) and frees; true when the switch's routes had been announced
 * through this session (the caller then asks for a pass so layer 2 takes over). */
static bool sess_free(struct sess *s, uint8_t cease)
{
	bool was = s->v.table_sent && s->v.state == BGP_ESTABLISHED;
	struct bgp_ipc_del m = {.h = {BGP_IPC_PEER_DEL, s->id}, .cease = cease};

	bfd_sess_free(s->bfd); /* AdminDown first: the peer's BFD client sees no failure */
	ipc_send(s->b, &m, sizeof(m));
	rib_free(&s->want);
	rib_free(&s->shadow);
	free(s);
	return was;
}

static bool peer_cfg_same(const struct cfg_peer *x, const struct cfg_peer *y)
{
	return ip_eq(&x->addr, &y->addr) && x->peer_asn == y->peer_asn &&
	       x->self_asn == y->self_asn && !strcmp(x->sw, y->sw) &&
	       x->hold_time == y->hold_time && x->has_hold_time == y->has_hold_time &&
	       x->keepalive_time == y->keepalive_time && x->connect_time == y->connect_time &&
	       !strcmp(x->password, y->password) && !strcmp(x->password_file, y->password_file) &&
	       x->ebgp_multihop == y->ebgp_multihop &&
	       !memcmp(&x->source_addr, &y->source_addr, sizeof(x->source_addr)) &&
	       x->peer_port == y->peer_port && x->passive == y->passive &&
	       !memcmp(&x->router_id, &y->router_id, sizeof(x->router_id)) &&
	       x->graceful_restart == y->graceful_restart;
}

static void remove_at(struct bgp *b, int i)
{
	memmove(&b->s[i], &b->s[i + 1], (size_t)(b->n - i - 1) * sizeof(*b->s));
	b->n--;
}

int bgp_reconcile(struct bgp *b, struct agent *a)
{
	const struct cfg *cfg = a->cfg;

	/* sessions whose peer went away or changed */
	for (int i = 0; i < b->n; i++) {
		struct sess *s = b->s[i];
		const struct cfg_peer *pc =
		    cfg ? cfg_find_peer(cfg, &s->v.cfg.addr, s->v.cfg.sw) : NULL;

		if (pc && peer_cfg_same(pc, &s->v.cfg) && s->v.cfg.password_file[0] &&
		    key_changed(s)) {
			log_info("bgp: peer %s: the key in %s changed, restarting the session",
				 s->v.name, s->v.cfg.password_file);
			if (sess_free(s, BGP_CEASE_CONFIG_CHANGE))
				agent_changed(a);
			remove_at(b, i--);
			continue;
		}
		if (pc && peer_cfg_same(pc, &s->v.cfg)) {
			s->leaving = false;
			sess_bfd_sync(s, pc);
			continue;
		}
		if (pc) {
			log_info("bgp: peer %s: configuration changed, restarting the session",
				 s->v.name);
			if (sess_free(s, BGP_CEASE_CONFIG_CHANGE))
				agent_changed(a);
			remove_at(b, i--);
			continue;
		}
		/* Layer 2 answers first (this pass makes bgp_switch_announced() false), then the
		 * Cease on the next pass, so traffic keeps a path. */
		if (!s->leaving && announced(s)) {
			s->leaving = true;
			agent_changed(a);
			continue;
		}
		log_info("bgp: peer %s: removed", s->v.name);
		if (sess_free(s, BGP_CEASE_DECONFIGURED))
			agent_changed(a);
		remove_at(b, i--);
	}
	for (int i = 0; cfg && i < cfg->n_peers; i++) {
		if (bgp_find_peer(b, &cfg->peers[i].addr, cfg->peers[i].sw))
			continue;
		b->s = realloc(b->s, (size_t)(b->n + 1) * sizeof(*b->s));
		if (!b->s)
			log_fatal("bgp: out of memory");
		b->s[b->n++] = sess_new(b, &cfg->peers[i]);
	}
	/* routes stay as they are on a leaving session until the Cease: layer 2 is taking over */
	for (int i = 0; i < b->n; i++)
		if (!b->s[i]->leaving) {
			compute_want(b->s[i], a);
			send_routes(b->s[i]);
		}
	return 0;
}

/* --- the speaker's life -------------------------------------------------------------------- */

static void spawn(struct bgp *b)
{
	char port[8];
	const char *argv[] = {
	    "edgelb-bgp", "--bgp-port", port, "--log-level", log_level_name(log_get_level()),
	    "--chroot",	  b->root,	NULL};
	int sv[2];

	snprintf(port, sizeof(port), "%u", b->a->bgp_port ? b->a->bgp_port : BGP_PORT);
	if (!b->root[0])
		argv[5] = NULL; /* not root: no chroot */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		log_fatal("bgp: socketpair: %s", strerror(errno));
	b->pid = fork();
	if (b->pid < 0)
		log_fatal("bgp: fork: %s", strerror(errno));
	if (b->pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(sv[1], BGP_IPC_FD) < 0)
			_exit(127);
		if (sv[1] == BGP_IPC_FD)
			fcntl(BGP_IPC_FD, F_SETFD, 0);
		execv(b->path, (char *const *)argv);
		fprintf(stderr, "edgelbd: %s: %s\n", b->path, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	b->fd = sv[0];
	b->spawned_ms = ev_now_ms();
	ev_fd_add(b->loop, b->fd, EPOLLIN, ipc_cb, b);
	log_info("bgp: speaker started (%s, pid %d)", b->path, (int)b->pid);
	for (int i = 0; i < b->n; i++) {
		struct sess *s = b->s[i];

		free(s->shadow.r); /* the new speaker holds nothing yet */
		s->shadow.r = NULL;
		s->shadow.n = s->shadow.cap = 0;
		send_peer(s);
		if (!s->leaving)
			send_routes(s);
	}
}

static void respawn_cb(struct ev_timer *t, void *arg)
{
	spawn(arg);
}

/* The speaker died: sessions are down until a new one runs (layer 2 takes over meanwhile). */
static void speaker_lost(struct bgp *b, const char *why)
{
	int status = 0;
	bool young = ev_now_ms() - b->spawned_ms < 5000;

	if (b->fd < 0)
		return;
	ev_fd_del(b->loop, b->fd);
	close(b->fd);
	b->fd = -1;
	kill(b->pid, SIGKILL);
	waitpid(b->pid, &status, 0);
	log_err("bgp: the speaker (pid %d) is gone (%s; %s %d); restarting it", (int)b->pid, why,
		WIFSIGNALED(status) ? "signal" : "exit status",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	for (int i = 0; i < b->n; i++) {
		struct sess *s = b->s[i];

		if (announced(s))
			agent_changed(b->a);
		s->v.state = BGP_IDLE;
		s->v.table_sent = false;
		s->v.announced = s->v.pending = 0;
	}
	ev_timer_arm(b->respawn, young ? RESPAWN_MS : 0);
}

/* edgelb-bgp sits next to edgelbd. */
static int speaker_path(struct bgp *b, char *err, size_t errlen)
{
	ssize_t n = readlink("/proc/self/exe", b->path, sizeof(b->path) - 16);
	char *slash;

	if (n < 0) {
		snprintf(err, errlen, "/proc/self/exe: %s", strerror(errno));
		return -1;
	}
	b->path[n] = '\0';
	slash = strrchr(b->path, '/');
	strcpy(slash ? slash + 1 : b->path, "edgelb-bgp");
	if (access(b->path, X_OK) < 0) {
		snprintf(err, errlen, "%s: %s (the speaker is installed next to edgelbd)", b->path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* The speaker's root: <run-dir>/bgp-empty, made here, empty, owned by root and writable by
 * root alone (OpenBGPD's session engine chroots to /var/empty likewise). */
static int speaker_root(struct bgp *b, const char *run_dir, char *err, size_t errlen)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int extra = 0;

	b->root[0] = '\0';
	if (geteuid() != 0)
		return 0; /* the speaker cannot chroot either */
	if ((size_t)snprintf(b->root, sizeof(b->root), "%s/bgp-empty", run_dir) >=
	    sizeof(b->root)) {
		snprintf(err, errlen, "--run-dir %s: too long", run_dir);
		return -1;
	}
	if (mkdir(b->root, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", b->root, strerror(errno));
		return -1;
	}
	if (lstat(b->root, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022)) {
		snprintf(err, errlen,
			 "%s: not a directory owned by root and writable by root alone "
			 "(the BGP speaker's empty root)",
			 b->root);
		return -1;
	}
	d = opendir(b->root);
	while (d && (e = readdir(d)))
		extra += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	if (!d || extra) {
		snprintf(err, errlen, "%s: %s (the BGP speaker's root must be empty)", b->root,
			 d ? "not empty" : strerror(errno));
		return -1;
	}
	return 0;
}

struct bgp *bgp_new(struct agent *a, char *err, size_t errlen)
{
	struct bgp *b = calloc(1, sizeof(*b));

	if (!b)
		log_fatal("bgp: out of memory");
	b->a = a;
	b->loop = a->loop;
	b->fd = -1;
	if (speaker_path(b, err, errlen) < 0 || speaker_root(b, a->run_dir, err, errlen) < 0) {
		free(b);
		return NULL;
	}
	b->respawn = ev_timer_new(a->loop, respawn_cb, b);
	spawn(b);
	return b;
}

void bgp_free(struct bgp *b)
{
	struct bgp_ipc_hdr m = {BGP_IPC_EXIT, 0};
	int status;

	if (!b)
		return;
	for (int i = 0; i < b->n; i++) {
		bfd_sess_free(b->s[i]->bfd);
		rib_free(&b->s[i]->want);
		rib_free(&b->s[i]->shadow);
		free(b->s[i]);
	}
	free(b->s);
	bfd_free(b->bfd);
	if (b->fd >= 0) {
		/* the speaker sends each peer a Cease (administrative shutdown) and exits */
		ipc_send(b, &m, sizeof(m));
		for (int t = 0; t < 300 && waitpid(b->pid, &status, WNOHANG) == 0; t++)
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
		if (waitpid(b->pid, &status, WNOHANG) == 0) {
			kill(b->pid, SIGKILL);
			waitpid(b->pid, &status, 0);
		}
		ev_fd_del(b->loop, b->fd);
		close(b->fd);
	}
	ev_timer_free(b->respawn);
	free(b);
}

bool bgp_switch_announced(struct bgp *b, const char *sw)
{
	for (int i = 0; b && i < b->n; i++)
		if (announced(b->s[i]) && !strcmp(b->s[i]->v.cfg.sw, sw))
			return true;
	return false;
}

void bgp_foreach_peer(struct bgp *b, bgp_peer_iter_fn fn, void *arg)
{
	for (int i = 0; b && i < b->n; i++)
		fn(&b->s[i]->v, arg);
}

struct bgp_peer_view *bgp_find_peer(struct bgp *b, const struct ip *addr, const char *sw)
{
	for (int i = 0; b && i < b->n; i++)
		if (ip_eq(&b->s[i]->v.cfg.addr, addr) && (!sw || !strcmp(b->s[i]->v.cfg.sw, sw)))
			return &b->s[i]->v;
	return NULL;
}
