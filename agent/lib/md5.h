/* MD5 (RFC 1321), incremental and one-shot, for BFD Keyed MD5 and Meticulous Keyed MD5
 * authentication (RFC 5880 6.7.3). MD5 is broken for collision resistance: use it only where a
 * protocol names it, never for anything that needs a collision-resistant hash. Plain C, libc
 * only, byte order independent. */
#ifndef EDGELB_LIB_MD5_H
#define EDGELB_LIB_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_LEN 16

struct md5 {
	uint32_t h[4];
	uint64_t n;	 /* bytes hashed so far */
	uint8_t buf[64]; /* the partial block: n % 64 bytes */
};

void md5_init(struct md5 *c);
void md5_update(struct md5 *c, const void *p, size_t len);
/* Writes the digest; c must be initialised again before reuse. */
void md5_final(struct md5 *c, uint8_t out[MD5_LEN]);
/* The digest of len bytes at p. */
void md5(const void *p, size_t len, uint8_t out[MD5_LEN]);

#endif
