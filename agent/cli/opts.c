/* CLI option parsing: GNU-style --name VALUE / --name=VALUE, and the seed's PowerShell
 * parameters -Name VALUE matched case-insensitively, so runbooks work unchanged. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("edgelb: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

struct cli_opt *cli_opt(struct cli_opt *opts, int nopts, const char *name)
{
	for (int i = 0; i < nopts; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

static struct cli_opt *find(struct cli_opt *opts, int nopts, const char *name, size_t len,
			    bool ps)
{
	for (int i = 0; i < nopts; i++) {
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
		if (ps && strlen(opts[i].name) == len && strncasecmp(opts[i].name, name, len) == 0)
			return &opts[i];
		if (ps && opts[i].alias && strlen(opts[i].alias) == len &&
		    strncasecmp(opts[i].alias, name, len) == 0)
			return &opts[i];
	}
	return NULL;
}

static void allowed(struct cli_opt *opts, int nopts, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < nopts; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, len - l, "%s--%s", i ? ", " : "", opts[i].name);
	}
	if (!nopts)
		snprintf(buf, len, "none");
}

int cli_parse(const char *cmd, int argc, char **argv, struct cli_opt *opts, int nopts,
	      char **pos, int max_pos, int *npos)
{
	char list[1024];

	*npos = 0;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *name, *eq;
		bool ps = false;
		struct cli_opt *o;
		size_t len;

		if (arg[0] != '-' || !arg[1] || (arg[1] >= '0' && arg[1] <= '9')) {
			if (*npos >= max_pos)
				return cli_usage_error("%s: unexpected argument \"%s\"", cmd, arg);
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (arg[1] == '-') {
			name = arg + 2;
		} else {
			name = arg + 1; /* -PeerAddress: a cmdlet parameter */
			ps = true;
		}
		eq = strchr(name, ps ? ':' : '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		o = find(opts, nopts, name, len, ps);
		if (!o) {
			allowed(opts, nopts, list, sizeof(list));
			return cli_usage_error("%s: unknown option %s (allowed: %s)", cmd, arg, list);
		}
		if (o->kind == OPT_FLAG) {
			const char *v = eq ? eq + 1 : "true";
			if (*v == '$')
				v++; /* PowerShell -Passive:$false */
			if (strcasecmp(v, "true") && strcasecmp(v, "false"))
				return cli_usage_error("%s: --%s: \"%s\": not a boolean (allowed: true, false)", cmd,
						       o->name, v);
			o->val = strcasecmp(v, "true") == 0 ? "true" : "false";
		} else if (eq) {
			o->val = eq + 1;
		} else {
			if (i + 1 >= argc)
				return cli_usage_error("%s: --%s needs a value", cmd, o->name);
			o->val = argv[++i];
		}
		if (o->kind == OPT_LIST) {
			if (o->n_vals == CLI_LIST_MAX)
				return cli_usage_error(
				    "%s: --%s given more than %d times (allowed: up to %d)", cmd,
				    o->name, CLI_LIST_MAX, CLI_LIST_MAX);
			o->vals[o->n_vals++] = o->val;
		}
		o->set = true;
	}
	return 0;
}
