/* Prometheus /metrics: libmicrohttpd in external-select mode with its epoll fd inside the
 * agent's loop (no thread), so collectors read module state without locks.
 * Owns the HTTP endpoint and the core/process metrics; modules own their collectors. */
#include <arpa/inet.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "daemon/agent.h"
#include "lib/ev.h"
#include "lib/histogram.h"
#include "lib/ip.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "version.h"

struct metrics {
	struct agent *a;
	struct MHD_Daemon *d;
	int epfd;
	struct ev_timer *timer;
};

typedef void (*collector_fn)(struct mbuf *o, struct agent *a);
static const collector_fn collectors[] = {core_metrics, alloc_metrics, l2_metrics,
					  bgp_metrics,	dp_metrics,    cluster_metrics};

void mbuf_printf(struct mbuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p ? o->p + o->len : NULL, o->p ? o->cap - o->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (o->p && (size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		o->cap = (o->cap ? o->cap * 2 : 16384) + (size_t)n;
		o->p = realloc(o->p, o->cap);
		if (!o->p)
			log_fatal("metrics: out of memory");
	}
}

void metrics_family(struct mbuf *o, const char *name, const char *type, const char *help)
{
	mbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_sample(struct mbuf *o, const char *name, const char *labels, double v)
{
	if (labels && *labels)
		mbuf_printf(o, "%s{%s} %.17g\n", name, labels, v);
	else
		mbuf_printf(o, "%s %.17g\n", name, v);
}

void metrics_label(char *buf, size_t len, const char *key, const char *val)
{
	size_t l = strlen(buf);

	if (l + 4 + strlen(key) >= len)
		return;
	l += (size_t)snprintf(buf + l, len - l, "%s%s=\"", l ? "," : "", key);
	for (; *val && l + 3 < len; val++) {
		if (*val == '\\' || *val == '"') {
			buf[l++] = '\\';
			buf[l++] = *val;
		} else if (*val == '\n') {
			buf[l++] = '\\';
			buf[l++] = 'n';
		} else {
			buf[l++] = *val;
		}
	}
	if (l + 1 < len)
		buf[l++] = '"';
	buf[l] = '\0';
}

void metrics_histogram(struct mbuf *o, const char *name, const char *help,
		       const struct histogram *h)
{
	metrics_family(o, name, "histogram", help);
	for (int i = 0; i <= h->n; i++) {
		char le[32];

		if (i < h->n)
			snprintf(le, sizeof(le), "%g", h->le[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		mbuf_printf(o, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name, le,
			    histogram_cumulative(h, i));
	}
	mbuf_printf(o, "%s_sum %.17g\n%s_count %" PRIu64 "\n", name, h->sum, name, h->count);
}

/* Process metrics from /proc/self, with the standard Prometheus names. */
static void process_metrics(struct mbuf *o)
{
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long utime = 0, stime = 0, vsize = 0;
	unsigned long long start = 0;
	long rss = 0;
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "re");
	int fds = 0;
	DIR *d;

	if (f) {
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
			sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %llu %lu %ld",
			       &utime, &stime, &start, &vsize, &rss);
		fclose(f);
	}
	if ((d = opendir("/proc/self/fd"))) {
		while (readdir(d))
			fds++;
		closedir(d);
		fds -= 3; /* ".", ".." and the dir's own fd */
	}
	metrics_family(o, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
	metrics_sample(o, "process_cpu_seconds_total", NULL, (double)(utime + stime) / (double)ticks);
	metrics_family(o, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	metrics_sample(o, "process_resident_memory_bytes", NULL, (double)rss * (double)page);
	metrics_family(o, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	metrics_sample(o, "process_virtual_memory_bytes", NULL, (double)vsize);
	metrics_family(o, "process_open_fds", "gauge", "Number of open file descriptors.");
	metrics_sample(o, "process_open_fds", NULL, fds);
	{
		struct timespec now, up;
		clock_gettime(CLOCK_REALTIME, &now);
		clock_gettime(CLOCK_BOOTTIME, &up);
		double boot = (double)now.tv_sec - (double)up.tv_sec;
		metrics_family(o, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
		metrics_sample(o, "process_start_time_seconds", NULL, boot + (double)start / (double)ticks);
	}
}

void core_metrics(struct mbuf *o, struct agent *a)
{
	char l[256] = "";

	metrics_label(l, sizeof(l), "version", EDGELB_VERSION);
	metrics_label(l, sizeof(l), "node", a->node_name);
	metrics_family(o, "edgelb_build_info", "gauge", "Build information of edgelbd; always 1.");
	metrics_sample(o, "edgelb_build_info", l, 1);
	metrics_family(o, "edgelb_config_reloads_total", "counter", "Successful configuration reloads (SIGHUP).");
	metrics_sample(o, "edgelb_config_reloads_total", NULL, (double)a->reloads);
	process_metrics(o);
}

void metrics_render(struct agent *a, struct mbuf *out)
{
	for (size_t i = 0; i < sizeof(collectors) / sizeof(collectors[0]); i++)
		collectors[i](out, a);
	if (!out->p)
		mbuf_printf(out, "%s", "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *resp;
	struct mbuf out = {0};
	enum MHD_Result ret;
	unsigned status = MHD_HTTP_OK;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		static const char msg[] = "only GET\n";
		resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") == 0) {
		metrics_render(m->a, &out);
		resp = MHD_create_response_from_buffer(out.len, out.p, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	} else {
		static const char msg[] = "edgelbd: see /metrics\n";
		resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_FOUND;
	}
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void rearm(struct metrics *m)
{
	MHD_UNSIGNED_LONG_LONG to;

	if (MHD_get_timeout(m->d, &to) == MHD_YES)
		ev_timer_arm(m->timer, to);
	else
		ev_timer_stop(m->timer);
}

static void on_ready(int fd, uint32_t events, void *arg)
{
	struct metrics *m = arg;

	MHD_run(m->d);
	rearm(m);
}

static void on_timer(struct ev_timer *t, void *arg)
{
	on_ready(-1, 0, arg);
}

/* "ADDR:PORT" or "[v6]:PORT" into a sockaddr. */
static int parse_addr(const char *s, struct sockaddr_storage *ss)
{
	char host[IP_STRLEN + 2];
	const char *colon = strrchr(s, ':');
	struct ip ip;
	char *end;
	long port;
	size_t hl;

	if (!colon)
		return -1;
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535 || ip_parse(host, &ip) < 0)
		return -1;
	return ip_to_sockaddr(&ip, (uint16_t)port, ss);
}

int metrics_parse_addr(const char *s)
{
	struct sockaddr_storage ss;

	return strcmp(s, "none") == 0 || parse_addr(s, &ss) > 0 ? 0 : -1;
}

struct metrics *metrics_start(struct agent *a, const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct metrics *m;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL;

	if (strcmp(addr, "none") == 0)
		return NULL;
	if (parse_addr(addr, &ss) <= 0) {
		snprintf(err, errlen, "--metrics: \"%s\": not ADDR:PORT (allowed: e.g. 127.0.0.1:7472, [::1]:7472, none)", addr);
		return NULL;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m = calloc(1, sizeof(*m));
	if (!m)
		log_fatal("metrics: out of memory");
	m->a = a;
	m->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, &ss,
				MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				MHD_OPTION_END);
	if (!m->d) {
		snprintf(err, errlen, "--metrics: cannot listen on %s (address in use or not local?)", addr);
		free(m);
		return NULL;
	}
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	m->epfd = info ? info->epoll_fd : -1;
	m->timer = ev_timer_new(a->loop, on_timer, m);
	if (m->epfd < 0 || ev_fd_add(a->loop, m->epfd, EPOLLIN, on_ready, m) < 0) {
		snprintf(err, errlen, "--metrics: cannot poll the HTTP server");
		MHD_stop_daemon(m->d);
		ev_timer_free(m->timer);
		free(m);
		return NULL;
	}
	log_info("metrics: serving http://%s/metrics", addr);
	return m;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	ev_fd_del(m->a->loop, m->epfd);
	ev_timer_free(m->timer);
	MHD_stop_daemon(m->d);
	free(m);
}
