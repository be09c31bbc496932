/* An open-addressing hash map over fixed-size keys (compared as bytes) to int values, for the
 * reconcile passes that match desired state against what the kernel maps hold (100,000
 * services: linear scans are quadratic there). Keys are copied in; no deletion (built per pass
 * and thrown away). Linear probing, FNV-1a, grows at 1/2 load. The probed slots hold 4-byte
 * entry numbers and the keys and values sit densely in insertion order, so a map costs about
 * key_size + 4 bytes an entry plus 8-16 bytes of slots, not (key_size + 5) x 2-4. */
#ifndef EDGELB_LIB_HASH_H
#define EDGELB_LIB_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap {
	size_t key_size;
	size_t cap;	     /* slots: a power of two, at least 2 * n */
	size_t n;	     /* entries */
	size_t room;	     /* entries keys and vals have room for */
	uint32_t *slot;	     /* cap: entry number + 1, 0 = empty */
	unsigned char *keys; /* room * key_size, entries in insertion order */
	int *vals;	     /* room */
};

/* An empty map for keys of key_size bytes with room for hint entries before growing. */
void hmap_init(struct hmap *m, size_t key_size, size_t hint);
void hmap_free(struct hmap *m);
/* Sets key → val (replacing an earlier value). */
void hmap_put(struct hmap *m, const void *key, int val);
/* Adds key → val only if key is absent; returns the value now stored under key. */
int hmap_put_new(struct hmap *m, const void *key, int val);
/* The value of key into *val (may be NULL); false if absent. */
bool hmap_get(const struct hmap *m, const void *key, int *val);
/* The FNV-1a hash of n bytes (exported for callers fingerprinting a value). */
unsigned long long hash_bytes(const void *p, size_t n, unsigned long long seed);

#endif
