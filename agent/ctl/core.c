/* Core control commands: status (the agent itself) and switch.list (the seed's
 * Get-HcsExternalVirtualSwitch: name, interfaces, compute, BGP peers, pools, mode). */
#include <string.h>

#include "alloc/alloc.h"
#include "bgp/bgp.h"
#include "cluster/cluster.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "daemon/agent.h"
#include "dataplane/dp.h"
#include "l2/l2.h"
#include "lib/ev.h"
#include "version.h"

static void count_assigned(const struct alloc_assignment *as, void *arg)
{
	if (as->status == ALLOC_ASSIGNED)
		(*(int *)arg)++;
}

static int cmd_status(struct agent *a, struct json_object *args, struct json_object **res,
		      struct ctl_err *e)
{
	struct json_object *o = json_object_new_object();
	int assigned = 0;

	alloc_foreach(a->alloc, count_assigned, &assigned);
	json_object_object_add(o, "nodeName", json_object_new_string(a->node_name));
	json_object_object_add(o, "version", json_object_new_string(EDGELB_VERSION));
	json_object_object_add(o, "uptimeSeconds", json_object_new_int64((int64_t)((ev_now_ms() - a->started_ms) / 1000)));
	json_object_object_add(o, "configFile", json_object_new_string(a->config_path ? a->config_path : ""));
	json_object_object_add(o, "stateDir", json_object_new_string(a->state_dir));
	json_object_object_add(o, "runDir", json_object_new_string(a->run_dir));
	json_object_object_add(o, "bpffs", json_object_new_string(a->bpffs));
	json_object_object_add(o, "metrics", json_object_new_string(a->metrics_addr));
	json_object_object_add(o, "reloads", json_object_new_int64((int64_t)a->reloads));
	json_object_object_add(o, "switches", json_object_new_int(a->cfg->n_switches));
	json_object_object_add(o, "pools", json_object_new_int(a->cfg->n_pools));
	json_object_object_add(o, "bgpPeers", json_object_new_int(a->cfg->n_peers));
	json_object_object_add(o, "services", json_object_new_int(a->cfg->n_services));
	json_object_object_add(o, "servicesAssigned", json_object_new_int(assigned));
	cluster_status_add(a->cluster, o);
	*res = o;
	return 0;
}

static struct json_object *switch_row(struct agent *a, const struct cfg_switch *s)
{
	struct json_object *o = json_object_new_object(), *arr, *xdp;
	char addr[IP_STRLEN], warn[512];

	json_object_object_add(o, "name", json_object_new_string(s->name));
	arr = json_object_new_array();
	xdp = json_object_new_array();
	for (int i = 0; i < s->n_ifaces; i++) {
		json_object_array_add(arr, json_object_new_string(s->ifaces[i]));
		json_object_array_add(xdp, json_object_new_string(dp_attach_mode(a->dp, s->ifaces[i])));
	}
	json_object_object_add(o, "interfaceAlias", arr);
	json_object_object_add(o, "enabledForCompute", json_object_new_boolean(s->compute));
	arr = json_object_new_array();
	for (int i = 0; i < a->cfg->n_peers; i++)
		if (strcmp(a->cfg->peers[i].sw, s->name) == 0)
			json_object_array_add(arr, json_object_new_string(ip_str(&a->cfg->peers[i].addr, addr)));
	json_object_object_add(o, "bgpPeers", arr);
	arr = json_object_new_array();
	for (int i = 0; i < a->cfg->n_pools; i++)
		if (cfg_pool_switch(a->cfg, &a->cfg->pools[i]) == s)
			json_object_array_add(arr, json_object_new_string(a->cfg->pools[i].name));
	json_object_object_add(o, "ipAddressPools", arr);
	json_object_object_add(o, "mode", json_object_new_string(l2_switch_mode(a, s)));
	json_object_object_add(o, "xdp", xdp);
	l2_switch_warnings(a->l2, s->name, warn, sizeof(warn));
	json_object_object_add(o, "warnings", json_object_new_string(warn));
	return o;
}

static int cmd_switch_list(struct agent *a, struct json_object *args, struct json_object **res,
			   struct ctl_err *e)
{
	struct json_object *rows = json_object_new_array();

	for (int i = 0; i < a->cfg->n_switches; i++)
		json_object_array_add(rows, switch_row(a, &a->cfg->switches[i]));
	*res = rows;
	return 0;
}

const struct ctl_cmd ctl_core_cmds[] = {
	{"status", cmd_status, NULL},
	{"switch.list", cmd_switch_list, NULL},
	{NULL},
};
