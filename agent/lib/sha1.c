/* SHA-1 as FIPS 180-4 6.1.2 (and RFC 3174 section 6.1) defines it: 64-byte blocks, an 80-word
 * schedule, four groups of twenty steps over A B C D E, words loaded and the digest stored
 * big-endian byte by byte so the result does not depend on the host's byte order. Owns no
 * state beyond the caller's struct sha1. */
#include <string.h>

#include "lib/sha1.h"

static uint32_t rol(uint32_t x, unsigned s)
{
	return (x << s) | (x >> (32 - s));
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void sha1_block(uint32_t h[5], const uint8_t *blk)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int t = 0; t < 16; t++)
		w[t] = load_be32(blk + 4 * t);
	for (int t = 16; t < 80; t++)
		w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
	for (int t = 0; t < 80; t++) {
		uint32_t f, k, tmp;

		/* FIPS 180-4 4.1.1 and 4.2.1: Ch, Parity, Maj, Parity and their constants. */
		if (t < 20) {
			f = (b & c) ^ (~b & d);
			k = 0x5a827999;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (t < 60) {
			f = (b & c) ^ (b & d) ^ (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		tmp = rol(a, 5) + f + e + k + w[t];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = tmp;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void sha1_init(struct sha1 *c)
{
	/* FIPS 180-4 5.3.1 */
	*c = (struct sha1){.h = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0}};
}

void sha1_update(struct sha1 *c, const void *p, size_t len)
{
	const uint8_t *in = p;
	size_t have = (size_t)(c->n % 64);

	if (!len)
		return; /* p may be NULL, and memcpy must not see it */
	c->n += len;
	if (have) {
		size_t take = 64 - have < len ? 64 - have : len;

		memcpy(c->buf + have, in, take);
		in += take;
		len -= take;
		if (have + take < 64)
			return;
		sha1_block(c->h, c->buf);
	}
	for (; len >= 64; in += 64, len -= 64)
		sha1_block(c->h, in);
	if (len)
		memcpy(c->buf, in, len);
}

void sha1_final(struct sha1 *c, uint8_t out[SHA1_LEN])
{
	/* FIPS 180-4 5.1.1: a 1 bit, zeros to 56 mod 64, then the bit length big-endian. */
	uint64_t bits = c->n * 8;
	size_t have = (size_t)(c->n % 64);

	c->buf[have++] = 0x80;
	if (have > 56) {
		memset(c->buf + have, 0, 64 - have);
		sha1_block(c->h, c->buf);
		have = 0;
	}
	memset(c->buf + have, 0, 56 - have);
	store_be32(c->buf + 56, (uint32_t)(bits >> 32));
	store_be32(c->buf + 60, (uint32_t)bits);
	sha1_block(c->h, c->buf);
	for (int i = 0; i < 5; i++)
		store_be32(out + 4 * i, c->h[i]);
}

void sha1(const void *p, size_t len, uint8_t out[SHA1_LEN])
{
	struct sha1 c;

	sha1_init(&c);
	sha1_update(&c, p, len);
	sha1_final(&c, out);
}
