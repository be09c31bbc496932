/* Unit tests of the allocator (agent/alloc/): every MetalLB rule as a table of scenarios
 * (pools and services in their JSON form, reconciled step by step, expected addresses or
 * pending reasons), persistence through the real store across reopen and kill -9, pool edits
 * that must flag and not move, and the cost on a /8 and an IPv6 /64. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "alloc/runs.h"
#include "config/config.h"
#include "lib/log.h"
#include "store/store.h"
#include "t.h"

/* A cfg from JSON arrays of pools and services (the same decoders as everywhere). */
static struct cfg *mkcfg(const char *pools, const char *services)
{
	struct cfg *c = cfg_new();
	struct json_object *jp = json_tokener_parse(pools ? pools : "[]");
	struct json_object *js = json_tokener_parse(services ? services : "[]");
	char msg[512];

	if (!jp || !js) {
		printf("  bad test JSON: %s / %s\n", pools, services);
		exit(2);
	}
	for (size_t i = 0; i < json_object_array_length(jp); i++) {
		struct cfg_pool *p = cfg_array_push((void **)&c->pools, &c->n_pools, sizeof(*p));

		if (cfg_pool_from_json(json_object_array_get_idx(jp, i), p, msg, sizeof(msg)) < 0) {
			printf("  bad test pool: %s\n", msg);
			exit(2);
		}
	}
	for (size_t i = 0; i < json_object_array_length(js); i++) {
		struct cfg_service *s =
			cfg_array_push((void **)&c->services, &c->n_services, sizeof(*s));

		if (cfg_service_from_json(json_object_array_get_idx(js, i), s, msg, sizeof(msg)) < 0) {
			printf("  bad test service: %s\n", msg);
			exit(2);
		}
	}
	json_object_put(jp);
	json_object_put(js);
	return c;
}

/* "ns/a=10.0.0.1,fd00::1; ns/b=pending:reason-substring; ns/c=flagged:substring" */
static void expect(struct alloc *al, const char *want, const char *where)
{
	char *dup = strdup(want), *save = NULL;

	for (char *tok = strtok_r(dup, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tok, '=');
		const struct alloc_assignment *as;
		char got[128] = "", buf[IP_STRLEN];

		while (*tok == ' ')
			tok++;
		*eq++ = '\0';
		as = alloc_get(al, tok);
		if (!strncmp(eq, "none", 4)) {
			T_EXPECT(!as, "%s: %s is unknown to the allocator", where, tok);
			continue;
		}
		if (!as) {
			T_EXPECT(0, "%s: %s has an assignment", where, tok);
			continue;
		}
		if (!strncmp(eq, "pending:", 8)) {
			T_EXPECT(as->status == ALLOC_PENDING && strstr(as->reason, eq + 8),
				 "%s: %s pending with reason containing \"%s\" (got status %d, "
				 "reason \"%s\")", where, tok, eq + 8, as->status, as->reason);
			continue;
		}
		if (!strncmp(eq, "flagged:", 8)) {
			T_EXPECT(as->status == ALLOC_ASSIGNED && as->out_of_pool &&
					 strstr(as->reason, eq + 8),
				 "%s: %s flagged out of pool with \"%s\" (got out_of_pool %d, reason "
				 "\"%s\")", where, tok, eq + 8, as->out_of_pool, as->reason);
			continue;
		}
		for (int i = 0; i < as->n_ips; i++) {
			if (i)
				strcat(got, ",");
			strcat(got, ip_str(&as->ips[i], buf));
		}
		T_EXPECT(as->status == ALLOC_ASSIGNED && !strcmp(got, eq),
			 "%s: %s = %s (got \"%s\", status %d, reason \"%s\")", where, tok, eq, got,
			 as->status, as->reason);
	}
	free(dup);
}

struct step {
	const char *pools, *services, *want;
};

static const struct {
	const char *name;
	struct step steps[5];
} rows[] = {
	{"lowest free address of the only pool",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/30\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.0; d/y=10.0.0.1"}}},
	{"pools ordered by priority, then name",
	 {{"[{\"name\":\"b\",\"addresses\":[\"10.0.1.0/24\"],\"priority\":1},"
	   "{\"name\":\"a\",\"addresses\":[\"10.0.2.0/24\"]},"
	   "{\"name\":\"c\",\"addresses\":[\"10.0.3.0/24\"],\"priority\":1}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}]", "d/x=10.0.1.0"}}},
	{"no priority: by name",
	 {{"[{\"name\":\"zz\",\"addresses\":[\"10.0.1.0/24\"]},"
	   "{\"name\":\"aa\",\"addresses\":[\"10.0.2.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}]", "d/x=10.0.2.0"}}},
	{"next pool when the first is full",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.5\"]},{\"name\":\"b\",\"addresses\":"
	   "[\"10.0.1.7-10.0.1.9\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.5; d/y=10.0.1.7"}}},
	{"avoidBuggyIPs skips .0 and .255",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.254-10.0.1.1\"],\"avoidBuggyIPs\":true}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]},"
	   "{\"name\":\"d/z\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.254; d/y=10.0.1.1; d/z=pending:no free IPv4 address in pool a"}}},
	{"avoidBuggyIPs refuses a requested .255",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"],\"avoidBuggyIPs\":true}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ips\":[\"10.0.0.255\"]}]",
	   "d/x=pending:avoidBuggyIPs"}}},
	{"autoAssign=false pool serves only explicit requests",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"],\"autoAssign\":false},"
	   "{\"name\":\"b\",\"addresses\":[\"10.0.1.0/24\"]}]",
	   "[{\"name\":\"d/auto\",\"ports\":[\"tcp/80\"]},"
	   "{\"name\":\"d/bypool\",\"ports\":[\"tcp/80\"],\"pool\":\"a\"},"
	   "{\"name\":\"d/byip\",\"ports\":[\"tcp/80\"],\"ips\":[\"10.0.0.9\"]}]",
	   "d/auto=10.0.1.0; d/bypool=10.0.0.0; d/byip=10.0.0.9"}}},
	{"only autoAssign=false pools: pending",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"],\"autoAssign\":false}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=pending:no pool with autoAssign serves namespace d"}}},
	{"requested IP must lie in a pool",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ips\":[\"192.0.2.1\"]}]",
	   "d/x=pending:requested 192.0.2.1 is not in any pool"}}},
	{"requested IP must be in the named pool",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]},{\"name\":\"b\",\"addresses\":"
	   "[\"10.0.1.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ips\":[\"10.0.0.4\"],\"pool\":\"b\"}]",
	   "d/x=pending:requested 10.0.0.4 is not in pool b"}}},
	{"unknown pool by name: pending",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"pool\":\"nope\"}]",
	   "d/x=pending:pool nope does not exist"}}},
	{"requested IP in use: pending, then assigned when freed",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},"
	   "{\"name\":\"d/y\",\"ports\":[\"tcp/80\"],\"ips\":[\"10.0.0.0\"]}]",
	   "d/x=10.0.0.0; d/y=pending:10.0.0.0 is in use by d/x"},
	  {"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/y\",\"ports\":[\"tcp/80\"],\"ips\":[\"10.0.0.0\"]}]",
	   "d/x=none; d/y=10.0.0.0"}}},
	{"pool full: pending with reason, assigned when room appears",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.1\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.1; d/y=pending:no free IPv4 address in pool a"},
	  {"[{\"name\":\"a\",\"addresses\":[\"10.0.0.1-10.0.0.2\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.1; d/y=10.0.0.2"}}},
	{"freed address is reused lowest first",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]},"
	   "{\"name\":\"d/z\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.0; d/y=10.0.0.1; d/z=10.0.0.2"},
	  {"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/z\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.0; d/y=none; d/z=10.0.0.2"},
	  {"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/z\",\"ports\":[\"tcp/80\"]},"
	   "{\"name\":\"d/w\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.0; d/z=10.0.0.2; d/w=10.0.0.1"}}},
	{"pool namespaces restrict who may use it",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"],\"namespaces\":[\"prod\"]},"
	   "{\"name\":\"b\",\"addresses\":[\"10.0.1.0/24\"],\"priority\":5}]",
	   "[{\"name\":\"prod/x\",\"ports\":[\"tcp/80\"],\"pool\":\"a\"},"
	   "{\"name\":\"dev/y\",\"ports\":[\"tcp/80\"],\"pool\":\"a\"},"
	   "{\"name\":\"dev/z\",\"ports\":[\"tcp/80\"]}]",
	   "prod/x=10.0.0.0; dev/y=pending:pool a does not serve namespace dev; dev/z=10.0.1.0"}}},
	{"sharing: same key, disjoint ports share one IP",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"sharedKey\":\"k\"},"
	   "{\"name\":\"d/y\",\"ports\":[\"udp/80\",\"tcp/443\"],\"sharedKey\":\"k\"}]",
	   "d/x=10.0.0.0; d/y=10.0.0.0"}}},
	{"sharing: overlapping ports never share",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"sharedKey\":\"k\"},"
	   "{\"name\":\"d/y\",\"ports\":[\"tcp/80\"],\"sharedKey\":\"k\"}]",
	   "d/x=10.0.0.0; d/y=10.0.0.1"}}},
	{"sharing: different keys never share",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"sharedKey\":\"k\"},"
	   "{\"name\":\"d/y\",\"ports\":[\"tcp/81\"],\"sharedKey\":\"j\"},"
	   "{\"name\":\"d/z\",\"ports\":[\"tcp/82\"],\"ips\":[\"10.0.0.0\"],\"sharedKey\":\"j\"}]",
	   "d/x=10.0.0.0; d/y=10.0.0.1; d/z=pending:10.0.0.0 is in use by d/x (shared key"}}},
	{"sharing never crosses namespaces",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"n1/x\",\"ports\":[\"tcp/80\"],\"sharedKey\":\"k\"},"
	   "{\"name\":\"n2/y\",\"ports\":[\"tcp/81\"],\"sharedKey\":\"k\"},"
	   "{\"name\":\"n2/z\",\"ports\":[\"tcp/82\"],\"sharedKey\":\"k\",\"ips\":[\"10.0.0.0\"]}]",
	   "n1/x=10.0.0.0; n2/y=10.0.0.1; n2/z=pending:never crosses namespaces"}}},
	{"sharing: requested shared IP with disjoint ports",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"sharedKey\":\"k\",\"ips\":[\"10.0.0.7\"]},"
	   "{\"name\":\"d/y\",\"ports\":[\"tcp/81\"],\"sharedKey\":\"k\",\"ips\":[\"10.0.0.7\"]}]",
	   "d/x=10.0.0.7; d/y=10.0.0.7"}}},
	{"sharing: an IP stays while one sharer remains",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"sharedKey\":\"k\"},"
	   "{\"name\":\"d/y\",\"ports\":[\"tcp/81\"],\"sharedKey\":\"k\"}]",
	   "d/x=10.0.0.0; d/y=10.0.0.0"},
	  {"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/y\",\"ports\":[\"tcp/81\"],\"sharedKey\":\"k\"},"
	   "{\"name\":\"d/z\",\"ports\":[\"tcp/80\"]}]",
	   "d/y=10.0.0.0; d/z=10.0.0.1"}}},
	{"sharing: ports changed to overlap, the service that changed moves",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"sharedKey\":\"k\"},"
	   "{\"name\":\"d/y\",\"ports\":[\"tcp/81\"],\"sharedKey\":\"k\"}]",
	   "d/x=10.0.0.0; d/y=10.0.0.0"},
	  {"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"sharedKey\":\"k\"},"
	   "{\"name\":\"d/y\",\"ports\":[\"tcp/80\"],\"sharedKey\":\"k\"}]",
	   "d/x=10.0.0.0; d/y=10.0.0.1"}}},
	{"dual-stack: one IPv4 and one IPv6",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\",\"fd00::/120\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"dual\"},"
	   "{\"name\":\"d/y\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"ipv6\"}]",
	   "d/x=10.0.0.0,fd00::; d/y=fd00::1"}}},
	{"dual-stack needs a pool with both families",
	 {{"[{\"name\":\"a4\",\"addresses\":[\"10.0.0.0/24\"]},{\"name\":\"a6\",\"addresses\":"
	   "[\"fd00::/120\"]},{\"name\":\"z\",\"addresses\":[\"10.9.0.0/24\",\"fd09::/120\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"dual\"}]",
	   "d/x=10.9.0.0,fd09::"}}},
	{"dual-stack with no dual pool: pending",
	 {{"[{\"name\":\"a4\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"dual\"}]",
	   "d/x=pending:IPv4 and IPv6"}}},
	{"dual-stack with one requested address",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\",\"fd00::/120\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"dual\",\"ips\":[\"fd00::42\"]}]",
	   "d/x=10.0.0.0,fd00::42"}}},
	{"IPv6 range",
	 {{"[{\"name\":\"a\",\"addresses\":[\"fd00::10-fd00::11\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"ipv6\"},"
	   "{\"name\":\"d/y\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"ipv6\"},"
	   "{\"name\":\"d/z\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"ipv6\"}]",
	   "d/x=fd00::10; d/y=fd00::11; d/z=pending:no free IPv6 address"}}},
	{"an IP never moves when pools change around it",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}]", "d/x=10.0.0.0"},
	  {"[{\"name\":\"b\",\"addresses\":[\"10.0.1.0/24\"],\"priority\":1},"
	   "{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.0; d/y=10.0.1.0"}}},
	{"pool shrunk below an assigned IP: flagged, not moved, not reused",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}]", "d/x=10.0.0.0"},
	  {"[{\"name\":\"a\",\"addresses\":[\"10.0.0.128/25\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=flagged:10.0.0.0 is outside every pool; d/y=10.0.0.128"},
	  {"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]},"
	   "{\"name\":\"d/z\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.0; d/y=10.0.0.128; d/z=10.0.0.1"}}},
	{"pool removed: flagged; its IP is not given to anyone",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/30\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}]", "d/x=10.0.0.0"},
	  {"[{\"name\":\"b\",\"addresses\":[\"10.0.1.0/31\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=flagged:(pool a changed or removed); d/y=10.0.1.0"},
	  {"[{\"name\":\"c\",\"addresses\":[\"10.0.0.0/30\"],\"priority\":1}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]},"
	   "{\"name\":\"d/z\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.0; d/y=flagged:10.0.1.0; d/z=10.0.0.1"}}},
	{"requested IP changed: the service moves to it",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}]", "d/x=10.0.0.0"},
	  {"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ips\":[\"10.0.0.50\"]}]",
	   "d/x=10.0.0.50"}}},
	{"family changed to dual and back: the address of the family that stays never moves",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\",\"fd00::/64\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.0; d/y=10.0.0.1"},
	  {"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\",\"fd00::/64\"]}]",
	   "[{\"name\":\"d/y\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"dual\"},"
	   "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.0; d/y=10.0.0.1,fd00::"},
	  {"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\",\"fd00::/64\"]}]",
	   "[{\"name\":\"d/y\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"ipv6\"},"
	   "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/z\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.0; d/y=fd00::; d/z=10.0.0.1"}}},
	{"family changed to dual: the service gets both",
	 {{"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\",\"fd00::/64\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.0; d/y=10.0.0.1"},
	  {"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\",\"fd00::/64\"]}]",
	   "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"dual\"},"
	   "{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]}]",
	   "d/x=10.0.0.0,fd00::; d/y=10.0.0.1"}}},
};

static void test_rows(void)
{
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct alloc *al;
		char err[256], where[64];

		T_BEGIN("alloc: %s", rows[r].name);
		al = alloc_new(NULL, err, sizeof(err));
		for (int s = 0; s < 5 && rows[r].steps[s].want; s++) {
			struct cfg *c = mkcfg(rows[r].steps[s].pools, rows[r].steps[s].services);

			T_EXPECT(alloc_reconcile(al, c) == 0, "reconcile step %d", s + 1);
			snprintf(where, sizeof(where), "step %d", s + 1);
			expect(al, rows[r].steps[s].want, where);
			cfg_free(c);
		}
		alloc_free(al);
		T_END();
	}
}

/* --- persistence through the real store ------------------------------------------------ */

static char *mktmp(void)
{
	char tmpl[256];
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(tmpl, sizeof(tmpl), "%s/elballocXXXXXX", base);
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		exit(2);
	}
	return strdup(tmpl);
}

static void rmtree(char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("  could not remove %s\n", dir);
	free(dir);
}

static const char *P = "[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\",\"fd00::/120\"]}]";

static void test_restart(void)
{
	char *dir = mktmp(), err[256];
	struct store *st;
	struct alloc *al;
	struct cfg *c;

	T_BEGIN("alloc: assignments survive a restart, whatever the new service order");
	st = store_open(dir, err, sizeof(err));
	T_EXPECT(st, "store_open: %s", err);
	al = alloc_new(st, err, sizeof(err));
	c = mkcfg(P, "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":"
		     "[\"tcp/80\"],\"ipFamily\":\"dual\"},{\"name\":\"d/z\",\"ports\":[\"tcp/80\"]}]");
	alloc_reconcile(al, c);
	cfg_free(c);
	expect(al, "d/x=10.0.0.0; d/y=10.0.0.1,fd00::; d/z=10.0.0.2", "before");
	T_EXPECT(store_count(st, ALLOC_KIND) == 3, "3 assignments stored (got %zu)",
		 store_count(st, ALLOC_KIND));
	alloc_free(al);
	store_close(st);

	st = store_open(dir, err, sizeof(err));
	T_EXPECT(st, "store reopen: %s", err);
	al = alloc_new(st, err, sizeof(err));
	T_EXPECT(al, "alloc_new after restart: %s", err);
	expect(al, "d/x=10.0.0.0; d/y=10.0.0.1,fd00::; d/z=10.0.0.2", "loaded");
	/* new service first in order: must not take any of the old addresses */
	c = mkcfg(P, "[{\"name\":\"d/new\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/z\",\"ports\":"
		     "[\"tcp/80\"]},{\"name\":\"d/y\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"dual\"},"
		     "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}]");
	alloc_reconcile(al, c);
	cfg_free(c);
	expect(al, "d/new=10.0.0.3; d/x=10.0.0.0; d/y=10.0.0.1,fd00::; d/z=10.0.0.2", "after");
	alloc_free(al);
	store_close(st);
	T_END();

	T_BEGIN("alloc: a service removed while stopped releases its address on the next pass");
	st = store_open(dir, err, sizeof(err));
	al = alloc_new(st, err, sizeof(err));
	c = mkcfg(P, "[{\"name\":\"d/z\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/w\",\"ports\":"
		     "[\"tcp/80\"]}]");
	alloc_reconcile(al, c);
	cfg_free(c);
	expect(al, "d/x=none; d/new=none; d/z=10.0.0.2; d/w=10.0.0.0", "after removal");
	T_EXPECT(store_count(st, ALLOC_KIND) == 2, "2 assignments stored (got %zu)",
		 store_count(st, ALLOC_KIND));
	alloc_free(al);
	store_close(st);
	T_END();
	rmtree(dir);
}

static void test_kill9(void)
{
	char *dir = mktmp(), err[256];
	struct store *st;
	struct alloc *al;
	struct cfg *c;
	pid_t pid;
	int status;

	T_BEGIN("alloc: assignments survive kill -9 right after the reconcile");
	pid = fork();
	if (pid == 0) {
		st = store_open(dir, err, sizeof(err));
		al = alloc_new(st, err, sizeof(err));
		c = mkcfg(P, "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\","
			     "\"ports\":[\"tcp/80\"]}]");
		alloc_reconcile(al, c);
		raise(SIGKILL); /* no close, no free: as a crash */
		_exit(0);
	}
	waitpid(pid, &status, 0);
	T_EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed by SIGKILL");
	st = store_open(dir, err, sizeof(err));
	T_EXPECT(st, "store reopen after kill -9: %s", err);
	al = st ? alloc_new(st, err, sizeof(err)) : NULL;
	T_EXPECT(al, "alloc_new after kill -9: %s", err);
	if (al) {
		expect(al, "d/x=10.0.0.0; d/y=10.0.0.1", "after kill -9");
		c = mkcfg(P, "[{\"name\":\"d/q\",\"ports\":[\"tcp/80\"]},{\"name\":\"d/y\","
			     "\"ports\":[\"tcp/80\"]},{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}]");
		alloc_reconcile(al, c);
		cfg_free(c);
		expect(al, "d/q=10.0.0.2; d/x=10.0.0.0; d/y=10.0.0.1", "no address handed out twice");
		alloc_free(al);
	}
	if (st)
		store_close(st);
	T_END();
	rmtree(dir);
}

static void test_corrupt_record(void)
{
	char *dir = mktmp(), err[256] = "";
	struct store *st = store_open(dir, err, sizeof(err));
	struct json_object *bad = json_tokener_parse("{\"ips\":[\"not-an-ip\"],\"pool\":\"a\"}");
	struct alloc *al;

	T_BEGIN("alloc: a malformed stored assignment refuses to start instead of guessing");
	store_put(st, ALLOC_KIND, "d/x", bad);
	al = alloc_new(st, err, sizeof(err));
	T_EXPECT(!al && strstr(err, "d/x"), "alloc_new fails naming d/x (err \"%s\")", err);
	alloc_free(al);
	json_object_put(bad);
	store_close(st);
	T_END();
	rmtree(dir);
}

/* --- scale: cost independent of pool size --------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_scale(void)
{
	static const char *pools[] = {
		"[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/8\"],\"avoidBuggyIPs\":true}]",
		"[{\"name\":\"a\",\"addresses\":[\"fd00::/64\"]}]",
	};
	const int n = 20000;

	for (int k = 0; k < 2; k++) {
		struct cfg *c = mkcfg(pools[k], "[]");
		char err[64], want[64];
		struct alloc *al = alloc_new(NULL, err, sizeof(err));
		double t0;

		T_BEGIN("alloc: %d services from a %s pool in well under a second", n,
			k ? "IPv6 /64" : "/8");
		for (int i = 0; i < n; i++) {
			struct cfg_service *s =
				cfg_array_push((void **)&c->services, &c->n_services, sizeof(*s));
			char nm[2 * CFG_NAME_MAX + 1];

			snprintf(nm, sizeof(nm), "d/s%06d", i);
			cfg_service_set_name(s, nm);
			s->ports = calloc(1, sizeof(*s->ports)); /* cfg_free frees it */
			s->ports[0] = (struct cfg_port){80, 6};
			s->n_ports = 1;
			s->family = k ? CFG_FAM_IPV6 : CFG_FAM_IPV4;
		}
		t0 = now_s();
		alloc_reconcile(al, c);
		/* a second pass with everything assigned, then one more service */
		alloc_reconcile(al, c);
		T_EXPECT(now_s() - t0 < 2.0, "two passes took %.3f s", now_s() - t0);
		/* 20000 with .0/.255 skipped: 78 blocks of 254 = 19812, then 10.0.78.1.. */
		snprintf(want, sizeof(want), "d/s%06d=%s", n - 1, k ? "fd00::4e1f" : "10.0.78.188");
		expect(al, want, "last service");
		alloc_free(al);
		cfg_free(c);
		T_END();
	}
}

static void test_runs(void)
{
	struct runs r = {0};
	u128 x;

	T_BEGIN("runs: maximal runs merge and split");
	for (int i = 0; i < 10; i++)
		runs_add(&r, 100 + (u128)i);
	T_EXPECT(r.n == 1, "one run for 100..109 (got %zu)", r.n);
	runs_del(&r, 105);
	T_EXPECT(r.n == 2, "split in two (got %zu)", r.n);
	T_EXPECT(runs_lowest_free(&r, 100, 200, false, &x) && x == 105, "lowest free is 105");
	runs_add(&r, 105);
	T_EXPECT(r.n == 1, "merged again (got %zu)", r.n);
	T_EXPECT(runs_lowest_free(&r, 100, 200, false, &x) && x == 110, "lowest free is 110");
	T_EXPECT(!runs_lowest_free(&r, 100, 109, false, &x), "none free in 100..109");
	runs_del(&r, 100);
	runs_del(&r, 109);
	T_EXPECT(runs_lowest_free(&r, 100, 109, false, &x) && x == 100, "100 free again");
	T_EXPECT(!runs_has(&r, 109) && runs_has(&r, 108), "109 gone, 108 kept");
	runs_add(&r, ((u128)1 << 127) * 2 - 1); /* the last IPv6 address */
	T_EXPECT(!runs_lowest_free(&r, ((u128)1 << 127) * 2 - 1, ((u128)1 << 127) * 2 - 1, false,
				   &x), "no wrap past the last address");
	T_EXPECT(runs_lowest_free(&r, 255, 256, true, &x) == false, "255 and 256 both buggy");
	runs_clear(&r);
	T_END();
}

static void test_usage(void)
{
	struct cfg *c = mkcfg("[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\",\"fd00::/64\"],"
			      "\"avoidBuggyIPs\":true},{\"name\":\"b\",\"addresses\":"
			      "[\"10.1.0.0-10.1.0.9\"]}]",
			      "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"dual\","
			      "\"sharedKey\":\"k\"},{\"name\":\"d/y\",\"ports\":[\"tcp/81\"],"
			      "\"sharedKey\":\"k\",\"ipFamily\":\"dual\"},{\"name\":\"d/z\",\"ports\":"
			      "[\"tcp/80\"],\"pool\":\"b\"}]");
	struct alloc_usage u[2];
	char err[64];
	struct alloc *al = alloc_new(NULL, err, sizeof(err));

	T_BEGIN("alloc: usage and sizes per pool and family");
	alloc_reconcile(al, c);
	alloc_usage(al, c, u);
	T_EXPECT(u[0].in_use[0] == 1 && u[0].in_use[1] == 1 && u[0].services == 2,
		 "pool a: 1 IPv4 + 1 IPv6 in use by 2 sharing services (got %llu %llu %d)",
		 (unsigned long long)u[0].in_use[0], (unsigned long long)u[0].in_use[1],
		 u[0].services);
	T_EXPECT(u[1].in_use[0] == 1 && u[1].services == 1, "pool b: 1 in use");
	T_EXPECT(alloc_pool_size(&c->pools[0], AF_INET) == 254, "a: 254 usable IPv4 (got %g)",
		 alloc_pool_size(&c->pools[0], AF_INET));
	T_EXPECT(alloc_pool_size(&c->pools[0], AF_INET6) == 18446744073709551616.0,
		 "a: 2^64 IPv6");
	T_EXPECT(alloc_pool_size(&c->pools[1], AF_INET) == 10, "b: 10 IPv4");
	alloc_free(al);
	cfg_free(c);
	T_END();
}

/* --- cluster claims: a table standing in for etcd's /edgelb/ips/ ----------------------- */

static struct fake_claim {
	struct ip ip;
	char holder[ALLOC_HOLDER_MAX];
	bool asking;
} ftab[16];
static int f_n, f_released;
static bool f_ready;
static char f_last_release[ALLOC_HOLDER_MAX + IP_STRLEN];

static struct fake_claim *f_find(const struct ip *ip)
{
	for (int i = 0; i < f_n; i++)
		if (ftab[i].holder[0] && ip_eq(&ftab[i].ip, ip))
			return &ftab[i];
	return NULL;
}

static void f_put(const char *ip, const char *holder, bool asking)
{
	struct fake_claim *c = &ftab[f_n++];

	ip_parse(ip, &c->ip);
	snprintf(c->holder, sizeof(c->holder), "%s", holder);
	c->asking = asking;
}

static bool f_is_ready(void *ctx)
{
	(void)ctx;
	return f_ready;
}

static enum alloc_claim f_check(void *ctx, const struct ip *ip, const char *holder, char *other,
				size_t len)
{
	struct fake_claim *c = f_find(ip);

	(void)ctx;
	if (!c)
		return ALLOC_CLAIM_FREE;
	if (strcmp(c->holder, holder)) {
		if (other)
			snprintf(other, len, "%s", c->holder);
		return ALLOC_CLAIM_OTHER;
	}
	return c->asking ? ALLOC_CLAIM_ASKING : ALLOC_CLAIM_MINE;
}

static void f_claim(void *ctx, const struct ip *ip, const char *holder)
{
	char b[IP_STRLEN];

	(void)ctx;
	if (!f_find(ip))
		f_put(ip_str(ip, b), holder, true);
}

static void f_release(void *ctx, const struct ip *ip, const char *holder)
{
	struct fake_claim *c = f_find(ip);
	char b[IP_STRLEN];

	(void)ctx;
	if (!c || strcmp(c->holder, holder))
		return;
	c->holder[0] = '\0';
	f_released++;
	snprintf(f_last_release, sizeof(f_last_release), "%s %s", ip_str(ip, b), holder);
}

static int f_held_by(void *ctx, const char *holder, struct ip *out, int max)
{
	int n = 0;

	(void)ctx;
	for (int i = 0; i < f_n && n < max; i++)
		if (!strcmp(ftab[i].holder, holder))
			out[n++] = ftab[i].ip;
	return n;
}

/* etcd answers every claim in flight: granted */
static void f_grant(void)
{
	for (int i = 0; i < f_n; i++)
		ftab[i].asking = false;
}

static const struct alloc_claims fake_claims = {NULL,	 f_is_ready, f_check,
						f_claim, f_release,  f_held_by};

static struct alloc *claims_alloc(void)
{
	struct alloc *al = alloc_new(NULL, NULL, 0);

	memset(ftab, 0, sizeof(ftab));
	f_n = f_released = 0;
	f_ready = true;
	alloc_set_claims(al, &fake_claims);
	return al;
}

#define POOL4 "[{\"name\":\"a\",\"addresses\":[\"10.0.0.1-10.0.0.4\"]}]"

static void test_claims(void)
{
	struct alloc *al;
	struct cfg *c;
	char msg[160];

	T_BEGIN("claims: nothing is assigned before the cluster's claims are read");
	al = claims_alloc();
	f_ready = false;
	c = mkcfg(POOL4, "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}]");
	alloc_reconcile(al, c);
	expect(al, "d/x=pending:waiting for the cluster's address claims", "not read");
	T_EXPECT(f_n == 0, "nothing claimed (got %d)", f_n);
	f_ready = true;
	alloc_reconcile(al, c);
	expect(al, "d/x=pending:claiming 10.0.0.1 in the cluster", "read, claim asked");
	T_EXPECT(f_n == 1 && !strcmp(ftab[0].holder, "d/x") && ftab[0].asking,
		 "10.0.0.1 asked for d/x");
	alloc_reconcile(al, c);
	T_EXPECT(f_n == 1, "asked once while in flight (got %d)", f_n);
	f_grant();
	alloc_reconcile(al, c);
	expect(al, "d/x=10.0.0.1", "granted");
	cfg_free(c);
	alloc_free(al);
	T_END();

	T_BEGIN("claims: a service gets the addresses the cluster holds for it, whatever the "
		"order");
	al = claims_alloc();
	f_put("10.0.0.1", "d/y", false);
	f_put("10.0.0.3", "d/x", false);
	c = mkcfg(POOL4, "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},"
			 "{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]}]");
	alloc_reconcile(al, c);
	expect(al, "d/x=10.0.0.3; d/y=10.0.0.1", "taken from the cluster");
	T_EXPECT(f_n == 2, "nothing more claimed (got %d)", f_n);
	cfg_free(c);
	alloc_free(al);
	T_END();

	T_BEGIN("claims: another holder's address is skipped, a requested one refused");
	al = claims_alloc();
	f_put("10.0.0.1", "other/z", false);
	f_put("10.0.0.2", "other/w", true); /* being claimed by another node */
	c = mkcfg(POOL4, "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},"
			 "{\"name\":\"d/y\",\"ports\":[\"tcp/80\"],\"ips\":[\"10.0.0.1\"]}]");
	alloc_reconcile(al, c);
	f_grant();
	alloc_reconcile(al, c);
	expect(al,
	       "d/x=10.0.0.3; d/y=pending:requested 10.0.0.1 is claimed by other/z in the "
	       "cluster",
	       "skipped and refused");
	T_EXPECT(alloc_ip_check(al, &c->services[1], &ftab[0].ip, msg, sizeof(msg)) < 0 &&
		     !strcmp(msg, "10.0.0.1 is claimed by other/z in the cluster"),
		 "alloc_ip_check names the holder (got \"%s\")", msg);
	cfg_free(c);
	alloc_free(al);
	T_END();

	T_BEGIN("claims: an assigned address the cluster gives another holder moves; a free one "
		"is claimed again");
	al = claims_alloc();
	c = mkcfg(POOL4, "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]},"
			 "{\"name\":\"d/y\",\"ports\":[\"tcp/80\"]}]");
	alloc_reconcile(al, c);
	f_grant();
	alloc_reconcile(al, c);
	expect(al, "d/x=10.0.0.1; d/y=10.0.0.2", "assigned");
	snprintf(ftab[0].holder, sizeof(ftab[0].holder), "other/z"); /* a partition healed */
	ftab[1].holder[0] = '\0';				     /* released elsewhere */
	alloc_reconcile(al, c);
	expect(al, "d/x=pending:claiming 10.0.0.3; d/y=10.0.0.2", "x moves, y kept");
	T_EXPECT(f_check(NULL, &ftab[0].ip, "other/z", NULL, 0) == ALLOC_CLAIM_MINE,
		 "other/z's claim untouched");
	T_EXPECT(f_n == 4 && !strcmp(ftab[2].holder, "d/y") && ftab[2].asking,
		 "10.0.0.2 asked again for d/y (got %d claims)", f_n);
	f_grant();
	alloc_reconcile(al, c);
	expect(al, "d/x=10.0.0.3; d/y=10.0.0.2", "x moved");
	cfg_free(c);
	alloc_free(al);
	T_END();

	T_BEGIN("claims: two addresses claimed for one service (two nodes at once): the lower "
		"one wins on every node, the other is released");
	al = claims_alloc();
	c = mkcfg(POOL4, "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}]");
	f_put("10.0.0.3", "d/x", true); /* this node's claim, in flight */
	alloc_reconcile(al, c);
	expect(al, "d/x=pending:claiming 10.0.0.3", "waits for its claim");
	f_put("10.0.0.2", "d/x", false); /* another node's, granted first */
	alloc_reconcile(al, c);
	expect(al, "d/x=10.0.0.2", "takes the granted one");
	f_grant();
	alloc_reconcile(al, c);
	expect(al, "d/x=10.0.0.2", "kept");
	T_EXPECT(f_released == 1 && !strcmp(f_last_release, "10.0.0.3 d/x"),
		 "the higher claim released (got %d: %s)", f_released, f_last_release);
	f_put("10.0.0.1", "d/x", false); /* the other node got the lowest */
	alloc_reconcile(al, c);
	f_grant();
	alloc_reconcile(al, c);
	expect(al, "d/x=10.0.0.1", "moved to the lower one");
	T_EXPECT(f_released == 2 && !strcmp(f_last_release, "10.0.0.2 d/x"),
		 "the one it left released (got %d: %s)", f_released, f_last_release);
	cfg_free(c);
	alloc_free(al);
	T_END();

	T_BEGIN("claims: a removed service gives its address back; a shared one only with its "
		"last holder");
	al = claims_alloc();
	c = mkcfg(POOL4, "[{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"sharedKey\":\"k\"},"
			 "{\"name\":\"d/y\",\"ports\":[\"tcp/81\"],\"sharedKey\":\"k\"},"
			 "{\"name\":\"d/z\",\"ports\":[\"tcp/80\"]}]");
	alloc_reconcile(al, c);
	f_grant();
	alloc_reconcile(al, c);
	expect(al, "d/x=10.0.0.1; d/y=10.0.0.1; d/z=10.0.0.2", "assigned");
	T_EXPECT(f_n == 2 && !strcmp(ftab[0].holder, "d sharedKey=k"),
		 "one claim for the shared address, held by the namespace and key (got \"%s\")",
		 ftab[0].holder);
	cfg_free(c);
	c = mkcfg(POOL4, "[{\"name\":\"d/y\",\"ports\":[\"tcp/81\"],\"sharedKey\":\"k\"}]");
	alloc_reconcile(al, c);
	T_EXPECT(f_released == 1 && !strcmp(f_last_release, "10.0.0.2 d/z"),
		 "z's address released, the shared one kept (got %d: %s)", f_released,
		 f_last_release);
	cfg_free(c);
	c = mkcfg(POOL4, "[]");
	alloc_reconcile(al, c);
	T_EXPECT(f_released == 2 && !strcmp(f_last_release, "10.0.0.1 d sharedKey=k"),
		 "the shared address released with its last holder (got %d: %s)", f_released,
		 f_last_release);
	cfg_free(c);
	alloc_free(al);
	T_END();
}

int main(void)
{
	log_set_level(LOG_WARN);
	test_runs();
	test_rows();
	test_restart();
	test_kill9();
	test_corrupt_record();
	test_usage();
	test_claims();
	test_scale();
	return t_exit();
}
