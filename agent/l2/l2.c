/* The layer-2 announcer's state and reconcile pass: which (interface, VIP) pairs are in
 * l2_vips_v1, the gratuitous ARP / unsolicited NA bursts and refreshes (AF_PACKET), and the
 * subnet warnings per switch, and the address-conflict watch (xdp_ingress counts frames from
 * another MAC claiming a VIP; a warning names the VIP). The mode rule is l2_switch_mode().
 * Writes only l2_vips_v1; interfaces and attachment belong to the dataplane. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <bpf/bpf.h>

#include <edgelb/l2.h>
#include <edgelb/maps.h>
#include <edgelb/stats.h>

#include "alloc/alloc.h"
#include "bgp/bgp.h"
#include "cluster/cluster.h"
#include "config/config.h"
#include "daemon/agent.h"
#include "dataplane/dp.h"
#include "l2/frames.h"
#include "l2/l2.h"
#include "lib/ev.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "netlink/nl.h"

#define L2_BURST	3 /* announcements when a VIP starts */
#define L2_BURST_GAP_MS 500
#define L2_WARN_MAX	512
#define L2_CONFLICT_MS	1000 /* how often the conflict counters are looked at */

/* One (interface, VIP): 100,000 of them are common, so the interface's name and MAC are in
 * l2->ifs (a few rows), not in each entry: 48 bytes an entry instead of 72. */
struct l2_ent {
	uint64_t next_ms; /* next announcement; 0 = none planned */
	unsigned long long garp_sent;
	uint32_t conflicts_seen; /* the entry's conflict counter when last logged */
	int ifindex;
	struct ip ip;
	uint16_t ifx; /* row in l2->ifs */
	int8_t burst_left;
	bool seen;
	bool in_map; /* written active into l2_vips_v1 (map l2->map_id): no lookup next pass */
};

/* An interface entries are announced on: its name and its MAC as of the last pass. */
struct l2_if {
	char name[CFG_IFNAME_MAX];
	uint8_t mac[6];
	/* VIPs this run started / stopped answering for here (an entry adopted from the
	 * previous run's map is no change of owner) */
	unsigned long long acquired, released;
};

struct l2_warn {
	char sw[CFG_NAME_MAX];
	char msg[L2_WARN_MAX];
};

struct l2 {
	struct agent *a;
	struct l2_ent *e;
	int n, cap;
	/* e's index by (ifindex, VIP), so 100,000 VIPs are matched in O(1) each: open addressing
	 * over entry numbers + 1 (0 = empty), linear probing, at most half full; 4 bytes a slot,
	 * the keys are the entries themselves */
	uint32_t *slot;
	size_t n_slots; /* a power of two, or 0 */
	struct l2_if *ifs;
	int n_ifs;
	uint32_t map_id; /* the l2_vips_v1 the in_map flags describe; 0 = none yet (sweep) */
	struct l2_warn *warns;
	int n_warns;
	int sock;
	struct ev_timer *timer;
	struct ev_timer *conflict_timer;
	uint64_t conflicts; /* arp_conflict + ndp_conflict when last looked at */
};

const char *l2_switch_mode(struct agent *a, const struct cfg_switch *sw)
{
	bool peers = false;

	if (!sw->compute)
		return "none";
	for (int i = 0; a->cfg && i < a->cfg->n_peers; i++)
		peers |= strcmp(a->cfg->peers[i].sw, sw->name) == 0;
	if (peers && a->bgp && bgp_switch_announced(a->bgp, sw->name))
		return "bgp";
	return "layer2";
}

struct l2 *l2_new(struct agent *a)
{
	struct l2 *l = calloc(1, sizeof(*l));

	if (!l)
		log_fatal("l2: out of memory");
	l->a = a;
	l->sock = -1;
	return l;
}

static int vips_fd(struct l2 *l)
{
	return dp_map_fd(l->a->dp, ELB_MAP_L2_VIPS);
}

static struct elb_l2_key ent_key(const struct l2_ent *e)
{
	struct elb_l2_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = (__u32)e->ifindex;
	k.family = e->ip.family == AF_INET ? ELB_AF_INET : ELB_AF_INET6;
	ip_to_elb(&e->ip, &k.vip);
	return k;
}

void l2_free(struct l2 *l)
{
	if (!l)
		return;
	ev_timer_free(l->timer);
	ev_timer_free(l->conflict_timer);
	if (l->sock >= 0)
		close(l->sock);
	free(l->e);
	free(l->slot);
	free(l->ifs);
	free(l->warns);
	free(l);
}

static void send_frame(struct l2 *l, struct l2_ent *e, const uint8_t *f, size_t len)
{
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET, .sll_ifindex = e->ifindex, .sll_halen = 6};

	if (!len)
		return;
	if (l->sock < 0) {
		/* protocol 0: send only, never receives */
		l->sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (l->sock < 0) {
			log_err("l2: AF_PACKET socket: %s", strerror(errno));
			return;
		}
	}
	sll.sll_protocol = htons((uint16_t)(f[12] << 8 | f[13]));
	memcpy(sll.sll_addr, f, 6);
	if (sendto(l->sock, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		/* a link still coming up (ENETDOWN) is normal: the burst retries */
		log_msg(errno == ENETDOWN ? LOG_DEBUG : LOG_WARN,
			"l2: %s: gratuitous announcement for %s failed: %s", l->ifs[e->ifx].name,
			ip_str(&e->ip, (char[IP_STRLEN]){0}), strerror(errno));
	else
		e->garp_sent++;
}

static void announce(struct l2 *l, struct l2_ent *e)
{
	const uint8_t *mac = l->ifs[e->ifx].mac;
	uint8_t f[L2_FRAME_MAX];

	if (e->ip.family == AF_INET) {
		send_frame(l, e, f, l2_frame_garp(f, sizeof(f), mac, &e->ip, false));
		send_frame(l, e, f, l2_frame_garp(f, sizeof(f), mac, &e->ip, true));
	} else {
		send_frame(l, e, f, l2_frame_unsol_na(f, sizeof(f), mac, &e->ip));
	}
	log_debug("l2: %s: announced %s (%llu sent)", l->ifs[e->ifx].name,
		  ip_str(&e->ip, (char[IP_STRLEN]){0}), e->garp_sent);
}

static void on_timer(struct ev_timer *t, void *arg);
static void on_conflict_timer(struct ev_timer *t, void *arg);

static void arm(struct l2 *l)
{
	uint64_t next = 0, now = ev_now_ms();

	for (int i = 0; i < l->n; i++)
		if (l->e[i].next_ms && (!next || l->e[i].next_ms < next))
			next = l->e[i].next_ms;
	if (!l->a->loop)
		return;
	if (!l->timer)
		l->timer = ev_timer_new(l->a->loop, on_timer, l);
	if (next)
		ev_timer_arm(l->timer, next > now ? next - now : 0);
	else
		ev_timer_stop(l->timer);
}

static void on_timer(struct ev_timer *t, void *arg)
{
	struct l2 *l = arg;
	uint64_t now = ev_now_ms();
	uint16_t refresh = l->a->cfg ? l->a->cfg->node.garp_refresh_s : 0;

	for (int i = 0; i < l->n; i++) {
		struct l2_ent *e = &l->e[i];

		if (!e->next_ms || e->next_ms > now)
			continue;
		announce(l, e);
		if (e->burst_left > 0)
			e->burst_left--;
		if (e->burst_left > 0)
			e->next_ms = now + L2_BURST_GAP_MS;
		else
			e->next_ms = refresh ? now + (uint64_t)refresh * 1000 : 0;
	}
	arm(l);
}

static size_t slot_start(const struct l2 *l, int ifindex, const struct ip *ip)
{
	/* the bytes ip_eq compares: an IPv4 address's 12 unused bytes are not hashed */
	size_t len = ip->family == AF_INET ? 4 : sizeof(ip->a);
	uint64_t seed = (uint64_t)(uint32_t)ifindex << 8 | ip->family;

	return (size_t)hash_bytes(ip->a, len, seed) & (l->n_slots - 1);
}

static struct l2_ent *find_ent(struct l2 *l, int ifindex, const struct ip *ip)
{
	if (!l->n_slots)
		return NULL;
	for (size_t i = slot_start(l, ifindex, ip); l->slot[i]; i = (i + 1) & (l->n_slots - 1)) {
		struct l2_ent *e = &l->e[l->slot[i] - 1];

		if (e->ifindex == ifindex && ip_eq(&e->ip, ip))
			return e;
	}
	return NULL;
}

/* Puts entry k into the slots (which have room: at most half full). */
static void index_add(struct l2 *l, int k)
{
	size_t i = slot_start(l, l->e[k].ifindex, &l->e[k].ip);

	while (l->slot[i])
		i = (i + 1) & (l->n_slots - 1);
	l->slot[i] = (uint32_t)k + 1;
}

/* Indexes e[0..n-1] anew, in slots for at least min_n entries. */
static void index_rebuild(struct l2 *l, size_t min_n)
{
	size_t cap = 16;

	while (cap < 2 * min_n + 2)
		cap *= 2;
	free(l->slot);
	l->slot = calloc(cap, sizeof(*l->slot));
	if (!l->slot)
		log_fatal("l2: out of memory");
	l->n_slots = cap;
	for (int k = 0; k < l->n; k++)
		index_add(l, k);
}

/* The row of ifname in l->ifs (added when new), its MAC updated to mac. */
static uint16_t if_row(struct l2 *l, const char *ifname, const uint8_t *mac)
{
	int i;

	for (i = 0; i < l->n_ifs && strcmp(l->ifs[i].name, ifname); i++)
		;
	if (i == l->n_ifs) {
		if (l->n_ifs == UINT16_MAX)
			log_fatal("l2: more than %d interface names", UINT16_MAX);
		l->ifs = realloc(l->ifs, (size_t)(l->n_ifs + 1) * sizeof(*l->ifs));
		if (!l->ifs)
			log_fatal("l2: out of memory");
		memset(&l->ifs[l->n_ifs], 0, sizeof(*l->ifs)); /* counters start at 0 */
		snprintf(l->ifs[l->n_ifs++].name, sizeof(l->ifs->name), "%s", ifname);
	}
	memcpy(l->ifs[i].mac, mac, 6);
	return (uint16_t)i;
}

static void warn_add(struct l2 *l, const char *sw, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn_add(struct l2 *l, const char *sw, const char *fmt, ...)
{
	struct l2_warn *w = NULL;
	char line[256];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (int i = 0; i < l->n_warns; i++)
		if (strcmp(l->warns[i].sw, sw) == 0)
			w = &l->warns[i];
	if (!w) {
		l->warns = realloc(l->warns, (size_t)(l->n_warns + 1) * sizeof(*w));
		if (!l->warns)
			log_fatal("l2: out of memory");
		w = &l->warns[l->n_warns++];
		memset(w, 0, sizeof(*w));
		snprintf(w->sw, sizeof(w->sw), "%s", sw);
	}
	if (strstr(w->msg, line))
		return;
	n = strlen(w->msg);
	snprintf(w->msg + n, sizeof(w->msg) - n, "%s%s", n ? "; " : "", line);
}

/* New VIPs outside their port's subnets logged one by one per pass; the rest are counted. */
#define L2_OUTSIDE_LOGGED 3

/* The addresses of a compute port, read once per pass (not once per VIP). */
#define L2_ADDR_CACHE 16
struct addr_cache {
	char ifname[CFG_IFNAME_MAX];
	struct prefix p[32];
	int n;
};

struct want_ctx {
	struct l2 *l;
	struct agent *a;
	int fd;
	int rc;
	int n_fail; /* l2_vips_v1 updates that failed this pass (logged once) */
	char fail_msg[160];
	int n_outside; /* new VIPs outside their port's subnets: the first few are logged */
	struct addr_cache ac[L2_ADDR_CACHE];
	int n_ac;
};

/* Service IPs for layer 2 must lie in a subnet of the compute port (DESIGN: rules). */
static bool in_iface_subnet(struct want_ctx *c, const char *ifname, const struct ip *ip)
{
	struct prefix tmp[32], *p = tmp;
	int n = -1;

	for (int i = 0; i < c->n_ac; i++)
		if (strcmp(c->ac[i].ifname, ifname) == 0) {
			p = c->ac[i].p;
			n = c->ac[i].n;
		}
	if (n < 0) {
		n = nl_iface_addrs(ifname, p, 32);
		if (c->n_ac < L2_ADDR_CACHE) {
			struct addr_cache *x = &c->ac[c->n_ac++];

			snprintf(x->ifname, sizeof(x->ifname), "%s", ifname);
			memcpy(x->p, tmp, sizeof(tmp));
			x->n = n;
		}
	}
	for (int i = 0; i < n; i++) {
		struct prefix net = p[i];

		if (net.ip.family != ip->family || net.len == 0)
			continue;
		/* prefix_contains compares the leading len bits only */
		if (prefix_contains(&net, ip))
			return true;
	}
	return false;
}

static void want_vip(struct want_ctx *c, const struct cfg_switch *sw, const char *ifname,
		     const struct dp_iface_info *ifi, const struct ip *ip, const char *svc)
{
	struct l2 *l = c->l;
	struct l2_ent *e = find_ent(l, ifi->ifindex, ip);
	struct elb_l2_vip v = {0};
	struct elb_l2_key k;
	char s[IP_STRLEN];
	bool outside = !in_iface_subnet(c, ifname, ip), fresh = !e;

	if (outside)
		warn_add(l, sw->name, "service IP %s (%s) is outside the subnets of %s",
			 ip_str(ip, s), svc, ifname);
	if (e) {
		e->seen = true;
		e->ifx = if_row(l, ifname, ifi->mac);
		if (e->in_map)
			return; /* this map holds it active since we wrote it */
		k = ent_key(e);
		if (bpf_map_lookup_elem(c->fd, &k, &v) == 0 && (v.flags & ELB_L2_F_ACTIVE))
			return;
	} else {
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 16;
			l->e = realloc(l->e, (size_t)l->cap * sizeof(*l->e));
			if (!l->e)
				log_fatal("l2: out of memory");
		}
		e = &l->e[l->n++];
		memset(e, 0, sizeof(*e));
		e->ifindex = ifi->ifindex;
		e->ip = *ip;
		e->ifx = if_row(l, ifname, ifi->mac);
		if (2 * (size_t)l->n + 2 > l->n_slots)
			index_rebuild(l, 2 * (size_t)l->n);
		else
			index_add(l, l->n - 1);
		ip_str(ip, s);
		e->seen = true;
		e->burst_left = L2_BURST;
		e->next_ms = ev_now_ms();
		if (outside && c->n_outside++ < L2_OUTSIDE_LOGGED)
			log_warn(
			    "l2: %s: service IP %s (%s) is outside the subnets of %s; announcing "
			    "it anyway",
			    sw->name, s, svc, ifname);
		log_info("l2: %s: announcing %s (%s) on %s", sw->name, s, svc, ifname);
	}
	/* keep counters of an entry adopted from a previous run */
	k = ent_key(e);
	if (bpf_map_lookup_elem(c->fd, &k, &v) < 0)
		memset(&v, 0, sizeof(v));
	if (fresh && !(v.flags & ELB_L2_F_ACTIVE))
		l->ifs[e->ifx].acquired++;
	v.flags |= ELB_L2_F_ACTIVE;
	e->in_map = false;
	if (bpf_map_update_elem(c->fd, &k, &v, BPF_ANY) == 0) {
		e->in_map = true;
	} else {
		if (!c->n_fail++)
			snprintf(c->fail_msg, sizeof(c->fail_msg), "%s: %s update for %s failed: %s",
				 ifname, ELB_MAP_L2_VIPS, ip_str(&e->ip, s), strerror(errno));
		c->rc = -1;
	}
}

static void want_assignment(const struct alloc_assignment *as, void *arg)
{
	struct want_ctx *c = arg;
	const struct cfg_pool *pool;
	const struct cfg_switch *sw;

	if (as->status != ALLOC_ASSIGNED || as->n_ips == 0)
		return;
	pool = cfg_find_pool(c->a->cfg, as->pool);
	sw = pool ? cfg_pool_switch(c->a->cfg, pool) : NULL;
	if (!sw || !l2_switch_is_l2(c->a, sw))
		return;
	for (int j = 0; j < as->n_ips; j++) {
		struct dp_iface_info ifi;
		int attached = 0;

		for (int i = 0; i < sw->n_ifaces; i++)
			attached += dp_iface(c->a->dp, sw->ifaces[i], &ifi) == 0;
		/* not attached (yet): nothing would answer; in a cluster, another may hold it */
		if (!attached || !cluster_l2_claim(c->a->cluster, &as->ips[j]))
			continue;
		for (int i = 0; i < sw->n_ifaces; i++)
			if (dp_iface(c->a->dp, sw->ifaces[i], &ifi) == 0)
				want_vip(c, sw, sw->ifaces[i], &ifi, &as->ips[j], as->service);
	}
}

/* Entries in the map that no (interface, VIP) of ours explains: a previous run's leftovers. */
static void sweep_map(struct l2 *l, int fd)
{
	struct elb_l2_key key, next, *stale = NULL;
	void *prev = NULL;
	int n = 0, cap = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct ip ip;
		bool known;

		ip_from_elb(next.family == ELB_AF_INET ? AF_INET : AF_INET6, &next.vip, &ip);
		known = find_ent(l, (int)next.ifindex, &ip) != NULL;
		if (!known) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				stale = realloc(stale, (size_t)cap * sizeof(*stale));
				if (!stale)
					log_fatal("l2: out of memory");
			}
			stale[n++] = next;
		}
		key = next;
		prev = &key;
	}
	for (int i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	if (n)
		log_info("l2: removed %d stale %s entries", n, ELB_MAP_L2_VIPS);
	free(stale);
}

int l2_reconcile(struct l2 *l, struct agent *a)
{
	static struct want_ctx c; /* big (address cache): not on the stack */
	int w = 0;
	bool sweep = false;

	memset(&c, 0, sizeof(c));
	c.l = l;
	c.a = a;
	c.fd = vips_fd(l);
	if (c.fd < 0 || !a->cfg || !a->alloc)
		return 0;
	l->n_warns = 0;
	{
		/* another map (dataplane reloaded): its content is unknown, look and sweep again */
		uint32_t id = dp_map_id(c.fd);

		if (!id || id != l->map_id) {
			for (int i = 0; i < l->n; i++)
				l->e[i].in_map = false;
			sweep = true;
		}
		l->map_id = id;
	}
	for (int i = 0; i < l->n; i++)
		l->e[i].seen = false;
	cluster_l2_begin(a->cluster);
	alloc_foreach(a->alloc, want_assignment, &c);
	cluster_l2_end(a->cluster);
	if (c.n_fail)
		log_err("l2: %d %s update(s) failed this pass (map full?); first: %s", c.n_fail,
			ELB_MAP_L2_VIPS, c.fail_msg);
	if (c.n_outside > L2_OUTSIDE_LOGGED)
		log_warn("l2: %d more new service IPs are outside the subnets of their compute "
			 "ports; announcing them anyway (edgelb switch list shows the warnings)",
			 c.n_outside - L2_OUTSIDE_LOGGED);
	for (int i = 0; i < l->n; i++) {
		struct l2_ent *e = &l->e[i];

		if (!e->seen) {
			struct elb_l2_key k = ent_key(e);

			/* stop at once: the next ARP/NS for it passes to the kernel */
			bpf_map_delete_elem(c.fd, &k);
			l->ifs[e->ifx].released++;
			log_info("l2: %s: stopped announcing %s", l->ifs[e->ifx].name,
				 ip_str(&e->ip, (char[IP_STRLEN]){0}));
			continue;
		}
		l->e[w++] = *e;
	}
	l->n = w;
	index_rebuild(l, (size_t)l->n);
	/* leftovers of a previous run are in a map we have not seen yet; afterwards every entry
	 * is one of ours (deleted above when it goes), so the walk is skipped */
	if (sweep || c.n_fail)
		sweep_map(l, c.fd);
	if (l->timer == NULL && a->loop)
		l->timer = ev_timer_new(a->loop, on_timer, l);
	if (l->conflict_timer == NULL && a->loop) {
		l->conflict_timer = ev_timer_new(a->loop, on_conflict_timer, l);
		ev_timer_arm(l->conflict_timer, L2_CONFLICT_MS);
	}
	arm(l);
	return c.rc;
}

/* The reason counters once a second; the entries are walked only when a conflict was counted. */
void l2_withdraw(struct l2 *l)
{
	int fd = vips_fd(l), n = l->n;

	for (int i = 0; fd >= 0 && i < l->n; i++) {
		struct elb_l2_key k = ent_key(&l->e[i]);

		bpf_map_delete_elem(fd, &k);
		l->ifs[l->e[i].ifx].released++;
	}
	l->n = 0;
	index_rebuild(l, 0);
	if (n)
		log_info("l2: stopped answering for %d VIP(s) on leaving", n);
}

static void on_conflict_timer(struct ev_timer *t, void *arg)
{
	struct l2 *l = arg;
	uint64_t pk[ELB_R_MAX], now = 0;
	int fd = vips_fd(l);

	if (dp_reason_totals(l->a->dp, pk, NULL) == 0)
		now = pk[ELB_R_ARP_CONFLICT] + pk[ELB_R_NDP_CONFLICT];

	if (now != l->conflicts && fd >= 0) {
		for (int i = 0; i < l->n; i++) {
			struct l2_ent *e = &l->e[i];
			struct elb_l2_key k = ent_key(e);
			struct elb_l2_vip v;

			if (bpf_map_lookup_elem(fd, &k, &v) || v.conflicts == e->conflicts_seen)
				continue;
			log_warn(
			    "l2: %s: address conflict on %s: another host claimed it (%u frame(s) "
			    "from a MAC not ours; tcpdump -e arp or icmp6 on %s shows it)",
			    ip_str(&e->ip, (char[IP_STRLEN]){0}), l->ifs[e->ifx].name,
			    v.conflicts - e->conflicts_seen, l->ifs[e->ifx].name);
			e->conflicts_seen = v.conflicts;
		}
	}
	l->conflicts = now;
	ev_timer_arm(t, L2_CONFLICT_MS);
}

void l2_switch_warnings(struct l2 *l, const char *sw, char *buf, size_t len)
{
	if (!len)
		return;
	buf[0] = '\0';
	for (int i = 0; l && i < l->n_warns; i++)
		if (strcmp(l->warns[i].sw, sw) == 0)
			snprintf(buf, len, "%s", l->warns[i].msg);
}

void l2_foreach_if(struct l2 *l, l2_if_fn fn, void *arg)
{
	for (int i = 0; l && i < l->n_ifs; i++)
		fn(l->ifs[i].name, l->ifs[i].acquired, l->ifs[i].released, arg);
}

void l2_foreach_stats(struct l2 *l, l2_stats_fn fn, void *arg)
{
	int fd = l ? vips_fd(l) : -1;

	for (int i = 0; l && i < l->n; i++) {
		struct l2_ent *e = &l->e[i];
		struct elb_l2_key k = ent_key(e);
		struct elb_l2_vip v = {0};
		char ip[IP_STRLEN];
		struct l2_vip_stats s = {.ip = ip_str(&e->ip, ip),
					 .ifname = l->ifs[e->ifx].name,
					 .gratuitous = e->garp_sent};

		if (fd >= 0 && bpf_map_lookup_elem(fd, &k, &v) == 0) {
			s.requests = v.requests;
			s.replies = v.replies;
			s.conflicts = v.conflicts;
		}
		fn(&s, arg);
	}
}
