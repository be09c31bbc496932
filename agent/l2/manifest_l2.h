/* apply -f row for MetalLB's L2Advertisement (metallb.io/v1beta1). edgelb announces a pool in
 * layer 2 on its switch while that switch has no BGP peer; the only part of an L2Advertisement
 * that maps is spec.interfaces, when they are exactly the interfaces of one compute switch:
 * the named pools move to that switch. Resolved once every document is read. */
#ifndef EDGELB_L2_MANIFEST_L2_H
#define EDGELB_L2_MANIFEST_L2_H

#include <stddef.h>

struct manifest;
struct json_object;

int l2_manifest_advertisement(struct manifest *m, struct json_object *doc, const char *what,
			      char *msg, size_t len);
int l2_manifest_finish(struct manifest *m, char *msg, size_t len);

#endif
