/* The BGP speaker process (edgelb-bgp), exec'd by the agent: the sessions (fsm.c), the
 * listening sockets and per session an adj-RIB-out (adj_out.c). The agent sends the sessions
 * and the routes each should carry (ipc.h); changes are coalesced over a short window, then
 * the prefixes sharing attributes are packed into as few UPDATEs as fit, End-of-RIB after the
 * initial table. The speaker holds no allocator, dataplane or config: it stays small. Started
 * as root, it chroots to an empty directory and drops to the user nobody with no capabilities
 * once it listens (OpenBGPD's session engine does the same): the agent reads the keys and
 * owns netlink and BPF. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bgp/adj_out.h"
#include "bgp/ipc.h"
#include "bgp/peer.h"
#include "bgp/speaker.h"
#include "lib/ev.h"
#include "lib/log.h"

#define COALESCE_MS 50
#define PACK_MAX    1024 /* prefixes gathered before an UPDATE is cut */

struct sess {
	uint32_t id;
	struct speaker *sp;
	struct bgp_peer *p;
	struct adj_out out;
	bool complete;	   /* the agent sent the whole table once: the initial one may go */
	bool table_queued; /* initial table and End-of-RIB queued since Established */
	bool table_sent;   /* ... and written to the socket: the peer has them */
};

struct outmsg {
	struct outmsg *next;
	size_t len;
	uint8_t data[];
};

struct speaker {
	struct ev_loop *loop;
	int fd; /* the channel to the agent */
	struct outmsg *q, **q_tail;
	int lfd[2]; /* listening sockets: IPv4, IPv6 */
	struct sess **s;
	int n;
	struct ev_timer *flush;
};

/* --- the channel to the agent -------------------------------------------------------------- */

static void ipc_send(struct speaker *sp, const void *msg, size_t len)
{
	struct outmsg *m;

	if (!sp->q) {
		ssize_t r = send(sp->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r == (ssize_t)len)
			return;
		if (r < 0 && errno != EAGAIN)
			return; /* the agent is gone: the read side sees it and exits */
	}
	m = malloc(sizeof(*m) + len);
	if (!m)
		log_fatal("bgp: out of memory");
	m->next = NULL;
	m->len = len;
	memcpy(m->data, msg, len);
	*sp->q_tail = m;
	sp->q_tail = &m->next;
	ev_fd_mod(sp->loop, sp->fd, EPOLLIN | EPOLLOUT);
}

static void ipc_drain(struct speaker *sp)
{
	while (sp->q) {
		struct outmsg *m = sp->q;

		if (send(sp->fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		    errno == EAGAIN)
			return;
		sp->q = m->next;
		free(m);
	}
	sp->q_tail = &sp->q;
	ev_fd_mod(sp->loop, sp->fd, EPOLLIN);
}

/* --- adj-RIB-out ------------------------------------------------------------------------- */

static bool fam_ok(const struct sess *s, const struct prefix *p, uint16_t id)
{
	const struct bgp_attrs *at = adj_attrs(&s->out, id);

	if (!at)
		return false;
	if (p->ip.family == AF_INET)
		return s->p->neg.mp_ipv4 && at->nh4.family;
	return s->p->neg.mp_ipv6 && at->nh6.family;
}

/* The peer holds the route from us / the route should be announced. */
static bool held(const struct sess *s, const struct adj_route *r)
{
	return r->sent && fam_ok(s, &r->pfx, r->sent);
}

static bool announce(const struct sess *s, const struct adj_route *r)
{
	return r->want && r->want != r->sent && fam_ok(s, &r->pfx, r->want);
}

static bool withdraw(const struct sess *s, const struct adj_route *r)
{
	return held(s, r) && (!r->want || !fam_ok(s, &r->pfx, r->want));
}

/* Prefixes of one family and attribute set (or withdrawals) gathered into full UPDATEs. */
struct packer {
	struct sess *s;
	struct bgp_attrs at;
	bool withdraw;
	int fam;
	size_t n, total;
	struct prefix buf[PACK_MAX];
};

static void pack_cut(struct packer *k, bool all)
{
	uint8_t msg[BGP_MAX_LEN];

	while (k->n && (all || k->n == PACK_MAX)) {
		struct wbuf w = wbuf_make(msg, sizeof(msg));
		size_t done = bgp_update_encode(&w, BGP_MAX_LEN, k->withdraw ? NULL : &k->at,
						k->fam == AF_INET ? BGP_AFI_IPV4 : BGP_AFI_IPV6,
						k->buf, k->n);

		if (w.err || done == 0)
			log_fatal("bgp: peer %s: UPDATE encoding failed", k->s->p->name);
		bgp_peer_send(k->s->p, msg, w.len);
		k->s->p->st.upd_tx++;
		k->s->p->st.prefixes_tx += done;
		k->total += done;
		memmove(k->buf, k->buf + done, (k->n - done) * sizeof(k->buf[0]));
		k->n -= done;
	}
}

static void pack_add(struct packer *k, const struct prefix *p)
{
	if (p->ip.family != k->fam) {
		pack_cut(k, true);
		k->fam = p->ip.family;
	}
	k->buf[k->n++] = *p;
	pack_cut(k, false);
}

static size_t send_withdrawals(struct sess *s, struct packer *k)
{
	*k = (struct packer){.s = s, .withdraw = true};
	for (size_t i = 0; i < s->out.n; i++)
		if (withdraw(s, &s->out.r[i]))
			pack_add(k, &s->out.r[i].pfx);
	pack_cut(k, true);
	return k->total;
}

/* Announcements grouped by attribute set (a counting sort keeps the table's prefix order
 * inside each group, so each family's prefixes are one run). */
static size_t send_announcements(struct sess *s, struct packer *k)
{
	size_t *start = calloc(s->out.n_attrs + 2, sizeof(*start));
	uint32_t *idx;
	size_t m = 0, total = 0;

	if (!start)
		log_fatal("bgp: out of memory");
	for (size_t i = 0; i < s->out.n; i++)
		if (announce(s, &s->out.r[i])) {
			start[s->out.r[i].want + 1]++;
			m++;
		}
	idx = malloc((m ? m : 1) * sizeof(*idx));
	if (!idx)
		log_fatal("bgp: out of memory");
	for (size_t a = 1; a <= s->out.n_attrs + 1; a++)
		start[a] += start[a - 1];
	for (size_t i = 0; i < s->out.n; i++)
		if (announce(s, &s->out.r[i]))
			idx[start[s->out.r[i].want]++] = (uint32_t)i;
	for (size_t g = 0; g < m;) {
		uint16_t id = s->out.r[idx[g]].want;

		*k = (struct packer){.s = s, .at = *adj_attrs(&s->out, id)};
		k->at.as4 = s->p->neg.as4;
		for (; g < m && s->out.r[idx[g]].want == id; g++)
			pack_add(k, &s->out.r[idx[g]].pfx);
		pack_cut(k, true);
		total += k->total;
	}
	free(idx);
	free(start);
	return total;
}

static void push_status(struct sess *s);

/* The initial table counts as announced once the socket took all of it, End-of-RIB included:
 * only then may layer 2 stop answering. */
static void table_done(struct sess *s)
{
	if (!s->table_queued || s->table_sent || !bgp_peer_tx_idle(s->p))
		return;
	s->table_sent = true;
	log_info("bgp: peer %s: initial table sent (%zu prefixes), End-of-RIB", s->p->name,
		 s->out.n);
	push_status(s);
}

/* Brings the peer from what it holds to what is wanted: withdrawals, then announcements;
 * End-of-RIB after the first table (RFC 4724 2). */
static void sess_flush(struct sess *s)
{
	static struct packer k;
	size_t w, a;
	uint8_t buf[64];

	if (s->p->state != BGP_ESTABLISHED || !s->complete)
		return;
	w = send_withdrawals(s, &k);
	a = send_announcements(s, &k);
	if (w || a)
		log_info("bgp: peer %s: sent %zu withdrawals, %zu announcements", s->p->name, w, a);
	adj_sent_all(&s->out);
	if (s->table_queued)
		return;
	for (int afi = BGP_AFI_IPV4; afi <= BGP_AFI_IPV6; afi++) {
		struct wbuf wb = wbuf_make(buf, sizeof(buf));

		if (afi == BGP_AFI_IPV4 ? !s->p->neg.mp_ipv4 : !s->p->neg.mp_ipv6)
			continue;
		bgp_eor_encode(&wb, afi);
		bgp_peer_send(s->p, buf, wb.len);
		s->p->st.upd_tx++;
	}
	s->table_queued = true;
	table_done(s);
}

static void flush_cb(struct ev_timer *t, void *arg)
{
	struct speaker *sp = arg;

	for (int i = 0; i < sp->n; i++)
		sess_flush(sp->s[i]);
}

static void schedule_flush(struct speaker *sp)
{
	if (!ev_timer_armed(sp->flush))
		ev_timer_arm(sp->flush, COALESCE_MS);
}

/* --- what the agent sees ------------------------------------------------------------------- */

static void push_status(struct sess *s)
{
	struct bgp_ipc_status m = {.h = {BGP_IPC_STATUS, s->id}};
	struct bgp_peer_view *v = &m.v;
	const struct bgp_peer *p = s->p;

	v->cfg = p->cfg;
	memcpy(v->name, p->name, sizeof(v->name));
	v->state = p->state;
	v->router_id = p->router_id;
	v->peer_id = p->peer_id;
	v->peer_asn = p->peer_asn;
	v->neg = p->neg;
	v->hold = p->hold;
	v->keepalive = p->keepalive;
	v->up_since_ms = p->up_since_ms;
	memcpy(v->last_error, p->last_error, sizeof(v->last_error));
	v->st = p->st;
	v->table_sent = s->table_sent;
	for (size_t i = 0; p->state == BGP_ESTABLISHED && i < s->out.n; i++) {
		v->announced += held(s, &s->out.r[i]);
		v->pending += s->out.r[i].want != s->out.r[i].sent;
	}
	ipc_send(s->sp, &m, sizeof(m));
}

/* --- peer hooks ---------------------------------------------------------------------------- */

static void on_up(struct bgp_peer *p)
{
	struct sess *s = p->glue;

	p->our_caps.gr_flags &= (uint8_t)~BGP_GR_F_RESTART;
	adj_unsend(&s->out, 0, false);
	s->table_queued = s->table_sent = false;
	push_status(s);
	/* the initial table goes out at once: nothing to coalesce with */
	ev_timer_arm(s->sp->flush, 0);
}

static void on_down(struct bgp_peer *p)
{
	struct sess *s = p->glue;

	adj_unsend(&s->out, 0, false);
	s->table_queued = s->table_sent = false;
	push_status(s);
}

static void on_drained(struct bgp_peer *p)
{
	table_done(p->glue);
}

/* RFC 2918 4: answer a ROUTE-REFRESH by sending the family's routes again (withdrawals
 * still waiting stay due). */
static void on_refresh(struct bgp_peer *p, int afi)
{
	struct sess *s = p->glue;

	adj_unsend(&s->out, afi == BGP_AFI_IPV4 ? AF_INET : AF_INET6, true);
	log_info("bgp: peer %s: route refresh for AFI %d", p->name, afi);
	schedule_flush(s->sp);
}

static const struct bgp_peer_ops sess_ops = {on_up, on_down, on_refresh, on_drained};

/* --- sessions ------------------------------------------------------------------------------ */

static struct sess *find(struct speaker *sp, uint32_t id)
{
	for (int i = 0; i < sp->n; i++)
		if (sp->s[i]->id == id)
			return sp->s[i];
	return NULL;
}

static void listen_md5(struct speaker *sp, const struct cfg_peer *pc, bool on)
{
	char key[96];
	int fd = sp->lfd[pc->addr.family == AF_INET6];

	bgp_peer_key(pc, key, sizeof(key));
	if (!key[0] || fd < 0)
		return;
	if (bgp_sock_md5(fd, &pc->addr, on ? key : NULL) < 0)
		log_warn("bgp: peer %s: TCP_MD5SIG on the listening socket: %s",
			 ip_str(&pc->addr, key), strerror(errno));
}

/* RFC 4724 4.1, the restarting speaker: when the agent adopted the previous run's dataplane
 * it kept forwarding while away, so OPENs carry Forwarding State, and those within the
 * restart time we advertise carry Restart State (cleared once Established, in on_up). */
static void sess_add(struct speaker *sp, const struct bgp_ipc_peer *m)
{
	struct sess *s = calloc(1, sizeof(*s));

	if (!s || !(sp->s = realloc(sp->s, (size_t)(sp->n + 1) * sizeof(*sp->s))))
		log_fatal("bgp: out of memory");
	s->id = m->h.peer;
	s->sp = sp;
	s->p = bgp_peer_new(sp->loop, &m->cfg, m->router_id, &sess_ops, s);
	if (s->p->our_caps.gr && m->gr_fwd) {
		s->p->our_caps.gr_fwd = true;
		if (ev_now_ms() < m->agent_started_ms + (uint64_t)s->p->our_caps.gr_time * 1000)
			s->p->our_caps.gr_flags |= BGP_GR_F_RESTART;
	}
	sp->s[sp->n++] = s;
	listen_md5(sp, &m->cfg, true);
	bgp_fsm(s->p, BGP_EV_START);
}

/* Closes with a Cease (RFC 4486) and frees. */
static void sess_free(struct sess *s, uint8_t cease)
{
	bgp_err_set(&s->p->err, BGP_ERR_CEASE, cease, NULL, 0);
	bgp_fsm(s->p, BGP_EV_STOP);
	listen_md5(s->sp, &s->p->cfg, false);
	bgp_peer_free(s->p);
	adj_free(&s->out);
	free(s);
}

static void sess_del(struct speaker *sp, uint32_t id, uint8_t cease)
{
	for (int i = 0; i < sp->n; i++)
		if (sp->s[i]->id == id) {
			sess_free(sp->s[i], cease);
			memmove(&sp->s[i], &sp->s[i + 1], (size_t)(sp->n - i - 1) * sizeof(*sp->s));
			sp->n--;
			return;
		}
}

/* --- requests from the agent ----------------------------------------------------------------- */

static void handle(struct speaker *sp, uint8_t *buf, size_t len)
{
	struct bgp_ipc_hdr *h = (struct bgp_ipc_hdr *)buf;
	struct sess *s = len >= sizeof(*h) ? find(sp, h->peer) : NULL;

	if (len < sizeof(*h))
		return;
	switch (h->type) {
	case BGP_IPC_PEER:
		if (len == sizeof(struct bgp_ipc_peer) && !s)
			sess_add(sp, (struct bgp_ipc_peer *)buf);
		return;
	case BGP_IPC_PEER_DEL:
		if (len == sizeof(struct bgp_ipc_del))
			sess_del(sp, h->peer, ((struct bgp_ipc_del *)buf)->cease);
		return;
	case BGP_IPC_ATTRS:
		if (len == sizeof(struct bgp_ipc_attrs) && s)
			adj_set_attrs(&s->out, ((struct bgp_ipc_attrs *)buf)->id,
				      &((struct bgp_ipc_attrs *)buf)->at);
		return;
	case BGP_IPC_ROUTES: {
		struct bgp_ipc_routes *m = (struct bgp_ipc_routes *)buf;

		if (!s || len < sizeof(*m) || len != sizeof(*m) + m->n * sizeof(m->r[0]))
			return;
		adj_merge(&s->out, m->r, m->n);
		if (m->complete && !s->complete) {
			s->complete = true;
			if (s->p->state == BGP_ESTABLISHED)
				ev_timer_arm(sp->flush, 0); /* the initial table waited for this */
		} else if (m->n && s->p->state == BGP_ESTABLISHED) {
			schedule_flush(sp);
		}
		return;
	}
	case BGP_IPC_BFD_DOWN:
		if (s)
			bgp_fsm(s->p, BGP_EV_BFD_DOWN);
		return;
	case BGP_IPC_QUERY: {
		struct bgp_ipc_hdr end = {BGP_IPC_QUERY_END, 0};

		for (int i = 0; i < sp->n; i++)
			push_status(sp->s[i]);
		ipc_send(sp, &end, sizeof(end));
		return;
	}
	case BGP_IPC_EXIT:
		ev_loop_stop(sp->loop);
		return;
	}
}

static void ipc_cb(int fd, uint32_t events, void *arg)
{
	static uint8_t buf[BGP_IPC_MAX];
	struct speaker *sp = arg;

	if (events & EPOLLOUT)
		ipc_drain(sp);
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			/* the agent died: no Cease, so peers with graceful restart keep our
			 * routes while it comes back (RFC 4724 4.2) */
			log_info("bgp: the agent is gone; speaker exiting");
			_exit(0);
		}
		handle(sp, buf, (size_t)r);
	}
}

/* --- listening ----------------------------------------------------------------------------- */

static void accept_cb(int lfd, uint32_t events, void *arg)
{
	struct speaker *sp = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char name[IP_STRLEN];
	struct ip ip;
	int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	ip_from_sockaddr((struct sockaddr *)&ss, &ip, NULL);
	for (int i = 0; i < sp->n; i++)
		if (ip_eq(&sp->s[i]->p->cfg.addr, &ip)) {
			bgp_peer_accept(sp->s[i]->p, fd);
			return;
		}
	/* RFC 4271 8: only configured peers */
	log_info("bgp: connection from %s refused: not a configured peer", ip_str(&ip, name));
	close(fd);
}

#define NOBODY 65534

/* Root only to bind the BGP port; everything after runs as nobody in root (an empty directory;
 * NULL: stay), without capabilities, and can never gain privileges again (no setuid binaries
 * either). The speaker opens no file after this. */
static int drop_privileges(const char *root)
{
	const struct passwd *pw = getpwnam("nobody"); /* before the chroot hides /etc */
	uid_t uid = pw ? pw->pw_uid : NOBODY;
	gid_t gid = pw ? pw->pw_gid : NOBODY;

	if (geteuid() != 0)
		return 0;
	if (root && (chroot(root) < 0 || chdir("/") < 0)) {
		log_err("bgp: speaker: chroot to %s: %s", root, strerror(errno));
		return -1;
	}
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("bgp: speaker: dropping privileges to uid %u: %s", (unsigned)uid,
			strerror(errno));
		return -1;
	}
	log_info("bgp: speaker runs as uid %u gid %u in %s, no capabilities", (unsigned)uid,
		 (unsigned)gid, root ? root : "/ (no chroot)");
	return 0;
}

int bgp_speaker_run(int fd, uint16_t port, const char *root)
{
	struct speaker sp = {.fd = fd, .lfd = {-1, -1}};

	if (fcntl(fd, F_GETFD) < 0) {
		fprintf(stderr,
			"edgelb-bgp: no channel on descriptor %d (it is started by edgelbd)\n", fd);
		return 2;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	sp.q_tail = &sp.q;
	sp.loop = ev_loop_new();
	sp.flush = ev_timer_new(sp.loop, flush_cb, &sp);
	ev_fd_add(sp.loop, fd, EPOLLIN, ipc_cb, &sp);
	for (int i = 0; i < 2; i++) {
		int fam = i ? AF_INET6 : AF_INET;

		sp.lfd[i] = bgp_sock_listen(fam, port);
		if (sp.lfd[i] < 0) {
			log_warn("bgp: cannot listen on %s port %u: %s (active sessions only)",
				 i ? "IPv6" : "IPv4", port, strerror(errno));
			continue;
		}
		ev_fd_add(sp.loop, sp.lfd[i], EPOLLIN, accept_cb, &sp);
	}
	log_info("bgp: listening on port %u", port);
	if (drop_privileges(root) < 0)
		return 1;
	ev_loop_run(sp.loop);
	/* BGP_IPC_EXIT: the agent shuts down */
	for (int i = 0; i < sp.n; i++)
		sess_free(sp.s[i], BGP_CEASE_SHUTDOWN);
	free(sp.s);
	for (int i = 0; i < 2; i++)
		if (sp.lfd[i] >= 0)
			close(sp.lfd[i]);
	ev_timer_free(sp.flush);
	ev_loop_free(sp.loop);
	return 0;
}
