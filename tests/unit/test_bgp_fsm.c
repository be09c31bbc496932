/* BGP FSM (RFC 4271 8): transitions per event, driven through real sockets (a socketpair
 * stands for the TCP connection, the test plays the remote speaker byte by byte) and the real
 * event loop. Checks states, the messages the speaker sends (NOTIFICATION code/subcode),
 * the negotiated hold/keepalive, collisions (RFC 4271 6.8) and the active connect path. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bgp/peer.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "t.h"

#define M                                                                                          \
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  \
		0xff

static struct ev_loop *loop;
static int n_up, n_down, n_refresh, refresh_afi;

static void on_up(struct bgp_peer *p)
{
	n_up++;
}
static void on_down(struct bgp_peer *p)
{
	n_down++;
}
static void on_refresh(struct bgp_peer *p, int afi)
{
	n_refresh++;
	refresh_afi = afi;
}
static const struct bgp_peer_ops ops = {on_up, on_down, on_refresh};

static struct cfg_peer base_cfg(void)
{
	struct cfg_peer c = {0};

	ip_parse("192.0.2.1", &c.addr);
	c.peer_asn = 64512;
	c.self_asn = 64513;
	c.has_hold_time = true;
	c.hold_time = 9;
	c.passive = true;
	strcpy(c.sw, "vSwitch1");
	return c;
}

static void spin(int ms)
{
	uint64_t end = ev_now_ms() + (uint64_t)ms;

	while (ev_now_ms() < end)
		ev_loop_once(loop, 10);
}

/* Reads one whole message from the remote end (with a deadline); returns its type or -1. */
static int read_msg(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	size_t got = 0, want = BGP_HDR_LEN;
	uint64_t end = ev_now_ms() + 2000;

	while (got < want && ev_now_ms() < end) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;

		ev_loop_once(loop, 5);
		if (poll(&pfd, 1, 5) <= 0)
			continue;
		n = recv(fd, buf + got, want - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
		if (got == BGP_HDR_LEN) {
			want = (size_t)buf[16] << 8 | buf[17];
			if (want > cap || want < BGP_HDR_LEN)
				return -1;
		}
	}
	if (got < want)
		return -1;
	*len = got;
	return buf[18];
}

static int expect_notification(int fd, uint8_t *code, uint8_t *sub)
{
	uint8_t b[BGP_MAX_LEN];
	size_t n;
	int t;

	/* skip KEEPALIVEs and OPENs until the NOTIFICATION */
	while ((t = read_msg(fd, b, sizeof(b), &n)) == BGP_KEEPALIVE || t == BGP_OPEN)
		;
	if (t != BGP_NOTIFICATION)
		return -1;
	*code = b[19];
	*sub = b[20];
	return 0;
}

static void send_open(int fd, uint32_t asn, uint16_t hold, uint32_t id)
{
	uint8_t b[256];
	struct wbuf w = wbuf_make(b, sizeof(b));
	struct bgp_caps caps = {.mp_seen = true, .mp_ipv4 = true, .as4 = true, .as4_asn = asn,
				.route_refresh = true};

	bgp_open_encode(&w, asn, hold, id, &caps);
	if (write(fd, b, w.len) != (ssize_t)w.len)
		abort();
}

static void send_bytes(int fd, const uint8_t *b, size_t n)
{
	if (write(fd, b, n) != (ssize_t)n)
		abort();
	spin(20);
}

static const uint8_t keepalive[] = {M, 0, 19, 4};

/* A passive peer with an accepted socketpair, driven to OpenSent; *remote is the far end. */
static struct bgp_peer *to_opensent(struct cfg_peer *c, int *remote)
{
	struct bgp_peer *p = bgp_peer_new(loop, c, 0x0a000002, &ops, NULL);
	int sv[2];
	uint8_t b[BGP_MAX_LEN];
	size_t n;

	bgp_fsm(p, BGP_EV_START);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	bgp_peer_accept(p, sv[0]);
	*remote = sv[1];
	if (read_msg(sv[1], b, sizeof(b), &n) != BGP_OPEN)
		T_EXPECT(0, "speaker sent no OPEN");
	return p;
}

static struct bgp_peer *to_established(struct cfg_peer *c, int *remote, uint16_t hold)
{
	struct bgp_peer *p = to_opensent(c, remote);
	uint8_t b[BGP_MAX_LEN];
	size_t n;

	send_open(*remote, c->peer_asn, hold, 0x0a000001);
	spin(20);
	read_msg(*remote, b, sizeof(b), &n); /* its KEEPALIVE */
	send_bytes(*remote, keepalive, sizeof(keepalive));
	return p;
}

static void done(struct bgp_peer *p, int remote)
{
	bgp_peer_free(p);
	close(remote);
}

static void test_happy_path(void)
{
	struct cfg_peer c = base_cfg();
	struct bgp_peer *p;
	int r;
	uint8_t b[BGP_MAX_LEN];
	size_t n;

	T_BEGIN("bgp fsm: Idle -> Active on start (passive)");
	p = bgp_peer_new(loop, &c, 0x0a000002, &ops, NULL);
	T_EXPECT(p->state == BGP_IDLE, "created Idle");
	bgp_fsm(p, BGP_EV_START);
	T_EXPECT(p->state == BGP_ACTIVE, "state %s", bgp_state_name(p->state));
	bgp_fsm(p, BGP_EV_CONNECT_RETRY);
	T_EXPECT(p->state == BGP_ACTIVE, "passive stays Active on connect-retry");
	bgp_peer_free(p);
	T_END();

	T_BEGIN("bgp fsm: Active -> OpenSent on an accepted connection, OPEN sent");
	p = to_opensent(&c, &r);
	T_EXPECT(p->state == BGP_OPENSENT, "state %s", bgp_state_name(p->state));
	T_EXPECT(p->st.opens_tx == 1, "one OPEN sent");
	T_END();

	T_BEGIN("bgp fsm: OpenSent -> OpenConfirm on OPEN, KEEPALIVE sent, hold negotiated");
	send_open(r, 64512, 30, 0x0a000001);
	T_EXPECT(read_msg(r, b, sizeof(b), &n) == BGP_KEEPALIVE, "KEEPALIVE sent");
	T_EXPECT(p->state == BGP_OPENCONFIRM, "state %s", bgp_state_name(p->state));
	T_EXPECT(p->hold == 9 && p->keepalive == 3, "hold %u keepalive %u (smaller, /3)", p->hold,
		 p->keepalive);
	T_EXPECT(p->neg.mp_ipv4 && !p->neg.mp_ipv6 && p->neg.as4, "negotiated families");
	T_END();

	T_BEGIN("bgp fsm: OpenConfirm -> Established on KEEPALIVE");
	n_up = 0;
	send_bytes(r, keepalive, sizeof(keepalive));
	T_EXPECT(p->state == BGP_ESTABLISHED, "state %s", bgp_state_name(p->state));
	T_EXPECT(n_up == 1, "speaker told once");
	T_END();

	T_BEGIN("bgp fsm: Established: UPDATE counted and dropped");
	{
		static const uint8_t upd[] = {M,    0, 50,   2,	 0, 0, 0, 25, 0x40, 1,	1,   0,
					      0x40, 2, 6,    2,	 1, 0, 0, 0xfc, 0,    0x40, 3, 4,
					      10,   0, 0,    1,	 24, 10, 1, 2};
		uint8_t fixed[sizeof(upd)];
		memcpy(fixed, upd, sizeof(upd));
		fixed[17] = sizeof(upd);
		fixed[22] = (uint8_t)(sizeof(upd) - 19 - 4 - 4);
		send_bytes(r, fixed, sizeof(fixed));
		T_EXPECT(p->state == BGP_ESTABLISHED && p->st.upd_rx == 1 && p->st.prefixes_rx == 1,
			 "state %s, %llu updates, %llu prefixes", bgp_state_name(p->state),
			 (unsigned long long)p->st.upd_rx, (unsigned long long)p->st.prefixes_rx);
	}
	T_END();

	T_BEGIN("bgp fsm: Established: ROUTE-REFRESH handed to the speaker");
	{
		static const uint8_t rr[] = {M, 0, 23, 5, 0, 2, 0, 1};
		n_refresh = 0;
		send_bytes(r, rr, sizeof(rr));
		T_EXPECT(n_refresh == 1 && refresh_afi == 2, "refresh AFI %d", refresh_afi);
	}
	T_END();

	T_BEGIN("bgp fsm: Established -> Idle on NOTIFICATION, automatic restart armed");
	{
		static const uint8_t no[] = {M, 0, 21, 3, 6, 2};
		n_down = 0;
		send_bytes(r, no, sizeof(no));
		T_EXPECT(p->state == BGP_IDLE && n_down == 1, "state %s", bgp_state_name(p->state));
		T_EXPECT(p->st.notif_rx == 1 && strstr(p->last_error, "administrative shutdown"),
			 "last error \"%s\"", p->last_error);
		T_EXPECT(ev_timer_armed(p->t_retry), "restart timer armed");
		spin(1100);
		T_EXPECT(p->state == BGP_ACTIVE, "restarted: %s", bgp_state_name(p->state));
	}
	done(p, r);
	T_END();
}

struct err_case {
	const char *name;
	enum bgp_state at; /* OpenSent or Established */
	uint8_t msg[48];
	size_t n;
	uint8_t code, sub;
};

static const struct err_case err_cases[] = {
	{"KEEPALIVE in OpenSent", BGP_OPENSENT, {M, 0, 19, 4}, 19, BGP_ERR_FSM, 1},
	{"UPDATE in OpenSent", BGP_OPENSENT, {M, 0, 23, 2, 0, 0, 0, 0}, 23, BGP_ERR_FSM, 1},
	{"bad marker in Established", BGP_ESTABLISHED,
	 {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 19, 4}, 19, BGP_ERR_HEADER,
	 BGP_HDR_NOT_SYNC},
	{"bad length in Established", BGP_ESTABLISHED, {M, 0, 20, 4, 0}, 20, BGP_ERR_HEADER,
	 BGP_HDR_BAD_LEN},
	{"bad type in Established", BGP_ESTABLISHED, {M, 0, 19, 9}, 19, BGP_ERR_HEADER,
	 BGP_HDR_BAD_TYPE},
	{"OPEN in Established", BGP_ESTABLISHED,
	 {M, 0, 29, 1, 4, 0xfc, 0, 0, 9, 10, 0, 0, 1, 0}, 29, BGP_ERR_FSM, 3},
	{"malformed UPDATE in Established", BGP_ESTABLISHED, {M, 0, 24, 2, 0, 0, 0, 0, 33}, 24,
	 BGP_ERR_UPDATE, BGP_UPD_BAD_NETWORK},
	{"version 3 OPEN", BGP_OPENSENT, {M, 0, 29, 1, 3, 0xfc, 0, 0, 9, 10, 0, 0, 1, 0}, 29,
	 BGP_ERR_OPEN, BGP_OPEN_BAD_VERSION},
	{"OPEN with the wrong AS", BGP_OPENSENT, {M, 0, 29, 1, 4, 0xfc, 9, 0, 9, 10, 0, 0, 1, 0},
	 29, BGP_ERR_OPEN, BGP_OPEN_BAD_AS},
	{"OPEN with hold time 2", BGP_OPENSENT, {M, 0, 29, 1, 4, 0xfc, 0, 0, 2, 10, 0, 0, 1, 0},
	 29, BGP_ERR_OPEN, BGP_OPEN_BAD_HOLD},
	{"OPEN with identifier 0", BGP_OPENSENT, {M, 0, 29, 1, 4, 0xfc, 0, 0, 9, 0, 0, 0, 0, 0},
	 29, BGP_ERR_OPEN, BGP_OPEN_BAD_ID},
	{"OPEN with an unknown optional parameter", BGP_OPENSENT,
	 {M, 0, 32, 1, 4, 0xfc, 0, 0, 9, 10, 0, 0, 1, 3, 1, 1, 0}, 32, BGP_ERR_OPEN,
	 BGP_OPEN_BAD_OPT},
	{"OPEN with no family in common", BGP_OPENSENT,
	 {M, 0, 37, 1, 4, 0xfc, 0, 0, 9, 10, 0, 0, 1, 8, 2, 6, 1, 4, 0, 25, 0, 70}, 37,
	 BGP_ERR_OPEN, BGP_OPEN_BAD_CAP},
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *e = &err_cases[i];
		struct cfg_peer c = base_cfg();
		struct bgp_peer *p;
		uint8_t code = 0, sub = 0;
		int r;

		T_BEGIN("bgp fsm: %s -> NOTIFICATION %u/%u, Idle", e->name, e->code, e->sub);
		p = e->at == BGP_OPENSENT ? to_opensent(&c, &r) : to_established(&c, &r, 9);
		T_EXPECT(p->state == e->at, "reached %s", bgp_state_name(p->state));
		send_bytes(r, e->msg, e->n);
		T_EXPECT(expect_notification(r, &code, &sub) == 0, "a NOTIFICATION was sent");
		T_EXPECT(code == e->code && sub == e->sub, "NOTIFICATION %u/%u (%s / %s)", code, sub,
			 bgp_err_code_name(code), bgp_err_subcode_name(code, sub));
		T_EXPECT(p->state == BGP_IDLE, "state %s", bgp_state_name(p->state));
		done(p, r);
		T_END();
	}
}

static void test_timers(void)
{
	struct cfg_peer c = base_cfg();
	struct bgp_peer *p;
	uint8_t code, sub;
	int r;

	T_BEGIN("bgp fsm: hold time 0 on either side disables keepalives and the hold timer");
	p = to_established(&c, &r, 0);
	T_EXPECT(p->state == BGP_ESTABLISHED && p->hold == 0 && p->keepalive == 0,
		 "hold %u keepalive %u", p->hold, p->keepalive);
	T_EXPECT(!ev_timer_armed(p->t_hold) && !ev_timer_armed(p->t_ka), "no timers");
	done(p, r);
	T_END();

	T_BEGIN("bgp fsm: keepaliveTime is used when set and within hold/3");
	c.keepalive_time = 1;
	p = to_established(&c, &r, 6);
	T_EXPECT(p->hold == 6 && p->keepalive == 1, "hold %u keepalive %u", p->hold, p->keepalive);
	done(p, r);
	c.keepalive_time = 0;
	T_END();

	T_BEGIN("bgp fsm: hold timer expiry -> NOTIFICATION 4/0, Idle");
	p = to_established(&c, &r, 9);
	n_down = 0;
	bgp_fsm(p, BGP_EV_HOLD_EXPIRED);
	T_EXPECT(expect_notification(r, &code, &sub) == 0 && code == BGP_ERR_HOLD && sub == 0,
		 "NOTIFICATION 4/0");
	T_EXPECT(p->state == BGP_IDLE && n_down == 1, "state %s", bgp_state_name(p->state));
	done(p, r);
	T_END();

	T_BEGIN("bgp fsm: hold timer expires for real with a silent peer (hold 3 s)");
	c.hold_time = 3;
	p = to_established(&c, &r, 3);
	T_EXPECT(p->state == BGP_ESTABLISHED, "Established");
	spin(3300);
	T_EXPECT(p->state == BGP_IDLE || p->state == BGP_ACTIVE, "state %s",
		 bgp_state_name(p->state));
	T_EXPECT(strstr(p->last_error, "hold timer expired") || strstr(p->last_error, "4/0"),
		 "last error \"%s\"", p->last_error);
	done(p, r);
	c.hold_time = 9;
	T_END();

	T_BEGIN("bgp fsm: keepalive timer sends KEEPALIVEs");
	c.keepalive_time = 1;
	p = to_established(&c, &r, 9);
	{
		uint64_t before = p->st.ka_tx;
		spin(1200);
		T_EXPECT(p->st.ka_tx > before, "keepalives %llu -> %llu", (unsigned long long)before,
			 (unsigned long long)p->st.ka_tx);
	}
	done(p, r);
	c.keepalive_time = 0;
	T_END();

	T_BEGIN("bgp fsm: manual stop in Established -> Cease with the given subcode, no restart");
	p = to_established(&c, &r, 9);
	bgp_err_set(&p->err, BGP_ERR_CEASE, BGP_CEASE_DECONFIGURED, NULL, 0);
	bgp_fsm(p, BGP_EV_STOP);
	T_EXPECT(expect_notification(r, &code, &sub) == 0 && code == 6 && sub == 3,
		 "Cease / peer de-configured");
	T_EXPECT(p->state == BGP_IDLE && !ev_timer_armed(p->t_retry), "Idle for good");
	done(p, r);
	T_END();

	T_BEGIN("bgp fsm: TCP close in Established -> Idle");
	p = to_established(&c, &r, 9);
	n_down = 0;
	close(r);
	spin(30);
	T_EXPECT(p->state == BGP_IDLE && n_down == 1, "state %s", bgp_state_name(p->state));
	T_EXPECT(strstr(p->last_error, "closed"), "last error \"%s\"", p->last_error);
	bgp_peer_free(p);
	T_END();

	T_BEGIN("bgp fsm: TCP close in OpenSent -> Active");
	p = to_opensent(&c, &r);
	close(r);
	spin(30);
	T_EXPECT(p->state == BGP_ACTIVE, "state %s", bgp_state_name(p->state));
	bgp_peer_free(p);
	T_END();
}

static void test_collisions(void)
{
	struct cfg_peer c = base_cfg();
	struct bgp_peer *p;
	uint8_t code, sub;
	int r, sv[2];

	T_BEGIN("bgp fsm: a second connection while Established is refused with Cease 7");
	p = to_established(&c, &r, 9);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	bgp_peer_accept(p, sv[0]);
	T_EXPECT(expect_notification(sv[1], &code, &sub) == 0 && code == 6 && sub == 7,
		 "Cease / connection collision resolution");
	T_EXPECT(p->state == BGP_ESTABLISHED, "session kept");
	close(sv[1]);
	done(p, r);
	T_END();

	T_BEGIN("bgp fsm: collision in OpenConfirm: the peer's newer connection wins (6.8)");
	p = to_opensent(&c, &r);
	send_open(r, 64512, 9, 0x0a000001);
	spin(20);
	T_EXPECT(p->state == BGP_OPENCONFIRM, "OpenConfirm on the first connection");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	bgp_peer_accept(p, sv[0]);
	T_EXPECT(p->coll != NULL, "second connection held");
	send_open(sv[1], 64512, 9, 0x0a000001);
	spin(20);
	T_EXPECT(expect_notification(r, &code, &sub) == 0 && code == 6 && sub == 7,
		 "old connection closed with Cease 7");
	T_EXPECT(p->coll == NULL && p->conn && p->conn->fd == sv[0], "new connection is the session");
	T_EXPECT(p->state == BGP_OPENCONFIRM, "state %s", bgp_state_name(p->state));
	send_bytes(sv[1], keepalive, sizeof(keepalive));
	T_EXPECT(p->state == BGP_ESTABLISHED, "Established on the new connection");
	close(r);
	done(p, sv[1]);
	T_END();

	T_BEGIN("bgp fsm: Idle refuses incoming connections");
	p = bgp_peer_new(loop, &c, 0x0a000002, &ops, NULL);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	bgp_peer_accept(p, sv[0]);
	{
		char x;
		spin(10);
		T_EXPECT(recv(sv[1], &x, 1, MSG_DONTWAIT) == 0, "closed");
	}
	T_EXPECT(p->state == BGP_IDLE, "still Idle");
	close(sv[1]);
	bgp_peer_free(p);
	T_END();
}

static void test_active(void)
{
	struct cfg_peer c = base_cfg();
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fd;
	struct bgp_peer *p;
	uint8_t b[BGP_MAX_LEN];
	size_t n;

	bind(lfd, (struct sockaddr *)&sin, sizeof(sin));
	listen(lfd, 4);
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	c.passive = false;
	c.peer_asn = c.self_asn; /* iBGP: no TTL 1 on loopback needed either way */
	ip_parse("127.0.0.1", &c.addr);
	c.peer_port = ntohs(sin.sin_port);

	T_BEGIN("bgp fsm: Idle -> Connect -> OpenSent on an active connect");
	p = bgp_peer_new(loop, &c, 0x0a000002, &ops, NULL);
	bgp_fsm(p, BGP_EV_START);
	T_EXPECT(p->state == BGP_CONNECT || p->state == BGP_OPENSENT, "state %s",
		 bgp_state_name(p->state));
	fd = accept(lfd, NULL, NULL);
	T_EXPECT(read_msg(fd, b, sizeof(b), &n) == BGP_OPEN, "OPEN received by the listener");
	T_EXPECT(p->state == BGP_OPENSENT, "state %s", bgp_state_name(p->state));
	T_EXPECT(p->conn && p->conn->outgoing, "outgoing connection");
	close(fd);
	bgp_peer_free(p);
	T_END();

	T_BEGIN("bgp fsm: Connect -> Active when the connection is refused");
	close(lfd);
	p = bgp_peer_new(loop, &c, 0x0a000002, &ops, NULL);
	bgp_fsm(p, BGP_EV_START);
	spin(50);
	T_EXPECT(p->state == BGP_ACTIVE, "state %s", bgp_state_name(p->state));
	T_EXPECT(strstr(p->last_error, "refused"), "last error \"%s\"", p->last_error);
	bgp_peer_free(p);
	T_END();
}

static void test_dynamic_asn(void)
{
	struct cfg_peer c = base_cfg();
	struct bgp_peer *p;
	uint8_t b[BGP_MAX_LEN], code = 0, sub = 0;
	size_t n;
	int r;

	c.asn_mode = CFG_ASN_EXTERNAL;
	c.peer_asn = 0;
	T_BEGIN("bgp fsm: dynamicAsn external takes the AS of the OPEN (any but ours)");
	p = to_opensent(&c, &r);
	send_open(r, 64600, 9, 0x0a000001);
	T_EXPECT(read_msg(r, b, sizeof(b), &n) == BGP_KEEPALIVE, "KEEPALIVE sent");
	T_EXPECT(p->state == BGP_OPENCONFIRM, "state %s", bgp_state_name(p->state));
	T_EXPECT(p->peer_asn == 64600, "learned AS %u", p->peer_asn);
	done(p, r);
	T_END();

	T_BEGIN("bgp fsm: dynamicAsn external refuses an OPEN with our own AS: Bad Peer AS");
	p = to_opensent(&c, &r);
	send_open(r, c.self_asn, 9, 0x0a000001);
	T_EXPECT(expect_notification(r, &code, &sub) == 0, "a NOTIFICATION was sent");
	T_EXPECT(code == BGP_ERR_OPEN && sub == BGP_OPEN_BAD_AS, "NOTIFICATION %u/%u", code, sub);
	T_EXPECT(p->state == BGP_IDLE, "state %s", bgp_state_name(p->state));
	done(p, r);
	T_END();
}

int main(void)
{
	log_set_level(LOG_WARN);
	loop = ev_loop_new();
	test_happy_path();
	test_errors();
	test_timers();
	test_collisions();
	test_active();
	test_dynamic_asn();
	ev_loop_free(loop);
	return t_exit();
}
