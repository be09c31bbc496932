/* Metrics of the alloc module. */
#include "metrics/metrics.h"

void alloc_metrics(struct mbuf *o, struct agent *a)
{
}
