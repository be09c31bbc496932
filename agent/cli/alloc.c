/* CLI of the allocator: pool set/list/remove, service set/list/show/remove, apply -f.
 * Options map to the JSON fields of the control request through one table per command; the
 * agent validates values (one decoder for every path), the CLI only checks usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

enum fkind { F_STR, F_LIST, F_BOOL };

struct fmap {
	const char *opt; /* CLI option */
	const char *key; /* JSON field */
	enum fkind kind;
};

static const struct fmap pool_fields[] = {
    {"addresses", "addresses", F_LIST},
    {"auto-assign", "autoAssign", F_BOOL},
    {"avoid-buggy-ips", "avoidBuggyIPs", F_BOOL},
    {"priority", "priority", F_STR},
    {"namespaces", "namespaces", F_LIST},
    {"switch", "switch", F_STR},
    {"communities", "communities", F_LIST},
    {"large-communities", "largeCommunities", F_LIST},
    {"local-pref", "localPref", F_STR},
    {"aggregation-length", "aggregationLength", F_STR},
    {"aggregation-length-v6", "aggregationLengthV6", F_STR},
    {"peers", "peers", F_LIST},
};

static const struct fmap service_fields[] = {
    {"ports", "ports", F_LIST},
    {"ip", "ips", F_LIST},
    {"pool", "pool", F_STR},
    {"shared-key", "sharedKey", F_STR},
    {"ip-family", "ipFamily", F_STR},
    {"backends", "backends", F_LIST},
    {"allow-icmp-echo", "allowIcmpEcho", F_BOOL},
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static struct json_object *split_list(const char *s)
{
	struct json_object *arr = json_object_new_array();
	char *dup = strdup(s), *save = NULL;

	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		if (*t)
			json_object_array_add(arr, json_object_new_string(t));
	}
	free(dup);
	return arr;
}

/* Parses argv with the options of map and builds the args object; name is the one positional. */
static int build_args(const char *cmd, int argc, char **argv, const struct fmap *map, int n,
		      const char *required, struct json_object **out)
{
	struct cli_opt opts[16];
	char *pos[1];
	int npos, rc;

	memset(opts, 0, sizeof(opts));
	for (int i = 0; i < n; i++) {
		opts[i].name = map[i].opt;
		opts[i].kind = map[i].kind == F_BOOL ? OPT_FLAG : OPT_STR;
	}
	rc = cli_parse(cmd, argc, argv, opts, n, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return cli_usage_error("%s: NAME missing", cmd);
	if (required && !cli_opt(opts, n, required)->set)
		return cli_usage_error("%s: --%s missing (required)", cmd, required);
	*out = json_object_new_object();
	json_object_object_add(*out, "name", json_object_new_string(pos[0]));
	for (int i = 0; i < n; i++) {
		struct json_object *v;

		if (!opts[i].set)
			continue;
		if (map[i].kind == F_LIST)
			v = split_list(opts[i].val);
		else if (map[i].kind == F_BOOL)
			v = json_object_new_boolean(strcmp(opts[i].val, "false") != 0);
		else
			v = json_object_new_string(opts[i].val);
		json_object_object_add(*out, map[i].key, v);
	}
	return 0;
}

static int name_only(const char *cmd, int argc, char **argv, bool with_force,
		     struct json_object **out)
{
	struct cli_opt opts[1] = {{.name = "force", .kind = OPT_FLAG}};
	char *pos[1];
	int npos, rc = cli_parse(cmd, argc, argv, opts, with_force ? 1 : 0, pos, 1, &npos);

	if (rc)
		return rc;
	if (npos != 1)
		return cli_usage_error("%s: NAME missing", cmd);
	*out = json_object_new_object();
	json_object_object_add(*out, "name", json_object_new_string(pos[0]));
	if (with_force && opts[0].set)
		json_object_object_add(*out, "force",
				       json_object_new_boolean(strcmp(opts[0].val, "false") != 0));
	return 0;
}

static int simple_call(struct cli *c, const char *cmd, struct json_object *args, const char *what)
{
	struct json_object *res = NULL, *v;
	int rc = cli_call(c, cmd, args, &res);

	if (rc)
		return rc;
	if (c->json) {
		printf("%s\n", json_object_to_json_string_ext(
				   res, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		printf("%s %s %s", what,
		       json_object_object_get_ex(res, "name", &v) ? json_object_get_string(v) : "",
		       json_object_object_get_ex(res, "action", &v) ? json_object_get_string(v)
								    : "");
		if (json_object_object_get_ex(res, "flaggedServices", &v) && json_object_get_int(v))
			printf(" (%d services flagged out of pool)", json_object_get_int(v));
		if (json_object_object_get_ex(res, "note", &v))
			printf("; %s", json_object_get_string(v));
		printf("\n");
	}
	json_object_put(res);
	return 0;
}

static const struct cli_col pool_cols[] = {
    {"Name", "name"},
    {"Addresses", "addresses"},
    {"AutoAssign", "autoAssign"},
    {"AvoidBuggyIPs", "avoidBuggyIPs"},
    {"Priority", "priority"},
    {"Namespaces", "namespaces"},
    {"InUse/Total", "usage"},
    {"Services", "services"},
    {"Source", "source"},
    {NULL, NULL},
};

static const struct cli_col service_cols[] = {
    {"Name", "name"},	  {"IPs", "ips"},	{"Ports", "ports"}, {"Pool", "pool"},
    {"Status", "status"}, {"Reason", "reason"}, {NULL, NULL},
};

static const struct cli_col service_show_cols[] = {
    {"Name", "name"},
    {"IPs", "ips"},
    {"Ports", "ports"},
    {"Pool", "pool"},
    {"Status", "status"},
    {"Reason", "reason"},
    {"OutOfPool", "outOfPool"},
    {"IPFamily", "ipFamily"},
    {"SharedKey", "sharedKey"},
    {"RequestedIPs", "requestedIps"},
    {"RequestedPool", "requestedPool"},
    {"AllowIcmpEcho", "allowIcmpEcho"},
    {"Source", "source"},
    {"Backends", "backends"},
    {NULL, NULL},
};

static int cmd_pool_set(struct cli *c, int argc, char **argv)
{
	struct json_object *args;
	int rc =
	    build_args("pool set", argc, argv, pool_fields, N(pool_fields), "addresses", &args);

	return rc ? rc : simple_call(c, "pool.set", args, "pool");
}

static int list(struct cli *c, const char *cmd, const char *call, int argc, char **argv,
		const struct cli_col *cols)
{
	char *pos[1];
	int npos, rc = cli_parse(cmd, argc, argv, NULL, 0, pos, 0, &npos);

	if (rc)
		return rc;
	return cli_show(c, call, NULL, cols, true);
}

static int cmd_pool_list(struct cli *c, int argc, char **argv)
{
	return list(c, "pool list", "pool.list", argc, argv, pool_cols);
}

static int cmd_pool_remove(struct cli *c, int argc, char **argv)
{
	struct json_object *args;
	int rc = name_only("pool remove", argc, argv, true, &args);

	return rc ? rc : simple_call(c, "pool.remove", args, "pool");
}

static int cmd_service_set(struct cli *c, int argc, char **argv)
{
	struct json_object *args;
	int rc = build_args("service set", argc, argv, service_fields, N(service_fields), "ports",
			    &args);

	if (rc)
		return rc;
	return cli_show(c, "service.set", args, service_cols, false);
}

static int cmd_service_list(struct cli *c, int argc, char **argv)
{
	return list(c, "service list", "service.list", argc, argv, service_cols);
}

static int cmd_service_show(struct cli *c, int argc, char **argv)
{
	struct json_object *args;
	int rc = name_only("service show", argc, argv, false, &args);

	if (rc)
		return rc;
	return cli_show(c, "service.show", args, service_show_cols, false);
}

static int cmd_service_remove(struct cli *c, int argc, char **argv)
{
	struct json_object *args;
	int rc = name_only("service remove", argc, argv, false, &args);

	return rc ? rc : simple_call(c, "service.remove", args, "service");
}

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t r = fread(buf + n, 1, cap - n - 1, f);

		n += r;
		if (r == 0)
			break;
		if (n + 1 == cap) {
			cap *= 2;
			if (cap > (16u << 20)) {
				free(buf);
				return NULL;
			}
			buf = realloc(buf, cap);
		}
	}
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

static int cmd_apply(struct cli *c, int argc, char **argv)
{
	struct cli_opt opts[2] = {{.name = "filename", .alias = "f", .kind = OPT_STR},
				  {.name = "dry-run", .kind = OPT_FLAG}};
	struct json_object *args, *res = NULL, *changes, *warnings;
	char *pos[1], *text;
	int npos, rc;
	size_t len;
	FILE *f;

	/* kubectl spells it -f FILE; cli_parse reads a single dash as a cmdlet parameter */
	rc = cli_parse("apply", argc, argv, opts, 2, pos, 1, &npos);
	if (rc)
		return rc;
	if (!opts[0].set && npos == 1) {
		opts[0].val = pos[0];
		opts[0].set = true;
	}
	if (!opts[0].set)
		return cli_usage_error("apply: -f FILE missing (a YAML file, or - for stdin)");
	f = strcmp(opts[0].val, "-") ? fopen(opts[0].val, "r") : stdin;
	if (!f)
		return cli_usage_error("apply: %s: %s", opts[0].val, strerror(errno));
	text = read_all(f, &len);
	if (f != stdin)
		fclose(f);
	if (!text)
		return cli_usage_error("apply: %s: unreadable or larger than 16 MiB", opts[0].val);
	if (strlen(text) != len) {
		free(text);
		return cli_usage_error("apply: %s: contains a NUL byte (not YAML)", opts[0].val);
	}
	args = json_object_new_object();
	json_object_object_add(args, "yaml", json_object_new_string(text));
	json_object_object_add(args, "file", json_object_new_string(opts[0].val));
	json_object_object_add(
	    args, "dryRun", json_object_new_boolean(opts[1].set && strcmp(opts[1].val, "false")));
	free(text);
	rc = cli_call(c, "apply", args, &res);
	if (rc)
		return rc;
	if (c->json) {
		printf("%s\n", json_object_to_json_string_ext(
				   res, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		bool dry = false;
		struct json_object *v;

		if (json_object_object_get_ex(res, "dryRun", &v))
			dry = json_object_get_boolean(v);
		json_object_object_get_ex(res, "changes", &changes);
		for (size_t i = 0; changes && i < json_object_array_length(changes); i++) {
			struct json_object *ch = json_object_array_get_idx(changes, i), *k, *n, *a;

			json_object_object_get_ex(ch, "kind", &k);
			json_object_object_get_ex(ch, "name", &n);
			json_object_object_get_ex(ch, "action", &a);
			printf("%s/%s %s%s\n", json_object_get_string(k), json_object_get_string(n),
			       json_object_get_string(a), dry ? " (dry run)" : "");
		}
		if (json_object_object_get_ex(res, "warnings", &warnings))
			for (size_t i = 0; i < json_object_array_length(warnings); i++)
				fprintf(
				    stderr, "warning: %s\n",
				    json_object_get_string(json_object_array_get_idx(warnings, i)));
	}
	json_object_put(res);
	return 0;
}

const struct cli_cmd cli_alloc_cmds[] = {
    {"pool set", NULL, cmd_pool_set,
     "NAME --addresses CIDR|RANGE[,...] [--auto-assign=false] [--avoid-buggy-ips] "
     "[--priority N] [--namespaces NS,...] [--switch S] [--communities C,...] "
     "[--large-communities G:L1:L2,...] [--local-pref N] [--aggregation-length N] "
     "[--aggregation-length-v6 N] [--peers IP,...]",
     "create or replace an address pool (overlapping pools are refused)"},
    {"pool list", NULL, cmd_pool_list, "", "list pools with addresses in use and total"},
    {"pool remove", NULL, cmd_pool_remove, "NAME [--force]",
     "remove a pool (refused while services hold its addresses, unless --force)"},
    {"service set", NULL, cmd_service_set,
     "NAMESPACE/NAME --ports tcp/80,udp/53 [--ip IP[,IP]] [--pool NAME] [--shared-key KEY] "
     "[--ip-family ipv4|ipv6|dual] [--backends IP:PORT,...] [--allow-icmp-echo]",
     "create or replace a LoadBalancer service; prints its assignment"},
    {"service list", NULL, cmd_service_list, "", "list services: IPs, ports, pool, status, reason"},
    {"service show", NULL, cmd_service_show, "NAMESPACE/NAME",
     "show one service with its backends"},
    {"service remove", NULL, cmd_service_remove, "NAMESPACE/NAME",
     "remove a service and release its addresses"},
    {"apply", NULL, cmd_apply, "-f FILE [--dry-run]",
     "apply manifests: MetalLB IPAddressPool, BGPPeer, BFDProfile, BGPAdvertisement, Community, "
     "L2Advertisement; Kubernetes Service (LoadBalancer), EndpointSlice, Secret; edgelb YAML"},
    {NULL},
};
