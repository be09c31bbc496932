/* Netlink (libnl-3): interface lookups, addresses and link events. The only code that speaks
 * rtnetlink; the core sees interfaces by name and addresses as struct prefix. */
#ifndef EDGELB_NL_H
#define EDGELB_NL_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/ip.h"

struct agent;
struct nl;

struct nl_link_info {
	int ifindex; /* 0 when the interface does not exist */
	uint8_t mac[6];
	bool up;
	unsigned mtu;
};

/* Subscribes to link events; calls agent_changed() when a link appears, goes or changes. */
struct nl *nl_open(struct agent *a, char *err, size_t errlen);
/* (not nl_close: libnl-3 exports a function of that name) */
void nl_free(struct nl *n);
int nl_link(const char *ifname, struct nl_link_info *out);
/* The interface's addresses with their prefix lengths (global scope first, then link-local);
 * returns how many were written, or -1. */
int nl_iface_addrs(const char *ifname, struct prefix *out, int max);

#endif
