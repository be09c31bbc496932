/* Prometheus /metrics on --metrics ADDR:PORT, served by libmicrohttpd driven from the agent's
 * event loop (no extra thread, so collectors read module state without locks).
 * Each module contributes one collector, listed in metrics.c; a collector writes families with
 * metrics_family() and samples with metrics_sample(). Labels are escaped by the caller through
 * metrics_label(). */
#ifndef EDGELB_METRICS_H
#define EDGELB_METRICS_H

#include <stddef.h>

struct agent;
struct histogram;
struct metrics;

struct mbuf {
	char *p;
	size_t len, cap;
};

struct metrics *metrics_start(struct agent *a, const char *addr, char *err, size_t errlen);
void metrics_stop(struct metrics *m);
/* 0 when s is "none" or a valid ADDR:PORT. */
int metrics_parse_addr(const char *s);

/* Renders every collector into a fresh buffer (the HTTP handler and tests use it). */
void metrics_render(struct agent *a, struct mbuf *out);

void mbuf_printf(struct mbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void metrics_family(struct mbuf *o, const char *name, const char *type, const char *help);
/* labels: NULL or a pre-rendered list 'a="x",b="y"'. */
void metrics_sample(struct mbuf *o, const char *name, const char *labels, double v);
/* Appends key="escaped value" (with a leading comma when buf is not empty). */
void metrics_label(char *buf, size_t len, const char *key, const char *val);
/* A histogram family without labels: name_bucket{le=...} (cumulative, le as %g, then "+Inf"),
 * name_sum and name_count. */
void metrics_histogram(struct mbuf *o, const char *name, const char *help,
		       const struct histogram *h);

/* Collectors, one per module. */
void core_metrics(struct mbuf *o, struct agent *a);
void alloc_metrics(struct mbuf *o, struct agent *a);
void l2_metrics(struct mbuf *o, struct agent *a);
void bgp_metrics(struct mbuf *o, struct agent *a);
void dp_metrics(struct mbuf *o, struct agent *a);
void cluster_metrics(struct mbuf *o, struct agent *a);

#endif
