/* Metrics of the allocator, MetalLB's names under the edgelb_ prefix with the same pool label
 * (plus ip_family, as the issue asks per family): addresses in use and total per pool,
 * services allocated per pool, services pending. Reads allocator state only. */
#include <stdlib.h>

#include "alloc/alloc.h"
#include "config/config.h"
#include "daemon/agent.h"
#include "metrics/metrics.h"

static const struct {
	int af;
	const char *label;
} fams[] = {
    {AF_INET, "ipv4"},
    {AF_INET6, "ipv6"},
};

/* One family with a sample per pool and address family: addresses in use, or the pool's size. */
static void per_pool_family(struct mbuf *o, const struct cfg *c, const struct alloc_usage *u,
			    const char *name, const char *help, bool in_use)
{
	char lbl[256];

	metrics_family(o, name, "gauge", help);
	for (int i = 0; i < c->n_pools; i++)
		for (size_t f = 0; f < 2; f++) {
			if (!alloc_pool_has_family(&c->pools[i], fams[f].af))
				continue;
			lbl[0] = '\0';
			metrics_label(lbl, sizeof(lbl), "pool", c->pools[i].name);
			metrics_label(lbl, sizeof(lbl), "ip_family", fams[f].label);
			metrics_sample(o, name, lbl,
				       in_use ? (double)u[i].in_use[f]
					      : alloc_pool_size(&c->pools[i], fams[f].af));
		}
}

void alloc_metrics(struct mbuf *o, struct agent *a)
{
	struct alloc_usage *u;
	const struct cfg *c = a->cfg;
	char lbl[256];

	if (!a->alloc || !c)
		return;
	u = calloc((size_t)c->n_pools + 1, sizeof(*u));
	if (!u)
		abort();
	alloc_usage(a->alloc, c, u);
	per_pool_family(o, c, u, "edgelb_allocator_addresses_in_use_total",
			"Number of IP addresses in use, per pool and address family.", true);
	per_pool_family(o, c, u, "edgelb_allocator_addresses_total",
			"Number of usable IP addresses, per pool and address family.", false);
	metrics_family(o, "edgelb_allocator_services_allocated", "gauge",
		       "Number of services with addresses from the pool.");
	for (int i = 0; i < c->n_pools; i++) {
		lbl[0] = '\0';
		metrics_label(lbl, sizeof(lbl), "pool", c->pools[i].name);
		metrics_sample(o, "edgelb_allocator_services_allocated", lbl, u[i].services);
	}
	metrics_family(o, "edgelb_allocator_services_pending", "gauge",
		       "Number of services waiting for an address.");
	metrics_sample(o, "edgelb_allocator_services_pending", NULL, alloc_pending_count(a->alloc));
	free(u);
}
