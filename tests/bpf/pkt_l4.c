/* Packet builder and checksum checker for the load-balancer tests; see pkt_l4.h. Frames are
 * written through the bounded writer (agent/lib/buf.h), checksums patched after. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "bpf/pkt_l4.h"

uint32_t l4_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t l4_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t pseudo(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		       uint32_t len)
{
	int al = family == AF_INET ? 4 : 16;
	uint32_t s = l4_sum(src, al, 0);

	s = l4_sum(dst, al, s);
	return s + proto + (len >> 16) + (len & 0xffff);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

size_t l4_build(const struct l4_spec *s, uint8_t *out, size_t cap)
{
	struct wbuf w = wbuf_make(out, cap);
	int v4 = s->src.family == AF_INET;
	size_t l3, l4, hl;
	uint8_t proto = s->proto;
	size_t l4len;

	if (!s->no_eth) {
		wbuf_bytes(&w, s->dmac, 6);
		wbuf_bytes(&w, s->smac, 6);
		if (s->vlan) {
			wbuf_u16(&w, 0x8100);
			wbuf_u16(&w, s->vlan);
		}
		wbuf_u16(&w, v4 ? 0x0800 : 0x86dd);
	}
	l3 = w.len;
	switch (proto) {
	case IPPROTO_TCP:
		l4len = 20;
		break;
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4len = 8;
		break;
	default:
		l4len = 0;
	}
	l4len += s->plen;
	if (v4) {
		hl = 20 + s->ip_opts;
		wbuf_u8(&w, 0x40 | (uint8_t)(hl / 4));
		wbuf_u8(&w, 0);
		wbuf_u16(&w, (uint16_t)(hl + l4len));
		wbuf_u16(&w, 0x1234);
		wbuf_u16(&w, s->frag ? 0x2000 : 0x4000); /* MF, or DF */
		wbuf_u8(&w, s->ttl ? s->ttl : 64);
		wbuf_u8(&w, proto);
		wbuf_u16(&w, 0);
		wbuf_bytes(&w, s->src.a, 4);
		wbuf_bytes(&w, s->dst.a, 4);
		for (int i = 0; i < s->ip_opts; i++)
			wbuf_u8(&w, 1); /* NOP */
	} else {
		int ext = s->ext_hdrs + (s->frag ? 1 : 0);

		wbuf_u32(&w, 0x60000000);
		wbuf_u16(&w, (uint16_t)(ext * 8 + l4len));
		wbuf_u8(&w, s->ext_hdrs > 0 ? IPPROTO_HOPOPTS : s->frag ? IPPROTO_FRAGMENT : proto);
		wbuf_u8(&w, s->ttl ? s->ttl : 64);
		wbuf_bytes(&w, s->src.a, 16);
		wbuf_bytes(&w, s->dst.a, 16);
		for (int i = 0; i < s->ext_hdrs; i++) {
			uint8_t next = i + 1 < s->ext_hdrs ? IPPROTO_DSTOPTS
				       : s->frag	    ? IPPROTO_FRAGMENT
							    : proto;
			/* 8 bytes: next, length 0, PadN option with 4 bytes of padding */
			wbuf_u8(&w, next);
			wbuf_u8(&w, 0);
			wbuf_u8(&w, 1);
			wbuf_u8(&w, 4);
			wbuf_u32(&w, 0);
		}
		if (s->frag) { /* RFC 8200 4.5: offset 0, M = 1 */
			wbuf_u8(&w, proto);
			wbuf_u8(&w, 0);
			wbuf_u16(&w, 1);
			wbuf_u32(&w, 0xabcd);
		}
	}
	l4 = w.len;
	switch (proto) {
	case IPPROTO_TCP:
		wbuf_u16(&w, s->sport);
		wbuf_u16(&w, s->dport);
		wbuf_u32(&w, 1000);
		wbuf_u32(&w, (s->tcp_flags & L4_TCP_ACK) ? 2000 : 0);
		wbuf_u8(&w, 5 << 4);
		wbuf_u8(&w, s->tcp_flags);
		wbuf_u16(&w, 65535);
		wbuf_u16(&w, 0);
		wbuf_u16(&w, 0);
		break;
	case IPPROTO_UDP:
		wbuf_u16(&w, s->sport);
		wbuf_u16(&w, s->dport);
		wbuf_u16(&w, (uint16_t)l4len);
		wbuf_u16(&w, 0);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		wbuf_u8(&w, s->icmp_type);
		wbuf_u8(&w, s->icmp_code);
		wbuf_u16(&w, 0);
		wbuf_u32(&w, s->icmp_rest);
		break;
	}
	wbuf_bytes(&w, s->payload, s->plen);
	if (w.err)
		return 0;
	if (v4)
		put16(out + l3 + 10, (uint16_t)~l4_fold(l4_sum(out + l3, hl, 0)));
	{
		uint32_t sum = l4_sum(out + l4, l4len, 0);
		int csum_at = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
		uint16_t c;

		if (proto != IPPROTO_ICMP)
			sum += pseudo(s->src.family, s->src.a, s->dst.a, proto, (uint32_t)l4len);
		c = (uint16_t)~l4_fold(sum);
		if (proto == IPPROTO_UDP && c == 0)
			c = 0xffff;
		c = (uint16_t)(c + s->bad_csum);
		if (l4len >= (size_t)csum_at + 2 && proto)
			put16(out + l4 + csum_at, c);
	}
	return w.len;
}

int l4_verify(const uint8_t *f, size_t len, uint16_t *l4_res, char *why, size_t whylen)
{
	struct rbuf r = rbuf_make(f, len);
	uint16_t et;
	const uint8_t *ip;
	uint8_t proto;
	size_t l4off, l4len;
	int family;
	uint32_t sum;

	rbuf_skip(&r, 12);
	et = rbuf_u16(&r);
	if (et == 0x8100 || et == 0x88a8) {
		rbuf_skip(&r, 2);
		et = rbuf_u16(&r);
	}
	ip = f + r.off;
	if (et == 0x0800) {
		size_t hl = (size_t)(ip[0] & 0xf) * 4, tot;

		family = AF_INET;
		if (r.err || r.off + hl > len) {
			snprintf(why, whylen, "short IPv4");
			return 0;
		}
		tot = (size_t)(ip[2] << 8 | ip[3]);
		if (l4_fold(l4_sum(ip, hl, 0)) != 0xffff) {
			snprintf(why, whylen, "IPv4 header checksum wrong");
			return 0;
		}
		proto = ip[9];
		l4off = r.off + hl;
		l4len = tot - hl;
	} else if (et == 0x86dd) {
		uint8_t nh = ip[6];

		family = AF_INET6;
		l4off = r.off + 40;
		l4len = (size_t)(ip[4] << 8 | ip[5]);
		while (nh == IPPROTO_HOPOPTS || nh == IPPROTO_DSTOPTS || nh == IPPROTO_ROUTING ||
		       nh == IPPROTO_FRAGMENT) {
			size_t el = nh == IPPROTO_FRAGMENT ? 8 : (size_t)(f[l4off + 1] + 1) * 8;

			nh = f[l4off];
			l4off += el;
			l4len -= el;
		}
		proto = nh;
	} else {
		snprintf(why, whylen, "not IP");
		return 0;
	}
	if (l4off + l4len > len) {
		snprintf(why, whylen, "L4 longer than the frame");
		return 0;
	}
	sum = l4_sum(f + l4off, l4len, 0);
	if (proto != IPPROTO_ICMP)
		sum += pseudo(family, family == AF_INET ? ip + 12 : ip + 8,
			      family == AF_INET ? ip + 16 : ip + 24, proto, (uint32_t)l4len);
	*l4_res = l4_fold(sum);
	if (proto == IPPROTO_UDP && family == AF_INET && f[l4off + 6] == 0 && f[l4off + 7] == 0)
		*l4_res = 0xffff; /* no checksum */
	if (*l4_res != 0xffff) {
		snprintf(why, whylen, "L4 (proto %u) checksum wrong: residual 0x%04x", proto,
			 *l4_res);
		return 0;
	}
	return 1;
}
