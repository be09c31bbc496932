/* Maglev consistent hashing (Eisenbud et al., NSDI 2016, section 3.4): the lookup table of a
 * service, built from each backend's stable key (address and port) so every node computes the
 * same table for the same backend set, whatever the configuration order or the backend ids.
 * Weights give proportional shares; weight 0 takes no entries (drained). Pure computation. */
#ifndef EDGELB_MAGLEV_H
#define EDGELB_MAGLEV_H

#include <stdint.h>

#include "lib/ip.h"

struct maglev_backend {
	struct ip addr;
	uint16_t port;
	uint16_t weight; /* 0 = no new flows */
	uint32_t id;	 /* written into the table */
};

/* Fills table[size] (size prime, > the number of backends) with backend ids. Returns the number
 * of backends placed, 0 when none has a weight (table zeroed), -1 on bad arguments. */
int maglev_build(const struct maglev_backend *be, int n, uint32_t *table, uint32_t size);

/* The stable key hash (64-bit, seeded) both permutation parameters come from; exported for
 * the unit test. */
uint64_t maglev_key_hash(const struct ip *addr, uint16_t port, uint64_t seed);

#endif
