/* Metrics of the layer-2 announcer, MetalLB's layer-2 set under the edgelb_ prefix: ARP/NDP
 * requests received and responses sent (counted by xdp_ingress in l2_vips_v1) and gratuitous
 * announcements sent (counted by the announcer), per VIP and interface; beyond MetalLB, address
 * conflicts seen (frames from another MAC claiming a VIP, counted by xdp_ingress) and VIP
 * ownership changes (this node starting or stopping to answer for a VIP). And
 * MetalLB's speaker_announced: which service IPs this node announces, by which protocol (the
 * mode rule l2_switch_mode decides it per switch). */
#include <stdio.h>

#include "alloc/alloc.h"
#include "config/config.h"
#include "daemon/agent.h"
#include "dataplane/dp.h"
#include "l2/l2.h"
#include "metrics/metrics.h"

struct l2_metric {
	const char *name, *help;
	unsigned long long (*get)(const struct l2_vip_stats *s);
};

static unsigned long long get_req(const struct l2_vip_stats *s)
{
	return s->requests;
}
static unsigned long long get_rep(const struct l2_vip_stats *s)
{
	return s->replies;
}
static unsigned long long get_garp(const struct l2_vip_stats *s)
{
	return s->gratuitous;
}

static unsigned long long get_conflicts(const struct l2_vip_stats *s)
{
	return s->conflicts;
}

static const struct l2_metric l2_metric_table[] = {
    {"edgelb_l2_requests_received_total",
     "ARP requests and Neighbor Solicitations received for a VIP", get_req},
    {"edgelb_l2_responses_sent_total", "ARP replies and Neighbor Advertisements sent for a VIP",
     get_rep},
    {"edgelb_l2_gratuitous_sent_total",
     "Gratuitous ARP and unsolicited Neighbor Advertisements sent", get_garp},
    {"edgelb_l2_address_conflicts_total",
     "Gratuitous ARP, ARP replies and Neighbor Advertisements from another MAC claiming a VIP",
     get_conflicts},
};

struct l2_emit {
	struct mbuf *o;
	const struct l2_metric *m;
};

static void emit(const struct l2_vip_stats *s, void *arg)
{
	struct l2_emit *e = arg;
	char labels[256] = "";

	metrics_label(labels, sizeof(labels), "ip", s->ip);
	metrics_label(labels, sizeof(labels), "interface", s->ifname);
	metrics_sample(e->o, e->m->name, labels, (double)e->m->get(s));
}

struct announced_ctx {
	struct mbuf *o;
	struct agent *a;
};

/* An assigned service's IPs are announced by its pool's switch: by BGP when the switch is in
 * bgp mode, by ARP/NDP when in layer-2 mode with an attached interface to answer on. */
static void announced(const struct alloc_assignment *as, void *arg)
{
	struct announced_ctx *c = arg;
	const struct cfg_pool *pool;
	const struct cfg_switch *sw;
	const char *mode;
	bool up = false;

	if (as->status != ALLOC_ASSIGNED || as->n_ips == 0)
		return;
	pool = cfg_find_pool(c->a->cfg, as->pool);
	sw = pool ? cfg_pool_switch(c->a->cfg, pool) : NULL;
	if (!sw)
		return;
	mode = l2_switch_mode(c->a, sw);
	if (mode[0] == 'b') {
		up = true;
	} else if (mode[0] == 'l') {
		for (int i = 0; i < sw->n_ifaces && !up; i++) {
			struct dp_iface_info ifi;

			up = dp_iface(c->a->dp, sw->ifaces[i], &ifi) == 0;
		}
	}
	if (!up)
		return;
	for (int j = 0; j < as->n_ips; j++) {
		char labels[512] = "", ip[IP_STRLEN];

		metrics_label(labels, sizeof(labels), "ip", ip_str(&as->ips[j], ip));
		metrics_label(labels, sizeof(labels), "node", c->a->cfg->node.name);
		metrics_label(labels, sizeof(labels), "protocol", mode);
		metrics_label(labels, sizeof(labels), "service", as->service);
		metrics_sample(c->o, "edgelb_speaker_announced", labels, 1);
	}
}

#define OWNERSHIP "edgelb_l2_ownership_changes_total"

static void ownership(const char *ifname, unsigned long long acquired,
		      unsigned long long released, void *arg)
{
	const struct {
		const char *change;
		unsigned long long n;
	} rows[] = {{"acquired", acquired}, {"released", released}};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char labels[256] = "";

		metrics_label(labels, sizeof(labels), "interface", ifname);
		metrics_label(labels, sizeof(labels), "change", rows[i].change);
		metrics_sample(arg, OWNERSHIP, labels, (double)rows[i].n);
	}
}

void l2_metrics(struct mbuf *o, struct agent *a)
{
	metrics_family(o, OWNERSHIP, "counter",
		       "VIPs this node started (acquired) or stopped (released) answering for in "
		       "layer 2, per interface, since the agent started; a restart that adopts "
		       "the pinned map changes no owner");
	l2_foreach_if(a->l2, ownership, o);
	if (a->cfg && a->alloc) {
		struct announced_ctx c = {o, a};

		metrics_family(o, "edgelb_speaker_announced", "gauge",
			       "Service IPs this node announces, by protocol (layer2 or bgp)");
		alloc_foreach(a->alloc, announced, &c);
	}
	for (size_t i = 0; i < sizeof(l2_metric_table) / sizeof(l2_metric_table[0]); i++) {
		struct l2_emit e = {o, &l2_metric_table[i]};

		metrics_family(o, e.m->name, "counter", e.m->help);
		l2_foreach_stats(a->l2, emit, &e);
	}
}
