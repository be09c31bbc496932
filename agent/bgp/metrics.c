/* Metrics of the BGP speaker, per peer (label peer, plus switch): session up, UPDATEs,
 * announced prefixes, OPENs, NOTIFICATIONs, KEEPALIVEs and ROUTE-REFRESHes sent and received,
 * malformed UPDATEs (RFC 7606 treat-as-withdraw, attributes discarded),
 * BFD session up and state changes for peers with BFD
 * (MetalLB's and FRR-k8s's set under the edgelb_ prefix). Reads the sessions; owns nothing. */
#include <stdio.h>

#include "bfd/bfd.h"
#include "bgp/bgp.h"
#include "bgp/ipc.h"
#include "daemon/agent.h"
#include "metrics/metrics.h"

struct bgp_metric {
	const char *name, *type, *help;
	uint64_t (*get)(const struct bgp_peer_view *p);
	bool bfd; /* only peers with a BFD session */
};

#define STAT_GETTER(field)                                                                         \
	static uint64_t get_##field(const struct bgp_peer_view *p)                                 \
	{                                                                                          \
		return p->st.field;                                                                \
	}
STAT_GETTER(upd_tx)
STAT_GETTER(upd_rx)
STAT_GETTER(opens_tx)
STAT_GETTER(opens_rx)
STAT_GETTER(notif_tx)
STAT_GETTER(notif_rx)
STAT_GETTER(ka_tx)
STAT_GETTER(ka_rx)
STAT_GETTER(refresh_rx)
STAT_GETTER(prefixes_rx)
STAT_GETTER(treat_as_withdraw)
STAT_GETTER(attr_discarded)

static uint64_t get_up(const struct bgp_peer_view *p)
{
	return p->state == BGP_ESTABLISHED;
}

static uint64_t get_announced(const struct bgp_peer_view *p)
{
	return p->announced;
}

static uint64_t get_pending(const struct bgp_peer_view *p)
{
	return p->pending;
}

static uint64_t get_bfd_up(const struct bgp_peer_view *p)
{
	return bgp_peer_bfd(p)->state == BFD_UP;
}

static uint64_t get_bfd_changes(const struct bgp_peer_view *p)
{
	return bgp_peer_bfd(p)->st.changes;
}

static const struct bgp_metric bgp_metric_table[] = {
	{"edgelb_bgp_session_up", "gauge", "1 when the BGP session is Established", get_up},
	{"edgelb_bgp_updates_total", "counter", "BGP UPDATE messages sent", get_upd_tx},
	{"edgelb_bgp_updates_received_total", "counter", "BGP UPDATE messages received",
	 get_upd_rx},
	{"edgelb_bgp_announced_prefixes_total", "gauge", "Prefixes announced to the peer",
	 get_announced},
	{"edgelb_bgp_pending_prefixes", "gauge", "Prefixes waiting to be announced or withdrawn",
	 get_pending},
	{"edgelb_bgp_received_prefixes_total", "counter",
	 "Prefixes received from the peer (counted and dropped)", get_prefixes_rx},
	{"edgelb_bgp_updates_treated_as_withdraw_total", "counter",
	 "Received UPDATEs with a malformed attribute handled as a withdrawal (RFC 7606)",
	 get_treat_as_withdraw},
	{"edgelb_bgp_attributes_discarded_total", "counter",
	 "Malformed attributes of received UPDATEs discarded (RFC 7606)", get_attr_discarded},
	{"edgelb_bgp_opens_sent_total", "counter", "BGP OPEN messages sent", get_opens_tx},
	{"edgelb_bgp_opens_received_total", "counter", "BGP OPEN messages received", get_opens_rx},
	{"edgelb_bgp_notifications_sent_total", "counter", "BGP NOTIFICATION messages sent",
	 get_notif_tx},
	{"edgelb_bgp_notifications_received_total", "counter",
	 "BGP NOTIFICATION messages received", get_notif_rx},
	{"edgelb_bgp_keepalives_sent_total", "counter", "BGP KEEPALIVE messages sent", get_ka_tx},
	{"edgelb_bgp_keepalives_received_total", "counter", "BGP KEEPALIVE messages received",
	 get_ka_rx},
	{"edgelb_bgp_route_refresh_received_total", "counter",
	 "BGP ROUTE-REFRESH messages received", get_refresh_rx},
	{"edgelb_bfd_session_up", "gauge", "1 when the peer's BFD session is Up", get_bfd_up, true},
	{"edgelb_bfd_session_state_changes_total", "counter",
	 "BFD session state changes (Down, Init, Up, AdminDown)", get_bfd_changes, true},
};

struct emit {
	struct mbuf *o;
	const struct bgp_metric *m;
};

static void emit(struct bgp_peer_view *p, void *arg)
{
	struct emit *e = arg;
	char labels[256] = "";

	if (e->m->bfd && !bgp_peer_bfd(p))
		return;
	metrics_label(labels, sizeof(labels), "peer", p->name);
	metrics_label(labels, sizeof(labels), "switch", p->cfg.sw);
	metrics_sample(e->o, e->m->name, labels, (double)e->m->get(p));
}

void bgp_metrics(struct mbuf *o, struct agent *a)
{
	bgp_sync(a->bgp);
	for (size_t i = 0; i < sizeof(bgp_metric_table) / sizeof(bgp_metric_table[0]); i++) {
		struct emit e = {o, &bgp_metric_table[i]};

		metrics_family(o, e.m->name, e.m->type, e.m->help);
		bgp_foreach_peer(a->bgp, emit, &e);
	}
	/* received BFD packets dropped, by reason (RFC 5880 6.8.6, RFC 5881 5, 6.7) */
	if (bgp_bfd(a->bgp)) {
		metrics_family(o, "edgelb_bfd_packets_dropped_total", "counter",
			       "Received BFD packets dropped, by reason");
		for (int d = 0; d < BFD_DROP_COUNT; d++) {
			char labels[64] = "";

			metrics_label(labels, sizeof(labels), "reason", bfd_drop_name(d));
			metrics_sample(o, "edgelb_bfd_packets_dropped_total", labels,
				       (double)bfd_drops(bgp_bfd(a->bgp), d));
		}
	}
}
