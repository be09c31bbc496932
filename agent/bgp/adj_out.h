/* The speaker's adj-RIB-out of one session: per prefix the attribute set the agent wants
 * announced and the one the peer holds (RFC 4271 3.2), in one array sorted by prefix. About
 * 22 bytes a prefix: the speaker process stays small with 100,000 service IPs. */
#ifndef EDGELB_BGP_ADJ_OUT_H
#define EDGELB_BGP_ADJ_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/ipc.h"

struct adj_route {
	struct prefix pfx;
	uint16_t want, sent; /* attribute set ids; 0 = none */
};
_Static_assert(sizeof(struct adj_route) == 22, "adj_route: 22 bytes a prefix");

struct adj_out {
	struct adj_route *r;
	size_t n, cap;
	struct bgp_attrs *attrs; /* id k is attrs[k - 1] */
	size_t n_attrs;
};

/* Attribute set `id` (1..65535); ids are never reused for other contents. */
void adj_set_attrs(struct adj_out *o, uint16_t id, const struct bgp_attrs *at);
const struct bgp_attrs *adj_attrs(const struct adj_out *o, uint16_t id);
/* Applies the agent's changes (sorts `in` first); an id of 0 no longer wants the prefix. */
void adj_merge(struct adj_out *o, struct bgp_ipc_route *in, size_t n);
/* The peer holds nothing of family fam (0 = both): the session went down. For a route refresh
 * (keep_withdrawals) prefixes no longer wanted stay held, so their withdrawal still goes out. */
void adj_unsend(struct adj_out *o, int fam, bool keep_withdrawals);
/* After a flush: the peer holds what is wanted; prefixes wanted by nobody are dropped. */
void adj_sent_all(struct adj_out *o);
void adj_free(struct adj_out *o);

#endif
