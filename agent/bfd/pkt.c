/* The BFD control packet (RFC 5880 4.1) through the bounded reader/writer, the checks of
 * 6.8.6 that need no session, and the name tables of states, diagnostics and drop reasons.
 * No session state here: session.c and sock.c act on the decoded packet. */
#include "bfd/bfd.h"

static const char *const state_names[] = {
    [BFD_ADMIN_DOWN] = "AdminDown",
    [BFD_DOWN] = "Down",
    [BFD_INIT] = "Init",
    [BFD_UP] = "Up",
};

/* RFC 5880 4.1, Diagnostic (Diag) */
static const char *const diag_names[] = {
    [BFD_DIAG_NONE] = "no diagnostic",
    [BFD_DIAG_DETECT_EXPIRED] = "control detection time expired",
    [BFD_DIAG_ECHO_FAILED] = "echo function failed",
    [BFD_DIAG_NEIGHBOR_DOWN] = "neighbor signaled session down",
    [BFD_DIAG_FWD_RESET] = "forwarding plane reset",
    [BFD_DIAG_PATH_DOWN] = "path down",
    [BFD_DIAG_CONCAT_DOWN] = "concatenated path down",
    [BFD_DIAG_ADMIN_DOWN] = "administratively down",
    [BFD_DIAG_REV_CONCAT_DOWN] = "reverse concatenated path down",
};

static const char *const drop_names[] = {
    [BFD_DROP_VERSION] = "version",
    [BFD_DROP_SHORT] = "short",
    [BFD_DROP_LENGTH] = "length",
    [BFD_DROP_MULT_ZERO] = "detect-mult-zero",
    [BFD_DROP_MULTIPOINT] = "multipoint",
    [BFD_DROP_MY_DISC] = "my-discriminator-zero",
    [BFD_DROP_NO_SESSION] = "no-session",
    [BFD_DROP_YOUR_DISC] = "your-discriminator-zero",
    [BFD_DROP_AUTH] = "authentication",
    [BFD_DROP_TTL] = "ttl",
    [BFD_DROP_UNKNOWN_PEER] = "unknown-peer",
    [BFD_DROP_AUTH_MISSING] = "authentication-missing",
    [BFD_DROP_AUTH_FAILED] = "authentication-failed",
    [BFD_DROP_AUTH_SEQ] = "authentication-sequence",
    [BFD_DROP_ECHO] = "echo",
};
_Static_assert(sizeof(drop_names) / sizeof(drop_names[0]) == BFD_DROP_COUNT,
	       "bfd: a drop reason without a name");

const char *bfd_state_name(enum bfd_state s)
{
	return (unsigned)s < 4 ? state_names[s] : "?";
}

const char *bfd_diag_name(uint8_t d)
{
	return d < sizeof(diag_names) / sizeof(diag_names[0]) ? diag_names[d] : "reserved";
}

const char *bfd_drop_name(enum bfd_drop d)
{
	return (unsigned)d < BFD_DROP_COUNT ? drop_names[d] : "?";
}

static int drop(enum bfd_drop *why, enum bfd_drop d)
{
	*why = d;
	return -1;
}

/*   0                   1                   2                   3
 *  |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
 *  |                       My Discriminator                        |
 *  |                      Your Discriminator                       |
 *  |                    Desired Min TX Interval                    |
 *  |                   Required Min RX Interval                    |
 *  |                 Required Min Echo RX Interval                 |  (RFC 5880 4.1) */
int bfd_pkt_decode(const uint8_t *p, size_t len, struct bfd_pkt *out, enum bfd_drop *why)
{
	struct rbuf r = rbuf_make(p, len);
	struct bfd_pkt k;
	uint8_t b0, b1;

	b0 = rbuf_u8(&r);
	b1 = rbuf_u8(&r);
	k.version = b0 >> 5;
	k.diag = b0 & 0x1f;
	k.state = (enum bfd_state)(b1 >> 6);
	k.flags = b1 & 0x3f;
	k.detect_mult = rbuf_u8(&r);
	k.length = rbuf_u8(&r);
	k.my_disc = rbuf_u32(&r);
	k.your_disc = rbuf_u32(&r);
	k.desired_min_tx = rbuf_u32(&r);
	k.required_min_rx = rbuf_u32(&r);
	k.required_min_echo_rx = rbuf_u32(&r);
	if (len >= 1 && k.version != BFD_VERSION)
		return drop(why, BFD_DROP_VERSION); /* 6.8.6: version */
	if (r.err)
		return drop(why, BFD_DROP_SHORT); /* not even the mandatory section */
	if (k.length < ((k.flags & BFD_F_AUTH) ? 26 : BFD_PKT_LEN))
		return drop(why, BFD_DROP_SHORT); /* 6.8.6: Length below the minimum */
	if (k.length > len)
		return drop(why, BFD_DROP_LENGTH); /* 6.8.6: beyond the UDP payload */
	if (!k.detect_mult)
		return drop(why, BFD_DROP_MULT_ZERO);
	if (k.flags & BFD_F_MULTI)
		return drop(why, BFD_DROP_MULTIPOINT);
	if (!k.my_disc)
		return drop(why, BFD_DROP_MY_DISC);
	/* 6.8.6: Your Discriminator zero is only valid in Down and AdminDown */
	if (!k.your_disc && k.state != BFD_DOWN && k.state != BFD_ADMIN_DOWN)
		return drop(why, BFD_DROP_YOUR_DISC);
	*out = k; /* the A bit is the session's to judge (bfd_auth_check) */
	return 0;
}

void bfd_pkt_encode(struct wbuf *w, const struct bfd_pkt *k)
{
	wbuf_u8(w, (uint8_t)(BFD_VERSION << 5 | (k->diag & 0x1f)));
	wbuf_u8(w, (uint8_t)((unsigned)k->state << 6 | (k->flags & 0x3f)));
	wbuf_u8(w, k->detect_mult);
	wbuf_u8(w, k->length);
	wbuf_u32(w, k->my_disc);
	wbuf_u32(w, k->your_disc);
	wbuf_u32(w, k->desired_min_tx);
	wbuf_u32(w, k->required_min_rx);
	wbuf_u32(w, k->required_min_echo_rx);
}
