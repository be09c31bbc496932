/* BFD authentication (RFC 5880 4.2-4.4, 6.7): the section after the mandatory one, for
 *   simple password (6.7.2)        Type 1, Len 3 + password, Key ID, Password;
 *   keyed / meticulous keyed MD5   Type 2/3, Len 24, Key ID, 0, Sequence Number, Digest[16];
 *   keyed / meticulous keyed SHA1  Type 4/5, Len 28, Key ID, 0, Sequence Number, Hash[20].
 * A digest covers the whole packet with the key (zero-padded) in the digest's place. The Key
 * ID selects the key: the one we send with or an accepted one (a rollover). The receive
 * window is 3 x Detect Mult sequence numbers from the last one taken, whatever key signed it,
 * which itself is taken again by keyed modes and never by meticulous ones (6.7.3, 6.7.4).
 * When to move the transmit sequence is session.c's. */
#include <stdio.h>
#include <string.h>

#include "bfd/bfd.h"
#include "lib/ev.h"
#include "lib/digest.h"

static const char *const auth_names[] = {
    [BFD_AUTH_NONE] = "none",
    [BFD_AUTH_SIMPLE] = "simple",
    [BFD_AUTH_KEYED_MD5] = "keyed-md5",
    [BFD_AUTH_METICULOUS_MD5] = "meticulous-keyed-md5",
    [BFD_AUTH_KEYED_SHA1] = "keyed-sha1",
    [BFD_AUTH_METICULOUS_SHA1] = "meticulous-keyed-sha1",
};

const char *bfd_auth_name(uint8_t type)
{
	return type < sizeof(auth_names) / sizeof(auth_names[0]) ? auth_names[type] : "?";
}

static bool is_sha1(uint8_t type)
{
	return type == BFD_AUTH_KEYED_SHA1 || type == BFD_AUTH_METICULOUS_SHA1;
}

static bool is_meticulous(uint8_t type)
{
	return type == BFD_AUTH_METICULOUS_MD5 || type == BFD_AUTH_METICULOUS_SHA1;
}

static size_t digest_len(uint8_t type)
{
	return is_sha1(type) ? SHA1_LEN : MD5_LEN;
}

size_t bfd_auth_len(const struct bfd_auth *a)
{
	switch (a->type) {
	case BFD_AUTH_NONE:
		return 0;
	case BFD_AUTH_SIMPLE:
		return 3u + a->key_len;
	default:
		return 8 + digest_len(a->type);
	}
}

/* The digest of the n bytes at p, whose digest field holds the zero-padded key. */
static void digest(uint8_t type, const uint8_t *p, size_t n, uint8_t *out)
{
	if (is_sha1(type))
		sha1(p, n, out);
	else
		md5(p, n, out);
}

size_t bfd_auth_sign(uint8_t *p, size_t len, const struct bfd_auth *a, uint32_t seq)
{
	uint8_t *sec = p + len, sum[SHA1_LEN];
	size_t alen = bfd_auth_len(a), dlen = digest_len(a->type);

	if (!alen)
		return len;
	sec[0] = a->type;
	sec[1] = (uint8_t)alen;
	sec[2] = a->key_id;
	if (a->type == BFD_AUTH_SIMPLE) {
		memcpy(sec + 3, a->key, a->key_len);
		return len + alen;
	}
	sec[3] = 0;
	sec[4] = (uint8_t)(seq >> 24);
	sec[5] = (uint8_t)(seq >> 16);
	sec[6] = (uint8_t)(seq >> 8);
	sec[7] = (uint8_t)seq;
	memset(sec + 8, 0, dlen);
	memcpy(sec + 8, a->key, a->key_len);
	digest(a->type, p, len + alen, sum);
	memcpy(sec + 8, sum, dlen);
	return len + alen;
}

/* Byte compare in time independent of where the first difference is. */
static bool same(const uint8_t *x, const uint8_t *y, size_t n)
{
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

static int drop(enum bfd_drop *why, enum bfd_drop d)
{
	*why = d;
	return -1;
}

/* 6.8.1: AuthSeqKnown lapses once no packet was taken for twice the detection time. */
static void seq_lapse(struct bfd_sess *s, uint64_t now_ms)
{
	uint64_t detect_ms = bfd_sess_detect_time(s) / 1000;

	if (s->auth_seq_known && now_ms - s->rcv_auth_ms > 2 * detect_ms)
		s->auth_seq_known = false;
}

/* 6.7: the key a received Auth Key ID names: the one we send with, or an accepted one. */
static const struct bfd_auth *find_key(const struct bfd_params *c, uint8_t id)
{
	if (c->auth.key_id == id)
		return &c->auth;
	for (int i = 0; i < c->n_accept; i++)
		if (c->accept[i].key_id == id)
			return &c->accept[i];
	return NULL;
}

/* The key of a packet that passed: the peer's current key, for `bgp peer show`. */
static int taken(struct bfd_sess *s, uint8_t key_id)
{
	s->rcv_key_id = key_id;
	s->rcv_key_seen = true;
	return 0;
}

int bfd_auth_check(struct bfd_sess *s, const uint8_t *p, size_t len, const struct bfd_pkt *k,
		   enum bfd_drop *why)
{
	const struct bfd_auth *a = &s->cfg.auth;
	const uint8_t *sec = p + BFD_PKT_LEN;
	size_t alen = len - BFD_PKT_LEN, dlen = digest_len(a->type);
	uint8_t buf[BFD_PKT_MAX], sum[SHA1_LEN];
	uint64_t now = ev_now_ms();
	uint32_t seq, win;

	if (!(k->flags & BFD_F_AUTH))
		return a->type ? drop(why, BFD_DROP_AUTH_MISSING) : 0; /* 6.8.6 */
	if (!a->type)
		return drop(why, BFD_DROP_AUTH); /* 6.8.6: A bit set and no authentication in use */
	/* decode has checked Length >= 26 with A; the section fills the rest exactly. Every key
	 * has the session's type; an ID none of them has is a failure like a wrong key. */
	if (len < BFD_PKT_LEN + 3 || sec[0] != a->type || sec[1] != alen)
		return drop(why, BFD_DROP_AUTH_FAILED);
	a = find_key(&s->cfg, sec[2]);
	if (!a || alen != bfd_auth_len(a))
		return drop(why, BFD_DROP_AUTH_FAILED);
	if (a->type == BFD_AUTH_SIMPLE) /* 6.7.2 */
		return same(sec + 3, a->key, a->key_len) ? taken(s, a->key_id)
							 : drop(why, BFD_DROP_AUTH_FAILED);
	seq = (uint32_t)sec[4] << 24 | (uint32_t)sec[5] << 16 | (uint32_t)sec[6] << 8 | sec[7];
	seq_lapse(s, now);
	/* 6.7.3 / 6.7.4: within 3 x Detect Mult of the last one, circularly; meticulous modes
	 * need a newer one */
	win = 3u * k->detect_mult;
	if (s->auth_seq_known &&
	    (seq - s->rcv_auth_seq > win || (is_meticulous(a->type) && seq == s->rcv_auth_seq)))
		return drop(why, BFD_DROP_AUTH_SEQ);
	memcpy(buf, p, len);
	memset(buf + BFD_PKT_LEN + 8, 0, dlen);
	memcpy(buf + BFD_PKT_LEN + 8, a->key, a->key_len);
	digest(a->type, buf, len, sum);
	if (!same(sum, sec + 8, dlen))
		return drop(why, BFD_DROP_AUTH_FAILED);
	s->rcv_auth_seq = seq;
	s->auth_seq_known = true;
	s->rcv_auth_ms = now;
	return taken(s, a->key_id);
}

static bool same_key(const struct bfd_auth *x, const struct bfd_auth *y)
{
	return x->type == y->type && x->key_id == y->key_id && x->key_len == y->key_len &&
	       !memcmp(x->key, y->key, x->key_len);
}

bool bfd_auth_same(const struct bfd_params *x, const struct bfd_params *y)
{
	if (!same_key(&x->auth, &y->auth) || x->n_accept != y->n_accept)
		return false;
	for (int i = 0; i < x->n_accept; i++)
		if (!same_key(&x->accept[i], &y->accept[i]))
			return false;
	return true;
}

const char *bfd_auth_accept_str(const struct bfd_params *pr, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < pr->n_accept && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%u", i ? ", " : ", accepting key IDs ",
				      pr->accept[i].key_id);
	return buf;
}
