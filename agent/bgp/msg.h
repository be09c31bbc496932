/* BGP-4 wire format: message header, OPEN (with capabilities), UPDATE, KEEPALIVE,
 * NOTIFICATION and ROUTE-REFRESH, encoded and decoded through the bounded reader/writer.
 * Pure functions over bytes: no sockets, no timers, no peer state (that is fsm.c).
 * Protocol knowledge (codes, names, flags) lives in the tables of msg.c, cap.c and attr.c. */
#ifndef EDGELB_BGP_MSG_H
#define EDGELB_BGP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/ip.h"

/* RFC 4271 4.1 */
#define BGP_MARKER_LEN 16
#define BGP_HDR_LEN    19
#define BGP_MAX_LEN    4096
#define BGP_VERSION    4
#define BGP_PORT       179
#define BGP_AS_TRANS   23456 /* RFC 6793 */

enum bgp_type {
	BGP_OPEN = 1,
	BGP_UPDATE = 2,
	BGP_NOTIFICATION = 3,
	BGP_KEEPALIVE = 4,
	BGP_ROUTE_REFRESH = 5, /* RFC 2918 */
};

/* NOTIFICATION error codes (RFC 4271 4.5) and subcodes. */
enum bgp_err_code {
	BGP_ERR_HEADER = 1,
	BGP_ERR_OPEN = 2,
	BGP_ERR_UPDATE = 3,
	BGP_ERR_HOLD = 4,
	BGP_ERR_FSM = 5,
	BGP_ERR_CEASE = 6,
	BGP_ERR_REFRESH = 7, /* RFC 7313 */
};
enum { BGP_HDR_NOT_SYNC = 1, BGP_HDR_BAD_LEN = 2, BGP_HDR_BAD_TYPE = 3 };
enum {
	BGP_OPEN_BAD_VERSION = 1,
	BGP_OPEN_BAD_AS = 2,
	BGP_OPEN_BAD_ID = 3,
	BGP_OPEN_BAD_OPT = 4,
	BGP_OPEN_BAD_HOLD = 6,
	BGP_OPEN_BAD_CAP = 7, /* RFC 5492 */
};
enum {
	BGP_UPD_MALFORMED_ATTRS = 1,
	BGP_UPD_UNKNOWN_WELLKNOWN = 2,
	BGP_UPD_MISSING_WELLKNOWN = 3,
	BGP_UPD_ATTR_FLAGS = 4,
	BGP_UPD_ATTR_LEN = 5,
	BGP_UPD_BAD_ORIGIN = 6,
	BGP_UPD_BAD_NEXT_HOP = 8,
	BGP_UPD_OPT_ATTR = 9,
	BGP_UPD_BAD_NETWORK = 10,
	BGP_UPD_BAD_AS_PATH = 11,
};
/* RFC 4486 */
enum {
	BGP_CEASE_MAX_PREFIX = 1,
	BGP_CEASE_SHUTDOWN = 2,
	BGP_CEASE_DECONFIGURED = 3,
	BGP_CEASE_RESET = 4,
	BGP_CEASE_REJECTED = 5,
	BGP_CEASE_CONFIG_CHANGE = 6,
	BGP_CEASE_COLLISION = 7,
	BGP_CEASE_RESOURCES = 8,
	BGP_CEASE_BFD_DOWN = 10, /* RFC 9384 */
};

/* Address families (RFC 4760). */
#define BGP_AFI_IPV4  1
#define BGP_AFI_IPV6  2
#define BGP_SAFI_UNICAST 1

/* A protocol fault: what goes into the NOTIFICATION. code 0 = no error. */
struct bgp_err {
	uint8_t code, subcode;
	uint8_t data[64];
	uint8_t data_len;
};
void bgp_err_set(struct bgp_err *e, uint8_t code, uint8_t subcode, const void *data,
		 size_t len);
const char *bgp_err_code_name(uint8_t code);
const char *bgp_err_subcode_name(uint8_t code, uint8_t subcode);
const char *bgp_type_name(uint8_t type);

/* Header: 0 ok, -1 with e filled. body_len = length - 19. */
struct bgp_hdr {
	uint16_t len;
	uint8_t type;
};
int bgp_hdr_decode(struct rbuf *r, struct bgp_hdr *h, struct bgp_err *e);
/* Writes the header with a length placeholder; bgp_msg_end() fills it. */
size_t bgp_msg_begin(struct wbuf *w, uint8_t type);
void bgp_msg_end(struct wbuf *w, size_t mark);

/* Capabilities (cap.c, RFC 5492). */
struct bgp_caps {
	bool mp_seen;		 /* any multiprotocol capability at all */
	bool mp_ipv4, mp_ipv6; /* unicast */
	bool as4;
	uint32_t as4_asn;
	bool route_refresh;
	bool gr;
	uint16_t gr_time;
	uint8_t gr_flags; /* BGP_GR_F_RESTART */
	bool gr_ipv4, gr_ipv6;
	bool gr_fwd; /* Forwarding State (0x80) set for the families listed */
};
#define BGP_GR_F_RESTART 0x8  /* RFC 4724 3: Restart State, in the 4-bit restart flags */
#define BGP_GR_AF_FWD	 0x80 /* RFC 4724 3: Forwarding State, in a family's flags */

/* Writes the capabilities as one optional parameter (type 2) each. */
void bgp_caps_encode(struct wbuf *w, const struct bgp_caps *c);
/* Decodes the capabilities inside one optional parameter of type 2. */
int bgp_caps_decode(struct rbuf *r, struct bgp_caps *c, struct bgp_err *e);
/* What both sides can use: families (implicit IPv4 unicast when a side sent no MP
 * capability, RFC 4760 8), 4-octet AS, route refresh. */
struct bgp_caps bgp_caps_negotiate(const struct bgp_caps *ours, const struct bgp_caps *theirs);
/* "mp-ipv4 mp-ipv6 as4 route-refresh graceful-restart" */
void bgp_caps_str(const struct bgp_caps *c, char *buf, size_t len);

struct bgp_open {
	uint8_t version;
	uint16_t my_as; /* 2-octet field: AS_TRANS when the AS does not fit */
	uint16_t hold_time;
	uint32_t id;
	struct bgp_caps caps;
	uint32_t asn; /* decoded: the 4-octet AS when sent, else my_as */
};
void bgp_open_encode(struct wbuf *w, uint32_t asn, uint16_t hold, uint32_t id,
		     const struct bgp_caps *caps);
/* The body after the header. Checks version, hold time, identifier, optional parameters. */
int bgp_open_decode(struct rbuf *r, struct bgp_open *o, struct bgp_err *e);

void bgp_keepalive_encode(struct wbuf *w);
void bgp_notification_encode(struct wbuf *w, const struct bgp_err *n);
int bgp_notification_decode(struct rbuf *r, struct bgp_err *n, struct bgp_err *e);
void bgp_refresh_encode(struct wbuf *w, uint16_t afi, uint8_t safi);
int bgp_refresh_decode(struct rbuf *r, uint16_t *afi, uint8_t *safi, struct bgp_err *e);

/* Path attributes we send (attr.c). Zero-initialise, then fill: compared with memcmp. */
#define BGP_MAX_COMM 16
struct bgp_attrs {
	bool ebgp;
	bool as4;	 /* 4-octet AS_PATH (negotiated) */
	uint32_t local_as;
	bool has_local_pref;
	uint32_t local_pref;
	uint32_t comm[BGP_MAX_COMM];
	uint8_t n_comm;
	uint32_t large[BGP_MAX_COMM][3];
	uint8_t n_large;
	struct ip nh4;	    /* IPv4 NEXT_HOP */
	struct ip nh6, nh6_ll; /* MP_REACH next hop: global (+ link-local) */
};

/* One UPDATE carrying as many prefixes of one family as fit into max_len (<= 4096) bytes:
 * announcements with attributes (at != NULL) or withdrawals (at == NULL). Returns how many
 * prefixes it packed (0 if none fit; w->err on a too small buffer). */
size_t bgp_update_encode(struct wbuf *w, size_t max_len, const struct bgp_attrs *at, int afi,
			 const struct prefix *pfx, size_t n);
/* End-of-RIB marker (RFC 4724 2). */
void bgp_eor_encode(struct wbuf *w, int afi);

/* Decoding of received UPDATEs (routes are counted and dropped). RFC 7606 outcome:
 * 0 with treat_as_withdraw possibly set, or -1 (session reset) with e filled. */
struct bgp_update_info {
	unsigned withdrawn, nlri;	 /* IPv4 prefixes */
	unsigned mp_reach, mp_unreach; /* prefixes in MP attributes */
	unsigned attrs, discarded;	 /* attributes seen / discarded (RFC 7606 attribute-discard) */
	bool treat_as_withdraw;
	bool eor;
	int eor_afi;
	char why[96]; /* first problem found, for the log */
};
int bgp_update_decode(struct rbuf *r, bool as4, struct bgp_update_info *u, struct bgp_err *e);
const char *bgp_attr_name(uint8_t code);

#endif
