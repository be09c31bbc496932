/* Metrics of the cluster's layer-2 leadership (beyond MetalLB): how long a failover takes on
 * this node once the previous holder's key is gone, the lease, the members, the IPs held, and
 * the IPs that changed holder through this node. Reads cluster_stats only; nothing without
 * --etcd-endpoints. */
#include "cluster/cluster.h"
#include "daemon/agent.h"
#include "metrics/metrics.h"

#define FAILOVER  "edgelb_l2_failover_duration_seconds"
#define TRANSFERS "edgelb_cluster_l2_transfers_total"

static const char failover_help[] =
    "Seconds from the previous holder's /edgelb/l2/<ip> key leaving etcd (lease expired or "
    "revoked, or a hand-over), as this node's watch saw it, to this node answering ARP/NDP for "
    "the IP; the holder's failure detection before that (up to the lease TTL) is not included";
static const char transfers_help[] =
    "Layer-2 IPs that changed holder through this node since the agent started: taken "
    "(answered after another node held it), handed_over (given to the node it prefers), "
    "taken_back (handed over, let lie, answered again), fenced (no longer answered: the lease "
    "not renewed within its TTL, or found expired in etcd)";

void cluster_metrics(struct mbuf *o, struct agent *a)
{
	struct cluster_stats st;

	if (!a->cluster)
		return;
	cluster_stats(a->cluster, &st);
	metrics_histogram(o, FAILOVER, failover_help, &st.failover);
	metrics_family(o, "edgelb_cluster_lease_live", "gauge",
		       "1 while this node's etcd lease is surely live by its own clock, else 0");
	metrics_sample(o, "edgelb_cluster_lease_live", NULL, st.lease_live);
	metrics_family(o, "edgelb_cluster_members", "gauge",
		       "Nodes with a key under /edgelb/nodes/ (this one too while its lease "
		       "lives), as this node's watch last told it");
	metrics_sample(o, "edgelb_cluster_members", NULL, st.members);
	metrics_family(o, "edgelb_cluster_l2_ips_held", "gauge",
		       "Layer-2 service IPs this node holds in etcd and answers for");
	metrics_sample(o, "edgelb_cluster_l2_ips_held", NULL, st.l2_ips_held);
	metrics_family(o, TRANSFERS, "counter", transfers_help);
	{
		const struct {
			const char *event;
			unsigned long long n;
		} rows[] = {{"taken", st.taken},
			    {"handed_over", st.handed_over},
			    {"taken_back", st.taken_back},
			    {"fenced", st.fenced}};

		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			char l[64] = "";

			metrics_label(l, sizeof(l), "event", rows[i].event);
			metrics_sample(o, TRANSFERS, l, (double)rows[i].n);
		}
	}
}
