/* Metrics of the dataplane module. */
#include "metrics/metrics.h"

void dp_metrics(struct mbuf *o, struct agent *a)
{
}
