/* CLI: edgelb explain --src IP:PORT --dst VIP:PORT --proto tcp|udp — asks the agent to run a
 * synthetic packet through the loaded fast path and prints where it goes and why. */
#include <stdio.h>
#include <json-c/json.h>

#include "cli/cli.h"

int cli_explain(struct cli *c, int argc, char **argv);

int cli_explain(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
		{"Action", "action"},	  {"Service", "service"},     {"Backend", "backend"},
		{"Conntrack", "conntrack"}, {"Reasons", "reasons"},	     {"Why", "why"},
		{NULL, NULL},
	};
	struct cli_opt o[] = {
		{.name = "src", .kind = OPT_STR},
		{.name = "dst", .kind = OPT_STR},
		{.name = "proto", .kind = OPT_STR},
	};
	struct json_object *args, *res = NULL;
	char *pos[1];
	int npos, rc = cli_parse("explain", argc, argv, o, 3, pos, 0, &npos);

	if (rc)
		return rc;
	for (int i = 0; i < 3; i++)
		if (!o[i].set)
			return cli_usage_error("explain: --%s is required (--src IP:PORT --dst "
					       "VIP:PORT --proto tcp|udp)",
					       o[i].name);
	args = json_object_new_object();
	for (int i = 0; i < 3; i++)
		json_object_object_add(args, o[i].name, json_object_new_string(o[i].val));
	rc = cli_call(c, "explain", args, &res);
	if (rc)
		return rc;
	if (!c->json) { /* reasons as one comma-separated cell */
		struct json_object *r;

		if (json_object_object_get_ex(res, "reasons", &r) &&
		    json_object_is_type(r, json_type_array)) {
			char buf[512] = "";
			size_t len = 0;

			for (size_t i = 0; i < json_object_array_length(r) && len < sizeof(buf); i++)
				len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
							i ? "," : "",
							json_object_get_string(
								json_object_array_get_idx(r, i)));
			json_object_object_add(res, "reasons", json_object_new_string(buf));
		}
	}
	cli_print_object(c, res, cols);
	json_object_put(res);
	return 0;
}
