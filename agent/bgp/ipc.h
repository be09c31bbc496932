/* The agent (edgelbd) and its BGP speaker process (edgelb-bgp) talk over one SOCK_SEQPACKET
 * socketpair, one message per packet. Both ends are the same build, so the structs travel as
 * bytes. The agent decides (peers, next hops, the routes each peer should have); the speaker
 * runs the sessions and their adj-RIB-out and reports each session's state back. */
#ifndef EDGELB_BGP_IPC_H
#define EDGELB_BGP_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/msg.h"
#include "bgp/peer.h"
#include "config/config.h"
#include "lib/ip.h"

/* The speaker's descriptor for the channel, set up by the agent before exec. */
#define BGP_IPC_FD 3
/* Room for one packet; a ROUTES message carries as many routes as fit. */
#define BGP_IPC_MAX 65536

enum bgp_ipc_type {
	BGP_IPC_PEER = 1, /* agent → speaker: a new session (struct bgp_ipc_peer) */
	BGP_IPC_PEER_DEL, /* agent → speaker: Cease and forget the session (bgp_ipc_del) */
	BGP_IPC_ATTRS,	  /* agent → speaker: attribute set `id` of a session (bgp_ipc_attrs) */
	BGP_IPC_ROUTES,	  /* agent → speaker: wanted routes changed (bgp_ipc_routes) */
	BGP_IPC_BFD_DOWN, /* agent → speaker: the session's BFD went Down (RFC 5882) */
	BGP_IPC_QUERY,	  /* agent → speaker: send a STATUS per session, then QUERY_END */
	BGP_IPC_EXIT,	  /* agent → speaker: Cease every session (shutdown) and exit */
	BGP_IPC_STATUS,	  /* speaker → agent: a session's state (bgp_ipc_status) */
	BGP_IPC_QUERY_END,
};

struct bgp_ipc_hdr {
	uint32_t type;
	uint32_t peer; /* the session's id, given by the agent; 0 when none */
};

struct bgp_ipc_peer {
	struct bgp_ipc_hdr h;
	struct cfg_peer cfg;
	uint32_t router_id; /* host order */
	bool gr_fwd; /* RFC 4724: the agent adopted the last run's dataplane (Forwarding State) */
	uint64_t agent_started_ms; /* CLOCK_MONOTONIC: Restart State within the restart time */
};

struct bgp_ipc_del {
	struct bgp_ipc_hdr h;
	uint8_t cease; /* RFC 4486 subcode */
};

/* Attribute sets are numbered from 1 per session and never change meaning. */
struct bgp_ipc_attrs {
	struct bgp_ipc_hdr h;
	uint16_t id;
	struct bgp_attrs at;
};

/* attr 0: no longer wanted (withdraw if it was announced). */
struct bgp_ipc_route {
	struct prefix pfx;
	uint16_t attr;
};

struct bgp_ipc_routes {
	struct bgp_ipc_hdr h;
	uint32_t complete; /* the last of a batch: the speaker has the session's whole table */
	uint32_t n;
	struct bgp_ipc_route r[];
};
#define BGP_IPC_ROUTES_MAX                                                                         \
	((BGP_IPC_MAX - sizeof(struct bgp_ipc_routes)) / sizeof(struct bgp_ipc_route))

/* What the agent shows of a session (ctl, metrics, the layer-2 ⇄ BGP switch). */
struct bgp_peer_view {
	struct cfg_peer cfg;
	char name[IP_STRLEN];
	enum bgp_state state;
	uint32_t router_id, peer_id, peer_asn;
	struct bgp_caps neg;
	uint16_t hold, keepalive;
	uint64_t up_since_ms;
	char last_error[256];
	struct bgp_peer_stats st;
	uint64_t announced; /* prefixes the peer holds from us */
	uint64_t pending;   /* prefixes waiting in the coalescing window */
	bool table_sent;    /* initial table and End-of-RIB written to the socket */
};

struct bgp_ipc_status {
	struct bgp_ipc_hdr h;
	struct bgp_peer_view v;
};

#endif
