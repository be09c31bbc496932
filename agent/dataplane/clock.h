/* The conntrack clock shared by the programs and the agent. The programs stamp entries with
 * jiffies × TICK_NSEC (bpf_jiffies64, which the verifier inlines into one load: about 10 ns a
 * packet cheaper than bpf_ktime_get_coarse_ns) once the loader has told them TICK_NSEC through
 * the .rodata constant elb_tick_ns; with 0 (the kernel's HZ unknown) they use
 * bpf_ktime_get_coarse_ns. dp_clock_ns() reads the same clock from userspace. */
#ifndef EDGELB_DP_CLOCK_H
#define EDGELB_DP_CLOCK_H

#include <stdint.h>

struct bpf_object;

/* TICK_NSEC of the running kernel, from CONFIG_HZ in /boot/config-$(uname -r) or
 * /proc/config.gz (where libbpf looks too); 0 when neither says. Read once. */
uint32_t dp_tick_ns(void);
/* Sets elb_tick_ns of an opened, not yet loaded object that has it to dp_tick_ns(): 0, or -1
 * when the object has no such constant. */
int dp_clock_set(struct bpf_object *obj);
/* Now on the programs' clock: jiffies through times(2) (USER_HZ units, so up to 1/USER_HZ
 * behind the programs' stamps: compare as "stamp > now or now - stamp <= life"), or
 * CLOCK_MONOTONIC_COARSE when dp_tick_ns() is 0. */
uint64_t dp_clock_ns(void);

#endif
