/* Packet builder for the layer-2 BPF tests; see pkt_l2.h. Frames are written with the
 * bounded writer of agent/lib/buf.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "bpf/pkt_l2.h"

void pkt_ip6(const char *s, uint8_t out[16])
{
	if (inet_pton(AF_INET6, s, out) != 1) {
		fprintf(stderr, "pkt: bad IPv6 literal %s\n", s);
		abort();
	}
}

void pkt_ip4(const char *s, uint8_t out[4])
{
	if (inet_pton(AF_INET, s, out) != 1) {
		fprintf(stderr, "pkt: bad IPv4 literal %s\n", s);
		abort();
	}
}

static void eth_header(struct wbuf *w, const uint8_t dst[6], const uint8_t src[6], uint16_t vlan,
		       uint16_t proto)
{
	wbuf_bytes(w, dst, 6);
	wbuf_bytes(w, src, 6);
	if (vlan) {
		wbuf_u16(w, 0x8100);
		wbuf_u16(w, vlan);
	}
	wbuf_u16(w, proto);
}

struct pkt_arp pkt_arp_request(const uint8_t sha[6], const char *spa, const char *tpa)
{
	struct pkt_arp a = {.htype = 1, .ptype = 0x0800, .op = 1, .hlen = 6, .plen = 4};

	memset(a.dst, 0xff, 6);
	memcpy(a.src, sha, 6);
	memcpy(a.sha, sha, 6);
	pkt_ip4(spa, a.spa);
	pkt_ip4(tpa, a.tpa);
	return a;
}

size_t pkt_arp_build(const struct pkt_arp *a, uint8_t *out, size_t cap)
{
	struct wbuf w = wbuf_make(out, cap);

	eth_header(&w, a->dst, a->src, a->vlan, 0x0806);
	/* RFC 826 */
	wbuf_u16(&w, a->htype);
	wbuf_u16(&w, a->ptype);
	wbuf_u8(&w, a->hlen);
	wbuf_u8(&w, a->plen);
	wbuf_u16(&w, a->op);
	wbuf_bytes(&w, a->sha, 6);
	wbuf_bytes(&w, a->spa, 4);
	wbuf_bytes(&w, a->tha, 6);
	wbuf_bytes(&w, a->tpa, 4);
	if (a->pad_to > w.len)
		wbuf_zero(&w, a->pad_to - w.len);
	return w.err ? 0 : w.len;
}

struct pkt_nd pkt_ns_multicast(const uint8_t sha[6], const char *src_ip, const char *target)
{
	struct pkt_nd n = {.hop_limit = 255, .type = 135};
	static const uint8_t zero[16];

	memcpy(n.src, sha, 6);
	pkt_ip6(src_ip, n.src_ip);
	pkt_ip6(target, n.target);
	/* RFC 4291 2.7.1: ff02::1:ff00:0/104 + low 24 bits of the target */
	pkt_ip6("ff02::1:ff00:0", n.dst_ip);
	memcpy(n.dst_ip + 13, n.target + 13, 3);
	/* RFC 2464 7: 33:33 + low 32 bits of the group */
	n.dst[0] = n.dst[1] = 0x33;
	memcpy(n.dst + 2, n.dst_ip + 12, 4);
	if (memcmp(n.src_ip, zero, 16) != 0) {
		n.opt_type = 1;
		n.opt_len = 1;
		memcpy(n.opt_mac, sha, 6);
	}
	return n;
}

static uint32_t sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint16_t pkt_icmp6_verify(const uint8_t *f, size_t len)
{
	struct rbuf r = rbuf_make(f, len);
	const uint8_t *ip6, *msg;
	uint16_t plen;
	uint32_t s;

	rbuf_skip(&r, 12);
	if (rbuf_u16(&r) != 0x86dd)
		return 0xffff;
	ip6 = rbuf_ptr(&r, 40);
	if (!ip6)
		return 0xffff;
	plen = (uint16_t)(ip6[4] << 8 | ip6[5]);
	msg = rbuf_ptr(&r, plen);
	if (!msg)
		return 0xffff;
	/* RFC 8200 8.1 pseudo-header: src, dst, upper-layer length, next header */
	s = sum16(ip6 + 8, 32) + plen + ip6[6] + sum16(msg, plen);
	return (uint16_t)~fold(s);
}

size_t pkt_nd_build(const struct pkt_nd *n, uint8_t *out, size_t cap)
{
	struct wbuf w = wbuf_make(out, cap);
	size_t ip6_at, msg_at, plen;
	uint16_t c;

	eth_header(&w, n->dst, n->src, 0, 0x86dd);
	ip6_at = w.len;
	wbuf_u32(&w, 0x60000000);
	wbuf_u16(&w, 0); /* payload length, patched below */
	wbuf_u8(&w, 58);
	wbuf_u8(&w, n->hop_limit);
	wbuf_bytes(&w, n->src_ip, 16);
	wbuf_bytes(&w, n->dst_ip, 16);
	msg_at = w.len;
	/* RFC 4861 4.3 / 4.4 */
	wbuf_u8(&w, n->type);
	wbuf_u8(&w, n->code);
	wbuf_u16(&w, 0);
	wbuf_u32(&w, n->flags);
	wbuf_bytes(&w, n->target, 16);
	if (n->opt_type) {
		wbuf_u8(&w, (uint8_t)n->opt_type);
		wbuf_u8(&w, n->opt_len);
		wbuf_bytes(&w, n->opt_mac, 6);
	}
	if (w.err)
		return 0;
	plen = w.len - msg_at;
	wbuf_put_u16_at(&w, ip6_at + 4, (uint16_t)plen);
	c = pkt_icmp6_verify(out, w.len); /* with a zero checksum field: the checksum itself */
	wbuf_put_u16_at(&w, msg_at + 2, (uint16_t)(c + n->csum_delta));
	return w.err ? 0 : w.len;
}
