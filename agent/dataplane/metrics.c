/* Metrics of the dataplane: packets and bytes per service port (svc_stats_v1), flows per
 * backend (be_stats_v1), every counter of stats_v1 by reason, and the drops among them.
 * Read straight from the maps at scrape time, summed over CPUs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define ELB_STATS_NAMES
#include <edgelb/lb.h>
#include <edgelb/maps.h>
#include <edgelb/stats.h>

#include "daemon/agent.h"
#include "dataplane/dp.h"
#include "dataplane/lb.h"
#include "metrics/metrics.h"

/* Reasons whose packets xdp_ingress drops. */
static const int drop_reasons[] = {ELB_R_LB_NO_BACKEND, ELB_R_LB_FRAGMENT, ELB_R_LB_BAD_L4,
				   ELB_R_LB_FIB_FAIL,	ELB_R_LB_UNKNOWN_PROTO, ELB_R_LB_NO_PORT,
				   ELB_R_LB_ICMP_UNKNOWN, ELB_R_LB_REPLY_CLASH};

static void reasons(struct mbuf *o, struct dp *d)
{
	uint64_t pk[ELB_R_MAX];

	if (dp_reason_totals(d, pk, NULL) < 0)
		return;
	metrics_family(o, "edgelb_dataplane_packets_total", "counter",
		       "Packets judged by the dataplane, by reason");
	for (int r = 0; r < ELB_R_MAX; r++) {
		char l[128] = "";

		if (!elb_reason_names[r])
			continue;
		metrics_label(l, sizeof(l), "reason", elb_reason_names[r]);
		metrics_sample(o, "edgelb_dataplane_packets_total", l, (double)pk[r]);
	}
	metrics_family(o, "edgelb_dataplane_drops_total", "counter",
		       "Packets dropped by the dataplane, by reason");
	for (size_t i = 0; i < sizeof(drop_reasons) / sizeof(drop_reasons[0]); i++) {
		char l[128] = "";

		metrics_label(l, sizeof(l), "reason", elb_reason_names[drop_reasons[i]]);
		metrics_sample(o, "edgelb_dataplane_drops_total", l, (double)pk[drop_reasons[i]]);
	}
}

static void endpoint(char *buf, size_t len, uint8_t family, const struct elb_ip *a,
		     __be16 port)
{
	struct ip ip;
	char s[IP_STRLEN];

	ip_from_elb(family == ELB_AF_INET ? AF_INET : AF_INET6, a, &ip);
	snprintf(buf, len, ip.family == AF_INET ? "%s:%u" : "[%s]:%u", ip_str(&ip, s),
		 ntohs(port));
}

static void services(struct mbuf *o, int svc_fd, int stats_fd)
{
	static const char *const fam[] = {"edgelb_service_packets_total",
					  "edgelb_service_bytes_total"};
	static const char *const help[] = {"Packets sent to a service port's backends",
					   "Bytes sent to a service port's backends"};

	/* a family's samples must follow its TYPE line: one pass per family */
	for (int f = 0; f < 2; f++) {
		struct elb_svc_key k, prev, *pp = NULL;

		metrics_family(o, fam[f], "counter", help[f]);
		while (bpf_map_get_next_key(svc_fd, pp, &k) == 0) {
			struct elb_svc v;
			struct elb_lb_counter c;
			char l[512] = "", ep[IP_STRLEN + 8];
			const char *name;

			prev = k;
			pp = &prev;
			if (bpf_map_lookup_elem(svc_fd, &k, &v) || !v.id ||
			    lb_counter_sum(stats_fd, v.id, &c))
				continue;
			name = lb_service_name(v.id);
			endpoint(ep, sizeof(ep), k.family, &k.vip, k.port);
			metrics_label(l, sizeof(l), "service", name ? name : "");
			metrics_label(l, sizeof(l), "vip", ep);
			metrics_label(l, sizeof(l), "protocol",
				      k.proto == IPPROTO_TCP ? "tcp" : "udp");
			metrics_sample(o, fam[f], l, (double)(f ? c.bytes : c.packets));
		}
	}
}

/* One series per (service, backend endpoint): a backend serving several ports or VIPs of a
 * service has one id per port, summed here. */
struct be_row {
	char service[2 * 64 + 2];
	char ep[IP_STRLEN + 8];
	uint64_t flows, packets;
};

static void backends(struct mbuf *o, int be_fd, int stats_fd)
{
	__u32 k, prev, *pp = NULL;
	struct be_row *rows = NULL;
	int n = 0, cap = 0;

	while (bpf_map_get_next_key(be_fd, pp, &k) == 0) {
		struct elb_backend v;
		struct elb_lb_counter c;
		char ep[IP_STRLEN + 8];
		const char *name;
		int i;

		prev = k;
		pp = &prev;
		if (bpf_map_lookup_elem(be_fd, &k, &v) || lb_counter_sum(stats_fd, k, &c))
			continue;
		name = lb_service_name(v.svc_id);
		endpoint(ep, sizeof(ep), v.family, &v.addr, v.port);
		for (i = 0; i < n; i++)
			if (!strcmp(rows[i].ep, ep) && !strcmp(rows[i].service, name ? name : ""))
				break;
		if (i == n) {
			if (n == cap) {
				cap = cap ? 2 * cap : 32;
				rows = realloc(rows, cap * sizeof(*rows));
				if (!rows)
					return;
			}
			memset(&rows[n], 0, sizeof(rows[n]));
			snprintf(rows[n].service, sizeof(rows[n].service), "%s", name ? name : "");
			snprintf(rows[n].ep, sizeof(rows[n].ep), "%s", ep);
			n++;
		}
		rows[i].flows += c.flows;
		rows[i].packets += c.packets;
	}
	metrics_family(o, "edgelb_backend_flows_total", "counter",
		       "Flows (conntrack entries created) sent to a backend");
	for (int i = 0; i < n; i++) {
		char l[512] = "";

		metrics_label(l, sizeof(l), "service", rows[i].service);
		metrics_label(l, sizeof(l), "backend", rows[i].ep);
		metrics_sample(o, "edgelb_backend_flows_total", l, (double)rows[i].flows);
	}
	metrics_family(o, "edgelb_backend_packets_total", "counter", "Packets sent to a backend");
	for (int i = 0; i < n; i++) {
		char l[512] = "";

		metrics_label(l, sizeof(l), "service", rows[i].service);
		metrics_label(l, sizeof(l), "backend", rows[i].ep);
		metrics_sample(o, "edgelb_backend_packets_total", l, (double)rows[i].packets);
	}
	free(rows);
}

void dp_metrics(struct mbuf *o, struct agent *a)
{
	int svc = dp_map_fd(a->dp, ELB_MAP_SERVICES), svc_st = dp_map_fd(a->dp, ELB_MAP_SVC_STATS);
	int be = dp_map_fd(a->dp, ELB_MAP_BACKENDS), be_st = dp_map_fd(a->dp, ELB_MAP_BE_STATS);

	reasons(o, a->dp);
	if (svc >= 0 && svc_st >= 0)
		services(o, svc, svc_st);
	if (be >= 0 && be_st >= 0)
		backends(o, be, be_st);
}
