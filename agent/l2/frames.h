/* Frames the announcer sends itself: gratuitous ARP (RFC 5227 3 announcement, request form,
 * and the reply form older stacks expect) and unsolicited Neighbor Advertisements
 * (RFC 4861 7.2.6). Pure builders over a bounded writer: unit-tested byte by byte. */
#ifndef EDGELB_L2_FRAMES_H
#define EDGELB_L2_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ip.h"

#define L2_FRAME_MAX 128

/* Both return the frame length (Ethernet header included), 0 if vip has the wrong family. */
size_t l2_frame_garp(uint8_t *out, size_t cap, const uint8_t mac[6], const struct ip *vip,
		     bool reply);
size_t l2_frame_unsol_na(uint8_t *out, size_t cap, const uint8_t mac[6], const struct ip *vip);

#endif
