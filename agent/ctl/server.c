/* The control socket: <run-dir>/edgelb.sock, mode 0600, one request per line, answers in
 * order. Clients are non-blocking and buffered; an oversized line gets an error and the
 * connection is closed. A live socket left by another agent is never stolen. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "daemon/agent.h"
#include "lib/ev.h"
#include "lib/log.h"

#define MAX_CLIENTS 64

struct client {
	struct ctl_server *srv;
	int fd;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off;
	bool closing; /* close once out is flushed */
	bool discard; /* inside an oversized line: drop bytes up to its newline */
};

struct ctl_server {
	struct agent *a;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct client *clients[MAX_CLIENTS];
};

static void client_free(struct client *c)
{
	struct ctl_server *s = c->srv;

	for (int i = 0; i < MAX_CLIENTS; i++)
		if (s->clients[i] == c)
			s->clients[i] = NULL;
	ev_fd_del(s->a->loop, c->fd);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static void queue(struct client *c, const char *p, size_t n)
{
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	c->out = realloc(c->out, c->out_len + n);
	if (!c->out)
		log_fatal("ctl: out of memory");
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

static void answer(struct client *c, struct json_object *r)
{
	const char *s = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	queue(c, s, strlen(s));
	queue(c, "\n", 1);
	json_object_put(r);
}

/* Returns -1 when the client is gone. */
static int flush(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			return -1;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len && c->closing)
		return -1;
	ev_fd_mod(c->srv->a->loop, c->fd, EPOLLIN | (c->out_off < c->out_len ? EPOLLOUT : 0));
	return 0;
}

static void handle_lines(struct client *c)
{
	char *nl;

	if (c->discard) {
		nl = memchr(c->in, '\n', c->in_len);
		if (!nl) {
			c->in_len = 0;
			return;
		}
		c->discard = false;
		c->in_len -= (size_t)(nl + 1 - c->in);
		memmove(c->in, nl + 1, c->in_len);
	}
	while ((nl = memchr(c->in, '\n', c->in_len))) {
		size_t len = (size_t)(nl - c->in);

		answer(c, ctl_dispatch(c->srv->a, c->in, len));
		memmove(c->in, nl + 1, c->in_len - len - 1);
		c->in_len -= len + 1;
	}
	if (c->in_len > CTL_MAX_REQUEST) {
		/* refuse once, then skip the rest of that line; the connection stays usable */
		struct json_object *r = json_object_new_object();
		json_object_object_add(r, "ok", json_object_new_boolean(0));
		json_object_object_add(r, "error", json_object_new_string(
			"request: larger than " CTL_MAX_REQUEST_STR));
		answer(c, r);
		c->discard = true;
		c->in_len = 0;
	}
}

static void on_client(int fd, uint32_t events, void *arg)
{
	struct client *c = arg;

	if (events & EPOLLIN) {
		for (;;) {
			ssize_t n;

			if (c->in_cap - c->in_len < 4096) {
				c->in_cap = c->in_cap ? c->in_cap * 2 : 8192;
				c->in = realloc(c->in, c->in_cap);
				if (!c->in)
					log_fatal("ctl: out of memory");
			}
			n = recv(fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
			if (n < 0 && errno != EAGAIN) {
				client_free(c);
				return;
			}
			if (n == 0) { /* peer done sending: answer what came, then close */
				c->closing = true;
				break;
			}
			if (n < 0)
				break;
			c->in_len += (size_t)n;
			handle_lines(c);
		}
	}
	if (flush(c) < 0)
		client_free(c);
}

static void on_accept(int fd, uint32_t events, void *arg)
{
	struct ctl_server *s = arg;
	int cfd, slot = -1;
	struct client *c;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (!s->clients[i]) {
			slot = i;
			break;
		}
	if (slot < 0) {
		log_warn("ctl: more than %d clients, refusing one", MAX_CLIENTS);
		close(cfd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		log_fatal("ctl: out of memory");
	c->srv = s;
	c->fd = cfd;
	if (ev_fd_add(s->a->loop, cfd, EPOLLIN, on_client, c) < 0) {
		close(cfd);
		free(c);
		return;
	}
	s->clients[slot] = c;
}

struct ctl_server *ctl_server_start(struct agent *a, const char *run_dir, char *err, size_t len)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int probe;
	mode_t old;

	if (!s)
		log_fatal("ctl: out of memory");
	s->a = a;
	if ((size_t)snprintf(s->path, sizeof(s->path), "%s/%s", run_dir, CTL_SOCK_NAME) >= sizeof(s->path)) {
		snprintf(err, len, "--run-dir: \"%s\": too long for a socket path (allowed: up to %zu characters)",
			 run_dir, sizeof(s->path) - sizeof(CTL_SOCK_NAME) - 1);
		free(s);
		return NULL;
	}
	strcpy(sun.sun_path, s->path);
	/* A socket that still answers belongs to a running agent: never steal it. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(probe);
		snprintf(err, len, "control socket %s: another edgelbd is listening there (use another --run-dir)", s->path);
		free(s);
		return NULL;
	}
	if (probe >= 0)
		close(probe);
	unlink(s->path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	old = umask(0177); /* the socket is created 0600 */
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(s->fd, 16) < 0) {
		umask(old);
		snprintf(err, len, "control socket %s: %s", s->path, strerror(errno));
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return NULL;
	}
	umask(old);
	chmod(s->path, 0600);
	if (ev_fd_add(a->loop, s->fd, EPOLLIN, on_accept, s) < 0) {
		snprintf(err, len, "control socket: epoll registration failed");
		close(s->fd);
		unlink(s->path);
		free(s);
		return NULL;
	}
	log_info("ctl: listening on %s", s->path);
	return s;
}

void ctl_server_stop(struct ctl_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (s->clients[i])
			client_free(s->clients[i]);
	ev_fd_del(s->a->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s);
}
