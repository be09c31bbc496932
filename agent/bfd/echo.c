/* The BFD echo function (RFC 5880 6.4, 6.8.9, 6.8.5; RFC 5881 4) for IPv4 single-hop sessions.
 * Our echo packets are IPv4/UDP to port 3785 with our own address as both source and
 * destination, sent to the peer (sock.c routes them by the peer's address); its forwarding
 * plane sends them straight back, TTL 254, without its BFD process. They run while the
 * session is Up and the peer advertises a nonzero Required Min Echo RX, at our interval or
 * the peer's if larger, jittered to 75-100% (6.8.9); Detect Mult intervals without one coming
 * back take the session Down with diagnostic 2 (6.8.5). The payload (section 5: a local
 * matter) carries the discriminator, a sequence number and a cookie drawn each time echo
 * starts, so a stale or forged packet is dropped. The peer's echoes come back to it through
 * this node's IPv4 forwarding: we advertise Required Min Echo RX only when it is on. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bfd/bfd.h"
#include "lib/csum.h"
#include "lib/ev.h"
#include "lib/log.h"

#define ECHO_VERSION 1
#define ECHO_TTL     (BFD_TTL - 1) /* looped back by exactly one router */
#define ECHO_WINDOW  64		   /* how many of our latest sequence numbers are taken */

static bool echo_capable(const struct bfd_sess *s)
{
	return s->cfg.echo_us && !s->cfg.multihop && s->peer.family == AF_INET;
}

uint32_t bfd_echo_rx_advert(const struct bfd_sess *s)
{
	return echo_capable(s) && s->cfg.echo_reflect ? s->cfg.echo_us : 0;
}

uint32_t bfd_echo_interval(const struct bfd_sess *s)
{
	if (!echo_capable(s) || s->state != BFD_UP || !s->remote_echo_rx)
		return 0;
	return s->cfg.echo_us > s->remote_echo_rx ? s->cfg.echo_us : s->remote_echo_rx;
}

static uint64_t echo_detect_ms(const struct bfd_sess *s)
{
	return bfd_us_to_ms((uint64_t)s->cfg.mult * bfd_echo_interval(s));
}

size_t bfd_echo_build(uint8_t *buf, const struct bfd_sess *s, uint32_t seq)
{
	struct wbuf w = wbuf_make(buf, BFD_ECHO_LEN);
	uint32_t sum;

	/* IPv4 (RFC 791): DSCP CS6 like the control packets' peers use, TTL 255 */
	wbuf_u8(&w, 0x45);
	wbuf_u8(&w, 0xc0);
	wbuf_u16(&w, BFD_ECHO_LEN);
	wbuf_u32(&w, 0); /* identification, flags, fragment offset */
	wbuf_u8(&w, BFD_TTL);
	wbuf_u8(&w, IPPROTO_UDP);
	wbuf_u16(&w, 0); /* header checksum, below */
	wbuf_bytes(&w, s->echo_src.a, 4);
	wbuf_bytes(&w, s->echo_src.a, 4);
	/* UDP: the session's source port (RFC 5881 4 leaves it to us), checksum below */
	wbuf_u16(&w, s->src_port);
	wbuf_u16(&w, BFD_ECHO_PORT);
	wbuf_u16(&w, 8 + BFD_ECHO_PAYLOAD);
	wbuf_u16(&w, 0);
	wbuf_u8(&w, ECHO_VERSION);
	wbuf_u8(&w, BFD_ECHO_PAYLOAD);
	wbuf_u16(&w, 0);
	wbuf_u32(&w, s->local_disc);
	wbuf_u32(&w, seq);
	wbuf_u32(&w, s->echo_cookie);
	if (w.err)
		return 0;
	sum = csum_fold(csum_add(buf, 20, 0));
	buf[10] = (uint8_t)(sum >> 8);
	buf[11] = (uint8_t)sum;
	/* pseudo-header (RFC 768): addresses, protocol, UDP length; then the datagram */
	sum = csum_add(buf + 12, 8, IPPROTO_UDP + 8 + BFD_ECHO_PAYLOAD);
	sum = csum_fold(csum_add(buf + 20, 8 + BFD_ECHO_PAYLOAD, sum));
	if (!sum)
		sum = 0xffff;
	buf[26] = (uint8_t)(sum >> 8);
	buf[27] = (uint8_t)sum;
	return BFD_ECHO_LEN;
}

int bfd_echo_parse(const uint8_t *p, size_t len, struct bfd_echo *e)
{
	struct rbuf r = rbuf_make(p, len);
	size_t ihl, total;

	memset(e, 0, sizeof(*e));
	if (len < 20 || p[0] >> 4 != 4 || (ihl = (size_t)(p[0] & 15) * 4) < 20)
		return -1;
	total = (size_t)p[2] << 8 | p[3];
	if (total > len || total < ihl + 8 + BFD_ECHO_PAYLOAD || p[9] != IPPROTO_UDP ||
	    ((p[6] & 0x3f) | p[7])) /* a fragment (MF or an offset) */
		return -1;
	e->ttl = p[8];
	e->src.family = e->dst.family = AF_INET;
	memcpy(e->src.a, p + 12, 4);
	memcpy(e->dst.a, p + 16, 4);
	rbuf_skip(&r, ihl + 2);
	if (rbuf_u16(&r) != BFD_ECHO_PORT || rbuf_u16(&r) < 8 + BFD_ECHO_PAYLOAD)
		return -1;
	rbuf_skip(&r, 2);
	if (rbuf_u8(&r) != ECHO_VERSION || rbuf_u8(&r) != BFD_ECHO_PAYLOAD)
		return -1;
	rbuf_skip(&r, 2);
	e->disc = rbuf_u32(&r);
	e->seq = rbuf_u32(&r);
	e->cookie = rbuf_u32(&r);
	return r.err ? -1 : 0;
}

int bfd_echo_rx(struct bfd_sess *s, const struct bfd_echo *e)
{
	if (!s->echo_on || e->cookie != s->echo_cookie || e->ttl != ECHO_TTL ||
	    !ip_eq(&e->src, &s->echo_src) || !ip_eq(&e->dst, &s->echo_src) ||
	    s->echo_seq - e->seq >= ECHO_WINDOW)
		return -1;
	s->st.echo_rx++;
	ev_timer_arm(s->t_echo_detect, echo_detect_ms(s)); /* 6.8.5: one came back in time */
	return 0;
}

static void echo_send(struct bfd_sess *s)
{
	uint8_t buf[BFD_ECHO_LEN];
	size_t n = bfd_echo_build(buf, s, ++s->echo_seq);

	if (!n)
		return;
	bfd_echo_xmit(s, buf, n);
	s->st.echo_tx++;
}

/* 6.8.9: the next packet at 75-100% of iv from now, never more often */
static void arm_tx(struct bfd_sess *s, uint32_t iv)
{
	ev_timer_arm(s->t_echo_tx, bfd_us_to_ms(bfd_jitter(iv, 2, bfd_rand(s->b))));
}

/* Both echo timers at the interval iv from now: the next packet, and the detection time. */
static void arm_timers(struct bfd_sess *s, uint32_t iv)
{
	s->echo_iv = iv;
	arm_tx(s, iv);
	ev_timer_arm(s->t_echo_detect, echo_detect_ms(s));
}

static void echo_tx_cb(struct ev_timer *t, void *arg)
{
	struct bfd_sess *s = arg;
	uint32_t iv = bfd_echo_interval(s);

	(void)t;
	if (!s->echo_on || !iv)
		return;
	echo_send(s);
	arm_tx(s, iv);
}

static void echo_detect_cb(struct ev_timer *t, void *arg)
{
	struct bfd_sess *s = arg;

	(void)t;
	if (s->echo_on)
		bfd_sess_echo_failed(s);
}

/* The address the kernel uses toward the peer (sourceAddress when configured): a connected
 * UDP socket's own address. */
static int echo_source(struct bfd_sess *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, rc = -1;

	if (s->local.family == AF_INET) {
		s->echo_src = s->local;
		return 0;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ip_to_sockaddr(&s->peer, BFD_ECHO_PORT, &ss);
	if (connect(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    ip_from_sockaddr((struct sockaddr *)&ss, &s->echo_src, NULL) == 0)
		rc = 0;
	close(fd);
	return rc;
}

static void echo_stop(struct bfd_sess *s)
{
	if (!s->echo_on)
		return;
	s->echo_on = false;
	ev_timer_stop(s->t_echo_tx);
	ev_timer_stop(s->t_echo_detect);
	log_info("bfd: peer %s: echo function stopped", s->name);
}

bool bfd_echo_sync(struct bfd_sess *s)
{
	uint32_t iv = bfd_echo_interval(s);
	char a[IP_STRLEN];

	if (!iv) {
		bool was = s->echo_on;
		echo_stop(s);
		return was;
	}
	if (s->echo_on) {
		/* a new interval (the remote's or ours) paces the next packet from now, so none
		 * goes out faster than the remote now takes, and the detection time follows */
		if (iv != s->echo_iv) {
			arm_timers(s, iv);
			log_info("bfd: peer %s: echo every %u ms, detection %llu ms", s->name,
				 (unsigned)bfd_us_to_ms(iv), (unsigned long long)echo_detect_ms(s));
		}
		return false;
	}
	if (echo_source(s) < 0) {
		log_warn("bfd: peer %s: echo function not started: no source address toward it: %s",
			 s->name, strerror(errno));
		return false;
	}
	if (bfd_echo_open(s->b) < 0)
		return false;
	s->echo_on = true;
	s->echo_cookie = bfd_rand(s->b);
	log_info("bfd: peer %s: echo function active from %s, every %u ms, detection %llu ms",
		 s->name, ip_str(&s->echo_src, a), (unsigned)bfd_us_to_ms(iv),
		 (unsigned long long)echo_detect_ms(s));
	echo_send(s);
	arm_timers(s, iv);
	return true;
}

bool bfd_echo_can_reflect(void)
{
	char c = '0';
	int fd = open("/proc/sys/net/ipv4/conf/all/forwarding", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = '0';
	close(fd);
	return c == '1';
}

void bfd_echo_timers(struct bfd_sess *s)
{
	s->t_echo_tx = ev_timer_new(bfd_loop(s->b), echo_tx_cb, s);
	s->t_echo_detect = ev_timer_new(bfd_loop(s->b), echo_detect_cb, s);
}
