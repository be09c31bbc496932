/* edgelb: the CLI. Global options, then a command found in the module tables by its words
 * (or a seed cmdlet alias, any case). Exit codes: 0 ok, 1 refused, 2 usage, 3 unreachable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

#define DEFAULT_SOCKET "/run/edgelb/edgelb.sock"

static const struct cli_cmd *const tables[] = {cli_core_cmds, cli_alloc_cmds, cli_bgp_cmds,
					       cli_dp_cmds};

/* Number of words of path that argv starts with, or 0. */
static int match(const char *path, int argc, char **argv)
{
	char buf[128], *save, *w;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (n >= argc || strcmp(argv[n], w) != 0)
			return 0;
		n++;
	}
	return n;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: edgelb [--socket PATH] [-o table|json] COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct cli_cmd *c = tables[t]; c->path; c++) {
			fprintf(f, "  %s %s\n      %s", c->path, c->usage, c->help);
			if (c->alias)
				fprintf(f, " (alias: %s)", c->alias);
			fprintf(f, "\n");
		}
	fprintf(f, "\nenvironment: EDGELB_SOCKET (default %s)\n", DEFAULT_SOCKET);
}

int main(int argc, char **argv)
{
	struct cli c = {.socket = getenv("EDGELB_SOCKET")};
	const struct cli_cmd *best = NULL;
	int i, best_n = 0;

	if (!c.socket || !*c.socket)
		c.socket = DEFAULT_SOCKET;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			c.socket = argv[++i];
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			c.socket = argv[i] + 9;
		} else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "json"))
				c.json = true;
			else if (strcmp(argv[i], "table"))
				return cli_usage_error("-o: \"%s\": unknown output (allowed: table, json)", argv[i]);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			return cli_usage_error("unknown global option %s (allowed: --socket PATH, -o table|json)", argv[i]);
		} else {
			break;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct cli_cmd *cmd = tables[t]; cmd->path; cmd++) {
			int n = match(cmd->path, argc - i, argv + i);
			if (n > best_n) {
				best = cmd;
				best_n = n;
			}
			if (cmd->alias && !strcasecmp(cmd->alias, argv[i]) && best_n < 1) {
				best = cmd;
				best_n = 1;
			}
		}
	if (!best)
		return cli_usage_error("unknown command \"%s\" (run edgelb --help for the list)", argv[i]);
	return best->fn(&c, argc - i - best_n, argv + i + best_n);
}
