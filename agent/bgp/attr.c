/* UPDATE messages and path attributes (RFC 4271 4.3/5, RFC 4760, RFC 1997, RFC 8092,
 * RFC 6793): one table row per attribute (code, name, flags, length rule, RFC 7606 error
 * action, semantic check). Received UPDATEs are validated and counted, never installed;
 * outgoing UPDATEs pack as many prefixes of one family as fit in one message. */
#include <stdio.h>
#include <string.h>

#include "bgp/msg.h"

#define F_OPT  0x80
#define F_TRANS 0x40
#define F_PART 0x20
#define F_EXT  0x10

enum {
	A_ORIGIN = 1,
	A_AS_PATH = 2,
	A_NEXT_HOP = 3,
	A_MED = 4,
	A_LOCAL_PREF = 5,
	A_ATOMIC_AGG = 6,
	A_AGGREGATOR = 7,
	A_COMMUNITIES = 8,
	A_ORIGINATOR_ID = 9,
	A_CLUSTER_LIST = 10,
	A_MP_REACH = 14,
	A_MP_UNREACH = 15,
	A_EXT_COMMUNITIES = 16,
	A_AS4_PATH = 17,
	A_AS4_AGGREGATOR = 18,
	A_LARGE_COMMUNITY = 32,
};

/* RFC 7606 2: what a malformed attribute costs. Ordered by severity. */
enum act { ACT_NONE, ACT_DISCARD, ACT_WITHDRAW, ACT_RESET };

struct dec_ctx {
	bool as4;
	struct bgp_update_info *u;
	bool has_v4_nlri;
};

struct attr_def {
	uint8_t code;
	const char *name;
	uint8_t flags;	 /* expected optional/transitive bits */
	int len;	 /* exact length, or -1 */
	int mult;	 /* length a multiple of this (0 = no rule) */
	enum act on_err; /* RFC 7606 7.x */
	uint8_t subcode; /* for the log and a reset */
	/* semantic check of the value; -1 = malformed */
	int (*check)(struct rbuf *v, size_t len, struct dec_ctx *c);
};

static int chk_origin(struct rbuf *v, size_t len, struct dec_ctx *c)
{
	return rbuf_u8(v) > 2 ? -1 : 0; /* IGP, EGP, INCOMPLETE */
}

/* RFC 4271 4.3, RFC 7606 7.2: AS_SET (1) or AS_SEQUENCE (2) segments, non-zero count, exact
 * fit. AS_CONFED_SEQUENCE/SET (3, 4) are malformed from any peer: we are in no confederation
 * (RFC 5065 5; RFC 6793 6 for AS4_PATH). AS number 0 anywhere is malformed (RFC 7607 2). */
static int as_path_ok(struct rbuf *v, size_t len, int asn_size)
{
	while (rbuf_left(v)) {
		uint8_t type = rbuf_u8(v), count = rbuf_u8(v);

		if (v->err || (type != 1 && type != 2) || count == 0)
			return -1;
		for (int i = 0; i < count; i++)
			if ((asn_size == 4 ? rbuf_u32(v) : rbuf_u16(v)) == 0 || v->err)
				return -1;
	}
	return 0;
}

static int chk_as_path(struct rbuf *v, size_t len, struct dec_ctx *c)
{
	return as_path_ok(v, len, c->as4 ? 4 : 2);
}

static int chk_as4_path(struct rbuf *v, size_t len, struct dec_ctx *c)
{
	return as_path_ok(v, len, 4);
}

static int chk_next_hop(struct rbuf *v, size_t len, struct dec_ctx *c)
{
	struct ip ip = {.family = AF_INET};

	rbuf_bytes(v, ip.a, 4);
	/* RFC 7606 7.3: a martian next hop is treated as a withdrawal */
	return ip_is_unicast(&ip) ? 0 : -1;
}

static int chk_aggregator(struct rbuf *v, size_t len, struct dec_ctx *c)
{
	return len == (c->as4 ? 8u : 6u) ? 0 : -1;
}

static int prefixes_ok(struct rbuf *v, int bits, unsigned *count)
{
	while (rbuf_left(v)) {
		uint8_t plen = rbuf_u8(v);

		if (plen > bits)
			return -1;
		rbuf_skip(v, (plen + 7u) / 8u);
		if (v->err)
			return -1;
		(*count)++;
	}
	return 0;
}

/* RFC 4760 3; RFC 7606 7.11: a malformed MP attribute resets the session. */
static int chk_mp(struct rbuf *v, size_t len, struct dec_ctx *c, bool reach)
{
	uint16_t afi = rbuf_u16(v);
	uint8_t safi = rbuf_u8(v);
	int bits;

	if (v->err)
		return -1;
	if (reach) {
		uint8_t nhlen = rbuf_u8(v);

		rbuf_skip(v, nhlen);
		rbuf_u8(v); /* reserved */
		if (v->err)
			return -1;
		if (safi == BGP_SAFI_UNICAST && ((afi == BGP_AFI_IPV4 && nhlen != 4 && nhlen != 16 &&
						    nhlen != 32) ||
						   (afi == BGP_AFI_IPV6 && nhlen != 16 && nhlen != 32)))
			return -1;
	}
	if (safi != BGP_SAFI_UNICAST || (afi != BGP_AFI_IPV4 && afi != BGP_AFI_IPV6))
		return 0; /* a family we did not negotiate: ignored */
	bits = afi == BGP_AFI_IPV4 ? 32 : 128;
	if (!reach && !rbuf_left(v)) {
		c->u->eor = true;
		c->u->eor_afi = afi;
	}
	return prefixes_ok(v, bits, reach ? &c->u->mp_reach : &c->u->mp_unreach);
}

static int chk_mp_reach(struct rbuf *v, size_t len, struct dec_ctx *c)
{
	return chk_mp(v, len, c, true);
}

static int chk_mp_unreach(struct rbuf *v, size_t len, struct dec_ctx *c)
{
	return chk_mp(v, len, c, false);
}

static const struct attr_def attrs[] = {
	{A_ORIGIN, "ORIGIN", F_TRANS, 1, 0, ACT_WITHDRAW, BGP_UPD_BAD_ORIGIN, chk_origin},
	{A_AS_PATH, "AS_PATH", F_TRANS, -1, 0, ACT_WITHDRAW, BGP_UPD_BAD_AS_PATH, chk_as_path},
	{A_NEXT_HOP, "NEXT_HOP", F_TRANS, 4, 0, ACT_WITHDRAW, BGP_UPD_BAD_NEXT_HOP, chk_next_hop},
	{A_MED, "MULTI_EXIT_DISC", F_OPT, 4, 0, ACT_WITHDRAW, BGP_UPD_ATTR_LEN, NULL},
	{A_LOCAL_PREF, "LOCAL_PREF", F_TRANS, 4, 0, ACT_WITHDRAW, BGP_UPD_ATTR_LEN, NULL},
	{A_ATOMIC_AGG, "ATOMIC_AGGREGATE", F_TRANS, 0, 0, ACT_DISCARD, BGP_UPD_ATTR_LEN, NULL},
	{A_AGGREGATOR, "AGGREGATOR", F_OPT | F_TRANS, -1, 0, ACT_DISCARD, BGP_UPD_ATTR_LEN,
	 chk_aggregator},
	{A_COMMUNITIES, "COMMUNITIES", F_OPT | F_TRANS, -1, 4, ACT_WITHDRAW, BGP_UPD_OPT_ATTR,
	 NULL},
	{A_ORIGINATOR_ID, "ORIGINATOR_ID", F_OPT, 4, 0, ACT_WITHDRAW, BGP_UPD_ATTR_LEN, NULL},
	{A_CLUSTER_LIST, "CLUSTER_LIST", F_OPT, -1, 4, ACT_WITHDRAW, BGP_UPD_ATTR_LEN, NULL},
	{A_MP_REACH, "MP_REACH_NLRI", F_OPT, -1, 0, ACT_RESET, BGP_UPD_OPT_ATTR, chk_mp_reach},
	{A_MP_UNREACH, "MP_UNREACH_NLRI", F_OPT, -1, 0, ACT_RESET, BGP_UPD_OPT_ATTR,
	 chk_mp_unreach},
	{A_EXT_COMMUNITIES, "EXTENDED_COMMUNITIES", F_OPT | F_TRANS, -1, 8, ACT_WITHDRAW,
	 BGP_UPD_OPT_ATTR, NULL},
	{A_AS4_PATH, "AS4_PATH", F_OPT | F_TRANS, -1, 0, ACT_DISCARD, BGP_UPD_OPT_ATTR,
	 chk_as4_path},
	{A_AS4_AGGREGATOR, "AS4_AGGREGATOR", F_OPT | F_TRANS, 8, 0, ACT_DISCARD, BGP_UPD_OPT_ATTR,
	 NULL},
	{A_LARGE_COMMUNITY, "LARGE_COMMUNITY", F_OPT | F_TRANS, -1, 12, ACT_WITHDRAW,
	 BGP_UPD_OPT_ATTR, NULL},
};

static const struct attr_def *attr_lookup(uint8_t code)
{
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (attrs[i].code == code)
			return &attrs[i];
	return NULL;
}

const char *bgp_attr_name(uint8_t code)
{
	const struct attr_def *d = attr_lookup(code);
	return d ? d->name : "unknown";
}

static void note(struct bgp_update_info *u, const char *fmt, const char *name)
{
	if (!u->why[0])
		snprintf(u->why, sizeof(u->why), fmt, name);
}

/* Applies an RFC 7606 action; returns -1 when the session must be reset. */
static int apply(struct bgp_update_info *u, enum act a, const struct attr_def *d, uint8_t subcode,
		 const uint8_t *raw, size_t rawlen, struct bgp_err *e)
{
	switch (a) {
	case ACT_RESET:
		note(u, "malformed %s: session reset", d ? d->name : "attribute");
		bgp_err_set(e, BGP_ERR_UPDATE, subcode, raw, rawlen);
		return -1;
	case ACT_WITHDRAW:
		note(u, "malformed %s: treat-as-withdraw", d ? d->name : "attribute list");
		u->treat_as_withdraw = true;
		return 0;
	case ACT_DISCARD:
		note(u, "malformed %s: attribute discarded", d ? d->name : "attribute");
		u->discarded++;
		return 0;
	case ACT_NONE:
		break;
	}
	return 0;
}

static int decode_attrs(struct rbuf *r, struct dec_ctx *c, uint32_t seen[8], struct bgp_err *e)
{
	struct bgp_update_info *u = c->u;

	while (rbuf_left(r)) {
		size_t start = r->off, hdr = 3, len;
		uint8_t flags, code;
		const struct attr_def *d;
		struct rbuf v;
		bool bad = false;

		/* RFC 7606 4: an attribute header or value overrunning the attribute list */
		if (rbuf_left(r) < 3) {
			apply(u, ACT_WITHDRAW, NULL, 0, NULL, 0, e);
			return 0;
		}
		flags = rbuf_u8(r);
		code = rbuf_u8(r);
		if (flags & F_EXT) {
			hdr = 4;
			if (rbuf_left(r) < 2) {
				apply(u, ACT_WITHDRAW, NULL, 0, NULL, 0, e);
				return 0;
			}
			len = rbuf_u16(r);
		} else {
			len = rbuf_u8(r);
		}
		if (len > rbuf_left(r)) {
			apply(u, ACT_WITHDRAW, NULL, 0, NULL, 0, e);
			return 0;
		}
		v = rbuf_sub(r, len);
		u->attrs++;
		d = attr_lookup(code);
		const uint8_t *raw = r->p + start;
		size_t rawlen = hdr + len;

		/* RFC 7606 3(g): MP attributes twice reset, other duplicates are discarded */
		if (seen[code / 32] & (1u << (code % 32))) {
			if (code == A_MP_REACH || code == A_MP_UNREACH)
				return apply(u, ACT_RESET, d, BGP_UPD_MALFORMED_ATTRS, NULL, 0, e);
			u->discarded++;
			continue;
		}
		seen[code / 32] |= 1u << (code % 32);
		if (!d) {
			/* RFC 4271 6.3: unrecognized well-known attribute */
			if (!(flags & F_OPT)) {
				note(u, "%s", "unrecognized well-known attribute");
				bgp_err_set(e, BGP_ERR_UPDATE, BGP_UPD_UNKNOWN_WELLKNOWN, raw,
					    rawlen);
				return -1;
			}
			continue; /* unknown optional: passed over (we keep no routes) */
		}
		/* RFC 7606 3(c): flags in conflict with the attribute's definition; the partial
		 * bit only on optional transitive ones. */
		if ((flags & (F_OPT | F_TRANS)) != d->flags ||
		    ((flags & F_PART) && d->flags != (F_OPT | F_TRANS)))
			bad = true;
		/* RFC 7606 3(f)/7.x: length rules */
		if ((d->len >= 0 && len != (size_t)d->len) || (d->mult && (len == 0 || len % (size_t)d->mult)) ||
		    (d->len < 0 && !d->mult && len == 0 && code != A_AS_PATH))
			bad = true;
		if (!bad && d->check && (d->check(&v, len, c) < 0 || v.err))
			bad = true;
		if (bad && apply(u, d->on_err, d, (flags & (F_OPT | F_TRANS)) != d->flags ?
							  BGP_UPD_ATTR_FLAGS :
							  d->subcode,
				 raw, rawlen, e) < 0)
			return -1;
	}
	return 0;
}

static bool seen_has(const uint32_t seen[8], uint8_t code)
{
	return seen[code / 32] & (1u << (code % 32));
}

/* RFC 4271 6.3 with the RFC 7606 revisions. */
int bgp_update_decode(struct rbuf *r, bool as4, struct bgp_update_info *u, struct bgp_err *e)
{
	struct dec_ctx c = {.as4 = as4, .u = u};
	uint32_t seen[8] = {0};
	uint16_t wlen, alen;
	struct rbuf wd, at;

	memset(u, 0, sizeof(*u));
	wlen = rbuf_u16(r);
	if (r->err || wlen > rbuf_left(r)) {
		bgp_err_set(e, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTRS, NULL, 0);
		snprintf(u->why, sizeof(u->why), "withdrawn routes length %u overruns", wlen);
		return -1;
	}
	wd = rbuf_sub(r, wlen);
	/* RFC 7606 5.3: an unparsable prefix field cannot be treated as withdraw */
	if (prefixes_ok(&wd, 32, &u->withdrawn) < 0) {
		bgp_err_set(e, BGP_ERR_UPDATE, BGP_UPD_BAD_NETWORK, NULL, 0);
		snprintf(u->why, sizeof(u->why), "malformed withdrawn routes");
		return -1;
	}
	alen = rbuf_u16(r);
	if (r->err || alen > rbuf_left(r)) {
		bgp_err_set(e, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTRS, NULL, 0);
		snprintf(u->why, sizeof(u->why), "total path attribute length %u overruns", alen);
		return -1;
	}
	at = rbuf_sub(r, alen);
	if (prefixes_ok(r, 32, &u->nlri) < 0) {
		bgp_err_set(e, BGP_ERR_UPDATE, BGP_UPD_BAD_NETWORK, NULL, 0);
		snprintf(u->why, sizeof(u->why), "malformed NLRI");
		return -1;
	}
	if (decode_attrs(&at, &c, seen, e) < 0)
		return -1;
	if (wlen == 0 && alen == 0 && u->nlri == 0) {
		u->eor = true; /* RFC 4724 2: IPv4 unicast End-of-RIB */
		u->eor_afi = BGP_AFI_IPV4;
	}
	if (u->eor && (u->nlri || u->withdrawn || u->attrs > 1))
		u->eor = false;
	/* RFC 7606 3(d): missing mandatory attributes with NLRI present */
	if ((u->nlri || u->mp_reach) &&
	    (!seen_has(seen, A_ORIGIN) || !seen_has(seen, A_AS_PATH) ||
	     (u->nlri && !seen_has(seen, A_NEXT_HOP)))) {
		if (!u->why[0])
			snprintf(u->why, sizeof(u->why), "missing well-known attribute");
		u->treat_as_withdraw = true;
	}
	return 0;
}

/* --- encoding ---------------------------------------------------------------------------- */

static size_t prefix_size(const struct prefix *p)
{
	return 1 + (p->len + 7u) / 8u;
}

static void put_prefix(struct wbuf *w, const struct prefix *p)
{
	wbuf_u8(w, p->len);
	wbuf_bytes(w, p->ip.a, (p->len + 7u) / 8u);
}

static void put_attr_hdr(struct wbuf *w, uint8_t flags, uint8_t code, size_t len)
{
	if (len > 255) {
		wbuf_u8(w, flags | F_EXT);
		wbuf_u8(w, code);
		wbuf_u16(w, (uint16_t)len);
	} else {
		wbuf_u8(w, flags);
		wbuf_u8(w, code);
		wbuf_u8(w, (uint8_t)len);
	}
}

/* ORIGIN, AS_PATH (+AS4_PATH), LOCAL_PREF, COMMUNITIES, LARGE_COMMUNITY. */
static void put_common_attrs(struct wbuf *w, const struct bgp_attrs *at)
{
	put_attr_hdr(w, F_TRANS, A_ORIGIN, 1);
	wbuf_u8(w, 0); /* IGP */
	if (!at->ebgp) {
		put_attr_hdr(w, F_TRANS, A_AS_PATH, 0); /* RFC 4271 5.1.2: empty for iBGP */
	} else if (at->as4) {
		put_attr_hdr(w, F_TRANS, A_AS_PATH, 6);
		wbuf_u8(w, 2); /* AS_SEQUENCE */
		wbuf_u8(w, 1);
		wbuf_u32(w, at->local_as);
	} else {
		put_attr_hdr(w, F_TRANS, A_AS_PATH, 4);
		wbuf_u8(w, 2);
		wbuf_u8(w, 1);
		wbuf_u16(w, at->local_as > 0xffff ? BGP_AS_TRANS : (uint16_t)at->local_as);
	}
	if (!at->ebgp && at->has_local_pref) {
		put_attr_hdr(w, F_TRANS, A_LOCAL_PREF, 4);
		wbuf_u32(w, at->local_pref);
	}
	if (at->n_comm) {
		put_attr_hdr(w, F_OPT | F_TRANS, A_COMMUNITIES, at->n_comm * 4u);
		for (int i = 0; i < at->n_comm; i++)
			wbuf_u32(w, at->comm[i]);
	}
	if (at->n_large) {
		put_attr_hdr(w, F_OPT | F_TRANS, A_LARGE_COMMUNITY, at->n_large * 12u);
		for (int i = 0; i < at->n_large; i++)
			for (int k = 0; k < 3; k++)
				wbuf_u32(w, at->large[i][k]);
	}
	/* RFC 6793 4.2.2: a 4-octet AS towards a 2-octet speaker also goes in AS4_PATH */
	if (at->ebgp && !at->as4 && at->local_as > 0xffff) {
		put_attr_hdr(w, F_OPT | F_TRANS, A_AS4_PATH, 6);
		wbuf_u8(w, 2);
		wbuf_u8(w, 1);
		wbuf_u32(w, at->local_as);
	}
}

/* Adds prefixes while the message stays within max_len; returns how many. */
static size_t put_prefixes(struct wbuf *w, size_t msg_start, size_t reserve, size_t max_len,
			   const struct prefix *pfx, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (w->len - msg_start + prefix_size(&pfx[i]) + reserve > max_len)
			break;
		put_prefix(w, &pfx[i]);
	}
	return i;
}

size_t bgp_update_encode(struct wbuf *w, size_t max_len, const struct bgp_attrs *at, int afi,
			 const struct prefix *pfx, size_t n)
{
	uint8_t tmpb[1024];
	struct wbuf tmp = wbuf_make(tmpb, sizeof(tmpb));
	size_t m, mark, done = 0;

	if (max_len > BGP_MAX_LEN)
		max_len = BGP_MAX_LEN;
	m = bgp_msg_begin(w, BGP_UPDATE);
	if (afi == BGP_AFI_IPV4 && !at) {
		mark = wbuf_mark(w, 2);
		done = put_prefixes(w, m, 2, max_len, pfx, n);
		wbuf_patch_len(w, mark, 2);
		wbuf_u16(w, 0);
	} else if (afi == BGP_AFI_IPV4) {
		wbuf_u16(w, 0);
		mark = wbuf_mark(w, 2);
		put_common_attrs(w, at);
		put_attr_hdr(w, F_TRANS, A_NEXT_HOP, 4);
		wbuf_bytes(w, at->nh4.a, 4);
		wbuf_patch_len(w, mark, 2);
		done = put_prefixes(w, m, 0, max_len, pfx, n);
	} else {
		/* RFC 7606 5.1: MP_REACH/MP_UNREACH first; always the extended length form */
		bool ll = at && at->nh6_ll.family == AF_INET6;

		if (at)
			put_common_attrs(&tmp, at);
		wbuf_u16(w, 0);
		mark = wbuf_mark(w, 2);
		wbuf_u8(w, F_OPT | F_EXT);
		wbuf_u8(w, at ? A_MP_REACH : A_MP_UNREACH);
		size_t alen = wbuf_mark(w, 2);
		wbuf_u16(w, BGP_AFI_IPV6);
		wbuf_u8(w, BGP_SAFI_UNICAST);
		if (at) {
			/* RFC 2545 3: global next hop, plus the link-local one on a shared link */
			wbuf_u8(w, ll ? 32 : 16);
			wbuf_bytes(w, at->nh6.a, 16);
			if (ll)
				wbuf_bytes(w, at->nh6_ll.a, 16);
			wbuf_u8(w, 0);
		}
		done = put_prefixes(w, m, tmp.len, max_len, pfx, n);
		wbuf_patch_len(w, alen, 2);
		wbuf_bytes(w, tmpb, tmp.len);
		wbuf_patch_len(w, mark, 2);
	}
	bgp_msg_end(w, m);
	return done;
}

void bgp_eor_encode(struct wbuf *w, int afi)
{
	size_t m = bgp_msg_begin(w, BGP_UPDATE);

	wbuf_u16(w, 0);
	if (afi == BGP_AFI_IPV4) {
		wbuf_u16(w, 0);
	} else {
		wbuf_u16(w, 6);
		wbuf_u8(w, F_OPT);
		wbuf_u8(w, A_MP_UNREACH);
		wbuf_u8(w, 3);
		wbuf_u16(w, (uint16_t)afi);
		wbuf_u8(w, BGP_SAFI_UNICAST);
	}
	bgp_msg_end(w, m);
}
