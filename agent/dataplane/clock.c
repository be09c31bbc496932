/* The conntrack clock (contract in clock.h). */
#include "dataplane/clock.h"
#include "dataplane/rodata.h"

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
	return dp_rodata_u32(obj, "elb_tick_ns", dp_tick_ns());
}

uint64_t dp_clock_ns(void)
{
	struct timespec ts;

	if (dp_tick_ns()) /* times(2) with NULL cannot fail: jiffies in USER_HZ units */
		return (uint64_t)times(NULL) * (NS_PER_S / (uint64_t)sysconf(_SC_CLK_TCK));
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}
