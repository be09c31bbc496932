/* MD5 (RFC 1321 section 3) and SHA-1 (FIPS 180-4 6.1.2, RFC 3174 section 6.1): their block
 * functions, and the Merkle-Damgard frame they share (64-byte blocks, the partial block kept
 * between updates, padding with a 1 bit, zeros and the bit length: little-endian for MD5,
 * big-endian for SHA-1). Words are loaded and digests stored byte by byte, so the result does
 * not depend on the host's byte order. Owns no state beyond the caller's context. */
#include <stdbool.h>
#include <string.h>

#include "lib/digest.h"

typedef void (*block_fn)(uint32_t *h, const uint8_t *blk);

static uint32_t rol(uint32_t x, unsigned s)
{
	return (x << s) | (x >> (32 - s));
}

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
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

/* ---- the shared frame ---- */

static void frame_update(struct digest_frame *f, uint32_t *h, block_fn block, const void *p,
			 size_t len)
{
	const uint8_t *in = p;
	size_t have = (size_t)(f->n % 64);

	if (!len)
		return; /* p may be NULL, and memcpy must not see it */
	f->n += len;
	if (have) {
		size_t take = 64 - have < len ? 64 - have : len;

		memcpy(f->buf + have, in, take);
		in += take;
		len -= take;
		if (have + take < 64)
			return;
		block(h, f->buf);
	}
	for (; len >= 64; in += 64, len -= 64)
		block(h, in);
	if (len)
		memcpy(f->buf, in, len);
}

/* A 1 bit, zeros to 56 mod 64, then the message's length in bits (RFC 1321 3.1-3.2, FIPS
 * 180-4 5.1.1). */
static void frame_pad(struct digest_frame *f, uint32_t *h, block_fn block, bool big_endian)
{
	uint64_t bits = f->n * 8;
	size_t have = (size_t)(f->n % 64);

	f->buf[have++] = 0x80;
	if (have > 56) {
		memset(f->buf + have, 0, 64 - have);
		block(h, f->buf);
		have = 0;
	}
	memset(f->buf + have, 0, 56 - have);
	if (big_endian) {
		store_be32(f->buf + 56, (uint32_t)(bits >> 32));
		store_be32(f->buf + 60, (uint32_t)bits);
	} else {
		store_le32(f->buf + 56, (uint32_t)bits);
		store_le32(f->buf + 60, (uint32_t)(bits >> 32));
	}
	block(h, f->buf);
}

/* ---- MD5 ---- */

/* RFC 1321 3.4: T[i] = floor(4294967296 * abs(sin(i))), i = 1..64. */
static const uint32_t md5_t[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* RFC 1321 3.4: the left-rotate amounts, four per round, repeating within the round. */
static const uint8_t md5_s[4][4] = {
    {7, 12, 17, 22},
    {5, 9, 14, 20},
    {4, 11, 16, 23},
    {6, 10, 15, 21},
};

static void md5_block(uint32_t *h, const uint8_t *blk)
{
	uint32_t x[16], a = h[0], b = h[1], c = h[2], d = h[3];

	for (int i = 0; i < 16; i++)
		x[i] = load_le32(blk + 4 * i);
	for (int i = 0; i < 64; i++) {
		int round = i / 16;
		uint32_t f, t;
		int k;

		/* RFC 1321 3.4: F G H I and the word each step takes. */
		switch (round) {
		case 0:
			f = (b & c) | (~b & d);
			k = i;
			break;
		case 1:
			f = (b & d) | (c & ~d);
			k = (5 * i + 1) % 16;
			break;
		case 2:
			f = b ^ c ^ d;
			k = (3 * i + 5) % 16;
			break;
		default:
			f = c ^ (b | ~d);
			k = (7 * i) % 16;
			break;
		}
		t = d;
		d = c;
		c = b;
		b = b + rol(a + f + x[k] + md5_t[i], md5_s[round][i % 4]);
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
}

void md5_init(struct md5 *c)
{
	/* RFC 1321 3.3: word A = 01 23 45 67 low byte first, and so on. */
	*c = (struct md5){.h = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}};
}

void md5_update(struct md5 *c, const void *p, size_t len)
{
	frame_update(&c->f, c->h, md5_block, p, len);
}

void md5_final(struct md5 *c, uint8_t out[MD5_LEN])
{
	frame_pad(&c->f, c->h, md5_block, false);
	for (int i = 0; i < 4; i++)
		store_le32(out + 4 * i, c->h[i]);
}

void md5(const void *p, size_t len, uint8_t out[MD5_LEN])
{
	struct md5 c;

	md5_init(&c);
	md5_update(&c, p, len);
	md5_final(&c, out);
}

/* ---- SHA-1 ---- */

static void sha1_block(uint32_t *h, const uint8_t *blk)
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
	frame_update(&c->f, c->h, sha1_block, p, len);
}

void sha1_final(struct sha1 *c, uint8_t out[SHA1_LEN])
{
	frame_pad(&c->f, c->h, sha1_block, true);
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
