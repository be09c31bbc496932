/* How far apart the CPUs the benches split their work over are (scripts/bench/lb.sh, l2.sh):
 *   bench_xcpu CPU_A CPU_B   two threads, pinned one to each CPU, hand one cache line back and
 *                            forth 1,000,000 times; prints rtt_ns=<ns per round trip>
 * Every frame a bench forwards crosses from the generator's CPU to the node's and its page
 * comes back, so this round trip weighs on the pps figures; on this VM it moves between spells
 * (likely where the host runs the vCPUs), and the benches print it with their rounds. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TRIPS 1000000L

static _Alignas(64) _Atomic long line;

static void cpu_only(cpu_set_t *set, int cpu)
{
	CPU_ZERO(set);
	CPU_SET(cpu, set);
}

/* Waits until line holds want; -1 if the peer never answers (bounded: seconds). */
static int await(long want)
{
	for (long spins = 0; atomic_load_explicit(&line, memory_order_acquire) != want; spins++)
		if (spins > 2000000000L)
			return -1;
	return 0;
}

static void *answer(void *arg)
{
	(void)arg;
	for (long i = 0; i < TRIPS; i++) {
		if (await(2 * i + 1))
			return (void *)1;
		atomic_store_explicit(&line, 2 * i + 2, memory_order_release);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	void *failed = NULL, *peer_failed = NULL;
	struct timespec t0, t1;
	pthread_attr_t attr;
	pthread_t peer;
	cpu_set_t set;
	int a, b;

	if (argc != 3 || (a = atoi(argv[1])) < 0 || (b = atoi(argv[2])) < 0 || a == b) {
		fprintf(stderr, "usage: bench_xcpu CPU_A CPU_B (two different CPUs)\n");
		return 2;
	}
	pthread_attr_init(&attr);
	cpu_only(&set, b);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	cpu_only(&set, a);
	if (sched_setaffinity(0, sizeof(set), &set) || pthread_create(&peer, &attr, answer, NULL)) {
		fprintf(stderr, "bench_xcpu: cannot run on CPUs %d and %d\n", a, b);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < TRIPS && !failed; i++) {
		atomic_store_explicit(&line, 2 * i + 1, memory_order_release);
		if (await(2 * i + 2))
			failed = (void *)1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(peer, &peer_failed);
	if (failed || peer_failed) {
		fprintf(stderr, "bench_xcpu: CPU %d did not answer\n", b);
		return 1;
	}
	printf("rtt_ns=%.1f\n",
	       ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
		   (double)TRIPS);
	return 0;
}
