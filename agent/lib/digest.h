/* MD5 (RFC 1321) and SHA-1 (RFC 3174, FIPS 180-4), incremental and one-shot, for BFD keyed
 * and meticulous keyed MD5 and SHA1 authentication (RFC 5880 6.7.3, 6.7.4). Both are broken for
 * collision resistance: use them only where a protocol names them, never for anything that
 * needs a collision-resistant hash. Plain C, libc only, byte order independent. */
#ifndef EDGELB_LIB_DIGEST_H
#define EDGELB_LIB_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define MD5_LEN	 16
#define SHA1_LEN 20

/* The part both share: bytes hashed so far and the partial block (n % 64 bytes). */
struct digest_frame {
	uint64_t n;
	uint8_t buf[64];
};

struct md5 {
	uint32_t h[4];
	struct digest_frame f;
};

struct sha1 {
	uint32_t h[5];
	struct digest_frame f;
};

/* _final writes the digest; the context must be initialised again before reuse. The one-shot
 * forms give the digest of len bytes at p. */
void md5_init(struct md5 *c);
void md5_update(struct md5 *c, const void *p, size_t len);
void md5_final(struct md5 *c, uint8_t out[MD5_LEN]);
void md5(const void *p, size_t len, uint8_t out[MD5_LEN]);

void sha1_init(struct sha1 *c);
void sha1_update(struct sha1 *c, const void *p, size_t len);
void sha1_final(struct sha1 *c, uint8_t out[SHA1_LEN]);
void sha1(const void *p, size_t len, uint8_t out[SHA1_LEN]);

#endif
