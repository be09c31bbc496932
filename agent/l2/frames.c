/* Gratuitous ARP and unsolicited NA frame builders; see frames.h. */
#include <string.h>

#include "lib/csum.h"
#include "l2/frames.h"
#include "lib/buf.h"

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ZERO6[6];

size_t l2_frame_garp(uint8_t *out, size_t cap, const uint8_t mac[6], const struct ip *vip,
		     bool reply)
{
	struct wbuf w = wbuf_make(out, cap);

	if (vip->family != AF_INET)
		return 0;
	wbuf_bytes(&w, BCAST, 6);
	wbuf_bytes(&w, mac, 6);
	wbuf_u16(&w, 0x0806);
	/* RFC 826 fields; RFC 5227 3: sender and target protocol address both the VIP */
	wbuf_u16(&w, 1);      /* Ethernet */
	wbuf_u16(&w, 0x0800); /* IPv4 */
	wbuf_u8(&w, 6);
	wbuf_u8(&w, 4);
	wbuf_u16(&w, reply ? 2 : 1);
	wbuf_bytes(&w, mac, 6);
	wbuf_bytes(&w, vip->a, 4);
	wbuf_bytes(&w, reply ? BCAST : ZERO6, 6);
	wbuf_bytes(&w, vip->a, 4);
	wbuf_zero(&w, 60 - w.len); /* minimum Ethernet frame without FCS */
	return w.err ? 0 : w.len;
}

size_t l2_frame_unsol_na(uint8_t *out, size_t cap, const uint8_t mac[6], const struct ip *vip)
{
	static const uint8_t allnodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	static const uint8_t allnodes[16] = {0xff, 0x02, [15] = 1};
	struct wbuf w = wbuf_make(out, cap);
	size_t msg;
	uint32_t s;

	if (vip->family != AF_INET6)
		return 0;
	wbuf_bytes(&w, allnodes_mac, 6);
	wbuf_bytes(&w, mac, 6);
	wbuf_u16(&w, 0x86dd);
	wbuf_u32(&w, 0x60000000);
	wbuf_u16(&w, 32); /* NA + one 8-octet option */
	wbuf_u8(&w, 58);
	wbuf_u8(&w, 255); /* RFC 4861 7.1.2: hop limit 255 */
	wbuf_bytes(&w, vip->a, 16);
	wbuf_bytes(&w, allnodes, 16);
	msg = w.len;
	/* RFC 4861 7.2.6: unsolicited, to all-nodes, S=0, O=1, target link-layer address */
	wbuf_u8(&w, 136);
	wbuf_u8(&w, 0);
	wbuf_u16(&w, 0);
	wbuf_u32(&w, 0x20000000);
	wbuf_bytes(&w, vip->a, 16);
	wbuf_u8(&w, 2);
	wbuf_u8(&w, 1);
	wbuf_bytes(&w, mac, 6);
	if (w.err)
		return 0;
	/* RFC 4443 2.3 over the RFC 8200 8.1 pseudo-header */
	s = csum_add(out + 22, 32, 32 + 58);
	s = csum_add(out + msg, 32, s);
	wbuf_put_u16_at(&w, msg + 2, csum_fold(s));
	return w.err ? 0 : w.len;
}
