/* The name index of the allocator (names.h): slots of object pointers, probed linearly from
 * the FNV-1a hash of the name; a deletion shifts the following run back so lookups never
 * need tombstones. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/names.h"
#include "lib/log.h"

static size_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29));
}

void names_init(struct names *x, const char *(*key)(const void *obj))
{
	*x = (struct names){.key = key};
}

void names_free(struct names *x)
{
	free(x->slot);
	x->slot = NULL;
	x->cap = x->n = 0;
}

/* The slot of name, or the empty slot where it would go (cap > n guaranteed). */
static size_t find(const struct names *x, const char *name)
{
	size_t i = name_hash(name) & (x->cap - 1);

	while (x->slot[i] && strcmp(x->key(x->slot[i]), name))
		i = (i + 1) & (x->cap - 1);
	return i;
}

void *names_get(const struct names *x, const char *name)
{
	return x->cap ? x->slot[find(x, name)] : NULL;
}

static void resize(struct names *x, size_t cap)
{
	struct names old = *x;

	x->slot = calloc(cap, sizeof(*x->slot));
	if (!x->slot)
		log_fatal("alloc: out of memory");
	x->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slot[i])
			x->slot[find(x, x->key(old.slot[i]))] = old.slot[i];
	free(old.slot);
}

void names_add(struct names *x, void *obj)
{
	if (4 * (x->n + 1) > 3 * x->cap)
		resize(x, x->cap ? 2 * x->cap : 64);
	x->slot[find(x, x->key(obj))] = obj;
	x->n++;
}

void names_del(struct names *x, const char *name)
{
	size_t i, j, home;

	if (!x->cap || !x->slot[i = find(x, name)])
		return;
	x->slot[i] = NULL;
	x->n--;
	/* move back every entry of the run after i that may not stay past the hole */
	for (j = (i + 1) & (x->cap - 1); x->slot[j]; j = (j + 1) & (x->cap - 1)) {
		home = name_hash(x->key(x->slot[j])) & (x->cap - 1);
		/* j's entry stays when its home lies cyclically in (i, j] */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		x->slot[i] = x->slot[j];
		x->slot[j] = NULL;
		i = j;
	}
	if (x->cap > 64 && 8 * x->n < x->cap)
		resize(x, x->cap / 2);
}
