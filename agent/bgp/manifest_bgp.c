/* apply -f rows for MetalLB's BGP kinds: BGPPeer → an edgelb peer (the same JSON form and
 * decoder as `edgelb bgp peer set` and YAML bgpPeers), BFDProfile → the BFD timers of the
 * peers naming it, Community → aliases, BGPAdvertisement → the advertisement fields of its
 * pools (communities, localPref, aggregation lengths, peers).
 * Fields edgelb has no counterpart for are warned about and ignored, as manifest.c does for
 * the other kinds. Owns no state beyond one apply: what it defers lives in m->later. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "alloc/manifest.h"
#include "bgp/manifest_bgp.h"
#include "config/config.h"
#include "daemon/agent.h"

/* --- helpers ----------------------------------------------------------------------------- */

/* Go time.ParseDuration units, in nanoseconds. */
static const struct {
	const char *unit;
	double ns;
} duration_units[] = {
    {"ns", 1},	 {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
    {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},	  {"h", 3600e9},
};

int bgp_manifest_duration(const char *s, unsigned long max, unsigned long *out)
{
	double ns = 0;

	if (*s == '+')
		s++;
	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	if (!*s)
		return -1;
	while (*s) {
		char *end;
		double v;
		size_t best = 0, u = 0;

		if (!((*s >= '0' && *s <= '9') || *s == '.'))
			return -1;
		v = strtod(s, &end);
		if (end == s || v < 0)
			return -1;
		s = end;
		/* the longest unit that matches ("ms" before "m") */
		for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
			size_t n = strlen(duration_units[i].unit);

			if (n > best && !strncmp(s, duration_units[i].unit, n)) {
				best = n;
				u = i;
			}
		}
		if (!best)
			return -1;
		ns += v * duration_units[u].ns;
		s += best;
		if (ns > (double)max * 1e9)
			return -1;
	}
	{
		unsigned long long t = (unsigned long long)ns;

		if ((double)t != ns || t % 1000000000ULL) /* BGP timers are whole seconds */
			return -1;
		*out = (unsigned long)(t / 1000000000ULL);
	}
	return 0;
}

/* Checks one community the way the pool decoder will ("ASN:VALUE", "large:G:L1:L2", a
 * well-known name). 0, or -1 with err = "\"v\": not a community (allowed: ...)". */
static int community_ok(const char *v, char *err, size_t len)
{
	struct json_object *p = json_object_new_object(), *arr = json_object_new_array();
	struct cfg_pool *pool = malloc(sizeof(*pool));
	char e[512];
	int rc;

	if (!pool)
		abort();
	json_object_object_add(p, "name", json_object_new_string("x"));
	json_object_array_add(arr, json_object_new_string(v));
	json_object_object_add(p, "addresses", json_object_new_string("192.0.2.1/32"));
	json_object_object_add(p, "communities", arr);
	rc = cfg_pool_from_json(p, pool, e, sizeof(e));
	json_object_put(p);
	free(pool);
	if (rc < 0) /* "communities: \"v\": ..." without the decoder's field name */
		snprintf(err, len, "%s", strstr(e, ": ") ? strstr(e, ": ") + 2 : e);
	return rc;
}

static bool literal_community(const char *v)
{
	return strchr(v, ':') != NULL;
}

/* --- BGPPeer ----------------------------------------------------------------------------- */

/* edgelb peer field → the MetalLB path it came from, to name it in messages. */
static const struct {
	const char *edgelb, *metallb;
} peer_fields[] = {
    {"peerAddress", "spec.peerAddress"},
    {"peerAsn", "spec.peerASN"},
    {"selfAsn", "spec.myASN"},
    {"switch", "metadata.annotations." BGP_MANIFEST_SWITCH_ANN},
    {"holdTime", "spec.holdTime"},
    {"keepaliveTime", "spec.keepaliveTime"},
    {"connectTime", "spec.connectTime"},
    {"password", "spec.password"},
    {"ebgpMultiHop", "spec.ebgpMultiHop"},
    {"sourceAddress", "spec.sourceAddress"},
    {"peerPort", "spec.peerPort"},
    {"routerId", "spec.routerID"},
    {"gracefulRestart", "spec.enableGracefulRestart"},
    {"dynamicAsn", "spec.dynamicASN"},
};

/* Copies spec.<from> to o.<to> as is (the peer decoder checks it). */
static void copy_field(struct json_object *spec, const char *from, struct json_object *o,
		       const char *to)
{
	struct json_object *v;

	if (json_object_object_get_ex(spec, from, &v))
		json_object_object_add(o, to, json_object_get(v));
}

static int peer_duration(struct json_object *spec, const char *from, struct json_object *o,
			 const char *to, const char *what, char *msg, size_t len)
{
	struct json_object *v;
	unsigned long s;

	if (!json_object_object_get_ex(spec, from, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    bgp_manifest_duration(json_object_get_string(v), 65535, &s) < 0) {
		snprintf(msg, len,
			 "%s: spec.%s: %s: not a duration in whole seconds (allowed: a Go "
			 "duration like \"90s\" or \"1m30s\", 0s-65535s)",
			 what, from, manifest_text(v));
		return -1;
	}
	if (!strcmp(to, "holdTime") && cfg_check_hold_time(to, s, msg, len) < 0) {
		/* RFC 4271 4.2, named with the value as written */
		snprintf(msg, len,
			 "%s: spec.%s: \"%s\": not a valid hold time (allowed: 0s or 3s-65535s)",
			 what, from, json_object_get_string(v));
		return -1;
	}
	json_object_object_add(o, to, json_object_new_int64((int64_t)s));
	return 0;
}

/* The switch of a peer: the annotation, else the node's only compute-enabled switch. */
static int peer_switch(struct manifest *m, struct json_object *doc, const char *what, char *sw,
		       size_t swlen, char *msg, size_t len)
{
	struct json_object *ann = manifest_get(doc, "metadata.annotations"), *v;
	const struct cfg *c = m->a->cfg;
	const struct cfg_switch *s;
	char list[256] = "";
	int n = 0;

	if (ann && json_object_object_get_ex(ann, BGP_MANIFEST_SWITCH_ANN, &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(msg, len,
				 "%s: metadata.annotations." BGP_MANIFEST_SWITCH_ANN
				 ": %s: wrong type (allowed: a switch name)",
				 what, manifest_text(v));
			return -1;
		}
		s = cfg_find_switch(c, json_object_get_string(v));
		if (!s || !s->compute) {
			snprintf(msg, len,
				 "%s: metadata.annotations." BGP_MANIFEST_SWITCH_ANN
				 ": \"%s\": %s (allowed: a switch with EnabledForCompute true "
				 "from `edgelb switch list`)",
				 what, json_object_get_string(v),
				 s ? "not enabled for compute" : "no such switch");
			return -1;
		}
		snprintf(sw, swlen, "%s", s->name);
		return 0;
	}
	for (int i = 0; i < c->n_switches; i++) {
		if (!c->switches[i].compute)
			continue;
		if (!n++)
			snprintf(sw, swlen, "%s", c->switches[i].name);
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 n > 1 ? ", " : "", c->switches[i].name);
	}
	if (n == 1)
		return 0;
	snprintf(msg, len,
		 "%s: metadata.annotations." BGP_MANIFEST_SWITCH_ANN
		 ": missing and the node has %d compute-enabled switches (allowed: the "
		 "annotation naming one of: %s)",
		 what, n, n ? list : "none; enable compute on a switch first");
	return -1;
}

int bgp_manifest_peer(struct manifest *m, struct json_object *doc, const char *what, char *msg,
		      size_t len)
{
	static const char *const spec_known[] = {
	    "myASN",	"peerASN",  "peerAddress",   "sourceAddress",
	    "peerPort", "holdTime", "keepaliveTime", "connectTime",
	    "routerID", "password", "ebgpMultiHop",  "enableGracefulRestart",
	    "bfdProfile", "passwordSecret", "dynamicASN", NULL};
	static const char *const required[] = {"myASN", "peerAddress"};
	const char *name = manifest_str(doc, "metadata.name");
	struct json_object *spec = manifest_get(doc, "spec"), *o, *v, *names;
	char sw[CFG_NAME_MAX], err[512], key[CFG_NAME_MAX + IP_STRLEN + 2], a[IP_STRLEN];
	struct cfg_peer p;

	if (!name) {
		snprintf(msg, len, "%s: metadata.name: missing (allowed: a BGPPeer name)", what);
		return -1;
	}
	if (!spec || !json_object_is_type(spec, json_type_object)) {
		snprintf(msg, len,
			 "%s: spec: missing (allowed: a mapping with myASN, peerASN, "
			 "peerAddress)",
			 what);
		return -1;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!json_object_object_get_ex(spec, required[i], NULL)) {
			snprintf(msg, len,
				 "%s: spec.%s: missing (required: myASN, peerASN or dynamicASN, "
				 "peerAddress)",
				 what, required[i]);
			return -1;
		}
	}
	if (json_object_object_get_ex(spec, "peerASN", NULL) &&
	    json_object_object_get_ex(spec, "dynamicASN", NULL)) {
		snprintf(msg, len,
			 "%s: spec.dynamicASN: set together with spec.peerASN (allowed: one of "
			 "them)",
			 what);
		return -1;
	}
	if (!json_object_object_get_ex(spec, "peerASN", NULL) &&
	    !json_object_object_get_ex(spec, "dynamicASN", NULL)) {
		snprintf(msg, len,
			 "%s: spec.peerASN: missing (required: peerASN, or dynamicASN internal or "
			 "external)",
			 what);
		return -1;
	}
	manifest_unsupported(m, what, "spec", spec, spec_known);
	if (peer_switch(m, doc, what, sw, sizeof(sw), msg, len) < 0)
		return -1;
	o = json_object_new_object();
	copy_field(spec, "peerAddress", o, "peerAddress");
	copy_field(spec, "peerASN", o, "peerAsn");
	copy_field(spec, "dynamicASN", o, "dynamicAsn");
	copy_field(spec, "myASN", o, "selfAsn");
	json_object_object_add(o, "switch", json_object_new_string(sw));
	copy_field(spec, "sourceAddress", o, "sourceAddress");
	copy_field(spec, "peerPort", o, "peerPort");
	copy_field(spec, "routerID", o, "routerId");
	copy_field(spec, "password", o, "password");
	copy_field(spec, "enableGracefulRestart", o, "gracefulRestart");
	if (json_object_object_get_ex(spec, "ebgpMultiHop", &v)) {
		bool on;

		if (!json_object_is_type(v, json_type_boolean)) {
			snprintf(msg, len,
				 "%s: spec.ebgpMultiHop: %s: wrong type (allowed: true or false)",
				 what, manifest_text(v));
			json_object_put(o);
			return -1;
		}
		on = json_object_get_boolean(v);
		/* MetalLB's boolean is FRR's "neighbor X ebgp-multihop" with no count: TTL 255 */
		if (on)
			json_object_object_add(o, "ebgpMultiHop", json_object_new_int(255));
	}
	if (peer_duration(spec, "holdTime", o, "holdTime", what, msg, len) < 0 ||
	    peer_duration(spec, "keepaliveTime", o, "keepaliveTime", what, msg, len) < 0 ||
	    peer_duration(spec, "connectTime", o, "connectTime", what, msg, len) < 0) {
		json_object_put(o);
		return -1;
	}
	if (cfg_peer_from_json(o, &p, err, sizeof(err)) < 0) {
		const char *field = err, *rest = strstr(err, ": ");

		for (size_t i = 0; rest && i < sizeof(peer_fields) / sizeof(peer_fields[0]); i++)
			if (!strncmp(err, peer_fields[i].edgelb, (size_t)(rest - err)) &&
			    strlen(peer_fields[i].edgelb) == (size_t)(rest - err))
				field = peer_fields[i].metallb;
		if (field == err)
			snprintf(msg, len, "%s: %s", what, err);
		else
			snprintf(msg, len, "%s: %s%s", what, field, rest);
		json_object_put(o);
		return -1;
	}
	/* BGPAdvertisement.spec.peers names BGPPeers: remember name → address */
	names = manifest_later(m, "peers", false);
	if (json_object_object_get_ex(names, name, NULL)) {
		snprintf(msg, len,
			 "%s: metadata.name: \"%s\": a second BGPPeer of that name (allowed: "
			 "each BGPPeer name once per apply)",
			 what, name);
		json_object_put(o);
		return -1;
	}
	json_object_object_add(names, name, json_object_new_string(ip_str(&p.addr, a)));
	snprintf(key, sizeof(key), "%s/%s", p.sw, a);
	if (bgp_manifest_peer_refs(m, doc, key, what, msg, len) < 0) {
		json_object_put(o);
		return -1;
	}
	return manifest_add(m, CFG_KIND_PEER, key, o, what, NULL, msg, len);
}

/* --- Community --------------------------------------------------------------------------- */

int bgp_manifest_community(struct manifest *m, struct json_object *doc, const char *what, char *msg,
			   size_t len)
{
	static const char *const spec_known[] = {"communities", NULL};
	static const char *const entry_known[] = {"name", "value", NULL};
	struct json_object *list = manifest_get(doc, "spec.communities"), *aliases;
	char err[512], path[64];

	manifest_unsupported(m, what, "spec", manifest_get(doc, "spec"), spec_known);
	if (!list || !json_object_is_type(list, json_type_array)) {
		snprintf(msg, len,
			 "%s: spec.communities: %s: missing or not a list (allowed: a list of "
			 "{name, value})",
			 what, manifest_text(list));
		return -1;
	}
	aliases = manifest_later(m, "communities", false);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i), *x;
		const char *n = manifest_str(e, "name"), *v = manifest_str(e, "value");

		snprintf(path, sizeof(path), "spec.communities[%zu]", i);
		manifest_unsupported(m, what, path, e, entry_known);
		if (!n || !*n || !v) {
			snprintf(msg, len,
				 "%s: %s.%s: missing (allowed: a {name, value} pair of strings)",
				 what, path, !n || !*n ? "name" : "value");
			return -1;
		}
		if (!literal_community(v) || community_ok(v, err, sizeof(err)) < 0) {
			if (!literal_community(v))
				snprintf(err, sizeof(err),
					 "\"%s\": not a community (allowed: ASN:VALUE each "
					 "0-65535, RFC 1997, or large:G:L1:L2, RFC 8092)",
					 v);
			snprintf(msg, len, "%s: %s.value: %s", what, path, err);
			return -1;
		}
		if (json_object_object_get_ex(aliases, n, &x)) {
			snprintf(msg, len,
				 "%s: %s.name: \"%s\": already defined by %s (allowed: each "
				 "alias once per apply)",
				 what, path, n, manifest_str(x, "what"));
			return -1;
		}
		x = json_object_new_object();
		json_object_object_add(x, "value", json_object_new_string(v));
		json_object_object_add(x, "what", json_object_new_string(what));
		json_object_object_add(aliases, n, x);
	}
	return 0;
}

/* --- BGPAdvertisement -------------------------------------------------------------------- */

int bgp_manifest_advertisement(struct manifest *m, struct json_object *doc, const char *what,
			       char *msg, size_t len)
{
	static const char *const spec_known[] = {"aggregationLength",
						 "aggregationLengthV6",
						 "localPref",
						 "communities",
						 "ipAddressPools",
						 "peers",
						 NULL};
	struct json_object *spec = manifest_get(doc, "spec"), *e;

	if (spec && !json_object_is_type(spec, json_type_object)) {
		snprintf(msg, len, "%s: spec: %s: not a mapping (allowed: a mapping)", what,
			 manifest_text(spec));
		return -1;
	}
	manifest_unsupported(m, what, "spec", spec, spec_known);
	e = json_object_new_object();
	json_object_object_add(e, "what", json_object_new_string(what));
	json_object_object_add(e, "spec", spec ? json_object_get(spec) : json_object_new_object());
	json_object_array_add(manifest_later(m, "advertisements", true), e);
	return 0;
}

static bool pool_known(struct manifest *m, const char *name)
{
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].kind, CFG_KIND_POOL) && !strcmp(m->v[i].key, name))
			return true;
	return cfg_find_pool(m->a->cfg, name) != NULL;
}

int bgp_manifest_pools(struct manifest *m, struct json_object *spec, const char *what,
		       struct json_object *out, char *msg, size_t len)
{
	struct json_object *list = manifest_get(spec, "ipAddressPools");

	if (list && !json_object_is_type(list, json_type_array)) {
		snprintf(msg, len,
			 "%s: spec.ipAddressPools: %s: not a list (allowed: a list of pool names)",
			 what, manifest_text(list));
		return -1;
	}
	if (!list || json_object_array_length(list) == 0) {
		if (manifest_get(spec, "ipAddressPoolSelectors")) {
			snprintf(msg, len,
				 "%s: spec.ipAddressPoolSelectors: not supported (allowed: "
				 "spec.ipAddressPools naming the pools)",
				 what);
			return -1;
		}
		/* MetalLB: no pools and no selectors selects every pool */
		for (int i = 0; i < m->n; i++)
			if (!strcmp(m->v[i].kind, CFG_KIND_POOL))
				json_object_array_add(out, json_object_new_string(m->v[i].key));
		for (int i = 0; i < m->a->cfg->n_pools; i++) {
			const char *n = m->a->cfg->pools[i].name;
			bool dup = false;

			for (size_t k = 0; k < json_object_array_length(out); k++)
				dup |= !strcmp(
				    n, json_object_get_string(json_object_array_get_idx(out, k)));
			if (!dup)
				json_object_array_add(out, json_object_new_string(n));
		}
		return 0;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i);

		if (!json_object_is_type(e, json_type_string) ||
		    !pool_known(m, json_object_get_string(e))) {
			snprintf(msg, len,
				 "%s: spec.ipAddressPools[%zu]: %s: no such pool (allowed: an "
				 "IPAddressPool of this apply or an existing pool)",
				 what, i, manifest_text(e));
			return -1;
		}
		json_object_array_add(out, json_object_get(e));
	}
	return 0;
}

/* spec.communities → the pool's communities: literals as they are, other names through the
 * Community aliases of this apply. */
static int adv_communities(struct manifest *m, struct json_object *spec, const char *what,
			   struct json_object *out, char *msg, size_t len)
{
	struct json_object *list = manifest_get(spec, "communities");
	struct json_object *aliases = manifest_later(m, "communities", false);
	char err[512];

	if (!list)
		return 0;
	if (!json_object_is_type(list, json_type_array)) {
		snprintf(msg, len,
			 "%s: spec.communities: %s: not a list (allowed: a list of communities "
			 "or Community aliases)",
			 what, manifest_text(list));
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i), *x;
		const char *v =
		    json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;

		if (v && !literal_community(v) && json_object_object_get_ex(aliases, v, &x))
			v = manifest_str(x, "value");
		else if (v && !literal_community(v) && community_ok(v, err, sizeof(err)) < 0)
			v = NULL; /* neither an alias nor a well-known name */
		if (!v) {
			snprintf(msg, len,
				 "%s: spec.communities[%zu]: %s: no Community alias of that name "
				 "in this apply (allowed: ASN:VALUE, large:G:L1:L2, a well-known "
				 "name like no-export, or an alias from a Community)",
				 what, i, manifest_text(e));
			return -1;
		}
		if (community_ok(v, err, sizeof(err)) < 0) {
			snprintf(msg, len, "%s: spec.communities[%zu]: %s", what, i, err);
			return -1;
		}
		if (json_object_array_length(out) >= 2 * CFG_MAX_COMMUNITIES) {
			snprintf(msg, len,
				 "%s: spec.communities: too many entries (allowed: at most %d)",
				 what, 2 * CFG_MAX_COMMUNITIES);
			return -1;
		}
		json_object_array_add(out, json_object_new_string(v));
	}
	return 0;
}

/* spec.peers names BGPPeers of this apply; a peer address is taken too. */
static int adv_peers(struct manifest *m, struct json_object *spec, const char *what,
		     struct json_object *out, char *msg, size_t len)
{
	struct json_object *list = manifest_get(spec, "peers");
	struct json_object *names = manifest_later(m, "peers", false);

	if (!list)
		return 0;
	if (!json_object_is_type(list, json_type_array) ||
	    json_object_array_length(list) > CFG_MAX_COMMUNITIES) {
		snprintf(msg, len,
			 "%s: spec.peers: %s: not a list of at most %d (allowed: names of "
			 "BGPPeers)",
			 what, manifest_text(list), CFG_MAX_COMMUNITIES);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i), *x;
		const char *v =
		    json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;
		struct ip ip;

		if (v && json_object_object_get_ex(names, v, &x)) {
			json_object_array_add(out, json_object_get(x));
		} else if (v && ip_parse(v, &ip) == 0) {
			json_object_array_add(out, json_object_get(e));
		} else {
			snprintf(msg, len,
				 "%s: spec.peers[%zu]: %s: no BGPPeer of that name in this apply "
				 "(allowed: the name of a BGPPeer in the same file, or a peer "
				 "address)",
				 what, i, manifest_text(e));
			return -1;
		}
	}
	return 0;
}

static int adv_length(struct json_object *spec, const char *field, int max, int def,
		      const char *what, struct json_object *pool, char *msg, size_t len)
{
	struct json_object *v = manifest_get(spec, field);
	int64_t x = def;

	if (v) {
		if (!json_object_is_type(v, json_type_int) || (x = json_object_get_int64(v)) < 0 ||
		    x > max) {
			snprintf(msg, len, "%s: spec.%s: %s: not a prefix length (allowed: 0-%d)",
				 what, field, manifest_text(v), max);
			return -1;
		}
	}
	json_object_object_add(pool, field, json_object_new_int((int)x));
	return 0;
}

/* One BGPAdvertisement: the advertisement fields it sets, then each selected pool edited. */
static int advertisement(struct manifest *m, struct json_object *e, char *msg, size_t len)
{
	const char *what = manifest_str(e, "what");
	struct json_object *spec = manifest_get(e, "spec"), *pools = json_object_new_array();
	struct json_object *comms = json_object_new_array(), *peers = json_object_new_array();
	struct json_object *lp = manifest_get(spec, "localPref");
	struct json_object *owners = manifest_later(m, "advertised", false);
	struct json_object *fields = json_object_new_object();
	int rc = -1;

	if (lp && (!json_object_is_type(lp, json_type_int) || json_object_get_int64(lp) < 0 ||
		   json_object_get_int64(lp) > 4294967295LL)) {
		snprintf(msg, len, "%s: spec.localPref: %s: not a number (allowed: 0-4294967295)",
			 what, manifest_text(lp));
		goto out;
	}
	if (adv_length(spec, "aggregationLength", 32, 32, what, fields, msg, len) < 0 ||
	    adv_length(spec, "aggregationLengthV6", 128, 128, what, fields, msg, len) < 0 ||
	    adv_communities(m, spec, what, comms, msg, len) < 0 ||
	    adv_peers(m, spec, what, peers, msg, len) < 0 ||
	    bgp_manifest_pools(m, spec, what, pools, msg, len) < 0)
		goto out;
	for (size_t i = 0; i < json_object_array_length(pools); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(pools, i));
		struct json_object *pool, *x;

		if (json_object_object_get_ex(owners, name, &x)) {
			snprintf(msg, len,
				 "%s: spec.ipAddressPools: \"%s\": already advertised by %s "
				 "(allowed: one BGPAdvertisement per pool; edgelb keeps one "
				 "advertisement per pool)",
				 what, name, json_object_get_string(x));
			goto out;
		}
		json_object_object_add(owners, name, json_object_new_string(what));
		pool = manifest_obj(m, CFG_KIND_POOL, name);
		if (!pool) /* checked by bgp_manifest_pools */
			continue;
		/* the advertisement replaces the pool's: a re-apply gives the same object */
		json_object_object_add(pool, "communities", json_object_get(comms));
		json_object_object_add(pool, "largeCommunities", json_object_new_array());
		json_object_object_add(pool, "peers", json_object_get(peers));
		json_object_object_del(pool, "localPref");
		if (lp)
			json_object_object_add(pool, "localPref", json_object_get(lp));
		json_object_object_foreach(fields, k, v)
		    json_object_object_add(pool, k, json_object_get(v));
	}
	rc = 0;
out:
	json_object_put(pools);
	json_object_put(comms);
	json_object_put(peers);
	json_object_put(fields);
	return rc;
}

int bgp_manifest_finish(struct manifest *m, char *msg, size_t len)
{
	struct json_object *advs;

	if (!m->later)
		return 0;
	if (bgp_manifest_resolve_refs(m, msg, len) < 0)
		return -1;
	if (!json_object_object_get_ex(m->later, "advertisements", &advs))
		return 0;
	for (size_t i = 0; i < json_object_array_length(advs); i++)
		if (advertisement(m, json_object_array_get_idx(advs, i), msg, len) < 0)
			return -1;
	return 0;
}
