/* The conntrack clock (contract in clock.h). */
#include "dataplane/clock.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define NS_PER_S 1000000000ULL

/* CONFIG_HZ from a kernel config (plain or gzip: gzopen reads both), or 0. */
static unsigned long config_hz(const char *path)
{
	gzFile f = gzopen(path, "r");
	char line[256];
	unsigned long hz = 0;

	if (!f)
		return 0;
	while (gzgets(f, line, sizeof(line)))
		if (!strncmp(line, "CONFIG_HZ=", 10)) {
			hz = strtoul(line + 10, NULL, 10);
			break;
		}
	gzclose(f);
	return hz;
}

uint32_t dp_tick_ns(void)
{
	static int done;
	static uint32_t tick;
	struct utsname u;
	char path[sizeof(u.release) + 16];
	unsigned long hz = 0;

	if (done)
		return tick;
	done = 1;
	if (uname(&u) == 0) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		hz = config_hz(path);
	}
	if (!hz)
		hz = config_hz("/proc/config.gz");
	if (hz >= 24 && hz <= 10000)
		tick = (uint32_t)((NS_PER_S + hz / 2) / hz); /* the kernel's TICK_NSEC */
	return tick;
}

int dp_clock_set(struct bpf_object *obj)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, ".rodata");
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *v;
	const struct btf_type *sec;
	uint32_t tick = dp_tick_ns();
	size_t size = 0;
	const char *data;
	int id, rc = -1;

	if (!m || !btf || (id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC)) < 0)
		return -1;
	sec = btf__type_by_id(btf, (uint32_t)id);
	data = bpf_map__initial_value(m, &size);
	v = btf_var_secinfos(sec);
	for (int i = 0; data && i < btf_vlen(sec); i++, v++) {
		const struct btf_type *var = btf__type_by_id(btf, v->type);

		if (var && !strcmp(btf__name_by_offset(btf, var->name_off), "elb_tick_ns") &&
		    v->size == sizeof(tick) && v->offset + sizeof(tick) <= size) {
			char *copy = malloc(size); /* the initial value is read-only here */

			if (!copy)
				return -1;
			memcpy(copy, data, size);
			memcpy(copy + v->offset, &tick, sizeof(tick));
			rc = bpf_map__set_initial_value(m, copy, size);
			free(copy);
			break;
		}
	}
	return rc;
}

uint64_t dp_clock_ns(void)
{
	struct timespec ts;

	if (dp_tick_ns()) /* times(2) with NULL cannot fail: jiffies in USER_HZ units */
		return (uint64_t)times(NULL) * (NS_PER_S / (uint64_t)sysconf(_SC_CLK_TCK));
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}
