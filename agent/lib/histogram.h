/* A Prometheus-style histogram of durations in seconds: fixed upper bounds (a static array the
 * caller owns), one count per bucket, the sum and the count. Accounting only: the metrics
 * module renders it (metrics_histogram), so agent/lib stays free of agent/metrics. */
#ifndef EDGELB_LIB_HISTOGRAM_H
#define EDGELB_LIB_HISTOGRAM_H

#include <stdint.h>

#define HISTOGRAM_MAX 16 /* bounds at most */

struct histogram {
	const double *le; /* n ascending upper bounds, inclusive */
	int n;
	uint64_t bucket[HISTOGRAM_MAX + 1]; /* per bucket, not cumulative; [n]: above every bound */
	double sum;
	uint64_t count;
};

/* Empty, with le[0..n) (ascending, n <= HISTOGRAM_MAX; fatal otherwise). */
void histogram_init(struct histogram *h, const double *le, int n);
/* Counts v in the first bucket whose bound is >= v. */
void histogram_observe(struct histogram *h, double v);
/* Observations <= le[i] for i < n; every observation for i == n (le="+Inf"). */
uint64_t histogram_cumulative(const struct histogram *h, int i);

#endif
