/* Packet builder for the load-balancer tests: Ethernet (+ one VLAN tag), IPv4 (+ options) or
 * IPv6 (+ extension headers, fragment header), TCP/UDP/ICMP/ICMPv6, every checksum computed in
 * full. And an independent checker that recomputes every checksum of a frame from scratch. */
#ifndef EDGELB_L4_PKT_H
#define EDGELB_L4_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/ip.h"

struct l4_spec {
	int no_eth;   /* build the IP packet only (quoted headers in ICMP errors) */
	uint16_t vlan; /* 802.1Q VLAN id; 0 = untagged */
	uint8_t dmac[6], smac[6];
	struct ip src, dst; /* family decides IPv4/IPv6 */
	uint8_t ttl;	    /* 0 = 64 */
	int ip_opts;	    /* IPv4 option bytes (NOPs), multiple of 4, <= 40 */
	int ext_hdrs;	    /* IPv6: hop-by-hop then destination options headers */
	int frag;	    /* IPv4 MF / IPv6 fragment header with M set */
	uint8_t proto;	    /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint32_t icmp_rest; /* the 4 bytes after the checksum (MTU, pointer, id/seq) */
	const uint8_t *payload; /* L4 payload (for ICMP errors: the quoted packet) */
	size_t plen;
	int bad_csum; /* add this to the L4 checksum after computing it */
};

#define L4_TCP_FIN 0x01
#define L4_TCP_SYN 0x02
#define L4_TCP_RST 0x04
#define L4_TCP_ACK 0x10

/* Bytes written, or 0 if cap was too small. */
size_t l4_build(const struct l4_spec *s, uint8_t *out, size_t cap);

/* Recomputes the IPv4 header checksum and the L4 checksum (TCP/UDP/ICMP/ICMPv6, pseudo-header
 * included) of a whole frame. Returns 1 when all are right; otherwise 0 and why. *l4_res gets
 * the folded L4 sum (0xffff/0 when right), so a bad checksum can be compared before/after. */
int l4_verify(const uint8_t *f, size_t len, uint16_t *l4_res, char *why, size_t whylen);

/* Ones' complement sum of bytes (RFC 1071), not folded/inverted. */
uint32_t l4_sum(const uint8_t *p, size_t len, uint32_t sum);
uint16_t l4_fold(uint32_t sum);

#endif
