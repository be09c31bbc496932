/* Helpers for the unit tests of wire formats (BGP, BFD): exact byte comparison with a hex dump
 * of both sides on mismatch, and saving test vectors as fuzz seeds when EDGELB_CORPUS names a
 * directory (tests/fuzz/corpus/<target>/ is filled that way). Header-only. */
#ifndef EDGELB_TEST_WIRE_H
#define EDGELB_TEST_WIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wire_seed_n;

/* Writes p as $EDGELB_CORPUS/<prefix>-NNN; nothing without EDGELB_CORPUS. */
static inline void wire_seed(const char *prefix, const uint8_t *p, size_t n)
{
	const char *dir = getenv("EDGELB_CORPUS");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s-%03d", dir, prefix, wire_seed_n++);
	f = fopen(path, "w");
	if (f) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

/* True when got equals want; otherwise prints both in hex. */
static inline bool hexeq(const uint8_t *got, size_t gn, const uint8_t *want, size_t wn)
{
	if (gn == wn && !memcmp(got, want, wn))
		return true;
	printf("  got  (%zu):", gn);
	for (size_t i = 0; i < gn; i++)
		printf(" %02x", got[i]);
	printf("\n  want (%zu):", wn);
	for (size_t i = 0; i < wn; i++)
		printf(" %02x", want[i]);
	printf("\n");
	return false;
}

#endif
