/* Control commands of the dataplane: stats (per-reason counters of stats_v1 summed over CPUs,
 * names from elb_reason_names), explain (fast path). One row per named reason. */
#define ELB_STATS_NAMES
#include <edgelb/stats.h>

#include "ctl/ctl.h"
#include "daemon/agent.h"
#include "dataplane/dp.h"
#include "dataplane/lb.h"

static int cmd_stats(struct agent *a, struct json_object *args, struct json_object **res,
		     struct ctl_err *e)
{
	uint64_t pk[ELB_R_MAX], by[ELB_R_MAX];
	struct json_object *rows;

	if (dp_reason_totals(a->dp, pk, by) < 0)
		return ctl_fail(e, "stats: the dataplane is not loaded");
	rows = json_object_new_array();
	for (int r = 0; r < ELB_R_MAX; r++) {
		struct json_object *o;

		if (!elb_reason_names[r])
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int(r));
		json_object_object_add(o, "reason", json_object_new_string(elb_reason_names[r]));
		json_object_object_add(o, "packets", json_object_new_uint64(pk[r]));
		json_object_object_add(o, "bytes", json_object_new_uint64(by[r]));
		json_object_array_add(rows, o);
	}
	*res = rows;
	return 0;
}

const struct ctl_cmd dp_ctl_cmds[] = {
    {"stats", cmd_stats, NULL},
    {"explain", dp_ctl_explain, dp_explain_fields}, /* dataplane/explain.c */
    {NULL},
};
