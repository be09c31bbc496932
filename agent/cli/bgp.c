/* CLI: bgp peer set/list/remove/show and the seed's cmdlets (Set-HcsBGPPeer, Get-HcsBGPPeers,
 * Remove-HcsBGPPeer) with their PowerShell parameter names. Turns options into one bgp.peer.*
 * request; every check of values is the agent's (one source of error messages). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* option name, cmdlet alias, JSON key of the request */
struct opt_map {
	const char *name, *alias, *key;
	enum cli_opt_kind kind;
	bool text; /* a string even when all digits: keys, file names, names */
};

static const struct opt_map set_opts[] = {
	{"peer-address", "PeerAddress", "peerAddress", OPT_STR},
	{"peer-asn", "PeerAsn", "peerAsn", OPT_STR},
	{"self-asn", "SelfAsn", "selfAsn", OPT_STR},
	{"switch", "SwitchName", "switch", OPT_STR, true},
	{"hold-time", "HoldTimeInSeconds", "holdTime", OPT_STR},
	{"keepalive-time", "KeepaliveTimeInSeconds", "keepaliveTime", OPT_STR},
	{"connect-time", "ConnectTimeInSeconds", "connectTime", OPT_STR},
	{"password", "Password", "password", OPT_STR, true},
	{"password-file", "PasswordFile", "passwordFile", OPT_STR, true},
	{"ebgp-multihop", "EbgpMultiHop", "ebgpMultiHop", OPT_STR},
	{"source-address", "SourceAddress", "sourceAddress", OPT_STR},
	{"peer-port", "PeerPort", "peerPort", OPT_STR},
	{"router-id", "RouterId", "routerId", OPT_STR},
	{"passive", "Passive", "passive", OPT_FLAG},
	{"graceful-restart", "GracefulRestart", "gracefulRestart", OPT_FLAG},
	{"bfd", "Bfd", "bfd", OPT_FLAG},
	{"bfd-min-tx", "BfdMinTxInMilliseconds", "bfdMinTx", OPT_STR},
	{"bfd-min-rx", "BfdMinRxInMilliseconds", "bfdMinRx", OPT_STR},
	{"bfd-multiplier", "BfdMultiplier", "bfdMultiplier", OPT_STR},
	{"bfd-passive", "BfdPassive", "bfdPassive", OPT_FLAG},
	{"bfd-minimum-ttl", "BfdMinimumTtl", "bfdMinimumTtl", OPT_STR},
	{"bfd-echo-mode", "BfdEchoMode", "bfdEchoMode", OPT_FLAG},
	{"bfd-echo-interval", "BfdEchoIntervalInMilliseconds", "bfdEchoInterval", OPT_STR},
	{"bfd-auth-type", "BfdAuthType", "bfdAuthType", OPT_STR},
	{"bfd-auth-key-id", "BfdAuthKeyId", "bfdAuthKeyId", OPT_STR},
	{"bfd-auth-key", "BfdAuthKey", "bfdAuthKey", OPT_STR, true},
	/* repeated: one "ID:KEY" each, sent as a list */
	{"bfd-auth-accept-key", "BfdAuthAcceptKey", "bfdAuthAcceptKeys", OPT_LIST, true},
	{"dynamic-asn", "DynamicAsn", "dynamicAsn", OPT_STR},
};
#define N_SET (sizeof(set_opts) / sizeof(set_opts[0]))

static const struct cli_col list_cols[] = {
	/* as in the seed's Get-HcsBGPPeers output: ASNs left-aligned, HoldTime right-aligned */
	{"PeerAddress", "peerAddress"}, {"PeerAsn", "peerAsn", true}, {"SelfAsn", "selfAsn", true},
	{"HoldTime", "holdTime"},	  {"State", "state"},		{NULL, NULL},
};

/* A decimal number goes as a JSON number (unless the option is text), anything else as a
 * string for the agent to refuse with its one message naming the allowed values. */
static struct json_object *value(const struct cli_opt *o, const struct opt_map *m)
{
	const char *s = o->val;
	size_t n = strlen(s);

	if (m->kind == OPT_LIST) {
		struct json_object *a = json_object_new_array();

		for (int i = 0; i < o->n_vals; i++)
			json_object_array_add(a, json_object_new_string(o->vals[i]));
		return a;
	}
	if (m->kind == OPT_FLAG)
		return json_object_new_boolean(!strcmp(s, "true"));
	if (!m->text && n && n < 19 && strspn(s, "0123456789") == n)
		return json_object_new_int64(strtoll(s, NULL, 10));
	return json_object_new_string(s);
}

static void fill(struct cli_opt *o, const struct opt_map *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		o[i] = (struct cli_opt){.name = m[i].name, .alias = m[i].alias, .kind = m[i].kind};
}

static int cmd_set(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[N_SET];
	struct json_object *args, *res = NULL;
	char *pos[1];
	int npos, rc;
	bool dynamic = false;

	fill(o, set_opts, N_SET);
	rc = cli_parse("bgp peer set", argc, argv, o, (int)N_SET, pos, 0, &npos);
	if (rc)
		return rc;
	for (size_t i = 0; i < N_SET; i++)
		dynamic |= !strcmp(set_opts[i].key, "dynamicAsn") && o[i].set;
	for (int i = 0; i < 4; i++) /* the first four are required; --dynamic-asn stands for one */
		if (!o[i].set && !(dynamic && !strcmp(set_opts[i].key, "peerAsn")))
			return cli_usage_error("bgp peer set: --%s is required (usage: --peer-address A "
					       "--peer-asn N|--dynamic-asn internal|external "
					       "--self-asn M --switch S)", o[i].name);
	args = json_object_new_object();
	for (size_t i = 0; i < N_SET; i++)
		if (o[i].set)
			json_object_object_add(args, set_opts[i].key, value(&o[i], &set_opts[i]));
	rc = cli_call(c, "bgp.peer.set", args, &res);
	if (rc)
		return rc;
	if (c->json)
		cli_print_object(c, res, NULL);
	json_object_put(res);
	return 0;
}

static int cmd_list(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{.name = "switch", .alias = "SwitchName", .kind = OPT_STR}};
	struct json_object *args;
	char *pos[1];
	int npos, rc;

	rc = cli_parse("bgp peer list", argc, argv, o, 1, pos, 0, &npos);
	if (rc)
		return rc;
	args = json_object_new_object();
	if (o[0].set)
		json_object_object_add(args, "switch", json_object_new_string(o[0].val));
	return cli_show(c, "bgp.peer.list", args, list_cols, true);
}

static int cmd_remove(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {
		{.name = "peer-address", .alias = "PeerAddress", .kind = OPT_STR},
		{.name = "switch", .alias = "SwitchName", .kind = OPT_STR},
	};
	struct json_object *args, *res = NULL;
	char *pos[1];
	int npos, rc;

	rc = cli_parse("bgp peer remove", argc, argv, o, 2, pos, 0, &npos);
	if (rc)
		return rc;
	if (!o[0].set || !o[1].set)
		return cli_usage_error("bgp peer remove: --%s is required (usage: --peer-address A "
				       "--switch S)", o[0].set ? "switch" : "peer-address");
	args = json_object_new_object();
	json_object_object_add(args, "peerAddress", json_object_new_string(o[0].val));
	json_object_object_add(args, "switch", json_object_new_string(o[1].val));
	rc = cli_call(c, "bgp.peer.remove", args, &res);
	json_object_put(res);
	return rc;
}

static int cmd_show(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
		{"PeerAddress", "peerAddress"},
		{"Switch", "switch"},
		{"State", "state"},
		{"PeerAsn", "peerAsn"},
		{"DynamicAsn", "dynamicAsn"},
		{"SelfAsn", "selfAsn"},
		{"RouterId", "routerId"},
		{"PeerRouterId", "peerRouterId"},
		{"Capabilities", "capabilities"},
		{"HoldTime", "holdTime"},
		{"NegotiatedHoldTime", "negotiatedHoldTime"},
		{"KeepaliveTime", "keepaliveTime"},
		{"Uptime", "uptimeSeconds"},
		{"PrefixesSent", "prefixesSent"},
		{"PrefixesReceived", "prefixesReceived"},
		{"UpdatesSent", "updatesSent"},
		{"UpdatesReceived", "updatesReceived"},
		{"UpdatesTreatedAsWithdraw", "updatesTreatedAsWithdraw"},
		{"AttributesDiscarded", "attributesDiscarded"},
		{"LastError", "lastError"},
		{"Bfd", "bfdState"},
		{"BfdRemoteState", "bfdRemoteState"},
		{"BfdDiagnostic", "bfdDiagnostic"},
		{"BfdMinTx", "bfdMinTx"},
		{"BfdMinRx", "bfdMinRx"},
		{"BfdMultiplier", "bfdMultiplier"},
		{"BfdPassive", "bfdPassive"},
		{"BfdMinimumTtl", "bfdMinimumTtl"},
		{"BfdAuthType", "bfdAuthType"},
		{"BfdAuthKeyId", "bfdAuthKeyId"},
		{"BfdAuthAcceptKeyIds", "bfdAuthAcceptKeyIds"},
		{"BfdAuthReceivedKeyId", "bfdAuthReceivedKeyId"},
		{"BfdTxInterval", "bfdTxInterval"},
		{"BfdDetectTime", "bfdDetectTime"},
		{"BfdUpCount", "bfdUpCount"},
		{"BfdDownCount", "bfdDownCount"},
		{"BfdEchoMode", "bfdEchoMode"},
		{"BfdEchoInterval", "bfdEchoInterval"},
		{"BfdEchoActive", "bfdEchoActive"},
		{"BfdEchoTxInterval", "bfdEchoTxInterval"},
		{"BfdEchoPacketsSent", "bfdEchoPacketsSent"},
		{"BfdEchoPacketsReceived", "bfdEchoPacketsReceived"},
		{NULL, NULL},
	};
	struct cli_opt o[] = {
		{.name = "peer-address", .alias = "PeerAddress", .kind = OPT_STR},
		{.name = "switch", .alias = "SwitchName", .kind = OPT_STR},
	};
	struct json_object *args;
	char *pos[1];
	const char *addr;
	int npos = 0, rc;

	rc = cli_parse("bgp peer show", argc, argv, o, 2, pos, 1, &npos);
	if (rc)
		return rc;
	addr = npos ? pos[0] : o[0].set ? o[0].val : NULL;
	if (!addr)
		return cli_usage_error("bgp peer show: the peer address is required (usage: bgp peer "
				       "show A [--switch S])");
	args = json_object_new_object();
	json_object_object_add(args, "peerAddress", json_object_new_string(addr));
	if (o[1].set)
		json_object_object_add(args, "switch", json_object_new_string(o[1].val));
	return cli_show(c, "bgp.peer.show", args, cols, false);
}

const struct cli_cmd cli_bgp_cmds[] = {
	{"bgp peer set", "Set-HcsBGPPeer", cmd_set,
	 "--peer-address A (--peer-asn N | --dynamic-asn internal|external) --self-asn M "
	 "--switch S [--hold-time T] "
	 "[--keepalive-time T] [--connect-time T] [--password K | --password-file F] "
	 "[--ebgp-multihop N] [--source-address A] [--peer-port P] [--router-id ID] [--passive] "
	 "[--graceful-restart] [--bfd [--bfd-min-tx MS] [--bfd-min-rx MS] [--bfd-multiplier N] "
	 "[--bfd-passive] [--bfd-minimum-ttl N] [--bfd-echo-mode [--bfd-echo-interval MS]] "
	 "[--bfd-auth-type T --bfd-auth-key K "
	 "[--bfd-auth-key-id N] [--bfd-auth-accept-key ID:KEY ...]]]",
	 "add or change a BGP peer (the session starts at once)"},
	{"bgp peer list", "Get-HcsBGPPeers", cmd_list, "[--switch S]",
	 "list BGP peers with their session state"},
	{"bgp peer remove", "Remove-HcsBGPPeer", cmd_remove, "--peer-address A --switch S",
	 "remove a BGP peer (Cease / peer de-configured)"},
	{"bgp peer show", NULL, cmd_show, "A [--switch S]",
	 "show a session: capabilities, timers, uptime, prefixes, last error, BFD"},
	{NULL},
};
