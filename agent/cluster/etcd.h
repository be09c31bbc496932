/* An asynchronous etcd v3 client on the agent's event loop: JSON over HTTP to etcd's gRPC
 * gateway (POST /v3/kv/txn, /v3/lease/grant, ...), through libcurl's multi interface, so a
 * slow or absent etcd never blocks BGP, BFD or the control socket. Keys and values are bytes
 * in base64 on the wire; etcd_json.h builds the bodies and reads the answers.
 *
 * Endpoints are tried in order: a call that cannot reach one (connect error or timeout)
 * moves later calls to the next. A unary call answers once; a stream (watch) hands each
 * message to its callback and ends with one call carrying an error. Callbacks run from the
 * event loop, never from inside libcurl, so they may start calls. */
#ifndef EDGELB_CLUSTER_ETCD_H
#define EDGELB_CLUSTER_ETCD_H

#include <stdbool.h>
#include <stddef.h>

struct ev_loop;
struct json_object;
struct etcd;
struct etcd_req;

/* resp: the answer (borrowed for the call), or NULL with err saying why (transport, HTTP
 * status with etcd's message, or "stream ended"). */
typedef void (*etcd_fn)(void *arg, struct json_object *resp, const char *err);

/* TLS for https:// endpoints, as etcdctl's --cacert, --cert and --key: PEM files. cacert NULL:
 * the system's trusted CAs; cert and key NULL: no client certificate. The server's name or IP
 * must match its certificate. */
struct etcd_tls {
	const char *cacert, *cert, *key;
};

/* endpoints: "http://HOST:PORT[,https://HOST:PORT...]". tls: NULL or its files (checked by
 * etcd_check_tls). Returns NULL with a one-line err when the list is malformed. */
struct etcd *etcd_new(struct ev_loop *loop, const char *endpoints, const struct etcd_tls *tls,
		      char *err, size_t errlen);
/* The same check alone: 0, or -1 with the one-line err. */
int etcd_check_endpoints(const char *endpoints, char *err, size_t errlen);
/* The TLS files against the endpoints (NULL: none): each readable PEM of its kind, cert and key
 * together, every endpoint https:// once any is given. 0, or -1 with a one-line err naming the
 * flag (--etcd-cacert, --etcd-cert, --etcd-key) and what is allowed. */
int etcd_check_tls(const char *endpoints, const struct etcd_tls *tls, char *err, size_t errlen);
/* Cancels every call in flight without calling back. */
void etcd_free(struct etcd *e);

/* POST body (not consumed) to path; fn answers once, within timeout_ms. NULL on a local
 * failure (logged). */
struct etcd_req *etcd_call(struct etcd *e, const char *path, struct json_object *body,
			   unsigned timeout_ms, etcd_fn fn, void *arg);
/* The same, but each newline-delimited message of the answer goes to fn as it arrives, with
 * no deadline; the last call has resp NULL. */
struct etcd_req *etcd_stream(struct etcd *e, const char *path, struct json_object *body, etcd_fn fn,
			     void *arg);
/* The same, blocking up to timeout_ms (for shutdown only): 0 on an HTTP 200, else -1. */
int etcd_call_sync(struct etcd *e, const char *path, struct json_object *body, unsigned timeout_ms);
/* Ends a call without calling back; NULL is fine. */
void etcd_cancel(struct etcd *e, struct etcd_req *r);

const char *etcd_endpoint(const struct etcd *e); /* the one in use */

#endif
