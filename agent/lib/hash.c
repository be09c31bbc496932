/* Open-addressing hash map over fixed-size byte keys to int values: linear probing, FNV-1a,
 * slots a power of two kept above twice the entry count, each slot a 4-byte entry number into
 * dense key and value arrays. Used by the reconcile passes (dataplane, l2) to diff desired
 * state against the kernel maps in O(n). */
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/log.h"

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME  1099511628211ULL

unsigned long long hash_bytes(const void *p, size_t n, unsigned long long seed)
{
	const unsigned char *b = p;
	unsigned long long h = FNV_OFFSET ^ seed;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= FNV_PRIME;
	}
	return h ^ (h >> 29);
}

static void *zalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p)
		log_fatal("hash: out of memory");
	return p;
}

static void *xrealloc(void *p, size_t n, size_t sz)
{
	p = realloc(p, (n ? n : 1) * sz);
	if (!p)
		log_fatal("hash: out of memory");
	return p;
}

static const unsigned char *key_of(const struct hmap *m, uint32_t e)
{
	return m->keys + (size_t)e * m->key_size;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_of(const struct hmap *m, const void *key)
{
	size_t i = (size_t)hash_bytes(key, m->key_size, 0) & (m->cap - 1);

	while (m->slot[i] && memcmp(key_of(m, m->slot[i] - 1), key, m->key_size))
		i = (i + 1) & (m->cap - 1);
	return i;
}

void hmap_init(struct hmap *m, size_t key_size, size_t hint)
{
	size_t cap = 16;

	while (cap < 2 * hint + 2)
		cap *= 2;
	*m = (struct hmap){.key_size = key_size, .cap = cap, .room = hint ? hint : 8};
	m->slot = zalloc(cap, sizeof(*m->slot));
	m->keys = zalloc(m->room, key_size);
	m->vals = zalloc(m->room, sizeof(*m->vals));
}

void hmap_free(struct hmap *m)
{
	free(m->slot);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* Twice the slots; the entries stay where they are. */
static void grow(struct hmap *m)
{
	free(m->slot);
	m->cap *= 2;
	m->slot = zalloc(m->cap, sizeof(*m->slot));
	for (uint32_t e = 0; e < m->n; e++)
		m->slot[slot_of(m, key_of(m, e))] = e + 1;
}

static int put(struct hmap *m, const void *key, int val, bool replace)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap)
		grow(m);
	i = slot_of(m, key);
	if (m->slot[i]) {
		if (replace)
			m->vals[m->slot[i] - 1] = val;
		return m->vals[m->slot[i] - 1];
	}
	if (m->n == m->room) {
		m->room *= 2;
		m->keys = xrealloc(m->keys, m->room, m->key_size);
		m->vals = xrealloc(m->vals, m->room, sizeof(*m->vals));
	}
	memcpy(m->keys + m->n * m->key_size, key, m->key_size);
	m->vals[m->n] = val;
	m->slot[i] = (uint32_t)++m->n;
	return val;
}

void hmap_put(struct hmap *m, const void *key, int val)
{
	put(m, key, val, true);
}

int hmap_put_new(struct hmap *m, const void *key, int val)
{
	return put(m, key, val, false);
}

bool hmap_get(const struct hmap *m, const void *key, int *val)
{
	size_t i;

	if (!m->cap)
		return false;
	i = slot_of(m, key);
	if (!m->slot[i])
		return false;
	if (val)
		*val = m->vals[m->slot[i] - 1];
	return true;
}
