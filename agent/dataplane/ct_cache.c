/* The flow cache's size and generation (contract in ct_cache.h). */
#include "dataplane/ct_cache.h"
#include "dataplane/rodata.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <edgelb/lb.h>
#include <edgelb/maps.h>

#define MIN_SETS  1024
#define MAX_SLOTS (2ULL * ELB_MAX_CT_FLOWS) /* 32 MiB of 64-byte slots */

int dp_ct_cache_size(struct bpf_object *obj)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, ELB_MAP_CT_CACHE);
	int ncpu = libbpf_num_possible_cpus();
	uint32_t n = ELB_CT_CACHE_SETS;

	if (!m || bpf_map__fd(m) >= 0)
		return 0; /* no cache, or one shared with a loaded object (sized there) */
	if (ncpu <= 0)
		return -1;
	while (n > MIN_SETS && (uint64_t)n * ELB_CT_CACHE_WAYS * (uint64_t)ncpu > MAX_SLOTS)
		n /= 2;
	if (bpf_map__set_max_entries(m, n * (uint32_t)ncpu) ||
	    dp_rodata_u32(obj, "elb_ct_cache_mask", n - 1))
		return -1;
	return 0;
}

int dp_ct_forget(int config_fd)
{
	struct elb_config c;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(config_fd, &zero, &c))
		return -1;
	c.ct_gen++;
	return bpf_map_update_elem(config_fd, &zero, &c, BPF_ANY);
}
