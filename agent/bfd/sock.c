/* The agent's BFD sessions and their sockets (RFC 5881, RFC 5883): receiving sockets per
 * family on UDP 3784 (single hop; GTSM: only TTL 255 is accepted, RFC 5881 5) and 4784
 * (multihop; the session's minimum TTL, any by default: RFC 5883 5 leaves the check optional
 * and peers differ, BIRD sends multihop packets with the system's default TTL), reporting the
 * TTL / hop limit; one sending socket per session with TTL 255 and its own source port in
 * 49152-65535 (RFC 5881 4); the demultiplexing of received packets (RFC 5880 6.8.6 steps 7-8: a
 * session takes packets from its own port only) and the drop counters. The state machine is
 * session.c's. The echo sockets, opened when a session first runs the echo function: a raw
 * IPv4 socket sending our echo packets (header ours, routed by the peer's address), and a
 * packet socket receiving them back (their source is ours, so the IP layer would drop them
 * as martians), whose filter lets through only UDP to 3785 from an address to itself with
 * TTL 254 addressed to this host. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bfd/bfd.h"
#include "lib/ev.h"
#include "lib/log.h"

#define RX_BATCH 64 /* datagrams read per wakeup */

struct bfd {
	struct ev_loop *loop;
	int rx[2];    /* single hop: IPv4, IPv6; -1 when not open */
	int rx_mh[2]; /* multihop: IPv4, IPv6 */
	int echo_tx, echo_rx; /* -1 until a session runs the echo function */
	bfd_xmit_fn xmit;
	void *xmit_arg;
	struct bfd_sess **s;
	int n;
	uint16_t next_port;
	uint32_t rnd;
	uint64_t drops[BFD_DROP_COUNT];
};

struct ev_loop *bfd_loop(const struct bfd *b)
{
	return b->loop;
}

uint64_t bfd_drops(const struct bfd *b, enum bfd_drop d)
{
	return (unsigned)d < BFD_DROP_COUNT ? b->drops[d] : 0;
}

/* xorshift32: jitter and discriminators need no cryptographic strength */
uint32_t bfd_rand(struct bfd *b)
{
	uint32_t x = b->rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	b->rnd = x;
	return x;
}

static struct bfd_sess *by_disc(struct bfd *b, uint32_t disc)
{
	for (int i = 0; i < b->n; i++)
		if (b->s[i]->local_disc == disc)
			return b->s[i];
	return NULL;
}

/* A session being removed (AdminDown) is only reachable by its discriminator: a new one for
 * the same peer takes the packets that carry none. mh: arrived on the multihop port. */
static struct bfd_sess *by_peer(struct bfd *b, const struct ip *src, bool mh)
{
	for (int i = 0; i < b->n; i++)
		if (ip_eq(&b->s[i]->peer, src) && b->s[i]->state != BFD_ADMIN_DOWN &&
		    b->s[i]->cfg.multihop == mh)
			return b->s[i];
	return NULL;
}

/* RFC 5880 6.8.1: unique, nonzero local discriminators */
uint32_t bfd_new_disc(struct bfd *b)
{
	for (;;) {
		uint32_t d = bfd_rand(b);
		if (d && !by_disc(b, d))
			return d;
	}
}

static void count_drop(struct bfd *b, const struct ip *src, bool mh, enum bfd_drop d)
{
	struct bfd_sess *s = by_peer(b, src, mh);
	char a[IP_STRLEN];

	b->drops[d]++;
	if (s)
		s->st.rx_drop++;
	log_debug("bfd: packet from %s dropped: %s", ip_str(src, a), bfd_drop_name(d));
}

static void input(struct bfd *b, const uint8_t *p, size_t len, const struct ip *src, int ttl,
		  bool mh)
{
	struct bfd_pkt k;
	struct bfd_sess *s;
	enum bfd_drop why;

	if (!mh && ttl != BFD_TTL) {
		count_drop(b, src, mh, BFD_DROP_TTL); /* RFC 5881 5 */
		return;
	}
	if (bfd_pkt_decode(p, len, &k, &why) < 0) {
		count_drop(b, src, mh, why);
		return;
	}
	/* 6.8.6: Your Discriminator selects the session; zero: the source address does (and,
	 * RFC 5883 3, the port: a multihop session is known by its configuration) */
	if (k.your_disc) {
		s = by_disc(b, k.your_disc);
		if (!s || s->cfg.multihop != mh) {
			count_drop(b, src, mh, BFD_DROP_NO_SESSION);
			return;
		}
	} else {
		s = by_peer(b, src, mh);
		if (!s) {
			count_drop(b, src, mh, BFD_DROP_UNKNOWN_PEER);
			return;
		}
	}
	/* RFC 5883 5: a multihop session may take only packets that crossed at most
	 * 255 - min_ttl routers */
	if (mh && ttl < s->cfg.min_ttl) {
		count_drop(b, src, mh, BFD_DROP_TTL);
		return;
	}
	if (bfd_auth_check(s, p, k.length, &k, &why) < 0) { /* 6.8.6: A bit and 6.7 */
		count_drop(b, src, mh, why);
		return;
	}
	bfd_sess_rx(s, &k);
}

void bfd_input(struct bfd *b, const uint8_t *p, size_t len, const struct ip *src, int ttl)
{
	input(b, p, len, src, ttl, false);
}

void bfd_input_mh(struct bfd *b, const uint8_t *p, size_t len, const struct ip *src, int ttl)
{
	input(b, p, len, src, ttl, true);
}

void bfd_echo_input(struct bfd *b, const uint8_t *p, size_t len)
{
	struct bfd_echo e;
	struct bfd_sess *s = NULL;

	if (bfd_echo_parse(p, len, &e) == 0 && (s = by_disc(b, e.disc)) && bfd_echo_rx(s, &e) == 0)
		return;
	b->drops[BFD_DROP_ECHO]++;
	if (s)
		s->st.rx_drop++;
}

static void echo_cb(int fd, uint32_t events, void *arg)
{
	(void)events;
	for (int i = 0; i < RX_BATCH; i++) {
		uint8_t buf[128];
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0)
			return;
		bfd_echo_input(arg, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
	}
}

/* Classic BPF on the packet socket (offsets from the IPv4 header): to this host, UDP, not a
 * fragment, TTL 254, destination port 3785, source address equal to the destination. */
static int echo_filter(int fd)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 0, 14),
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 12),
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 10, 0),
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BFD_TTL - 1, 0, 8),
	    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
	    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BFD_ECHO_PORT, 0, 5),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 16),
	    BPF_STMT(BPF_MISC | BPF_TAX, 0),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 12),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 128),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

int bfd_echo_open(struct bfd *b)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP)};

	if (b->xmit || b->echo_rx >= 0)
		return 0;
	b->echo_tx = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
	/* protocol 0 until bound: nothing is queued before the filter is on */
	b->echo_rx = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->echo_tx < 0 || b->echo_rx < 0 || echo_filter(b->echo_rx) < 0 ||
	    bind(b->echo_rx, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		log_warn("bfd: cannot open the echo sockets: %s", strerror(errno));
		if (b->echo_tx >= 0)
			close(b->echo_tx);
		if (b->echo_rx >= 0)
			close(b->echo_rx);
		b->echo_tx = b->echo_rx = -1;
		return -1;
	}
	ev_fd_add(b->loop, b->echo_rx, EPOLLIN, echo_cb, b);
	return 0;
}

void bfd_echo_xmit(struct bfd_sess *s, const uint8_t *pkt, size_t len)
{
	struct sockaddr_storage ss;

	if (s->b->xmit) {
		s->b->xmit(s, pkt, len, s->b->xmit_arg);
		return;
	}
	if (s->b->echo_tx < 0 || ip_to_sockaddr(&s->peer, 0, &ss) < 0)
		return;
	if (sendto(s->b->echo_tx, pkt, len, 0, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)) <
	    0)
		log_debug("bfd: peer %s: echo send: %s", s->name, strerror(errno));
}

static void rx_read(struct bfd *b, int fd, bool mh)
{
	for (int i = 0; i < RX_BATCH; i++) {
		uint8_t buf[512];
		union {
			struct cmsghdr h;
			uint8_t b[CMSG_SPACE(sizeof(int)) * 4];
		} cb;
		struct sockaddr_storage ss;
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr m = {.msg_name = &ss,
				   .msg_namelen = sizeof(ss),
				   .msg_iov = &iov,
				   .msg_iovlen = 1,
				   .msg_control = cb.b,
				   .msg_controllen = sizeof(cb.b)};
		struct ip src;
		int ttl = -1;
		ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);

		if (n < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
				memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
		}
		if (ip_from_sockaddr((struct sockaddr *)&ss, &src, NULL) < 0)
			continue;
		input(b, buf, (size_t)n, &src, ttl, mh);
	}
}

static void rx_cb(int fd, uint32_t events, void *arg)
{
	(void)events;
	rx_read(arg, fd, false);
}

static void rx_mh_cb(int fd, uint32_t events, void *arg)
{
	(void)events;
	rx_read(arg, fd, true);
}

static int open_rx(int family, uint16_t port)
{
	struct ip any = {.family = (uint8_t)family};
	struct sockaddr_storage ss;
	int fd, one = 1;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	} else {
		setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	}
	ip_to_sockaddr(&any, port, &ss);
	if (bind(fd, (struct sockaddr *)&ss,
		 family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) <
	    0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

struct bfd *bfd_new(struct ev_loop *l, uint16_t port, bfd_xmit_fn xmit, void *xmit_arg)
{
	struct bfd *b = calloc(1, sizeof(*b));

	if (!b)
		log_fatal("bfd: out of memory");
	b->loop = l;
	b->xmit = xmit;
	b->xmit_arg = xmit_arg;
	b->rx[0] = b->rx[1] = b->rx_mh[0] = b->rx_mh[1] = -1;
	b->echo_tx = b->echo_rx = -1;
	if (getrandom(&b->rnd, sizeof(b->rnd), 0) != sizeof(b->rnd) || !b->rnd)
		b->rnd = (uint32_t)ev_now_ns() | 1;
	b->next_port = (uint16_t)(BFD_SRC_PORT_MIN + bfd_rand(b) % 1024);
	for (int i = 0; port && i < 4; i++) {
		int fam = i & 1 ? AF_INET6 : AF_INET, *fd = i < 2 ? &b->rx[i & 1] : &b->rx_mh[i & 1];
		uint16_t pt = i < 2 ? port : BFD_MH_PORT;

		*fd = open_rx(fam, pt);
		if (*fd < 0) {
			log_warn("bfd: cannot listen on %s UDP port %u: %s",
				 fam == AF_INET6 ? "IPv6" : "IPv4", pt, strerror(errno));
			continue;
		}
		ev_fd_add(l, *fd, EPOLLIN, i < 2 ? rx_cb : rx_mh_cb, b);
	}
	return b;
}

void bfd_free(struct bfd *b)
{
	if (!b)
		return;
	while (b->n)
		bfd_sess_destroy(b->s[0]);
	free(b->s);
	for (int i = 0; i < 5; i++) {
		int fd = i < 2 ? b->rx[i] : i < 4 ? b->rx_mh[i - 2] : b->echo_rx;

		if (fd >= 0) {
			ev_fd_del(b->loop, fd);
			close(fd);
		}
	}
	if (b->echo_tx >= 0)
		close(b->echo_tx);
	free(b);
}

/* RFC 5881 4: a source port in 49152-65535 unique among the sessions, TTL 255 (section 5;
 * RFC 5883 keeps both for multihop). */
static int open_tx(struct bfd *b, struct bfd_sess *s)
{
	int fam = s->peer.family, ttl = BFD_TTL;
	int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	const int span = BFD_SRC_PORT_MAX - BFD_SRC_PORT_MIN + 1;

	if (fd < 0)
		return -1;
	if (fam == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
	else
		setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	for (int tries = 0; tries < span; tries++) {
		struct ip any = {.family = (uint8_t)fam};
		struct sockaddr_storage ss;
		uint16_t port = b->next_port;

		b->next_port = port == BFD_SRC_PORT_MAX ? BFD_SRC_PORT_MIN : (uint16_t)(port + 1);
		ip_to_sockaddr(s->local.family == fam ? &s->local : &any, port, &ss);
		if (bind(fd, (struct sockaddr *)&ss,
			 fam == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in)) == 0) {
			s->src_port = port;
			return fd;
		}
		if (errno != EADDRINUSE)
			break;
	}
	close(fd);
	return -1;
}

int bfd_sess_register(struct bfd *b, struct bfd_sess *s)
{
	if (!b->xmit) {
		s->fd = open_tx(b, s);
		if (s->fd < 0) {
			log_warn("bfd: peer %s: cannot open the sending socket: %s", s->name,
				 strerror(errno));
			return -1;
		}
	}
	b->s = realloc(b->s, (size_t)(b->n + 1) * sizeof(*b->s));
	if (!b->s)
		log_fatal("bfd: out of memory");
	b->s[b->n++] = s;
	return 0;
}

void bfd_sess_unregister(struct bfd *b, struct bfd_sess *s)
{
	for (int i = 0; i < b->n; i++)
		if (b->s[i] == s) {
			memmove(&b->s[i], &b->s[i + 1], (size_t)(b->n - i - 1) * sizeof(*b->s));
			b->n--;
			break;
		}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

void bfd_xmit(struct bfd_sess *s, const uint8_t *pkt, size_t len)
{
	struct sockaddr_storage ss;

	if (s->b->xmit) {
		s->b->xmit(s, pkt, len, s->b->xmit_arg);
		return;
	}
	if (s->fd < 0 || ip_to_sockaddr(&s->peer, s->cfg.multihop ? BFD_MH_PORT : BFD_PORT, &ss) < 0)
		return;
	if (sendto(s->fd, pkt, len, 0, (struct sockaddr *)&ss,
		   s->peer.family == AF_INET6 ? sizeof(struct sockaddr_in6)
					      : sizeof(struct sockaddr_in)) < 0)
		log_debug("bfd: peer %s: send: %s", s->name, strerror(errno));
}
