/* Control commands of the dataplane: stats (per-reason counters of stats_v1 summed over CPUs,
 * names from elb_reason_names), explain (fast path). One row per named reason. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define ELB_STATS_NAMES
#include <edgelb/maps.h>
#include <edgelb/stats.h>

#include "ctl/ctl.h"
#include "daemon/agent.h"
#include "dataplane/dp.h"
#include "dataplane/lb.h"

static int cmd_stats(struct agent *a, struct json_object *args, struct json_object **res,
		     struct ctl_err *e)
{
	int fd = dp_map_fd(a->dp, ELB_MAP_STATS), ncpu = libbpf_num_possible_cpus();
	struct json_object *rows;

	if (fd < 0)
		return ctl_fail(e, "stats: the dataplane is not loaded");
	if (ncpu <= 0)
		return ctl_fail(e, "stats: cannot count CPUs");
	struct elb_counter per[ncpu];

	rows = json_object_new_array();
	for (__u32 r = 0; r < ELB_R_MAX; r++) {
		struct json_object *o;
		uint64_t pk = 0, by = 0;

		if (!elb_reason_names[r])
			continue;
		if (bpf_map_lookup_elem(fd, &r, per) < 0) {
			json_object_put(rows);
			return ctl_fail(e, "stats: %s[%u]: %s", ELB_MAP_STATS, r, strerror(errno));
		}
		for (int c = 0; c < ncpu; c++) {
			pk += per[c].packets;
			by += per[c].bytes;
		}
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int((int)r));
		json_object_object_add(o, "reason", json_object_new_string(elb_reason_names[r]));
		json_object_object_add(o, "packets", json_object_new_uint64(pk));
		json_object_object_add(o, "bytes", json_object_new_uint64(by));
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
