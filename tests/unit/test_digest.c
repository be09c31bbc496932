/* agent/lib/digest.c, MD5 and SHA-1: the RFC 1321 A.5 and FIPS 180 / RFC 3174 vectors, one
 * million 'a' fed in uneven chunks across block boundaries, incremental equal to one-shot for
 * every split of every length 0..200, and the padding boundaries 55, 56, 63, 64 against
 * digests computed independently (python3 hashlib). Failures print the wrong digest in hex. */
#include <stdint.h>
#include <string.h>

#include "lib/digest.h"
#include "t.h"

/* The digest as lowercase hex into s (2 * n + 1 bytes). */
static const char *hex(char *s, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = "0123456789abcdef"[d[i] >> 4];
		s[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
	}
	s[2 * n] = 0;
	return s;
}

static const char *md5_hex(char s[2 * MD5_LEN + 1], const void *p, size_t len)
{
	uint8_t d[MD5_LEN];

	md5(p, len, d);
	return hex(s, d, MD5_LEN);
}

static const char *sha1_hex(char s[2 * SHA1_LEN + 1], const void *p, size_t len)
{
	uint8_t d[SHA1_LEN];

	sha1(p, len, d);
	return hex(s, d, SHA1_LEN);
}

/* The fixed pattern for the split and padding cases: byte i is i * 31 + 7. */
static void pattern(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + 7);
}

struct vec {
	const char *in;
	const char *want;
};

/* RFC 1321 A.5 */
static const struct vec md5_vecs[] = {
    {"", "d41d8cd98f00b204e9800998ecf8427e"},
    {"a", "0cc175b9c0f1b6a831c399e269772661"},
    {"abc", "900150983cd24fb0d6963f7d28e17f72"},
    {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
    {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"},
    {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
     "57edf4a22be3c955ac49da2e2107b67a"},
};

/* FIPS 180-2 appendix A (RFC 3174 section 7.3, tests 1 and 2) and the empty message. */
static const struct vec sha1_vecs[] = {
    {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
};

/* The pattern cut at the padding boundaries: 55 leaves room for the length in the last block,
 * 56 does not, 63 and 64 end at and on the block edge. From python3 hashlib. */
static const struct {
	size_t len;
	const char *md5, *sha1;
} pad_vecs[] = {
    {55, "c9e512626618c9980ef21a96597af94c", "749bbefb28edc4638b28b2b9a9e03ab9a4032b90"},
    {56, "ecde7caa08e9f5657c863df107cac60a", "a5b6e9c29d201c774753ff8e7fb64931656f5e63"},
    {63, "2f0301069e1c40af7f6c8f843b1b13f2", "d1a454409359fc372b4d22b3cea6488d6ba1be00"},
    {64, "b6bf87c24b1bc334e2541387a92b981b", "39a0d8b645ad85f1f976731ed112ac9455e28b78"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int main(void)
{
	char got[2 * SHA1_LEN + 1], want[2 * SHA1_LEN + 1];
	uint8_t pat[200], d1[SHA1_LEN], d2[SHA1_LEN];

	pattern(pat, sizeof(pat));

	T_BEGIN("md5: RFC 1321 A.5 test suite");
	for (size_t i = 0; i < NELEM(md5_vecs); i++) {
		const struct vec *v = &md5_vecs[i];

		md5_hex(got, v->in, strlen(v->in));
		T_EXPECT(!strcmp(got, v->want), "md5(\"%s\") = %s, want %s", v->in, got, v->want);
	}
	T_END();

	T_BEGIN("sha1: FIPS 180 / RFC 3174 vectors and the empty message");
	for (size_t i = 0; i < NELEM(sha1_vecs); i++) {
		const struct vec *v = &sha1_vecs[i];

		sha1_hex(got, v->in, strlen(v->in));
		T_EXPECT(!strcmp(got, v->want), "sha1(\"%s\") = %s, want %s", v->in, got, v->want);
	}
	T_END();

	T_BEGIN("sha1: one million 'a' in chunks of 1, 63, 64, 65, 997 bytes");
	{
		static const size_t chunk[] = {1, 63, 64, 65, 997};
		uint8_t a[997];
		struct sha1 c;
		size_t left = 1000000;

		memset(a, 'a', sizeof(a));
		sha1_init(&c);
		for (size_t i = 0; left; i++) {
			size_t n = chunk[i % NELEM(chunk)];

			n = n < left ? n : left;
			sha1_update(&c, a, n);
			left -= n;
		}
		sha1_final(&c, d1);
		hex(got, d1, SHA1_LEN);
		T_EXPECT(!strcmp(got, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"), "sha1 = %s",
			 got);
	}
	T_END();

	T_BEGIN("md5: incremental equals one-shot, lengths 0..200 split at every position");
	for (size_t len = 0; len <= sizeof(pat); len++) {
		md5(pat, len, d1);
		for (size_t cut = 0; cut <= len; cut++) {
			struct md5 c;

			md5_init(&c);
			md5_update(&c, pat, cut);
			md5_update(&c, pat + cut, len - cut);
			md5_final(&c, d2);
			T_EXPECT(!memcmp(d1, d2, MD5_LEN), "len %zu cut %zu: %s, one-shot %s", len,
				 cut, hex(got, d2, MD5_LEN), hex(want, d1, MD5_LEN));
		}
	}
	T_END();

	T_BEGIN("sha1: incremental equals one-shot, lengths 0..200 split at every position");
	for (size_t len = 0; len <= sizeof(pat); len++) {
		sha1(pat, len, d1);
		for (size_t cut = 0; cut <= len; cut++) {
			struct sha1 c;

			sha1_init(&c);
			sha1_update(&c, pat, cut);
			sha1_update(&c, pat + cut, len - cut);
			sha1_final(&c, d2);
			T_EXPECT(!memcmp(d1, d2, SHA1_LEN), "len %zu cut %zu: %s, one-shot %s", len,
				 cut, hex(got, d2, SHA1_LEN), hex(want, d1, SHA1_LEN));
		}
	}
	T_END();

	T_BEGIN("md5 and sha1: padding boundaries 55, 56, 63, 64 bytes");
	for (size_t i = 0; i < NELEM(pad_vecs); i++) {
		size_t len = pad_vecs[i].len;

		md5_hex(got, pat, len);
		T_EXPECT(!strcmp(got, pad_vecs[i].md5), "md5 len %zu = %s, want %s", len, got,
			 pad_vecs[i].md5);
		sha1_hex(got, pat, len);
		T_EXPECT(!strcmp(got, pad_vecs[i].sha1), "sha1 len %zu = %s, want %s", len, got,
			 pad_vecs[i].sha1);
	}
	T_END();

	T_BEGIN("md5 and sha1: an empty update with a NULL pointer changes nothing");
	{
		struct md5 m;
		struct sha1 s;

		md5_init(&m);
		md5_update(&m, NULL, 0);
		md5_final(&m, d1);
		T_EXPECT(!strcmp(hex(got, d1, MD5_LEN), md5_vecs[0].want), "md5 = %s", got);
		sha1_init(&s);
		sha1_update(&s, NULL, 0);
		sha1_final(&s, d1);
		T_EXPECT(!strcmp(hex(got, d1, SHA1_LEN), sha1_vecs[2].want), "sha1 = %s", got);
	}
	T_END();
	return t_exit();
}
