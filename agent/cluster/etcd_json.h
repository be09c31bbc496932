/* The JSON of etcd v3's gRPC gateway: request bodies (keys and values are bytes, sent as
 * base64; int64s are strings) and the fields of its answers. */
#ifndef EDGELB_CLUSTER_ETCD_JSON_H
#define EDGELB_CLUSTER_ETCD_JSON_H

#include <stddef.h>

struct json_object;

/* A JSON string holding the base64 of n bytes. */
struct json_object *etcd_b64(const void *p, size_t n);
/* The bytes of a base64 JSON string field into out (cap bytes, NUL-terminated): length, or
 * -1 when absent or not base64 or too long. */
int etcd_unb64(struct json_object *o, const char *field, char *out, size_t cap);

/* The text s as etcd_b64. */
struct json_object *etcd_b64s(const char *s);
/* An int64 (a lease ID, a revision) as etcd's gateway writes it: a string. */
struct json_object *etcd_id(long long id);
/* A compare of a transaction: {"key": key, "target": target, field: v, "result": "EQUAL"}
 * (v consumed). */
struct json_object *etcd_compare(const char *key, const char *target, const char *field,
				 struct json_object *v);
/* {"key": key[, "value": val][, "lease": lease]}: the body of a put, range or delete. */
struct json_object *etcd_kv(const char *key, const char *val, long long lease);
/* {kind: etcd_kv(...)}: one operation of a transaction (kind "request_put", ...). */
struct json_object *etcd_op(const char *kind, const char *key, const char *val, long long lease);
/* A transaction of one compare, at most one operation on success and one on failure (NULL:
 * none); all consumed. */
struct json_object *etcd_txn(struct json_object *cmp, struct json_object *ok,
			     struct json_object *fail);
/* The int64 field of o (written as a string); 0 when absent. */
long long etcd_num(struct json_object *o, const char *field);
/* o.a, or o.a.b when b is given; NULL when absent. */
struct json_object *etcd_get(struct json_object *o, const char *a, const char *b);
/* The array at etcd_get(o, a, b): its length, and its i-th element; 0 and NULL when it is
 * absent, not an array (an answer from something that is not etcd) or shorter. */
size_t etcd_len(struct json_object *o, const char *a, const char *b);
struct json_object *etcd_item(struct json_object *o, const char *a, const char *b, size_t i);

#endif
