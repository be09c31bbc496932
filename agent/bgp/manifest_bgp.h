/* apply -f rows for MetalLB's BGP kinds (metallb.io): BGPPeer (v1beta1, v1beta2) → an edgelb
 * peer, BFDProfile and Secret → the BFD timers and password of the peers naming them
 * (manifest_refs.c), Community → aliases,
 * BGPAdvertisement → the per-pool advertisement of the pools it names. Peers are added as
 * they are read; profiles and advertisements are resolved by bgp_manifest_finish once every
 * document is read (pools, peers, profiles and aliases may come later in the file). The rows only build objects; alloc/manifest.c validates and commits them. */
#ifndef EDGELB_BGP_MANIFEST_BGP_H
#define EDGELB_BGP_MANIFEST_BGP_H

#include <stddef.h>

struct manifest;
struct json_object;

/* The annotation naming the switch a BGPPeer belongs to. */
#define BGP_MANIFEST_SWITCH_ANN "edgelb.io/switch"

int bgp_manifest_peer(struct manifest *m, struct json_object *doc, const char *what, char *msg,
		      size_t len);
int bgp_manifest_advertisement(struct manifest *m, struct json_object *doc, const char *what,
			       char *msg, size_t len);
int bgp_manifest_community(struct manifest *m, struct json_object *doc, const char *what, char *msg,
			   size_t len);
/* manifest_refs.c: what a BGPPeer names instead of carrying (spec.bfdProfile,
 * spec.passwordSecret). */
int bgp_manifest_bfdprofile(struct manifest *m, struct json_object *doc, const char *what,
			    char *msg, size_t len);
int bgp_manifest_secret(struct manifest *m, struct json_object *doc, const char *what, char *msg,
			size_t len);
/* Checks a BGPPeer document's references and remembers them for the peer (its store key).
 * 0, or -1 with msg. */
int bgp_manifest_peer_refs(struct manifest *m, struct json_object *doc, const char *peer,
			   const char *what, char *msg, size_t len);
/* Copies each referenced object's values into its peer; -1 with msg when one is missing. */
int bgp_manifest_resolve_refs(struct manifest *m, char *msg, size_t len);
/* Gives the BGPPeers naming a BFDProfile its timers, and resolves the BGPAdvertisements read
 * so far into their pools. 0, or -1 with msg. */
int bgp_manifest_finish(struct manifest *m, char *msg, size_t len);

/* The pools a BGPAdvertisement or L2Advertisement selects (MetalLB: spec.ipAddressPools, or
 * every pool when it and spec.ipAddressPoolSelectors are empty), appended to out as names.
 * Each must be a pool of this apply or an existing one. 0, or -1 with msg. */
int bgp_manifest_pools(struct manifest *m, struct json_object *spec, const char *what,
		       struct json_object *out, char *msg, size_t len);

/* Go's time.ParseDuration ("90s", "1m30s", "1.5m", "0") as whole seconds, at most max.
 * 0, or -1 when s is not a duration, not whole seconds, negative or above max. */
int bgp_manifest_duration(const char *s, unsigned long max, unsigned long *out);

#endif
