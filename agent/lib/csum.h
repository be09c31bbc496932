/* The Internet checksum (RFC 1071) for frames the agent builds: gratuitous NA, explain's
 * synthetic packets. csum_add sums big-endian 16-bit words (an odd tail byte padded with zero),
 * csum_fold folds and complements. */
#ifndef EDGELB_CSUM_H
#define EDGELB_CSUM_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t csum_add(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static inline uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

#endif
