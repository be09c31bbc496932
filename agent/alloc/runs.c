/* Ordered set of used addresses kept as maximal runs in a glibc tsearch (red-black) tree; see
 * runs.h. Runs are disjoint and never adjacent, so the address right after a run is free:
 * the lowest-gap search jumps from run to run instead of walking addresses. */
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/runs.h"
#include "lib/log.h"

struct run {
	u128 start, end;
};

/* Runs are disjoint: a probe [x, x] compares equal to the run that contains x. */
static int run_cmp(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	if (x->end < y->start)
		return -1;
	if (x->start > y->end)
		return 1;
	return 0;
}

u128 ip_u128(const struct ip *ip)
{
	int n = ip->family == AF_INET ? 4 : 16;
	u128 v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | ip->a[i];
	return v;
}

void u128_ip(int family, u128 v, struct ip *out)
{
	int n = family == AF_INET ? 4 : 16;

	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)family;
	for (int i = n - 1; i >= 0; i--) {
		out->a[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static struct run *find(struct runs *r, u128 x)
{
	struct run probe = {x, x};
	void *n = tfind(&probe, &r->root, run_cmp);

	return n ? *(struct run **)n : NULL;
}

bool runs_has(struct runs *r, u128 x)
{
	return find(r, x) != NULL;
}

void runs_add(struct runs *r, u128 x)
{
	struct run *left = x > 0 ? find(r, x - 1) : NULL;
	struct run *right = x + 1 > x ? find(r, x + 1) : NULL;

	if (find(r, x))
		log_fatal("alloc: runs_add of an address already in use");
	if (left && right) {
		/* widening left over right would break disjointness: remove right first */
		u128 end = right->end;

		tdelete(right, &r->root, run_cmp);
		free(right);
		r->n--;
		left->end = end;
	} else if (left) {
		left->end = x;
	} else if (right) {
		right->start = x;
	} else {
		struct run *n = malloc(sizeof(*n));

		if (!n)
			log_fatal("alloc: out of memory");
		n->start = n->end = x;
		if (!tsearch(n, &r->root, run_cmp))
			log_fatal("alloc: out of memory");
		r->n++;
	}
}

void runs_del(struct runs *r, u128 x)
{
	struct run *c = find(r, x);

	if (!c)
		log_fatal("alloc: runs_del of an address not in use");
	if (c->start == c->end) {
		tdelete(c, &r->root, run_cmp);
		free(c);
		r->n--;
	} else if (x == c->start) {
		c->start++;
	} else if (x == c->end) {
		c->end--;
	} else {
		struct run *n = malloc(sizeof(*n));

		if (!n)
			log_fatal("alloc: out of memory");
		n->start = x + 1;
		n->end = c->end;
		c->end = x - 1; /* shrink first so the new run is disjoint when inserted */
		if (!tsearch(n, &r->root, run_cmp))
			log_fatal("alloc: out of memory");
		r->n++;
	}
}

static bool buggy(u128 x)
{
	unsigned lo = (unsigned)(x & 0xff);

	return lo == 0 || lo == 0xff;
}

bool runs_lowest_free(struct runs *r, u128 first, u128 last, bool avoid_buggy, u128 *out)
{
	u128 x = first;

	for (;;) {
		struct run *c = find(r, x);

		if (c) {
			if (c->end >= last)
				return false;
			x = c->end + 1;
			continue; /* free by maximality, but may still be buggy */
		}
		if (avoid_buggy && buggy(x)) {
			if (x >= last)
				return false;
			x++;
			continue;
		}
		*out = x;
		return true;
	}
}

void runs_clear(struct runs *r)
{
	tdestroy(r->root, free);
	r->root = NULL;
	r->n = 0;
}
