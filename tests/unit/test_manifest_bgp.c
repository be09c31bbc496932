/* Unit tests of apply -f for MetalLB's BGPPeer, BFDProfile, BGPAdvertisement, Community and
 * L2Advertisement (bgp/manifest_bgp.c, l2/manifest_l2.c) through the real manifest_apply,
 * the real store in a temp dir and agent_commit: the edgelb objects they become, re-apply
 * unchanged, dry runs, and bad manifests refused in one line naming the manifest, the field
 * and the value, with the store untouched. Also Go duration parsing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "alloc/manifest.h"
#include "bgp/manifest_bgp.h"
#include "config/config.h"
#include "daemon/agent.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "store/store.h"
#include "agent_fixture.h"
#include "t.h"

static void add_switch(struct cfg *c, const char *name, const char *ifn, bool compute)
{
	struct cfg_switch *s = cfg_array_push((void **)&c->switches, &c->n_switches, sizeof(*s));

	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->ifaces[0], sizeof(s->ifaces[0]), "%s", ifn);
	s->n_ifaces = 1;
	s->compute = compute;
}

/* An agent with vSwitch1 (eth1, compute), vSwitch2 (lo, not compute) and, when two_compute,
 * vSwitch3 (eth3, compute); a config-file pool "filepool". */
static struct agent *agent_up(bool two_compute)
{
	struct agent *a = fx_agent_new("elbmlb");

	add_switch(a->file_cfg, "vSwitch1", "eth1", true);
	add_switch(a->file_cfg, "vSwitch2", "lo", false);
	if (two_compute)
		add_switch(a->file_cfg, "vSwitch3", "eth3", true);
	fx_pool(a->file_cfg, "{\"name\":\"filepool\",\"addresses\":[\"203.0.113.0/30\"]}");
	fx_agent_ready(a);
	return a;
}

static int count_action(struct json_object *res, const char *action)
{
	struct json_object *ch;
	int n = 0;

	if (!res || !json_object_object_get_ex(res, "changes", &ch))
		return -1;
	for (size_t i = 0; i < json_object_array_length(ch); i++) {
		struct json_object *v;

		json_object_object_get_ex(json_object_array_get_idx(ch, i), "action", &v);
		n += !strncmp(json_object_get_string(v), action, strlen(action));
	}
	return n;
}

static bool has_warning(struct json_object *res, const char *sub)
{
	struct json_object *w;

	if (!res || !json_object_object_get_ex(res, "warnings", &w))
		return false;
	for (size_t i = 0; i < json_object_array_length(w); i++)
		if (strstr(json_object_get_string(json_object_array_get_idx(w, i)), sub))
			return true;
	return false;
}

/* The stored field as plain JSON text ("" when absent). */
static const char *field(struct agent *a, const char *kind, const char *key, const char *f)
{
	struct json_object *o = store_get(a->store, kind, key), *v;

	if (!o || !json_object_object_get_ex(o, f, &v))
		return "";
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static const char good[] =
    "apiVersion: metallb.io/v1beta1\n"
    "kind: BGPAdvertisement\n"
    "metadata: {name: adv, namespace: metallb-system}\n"
    "spec:\n"
    "  ipAddressPools: [p1]\n"
    "  communities: [vpn-only, '64512:100', no-export, 'large:64512:1:2']\n"
    "  localPref: 150\n"
    "  aggregationLength: 32\n"
    "  aggregationLengthV6: 120\n"
    "  peers: [tor]\n"
    "  nodeSelectors: [{matchLabels: {a: b}}]\n"
    "---\n"
    "apiVersion: metallb.io/v1beta1\n"
    "kind: Community\n"
    "metadata: {name: communities}\n"
    "spec:\n"
    "  communities:\n"
    "  - {name: vpn-only, value: '1234:1'}\n"
    "---\n"
    "apiVersion: metallb.io/v1beta1\n"
    "kind: IPAddressPool\n"
    "metadata: {name: p1}\n"
    "spec: {addresses: [198.51.100.0/28, '2001:db8::/120']}\n"
    "---\n"
    "apiVersion: metallb.io/v1beta2\n"
    "kind: BGPPeer\n"
    "metadata: {name: tor, namespace: metallb-system}\n"
    "spec:\n"
    "  myASN: 64513\n"
    "  peerASN: 64512\n"
    "  peerAddress: 192.0.2.1\n"
    "  sourceAddress: 192.0.2.2\n"
    "  peerPort: 1179\n"
    "  holdTime: 1m30s\n"
    "  keepaliveTime: 30s\n"
    "  connectTime: 5s\n"
    "  routerID: 192.0.2.2\n"
    "  password: s3cret\n"
    "  ebgpMultiHop: true\n"
    "  enableGracefulRestart: true\n"
    "  bfdProfile: fast\n"
    "---\n"
    "apiVersion: metallb.io/v1beta1\n"
    "kind: BFDProfile\n"
    "metadata: {name: fast, namespace: metallb-system}\n"
    "spec: {receiveInterval: 200, transmitInterval: 250, detectMultiplier: 4,\n"
    "       echoInterval: 50, echoMode: false, passiveMode: true, minimumTtl: 254}\n";

static int run(struct agent *a, const char *yaml, bool dry, struct json_object **res, char *msg,
	       size_t len)
{
	int rc;

	*res = NULL;
	msg[0] = '\0';
	rc = manifest_apply(a, "f.yaml", yaml, dry, res, msg, len);
	*res = fx_wire(*res);
	return rc;
}

static void test_good(void)
{
	struct agent *a = agent_up(false);
	struct json_object *res;
	char msg[1024], *before, *after;
	int rc;

	T_BEGIN("apply --dry-run of BGPPeer/BGPAdvertisement/Community/pool changes nothing");
	before = fx_store_dump(a);
	rc = run(a, good, true, &res, msg, sizeof(msg));
	after = fx_store_dump(a);
	T_EXPECT(rc == 0, "dry run accepted: %s", msg);
	T_EXPECT(count_action(res, "created") == 2, "a pool and a peer would be created (%d)",
		 count_action(res, "created"));
	T_EXPECT(!strcmp(before, after), "store unchanged by the dry run");
	json_object_put(res);
	free(before);
	free(after);
	T_END();

	T_BEGIN("BGPPeer v1beta2 becomes the edgelb peer on the only compute switch");
	rc = run(a, good, false, &res, msg, sizeof(msg));
	T_EXPECT(rc == 0, "apply accepted: %s", msg);
	T_EXPECT(store_get(a->store, CFG_KIND_PEER, "vSwitch1/192.0.2.1") != NULL,
		 "peer stored under vSwitch1/192.0.2.1");
	{
		/* the stored peer: our field, its value, and the MetalLB field it came from */
		static const struct {
			const char *field, *want, *what;
		} peer[] = {
		    {"selfAsn", "64513", "myASN -> selfAsn"},
		    {"peerAsn", "64512", "peerASN -> peerAsn"},
		    {"holdTime", "90", "holdTime 1m30s -> 90"},
		    {"keepaliveTime", "30", "keepaliveTime 30s -> 30"},
		    {"connectTime", "5", "connectTime 5s -> 5"},
		    {"ebgpMultiHop", "255", "ebgpMultiHop true -> TTL 255"},
		    {"peerPort", "1179", "peerPort"},
		    {"sourceAddress", "\"192.0.2.2\"", "sourceAddress"},
		    {"routerId", "\"192.0.2.2\"", "routerID -> routerId"},
		    {"password", "\"s3cret\"", "password"},
		    {"gracefulRestart", "true", "enableGracefulRestart -> gracefulRestart"},
		    {"bfd", "true", "bfdProfile fast (a later document) -> bfd on"},
		    {"bfdMinRx", "200", "receiveInterval -> bfdMinRx"},
		    {"bfdMinTx", "250", "transmitInterval -> bfdMinTx"},
		    {"bfdMultiplier", "4", "detectMultiplier -> bfdMultiplier"},
		    {"bfdPassive", "true", "passiveMode -> bfdPassive"},
		    {"bfdMinimumTtl", "254", "minimumTtl -> bfdMinimumTtl"},
		    {"bfdEchoMode", "", "echoMode false -> no bfdEchoMode"},
		    {"bfdEchoInterval", "", "echoInterval without echoMode true: no effect"},
		};

		for (size_t i = 0; i < sizeof(peer) / sizeof(peer[0]); i++) {
			const char *got = field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1", peer[i].field);

			T_EXPECT(!strcmp(got, peer[i].want), "%s (%s)", peer[i].what, got);
		}
	}
	T_EXPECT(a->cfg->n_peers == 1, "the running state has the peer (%d)", a->cfg->n_peers);
	T_EXPECT(a->cfg->n_peers == 1 && a->cfg->peers[0].bfd &&
		     a->cfg->peers[0].bfd_min_rx_ms == 200 && a->cfg->peers[0].bfd_mult == 4,
		 "the running peer has the profile's BFD settings");
	T_EXPECT(!has_warning(res, "bfdProfile"), "bfdProfile not warned about");
	T_EXPECT(!has_warning(res, "minimumTtl") && !has_warning(res, "passiveMode"),
		 "minimumTtl and passiveMode taken, not warned about");
	T_EXPECT(!has_warning(res, "echoInterval"), "echoInterval accepted");
	T_EXPECT(has_warning(res, "spec.nodeSelectors: not supported"), "nodeSelectors warned");
	json_object_put(res);
	T_END();

	T_BEGIN("BGPAdvertisement sets p1's communities (alias, literal, well-known, large), "
		"localPref, aggregation lengths and peers");
	T_EXPECT(!strcmp(field(a, CFG_KIND_POOL, "p1", "communities"),
			 "[\"1234:1\",\"64512:100\",\"no-export\"]"),
		 "communities %s", field(a, CFG_KIND_POOL, "p1", "communities"));
	T_EXPECT(!strcmp(field(a, CFG_KIND_POOL, "p1", "largeCommunities"), "[\"64512:1:2\"]"),
		 "largeCommunities %s", field(a, CFG_KIND_POOL, "p1", "largeCommunities"));
	T_EXPECT(!strcmp(field(a, CFG_KIND_POOL, "p1", "localPref"), "150"), "localPref");
	T_EXPECT(!strcmp(field(a, CFG_KIND_POOL, "p1", "aggregationLength"), "32"),
		 "aggregationLength");
	T_EXPECT(!strcmp(field(a, CFG_KIND_POOL, "p1", "aggregationLengthV6"), "120"),
		 "aggregationLengthV6");
	T_EXPECT(!strcmp(field(a, CFG_KIND_POOL, "p1", "peers"), "[\"192.0.2.1\"]"),
		 "peers: the BGPPeer named tor -> 192.0.2.1 (%s)",
		 field(a, CFG_KIND_POOL, "p1", "peers"));
	T_END();

	T_BEGIN("re-apply of the same file: everything unchanged");
	before = fx_store_dump(a);
	rc = run(a, good, false, &res, msg, sizeof(msg));
	after = fx_store_dump(a);
	T_EXPECT(rc == 0, "accepted: %s", msg);
	T_EXPECT(count_action(res, "unchanged") == 2 && count_action(res, "created") == 0 &&
		     count_action(res, "configured") == 0,
		 "2 unchanged, nothing else: %s", json_object_to_json_string(res));
	T_EXPECT(!strcmp(before, after), "store identical");
	json_object_put(res);
	free(before);
	free(after);
	T_END();

	T_BEGIN("a BGPAdvertisement alone edits an existing pool; all pools when none is named");
	rc = run(a,
		 "apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: all}\n"
		 "spec: {communities: ['64512:9']}\n",
		 false, &res, msg, sizeof(msg));
	T_EXPECT(rc == 0, "accepted: %s", msg);
	T_EXPECT(!strcmp(field(a, CFG_KIND_POOL, "p1", "communities"), "[\"64512:9\"]"),
		 "p1 replaced: %s", field(a, CFG_KIND_POOL, "p1", "communities"));
	T_EXPECT(!strcmp(field(a, CFG_KIND_POOL, "p1", "localPref"), ""), "localPref gone");
	T_EXPECT(!strcmp(field(a, CFG_KIND_POOL, "filepool", "communities"), "[\"64512:9\"]"),
		 "the config file's pool too: %s",
		 field(a, CFG_KIND_POOL, "filepool", "communities"));
	T_EXPECT(count_action(res, "configured") == 2, "two pools configured");
	json_object_put(res);
	T_END();

	T_BEGIN("L2Advertisement without interfaces: accepted, a warning, nothing changed");
	before = fx_store_dump(a);
	rc = run(a,
		 "apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2}\n"
		 "spec: {ipAddressPools: [p1], nodeSelectors: [{matchLabels: {a: b}}]}\n",
		 false, &res, msg, sizeof(msg));
	after = fx_store_dump(a);
	T_EXPECT(rc == 0, "accepted: %s", msg);
	T_EXPECT(has_warning(res, "L2Advertisement l2 (f.yaml doc 1): no change"),
		 "no-change warning");
	T_EXPECT(has_warning(res, "spec.nodeSelectors: not supported"), "nodeSelectors warned");
	T_EXPECT(count_action(res, "") == 0, "no changes listed");
	T_EXPECT(!strcmp(before, after), "store identical");
	json_object_put(res);
	free(before);
	free(after);
	T_END();
	fx_agent_free(a);
}

#define PEER_WITH_SECRET(ns_field)                                                           \
	"kind: BGPPeer\napiVersion: metallb.io/v1beta2\n"                                     \
	"metadata: {name: tor, namespace: metallb-system}\n"                                   \
	"spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1,\n"                       \
	"       passwordSecret: {name: tor-pw" ns_field "}}\n"

static const struct {
	const char *name, *yaml, *want1, *want2;
} bad[] = {
    {"hold time 2s",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, holdTime: 2s}\n",
     "BGPPeer r (f.yaml doc 1): spec.holdTime: \"2s\": not a valid hold time", "0s or 3s-65535s"},
    {"hold time not whole seconds",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta1\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, holdTime: 1.5s}\n",
     "spec.holdTime: \"1.5s\": not a duration in whole seconds", "1m30s"},
    {"hold time as a bare number",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, holdTime: 90}\n",
     "spec.holdTime: 90: not a duration", "allowed"},
    {"AS_TRANS",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 23456, peerASN: 64512, peerAddress: 192.0.2.1}\n",
     "spec.myASN: 23456: not a valid ASN", "1-65534 or 131072-4294967294"},
    {"peerASN missing",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerAddress: 192.0.2.1}\n",
     "spec.peerASN: missing", "dynamicASN internal or external"},
    {"peerASN and dynamicASN",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, dynamicASN: external}\n",
     "spec.dynamicASN: set together with spec.peerASN", "one of them"},
    {"dynamicASN not a mode",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerAddress: 192.0.2.1, dynamicASN: both}\n",
     "BGPPeer r (f.yaml doc 1): spec.dynamicASN: \"both\": not a mode", "internal or external"},
    {"bad peer address",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: router1}\n",
     "spec.peerAddress: \"router1\"", "allowed"},
    {"keepalive above a third of hold",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, holdTime: 90s, "
     "keepaliveTime: 1m}\n",
     "spec.keepaliveTime: 60: longer than a third of holdTime 90", "0-30"},
    {"ebgpMultiHop not a boolean",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, ebgpMultiHop: 3}\n",
     "spec.ebgpMultiHop: 3: wrong type", "true or false"},
    {"switch annotation: no such switch",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\n"
     "metadata: {name: r, annotations: {edgelb.io/switch: nope}}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1}\n",
     "metadata.annotations.edgelb.io/switch: \"nope\": no such switch", "EnabledForCompute"},
    {"switch annotation: not compute",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\n"
     "metadata: {name: r, annotations: {edgelb.io/switch: vSwitch2}}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1}\n",
     "\"vSwitch2\": not enabled for compute", "allowed"},
    {"unknown Community alias",
     "kind: BGPAdvertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: adv}\n"
     "spec: {communities: [vpn-only]}\n",
     "BGPAdvertisement adv (f.yaml doc 1): spec.communities[0]: \"vpn-only\": no Community alias",
     "ASN:VALUE"},
    {"community out of range",
     "kind: BGPAdvertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: adv}\n"
     "spec: {communities: ['70000:1']}\n",
     "spec.communities[0]: \"70000:1\": not a community", "0-65535"},
    {"large community out of range",
     "kind: BGPAdvertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: adv}\n"
     "spec: {communities: ['large:1:2:4294967296']}\n",
     "spec.communities[0]: \"1:2:4294967296\": not a large community", "RFC 8092"},
    {"Community with a bad value",
     "kind: Community\napiVersion: metallb.io/v1beta1\nmetadata: {name: c}\n"
     "spec: {communities: [{name: x, value: abc}]}\n",
     "Community c (f.yaml doc 1): spec.communities[0].value: \"abc\": not a community",
     "ASN:VALUE"},
    {"Community alias twice",
     "kind: Community\napiVersion: metallb.io/v1beta1\nmetadata: {name: c}\n"
     "spec: {communities: [{name: x, value: '1:1'}, {name: x, value: '1:2'}]}\n",
     "spec.communities[1].name: \"x\": already defined", "once per apply"},
    {"aggregationLength 33",
     "kind: BGPAdvertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: adv}\n"
     "spec: {aggregationLength: 33}\n",
     "spec.aggregationLength: 33: not a prefix length", "0-32"},
    {"localPref negative",
     "kind: BGPAdvertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: adv}\n"
     "spec: {localPref: -1}\n",
     "spec.localPref: -1", "0-4294967295"},
    {"unknown pool",
     "kind: BGPAdvertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: adv}\n"
     "spec: {ipAddressPools: [nope]}\n",
     "spec.ipAddressPools[0]: \"nope\": no such pool", "IPAddressPool"},
    {"pool selectors only",
     "kind: BGPAdvertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: adv}\n"
     "spec: {ipAddressPoolSelectors: [{matchLabels: {a: b}}]}\n",
     "spec.ipAddressPoolSelectors: not supported", "spec.ipAddressPools"},
    {"unknown BGPPeer name",
     "kind: BGPAdvertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: adv}\n"
     "spec: {ipAddressPools: [filepool], peers: [tor9]}\n",
     "spec.peers[0]: \"tor9\": no BGPPeer of that name", "peer address"},
    {"two BGPAdvertisements for one pool",
     "kind: BGPAdvertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: a1}\n"
     "spec: {ipAddressPools: [filepool]}\n---\n"
     "kind: BGPAdvertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: a2}\n"
     "spec: {ipAddressPools: [filepool]}\n",
     "BGPAdvertisement a2 (f.yaml doc 2): spec.ipAddressPools: \"filepool\": already advertised "
     "by BGPAdvertisement a1",
     "one BGPAdvertisement per pool"},
    {"a good BGPPeer with a bad BGPAdvertisement: nothing applied",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.9}\n---\n"
     "kind: BGPAdvertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: adv}\n"
     "spec: {peers: [r], communities: ['x:1']}\n",
     "spec.communities[0]: \"x:1\": not a community", "allowed"},
    {"bfdProfile naming no BFDProfile of the file",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, bfdProfile: slow}\n---\n"
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: fast}\n",
     "BGPPeer r (f.yaml doc 1): spec.bfdProfile: \"slow\": no BFDProfile of that name",
     "a BFDProfile of this apply"},
    {"bfdProfile not a string",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, bfdProfile: [a]}\n",
     "spec.bfdProfile: [\"a\"]: wrong type", "a BFDProfile name"},
    {"BFDProfile with echoMode not a boolean",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, bfdProfile: e}\n---\n"
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: e}\n"
     "spec: {echoMode: \"yes\"}\n",
     "BFDProfile e (f.yaml doc 2): spec.echoMode: \"yes\": not a boolean",
     "(allowed: true, false)"},
    {"BFDProfile echoInterval below 10 ms with echoMode true",
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: p}\n"
     "spec: {echoMode: true, echoInterval: 5}\n",
     "BFDProfile p (f.yaml doc 1): spec.echoInterval: 5: not a BFD interval",
     "(allowed: 10-60000 milliseconds)"},
    {"BFDProfile echoInterval as a string with echoMode true",
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: p}\n"
     "spec: {echoMode: true, echoInterval: 50ms}\n",
     "spec.echoInterval: \"50ms\": not a whole number", "10-60000 milliseconds"},
    {"BFDProfile with echoMode true on a multihop BGPPeer",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, ebgpMultiHop: true,\n"
     "       bfdProfile: e}\n---\n"
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: e}\n"
     "spec: {echoMode: true}\n",
     "bfdEchoMode: true: the peer is 255 hops away (ebgpMultiHop 255)",
     "(allowed: single-hop peers; RFC 5883 forbids the echo function over several hops)"},
    {"BFDProfile with echoMode true on an IPv6 BGPPeer",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: '2001:db8::1', bfdProfile: e}\n---\n"
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: e}\n"
     "spec: {echoMode: true}\n",
     "bfdEchoMode: true: IPv6 peer 2001:db8::1",
     "(allowed: IPv4 peers; echo over IPv6 is not supported)"},
    {"BFDProfile with passiveMode not a boolean",
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: p}\n"
     "spec: {passiveMode: 1}\n",
     "BFDProfile p (f.yaml doc 1): spec.passiveMode: 1: not a boolean", "allowed: true, false"},
    {"BFDProfile minimumTtl 0",
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: p}\n"
     "spec: {minimumTtl: 0}\n",
     "BFDProfile p (f.yaml doc 1): spec.minimumTtl: 0: not a TTL", "allowed: 1-255"},
    {"BFDProfile receiveInterval below 10 ms",
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: p}\n"
     "spec: {receiveInterval: 5}\n",
     "BFDProfile p (f.yaml doc 1): spec.receiveInterval: 5: not a BFD interval",
     "10-60000 milliseconds"},
    {"BFDProfile transmitInterval as a string",
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: p}\n"
     "spec: {transmitInterval: 300ms}\n",
     "spec.transmitInterval: \"300ms\": not a whole number", "10-60000 milliseconds"},
    {"BFDProfile detectMultiplier 0",
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: p}\n"
     "spec: {detectMultiplier: 0}\n",
     "spec.detectMultiplier: 0: not a BFD detect multiplier", "1-255"},
    {"two BFDProfiles of one name",
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: p}\n---\n"
     "kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: p}\n",
     "BFDProfile p (f.yaml doc 2): metadata.name: \"p\": a second BFDProfile", "once per apply"},
    {"L2Advertisement on an unknown interface",
     "kind: L2Advertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: l2}\n"
     "spec: {interfaces: [eth9]}\n",
     "L2Advertisement l2 (f.yaml doc 1): spec.interfaces[0]: \"eth9\": on no switch",
     "one compute switch"},
    {"L2Advertisement on a switch not enabled for compute",
     "kind: L2Advertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: l2}\n"
     "spec: {interfaces: [lo]}\n",
     "spec.interfaces[0]: \"lo\": on a switch not enabled for compute", "allowed"},
    {"passwordSecret with password",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, password: x,\n"
     "       passwordSecret: {name: s}}\n",
     "BGPPeer r (f.yaml doc 1): spec.passwordSecret: set together with spec.password",
     "one of them"},
    {"passwordSecret not a reference",
     "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
     "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, passwordSecret: s}\n",
     "spec.passwordSecret: \"s\": not a Secret reference", "{name, namespace}"},
    {"passwordSecret naming no Secret of the file (other namespace)",
     PEER_WITH_SECRET("") "---\n"
			  "apiVersion: v1\nkind: Secret\nmetadata: {name: tor-pw}\n"
			  "type: kubernetes.io/basic-auth\ndata: {password: czNjcmV0}\n",
     "BGPPeer tor (f.yaml doc 1): spec.passwordSecret: \"metallb-system/tor-pw\": no Secret",
     "a kubernetes.io/basic-auth Secret of this apply"},
    {"Secret password not base64",
     "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/basic-auth\n"
     "data: {password: 'czNj!mV0'}\n",
     "Secret s (f.yaml doc 1): data.password: not base64", "RFC 4648"},
    {"Secret password base64 without padding",
     "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/basic-auth\n"
     "data: {password: czNjcmV}\n",
     "data.password: not base64", "with padding"},
    {"Secret password longer than a TCP MD5 key",
     "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/basic-auth\n"
     "stringData: {password: "
     "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}\n",
     "stringData.password: 81 bytes: too long", "1-80 bytes"},
    {"basic-auth Secret without a password",
     "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/basic-auth\n"
     "data: {username: eA==}\n",
     "Secret s (f.yaml doc 1): data.password: missing", "stringData"},
    {"two Secrets of one name",
     "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/basic-auth\n"
     "data: {password: eA==}\n---\n"
     "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: default}\n"
     "type: kubernetes.io/basic-auth\ndata: {password: eQ==}\n",
     "Secret s (f.yaml doc 2): metadata.name: \"default/s\": a second Secret", "once per apply"},
};

static void test_bad(void)
{
	struct agent *a = agent_up(false);
	struct json_object *res;
	char msg[1024], *before, *after;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		T_BEGIN("refused in one line, nothing changed: %s", bad[i].name);
		before = fx_store_dump(a);
		rc = run(a, bad[i].yaml, false, &res, msg, sizeof(msg));
		after = fx_store_dump(a);
		T_EXPECT(rc == -1, "refused");
		T_EXPECT(strstr(msg, bad[i].want1) != NULL, "message names the field and value: %s",
			 msg);
		T_EXPECT(strstr(msg, bad[i].want2) != NULL, "message says what is allowed: %s",
			 msg);
		T_EXPECT(!strchr(msg, '\n'), "one line");
		T_EXPECT(!strstr(msg, "s3cret") && !strstr(msg, "aaaaaaaaaa"),
			 "does not echo a password");
		T_EXPECT(!strcmp(before, after), "store unchanged");
		T_EXPECT(a->cfg->n_peers == 0, "no peer in the running state");
		json_object_put(res);
		free(before);
		free(after);
		T_END();
	}
	fx_agent_free(a);
}

static void test_switches(void)
{
	struct agent *a = agent_up(true);
	struct json_object *res;
	char msg[1024];
	int rc;

	T_BEGIN("two compute switches and no annotation: refused naming the annotation");
	rc = run(a,
		 "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"
		 "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1}\n",
		 false, &res, msg, sizeof(msg));
	T_EXPECT(rc == -1, "refused");
	T_EXPECT(strstr(msg, "metadata.annotations.edgelb.io/switch: missing and the node has 2 "
			     "compute-enabled switches") &&
		     strstr(msg, "vSwitch1, vSwitch3"),
		 "names the annotation and the choices: %s", msg);
	T_END();

	T_BEGIN("the annotation picks the switch");
	rc = run(a,
		 "kind: BGPPeer\napiVersion: metallb.io/v1beta2\n"
		 "metadata: {name: r, annotations: {edgelb.io/switch: vSwitch3}}\n"
		 "spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1}\n",
		 false, &res, msg, sizeof(msg));
	T_EXPECT(rc == 0, "accepted: %s", msg);
	T_EXPECT(store_get(a->store, CFG_KIND_PEER, "vSwitch3/192.0.2.1") != NULL,
		 "stored under vSwitch3/192.0.2.1");
	json_object_put(res);
	T_END();

	T_BEGIN("BGPPeer metallb.io/v1beta1 is taken too (IPv6 peer)");
	rc = run(a,
		 "kind: BGPPeer\napiVersion: metallb.io/v1beta1\n"
		 "metadata: {name: r6, annotations: {edgelb.io/switch: vSwitch1}}\n"
		 "spec: {myASN: 4200000001, peerASN: 64512, peerAddress: '2001:db8::1', "
		 "holdTime: 3m}\n",
		 false, &res, msg, sizeof(msg));
	T_EXPECT(rc == 0, "accepted: %s", msg);
	T_EXPECT(!strcmp(field(a, CFG_KIND_PEER, "vSwitch1/2001:db8::1", "selfAsn"), "4200000001"),
		 "4-octet myASN stored: %s",
		 field(a, CFG_KIND_PEER, "vSwitch1/2001:db8::1", "selfAsn"));
	T_EXPECT(!strcmp(field(a, CFG_KIND_PEER, "vSwitch1/2001:db8::1", "holdTime"), "180"),
		 "holdTime 3m -> 180");
	json_object_put(res);
	T_END();

	T_BEGIN("L2Advertisement with all the interfaces of vSwitch3 moves the pool there");
	rc = run(a,
		 "kind: L2Advertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: l2}\n"
		 "spec: {ipAddressPools: [filepool], interfaces: [eth3]}\n",
		 false, &res, msg, sizeof(msg));
	T_EXPECT(rc == 0, "accepted: %s", msg);
	T_EXPECT(!strcmp(field(a, CFG_KIND_POOL, "filepool", "switch"), "\"vSwitch3\""),
		 "filepool on vSwitch3: %s", field(a, CFG_KIND_POOL, "filepool", "switch"));
	T_EXPECT(!strcmp(cfg_find_pool(a->cfg, "filepool")->sw, "vSwitch3"), "running state too");
	json_object_put(res);
	rc = run(a,
		 "kind: L2Advertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: l2}\n"
		 "spec: {ipAddressPools: [filepool], interfaces: [eth3]}\n",
		 false, &res, msg, sizeof(msg));
	T_EXPECT(rc == 0 && count_action(res, "") == 0, "re-apply: no change listed: %s",
		 res ? json_object_to_json_string(res) : msg);
	json_object_put(res);
	T_END();

	T_BEGIN("L2Advertisement spanning two switches: refused");
	rc = run(a,
		 "kind: L2Advertisement\napiVersion: metallb.io/v1beta1\nmetadata: {name: l2}\n"
		 "spec: {interfaces: [eth1, eth3]}\n",
		 false, &res, msg, sizeof(msg));
	T_EXPECT(rc == -1 && strstr(msg, "spec.interfaces[1]: \"eth3\": on another switch"),
		 "refused: %s", msg);
	T_END();
	fx_agent_free(a);
}

static void test_duration(void)
{
	static const struct {
		const char *in;
		int want; /* -1: refused */
	} rows[] = {
	    {"90s", 90},   {"1m30s", 90}, {"1.5m", 90},	  {"0", 0},	     {"1h", 3600},
	    {"2000ms", 2}, {"+3s", 3},	  {"1500ms", -1}, {"", -1},	     {"-1s", -1},
	    {"10", -1},	   {"1x", -1},	  {"65536s", -1}, {"18h12m16s", -1}, {"s", -1},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned long v = 12345;
		int rc = bgp_manifest_duration(rows[i].in, 65535, &v);

		T_BEGIN("duration \"%s\"", rows[i].in);
		if (rows[i].want < 0)
			T_EXPECT(rc == -1, "refused (got %d, %lu)", rc, v);
		else
			T_EXPECT(rc == 0 && v == (unsigned long)rows[i].want, "%d s (got %d, %lu)",
				 rows[i].want, rc, v);
		T_END();
	}
}

static void test_dynamic_asn(void)
{
	struct agent *a = agent_up(false);
	struct json_object *res;
	char msg[1024];
	int rc;

	T_BEGIN("dynamicASN: external keeps the peer's AS open (learned from its OPEN), internal "
		"makes it ours");
	rc = run(a,
		 "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: ext}\n"
		 "spec: {myASN: 64513, peerAddress: 192.0.2.1, dynamicASN: external}\n---\n"
		 "kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: int}\n"
		 "spec: {myASN: 64513, peerAddress: 192.0.2.5, dynamicASN: internal}\n",
		 false, &res, msg, sizeof(msg));
	T_EXPECT(rc == 0, "accepted: %s", msg);
	T_EXPECT(!strcmp(field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1", "dynamicAsn"),
			 "\"external\"") &&
		     !*field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1", "peerAsn"),
		 "stored as dynamicAsn external, no peerAsn");
	{
		const struct cfg_peer *e = NULL, *i = NULL;

		for (int k = 0; k < a->cfg->n_peers; k++) {
			if (a->cfg->peers[k].asn_mode == CFG_ASN_EXTERNAL)
				e = &a->cfg->peers[k];
			if (a->cfg->peers[k].asn_mode == CFG_ASN_INTERNAL)
				i = &a->cfg->peers[k];
		}
		T_EXPECT(e && e->peer_asn == 0, "external: no AS until the OPEN");
		T_EXPECT(i && i->peer_asn == 64513, "internal: the peer's AS is ours (iBGP)");
	}
	T_EXPECT(!has_warning(res, "dynamicASN"), "dynamicASN not warned about");
	json_object_put(res);
	T_END();
	fx_agent_free(a);
}

#define ECHO_PEER(profile)                                                                         \
	"kind: BGPPeer\napiVersion: metallb.io/v1beta2\nmetadata: {name: r}\n"                     \
	"spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, bfdProfile: e}\n---\n"       \
	"kind: BFDProfile\napiVersion: metallb.io/v1beta1\nmetadata: {name: e}\n"                  \
	"spec: " profile "\n"

/* BFDProfile echoMode and echoInterval (RFC 5880 6.4) -> bfdEchoMode, bfdEchoInterval. */
static void test_bfd_echo(void)
{
	struct agent *a = agent_up(false);
	struct json_object *res;
	char msg[1024];
	int rc;

	T_BEGIN("BFDProfile echoMode true, echoInterval 100 -> bfdEchoMode true, bfdEchoInterval "
		"100");
	rc = run(a, ECHO_PEER("{echoMode: true, echoInterval: 100}"), false, &res, msg,
		 sizeof(msg));
	T_EXPECT(rc == 0, "accepted: %s", msg);
	T_EXPECT(!strcmp(field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1", "bfdEchoMode"), "true"),
		 "bfdEchoMode stored (%s)", field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1",
						 "bfdEchoMode"));
	T_EXPECT(!strcmp(field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1", "bfdEchoInterval"), "100"),
		 "bfdEchoInterval stored (%s)", field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1",
						     "bfdEchoInterval"));
	T_EXPECT(a->cfg->n_peers == 1 && a->cfg->peers[0].bfd && a->cfg->peers[0].bfd_echo &&
		     a->cfg->peers[0].bfd_echo_interval_ms == 100,
		 "the running peer has the echo function at 100 ms");
	T_EXPECT(!has_warning(res, "echoMode") && !has_warning(res, "echoInterval"),
		 "echoMode and echoInterval not warned about");
	json_object_put(res);
	T_END();

	T_BEGIN("BFDProfile echoInterval without echoMode: accepted, no effect");
	rc = run(a, ECHO_PEER("{echoInterval: 100}"), false, &res, msg, sizeof(msg));
	T_EXPECT(rc == 0, "accepted: %s", msg);
	T_EXPECT(!*field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1", "bfdEchoMode") &&
		     !*field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1", "bfdEchoInterval"),
		 "no bfdEchoMode, no bfdEchoInterval stored");
	T_EXPECT(a->cfg->n_peers == 1 && a->cfg->peers[0].bfd && !a->cfg->peers[0].bfd_echo &&
		     !a->cfg->peers[0].bfd_echo_interval_ms,
		 "the running peer has BFD without the echo function");
	T_EXPECT(!has_warning(res, "echoInterval"), "echoInterval not warned about");
	json_object_put(res);
	T_END();
	fx_agent_free(a);
}

static void test_secret(void)
{
	struct agent *a = agent_up(false);
	struct json_object *res;
	char msg[1024];
	int rc;

	T_BEGIN("passwordSecret: the basic-auth Secret's data.password (base64) becomes the peer's "
		"TCP MD5 password; other Secrets are warned about");
	rc = run(a,
		 PEER_WITH_SECRET("") "---\n"
		 "apiVersion: v1\nkind: Secret\nmetadata: {name: tor-pw, namespace: metallb-system}\n"
		 "type: kubernetes.io/basic-auth\ndata: {password: czNjcmV0}\n---\n"
		 "apiVersion: v1\nkind: Secret\nmetadata: {name: other}\ntype: Opaque\n"
		 "data: {x: eA==}\n",
		 false, &res, msg, sizeof(msg));
	T_EXPECT(rc == 0, "accepted: %s", msg);
	T_EXPECT(!strcmp(field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1", "password"), "\"s3cret\""),
		 "password from the Secret (%s)",
		 field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1", "password"));
	T_EXPECT(a->cfg->n_peers == 1 && !strcmp(a->cfg->peers[0].password, "s3cret"),
		 "the running peer has it");
	T_EXPECT(has_warning(res, "Secret other (f.yaml doc 3): type \"Opaque\": not used"),
		 "the Opaque Secret is warned about");
	T_EXPECT(!has_warning(res, "spec.passwordSecret: not supported"),
		 "passwordSecret not warned about");
	json_object_put(res);
	T_END();

	T_BEGIN("stringData wins over data; an explicit namespace is honoured");
	rc = run(a,
		 "apiVersion: v1\nkind: Secret\nmetadata: {name: tor-pw, namespace: ops}\n"
		 "type: kubernetes.io/basic-auth\n"
		 "stringData: {password: 'pa ss:w0rd'}\ndata: {password: czNjcmV0}\n---\n"
		 PEER_WITH_SECRET(", namespace: ops"),
		 false, &res, msg, sizeof(msg));
	T_EXPECT(rc == 0, "accepted: %s", msg);
	T_EXPECT(!strcmp(field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1", "password"),
			 "\"pa ss:w0rd\""),
		 "password from stringData (%s)",
		 field(a, CFG_KIND_PEER, "vSwitch1/192.0.2.1", "password"));
	T_EXPECT(count_action(res, "configured") == 1, "the peer configured");
	json_object_put(res);
	T_END();
	fx_agent_free(a);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	test_duration();
	test_good();
	test_bad();
	test_secret();
	test_bfd_echo();
	test_dynamic_asn();
	test_switches();
	return t_exit();
}
