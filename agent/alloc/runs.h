/* The addresses in use, as an ordered set of maximal runs [start, end] of one family, so that
 * "lowest free address in [first, last]" costs O(runs crossed x log runs), never the size of
 * a pool: a /8 or an IPv6 /64 costs what a /29 does. Addresses are 128-bit integers (IPv4 in
 * the low 32 bits). Knows nothing of pools or services. */
#ifndef EDGELB_ALLOC_RUNS_H
#define EDGELB_ALLOC_RUNS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/ip.h"

typedef unsigned __int128 u128;

struct runs {
	void *root; /* tsearch tree of struct run, ordered by address */
	size_t n;   /* runs in the tree */
};

u128 ip_u128(const struct ip *ip);
void u128_ip(int family, u128 v, struct ip *out);

void runs_add(struct runs *r, u128 x); /* x must not be in the set */
void runs_del(struct runs *r, u128 x); /* x must be in the set */
bool runs_has(struct runs *r, u128 x);
/* Lowest address of [first, last] not in the set; avoid_buggy skips addresses whose low byte
 * is 0 or 255 (IPv4 only). Returns false when there is none. */
bool runs_lowest_free(struct runs *r, u128 first, u128 last, bool avoid_buggy, u128 *out);
void runs_clear(struct runs *r);

#endif
