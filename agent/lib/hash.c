/* Open-addressing hash map over fixed-size byte keys to int values: linear probing, FNV-1a,
 * capacity a power of two kept above twice the entry count. Used by the reconcile passes
 * (dataplane, l2) to diff desired state against the kernel maps in O(n). */
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

static void alloc_slots(struct hmap *m, size_t cap)
{
	m->cap = cap;
	m->n = 0;
	m->keys = zalloc(cap, m->key_size);
	m->vals = zalloc(cap, sizeof(*m->vals));
	m->used = zalloc(cap, 1);
}

void hmap_init(struct hmap *m, size_t key_size, size_t hint)
{
	size_t cap = 16;

	while (cap < 2 * hint + 2)
		cap *= 2;
	m->key_size = key_size;
	alloc_slots(m, cap);
}

void hmap_free(struct hmap *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_of(const struct hmap *m, const void *key)
{
	size_t i = (size_t)hash_bytes(key, m->key_size, 0) & (m->cap - 1);

	while (m->used[i] && memcmp(m->keys + i * m->key_size, key, m->key_size))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void grow(struct hmap *m)
{
	struct hmap old = *m;

	alloc_slots(m, old.cap * 2);
	for (size_t i = 0; i < old.cap; i++)
		if (old.used[i])
			hmap_put(m, old.keys + i * old.key_size, old.vals[i]);
	hmap_free(&old);
}

static int put(struct hmap *m, const void *key, int val, bool replace)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap)
		grow(m);
	i = slot_of(m, key);
	if (m->used[i]) {
		if (replace)
			m->vals[i] = val;
		return m->vals[i];
	}
	m->used[i] = 1;
	memcpy(m->keys + i * m->key_size, key, m->key_size);
	m->vals[i] = val;
	m->n++;
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
	if (!m->used[i])
		return false;
	if (val)
		*val = m->vals[i];
	return true;
}
