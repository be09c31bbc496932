/* Unit tests of the pool JSON codec and the shared field validators (config/pool_json.c,
 * config/fields.c): accepted forms with their decoded values, refused ones with the one-line
 * message (field, value, allowed), and round trips through to_json. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "config/config.h"
#include "t.h"

static const struct {
	const char *in;
	int ok;
	const char *first, *last; /* when ok */
	const char *msg;	  /* substring of the error when not ok */
} ranges[] = {
	{"10.0.0.64/27", 1, "10.0.0.64", "10.0.0.95", NULL},
	{"fd00::/120", 1, "fd00::", "fd00::ff", NULL},
	{"10.0.0.200-10.0.0.250", 1, "10.0.0.200", "10.0.0.250", NULL},
	{"10.0.0.200 - 10.0.0.250", 1, "10.0.0.200", "10.0.0.250", NULL},
	{"fd00::10-fd00::1:0", 1, "fd00::10", "fd00::1:0", NULL},
	{"10.1.2.3", 1, "10.1.2.3", "10.1.2.3", NULL},
	{"10.0.0.0/8", 1, "10.0.0.0", "10.255.255.255", NULL},
	{"fd00::/64", 1, "fd00::", "fd00::ffff:ffff:ffff:ffff", NULL},
	{"10.0.0.300/24", 0, NULL, NULL,
	 "addresses: \"10.0.0.300/24\": not a CIDR or range (allowed: CIDR like 10.0.0.64/27"},
	{"10.0.0.1/24", 0, NULL, NULL, "host bits set (did you mean 10.0.0.0/24?)"},
	{"10.0.0.0/33", 0, NULL, NULL, "not a CIDR or range"},
	{"10.0.0.250-10.0.0.200", 0, NULL, NULL, "reversed range"},
	{"10.0.0.1-fd00::1", 0, NULL, NULL, "mixes IPv4 and IPv6"},
	{"fd00::1-10.0.0.1", 0, NULL, NULL, "mixes IPv4 and IPv6"},
	{"10.0.0.1-", 0, NULL, NULL, "not a CIDR or range"},
	{"", 0, NULL, NULL, "not a CIDR or range"},
	{"banana", 0, NULL, NULL, "not a CIDR or range"},
	/* longer than any address, with a slash: refused without reading the copy it never made
	 * (found by fuzz_manifest: strchr ran past an unset stack buffer) */
	{"/1VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV92", 0, NULL, NULL,
	 "not a CIDR or range"},
	{"10.0.0.0/                                                          24", 0, NULL, NULL,
	 "not a CIDR or range"},
};

static void test_ranges(void)
{
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		struct cfg_range r;
		char msg[512] = "", a[IP_STRLEN], b[IP_STRLEN];
		int rc = cfg_parse_range("addresses", ranges[i].in, &r, msg, sizeof(msg));

		T_BEGIN("cfg_parse_range \"%s\"", ranges[i].in);
		if (ranges[i].ok) {
			T_EXPECT(rc == 0, "accepted (msg \"%s\")", msg);
			T_EXPECT(rc == 0 && !strcmp(ip_str(&r.first, a), ranges[i].first) &&
					 !strcmp(ip_str(&r.last, b), ranges[i].last),
				 "first %s last %s (got %s %s)", ranges[i].first, ranges[i].last, a, b);
		} else {
			T_EXPECT(rc < 0, "refused");
			T_EXPECT(strstr(msg, ranges[i].msg) && !strchr(msg, '\n'),
				 "one line with \"%s\" (got \"%s\")", ranges[i].msg, msg);
		}
		T_END();
	}
}

static const struct {
	const char *in;
	int ok;
	unsigned port, proto;
	const char *msg;
} ports[] = {
	{"tcp/80", 1, 80, IPPROTO_TCP, NULL},
	{"UDP/53", 1, 53, IPPROTO_UDP, NULL},
	{"443", 1, 443, IPPROTO_TCP, NULL},
	{"tcp/65535", 1, 65535, IPPROTO_TCP, NULL},
	{"sctp/80", 0, 0, 0, "ports: \"sctp/80\": unknown protocol \"sctp\" (allowed: tcp, udp)"},
	{"tcp/0", 0, 0, 0, "not a port"},
	{"tcp/65536", 0, 0, 0, "not a port"},
	{"tcp/", 0, 0, 0, "not a port"},
	{"tcp/-1", 0, 0, 0, "not a port"},
	{"http", 0, 0, 0, "not a port"},
};

static void test_ports(void)
{
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		struct cfg_port p;
		char msg[512] = "";
		int rc = cfg_parse_port("ports", ports[i].in, &p, msg, sizeof(msg));

		T_BEGIN("cfg_parse_port \"%s\"", ports[i].in);
		if (ports[i].ok)
			T_EXPECT(rc == 0 && p.port == ports[i].port && p.proto == ports[i].proto,
				 "port %u proto %u (got rc %d %u %u)", ports[i].port, ports[i].proto, rc,
				 p.port, p.proto);
		else
			T_EXPECT(rc < 0 && strstr(msg, ports[i].msg), "refused with \"%s\" (got \"%s\")",
				 ports[i].msg, msg);
		T_END();
	}
}

static const struct {
	const char *in;
	int ok;
	const char *addr;
	unsigned port;
} backends[] = {
	{"10.1.0.5:8080", 1, "10.1.0.5", 8080},
	{"[fd00::5]:80", 1, "fd00::5", 80},
	{"fd00::5:80", 0, NULL, 0},
	{"10.1.0.5", 0, NULL, 0},
	{"10.1.0.5:0", 0, NULL, 0},
	{"[10.1.0.5]:80", 0, NULL, 0},
	{"host:80", 0, NULL, 0},
};

static void test_backends(void)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		struct cfg_backend b;
		char msg[512] = "", a[IP_STRLEN];
		int rc = cfg_parse_backend("backends", backends[i].in, &b, msg, sizeof(msg));

		T_BEGIN("cfg_parse_backend \"%s\"", backends[i].in);
		if (backends[i].ok)
			T_EXPECT(rc == 0 && !strcmp(ip_str(&b.addr, a), backends[i].addr) &&
					 b.port == backends[i].port && b.weight == 1,
				 "%s port %u weight 1", backends[i].addr, backends[i].port);
		else
			T_EXPECT(rc < 0 && strstr(msg, "backends: \"") && strstr(msg, "allowed:"),
				 "refused naming field and allowed forms (got \"%s\")", msg);
		T_END();
	}
}

static const struct {
	const char *name, *json;
	const char *msg; /* NULL: accepted */
} pools[] = {
	{"minimal", "{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}", NULL},
	{"comma string", "{\"name\":\"a\",\"addresses\":\"10.0.0.0/24, fd00::/120\"}", NULL},
	{"everything",
	 "{\"name\":\"prod-1\",\"addresses\":[\"10.0.0.0/24\",\"fd00::1-fd00::9\"],"
	 "\"autoAssign\":false,\"avoidBuggyIPs\":true,\"priority\":3,\"namespaces\":[\"prod\"],"
	 "\"switch\":\"sw1\",\"communities\":[\"65000:100\",\"no-export\"],"
	 "\"largeCommunities\":[\"65000:1:2\"],\"localPref\":200,\"aggregationLength\":24,"
	 "\"aggregationLengthV6\":64,\"peers\":[\"192.0.2.1\"]}",
	 NULL},
	{"unknown key", "{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"],\"colour\":\"red\"}",
	 "colour: unknown field (allowed: name, addresses"},
	{"no name", "{\"addresses\":[\"10.0.0.0/24\"]}", "name: missing"},
	{"bad name", "{\"name\":\"Big Pool\",\"addresses\":[\"10.0.0.0/24\"]}",
	 "name: \"Big Pool\": not a pool name"},
	{"no addresses", "{\"name\":\"a\"}", "addresses: missing or empty"},
	{"empty addresses", "{\"name\":\"a\",\"addresses\":[]}", "addresses: missing or empty"},
	{"malformed CIDR", "{\"name\":\"a\",\"addresses\":[\"10.0.0.300/24\"]}",
	 "addresses: \"10.0.0.300/24\": not a CIDR or range"},
	{"reversed range", "{\"name\":\"a\",\"addresses\":[\"10.0.0.9-10.0.0.1\"]}",
	 "reversed range"},
	{"mixed range", "{\"name\":\"a\",\"addresses\":[\"10.0.0.9-fd00::1\"]}",
	 "mixes IPv4 and IPv6"},
	{"overlap inside", "{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\",\"10.0.0.5-10.0.1.0\"]}",
	 "overlaps entry 1 of the same pool"},
	{"autoAssign type", "{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"],\"autoAssign\":3}",
	 "autoAssign: 3: wrong type (allowed: true or false)"},
	{"priority negative", "{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"],\"priority\":-1}",
	 "priority: -1: not an integer in range"},
	{"community", "{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"],\"communities\":[\"70000:1\"]}",
	 "communities: \"70000:1\": not a community"},
	{"large community",
	 "{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"],\"largeCommunities\":[\"1:2\"]}",
	 "largeCommunities: \"1:2\": not a large community"},
	{"aggregation", "{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"],\"aggregationLength\":33}",
	 "aggregationLength: 33: not an integer in range (allowed: 0-32)"},
	{"peer", "{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"],\"peers\":[\"router1\"]}",
	 "peers: \"router1\": not a peer address"},
	{"not an object", "[1,2]", "not an object"},
};

static void test_pools(void)
{
	for (size_t i = 0; i < sizeof(pools) / sizeof(pools[0]); i++) {
		struct json_object *j = json_tokener_parse(pools[i].json), *back;
		struct cfg_pool p, p2;
		char msg[512] = "";
		int rc = cfg_pool_from_json(j, &p, msg, sizeof(msg));

		T_BEGIN("pool json: %s", pools[i].name);
		if (!pools[i].msg) {
			T_EXPECT(rc == 0, "accepted (msg \"%s\")", msg);
			back = cfg_pool_to_json(&p);
			T_EXPECT(cfg_pool_from_json(back, &p2, msg, sizeof(msg)) == 0,
				 "to_json decodes again (msg \"%s\")", msg);
			T_EXPECT(memcmp(&p, &p2, sizeof(p)) == 0, "round trip gives the same pool: %s",
				 json_object_to_json_string(back));
			json_object_put(back);
		} else {
			T_EXPECT(rc < 0 && strstr(msg, pools[i].msg) && !strchr(msg, '\n'),
				 "refused with one line containing \"%s\" (got \"%s\")", pools[i].msg,
				 msg);
		}
		json_object_put(j);
		T_END();
	}
}

static void test_pool_values(void)
{
	struct json_object *j = json_tokener_parse(pools[2].json);
	struct cfg_pool p;
	char msg[512];

	T_BEGIN("pool json: decoded values of every field");
	T_EXPECT(cfg_pool_from_json(j, &p, msg, sizeof(msg)) == 0, "accepted");
	T_EXPECT(!strcmp(p.name, "prod-1") && p.n_ranges == 2 && !p.auto_assign &&
			 p.avoid_buggy_ips && p.priority == 3 && p.n_namespaces == 1 &&
			 !strcmp(p.sw, "sw1"),
		 "name, ranges, flags, priority, namespaces, switch");
	T_EXPECT(p.adv.n_communities == 2 && p.adv.communities[0] == (65000u << 16 | 100) &&
			 p.adv.communities[1] == 0xFFFFFF01,
		 "communities 65000:100 and no-export (RFC 1997)");
	T_EXPECT(p.adv.n_large == 1 && p.adv.large[0].global == 65000 && p.adv.large[0].local2 == 2,
		 "large community");
	T_EXPECT(p.adv.has_local_pref && p.adv.local_pref == 200 && p.adv.agg_len4 == 24 &&
			 p.adv.agg_len6 == 64 && p.adv.n_peers == 1,
		 "localPref, aggregation, peers");
	json_object_put(j);
	T_END();

	j = json_tokener_parse(pools[0].json);
	T_BEGIN("pool json: defaults");
	cfg_pool_from_json(j, &p, msg, sizeof(msg));
	T_EXPECT(p.auto_assign && !p.avoid_buggy_ips && p.priority == 0 && p.adv.agg_len4 == 32 &&
			 p.adv.agg_len6 == 128,
		 "autoAssign true, avoidBuggyIPs false, aggregation per IP");
	json_object_put(j);
	T_END();
}

static void test_overlap(void)
{
	struct cfg_pool a = {.name = "a"}, b = {.name = "b"};
	char msg[512] = "";

	T_BEGIN("alloc_pools_overlap names both pools");
	cfg_parse_range("addresses", "10.0.0.0/24", &a.ranges[a.n_ranges++], msg, sizeof(msg));
	cfg_parse_range("addresses", "10.0.1.0-10.0.1.9", &b.ranges[b.n_ranges++], msg, sizeof(msg));
	T_EXPECT(alloc_pools_overlap(&a, &b, msg, sizeof(msg)) == 0, "disjoint pools");
	cfg_parse_range("addresses", "10.0.0.255-10.0.1.0", &b.ranges[b.n_ranges++], msg,
			sizeof(msg));
	T_EXPECT(alloc_pools_overlap(&a, &b, msg, sizeof(msg)) < 0 && strstr(msg, "pool a") &&
			 strstr(msg, "pool b") && strstr(msg, "10.0.0.255-10.0.1.0"),
		 "overlap reported with both names (got \"%s\")", msg);
	T_END();
}

int main(void)
{
	test_ranges();
	test_ports();
	test_backends();
	test_pools();
	test_pool_values();
	test_overlap();
	return t_exit();
}
