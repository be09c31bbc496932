/* BGP: one session per configured peer (RFC 4271 FSM), announcing the service IPs of the
 * peer's switch with the node as next hop. The sessions run in a speaker process (edgelb-bgp)
 * that bgp_new() starts; bgp_reconcile() adds/removes sessions and routes to match the
 * desired state. */
#ifndef EDGELB_BGP_H
#define EDGELB_BGP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/ip.h"

struct agent;
struct bgp;
struct bgp_peer_view;
struct bfd_sess;

struct bgp *bgp_new(struct agent *a, char *err, size_t errlen);
void bgp_free(struct bgp *b);
int bgp_reconcile(struct bgp *b, struct agent *a);
/* True when the switch's routes are announced to at least one Established peer: only then may
 * layer-2 answers stop (the layer-2 ⇄ BGP switch must not drop traffic). */
bool bgp_switch_announced(struct bgp *b, const char *sw);

/* Sessions as the speaker last reported them (ipc.h has the fields), for the control commands
 * and metrics; bgp_sync() first brings every report up to date (waits for the speaker). */
void bgp_sync(struct bgp *b);
typedef void (*bgp_peer_iter_fn)(struct bgp_peer_view *p, void *arg);
void bgp_foreach_peer(struct bgp *b, bgp_peer_iter_fn fn, void *arg);
struct bgp_peer_view *bgp_find_peer(struct bgp *b, const struct ip *addr, const char *sw);
/* The peer's BFD session (bfd/bfd.h), NULL when BFD is off. */
struct bfd_sess *bgp_peer_bfd(const struct bgp_peer_view *p);
/* The BFD sockets and sessions (bfd/bfd.h), NULL until a peer enables BFD. */
struct bfd *bgp_bfd(const struct bgp *b);

#endif
