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

/* Sends the request and reads the answer's line into *out (owned, NUL-terminated). */
static int exchange(struct cli *c, const char *cmd, struct json_object *args, char **out,
		    size_t *out_len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct json_object *req = json_object_new_object();
	const char *s;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd;

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
		r = recv(fd, buf + len, cap - len - 1, 0); /* room for the NUL */
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
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return EXIT_OK;
}

/* An answer that is not ok: its error printed, the exit code returned. */
static int refused(struct cli *c, struct json_object *ans)
{
	struct json_object *v = NULL;

	if (!ans || !json_object_is_type(ans, json_type_object) ||
	    !json_object_object_get_ex(ans, "ok", NULL))
		return unreachable(c, "malformed answer");
	json_object_object_get_ex(ans, "error", &v);
	fprintf(stderr, "edgelb: %s\n", v ? json_object_get_string(v) : "refused");
	return EXIT_REFUSED;
}

int cli_call(struct cli *c, const char *cmd, struct json_object *args,
	     struct json_object **result)
{
	struct json_object *ans, *ok, *v;
	char *buf;
	size_t len;
	int rc = exchange(c, cmd, args, &buf, &len);

	*result = NULL;
	if (rc)
		return rc;
	ans = json_tokener_parse(buf);
	free(buf);
	if (!ans || !json_object_object_get_ex(ans, "ok", &ok) || !json_object_get_boolean(ok)) {
		rc = refused(c, ans);
		json_object_put(ans);
		return rc;
	}
	if (json_object_object_get_ex(ans, "result", &v))
		*result = json_object_get(v);
	json_object_put(ans);
	return EXIT_OK;
}

/* The agent's list answers start with exactly this (ctl/server.c writes plain JSON, ok
 * first); anything else is parsed whole. */
#define ROWS_PREFIX "{\"ok\":true,\"result\":["

int cli_call_rows(struct cli *c, const char *cmd, struct json_object *args,
		  struct cli_rows *r)
{
	struct json_object *ans, *ok, *v;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = exchange(c, cmd, args, &r->buf, &r->len);
	if (rc)
		return rc;
	if (!strncmp(r->buf, ROWS_PREFIX, strlen(ROWS_PREFIX))) {
		r->tok = json_tokener_new();
		if (!r->tok) {
			cli_rows_free(r);
			return unreachable(c, "out of memory");
		}
		cli_rows_rewind(r);
		return EXIT_OK;
	}
	ans = json_tokener_parse(r->buf);
	free(r->buf);
	r->buf = NULL;
	if (!ans || !json_object_object_get_ex(ans, "ok", &ok) || !json_object_get_boolean(ok)) {
		rc = refused(c, ans);
		json_object_put(ans);
		return rc;
	}
	if (json_object_object_get_ex(ans, "result", &v) && json_object_is_type(v, json_type_array))
		r->all = json_object_get(v);
	json_object_put(ans);
	return EXIT_OK;
}

void cli_rows_rewind(struct cli_rows *r)
{
	r->off = strlen(ROWS_PREFIX);
	r->at = 0;
}

static void skip_blanks(struct cli_rows *r)
{
	while (r->off < r->len && strchr(" \t\r\n", r->buf[r->off]))
		r->off++;
}

struct json_object *cli_rows_next(struct cli_rows *r)
{
	struct json_object *row;

	if (!r->tok) /* parsed whole (or no rows) */
		return r->all && r->at < json_object_array_length(r->all)
			   ? json_object_get(json_object_array_get_idx(r->all, r->at++))
			   : NULL;
	skip_blanks(r);
	if (r->off < r->len && r->buf[r->off] == ',' && r->at > 0)
		r->off++;
	skip_blanks(r);
	if (r->off >= r->len || r->buf[r->off] == ']')
		return NULL;
	json_tokener_reset(r->tok);
	row = json_tokener_parse_ex(r->tok, r->buf + r->off, (int)(r->len - r->off));
	if (!row) { /* a malformed row ends the list */
		r->off = r->len;
		return NULL;
	}
	r->off += json_tokener_get_parse_end(r->tok);
	r->at++;
	return row;
}

void cli_rows_free(struct cli_rows *r)
{
	if (r->tok)
		json_tokener_free(r->tok);
	json_object_put(r->all);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
