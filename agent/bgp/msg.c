/* BGP message header, OPEN, KEEPALIVE, NOTIFICATION and ROUTE-REFRESH codecs (RFC 4271 4,
 * RFC 2918), and the names of message types and NOTIFICATION codes/subcodes.
 * Capabilities are in cap.c, UPDATE and path attributes in attr.c. No peer state here. */
#include <stdio.h>
#include <string.h>

#include "bgp/msg.h"

static const char *const type_names[] = {
	[BGP_OPEN] = "OPEN",
	[BGP_UPDATE] = "UPDATE",
	[BGP_NOTIFICATION] = "NOTIFICATION",
	[BGP_KEEPALIVE] = "KEEPALIVE",
	[BGP_ROUTE_REFRESH] = "ROUTE-REFRESH",
};

/* Minimum and maximum length per type (RFC 4271 4.2-4.5, RFC 2918 3). */
static const struct {
	uint16_t min, max;
} type_len[] = {
	[BGP_OPEN] = {29, BGP_MAX_LEN},
	[BGP_UPDATE] = {23, BGP_MAX_LEN},
	[BGP_NOTIFICATION] = {21, BGP_MAX_LEN},
	[BGP_KEEPALIVE] = {19, 19},
	[BGP_ROUTE_REFRESH] = {23, 23},
};

static const char *const code_names[] = {
	[BGP_ERR_HEADER] = "message header error",
	[BGP_ERR_OPEN] = "OPEN message error",
	[BGP_ERR_UPDATE] = "UPDATE message error",
	[BGP_ERR_HOLD] = "hold timer expired",
	[BGP_ERR_FSM] = "finite state machine error",
	[BGP_ERR_CEASE] = "cease",
	[BGP_ERR_REFRESH] = "ROUTE-REFRESH message error",
};

struct subcode_name {
	uint8_t code, subcode;
	const char *name;
};

static const struct subcode_name subcode_names[] = {
	{BGP_ERR_HEADER, BGP_HDR_NOT_SYNC, "connection not synchronized"},
	{BGP_ERR_HEADER, BGP_HDR_BAD_LEN, "bad message length"},
	{BGP_ERR_HEADER, BGP_HDR_BAD_TYPE, "bad message type"},
	{BGP_ERR_OPEN, BGP_OPEN_BAD_VERSION, "unsupported version number"},
	{BGP_ERR_OPEN, BGP_OPEN_BAD_AS, "bad peer AS"},
	{BGP_ERR_OPEN, BGP_OPEN_BAD_ID, "bad BGP identifier"},
	{BGP_ERR_OPEN, BGP_OPEN_BAD_OPT, "unsupported optional parameter"},
	{BGP_ERR_OPEN, BGP_OPEN_BAD_HOLD, "unacceptable hold time"},
	{BGP_ERR_OPEN, BGP_OPEN_BAD_CAP, "unsupported capability"},
	{BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTRS, "malformed attribute list"},
	{BGP_ERR_UPDATE, BGP_UPD_UNKNOWN_WELLKNOWN, "unrecognized well-known attribute"},
	{BGP_ERR_UPDATE, BGP_UPD_MISSING_WELLKNOWN, "missing well-known attribute"},
	{BGP_ERR_UPDATE, BGP_UPD_ATTR_FLAGS, "attribute flags error"},
	{BGP_ERR_UPDATE, BGP_UPD_ATTR_LEN, "attribute length error"},
	{BGP_ERR_UPDATE, BGP_UPD_BAD_ORIGIN, "invalid ORIGIN attribute"},
	{BGP_ERR_UPDATE, BGP_UPD_BAD_NEXT_HOP, "invalid NEXT_HOP attribute"},
	{BGP_ERR_UPDATE, BGP_UPD_OPT_ATTR, "optional attribute error"},
	{BGP_ERR_UPDATE, BGP_UPD_BAD_NETWORK, "invalid network field"},
	{BGP_ERR_UPDATE, BGP_UPD_BAD_AS_PATH, "malformed AS_PATH"},
	{BGP_ERR_FSM, 1, "unexpected message in OpenSent"}, /* RFC 6608 */
	{BGP_ERR_FSM, 2, "unexpected message in OpenConfirm"},
	{BGP_ERR_FSM, 3, "unexpected message in Established"},
	{BGP_ERR_CEASE, BGP_CEASE_MAX_PREFIX, "maximum number of prefixes reached"},
	{BGP_ERR_CEASE, BGP_CEASE_SHUTDOWN, "administrative shutdown"},
	{BGP_ERR_CEASE, BGP_CEASE_DECONFIGURED, "peer de-configured"},
	{BGP_ERR_CEASE, BGP_CEASE_RESET, "administrative reset"},
	{BGP_ERR_CEASE, BGP_CEASE_REJECTED, "connection rejected"},
	{BGP_ERR_CEASE, BGP_CEASE_CONFIG_CHANGE, "other configuration change"},
	{BGP_ERR_CEASE, BGP_CEASE_COLLISION, "connection collision resolution"},
	{BGP_ERR_CEASE, BGP_CEASE_RESOURCES, "out of resources"},
	{BGP_ERR_CEASE, BGP_CEASE_BFD_DOWN, "BFD down"},
	{BGP_ERR_REFRESH, 1, "invalid message length"},
};

const char *bgp_type_name(uint8_t type)
{
	if (type < sizeof(type_names) / sizeof(type_names[0]) && type_names[type])
		return type_names[type];
	return "unknown";
}

const char *bgp_err_code_name(uint8_t code)
{
	if (code < sizeof(code_names) / sizeof(code_names[0]) && code_names[code])
		return code_names[code];
	return "unknown error";
}

const char *bgp_err_subcode_name(uint8_t code, uint8_t subcode)
{
	for (size_t i = 0; i < sizeof(subcode_names) / sizeof(subcode_names[0]); i++)
		if (subcode_names[i].code == code && subcode_names[i].subcode == subcode)
			return subcode_names[i].name;
	return subcode ? "unknown subcode" : "unspecific";
}

void bgp_err_set(struct bgp_err *e, uint8_t code, uint8_t subcode, const void *data, size_t len)
{
	e->code = code;
	e->subcode = subcode;
	if (len > sizeof(e->data))
		len = sizeof(e->data);
	if (len)
		memcpy(e->data, data, len);
	e->data_len = (uint8_t)len;
}

/* RFC 4271 6.1: marker all ones, length within bounds for the type, known type. */
int bgp_hdr_decode(struct rbuf *r, struct bgp_hdr *h, struct bgp_err *e)
{
	const uint8_t *marker = rbuf_ptr(r, BGP_MARKER_LEN);
	uint8_t lenb[2];

	h->len = rbuf_u16(r);
	h->type = rbuf_u8(r);
	if (r->err) {
		bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_BAD_LEN, NULL, 0);
		return -1;
	}
	for (int i = 0; i < BGP_MARKER_LEN; i++)
		if (marker[i] != 0xff) {
			bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_NOT_SYNC, NULL, 0);
			return -1;
		}
	lenb[0] = h->len >> 8;
	lenb[1] = h->len & 0xff;
	if (h->len < BGP_HDR_LEN || h->len > BGP_MAX_LEN) {
		bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_BAD_LEN, lenb, 2);
		return -1;
	}
	if (h->type >= sizeof(type_len) / sizeof(type_len[0]) || !type_len[h->type].min) {
		bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_BAD_TYPE, &h->type, 1);
		return -1;
	}
	if (h->len < type_len[h->type].min || h->len > type_len[h->type].max) {
		bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_BAD_LEN, lenb, 2);
		return -1;
	}
	return 0;
}

size_t bgp_msg_begin(struct wbuf *w, uint8_t type)
{
	size_t mark = w->len;

	for (int i = 0; i < BGP_MARKER_LEN; i++)
		wbuf_u8(w, 0xff);
	wbuf_u16(w, 0);
	wbuf_u8(w, type);
	return mark;
}

void bgp_msg_end(struct wbuf *w, size_t mark)
{
	size_t n = w->len - mark;

	if (n > BGP_MAX_LEN)
		w->err = true;
	wbuf_put_u16_at(w, mark + BGP_MARKER_LEN, (uint16_t)n);
}

/* RFC 4271 4.2, RFC 6793 4.1: AS_TRANS in the 2-octet field when the AS needs 4 octets. */
void bgp_open_encode(struct wbuf *w, uint32_t asn, uint16_t hold, uint32_t id,
		     const struct bgp_caps *caps)
{
	size_t m = bgp_msg_begin(w, BGP_OPEN), optlen;

	wbuf_u8(w, BGP_VERSION);
	wbuf_u16(w, asn > 0xffff ? BGP_AS_TRANS : (uint16_t)asn);
	wbuf_u16(w, hold);
	wbuf_u32(w, id);
	optlen = wbuf_mark(w, 1);
	bgp_caps_encode(w, caps);
	wbuf_patch_len(w, optlen, 1);
	bgp_msg_end(w, m);
}

/* RFC 4271 6.2 */
int bgp_open_decode(struct rbuf *r, struct bgp_open *o, struct bgp_err *e)
{
	struct rbuf opts;
	uint8_t optlen;
	size_t total;
	bool ext;

	memset(o, 0, sizeof(*o));
	o->version = rbuf_u8(r);
	o->my_as = rbuf_u16(r);
	o->hold_time = rbuf_u16(r);
	o->id = rbuf_u32(r);
	optlen = rbuf_u8(r);
	if (r->err) {
		bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_BAD_LEN, NULL, 0);
		return -1;
	}
	if (o->version != BGP_VERSION) {
		uint8_t v[2] = {0, BGP_VERSION}; /* data: the largest version we support */
		bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_VERSION, v, 2);
		return -1;
	}
	/* RFC 4271 4.2: hold time 0 or >= 3 */
	if (o->hold_time == 1 || o->hold_time == 2) {
		bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_HOLD, NULL, 0);
		return -1;
	}
	/* RFC 6286 2.1: any non-zero identifier */
	if (o->id == 0) {
		bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_ID, NULL, 0);
		return -1;
	}
	if (o->my_as == 0) {
		bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_AS, NULL, 0);
		return -1;
	}
	/* RFC 9072 2: a Non-Ext OP Len of 255 followed by a Non-Ext OP Type of 255 announces the
	 * extended form: a 2-octet length, then parameters with 2-octet lengths. (Ours always
	 * fit the classic form, which RFC 9072 says to keep using then.) */
	ext = optlen == 255 && rbuf_left(r) >= 3 && r->p[r->off] == 255;
	if (ext) {
		rbuf_u8(r);
		total = rbuf_u16(r);
	} else {
		total = optlen;
	}
	if (total != rbuf_left(r)) {
		bgp_err_set(e, BGP_ERR_OPEN, 0, NULL, 0);
		return -1;
	}
	opts = rbuf_sub(r, total);
	while (rbuf_left(&opts)) {
		uint8_t type = rbuf_u8(&opts);
		uint16_t len = ext ? rbuf_u16(&opts) : rbuf_u8(&opts);
		struct rbuf p = rbuf_sub(&opts, len);

		if (opts.err) {
			bgp_err_set(e, BGP_ERR_OPEN, 0, NULL, 0);
			return -1;
		}
		/* RFC 5492 4: capabilities are the only optional parameter we know. */
		if (type != 2) {
			bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_OPT, &type, 1);
			return -1;
		}
		if (bgp_caps_decode(&p, &o->caps, e) < 0)
			return -1;
	}
	o->asn = o->caps.as4 ? o->caps.as4_asn : o->my_as;
	/* RFC 6793 4.2: a 4-octet AS of 0 is an error too. */
	if (o->asn == 0) {
		bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BAD_AS, NULL, 0);
		return -1;
	}
	return 0;
}

void bgp_keepalive_encode(struct wbuf *w)
{
	bgp_msg_end(w, bgp_msg_begin(w, BGP_KEEPALIVE));
}

void bgp_notification_encode(struct wbuf *w, const struct bgp_err *n)
{
	size_t m = bgp_msg_begin(w, BGP_NOTIFICATION);

	wbuf_u8(w, n->code);
	wbuf_u8(w, n->subcode);
	wbuf_bytes(w, n->data, n->data_len);
	bgp_msg_end(w, m);
}

int bgp_notification_decode(struct rbuf *r, struct bgp_err *n, struct bgp_err *e)
{
	size_t left;

	n->code = rbuf_u8(r);
	n->subcode = rbuf_u8(r);
	if (r->err) {
		bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_BAD_LEN, NULL, 0);
		return -1;
	}
	left = rbuf_left(r);
	if (left > sizeof(n->data))
		left = sizeof(n->data);
	rbuf_bytes(r, n->data, left);
	n->data_len = (uint8_t)left;
	return 0;
}

/* RFC 2918 3 */
void bgp_refresh_encode(struct wbuf *w, uint16_t afi, uint8_t safi)
{
	size_t m = bgp_msg_begin(w, BGP_ROUTE_REFRESH);

	wbuf_u16(w, afi);
	wbuf_u8(w, 0);
	wbuf_u8(w, safi);
	bgp_msg_end(w, m);
}

int bgp_refresh_decode(struct rbuf *r, uint16_t *afi, uint8_t *safi, struct bgp_err *e)
{
	*afi = rbuf_u16(r);
	rbuf_u8(r);
	*safi = rbuf_u8(r);
	if (r->err || rbuf_left(r)) {
		bgp_err_set(e, BGP_ERR_REFRESH, 1, NULL, 0);
		return -1;
	}
	return 0;
}
