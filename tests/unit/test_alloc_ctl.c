/* Unit tests of the allocator's control commands and apply path, through the real dispatcher
 * (ctl_dispatch), the real store in a temp dir and the lead's agent_commit: manifests from
 * tests/data (MetalLB IPAddressPool, Kubernetes Service), dry runs that change nothing, bad
 * input refused in one line with the store untouched, pool removal with and without force. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "alloc/manifest.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "daemon/agent.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "store/store.h"
#include "agent_fixture.h"
#include "t.h"

/* An agent with one pool from the "config file". */
static struct agent *agent_up(void)
{
	struct agent *a = fx_agent_new("elbactl");

	fx_pool(a->file_cfg,
		"{\"name\":\"filepool\",\"addresses\":[\"10.9.0.0/30\"],\"priority\":99}");
	fx_agent_ready(a);
	return a;
}

/* Sends one request; returns the response (owned) as a client reads it (fx_wire). */
static struct json_object *call(struct agent *a, const char *cmd, const char *args)
{
	char line[8192];

	snprintf(line, sizeof(line), "{\"cmd\":\"%s\",\"args\":%s}", cmd, args ? args : "{}");
	return fx_wire(ctl_dispatch(a, line, strlen(line)));
}

static bool ok(struct json_object *r)
{
	struct json_object *v;

	return json_object_object_get_ex(r, "ok", &v) && json_object_get_boolean(v);
}

static const char *error_of(struct json_object *r)
{
	struct json_object *v;

	return json_object_object_get_ex(r, "error", &v) ? json_object_get_string(v) : "";
}

static const char *assigned(struct agent *a, const char *svc, char *buf, size_t len)
{
	const struct alloc_assignment *as = alloc_get(a->alloc, svc);
	char ip[IP_STRLEN];

	buf[0] = '\0';
	if (!as)
		return "none";
	if (as->status != ALLOC_ASSIGNED)
		return "pending";
	for (int i = 0; i < as->n_ips; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "",
			 ip_str(&as->ips[i], ip));
	return buf;
}

static char *slurp(const char *name)
{
	char path[256];
	FILE *f;
	char *buf = calloc(1, 1 << 16);

	snprintf(path, sizeof(path), "tests/data/%s", name);
	f = fopen(path, "r");
	if (!f) {
		printf("  cannot open %s (run from the repository root)\n", path);
		exit(2);
	}
	if (fread(buf, 1, (1 << 16) - 1, f) == 0)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

static struct json_object *apply(struct agent *a, const char *file, bool dry)
{
	struct json_object *args = json_object_new_object(), *r;
	char *text = slurp(file);
	const char *line;
	char *copy;

	json_object_object_add(args, "yaml", json_object_new_string(text));
	json_object_object_add(args, "file", json_object_new_string(file));
	json_object_object_add(args, "dryRun", json_object_new_boolean(dry));
	free(text);
	{
		struct json_object *req = json_object_new_object();

		json_object_object_add(req, "cmd", json_object_new_string("apply"));
		json_object_object_add(req, "args", args);
		line = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
		copy = strdup(line);
		json_object_put(req);
	}
	r = fx_wire(ctl_dispatch(a, copy, strlen(copy)));
	free(copy);
	return r;
}

static int count_action(struct json_object *r, const char *action)
{
	struct json_object *res, *ch;
	int n = 0;

	if (!json_object_object_get_ex(r, "result", &res) ||
	    !json_object_object_get_ex(res, "changes", &ch))
		return -1;
	for (size_t i = 0; i < json_object_array_length(ch); i++) {
		struct json_object *v;

		json_object_object_get_ex(json_object_array_get_idx(ch, i), "action", &v);
		n += !strcmp(json_object_get_string(v), action);
	}
	return n;
}

static bool has_warning(struct json_object *r, const char *sub)
{
	struct json_object *res, *w;

	if (!json_object_object_get_ex(r, "result", &res) ||
	    !json_object_object_get_ex(res, "warnings", &w))
		return false;
	for (size_t i = 0; i < json_object_array_length(w); i++)
		if (strstr(json_object_get_string(json_object_array_get_idx(w, i)), sub))
			return true;
	return false;
}

static void test_apply(void)
{
	struct agent *a = agent_up();
	struct json_object *r;
	char buf[128], *before, *after;

	T_BEGIN("apply --dry-run of MetalLB pools reports and changes nothing");
	before = fx_store_dump(a);
	r = apply(a, "metallb-pools.yaml", true);
	T_EXPECT(ok(r) && count_action(r, "created") == 3, "3 pools would be created (%s)",
		 json_object_to_json_string(r));
	after = fx_store_dump(a);
	T_EXPECT(!strcmp(before, after), "store unchanged by a dry run");
	T_EXPECT(a->cfg->n_pools == 1, "desired state unchanged (%d pools)", a->cfg->n_pools);
	free(before);
	free(after);
	json_object_put(r);
	T_END();

	T_BEGIN("apply MetalLB IPAddressPools");
	r = apply(a, "metallb-pools.yaml", false);
	T_EXPECT(ok(r) && count_action(r, "created") == 3, "3 pools created (%s)", error_of(r));
	T_EXPECT(store_count(a->store, CFG_KIND_POOL) == 3 && a->cfg->n_pools == 4,
		 "stored and in the desired state");
	{
		const struct cfg_pool *p = cfg_find_pool(a->cfg, "production");

		T_EXPECT(p && p->priority == 10 && p->avoid_buggy_ips && p->n_namespaces == 1 &&
			     p->n_ranges == 2,
			 "priority, avoidBuggyIPs, namespaces, addresses translated");
		p = cfg_find_pool(a->cfg, "reserved");
		T_EXPECT(p && !p->auto_assign, "autoAssign false translated");
	}
	json_object_put(r);
	T_END();

	T_BEGIN("apply Kubernetes Services: sharing, dual-stack, annotations, pending rules");
	r = apply(a, "k8s-services.yaml", false);
	T_EXPECT(ok(r) && count_action(r, "created") == 5, "5 services created (%s)", error_of(r));
	T_EXPECT(!strcmp(assigned(a, "prod/web", buf, sizeof(buf)), "192.168.10.1,fd00:10::"),
		 "prod/web dual-stack from production, .0 avoided (got %s)", buf);
	T_EXPECT(!strcmp(assigned(a, "prod/dns-tcp", buf, sizeof(buf)), "192.168.10.53"),
		 "dns-tcp on its requested IP (got %s)", buf);
	T_EXPECT(!strcmp(assigned(a, "prod/dns-udp", buf, sizeof(buf)), "192.168.10.53"),
		 "dns-udp shares it (got %s)", buf);
	T_EXPECT(!strcmp(assigned(a, "dev/db", buf, sizeof(buf)), "192.168.30.5"),
		 "dev/db loadBalancerIP from the autoAssign=false pool (got %s)", buf);
	T_EXPECT(!strcmp(assigned(a, "dev/api", buf, sizeof(buf)), "192.168.20.10"),
		 "dev/api from staging: production only serves prod (got %s)", buf);
	T_EXPECT(!alloc_get(a->alloc, "dev/internal"), "ClusterIP service skipped");
	T_EXPECT(!alloc_get(a->alloc, "dev/other-lb") &&
		     has_warning(r, "Service other-lb (k8s-services.yaml doc 7): "
				    "spec.loadBalancerClass \"example.com/other-lb\": skipped"),
		 "a service of another loadBalancerClass left alone");
	T_EXPECT(has_warning(r, "spec.selector: not supported") &&
		     has_warning(r, "spec.externalTrafficPolicy: not supported") &&
		     has_warning(r, "ClusterIP: skipped"),
		 "unsupported fields reported by name");
	json_object_put(r);
	T_END();

	T_BEGIN("re-apply of the same file: everything unchanged");
	r = apply(a, "k8s-services.yaml", false);
	T_EXPECT(ok(r) && count_action(r, "unchanged") == 5, "5 unchanged (%s)",
		 json_object_to_json_string(r));
	json_object_put(r);
	T_END();

	T_BEGIN("apply edgelb's own YAML lists");
	r = apply(a, "edgelb-objects.yaml", false);
	T_EXPECT(ok(r) && count_action(r, "created") == 2, "pool and service created (%s)",
		 error_of(r));
	T_EXPECT(!strcmp(assigned(a, "lab/echo", buf, sizeof(buf)), "10.77.0.0"),
		 "lab/echo from lab (got %s)", buf);
	json_object_put(r);
	T_END();

	static const struct {
		const char *file, *msg;
	} bad[] = {
	    {"bad-mixed-range.yaml",
	     "addresses: \"192.168.40.1-fd00::1\": range mixes IPv4 and IPv6"},
	    {"bad-protocol.yaml", "ports: \"sctp/9000\": unknown protocol \"sctp\""},
	    {"bad-duplicate.yaml", "\"default/twice\" already declared"},
	    {"bad-overlap.yaml", "overlaps \"192.168.10.0/24\" of pool production"},
	    {"bad-kind.yaml", "kind: \"BGPPeerSession\""},
	    {"bad-unknown-pool.yaml", "pool: \"nowhere\": no such pool"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_BEGIN("apply %s: refused in one line, nothing changed", bad[i].file);
		before = fx_store_dump(a);
		r = apply(a, bad[i].file, false);
		T_EXPECT(!ok(r) && strstr(error_of(r), bad[i].msg) && !strchr(error_of(r), '\n'),
			 "error contains \"%s\" (got \"%s\")", bad[i].msg, error_of(r));
		after = fx_store_dump(a);
		T_EXPECT(!strcmp(before, after), "store unchanged");
		free(before);
		free(after);
		json_object_put(r);
		T_END();
	}
	fx_agent_free(a);
}

static void test_ctl(void)
{
	struct agent *a = agent_up();
	struct json_object *r;
	char buf[128], *before, *after;

	T_BEGIN("pool.set creates, service.set assigns at once");
	r = call(a, "pool.set", "{\"name\":\"p1\",\"addresses\":[\"10.0.0.0/30\"],\"priority\":1}");
	T_EXPECT(ok(r), "pool.set ok (%s)", error_of(r));
	json_object_put(r);
	r = call(a, "service.set", "{\"name\":\"d/a\",\"ports\":[\"tcp/80\"]}");
	T_EXPECT(ok(r), "service.set ok (%s)", error_of(r));
	T_EXPECT(!strcmp(assigned(a, "d/a", buf, sizeof(buf)), "10.0.0.0"), "d/a = 10.0.0.0 (%s)",
		 buf);
	json_object_put(r);
	T_END();

	static const struct {
		const char *cmd, *args, *msg;
	} bad[] = {
	    {"pool.set", "{\"name\":\"p2\",\"addresses\":[\"10.0.0.2-10.0.0.9\"]}",
	     "overlaps \"10.0.0.0/30\" of pool p1"},
	    {"pool.set", "{\"name\":\"p2\",\"addresses\":[\"10.0.0.300/24\"]}",
	     "addresses: \"10.0.0.300/24\": not a CIDR or range"},
	    {"pool.set", "{\"name\":\"p2\",\"addresses\":[\"10.1.0.9-10.1.0.1\"]}",
	     "reversed range"},
	    {"pool.set", "{\"name\":\"p2\",\"addresses\":[\"10.1.0.1-fd00::1\"]}",
	     "mixes IPv4 and IPv6"},
	    {"pool.set", "{\"name\":\"p2\",\"addresses\":[\"10.1.0.0/24\"],\"colour\":1}",
	     "unknown field \"colour\""},
	    {"service.set", "{\"name\":\"d/b\",\"ports\":[\"tcp/80\"],\"pool\":\"nope\"}",
	     "pool: \"nope\": no such pool (allowed: filepool, p1)"},
	    {"service.set", "{\"name\":\"d/b\",\"ports\":[\"icmp/80\"]}",
	     "unknown protocol \"icmp\" (allowed: tcp, udp)"},
	    {"service.set", "{\"name\":\"d/b\",\"ports\":[\"tcp/80\"],\"ips\":[\"192.0.2.9\"]}",
	     "ips: \"192.0.2.9\": not in any pool"},
	    {"service.set", "{\"name\":\"d/b\",\"ports\":[\"tcp/80\"],\"ips\":[\"10.0.0.0\"]}",
	     "10.0.0.0 is in use by d/a"},
	    {"pool.remove", "{\"name\":\"p1\"}", "1 service still assigned from it (d/a)"},
	    {"pool.remove", "{\"name\":\"filepool\"}", "defined in the config file"},
	    {"pool.remove", "{\"name\":\"ghost\"}", "no such pool"},
	    {"service.remove", "{\"name\":\"d/ghost\"}", "no such service"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_BEGIN("%s %s: refused in one line, nothing changed", bad[i].cmd, bad[i].args);
		before = fx_store_dump(a);
		r = call(a, bad[i].cmd, bad[i].args);
		T_EXPECT(!ok(r) && strstr(error_of(r), bad[i].msg) && !strchr(error_of(r), '\n'),
			 "error contains \"%s\" (got \"%s\")", bad[i].msg, error_of(r));
		after = fx_store_dump(a);
		T_EXPECT(!strcmp(before, after), "store unchanged");
		free(before);
		free(after);
		json_object_put(r);
		T_END();
	}

	T_BEGIN("service.set upserts; sharing by key through the control socket");
	r = call(a, "service.set", "{\"name\":\"d/a\",\"ports\":[\"tcp/80\"],\"sharedKey\":\"k\"}");
	T_EXPECT(ok(r), "update ok (%s)", error_of(r));
	json_object_put(r);
	r = call(a, "service.set", "{\"name\":\"d/b\",\"ports\":[\"udp/53\"],\"sharedKey\":\"k\"}");
	T_EXPECT(ok(r), "d/b ok (%s)", error_of(r));
	json_object_put(r);
	T_EXPECT(!strcmp(assigned(a, "d/a", buf, sizeof(buf)), "10.0.0.0"), "d/a kept 10.0.0.0");
	T_EXPECT(!strcmp(assigned(a, "d/b", buf, sizeof(buf)), "10.0.0.0"), "d/b shares (%s)", buf);
	T_END();

	T_BEGIN("service.list gives name, ips, ports, pool, status, reason");
	r = call(a, "service.set",
		 "{\"name\":\"d/c\",\"ports\":[\"tcp/1\"],\"pool\":\"filepool\","
		 "\"ips\":[\"10.9.0.3\"]}");
	json_object_put(r);
	r = call(a, "service.list", NULL);
	{
		struct json_object *rows, *row, *v;

		T_EXPECT(ok(r) && json_object_object_get_ex(r, "result", &rows) &&
			     json_object_array_length(rows) == 3,
			 "3 rows");
		row = json_object_array_get_idx(rows, 2);
		T_EXPECT(json_object_object_get_ex(row, "name", &v) &&
			     !strcmp(json_object_get_string(v), "d/c"),
			 "row name");
		T_EXPECT(json_object_object_get_ex(row, "ips", &v) &&
			     !strcmp(json_object_get_string(json_object_array_get_idx(v, 0)),
				     "10.9.0.3"),
			 "row ips");
		T_EXPECT(json_object_object_get_ex(row, "status", &v) &&
			     !strcmp(json_object_get_string(v), "assigned") &&
			     json_object_object_get_ex(row, "reason", &v) &&
			     json_object_object_get_ex(row, "ports", &v) &&
			     json_object_object_get_ex(row, "pool", &v) &&
			     !strcmp(json_object_get_string(v), "filepool"),
			 "status, reason, ports, pool");
	}
	json_object_put(r);
	T_END();

	T_BEGIN("pool.remove --force keeps the addresses and flags the services");
	r = call(a, "pool.remove", "{\"name\":\"p1\",\"force\":true}");
	T_EXPECT(ok(r), "forced removal ok (%s)", error_of(r));
	json_object_put(r);
	{
		const struct alloc_assignment *as = alloc_get(a->alloc, "d/a");

		T_EXPECT(as && as->status == ALLOC_ASSIGNED && as->out_of_pool &&
			     strstr(as->reason, "outside every pool"),
			 "d/a flagged, still 10.0.0.0 (%s)", as ? as->reason : "none");
	}
	r = call(a, "service.show", "{\"name\":\"d/a\"}");
	T_EXPECT(ok(r) && strstr(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN),
				 "\"outOfPool\":true"),
		 "service.show says out of pool");
	json_object_put(r);
	T_END();

	T_BEGIN("alloc_metrics: in use and total per pool and family, services per pool");
	{
		struct mbuf m = {0};

		alloc_metrics(&m, a);
		T_EXPECT(m.p && strstr(m.p,
				       "edgelb_allocator_addresses_in_use_total{pool=\"filepool\","
				       "ip_family=\"ipv4\"} 1\n"),
			 "filepool: 1 in use (%s)", m.p ? m.p : "");
		T_EXPECT(m.p && strstr(m.p, "edgelb_allocator_addresses_total{pool=\"filepool\","
					    "ip_family=\"ipv4\"} 4\n"),
			 "filepool: 4 in total");
		T_EXPECT(
		    m.p &&
			strstr(m.p, "edgelb_allocator_services_allocated{pool=\"filepool\"} 1\n"),
		    "filepool: 1 service");
		T_EXPECT(m.p && strstr(m.p, "# TYPE edgelb_allocator_addresses_in_use_total gauge"),
			 "family typed");
		free(m.p);
	}
	T_END();

	T_BEGIN("service.remove releases the address");
	r = call(a, "service.remove", "{\"name\":\"d/c\"}");
	T_EXPECT(ok(r), "removed (%s)", error_of(r));
	json_object_put(r);
	T_EXPECT(!alloc_get(a->alloc, "d/c") && !store_get(a->store, ALLOC_KIND, "d/c") &&
		     !store_get(a->store, CFG_KIND_SERVICE, "d/c"),
		 "assignment and object gone");
	T_END();
	fx_agent_free(a);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	test_apply();
	test_ctl();
	return t_exit();
}
