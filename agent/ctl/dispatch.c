/* Control requests: parse one JSON line, refuse unknown commands and fields, run the handler
 * from the module tables, and shape the response. Also the argument helpers handlers use. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl/ctl.h"
#include "lib/log.h"

static const struct ctl_cmd *const tables[] = {ctl_core_cmds, alloc_ctl_cmds, bgp_ctl_cmds,
					       dp_ctl_cmds};

int ctl_fail(struct ctl_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static const struct ctl_cmd *find_cmd(const char *name)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct ctl_cmd *c = tables[t]; c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	return NULL;
}

static struct json_object *reply_err(const char *msg)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", json_object_new_string(msg));
	return r;
}

static int check_fields(const struct ctl_cmd *c, struct json_object *args, struct ctl_err *e)
{
	json_object_object_foreach(args, k, v)
	{
		bool ok = false;

		(void)v;
		for (const char *const *f = c->fields; f && *f; f++)
			if (strcmp(*f, k) == 0)
				ok = true;
		if (!ok) {
			char allowed[sizeof(e->msg)] = "";
			for (const char *const *f = c->fields; f && *f; f++) {
				if (allowed[0])
					strncat(allowed, ", ", sizeof(allowed) - strlen(allowed) - 1);
				strncat(allowed, *f, sizeof(allowed) - strlen(allowed) - 1);
			}
			return ctl_fail(e, "%s: unknown field \"%s\" (allowed: %s)", c->name, k,
					allowed[0] ? allowed : "none");
		}
	}
	return 0;
}

int ctl_parse_request(const char *line, size_t len, struct json_object **req_out,
		      const struct ctl_cmd **cmd, struct json_object **args_out, struct ctl_err *e)
{
	struct json_tokener *tok;
	struct json_object *req, *cmdv = NULL, *args = NULL;
	const struct ctl_cmd *c;

	*req_out = NULL;
	if (len > CTL_MAX_REQUEST)
		return ctl_fail(e, "request: larger than " CTL_MAX_REQUEST_STR);
	tok = json_tokener_new();
	req = json_tokener_parse_ex(tok, line, (int)len);
	if (!req || json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tok) != len) {
		json_tokener_free(tok);
		json_object_put(req);
		return ctl_fail(e, "request: not one JSON object (allowed: {\"cmd\": NAME, \"args\": {...}})");
	}
	json_tokener_free(tok);
	if (!json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		return ctl_fail(e, "request: not a JSON object (allowed: {\"cmd\": NAME, \"args\": {...}})");
	}
	json_object_object_foreach(req, k, v)
	{
		if (!strcmp(k, "cmd")) {
			cmdv = v;
		} else if (!strcmp(k, "args")) {
			args = v;
		} else {
			ctl_fail(e, "request: unknown field \"%.64s\" (allowed: cmd, args)", k);
			json_object_put(req);
			return -1;
		}
	}
	if (!json_object_is_type(cmdv, json_type_string)) {
		json_object_put(req);
		return ctl_fail(e, "request: cmd: missing or not a string");
	}
	c = find_cmd(json_object_get_string(cmdv));
	if (!c) {
		ctl_fail(e, "request: cmd: \"%.64s\": unknown command", json_object_get_string(cmdv));
		json_object_put(req);
		return -1;
	}
	if (args && !json_object_is_type(args, json_type_object) && !json_object_is_type(args, json_type_null)) {
		json_object_put(req);
		return ctl_fail(e, "request: args: not a JSON object");
	}
	if (!args || json_object_is_type(args, json_type_null)) {
		args = json_object_new_object();
		json_object_object_add(req, "args", args);
	}
	if (check_fields(c, args, e) < 0) {
		json_object_put(req);
		return -1;
	}
	*req_out = req;
	*cmd = c;
	*args_out = args;
	return 0;
}

struct json_object *ctl_dispatch(struct agent *a, const char *line, size_t len)
{
	struct json_object *req, *args, *result = NULL, *r;
	const struct ctl_cmd *c;
	struct ctl_err e = {{0}};

	if (ctl_parse_request(line, len, &req, &c, &args, &e) < 0)
		return reply_err(e.msg);
	if (c->fn(a, args, &result, &e) < 0) {
		json_object_put(result);
		json_object_put(req);
		log_debug("ctl: %s refused: %s", c->name, e.msg);
		return reply_err(e.msg[0] ? e.msg : "refused");
	}
	json_object_put(req);
	r = json_object_new_object();
	json_object_object_add(r, "ok", json_object_new_boolean(1));
	json_object_object_add(r, "result", result);
	return r;
}

int ctl_arg_str(struct json_object *args, const char *key, bool required, const char **out,
		struct ctl_err *e)
{
	struct json_object *v;

	if (!json_object_object_get_ex(args, key, &v) || json_object_is_type(v, json_type_null))
		return required ? ctl_fail(e, "%s: missing (required)", key) : 0;
	if (!json_object_is_type(v, json_type_string))
		return ctl_fail(e, "%s: not a string", key);
	*out = json_object_get_string(v);
	return 0;
}

int ctl_arg_u64(struct json_object *args, const char *key, bool required, uint64_t max,
		uint64_t *out, struct ctl_err *e)
{
	struct json_object *v;
	const char *s;
	char *end;
	uint64_t n;

	if (!json_object_object_get_ex(args, key, &v) || json_object_is_type(v, json_type_null))
		return required ? ctl_fail(e, "%s: missing (required)", key) : 0;
	if (json_object_is_type(v, json_type_int)) {
		if (json_object_get_int64(v) < 0)
			return ctl_fail(e, "%s: %" PRId64 ": negative (allowed: 0..%" PRIu64 ")", key,
					json_object_get_int64(v), max);
		n = json_object_get_uint64(v);
	} else if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		errno = 0;
		n = strtoull(s, &end, 10);
		if (!*s || *end || errno || *s == '-')
			return ctl_fail(e, "%s: \"%s\": not a number (allowed: 0..%" PRIu64 ")", key, s, max);
	} else {
		return ctl_fail(e, "%s: not a number (allowed: 0..%" PRIu64 ")", key, max);
	}
	if (n > max)
		return ctl_fail(e, "%s: %" PRIu64 ": too large (allowed: 0..%" PRIu64 ")", key, n, max);
	*out = n;
	return 0;
}

int ctl_arg_bool(struct json_object *args, const char *key, bool *out, struct ctl_err *e)
{
	struct json_object *v;

	if (!json_object_object_get_ex(args, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		if (!strcasecmp(s, "true")) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, "false")) {
			*out = false;
			return 0;
		}
	}
	return ctl_fail(e, "%s: \"%s\": not a boolean (allowed: true, false)", key,
			json_object_get_string(v));
}

int ctl_arg_strv(struct json_object *args, const char *key, const char ***out, int *n,
		 struct ctl_err *e)
{
	struct json_object *v;

	*out = NULL;
	*n = 0;
	if (!json_object_object_get_ex(args, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return ctl_fail(e, "%s: not a list of strings", key);
	*out = calloc(json_object_array_length(v) + 1, sizeof(char *));
	if (!*out)
		log_fatal("ctl: out of memory");
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *x = json_object_array_get_idx(v, i);
		if (!json_object_is_type(x, json_type_string)) {
			free(*out);
			*out = NULL;
			*n = 0;
			return ctl_fail(e, "%s[%zu]: not a string", key, i);
		}
		(*out)[(*n)++] = json_object_get_string(x);
	}
	return 0;
}
