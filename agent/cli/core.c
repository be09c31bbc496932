/* CLI: status, switch list (the seed's Get-HcsExternalVirtualSwitch). */
#include <stdio.h>

#include "cli/cli.h"

static int cmd_status(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
		{"NodeName", "nodeName"},     {"Version", "version"},
		{"Uptime", "uptimeSeconds"},  {"ConfigFile", "configFile"},
		{"StateDir", "stateDir"},     {"RunDir", "runDir"},
		{"Bpffs", "bpffs"},	      {"Metrics", "metrics"},
		{"Reloads", "reloads"},	      {"Switches", "switches"},
		{"Pools", "pools"},	      {"BGPPeers", "bgpPeers"},
		{"Services", "services"},     {"ServicesAssigned", "servicesAssigned"},
		{"Etcd", "etcd"},	      {"Lease", "lease"},
		{"LeaseLive", "leaseLive"},   {"L2IpsHeld", "l2IpsHeld"},
		{"L2IpsWanted", "l2IpsWanted"}, {"IpClaimsRead", "ipClaimsRead"},
		{"IpClaims", "ipClaims"},     {NULL, NULL},
	};
	char *pos[1];
	int npos, rc = cli_parse("status", argc, argv, NULL, 0, pos, 0, &npos);

	if (rc)
		return rc;
	return cli_show(c, "status", NULL, cols, false);
}

static int cmd_switch_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
		{"Name", "name"},
		{"InterfaceAlias", "interfaceAlias"},
		{"EnabledForCompute", "enabledForCompute"},
		{"BGPPeers", "bgpPeers"},
		{"IPAddressPools", "ipAddressPools"},
		{"Mode", "mode"},
		{"XdpMode", "xdp"},
		{"Warnings", "warnings"},
		{NULL, NULL},
	};
	struct json_object *res;
	char *pos[1];
	int npos, rc = cli_parse("switch list", argc, argv, NULL, 0, pos, 0, &npos);

	if (rc)
		return rc;
	rc = cli_call(c, "switch.list", NULL, &res);
	if (rc)
		return rc;
	if (c->json) {
		cli_print_object(c, res, cols); /* the array as JSON */
	} else {
		for (size_t i = 0; i < json_object_array_length(res); i++)
			cli_print_object(c, json_object_array_get_idx(res, i), cols);
		printf("\n");
	}
	json_object_put(res);
	return 0;
}

const struct cli_cmd cli_core_cmds[] = {
	{"status", NULL, cmd_status, "", "show the agent: node, dirs, uptime, object counts"},
	{"switch list", "Get-HcsExternalVirtualSwitch", cmd_switch_list, "",
	 "list switches: interfaces, compute, BGP peers, pools, announcement mode"},
	{NULL},
};
