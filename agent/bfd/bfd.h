/* BFD (RFC 5880) in asynchronous mode over UDP, single hop (RFC 5881) or multihop (RFC 5883),
 * as a client-facing failure detector for the BGP speaker (RFC 5882): the control packet
 * format (pkt.c), one session per peer with its state machine and timers on the agent's event
 * loop (session.c), and the sockets with the demultiplexing of received packets (sock.c). Active
 * or passive role (6.1). Authentication (6.7): simple password, keyed and meticulous keyed MD5
 * and SHA1 (auth.c). The echo function (6.4) for IPv4 single-hop sessions (echo.c). No demand
 * mode. Owns no config: the speaker passes the peer's timers, role, hop count, key and echo
 * interval. */
#ifndef EDGELB_BFD_H
#define EDGELB_BFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/ip.h"

struct ev_loop;
struct ev_timer;

#define BFD_PORT	  3784	/* RFC 5881 4 */
#define BFD_MH_PORT	  4784	/* RFC 5883 5: multihop sessions */
#define BFD_SRC_PORT_MIN  49152 /* RFC 5881 4: source port range */
#define BFD_SRC_PORT_MAX  65535
#define BFD_TTL		  255 /* RFC 5881 5 (GTSM) */
#define BFD_PKT_LEN	  24  /* RFC 5880 4.1, without authentication */
#define BFD_PKT_MAX	  (BFD_PKT_LEN + 28) /* with the largest section (keyed SHA1) */
#define BFD_VERSION	  1
#define BFD_SLOW_TX_US	  1000000 /* RFC 5880 6.8.3: at least 1 s while not Up */
#define BFD_DEF_MIN_TX_MS 300
#define BFD_DEF_MIN_RX_MS 300
#define BFD_DEF_MULT	  3
#define BFD_ECHO_PORT	  3785 /* RFC 5881 4 */
#define BFD_ECHO_PAYLOAD  16   /* version, length, discriminator, sequence, cookie (echo.c) */
#define BFD_ECHO_LEN	  (20 + 8 + BFD_ECHO_PAYLOAD) /* IPv4, UDP, payload */

/* RFC 5880 4.1 State field. */
enum bfd_state { BFD_ADMIN_DOWN = 0, BFD_DOWN = 1, BFD_INIT = 2, BFD_UP = 3 };

/* RFC 5880 4.1 Diagnostic codes. */
enum bfd_diag {
	BFD_DIAG_NONE = 0,
	BFD_DIAG_DETECT_EXPIRED = 1,
	BFD_DIAG_ECHO_FAILED = 2,
	BFD_DIAG_NEIGHBOR_DOWN = 3,
	BFD_DIAG_FWD_RESET = 4,
	BFD_DIAG_PATH_DOWN = 5,
	BFD_DIAG_CONCAT_DOWN = 6,
	BFD_DIAG_ADMIN_DOWN = 7,
	BFD_DIAG_REV_CONCAT_DOWN = 8,
};

/* Flag bits of the second octet (RFC 5880 4.1), as decoded. */
#define BFD_F_POLL   0x20
#define BFD_F_FINAL  0x10
#define BFD_F_CPI    0x08 /* Control Plane Independent */
#define BFD_F_AUTH   0x04
#define BFD_F_DEMAND 0x02
#define BFD_F_MULTI  0x01

struct bfd_pkt {
	uint8_t version, diag;
	enum bfd_state state;
	uint8_t flags; /* BFD_F_* */
	uint8_t detect_mult, length;
	uint32_t my_disc, your_disc;
	uint32_t desired_min_tx, required_min_rx, required_min_echo_rx; /* microseconds */
};

/* Why a received packet was dropped (RFC 5880 6.8.6 in order, then RFC 5881). Append-only:
 * the names table in pkt.c, the CLI and the metrics use these. */
enum bfd_drop {
	BFD_DROP_VERSION,      /* version is not 1 */
	BFD_DROP_SHORT,	       /* Length below 24 (26 with A), or fewer bytes than 24 */
	BFD_DROP_LENGTH,       /* Length beyond the received payload */
	BFD_DROP_MULT_ZERO,    /* Detect Mult is zero */
	BFD_DROP_MULTIPOINT,   /* M bit set */
	BFD_DROP_MY_DISC,      /* My Discriminator is zero */
	BFD_DROP_NO_SESSION,   /* Your Discriminator matches no session */
	BFD_DROP_YOUR_DISC,    /* Your Discriminator zero while State is Init or Up */
	BFD_DROP_AUTH,	       /* A bit set: no authentication is configured */
	BFD_DROP_TTL,	       /* TTL / hop limit below what the session takes: 255 single hop
				* (RFC 5881 5), the configured minimum multihop (RFC 5883 5) */
	BFD_DROP_UNKNOWN_PEER, /* Your Discriminator zero and no session for the source */
	BFD_DROP_AUTH_MISSING, /* A bit clear: the session authenticates (6.8.6) */
	BFD_DROP_AUTH_FAILED,  /* type, length, key ID, password or digest not the session's */
	BFD_DROP_AUTH_SEQ,     /* sequence number outside the window of 6.7.3 / 6.7.4 */
	BFD_DROP_ECHO,	       /* a looped-back echo packet that is not a recent one of ours */
	BFD_DROP_COUNT
};
const char *bfd_drop_name(enum bfd_drop d);
const char *bfd_state_name(enum bfd_state s);
const char *bfd_diag_name(uint8_t d);

/* pkt.c: decode checks what the packet alone can tell (6.8.6 steps 1-6 and 9); 0, or -1 with
 * *why. encode writes the BFD_PKT_LEN bytes of the mandatory section, Length as given. */
int bfd_pkt_decode(const uint8_t *p, size_t len, struct bfd_pkt *out, enum bfd_drop *why);
void bfd_pkt_encode(struct wbuf *w, const struct bfd_pkt *pkt);

/* RFC 5880 4.1 Auth Type */
enum bfd_auth_type {
	BFD_AUTH_NONE = 0,
	BFD_AUTH_SIMPLE = 1,
	BFD_AUTH_KEYED_MD5 = 2,
	BFD_AUTH_METICULOUS_MD5 = 3,
	BFD_AUTH_KEYED_SHA1 = 4,
	BFD_AUTH_METICULOUS_SHA1 = 5,
};
#define BFD_AUTH_KEY_MAX    20 /* SHA1; simple and MD5 take 16 */
#define BFD_AUTH_ACCEPT_MAX 4  /* keys taken besides the one we send with (a key rollover) */

struct bfd_auth {
	uint8_t type; /* enum bfd_auth_type */
	uint8_t key_id;
	uint8_t key_len;
	uint8_t key[BFD_AUTH_KEY_MAX];
};

/* Per-session parameters; intervals in microseconds (wire units). */
struct bfd_params {
	uint32_t min_tx_us, min_rx_us;
	uint8_t mult;
	/* single hop (RFC 5881, port 3784, only TTL 255 accepted), or multihop (RFC 5883,
	 * port 4784, TTL min_ttl or more; 0 takes any) */
	bool multihop;
	uint8_t min_ttl;
	/* 6.1: the passive role sends nothing until the remote's discriminator is known */
	bool passive;
	struct bfd_auth auth; /* type BFD_AUTH_NONE: none */
	/* 6.7 ("the Auth Key ID selects the key"): we sign with auth; a received packet may name
	 * auth's key ID or one of these (auth's type, other IDs), so either end can move to a
	 * new key first without the session failing */
	struct bfd_auth accept[BFD_AUTH_ACCEPT_MAX];
	uint8_t n_accept;
	/* echo function (IPv4 single hop): our echo transmit interval, 0 = off; echo_reflect:
	 * this node forwards IPv4, so the peer's echoes come back to it and we may advertise
	 * Required Min Echo RX (echo_us) */
	uint32_t echo_us;
	bool echo_reflect;
};

struct bfd_sess;
struct bfd;

/* Called when the session changes state (from old to s->state). */
typedef void (*bfd_notify_fn)(struct bfd_sess *s, enum bfd_state old, void *arg);
/* Transmit hook replacing the socket (tests); NULL sends on the session's socket. */
typedef void (*bfd_xmit_fn)(struct bfd_sess *s, const uint8_t *pkt, size_t len, void *arg);

struct bfd_stats {
	uint64_t tx, rx, rx_drop, up, down, changes;
	uint64_t echo_tx, echo_rx; /* our echo packets sent, and back in time */
};

struct bfd_sess {
	struct bfd *b;
	struct ip peer, local; /* local family 0 = chosen by the kernel */
	char name[IP_STRLEN];
	int fd; /* transmit socket (source port below), -1 in tests */
	uint16_t src_port;
	/* RFC 5880 6.8.1 state variables */
	enum bfd_state state, remote_state;
	uint32_t local_disc, remote_disc;
	uint8_t local_diag;
	uint32_t desired_min_tx;  /* advertised: slow (1 s) unless Up */
	uint32_t required_min_rx; /* advertised */
	uint32_t remote_min_rx;	  /* bfd.RemoteMinRxInterval */
	uint32_t remote_min_tx;	  /* the peer's last Desired Min TX */
	uint8_t remote_mult;
	bool remote_demand;
	struct bfd_params cfg; /* what the peer's configuration asks for */
	/* poll sequence (6.5): while polling, P is set and these stay in force until Final */
	bool polling, send_final;
	uint32_t tx_in_force_us; /* the DesiredMinTx that paces our packets */
	uint32_t rx_in_force_us; /* the RequiredMinRx used for the detection time */
	struct ev_timer *t_tx, *t_detect;
	struct bfd_stats st;
	/* 6.8.1 authentication variables; xmit_seq_ms: when XmitAuthSeq last moved, rcv_auth_ms:
	 * the last authenticated packet (AuthSeqKnown lapses two detection times after it) */
	uint32_t xmit_auth_seq, rcv_auth_seq;
	bool auth_seq_known;
	uint64_t xmit_seq_ms, rcv_auth_ms;
	/* the Auth Key ID of the last packet that passed (rcv_key_seen): which key the peer
	 * signs with, shown during a key rollover */
	uint8_t rcv_key_id;
	bool rcv_key_seen;
	/* echo function (echo.c): the remote's last Required Min Echo RX, whether we send echo
	 * packets now, our address in them (source and destination), the sequence number of the
	 * last one sent and the cookie a returning one must carry (new each time echo starts) */
	uint32_t remote_echo_rx;
	bool echo_on;
	uint32_t echo_iv; /* the interval the echo timers run at */
	struct ip echo_src;
	uint32_t echo_seq, echo_cookie;
	struct ev_timer *t_echo_tx, *t_echo_detect;
	uint64_t changed_ms; /* last state change (monotonic) */
	bfd_notify_fn notify;
	void *arg;
};

/* session.c: the state machine. One entry point per event; only set_state() writes state. */
struct bfd_sess *bfd_sess_new(struct bfd *b, const struct ip *peer, const struct ip *local,
			      const struct bfd_params *pr, bfd_notify_fn fn, void *arg);
/* Removal (6.8.16): AdminDown at once, repeated for the remote's detection time, then the
 * session is freed by the loop; the caller must forget s now. NULL is fine. */
void bfd_sess_free(struct bfd_sess *s);
/* Frees at once (one AdminDown first unless sent): bfd_free and the end of the removal. */
void bfd_sess_destroy(struct bfd_sess *s);
/* Changes the timers; a poll sequence when Up (6.8.3). */
void bfd_sess_set_params(struct bfd_sess *s, const struct bfd_params *pr);
/* A received packet that passed bfd_pkt_decode and was matched to s (6.8.6 from step 12). */
void bfd_sess_rx(struct bfd_sess *s, const struct bfd_pkt *pkt);
/* The detection time passed without a valid packet (6.8.4). */
void bfd_sess_detect_expired(struct bfd_sess *s);
/* Sends one control packet now (the periodic timer calls it too). */
void bfd_sess_tx(struct bfd_sess *s);
/* The negotiated intervals (6.8.2, 6.8.4), microseconds; 0 = no periodic transmission. */
uint32_t bfd_sess_tx_interval(const struct bfd_sess *s);
uint64_t bfd_sess_detect_time(const struct bfd_sess *s);
/* 6.8.7: the interval less 0-25% jitter (10-25% with a multiplier of 1); rnd is uniform. */
uint32_t bfd_jitter(uint32_t interval_us, uint8_t mult, uint32_t rnd);
/* The packet this session sends now (flags P/F per the poll state). */
void bfd_sess_build(const struct bfd_sess *s, struct bfd_pkt *pkt, bool final);
/* 6.8.5: the echo function failed: Down with diagnostic 2. */
void bfd_sess_echo_failed(struct bfd_sess *s);

/* echo.c (6.4, 6.8.9, 6.8.5; RFC 5881 4). Our echo packets carry our own address as source and
 * destination and go to the peer, whose forwarding plane sends them straight back; the
 * peer's come back to it through our kernel's forwarding (echo_reflect). */
struct bfd_echo {
	struct ip src, dst;
	uint8_t ttl;
	uint32_t disc, seq, cookie;
};
/* Required Min Echo RX we advertise: echo_us when on and reflecting, else 0. */
uint32_t bfd_echo_rx_advert(const struct bfd_sess *s);
/* 6.8.9: the interval between our echo packets, never below the remote's Required Min Echo
 * RX; 0 while echo may not run (not Up, remote asks for none, off, multihop or IPv6). */
uint32_t bfd_echo_interval(const struct bfd_sess *s);
/* Starts or stops the echo function after a change of state, remote values or config;
 * true when it changed (the caller re-applies the timers: 6.8.3, RequiredMinRx of 1 s). */
bool bfd_echo_sync(struct bfd_sess *s);
void bfd_echo_timers(struct bfd_sess *s); /* creates s->t_echo_tx and t_echo_detect */
/* The BFD_ECHO_LEN-byte IPv4 packet of seq; parse checks IPv4, UDP to BFD_ECHO_PORT and our
 * payload format: 0, or -1 when it is none of ours. */
size_t bfd_echo_build(uint8_t *buf, const struct bfd_sess *s, uint32_t seq);
int bfd_echo_parse(const uint8_t *p, size_t len, struct bfd_echo *e);
/* A parsed echo matched to s by its discriminator: 0 taken, -1 dropped. */
int bfd_echo_rx(struct bfd_sess *s, const struct bfd_echo *e);
/* Whether this node forwards IPv4 (net.ipv4.conf.all.forwarding). */
bool bfd_echo_can_reflect(void);

/* auth.c (6.7): the section's length for a; sign appends it to the len bytes at p (the
 * mandatory section, Length and A already set) with seq, returning the new length; check
 * takes a received packet (len = its Length) for s, verified with the key its Key ID names
 * (s->cfg.auth or an accepted one): 0, or -1 with *why; a packet that passes moves the
 * receive sequence. */
size_t bfd_auth_len(const struct bfd_auth *a);
size_t bfd_auth_sign(uint8_t *p, size_t len, const struct bfd_auth *a, uint32_t seq);
int bfd_auth_check(struct bfd_sess *s, const uint8_t *p, size_t len, const struct bfd_pkt *k,
		   enum bfd_drop *why);
const char *bfd_auth_name(uint8_t type);
/* Whether two parameter sets have the same type, keys and key IDs (auth and accept). */
bool bfd_auth_same(const struct bfd_params *x, const struct bfd_params *y);
/* ", accepting key IDs 2, 3" for the accepted keys of pr ("" for none), into buf: for logs,
 * which name key IDs and never keys. */
const char *bfd_auth_accept_str(const struct bfd_params *pr, char *buf, size_t len);

/* sock.c: the sessions of the agent and the receiving sockets (port, and BFD_MH_PORT for
 * multihop). port 0 opens no socket (tests feed bfd_input and capture transmissions with
 * xmit). */
struct bfd *bfd_new(struct ev_loop *l, uint16_t port, bfd_xmit_fn xmit, void *xmit_arg);
void bfd_free(struct bfd *b);
/* A received datagram: validation, GTSM (ttl), demultiplexing (6.8.6 steps 7-8); _mh for
 * the multihop port, whose packets only multihop sessions take. */
void bfd_input(struct bfd *b, const uint8_t *p, size_t len, const struct ip *src, int ttl);
void bfd_input_mh(struct bfd *b, const uint8_t *p, size_t len, const struct ip *src, int ttl);
/* A looped-back echo packet (IPv4 header on). */
void bfd_echo_input(struct bfd *b, const uint8_t *p, size_t len);
uint64_t bfd_drops(const struct bfd *b, enum bfd_drop d);
struct ev_loop *bfd_loop(const struct bfd *b);
/* Internal to the module: session registry and transmit. */
uint32_t bfd_new_disc(struct bfd *b);
uint64_t bfd_us_to_ms(uint64_t us); /* rounded up, at least 1: timer delays */
uint32_t bfd_rand(struct bfd *b);
int bfd_sess_register(struct bfd *b, struct bfd_sess *s);
void bfd_sess_unregister(struct bfd *b, struct bfd_sess *s);
void bfd_xmit(struct bfd_sess *s, const uint8_t *pkt, size_t len);
/* Opens the echo sockets once (0, or -1 logged) and sends an echo packet to the peer. */
int bfd_echo_open(struct bfd *b);
void bfd_echo_xmit(struct bfd_sess *s, const uint8_t *pkt, size_t len);

#endif
