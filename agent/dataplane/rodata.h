/* Load-time constants of BPF objects: the .rodata variables a loader sets between open and
 * load (the verifier then prunes on their values). */
#ifndef EDGELB_DP_RODATA_H
#define EDGELB_DP_RODATA_H

#include <stdint.h>

struct bpf_object;

/* Sets the 32-bit .rodata variable name of an opened, not yet loaded object to v: 0, or -1
 * when the object has no such variable. */
int dp_rodata_u32(struct bpf_object *obj, const char *name, uint32_t v);

#endif
