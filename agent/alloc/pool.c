/* Pool arithmetic for the allocator, the control commands and metrics: membership, usable
 * size (after avoidBuggyIPs), overlap between pools, allocation order. Pure functions over
 * struct cfg_pool; no allocator state. */
#include <stdio.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/runs.h"

bool alloc_ip_buggy(const struct ip *ip)
{
	/* MetalLB avoidBuggyIPs: .0 and .255 confuse some consumer routers' firmware */
	return ip->family == AF_INET && (ip->a[3] == 0 || ip->a[3] == 255);
}

/* Addresses x in [0, n] with (x & 0xff) == v. */
static u128 low_byte_upto(u128 n, unsigned v)
{
	return n < v ? 0 : (n - v) / 256 + 1;
}

double alloc_pool_size(const struct cfg_pool *p, int family)
{
	double total = 0;

	for (int i = 0; i < p->n_ranges; i++) {
		const struct cfg_range *r = &p->ranges[i];
		u128 a, b, n;

		if (r->first.family != family)
			continue;
		a = ip_u128(&r->first);
		b = ip_u128(&r->last);
		n = b - a + 1; /* an IPv6 ::/0 wraps to 0: counted as 2^128 below */
		if (p->avoid_buggy_ips && family == AF_INET)
			for (unsigned v = 0; v <= 255; v += 255)
				n -= low_byte_upto(b, v) - (a ? low_byte_upto(a - 1, v) : 0);
		total += n == 0 && b != a ? 3.402823669209385e38 : (double)n;
	}
	return total;
}

bool alloc_range_has(const struct cfg_range *r, const struct ip *ip)
{
	return r->first.family == ip->family && ip_cmp(&r->first, ip) <= 0 &&
	       ip_cmp(ip, &r->last) <= 0;
}

bool alloc_pool_has(const struct cfg_pool *p, const struct ip *ip)
{
	for (int i = 0; i < p->n_ranges; i++)
		if (alloc_range_has(&p->ranges[i], ip))
			return true;
	return false;
}

const struct cfg_pool *alloc_pool_of(const struct cfg *cfg, const struct ip *ip)
{
	for (int i = 0; i < cfg->n_pools; i++)
		if (alloc_pool_has(&cfg->pools[i], ip))
			return &cfg->pools[i];
	return NULL;
}

int alloc_pools_overlap(const struct cfg_pool *a, const struct cfg_pool *b, char *msg, size_t len)
{
	char x[2 * IP_STRLEN + 8], y[2 * IP_STRLEN + 8];

	for (int i = 0; i < a->n_ranges; i++) {
		for (int k = 0; k < b->n_ranges; k++) {
			const struct cfg_range *r = &a->ranges[i], *s = &b->ranges[k];

			if (r->first.family != s->first.family || ip_cmp(&r->last, &s->first) < 0 ||
			    ip_cmp(&s->last, &r->first) < 0)
				continue;
			snprintf(msg, len,
				 "addresses: \"%s\" of pool %s overlaps \"%s\" of pool %s "
				 "(allowed: addresses in no other pool)",
				 cfg_range_str(r, x, sizeof(x)), a->name,
				 cfg_range_str(s, y, sizeof(y)), b->name);
			return -1;
		}
	}
	return 0;
}

bool alloc_pool_ns_ok(const struct cfg_pool *p, const char *ns)
{
	if (p->n_namespaces == 0)
		return true;
	for (int i = 0; i < p->n_namespaces; i++)
		if (!strcmp(p->namespaces[i], ns))
			return true;
	return false;
}

bool alloc_pool_has_family(const struct cfg_pool *p, int family)
{
	for (int i = 0; i < p->n_ranges; i++)
		if (p->ranges[i].first.family == family)
			return true;
	return false;
}

/* MetalLB serviceAllocation.priority: lower first, 0 (unset) after every set one; then name. */
int alloc_pool_order(const void *a, const void *b)
{
	const struct cfg_pool *x = *(const struct cfg_pool *const *)a;
	const struct cfg_pool *y = *(const struct cfg_pool *const *)b;
	unsigned px = x->priority ? (unsigned)x->priority : ~0u;
	unsigned py = y->priority ? (unsigned)y->priority : ~0u;

	if (px != py)
		return px < py ? -1 : 1;
	return strcmp(x->name, y->name);
}
