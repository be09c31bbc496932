/* One BFD session (RFC 5880 6.8): the state machine (Down -> Init -> Up three-way handshake),
 * timer negotiation with poll/final sequences (6.5, 6.8.3), the jittered periodic transmission
 * (6.8.7), the detection time (6.8.4), AdminDown when removed (6.8.16) and the transmit
 * sequence of authentication (6.7). Only set_state() writes s->state. Sockets and
 * demultiplexing are sock.c's, the authentication section auth.c's, the echo function
 * echo.c's. */
#include <stdlib.h>
#include <string.h>

#include "bfd/bfd.h"
#include "lib/ev.h"
#include "lib/log.h"

/* the note logged when echo is on but the peer's echoes cannot come back through us */
#define NO_REFLECT " (not looping the peer's: this node does not forward IPv4)"

uint64_t bfd_us_to_ms(uint64_t us)
{
	uint64_t ms = (us + 999) / 1000;
	return ms ? ms : 1;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* 6.8.7: no periodic packets when the remote asks for none (RemoteMinRx 0) or runs demand
 * mode with both ends Up. */
uint32_t bfd_sess_tx_interval(const struct bfd_sess *s)
{
	if (!s->remote_min_rx)
		return 0;
	if (s->remote_demand && s->state == BFD_UP && s->remote_state == BFD_UP)
		return 0;
	return max_u32(s->tx_in_force_us, s->remote_min_rx);
}

/* 6.8.4, asynchronous mode: the remote's Detect Mult times the agreed remote transmit
 * interval (our RequiredMinRx in force, or the remote's last Desired Min TX if larger). */
uint64_t bfd_sess_detect_time(const struct bfd_sess *s)
{
	return (uint64_t)s->remote_mult * max_u32(s->rx_in_force_us, s->remote_min_tx);
}

/* 6.8.7: reduce by 0-25% at random; with a Detect Mult of 1, to 75-90%. */
uint32_t bfd_jitter(uint32_t interval_us, uint8_t mult, uint32_t rnd)
{
	uint64_t pct = mult == 1 ? 75 + rnd % 16 : 75 + rnd % 26; /* percent kept */

	return (uint32_t)((uint64_t)interval_us * pct / 100);
}

void bfd_sess_build(const struct bfd_sess *s, struct bfd_pkt *k, bool final)
{
	memset(k, 0, sizeof(*k));
	k->version = BFD_VERSION;
	k->diag = s->local_diag;
	k->state = s->state;
	/* 6.8.7: P while a poll sequence runs, F only in the answer to a P, never both */
	k->flags = final ? BFD_F_FINAL : s->polling ? BFD_F_POLL : 0;
	k->detect_mult = s->cfg.mult;
	k->length = (uint8_t)(BFD_PKT_LEN + bfd_auth_len(&s->cfg.auth));
	if (s->cfg.auth.type)
		k->flags |= BFD_F_AUTH;
	k->my_disc = s->local_disc;
	k->your_disc = s->remote_disc;
	k->desired_min_tx = s->desired_min_tx;
	k->required_min_rx = s->required_min_rx;
	k->required_min_echo_rx = bfd_echo_rx_advert(s);
}

/* 6.7.3, 6.7.4: meticulous modes move bfd.XmitAuthSeq with every packet; keyed modes may,
 * and move it once a second, as BIRD does: a peer's window of 3 x Detect Mult then spans at
 * least that many seconds of our packets, not that many packets. */
static uint32_t next_seq(struct bfd_sess *s)
{
	uint8_t t = s->cfg.auth.type;
	uint64_t now = ev_now_ms();

	if (t == BFD_AUTH_METICULOUS_MD5 || t == BFD_AUTH_METICULOUS_SHA1 ||
	    now - s->xmit_seq_ms >= 1000) {
		s->xmit_auth_seq++;
		s->xmit_seq_ms = now;
	}
	return s->xmit_auth_seq;
}

static void send_pkt(struct bfd_sess *s, bool final)
{
	uint8_t buf[BFD_PKT_MAX];
	struct wbuf w = wbuf_make(buf, sizeof(buf));
	struct bfd_pkt k;
	size_t len;

	/* 6.8.7: the passive role sends nothing while bfd.RemoteDiscr is zero (before the first
	 * packet from the remote, and again once a detection time passed without one) */
	if (s->cfg.passive && !s->remote_disc)
		return;
	bfd_sess_build(s, &k, final);
	bfd_pkt_encode(&w, &k);
	if (w.err)
		log_fatal("bfd: peer %s: packet encoding failed", s->name);
	len = bfd_auth_sign(buf, w.len, &s->cfg.auth,
			    s->cfg.auth.type >= BFD_AUTH_KEYED_MD5 ? next_seq(s) : 0);
	bfd_xmit(s, buf, len);
	s->st.tx++;
}

void bfd_sess_tx(struct bfd_sess *s)
{
	send_pkt(s, false);
}

/* (Re)arms the periodic transmission from now with a fresh jitter. */
static void schedule_tx(struct bfd_sess *s)
{
	uint32_t iv = bfd_sess_tx_interval(s);

	if (!iv) {
		ev_timer_stop(s->t_tx);
		return;
	}
	ev_timer_arm(s->t_tx, bfd_us_to_ms(bfd_jitter(iv, s->cfg.mult, bfd_rand(s->b))));
}

static void tx_cb(struct ev_timer *t, void *arg)
{
	struct bfd_sess *s = arg;

	(void)t;
	bfd_sess_tx(s);
	schedule_tx(s);
}

static void arm_detect(struct bfd_sess *s)
{
	uint64_t d = bfd_sess_detect_time(s);

	if (!d || (s->remote_demand && s->state == BFD_UP && s->remote_state == BFD_UP))
		ev_timer_stop(s->t_detect);
	else
		ev_timer_arm(s->t_detect, bfd_us_to_ms(d));
}

/* 6.8.3: the advertised Desired Min TX is at least 1 s unless Up, and Required Min RX at least
 * 1 s while our echo packets do the detecting; a change while Up starts a poll sequence, and
 * an increase only paces our packets once the Final arrives. */
static void apply_timers(struct bfd_sess *s)
{
	uint32_t tx =
	    s->state == BFD_UP ? s->cfg.min_tx_us : max_u32(s->cfg.min_tx_us, BFD_SLOW_TX_US);
	uint32_t rx = s->echo_on ? max_u32(s->cfg.min_rx_us, BFD_SLOW_TX_US) : s->cfg.min_rx_us;
	bool changed = tx != s->desired_min_tx || rx != s->required_min_rx;

	s->desired_min_tx = tx;
	s->required_min_rx = rx;
	if (!changed)
		return;
	if (s->state != BFD_UP) {
		s->polling = false;
		s->tx_in_force_us = tx;
		s->rx_in_force_us = rx;
		return;
	}
	s->polling = true;
	if (tx < s->tx_in_force_us)
		s->tx_in_force_us = tx; /* a decrease may apply at once */
	if (rx > s->rx_in_force_us)
		s->rx_in_force_us = rx; /* only a reduction waits for the Final */
}

static void set_state(struct bfd_sess *s, enum bfd_state to, uint8_t diag, const char *why)
{
	enum bfd_state old = s->state;

	if (old == to)
		return;
	s->state = to;
	s->local_diag = diag;
	s->st.changes++;
	s->changed_ms = ev_now_ms();
	if (to == BFD_UP)
		s->st.up++;
	if (old == BFD_UP)
		s->st.down++;
	log_info("bfd: peer %s: %s -> %s (%s)", s->name, bfd_state_name(old), bfd_state_name(to),
		 why);
	bfd_echo_sync(s);
	apply_timers(s);
	schedule_tx(s);
	if (s->notify)
		s->notify(s, old, s->arg);
}

void bfd_sess_echo_failed(struct bfd_sess *s)
{
	if (s->state == BFD_UP)
		set_state(s, BFD_DOWN, BFD_DIAG_ECHO_FAILED, "echo detection time expired");
}

void bfd_sess_detect_expired(struct bfd_sess *s)
{
	/* 6.8.1: RemoteDiscr back to zero when a detection time passes without a packet */
	s->remote_disc = 0;
	s->remote_state = BFD_DOWN;
	if (s->state == BFD_INIT || s->state == BFD_UP)
		set_state(s, BFD_DOWN, BFD_DIAG_DETECT_EXPIRED, "control detection time expired");
}

static void detect_cb(struct ev_timer *t, void *arg)
{
	struct bfd_sess *s = arg;

	(void)t;
	if (s->state == BFD_ADMIN_DOWN)
		bfd_sess_destroy(s); /* the AdminDown period is over */
	else
		bfd_sess_detect_expired(s);
}

/* RFC 5880 6.8.6 from "Set bfd.RemoteDiscr" on: the packet was validated and matched. */
void bfd_sess_rx(struct bfd_sess *s, const struct bfd_pkt *k)
{
	uint32_t old_iv = bfd_sess_tx_interval(s);

	if (s->state == BFD_ADMIN_DOWN)
		return; /* 6.8.6: discard while AdminDown */
	s->st.rx++;
	s->remote_disc = k->my_disc;
	s->remote_state = k->state;
	s->remote_demand = k->flags & BFD_F_DEMAND;
	s->remote_min_rx = k->required_min_rx;
	s->remote_min_tx = k->desired_min_tx;
	s->remote_mult = k->detect_mult;
	s->remote_echo_rx = k->required_min_echo_rx;
	/* 6.5: the Final ends the poll sequence; the new values are in force from now */
	if ((k->flags & BFD_F_FINAL) && s->polling) {
		s->polling = false;
		s->tx_in_force_us = s->desired_min_tx;
		s->rx_in_force_us = s->required_min_rx;
	}
	/* 6.8.6: the state machine */
	if (k->state == BFD_ADMIN_DOWN) {
		if (s->state != BFD_DOWN)
			set_state(s, BFD_DOWN, BFD_DIAG_NEIGHBOR_DOWN, "neighbor is AdminDown");
	} else if (s->state == BFD_DOWN) {
		if (k->state == BFD_DOWN)
			set_state(s, BFD_INIT, BFD_DIAG_NONE, "received Down");
		else if (k->state == BFD_INIT)
			set_state(s, BFD_UP, BFD_DIAG_NONE, "received Init");
	} else if (s->state == BFD_INIT) {
		if (k->state == BFD_INIT || k->state == BFD_UP)
			set_state(s, BFD_UP, BFD_DIAG_NONE,
				  k->state == BFD_UP ? "received Up" : "received Init");
	} else if (k->state == BFD_DOWN) {
		set_state(s, BFD_DOWN, BFD_DIAG_NEIGHBOR_DOWN, "neighbor signaled session down");
	}
	/* 6.8.9: the remote starting or stopping to take echo packets while Up */
	if (bfd_echo_sync(s))
		apply_timers(s);
	/* 6.8.7: answer a Poll with a Final at once, outside the periodic schedule */
	if (k->flags & BFD_F_POLL)
		send_pkt(s, true);
	if (bfd_sess_tx_interval(s) != old_iv || !ev_timer_armed(s->t_tx))
		schedule_tx(s);
	arm_detect(s); /* 6.8.4: a valid packet restarts the detection time */
}

void bfd_sess_set_params(struct bfd_sess *s, const struct bfd_params *pr)
{
	char ids[64];

	if (!bfd_auth_same(&s->cfg, pr)) {
		/* 6.7.3, 6.7.4: the sequence numbers are the session's, not a key's (a peer moving
		 * to another key goes on counting, as BIRD does), so a key rollover keeps both
		 * windows; another type is a new start. The transmit sequence never goes back. */
		if (s->cfg.auth.type != pr->auth.type) {
			s->auth_seq_known = false;
			s->rcv_key_seen = false;
		}
		s->cfg.auth = pr->auth;
		memcpy(s->cfg.accept, pr->accept, sizeof(pr->accept));
		s->cfg.n_accept = pr->n_accept;
		log_info("bfd: peer %s: authentication %s, key ID %u%s", s->name,
			 bfd_auth_name(pr->auth.type), pr->auth.key_id,
			 bfd_auth_accept_str(pr, ids, sizeof(ids)));
	}
	if (s->cfg.passive != pr->passive || s->cfg.min_ttl != pr->min_ttl) {
		s->cfg.passive = pr->passive;
		s->cfg.min_ttl = pr->min_ttl;
		log_info("bfd: peer %s: %s role, minimum TTL %u%s", s->name,
			 pr->passive ? "passive" : "active",
			 s->cfg.multihop ? pr->min_ttl : BFD_TTL,
			 s->cfg.multihop && !pr->min_ttl ? " (any)" : "");
	}
	if (s->cfg.echo_us != pr->echo_us || s->cfg.echo_reflect != pr->echo_reflect) {
		s->cfg.echo_us = pr->echo_us;
		s->cfg.echo_reflect = pr->echo_reflect;
		log_info("bfd: peer %s: echo function %s%s", s->name, pr->echo_us ? "on" : "off",
			 pr->echo_us && !pr->echo_reflect ? NO_REFLECT : "");
		bfd_echo_sync(s);
		apply_timers(s);
		schedule_tx(s);
	}
	if (s->cfg.min_tx_us == pr->min_tx_us && s->cfg.min_rx_us == pr->min_rx_us &&
	    s->cfg.mult == pr->mult)
		return;
	s->cfg.min_tx_us = pr->min_tx_us;
	s->cfg.min_rx_us = pr->min_rx_us;
	s->cfg.mult = pr->mult; /* single hop or multihop for life */
	log_info("bfd: peer %s: timers %u/%u ms x %u%s", s->name, pr->min_tx_us / 1000,
		 pr->min_rx_us / 1000, pr->mult, s->state == BFD_UP ? " (poll sequence)" : "");
	apply_timers(s);
	schedule_tx(s);
}

static void free_timers(struct bfd_sess *s)
{
	ev_timer_free(s->t_tx);
	ev_timer_free(s->t_detect);
	ev_timer_free(s->t_echo_tx);
	ev_timer_free(s->t_echo_detect);
}

struct bfd_sess *bfd_sess_new(struct bfd *b, const struct ip *peer, const struct ip *local,
			      const struct bfd_params *pr, bfd_notify_fn fn, void *arg)
{
	struct bfd_sess *s = calloc(1, sizeof(*s));
	char ids[64];

	if (!s)
		log_fatal("bfd: out of memory");
	s->b = b;
	s->peer = *peer;
	if (local)
		s->local = *local;
	ip_str(peer, s->name);
	s->fd = -1;
	s->cfg = *pr;
	s->state = BFD_DOWN;
	s->remote_state = BFD_DOWN;
	s->remote_min_rx = 1; /* 6.8.1: initial bfd.RemoteMinRxInterval */
	s->notify = fn;
	s->arg = arg;
	s->t_tx = ev_timer_new(bfd_loop(b), tx_cb, s);
	s->t_detect = ev_timer_new(bfd_loop(b), detect_cb, s);
	bfd_echo_timers(s);
	s->local_disc = bfd_new_disc(b);
	s->xmit_auth_seq = bfd_rand(b); /* 6.8.1: bfd.XmitAuthSeq starts random */
	s->changed_ms = ev_now_ms();
	apply_timers(s);
	if (bfd_sess_register(b, s) < 0) {
		free_timers(s);
		free(s);
		return NULL;
	}
	log_info("bfd: peer %s: session created (discriminator %u, %u/%u ms x %u%s%s%s%s%s%s)",
		 s->name, s->local_disc, pr->min_tx_us / 1000, pr->min_rx_us / 1000, pr->mult,
		 pr->passive ? ", passive" : "", pr->auth.type ? ", authentication " : "",
		 pr->auth.type ? bfd_auth_name(pr->auth.type) : "",
		 bfd_auth_accept_str(pr, ids, sizeof(ids)), pr->echo_us ? ", echo function" : "",
		 pr->echo_us && !pr->echo_reflect ? NO_REFLECT : "");
	schedule_tx(s);
	return s;
}

/* 6.8.16: the remote learns of the removal from AdminDown (diag 7), not from a timeout, so
 * its clients see no failure. AdminDown goes out at once, then at the (slow, 6.8.3) periodic
 * rate for the remote's detection time of us; the session leaves the registry afterwards. */
void bfd_sess_free(struct bfd_sess *s)
{
	uint64_t linger;

	if (!s)
		return;
	s->notify = NULL;
	if (s->state == BFD_ADMIN_DOWN)
		return; /* already leaving */
	set_state(s, BFD_ADMIN_DOWN, BFD_DIAG_ADMIN_DOWN, "removed");
	bfd_sess_tx(s);
	linger = (uint64_t)s->cfg.mult * max_u32(s->desired_min_tx, s->remote_min_rx);
	ev_timer_arm(s->t_detect, bfd_us_to_ms(linger));
}

void bfd_sess_destroy(struct bfd_sess *s)
{
	s->notify = NULL;
	if (s->state != BFD_ADMIN_DOWN) {
		set_state(s, BFD_ADMIN_DOWN, BFD_DIAG_ADMIN_DOWN, "removed");
		bfd_sess_tx(s);
	}
	bfd_sess_unregister(s->b, s);
	free_timers(s);
	free(s);
}
