/* The JSON form of a service (cfg_service):
 *   {name "ns/name", ports ["tcp/80","udp/53"], ips [..], pool, sharedKey,
 *    ipFamily ipv4|ipv6|dual, backends ["IP:PORT" | {address, port, weight, state}],
 *    allowIcmpEcho}
 * The one decoder for control requests, the store, the YAML config and manifests. Refuses
 * unknown keys and bad values with one line naming the field, the value and what is allowed.
 * Pure data: no allocator or dataplane state. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "config/config.h"

const char *const cfg_service_json_keys[] = {
    "name", "ports", "ips", "pool", "sharedKey", "ipFamily", "backends", "allowIcmpEcho", NULL,
};

static const struct {
	const char *name;
	enum cfg_family fam;
} families[] = {
    {"ipv4", CFG_FAM_IPV4},
    {"ipv6", CFG_FAM_IPV6},
    {"dual", CFG_FAM_DUAL},
};

static const struct {
	const char *name;
	enum cfg_backend_state state;
} be_states[] = {
    {"ready", CFG_BE_READY},
    {"terminating", CFG_BE_TERMINATING},
    {"notReady", CFG_BE_NOT_READY},
};

const char *cfg_family_str(enum cfg_family f)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (families[i].fam == f)
			return families[i].name;
	return "?";
}

void cfg_service_clear(struct cfg_service *s)
{
	free(s->name);
	free(s->pool);
	free(s->shared_key);
	free(s->ports);
	free(s->backends);
	memset(s, 0, sizeof(*s));
}

/* *dst becomes a heap copy of s, or NULL for "". */
static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = NULL;
	if (*s && !(*dst = strdup(s)))
		abort();
}

void cfg_service_set_name(struct cfg_service *s, const char *name)
{
	free(s->name);
	if (!(s->name = strdup(name)))
		abort();
}

static int add_port(const char *field, const char *str, void *ctx, char *msg, size_t len)
{
	struct cfg_service *s = ctx;
	struct cfg_port p;

	if (cfg_parse_port(field, str, &p, msg, len) < 0)
		return -1;
	for (int i = 0; i < s->n_ports; i++) {
		if (s->ports[i].port == p.port && s->ports[i].proto == p.proto) {
			snprintf(msg, len,
				 "%s: \"%s\": listed twice (allowed: each PROTO/PORT once)", field,
				 str);
			return -1;
		}
	}
	if (s->n_ports >= CFG_MAX_PORTS) {
		snprintf(msg, len, "%s: too many entries (allowed: at most %d)", field,
			 CFG_MAX_PORTS);
		return -1;
	}
	/* exact size: a service usually has one or two ports, 100,000 services are common */
	s->ports = realloc(s->ports, (size_t)(s->n_ports + 1) * sizeof(*s->ports));
	if (!s->ports)
		abort();
	s->ports[s->n_ports++] = p;
	return 0;
}

static int add_ip(const char *field, const char *str, void *ctx, char *msg, size_t len)
{
	struct cfg_service *s = ctx;
	struct ip ip;

	if (ip_parse(str, &ip) < 0 || !ip_is_unicast(&ip)) {
		snprintf(msg, len,
			 "%s: \"%s\": not a unicast IP address (allowed: one IPv4 and/or "
			 "one IPv6 address)",
			 field, str);
		return -1;
	}
	if (s->n_req_ips >= 2 || (s->n_req_ips == 1 && s->req_ips[0].family == ip.family)) {
		snprintf(msg, len,
			 "%s: \"%s\": one address per family already given (allowed: one "
			 "IPv4 and/or one IPv6 address)",
			 field, str);
		return -1;
	}
	s->req_ips[s->n_req_ips++] = ip;
	return 0;
}

static int push_backend(struct cfg_service *s, const struct cfg_backend *b, const char *field,
			char *msg, size_t len)
{
	char a[IP_STRLEN];

	for (int i = 0; i < s->n_backends; i++) {
		if (ip_eq(&s->backends[i].addr, &b->addr) && s->backends[i].port == b->port) {
			snprintf(msg, len,
				 "%s: \"%s:%u\": listed twice (allowed: each backend once)", field,
				 ip_str(&b->addr, a), b->port);
			return -1;
		}
	}
	if (s->n_backends >= CFG_MAX_BACKENDS) {
		snprintf(msg, len, "%s: too many entries (allowed: at most %d)", field,
			 CFG_MAX_BACKENDS);
		return -1;
	}
	if (!s->backends) {
		s->backends = calloc(CFG_MAX_BACKENDS, sizeof(*s->backends));
		if (!s->backends)
			abort();
	}
	s->backends[s->n_backends++] = *b;
	return 0;
}

static int add_backend_str(const char *field, const char *str, void *ctx, char *msg, size_t len)
{
	struct cfg_backend b;

	if (cfg_parse_backend(field, str, &b, msg, len) < 0)
		return -1;
	return push_backend(ctx, &b, field, msg, len);
}

static int backend_obj(struct json_object *o, struct cfg_service *s, char *msg, size_t len)
{
	struct cfg_backend b = {.weight = 1, .state = CFG_BE_READY};
	bool has_addr = false, has_port = false;
	int64_t v;

	json_object_object_foreach(o, key, val)
	{
		if (!strcmp(key, "address")) {
			const char *str = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string) ||
			    ip_parse(str, &b.addr) < 0) {
				snprintf(
				    msg, len,
				    "backends.address: %s: not an IP address (allowed: "
				    "IPv4 or IPv6 address)",
				    json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
				return -1;
			}
			has_addr = true;
		} else if (!strcmp(key, "port")) {
			if (cfg_json_int("backends.port", val, 1, 65535, &v, msg, len) < 0)
				return -1;
			b.port = (uint16_t)v;
			has_port = true;
		} else if (!strcmp(key, "weight")) {
			if (cfg_json_int("backends.weight", val, 0, 65535, &v, msg, len) < 0)
				return -1;
			b.weight = (uint16_t)v;
		} else if (!strcmp(key, "state")) {
			const char *str = json_object_get_string(val);
			bool found = false;

			for (size_t i = 0; i < sizeof(be_states) / sizeof(be_states[0]); i++) {
				if (json_object_is_type(val, json_type_string) &&
				    !strcmp(str, be_states[i].name)) {
					b.state = be_states[i].state;
					found = true;
				}
			}
			if (!found) {
				snprintf(
				    msg, len,
				    "backends.state: %s: unknown state (allowed: ready, "
				    "terminating, notReady)",
				    json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
				return -1;
			}
		} else {
			snprintf(msg, len,
				 "backends.%s: unknown field (allowed: address, port, weight, "
				 "state)",
				 key);
			return -1;
		}
	}
	if (!has_addr || !has_port) {
		snprintf(msg, len,
			 "backends: %s: missing %s (allowed: {address, port, weight, "
			 "state})",
			 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			 has_addr ? "port" : "address");
		return -1;
	}
	return push_backend(s, &b, "backends", msg, len);
}

static int parse_backends(struct json_object *v, struct cfg_service *s, char *msg, size_t len)
{
	if (!json_object_is_type(v, json_type_array))
		return cfg_json_list("backends", v, CFG_MAX_BACKENDS, add_backend_str, s, msg, len);
	if ((int)json_object_array_length(v) > CFG_MAX_BACKENDS) {
		snprintf(msg, len, "backends: %zu entries: too many (allowed: at most %d)",
			 json_object_array_length(v), CFG_MAX_BACKENDS);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (json_object_is_type(e, json_type_string)) {
			if (add_backend_str("backends", json_object_get_string(e), s, msg, len) < 0)
				return -1;
		} else if (json_object_is_type(e, json_type_object)) {
			if (backend_obj(e, s, msg, len) < 0)
				return -1;
		} else {
			snprintf(msg, len,
				 "backends: %s: wrong type (allowed: \"IP:PORT\" or "
				 "{address, port, weight, state})",
				 json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
			return -1;
		}
	}
	return 0;
}

/* "namespace/name", each part a Kubernetes object name. */
static int check_name(const char *name, char *msg, size_t len)
{
	const char *slash = strchr(name, '/');
	char ns[CFG_NAME_MAX];

	if (!slash || (size_t)(slash - name) >= sizeof(ns))
		goto bad;
	memcpy(ns, name, (size_t)(slash - name));
	ns[slash - name] = '\0';
	if (!cfg_name_ok(ns, CFG_NAME_MAX) || !cfg_name_ok(slash + 1, CFG_NAME_MAX))
		goto bad;
	return 0;
bad:
	snprintf(msg, len,
		 "name: \"%s\": not NAMESPACE/NAME (allowed: like default/web, each "
		 "part lowercase letters, digits, '-', '.', '_', at most %d characters)",
		 name, CFG_NAME_MAX - 1);
	return -1;
}

static int from_json(struct json_object *j, struct cfg_service *s, char *msg, size_t len)
{
	bool has_name = false, has_family = false;

	if (!json_object_is_type(j, json_type_object)) {
		snprintf(msg, len, "service: %s: not an object (allowed: {name, ports, ...})",
			 json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		return -1;
	}
	json_object_object_foreach(j, key, val)
	{
		if (!strcmp(key, "name")) {
			char name[2 * CFG_NAME_MAX + 1];

			if (cfg_json_str("name", val, name, sizeof(name), msg, len) < 0 ||
			    check_name(name, msg, len) < 0)
				return -1;
			cfg_service_set_name(s, name);
			has_name = true;
		} else if (!strcmp(key, "ports")) {
			if (cfg_json_list("ports", val, CFG_MAX_PORTS, add_port, s, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "ips")) {
			if (cfg_json_list("ips", val, 2, add_ip, s, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "pool")) {
			char pool[CFG_NAME_MAX];

			if (cfg_json_str("pool", val, pool, sizeof(pool), msg, len) < 0)
				return -1;
			if (pool[0] && !cfg_name_ok(pool, CFG_NAME_MAX)) {
				snprintf(msg, len,
					 "pool: \"%s\": not a pool name (allowed: lowercase "
					 "letters, digits, '-', '.', '_')",
					 pool);
				return -1;
			}
			set_str(&s->pool, pool);
		} else if (!strcmp(key, "sharedKey")) {
			char k[CFG_NAME_MAX];

			if (cfg_json_str("sharedKey", val, k, sizeof(k), msg, len) < 0)
				return -1;
			set_str(&s->shared_key, k);
		} else if (!strcmp(key, "ipFamily")) {
			const char *str = json_object_get_string(val);

			has_family = false;
			for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
				if (json_object_is_type(val, json_type_string) &&
				    !strcasecmp(str, families[i].name)) {
					s->family = families[i].fam;
					has_family = true;
				}
			}
			if (!has_family) {
				snprintf(
				    msg, len,
				    "ipFamily: %s: unknown family (allowed: ipv4, ipv6, "
				    "dual)",
				    json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
				return -1;
			}
		} else if (!strcmp(key, "backends")) {
			if (parse_backends(val, s, msg, len) < 0)
				return -1;
		} else if (!strcmp(key, "allowIcmpEcho")) {
			if (cfg_json_bool("allowIcmpEcho", val, &s->allow_icmp_echo, msg, len) < 0)
				return -1;
		} else {
			snprintf(msg, len,
				 "%s: unknown field (allowed: name, ports, ips, pool, "
				 "sharedKey, ipFamily, backends, allowIcmpEcho)",
				 key);
			return -1;
		}
	}
	if (!has_name) {
		snprintf(msg, len, "name: missing (allowed: NAMESPACE/NAME like default/web)");
		return -1;
	}
	if (s->n_ports == 0) {
		snprintf(msg, len, "ports: missing or empty (allowed: a list like tcp/80,udp/53)");
		return -1;
	}
	if (!has_family) /* from the requested addresses, else IPv4 (Kubernetes SingleStack) */
		s->family = s->n_req_ips == 2					    ? CFG_FAM_DUAL
			    : s->n_req_ips == 1 && s->req_ips[0].family == AF_INET6 ? CFG_FAM_IPV6
										    : CFG_FAM_IPV4;
	for (int i = 0; i < s->n_req_ips; i++) {
		char a[IP_STRLEN];
		int want = s->family == CFG_FAM_IPV4 ? AF_INET : AF_INET6;

		if (s->family != CFG_FAM_DUAL && s->req_ips[i].family != want) {
			snprintf(msg, len,
				 "ips: \"%s\": not of ipFamily %s (allowed: %s addresses, or "
				 "ipFamily dual)",
				 ip_str(&s->req_ips[i], a), cfg_family_str(s->family),
				 cfg_family_str(s->family));
			return -1;
		}
	}
	return 0;
}

int cfg_service_from_json(struct json_object *j, struct cfg_service *out, char *msg, size_t len)
{
	struct cfg_service *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	if (from_json(j, s, msg, len) < 0) {
		cfg_service_clear(s);
		free(s);
		return cfg_msg_oneline(msg);
	}
	if (s->n_backends) { /* from room for CFG_MAX_BACKENDS to the exact size */
		struct cfg_backend *b = realloc(s->backends, (size_t)s->n_backends * sizeof(*b));

		if (b)
			s->backends = b;
	}
	*out = *s;
	free(s);
	return 0;
}

struct json_object *cfg_service_to_json(const struct cfg_service *s)
{
	struct json_object *o = json_object_new_object(), *arr;
	char buf[IP_STRLEN + 16];

	json_object_object_add(o, "name", json_object_new_string(s->name));
	arr = cfg_json_array(s->n_ports);
	for (int i = 0; i < s->n_ports; i++)
		json_object_array_add(
		    arr, json_object_new_string(cfg_port_str(&s->ports[i], buf, sizeof(buf))));
	json_object_object_add(o, "ports", arr);
	arr = cfg_json_array(s->n_req_ips);
	for (int i = 0; i < s->n_req_ips; i++)
		json_object_array_add(arr, json_object_new_string(ip_str(&s->req_ips[i], buf)));
	json_object_object_add(o, "ips", arr);
	json_object_object_add(o, "pool", json_object_new_string(cfg_service_pool(s)));
	json_object_object_add(o, "sharedKey", json_object_new_string(cfg_service_key(s)));
	json_object_object_add(o, "ipFamily", json_object_new_string(cfg_family_str(s->family)));
	arr = cfg_json_array(s->n_backends);
	for (int i = 0; i < s->n_backends; i++) {
		const struct cfg_backend *b = &s->backends[i];
		struct json_object *bo = json_object_new_object();

		json_object_object_add(bo, "address",
				       json_object_new_string(ip_str(&b->addr, buf)));
		json_object_object_add(bo, "port", json_object_new_int(b->port));
		json_object_object_add(bo, "weight", json_object_new_int(b->weight));
		for (size_t k = 0; k < sizeof(be_states) / sizeof(be_states[0]); k++)
			if (be_states[k].state == b->state)
				json_object_object_add(bo, "state",
						       json_object_new_string(be_states[k].name));
		json_object_array_add(arr, bo);
	}
	json_object_object_add(o, "backends", arr);
	json_object_object_add(o, "allowIcmpEcho", json_object_new_boolean(s->allow_icmp_echo));
	return o;
}
