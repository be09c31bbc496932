/* BGP message codec: header, OPEN (with capabilities), KEEPALIVE, NOTIFICATION, ROUTE-REFRESH
 * and UPDATE, encoded and decoded against hand-built byte vectors; malformed messages get the
 * NOTIFICATION code/subcode of RFC 4271 6 and the RFC 7606 outcome; capability negotiation.
 * When EDGELB_CORPUS is set, every vector is also written there as a fuzz seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/msg.h"
#include "t.h"
#include "wire.h"

#define M                                                                                          \
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  \
		0xff

/* Test vectors are fuzz seeds too (EDGELB_CORPUS=dir). */
static void seed(const uint8_t *p, size_t n)
{
	wire_seed("msg", p, n);
}

/* --- header ------------------------------------------------------------------------------ */

struct hdr_case {
	const char *name;
	uint8_t b[24];
	size_t n;
	int rc;
	uint8_t code, sub;
};

static const struct hdr_case hdr_cases[] = {
	{"keepalive ok", {M, 0, 19, 4}, 19, 0, 0, 0},
	{"bad marker", {0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0xff, 0xff, 0xff, 0, 19, 4},
	 19, -1, BGP_ERR_HEADER, BGP_HDR_NOT_SYNC},
	{"length below 19", {M, 0, 18, 4}, 19, -1, BGP_ERR_HEADER, BGP_HDR_BAD_LEN},
	{"length above 4096", {M, 0x10, 0x01, 2}, 19, -1, BGP_ERR_HEADER, BGP_HDR_BAD_LEN},
	{"keepalive of 20 bytes", {M, 0, 20, 4}, 19, -1, BGP_ERR_HEADER, BGP_HDR_BAD_LEN},
	{"OPEN shorter than 29", {M, 0, 28, 1}, 19, -1, BGP_ERR_HEADER, BGP_HDR_BAD_LEN},
	{"UPDATE shorter than 23", {M, 0, 22, 2}, 19, -1, BGP_ERR_HEADER, BGP_HDR_BAD_LEN},
	{"NOTIFICATION shorter than 21", {M, 0, 20, 3}, 19, -1, BGP_ERR_HEADER, BGP_HDR_BAD_LEN},
	{"ROUTE-REFRESH not 23", {M, 0, 24, 5}, 19, -1, BGP_ERR_HEADER, BGP_HDR_BAD_LEN},
	{"type 0", {M, 0, 19, 0}, 19, -1, BGP_ERR_HEADER, BGP_HDR_BAD_TYPE},
	{"type 6", {M, 0, 19, 6}, 19, -1, BGP_ERR_HEADER, BGP_HDR_BAD_TYPE},
	{"truncated header", {M, 0}, 17, -1, BGP_ERR_HEADER, BGP_HDR_BAD_LEN},
};

static void test_header(void)
{
	for (size_t i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
		const struct hdr_case *c = &hdr_cases[i];
		struct rbuf r = rbuf_make(c->b, c->n);
		struct bgp_hdr h;
		struct bgp_err e = {0};
		int rc;

		T_BEGIN("bgp header: %s", c->name);
		seed(c->b, c->n);
		rc = bgp_hdr_decode(&r, &h, &e);
		T_EXPECT(rc == c->rc, "rc %d, want %d", rc, c->rc);
		if (c->rc < 0)
			T_EXPECT(e.code == c->code && e.subcode == c->sub,
				 "NOTIFICATION %u/%u (%s), want %u/%u", e.code, e.subcode,
				 bgp_err_subcode_name(e.code, e.subcode), c->code, c->sub);
		if (c->sub == BGP_HDR_BAD_LEN && c->n >= 19)
			T_EXPECT(e.data_len == 2 && e.data[0] == c->b[16] && e.data[1] == c->b[17],
				 "data is the bad length field");
		if (c->sub == BGP_HDR_BAD_TYPE)
			T_EXPECT(e.data_len == 1 && e.data[0] == c->b[18], "data is the bad type");
		T_END();
	}
}

/* --- OPEN -------------------------------------------------------------------------------- */

/* OPEN body: version 4, AS 64513, hold 90, id 10.0.0.1, caps MP v4, MP v6, RR, AS4 64513. */
#define OPEN_CAPS                                                                                  \
	2, 6, 1, 4, 0, 1, 0, 1, 2, 6, 1, 4, 0, 2, 0, 1, 2, 2, 2, 0, 2, 6, 65, 4, 0, 0, 0xfc, 0x01

struct open_case {
	const char *name;
	uint8_t b[64];
	size_t n;
	int rc;
	uint8_t code, sub;
	uint32_t asn;
	uint16_t hold;
};

static const struct open_case open_cases[] = {
	{"valid with capabilities", {4, 0xfc, 0x01, 0, 90, 10, 0, 0, 1, 28, OPEN_CAPS}, 38, 0, 0, 0,
	 64513, 90},
	{"no optional parameters", {4, 0xfc, 0x01, 0, 3, 10, 0, 0, 1, 0}, 10, 0, 0, 0, 64513, 3},
	{"hold time 0", {4, 0xfc, 0x01, 0, 0, 10, 0, 0, 1, 0}, 10, 0, 0, 0, 64513, 0},
	{"4-octet AS behind AS_TRANS",
	 {4, 0x5b, 0xa0, 0, 90, 10, 0, 0, 1, 8, 2, 6, 65, 4, 0xfa, 0x56, 0xea, 0x00}, 18, 0, 0, 0,
	 4200000000u, 90},
	{"version 3", {3, 0xfc, 0x01, 0, 90, 10, 0, 0, 1, 0}, 10, -1, BGP_ERR_OPEN,
	 BGP_OPEN_BAD_VERSION},
	{"hold time 1", {4, 0xfc, 0x01, 0, 1, 10, 0, 0, 1, 0}, 10, -1, BGP_ERR_OPEN,
	 BGP_OPEN_BAD_HOLD},
	{"hold time 2", {4, 0xfc, 0x01, 0, 2, 10, 0, 0, 1, 0}, 10, -1, BGP_ERR_OPEN,
	 BGP_OPEN_BAD_HOLD},
	{"identifier 0", {4, 0xfc, 0x01, 0, 90, 0, 0, 0, 0, 0}, 10, -1, BGP_ERR_OPEN,
	 BGP_OPEN_BAD_ID},
	{"AS 0", {4, 0, 0, 0, 90, 10, 0, 0, 1, 0}, 10, -1, BGP_ERR_OPEN, BGP_OPEN_BAD_AS},
	{"4-octet AS 0", {4, 0x5b, 0xa0, 0, 90, 10, 0, 0, 1, 8, 2, 6, 65, 4, 0, 0, 0, 0}, 18, -1,
	 BGP_ERR_OPEN, BGP_OPEN_BAD_AS},
	{"unknown optional parameter (type 1, mandatory to understand)",
	 {4, 0xfc, 0x01, 0, 90, 10, 0, 0, 1, 3, 1, 1, 0}, 13, -1, BGP_ERR_OPEN, BGP_OPEN_BAD_OPT},
	{"optional parameters length overruns", {4, 0xfc, 0x01, 0, 90, 10, 0, 0, 1, 9, 2, 2, 2, 0},
	 14, -1, BGP_ERR_OPEN, 0},
	{"parameter length overruns", {4, 0xfc, 0x01, 0, 90, 10, 0, 0, 1, 4, 2, 9, 2, 0}, 14, -1,
	 BGP_ERR_OPEN, 0},
	{"4-octet AS capability of length 3",
	 {4, 0xfc, 0x01, 0, 90, 10, 0, 0, 1, 7, 2, 5, 65, 3, 0, 0xfc, 0x01}, 17, -1, BGP_ERR_OPEN,
	 0},
	{"multiprotocol capability of length 3",
	 {4, 0xfc, 0x01, 0, 90, 10, 0, 0, 1, 7, 2, 5, 1, 3, 0, 1, 0}, 17, -1, BGP_ERR_OPEN, 0},
	{"unknown capability is ignored", {4, 0xfc, 0x01, 0, 90, 10, 0, 0, 1, 5, 2, 3, 99, 1, 7},
	 15, 0, 0, 0, 64513, 90},
	{"truncated body", {4, 0xfc, 0x01, 0, 90}, 5, -1, BGP_ERR_HEADER, BGP_HDR_BAD_LEN},
	/* RFC 9072: 255, 255, a 2-octet length, parameters with 2-octet lengths */
	{"extended optional parameters (RFC 9072)",
	 {4, 0x5b, 0xa0, 0, 90, 10, 0, 0, 1, 255, 255, 0, 9, 2, 0, 6, 65, 4, 0xfa, 0x56, 0xea,
	  0x00},
	 22, 0, 0, 0, 4200000000u, 90},
	{"extended optional parameters, length overruns",
	 {4, 0x5b, 0xa0, 0, 90, 10, 0, 0, 1, 255, 255, 0, 10, 2, 0, 6, 65, 4, 0xfa, 0x56, 0xea,
	  0x00},
	 22, -1, BGP_ERR_OPEN, 0},
	{"extended optional parameters, parameter length overruns",
	 {4, 0x5b, 0xa0, 0, 90, 10, 0, 0, 1, 255, 255, 0, 9, 2, 0, 7, 65, 4, 0xfa, 0x56, 0xea,
	  0x00},
	 22, -1, BGP_ERR_OPEN, 0},
};

static void test_open_decode(void)
{
	uint8_t msg[128] = {M};

	for (size_t i = 0; i < sizeof(open_cases) / sizeof(open_cases[0]); i++) {
		const struct open_case *c = &open_cases[i];
		struct rbuf r = rbuf_make(c->b, c->n);
		struct bgp_open o;
		struct bgp_err e = {0};
		int rc;

		msg[16] = 0;
		msg[17] = (uint8_t)(19 + c->n);
		msg[18] = BGP_OPEN;
		memcpy(msg + 19, c->b, c->n);
		seed(msg, 19 + c->n);
		T_BEGIN("bgp OPEN decode: %s", c->name);
		rc = bgp_open_decode(&r, &o, &e);
		T_EXPECT(rc == c->rc, "rc %d, want %d", rc, c->rc);
		if (rc < 0)
			T_EXPECT(e.code == c->code && e.subcode == c->sub,
				 "NOTIFICATION %u/%u (%s), want %u/%u", e.code, e.subcode,
				 bgp_err_subcode_name(e.code, e.subcode), c->code, c->sub);
		else
			T_EXPECT(o.asn == c->asn && o.hold_time == c->hold, "AS %u hold %u", o.asn,
				 o.hold_time);
		if (c->sub == BGP_OPEN_BAD_VERSION)
			T_EXPECT(e.data_len == 2 && e.data[1] == 4, "data: version 4 supported");
		T_END();
	}
	T_BEGIN("bgp OPEN decode: capabilities parsed");
	{
		struct rbuf r = rbuf_make(open_cases[0].b, open_cases[0].n);
		struct bgp_open o;
		struct bgp_err e;

		bgp_open_decode(&r, &o, &e);
		T_EXPECT(o.caps.mp_seen && o.caps.mp_ipv4 && o.caps.mp_ipv6, "both families");
		T_EXPECT(o.caps.route_refresh, "route refresh");
		T_EXPECT(o.caps.as4 && o.caps.as4_asn == 64513, "4-octet AS %u", o.caps.as4_asn);
		T_EXPECT(!o.caps.gr, "no graceful restart");
		T_EXPECT(o.id == 0x0a000001, "identifier %08x", o.id);
	}
	T_END();
}

static void test_open_encode(void)
{
	uint8_t b[256];
	struct wbuf w = wbuf_make(b, sizeof(b));
	struct bgp_caps caps = {.mp_seen = true, .mp_ipv4 = true, .mp_ipv6 = true,
				.as4 = true, .as4_asn = 64513, .route_refresh = true};
	static const uint8_t want[] = {M, 0, 57, 1, 4, 0xfc, 0x01, 0, 90, 10, 0, 0, 1, 28,
				       OPEN_CAPS};
	static const uint8_t want_big[] = {M, 0, 37, 1, 4, 0x5b, 0xa0, 0, 0, 10, 0, 0, 2,
					   8, 2, 6, 65, 4, 0xfa, 0x56, 0xea, 0x00};
	static const uint8_t want_gr[] = {M, 0, 43, 1, 4, 0xfc, 0x01, 0, 9, 10, 0, 0, 2, 14,
					  2, 12, 64, 10, 0x00, 120, 0, 1, 1, 0, 0, 2, 1, 0};
	/* after a restart with the dataplane kept: R (0x8 in the flags nibble), F per family */
	static const uint8_t want_gr_restart[] = {M, 0, 43, 1, 4, 0xfc, 0x01, 0, 9, 10, 0, 0, 2,
						  14, 2, 12, 64, 10, 0x80, 120, 0, 1, 1, 0x80,
						  0, 2, 1, 0x80};

	T_BEGIN("bgp OPEN encode: capabilities, one per optional parameter");
	bgp_open_encode(&w, 64513, 90, 0x0a000001, &caps);
	T_EXPECT(!w.err && hexeq(b, w.len, want, sizeof(want)), "bytes");
	seed(b, w.len);
	T_END();

	T_BEGIN("bgp OPEN encode: a 4-octet AS goes as AS_TRANS (RFC 6793)");
	w = wbuf_make(b, sizeof(b));
	caps = (struct bgp_caps){.as4 = true, .as4_asn = 4200000000u};
	bgp_open_encode(&w, 4200000000u, 0, 0x0a000002, &caps);
	T_EXPECT(!w.err && hexeq(b, w.len, want_big, sizeof(want_big)), "bytes");
	T_END();

	T_BEGIN("bgp OPEN encode: graceful restart (RFC 4724) only when asked");
	w = wbuf_make(b, sizeof(b));
	caps = (struct bgp_caps){.gr = true, .gr_time = 120, .gr_ipv4 = true, .gr_ipv6 = true};
	bgp_open_encode(&w, 64513, 9, 0x0a000002, &caps);
	T_EXPECT(!w.err && hexeq(b, w.len, want_gr, sizeof(want_gr)), "bytes");
	T_END();

	T_BEGIN("bgp OPEN encode: Restart State and Forwarding State after a restart (RFC 4724 3)");
	w = wbuf_make(b, sizeof(b));
	caps = (struct bgp_caps){.gr = true, .gr_time = 120, .gr_flags = BGP_GR_F_RESTART,
				 .gr_ipv4 = true, .gr_ipv6 = true, .gr_fwd = true};
	bgp_open_encode(&w, 64513, 9, 0x0a000002, &caps);
	T_EXPECT(!w.err && hexeq(b, w.len, want_gr_restart, sizeof(want_gr_restart)), "bytes");
	{
		struct rbuf r = rbuf_make(b, w.len);
		struct bgp_hdr h;
		struct bgp_open o;
		struct bgp_err e;

		T_EXPECT(bgp_hdr_decode(&r, &h, &e) == 0 && bgp_open_decode(&r, &o, &e) == 0,
			 "decodes");
		T_EXPECT(o.caps.gr_flags == BGP_GR_F_RESTART && o.caps.gr_fwd && o.caps.gr_time == 120,
			 "flags %x fwd %d time %u", o.caps.gr_flags, o.caps.gr_fwd, o.caps.gr_time);
	}
	T_END();

	T_BEGIN("bgp OPEN round trip");
	{
		struct rbuf r;
		struct bgp_hdr h;
		struct bgp_open o;
		struct bgp_err e;

		w = wbuf_make(b, sizeof(b));
		caps = (struct bgp_caps){.mp_seen = true, .mp_ipv4 = true, .mp_ipv6 = true, .as4 = true,
					 .as4_asn = 131072, .route_refresh = true, .gr = true,
					 .gr_time = 120, .gr_ipv6 = true};
		bgp_open_encode(&w, 131072, 30, 0x01020304, &caps);
		r = rbuf_make(b, w.len);
		T_EXPECT(bgp_hdr_decode(&r, &h, &e) == 0 && h.type == BGP_OPEN, "header");
		T_EXPECT(bgp_open_decode(&r, &o, &e) == 0, "decodes");
		T_EXPECT(o.asn == 131072 && o.my_as == BGP_AS_TRANS, "AS %u (2-octet %u)", o.asn,
			 o.my_as);
		T_EXPECT(o.hold_time == 30 && o.id == 0x01020304, "hold %u id %08x", o.hold_time,
			 o.id);
		T_EXPECT(o.caps.gr && o.caps.gr_time == 120 && o.caps.gr_ipv6 && !o.caps.gr_ipv4,
			 "graceful restart");
	}
	T_END();
}

/* --- small messages ---------------------------------------------------------------------- */

static void test_small(void)
{
	uint8_t b[128];
	struct wbuf w = wbuf_make(b, sizeof(b));
	struct bgp_err n = {0}, d, e;
	static const uint8_t ka[] = {M, 0, 19, 4};
	static const uint8_t cease[] = {M, 0, 21, 3, 6, 3};
	static const uint8_t bad_ver[] = {M, 0, 23, 3, 2, 1, 0, 4};
	static const uint8_t rr[] = {M, 0, 23, 5, 0, 2, 0, 1};

	T_BEGIN("bgp KEEPALIVE encode");
	bgp_keepalive_encode(&w);
	T_EXPECT(hexeq(b, w.len, ka, sizeof(ka)), "bytes");
	T_END();

	T_BEGIN("bgp NOTIFICATION encode: Cease / peer de-configured (RFC 4486)");
	w = wbuf_make(b, sizeof(b));
	bgp_err_set(&n, BGP_ERR_CEASE, BGP_CEASE_DECONFIGURED, NULL, 0);
	bgp_notification_encode(&w, &n);
	T_EXPECT(hexeq(b, w.len, cease, sizeof(cease)), "bytes");
	T_EXPECT(!strcmp(bgp_err_subcode_name(6, 3), "peer de-configured"), "name");
	seed(b, w.len);
	T_END();

	T_BEGIN("bgp NOTIFICATION encode/decode with data");
	w = wbuf_make(b, sizeof(b));
	uint8_t v[2] = {0, 4};
	bgp_err_set(&n, BGP_ERR_OPEN, BGP_OPEN_BAD_VERSION, v, 2);
	bgp_notification_encode(&w, &n);
	T_EXPECT(hexeq(b, w.len, bad_ver, sizeof(bad_ver)), "bytes");
	{
		struct rbuf r = rbuf_make(b + 19, w.len - 19);
		T_EXPECT(bgp_notification_decode(&r, &d, &e) == 0, "decodes");
		T_EXPECT(d.code == 2 && d.subcode == 1 && d.data_len == 2 && d.data[1] == 4,
			 "fields");
	}
	T_END();

	T_BEGIN("bgp ROUTE-REFRESH encode/decode (RFC 2918)");
	w = wbuf_make(b, sizeof(b));
	bgp_refresh_encode(&w, BGP_AFI_IPV6, BGP_SAFI_UNICAST);
	T_EXPECT(hexeq(b, w.len, rr, sizeof(rr)), "bytes");
	seed(b, w.len);
	{
		struct rbuf r = rbuf_make(b + 19, 4);
		uint16_t afi;
		uint8_t safi;
		T_EXPECT(bgp_refresh_decode(&r, &afi, &safi, &e) == 0 && afi == 2 && safi == 1,
			 "fields");
		r = rbuf_make(b + 19, 3);
		T_EXPECT(bgp_refresh_decode(&r, &afi, &safi, &e) < 0 && e.code == BGP_ERR_REFRESH,
			 "short body refused");
	}
	T_END();

	T_CASE(!strcmp(bgp_err_code_name(BGP_ERR_HOLD), "hold timer expired"),
	       "bgp NOTIFICATION code names");
	T_CASE(!strcmp(bgp_type_name(BGP_ROUTE_REFRESH), "ROUTE-REFRESH"), "bgp type names");
}

/* --- UPDATE encode ----------------------------------------------------------------------- */

static struct prefix pfx(const char *s)
{
	struct prefix p;

	if (prefix_parse(s, &p) < 0)
		abort();
	return p;
}

static void test_update_encode(void)
{
	uint8_t b[BGP_MAX_LEN];
	struct wbuf w = wbuf_make(b, sizeof(b));
	struct bgp_attrs at = {.ebgp = true, .as4 = true, .local_as = 64513};
	struct prefix p1 = pfx("10.0.0.100/32");
	size_t done;
	static const uint8_t want_ebgp[] = {
		M, 0, 48, 2, 0, 0, 0, 20, 0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfc, 0x01,
		0x40, 3, 4, 10, 0, 0, 2, 32, 10, 0, 0, 100};
	static const uint8_t want_ibgp[] = {
		M, 0, 71, 2, 0, 0, 0, 43, 0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 5, 4, 0, 0, 0, 150,
		0xc0, 8, 4, 0xfc, 0, 0, 7, 0xc0, 32, 12, 0, 0, 0xfc, 0, 0, 0, 0, 1, 0, 0, 0, 2,
		0x40, 3, 4, 10, 0, 0, 2, 32, 10, 0, 0, 100};
	static const uint8_t want_2b[] = {
		M, 0, 55, 2, 0, 0, 0, 27, 0x40, 1, 1, 0, 0x40, 2, 4, 2, 1, 0x5b, 0xa0,
		0xc0, 17, 6, 2, 1, 0xfa, 0x56, 0xea, 0x00, 0x40, 3, 4, 10, 0, 0, 2,
		32, 10, 0, 0, 100};
	static const uint8_t want_wd[] = {M, 0, 28, 2, 0, 5, 32, 10, 0, 0, 100, 0, 0};
	static const uint8_t want_eor4[] = {M, 0, 23, 2, 0, 0, 0, 0};
	static const uint8_t want_eor6[] = {M, 0, 29, 2, 0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1};

	ip_parse("10.0.0.2", &at.nh4);
	T_BEGIN("bgp UPDATE encode: eBGP IPv4 /32, ORIGIN IGP, AS_PATH our AS (4-octet)");
	done = bgp_update_encode(&w, BGP_MAX_LEN, &at, BGP_AFI_IPV4, &p1, 1);
	T_EXPECT(done == 1 && !w.err && hexeq(b, w.len, want_ebgp, sizeof(want_ebgp)), "bytes");
	seed(b, w.len);
	T_END();

	T_BEGIN("bgp UPDATE encode: iBGP, empty AS_PATH, LOCAL_PREF, communities, large");
	w = wbuf_make(b, sizeof(b));
	at.ebgp = false;
	at.has_local_pref = true;
	at.local_pref = 150;
	at.n_comm = 1;
	at.comm[0] = 0xfc000007;
	at.n_large = 1;
	at.large[0][0] = 64512;
	at.large[0][1] = 1;
	at.large[0][2] = 2;
	done = bgp_update_encode(&w, BGP_MAX_LEN, &at, BGP_AFI_IPV4, &p1, 1);
	T_EXPECT(done == 1 && !w.err && hexeq(b, w.len, want_ibgp, sizeof(want_ibgp)), "bytes");
	seed(b, w.len);
	T_END();

	T_BEGIN("bgp UPDATE encode: 4-octet AS to a 2-octet speaker: AS_TRANS + AS4_PATH");
	w = wbuf_make(b, sizeof(b));
	at = (struct bgp_attrs){.ebgp = true, .as4 = false, .local_as = 4200000000u};
	ip_parse("10.0.0.2", &at.nh4);
	done = bgp_update_encode(&w, BGP_MAX_LEN, &at, BGP_AFI_IPV4, &p1, 1);
	T_EXPECT(done == 1 && !w.err && hexeq(b, w.len, want_2b, sizeof(want_2b)), "bytes");
	T_END();

	T_BEGIN("bgp UPDATE encode: IPv4 withdrawal");
	w = wbuf_make(b, sizeof(b));
	done = bgp_update_encode(&w, BGP_MAX_LEN, NULL, BGP_AFI_IPV4, &p1, 1);
	T_EXPECT(done == 1 && hexeq(b, w.len, want_wd, sizeof(want_wd)), "bytes");
	seed(b, w.len);
	T_END();

	T_BEGIN("bgp UPDATE encode: End-of-RIB IPv4 and IPv6 (RFC 4724)");
	w = wbuf_make(b, sizeof(b));
	bgp_eor_encode(&w, BGP_AFI_IPV4);
	T_EXPECT(hexeq(b, w.len, want_eor4, sizeof(want_eor4)), "IPv4 bytes");
	seed(b, w.len);
	w = wbuf_make(b, sizeof(b));
	bgp_eor_encode(&w, BGP_AFI_IPV6);
	T_EXPECT(hexeq(b, w.len, want_eor6, sizeof(want_eor6)), "IPv6 bytes");
	seed(b, w.len);
	{
		struct rbuf r = rbuf_make(b + 19, w.len - 19);
		struct bgp_update_info u;
		struct bgp_err e;
		T_EXPECT(bgp_update_decode(&r, true, &u, &e) == 0 && u.eor && u.eor_afi == 2,
			 "decodes as End-of-RIB");
	}
	T_END();

	T_BEGIN("bgp UPDATE encode: IPv6 /128 in MP_REACH_NLRI with global + link-local next hop");
	{
		struct prefix p6 = pfx("fd00::100/128");
		struct rbuf r;
		struct bgp_update_info u;
		struct bgp_err e;
		static const uint8_t mp_head[] = {0x90, 14, 0, 54, 0, 2, 1, 32};

		w = wbuf_make(b, sizeof(b));
		at = (struct bgp_attrs){.ebgp = true, .as4 = true, .local_as = 64513};
		ip_parse("fd00::2", &at.nh6);
		ip_parse("fe80::2", &at.nh6_ll);
		done = bgp_update_encode(&w, BGP_MAX_LEN, &at, BGP_AFI_IPV6, &p6, 1);
		T_EXPECT(done == 1 && !w.err, "encoded");
		T_EXPECT(!memcmp(b + 23, mp_head, sizeof(mp_head)), "MP_REACH_NLRI first, nh len 32");
		T_EXPECT(!memcmp(b + 31, at.nh6.a, 16) && !memcmp(b + 47, at.nh6_ll.a, 16),
			 "next hops");
		T_EXPECT(b[63] == 0 && b[64] == 128 && !memcmp(b + 65, p6.ip.a, 16), "NLRI");
		seed(b, w.len);
		r = rbuf_make(b + 19, w.len - 19);
		T_EXPECT(bgp_update_decode(&r, true, &u, &e) == 0 && u.mp_reach == 1 &&
				 !u.treat_as_withdraw,
			 "decodes: 1 prefix, valid (%s)", u.why);
		w = wbuf_make(b, sizeof(b));
		done = bgp_update_encode(&w, BGP_MAX_LEN, NULL, BGP_AFI_IPV6, &p6, 1);
		r = rbuf_make(b + 19, w.len - 19);
		T_EXPECT(done == 1 && bgp_update_decode(&r, true, &u, &e) == 0 && u.mp_unreach == 1,
			 "withdrawal in MP_UNREACH_NLRI");
		seed(b, w.len);
	}
	T_END();

	T_BEGIN("bgp UPDATE encode: packing fills 4096 bytes, then the rest");
	{
		static struct prefix many[2000];
		size_t total = 0, msgs = 0, first = 0;
		struct bgp_attrs a4 = {.ebgp = true, .as4 = true, .local_as = 64513};

		ip_parse("10.0.0.2", &a4.nh4);
		for (int i = 0; i < 2000; i++) {
			many[i] = pfx("10.1.0.0/32");
			many[i].ip.a[2] = (uint8_t)(i >> 8);
			many[i].ip.a[3] = (uint8_t)i;
		}
		while (total < 2000) {
			struct rbuf r;
			struct bgp_update_info u;
			struct bgp_err e;

			w = wbuf_make(b, sizeof(b));
			done = bgp_update_encode(&w, BGP_MAX_LEN, &a4, BGP_AFI_IPV4, many + total,
						 2000 - total);
			if (!msgs)
				first = done;
			T_EXPECT(!w.err && w.len <= BGP_MAX_LEN && done > 0, "message %zu fits", msgs);
			r = rbuf_make(b + 19, w.len - 19);
			T_EXPECT(bgp_update_decode(&r, true, &u, &e) == 0 && u.nlri == done,
				 "message %zu decodes with %zu prefixes", msgs, done);
			total += done;
			if (++msgs > 10 || done == 0)
				break;
		}
		/* 4096 - 19 header - 4 lengths - 20 attributes = 4053 bytes, 5 per /32 */
		T_EXPECT(first == 810, "first UPDATE carries %zu prefixes, want 810", first);
		T_EXPECT(msgs == 3 && total == 2000, "%zu messages for %zu prefixes", msgs, total);
	}
	T_END();
}

/* --- UPDATE decode, RFC 7606 ------------------------------------------------------------- */

enum outcome { OK, TAW, DISCARD, RESET };

struct upd_case {
	const char *name;
	uint8_t wd[8];
	size_t nwd;
	uint8_t at[96];
	size_t nat;
	uint8_t nlri[8];
	size_t nnlri;
	enum outcome want;
	uint8_t sub; /* RESET: UPDATE error subcode */
	int total_len_delta; /* lie in the total path attribute length */
};

#define ORIGIN	  0x40, 1, 1, 0
#define AS_PATH2  0x40, 2, 4, 2, 1, 0xfc, 0x01
#define NEXT_HOP  0x40, 3, 4, 10, 0, 0, 1
#define BASE	  ORIGIN, AS_PATH2, NEXT_HOP
#define BASE_N	  18
#define NLRI1	  {24, 10, 1, 2}, 4

static const struct upd_case upd_cases[] = {
	{"valid", {0}, 0, {BASE}, BASE_N, NLRI1, OK, 0, 0},
	{"valid withdrawal only", {24, 10, 1, 2}, 4, {0}, 0, {0}, 0, OK, 0, 0},
	{"attributes without NLRI need no mandatory ones", {0}, 0, {ORIGIN}, 4, {0}, 0, OK, 0, 0},
	{"ORIGIN value 3", {0}, 0, {0x40, 1, 1, 3, AS_PATH2, NEXT_HOP}, BASE_N, NLRI1, TAW, 0, 0},
	{"ORIGIN length 2", {0}, 0, {0x40, 1, 2, 0, 0, AS_PATH2, NEXT_HOP}, BASE_N + 1, NLRI1, TAW,
	 0, 0},
	{"ORIGIN flagged optional", {0}, 0, {0xc0, 1, 1, 0, AS_PATH2, NEXT_HOP}, BASE_N, NLRI1, TAW,
	 0, 0},
	{"ORIGIN with the partial bit", {0}, 0, {0x60, 1, 1, 0, AS_PATH2, NEXT_HOP}, BASE_N, NLRI1,
	 TAW, 0, 0},
	{"AS_PATH segment type 5", {0}, 0, {ORIGIN, 0x40, 2, 4, 5, 1, 0xfc, 0x01, NEXT_HOP}, BASE_N,
	 NLRI1, TAW, 0, 0},
	{"AS_PATH segment overruns", {0}, 0, {ORIGIN, 0x40, 2, 4, 2, 2, 0xfc, 0x01, NEXT_HOP},
	 BASE_N, NLRI1, TAW, 0, 0},
	{"AS_PATH segment count 0", {0}, 0, {ORIGIN, 0x40, 2, 2, 2, 0, NEXT_HOP}, BASE_N - 2, NLRI1,
	 TAW, 0, 0},
	{"AS_PATH AS_CONFED_SEQUENCE (RFC 5065 5: we are in no confederation)", {0}, 0,
	 {ORIGIN, 0x40, 2, 4, 3, 1, 0xfc, 0x01, NEXT_HOP}, BASE_N, NLRI1, TAW, 0, 0},
	{"AS_PATH AS_CONFED_SET", {0}, 0, {ORIGIN, 0x40, 2, 4, 4, 1, 0xfc, 0x01, NEXT_HOP}, BASE_N,
	 NLRI1, TAW, 0, 0},
	{"AS_PATH with AS 0 (RFC 7607 2)", {0}, 0,
	 {ORIGIN, 0x40, 2, 6, 2, 2, 0xfc, 0x01, 0, 0, NEXT_HOP}, BASE_N + 2, NLRI1, TAW, 0, 0},
	{"NEXT_HOP length 5", {0}, 0, {ORIGIN, AS_PATH2, 0x40, 3, 5, 10, 0, 0, 1, 0}, BASE_N + 1,
	 NLRI1, TAW, 0, 0},
	{"NEXT_HOP 0.0.0.0 (martian)", {0}, 0, {ORIGIN, AS_PATH2, 0x40, 3, 4, 0, 0, 0, 0}, BASE_N,
	 NLRI1, TAW, 0, 0},
	{"NEXT_HOP multicast", {0}, 0, {ORIGIN, AS_PATH2, 0x40, 3, 4, 224, 0, 0, 1}, BASE_N, NLRI1,
	 TAW, 0, 0},
	{"MULTI_EXIT_DISC length 3", {0}, 0, {BASE, 0x80, 4, 3, 0, 0, 1}, BASE_N + 6, NLRI1, TAW, 0,
	 0},
	{"LOCAL_PREF length 2", {0}, 0, {BASE, 0x40, 5, 2, 0, 1}, BASE_N + 5, NLRI1, TAW, 0, 0},
	{"ATOMIC_AGGREGATE length 1", {0}, 0, {BASE, 0x40, 6, 1, 0}, BASE_N + 4, NLRI1, DISCARD, 0,
	 0},
	{"AGGREGATOR length 5", {0}, 0, {BASE, 0xc0, 7, 5, 0, 1, 10, 0, 0}, BASE_N + 8, NLRI1,
	 DISCARD, 0, 0},
	{"COMMUNITIES length 3", {0}, 0, {BASE, 0xc0, 8, 3, 0, 1, 2}, BASE_N + 6, NLRI1, TAW, 0, 0},
	{"COMMUNITIES length 0", {0}, 0, {BASE, 0xc0, 8, 0}, BASE_N + 3, NLRI1, TAW, 0, 0},
	{"ORIGINATOR_ID length 3", {0}, 0, {BASE, 0x80, 9, 3, 1, 2, 3}, BASE_N + 6, NLRI1, TAW, 0,
	 0},
	{"CLUSTER_LIST length 5", {0}, 0, {BASE, 0x80, 10, 5, 1, 2, 3, 4, 5}, BASE_N + 8, NLRI1,
	 TAW, 0, 0},
	{"EXTENDED_COMMUNITIES length 7", {0}, 0, {BASE, 0xc0, 16, 7, 0, 2, 0, 1, 0, 0, 1},
	 BASE_N + 10, NLRI1, TAW, 0, 0},
	{"AS4_PATH malformed", {0}, 0, {BASE, 0xc0, 17, 3, 2, 1, 0}, BASE_N + 6, NLRI1, DISCARD, 0,
	 0},
	{"AS4_PATH with AS 0 (RFC 7607 2)", {0}, 0, {BASE, 0xc0, 17, 6, 2, 1, 0, 0, 0, 0},
	 BASE_N + 9, NLRI1, DISCARD, 0, 0},
	{"AS4_PATH with AS_CONFED_SEQUENCE (RFC 6793 6)", {0}, 0,
	 {BASE, 0xc0, 17, 6, 3, 1, 0, 0, 0xfc, 0x01}, BASE_N + 9, NLRI1, DISCARD, 0, 0},
	{"AS4_AGGREGATOR length 6", {0}, 0, {BASE, 0xc0, 18, 6, 0, 0, 0, 1, 10, 0}, BASE_N + 9,
	 NLRI1, DISCARD, 0, 0},
	{"LARGE_COMMUNITY length 11", {0}, 0, {BASE, 0xc0, 32, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0},
	 BASE_N + 14, NLRI1, TAW, 0, 0},
	{"duplicate ORIGIN is discarded", {0}, 0, {BASE, ORIGIN}, BASE_N + 4, NLRI1, DISCARD, 0, 0},
	{"missing ORIGIN", {0}, 0, {AS_PATH2, NEXT_HOP}, BASE_N - 4, NLRI1, TAW, 0, 0},
	{"missing AS_PATH", {0}, 0, {ORIGIN, NEXT_HOP}, BASE_N - 7, NLRI1, TAW, 0, 0},
	{"missing NEXT_HOP", {0}, 0, {ORIGIN, AS_PATH2}, BASE_N - 7, NLRI1, TAW, 0, 0},
	{"attribute length overruns the list", {0}, 0, {BASE, 0xc0, 8, 8, 0, 1}, BASE_N + 5, NLRI1,
	 TAW, 0, 0},
	{"attribute header cut short", {0}, 0, {BASE, 0xc0, 8}, BASE_N + 2, NLRI1, TAW, 0, 0},
	{"extended length header cut short", {0}, 0, {BASE, 0xd0, 8, 0}, BASE_N + 3, NLRI1, TAW, 0,
	 0},
	{"unrecognized well-known attribute", {0}, 0, {BASE, 0x40, 99, 1, 0}, BASE_N + 4, NLRI1,
	 RESET, BGP_UPD_UNKNOWN_WELLKNOWN, 0},
	{"unknown optional attribute is passed over", {0}, 0, {BASE, 0xc0, 99, 1, 0}, BASE_N + 4,
	 NLRI1, OK, 0, 0},
	{"MP_REACH_NLRI with an IPv6 next hop of 5 bytes", {0}, 0,
	 {ORIGIN, AS_PATH2, 0x80, 14, 12, 0, 2, 1, 5, 1, 2, 3, 4, 5, 0, 0, 0}, 26, {0}, 0, RESET,
	 BGP_UPD_OPT_ATTR, 0},
	{"MP_UNREACH_NLRI twice", {0}, 0,
	 {0x80, 15, 3, 0, 2, 1, 0x80, 15, 3, 0, 2, 1}, 12, {0}, 0, RESET, BGP_UPD_MALFORMED_ATTRS,
	 0},
	{"MP_UNREACH_NLRI prefix length 129", {0}, 0, {0x80, 15, 4, 0, 2, 1, 129}, 7, {0}, 0, RESET,
	 BGP_UPD_OPT_ATTR, 0},
	{"MP_REACH_NLRI with the wrong flags", {0}, 0,
	 {ORIGIN, AS_PATH2, 0xc0, 14, 21, 0, 2, 1, 16, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  0, 0, 1, 0},
	 35, {0}, 0, RESET, BGP_UPD_ATTR_FLAGS, 0},
	{"MP_REACH_NLRI for another family is ignored", {0}, 0,
	 {ORIGIN, AS_PATH2, 0x80, 14, 9, 0, 25, 70, 4, 1, 2, 3, 4, 0}, 23, {0}, 0, OK, 0, 0},
	{"withdrawn routes length overruns", {24, 10, 1}, 3, {0}, 0, {0}, 0, RESET,
	 BGP_UPD_MALFORMED_ATTRS, 0},
	{"withdrawn prefix length 33", {33, 10, 1, 2, 3, 4}, 6, {0}, 0, {0}, 0, RESET,
	 BGP_UPD_BAD_NETWORK, 0},
	{"NLRI prefix length 40", {0}, 0, {BASE}, BASE_N, {40, 10, 1, 2, 3, 4}, 6, RESET,
	 BGP_UPD_BAD_NETWORK, 0},
	{"NLRI prefix cut short", {0}, 0, {BASE}, BASE_N, {24, 10, 1}, 3, RESET,
	 BGP_UPD_BAD_NETWORK, 0},
	{"total attribute length overruns", {0}, 0, {BASE}, BASE_N, {0}, 0, RESET,
	 BGP_UPD_MALFORMED_ATTRS, 10},
};

/* Builds a body: withdrawn length + routes, attribute length + attributes, NLRI. */
static size_t build_update(const struct upd_case *c, uint8_t *b)
{
	size_t n = 0;
	int alen = (int)c->nat + c->total_len_delta;

	if (c->sub == BGP_UPD_MALFORMED_ATTRS && c->nwd == 3) {
		b[n++] = 0;
		b[n++] = 4; /* claims 4 bytes, 3 follow and nothing else */
		memcpy(b + n, c->wd, c->nwd);
		return n + c->nwd;
	}
	b[n++] = (uint8_t)(c->nwd >> 8);
	b[n++] = (uint8_t)c->nwd;
	memcpy(b + n, c->wd, c->nwd);
	n += c->nwd;
	b[n++] = (uint8_t)(alen >> 8);
	b[n++] = (uint8_t)alen;
	memcpy(b + n, c->at, c->nat);
	n += c->nat;
	memcpy(b + n, c->nlri, c->nnlri);
	return n + c->nnlri;
}

static void test_update_decode(void)
{
	static const char *const names[] = {"ok", "treat-as-withdraw", "attribute-discard",
					    "session reset"};

	for (size_t i = 0; i < sizeof(upd_cases) / sizeof(upd_cases[0]); i++) {
		const struct upd_case *c = &upd_cases[i];
		uint8_t msg[256] = {M}, *body = msg + 19;
		size_t n = build_update(c, body);
		struct rbuf r = rbuf_make(body, n);
		struct bgp_update_info u;
		struct bgp_err e = {0};
		enum outcome got;
		int rc;

		msg[16] = 0;
		msg[17] = (uint8_t)(19 + n);
		msg[18] = BGP_UPDATE;
		seed(msg, 19 + n);
		T_BEGIN("bgp UPDATE decode (RFC 7606): %s", c->name);
		rc = bgp_update_decode(&r, false, &u, &e);
		got = rc < 0 ? RESET : u.treat_as_withdraw ? TAW : u.discarded ? DISCARD : OK;
		T_EXPECT(got == c->want, "%s, want %s (%s)", names[got], names[c->want], u.why);
		if (c->want == RESET)
			T_EXPECT(e.code == BGP_ERR_UPDATE && e.subcode == c->sub,
				 "NOTIFICATION %u/%u (%s), want 3/%u", e.code, e.subcode,
				 bgp_err_subcode_name(e.code, e.subcode), c->sub);
		if (c->want == OK && c->nnlri)
			T_EXPECT(u.nlri == 1, "one prefix counted, got %u", u.nlri);
		T_END();
	}
}

/* --- capability negotiation -------------------------------------------------------------- */

static void test_negotiate(void)
{
	struct bgp_caps ours = {.mp_seen = true, .mp_ipv4 = true, .mp_ipv6 = true, .as4 = true,
				.as4_asn = 64513, .route_refresh = true};
	struct bgp_caps t, n;
	char s[128];

	T_BEGIN("bgp capabilities: a peer without MP does IPv4 unicast only (RFC 4760 8)");
	t = (struct bgp_caps){0};
	n = bgp_caps_negotiate(&ours, &t);
	T_EXPECT(n.mp_ipv4 && !n.mp_ipv6 && !n.as4 && !n.route_refresh, "ipv4 only");
	T_END();

	T_BEGIN("bgp capabilities: IPv6 only peer");
	t = (struct bgp_caps){.mp_seen = true, .mp_ipv6 = true, .as4 = true, .as4_asn = 64512};
	n = bgp_caps_negotiate(&ours, &t);
	T_EXPECT(!n.mp_ipv4 && n.mp_ipv6 && n.as4, "ipv6 + as4");
	T_END();

	T_BEGIN("bgp capabilities: everything in common, graceful restart only if both");
	t = ours;
	t.gr = true;
	t.gr_time = 90;
	n = bgp_caps_negotiate(&ours, &t);
	T_EXPECT(n.mp_ipv4 && n.mp_ipv6 && n.as4 && n.route_refresh && !n.gr, "all but GR");
	ours.gr = true;
	n = bgp_caps_negotiate(&ours, &t);
	T_EXPECT(n.gr && n.gr_time == 90, "GR when both");
	bgp_caps_str(&n, s, sizeof(s));
	T_EXPECT(!strcmp(s, "ipv4-unicast ipv6-unicast 4-octet-as route-refresh graceful-restart"),
		 "string \"%s\"", s);
	T_END();

	T_BEGIN("bgp capabilities: encode/decode round trip");
	{
		uint8_t b[128];
		struct wbuf w = wbuf_make(b, sizeof(b));
		struct bgp_caps d = {0};
		struct bgp_err e;

		bgp_caps_encode(&w, &ours);
		struct rbuf r = rbuf_make(b, w.len);
		while (rbuf_left(&r)) {
			uint8_t type = rbuf_u8(&r), len = rbuf_u8(&r);
			struct rbuf p = rbuf_sub(&r, len);
			T_EXPECT(type == 2, "optional parameter type 2");
			T_EXPECT(bgp_caps_decode(&p, &d, &e) == 0, "decodes");
		}
		T_EXPECT(d.mp_ipv4 && d.mp_ipv6 && d.as4 && d.as4_asn == 64513 && d.route_refresh &&
				 d.gr,
			 "same capabilities");
	}
	T_END();
}

int main(void)
{
	test_header();
	test_open_decode();
	test_open_encode();
	test_small();
	test_update_encode();
	test_update_decode();
	test_negotiate();
	return t_exit();
}
