/* Netlink through libnl-3 (route family): link and address lookups on demand, and a
 * subscription to link/address events whose socket sits in the agent's event loop; any event
 * schedules a reconcile pass (an interface that disappears and comes back is re-attached).
 * The only code that speaks rtnetlink. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/rtnl.h>

#include "daemon/agent.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "netlink/nl.h"

struct nl {
	struct agent *a;
	struct nl_sock *ev_sock;
	int fd;
};

/* One socket for requests, opened on first use (lookups also run without nl_open). */
static struct nl_sock *query_sock(void)
{
	static struct nl_sock *s;

	if (s)
		return s;
	s = nl_socket_alloc();
	if (!s)
		log_fatal("netlink: out of memory");
	if (nl_connect(s, NETLINK_ROUTE) < 0) {
		nl_socket_free(s);
		s = NULL;
	}
	return s;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct nl *n = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);

	if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK ||
	    h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) {
		log_debug("netlink: %s event", h->nlmsg_type == RTM_NEWLINK   ? "link new"
					       : h->nlmsg_type == RTM_DELLINK ? "link del"
									      : "address");
		if (n->a && n->a->loop)
			agent_changed(n->a);
	}
	return NL_OK;
}

static void on_readable(int fd, uint32_t events, void *arg)
{
	struct nl *n = arg;
	int err = nl_recvmsgs_default(n->ev_sock);

	/* ENOBUFS: events were lost; a full reconcile pass covers whatever they said */
	if (err < 0 && err != -NLE_AGAIN) {
		log_debug("netlink: receive: %s", nl_geterror(err));
		if (n->a && n->a->loop)
			agent_changed(n->a);
	}
}

struct nl *nl_open(struct agent *a, char *err, size_t errlen)
{
	struct nl *n = calloc(1, sizeof(*n));
	int e;

	if (!n)
		log_fatal("netlink: out of memory");
	n->a = a;
	n->fd = -1;
	n->ev_sock = nl_socket_alloc();
	if (!n->ev_sock)
		log_fatal("netlink: out of memory");
	nl_socket_disable_seq_check(n->ev_sock);
	nl_socket_modify_cb(n->ev_sock, NL_CB_VALID, NL_CB_CUSTOM, on_event, n);
	e = nl_connect(n->ev_sock, NETLINK_ROUTE);
	if (e == 0)
		e = nl_socket_add_memberships(n->ev_sock, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
					      RTNLGRP_IPV6_IFADDR, 0);
	if (e == 0)
		e = nl_socket_set_nonblocking(n->ev_sock);
	if (e < 0) {
		snprintf(err, errlen, "route socket: %s", nl_geterror(e));
		goto fail;
	}
	n->fd = nl_socket_get_fd(n->ev_sock);
	if (a && a->loop && ev_fd_add(a->loop, n->fd, EPOLLIN, on_readable, n) < 0) {
		snprintf(err, errlen, "route socket: cannot watch fd %d", n->fd);
		goto fail;
	}
	if (!query_sock()) {
		snprintf(err, errlen, "route socket for queries: connect failed");
		goto fail;
	}
	return n;
fail:
	nl_socket_free(n->ev_sock);
	free(n);
	return NULL;
}

void nl_free(struct nl *n)
{
	if (!n)
		return;
	if (n->a && n->a->loop && n->fd >= 0)
		ev_fd_del(n->a->loop, n->fd);
	nl_socket_free(n->ev_sock);
	free(n);
}

int nl_link(const char *ifname, struct nl_link_info *out)
{
	struct nl_sock *s = query_sock();
	struct rtnl_link *l = NULL;
	struct nl_addr *mac;

	memset(out, 0, sizeof(*out));
	if (!s || rtnl_link_get_kernel(s, 0, ifname, &l) < 0)
		return -1;
	out->ifindex = rtnl_link_get_ifindex(l);
	mac = rtnl_link_get_addr(l);
	if (mac && nl_addr_get_len(mac) == 6)
		memcpy(out->mac, nl_addr_get_binary_addr(mac), 6);
	out->up = rtnl_link_get_flags(l) & IFF_UP;
	out->mtu = rtnl_link_get_mtu(l);
	rtnl_link_put(l);
	return 0;
}

struct addr_walk {
	int ifindex;
	bool link_local; /* this pass takes link-local (true) or the others */
	struct prefix *out;
	int max, n;
};

static void addr_cb(struct nl_object *o, void *arg)
{
	struct rtnl_addr *ra = (struct rtnl_addr *)o;
	struct addr_walk *w = arg;
	struct nl_addr *local = rtnl_addr_get_local(ra);
	struct prefix p = {0};
	bool ll;

	if (w->n >= w->max || rtnl_addr_get_ifindex(ra) != w->ifindex || !local)
		return;
	p.ip.family = (uint8_t)nl_addr_get_family(local);
	if (p.ip.family == AF_INET && nl_addr_get_len(local) == 4)
		memcpy(p.ip.a, nl_addr_get_binary_addr(local), 4);
	else if (p.ip.family == AF_INET6 && nl_addr_get_len(local) == 16)
		memcpy(p.ip.a, nl_addr_get_binary_addr(local), 16);
	else
		return;
	ll = p.ip.family == AF_INET6 && p.ip.a[0] == 0xfe && (p.ip.a[1] & 0xc0) == 0x80;
	if (ll != w->link_local)
		return;
	p.len = (uint8_t)rtnl_addr_get_prefixlen(ra);
	w->out[w->n++] = p;
}

int nl_iface_addrs(const char *ifname, struct prefix *out, int max)
{
	struct nl_sock *s = query_sock();
	struct nl_cache *cache = NULL;
	struct addr_walk w = {.out = out, .max = max};

	w.ifindex = (int)if_nametoindex(ifname);
	if (!s || !w.ifindex || rtnl_addr_alloc_cache(s, &cache) < 0)
		return -1;
	nl_cache_foreach(cache, addr_cb, &w);
	w.link_local = true;
	nl_cache_foreach(cache, addr_cb, &w);
	nl_cache_free(cache);
	return w.n;
}
