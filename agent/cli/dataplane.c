/* CLI: stats (dataplane counters by reason), explain (fast path). */
#include <json-c/json.h>

#include "cli/cli.h"

static int cmd_stats(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
	    {"Id", "id"},	{"Reason", "reason"}, {"Packets", "packets"},
	    {"Bytes", "bytes"}, {NULL, NULL},
	};
	struct json_object *res;
	char *pos[1];
	int npos, rc = cli_parse("stats", argc, argv, NULL, 0, pos, 0, &npos);

	if (rc)
		return rc;
	rc = cli_call(c, "stats", NULL, &res);
	if (rc)
		return rc;
	cli_print_rows(c, res, cols);
	json_object_put(res);
	return 0;
}

int cli_explain(struct cli *c, int argc, char **argv); /* cli/explain.c */

const struct cli_cmd cli_dp_cmds[] = {
    {"stats", NULL, cmd_stats, "", "dataplane counters by reason, summed over CPUs"},
    {"explain", NULL, cli_explain, "--src IP:PORT --dst VIP:PORT --proto tcp|udp",
     "run a synthetic packet through the fast path: which backend, and why"},
    {NULL},
};
