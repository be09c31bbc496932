/* Tiny packet builder for the layer-2 BPF tests: Ethernet (optionally 802.1Q-tagged) ARP
 * frames, IPv6 Neighbor Solicitations/Advertisements, and an ICMPv6 checksum written
 * independently of the BPF code. Builders return the frame length, 0 if it did not fit. */
#ifndef EDGELB_TEST_PKT_L2_H
#define EDGELB_TEST_PKT_L2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pkt_arp {
	uint8_t dst[6], src[6];
	uint16_t vlan; /* 0 = untagged */
	uint16_t htype, ptype, op;
	uint8_t hlen, plen;
	uint8_t sha[6], spa[4], tha[6], tpa[4];
	size_t pad_to; /* pad the frame with zeros up to this length (60 on the wire) */
};
/* An ARP request "who has tpa, tell spa" from sha, broadcast, Ethernet/IPv4. */
struct pkt_arp pkt_arp_request(const uint8_t sha[6], const char *spa, const char *tpa);
size_t pkt_arp_build(const struct pkt_arp *a, uint8_t *out, size_t cap);

struct pkt_nd {
	uint8_t dst[6], src[6];
	uint8_t src_ip[16], dst_ip[16], target[16];
	uint8_t hop_limit;
	uint8_t type; /* 135 NS, 136 NA */
	uint8_t code;
	uint32_t flags;	 /* NA flags word (host order) */
	int opt_type;	 /* 0 = no option, else one link-layer address option of this type */
	uint8_t opt_len; /* in 8-octet units; 1 for a link-layer address */
	uint8_t opt_mac[6];
	int csum_delta; /* added to the correct checksum (0 = correct) */
};
/* An NS for target from src_ip (a link-layer address option with sha unless src is ::),
 * sent to the target's solicited-node group, hop limit 255. */
struct pkt_nd pkt_ns_multicast(const uint8_t sha[6], const char *src_ip, const char *target);
size_t pkt_nd_build(const struct pkt_nd *n, uint8_t *out, size_t cap);

/* One's complement sum over the IPv6 pseudo-header and the ICMPv6 message of an untagged
 * Ethernet+IPv6 frame: 0 when the checksum in the frame is correct. */
uint16_t pkt_icmp6_verify(const uint8_t *frame, size_t len);
/* Text address to 16 (IPv6) or 4 (IPv4) bytes; aborts on a bad literal (a test bug). */
void pkt_ip6(const char *s, uint8_t out[16]);
void pkt_ip4(const char *s, uint8_t out[4]);

#endif
