/* OPEN capabilities (RFC 5492): multiprotocol (RFC 4760), route refresh (RFC 2918, and the
 * pre-standard code 128), graceful restart (RFC 4724), 4-octet AS (RFC 6793). One table row
 * per capability: code, name, encoder, decoder. Unknown capabilities are ignored (RFC 5492 4).
 * Also the negotiation: what both sides may use on a session. */
#include <stdio.h>
#include <string.h>

#include "bgp/msg.h"

enum {
	CAP_MP = 1,
	CAP_RR = 2,
	CAP_GR = 64,
	CAP_AS4 = 65,
	CAP_RR_OLD = 128,
};

struct cap_def {
	uint8_t code;
	const char *name;
	/* writes the value (without code and length); false when the capability is absent */
	bool (*encode)(struct wbuf *w, const struct bgp_caps *c, int idx);
	int n_instances; /* how many times encode is called (MP: one per family) */
	int (*decode)(struct rbuf *v, size_t len, struct bgp_caps *c);
};

static bool enc_mp(struct wbuf *w, const struct bgp_caps *c, int idx)
{
	bool on = idx == 0 ? c->mp_ipv4 : c->mp_ipv6;

	if (!on)
		return false;
	wbuf_u16(w, idx == 0 ? BGP_AFI_IPV4 : BGP_AFI_IPV6);
	wbuf_u8(w, 0);
	wbuf_u8(w, BGP_SAFI_UNICAST);
	return true;
}

static int dec_mp(struct rbuf *v, size_t len, struct bgp_caps *c)
{
	uint16_t afi;
	uint8_t safi;

	if (len != 4)
		return -1;
	afi = rbuf_u16(v);
	rbuf_u8(v);
	safi = rbuf_u8(v);
	c->mp_seen = true;
	if (safi == BGP_SAFI_UNICAST && afi == BGP_AFI_IPV4)
		c->mp_ipv4 = true;
	if (safi == BGP_SAFI_UNICAST && afi == BGP_AFI_IPV6)
		c->mp_ipv6 = true;
	return 0;
}

static bool enc_rr(struct wbuf *w, const struct bgp_caps *c, int idx)
{
	return c->route_refresh;
}

static int dec_rr(struct rbuf *v, size_t len, struct bgp_caps *c)
{
	if (len != 0)
		return -1;
	c->route_refresh = true;
	return 0;
}

/* RFC 4724 3: restart flags + time (12 bits), then AFI/SAFI/flags per family. */
static bool enc_gr(struct wbuf *w, const struct bgp_caps *c, int idx)
{
	if (!c->gr)
		return false;
	wbuf_u16(w, (uint16_t)((c->gr_flags & 0xf) << 12 | (c->gr_time & 0xfff)));
	if (c->gr_ipv4) {
		wbuf_u16(w, BGP_AFI_IPV4);
		wbuf_u8(w, BGP_SAFI_UNICAST);
		wbuf_u8(w, c->gr_fwd ? BGP_GR_AF_FWD : 0);
	}
	if (c->gr_ipv6) {
		wbuf_u16(w, BGP_AFI_IPV6);
		wbuf_u8(w, BGP_SAFI_UNICAST);
		wbuf_u8(w, c->gr_fwd ? BGP_GR_AF_FWD : 0);
	}
	return true;
}

static int dec_gr(struct rbuf *v, size_t len, struct bgp_caps *c)
{
	uint16_t x;

	if (len < 2 || (len - 2) % 4)
		return -1;
	x = rbuf_u16(v);
	c->gr = true;
	c->gr_flags = x >> 12;
	c->gr_time = x & 0xfff;
	for (size_t i = 0; i < (len - 2) / 4; i++) {
		uint16_t afi = rbuf_u16(v);
		uint8_t safi = rbuf_u8(v);

		if (rbuf_u8(v) & BGP_GR_AF_FWD)
			c->gr_fwd = true;
		if (safi == BGP_SAFI_UNICAST && afi == BGP_AFI_IPV4)
			c->gr_ipv4 = true;
		if (safi == BGP_SAFI_UNICAST && afi == BGP_AFI_IPV6)
			c->gr_ipv6 = true;
	}
	return 0;
}

static bool enc_as4(struct wbuf *w, const struct bgp_caps *c, int idx)
{
	if (!c->as4)
		return false;
	wbuf_u32(w, c->as4_asn);
	return true;
}

static int dec_as4(struct rbuf *v, size_t len, struct bgp_caps *c)
{
	if (len != 4)
		return -1;
	c->as4 = true;
	c->as4_asn = rbuf_u32(v);
	return 0;
}

static const struct cap_def caps[] = {
	{CAP_MP, "multiprotocol", enc_mp, 2, dec_mp},
	{CAP_RR, "route-refresh", enc_rr, 1, dec_rr},
	{CAP_GR, "graceful-restart", enc_gr, 1, dec_gr},
	{CAP_AS4, "4-octet-as", enc_as4, 1, dec_as4},
	{CAP_RR_OLD, "route-refresh-old", NULL, 0, dec_rr},
};

void bgp_caps_encode(struct wbuf *w, const struct bgp_caps *c)
{
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		for (int k = 0; k < caps[i].n_instances; k++) {
			size_t start = w->len, plen, clen;

			wbuf_u8(w, 2); /* optional parameter: capabilities */
			plen = wbuf_mark(w, 1);
			wbuf_u8(w, caps[i].code);
			clen = wbuf_mark(w, 1);
			if (!caps[i].encode(w, c, k)) {
				if (!w->err)
					w->len = start; /* absent: take the header back */
				continue;
			}
			wbuf_patch_len(w, clen, 1);
			wbuf_patch_len(w, plen, 1);
		}
	}
}

int bgp_caps_decode(struct rbuf *r, struct bgp_caps *c, struct bgp_err *e)
{
	while (rbuf_left(r)) {
		uint8_t code = rbuf_u8(r), len = rbuf_u8(r);
		struct rbuf v = rbuf_sub(r, len);

		if (r->err) {
			bgp_err_set(e, BGP_ERR_OPEN, 0, NULL, 0);
			return -1;
		}
		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			if (caps[i].code != code)
				continue;
			if (caps[i].decode(&v, len, c) < 0 || v.err) {
				uint8_t d[2] = {code, len};
				/* a known capability with a malformed value */
				bgp_err_set(e, BGP_ERR_OPEN, 0, d, 2);
				return -1;
			}
			break;
		}
	}
	return 0;
}

struct bgp_caps bgp_caps_negotiate(const struct bgp_caps *ours, const struct bgp_caps *theirs)
{
	struct bgp_caps n = {0};
	/* RFC 4760 8: a speaker without the capability does IPv4 unicast only. */
	bool o4 = ours->mp_seen ? ours->mp_ipv4 : true, t4 = theirs->mp_seen ? theirs->mp_ipv4 : true;
	bool o6 = ours->mp_seen && ours->mp_ipv6, t6 = theirs->mp_seen && theirs->mp_ipv6;

	n.mp_seen = true;
	n.mp_ipv4 = o4 && t4;
	n.mp_ipv6 = o6 && t6;
	n.as4 = ours->as4 && theirs->as4;
	n.as4_asn = theirs->as4_asn;
	n.route_refresh = ours->route_refresh && theirs->route_refresh;
	n.gr = ours->gr && theirs->gr;
	n.gr_time = theirs->gr_time;
	n.gr_ipv4 = n.gr && theirs->gr_ipv4;
	n.gr_ipv6 = n.gr && theirs->gr_ipv6;
	return n;
}

void bgp_caps_str(const struct bgp_caps *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", c->mp_ipv4 ? "ipv4-unicast " : "",
		 c->mp_ipv6 ? "ipv6-unicast " : "", c->as4 ? "4-octet-as " : "",
		 c->route_refresh ? "route-refresh " : "", c->gr ? "graceful-restart " : "");
	size_t n = strlen(buf);
	if (n)
		buf[n - 1] = '\0';
}
