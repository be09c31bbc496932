/* BFD (RFC 5880/5881): the control packet against hand-built byte vectors, every check of
 * 6.8.6 and the GTSM rule (RFC 5881 5) with its drop reason, the demultiplexing, the state
 * machine per event, timer negotiation with poll/final, jitter and AdminDown. Sessions run on
 * a real event loop without sockets (bfd_new port 0); transmissions are captured.
 * When EDGELB_CORPUS is set, every packet vector is also written there as a fuzz seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bfd/bfd.h"
#include "config/config.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "t.h"
#include "wire.h"

/* Test vectors are fuzz seeds too (EDGELB_CORPUS=dir). */
static void seed(const uint8_t *p, size_t n)
{
	wire_seed("pkt", p, n);
}

/* --- capture of transmitted packets -------------------------------------------------------- */

struct cap {
	int n;
	struct bfd_pkt last;
	uint8_t raw[64];
	size_t raw_len;
};

static void capture(struct bfd_sess *s, const uint8_t *p, size_t len, void *arg)
{
	struct cap *c = arg;
	enum bfd_drop why;

	(void)s;
	c->n++;
	memcpy(c->raw, p, len < sizeof(c->raw) ? len : sizeof(c->raw));
	c->raw_len = len;
	if (bfd_pkt_decode(p, len, &c->last, &why) < 0)
		printf("  transmitted packet does not decode: %s\n", bfd_drop_name(why));
}

struct trans {
	int n;
	enum bfd_state from[16], to[16];
};

static void notify(struct bfd_sess *s, enum bfd_state old, void *arg)
{
	struct trans *t = arg;

	if (t->n < 16) {
		t->from[t->n] = old;
		t->to[t->n] = s->state;
	}
	t->n++;
}

/* A packet from the peer (discriminator 0x51 as My Discriminator). */
static struct bfd_pkt from_peer(const struct bfd_sess *s, enum bfd_state st, uint8_t flags,
				uint32_t tx_us, uint32_t rx_us, uint8_t mult)
{
	return (struct bfd_pkt){.version = 1,
				.state = st,
				.flags = flags,
				.detect_mult = mult,
				.length = BFD_PKT_LEN,
				.my_disc = 0x51,
				.your_disc =
				    st == BFD_DOWN || st == BFD_ADMIN_DOWN ? 0 : s->local_disc,
				.desired_min_tx = tx_us,
				.required_min_rx = rx_us};
}

static const struct bfd_params defp = {300000, 300000, 3};
static struct ip peer_ip, other_ip;

/* --- wire format --------------------------------------------------------------------------- */

static void test_encode_decode(void)
{
	/* Vers 1 Diag 3, State Up with P, mult 3, len 24, discriminators, 300 ms / 250 ms / 0 */
	static const uint8_t want[] = {
	    0x23, 0xe0, 0x03, 0x18, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
	    0x00, 0x04, 0x93, 0xe0, 0x00, 0x03, 0xd0, 0x90, 0x00, 0x00, 0x00, 0x00,
	};
	struct bfd_pkt k = {.diag = 3,
			    .state = BFD_UP,
			    .flags = BFD_F_POLL,
			    .detect_mult = 3,
			    .length = BFD_PKT_LEN, /* written as given */
			    .my_disc = 0x12345678,
			    .your_disc = 0x9abcdef0,
			    .desired_min_tx = 300000,
			    .required_min_rx = 250000};
	uint8_t buf[64];
	struct wbuf w = wbuf_make(buf, sizeof(buf));
	struct bfd_pkt d;
	enum bfd_drop why;

	T_BEGIN("pkt: encode Up/P to the RFC 5880 4.1 layout, decode back");
	bfd_pkt_encode(&w, &k);
	T_EXPECT(!w.err && hexeq(buf, w.len, want, sizeof(want)), "encoded bytes");
	T_EXPECT(bfd_pkt_decode(want, sizeof(want), &d, &why) == 0, "decodes");
	T_EXPECT(d.version == 1 && d.diag == 3 && d.state == BFD_UP && d.flags == BFD_F_POLL,
		 "first two octets: version %u diag %u state %d flags %#x", d.version, d.diag,
		 d.state, d.flags);
	T_EXPECT(d.detect_mult == 3 && d.length == 24, "mult %u length %u", d.detect_mult,
		 d.length);
	T_EXPECT(d.my_disc == 0x12345678 && d.your_disc == 0x9abcdef0, "discriminators");
	T_EXPECT(d.desired_min_tx == 300000 && d.required_min_rx == 250000 &&
		     d.required_min_echo_rx == 0,
		 "intervals %u %u %u", d.desired_min_tx, d.required_min_rx, d.required_min_echo_rx);
	T_END();
	seed(want, sizeof(want));

	/* Final, Down, every state name; a too-small writer sets the sticky error */
	T_BEGIN("pkt: a writer with 23 bytes of room reports an error");
	w = wbuf_make(buf, 23);
	bfd_pkt_encode(&w, &k);
	T_EXPECT(w.err, "overflow detected");
	T_END();
	T_CASE(!strcmp(bfd_state_name(BFD_ADMIN_DOWN), "AdminDown") &&
		   !strcmp(bfd_state_name(BFD_INIT), "Init"),
	       "names: states");
	T_CASE(!strcmp(bfd_diag_name(BFD_DIAG_DETECT_EXPIRED), "control detection time expired") &&
		   !strcmp(bfd_diag_name(31), "reserved"),
	       "names: diagnostics");
}

/* One row: the bytes of a received packet and what 6.8.6 does with it. */
struct vrow {
	const char *name;
	uint8_t b[32];
	size_t len;
	int drop; /* -1 = accepted */
};

#define HDR(b0, b1, mult, len) b0, b1, mult, len
#define DISC_MY		       0x00, 0x00, 0x00, 0x51
#define DISC_0		       0x00, 0x00, 0x00, 0x00
#define TIMERS		       0x00, 0x04, 0x93, 0xe0, 0x00, 0x04, 0x93, 0xe0, 0x00, 0x00, 0x00, 0x00

static const struct vrow vrows[] = {
    {"valid Down, Your Discriminator 0", {HDR(0x20, 0x40, 3, 24), DISC_MY, DISC_0, TIMERS}, 24, -1},
    {"valid AdminDown, Your Discriminator 0",
     {HDR(0x27, 0x00, 3, 24), DISC_MY, DISC_0, TIMERS},
     24,
     -1},
    {"valid Up with Final", {HDR(0x20, 0xd0, 3, 24), DISC_MY, 0, 0, 0, 9, TIMERS}, 24, -1},
    {"trailing bytes beyond Length are ignored",
     {HDR(0x20, 0x40, 3, 24), DISC_MY, DISC_0, TIMERS, 1, 2, 3, 4},
     28,
     -1},
    {"version 0", {HDR(0x00, 0x40, 3, 24), DISC_MY, DISC_0, TIMERS}, 24, BFD_DROP_VERSION},
    {"version 2", {HDR(0x40, 0x40, 3, 24), DISC_MY, DISC_0, TIMERS}, 24, BFD_DROP_VERSION},
    {"version 7", {HDR(0xe0, 0x40, 3, 24), DISC_MY, DISC_0, TIMERS}, 24, BFD_DROP_VERSION},
    {"empty datagram", {0}, 0, BFD_DROP_SHORT},
    {"23-byte datagram", {HDR(0x20, 0x40, 3, 23), DISC_MY, DISC_0, TIMERS}, 23, BFD_DROP_SHORT},
    {"Length 23", {HDR(0x20, 0x40, 3, 23), DISC_MY, DISC_0, TIMERS}, 24, BFD_DROP_SHORT},
    {"Length 0", {HDR(0x20, 0x40, 3, 0), DISC_MY, DISC_0, TIMERS}, 24, BFD_DROP_SHORT},
    {"A bit with Length 24 (26 needed)",
     {HDR(0x20, 0x44, 3, 24), DISC_MY, DISC_0, TIMERS},
     24,
     BFD_DROP_SHORT},
    {"Length 25 beyond a 24-byte payload",
     {HDR(0x20, 0x40, 3, 25), DISC_MY, DISC_0, TIMERS},
     24,
     BFD_DROP_LENGTH},
    {"Length 255 beyond a 28-byte payload",
     {HDR(0x20, 0x40, 3, 255), DISC_MY, DISC_0, TIMERS, 0, 0, 0, 0},
     28,
     BFD_DROP_LENGTH},
    {"Detect Mult 0", {HDR(0x20, 0x40, 0, 24), DISC_MY, DISC_0, TIMERS}, 24, BFD_DROP_MULT_ZERO},
    {"Multipoint bit", {HDR(0x20, 0x41, 3, 24), DISC_MY, DISC_0, TIMERS}, 24, BFD_DROP_MULTIPOINT},
    {"My Discriminator 0", {HDR(0x20, 0x40, 3, 24), DISC_0, DISC_0, TIMERS}, 24, BFD_DROP_MY_DISC},
    {"Your Discriminator 0 in Init",
     {HDR(0x20, 0x80, 3, 24), DISC_MY, DISC_0, TIMERS},
     24,
     BFD_DROP_YOUR_DISC},
    {"Your Discriminator 0 in Up",
     {HDR(0x20, 0xc0, 3, 24), DISC_MY, DISC_0, TIMERS},
     24,
     BFD_DROP_YOUR_DISC},
    /* the session judges the A bit (bfd_auth_check): test_auth_none, test_auth_check */
    {"A bit with Length 26 is left to the session",
     {HDR(0x20, 0x44, 3, 26), DISC_MY, DISC_0, TIMERS, 1, 2},
     26,
     -1},
};

static void test_validation(void)
{
	for (size_t i = 0; i < sizeof(vrows) / sizeof(vrows[0]); i++) {
		const struct vrow *r = &vrows[i];
		struct bfd_pkt k;
		enum bfd_drop why = BFD_DROP_COUNT;
		int rc = bfd_pkt_decode(r->b, r->len, &k, &why);

		T_BEGIN("6.8.6: %s", r->name);
		if (r->drop < 0)
			T_EXPECT(rc == 0, "accepted (got drop %s)", bfd_drop_name(why));
		else
			T_EXPECT(rc < 0 && (int)why == r->drop, "dropped as %s (got rc %d, %s)",
				 bfd_drop_name((enum bfd_drop)r->drop), rc, bfd_drop_name(why));
		T_END();
		seed(r->b, r->len);
	}
}

/* --- demultiplexing, GTSM, counters ---------------------------------------------------------- */

static void test_input(struct ev_loop *l)
{
	struct cap c = {0};
	struct bfd *b = bfd_new(l, 0, capture, &c);
	struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &defp, NULL, NULL);
	uint8_t pkt[BFD_PKT_LEN];
	struct wbuf w;
	struct bfd_pkt k;

	T_BEGIN("input: TTL 254 is dropped (RFC 5881 5, GTSM) and counted for the peer");
	k = from_peer(s, BFD_DOWN, 0, 1000000, 300000, 3);
	w = wbuf_make(pkt, sizeof(pkt));
	bfd_pkt_encode(&w, &k);
	bfd_input(b, pkt, sizeof(pkt), &peer_ip, 254);
	T_EXPECT(bfd_drops(b, BFD_DROP_TTL) == 1 && s->st.rx_drop == 1 && s->st.rx == 0,
		 "ttl drops %llu, session drops %llu",
		 (unsigned long long)bfd_drops(b, BFD_DROP_TTL), (unsigned long long)s->st.rx_drop);
	T_EXPECT(s->state == BFD_DOWN, "state unchanged");
	T_END();

	T_BEGIN("input: Your Discriminator 0 from an unknown address");
	bfd_input(b, pkt, sizeof(pkt), &other_ip, 255);
	T_EXPECT(bfd_drops(b, BFD_DROP_UNKNOWN_PEER) == 1 && s->st.rx == 0, "unknown-peer drop");
	T_END();

	T_BEGIN("input: Down selected by source address moves the session to Init");
	bfd_input(b, pkt, sizeof(pkt), &peer_ip, 255);
	T_EXPECT(s->st.rx == 1 && s->state == BFD_INIT && s->remote_disc == 0x51,
		 "rx %llu state %s remote disc %#x", (unsigned long long)s->st.rx,
		 bfd_state_name(s->state), s->remote_disc);
	T_END();

	T_BEGIN("input: Your Discriminator that matches no session");
	k = from_peer(s, BFD_UP, 0, 1000000, 300000, 3);
	k.your_disc = s->local_disc + 1;
	w = wbuf_make(pkt, sizeof(pkt));
	bfd_pkt_encode(&w, &k);
	bfd_input(b, pkt, sizeof(pkt), &peer_ip, 255);
	T_EXPECT(bfd_drops(b, BFD_DROP_NO_SESSION) == 1 && s->state == BFD_INIT, "no-session drop");
	T_EXPECT(s->st.rx_drop == 2, "counted for the session of the source address");
	T_END();

	T_BEGIN("input: Your Discriminator selects the session (even from another address)");
	k.your_disc = s->local_disc;
	w = wbuf_make(pkt, sizeof(pkt));
	bfd_pkt_encode(&w, &k);
	bfd_input(b, pkt, sizeof(pkt), &other_ip, 255);
	T_EXPECT(s->state == BFD_UP, "Init + Up -> Up (got %s)", bfd_state_name(s->state));
	T_END();

	T_BEGIN("input: a malformed packet from the peer is dropped and counted, state kept");
	pkt[2] = 0; /* Detect Mult 0 */
	bfd_input(b, pkt, sizeof(pkt), &peer_ip, 255);
	T_EXPECT(bfd_drops(b, BFD_DROP_MULT_ZERO) == 1 && s->st.rx_drop == 3 && s->state == BFD_UP,
		 "mult-zero drop, session drops %llu", (unsigned long long)s->st.rx_drop);
	T_END();

	T_BEGIN("free: AdminDown with diag 7 is sent (6.8.16)");
	c.n = 0;
	bfd_free(b); /* frees the session too */
	T_EXPECT(c.n == 1 && c.last.state == BFD_ADMIN_DOWN && c.last.diag == BFD_DIAG_ADMIN_DOWN,
		 "%d packets, state %s diag %u", c.n, bfd_state_name(c.last.state), c.last.diag);
	T_END();
}

/* RFC 5883: a multihop session takes packets from the multihop port only, with any TTL; the
 * single-hop port's packets (and discriminators) are not its own. */
static void test_input_multihop(struct ev_loop *l)
{
	struct cap c = {0};
	struct bfd *b = bfd_new(l, 0, capture, &c);
	struct bfd_params mp = defp;
	struct bfd_sess *s;
	uint8_t pkt[BFD_PKT_LEN];
	struct wbuf w;
	struct bfd_pkt k;

	mp.multihop = true;
	s = bfd_sess_new(b, &peer_ip, NULL, &mp, NULL, NULL);
	k = from_peer(s, BFD_DOWN, 0, 1000000, 300000, 3);
	w = wbuf_make(pkt, sizeof(pkt));
	bfd_pkt_encode(&w, &k);

	T_BEGIN("multihop: a packet on the single-hop port does not reach the multihop session");
	bfd_input(b, pkt, sizeof(pkt), &peer_ip, 255);
	T_EXPECT(bfd_drops(b, BFD_DROP_UNKNOWN_PEER) == 1 && s->st.rx == 0 && s->state == BFD_DOWN,
		 "unknown-peer drops %llu, rx %llu",
		 (unsigned long long)bfd_drops(b, BFD_DROP_UNKNOWN_PEER),
		 (unsigned long long)s->st.rx);
	T_END();

	T_BEGIN("multihop: TTL 64 on the multihop port moves it to Init (RFC 5883: no GTSM)");
	bfd_input_mh(b, pkt, sizeof(pkt), &peer_ip, 64);
	T_EXPECT(s->st.rx == 1 && s->state == BFD_INIT && bfd_drops(b, BFD_DROP_TTL) == 0,
		 "rx %llu state %s", (unsigned long long)s->st.rx, bfd_state_name(s->state));
	T_END();

	T_BEGIN("multihop: its discriminator on the single-hop port matches no session");
	k = from_peer(s, BFD_UP, 0, 1000000, 300000, 3);
	k.your_disc = s->local_disc;
	w = wbuf_make(pkt, sizeof(pkt));
	bfd_pkt_encode(&w, &k);
	bfd_input(b, pkt, sizeof(pkt), &peer_ip, 255);
	T_EXPECT(bfd_drops(b, BFD_DROP_NO_SESSION) == 1 && s->state == BFD_INIT,
		 "no-session drops %llu state %s",
		 (unsigned long long)bfd_drops(b, BFD_DROP_NO_SESSION), bfd_state_name(s->state));
	bfd_input_mh(b, pkt, sizeof(pkt), &peer_ip, 255);
	T_EXPECT(s->state == BFD_UP, "and on the multihop port: Up (got %s)",
		 bfd_state_name(s->state));
	T_END();

	T_BEGIN("multihop: timer changes keep the session multihop");
	mp.min_tx_us = 500000;
	mp.multihop = false;
	bfd_sess_set_params(s, &mp);
	T_EXPECT(s->cfg.multihop && s->cfg.min_tx_us == 500000, "multihop %d min tx %u",
		 s->cfg.multihop, s->cfg.min_tx_us);
	T_END();
	bfd_free(b);
}

/* RFC 5883 5: a multihop session's minimum TTL; RFC 5880 6.1 and 6.8.7: the passive role. */
static void test_min_ttl_passive(struct ev_loop *l)
{
	struct cap c = {0};
	struct bfd *b = bfd_new(l, 0, capture, &c);
	struct bfd_params mp = defp;
	struct bfd_sess *s;
	uint8_t pkt[BFD_PKT_LEN];
	struct wbuf w = wbuf_make(pkt, sizeof(pkt));
	struct bfd_pkt k;

	mp.multihop = true;
	mp.min_ttl = 64;
	mp.passive = true;
	s = bfd_sess_new(b, &peer_ip, NULL, &mp, NULL, NULL);
	k = from_peer(s, BFD_DOWN, 0, 1000000, 300000, 3);
	bfd_pkt_encode(&w, &k);

	T_BEGIN("passive: nothing is sent while the remote's discriminator is unknown");
	bfd_sess_tx(s);
	T_EXPECT(c.n == 0 && s->st.tx == 0, "sent %d (counted %llu)", c.n,
		 (unsigned long long)s->st.tx);
	T_END();

	T_BEGIN("minimum TTL 64: TTL 63 and an unknown TTL are dropped (ttl), 64 is taken");
	bfd_input_mh(b, pkt, sizeof(pkt), &peer_ip, 63);
	bfd_input_mh(b, pkt, sizeof(pkt), &peer_ip, -1);
	T_EXPECT(bfd_drops(b, BFD_DROP_TTL) == 2 && s->st.rx_drop == 2 && s->st.rx == 0 &&
		     s->remote_disc == 0 && s->state == BFD_DOWN,
		 "ttl drops %llu, session drops %llu, rx %llu",
		 (unsigned long long)bfd_drops(b, BFD_DROP_TTL), (unsigned long long)s->st.rx_drop,
		 (unsigned long long)s->st.rx);
	bfd_input_mh(b, pkt, sizeof(pkt), &peer_ip, 64);
	T_EXPECT(s->st.rx == 1 && s->state == BFD_INIT && s->remote_disc == 0x51,
		 "rx %llu state %s", (unsigned long long)s->st.rx, bfd_state_name(s->state));
	T_END();

	T_BEGIN("passive: sends once the remote is known, with its discriminator");
	bfd_sess_tx(s);
	T_EXPECT(c.n == 1 && c.last.your_disc == 0x51 && c.last.state == BFD_INIT, "sent %d", c.n);
	T_END();

	T_BEGIN("passive: silent again after a detection time without packets (RemoteDiscr 0)");
	bfd_sess_detect_expired(s);
	bfd_sess_tx(s);
	T_EXPECT(s->remote_disc == 0 && s->state == BFD_DOWN && c.n == 1, "state %s, sent %d",
		 bfd_state_name(s->state), c.n);
	T_END();

	T_BEGIN("the active role again sends with Your Discriminator 0; no minimum TTL takes 1");
	mp.passive = false;
	mp.min_ttl = 0;
	bfd_sess_set_params(s, &mp);
	bfd_sess_tx(s);
	T_EXPECT(c.n == 2 && c.last.your_disc == 0 && !s->cfg.passive, "sent %d", c.n);
	bfd_input_mh(b, pkt, sizeof(pkt), &peer_ip, 1);
	T_EXPECT(s->st.rx == 2 && bfd_drops(b, BFD_DROP_TTL) == 2, "rx %llu",
		 (unsigned long long)s->st.rx);
	T_END();
	bfd_free(b);
}

/* --- state machine -------------------------------------------------------------------------- */

struct srow {
	enum bfd_state local, rx;
	enum bfd_state want;
	uint8_t diag;
};

/* RFC 5880 6.8.6, the state machine part, every (local, received) pair. */
static const struct srow srows[] = {
    {BFD_DOWN, BFD_ADMIN_DOWN, BFD_DOWN, BFD_DIAG_NONE},
    {BFD_DOWN, BFD_DOWN, BFD_INIT, BFD_DIAG_NONE},
    {BFD_DOWN, BFD_INIT, BFD_UP, BFD_DIAG_NONE},
    {BFD_DOWN, BFD_UP, BFD_DOWN, BFD_DIAG_NONE},
    {BFD_INIT, BFD_ADMIN_DOWN, BFD_DOWN, BFD_DIAG_NEIGHBOR_DOWN},
    {BFD_INIT, BFD_DOWN, BFD_INIT, BFD_DIAG_NONE},
    {BFD_INIT, BFD_INIT, BFD_UP, BFD_DIAG_NONE},
    {BFD_INIT, BFD_UP, BFD_UP, BFD_DIAG_NONE},
    {BFD_UP, BFD_ADMIN_DOWN, BFD_DOWN, BFD_DIAG_NEIGHBOR_DOWN},
    {BFD_UP, BFD_DOWN, BFD_DOWN, BFD_DIAG_NEIGHBOR_DOWN},
    {BFD_UP, BFD_INIT, BFD_UP, BFD_DIAG_NONE},
    {BFD_UP, BFD_UP, BFD_UP, BFD_DIAG_NONE},
};

static void rx(struct bfd_sess *s, enum bfd_state st, uint8_t flags)
{
	struct bfd_pkt k = from_peer(s, st, flags, 300000, 300000, 3);
	bfd_sess_rx(s, &k);
}

/* Brings a fresh session to the wanted state through the handshake. */
static void drive(struct bfd_sess *s, enum bfd_state to)
{
	if (to == BFD_INIT || to == BFD_UP)
		rx(s, BFD_DOWN, 0);
	if (to == BFD_UP)
		rx(s, BFD_UP, 0);
}

static void test_fsm(struct ev_loop *l)
{
	struct cap c = {0};
	struct bfd *b = bfd_new(l, 0, capture, &c);

	for (size_t i = 0; i < sizeof(srows) / sizeof(srows[0]); i++) {
		const struct srow *r = &srows[i];
		struct trans t = {0};
		struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &defp, notify, &t);
		int before;

		drive(s, r->local);
		before = t.n;
		T_BEGIN("fsm: %s + received %s -> %s", bfd_state_name(r->local),
			bfd_state_name(r->rx), bfd_state_name(r->want));
		T_EXPECT(s->state == r->local, "set up in %s (got %s)", bfd_state_name(r->local),
			 bfd_state_name(s->state));
		rx(s, r->rx, 0);
		T_EXPECT(s->state == r->want, "state %s", bfd_state_name(s->state));
		if (r->want != r->local) {
			T_EXPECT(t.n == before + 1 && t.from[before] == r->local &&
				     t.to[before] == r->want,
				 "one notification of the change (%d)", t.n - before);
			T_EXPECT(s->local_diag == r->diag, "diag %u (want %u)", s->local_diag,
				 r->diag);
		} else {
			T_EXPECT(t.n == before, "no notification");
		}
		T_END();
		s->notify = NULL;
		bfd_sess_free(s);
	}

	T_BEGIN("fsm: three-way handshake Down -> Init -> Up, one up, no down");
	{
		struct trans t = {0};
		struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &defp, notify, &t);

		T_EXPECT(s->state == BFD_DOWN && s->local_disc != 0 && s->remote_min_rx == 1,
			 "initial Down, nonzero discriminator, RemoteMinRx 1 (6.8.1)");
		rx(s, BFD_DOWN, 0);
		rx(s, BFD_UP, 0);
		T_EXPECT(t.n == 2 && t.to[0] == BFD_INIT && t.to[1] == BFD_UP, "Init then Up");
		T_EXPECT(s->st.up == 1 && s->st.down == 0 && s->st.changes == 2, "counters");
		T_END();

		T_BEGIN("fsm: detection time expired in Up -> Down, diag 1, RemoteDiscr 0 (6.8.1)");
		bfd_sess_detect_expired(s);
		T_EXPECT(s->state == BFD_DOWN && s->local_diag == BFD_DIAG_DETECT_EXPIRED,
			 "Down with diag %u", s->local_diag);
		T_EXPECT(s->remote_disc == 0, "RemoteDiscr reset");
		T_EXPECT(s->st.down == 1 && t.n == 3 && t.from[2] == BFD_UP,
			 "down counted, notified");
		c.n = 0;
		bfd_sess_tx(s);
		T_EXPECT(c.n == 1 && c.last.your_disc == 0 && c.last.state == BFD_DOWN &&
			     c.last.diag == BFD_DIAG_DETECT_EXPIRED,
			 "next packet: Down, diag 1, Your Discriminator 0");
		T_END();

		T_BEGIN("fsm: detection time expired in Down stays Down");
		bfd_sess_detect_expired(s);
		T_EXPECT(s->state == BFD_DOWN && t.n == 3, "no change");
		T_END();
		s->notify = NULL;
		bfd_sess_free(s);
	}

	T_BEGIN("fsm: Init -> detection time expired -> Down");
	{
		struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &defp, NULL, NULL);
		drive(s, BFD_INIT);
		bfd_sess_detect_expired(s);
		T_EXPECT(s->state == BFD_DOWN && s->local_diag == BFD_DIAG_DETECT_EXPIRED, "Down");
		bfd_sess_free(s);
	}
	T_END();
	bfd_free(b);
}

/* --- timers: negotiation, poll/final, jitter ----------------------------------------------- */

static void test_timers(struct ev_loop *l)
{
	struct cap c = {0};
	struct bfd *b = bfd_new(l, 0, capture, &c);
	struct bfd_params p = {50000, 100000, 3};
	struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &p, NULL, NULL);
	struct bfd_pkt k;

	T_BEGIN("timers: while Down, Desired Min TX is 1 s (6.8.3), Required Min RX as set");
	bfd_sess_tx(s);
	T_EXPECT(c.last.desired_min_tx == 1000000 && c.last.required_min_rx == 100000 &&
		     c.last.detect_mult == 3 && !(c.last.flags & (BFD_F_POLL | BFD_F_FINAL)),
		 "advertised %u/%u flags %#x", c.last.desired_min_tx, c.last.required_min_rx,
		 c.last.flags);
	T_EXPECT(bfd_sess_tx_interval(s) == 1000000, "tx interval %u before any packet",
		 bfd_sess_tx_interval(s));
	T_EXPECT(bfd_sess_detect_time(s) == 0, "no detection time before a packet");
	T_END();

	T_BEGIN("timers: tx interval is max(our DesiredMinTx, the remote's RequiredMinRx)");
	k = from_peer(s, BFD_DOWN, 0, 1000000, 2000000, 5);
	bfd_sess_rx(s, &k);
	T_EXPECT(bfd_sess_tx_interval(s) == 2000000, "tx %u", bfd_sess_tx_interval(s));
	/* 6.8.4: remote mult x max(our RequiredMinRx, the remote's DesiredMinTx) */
	T_EXPECT(bfd_sess_detect_time(s) == 5000000, "detect %llu",
		 (unsigned long long)bfd_sess_detect_time(s));
	T_EXPECT(s->state == BFD_INIT, "Init");
	T_END();

	T_BEGIN("timers: Up starts a poll sequence for the fast rate; P set, new TX in force");
	k = from_peer(s, BFD_UP, 0, 1000000, 20000, 3);
	bfd_sess_rx(s, &k);
	T_EXPECT(s->state == BFD_UP && s->polling, "Up and polling");
	c.n = 0;
	bfd_sess_tx(s);
	T_EXPECT(c.last.flags == BFD_F_POLL && c.last.desired_min_tx == 50000,
		 "flags %#x desired %u", c.last.flags, c.last.desired_min_tx);
	/* a decrease may apply at once (6.8.3) */
	T_EXPECT(bfd_sess_tx_interval(s) == 50000, "tx %u", bfd_sess_tx_interval(s));
	T_EXPECT(bfd_sess_detect_time(s) == 3000000, "detect from the remote's 1 s: %llu",
		 (unsigned long long)bfd_sess_detect_time(s));
	T_END();

	T_BEGIN("timers: a Poll from the peer is answered at once with F only, never P and F");
	c.n = 0;
	k = from_peer(s, BFD_UP, BFD_F_POLL, 30000, 20000, 3);
	bfd_sess_rx(s, &k);
	T_EXPECT(c.n == 1 && c.last.flags == BFD_F_FINAL, "%d packets, flags %#x", c.n,
		 c.last.flags);
	T_EXPECT(bfd_sess_detect_time(s) == 300000, "detect 3 x max(100 ms, 30 ms): %llu",
		 (unsigned long long)bfd_sess_detect_time(s));
	T_EXPECT(s->polling, "our own poll still runs");
	T_END();

	T_BEGIN("timers: the Final ends our poll; P clears");
	k = from_peer(s, BFD_UP, BFD_F_FINAL, 30000, 20000, 3);
	bfd_sess_rx(s, &k);
	c.n = 0;
	bfd_sess_tx(s);
	T_EXPECT(!s->polling && c.last.flags == 0, "polling %d flags %#x", s->polling,
		 c.last.flags);
	T_END();

	T_BEGIN("timers: raising DesiredMinTx while Up waits for the Final (6.8.3)");
	p.min_tx_us = 400000;
	bfd_sess_set_params(s, &p);
	T_EXPECT(s->polling && bfd_sess_tx_interval(s) == 50000, "old interval %u in force",
		 bfd_sess_tx_interval(s));
	bfd_sess_tx(s);
	T_EXPECT(c.last.flags == BFD_F_POLL && c.last.desired_min_tx == 400000,
		 "advertised %u with P", c.last.desired_min_tx);
	k = from_peer(s, BFD_UP, BFD_F_FINAL, 30000, 20000, 3);
	bfd_sess_rx(s, &k);
	T_EXPECT(!s->polling && bfd_sess_tx_interval(s) == 400000, "new interval %u",
		 bfd_sess_tx_interval(s));
	T_END();

	T_BEGIN("timers: lowering RequiredMinRx while Up keeps the old detection time until Final");
	p.min_rx_us = 10000;
	bfd_sess_set_params(s, &p);
	T_EXPECT(bfd_sess_detect_time(s) == 300000, "still 3 x 100 ms: %llu",
		 (unsigned long long)bfd_sess_detect_time(s));
	k = from_peer(s, BFD_UP, BFD_F_FINAL, 30000, 20000, 3);
	bfd_sess_rx(s, &k);
	T_EXPECT(bfd_sess_detect_time(s) == 90000, "3 x max(10 ms, 30 ms): %llu",
		 (unsigned long long)bfd_sess_detect_time(s));
	T_END();

	T_BEGIN("timers: a Final without a poll of ours changes nothing");
	k = from_peer(s, BFD_UP, BFD_F_FINAL, 30000, 20000, 3);
	bfd_sess_rx(s, &k);
	T_EXPECT(!s->polling && s->state == BFD_UP, "still Up, not polling");
	T_END();

	T_BEGIN("timers: the remote's Required Min RX 0 stops periodic transmission (6.8.7)");
	k = from_peer(s, BFD_UP, 0, 30000, 0, 3);
	bfd_sess_rx(s, &k);
	T_EXPECT(bfd_sess_tx_interval(s) == 0, "tx %u", bfd_sess_tx_interval(s));
	T_END();

	T_BEGIN("timers: going Down returns to the 1 s rate without a poll");
	k = from_peer(s, BFD_DOWN, 0, 30000, 20000, 3);
	bfd_sess_rx(s, &k);
	bfd_sess_tx(s);
	T_EXPECT(s->state == BFD_DOWN && !s->polling && c.last.desired_min_tx == 1000000 &&
		     bfd_sess_tx_interval(s) == 1000000,
		 "state %s advertised %u", bfd_state_name(s->state), c.last.desired_min_tx);
	T_END();

	T_BEGIN("timers: periodic transmission runs on the event loop");
	{
		struct bfd_params fast = {10000, 500000, 3};
		struct bfd_sess *f = bfd_sess_new(b, &other_ip, NULL, &fast, NULL, NULL);
		uint64_t end = ev_now_ms() + 1500;

		k = from_peer(f, BFD_DOWN, 0, 10000, 10000, 3);
		bfd_sess_rx(f, &k);
		k = from_peer(f, BFD_UP, 0, 10000, 10000, 3);
		bfd_sess_rx(f, &k);
		c.n = 0;
		while (ev_now_ms() < end && c.n < 20)
			ev_loop_once(l, 50);
		T_EXPECT(c.n >= 20, "%d packets at 10 ms in up to 1.5 s", c.n);
		/* nothing received since: the detection time (3 x 500 ms) takes it Down */
		T_EXPECT(f->state == BFD_UP, "still Up before the detection time");
		end = ev_now_ms() + 3000;
		while (ev_now_ms() < end && f->state == BFD_UP)
			ev_loop_once(l, 50);
		T_EXPECT(f->state == BFD_DOWN && f->local_diag == BFD_DIAG_DETECT_EXPIRED,
			 "detection timer fired: %s", bfd_state_name(f->state));
		bfd_sess_free(f);
	}
	T_END();
	T_BEGIN(
	    "free: AdminDown repeats for the remote's detection time, then the session is gone");
	{
		/* multiplier 3: the remote's detection time of us is 3 x the 1 s AdminDown rate,
		 * so periodic AdminDowns (every 0.75-1 s) fall well inside it even on a busy CPU */
		struct bfd_params one = {10000, 10000, 3};
		struct bfd_sess *f = bfd_sess_new(b, &other_ip, NULL, &one, NULL, NULL);
		uint32_t disc = f->local_disc;
		uint64_t end, t0, drops0 = bfd_drops(b, BFD_DROP_NO_SESSION);
		uint8_t raw[BFD_PKT_LEN];
		struct wbuf w = wbuf_make(raw, sizeof(raw));
		int admin = 0, other = 0;

		k = from_peer(f, BFD_DOWN, 0, 10000, 10000, 3);
		bfd_sess_rx(f, &k);
		k = from_peer(f, BFD_UP, 0, 10000, 10000, 3);
		bfd_sess_rx(f, &k);
		T_EXPECT(f->state == BFD_UP, "Up first");
		bfd_sess_free(f); /* f belongs to the loop from here on */
		k.your_disc = disc;
		bfd_pkt_encode(&w, &k);
		t0 = ev_now_ms();
		end = t0 + 5000;
		c.n = 0;
		while (ev_now_ms() < end && bfd_drops(b, BFD_DROP_NO_SESSION) == drops0) {
			int before = c.n;

			ev_loop_once(l, 20);
			if (c.n != before) {
				if (c.last.state == BFD_ADMIN_DOWN &&
				    c.last.diag == BFD_DIAG_ADMIN_DOWN && c.last.my_disc == disc)
					admin++;
				else if (c.last.my_disc == disc)
					other++;
			}
			/* the lingering session discards the peer's packets (6.8.6, AdminDown) */
			bfd_input(b, raw, sizeof(raw), &other_ip, 255);
		}
		T_EXPECT(bfd_drops(b, BFD_DROP_NO_SESSION) == drops0 + 1,
			 "discriminator unknown after %llu ms",
			 (unsigned long long)(ev_now_ms() - t0));
		T_EXPECT(ev_now_ms() - t0 >= 2900, "not before the remote's detection time (3 s)");
		T_EXPECT(admin >= 2 && other == 0, "%d periodic AdminDown packets, %d others",
			 admin, other);
	}
	T_END();
	bfd_sess_free(s);
	bfd_free(b);

	T_BEGIN("jitter: 75-100%% of the interval, 75-90%% with a multiplier of 1 (6.8.7)");
	{
		uint32_t lo = UINT32_MAX, hi = 0, lo1 = UINT32_MAX, hi1 = 0;

		for (uint32_t r = 0; r < 1000; r++) {
			uint32_t j = bfd_jitter(1000000, 3, r * 2654435761u);
			uint32_t j1 = bfd_jitter(1000000, 1, r * 2654435761u);

			lo = j < lo ? j : lo;
			hi = j > hi ? j : hi;
			lo1 = j1 < lo1 ? j1 : lo1;
			hi1 = j1 > hi1 ? j1 : hi1;
		}
		T_EXPECT(lo == 750000 && hi == 1000000, "mult 3: %u..%u", lo, hi);
		T_EXPECT(lo1 == 750000 && hi1 == 900000, "mult 1: %u..%u", lo1, hi1);
	}
	T_END();
}

/* --- authentication (RFC 5880 4.2-4.4, 6.7) ------------------------------------------------- */

#define AUTH(t, id, k)                                                                             \
	{                                                                                          \
		.type = (t), .key_id = (id), .key_len = sizeof(k) - 1, .key = k                    \
	}

static struct bfd_params with_auth(struct bfd_auth a)
{
	struct bfd_params p = defp;

	p.auth = a;
	return p;
}

/* k with A and Length for a (type none: as it is), signed with seq into buf: its length. */
static size_t sign_pkt(uint8_t *buf, struct bfd_pkt k, const struct bfd_auth *a, uint32_t seq)
{
	struct wbuf w = wbuf_make(buf, BFD_PKT_MAX);

	if (a->type) {
		k.flags |= BFD_F_AUTH;
		k.length = (uint8_t)(BFD_PKT_LEN + bfd_auth_len(a));
	}
	bfd_pkt_encode(&w, &k);
	return bfd_auth_sign(buf, w.len, a, seq);
}

/* n bytes from the peer's address with TTL 255 into b: the drop reason counted, -1 for none. */
static int feed_raw(struct bfd *b, const uint8_t *p, size_t n)
{
	uint64_t before[BFD_DROP_COUNT];

	for (int d = 0; d < BFD_DROP_COUNT; d++)
		before[d] = bfd_drops(b, (enum bfd_drop)d);
	bfd_input(b, p, n, &peer_ip, 255);
	for (int d = 0; d < BFD_DROP_COUNT; d++)
		if (bfd_drops(b, (enum bfd_drop)d) != before[d])
			return d;
	return -1;
}

/* The peer's Down packet (Detect Mult 3) signed with a and seq, into s's agent. */
static int feed(struct bfd_sess *s, const struct bfd_auth *a, uint32_t seq)
{
	uint8_t buf[BFD_PKT_MAX];
	size_t n = sign_pkt(buf, from_peer(s, BFD_DOWN, 0, 1000000, 300000, 3), a, seq);

	return feed_raw(s->b, buf, n);
}

static const char *drop_str(int d)
{
	return d < 0 ? "taken" : bfd_drop_name((enum bfd_drop)d);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Known answers computed apart from this code, with Python's hashlib over the whole packet
 * with the key zero-padded in the digest's place (6.7.3, 6.7.4):
 *   hdr = bytes([0x20, 0x44, 3, L]) + struct.pack(">IIIII", 0x12345678, 0, 1000000, 300000, 0)
 *   sec = bytes([t, 8 + n, 7, 0]) + struct.pack(">I", 0x01020304)
 *   hdr + sec + hashlib.md5(hdr + sec + b"edgelb".ljust(n, b"\0")).digest()   (sha1 alike)
 * The header: Down with A, Detect Mult 3, My Discriminator 0x12345678, 1 s / 300 ms / 0. */
struct karow {
	const char *name;
	struct bfd_auth a;
	uint8_t want[BFD_PKT_MAX];
	size_t len;
};

static const struct karow karows[] = {
    {"simple password \"edgelb\", key ID 7 (6.7.2: no digest)",
     AUTH(BFD_AUTH_SIMPLE, 7, "edgelb"),
     {0x20, 0x44, 0x03, 0x21, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x0f, 0x42, 0x40, 0x00, 0x04, 0x93, 0xe0, 0x00, 0x00,
      0x00, 0x00, 0x01, 0x09, 0x07, 0x65, 0x64, 0x67, 0x65, 0x6c, 0x62},
     33},
    {"keyed MD5 \"edgelb\", key ID 7, sequence 0x01020304",
     AUTH(BFD_AUTH_KEYED_MD5, 7, "edgelb"),
     {0x20, 0x44, 0x03, 0x30, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x0f, 0x42, 0x40, 0x00, 0x04, 0x93, 0xe0, 0x00, 0x00, 0x00, 0x00,
      0x02, 0x18, 0x07, 0x00, 0x01, 0x02, 0x03, 0x04, 0x61, 0xab, 0xf0, 0xf1,
      0xa6, 0xf2, 0x95, 0xe8, 0x95, 0xfc, 0xd8, 0x4b, 0x8e, 0xb5, 0xc9, 0xf8},
     48},
    {"keyed SHA1 \"edgelb\", key ID 7, sequence 0x01020304",
     AUTH(BFD_AUTH_KEYED_SHA1, 7, "edgelb"),
     {0x20, 0x44, 0x03, 0x34, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x0f, 0x42, 0x40, 0x00, 0x04, 0x93, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x04, 0x1c,
      0x07, 0x00, 0x01, 0x02, 0x03, 0x04, 0x17, 0xb7, 0x26, 0x8b, 0xd5, 0x1b, 0x11,
      0xdf, 0x53, 0x7b, 0x54, 0xf7, 0x15, 0xa7, 0xdd, 0xb4, 0xa6, 0x40, 0xef, 0xae},
     52},
};

static void test_auth_known(struct ev_loop *l)
{
	for (size_t i = 0; i < sizeof(karows) / sizeof(karows[0]); i++) {
		const struct karow *r = &karows[i];
		struct bfd_pkt k = {.state = BFD_DOWN,
				    .flags = BFD_F_AUTH,
				    .detect_mult = 3,
				    .length = (uint8_t)r->len,
				    .my_disc = 0x12345678,
				    .desired_min_tx = 1000000,
				    .required_min_rx = 300000};
		uint8_t buf[BFD_PKT_MAX];
		struct wbuf w = wbuf_make(buf, sizeof(buf));
		struct bfd_params p = with_auth(r->a);
		struct bfd *b = bfd_new(l, 0, capture, &(struct cap){0});
		struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &p, NULL, NULL);
		size_t n;
		int d;

		T_BEGIN("auth: known answer, %s", r->name);
		T_EXPECT(bfd_auth_len(&r->a) == r->len - BFD_PKT_LEN, "section length %zu",
			 bfd_auth_len(&r->a));
		bfd_pkt_encode(&w, &k);
		n = bfd_auth_sign(buf, w.len, &r->a, 0x01020304);
		T_EXPECT(!w.err && n == r->len && hexeq(buf, n, r->want, r->len),
			 "signed bytes (length %zu)", n);
		d = feed_raw(b, r->want, r->len);
		T_EXPECT(d < 0 && s->state == BFD_INIT && s->remote_disc == 0x12345678,
			 "a session with the same key takes it: %s, state %s", drop_str(d),
			 bfd_state_name(s->state));
		T_END();
		seed(r->want, r->len);
		bfd_free(b);
	}
}

/* 6.8.6: the A bit while no authentication is in use. */
static void test_auth_none(struct ev_loop *l)
{
	static const uint8_t two[] = {HDR(0x20, 0x44, 3, 26), DISC_MY, DISC_0, TIMERS, 1, 2};
	const struct bfd_auth simple = AUTH(BFD_AUTH_SIMPLE, 1, "edgelb");
	struct bfd *b = bfd_new(l, 0, capture, &(struct cap){0});
	struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &defp, NULL, NULL);
	const struct bfd_auth none = {0};
	int d;

	T_BEGIN("auth: A bit and a 2-byte section, no authentication configured: dropped");
	d = feed_raw(b, two, sizeof(two));
	T_EXPECT(d == BFD_DROP_AUTH && bfd_drops(b, BFD_DROP_AUTH) == 1, "drop %s, count %llu",
		 drop_str(d), (unsigned long long)bfd_drops(b, BFD_DROP_AUTH));
	T_EXPECT(s->state == BFD_DOWN && s->st.rx == 0 && s->st.rx_drop == 1 && s->remote_disc == 0,
		 "state %s rx %llu session drops %llu", bfd_state_name(s->state),
		 (unsigned long long)s->st.rx, (unsigned long long)s->st.rx_drop);
	T_END();
	seed(two, sizeof(two));

	T_BEGIN("auth: A bit and a simple password section, no authentication configured");
	d = feed(s, &simple, 0);
	T_EXPECT(d == BFD_DROP_AUTH && bfd_drops(b, BFD_DROP_AUTH) == 2 && s->state == BFD_DOWN,
		 "drop %s, state %s", drop_str(d), bfd_state_name(s->state));
	T_END();

	T_BEGIN("auth: the same packet without the A bit is taken");
	d = feed(s, &none, 0);
	T_EXPECT(d < 0 && s->state == BFD_INIT && s->st.rx == 1, "%s, state %s", drop_str(d),
		 bfd_state_name(s->state));
	T_END();
	bfd_free(b);
}

/* One row: the session's authentication, what the peer signs with, a byte changed after
 * signing, and what 6.7 does with the packet. */
struct arow {
	const char *name;
	struct bfd_auth sess, sent; /* sent type none: a packet without A */
	uint8_t off, x;		    /* then byte off ^= x (x 0: nothing changed) */
	int drop;		    /* -1 = taken */
};

#define KMD5  BFD_AUTH_KEYED_MD5
#define MMD5  BFD_AUTH_METICULOUS_MD5
#define KSHA1 BFD_AUTH_KEYED_SHA1
#define MSHA1 BFD_AUTH_METICULOUS_SHA1

static const struct arow arows[] = {
    {"simple password", AUTH(BFD_AUTH_SIMPLE, 7, "edgelb"), AUTH(BFD_AUTH_SIMPLE, 7, "edgelb"), 0,
     0, -1},
    {"simple password of 16 bytes", AUTH(BFD_AUTH_SIMPLE, 7, "0123456789abcdef"),
     AUTH(BFD_AUTH_SIMPLE, 7, "0123456789abcdef"), 0, 0, -1},
    {"keyed MD5", AUTH(KMD5, 7, "edgelb"), AUTH(KMD5, 7, "edgelb"), 0, 0, -1},
    {"keyed MD5 with a 16-byte key", AUTH(KMD5, 7, "0123456789abcdef"),
     AUTH(KMD5, 7, "0123456789abcdef"), 0, 0, -1},
    {"meticulous keyed MD5", AUTH(MMD5, 7, "edgelb"), AUTH(MMD5, 7, "edgelb"), 0, 0, -1},
    {"keyed SHA1", AUTH(KSHA1, 7, "edgelb"), AUTH(KSHA1, 7, "edgelb"), 0, 0, -1},
    {"keyed SHA1 with a 20-byte key", AUTH(KSHA1, 255, "0123456789abcdefghij"),
     AUTH(KSHA1, 255, "0123456789abcdefghij"), 0, 0, -1},
    {"meticulous keyed SHA1", AUTH(MSHA1, 0, "edgelb"), AUTH(MSHA1, 0, "edgelb"), 0, 0, -1},
    {"keyed MD5, wrong key", AUTH(KMD5, 7, "edgelb"), AUTH(KMD5, 7, "edgelc"), 0, 0,
     BFD_DROP_AUTH_FAILED},
    {"keyed SHA1, wrong key", AUTH(KSHA1, 7, "edgelb"), AUTH(KSHA1, 7, "Edgelb"), 0, 0,
     BFD_DROP_AUTH_FAILED},
    {"meticulous keyed SHA1, the key less its last byte", AUTH(MSHA1, 7, "edgelb"),
     AUTH(MSHA1, 7, "edgel"), 0, 0, BFD_DROP_AUTH_FAILED},
    {"keyed MD5, wrong key ID", AUTH(KMD5, 7, "edgelb"), AUTH(KMD5, 8, "edgelb"), 0, 0,
     BFD_DROP_AUTH_FAILED},
    {"simple password, wrong key ID", AUTH(BFD_AUTH_SIMPLE, 7, "edgelb"),
     AUTH(BFD_AUTH_SIMPLE, 6, "edgelb"), 0, 0, BFD_DROP_AUTH_FAILED},
    {"keyed MD5 session, meticulous keyed MD5 packet (same length)", AUTH(KMD5, 7, "edgelb"),
     AUTH(MMD5, 7, "edgelb"), 0, 0, BFD_DROP_AUTH_FAILED},
    {"keyed MD5 session, keyed SHA1 packet", AUTH(KMD5, 7, "edgelb"), AUTH(KSHA1, 7, "edgelb"), 0,
     0, BFD_DROP_AUTH_FAILED},
    {"meticulous keyed SHA1 session, simple password packet", AUTH(MSHA1, 7, "edgelb"),
     AUTH(BFD_AUTH_SIMPLE, 7, "edgelb"), 0, 0, BFD_DROP_AUTH_FAILED},
    {"keyed MD5, Auth Len 28 (24 + 4)", AUTH(KMD5, 7, "edgelb"), AUTH(KMD5, 7, "edgelb"), 25, 0x04,
     BFD_DROP_AUTH_FAILED},
    {"keyed SHA1, Auth Len 24 (28 - 4)", AUTH(KSHA1, 7, "edgelb"), AUTH(KSHA1, 7, "edgelb"), 25,
     0x04, BFD_DROP_AUTH_FAILED},
    {"simple password, Auth Len 8 for a 6-byte password", AUTH(BFD_AUTH_SIMPLE, 7, "edgelb"),
     AUTH(BFD_AUTH_SIMPLE, 7, "edgelb"), 25, 0x01, BFD_DROP_AUTH_FAILED},
    {"keyed MD5, first digest byte flipped", AUTH(KMD5, 7, "edgelb"), AUTH(KMD5, 7, "edgelb"), 32,
     0x01, BFD_DROP_AUTH_FAILED},
    {"keyed SHA1, last hash byte flipped", AUTH(KSHA1, 7, "edgelb"), AUTH(KSHA1, 7, "edgelb"), 51,
     0x80, BFD_DROP_AUTH_FAILED},
    {"keyed MD5, Required Min RX changed (the digest covers the header)", AUTH(KMD5, 7, "edgelb"),
     AUTH(KMD5, 7, "edgelb"), 19, 0x01, BFD_DROP_AUTH_FAILED},
    {"meticulous keyed SHA1, sequence number changed (covered too)", AUTH(MSHA1, 7, "edgelb"),
     AUTH(MSHA1, 7, "edgelb"), 31, 0x01, BFD_DROP_AUTH_FAILED},
    {"keyed SHA1 session, A bit clear", AUTH(KSHA1, 7, "edgelb"), {0}, 0, 0, BFD_DROP_AUTH_MISSING},
    {"simple password session, A bit clear",
     AUTH(BFD_AUTH_SIMPLE, 7, "edgelb"),
     {0},
     0,
     0,
     BFD_DROP_AUTH_MISSING},
    {"simple password one byte longer", AUTH(BFD_AUTH_SIMPLE, 7, "edgelb"),
     AUTH(BFD_AUTH_SIMPLE, 7, "edgelbs"), 0, 0, BFD_DROP_AUTH_FAILED},
    {"simple password one byte shorter", AUTH(BFD_AUTH_SIMPLE, 7, "edgelb"),
     AUTH(BFD_AUTH_SIMPLE, 7, "edgel"), 0, 0, BFD_DROP_AUTH_FAILED},
    {"simple password of the same length, one byte different", AUTH(BFD_AUTH_SIMPLE, 7, "edgelb"),
     AUTH(BFD_AUTH_SIMPLE, 7, "edgelB"), 0, 0, BFD_DROP_AUTH_FAILED},
};

static void test_auth_check(struct ev_loop *l)
{
	for (size_t i = 0; i < sizeof(arows) / sizeof(arows[0]); i++) {
		const struct arow *r = &arows[i];
		struct bfd_params p = with_auth(r->sess);
		struct bfd *b = bfd_new(l, 0, capture, &(struct cap){0});
		struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &p, NULL, NULL);
		uint8_t buf[BFD_PKT_MAX];
		size_t n =
		    sign_pkt(buf, from_peer(s, BFD_DOWN, 0, 1000000, 300000, 3), &r->sent, 0x1000);
		int d;

		buf[r->off] ^= r->x;
		d = feed_raw(b, buf, n);
		T_BEGIN("auth check: %s", r->name);
		T_EXPECT(d == r->drop, "%s (want %s)", drop_str(d), drop_str(r->drop));
		if (r->drop < 0) {
			T_EXPECT(s->state == BFD_INIT && s->st.rx == 1 && s->remote_disc == 0x51,
				 "Down -> Init: state %s rx %llu", bfd_state_name(s->state),
				 (unsigned long long)s->st.rx);
			if (r->sess.type > BFD_AUTH_SIMPLE)
				T_EXPECT(s->auth_seq_known && s->rcv_auth_seq == 0x1000,
					 "receive sequence %#x known %d", s->rcv_auth_seq,
					 s->auth_seq_known);
		} else {
			T_EXPECT(bfd_drops(b, (enum bfd_drop)r->drop) == 1 && s->st.rx_drop == 1,
				 "counted once (session drops %llu)",
				 (unsigned long long)s->st.rx_drop);
			T_EXPECT(s->state == BFD_DOWN && s->st.rx == 0 && s->remote_disc == 0 &&
				     !s->auth_seq_known,
				 "nothing taken: state %s rx %llu sequence known %d",
				 bfd_state_name(s->state), (unsigned long long)s->st.rx,
				 s->auth_seq_known);
		}
		T_END();
		seed(buf, n);
		bfd_free(b);
	}
}

/* One row: packets fed in order to a fresh session, each with its sequence number, signed
 * with the session's key or another, and what happens to it. */
struct qstep {
	uint32_t seq;
	bool wrong_key;
	int drop; /* -1 = taken */
};

struct qrow {
	const char *name;
	uint8_t type;
	struct qstep st[6];
	int n;
};

#define SEQ BFD_DROP_AUTH_SEQ

/* 6.7.3, 6.7.4 with Detect Mult 3: keyed modes take RcvAuthSeq to RcvAuthSeq + 9, meticulous
 * modes RcvAuthSeq + 1 to RcvAuthSeq + 9, circularly. */
static const struct qrow qrows[] = {
    {"keyed MD5: after S, S and S+9 taken, S-1 and S+10 dropped",
     KMD5,
     {{1000, 0, -1}, {1000, 0, -1}, {999, 0, SEQ}, {1010, 0, SEQ}, {1009, 0, -1}},
     5},
    {"keyed SHA1 at 0: S-1 (0xffffffff) and S+10 dropped, S+9 taken",
     KSHA1,
     {{0, 0, -1}, {0xffffffff, 0, SEQ}, {10, 0, SEQ}, {9, 0, -1}, {0, 0, SEQ}},
     5},
    {"meticulous keyed MD5: after S, S dropped, S+1 taken, S+11 dropped, S+10 taken",
     MMD5,
     {{1000, 0, -1}, {1000, 0, SEQ}, {1001, 0, -1}, {1011, 0, SEQ}, {1010, 0, -1}},
     5},
    {"meticulous keyed SHA1 across the wrap: 0xfffffffe, then 8 (+10) dropped, 1 taken",
     MSHA1,
     {{0xfffffffe, 0, -1}, {8, 0, SEQ}, {1, 0, -1}, {0xffffffff, 0, SEQ}, {1, 0, SEQ}},
     5},
    {"keyed MD5 across the wrap: 0xfffffffe, then 1 taken, 0xfffffffe no more",
     KMD5,
     {{0xfffffffe, 0, -1}, {1, 0, -1}, {0xfffffffe, 0, SEQ}},
     3},
    {"meticulous keyed MD5: a packet that fails its digest does not move the sequence",
     MMD5,
     {{1000, 0, -1}, {1009, 1, BFD_DROP_AUTH_FAILED}, {1001, 0, -1}},
     3},
    {"keyed SHA1: the first packet may carry any sequence number",
     KSHA1,
     {{0x80000000, 0, -1}, {0x80000009, 0, -1}},
     2},
};

static void test_auth_seq(struct ev_loop *l)
{
	for (size_t i = 0; i < sizeof(qrows) / sizeof(qrows[0]); i++) {
		const struct qrow *r = &qrows[i];
		const struct bfd_auth a = AUTH(r->type, 7, "edgelb"), other = AUTH(r->type, 7, "x");
		struct bfd_params p = with_auth(a);
		struct bfd *b = bfd_new(l, 0, capture, &(struct cap){0});
		struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &p, NULL, NULL);
		uint32_t last = 0;

		T_BEGIN("auth sequence: %s", r->name);
		for (int k = 0; k < r->n; k++) {
			const struct qstep *q = &r->st[k];
			int d = feed(s, q->wrong_key ? &other : &a, q->seq);

			if (d < 0)
				last = q->seq;
			T_EXPECT(d == q->drop, "packet %d, sequence %#x: %s (want %s)", k + 1,
				 q->seq, drop_str(d), drop_str(q->drop));
			T_EXPECT(s->auth_seq_known && s->rcv_auth_seq == last,
				 "packet %d: receive sequence %#x (want %#x)", k + 1,
				 s->rcv_auth_seq, last);
		}
		T_END();
		bfd_free(b);
	}

	T_BEGIN("auth sequence: forgotten after twice the detection time without a packet (6.8.1)");
	{
		const struct bfd_auth a = AUTH(MSHA1, 7, "edgelb");
		struct bfd_params p = with_auth(a);
		struct bfd *b = bfd_new(l, 0, capture, &(struct cap){0});
		struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &p, NULL, NULL);
		uint64_t twice;
		int d;

		d = feed(s, &a, 1000);
		twice = 2 * bfd_sess_detect_time(s) / 1000;
		T_EXPECT(d < 0 && twice == 6000,
			 "first taken (%s), twice the detection time %llu ms", drop_str(d),
			 (unsigned long long)twice);
		/* the last authenticated packet moved back in time, not the clock forward */
		s->rcv_auth_ms = ev_now_ms() - twice + 500;
		d = feed(s, &a, 999);
		T_EXPECT(d == BFD_DROP_AUTH_SEQ, "an older sequence within it: %s", drop_str(d));
		s->rcv_auth_ms = ev_now_ms() - twice - 1;
		d = feed(s, &a, 999);
		T_EXPECT(d < 0 && s->rcv_auth_seq == 999, "the same after it: %s, sequence %#x",
			 drop_str(d), s->rcv_auth_seq);
		bfd_free(b);
	}
	T_END();
}

/* What a session with authentication sends, checked byte by byte and by a second agent with
 * the same key as its peer. */
static void test_auth_tx(struct ev_loop *l)
{
	struct cap c = {0};
	struct bfd *b = bfd_new(l, 0, capture, &c);
	struct bfd *b2 = bfd_new(l, 0, capture, &(struct cap){0});
	uint8_t p1[64];
	size_t n1;
	uint32_t s1, s2;
	int d1, d2, d3;

	T_BEGIN("auth tx: meticulous keyed SHA1: A, Length 52, sequence one higher per packet");
	{
		const struct bfd_auth a = AUTH(MSHA1, 9, "edgelb");
		struct bfd_params p = with_auth(a);
		struct bfd_sess *s = bfd_sess_new(b, &other_ip, NULL, &p, NULL, NULL);
		struct bfd_sess *r = bfd_sess_new(b2, &peer_ip, NULL, &p, NULL, NULL);

		c.n = 0;
		bfd_sess_tx(s);
		memcpy(p1, c.raw, sizeof(p1));
		n1 = c.raw_len;
		bfd_sess_tx(s);
		T_EXPECT(c.n == 2 && n1 == 52 && c.raw_len == 52, "%d packets of %zu and %zu bytes",
			 c.n, n1, c.raw_len);
		T_EXPECT(p1[3] == 52 && (p1[1] & BFD_F_AUTH) && c.last.length == 52 &&
			     (c.last.flags & BFD_F_AUTH),
			 "Length %u, flags %#x", c.last.length, c.last.flags);
		T_EXPECT(p1[24] == MSHA1 && p1[25] == 28 && p1[26] == 9 && p1[27] == 0 &&
			     c.raw[24] == MSHA1 && c.raw[25] == 28 && c.raw[26] == 9,
			 "section: type %u, Auth Len %u, key ID %u, reserved %u", p1[24], p1[25],
			 p1[26], p1[27]);
		s1 = be32(p1 + 28);
		s2 = be32(c.raw + 28);
		T_EXPECT(s2 == s1 + 1 && s2 == s->xmit_auth_seq, "sequence %#x then %#x", s1, s2);
		d1 = feed_raw(b2, p1, n1);
		d2 = feed_raw(b2, c.raw, c.raw_len);
		d3 = feed_raw(b2, p1, n1);
		T_EXPECT(d1 < 0 && d2 < 0 && r->state == BFD_INIT && r->rcv_auth_seq == s2,
			 "the peer takes both: %s, %s, state %s", drop_str(d1), drop_str(d2),
			 bfd_state_name(r->state));
		T_EXPECT(d3 == BFD_DROP_AUTH_SEQ, "and not the first one again: %s", drop_str(d3));
		bfd_sess_destroy(s);
		bfd_sess_destroy(r);
	}
	T_END();

	T_BEGIN("auth tx: keyed MD5: Length 48, one sequence number for two packets in a second");
	{
		const struct bfd_auth a = AUTH(KMD5, 7, "edgelb");
		struct bfd_params p = with_auth(a);
		struct bfd_sess *s = bfd_sess_new(b, &other_ip, NULL, &p, NULL, NULL);
		struct bfd_sess *r = bfd_sess_new(b2, &peer_ip, NULL, &p, NULL, NULL);

		c.n = 0;
		bfd_sess_tx(s);
		memcpy(p1, c.raw, sizeof(p1));
		n1 = c.raw_len;
		bfd_sess_tx(s);
		T_EXPECT(c.n == 2 && n1 == 48 && c.raw_len == 48 && p1[3] == 48 &&
			     c.last.length == 48 && (c.last.flags & BFD_F_AUTH),
			 "%d packets of %zu and %zu bytes, Length %u", c.n, n1, c.raw_len,
			 c.last.length);
		T_EXPECT(p1[24] == KMD5 && p1[25] == 24 && p1[26] == 7 && p1[27] == 0,
			 "section: type %u, Auth Len %u, key ID %u, reserved %u", p1[24], p1[25],
			 p1[26], p1[27]);
		s1 = be32(p1 + 28);
		s2 = be32(c.raw + 28);
		T_EXPECT(s1 == s2, "sequence %#x then %#x", s1, s2);
		d1 = feed_raw(b2, p1, n1);
		d2 = feed_raw(b2, c.raw, c.raw_len);
		T_EXPECT(d1 < 0 && d2 < 0 && r->state == BFD_INIT && r->rcv_auth_seq == s1,
			 "the peer takes both: %s, %s", drop_str(d1), drop_str(d2));
		/* a second later (the last move put back by a second, not the clock forward) */
		s->xmit_seq_ms -= 1000;
		bfd_sess_tx(s);
		T_EXPECT(be32(c.raw + 28) == s1 + 1, "a second later: %#x", be32(c.raw + 28));
		bfd_sess_destroy(s);
		bfd_sess_destroy(r);
	}
	T_END();

	T_BEGIN("auth tx: simple password: Length 33, the password after type, length, key ID");
	{
		static const uint8_t sec[] = {1, 9, 3, 'e', 'd', 'g', 'e', 'l', 'b'};
		struct bfd_params p =
		    with_auth((struct bfd_auth)AUTH(BFD_AUTH_SIMPLE, 3, "edgelb"));
		struct bfd_sess *s = bfd_sess_new(b, &other_ip, NULL, &p, NULL, NULL);

		c.n = 0;
		bfd_sess_tx(s);
		T_EXPECT(c.n == 1 && c.raw_len == 33 && c.last.length == 33 &&
			     (c.last.flags & BFD_F_AUTH) &&
			     hexeq(c.raw + BFD_PKT_LEN, c.raw_len - BFD_PKT_LEN, sec, sizeof(sec)),
			 "%d packets of %zu bytes", c.n, c.raw_len);
		bfd_sess_destroy(s);
	}
	T_END();

	T_BEGIN("auth tx: without authentication: Length 24, no A bit");
	{
		struct bfd_sess *s = bfd_sess_new(b, &other_ip, NULL, &defp, NULL, NULL);

		c.n = 0;
		bfd_sess_tx(s);
		T_EXPECT(c.n == 1 && c.raw_len == 24 && c.raw[3] == 24 && !(c.raw[1] & BFD_F_AUTH),
			 "%zu bytes, Length %u, flags %#x", c.raw_len, c.raw[3], c.raw[1] & 0x3f);
		bfd_sess_destroy(s);
	}
	T_END();
	bfd_free(b);
	bfd_free(b2);
}

/* bfd_sess_set_params changes the key at once; the receive sequence is the session's (6.7.3,
 * 6.7.4) and goes on across a new key of the same type, and starts afresh with a new type. */
static void test_auth_rekey(struct ev_loop *l)
{
	const struct bfd_auth old = AUTH(KSHA1, 7, "edgelb"), neu = AUTH(KSHA1, 8, "rotated");
	struct cap c = {0};
	struct bfd *b = bfd_new(l, 0, capture, &c);
	struct bfd_params p = with_auth(old);
	struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &p, NULL, NULL);
	uint32_t seq;
	int d;

	T_BEGIN("auth rekey: the old key is taken before the change");
	d = feed(s, &old, 100);
	T_EXPECT(d < 0 && s->state == BFD_INIT && s->rcv_auth_seq == 100, "%s, state %s",
		 drop_str(d), bfd_state_name(s->state));
	T_END();

	T_BEGIN("auth rekey: after set_params, the old key is dropped, the new one taken");
	c.n = 0;
	bfd_sess_tx(s);
	seq = be32(c.raw + 28);
	p.auth = neu;
	bfd_sess_set_params(s, &p);
	T_EXPECT(s->auth_seq_known && s->rcv_auth_seq == 100 && s->cfg.auth.key_id == 8,
		 "sequence known %d (%u), key ID %u", s->auth_seq_known, s->rcv_auth_seq,
		 s->cfg.auth.key_id);
	d = feed(s, &old, 101);
	T_EXPECT(d == BFD_DROP_AUTH_FAILED, "old key: %s", drop_str(d));
	d = feed(s, &neu, 5); /* below 100: the window is the session's, not the key's */
	T_EXPECT(d == BFD_DROP_AUTH_SEQ, "new key, sequence 5 after 100: %s", drop_str(d));
	d = feed(s, &neu, 101);
	T_EXPECT(d < 0 && s->rcv_auth_seq == 101 && s->st.rx == 2 && s->rcv_key_id == 8,
		 "new key, sequence 101: %s, sequence %u, key ID %u", drop_str(d),
		 s->rcv_auth_seq, s->rcv_key_id);
	c.n = 0;
	s->xmit_seq_ms -= 1000; /* keyed SHA1 moves it once a second */
	bfd_sess_tx(s);
	T_EXPECT(c.n == 1 && c.raw_len == 52 && c.raw[24] == KSHA1 && c.raw[26] == 8,
		 "sent with the new key ID (%u)", c.raw[26]);
	T_EXPECT(be32(c.raw + 28) == seq + 1, "our sequence goes on: %#x after %#x",
		 be32(c.raw + 28), seq);
	T_END();

	T_BEGIN("auth rekey: the same parameters again keep the receive sequence");
	bfd_sess_set_params(s, &p);
	d = feed(s, &neu, 4);
	T_EXPECT(s->auth_seq_known && d == BFD_DROP_AUTH_SEQ, "sequence 4 after 5: %s",
		 drop_str(d));
	T_END();

	T_BEGIN("auth rekey: another type starts the receive window afresh");
	{
		const struct bfd_auth met = AUTH(MSHA1, 8, "rotated");
		struct bfd_params q = with_auth(met);

		bfd_sess_set_params(s, &q);
		T_EXPECT(!s->auth_seq_known && !s->rcv_key_seen, "sequence known %d, key seen %d",
			 s->auth_seq_known, s->rcv_key_seen);
		d = feed(s, &met, 7);
		T_EXPECT(d < 0 && s->rcv_auth_seq == 7, "meticulous, sequence 7: %s",
			 drop_str(d));
		bfd_sess_set_params(s, &p);
		d = feed(s, &neu, 3);
		T_EXPECT(d < 0 && s->rcv_auth_seq == 3 && s->st.rx == 4,
			 "keyed again, sequence 3: %s", drop_str(d));
	}
	T_END();

	T_BEGIN("auth rekey: authentication off drops A and takes packets without it");
	p.auth = (struct bfd_auth){0};
	bfd_sess_set_params(s, &p);
	d = feed(s, &neu, 6);
	T_EXPECT(d == BFD_DROP_AUTH, "signed packet: %s", drop_str(d));
	d = feed(s, &p.auth, 0);
	T_EXPECT(d < 0 && s->st.rx == 5, "plain packet: %s", drop_str(d));
	c.n = 0;
	bfd_sess_tx(s);
	T_EXPECT(c.n == 1 && c.raw_len == 24 && !(c.last.flags & BFD_F_AUTH),
		 "sent without a section (%zu bytes)", c.raw_len);
	T_END();
	bfd_free(b);
}

/* --- several keys (6.7: the Auth Key ID selects the key; a key rollover) -------------------- */

static struct bfd_params with_keys(struct bfd_auth a, const struct bfd_auth *acc, int n)
{
	struct bfd_params p = with_auth(a);

	for (int i = 0; i < n; i++)
		p.accept[i] = acc[i];
	p.n_accept = (uint8_t)n;
	return p;
}

/* One row: the session's sending key and accepted keys, what the peer signs with, and what
 * the receive check does with it (the key ID it then shows as the peer's). */
struct krow {
	const char *name;
	struct bfd_auth sess, acc[BFD_AUTH_ACCEPT_MAX];
	int n_acc;
	struct bfd_auth sent;
	int drop; /* -1 = taken */
};

static const struct krow krows[] = {
    {"keyed SHA1: signed with accepted key 2", AUTH(KSHA1, 1, "old-key"),
     {AUTH(KSHA1, 2, "new-key")}, 1, AUTH(KSHA1, 2, "new-key"), -1},
    {"keyed SHA1: signed with the last of four accepted keys (ID 0)", AUTH(KSHA1, 1, "k1"),
     {AUTH(KSHA1, 2, "k2"), AUTH(KSHA1, 3, "k3"), AUTH(KSHA1, 4, "k4"), AUTH(KSHA1, 0, "k0")}, 4,
     AUTH(KSHA1, 0, "k0"), -1},
    {"keyed SHA1: the sending key still taken beside an accepted one", AUTH(KSHA1, 1, "old-key"),
     {AUTH(KSHA1, 2, "new-key")}, 1, AUTH(KSHA1, 1, "old-key"), -1},
    {"keyed SHA1: unknown key ID 9", AUTH(KSHA1, 1, "old-key"),
     {AUTH(KSHA1, 2, "new-key"), AUTH(KSHA1, 3, "newer")}, 2, AUTH(KSHA1, 9, "new-key"),
     BFD_DROP_AUTH_FAILED},
    {"keyed SHA1: accepted ID 2 with key 3's secret", AUTH(KSHA1, 1, "old-key"),
     {AUTH(KSHA1, 2, "new-key"), AUTH(KSHA1, 3, "newer")}, 2, AUTH(KSHA1, 2, "newer"),
     BFD_DROP_AUTH_FAILED},
    {"keyed SHA1: accepted ID 2 with the sending key's secret", AUTH(KSHA1, 1, "old-key"),
     {AUTH(KSHA1, 2, "new-key")}, 1, AUTH(KSHA1, 2, "old-key"), BFD_DROP_AUTH_FAILED},
    {"keyed SHA1: sending ID 1 with the accepted key's secret", AUTH(KSHA1, 1, "old-key"),
     {AUTH(KSHA1, 2, "new-key")}, 1, AUTH(KSHA1, 1, "new-key"), BFD_DROP_AUTH_FAILED},
    {"meticulous keyed MD5: signed with accepted key 5", AUTH(MMD5, 4, "md5-old"),
     {AUTH(MMD5, 5, "md5-new")}, 1, AUTH(MMD5, 5, "md5-new"), -1},
    {"keyed MD5 accepted key 2, packet of keyed SHA1 with it", AUTH(KMD5, 1, "old-key"),
     {AUTH(KMD5, 2, "new-key")}, 1, AUTH(KSHA1, 2, "new-key"), BFD_DROP_AUTH_FAILED},
    {"simple: an accepted password of another length (Auth Len 3 + 11)",
     AUTH(BFD_AUTH_SIMPLE, 1, "short"), {AUTH(BFD_AUTH_SIMPLE, 2, "much-longer")}, 1,
     AUTH(BFD_AUTH_SIMPLE, 2, "much-longer"), -1},
    {"simple: accepted ID 2 with the sending password", AUTH(BFD_AUTH_SIMPLE, 1, "short"),
     {AUTH(BFD_AUTH_SIMPLE, 2, "much-longer")}, 1, AUTH(BFD_AUTH_SIMPLE, 2, "short"),
     BFD_DROP_AUTH_FAILED},
    {"simple: unknown ID 3", AUTH(BFD_AUTH_SIMPLE, 1, "short"),
     {AUTH(BFD_AUTH_SIMPLE, 2, "much-longer")}, 1, AUTH(BFD_AUTH_SIMPLE, 3, "much-longer"),
     BFD_DROP_AUTH_FAILED},
};

static void test_auth_accept(struct ev_loop *l)
{
	for (size_t i = 0; i < sizeof(krows) / sizeof(krows[0]); i++) {
		const struct krow *r = &krows[i];
		struct bfd_params p = with_keys(r->sess, r->acc, r->n_acc);
		struct bfd *b = bfd_new(l, 0, capture, &(struct cap){0});
		struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &p, NULL, NULL);
		uint8_t buf[BFD_PKT_MAX];
		size_t n =
		    sign_pkt(buf, from_peer(s, BFD_DOWN, 0, 1000000, 300000, 3), &r->sent, 0x2000);
		int d = feed_raw(b, buf, n);

		T_BEGIN("auth accept: %s", r->name);
		T_EXPECT(d == r->drop, "%s (want %s)", drop_str(d), drop_str(r->drop));
		if (r->drop < 0) {
			T_EXPECT(s->state == BFD_INIT && s->st.rx == 1 && s->rcv_key_seen &&
				     s->rcv_key_id == r->sent.key_id,
				 "Down -> Init: state %s, the peer's key ID %u (seen %d)",
				 bfd_state_name(s->state), s->rcv_key_id, s->rcv_key_seen);
			if (r->sess.type > BFD_AUTH_SIMPLE)
				T_EXPECT(s->auth_seq_known && s->rcv_auth_seq == 0x2000,
					 "receive sequence %#x", s->rcv_auth_seq);
		} else {
			T_EXPECT(bfd_drops(b, (enum bfd_drop)r->drop) == 1 && s->st.rx == 0 &&
				     s->state == BFD_DOWN && !s->auth_seq_known && !s->rcv_key_seen,
				 "counted, nothing taken: state %s rx %llu",
				 bfd_state_name(s->state), (unsigned long long)s->st.rx);
		}
		T_END();
		seed(buf, n);
		bfd_free(b);
	}
}

/* The peer's packet in state st, signed with a and seq, into s's agent. */
static int feed_state(struct bfd_sess *s, enum bfd_state st, const struct bfd_auth *a,
		      uint32_t seq)
{
	uint8_t buf[BFD_PKT_MAX];
	size_t n = sign_pkt(buf, from_peer(s, st, 0, 300000, 300000, 3), a, seq);

	return feed_raw(s->b, buf, n);
}

/* A rollover on a session that is Up: the sequence windows are the session's whichever key
 * signs (a replayed number under another key is refused), and changing the sending key or
 * the accepted ones changes neither the state nor the windows. */
static void test_auth_rollover(struct ev_loop *l)
{
	const struct bfd_auth k1 = AUTH(MSHA1, 1, "first-key"), k2 = AUTH(MSHA1, 2, "second-key");
	struct cap c = {0};
	struct trans t = {0};
	struct bfd *b = bfd_new(l, 0, capture, &c);
	struct bfd_params p = with_keys(k1, &k2, 1);
	struct bfd_sess *s = bfd_sess_new(b, &peer_ip, NULL, &p, notify, &t);
	uint32_t seq;
	int d1, d2, d3, d4, d5;

	T_BEGIN("auth rollover: meticulous SHA1, one window across keys 1 and 2");
	d1 = feed_state(s, BFD_DOWN, &k1, 1000);
	d2 = feed_state(s, BFD_UP, &k2, 1000); /* the same number again, under key 2 */
	d3 = feed_state(s, BFD_UP, &k2, 1001);
	d4 = feed_state(s, BFD_UP, &k1, 1001);
	d5 = feed_state(s, BFD_UP, &k1, 1002);
	T_EXPECT(d1 < 0 && d2 == BFD_DROP_AUTH_SEQ && d3 < 0 && d4 == BFD_DROP_AUTH_SEQ && d5 < 0,
		 "key 1 at 1000: %s; key 2 at 1000: %s, 1001: %s; key 1 at 1001: %s, 1002: %s",
		 drop_str(d1), drop_str(d2), drop_str(d3), drop_str(d4), drop_str(d5));
	T_EXPECT(s->state == BFD_UP && s->st.up == 1 && s->rcv_auth_seq == 1002 &&
		     s->rcv_key_id == 1,
		 "Up, sequence %u, the peer's key ID %u", s->rcv_auth_seq, s->rcv_key_id);
	T_END();

	T_BEGIN("auth rollover: sending with key 2 and accepting key 1 keeps the session as it is");
	c.n = 0;
	bfd_sess_tx(s);
	seq = be32(c.raw + 28);
	p = with_keys(k2, &k1, 1);
	t.n = 0;
	bfd_sess_set_params(s, &p);
	c.n = 0;
	bfd_sess_tx(s);
	T_EXPECT(c.n == 1 && c.raw[26] == 2 && be32(c.raw + 28) == seq + 1,
		 "sent with key ID %u, sequence %#x after %#x", c.raw[26], be32(c.raw + 28), seq);
	T_EXPECT(t.n == 0 && s->state == BFD_UP && s->auth_seq_known && s->rcv_auth_seq == 1002,
		 "no state change (%d), window kept at %u", t.n, s->rcv_auth_seq);
	d1 = feed_state(s, BFD_UP, &k1, 1002);
	d2 = feed_state(s, BFD_UP, &k1, 1003);
	d3 = feed_state(s, BFD_UP, &k2, 1004);
	T_EXPECT(d1 == BFD_DROP_AUTH_SEQ && d2 < 0 && d3 < 0 && s->rcv_key_id == 2,
		 "key 1 at 1002: %s, 1003: %s; key 2 at 1004: %s", drop_str(d1), drop_str(d2),
		 drop_str(d3));
	T_END();

	T_BEGIN("auth rollover: key 1 no longer accepted: refused as authentication-failed");
	p = with_keys(k2, NULL, 0);
	bfd_sess_set_params(s, &p);
	d1 = feed_state(s, BFD_UP, &k1, 1005);
	d2 = feed_state(s, BFD_UP, &k2, 1005);
	T_EXPECT(d1 == BFD_DROP_AUTH_FAILED && d2 < 0 && s->state == BFD_UP && t.n == 0 &&
		     s->st.up == 1 && s->st.down == 0,
		 "key 1: %s, key 2: %s, state %s", drop_str(d1), drop_str(d2),
		 bfd_state_name(s->state));
	T_END();
	bfd_free(b);
}

/* --- echo function (RFC 5880 6.4, 6.8.9, 6.8.5, 6.8.3; RFC 5881 4) ------------------------- */

static struct ip local_ip; /* our address: source and destination of our echo packets */

/* Echo vectors seed the same fuzz target, which feeds every input to the echo path too. */
static void echo_seed(const uint8_t *p, size_t n)
{
	wire_seed("echo", p, n);
}

/* Transmissions split by kind: control packets (first byte 0x20) decoded, echo packets (IPv4,
 * first byte 0x45) kept whole with their send times. */
#define ECAP_MAX 128

struct ecap {
	int n_ctl, n_echo;
	int looped; /* n_echo when run_echo last looped one back */
	struct bfd_pkt ctl;
	uint8_t echo[64];
	size_t echo_len;
	uint64_t echo_ms[ECAP_MAX];
};

static void ecapture(struct bfd_sess *s, const uint8_t *p, size_t len, void *arg)
{
	struct ecap *c = arg;
	enum bfd_drop why;

	(void)s;
	if (len && p[0] >> 4 == 4) {
		if (c->n_echo < ECAP_MAX)
			c->echo_ms[c->n_echo] = ev_now_ms();
		c->n_echo++;
		memcpy(c->echo, p, len < sizeof(c->echo) ? len : sizeof(c->echo));
		c->echo_len = len;
		return;
	}
	c->n_ctl++;
	if (bfd_pkt_decode(p, len, &c->ctl, &why) < 0)
		printf("  transmitted control packet does not decode: %s\n", bfd_drop_name(why));
}

/* The Internet checksum (RFC 1071) of a then b, written here apart from lib/csum.h. */
static uint16_t inet_csum(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < an; i += 2)
		s += (uint32_t)a[i] << 8 | a[i + 1];
	for (size_t i = 0; i + 1 < bn; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The UDP checksum over the RFC 768 pseudo-header (source, destination, 0, 17, UDP length
 * 24) and the 24 bytes after a 20-byte header: 0 when the packet's own one is right. */
static uint16_t udp_csum(const uint8_t *p)
{
	uint8_t ph[12] = {0};

	memcpy(ph, p + 12, 8);
	ph[9] = 17;
	ph[11] = 8 + BFD_ECHO_PAYLOAD;
	return inet_csum(ph, sizeof(ph), p + 20, 8 + BFD_ECHO_PAYLOAD);
}

/* Sets the TTL and both checksums anew: what the peer's forwarding plane does to our echo
 * packet (ttl 254), and, after a byte of a vector is changed, a packet that differs from a
 * valid one in that byte only. 20-byte header. */
static void reseal(uint8_t *p, uint8_t ttl)
{
	uint16_t c;

	p[8] = ttl;
	p[10] = p[11] = 0;
	c = inet_csum(p, 20, NULL, 0);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[26] = p[27] = 0;
	c = udp_csum(p);
	c = c ? c : 0xffff;
	p[26] = (uint8_t)(c >> 8);
	p[27] = (uint8_t)c;
}

/* Echo on at 50 ms, reflecting; Desired Min TX 1 s so that going Up changes no transmit
 * interval and any poll sequence is the echo function's RequiredMinRx (6.8.3). */
static const struct bfd_params echop = {1000000, 300000, 3, .echo_us = 50000, .echo_reflect = true};

/* The peer's packet advertising echo_rx as its Required Min Echo RX. */
static void rx_echo(struct bfd_sess *s, enum bfd_state st, uint8_t flags, uint32_t echo_rx)
{
	struct bfd_pkt k = from_peer(s, st, flags, 300000, 300000, 3);

	k.required_min_echo_rx = echo_rx;
	bfd_sess_rx(s, &k);
}

/* Down -> Init -> Up, the peer advertising echo_rx throughout, then its Final to the poll
 * that going Up starts (when final). */
static void echo_up(struct bfd_sess *s, uint32_t echo_rx, bool final)
{
	rx_echo(s, BFD_DOWN, 0, echo_rx);
	rx_echo(s, BFD_UP, 0, echo_rx);
	if (final)
		rx_echo(s, BFD_UP, BFD_F_FINAL, echo_rx);
}

/* n echo bytes into b: -1 when taken (echo_rx counted), else BFD_DROP_ECHO when dropped as
 * that, else -2 (both or neither counted). */
static int feed_echo(struct bfd_sess *s, const uint8_t *p, size_t n)
{
	uint64_t d0 = bfd_drops(s->b, BFD_DROP_ECHO), r0 = s->st.echo_rx;

	bfd_echo_input(s->b, p, n);
	if (s->st.echo_rx == r0 + 1 && bfd_drops(s->b, BFD_DROP_ECHO) == d0)
		return -1;
	if (s->st.echo_rx == r0 && bfd_drops(s->b, BFD_DROP_ECHO) == d0 + 1)
		return BFD_DROP_ECHO;
	return -2;
}

/* Runs the loop for ms; with loop set, the peer is alive: the latest echo packet goes back at
 * once (TTL 254) unless it went back already, and its Up control packet (the Required Min Echo
 * RX it last sent) arrives every 200 ms, so only the echo function can take the session Down. */
static void run_echo(struct ev_loop *l, struct bfd_sess *s, struct ecap *c, uint64_t ms, bool loop)
{
	uint64_t end = ev_now_ms() + ms, ctl = ev_now_ms() + 200;

	do {
		if (loop && ev_now_ms() >= ctl && s->state == BFD_UP) {
			rx_echo(s, BFD_UP, 0, s->remote_echo_rx);
			ctl += 200;
		}
		if (loop && c->n_echo != c->looped && s->echo_on) {
			uint8_t p[64];

			memcpy(p, c->echo, c->echo_len);
			reseal(p, 254);
			bfd_echo_input(s->b, p, c->echo_len);
			c->looped = c->n_echo;
		}
		ev_loop_once(l, 2);
	} while (ev_now_ms() < end);
}

/* Our echo packet for 192.0.2.2, source port 49200, discriminator 0x12345678, sequence 7,
 * cookie 0xcafef00d, checksums computed apart from this code (Python):
 *   ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0xc0, 44, 0, 0, 255, 17, csum, a, a)
 *   udp = struct.pack(">HHHH", 49200, 3785, 24, csum) + struct.pack(">BBHIII", 1, 16, 0,
 *         0x12345678, 7, 0xcafef00d)   (UDP checksum over a + a + b"\0\x11\0\x18" + udp) */
static const uint8_t echo_vec[BFD_ECHO_LEN] = {
    0x45, 0xc0, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0xff, 0x11, 0x36, 0xfc, 0xc0, 0x00, 0x02,
    0x02, 0xc0, 0x00, 0x02, 0x02, 0xc0, 0x30, 0x0e, 0xc9, 0x00, 0x18, 0x87, 0xef, 0x01, 0x10,
    0x00, 0x00, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x07, 0xca, 0xfe, 0xf0, 0x0d,
};

#define NOB 0xff /* no byte changed */

/* One row: echo_vec with byte off set to val and cut to len bytes (0: all 44), and whether
 * bfd_echo_parse takes it. */
struct eprow {
	const char *name;
	uint8_t off, val;
	size_t len;
	bool ok;
};

static const struct eprow eprows[] = {
    {"19 bytes, shorter than an IPv4 header", NOB, 0, 19, false},
    {"IP version 6", 0, 0x65, 0, false},
    {"IHL 4 (16-byte header)", 0, 0x44, 0, false},
    {"IHL 6 without room for the payload after the options", 0, 0x46, 0, false},
    {"IHL 15 beyond the packet", 0, 0x4f, 0, false},
    {"total length 45 beyond the 44 bytes received", 3, 45, 0, false},
    {"the last byte missing (43 of total length 44)", NOB, 0, 43, false},
    {"total length 43: the payload one byte short", 3, 43, 0, false},
    {"protocol TCP", 9, 6, 0, false},
    {"More Fragments set", 6, 0x20, 0, false},
    {"fragment offset 1", 7, 0x01, 0, false},
    {"fragment offset 256 (the offset's high bits)", 6, 0x01, 0, false},
    {"destination port 3784 (control, not echo)", 23, 0xc8, 0, false},
    {"destination port 3785 + 256", 22, 0x0f, 0, false},
    {"UDP length 23", 25, 23, 0, false},
    {"payload version 0", 28, 0, 0, false},
    {"payload version 2", 28, 2, 0, false},
    {"payload length byte 15", 29, 15, 0, false},
    {"payload length byte 17", 29, 17, 0, false},
    {"Don't Fragment set: not a fragment", 6, 0x40, 0, true},
    {"TTL 1 parses (the session judges the TTL)", 8, 1, 0, true},
    {"any source port", 20, 0x00, 0, true},
};

static void test_echo_wire(struct ev_loop *l)
{
	struct ecap c = {0};
	struct bfd *b = bfd_new(l, 0, ecapture, &c);
	struct bfd_sess *s = bfd_sess_new(b, &peer_ip, &local_ip, &echop, NULL, NULL);
	uint8_t buf[64];
	struct bfd_echo e;
	size_t n;

	s->src_port = 49200;
	s->local_disc = 0x12345678;
	s->echo_cookie = 0xcafef00d;
	s->echo_src = local_ip;

	T_BEGIN("echo build: 44 bytes, IPv4/UDP to 3785 from the session's port, known bytes");
	n = bfd_echo_build(buf, s, 7);
	T_EXPECT(n == BFD_ECHO_LEN && n == 44, "length %zu", n);
	T_EXPECT(hexeq(buf, n, echo_vec, sizeof(echo_vec)), "bytes");
	T_EXPECT(buf[0] == 0x45 && buf[1] == 0xc0 && buf[8] == 255 && buf[9] == 17,
		 "version/IHL %#x, DSCP byte %#x, TTL %u, protocol %u", buf[0], buf[1], buf[8],
		 buf[9]);
	T_EXPECT((buf[20] << 8 | buf[21]) == 49200 && (buf[22] << 8 | buf[23]) == BFD_ECHO_PORT,
		 "ports %u -> %u", buf[20] << 8 | buf[21], buf[22] << 8 | buf[23]);
	T_EXPECT(!memcmp(buf + 12, local_ip.a, 4) && !memcmp(buf + 16, local_ip.a, 4),
		 "source and destination: our address");
	T_END();
	echo_seed(buf, n);

	T_BEGIN("echo build: checksums verify (RFC 791 header, RFC 768 pseudo-header)");
	for (uint32_t seq = 1; seq < 200000; seq += 9973) {
		s->echo_cookie = seq * 2654435761u;
		s->src_port = (uint16_t)(49152 + seq % 16384);
		n = bfd_echo_build(buf, s, seq);
		T_EXPECT(n == 44 && inet_csum(buf, 20, NULL, 0) == 0,
			 "sequence %u: header checksum %#x", seq, inet_csum(buf, 20, NULL, 0));
		T_EXPECT(udp_csum(buf) == 0 && (buf[26] | buf[27]),
			 "sequence %u: UDP checksum %02x%02x verifies to %#x", seq, buf[26],
			 buf[27], udp_csum(buf));
	}
	T_END();

	T_BEGIN("echo parse: round trip of discriminator, sequence, cookie, addresses, TTL");
	n = bfd_echo_build(buf, s, 0xfffffffe);
	T_EXPECT(bfd_echo_parse(buf, n, &e) == 0, "parses");
	T_EXPECT(e.disc == 0x12345678 && e.seq == 0xfffffffe && e.cookie == s->echo_cookie,
		 "disc %#x seq %#x cookie %#x", e.disc, e.seq, e.cookie);
	T_EXPECT(ip_eq(&e.src, &local_ip) && ip_eq(&e.dst, &local_ip) && e.ttl == 255,
		 "addresses, TTL %u", e.ttl);
	T_EXPECT(bfd_echo_parse(echo_vec, sizeof(echo_vec), &e) == 0 && e.disc == 0x12345678 &&
		     e.seq == 7 && e.cookie == 0xcafef00d,
		 "the known vector: disc %#x seq %u cookie %#x", e.disc, e.seq, e.cookie);
	T_END();

	T_BEGIN("echo parse: IHL 6, the UDP header after 4 bytes of IPv4 options");
	{
		uint8_t o[48];

		memcpy(o, echo_vec, 20);
		memset(o + 20, 1, 4); /* four NOP options */
		memcpy(o + 24, echo_vec + 20, 24);
		o[0] = 0x46;
		o[3] = 48;
		o[8] = 254;
		T_EXPECT(bfd_echo_parse(o, sizeof(o), &e) == 0 && e.disc == 0x12345678 &&
			     e.seq == 7 && e.cookie == 0xcafef00d && e.ttl == 254 &&
			     ip_eq(&e.src, &local_ip),
			 "disc %#x seq %u cookie %#x ttl %u", e.disc, e.seq, e.cookie, e.ttl);
		echo_seed(o, sizeof(o));
	}
	T_END();

	for (size_t i = 0; i < sizeof(eprows) / sizeof(eprows[0]); i++) {
		const struct eprow *r = &eprows[i];
		size_t len = r->len ? r->len : sizeof(echo_vec);
		int rc;

		memcpy(buf, echo_vec, sizeof(echo_vec));
		if (r->off != NOB)
			buf[r->off] = r->val;
		if (r->ok)
			reseal(buf, buf[8]);
		rc = bfd_echo_parse(buf, len, &e);
		T_BEGIN("echo parse: %s", r->name);
		T_EXPECT(rc == (r->ok ? 0 : -1), "rc %d (want %s)", rc,
			 r->ok ? "taken" : "refused");
		if (r->ok)
			T_EXPECT(e.disc == 0x12345678 && e.seq == 7 && e.cookie == 0xcafef00d,
				 "disc %#x seq %u cookie %#x", e.disc, e.seq, e.cookie);
		T_END();
		echo_seed(buf, len);
	}
	bfd_free(b);
}

/* 6.8.9: when echo runs and at which interval. A session's fields as the functions read them. */
struct eirow {
	const char *name;
	enum bfd_state state;
	uint32_t remote_rx, echo_us;
	bool multihop, v6;
	uint32_t want;
};

static const struct eirow eirows[] = {
    {"Up, ours 50 ms above the remote's 30 ms: ours", BFD_UP, 30000, 50000, 0, 0, 50000},
    {"Up, the remote's 200 ms above our 50 ms: the remote's", BFD_UP, 200000, 50000, 0, 0, 200000},
    {"Up, both 50 ms", BFD_UP, 50000, 50000, 0, 0, 50000},
    {"Init", BFD_INIT, 50000, 50000, 0, 0, 0},
    {"Down", BFD_DOWN, 50000, 50000, 0, 0, 0},
    {"AdminDown", BFD_ADMIN_DOWN, 50000, 50000, 0, 0, 0},
    {"Up, the remote advertises 0", BFD_UP, 0, 50000, 0, 0, 0},
    {"Up, echo_us 0 (off)", BFD_UP, 50000, 0, 0, 0, 0},
    {"Up, multihop (RFC 5883 3)", BFD_UP, 50000, 50000, 1, 0, 0},
    {"Up, IPv6 peer", BFD_UP, 50000, 50000, 0, 1, 0},
};

struct earow {
	const char *name;
	uint32_t echo_us;
	bool reflect, multihop, v6;
	uint32_t want;
};

static const struct earow earows[] = {
    {"on and reflecting: echo_us", 50000, 1, 0, 0, 50000},
    {"on and reflecting, 10 ms", 10000, 1, 0, 0, 10000},
    {"on, not reflecting (no IPv4 forwarding): 0", 50000, 0, 0, 0, 0},
    {"off, reflecting: 0", 0, 1, 0, 0, 0},
    {"multihop: 0", 50000, 1, 1, 0, 0},
    {"IPv6 peer: 0", 50000, 1, 0, 1, 0},
};

static void test_echo_gates(struct ev_loop *l)
{
	for (size_t i = 0; i < sizeof(eirows) / sizeof(eirows[0]); i++) {
		const struct eirow *r = &eirows[i];
		struct bfd_sess s = {.state = r->state, .remote_echo_rx = r->remote_rx};
		uint32_t got;

		s.cfg = echop;
		s.cfg.echo_us = r->echo_us;
		s.cfg.multihop = r->multihop;
		ip_parse(r->v6 ? "fd00::1" : "192.0.2.1", &s.peer);
		got = bfd_echo_interval(&s);
		T_BEGIN("echo interval: %s", r->name);
		T_EXPECT(got == r->want, "%u us (want %u)", got, r->want);
		T_END();
	}
	for (size_t i = 0; i < sizeof(earows) / sizeof(earows[0]); i++) {
		const struct earow *r = &earows[i];
		struct bfd_sess s = {.state = BFD_DOWN};
		uint32_t got;

		s.cfg = echop;
		s.cfg.echo_us = r->echo_us;
		s.cfg.echo_reflect = r->reflect;
		s.cfg.multihop = r->multihop;
		ip_parse(r->v6 ? "fd00::1" : "192.0.2.1", &s.peer);
		got = bfd_echo_rx_advert(&s);
		T_BEGIN("echo advertised Required Min Echo RX: %s", r->name);
		T_EXPECT(got == r->want, "%u us (want %u)", got, r->want);
		T_END();
	}

	T_BEGIN("echo: the control packet carries Required Min Echo RX (0 when off or not "
		"reflecting)");
	{
		struct ecap c = {0};
		struct bfd *b = bfd_new(l, 0, ecapture, &c);
		struct bfd_params off = echop, noref = echop;
		struct bfd_sess *s1, *s2;
		struct bfd_pkt k;

		off.echo_us = 0;
		noref.echo_reflect = false;
		s1 = bfd_sess_new(b, &peer_ip, &local_ip, &echop, NULL, NULL);
		s2 = bfd_sess_new(b, &other_ip, &local_ip, &off, NULL, NULL);
		bfd_sess_tx(s1);
		T_EXPECT(c.n_ctl == 1 && c.ctl.required_min_echo_rx == 50000,
			 "echo on: %u on the wire", c.ctl.required_min_echo_rx);
		bfd_sess_build(s1, &k, false);
		T_EXPECT(k.required_min_echo_rx == 50000, "built: %u", k.required_min_echo_rx);
		bfd_sess_tx(s2);
		T_EXPECT(c.n_ctl == 2 && c.ctl.required_min_echo_rx == 0, "echo off: %u",
			 c.ctl.required_min_echo_rx);
		bfd_sess_set_params(s2, &noref);
		bfd_sess_tx(s2);
		T_EXPECT(c.n_ctl == 3 && c.ctl.required_min_echo_rx == 0,
			 "echo on, not reflecting: %u", c.ctl.required_min_echo_rx);
		bfd_sess_set_params(s2, &echop);
		bfd_sess_tx(s2);
		T_EXPECT(c.n_ctl == 4 && c.ctl.required_min_echo_rx == 50000,
			 "reflecting again: %u", c.ctl.required_min_echo_rx);
		T_EXPECT(c.n_echo == 0, "no echo packets while Down (%d)", c.n_echo);
		bfd_free(b);
	}
	T_END();
}

/* Up with a remote that takes echo packets: ours start, and 6.8.3's RequiredMinRx of 1 s. */
static void test_echo_up(struct ev_loop *l)
{
	struct ecap c = {0};
	struct bfd *b = bfd_new(l, 0, ecapture, &c);
	struct bfd_sess *s = bfd_sess_new(b, &peer_ip, &local_ip, &echop, NULL, NULL);
	struct bfd_echo e;
	uint8_t p[64];
	int d;

	T_BEGIN("echo: not before Up (Init with the remote advertising 50 ms)");
	rx_echo(s, BFD_DOWN, 0, 50000);
	T_EXPECT(s->state == BFD_INIT && !s->echo_on && c.n_echo == 0 && s->st.echo_tx == 0,
		 "state %s, echo on %d, %d echo packets", bfd_state_name(s->state), s->echo_on,
		 c.n_echo);
	T_EXPECT(s->remote_echo_rx == 50000, "remote Required Min Echo RX stored: %u",
		 s->remote_echo_rx);
	T_EXPECT(s->required_min_rx == 300000, "Required Min RX %u", s->required_min_rx);
	T_END();

	T_BEGIN("echo: Up starts it, one packet at once: disc ours, sequence 1, our address");
	rx_echo(s, BFD_UP, 0, 50000);
	T_EXPECT(s->state == BFD_UP && s->echo_on, "state %s, echo on %d", bfd_state_name(s->state),
		 s->echo_on);
	T_EXPECT(c.n_echo == 1 && s->st.echo_tx == 1 && c.echo_len == BFD_ECHO_LEN,
		 "%d echo packets of %zu bytes (counted %llu)", c.n_echo, c.echo_len,
		 (unsigned long long)s->st.echo_tx);
	T_EXPECT(bfd_echo_parse(c.echo, c.echo_len, &e) == 0, "it parses");
	T_EXPECT(e.disc == s->local_disc && e.seq == 1 && s->echo_seq == 1 &&
		     e.cookie == s->echo_cookie,
		 "disc %#x seq %u cookie %#x", e.disc, e.seq, e.cookie);
	T_EXPECT(ip_eq(&e.src, &local_ip) && ip_eq(&e.dst, &local_ip) &&
		     ip_eq(&s->echo_src, &local_ip) && e.ttl == 255,
		 "from and to our address, TTL %u", e.ttl);
	T_EXPECT(bfd_echo_interval(s) == 50000, "interval %u", bfd_echo_interval(s));
	T_EXPECT(ev_timer_armed(s->t_echo_tx) && ev_timer_armed(s->t_echo_detect),
		 "transmit and detection timers armed");
	T_END();

	T_BEGIN("echo: 6.8.3: Required Min RX 1 s with P while echo runs (configured 300 ms)");
	bfd_sess_tx(s);
	T_EXPECT(c.ctl.required_min_rx == 1000000 && (c.ctl.flags & BFD_F_POLL) &&
		     s->cfg.min_rx_us == 300000,
		 "advertised %u, flags %#x, configured %u", c.ctl.required_min_rx, c.ctl.flags,
		 s->cfg.min_rx_us);
	T_EXPECT(c.ctl.desired_min_tx == 1000000 && c.ctl.required_min_echo_rx == 50000,
		 "Desired Min TX %u, Required Min Echo RX %u", c.ctl.desired_min_tx,
		 c.ctl.required_min_echo_rx);
	T_END();

	T_BEGIN("echo: 6.8.3: the remote's Final puts Required Min RX 1 s in force, P clears");
	rx_echo(s, BFD_UP, BFD_F_FINAL, 50000);
	bfd_sess_tx(s);
	T_EXPECT(!s->polling && s->rx_in_force_us == 1000000 && c.ctl.required_min_rx == 1000000 &&
		     !(c.ctl.flags & BFD_F_POLL),
		 "polling %d, in force %u, advertised %u, flags %#x", s->polling, s->rx_in_force_us,
		 c.ctl.required_min_rx, c.ctl.flags);
	T_EXPECT(bfd_sess_detect_time(s) == 3000000, "control detection time %llu",
		 (unsigned long long)bfd_sess_detect_time(s));
	T_EXPECT(c.n_echo == 1 && s->echo_on, "echo unchanged by the Final (%d sent)", c.n_echo);
	T_END();

	T_BEGIN("echo: the packet looped back (TTL 254) is counted, nothing dropped");
	memcpy(p, c.echo, c.echo_len);
	reseal(p, 254);
	d = feed_echo(s, p, c.echo_len);
	T_EXPECT(d == -1 && s->st.echo_rx == 1 && bfd_drops(b, BFD_DROP_ECHO) == 0 &&
		     s->st.rx_drop == 0,
		 "%s, echo rx %llu", drop_str(d), (unsigned long long)s->st.echo_rx);
	T_END();
	echo_seed(p, c.echo_len);

	T_BEGIN("echo: not reflecting (no IPv4 forwarding) advertises 0 and still sends ours");
	{
		struct bfd_params noref = echop;
		struct bfd_sess *r;
		int n0 = c.n_echo;

		noref.echo_reflect = false;
		r = bfd_sess_new(b, &other_ip, &local_ip, &noref, NULL, NULL);
		echo_up(r, 50000, false);
		bfd_sess_tx(r);
		T_EXPECT(r->state == BFD_UP && r->echo_on && c.n_echo == n0 + 1,
			 "state %s echo on %d, %d sent", bfd_state_name(r->state), r->echo_on,
			 c.n_echo - n0);
		T_EXPECT(c.ctl.required_min_echo_rx == 0 && c.ctl.required_min_rx == 1000000,
			 "advertised echo %u, Required Min RX %u", c.ctl.required_min_echo_rx,
			 c.ctl.required_min_rx);
	}
	T_END();
	bfd_free(b);
}

/* One row: our echo packet of sequence echo_seq - back, looped back (TTL 254), then byte off
 * XORed with x (x 0: none) and the checksums made right again; taken or dropped. */
struct edrow {
	const char *name;
	int64_t back;
	uint8_t off, x;
	bool taken;
};

static const struct edrow edrows[] = {
    {"the last one sent", 0, 0, 0, true},
    {"63 behind the last one sent", 63, 0, 0, true},
    {"64 behind the last one sent", 64, 0, 0, false},
    {"sequence 0, 1000 behind", 1000, 0, 0, false},
    {"one newer than the last one sent", -1, 0, 0, false},
    {"2^31 newer than the last one sent", -(1ll << 31), 0, 0, false},
    {"wrong cookie (last bit)", 0, 43, 0x01, false},
    {"wrong cookie (first bit)", 0, 40, 0x80, false},
    {"TTL 255: not looped back", 0, 8, 0x01, false},
    {"TTL 253: looped back by two routers", 0, 8, 0x03, false},
    {"source not our echo address", 0, 15, 0x01, false},
    {"destination not our echo address", 0, 19, 0x01, false},
    {"discriminator of no session", 0, 35, 0x01, false},
};

static void test_echo_drops(struct ev_loop *l)
{
	struct ecap c = {0};
	struct bfd *b = bfd_new(l, 0, ecapture, &c);
	struct bfd_sess *s = bfd_sess_new(b, &peer_ip, &local_ip, &echop, NULL, NULL);
	static const uint8_t junk[][BFD_ECHO_LEN] = {
	    {0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
	     0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
	     0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
	     0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5},
	    {0},
	    {HDR(0x20, 0x40, 3, 24), DISC_MY, DISC_0, TIMERS}, /* a control packet */
	};
	static const size_t junk_len[] = {BFD_ECHO_LEN, BFD_ECHO_LEN, 24};

	echo_up(s, 50000, true);
	s->echo_seq = 1000; /* as if 1000 had been sent */

	for (size_t i = 0; i < sizeof(edrows) / sizeof(edrows[0]); i++) {
		const struct edrow *r = &edrows[i];
		uint8_t p[BFD_ECHO_LEN];
		uint64_t drops = bfd_drops(b, BFD_DROP_ECHO);
		int d;

		bfd_echo_build(p, s, (uint32_t)(s->echo_seq - r->back));
		reseal(p, 254);
		p[r->off] ^= r->x;
		reseal(p, p[8]);
		d = feed_echo(s, p, sizeof(p));
		T_BEGIN("echo rx: %s: %s", r->name, r->taken ? "taken" : "dropped");
		T_EXPECT(d == (r->taken ? -1 : BFD_DROP_ECHO), "%s (want %s)",
			 d == -2 ? "miscounted" : drop_str(d), r->taken ? "taken" : "echo drop");
		T_EXPECT(bfd_drops(b, BFD_DROP_ECHO) == drops + !r->taken, "echo drops %llu",
			 (unsigned long long)bfd_drops(b, BFD_DROP_ECHO));
		T_EXPECT(s->state == BFD_UP && s->echo_on, "still Up, echo on");
		T_END();
		echo_seed(p, sizeof(p));
	}
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		int d = feed_echo(s, junk[i], junk_len[i]);

		T_BEGIN("echo rx: garbage %zu (%zu bytes from %#x) is dropped as echo", i,
			junk_len[i], (unsigned)junk[i][0]);
		T_EXPECT(d == BFD_DROP_ECHO, "%s", d == -2 ? "miscounted" : drop_str(d));
		T_END();
	}
	T_BEGIN("echo rx: 3 bytes and 0 bytes are dropped as echo");
	T_EXPECT(feed_echo(s, echo_vec, 3) == BFD_DROP_ECHO, "3 bytes");
	T_EXPECT(feed_echo(s, echo_vec, 0) == BFD_DROP_ECHO, "0 bytes");
	T_END();
	bfd_free(b);
}

/* 6.8.5: Detect Mult echo intervals without one back take the session Down, diagnostic 2. */
static void test_echo_detect(struct ev_loop *l)
{
	struct ecap c = {0};
	struct bfd *b = bfd_new(l, 0, ecapture, &c);

	T_BEGIN("echo detect: nothing back for 3 x 50 ms: Down, diag 2, echo and its timers off");
	{
		struct trans t = {0};
		struct bfd_sess *s = bfd_sess_new(b, &peer_ip, &local_ip, &echop, notify, &t);
		uint64_t t0 = ev_now_ms(), end = t0 + 2000, took;
		int sent;

		echo_up(s, 50000, true);
		while (ev_now_ms() < end && s->state == BFD_UP)
			ev_loop_once(l, 2);
		took = ev_now_ms() - t0;
		T_EXPECT(s->state == BFD_DOWN && s->local_diag == BFD_DIAG_ECHO_FAILED,
			 "state %s diag %u after %llu ms", bfd_state_name(s->state), s->local_diag,
			 (unsigned long long)took);
		T_EXPECT(took >= 149 && took < 1000, "after %llu ms (3 x 50 ms)",
			 (unsigned long long)took);
		T_EXPECT(t.n == 3 && t.from[2] == BFD_UP && t.to[2] == BFD_DOWN,
			 "notified Up -> Down (%d notifications)", t.n);
		T_EXPECT(!s->echo_on && !ev_timer_armed(s->t_echo_tx) &&
			     !ev_timer_armed(s->t_echo_detect),
			 "echo on %d, timers armed %d %d", s->echo_on, ev_timer_armed(s->t_echo_tx),
			 ev_timer_armed(s->t_echo_detect));
		T_EXPECT(c.n_echo >= 3 && c.n_echo == (int)s->st.echo_tx && s->st.echo_rx == 0,
			 "%d echo packets went out meanwhile", c.n_echo);
		T_EXPECT(s->required_min_rx == 300000 && s->rx_in_force_us == 300000 && !s->polling,
			 "Required Min RX back to %u (in force %u), polling %d", s->required_min_rx,
			 s->rx_in_force_us, s->polling);
		bfd_sess_tx(s);
		T_EXPECT(c.ctl.state == BFD_DOWN && c.ctl.diag == BFD_DIAG_ECHO_FAILED &&
			     c.ctl.required_min_rx == 300000,
			 "sent: %s diag %u Required Min RX %u", bfd_state_name(c.ctl.state),
			 c.ctl.diag, c.ctl.required_min_rx);
		sent = c.n_echo;
		run_echo(l, s, &c, 200, false);
		T_EXPECT(c.n_echo == sent, "no echo packets once Down (%d more)", c.n_echo - sent);
		s->notify = NULL;
		bfd_sess_destroy(s);
	}
	T_END();

	T_BEGIN("echo detect: echoes back on time keep it Up over 4 detection times");
	{
		struct bfd_sess *s = bfd_sess_new(b, &peer_ip, &local_ip, &echop, NULL, NULL);
		uint64_t end, last;

		c.n_echo = c.looped = 0;
		echo_up(s, 50000, true);
		run_echo(l, s, &c, 600, true);
		T_EXPECT(s->state == BFD_UP && s->echo_on, "state %s diag %u",
			 bfd_state_name(s->state), s->local_diag);
		T_EXPECT(c.n_echo >= 12 && c.n_echo < ECAP_MAX && s->st.echo_rx == s->st.echo_tx &&
			     s->st.echo_tx == (uint64_t)c.n_echo,
			 "%d sent, %llu back", c.n_echo, (unsigned long long)s->st.echo_rx);

		/* then none back: Down one detection time (3 x 50 ms) after the last one taken */
		last = c.echo_ms[c.looped - 1];
		end = ev_now_ms() + 2000;
		while (ev_now_ms() < end && s->state == BFD_UP)
			ev_loop_once(l, 2);
		T_EXPECT(s->state == BFD_DOWN && s->local_diag == BFD_DIAG_ECHO_FAILED,
			 "then Down, diag %u", s->local_diag);
		T_EXPECT(ev_now_ms() - last >= 148 && ev_now_ms() - last < 1000,
			 "%llu ms after the last one back (150 ms)",
			 (unsigned long long)(ev_now_ms() - last));
		bfd_sess_destroy(s);
	}
	T_END();

	T_BEGIN("echo pacing: 75-100%% of the remote's 100 ms, never more often (6.8.9)");
	{
		struct bfd_params fast = echop;
		struct bfd_sess *s;
		uint64_t lo = UINT64_MAX, hi = 0;

		fast.echo_us = 20000; /* the remote's 100 ms wins */
		s = bfd_sess_new(b, &peer_ip, &local_ip, &fast, NULL, NULL);
		c.n_echo = c.looped = 0;
		echo_up(s, 100000, true);
		run_echo(l, s, &c, 1600, true);
		for (int i = 1; i < c.n_echo && i < ECAP_MAX; i++) {
			uint64_t g = c.echo_ms[i] - c.echo_ms[i - 1];

			lo = g < lo ? g : lo;
			hi = g > hi ? g : hi;
		}
		T_EXPECT(s->state == BFD_UP && c.n_echo >= 16 && c.n_echo <= 23,
			 "state %s, %d sent in 1.6 s", bfd_state_name(s->state), c.n_echo);
		T_EXPECT(lo >= 74 && hi <= 110, "gaps %llu..%llu ms", (unsigned long long)lo,
			 (unsigned long long)hi);
		bfd_sess_destroy(s);
	}
	T_END();
	bfd_free(b);
}

/* 6.8.9: the remote's Required Min Echo RX changing while Up. */
static void test_echo_remote(struct ev_loop *l)
{
	struct ecap c = {0};
	struct bfd *b = bfd_new(l, 0, ecapture, &c);
	struct bfd_sess *s = bfd_sess_new(b, &peer_ip, &local_ip, &echop, NULL, NULL);
	int n0;

	echo_up(s, 50000, true);

	T_BEGIN("echo remote: raising its Required Min Echo RX to 200 ms paces ours at 200 ms");
	{
		uint64_t lo = UINT64_MAX, hi = 0;
		int first = c.n_echo; /* the last one sent at 50 ms is echo_ms[first - 1] */

		rx_echo(s, BFD_UP, 0, 200000);
		T_EXPECT(s->echo_on && bfd_echo_interval(s) == 200000, "echo on %d, interval %u",
			 s->echo_on, bfd_echo_interval(s));
		run_echo(l, s, &c, 1000, true);
		/* 6.8.9: not even the next one goes out faster than 75% of the new interval */
		T_EXPECT(c.n_echo > first && c.echo_ms[first] - c.echo_ms[first - 1] >= 149,
			 "the first after the raise came %llu ms after the last before",
			 (unsigned long long)(c.echo_ms[first] - c.echo_ms[first - 1]));
		first++;
		for (int i = first; i < c.n_echo && i < ECAP_MAX; i++) {
			uint64_t g = c.echo_ms[i] - c.echo_ms[i - 1];

			lo = g < lo ? g : lo;
			hi = g > hi ? g : hi;
		}
		T_EXPECT(s->state == BFD_UP && c.n_echo - first >= 4 && c.n_echo - first <= 8,
			 "state %s, %d sent in 1 s", bfd_state_name(s->state), c.n_echo - first);
		T_EXPECT(lo >= 149 && hi <= 215, "gaps %llu..%llu ms", (unsigned long long)lo,
			 (unsigned long long)hi);
	}
	T_END();

	T_BEGIN("echo remote: Required Min Echo RX 0 stops ours; Required Min RX back, with P");
	rx_echo(s, BFD_UP, 0, 0);
	T_EXPECT(!s->echo_on && !ev_timer_armed(s->t_echo_tx) && !ev_timer_armed(s->t_echo_detect),
		 "echo on %d, timers armed %d %d", s->echo_on, ev_timer_armed(s->t_echo_tx),
		 ev_timer_armed(s->t_echo_detect));
	bfd_sess_tx(s);
	T_EXPECT(c.ctl.required_min_rx == 300000 && (c.ctl.flags & BFD_F_POLL) && s->polling,
		 "advertised %u, flags %#x", c.ctl.required_min_rx, c.ctl.flags);
	T_EXPECT(s->rx_in_force_us == 1000000, "a reduction waits for the Final: %u in force",
		 s->rx_in_force_us);
	T_EXPECT(c.ctl.required_min_echo_rx == 50000, "we still take the peer's: %u",
		 c.ctl.required_min_echo_rx);
	rx_echo(s, BFD_UP, BFD_F_FINAL, 0);
	T_EXPECT(!s->polling && s->rx_in_force_us == 300000 && bfd_sess_detect_time(s) == 900000,
		 "after the Final: in force %u, detection time %llu", s->rx_in_force_us,
		 (unsigned long long)bfd_sess_detect_time(s));
	n0 = c.n_echo;
	run_echo(l, s, &c, 200, false);
	T_EXPECT(c.n_echo == n0 && s->state == BFD_UP, "no echo packets, still Up (%d sent)",
		 c.n_echo - n0);
	T_END();

	T_BEGIN("echo remote: advertising 50 ms again restarts ours at once, 1 s with P");
	rx_echo(s, BFD_UP, 0, 50000);
	bfd_sess_tx(s);
	T_EXPECT(s->echo_on && c.n_echo == n0 + 1, "echo on %d, %d sent", s->echo_on,
		 c.n_echo - n0);
	T_EXPECT(c.ctl.required_min_rx == 1000000 && (c.ctl.flags & BFD_F_POLL),
		 "advertised %u, flags %#x", c.ctl.required_min_rx, c.ctl.flags);
	T_END();
	bfd_free(b);
}

/* bfd_sess_set_params turning the echo function off and on while Up. */
static void test_echo_params(struct ev_loop *l)
{
	struct ecap c = {0};
	struct bfd *b = bfd_new(l, 0, ecapture, &c);
	struct bfd_params p = echop;
	struct bfd_sess *s = bfd_sess_new(b, &peer_ip, &local_ip, &p, NULL, NULL);
	uint8_t old[64];
	uint32_t cookie;
	int n0, d;

	echo_up(s, 50000, true);
	memcpy(old, c.echo, c.echo_len);
	reseal(old, 254);
	cookie = s->echo_cookie;

	T_BEGIN("echo params: echo_us 0 while active stops it; Required Min RX back with P");
	p.echo_us = 0;
	bfd_sess_set_params(s, &p);
	T_EXPECT(!s->echo_on && !ev_timer_armed(s->t_echo_tx) && !ev_timer_armed(s->t_echo_detect),
		 "echo on %d, timers armed %d %d", s->echo_on, ev_timer_armed(s->t_echo_tx),
		 ev_timer_armed(s->t_echo_detect));
	bfd_sess_tx(s);
	T_EXPECT(c.ctl.required_min_rx == 300000 && (c.ctl.flags & BFD_F_POLL) &&
		     c.ctl.required_min_echo_rx == 0,
		 "advertised %u, echo %u, flags %#x", c.ctl.required_min_rx,
		 c.ctl.required_min_echo_rx, c.ctl.flags);
	n0 = c.n_echo;
	run_echo(l, s, &c, 250, false);
	T_EXPECT(c.n_echo == n0 && s->state == BFD_UP,
		 "no echo packets and no echo failure: %d sent, %s", c.n_echo - n0,
		 bfd_state_name(s->state));
	d = feed_echo(s, old, BFD_ECHO_LEN);
	T_EXPECT(d == BFD_DROP_ECHO, "an echo of ours while off: %s", drop_str(d));
	T_END();

	T_BEGIN("echo params: echo_us 50 ms while Up starts it at once, new cookie, 1 s with P");
	rx_echo(s, BFD_UP, BFD_F_FINAL, 50000);
	p.echo_us = 50000;
	bfd_sess_set_params(s, &p);
	bfd_sess_tx(s);
	T_EXPECT(s->echo_on && c.n_echo == n0 + 1 && ev_timer_armed(s->t_echo_detect),
		 "echo on %d, %d sent", s->echo_on, c.n_echo - n0);
	T_EXPECT(c.ctl.required_min_rx == 1000000 && (c.ctl.flags & BFD_F_POLL) &&
		     c.ctl.required_min_echo_rx == 50000,
		 "advertised %u, echo %u, flags %#x", c.ctl.required_min_rx,
		 c.ctl.required_min_echo_rx, c.ctl.flags);
	T_EXPECT(s->echo_cookie != cookie, "cookie %#x, was %#x", s->echo_cookie, cookie);
	d = feed_echo(s, old, BFD_ECHO_LEN);
	T_EXPECT(d == BFD_DROP_ECHO, "the echo of before the restart: %s", drop_str(d));
	memcpy(old, c.echo, c.echo_len);
	reseal(old, 254);
	d = feed_echo(s, old, BFD_ECHO_LEN);
	T_EXPECT(d == -1, "the new one: %s", drop_str(d));
	T_END();

	T_BEGIN("echo params: removal stops it (AdminDown)");
	bfd_sess_free(s); /* the loop's from here on */
	n0 = c.n_echo;
	run_echo(l, NULL, &c, 200, false);
	T_EXPECT(c.n_echo == n0, "%d echo packets after removal", c.n_echo - n0);
	T_END();
	bfd_free(b);
}

/* No echo packets where the echo function may not run, though echo_us is set. */
static void test_echo_never(struct ev_loop *l)
{
	struct ecap c = {0};
	struct bfd *b = bfd_new(l, 0, ecapture, &c);
	struct bfd_params pp = echop, mp = echop;
	struct ip peer6, local6;
	struct bfd_sess *s;

	pp.passive = true;
	mp.multihop = true;
	ip_parse("fd00::1", &peer6);
	ip_parse("fd00::2", &local6);

	T_BEGIN("echo never: passive, the remote unheard of: nothing sent at all");
	s = bfd_sess_new(b, &peer_ip, &local_ip, &pp, NULL, NULL);
	T_EXPECT(!bfd_echo_sync(s) && !s->echo_on, "sync starts nothing");
	run_echo(l, s, &c, 300, false);
	T_EXPECT(c.n_echo == 0 && c.n_ctl == 0, "%d echo, %d control packets", c.n_echo, c.n_ctl);
	rx_echo(s, BFD_DOWN, 0, 50000);
	T_EXPECT(s->state == BFD_INIT && !s->echo_on && c.n_echo == 0,
		 "Init after the remote's Down: echo on %d, %d echo packets", s->echo_on, c.n_echo);
	bfd_sess_destroy(s);
	T_END();

	/* multihop (RFC 5883 forbids echo there) and IPv6 (not supported): Up, no echo at all */
	const struct {
		const char *name;
		const struct ip *peer, *local;
		const struct bfd_params *pr;
	} nv[] = {{"multihop", &peer_ip, &local_ip, &mp}, {"IPv6", &peer6, &local6, &echop}};
	for (size_t i = 0; i < sizeof(nv) / sizeof(nv[0]); i++) {
		T_BEGIN("echo never: %s session Up, the remote advertising 50 ms", nv[i].name);
		c = (struct ecap){0};
		s = bfd_sess_new(b, nv[i].peer, nv[i].local, nv[i].pr, NULL, NULL);
		echo_up(s, 50000, true);
		run_echo(l, s, &c, 200, false);
		bfd_sess_tx(s);
		T_EXPECT(s->state == BFD_UP && !s->echo_on && c.n_echo == 0,
			 "state %s, echo on %d, %d echo packets", bfd_state_name(s->state),
			 s->echo_on, c.n_echo);
		T_EXPECT(c.ctl.required_min_echo_rx == 0 && c.ctl.required_min_rx == 300000,
			 "advertised echo %u, Required Min RX %u", c.ctl.required_min_echo_rx,
			 c.ctl.required_min_rx);
		bfd_sess_destroy(s);
		T_END();
	}
	bfd_free(b);
}

/* --- configuration: the bgpPeers fields ---------------------------------------------------- */

#define PEER_YAML(extra)                                                                           \
	"node: {name: node-a}\nswitches:\n  - {name: sw1, interfaces: [eth1], compute: true}\n"    \
	"bgpPeers:\n  - {peerAddress: 192.0.2.1, peerAsn: 64512, selfAsn: 64513, switch: "         \
	"sw1" extra "}\n"
#define PEER6_YAML(extra)                                                                          \
	"node: {name: node-a}\nswitches:\n  - {name: sw1, interfaces: [eth1], compute: true}\n"    \
	"bgpPeers:\n  - {peerAddress: 'fd00::1', peerAsn: 64512, selfAsn: 64513, switch: "         \
	"sw1" extra "}\n"

struct crow {
	const char *name, *yaml;
	const char *err; /* substring of the one error, NULL = valid */
	bool bfd;
	uint16_t tx, rx;
	uint8_t mult;
	bool passive;
	uint8_t min_ttl;
	uint8_t auth_type, key_id;
	const char *key;
	const char *hide; /* a key the error must not show */
	bool echo;	  /* bfdEchoMode */
	uint16_t echo_ms; /* bfdEchoInterval */
	const char *accept; /* bfdAuthAcceptKeys as "ID:KEY,ID:KEY" (NULL: none) */
};

#define AUTHY(rest) PEER_YAML(", bfd: true, bfdAuthType: " rest)
#define ALLOWED_TYPES                                                                              \
	"(allowed: none, simple, keyed-md5, meticulous-keyed-md5, keyed-sha1 or "                  \
	"meticulous-keyed-sha1)"

static const struct crow crows[] = {
    {"no BFD by default", PEER_YAML(""), NULL, false, 0, 0, 0},
    {"bfd: true with the defaults", PEER_YAML(", bfd: true"), NULL, true, 0, 0, 0},
    {"bfd with the three timers",
     PEER_YAML(", bfd: true, bfdMinTx: 100, bfdMinRx: 200, bfdMultiplier: 5"), NULL, true, 100, 200,
     5},
    {"bounds 10 ms and 60000 ms, multiplier 255",
     PEER_YAML(", bfd: true, bfdMinTx: 10, bfdMinRx: 60000, bfdMultiplier: 255"), NULL, true, 10,
     60000, 255},
    {"bfdMinTx 9", PEER_YAML(", bfd: true, bfdMinTx: 9"),
     "bfdMinTx: 9: not a BFD interval (allowed: 10-60000 milliseconds)"},
    {"bfdMinRx 60001", PEER_YAML(", bfd: true, bfdMinRx: 60001"),
     "bfdMinRx: 60001: not a BFD interval (allowed: 10-60000 milliseconds)"},
    {"bfdMultiplier 0", PEER_YAML(", bfd: true, bfdMultiplier: 0"),
     "bfdMultiplier: 0: not a BFD detect multiplier (allowed: 1-255)"},
    {"bfdMultiplier 256", PEER_YAML(", bfd: true, bfdMultiplier: 256"),
     "bfdMultiplier: 256: not a BFD detect multiplier (allowed: 1-255)"},
    {"bfd: maybe", PEER_YAML(", bfd: maybe"),
     "bfd: \"maybe\": wrong type (allowed: true or false)"},
    {"timers without bfd: true", PEER_YAML(", bfdMultiplier: 4"),
     "bfdMultiplier: set without bfd: true"},
    {"passive, minimum TTL 254", PEER_YAML(", bfd: true, bfdPassive: true, bfdMinimumTtl: 254"),
     NULL, true, 0, 0, 0, true, 254},
    {"minimum TTL 255", PEER_YAML(", bfd: true, bfdMinimumTtl: 255"), NULL, true, 0, 0, 0, false,
     255},
    {"bfdMinimumTtl 0", PEER_YAML(", bfd: true, bfdMinimumTtl: 0"),
     "bfdMinimumTtl: 0: not a TTL (allowed: 1-255)"},
    {"bfdMinimumTtl 256", PEER_YAML(", bfd: true, bfdMinimumTtl: 256"),
     "bfdMinimumTtl: 256: not a TTL (allowed: 1-255)"},
    {"bfdPassive: yes please", PEER_YAML(", bfd: true, bfdPassive: yes please"),
     "bfdPassive: \"yes please\": wrong type (allowed: true or false)"},
    {"passive without bfd: true", PEER_YAML(", bfdPassive: true"),
     "bfdPassive: set without bfd: true"},
    {"minimum TTL without bfd: true", PEER_YAML(", bfdMinimumTtl: 200"),
     "bfdMinimumTtl: set without bfd: true"},
    {"bfdMinimumTtl abc: the error names the field's own range",
     PEER_YAML(", bfd: true, bfdMinimumTtl: abc"),
     "bfdMinimumTtl: \"abc\": not a number in range (allowed: 1-255)"},
    {"bfdMinTx -5", PEER_YAML(", bfd: true, bfdMinTx: -5"),
     "bfdMinTx: -5: not a number in range (allowed: 10-60000 milliseconds)"},
    /* the echo function (RFC 5880 6.4): IPv4 single hop only */
    {"echo mode at 100 ms", PEER_YAML(", bfd: true, bfdEchoMode: true, bfdEchoInterval: 100"),
     NULL, true, .echo = true, .echo_ms = 100},
    {"echo mode at the default interval, ebgpMultiHop 1 (one hop)",
     PEER_YAML(", ebgpMultiHop: 1, bfd: true, bfdEchoMode: true"), NULL, true, .echo = true},
    {"echo interval bounds 10 ms and 60000 ms",
     PEER_YAML(", bfd: true, bfdEchoMode: true, bfdEchoInterval: 60000, bfdMinTx: 10"), NULL, true,
     10, .echo = true, .echo_ms = 60000},
    {"bfdEchoMode: false", PEER_YAML(", bfd: true, bfdEchoMode: false"), NULL, true},
    {"IPv6 peer with BFD, no echo", PEER6_YAML(", bfd: true"), NULL, true},
    {"bfdEchoInterval 9", PEER_YAML(", bfd: true, bfdEchoMode: true, bfdEchoInterval: 9"),
     "bgpPeers[0]: bfdEchoInterval: 9: not a BFD interval (allowed: 10-60000 milliseconds)"},
    {"bfdEchoInterval 60001", PEER_YAML(", bfd: true, bfdEchoMode: true, bfdEchoInterval: 60001"),
     "bfdEchoInterval: 60001: not a BFD interval (allowed: 10-60000 milliseconds)"},
    {"bfdEchoInterval 50ms", PEER_YAML(", bfd: true, bfdEchoMode: true, bfdEchoInterval: 50ms"),
     "bfdEchoInterval: \"50ms\": not a number in range (allowed: 10-60000 milliseconds)"},
    {"bfdEchoMode: yes please", PEER_YAML(", bfd: true, bfdEchoMode: yes please"),
     "bfdEchoMode: \"yes please\": wrong type (allowed: true or false)"},
    {"echo mode without bfd: true", PEER_YAML(", bfdEchoMode: true"),
     "bgpPeers[0]: bfdEchoMode: set without bfd: true (allowed: BFD settings with bfd: true)"},
    {"echo interval without bfd: true", PEER_YAML(", bfdEchoInterval: 100"),
     "bgpPeers[0]: bfdEchoInterval: set without bfd: true (allowed: BFD settings with bfd: "
     "true)"},
    {"echo interval without bfdEchoMode", PEER_YAML(", bfd: true, bfdEchoInterval: 100"),
     "bgpPeers[0]: bfdEchoInterval: set without bfdEchoMode: true (allowed: with bfdEchoMode: "
     "true)"},
    {"echo interval with bfdEchoMode: false",
     PEER_YAML(", bfd: true, bfdEchoMode: false, bfdEchoInterval: 100"),
     "bfdEchoInterval: set without bfdEchoMode: true"},
    {"echo mode two hops away (RFC 5883 3)",
     PEER_YAML(", ebgpMultiHop: 2, bfd: true, bfdEchoMode: true"),
     "bgpPeers[0]: bfdEchoMode: true: the peer is 2 hops away (ebgpMultiHop 2) (allowed: "
     "single-hop peers; RFC 5883 forbids the echo function over several hops)"},
    {"echo mode with an IPv6 peer", PEER6_YAML(", bfd: true, bfdEchoMode: true"),
     "bgpPeers[0]: bfdEchoMode: true: IPv6 peer fd00::1 (allowed: IPv4 peers; echo over IPv6 is "
     "not supported)"},
    /* authentication (RFC 5880 4.2-4.4) */
    {"keyed-sha1 with a 20-byte key, key ID 9",
     AUTHY("keyed-sha1, bfdAuthKeyId: 9, bfdAuthKey: abcdefghijklmnopqrst"), NULL, true, 0, 0, 0,
     false, 0, BFD_AUTH_KEYED_SHA1, 9, "abcdefghijklmnopqrst"},
    {"meticulous-keyed-sha1 with a 20-byte key, key ID 255",
     AUTHY("meticulous-keyed-sha1, bfdAuthKeyId: 255, bfdAuthKey: twentybytekeyforsha1"), NULL,
     true, 0, 0, 0, false, 0, BFD_AUTH_METICULOUS_SHA1, 255, "twentybytekeyforsha1"},
    {"keyed-md5 without bfdAuthKeyId: key ID 1", AUTHY("keyed-md5, bfdAuthKey: edgelb"), NULL, true,
     0, 0, 0, false, 0, BFD_AUTH_KEYED_MD5, 1, "edgelb"},
    {"meticulous-keyed-md5, key ID 0 given",
     AUTHY("meticulous-keyed-md5, bfdAuthKeyId: 0, bfdAuthKey: edgelb"), NULL, true, 0, 0, 0, false,
     0, BFD_AUTH_METICULOUS_MD5, 0, "edgelb"},
    {"simple with a 16-byte password", AUTHY("simple, bfdAuthKey: sixteen-byte-key"), NULL, true, 0,
     0, 0, false, 0, BFD_AUTH_SIMPLE, 1, "sixteen-byte-key"},
    {"bfdAuthType none", AUTHY("none"), NULL, true, 0, 0, 0, false, 0, 0, 0, ""},
    {"17-byte key with keyed-md5: the length is named, not the key",
     AUTHY("keyed-md5, bfdAuthKey: keyseventeenbytes"),
     "bgpPeers[0]: bfdAuthKey: 17 bytes, too long for keyed-md5 (allowed: 1-16 bytes; 1-20 with "
     "keyed-sha1 and meticulous-keyed-sha1)",
     .hide = "keyseventeenbytes"},
    {"17-byte simple password", AUTHY("simple, bfdAuthKey: keyseventeenbytes"),
     "bgpPeers[0]: bfdAuthKey: 17 bytes, too long for simple (allowed: 1-16 bytes",
     .hide = "keyseventeenbytes"},
    {"21-byte key with keyed-sha1", AUTHY("keyed-sha1, bfdAuthKey: twentyonebytekeysha1x"),
     "bgpPeers[0]: bfdAuthKey: 21 bytes (allowed: 1-16 bytes; 1-20 with keyed-sha1 and "
     "meticulous-keyed-sha1)",
     .hide = "twentyonebytekeysha1x"},
    {"a NUL byte inside the key (it would shorten the key)",
     AUTHY("keyed-md5, bfdAuthKey: \"ab\\0cdefgh\""),
     "bgpPeers[0]: bfdAuthKey: a NUL byte inside (allowed: a string without NUL bytes)",
     .hide = "cdefgh"},
    {"empty key", AUTHY("keyed-md5, bfdAuthKey: \"\""),
     "bgpPeers[0]: bfdAuthKey: 0 bytes (allowed: 1-16 bytes; 1-20 with keyed-sha1"},
    {"unknown type keyed-md6", AUTHY("keyed-md6, bfdAuthKey: edgelb"),
     "bgpPeers[0]: bfdAuthType: \"keyed-md6\": not a type " ALLOWED_TYPES, .hide = "edgelb"},
    {"type by number", AUTHY("2, bfdAuthKey: edgelb"),
     "bgpPeers[0]: bfdAuthType: 2: not a type " ALLOWED_TYPES},
    {"type without a key", AUTHY("keyed-sha1"),
     "bgpPeers[0]: bfdAuthKey: missing (required with bfdAuthType keyed-sha1)"},
    {"key without a type", PEER_YAML(", bfd: true, bfdAuthKey: edgelb"),
     "bgpPeers[0]: bfdAuthKey: set without bfdAuthType (allowed: with bfdAuthType simple, "
     "keyed-md5, meticulous-keyed-md5, keyed-sha1 or meticulous-keyed-sha1)",
     .hide = "edgelb"},
    {"key with type none", AUTHY("none, bfdAuthKey: edgelb"),
     "bgpPeers[0]: bfdAuthKey: set without bfdAuthType", .hide = "edgelb"},
    {"key ID without a type", PEER_YAML(", bfd: true, bfdAuthKeyId: 3"),
     "bgpPeers[0]: bfdAuthKeyId: set without bfdAuthType (allowed: with bfdAuthType"},
    {"bfdAuthKeyId 256", AUTHY("keyed-md5, bfdAuthKeyId: 256, bfdAuthKey: edgelb"),
     "bgpPeers[0]: bfdAuthKeyId: 256: not a number in range (allowed: 0-255)", .hide = "edgelb"},
    {"type and key without bfd: true", PEER_YAML(", bfdAuthType: keyed-md5, bfdAuthKey: edgelb"),
     "bgpPeers[0]: bfdAuthType: set without bfd: true (allowed: BFD settings with bfd: true)",
     .hide = "edgelb"},
    {"key without bfd: true", PEER_YAML(", bfdAuthKey: edgelb"),
     "bgpPeers[0]: bfdAuthKey: set without bfd: true", .hide = "edgelb"},
    {"key ID without bfd: true", PEER_YAML(", bfdAuthKeyId: 5"),
     "bgpPeers[0]: bfdAuthKeyId: set without bfd: true"},
    /* accepted keys for a rollover (RFC 5880 6.7: the Auth Key ID selects the key) */
    {"keyed-sha1 sending key 1, accepting 2 and 3 (a key may hold colons)",
     AUTHY("keyed-sha1, bfdAuthKey: old-key, bfdAuthAcceptKeys: [\"2:new-key\", "
	   "\"3:with:colons\"]"),
     NULL, true, 0, 0, 0, false, 0, BFD_AUTH_KEYED_SHA1, 1, "old-key",
     .accept = "2:new-key,3:with:colons"},
    {"keyed-md5, four accepted keys, IDs 0 and 255, a 16-byte one",
     AUTHY("keyed-md5, bfdAuthKeyId: 7, bfdAuthKey: k7, bfdAuthAcceptKeys: [\"0:k0\", "
	   "\"255:sixteen-byte-key\", \"8:k8\", \"9:k9\"]"),
     NULL, true, 0, 0, 0, false, 0, BFD_AUTH_KEYED_MD5, 7, "k7",
     .accept = "0:k0,255:sixteen-byte-key,8:k8,9:k9"},
    {"an empty list accepts no other key",
     AUTHY("simple, bfdAuthKey: pw, bfdAuthAcceptKeys: []"), NULL, true, 0, 0, 0, false, 0,
     BFD_AUTH_SIMPLE, 1, "pw"},
    {"five accepted keys", AUTHY("keyed-sha1, bfdAuthKey: k1, bfdAuthAcceptKeys: [\"2:secret2\", "
			      "\"3:k3\", \"4:k4\", \"5:k5\", \"6:k6\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys: 5 keys (allowed: up to 4)", .hide = "secret2"},
    {"accepted key ID 1, the sending key's (bfdAuthKeyId's default)",
     AUTHY("keyed-sha1, bfdAuthKey: k1, bfdAuthAcceptKeys: [\"1:other-key\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys[0]: key ID 1 given twice (allowed: each key ID once, "
     "bfdAuthKeyId 1 included)",
     .hide = "other-key"},
    {"accepted key ID 2 twice",
     AUTHY("keyed-sha1, bfdAuthKeyId: 7, bfdAuthKey: k7, bfdAuthAcceptKeys: [\"2:first\", "
	   "\"2:second\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys[1]: key ID 2 given twice (allowed: each key ID once, "
     "bfdAuthKeyId 7 included)",
     .hide = "second"},
    {"accepted keys without a type", PEER_YAML(", bfd: true, bfdAuthAcceptKeys: [\"2:lonely\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys: set without bfdAuthType (allowed: with bfdAuthType simple, "
     "keyed-md5, meticulous-keyed-md5, keyed-sha1 or meticulous-keyed-sha1)",
     .hide = "lonely"},
    {"accepted keys with type none", AUTHY("none, bfdAuthAcceptKeys: [\"2:lonely\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys: set without bfdAuthType", .hide = "lonely"},
    {"accepted keys without bfd: true", PEER_YAML(", bfdAuthAcceptKeys: [\"2:lonely\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys: set without bfd: true (allowed: BFD settings with bfd: "
     "true)",
     .hide = "lonely"},
    {"17-byte accepted key with keyed-md5",
     AUTHY("keyed-md5, bfdAuthKey: k1, bfdAuthAcceptKeys: [\"2:keyseventeenbytes\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys[0]: key ID 2: 17 bytes, too long for keyed-md5 (allowed: "
     "1-16 bytes; 1-20 with keyed-sha1 and meticulous-keyed-sha1)",
     .hide = "keyseventeenbytes"},
    {"21-byte accepted key with keyed-sha1",
     AUTHY("keyed-sha1, bfdAuthKey: k1, bfdAuthAcceptKeys: [\"3:k3\", "
	   "\"2:twentyonebytekeysha1x\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys[1]: key ID 2: 21 bytes (allowed: 1-16 bytes; 1-20 with "
     "keyed-sha1 and meticulous-keyed-sha1)",
     .hide = "twentyonebytekeysha1x"},
    {"accepted key ID without a key", AUTHY("keyed-sha1, bfdAuthKey: k1, bfdAuthAcceptKeys: "
					    "[\"2:\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys[0]: key ID 2: 0 bytes (allowed: 1-16 bytes"},
    {"accepted key without an ID",
     AUTHY("keyed-sha1, bfdAuthKey: k1, bfdAuthAcceptKeys: [\"no-id-secret\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys[0]: not ID:KEY (allowed: a key ID 0-255, a colon, then the "
     "key, like \"2:s3cret\")",
     .hide = "no-id-secret"},
    {"accepted key ID 256", AUTHY("keyed-sha1, bfdAuthKey: k1, bfdAuthAcceptKeys: [\"256:sec\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys[0]: not ID:KEY (allowed: a key ID 0-255", .hide = "sec"},
    {"accepted key ID not a number",
     AUTHY("keyed-sha1, bfdAuthKey: k1, bfdAuthAcceptKeys: [\"two:secret\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys[0]: not ID:KEY", .hide = "secret"},
    {"accepted key a number", AUTHY("keyed-sha1, bfdAuthKey: k1, bfdAuthAcceptKeys: [2]"),
     "bgpPeers[0]: bfdAuthAcceptKeys[0]: wrong type (allowed: a string \"ID:KEY\" like "
     "\"2:s3cret\")"},
    {"accepted key a YAML mapping (\"2: k\" unquoted)",
     AUTHY("keyed-sha1, bfdAuthKey: k1, bfdAuthAcceptKeys: [{2: mapped-secret}]"),
     "bgpPeers[0]: bfdAuthAcceptKeys[0]: wrong type", .hide = "mapped-secret"},
    {"accepted keys not a list",
     AUTHY("keyed-sha1, bfdAuthKey: k1, bfdAuthAcceptKeys: \"2:scalar-secret\""),
     "bgpPeers[0]: bfdAuthAcceptKeys: wrong type (allowed: a list of \"ID:KEY\" strings)",
     .hide = "scalar-secret"},
    {"a NUL byte inside an accepted key",
     AUTHY("keyed-sha1, bfdAuthKey: k1, bfdAuthAcceptKeys: [\"2:ab\\0cdefgh\"]"),
     "bgpPeers[0]: bfdAuthAcceptKeys[0]: a NUL byte inside (allowed: a string without NUL bytes)",
     .hide = "cdefgh"},
};

/* "ID:KEY,ID:KEY" of p's accepted keys into buf. */
static const char *accept_str(const struct cfg_peer *p, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < p->n_bfd_auth_accept && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%u:%s", i ? "," : "",
				      p->bfd_auth_accept[i].id, p->bfd_auth_accept[i].key);
	return buf;
}

/* The control requests' form: the message names bfdAuthKey first and never holds the key. */
static void test_config_json_key(void)
{
	static const char *const bad[][2] = {
	    {"keyed-md5", "keyseventeenbytes"},
	    {"simple", "keyseventeenbytes"},
	    {"meticulous-keyed-sha1", "twentyonebytekeysha1x"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *j = json_object_new_object();
		struct cfg_peer p;
		char msg[256] = "";
		int rc;

		json_object_object_add(j, "peerAddress", json_object_new_string("192.0.2.1"));
		json_object_object_add(j, "peerAsn", json_object_new_int(64512));
		json_object_object_add(j, "selfAsn", json_object_new_int(64513));
		json_object_object_add(j, "switch", json_object_new_string("sw1"));
		json_object_object_add(j, "bfd", json_object_new_boolean(1));
		json_object_object_add(j, "bfdAuthType", json_object_new_string(bad[i][0]));
		json_object_object_add(j, "bfdAuthKey", json_object_new_string(bad[i][1]));
		rc = cfg_peer_from_json(j, &p, msg, sizeof(msg));
		T_BEGIN("config JSON: a %zu-byte %s key is refused without showing it",
			strlen(bad[i][1]), bad[i][0]);
		T_EXPECT(rc < 0 && !strncmp(msg, "bfdAuthKey: ", 12), "refused: %s", msg);
		T_EXPECT(!strstr(msg, bad[i][1]), "the key is not in \"%s\"", msg);
		T_END();
		json_object_put(j);
	}
}

static void test_config(void)
{
	for (size_t i = 0; i < sizeof(crows) / sizeof(crows[0]); i++) {
		const struct crow *r = &crows[i];
		struct cfg_errs errs = {0};
		struct cfg *c = cfg_load_buf("t.yaml", r->yaml, strlen(r->yaml), &errs);

		T_BEGIN("config: %s", r->name);
		if (!r->err) {
			T_EXPECT(c && c->n_peers == 1, "parsed (%s)", errs.n ? errs.msgs[0] : "");
			if (c && c->n_peers == 1) {
				const struct cfg_peer *p = &c->peers[0];
				struct json_object *j = cfg_peer_to_json(p);
				struct cfg_peer back;
				char msg[256];

				char acc[256], acc_back[256];

				T_EXPECT(p->bfd_auth_type == r->auth_type &&
					     p->bfd_auth_key_id == r->key_id &&
					     !strcmp(p->bfd_auth_key, r->key ? r->key : ""),
					 "authentication: type %u key ID %u key \"%s\"",
					 p->bfd_auth_type, p->bfd_auth_key_id, p->bfd_auth_key);
				T_EXPECT(!strcmp(accept_str(p, acc, sizeof(acc)),
						 r->accept ? r->accept : ""),
					 "accepted keys \"%s\"", acc);
				T_EXPECT(p->bfd == r->bfd && p->bfd_min_tx_ms == r->tx &&
					     p->bfd_min_rx_ms == r->rx && p->bfd_mult == r->mult &&
					     p->bfd_passive == r->passive &&
					     p->bfd_min_ttl == r->min_ttl,
					 "fields %d %u %u %u %d %u", p->bfd, p->bfd_min_tx_ms,
					 p->bfd_min_rx_ms, p->bfd_mult, p->bfd_passive,
					 p->bfd_min_ttl);
				T_EXPECT(p->bfd_echo == r->echo &&
					     p->bfd_echo_interval_ms == r->echo_ms,
					 "echo %d at %u ms", p->bfd_echo, p->bfd_echo_interval_ms);
				T_EXPECT(cfg_peer_from_json(j, &back, msg, sizeof(msg)) == 0 &&
					     back.bfd == p->bfd &&
					     back.bfd_min_tx_ms == p->bfd_min_tx_ms &&
					     back.bfd_min_rx_ms == p->bfd_min_rx_ms &&
					     back.bfd_mult == p->bfd_mult &&
					     back.bfd_passive == p->bfd_passive &&
					     back.bfd_min_ttl == p->bfd_min_ttl &&
					     back.bfd_echo == p->bfd_echo &&
					     back.bfd_echo_interval_ms == p->bfd_echo_interval_ms &&
					     back.bfd_auth_type == p->bfd_auth_type &&
					     back.bfd_auth_key_id == p->bfd_auth_key_id &&
					     !strcmp(back.bfd_auth_key, p->bfd_auth_key) &&
					     !strcmp(accept_str(&back, acc_back, sizeof(acc_back)),
						     acc),
					 "JSON round trip (the store's form)");
				if (r->auth_type) {
					struct json_object *t = NULL;

					json_object_object_get_ex(j, "bfdAuthType", &t);
					T_EXPECT(t && !strcmp(json_object_get_string(t),
							      cfg_bfd_auth_name(r->auth_type)),
						 "bfdAuthType by name: %s",
						 t ? json_object_get_string(t) : "missing");
				}
				json_object_put(j);
			}
		} else {
			T_EXPECT(!c && errs.n == 1 && strstr(errs.msgs[0], r->err),
				 "one error with \"%s\" (got %d: %s)", r->err, errs.n,
				 errs.n ? errs.msgs[0] : "");
			T_EXPECT(!r->hide || !errs.n || !strstr(errs.msgs[0], r->hide),
				 "the key is not shown: %s", errs.n ? errs.msgs[0] : "");
		}
		T_END();
		cfg_free(c);
		cfg_errs_free(&errs);
	}
	test_config_json_key();
}

int main(void)
{
	struct ev_loop *l = ev_loop_new();

	log_set_level(LOG_WARN);
	ip_parse("192.0.2.1", &peer_ip);
	ip_parse("198.51.100.9", &other_ip);
	ip_parse("192.0.2.2", &local_ip);
	test_encode_decode();
	test_validation();
	test_input(l);
	test_input_multihop(l);
	test_min_ttl_passive(l);
	test_fsm(l);
	test_timers(l);
	test_auth_known(l);
	test_auth_none(l);
	test_auth_check(l);
	test_auth_seq(l);
	test_auth_tx(l);
	test_auth_rekey(l);
	test_auth_accept(l);
	test_auth_rollover(l);
	test_echo_wire(l);
	test_echo_gates(l);
	test_echo_up(l);
	test_echo_drops(l);
	test_echo_detect(l);
	test_echo_remote(l);
	test_echo_params(l);
	test_echo_never(l);
	test_config();
	ev_loop_free(l);
	return t_exit();
}
