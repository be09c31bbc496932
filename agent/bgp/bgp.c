/* The speaker: sessions for the configured peers, the listening sockets, and per peer an
 * adj-RIB-out (the service IPs of the peer's switch with the pool's advertisement options).
 * Changes are coalesced over a short window, then every prefix sharing attributes is packed
 * into as few UPDATEs as fit; End-of-RIB follows the initial table. Owns no config: it reads
 * a->cfg and the allocator, and tells the agent when a switch's announcement state changes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "bfd/bfd.h"
#include "bgp/bgp.h"
#include "bgp/peer.h"
#include "config/config.h"
#include "daemon/agent.h"
#include "dataplane/dp.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "netlink/nl.h"

#define COALESCE_MS 50
#define MAX_ADDRS   32

struct route {
	struct prefix pfx;
	uint32_t attr; /* index into the rib's attribute sets */
};

struct rib {
	struct route *r;
	size_t n, cap;
	struct bgp_attrs *attrs;
	size_t n_attrs, cap_attrs;
};

/* The speaker's side of a peer (peer->glue). */
struct sess {
	struct bgp *b;
	struct bgp_peer *p;
	struct rib want, sent;
	bool table_queued; /* initial table and End-of-RIB queued since Established */
	bool table_sent;   /* ... and written to the socket: the peer has them (layer 2 may stop) */
	bool leaving;	 /* de-configured: layer 2 takes over before the session closes */
	bool warned_nh4, warned_nh6;
	struct bfd_sess *bfd; /* when the peer has bfd: true */
};

struct bgp {
	struct agent *a;
	struct ev_loop *loop;
	int lfd[2]; /* listening sockets: IPv4, IPv6 */
	struct sess **s;
	int n;
	struct ev_timer *flush;
	struct bfd *bfd; /* opened with the first BFD-enabled peer */
};

static void table_done(struct sess *s);

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

static int pfx_cmp(const struct prefix *a, const struct prefix *b)
{
	int c = ip_cmp(&a->ip, &b->ip);
	return c ? c : (int)a->len - (int)b->len;
}

static int route_cmp(const void *x, const void *y)
{
	return pfx_cmp(&((const struct route *)x)->pfx, &((const struct route *)y)->pfx);
}

/* Sorted, one entry per prefix (aggregation can map several IPs onto one prefix). */
static void rib_sort(struct rib *r)
{
	size_t o = 0;

	qsort(r->r, r->n, sizeof(*r->r), route_cmp);
	for (size_t i = 0; i < r->n; i++)
		if (!o || pfx_cmp(&r->r[o - 1].pfx, &r->r[i].pfx))
			r->r[o++] = r->r[i];
	r->n = o;
}

static void rib_copy(struct rib *dst, const struct rib *src)
{
	dst->r = grow(dst->r, &dst->cap, src->n, sizeof(*dst->r));
	dst->attrs = grow(dst->attrs, &dst->cap_attrs, src->n_attrs, sizeof(*dst->attrs));
	if (src->n)
		memcpy(dst->r, src->r, src->n * sizeof(*src->r));
	if (src->n_attrs)
		memcpy(dst->attrs, src->attrs, src->n_attrs * sizeof(*src->attrs));
	dst->n = src->n;
	dst->n_attrs = src->n_attrs;
}

static bool rib_eq(const struct rib *a, const struct rib *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (pfx_cmp(&a->r[i].pfx, &b->r[i].pfx) ||
		    memcmp(&a->attrs[a->r[i].attr], &b->attrs[b->r[i].attr], sizeof(struct bgp_attrs)))
			return false;
	return true;
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

static bool pool_for_peer(const struct cfg_pool *pool, const struct bgp_peer *p)
{
	if (!pool->adv.n_peers)
		return true;
	for (int i = 0; i < pool->adv.n_peers; i++) {
		struct ip ip;
		if (ip_parse(pool->adv.peers[i], &ip) == 0 && ip_eq(&ip, &p->cfg.addr))
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
	if (!sw || strcmp(sw->name, s->p->cfg.sw) || !pool_for_peer(pool, s->p))
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

/* The desired adj-RIB-out; true when it differs from what was sent. */
static bool compute_want(struct sess *s, struct agent *a)
{
	struct collect c = {.s = s, .cfg = a->cfg};
	const struct cfg_peer *pc = &s->p->cfg;

	if (s->leaving)
		return false; /* routes stay until the Cease: layer 2 is taking over */
	rib_clear(&s->want);
	c.base.ebgp = pc->peer_asn != pc->self_asn;
	c.base.as4 = s->p->neg.as4;
	c.base.local_as = pc->self_asn;
	next_hops(a->cfg, pc, &c.base);
	if (a->alloc)
		alloc_foreach(a->alloc, collect_one, &c);
	rib_sort(&s->want);
	return !rib_eq(&s->want, &s->sent);
}

/* --- sending ---------------------------------------------------------------------------- */

static bool fam_ok(const struct sess *s, const struct prefix *p, const struct bgp_attrs *at)
{
	const struct bgp_peer *pe = s->p;

	if (p->ip.family == AF_INET)
		return pe->neg.mp_ipv4 && (!at || at->nh4.family);
	return pe->neg.mp_ipv6 && (!at || at->nh6.family);
}

/* Packs prefixes of one family into UPDATEs (announce with at, or withdraw) and queues them. */
static void send_prefixes(struct sess *s, const struct bgp_attrs *at, int afi,
			  const struct prefix *pfx, size_t n)
{
	uint8_t buf[BGP_MAX_LEN];

	while (n) {
		struct wbuf w = wbuf_make(buf, sizeof(buf));
		size_t done = bgp_update_encode(&w, BGP_MAX_LEN, at, afi, pfx, n);

		if (w.err || done == 0)
			log_fatal("bgp: peer %s: UPDATE encoding failed", s->p->name);
		bgp_peer_send(s->p, buf, w.len);
		s->p->st.upd_tx++;
		s->p->st.prefixes_tx += done;
		pfx += done;
		n -= done;
	}
}

struct pending {
	struct prefix pfx;
	uint32_t attr;
};

static int pending_cmp(const void *x, const void *y)
{
	const struct pending *a = x, *b = y;

	if (a->attr != b->attr)
		return a->attr < b->attr ? -1 : 1;
	if (a->pfx.ip.family != b->pfx.ip.family)
		return a->pfx.ip.family < b->pfx.ip.family ? -1 : 1;
	return pfx_cmp(&a->pfx, &b->pfx);
}

/* Sends runs of same-attribute, same-family prefixes; attr UINT32_MAX = withdraw. */
static void send_pending(struct sess *s, struct pending *pd, size_t n)
{
	struct prefix *tmp;
	size_t i = 0;

	if (!n)
		return;
	qsort(pd, n, sizeof(*pd), pending_cmp);
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		log_fatal("bgp: out of memory");
	while (i < n) {
		size_t j = i, k = 0;

		while (j < n && pd[j].attr == pd[i].attr && pd[j].pfx.ip.family == pd[i].pfx.ip.family)
			tmp[k++] = pd[j++].pfx;
		send_prefixes(s, pd[i].attr == UINT32_MAX ? NULL : &s->want.attrs[pd[i].attr],
			      pd[i].pfx.ip.family == AF_INET ? BGP_AFI_IPV4 : BGP_AFI_IPV6, tmp, k);
		i = j;
	}
	free(tmp);
}

static void warn_nh(struct sess *s)
{
	for (size_t i = 0; i < s->want.n_attrs; i++) {
		const struct bgp_attrs *at = &s->want.attrs[i];
		if (!at->nh4.family && !s->warned_nh4) {
			log_warn("bgp: peer %s: no IPv4 address on switch \"%s\": IPv4 routes not sent",
				 s->p->name, s->p->cfg.sw);
			s->warned_nh4 = true;
		}
		if (!at->nh6.family && !s->warned_nh6) {
			log_warn("bgp: peer %s: no IPv6 address on switch \"%s\": IPv6 routes not sent",
				 s->p->name, s->p->cfg.sw);
			s->warned_nh6 = true;
		}
	}
}

/* Brings the peer's routes from `sent` to `want`: withdrawals, then announcements grouped by
 * attributes; End-of-RIB after the first table (RFC 4724 2). */
static void sess_flush(struct sess *s)
{
	struct pending *pd;
	size_t i = 0, j = 0, n = 0, w = 0;
	uint8_t buf[64];

	if (s->p->state != BGP_ESTABLISHED)
		return;
	pd = malloc((s->want.n + s->sent.n + 1) * sizeof(*pd));
	if (!pd)
		log_fatal("bgp: out of memory");
	/* withdrawals: sent and no longer wanted */
	while (i < s->sent.n) {
		int c = j < s->want.n ? pfx_cmp(&s->sent.r[i].pfx, &s->want.r[j].pfx) : -1;

		if (c < 0) {
			if (fam_ok(s, &s->sent.r[i].pfx, &s->sent.attrs[s->sent.r[i].attr]))
				pd[n++] = (struct pending){s->sent.r[i].pfx, UINT32_MAX};
			i++;
		} else if (c > 0) {
			j++;
		} else {
			i++;
			j++;
		}
	}
	w = n;
	send_pending(s, pd, n);
	n = 0;
	/* announcements: new, or with other attributes (an implicit replace, RFC 4271 3.1) */
	for (i = 0, j = 0; j < s->want.n; j++) {
		const struct route *r = &s->want.r[j];
		bool same = false;

		while (i < s->sent.n && pfx_cmp(&s->sent.r[i].pfx, &r->pfx) < 0)
			i++;
		if (i < s->sent.n && !pfx_cmp(&s->sent.r[i].pfx, &r->pfx))
			same = !memcmp(&s->sent.attrs[s->sent.r[i].attr], &s->want.attrs[r->attr],
				       sizeof(struct bgp_attrs));
		if (!same && fam_ok(s, &r->pfx, &s->want.attrs[r->attr]))
			pd[n++] = (struct pending){r->pfx, r->attr};
	}
	send_pending(s, pd, n);
	free(pd);
	warn_nh(s);
	if (w || n)
		log_info("bgp: peer %s: sent %zu withdrawals, %zu announcements", s->p->name, w, n);
	rib_copy(&s->sent, &s->want);
	if (!s->table_queued) {
		for (int afi = BGP_AFI_IPV4; afi <= BGP_AFI_IPV6; afi++) {
			struct wbuf wb = wbuf_make(buf, sizeof(buf));

			if (afi == BGP_AFI_IPV4 ? !s->p->neg.mp_ipv4 : !s->p->neg.mp_ipv6)
				continue;
			bgp_eor_encode(&wb, afi);
			bgp_peer_send(s->p, buf, wb.len);
			s->p->st.upd_tx++;
		}
		s->table_queued = true;
		table_done(s);
	}
}

/* The initial table counts as announced once the socket took all of it, End-of-RIB included:
 * only then may layer 2 stop answering, and the reconcile pass that follows (long with 100,000
 * services) no longer holds the rest of the table back in our send buffer. */
static void table_done(struct sess *s)
{
	if (!s->table_queued || s->table_sent || !bgp_peer_tx_idle(s->p))
		return;
	s->table_sent = true;
	log_info("bgp: peer %s: initial table sent (%zu prefixes), End-of-RIB", s->p->name,
		 s->sent.n);
	agent_changed(s->b->a);
}

static void flush_cb(struct ev_timer *t, void *arg)
{
	struct bgp *b = arg;

	for (int i = 0; i < b->n; i++)
		sess_flush(b->s[i]);
}

static void schedule_flush(struct bgp *b)
{
	if (!ev_timer_armed(b->flush))
		ev_timer_arm(b->flush, COALESCE_MS);
}

/* --- peer hooks ---------------------------------------------------------------------------- */

static void on_up(struct bgp_peer *p)
{
	struct sess *s = p->glue;

	p->our_caps.gr_flags &= (uint8_t)~BGP_GR_F_RESTART;
	rib_clear(&s->sent);
	s->table_queued = s->table_sent = false;
	compute_want(s, s->b->a);
	/* the initial table goes out at once: nothing to coalesce with */
	ev_timer_arm(s->b->flush, 0);
}

static void on_down(struct bgp_peer *p)
{
	struct sess *s = p->glue;

	rib_clear(&s->sent);
	s->table_queued = false;
	if (s->table_sent) {
		s->table_sent = false;
		agent_changed(s->b->a);
	}
}

static void on_drained(struct bgp_peer *p)
{
	table_done(p->glue);
}

/* RFC 2918 4: answer a ROUTE-REFRESH by sending the family's routes again. */
static void on_refresh(struct bgp_peer *p, int afi)
{
	struct sess *s = p->glue;
	int fam = afi == BGP_AFI_IPV4 ? AF_INET : AF_INET6;
	size_t o = 0;

	for (size_t i = 0; i < s->sent.n; i++)
		if (s->sent.r[i].pfx.ip.family != fam)
			s->sent.r[o++] = s->sent.r[i];
	s->sent.n = o;
	log_info("bgp: peer %s: route refresh for AFI %d", p->name, afi);
	schedule_flush(s->b);
}

static const struct bgp_peer_ops sess_ops = {on_up, on_down, on_refresh, on_drained};

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

	if (old == BFD_UP && bs->state == BFD_DOWN && bs->remote_state != BFD_ADMIN_DOWN)
		bgp_fsm(s->p, BGP_EV_BFD_DOWN);
}

static struct bfd_params bfd_params(const struct cfg_peer *pc)
{
	return (struct bfd_params){
		.min_tx_us = (pc->bfd_min_tx_ms ? pc->bfd_min_tx_ms : BFD_DEF_MIN_TX_MS) * 1000u,
		.min_rx_us = (pc->bfd_min_rx_ms ? pc->bfd_min_rx_ms : BFD_DEF_MIN_RX_MS) * 1000u,
		.mult = pc->bfd_mult ? pc->bfd_mult : BFD_DEF_MULT,
		/* a peer reached through routers (ebgpMultiHop above 1) gets multihop BFD */
		.multihop = pc->ebgp_multihop > 1,
		.min_ttl = pc->bfd_min_ttl,
		.passive = pc->bfd_passive,
	};
}

/* Brings the peer's BFD session to what pc asks for, without restarting BGP. */
static void sess_bfd_sync(struct sess *s, const struct cfg_peer *pc)
{
	struct bfd_params pr = bfd_params(pc);
	struct cfg_peer *cur = &s->p->cfg;

	cur->bfd = pc->bfd;
	cur->bfd_min_tx_ms = pc->bfd_min_tx_ms;
	cur->bfd_min_rx_ms = pc->bfd_min_rx_ms;
	cur->bfd_mult = pc->bfd_mult;
	cur->bfd_passive = pc->bfd_passive;
	cur->bfd_min_ttl = pc->bfd_min_ttl;
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

struct bfd_sess *bgp_peer_bfd(const struct bgp_peer *p)
{
	const struct sess *s = p->glue;
	return s ? s->bfd : NULL;
}

static void listen_md5(struct bgp *b, const struct cfg_peer *pc, bool on)
{
	char key[96];
	int fd = b->lfd[pc->addr.family == AF_INET6];

	bgp_peer_key(pc, key, sizeof(key));
	if (!key[0] || fd < 0)
		return;
	if (bgp_sock_md5(fd, &pc->addr, on ? key : NULL) < 0)
		log_warn("bgp: peer %s: TCP_MD5SIG on the listening socket: %s",
			 ip_str(&pc->addr, key), strerror(errno));
}

/* RFC 4724 4.1, the restarting speaker: an agent that adopted the previous run's dataplane
 * kept forwarding to the services while it was away, so its OPENs carry Forwarding State for
 * both families (the peer keeps our stale routes until End-of-RIB instead of flushing them),
 * and the first OPEN within the restart time we advertise carries Restart State (cleared once
 * Established, in on_up). A first start, or one after --cleanup-on-exit, sets neither. */
static void gr_restarting(struct bgp *b, struct bgp_peer *p)
{
	if (!p->our_caps.gr || !dp_adopted(b->a->dp))
		return;
	p->our_caps.gr_fwd = true;
	if (ev_now_ms() - b->a->started_ms < (uint64_t)p->our_caps.gr_time * 1000)
		p->our_caps.gr_flags |= BGP_GR_F_RESTART;
}

static struct sess *sess_new(struct bgp *b, const struct cfg_peer *pc)
{
	struct sess *s = calloc(1, sizeof(*s));

	if (!s)
		log_fatal("bgp: out of memory");
	s->b = b;
	s->p = bgp_peer_new(b->loop, pc, router_id(b->a, pc), &sess_ops, s);
	gr_restarting(b, s->p);
	listen_md5(b, pc, true);
	if (pc->asn_mode == CFG_ASN_EXTERNAL)
		log_info("bgp: peer %s: configured (AS: any but ours, from its OPEN; our AS %u, "
			 "switch \"%s\")", s->p->name, pc->self_asn, pc->sw);
	else
		log_info("bgp: peer %s: configured (AS %u, our AS %u, switch \"%s\")", s->p->name,
			 pc->peer_asn, pc->self_asn, pc->sw);
	sess_bfd_sync(s, pc);
	bgp_fsm(s->p, BGP_EV_START);
	return s;
}

/* Closes with a Cease (RFC 4486) and frees; true when the switch's routes had been announced
 * through this session (the caller then asks for a pass so layer 2 takes over). */
static bool sess_free(struct sess *s, uint8_t cease)
{
	bool was = s->table_sent;

	s->table_queued = s->table_sent = false;
	bfd_sess_free(s->bfd); /* AdminDown first: the peer's BFD client sees no failure */
	bgp_err_set(&s->p->err, BGP_ERR_CEASE, cease, NULL, 0);
	bgp_fsm(s->p, BGP_EV_STOP);
	listen_md5(s->b, &s->p->cfg, false);
	bgp_peer_free(s->p);
	rib_free(&s->want);
	rib_free(&s->sent);
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
	bool dirty = false;

	/* sessions whose peer went away or changed */
	for (int i = 0; i < b->n; i++) {
		struct sess *s = b->s[i];
		const struct cfg_peer *pc = cfg ? cfg_find_peer(cfg, &s->p->cfg.addr, s->p->cfg.sw) : NULL;

		if (pc && peer_cfg_same(pc, &s->p->cfg)) {
			s->leaving = false;
			sess_bfd_sync(s, pc);
			continue;
		}
		if (pc) {
			log_info("bgp: peer %s: configuration changed, restarting the session",
				 s->p->name);
			if (sess_free(s, BGP_CEASE_CONFIG_CHANGE))
				agent_changed(a);
			remove_at(b, i--);
			continue;
		}
		/* Layer 2 answers first (this pass makes bgp_switch_announced() false), then the
		 * Cease on the next pass, so traffic keeps a path. */
		if (!s->leaving && s->table_sent && s->p->state == BGP_ESTABLISHED) {
			s->leaving = true;
			agent_changed(a);
			continue;
		}
		log_info("bgp: peer %s: removed", s->p->name);
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
	for (int i = 0; i < b->n; i++)
		if (b->s[i]->p->state == BGP_ESTABLISHED && compute_want(b->s[i], a))
			dirty = true;
	if (dirty)
		schedule_flush(b);
	return 0;
}

/* --- listening ----------------------------------------------------------------------------- */

static void accept_cb(int lfd, uint32_t events, void *arg)
{
	struct bgp *b = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char name[IP_STRLEN];
	struct ip ip;
	int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	ip_from_sockaddr((struct sockaddr *)&ss, &ip, NULL);
	for (int i = 0; i < b->n; i++)
		if (ip_eq(&b->s[i]->p->cfg.addr, &ip) && !b->s[i]->leaving) {
			bgp_peer_accept(b->s[i]->p, fd);
			return;
		}
	/* RFC 4271 8: only configured peers */
	log_info("bgp: connection from %s refused: not a configured peer", ip_str(&ip, name));
	close(fd);
}

struct bgp *bgp_new(struct agent *a, char *err, size_t errlen)
{
	struct bgp *b = calloc(1, sizeof(*b));
	uint16_t port = a->bgp_port ? a->bgp_port : BGP_PORT;

	if (!b)
		log_fatal("bgp: out of memory");
	b->a = a;
	b->loop = a->loop;
	b->flush = ev_timer_new(a->loop, flush_cb, b);
	for (int i = 0; i < 2; i++) {
		int fam = i ? AF_INET6 : AF_INET;

		b->lfd[i] = bgp_sock_listen(fam, port);
		if (b->lfd[i] < 0) {
			log_warn("bgp: cannot listen on %s port %u: %s (active sessions only)",
				 i ? "IPv6" : "IPv4", port, strerror(errno));
			continue;
		}
		ev_fd_add(a->loop, b->lfd[i], EPOLLIN, accept_cb, b);
	}
	log_info("bgp: listening on port %u", port);
	return b;
}

void bgp_free(struct bgp *b)
{
	if (!b)
		return;
	for (int i = 0; i < b->n; i++)
		sess_free(b->s[i], BGP_CEASE_SHUTDOWN);
	free(b->s);
	bfd_free(b->bfd);
	for (int i = 0; i < 2; i++)
		if (b->lfd[i] >= 0) {
			ev_fd_del(b->loop, b->lfd[i]);
			close(b->lfd[i]);
		}
	ev_timer_free(b->flush);
	free(b);
}

bool bgp_switch_announced(struct bgp *b, const char *sw)
{
	for (int i = 0; b && i < b->n; i++) {
		const struct sess *s = b->s[i];
		if (!s->leaving && s->table_sent && s->p->state == BGP_ESTABLISHED &&
		    !strcmp(s->p->cfg.sw, sw))
			return true;
	}
	return false;
}

void bgp_foreach_peer(struct bgp *b, bgp_peer_iter_fn fn, void *arg)
{
	for (int i = 0; b && i < b->n; i++)
		fn(b->s[i]->p, arg);
}

struct bgp_peer *bgp_find_peer(struct bgp *b, const struct ip *addr, const char *sw)
{
	for (int i = 0; b && i < b->n; i++)
		if (ip_eq(&b->s[i]->p->cfg.addr, addr) && (!sw || !strcmp(b->s[i]->p->cfg.sw, sw)))
			return b->s[i]->p;
	return NULL;
}

size_t bgp_peer_announced(const struct bgp_peer *p)
{
	const struct sess *s = p->glue;
	size_t n = 0;

	if (!s || p->state != BGP_ESTABLISHED)
		return 0;
	for (size_t i = 0; i < s->sent.n; i++)
		if (fam_ok(s, &s->sent.r[i].pfx, &s->sent.attrs[s->sent.r[i].attr]))
			n++;
	return n;
}

size_t bgp_peer_pending(const struct bgp_peer *p)
{
	const struct sess *s = p->glue;
	size_t i = 0, j = 0, n = 0;

	if (!s || p->state != BGP_ESTABLISHED)
		return 0;
	/* routes still to announce or withdraw: the difference between want and sent */
	while (i < s->sent.n || j < s->want.n) {
		int c = i == s->sent.n ? 1 : j == s->want.n ? -1 :
			pfx_cmp(&s->sent.r[i].pfx, &s->want.r[j].pfx);

		if (c < 0) {
			n++;
			i++;
		} else if (c > 0) {
			n++;
			j++;
		} else {
			n += memcmp(&s->sent.attrs[s->sent.r[i].attr], &s->want.attrs[s->want.r[j].attr],
				    sizeof(struct bgp_attrs)) != 0;
			i++;
			j++;
		}
	}
	return n;
}
