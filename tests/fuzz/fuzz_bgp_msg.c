/* libFuzzer target for the BGP message parser: the header, then the body decoder of the
 * message's type (OPEN with capabilities, UPDATE with RFC 7606 handling, NOTIFICATION,
 * ROUTE-REFRESH), with and without 4-octet AS. Seeds: tests/fuzz/corpus/bgp_msg/, written by
 * test_bgp_msg (EDGELB_CORPUS=dir). Any crash or sanitizer report is a bug. */
#include <stddef.h>
#include <stdint.h>

#include "bgp/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rbuf r = rbuf_make(data, size);
	struct bgp_hdr h;
	struct bgp_err e = {0}, n;
	struct bgp_open o;
	struct bgp_update_info u;
	uint16_t afi;
	uint8_t safi;

	if (bgp_hdr_decode(&r, &h, &e) < 0 || h.len > size)
		return 0;
	struct rbuf body = rbuf_sub(&r, h.len - BGP_HDR_LEN);
	struct rbuf body2 = body;

	switch (h.type) {
	case BGP_OPEN:
		if (bgp_open_decode(&body, &o, &e) == 0) {
			struct bgp_caps ours = {.mp_seen = true, .mp_ipv4 = true, .as4 = true};
			struct bgp_caps neg = bgp_caps_negotiate(&ours, &o.caps);
			char s[128];
			bgp_caps_str(&neg, s, sizeof(s));
		}
		break;
	case BGP_UPDATE:
		bgp_update_decode(&body, true, &u, &e);
		bgp_update_decode(&body2, false, &u, &e);
		break;
	case BGP_NOTIFICATION:
		if (bgp_notification_decode(&body, &n, &e) == 0) {
			bgp_err_code_name(n.code);
			bgp_err_subcode_name(n.code, n.subcode);
		}
		break;
	case BGP_ROUTE_REFRESH:
		bgp_refresh_decode(&body, &afi, &safi, &e);
		break;
	}
	return 0;
}
