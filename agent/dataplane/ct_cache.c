/* The flow caches' sizes and generation (contract in ct_cache.h). */
#include "dataplane/ct_cache.h"
#include "dataplane/rodata.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <edgelb/lb.h>
#include <edgelb/maps.h>

#define MIN_SETS 1024

/* Each cache: its map, its mask constant, the most sets per CPU, and the bound on its slots
 * over all CPUs (twice ELB_MAX_CT_FLOWS IPv4 slots, 16 MiB; ELB_MAX_CT_FLOWS IPv6 slots, as
 * many bytes). */
static const struct {
	const char *map, *mask;
	uint32_t sets;
	uint64_t max_slots;
} caches[] = {
    {ELB_MAP_CT_CACHE, "elb_ct_cache_mask", ELB_CT_CACHE_SETS, 2ULL * ELB_MAX_CT_FLOWS},
    {ELB_MAP_CT_CACHE6, "elb_ct_cache6_mask", ELB_CT_CACHE6_SETS, ELB_MAX_CT_FLOWS},
};

/* Sets per CPU of a cache: halved from the most until the bound on its slots holds or each CPU
 * is down to MIN_SETS. */
static uint32_t sets_per_cpu(uint32_t most, uint64_t max_slots, int ncpu)
{
	uint32_t n = most;

	while (n > MIN_SETS && (uint64_t)n * ELB_CT_CACHE_WAYS * (uint64_t)ncpu > max_slots)
		n /= 2;
	return n;
}

int dp_ct_cache_size(struct bpf_object *obj)
{
	int ncpu = libbpf_num_possible_cpus();

	for (size_t i = 0; i < sizeof(caches) / sizeof(caches[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, caches[i].map);
		uint32_t n;

		if (!m || bpf_map__fd(m) >= 0)
			continue; /* no cache, or one shared with a loaded object (sized there) */
		if (ncpu <= 0)
			return -1;
		n = sets_per_cpu(caches[i].sets, caches[i].max_slots, ncpu);
		if (bpf_map__set_max_entries(m, n * (uint32_t)ncpu) ||
		    dp_rodata_u32(obj, caches[i].mask, n - 1))
			return -1;
	}
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
