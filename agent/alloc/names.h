/* The allocator's index of assignments by service name: an open-addressing table of pointers
 * (linear probing, deletion by backward shift, at most 3/4 full), 8 bytes a slot, so 100,000
 * names cost ~1.5 MB where a json-c lh_table took ~10 MB. Holds pointers to objects it does
 * not own; key() gives an object's name. */
#ifndef EDGELB_ALLOC_NAMES_H
#define EDGELB_ALLOC_NAMES_H

#include <stddef.h>

struct names {
	void **slot;
	size_t cap; /* a power of two, or 0 */
	size_t n;
	const char *(*key)(const void *obj);
};

void names_init(struct names *x, const char *(*key)(const void *obj));
void names_free(struct names *x);
void *names_get(const struct names *x, const char *name);
/* obj's name must not be in the table. */
void names_add(struct names *x, void *obj);
void names_del(struct names *x, const char *name);

#endif
