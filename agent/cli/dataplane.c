/* CLI: stats (dataplane counters by reason), explain (fast path). */
#include <json-c/json.h>

#include "cli/cli.h"

static int cmd_stats(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
	    {"Id", "id"},	{"Reason", "reason"}, {"Packets", "packets"},
	    {"Bytes", "bytes"}, {NULL, NULL},
	};
	char *pos[1];
	int npos, rc = cli_parse("stats", argc, argv, NULL, 0, pos, 0, &npos);

	if (rc)
		return rc;
	return cli_show(c, "stats", NULL, cols, true);
}

int cli_explain(struct cli *c, int argc, char **argv); /* cli/explain.c */

const struct cli_cmd cli_dp_cmds[] = {
    {"stats", NULL, cmd_stats, "", "dataplane counters by reason, summed over CPUs"},
    {"explain", NULL, cli_explain, "--src IP:PORT --dst VIP:PORT --proto tcp|udp",
     "run a synthetic packet through the fast path: which backend, and why"},
    {NULL},
};
