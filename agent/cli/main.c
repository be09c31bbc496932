/* edgelb: the CLI. Global options, then a command found in the module tables by its words
 * (or a seed cmdlet alias, any case). Exit codes: 0 ok, 1 refused, 2 usage, 3 unreachable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "version.h"

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

/* Whether the list "a, b, c" holds word. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* argv names no command: when its first words begin some command paths (edgelb bgp peer),
 * the error lists the words that may follow; else it is an unknown command. */
static int no_command(int argc, char **argv)
{
	char prefix[128] = "", next[256] = "";
	int depth = 0;

	for (; depth < argc; depth++) {
		char want[128];
		bool any = false;

		snprintf(want, sizeof(want), "%s%s%s ", prefix, depth ? " " : "", argv[depth]);
		for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]) && !any; t++)
			for (const struct cli_cmd *c = tables[t]; c->path && !any; c++)
				any = !strncmp(c->path, want, strlen(want));
		if (!any)
			break;
		want[strlen(want) - 1] = '\0';
		snprintf(prefix, sizeof(prefix), "%s", want);
	}
	if (!depth)
		return cli_usage_error("unknown command \"%s\" (run edgelb --help for the list)",
				       argv[0]);
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct cli_cmd *c = tables[t]; c->path; c++) {
			const char *w = c->path + strlen(prefix);
			size_t used = strlen(next);
			char word[64];

			if (strncmp(c->path, prefix, strlen(prefix)) || *w != ' ')
				continue;
			snprintf(word, sizeof(word), "%.*s", (int)strcspn(w + 1, " "), w + 1);
			if (!has_word(next, word))
				snprintf(next + used, sizeof(next) - used, "%s%s", used ? ", " : "",
					 word);
		}
	if (depth == argc)
		return cli_usage_error("%s: missing subcommand (allowed: %s)", prefix, next);
	return cli_usage_error("%s: unknown subcommand \"%s\" (allowed: %s)", prefix, argv[depth],
			       next);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: edgelb [--socket PATH] [-o table|json] COMMAND [OPTIONS]\n"
		   "       edgelb --version\n\ncommands:\n");
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
		} else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) &&
			   i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "json"))
				c.json = true;
			else if (strcmp(argv[i], "table"))
				return cli_usage_error(
				    "-o: \"%s\": unknown output (allowed: table, json)", argv[i]);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("edgelb %s\n", EDGELB_VERSION);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			return cli_usage_error("unknown global option %s (allowed: --socket PATH, "
					       "-o table|json, --version)",
					       argv[i]);
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
		return no_command(argc - i, argv + i);
	return best->fn(&c, argc - i - best_n, argv + i + best_n);
}
