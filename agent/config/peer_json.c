/* The JSON form of a BGP peer (cfg_peer), camelCase keys:
 *   {peerAddress, peerAsn | dynamicAsn, selfAsn, switch, holdTime, keepaliveTime, connectTime,
 *    password, passwordFile, ebgpMultiHop, sourceAddress, peerPort, passive, routerId,
 *    gracefulRestart, bfd, bfdMinTx, bfdMinRx, bfdMultiplier, bfdPassive, bfdMinimumTtl,
 *    bfdEchoMode, bfdEchoInterval, bfdAuthType, bfdAuthKeyId, bfdAuthKey, bfdAuthAcceptKeys}
 * bfdAuthAcceptKeys: up to CFG_BFD_ACCEPT_MAX more BFD keys taken on receipt, ["ID:KEY", ...],
 * for a key rollover (RFC 5880 6.7: the Auth Key ID selects the key).
 * bfdEchoMode: the BFD echo function (RFC 5880 6.4), IPv4 single-hop peers only (RFC 5883 forbids
 * it over several hops); bfdEchoInterval its transmit interval in ms (0: CFG_BFD_ECHO_DEF_MS).
 * dynamicAsn (internal or external, instead of peerAsn): the peer's AS is ours (iBGP), or any
 * other, taken from its OPEN (eBGP).
 * The one decoder for control requests, the store and the YAML config (bgpPeers). Refuses
 * unknown keys and bad values with one line naming the field, the value and what is allowed.
 * Cross-object checks (the switch exists and is compute-enabled) are the caller's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "config/config.h"

const char *const cfg_peer_keys[] = {
	"peerAddress", "peerAsn",     "selfAsn",       "switch",	      "holdTime",
	"keepaliveTime", "connectTime", "password",      "passwordFile",  "ebgpMultiHop",
	"sourceAddress", "peerPort",    "passive",       "routerId",      "gracefulRestart",
	"bfd",           "bfdMinTx",    "bfdMinRx",      "bfdMultiplier", "dynamicAsn",
	"bfdPassive",    "bfdMinimumTtl", "bfdAuthType",  "bfdAuthKeyId",  "bfdAuthKey",
	"bfdEchoMode",   "bfdEchoInterval", "bfdAuthAcceptKeys", NULL,
};

/* RFC 5880 4.1 Auth Type, by number */
static const char *const bfd_auth_names[] = {
	"none", "simple", "keyed-md5", "meticulous-keyed-md5", "keyed-sha1",
	"meticulous-keyed-sha1",
};
#define BFD_AUTH_TYPES                                                                            \
	"simple, keyed-md5, meticulous-keyed-md5, keyed-sha1 or meticulous-keyed-sha1"
#define BFD_KEY_LENGTHS "1-16 bytes; 1-20 with keyed-sha1 and meticulous-keyed-sha1"

const char *cfg_bfd_auth_name(uint8_t type)
{
	return type < sizeof(bfd_auth_names) / sizeof(bfd_auth_names[0]) ? bfd_auth_names[type]
									 : NULL;
}

static bool bfd_auth_sha1(uint8_t type)
{
	return type == 4 || type == 5;
}

static const char *jstr(struct json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

typedef int (*range_check_fn)(const char *field, uint64_t v, char *msg, size_t len);

/* An integer given as a JSON number or a decimal string (YAML and CLI give both), up to max,
 * then passed by check when there is one. Anything else is refused naming what check allows
 * (the "(allowed: ...)" of its message for a value no field takes), or 0-max. */
static int get_uint(const char *field, struct json_object *v, uint64_t max, range_check_fn check,
		    uint64_t *out, char *msg, size_t len)
{
	char allowed[160];
	const char *a;

	if (json_object_is_type(v, json_type_int)) {
		int64_t x = json_object_get_int64(v);
		if (x >= 0 && (uint64_t)x <= max) {
			*out = (uint64_t)x;
			return check ? check(field, *out, msg, len) : 0;
		}
	} else if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;
		unsigned long long x;

		errno = 0;
		x = strtoull(s, &end, 10);
		if (s[0] >= '0' && s[0] <= '9' && !*end && !errno && x <= max) {
			*out = x;
			return check ? check(field, *out, msg, len) : 0;
		}
	}
	if (check && check(field, UINT64_MAX, allowed, sizeof(allowed)) < 0 &&
	    (a = strstr(allowed, "(allowed: ")))
		snprintf(msg, len, "%s: %s: not a number in range %s", field, jstr(v), a);
	else
		snprintf(msg, len, "%s: %s: not a number in range (allowed: 0-%llu)", field,
			 jstr(v), (unsigned long long)max);
	return -1;
}

static int get_str(const char *field, struct json_object *v, char *out, size_t cap, char *msg,
		   size_t len)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string)) {
		snprintf(msg, len, "%s: %s: wrong type (allowed: a string)", field, jstr(v));
		return -1;
	}
	s = json_object_get_string(v);
	if (strlen(s) >= cap) {
		snprintf(msg, len, "%s: \"%s\": too long (allowed: up to %zu characters)", field, s,
			 cap - 1);
		return -1;
	}
	snprintf(out, cap, "%s", s);
	return 0;
}

static int get_bool(const char *field, struct json_object *v, bool *out, char *msg, size_t len)
{
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		if (!strcasecmp(s, "true") || !strcasecmp(s, "false")) {
			*out = !strcasecmp(s, "true");
			return 0;
		}
	}
	snprintf(msg, len, "%s: %s: wrong type (allowed: true or false)", field, jstr(v));
	return -1;
}

static int get_ip(const char *field, struct json_object *v, bool v4_only, struct ip *out,
		  char *msg, size_t len)
{
	char s[IP_STRLEN + 1];

	if (get_str(field, v, s, sizeof(s), msg, len) < 0)
		return -1;
	if (ip_parse(s, out) < 0 || !ip_is_unicast(out) || (v4_only && out->family != AF_INET)) {
		snprintf(msg, len, "%s: \"%s\": not a unicast %s address (allowed: %s)", field, s,
			 v4_only ? "IPv4" : "IP", v4_only ? "like 10.0.0.1" :
							     "IPv4 like 10.0.0.1 or IPv6 like fd00::1");
		return -1;
	}
	return 0;
}

/* bfdAuthAcceptKeys: a list of "ID:KEY" strings, the ID 0-255 in decimal, the key after the
 * first colon (it may hold colons). Keys are secrets: a message names the entry by its index
 * and key ID, never its text. Lengths against the type and repeated IDs are checked once the
 * whole peer is read. */
static int get_accept_keys(struct json_object *v, struct cfg_peer *p, char *msg, size_t len)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array)) {
		snprintf(msg, len, "bfdAuthAcceptKeys: wrong type (allowed: a list of \"ID:KEY\" "
			 "strings)");
		return -1;
	}
	n = json_object_array_length(v);
	if (n > CFG_BFD_ACCEPT_MAX) {
		snprintf(msg, len, "bfdAuthAcceptKeys: %zu keys (allowed: up to %d)", n,
			 CFG_BFD_ACCEPT_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		struct cfg_bfd_key *k = &p->bfd_auth_accept[i];
		const char *s, *colon;
		size_t id_len, key_len;
		unsigned long id;

		if (!json_object_is_type(e, json_type_string)) {
			snprintf(msg, len, "bfdAuthAcceptKeys[%zu]: wrong type (allowed: a string "
				 "\"ID:KEY\" like \"2:s3cret\")", i);
			return -1;
		}
		s = json_object_get_string(e);
		if (strlen(s) != (size_t)json_object_get_string_len(e)) {
			snprintf(msg, len, "bfdAuthAcceptKeys[%zu]: a NUL byte inside (allowed: a "
				 "string without NUL bytes)", i);
			return -1;
		}
		colon = strchr(s, ':');
		id_len = colon ? (size_t)(colon - s) : 0;
		id = strtoul(s, NULL, 10);
		if (!id_len || id_len > 3 || strspn(s, "0123456789") != id_len || id > 255) {
			snprintf(msg, len, "bfdAuthAcceptKeys[%zu]: not ID:KEY (allowed: a key ID "
				 "0-255, a colon, then the key, like \"2:s3cret\")", i);
			return -1;
		}
		k->id = (uint8_t)id;
		key_len = strlen(colon + 1);
		if (!key_len || key_len > CFG_BFD_KEY_MAX) {
			snprintf(msg, len, "bfdAuthAcceptKeys[%zu]: key ID %u: %zu bytes (allowed: "
				 BFD_KEY_LENGTHS ")", i, k->id, key_len);
			return -1;
		}
		snprintf(k->key, sizeof(k->key), "%s", colon + 1);
	}
	p->n_bfd_auth_accept = (uint8_t)n;
	return 0;
}

/* After the whole peer is read: each accepted key fits the type, and no key ID is given
 * twice, the sending key's (bfdAuthKeyId) included. */
static int check_accept_keys(const struct cfg_peer *p, char *msg, size_t len)
{
	for (int i = 0; i < p->n_bfd_auth_accept; i++) {
		const struct cfg_bfd_key *k = &p->bfd_auth_accept[i];
		bool twice = k->id == p->bfd_auth_key_id;

		if (!bfd_auth_sha1(p->bfd_auth_type) && strlen(k->key) > 16) {
			snprintf(msg, len, "bfdAuthAcceptKeys[%d]: key ID %u: %zu bytes, too long "
				 "for %s (allowed: " BFD_KEY_LENGTHS ")", i, k->id, strlen(k->key),
				 cfg_bfd_auth_name(p->bfd_auth_type));
			return -1;
		}
		for (int j = 0; j < i; j++)
			twice |= p->bfd_auth_accept[j].id == k->id;
		if (twice) {
			snprintf(msg, len, "bfdAuthAcceptKeys[%d]: key ID %u given twice (allowed: "
				 "each key ID once, bfdAuthKeyId %u included)", i, k->id,
				 p->bfd_auth_key_id);
			return -1;
		}
	}
	return 0;
}

int cfg_peer_from_json(struct json_object *j, struct cfg_peer *out, char *msg, size_t len)
{
	struct cfg_peer p = {0};
	bool has_addr = false, has_pasn = false, has_sasn = false, has_sw = false;
	bool has_key_id = false;
	uint64_t v;

	if (!json_object_is_type(j, json_type_object)) {
		snprintf(msg, len, "peer: %s: wrong type (allowed: an object)", jstr(j));
		return -1;
	}
	json_object_object_foreach(j, key, val)
	{
		bool known = false;

		for (int i = 0; cfg_peer_keys[i]; i++)
			known |= !strcmp(cfg_peer_keys[i], key);
		if (!known) {
			char allowed[512] = "";

			for (int i = 0; cfg_peer_keys[i]; i++)
				snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed),
					 "%s%s", i ? ", " : "", cfg_peer_keys[i]);
			snprintf(msg, len, "%s: unknown field (allowed: %s)", key, allowed);
			return -1;
		}
		if (!strcmp(key, "peerAddress")) {
			if (get_ip(key, val, false, &p.addr, msg, len) < 0)
				return -1;
			has_addr = true;
		} else if (!strcmp(key, "peerAsn") || !strcmp(key, "selfAsn")) {
			if (get_uint(key, val, UINT32_MAX, cfg_check_asn, &v, msg, len) < 0)
				return -1;
			if (key[0] == 'p') {
				p.peer_asn = (uint32_t)v;
				has_pasn = true;
			} else {
				p.self_asn = (uint32_t)v;
				has_sasn = true;
			}
		} else if (!strcmp(key, "switch")) {
			if (get_str(key, val, p.sw, sizeof(p.sw), msg, len) < 0)
				return -1;
			has_sw = p.sw[0] != '\0';
		} else if (!strcmp(key, "holdTime")) {
			if (get_uint(key, val, UINT32_MAX, cfg_check_hold_time, &v, msg, len) < 0)
				return -1;
			p.hold_time = (uint16_t)v;
			p.has_hold_time = true;
		} else if (!strcmp(key, "keepaliveTime") || !strcmp(key, "connectTime")) {
			if (get_uint(key, val, 65535, NULL, &v, msg, len) < 0)
				return -1;
			if (key[0] == 'k')
				p.keepalive_time = (uint16_t)v;
			else
				p.connect_time = (uint16_t)v;
		} else if (!strcmp(key, "password")) {
			if (get_str(key, val, p.password, sizeof(p.password), msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "passwordFile")) {
			if (get_str(key, val, p.password_file, sizeof(p.password_file), msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "ebgpMultiHop")) {
			if (get_uint(key, val, 255, NULL, &v, msg, len) < 0)
				return -1;
			p.ebgp_multihop = (uint8_t)v;
		} else if (!strcmp(key, "sourceAddress")) {
			if (get_ip(key, val, false, &p.source_addr, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "peerPort")) {
			if (get_uint(key, val, 65535, NULL, &v, msg, len) < 0)
				return -1;
			if (v == 0) {
				snprintf(msg, len, "peerPort: 0: not a port (allowed: 1-65535)");
				return -1;
			}
			p.peer_port = (uint16_t)v;
		} else if (!strcmp(key, "passive")) {
			if (get_bool(key, val, &p.passive, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "routerId")) {
			if (get_ip(key, val, true, &p.router_id, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "gracefulRestart")) {
			if (get_bool(key, val, &p.graceful_restart, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "bfd")) {
			if (get_bool(key, val, &p.bfd, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "bfdMinTx") || !strcmp(key, "bfdMinRx")) {
			if (get_uint(key, val, UINT32_MAX, cfg_check_bfd_interval, &v, msg, len) <
			    0)
				return -1;
			if (!strcmp(key, "bfdMinTx"))
				p.bfd_min_tx_ms = (uint16_t)v;
			else
				p.bfd_min_rx_ms = (uint16_t)v;
		} else if (!strcmp(key, "dynamicAsn")) {
			const char *m = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string) ||
			    (strcmp(m, "internal") != 0 && strcmp(m, "external") != 0)) {
				snprintf(msg, len, "dynamicAsn: %s: not a mode (allowed: internal or "
					 "external)", jstr(val));
				return -1;
			}
			p.asn_mode = m[0] == 'i' ? CFG_ASN_INTERNAL : CFG_ASN_EXTERNAL;
		} else if (!strcmp(key, "bfdMultiplier")) {
			if (get_uint(key, val, UINT32_MAX, cfg_check_bfd_mult, &v, msg, len) < 0)
				return -1;
			p.bfd_mult = (uint8_t)v;
		} else if (!strcmp(key, "bfdPassive")) {
			if (get_bool(key, val, &p.bfd_passive, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "bfdMinimumTtl")) {
			if (get_uint(key, val, UINT32_MAX, cfg_check_bfd_ttl, &v, msg, len) < 0)
				return -1;
			p.bfd_min_ttl = (uint8_t)v;
		} else if (!strcmp(key, "bfdEchoMode")) {
			if (get_bool(key, val, &p.bfd_echo, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "bfdEchoInterval")) {
			if (get_uint(key, val, UINT32_MAX, cfg_check_bfd_interval, &v, msg, len) <
			    0)
				return -1;
			p.bfd_echo_interval_ms = (uint16_t)v;
		} else if (!strcmp(key, "bfdAuthType")) {
			const char *m = json_object_get_string(val);
			uint8_t t = 0;

			while (json_object_is_type(val, json_type_string) && cfg_bfd_auth_name(t) &&
			       strcmp(m, cfg_bfd_auth_name(t)) != 0)
				t++;
			if (!json_object_is_type(val, json_type_string) || !cfg_bfd_auth_name(t)) {
				snprintf(msg, len, "bfdAuthType: %s: not a type (allowed: %s)",
					 jstr(val), "none, " BFD_AUTH_TYPES);
				return -1;
			}
			p.bfd_auth_type = t;
		} else if (!strcmp(key, "bfdAuthKeyId")) {
			if (get_uint(key, val, 255, NULL, &v, msg, len) < 0)
				return -1;
			p.bfd_auth_key_id = (uint8_t)v;
			has_key_id = true;
		} else if (!strcmp(key, "bfdAuthKey")) {
			/* a secret: its length is named, never its text */
			if (!json_object_is_type(val, json_type_string)) {
				snprintf(msg, len, "bfdAuthKey: wrong type (allowed: a string)");
				return -1;
			}
			if (strlen(json_object_get_string(val)) !=
			    (size_t)json_object_get_string_len(val)) {
				snprintf(msg, len, "bfdAuthKey: a NUL byte inside (allowed: a string "
					 "without NUL bytes)");
				return -1;
			}
			if (!json_object_get_string_len(val) ||
			    json_object_get_string_len(val) > CFG_BFD_KEY_MAX) {
				snprintf(msg, len, "bfdAuthKey: %d bytes (allowed: "
					 BFD_KEY_LENGTHS ")", json_object_get_string_len(val));
				return -1;
			}
			snprintf(p.bfd_auth_key, sizeof(p.bfd_auth_key), "%s",
				 json_object_get_string(val));
		} else if (!strcmp(key, "bfdAuthAcceptKeys")) {
			if (get_accept_keys(val, &p, msg, len) < 0)
				return -1;
		}
	}
	if (has_pasn && p.asn_mode != CFG_ASN_FIXED) {
		snprintf(msg, len, "peerAsn: set together with dynamicAsn (allowed: one of them)");
		return -1;
	}
	if (p.asn_mode != CFG_ASN_FIXED) {
		has_pasn = true;
		p.peer_asn = p.asn_mode == CFG_ASN_INTERNAL ? p.self_asn : 0;
	}
	if (!has_addr || !has_pasn || !has_sasn || !has_sw) {
		snprintf(msg, len, "%s: missing (required: peerAddress, peerAsn or dynamicAsn, "
			 "selfAsn, switch)",
			 !has_addr ? "peerAddress" : !has_pasn ? "peerAsn" : !has_sasn ? "selfAsn" :
											   "switch");
		return -1;
	}
	if (p.source_addr.family && p.source_addr.family != p.addr.family) {
		char a[IP_STRLEN];
		snprintf(msg, len, "sourceAddress: \"%s\": not the peer's address family (allowed: "
			 "an address of the same family as peerAddress)", ip_str(&p.source_addr, a));
		return -1;
	}
	if (!p.bfd && (p.bfd_min_tx_ms || p.bfd_min_rx_ms || p.bfd_mult || p.bfd_passive ||
		       p.bfd_min_ttl)) {
		snprintf(msg, len, "%s: set without bfd: true (allowed: BFD settings with bfd: true)",
			 p.bfd_min_tx_ms ? "bfdMinTx" : p.bfd_min_rx_ms ? "bfdMinRx" :
			 p.bfd_mult ? "bfdMultiplier" : p.bfd_passive ? "bfdPassive" :
			 "bfdMinimumTtl");
		return -1;
	}
	if (!p.bfd && (p.bfd_echo || p.bfd_echo_interval_ms)) {
		snprintf(msg, len,
			 "%s: set without bfd: true (allowed: BFD settings with bfd: true)",
			 p.bfd_echo ? "bfdEchoMode" : "bfdEchoInterval");
		return -1;
	}
	if (!p.bfd_echo && p.bfd_echo_interval_ms) {
		snprintf(msg, len, "bfdEchoInterval: set without bfdEchoMode: true (allowed: with "
			 "bfdEchoMode: true)");
		return -1;
	}
	/* RFC 5883 3: no echo function over multiple hops (ebgpMultiHop 1 is still one hop) */
	if (p.bfd_echo && p.ebgp_multihop > 1) {
		snprintf(msg, len, "bfdEchoMode: true: the peer is %u hops away (ebgpMultiHop %u) "
			 "(allowed: single-hop peers; RFC 5883 forbids the echo function over "
			 "several hops)", p.ebgp_multihop, p.ebgp_multihop);
		return -1;
	}
	if (p.bfd_echo && p.addr.family != AF_INET) {
		char a[IP_STRLEN];
		snprintf(msg, len, "bfdEchoMode: true: IPv6 peer %s (allowed: IPv4 peers; echo "
			 "over IPv6 is not supported)", ip_str(&p.addr, a));
		return -1;
	}
	if (!p.bfd && (p.bfd_auth_type || has_key_id || p.bfd_auth_key[0] ||
		       p.n_bfd_auth_accept)) {
		snprintf(msg, len, "%s: set without bfd: true (allowed: BFD settings with bfd: true)",
			 p.bfd_auth_type ? "bfdAuthType" : has_key_id ? "bfdAuthKeyId" :
			 p.bfd_auth_key[0] ? "bfdAuthKey" : "bfdAuthAcceptKeys");
		return -1;
	}
	if (!p.bfd_auth_type && (has_key_id || p.bfd_auth_key[0] || p.n_bfd_auth_accept)) {
		snprintf(msg, len, "%s: set without bfdAuthType (allowed: with bfdAuthType %s)",
			 has_key_id ? "bfdAuthKeyId" : p.bfd_auth_key[0] ? "bfdAuthKey" :
			 "bfdAuthAcceptKeys", BFD_AUTH_TYPES);
		return -1;
	}
	if (p.bfd_auth_type && !p.bfd_auth_key[0]) {
		snprintf(msg, len, "bfdAuthKey: missing (required with bfdAuthType %s)",
			 cfg_bfd_auth_name(p.bfd_auth_type));
		return -1;
	}
	if (p.bfd_auth_type && !bfd_auth_sha1(p.bfd_auth_type) && strlen(p.bfd_auth_key) > 16) {
		snprintf(msg, len, "bfdAuthKey: %zu bytes, too long for %s (allowed: "
			 BFD_KEY_LENGTHS ")", strlen(p.bfd_auth_key),
			 cfg_bfd_auth_name(p.bfd_auth_type));
		return -1;
	}
	if (p.bfd_auth_type && !has_key_id)
		p.bfd_auth_key_id = 1; /* BIRD's first password ID */
	if (check_accept_keys(&p, msg, len) < 0)
		return -1;
	if (p.password[0] && p.password_file[0]) {
		snprintf(msg, len, "password: set together with passwordFile (allowed: one of them)");
		return -1;
	}
	if (p.has_hold_time && p.hold_time && p.keepalive_time > p.hold_time / 3) {
		snprintf(msg, len, "keepaliveTime: %u: longer than a third of holdTime %u (allowed: "
			 "0-%u)", p.keepalive_time, p.hold_time, p.hold_time / 3);
		return -1;
	}
	*out = p;
	return 0;
}

const char *cfg_asn_mode_name(const struct cfg_peer *p)
{
	return p->asn_mode == CFG_ASN_INTERNAL	 ? "internal"
	       : p->asn_mode == CFG_ASN_EXTERNAL ? "external"
						 : "";
}

struct json_object *cfg_peer_to_json(const struct cfg_peer *p)
{
	struct json_object *j = json_object_new_object();
	char a[IP_STRLEN];

	json_object_object_add(j, "peerAddress", json_object_new_string(ip_str(&p->addr, a)));
	if (p->asn_mode == CFG_ASN_FIXED)
		json_object_object_add(j, "peerAsn", json_object_new_int64(p->peer_asn));
	else
		json_object_object_add(j, "dynamicAsn", json_object_new_string(cfg_asn_mode_name(p)));
	json_object_object_add(j, "selfAsn", json_object_new_int64(p->self_asn));
	json_object_object_add(j, "switch", json_object_new_string(p->sw));
	if (p->has_hold_time)
		json_object_object_add(j, "holdTime", json_object_new_int(p->hold_time));
	if (p->keepalive_time)
		json_object_object_add(j, "keepaliveTime", json_object_new_int(p->keepalive_time));
	if (p->connect_time)
		json_object_object_add(j, "connectTime", json_object_new_int(p->connect_time));
	if (p->password[0])
		json_object_object_add(j, "password", json_object_new_string(p->password));
	if (p->password_file[0])
		json_object_object_add(j, "passwordFile", json_object_new_string(p->password_file));
	if (p->ebgp_multihop)
		json_object_object_add(j, "ebgpMultiHop", json_object_new_int(p->ebgp_multihop));
	if (p->source_addr.family)
		json_object_object_add(j, "sourceAddress",
				       json_object_new_string(ip_str(&p->source_addr, a)));
	if (p->peer_port)
		json_object_object_add(j, "peerPort", json_object_new_int(p->peer_port));
	if (p->passive)
		json_object_object_add(j, "passive", json_object_new_boolean(1));
	if (p->router_id.family)
		json_object_object_add(j, "routerId",
				       json_object_new_string(ip_str(&p->router_id, a)));
	if (p->graceful_restart)
		json_object_object_add(j, "gracefulRestart", json_object_new_boolean(1));
	if (p->bfd)
		json_object_object_add(j, "bfd", json_object_new_boolean(1));
	if (p->bfd_min_tx_ms)
		json_object_object_add(j, "bfdMinTx", json_object_new_int(p->bfd_min_tx_ms));
	if (p->bfd_min_rx_ms)
		json_object_object_add(j, "bfdMinRx", json_object_new_int(p->bfd_min_rx_ms));
	if (p->bfd_mult)
		json_object_object_add(j, "bfdMultiplier", json_object_new_int(p->bfd_mult));
	if (p->bfd_passive)
		json_object_object_add(j, "bfdPassive", json_object_new_boolean(1));
	if (p->bfd_min_ttl)
		json_object_object_add(j, "bfdMinimumTtl", json_object_new_int(p->bfd_min_ttl));
	if (p->bfd_echo)
		json_object_object_add(j, "bfdEchoMode", json_object_new_boolean(1));
	if (p->bfd_echo_interval_ms)
		json_object_object_add(j, "bfdEchoInterval",
				       json_object_new_int(p->bfd_echo_interval_ms));
	if (p->bfd_auth_type) {
		json_object_object_add(j, "bfdAuthType",
				       json_object_new_string(cfg_bfd_auth_name(p->bfd_auth_type)));
		json_object_object_add(j, "bfdAuthKeyId", json_object_new_int(p->bfd_auth_key_id));
		json_object_object_add(j, "bfdAuthKey", json_object_new_string(p->bfd_auth_key));
	}
	if (p->n_bfd_auth_accept) {
		struct json_object *keys = json_object_new_array();
		char k[4 + CFG_BFD_KEY_MAX + 1];

		for (int i = 0; i < p->n_bfd_auth_accept; i++) {
			snprintf(k, sizeof(k), "%u:%s", p->bfd_auth_accept[i].id,
				 p->bfd_auth_accept[i].key);
			json_object_array_add(keys, json_object_new_string(k));
		}
		json_object_object_add(j, "bfdAuthAcceptKeys", keys);
	}
	return j;
}
