/* Maglev table construction; see maglev.h. Backends are sorted by their stable key first, so
 * the result depends only on the set of (address, port, weight), never on input order. */
#include <stdlib.h>
#include <string.h>

#include "dataplane/maglev.h"

#define MAGLEV_SEED_OFFSET 0x6d61676c65763031ULL /* "maglev01" */
#define MAGLEV_SEED_SKIP   0x736b697070657231ULL /* "skipper1" */

/* FNV-1a over the key bytes, then the splitmix64 finaliser for avalanche. */
uint64_t maglev_key_hash(const struct ip *addr, uint16_t port, uint64_t seed)
{
	uint8_t key[19];
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	int len = addr->family == AF_INET ? 4 : 16;

	key[0] = addr->family == AF_INET ? 4 : 6;
	memcpy(key + 1, addr->a, len);
	key[1 + len] = port >> 8;
	key[2 + len] = port & 0xff;
	for (int i = 0; i < len + 3; i++) {
		h ^= key[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static int be_cmp(const void *a, const void *b)
{
	const struct maglev_backend *x = a, *y = b;
	int c = ip_cmp(&x->addr, &y->addr);

	if (c)
		return c;
	return (int)x->port - (int)y->port;
}

int maglev_build(const struct maglev_backend *in, int n, uint32_t *table, uint32_t size)
{
	struct maglev_backend *be;
	uint64_t *offset, *skip, *next, *credit;
	uint32_t filled = 0, maxw = 0;
	int placed = 0, m = 0;

	if (n < 0 || size < 2 || (uint32_t)n >= size)
		return -1;
	memset(table, 0, size * sizeof(*table));
	be = calloc(n ? n : 1, sizeof(*be));
	offset = calloc(n ? n : 1, sizeof(*offset));
	skip = calloc(n ? n : 1, sizeof(*skip));
	next = calloc(n ? n : 1, sizeof(*next));
	credit = calloc(n ? n : 1, sizeof(*credit));
	uint8_t *taken = calloc(size, 1);
	if (!be || !offset || !skip || !next || !credit || !taken)
		abort(); /* allocation failure is fatal (STYLE.md) */
	for (int i = 0; i < n; i++)
		if (in[i].weight)
			be[m++] = in[i];
	qsort(be, m, sizeof(*be), be_cmp);
	for (int i = 0; i < m; i++) {
		offset[i] = maglev_key_hash(&be[i].addr, be[i].port, MAGLEV_SEED_OFFSET) % size;
		skip[i] = maglev_key_hash(&be[i].addr, be[i].port, MAGLEV_SEED_SKIP) % (size - 1) + 1;
		if (be[i].weight > maxw)
			maxw = be[i].weight;
	}
	/* Paper's Populate loop; weights by credit: a backend places one entry each time its
	 * accumulated weight reaches the largest weight (equal weights: one per round). */
	while (m && filled < size) {
		for (int i = 0; i < m && filled < size; i++) {
			credit[i] += be[i].weight;
			if (credit[i] < maxw)
				continue;
			credit[i] -= maxw;
			uint64_t c;

			do {
				c = (offset[i] + next[i] * skip[i]) % size;
				next[i]++;
			} while (taken[c]);
			taken[c] = 1;
			table[c] = be[i].id;
			filled++;
		}
	}
	placed = m;
	free(taken);
	free(credit);
	free(next);
	free(skip);
	free(offset);
	free(be);
	return placed;
}
