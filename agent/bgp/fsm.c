/* The BGP finite state machine (RFC 4271 8) and the session's I/O: one entry point,
 * bgp_fsm(peer, event); only change_state() writes peer->state (and logs the transition with
 * its reason). Connect-retry, hold and keepalive timers run on the agent's event loop; output
 * is queued and flushed when the socket is writable; collisions per RFC 4271 6.8.
 * Routes are not known here: the speaker (bgp.c) is told through peer->ops. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bgp/peer.h"
#include "lib/ev.h"
#include "lib/log.h"

#define OPEN_HOLD_S	 240 /* RFC 4271 8.2.2: "large" hold time while waiting for OPEN */
#define DEF_HOLD_S	 90
#define DEF_CONNECT_S	 5
#define IDLE_HOLD_MS	 1000 /* automatic restart after an error */
#define GR_TIME_S	 120

static const char *const state_names[] = {"Idle",	 "Connect",	"Active",
					  "OpenSent", "OpenConfirm", "Established"};

static const char *const event_names[BGP_EV_COUNT] = {
	[BGP_EV_START] = "start",
	[BGP_EV_STOP] = "stop",
	[BGP_EV_CONNECT_RETRY] = "connect-retry timer expired",
	[BGP_EV_HOLD_EXPIRED] = "hold timer expired",
	[BGP_EV_KEEPALIVE_TIMER] = "keepalive timer expired",
	[BGP_EV_TCP_OK] = "TCP connection up",
	[BGP_EV_TCP_FAIL] = "TCP connection failed",
	[BGP_EV_OPEN] = "received OPEN",
	[BGP_EV_MSG_ERR] = "message error",
	[BGP_EV_NOTIFICATION] = "received NOTIFICATION",
	[BGP_EV_KEEPALIVE] = "received KEEPALIVE",
	[BGP_EV_UPDATE] = "received UPDATE",
	[BGP_EV_REFRESH] = "received ROUTE-REFRESH",
	[BGP_EV_BFD_DOWN] = "BFD session down",
};

const char *bgp_state_name(enum bgp_state s)
{
	return s <= BGP_ESTABLISHED ? state_names[s] : "?";
}

const char *bgp_event_name(enum bgp_event e)
{
	return e < BGP_EV_COUNT ? event_names[e] : "?";
}

static void conn_read_cb(int fd, uint32_t events, void *arg);

static void change_state(struct bgp_peer *p, enum bgp_state to, const char *why)
{
	enum bgp_state from = p->state;

	if (from == to)
		return;
	log_info("bgp: peer %s: %s -> %s (%s)", p->name, state_names[from], state_names[to], why);
	p->state = to;
	if (to == BGP_ESTABLISHED) {
		p->up_since_ms = ev_now_ms();
		p->st.established++;
		if (p->ops && p->ops->up)
			p->ops->up(p);
	} else if (from == BGP_ESTABLISHED) {
		p->up_since_ms = 0;
		if (p->ops && p->ops->down)
			p->ops->down(p);
	}
}

/* --- connections ------------------------------------------------------------------------- */

static struct bgp_conn *conn_new(struct bgp_peer *p, int fd, bool outgoing)
{
	struct bgp_conn *c = calloc(1, sizeof(*c));

	if (!c)
		log_fatal("bgp: out of memory");
	c->p = p;
	c->fd = fd;
	c->outgoing = outgoing;
	return c;
}

static void conn_close(struct bgp_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0) {
		ev_fd_del(c->p->loop, c->fd);
		close(c->fd);
	}
	free(c->tx);
	free(c);
}

static void conn_events(struct bgp_conn *c, bool want_out)
{
	if (c->want_out == want_out || c->fd < 0)
		return;
	c->want_out = want_out;
	ev_fd_mod(c->p->loop, c->fd, EPOLLIN | (want_out ? EPOLLOUT : 0));
}

/* Writes what the socket takes now; -1 on a hard error. */
static int conn_flush(struct bgp_conn *c)
{
	while (c->tx_off < c->tx_len) {
		ssize_t n = send(c->fd, c->tx + c->tx_off, c->tx_len - c->tx_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		c->tx_off += (size_t)n;
	}
	if (c->tx_off == c->tx_len) {
		bool had = c->tx_len != 0;

		c->tx_off = c->tx_len = 0;
		conn_events(c, false);
		if (had && c->p->conn == c && c->p->ops && c->p->ops->drained)
			c->p->ops->drained(c->p);
	} else {
		conn_events(c, true);
	}
	return 0;
}

static void conn_queue(struct bgp_conn *c, const uint8_t *msg, size_t len)
{
	if (c->tx_off && c->tx_off == c->tx_len)
		c->tx_off = c->tx_len = 0;
	if (c->tx_len + len > c->tx_cap) {
		size_t cap = c->tx_cap ? c->tx_cap : 8192;

		if (c->tx_off) { /* compact before growing */
			memmove(c->tx, c->tx + c->tx_off, c->tx_len - c->tx_off);
			c->tx_len -= c->tx_off;
			c->tx_off = 0;
		}
		while (cap < c->tx_len + len)
			cap *= 2;
		if (cap != c->tx_cap) {
			c->tx = realloc(c->tx, cap);
			if (!c->tx)
				log_fatal("bgp: out of memory");
			c->tx_cap = cap;
		}
	}
	memcpy(c->tx + c->tx_len, msg, len);
	c->tx_len += len;
	if (!c->connecting && c->fd >= 0 && !c->want_out && conn_flush(c) < 0)
		log_debug("bgp: peer %s: send: %s", c->p->name, strerror(errno));
}

bool bgp_peer_tx_idle(const struct bgp_peer *p)
{
	return p->conn && p->conn->tx_off == p->conn->tx_len;
}

void bgp_peer_send(struct bgp_peer *p, const uint8_t *msg, size_t len)
{
	if (p->conn)
		conn_queue(p->conn, msg, len);
}

static void send_msg(struct bgp_peer *p, struct bgp_conn *c, struct wbuf *w)
{
	if (w->err)
		log_fatal("bgp: peer %s: encoded message does not fit", p->name);
	conn_queue(c, w->p, w->len);
}

static void send_open(struct bgp_peer *p, struct bgp_conn *c)
{
	uint8_t b[BGP_MAX_LEN];
	struct wbuf w = wbuf_make(b, sizeof(b));
	uint16_t hold = p->cfg.has_hold_time ? p->cfg.hold_time : DEF_HOLD_S;

	bgp_open_encode(&w, p->cfg.self_asn, hold, p->router_id, &p->our_caps);
	send_msg(p, c, &w);
	p->st.opens_tx++;
}

static void send_keepalive(struct bgp_peer *p)
{
	uint8_t b[BGP_HDR_LEN];
	struct wbuf w = wbuf_make(b, sizeof(b));

	bgp_keepalive_encode(&w);
	send_msg(p, p->conn, &w);
	p->st.ka_tx++;
}

/* Sends a NOTIFICATION and pushes it out before the connection is closed. */
static void send_notification(struct bgp_peer *p, struct bgp_conn *c, const struct bgp_err *n)
{
	uint8_t b[BGP_MAX_LEN];
	struct wbuf w = wbuf_make(b, sizeof(b));

	if (!c || c->fd < 0 || c->connecting)
		return;
	bgp_notification_encode(&w, n);
	send_msg(p, c, &w);
	p->st.notif_tx++;
	if (c->want_out)
		conn_flush(c);
	log_warn("bgp: peer %s: sent NOTIFICATION %u/%u (%s / %s)", p->name, n->code, n->subcode,
		 bgp_err_code_name(n->code), bgp_err_subcode_name(n->code, n->subcode));
	snprintf(p->last_error, sizeof(p->last_error), "sent NOTIFICATION %u/%u: %s / %s",
		 n->code, n->subcode, bgp_err_code_name(n->code),
		 bgp_err_subcode_name(n->code, n->subcode));
}

int bgp_peer_key(const struct cfg_peer *c, char *key, size_t len)
{
	FILE *f;

	key[0] = '\0';
	if (c->password[0]) {
		snprintf(key, len, "%s", c->password);
		return 0;
	}
	if (!c->password_file[0])
		return 0;
	f = fopen(c->password_file, "re");
	if (!f)
		return -1;
	if (fgets(key, (int)len, f))
		key[strcspn(key, "\r\n")] = '\0';
	fclose(f);
	return 0;
}

static void conn_attach(struct bgp_peer *p, struct bgp_conn *c)
{
	if (ev_fd_add(p->loop, c->fd, EPOLLIN | (c->want_out ? EPOLLOUT : 0), conn_read_cb, c) < 0)
		log_fatal("bgp: peer %s: cannot watch socket", p->name);
}

/* RFC 4271 8.2.1.1 (Connect): a non-blocking connect with the session's socket options. */
static void start_connect(struct bgp_peer *p)
{
	struct sockaddr_storage ss;
	char key[96];
	int fd, len, fam = p->cfg.addr.family;
	struct bgp_conn *c;

	fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("bgp: peer %s: socket: %s", p->name, strerror(errno));
		return;
	}
	bgp_peer_key(&p->cfg, key, sizeof(key));
	if (key[0] && bgp_sock_md5(fd, &p->cfg.addr, key) < 0)
		log_warn("bgp: peer %s: TCP_MD5SIG: %s", p->name, strerror(errno));
	if (p->cfg.ebgp_multihop)
		bgp_sock_ttl(fd, fam, p->cfg.ebgp_multihop);
	else if (p->cfg.peer_asn != p->cfg.self_asn)
		bgp_sock_ttl(fd, fam, 1); /* directly connected eBGP */
	if (p->cfg.source_addr.family == fam) {
		len = ip_to_sockaddr(&p->cfg.source_addr, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0)
			log_warn("bgp: peer %s: bind source address: %s", p->name, strerror(errno));
	}
	len = ip_to_sockaddr(&p->cfg.addr, p->cfg.peer_port ? p->cfg.peer_port : BGP_PORT, &ss);
	c = conn_new(p, fd, true);
	if (connect(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0 && errno != EINPROGRESS) {
		log_debug("bgp: peer %s: connect: %s", p->name, strerror(errno));
		snprintf(p->last_error, sizeof(p->last_error), "connect: %s", strerror(errno));
		conn_close(c);
		return;
	}
	c->connecting = true;
	c->want_out = true;
	conn_attach(p, c);
	p->conn = c;
}

static void drop_conn(struct bgp_peer *p)
{
	conn_close(p->conn);
	p->conn = NULL;
}

static void stop_timers(struct bgp_peer *p)
{
	ev_timer_stop(p->t_retry);
	ev_timer_stop(p->t_hold);
	ev_timer_stop(p->t_ka);
}

static uint64_t connect_ms(const struct bgp_peer *p)
{
	return (p->cfg.connect_time ? p->cfg.connect_time : DEF_CONNECT_S) * 1000ull;
}

/* Back to Idle after an error: connection gone, automatic restart later (RFC 4271 8.1.1
 * AutomaticStart) unless the peer is being removed. */
static void to_idle(struct bgp_peer *p, const char *why)
{
	stop_timers(p);
	drop_conn(p);
	conn_close(p->coll);
	p->coll = NULL;
	change_state(p, BGP_IDLE, why);
	if (!p->stopped)
		ev_timer_arm(p->t_retry, IDLE_HOLD_MS);
}

static void fail(struct bgp_peer *p, uint8_t code, uint8_t subcode, const char *why)
{
	struct bgp_err n = {0};

	bgp_err_set(&n, code, subcode, NULL, 0);
	send_notification(p, p->conn, &n);
	to_idle(p, why);
}

static void restart_hold(struct bgp_peer *p)
{
	if (p->hold)
		ev_timer_arm(p->t_hold, p->hold * 1000ull);
	else
		ev_timer_stop(p->t_hold);
}

/* RFC 4271 6.2 checks that need the configuration, then the negotiation (RFC 5492, 4.2). */
static int accept_open(struct bgp_peer *p)
{
	const struct bgp_open *o = &p->rx_open;
	uint16_t ours = p->cfg.has_hold_time ? p->cfg.hold_time : DEF_HOLD_S;
	uint16_t theirs_2b = (uint16_t)(p->cfg.peer_asn > 0xffff ? BGP_AS_TRANS : p->cfg.peer_asn);

	if (p->cfg.asn_mode == CFG_ASN_EXTERNAL) {
		/* dynamicAsn external: any AS but ours (RFC 4271 6.2 leaves "acceptable" to us) */
		if (o->asn == p->cfg.self_asn) {
			log_warn("bgp: peer %s: OPEN: AS %u is ours (dynamicAsn external wants "
				 "another)", p->name, o->asn);
			bgp_err_set(&p->err, BGP_ERR_OPEN, BGP_OPEN_BAD_AS, NULL, 0);
			return -1;
		}
	} else if (o->asn != p->cfg.peer_asn || (!o->caps.as4 && o->my_as != theirs_2b)) {
		log_warn("bgp: peer %s: OPEN: AS %u, configured %u", p->name, o->asn,
			 p->cfg.peer_asn);
		bgp_err_set(&p->err, BGP_ERR_OPEN, BGP_OPEN_BAD_AS, NULL, 0);
		return -1;
	}
	p->peer_asn = o->asn;
	/* RFC 4271 6.2: an internal peer must not use our identifier */
	if (p->cfg.peer_asn == p->cfg.self_asn && o->id == p->router_id) {
		bgp_err_set(&p->err, BGP_ERR_OPEN, BGP_OPEN_BAD_ID, NULL, 0);
		return -1;
	}
	p->neg = bgp_caps_negotiate(&p->our_caps, &o->caps);
	if (!p->neg.mp_ipv4 && !p->neg.mp_ipv6) {
		uint8_t data[BGP_MAX_LEN];
		struct wbuf w = wbuf_make(data, sizeof(data));

		/* RFC 5492 3: no family in common; data: the capabilities we need */
		bgp_caps_encode(&w, &p->our_caps);
		bgp_err_set(&p->err, BGP_ERR_OPEN, BGP_OPEN_BAD_CAP, data, w.len);
		return -1;
	}
	p->peer_id = o->id;
	p->hold = o->hold_time < ours ? o->hold_time : ours;
	if (p->hold == 0)
		p->keepalive = 0; /* RFC 4271 4.4: no keepalives when the hold time is 0 */
	else if (p->cfg.keepalive_time && p->cfg.keepalive_time <= p->hold / 3)
		p->keepalive = p->cfg.keepalive_time;
	else
		p->keepalive = p->hold / 3 ? p->hold / 3 : 1;
	return 0;
}

static void ka_start(struct bgp_peer *p)
{
	if (p->keepalive)
		ev_timer_arm(p->t_ka, p->keepalive * 1000ull);
}

/* An event that is not expected in the state: FSM error (RFC 6608 subcodes). */
static void fsm_error(struct bgp_peer *p, enum bgp_event ev)
{
	uint8_t sub = p->state == BGP_OPENSENT ? 1 : p->state == BGP_OPENCONFIRM ? 2 : 3;
	char why[96];

	snprintf(why, sizeof(why), "unexpected event: %s", bgp_event_name(ev));
	fail(p, BGP_ERR_FSM, sub, why);
}

void bgp_fsm(struct bgp_peer *p, enum bgp_event ev)
{
	char why[200];

	/* In every state: a manual stop sends the Cease (RFC 4486) and goes Idle for good. */
	if (ev == BGP_EV_STOP) {
		p->stopped = true;
		if (p->state >= BGP_OPENSENT)
			send_notification(p, p->conn, &p->err);
		if (p->coll)
			send_notification(p, p->coll, &p->err);
		to_idle(p, "stopped");
		return;
	}
	/* RFC 5882 4.2: BFD saw the path fail; tear the session down now (Cease, RFC 9384
	 * subcode 10) instead of waiting for the hold timer, then the automatic restart. */
	if (ev == BGP_EV_BFD_DOWN) {
		struct bgp_err n = {0};

		if (p->state == BGP_IDLE)
			return;
		bgp_err_set(&n, BGP_ERR_CEASE, BGP_CEASE_BFD_DOWN, NULL, 0);
		if (p->state >= BGP_OPENSENT)
			send_notification(p, p->conn, &n);
		if (p->coll)
			send_notification(p, p->coll, &n);
		snprintf(p->last_error, sizeof(p->last_error), "BFD session down");
		to_idle(p, "BFD session down");
		return;
	}
	switch (p->state) {
	case BGP_IDLE:
		if (ev == BGP_EV_START || ev == BGP_EV_CONNECT_RETRY) {
			p->stopped = false;
			ev_timer_arm(p->t_retry, connect_ms(p));
			if (p->cfg.passive) {
				change_state(p, BGP_ACTIVE, "start, passive");
			} else {
				start_connect(p);
				change_state(p, BGP_CONNECT, "start");
			}
		}
		/* RFC 4271 8.2.2: everything else is ignored in Idle */
		break;
	case BGP_CONNECT:
	case BGP_ACTIVE:
		switch (ev) {
		case BGP_EV_CONNECT_RETRY:
			drop_conn(p);
			ev_timer_arm(p->t_retry, connect_ms(p));
			if (!p->cfg.passive) {
				start_connect(p);
				change_state(p, BGP_CONNECT, "connect-retry timer expired");
			}
			break;
		case BGP_EV_TCP_OK:
			ev_timer_stop(p->t_retry);
			send_open(p, p->conn);
			ev_timer_arm(p->t_hold, OPEN_HOLD_S * 1000ull);
			change_state(p, BGP_OPENSENT,
				     p->conn->outgoing ? "connected" : "accepted connection");
			break;
		case BGP_EV_TCP_FAIL:
			drop_conn(p);
			change_state(p, BGP_ACTIVE, "connection failed");
			break;
		case BGP_EV_START:
			break;
		default:
			/* RFC 4271 8.2.2: other events in Connect/Active go to Idle */
			snprintf(why, sizeof(why), "unexpected event: %s", bgp_event_name(ev));
			to_idle(p, why);
		}
		break;
	case BGP_OPENSENT:
		switch (ev) {
		case BGP_EV_OPEN:
			if (accept_open(p) < 0) {
				snprintf(why, sizeof(why), "OPEN refused: %s",
					 bgp_err_subcode_name(p->err.code, p->err.subcode));
				send_notification(p, p->conn, &p->err);
				to_idle(p, why);
				break;
			}
			send_keepalive(p);
			restart_hold(p);
			ka_start(p);
			change_state(p, BGP_OPENCONFIRM, "received OPEN");
			break;
		case BGP_EV_TCP_FAIL:
			drop_conn(p);
			ev_timer_arm(p->t_retry, connect_ms(p));
			change_state(p, BGP_ACTIVE, "connection closed");
			break;
		default:
			goto common;
		}
		break;
	case BGP_OPENCONFIRM:
		switch (ev) {
		case BGP_EV_KEEPALIVE:
			restart_hold(p);
			change_state(p, BGP_ESTABLISHED, "received KEEPALIVE");
			break;
		default:
			goto common;
		}
		break;
	case BGP_ESTABLISHED:
		switch (ev) {
		case BGP_EV_KEEPALIVE:
		case BGP_EV_UPDATE:
			restart_hold(p);
			break;
		case BGP_EV_REFRESH:
			restart_hold(p);
			if (p->ops && p->ops->refresh)
				p->ops->refresh(p, p->rx_refresh_afi);
			break;
		default:
			goto common;
		}
		break;
	}
	return;

common: /* OpenSent, OpenConfirm, Established: the shared error handling */
	switch (ev) {
	case BGP_EV_KEEPALIVE_TIMER:
		if (p->state >= BGP_OPENCONFIRM && p->conn) {
			send_keepalive(p);
			ka_start(p);
		}
		return;
	case BGP_EV_HOLD_EXPIRED:
		/* RFC 4271 6.5 */
		snprintf(p->last_error, sizeof(p->last_error), "hold timer expired");
		fail(p, BGP_ERR_HOLD, 0, "hold timer expired");
		return;
	case BGP_EV_TCP_FAIL:
		to_idle(p, "connection closed");
		return;
	case BGP_EV_MSG_ERR:
		snprintf(why, sizeof(why), "message error: %s / %s", bgp_err_code_name(p->err.code),
			 bgp_err_subcode_name(p->err.code, p->err.subcode));
		send_notification(p, p->conn, &p->err);
		to_idle(p, why);
		return;
	case BGP_EV_NOTIFICATION:
		snprintf(why, sizeof(why), "received NOTIFICATION %u/%u: %s / %s",
			 p->rx_notif.code, p->rx_notif.subcode, bgp_err_code_name(p->rx_notif.code),
			 bgp_err_subcode_name(p->rx_notif.code, p->rx_notif.subcode));
		snprintf(p->last_error, sizeof(p->last_error), "%s", why);
		to_idle(p, why);
		return;
	case BGP_EV_START:
	case BGP_EV_CONNECT_RETRY:
	case BGP_EV_TCP_OK:
		return; /* ignored (RFC 4271 8.2.2) */
	default:
		fsm_error(p, ev);
	}
}

/* --- input ------------------------------------------------------------------------------- */

static void handle_update(struct bgp_peer *p, struct rbuf *body)
{
	struct bgp_update_info u;

	if (p->state != BGP_ESTABLISHED) {
		bgp_fsm(p, BGP_EV_UPDATE); /* an FSM error there */
		return;
	}
	p->st.upd_rx++;
	if (bgp_update_decode(body, p->neg.as4, &u, &p->err) < 0) {
		log_warn("bgp: peer %s: UPDATE: %s", p->name, u.why);
		bgp_fsm(p, BGP_EV_MSG_ERR);
		return;
	}
	/* routes from peers are counted and dropped: the node announces, it does not route */
	p->st.prefixes_rx += u.nlri + u.mp_reach;
	p->st.withdraw_rx += u.withdrawn + u.mp_unreach;
	p->st.attr_discarded += u.discarded;
	if (u.treat_as_withdraw)
		p->st.treat_as_withdraw++;
	if (u.treat_as_withdraw || u.discarded)
		log_info("bgp: peer %s: UPDATE: %s", p->name, u.why);
	bgp_fsm(p, BGP_EV_UPDATE);
}

/* Dispatches one complete message of the main connection. */
static void handle_msg(struct bgp_peer *p, const struct bgp_hdr *h, struct rbuf *body)
{
	uint16_t afi;
	uint8_t safi;

	switch (h->type) {
	case BGP_OPEN:
		p->st.opens_rx++;
		if (p->state != BGP_OPENSENT) {
			bgp_fsm(p, BGP_EV_OPEN);
			return;
		}
		if (bgp_open_decode(body, &p->rx_open, &p->err) < 0) {
			bgp_fsm(p, BGP_EV_MSG_ERR);
			return;
		}
		bgp_fsm(p, BGP_EV_OPEN);
		return;
	case BGP_UPDATE:
		handle_update(p, body);
		return;
	case BGP_NOTIFICATION:
		p->st.notif_rx++;
		bgp_notification_decode(body, &p->rx_notif, &p->err);
		log_warn("bgp: peer %s: received NOTIFICATION %u/%u (%s / %s)", p->name,
			 p->rx_notif.code, p->rx_notif.subcode, bgp_err_code_name(p->rx_notif.code),
			 bgp_err_subcode_name(p->rx_notif.code, p->rx_notif.subcode));
		bgp_fsm(p, BGP_EV_NOTIFICATION);
		return;
	case BGP_KEEPALIVE:
		p->st.ka_rx++;
		bgp_fsm(p, BGP_EV_KEEPALIVE);
		return;
	case BGP_ROUTE_REFRESH:
		p->st.refresh_rx++;
		if (bgp_refresh_decode(body, &afi, &safi, &p->err) < 0) {
			bgp_fsm(p, BGP_EV_MSG_ERR);
			return;
		}
		/* RFC 2918 4: a family not negotiated is ignored */
		if (safi != BGP_SAFI_UNICAST || (afi != BGP_AFI_IPV4 && afi != BGP_AFI_IPV6))
			return;
		p->rx_refresh_afi = afi;
		bgp_fsm(p, BGP_EV_REFRESH);
		return;
	}
}

/* A second connection (collision, RFC 4271 6.8) waits for its OPEN, then one side goes. */
static void handle_coll_msg(struct bgp_peer *p, const struct bgp_hdr *h, struct rbuf *body)
{
	struct bgp_open o;
	struct bgp_err e = {0};
	struct bgp_conn *keep_old;

	if (h->type != BGP_OPEN || bgp_open_decode(body, &o, &e) < 0) {
		conn_close(p->coll);
		p->coll = NULL;
		return;
	}
	p->st.opens_rx++;
	/* The connection initiated by the speaker with the higher identifier survives. The
	 * new one was initiated by the peer. */
	keep_old = p->conn && p->conn->outgoing && p->router_id > o.id ? p->conn : NULL;
	bgp_err_set(&e, BGP_ERR_CEASE, BGP_CEASE_COLLISION, NULL, 0);
	if (keep_old) {
		send_notification(p, p->coll, &e);
		conn_close(p->coll);
		p->coll = NULL;
		log_info("bgp: peer %s: collision: kept our connection", p->name);
		return;
	}
	log_info("bgp: peer %s: collision: kept the peer's connection", p->name);
	if (p->state >= BGP_OPENSENT)
		send_notification(p, p->conn, &e);
	drop_conn(p);
	p->conn = p->coll;
	p->coll = NULL;
	if (p->state != BGP_OPENSENT)
		change_state(p, BGP_OPENSENT, "connection collision");
	p->rx_open = o;
	bgp_fsm(p, BGP_EV_OPEN);
}

/* Parses every complete message in the buffer. Stops when the connection went away. */
static void conn_input(struct bgp_conn *c)
{
	struct bgp_peer *p = c->p;
	bool is_coll = c == p->coll;
	size_t off = 0;

	while (c->rx_len - off >= BGP_HDR_LEN) {
		struct rbuf r = rbuf_make(c->rx + off, c->rx_len - off);
		struct bgp_hdr h;
		struct rbuf body;

		if (bgp_hdr_decode(&r, &h, &p->err) < 0) {
			if (is_coll) {
				conn_close(c);
				p->coll = NULL;
			} else {
				bgp_fsm(p, BGP_EV_MSG_ERR);
			}
			return;
		}
		if (c->rx_len - off < h.len)
			break;
		body = rbuf_sub(&r, h.len - BGP_HDR_LEN);
		off += h.len;
		if (is_coll) {
			handle_coll_msg(p, &h, &body);
			if (p->coll != c && p->conn != c)
				return;
			if (p->conn == c)
				is_coll = false;
		} else {
			handle_msg(p, &h, &body);
			if (p->conn != c)
				return;
		}
	}
	memmove(c->rx, c->rx + off, c->rx_len - off);
	c->rx_len -= off;
}

static void conn_read_cb(int fd, uint32_t events, void *arg)
{
	struct bgp_conn *c = arg;
	struct bgp_peer *p = c->p;
	bool is_coll = c == p->coll;

	if (c->connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		c->connecting = false;
		if (err) {
			snprintf(p->last_error, sizeof(p->last_error), "connect: %s", strerror(err));
			log_debug("bgp: peer %s: connect: %s", p->name, strerror(err));
			bgp_fsm(p, BGP_EV_TCP_FAIL);
			return;
		}
		bgp_fsm(p, BGP_EV_TCP_OK);
		if (p->conn != c)
			return;
		if (conn_flush(c) < 0) {
			bgp_fsm(p, BGP_EV_TCP_FAIL);
			return;
		}
		return;
	}
	if (events & EPOLLOUT) {
		if (conn_flush(c) < 0) {
			if (is_coll) {
				conn_close(c);
				p->coll = NULL;
			} else {
				bgp_fsm(p, BGP_EV_TCP_FAIL);
			}
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t n = recv(fd, c->rx + c->rx_len, sizeof(c->rx) - c->rx_len, 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			if (is_coll) {
				conn_close(c);
				p->coll = NULL;
				return;
			}
			snprintf(p->last_error, sizeof(p->last_error), "connection %s",
				 n == 0 ? "closed by peer" : strerror(errno));
			bgp_fsm(p, BGP_EV_TCP_FAIL);
			return;
		}
		c->rx_len += (size_t)n;
		conn_input(c);
	}
}

void bgp_peer_accept(struct bgp_peer *p, int fd)
{
	struct bgp_conn *c;
	struct bgp_err e = {0};
	uint8_t b[64];
	struct wbuf w = wbuf_make(b, sizeof(b));

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (p->state == BGP_IDLE || p->state == BGP_ESTABLISHED || p->coll) {
		/* RFC 4271 6.8: with a session Established the new connection is refused */
		if (p->state == BGP_ESTABLISHED) {
			bgp_err_set(&e, BGP_ERR_CEASE, BGP_CEASE_COLLISION, NULL, 0);
			bgp_notification_encode(&w, &e);
			if (send(fd, b, w.len, MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
				p->st.notif_tx++;
		}
		log_info("bgp: peer %s: incoming connection refused in %s", p->name,
			 state_names[p->state]);
		close(fd);
		return;
	}
	c = conn_new(p, fd, false);
	if (p->cfg.ebgp_multihop)
		bgp_sock_ttl(fd, p->cfg.addr.family, p->cfg.ebgp_multihop);
	else if (p->cfg.peer_asn != p->cfg.self_asn)
		bgp_sock_ttl(fd, p->cfg.addr.family, 1);
	conn_attach(p, c);
	if (p->state == BGP_CONNECT || p->state == BGP_ACTIVE) {
		drop_conn(p); /* a connect of ours still in progress loses to the accepted one */
		p->conn = c;
		bgp_fsm(p, BGP_EV_TCP_OK);
		return;
	}
	/* OpenSent / OpenConfirm: keep both until the new connection's OPEN arrives */
	p->coll = c;
	send_open(p, c);
}

/* --- timers and life cycle --------------------------------------------------------------- */

static void retry_cb(struct ev_timer *t, void *arg)
{
	struct bgp_peer *p = arg;
	bgp_fsm(p, p->state == BGP_IDLE ? BGP_EV_START : BGP_EV_CONNECT_RETRY);
}

static void hold_cb(struct ev_timer *t, void *arg)
{
	bgp_fsm(arg, BGP_EV_HOLD_EXPIRED);
}

static void ka_cb(struct ev_timer *t, void *arg)
{
	bgp_fsm(arg, BGP_EV_KEEPALIVE_TIMER);
}

struct bgp_peer *bgp_peer_new(struct ev_loop *l, const struct cfg_peer *c, uint32_t router_id,
			      const struct bgp_peer_ops *ops, void *glue)
{
	struct bgp_peer *p = calloc(1, sizeof(*p));

	if (!p)
		log_fatal("bgp: out of memory");
	p->cfg = *c;
	ip_str(&c->addr, p->name);
	p->loop = l;
	p->router_id = router_id;
	p->ops = ops;
	p->glue = glue;
	p->t_retry = ev_timer_new(l, retry_cb, p);
	p->t_hold = ev_timer_new(l, hold_cb, p);
	p->t_ka = ev_timer_new(l, ka_cb, p);
	/* Both unicast families always: routes of either family may ride on this session. */
	p->our_caps.mp_seen = p->our_caps.mp_ipv4 = p->our_caps.mp_ipv6 = true;
	p->our_caps.as4 = true;
	p->our_caps.as4_asn = c->self_asn;
	p->our_caps.route_refresh = true;
	/* RFC 4724: only when asked for, since routers then keep our routes when we die */
	if (c->graceful_restart) {
		p->our_caps.gr = true;
		p->our_caps.gr_time = GR_TIME_S;
		p->our_caps.gr_ipv4 = p->our_caps.gr_ipv6 = true;
	}
	return p;
}

void bgp_peer_free(struct bgp_peer *p)
{
	if (!p)
		return;
	drop_conn(p);
	conn_close(p->coll);
	ev_timer_free(p->t_retry);
	ev_timer_free(p->t_hold);
	ev_timer_free(p->t_ka);
	free(p);
}
