/* Address helpers; see ip.h. Parsing goes through inet_pton only. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ip.h"

int ip_parse(const char *s, struct ip *out)
{
	memset(out, 0, sizeof(*out));
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, out->a) != 1)
			return -1;
		out->family = AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, s, out->a) != 1)
		return -1;
	out->family = AF_INET;
	return 0;
}

int ip_bits(const struct ip *ip)
{
	return ip->family == AF_INET ? 32 : 128;
}

int prefix_parse(const char *s, struct prefix *out)
{
	char tmp[IP_STRLEN + 8], *slash, *end;
	long len;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	strcpy(tmp, s);
	slash = strchr(tmp, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if (ip_parse(tmp, &out->ip) < 0)
		return -1;
	if (!slash[1])
		return -1;
	len = strtol(slash + 1, &end, 10);
	if (*end || len < 0 || len > ip_bits(&out->ip))
		return -1;
	out->len = (uint8_t)len;
	/* host bits must be zero: "10.0.0.1/24" is almost always a typo */
	for (int b = out->len; b < ip_bits(&out->ip); b++)
		if (out->ip.a[b / 8] & (0x80 >> (b % 8)))
			return -1;
	return 0;
}

const char *ip_str(const struct ip *ip, char buf[IP_STRLEN])
{
	if (!inet_ntop(ip->family == AF_INET ? AF_INET : AF_INET6, ip->a, buf, IP_STRLEN))
		snprintf(buf, IP_STRLEN, "?");
	return buf;
}

int ip_cmp(const struct ip *a, const struct ip *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->a, b->a, a->family == AF_INET ? 4 : 16);
}

bool ip_eq(const struct ip *a, const struct ip *b)
{
	return ip_cmp(a, b) == 0;
}

int prefix_cmp(const struct prefix *a, const struct prefix *b)
{
	int c = ip_cmp(&a->ip, &b->ip);
	return c ? c : (int)a->len - (int)b->len;
}

bool ip_is_unicast(const struct ip *ip)
{
	static const uint8_t zero[16];

	if (ip->family == AF_INET) {
		uint32_t v = (uint32_t)ip->a[0] << 24 | ip->a[1] << 16 | ip->a[2] << 8 | ip->a[3];
		return v != 0 && v != 0xffffffff && ip->a[0] != 127 && ip->a[0] < 224;
	}
	if (ip->family != AF_INET6)
		return false;
	if (memcmp(ip->a, zero, 16) == 0 || ip->a[0] == 0xff)
		return false;
	if (memcmp(ip->a, zero, 15) == 0 && ip->a[15] == 1)
		return false; /* ::1 */
	return true;
}

bool prefix_contains(const struct prefix *p, const struct ip *ip)
{
	int full = p->len / 8, rem = p->len % 8;

	if (ip->family != p->ip.family)
		return false;
	if (memcmp(p->ip.a, ip->a, full) != 0)
		return false;
	if (rem && ((p->ip.a[full] ^ ip->a[full]) & (0xff << (8 - rem)) & 0xff))
		return false;
	return true;
}

int ip_add(struct ip *ip, int64_t n)
{
	int nbytes = ip->family == AF_INET ? 4 : 16;
	uint64_t mag = n < 0 ? (uint64_t)(-(n + 1)) + 1 : (uint64_t)n;
	int carry = 0;

	for (int i = nbytes - 1; i >= 0; i--) {
		unsigned d = (unsigned)(mag & 0xff);
		int v;

		mag >>= 8;
		if (n >= 0) {
			v = ip->a[i] + d + carry;
			carry = v > 0xff;
		} else {
			v = ip->a[i] - d - carry;
			carry = v < 0;
		}
		ip->a[i] = (uint8_t)v;
	}
	return carry || mag ? -1 : 0;
}

uint64_t ip_diff(const struct ip *a, const struct ip *b)
{
	int nbytes = a->family == AF_INET ? 4 : 16;
	uint8_t r[16];
	int borrow = 0;

	for (int i = nbytes - 1; i >= 0; i--) {
		int v = a->a[i] - b->a[i] - borrow;
		borrow = v < 0;
		r[i] = (uint8_t)v;
	}
	if (borrow)
		return 0;
	for (int i = 0; i < nbytes - 8; i++)
		if (r[i])
			return UINT64_MAX;
	uint64_t out = 0;
	for (int i = nbytes > 8 ? nbytes - 8 : 0; i < nbytes; i++)
		out = out << 8 | r[i];
	return out;
}

void ip_to_elb(const struct ip *ip, struct elb_ip *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->addr, ip->a, ip->family == AF_INET ? 4 : 16);
}

void ip_from_elb(uint8_t family, const struct elb_ip *in, struct ip *out)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
	memcpy(out->a, in->addr, family == AF_INET ? 4 : 16);
}

int ip_to_sockaddr(const struct ip *ip, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, ip->a, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, ip->a, 16);
	return sizeof(*sin6);
}

int ip_from_sockaddr(const struct sockaddr *sa, struct ip *ip, uint16_t *port)
{
	memset(ip, 0, sizeof(*ip));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		ip->family = AF_INET;
		memcpy(ip->a, &sin->sin_addr, 4);
		if (port)
			*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		/* a v4-mapped peer on a dual-stack socket is an IPv4 peer */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			ip->family = AF_INET;
			memcpy(ip->a, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			ip->family = AF_INET6;
			memcpy(ip->a, &sin6->sin6_addr, 16);
		}
		if (port)
			*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}
