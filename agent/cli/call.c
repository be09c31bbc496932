/* One request to the agent over the control socket, one answer back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"

#define MAX_ANSWER (64u << 20)

static int unreachable(struct cli *c, const char *why)
{
	fprintf(stderr, "edgelb: cannot reach the agent at %s: %s (is edgelbd running? set --socket or EDGELB_SOCKET)\n",
		c->socket, why);
	return EXIT_UNREACHABLE;
}

int cli_call(struct cli *c, const char *cmd, struct json_object *args,
	     struct json_object **result)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct json_object *req = json_object_new_object(), *ans, *ok, *v;
	const char *s;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, rc;

	*result = NULL;
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	json_object_object_add(req, "args", args ? args : json_object_new_object());
	if (strlen(c->socket) >= sizeof(sun.sun_path)) {
		json_object_put(req);
		return cli_usage_error("--socket: \"%s\": path too long", c->socket);
	}
	strcpy(sun.sun_path, c->socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		json_object_put(req);
		if (fd >= 0)
			close(fd);
		return unreachable(c, strerror(errno));
	}
	s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	for (size_t off = 0, n = strlen(s); off <= n;) {
		ssize_t w = off < n ? send(fd, s + off, n - off, MSG_NOSIGNAL) : send(fd, "\n", 1, MSG_NOSIGNAL);
		if (w < 0) {
			json_object_put(req);
			close(fd);
			return unreachable(c, strerror(errno));
		}
		off += (size_t)w;
		if (off > n)
			break;
	}
	json_object_put(req);
	for (;;) {
		ssize_t r;

		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 131072;
			buf = realloc(buf, cap);
			if (!buf || cap > MAX_ANSWER) {
				free(buf);
				close(fd);
				return unreachable(c, "answer too large");
			}
		}
		r = recv(fd, buf + len, cap - len, 0);
		if (r <= 0) {
			free(buf);
			close(fd);
			return unreachable(c, r == 0 ? "connection closed before an answer" : strerror(errno));
		}
		len += (size_t)r;
		if (memchr(buf + len - (size_t)r, '\n', (size_t)r))
			break;
	}
	close(fd);
	ans = json_tokener_parse(buf);
	free(buf);
	if (!ans || !json_object_object_get_ex(ans, "ok", &ok)) {
		json_object_put(ans);
		return unreachable(c, "malformed answer");
	}
	if (json_object_get_boolean(ok)) {
		if (json_object_object_get_ex(ans, "result", &v))
			*result = json_object_get(v);
		rc = EXIT_OK;
	} else {
		json_object_object_get_ex(ans, "error", &v);
		fprintf(stderr, "edgelb: %s\n", v ? json_object_get_string(v) : "refused");
		rc = EXIT_REFUSED;
	}
	json_object_put(ans);
	return rc;
}
