/* Unit: the announcer's gratuitous ARP (request and reply forms) and unsolicited NA frames,
 * byte by byte, with the NA checksum verified by an independent sum. */
#include <string.h>

#include "l2/frames.h"
#include "t.h"

static const uint8_t MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xaa};

static int residue(const uint8_t *f, size_t len)
{
	uint32_t s = 0;
	size_t plen = (size_t)(f[18] << 8 | f[19]);

	if (len < 54 + plen)
		return -1;
	for (size_t i = 22; i < 54; i += 2) /* src and dst addresses */
		s += (uint32_t)(f[i] << 8 | f[i + 1]);
	s += (uint32_t)plen + f[20];
	for (size_t i = 54; i < 54 + plen; i += 2)
		s += (uint32_t)(f[i] << 8 | f[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (int)(~s & 0xffff);
}

int main(void)
{
	static const uint8_t want_req[42] = {
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0,    0,	  0, 0,	  0xaa, 0x08, 0x06,
	    0x00, 0x01, 0x08, 0x00, 6,	  4,	0x00, 0x01, 0x02, 0, 0,	  0,	0,    0xaa,
	    192,  0,	2,    10,   0,	  0,	0,    0,    0,	  0, 192, 0,	2,    10,
	};
	static const uint8_t want_na_head[] = {
	    0x33, 0x33, 0,    0,    0, 1, 0x02, 0, 0,  0,  0,
	    0xaa, 0x86, 0xdd, 0x60, 0, 0, 0,	0, 32, 58, 255,
	};
	static const uint8_t zero[64];
	struct ip v4, v6;
	uint8_t f[L2_FRAME_MAX];
	size_t n;

	ip_parse("192.0.2.10", &v4);
	ip_parse("2001:db8::10", &v6);

	n = l2_frame_garp(f, sizeof(f), MAC, &v4, false);
	T_BEGIN("l2 frames: gratuitous ARP request (RFC 5227 announcement)");
	T_EXPECT(n == 60, "length: got %zu want 60 (padded)", n);
	T_EXPECT(memcmp(f, want_req, 42) == 0, "header and ARP fields");
	T_EXPECT(memcmp(f + 42, zero, 18) == 0, "zero padding");
	T_END();

	n = l2_frame_garp(f, sizeof(f), MAC, &v4, true);
	T_BEGIN("l2 frames: gratuitous ARP reply form");
	T_EXPECT(n == 60, "length %zu", n);
	T_EXPECT(f[21] == 2, "opcode reply");
	T_EXPECT(memcmp(f + 32, "\xff\xff\xff\xff\xff\xff", 6) == 0, "target hw broadcast");
	T_EXPECT(memcmp(f + 28, f + 38, 4) == 0, "sender IP == target IP");
	T_END();

	n = l2_frame_unsol_na(f, sizeof(f), MAC, &v6);
	T_BEGIN("l2 frames: unsolicited NA to all-nodes, O set, S clear, TLLA");
	T_EXPECT(n == 86, "length: got %zu want 86", n);
	T_EXPECT(memcmp(f, want_na_head, sizeof(want_na_head)) == 0, "Ethernet and IPv6 head");
	T_EXPECT(memcmp(f + 22, v6.a, 16) == 0, "source is the VIP");
	T_EXPECT(f[38] == 0xff && f[39] == 0x02 && f[53] == 1, "destination ff02::1");
	T_EXPECT(f[54] == 136 && f[55] == 0, "type 136 code 0");
	T_EXPECT(f[58] == 0x20 && f[59] == 0 && f[60] == 0 && f[61] == 0, "flags O only");
	T_EXPECT(memcmp(f + 62, v6.a, 16) == 0, "target is the VIP");
	T_EXPECT(f[78] == 2 && f[79] == 1 && memcmp(f + 80, MAC, 6) == 0, "TLLA option");
	T_EXPECT(residue(f, n) == 0, "checksum residue: got 0x%04x want 0", residue(f, n));
	T_END();

	T_CASE(l2_frame_garp(f, sizeof(f), MAC, &v6, false) == 0, "l2 frames: ARP refuses IPv6");
	T_CASE(l2_frame_unsol_na(f, sizeof(f), MAC, &v4) == 0, "l2 frames: NA refuses IPv4");
	T_CASE(l2_frame_garp(f, 30, MAC, &v4, false) == 0, "l2 frames: short buffer refused");
	return t_exit();
}
