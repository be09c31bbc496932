/* SHA-1 (RFC 3174, FIPS 180-4), incremental and one-shot, for BFD Keyed SHA1 and Meticulous
 * Keyed SHA1 authentication (RFC 5880 6.7.4). SHA-1 is broken for collision resistance: use it
 * only where a protocol names it, never for anything that needs a collision-resistant hash.
 * Plain C, libc only, byte order independent. */
#ifndef EDGELB_LIB_SHA1_H
#define EDGELB_LIB_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20

struct sha1 {
	uint32_t h[5];
	uint64_t n;	 /* bytes hashed so far */
	uint8_t buf[64]; /* the partial block: n % 64 bytes */
};

void sha1_init(struct sha1 *c);
void sha1_update(struct sha1 *c, const void *p, size_t len);
/* Writes the digest; c must be initialised again before reuse. */
void sha1_final(struct sha1 *c, uint8_t out[SHA1_LEN]);
/* The digest of len bytes at p. */
void sha1(const void *p, size_t len, uint8_t out[SHA1_LEN]);

#endif
