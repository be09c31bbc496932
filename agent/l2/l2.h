/* The layer-2 announcer: for every switch in layer-2 mode, puts its service IPs in l2_vips
 * (per interface), sends gratuitous ARP / unsolicited NA when a VIP starts being announced
 * from this node, refreshes them periodically if configured, and removes entries at once when
 * a VIP stops. */
#ifndef EDGELB_AGENT_L2_H
#define EDGELB_AGENT_L2_H

#include <stdbool.h>
#include <stddef.h>

struct agent;
struct cfg_switch;
struct l2;

struct l2 *l2_new(struct agent *a);
void l2_free(struct l2 *l);
int l2_reconcile(struct l2 *l, struct agent *a);
/* Stops answering for every VIP at once (the agent leaves a cluster: another node takes
 * them). */
void l2_withdraw(struct l2 *l);

/* Warnings about a switch for `switch list` (e.g. service IPs outside the compute port's
 * subnet), written into buf ("" when none). */
void l2_switch_warnings(struct l2 *l, const char *sw, char *buf, size_t len);

/* The mode rule, in one place: a compute switch announces by ARP/NDP unless it has at least
 * one BGP peer AND bgp_switch_announced() says its routes are up (so traffic never drops
 * while moving between modes). Returns "layer2", "bgp" or "none" (not a compute switch). */
const char *l2_switch_mode(struct agent *a, const struct cfg_switch *sw);
static inline bool l2_switch_is_l2(struct agent *a, const struct cfg_switch *sw)
{
	const char *m = l2_switch_mode(a, sw);

	return m[0] == 'l';
}

/* For metrics.c: walk the announced (VIP, interface) pairs with their counters. */
struct l2_vip_stats {
	const char *ip;
	const char *ifname;
	unsigned long long requests, replies, gratuitous, conflicts;
};
typedef void (*l2_stats_fn)(const struct l2_vip_stats *s, void *arg);
void l2_foreach_stats(struct l2 *l, l2_stats_fn fn, void *arg);
/* Per interface answered on: VIPs this run started and stopped answering for. */
typedef void (*l2_if_fn)(const char *ifname, unsigned long long acquired,
			 unsigned long long released, void *arg);
void l2_foreach_if(struct l2 *l, l2_if_fn fn, void *arg);

#endif
