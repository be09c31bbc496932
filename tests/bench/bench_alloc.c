/* Allocation benchmark: N services (100,000 by default) allocated and persisted through the
 * real allocator and the real store in a temp dir, created in batches as a controller would;
 * then a restart (store reload + allocator reload + one pass), then one more service on top
 * of N. Pools: an IPv4 /8 with avoidBuggyIPs and an IPv6 /64, dual-stack every 10th service.
 * Prints times and peak RSS; asserts only that every service got its address.
 * usage: bench_alloc [N] [BATCH] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "config/config.h"
#include "lib/log.h"
#include "store/store.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void add_service(struct cfg *c, int i)
{
	struct cfg_service *s = cfg_array_push((void **)&c->services, &c->n_services, sizeof(*s));
	char nm[2 * CFG_NAME_MAX + 1];

	snprintf(nm, sizeof(nm), "bench/s%07d", i);
	cfg_service_set_name(s, nm);
	s->ports = calloc(2, sizeof(*s->ports)); /* cfg_free frees it */
	s->ports[0] = (struct cfg_port){80, 6};
	s->ports[1] = (struct cfg_port){443, 6};
	s->n_ports = 2;
	s->family = i % 10 == 0 ? CFG_FAM_DUAL : CFG_FAM_IPV4;
}

static int count_assigned(struct alloc *al, struct cfg *c)
{
	int n = 0;

	for (int i = 0; i < c->n_services; i++) {
		const struct alloc_assignment *as = alloc_get(al, c->services[i].name);

		n += as && as->status == ALLOC_ASSIGNED;
	}
	return n;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100000, batch = argc > 2 ? atoi(argv[2]) : 1000;
	char dir[] = "/tmp/elb-bench-alloc-XXXXXX", err[256], cmd[128];
	struct cfg *c = cfg_new();
	struct store *st;
	struct alloc *al;
	double t0, t_alloc, t_restart, t_one;
	const char *pools = "[{\"name\":\"v4\",\"addresses\":[\"10.0.0.0/8\",\"fd00::/64\"],"
			    "\"avoidBuggyIPs\":true}]";
	struct json_object *jp = json_tokener_parse(pools);
	int rc = 0, got;

	log_set_level(LOG_WARN);
	if (n <= 0 || batch <= 0 || !mkdtemp(dir)) {
		fprintf(stderr, "usage: bench_alloc [N] [BATCH]\n");
		return 2;
	}
	for (size_t i = 0; i < json_object_array_length(jp); i++) {
		struct cfg_pool *p = cfg_array_push((void **)&c->pools, &c->n_pools, sizeof(*p));

		if (cfg_pool_from_json(json_object_array_get_idx(jp, i), p, err, sizeof(err)) < 0) {
			fprintf(stderr, "pool: %s\n", err);
			return 2;
		}
	}
	json_object_put(jp);
	st = store_open(dir, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "store: %s\n", err);
		return 2;
	}
	al = alloc_new(st, err, sizeof(err));

	/* 1. N services, BATCH per reconcile pass (one store batch, one fsync each) */
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		add_service(c, i);
		if ((i + 1) % batch == 0 || i + 1 == n)
			if (alloc_reconcile(al, c) < 0)
				rc = 1;
	}
	t_alloc = now_s() - t0;
	got = count_assigned(al, c);
	printf("alloc: %d services (every 10th dual-stack) in batches of %d: %.3f s "
	       "(%.1f us/service incl. persistence), %d assigned, %zu stored\n",
	       n, batch, t_alloc, t_alloc * 1e6 / n, got, store_count(st, ALLOC_KIND));
	if (got != n)
		rc = 1;

	/* 2. restart: reopen the store, reload the allocator, one pass over everything */
	alloc_free(al);
	store_close(st);
	t0 = now_s();
	st = store_open(dir, err, sizeof(err));
	al = st ? alloc_new(st, err, sizeof(err)) : NULL;
	if (!al) {
		fprintf(stderr, "reload: %s\n", err);
		return 1;
	}
	alloc_reconcile(al, c);
	t_restart = now_s() - t0;
	printf("alloc: restart (store reload, %d assignments reloaded, one pass): %.3f s\n", n,
	       t_restart);

	/* 3. one more service on top of N */
	add_service(c, n);
	t0 = now_s();
	alloc_reconcile(al, c);
	t_one = now_s() - t0;
	printf("alloc: one more service with %d allocated (a full pass + persist): %.2f ms\n", n,
	       t_one * 1e3);
	{
		const struct alloc_assignment *as = alloc_get(al, c->services[n].name);
		char ip[IP_STRLEN];

		printf("alloc: service %d got %s\n", n,
		       as && as->n_ips ? ip_str(&as->ips[0], ip) : "nothing");
		if (!as || as->status != ALLOC_ASSIGNED)
			rc = 1;
	}
	printf("alloc: peak RSS %.1f MiB\n", peak_rss_kb() / 1024.0);
	alloc_free(al);
	store_close(st);
	cfg_free(c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
