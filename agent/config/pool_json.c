/* The JSON form of an address pool (cfg_pool), MetalLB field names in camelCase:
 *   {name, addresses:[CIDR|range], autoAssign, avoidBuggyIPs, priority, namespaces, switch,
 *    communities, largeCommunities, localPref, aggregationLength, aggregationLengthV6, peers}
 * The one decoder for control requests, the store, the YAML config and manifests. Refuses
 * unknown keys and bad values with one line naming the field, the value and what is allowed.
 * Pure data: no allocator state. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "config/config.h"

const char *const cfg_pool_json_keys[] = {
    "name",
    "addresses",
    "autoAssign",
    "avoidBuggyIPs",
    "priority",
    "namespaces",
    "switch",
    "communities",
    "largeCommunities",
    "localPref",
    "aggregationLength",
    "aggregationLengthV6",
    "peers",
    NULL,
};

/* Well-known communities, RFC 1997 2, RFC 3765 (no-peer), RFC 7999 (blackhole), RFC 8326. */
static const struct {
	const char *name;
	uint32_t value;
} well_known_communities[] = {
    {"no-export", 0xFFFFFF01}, {"no-advertise", 0xFFFFFF02}, {"no-export-subconfed", 0xFFFFFF03},
    {"no-peer", 0xFFFFFF04},   {"blackhole", 0xFFFF029A},    {"graceful-shutdown", 0xFFFF0000},
};

bool cfg_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	/* Kubernetes object names (RFC 1123 subdomain): lowercase alnum, '-', '.' */
	if (n == 0 || n >= max || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' ||
		      s[i] == '.' || s[i] == '_'))
			return false;
	return true;
}

static int bad_type(const char *field, struct json_object *v, const char *want, char *msg,
		    size_t len)
{
	snprintf(msg, len, "%s: %s: wrong type (allowed: %s)", field,
		 json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), want);
	return -1;
}

int cfg_json_bool(const char *field, struct json_object *v, bool *out, char *msg, size_t len)
{
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		if (!strcasecmp(s, "true") || !strcasecmp(s, "yes")) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, "false") || !strcasecmp(s, "no")) {
			*out = false;
			return 0;
		}
	}
	return bad_type(field, v, "true or false", msg, len);
}

int cfg_json_int(const char *field, struct json_object *v, int64_t min, int64_t max, int64_t *out,
		 char *msg, size_t len)
{
	int64_t x;

	if (json_object_is_type(v, json_type_int)) {
		errno = 0;
		x = json_object_get_int64(v);
		if (errno)
			goto range;
	} else if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;

		errno = 0;
		x = strtoll(s, &end, 10);
		if (!*s || *end || errno)
			goto range;
	} else {
		goto range;
	}
	if (x < min || x > max)
		goto range;
	*out = x;
	return 0;
range:
	snprintf(msg, len, "%s: %s: not an integer in range (allowed: %lld-%lld)", field,
		 json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), (long long)min,
		 (long long)max);
	return -1;
}

int cfg_json_str(const char *field, struct json_object *v, char *out, size_t cap, char *msg,
		 size_t len)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return bad_type(field, v, "a string", msg, len);
	s = json_object_get_string(v);
	if (strlen(s) >= cap) {
		snprintf(msg, len, "%s: \"%.40s...\": too long (allowed: at most %zu characters)",
			 field, s, cap - 1);
		return -1;
	}
	strcpy(out, s);
	return 0;
}

/* A list: a JSON array of strings, or one comma-separated string (CLI convenience). Calls fn
 * for each element. */
int cfg_json_list(const char *field, struct json_object *v, int max, cfg_elem_fn fn, void *ctx,
		  char *msg, size_t len)
{
	int n = 0;

	if (json_object_is_type(v, json_type_string)) {
		char *dup = strdup(json_object_get_string(v)), *save = NULL, *tok;
		int rc = 0;

		if (!dup)
			abort();
		for (tok = strtok_r(dup, ",", &save); tok && rc == 0;
		     tok = strtok_r(NULL, ",", &save)) {
			while (isspace((unsigned char)*tok))
				tok++;
			if (!*tok)
				continue;
			if (++n > max) {
				snprintf(msg, len, "%s: too many entries (allowed: at most %d)",
					 field, max);
				rc = -1;
				break;
			}
			rc = fn(field, tok, ctx, msg, len);
		}
		free(dup);
		return rc;
	}
	if (!json_object_is_type(v, json_type_array))
		return bad_type(field, v, "a list of strings", msg, len);
	if ((int)json_object_array_length(v) > max) {
		snprintf(msg, len, "%s: %zu entries: too many (allowed: at most %d)", field,
			 json_object_array_length(v), max);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string))
			return bad_type(field, e, "a string", msg, len);
		if (fn(field, json_object_get_string(e), ctx, msg, len) < 0)
			return -1;
	}
	return 0;
}

static int add_range(const char *field, const char *s, void *ctx, char *msg, size_t len)
{
	struct cfg_pool *p = ctx;
	struct cfg_range r;

	if (cfg_parse_range(field, s, &r, msg, len) < 0)
		return -1;
	for (int i = 0; i < p->n_ranges; i++) {
		if (r.first.family == p->ranges[i].first.family &&
		    ip_cmp(&r.first, &p->ranges[i].last) <= 0 &&
		    ip_cmp(&p->ranges[i].first, &r.last) <= 0) {
			snprintf(msg, len,
				 "%s: \"%s\": overlaps entry %d of the same pool (allowed: "
				 "disjoint entries)",
				 field, s, i + 1);
			return -1;
		}
	}
	if (p->n_ranges >= CFG_MAX_RANGES) {
		snprintf(msg, len, "%s: too many entries (allowed: at most %d)", field,
			 CFG_MAX_RANGES);
		return -1;
	}
	p->ranges[p->n_ranges++] = r;
	return 0;
}

static int add_namespace(const char *field, const char *s, void *ctx, char *msg, size_t len)
{
	struct cfg_pool *p = ctx;

	if (!cfg_name_ok(s, CFG_NAME_MAX)) {
		snprintf(msg, len,
			 "%s: \"%s\": not a namespace name (allowed: lowercase letters, "
			 "digits, '-', '.', '_', at most %d characters)",
			 field, s, CFG_NAME_MAX - 1);
		return -1;
	}
	strcpy(p->namespaces[p->n_namespaces++], s);
	return 0;
}

static int parse_u32(const char *s, uint64_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "G:L1:L2" (RFC 8092), each part 0-4294967295. */
static int parse_large(const char *s, struct cfg_large_community *lc)
{
	char buf[40], *p1, *p2;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	p1 = strchr(buf, ':');
	if (!p1)
		return -1;
	*p1++ = '\0';
	p2 = strchr(p1, ':');
	if (!p2)
		return -1;
	*p2++ = '\0';
	return parse_u32(buf, UINT32_MAX, &lc->global) < 0 ||
		       parse_u32(p1, UINT32_MAX, &lc->local1) < 0 ||
		       parse_u32(p2, UINT32_MAX, &lc->local2) < 0
		   ? -1
		   : 0;
}

static int add_large(const char *field, const char *s, void *ctx, char *msg, size_t len)
{
	struct cfg_bgp_adv *adv = ctx;
	struct cfg_large_community lc;

	if (strncasecmp(s, "large:", 6) == 0)
		s += 6;
	if (parse_large(s, &lc) < 0) {
		snprintf(msg, len,
			 "%s: \"%s\": not a large community (allowed: GLOBAL:LOCAL1:LOCAL2, "
			 "each 0-4294967295, RFC 8092)",
			 field, s);
		return -1;
	}
	if (adv->n_large >= CFG_MAX_COMMUNITIES) {
		snprintf(msg, len, "%s: too many entries (allowed: at most %d)", field,
			 CFG_MAX_COMMUNITIES);
		return -1;
	}
	adv->large[adv->n_large++] = lc;
	return 0;
}

static int add_community(const char *field, const char *s, void *ctx, char *msg, size_t len)
{
	struct cfg_bgp_adv *adv = ctx;
	uint32_t hi, lo, v = 0;
	bool found = false;
	char buf[24], *colon;

	/* MetalLB accepts "large:G:L1:L2" among communities */
	if (strncasecmp(s, "large:", 6) == 0)
		return add_large("largeCommunities", s, ctx, msg, len);
	for (size_t i = 0; i < sizeof(well_known_communities) / sizeof(well_known_communities[0]);
	     i++) {
		if (strcasecmp(s, well_known_communities[i].name) == 0) {
			v = well_known_communities[i].value;
			found = true;
		}
	}
	if (!found) {
		if (strlen(s) >= sizeof(buf))
			goto bad;
		strcpy(buf, s);
		colon = strchr(buf, ':');
		if (!colon)
			goto bad;
		*colon = '\0';
		if (parse_u32(buf, 65535, &hi) < 0 || parse_u32(colon + 1, 65535, &lo) < 0)
			goto bad;
		v = hi << 16 | lo; /* RFC 1997: AS number in the high-order 16 bits */
	}
	if (adv->n_communities >= CFG_MAX_COMMUNITIES) {
		snprintf(msg, len, "%s: too many entries (allowed: at most %d)", field,
			 CFG_MAX_COMMUNITIES);
		return -1;
	}
	adv->communities[adv->n_communities++] = v;
	return 0;
bad:
	snprintf(msg, len,
		 "%s: \"%s\": not a community (allowed: ASN:VALUE each 0-65535, RFC 1997, "
		 "or no-export, no-advertise, no-export-subconfed, no-peer, blackhole, "
		 "graceful-shutdown)",
		 field, s);
	return -1;
}

static int add_peer(const char *field, const char *s, void *ctx, char *msg, size_t len)
{
	struct cfg_bgp_adv *adv = ctx;
	struct ip ip;

	if (ip_parse(s, &ip) < 0) {
		snprintf(msg, len,
			 "%s: \"%s\": not a peer address (allowed: IPv4 or IPv6 address "
			 "of a BGP peer)",
			 field, s);
		return -1;
	}
	if (adv->n_peers >= CFG_MAX_COMMUNITIES) {
		snprintf(msg, len, "%s: too many entries (allowed: at most %d)", field,
			 CFG_MAX_COMMUNITIES);
		return -1;
	}
	ip_str(&ip, adv->peers[adv->n_peers++]);
	return 0;
}

static int pool_from_json(struct json_object *j, struct cfg_pool *out, char *msg, size_t len);

int cfg_pool_from_json(struct json_object *j, struct cfg_pool *out, char *msg, size_t len)
{
	if (pool_from_json(j, out, msg, len) < 0)
		return cfg_msg_oneline(msg);
	return 0;
}

static int pool_from_json(struct json_object *j, struct cfg_pool *out, char *msg, size_t len)
{
	struct cfg_pool p;
	bool has_name = false, has_addr = false;
	int64_t v;

	memset(&p, 0, sizeof(p));
	p.auto_assign = true;
	p.adv.agg_len4 = 32;
	p.adv.agg_len6 = 128;
	if (!json_object_is_type(j, json_type_object)) {
		snprintf(msg, len, "pool: %s: not an object (allowed: {name, addresses, ...})",
			 json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		return -1;
	}
	json_object_object_foreach(j, key, val)
	{
		if (!strcmp(key, "name")) {
			if (cfg_json_str("name", val, p.name, sizeof(p.name), msg, len) < 0)
				return -1;
			if (!cfg_name_ok(p.name, CFG_NAME_MAX)) {
				snprintf(
				    msg, len,
				    "name: \"%s\": not a pool name (allowed: lowercase "
				    "letters, digits, '-', '.', '_', starting and ending with a "
				    "letter or digit, at most %d characters)",
				    p.name, CFG_NAME_MAX - 1);
				return -1;
			}
			has_name = true;
		} else if (!strcmp(key, "addresses")) {
			if (cfg_json_list("addresses", val, CFG_MAX_RANGES, add_range, &p, msg,
					  len) < 0)
				return -1;
			has_addr = true;
		} else if (!strcmp(key, "autoAssign")) {
			if (cfg_json_bool("autoAssign", val, &p.auto_assign, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "avoidBuggyIPs")) {
			if (cfg_json_bool("avoidBuggyIPs", val, &p.avoid_buggy_ips, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "priority")) {
			if (cfg_json_int("priority", val, 0, INT_MAX, &v, msg, len) < 0)
				return -1;
			p.priority = (int)v;
		} else if (!strcmp(key, "namespaces")) {
			if (cfg_json_list("namespaces", val, CFG_MAX_NAMESPACES, add_namespace, &p,
					  msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "switch")) {
			if (cfg_json_str("switch", val, p.sw, sizeof(p.sw), msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "communities")) {
			if (cfg_json_list("communities", val, 2 * CFG_MAX_COMMUNITIES,
					  add_community, &p.adv, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "largeCommunities")) {
			if (cfg_json_list("largeCommunities", val, CFG_MAX_COMMUNITIES, add_large,
					  &p.adv, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "localPref")) {
			if (cfg_json_int("localPref", val, 0, UINT32_MAX, &v, msg, len) < 0)
				return -1;
			p.adv.local_pref = (uint32_t)v;
			p.adv.has_local_pref = true;
		} else if (!strcmp(key, "aggregationLength")) {
			if (cfg_json_int("aggregationLength", val, 0, 32, &v, msg, len) < 0)
				return -1;
			p.adv.agg_len4 = (uint8_t)v;
		} else if (!strcmp(key, "aggregationLengthV6")) {
			if (cfg_json_int("aggregationLengthV6", val, 0, 128, &v, msg, len) < 0)
				return -1;
			p.adv.agg_len6 = (uint8_t)v;
		} else if (!strcmp(key, "peers")) {
			if (cfg_json_list("peers", val, CFG_MAX_COMMUNITIES, add_peer, &p.adv, msg,
					  len) < 0)
				return -1;
		} else {
			snprintf(msg, len,
				 "%s: unknown field (allowed: name, addresses, autoAssign, "
				 "avoidBuggyIPs, priority, namespaces, switch, communities, "
				 "largeCommunities, localPref, aggregationLength, "
				 "aggregationLengthV6, peers)",
				 key);
			return -1;
		}
	}
	if (!has_name) {
		snprintf(msg, len, "name: missing (allowed: a pool name like \"default\")");
		return -1;
	}
	if (!has_addr || p.n_ranges == 0) {
		snprintf(msg, len,
			 "addresses: missing or empty (allowed: a list of CIDRs or ranges)");
		return -1;
	}
	*out = p;
	return 0;
}

static void community_str(uint32_t v, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(well_known_communities) / sizeof(well_known_communities[0]);
	     i++) {
		if (well_known_communities[i].value == v) {
			snprintf(buf, len, "%s", well_known_communities[i].name);
			return;
		}
	}
	snprintf(buf, len, "%u:%u", v >> 16, v & 0xffff);
}

const char *cfg_range_str(const struct cfg_range *r, char *buf, size_t len)
{
	char a[IP_STRLEN], b[IP_STRLEN];
	int bits = ip_bits(&r->first);

	/* print as a CIDR when it is exactly one prefix */
	for (int l = 0; l <= bits; l++) {
		struct prefix p = {.ip = r->first, .len = (uint8_t)l};
		struct ip last = r->first;
		bool aligned = true;

		for (int bit = l; bit < bits; bit++) {
			if (r->first.a[bit / 8] & (0x80 >> (bit % 8)))
				aligned = false;
			last.a[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		}
		if (aligned && ip_eq(&last, &r->last) && prefix_contains(&p, &r->last)) {
			snprintf(buf, len, "%s/%d", ip_str(&r->first, a), l);
			return buf;
		}
	}
	snprintf(buf, len, "%s-%s", ip_str(&r->first, a), ip_str(&r->last, b));
	return buf;
}

struct json_object *cfg_pool_to_json(const struct cfg_pool *p)
{
	struct json_object *o = json_object_new_object(), *arr;
	char buf[2 * IP_STRLEN + 8];

	json_object_object_add(o, "name", json_object_new_string(p->name));
	arr = json_object_new_array();
	for (int i = 0; i < p->n_ranges; i++)
		json_object_array_add(
		    arr, json_object_new_string(cfg_range_str(&p->ranges[i], buf, sizeof(buf))));
	json_object_object_add(o, "addresses", arr);
	json_object_object_add(o, "autoAssign", json_object_new_boolean(p->auto_assign));
	json_object_object_add(o, "avoidBuggyIPs", json_object_new_boolean(p->avoid_buggy_ips));
	json_object_object_add(o, "priority", json_object_new_int(p->priority));
	arr = json_object_new_array();
	for (int i = 0; i < p->n_namespaces; i++)
		json_object_array_add(arr, json_object_new_string(p->namespaces[i]));
	json_object_object_add(o, "namespaces", arr);
	json_object_object_add(o, "switch", json_object_new_string(p->sw));
	arr = json_object_new_array();
	for (int i = 0; i < p->adv.n_communities; i++) {
		community_str(p->adv.communities[i], buf, sizeof(buf));
		json_object_array_add(arr, json_object_new_string(buf));
	}
	json_object_object_add(o, "communities", arr);
	arr = json_object_new_array();
	for (int i = 0; i < p->adv.n_large; i++) {
		snprintf(buf, sizeof(buf), "%u:%u:%u", p->adv.large[i].global,
			 p->adv.large[i].local1, p->adv.large[i].local2);
		json_object_array_add(arr, json_object_new_string(buf));
	}
	json_object_object_add(o, "largeCommunities", arr);
	if (p->adv.has_local_pref)
		json_object_object_add(o, "localPref", json_object_new_int64(p->adv.local_pref));
	json_object_object_add(o, "aggregationLength", json_object_new_int(p->adv.agg_len4));
	json_object_object_add(o, "aggregationLengthV6", json_object_new_int(p->adv.agg_len6));
	arr = json_object_new_array();
	for (int i = 0; i < p->adv.n_peers; i++)
		json_object_array_add(arr, json_object_new_string(p->adv.peers[i]));
	json_object_object_add(o, "peers", arr);
	return o;
}
