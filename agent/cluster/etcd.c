#include "cluster/etcd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "lib/ev.h"
#include "lib/log.h"

#define ETCD_MAX_ENDPOINTS 8
#define ETCD_URL_MAX	   256
#define ETCD_CONNECT_MS	   2000
#define ETCD_RESP_MAX	   (8u << 20) /* one answer (a range of many keys) */

struct etcd_req {
	struct etcd *e;
	CURL *h;
	struct curl_slist *hdr;
	etcd_fn fn;
	void *arg;
	bool stream;
	bool busy; /* its callback is running: a cancel only marks it */
	bool dead;
	int endpoint; /* the endpoint it went to */
	char *buf;    /* the answer so far (a stream: what is not delivered yet) */
	size_t len, cap;
	char errbuf[CURL_ERROR_SIZE];
	struct etcd_req *next;
};

struct etcd {
	struct ev_loop *loop;
	CURLM *multi;
	struct ev_timer *timer;
	char urls[ETCD_MAX_ENDPOINTS][ETCD_URL_MAX];
	int n_urls, cur;
	char *cacert, *cert, *key; /* TLS files, or NULL */
	struct etcd_req *reqs;
};

static void process(struct etcd *e);

static void on_fd(int fd, uint32_t events, void *arg)
{
	struct etcd *e = arg;
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(e->multi, fd, flags, &running);
	process(e);
}

static void on_timer(struct ev_timer *t, void *arg)
{
	struct etcd *e = arg;
	int running;

	(void)t;
	curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	process(e);
}

/* libcurl says which sockets to watch and for what; the loop watches them. */
static int on_socket(CURL *h, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct etcd *e = userp;
	uint32_t ev = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);

	(void)h;
	if (what == CURL_POLL_REMOVE) {
		if (sockp) {
			ev_fd_del(e->loop, s);
			curl_multi_assign(e->multi, s, NULL);
		}
		return 0;
	}
	if (!sockp) {
		if (ev_fd_add(e->loop, s, ev, on_fd, e) < 0)
			return -1;
		curl_multi_assign(e->multi, s, e);
	} else {
		ev_fd_mod(e->loop, s, ev);
	}
	return 0;
}

static int on_timer_set(CURLM *m, long timeout_ms, void *userp)
{
	struct etcd *e = userp;

	(void)m;
	if (timeout_ms < 0)
		ev_timer_stop(e->timer);
	else
		ev_timer_arm(e->timer, (uint64_t)timeout_ms);
	return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct etcd_req *r = arg;
	size_t len = size * n;

	if (r->len + len > ETCD_RESP_MAX)
		return 0; /* libcurl ends the call with a write error */
	if (r->len + len + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;

		while (cap < r->len + len + 1)
			cap *= 2;
		r->buf = realloc(r->buf, cap);
		if (!r->buf)
			log_fatal("etcd: out of memory");
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, len);
	r->len += len;
	r->buf[r->len] = '\0';
	return len;
}

static int parse_endpoints(struct etcd *e, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *u;

		if (e->n_urls == ETCD_MAX_ENDPOINTS || n == 0 || n >= ETCD_URL_MAX)
			goto bad;
		u = e->urls[e->n_urls++];
		memcpy(u, p, n);
		u[n] = '\0';
		while (n > 0 && u[n - 1] == '/')
			u[--n] = '\0';
		if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))
			goto bad;
		if (!strstr(u, "://")[3]) /* a host must follow the scheme */
			goto bad;
		p += n + (end ? 1 : 0);
		if (end && !*p)
			goto bad;
	}
	if (e->n_urls)
		return 0;
bad:
	snprintf(
	    err, errlen,
	    "--etcd-endpoints: \"%s\": not a list of URLs (allowed: 1-%d of http://HOST:PORT or "
	    "https://HOST:PORT, comma-separated)",
	    list, ETCD_MAX_ENDPOINTS);
	return -1;
}

int etcd_check_endpoints(const char *endpoints, char *err, size_t errlen)
{
	static struct etcd scratch;

	memset(&scratch, 0, sizeof(scratch));
	return parse_endpoints(&scratch, endpoints, err, errlen);
}

/* Reads up to PEM_MAX bytes of path into buf (NUL-terminated); -1 with err on failure. */
#define PEM_MAX (64u << 10)
static int pem_read(const char *flag, const char *path, char *buf, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		snprintf(err, errlen, "%s: \"%s\": cannot read: %s (allowed: a readable PEM file)",
			 flag, path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, PEM_MAX - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/* Whether buf holds a PEM block of the kind: "CERTIFICATE", or an unencrypted private key
 * ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"); *encrypted tells an encrypted key. */
static bool pem_has(const char *buf, bool key, bool *encrypted)
{
	for (const char *b = strstr(buf, "-----BEGIN "); b; b = strstr(b + 1, "-----BEGIN ")) {
		const char *label = b + 11, *end = strstr(label, "-----");
		size_t n = end ? (size_t)(end - label) : 0;

		if (!key && n == 11 && !memcmp(label, "CERTIFICATE", 11))
			return true;
		if (key && n == 21 && !memcmp(label, "ENCRYPTED PRIVATE KEY", 21))
			*encrypted = true;
		else if (key && n >= 11 && !memcmp(label + n - 11, "PRIVATE KEY", 11))
			return true;
	}
	return false;
}

/* One TLS file: readable and holding a PEM block of its kind. */
static int check_pem(const char *flag, const char *path, bool key, char *err, size_t errlen)
{
	static char buf[PEM_MAX];
	bool encrypted = false;

	if (pem_read(flag, path, buf, err, errlen) < 0)
		return -1;
	if (pem_has(buf, key, &encrypted))
		return 0;
	if (encrypted)
		snprintf(err, errlen,
			 "%s: \"%s\": an encrypted private key (allowed: an unencrypted PEM key)",
			 flag, path);
	else
		snprintf(
		    err, errlen,
		    "%s: \"%s\": not a PEM %s (allowed: a file with a -----BEGIN %s----- block)",
		    flag, path, key ? "private key" : "certificate",
		    key ? "PRIVATE KEY" : "CERTIFICATE");
	return -1;
}

int etcd_check_tls(const char *endpoints, const struct etcd_tls *tls, char *err, size_t errlen)
{
	const char *flag = tls->cacert ? "--etcd-cacert" : tls->cert ? "--etcd-cert" : "--etcd-key";
	const char *p, *next;

	if (!tls->cacert && !tls->cert && !tls->key)
		return 0;
	if (!tls->cert != !tls->key) {
		snprintf(
		    err, errlen,
		    "%s: given alone (allowed: --etcd-cert and --etcd-key together, or neither)",
		    tls->cert ? "--etcd-cert" : "--etcd-key");
		return -1;
	}
	if (!endpoints) {
		snprintf(err, errlen,
			 "%s: no --etcd-endpoints to use it with (allowed: with "
			 "https:// endpoints)",
			 flag);
		return -1;
	}
	for (p = endpoints; p; p = next) {
		size_t n = strcspn(p, ",");

		next = p[n] ? p + n + 1 : NULL;
		if (strncmp(p, "https://", 8)) {
			snprintf(err, errlen,
				 "%s: \"%.*s\" is not https:// (allowed: https:// endpoints only, "
				 "when TLS files are given)",
				 flag, (int)n, p);
			return -1;
		}
	}
	if (tls->cacert && check_pem("--etcd-cacert", tls->cacert, false, err, errlen) < 0)
		return -1;
	if (tls->cert && check_pem("--etcd-cert", tls->cert, false, err, errlen) < 0)
		return -1;
	if (tls->key && check_pem("--etcd-key", tls->key, true, err, errlen) < 0)
		return -1;
	return 0;
}

static char *dup_or_null(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		log_fatal("etcd: out of memory");
	return d;
}

struct etcd *etcd_new(struct ev_loop *loop, const char *endpoints, const struct etcd_tls *tls,
		      char *err, size_t errlen)
{
	static bool curl_ready;
	struct etcd *e = calloc(1, sizeof(*e));

	if (!e)
		log_fatal("etcd: out of memory");
	if (parse_endpoints(e, endpoints, err, errlen) < 0) {
		free(e);
		return NULL;
	}
	if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		log_fatal("etcd: libcurl does not initialise");
	curl_ready = true;
	if (tls) {
		e->cacert = dup_or_null(tls->cacert);
		e->cert = dup_or_null(tls->cert);
		e->key = dup_or_null(tls->key);
	}
	e->loop = loop;
	e->multi = curl_multi_init();
	if (!e->multi)
		log_fatal("etcd: out of memory");
	e->timer = ev_timer_new(loop, on_timer, e);
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
	return e;
}

static void req_free(struct etcd *e, struct etcd_req *r)
{
	for (struct etcd_req **pp = &e->reqs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	curl_multi_remove_handle(e->multi, r->h);
	curl_easy_cleanup(r->h);
	curl_slist_free_all(r->hdr);
	free(r->buf);
	free(r);
}

void etcd_free(struct etcd *e)
{
	if (!e)
		return;
	while (e->reqs)
		req_free(e, e->reqs);
	curl_multi_cleanup(e->multi);
	ev_timer_free(e->timer);
	free(e->cacert);
	free(e->cert);
	free(e->key);
	free(e);
}

void etcd_cancel(struct etcd *e, struct etcd_req *r)
{
	if (!r)
		return;
	if (r->busy)
		r->dead = true;
	else
		req_free(e, r);
}

const char *etcd_endpoint(const struct etcd *e)
{
	return e->urls[e->cur];
}

/* A POST of body to path at the endpoint in use, with what every call shares; *hdr is the
 * caller's to free after the call. */
static CURL *easy(struct etcd *e, const char *path, struct json_object *body,
		  struct curl_slist **hdr)
{
	CURL *h = curl_easy_init();
	char url[ETCD_URL_MAX + 64];

	if (!h)
		log_fatal("etcd: out of memory");
	snprintf(url, sizeof(url), "%s%s", e->urls[e->cur], path);
	*hdr = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdr);
	curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS,
			 json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, ""); /* never through an http_proxy of the env */
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)ETCD_CONNECT_MS);
	if (e->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, e->cacert);
	if (e->cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, e->cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, e->key);
	}
	return h;
}

static struct etcd_req *start(struct etcd *e, const char *path, struct json_object *body,
			      unsigned timeout_ms, bool stream, etcd_fn fn, void *arg)
{
	struct etcd_req *r = calloc(1, sizeof(*r));

	if (!r)
		log_fatal("etcd: out of memory");
	r->e = e;
	r->fn = fn;
	r->arg = arg;
	r->stream = stream;
	r->endpoint = e->cur;
	r->h = easy(e, path, body, &r->hdr);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->h, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, r->errbuf);
	if (!stream)
		curl_easy_setopt(r->h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	/* a stream waits for events for ever: TCP keepalive notices a peer that went away */
	curl_easy_setopt(r->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(r->h, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(r->h, CURLOPT_TCP_KEEPINTVL, 2L);
	if (curl_multi_add_handle(e->multi, r->h) != CURLM_OK) {
		log_err("etcd: %s: cannot start the call", path);
		curl_easy_cleanup(r->h);
		curl_slist_free_all(r->hdr);
		free(r);
		return NULL;
	}
	r->next = e->reqs;
	e->reqs = r;
	return r;
}

struct etcd_req *etcd_call(struct etcd *e, const char *path, struct json_object *body,
			   unsigned timeout_ms, etcd_fn fn, void *arg)
{
	return start(e, path, body, timeout_ms, false, fn, arg);
}

struct etcd_req *etcd_stream(struct etcd *e, const char *path, struct json_object *body, etcd_fn fn,
			     void *arg)
{
	return start(e, path, body, 0, true, fn, arg);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

int etcd_call_sync(struct etcd *e, const char *path, struct json_object *body, unsigned timeout_ms)
{
	struct curl_slist *hdr;
	CURL *h = easy(e, path, body, &hdr);
	long status = 0;
	CURLcode rc;

	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	else
		log_warn("etcd: %s%s: %s", e->urls[e->cur], path, curl_easy_strerror(rc));
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	return status == 200 ? 0 : -1;
}

/* Runs r's callback; false when r is gone afterwards (cancelled from it). */
static bool call(struct etcd *e, struct etcd_req *r, struct json_object *resp, const char *err)
{
	r->busy = true;
	r->fn(r->arg, resp, err);
	r->busy = false;
	if (r->dead) {
		req_free(e, r);
		return false;
	}
	return true;
}

/* One complete line of a stream, if any, delivered and removed from the buffer: 0 none, 1 one,
 * -1 one and r is gone (cancelled from its callback). */
static int deliver_line(struct etcd *e, struct etcd_req *r)
{
	char *nl = r->buf ? memchr(r->buf, '\n', r->len) : NULL;
	struct json_object *msg;
	size_t used;
	int rc = 1;

	if (!nl)
		return 0;
	*nl = '\0';
	msg = json_tokener_parse(r->buf);
	used = (size_t)(nl - r->buf) + 1;
	memmove(r->buf, nl + 1, r->len - used + 1);
	r->len -= used;
	if (!msg) {
		log_warn("etcd: a stream message that is not JSON: ignored");
		return 1;
	}
	if (!call(e, r, msg, NULL))
		rc = -1;
	json_object_put(msg);
	return rc;
}

/* The error text of a finished call, "" when it succeeded. */
static void outcome(struct etcd_req *r, CURLcode rc, char *err, size_t errlen)
{
	long status = 0;

	err[0] = '\0';
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", r->e->urls[r->endpoint],
			 r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
		return;
	}
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		struct json_object *o = r->buf ? json_tokener_parse(r->buf) : NULL, *m = NULL;

		if (o && !json_object_object_get_ex(o, "message", &m))
			json_object_object_get_ex(o, "error", &m);
		snprintf(err, errlen, "%s: HTTP %ld: %s", r->e->urls[r->endpoint], status,
			 m ? json_object_get_string(m) : "no message");
		json_object_put(o);
	}
}

static void finish(struct etcd *e, struct etcd_req *r, CURLcode rc)
{
	char err[CURL_ERROR_SIZE + ETCD_URL_MAX + 64];
	struct json_object *resp = NULL;

	outcome(r, rc, err, sizeof(err));
	if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR && r->endpoint == e->cur && e->n_urls > 1) {
		e->cur = (e->cur + 1) % e->n_urls;
		log_warn("etcd: %s; next calls go to %s", err, e->urls[e->cur]);
	}
	if (r->stream) {
		int d;

		while ((d = deliver_line(e, r)) > 0)
			;
		if (d == 0 && call(e, r, NULL, err[0] ? err : "stream ended"))
			req_free(e, r);
		return;
	}
	if (!err[0]) {
		resp = r->buf ? json_tokener_parse(r->buf) : NULL;
		if (!resp)
			snprintf(err, sizeof(err), "%s: the answer is not JSON",
				 e->urls[r->endpoint]);
	}
	r->dead = true; /* freed once its callback returns */
	call(e, r, resp, err[0] ? err : NULL);
	json_object_put(resp);
}

/* After libcurl ran: stream messages that arrived, then calls that ended. A callback may start
 * or cancel calls, so every delivery starts the walk again. */
static void process(struct etcd *e)
{
	CURLMsg *m;
	int left;
	bool again = true;

	while (again) {
		again = false;
		for (struct etcd_req *r = e->reqs; r; r = r->next)
			if (r->stream && deliver_line(e, r) != 0) {
				again = true;
				break;
			}
	}
	while ((m = curl_multi_info_read(e->multi, &left))) {
		struct etcd_req *r = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (r)
			finish(e, r, m->data.result);
	}
}
