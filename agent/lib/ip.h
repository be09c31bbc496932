/* IPv4/IPv6 addresses and prefixes for the agent: parse, format, compare, arithmetic.
 * One representation everywhere: family plus 16 bytes in network order (IPv4 in bytes 0..3),
 * which converts directly to struct elb_ip in the maps. */
#ifndef EDGELB_IP_H
#define EDGELB_IP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <edgelb/abi.h>

struct ip {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t a[16];
};

struct prefix {
	struct ip ip;
	uint8_t len;
};

#define IP_STRLEN 46 /* INET6_ADDRSTRLEN */

int ip_parse(const char *s, struct ip *out);		/* 0 ok, -1 not an address */
int prefix_parse(const char *s, struct prefix *out); /* "a/len"; host bits must be zero */
const char *ip_str(const struct ip *ip, char buf[IP_STRLEN]);
int ip_cmp(const struct ip *a, const struct ip *b); /* family first, then bytes */
bool ip_eq(const struct ip *a, const struct ip *b);
int ip_bits(const struct ip *ip); /* 32 or 128 */
bool ip_is_unicast(const struct ip *ip); /* not 0/unspecified, multicast, broadcast, loopback */
bool prefix_contains(const struct prefix *p, const struct ip *ip);
/* Orders by address (IPv4 before IPv6), then length. */
int prefix_cmp(const struct prefix *a, const struct prefix *b);
/* ip += n (n may be negative); returns -1 on wrap past the family's range. */
int ip_add(struct ip *ip, int64_t n);
/* a - b as an unsigned 128-bit count clamped to UINT64_MAX. Same family required. */
uint64_t ip_diff(const struct ip *a, const struct ip *b);
void ip_to_elb(const struct ip *ip, struct elb_ip *out);
void ip_from_elb(uint8_t family, const struct elb_ip *in, struct ip *out);
int ip_to_sockaddr(const struct ip *ip, uint16_t port, struct sockaddr_storage *ss);
int ip_from_sockaddr(const struct sockaddr *sa, struct ip *ip, uint16_t *port);

#endif
