/* One BGP session (RFC 4271 8): the peer's configuration, its connection(s), timers, the
 * negotiated parameters and counters. fsm.c owns everything here except `glue`, which the
 * speaker (bgp.c) uses for the peer's adj-RIB-out. Internal to agent/bgp/. */
#ifndef EDGELB_BGP_PEER_H
#define EDGELB_BGP_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "bgp/msg.h"
#include "config/config.h"

struct ev_loop;
struct ev_timer;

enum bgp_state { BGP_IDLE, BGP_CONNECT, BGP_ACTIVE, BGP_OPENSENT, BGP_OPENCONFIRM, BGP_ESTABLISHED };

/* RFC 4271 8.1, the events this speaker distinguishes. Data that comes with an event
 * (the OPEN, the NOTIFICATION, the error to send) is in the peer before bgp_fsm() runs. */
enum bgp_event {
	BGP_EV_START,		/* ManualStart / AutomaticStart */
	BGP_EV_STOP,		/* ManualStop: Cease with peer->err */
	BGP_EV_CONNECT_RETRY,	/* ConnectRetryTimer_Expires */
	BGP_EV_HOLD_EXPIRED,	/* HoldTimer_Expires */
	BGP_EV_KEEPALIVE_TIMER, /* KeepaliveTimer_Expires */
	BGP_EV_TCP_OK,		/* TcpConnectionConfirmed / Tcp_CR_Acked */
	BGP_EV_TCP_FAIL,	/* TcpConnectionFails */
	BGP_EV_OPEN,		/* BGPOpen (peer->rx_open) */
	BGP_EV_MSG_ERR,		/* BGPHeaderErr / BGPOpenMsgErr / UpdateMsgErr (peer->err) */
	BGP_EV_NOTIFICATION,	/* NotifMsg (peer->rx_notif) */
	BGP_EV_KEEPALIVE,	/* KeepAliveMsg */
	BGP_EV_UPDATE,		/* UpdateMsg */
	BGP_EV_REFRESH,		/* ROUTE-REFRESH (peer->rx_refresh_afi) */
	BGP_EV_BFD_DOWN,	/* the peer's BFD session went from Up to Down (RFC 5882) */
	BGP_EV_COUNT
};

struct bgp_conn {
	struct bgp_peer *p;
	int fd;
	bool outgoing;	 /* initiated by us (RFC 4271 6.8) */
	bool connecting; /* non-blocking connect in progress */
	bool want_out;	 /* EPOLLOUT registered */
	uint8_t rx[2 * BGP_MAX_LEN];
	size_t rx_len;
	uint8_t *tx;
	size_t tx_len, tx_off, tx_cap;
};

struct bgp_peer_stats {
	uint64_t opens_tx, opens_rx, notif_tx, notif_rx, ka_tx, ka_rx, upd_tx, upd_rx;
	uint64_t refresh_tx, refresh_rx, prefixes_rx, withdraw_rx, treat_as_withdraw;
	uint64_t attr_discarded; /* RFC 7606 attribute-discard */
	uint64_t prefixes_tx, established;
};

struct bgp_peer;
struct bgp_peer_ops {
	void (*up)(struct bgp_peer *p);	/* entered Established */
	void (*down)(struct bgp_peer *p);	/* left Established */
	void (*refresh)(struct bgp_peer *p, int afi);
	void (*drained)(struct bgp_peer *p); /* the session's send buffer emptied (or NULL) */
};

struct bgp_peer {
	struct cfg_peer cfg;
	char name[IP_STRLEN]; /* the peer address, for logs */
	struct ev_loop *loop;
	uint32_t router_id; /* ours, host order */
	enum bgp_state state;
	struct bgp_conn *conn; /* the session's connection, or NULL */
	struct bgp_conn *coll; /* a second, incoming connection during a collision */
	struct ev_timer *t_retry, *t_hold, *t_ka;
	struct bgp_caps our_caps, neg;
	struct bgp_open rx_open;
	struct bgp_err err;	 /* what to send with the next NOTIFICATION */
	struct bgp_err rx_notif; /* the last one received */
	int rx_refresh_afi;
	uint16_t hold, keepalive; /* negotiated, seconds */
	uint32_t peer_id;
	uint32_t peer_asn; /* the AS of the OPEN accepted last (cfg.peer_asn but for dynamicAsn) */
	uint64_t up_since_ms;
	bool stopped; /* no automatic restart (being removed) */
	char last_error[256];
	struct bgp_peer_stats st;
	const struct bgp_peer_ops *ops;
	void *glue;
};

const char *bgp_state_name(enum bgp_state s);
const char *bgp_event_name(enum bgp_event e);

/* Creates the peer in Idle; bgp_fsm(p, BGP_EV_START) starts it. */
struct bgp_peer *bgp_peer_new(struct ev_loop *l, const struct cfg_peer *c, uint32_t router_id,
			      const struct bgp_peer_ops *ops, void *glue);
/* Closes without a NOTIFICATION and frees. */
void bgp_peer_free(struct bgp_peer *p);
/* The one FSM entry point. */
void bgp_fsm(struct bgp_peer *p, enum bgp_event ev);
/* An accepted incoming connection for this peer (the fd is owned by the peer afterwards). */
void bgp_peer_accept(struct bgp_peer *p, int fd);
/* True when everything queued on the session's connection has been written to the socket. */
bool bgp_peer_tx_idle(const struct bgp_peer *p);
/* Queues one encoded message; flushed when the socket is writable. */
void bgp_peer_send(struct bgp_peer *p, const uint8_t *msg, size_t len);
/* The key in effect: password, or the first line of password_file ("" when none); -1 with
 * errno when the file cannot be read. */
int bgp_peer_key(const struct cfg_peer *c, char *key, size_t len);

/* Socket helpers (sock.c). 0 ok, -1 with errno. */
int bgp_sock_md5(int fd, const struct ip *peer, const char *key);
int bgp_sock_ttl(int fd, int family, int ttl);
int bgp_sock_listen(int family, uint16_t port);

#endif
