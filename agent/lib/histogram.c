/* Bucket accounting for struct histogram; rendering is the metrics module's. */
#include "lib/histogram.h"

#include <string.h>

#include "lib/log.h"

void histogram_init(struct histogram *h, const double *le, int n)
{
	if (n < 0 || n > HISTOGRAM_MAX)
		log_fatal("histogram: %d bounds (at most %d)", n, HISTOGRAM_MAX);
	for (int i = 1; i < n; i++)
		if (!(le[i - 1] < le[i]))
			log_fatal("histogram: bound %d (%g) not above the one before", i, le[i]);
	memset(h, 0, sizeof(*h));
	h->le = le;
	h->n = n;
}

void histogram_observe(struct histogram *h, double v)
{
	int i = 0;

	while (i < h->n && v > h->le[i])
		i++;
	h->bucket[i]++;
	h->sum += v;
	h->count++;
}

uint64_t histogram_cumulative(const struct histogram *h, int i)
{
	uint64_t n = 0;

	for (int j = 0; j <= i && j <= h->n; j++)
		n += h->bucket[j];
	return n;
}
