/* The flow caches of xdp_ingress (ct_cache_v2 and ct_cache6_v2, contract in
 * include/edgelb/lb.h): their sizes, set by every loader, and the generation that makes every
 * CPU's slots forget their flows. */
#ifndef EDGELB_DP_CT_CACHE_H
#define EDGELB_DP_CT_CACHE_H

#include <stdint.h>

struct bpf_object;

/* Sizes ct_cache_v2 and ct_cache6_v2 of an opened, not yet loaded object: sets per CPU a power
 * of two up to ELB_CT_CACHE_SETS (ELB_CT_CACHE6_SETS), fewer on hosts with many CPUs so all
 * CPUs together hold no more than twice ELB_MAX_CT_FLOWS IPv4 slots (16 MiB) and
 * ELB_MAX_CT_FLOWS IPv6 slots (16 MiB) unless each is down to 1,024 sets. Objects without the
 * maps, or reusing another object's, are left alone. 0, or -1 when sizing failed. */
int dp_ct_cache_size(struct bpf_object *obj);
/* To call after deleting conntrack entries: bumps elb_config.ct_gen in the config map fd, so
 * no cached slot answers for a deleted entry. 0, or -1 with errno. */
int dp_ct_forget(int config_fd);

#endif
