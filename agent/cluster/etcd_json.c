#include "cluster/etcd_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/base64.h"
#include "lib/log.h"

struct json_object *etcd_b64(const void *p, size_t n)
{
	char *s = malloc(BASE64_LEN(n));
	struct json_object *o;

	if (!s)
		log_fatal("etcd: out of memory");
	base64_encode(p, n, s);
	o = json_object_new_string(s);
	free(s);
	return o;
}

int etcd_unb64(struct json_object *o, const char *field, char *out, size_t cap)
{
	struct json_object *v;
	int n;

	if (cap == 0 || !o || !json_object_object_get_ex(o, field, &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	n = base64_decode(json_object_get_string(v), (unsigned char *)out, cap - 1);
	if (n < 0)
		return -1;
	out[n] = '\0';
	return n;
}

/* etcd's gateway writes int64s (lease IDs, revisions) as strings */
struct json_object *etcd_id(long long id)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", id);
	return json_object_new_string(s);
}

struct json_object *etcd_b64s(const char *s)
{
	return etcd_b64(s, strlen(s));
}

/* {"key": k, "target": T, field: v, "result": "EQUAL"} */
struct json_object *etcd_compare(const char *key, const char *target, const char *field,
				 struct json_object *v)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "key", etcd_b64s(key));
	json_object_object_add(o, "target", json_object_new_string(target));
	json_object_object_add(o, field, v);
	json_object_object_add(o, "result", json_object_new_string("EQUAL"));
	return o;
}

/* {"key": k[, "value": v][, "lease": id]}: a put, a range or a delete */
struct json_object *etcd_kv(const char *key, const char *val, long long lease)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "key", etcd_b64s(key));
	if (val)
		json_object_object_add(r, "value", etcd_b64s(val));
	if (lease)
		json_object_object_add(r, "lease", etcd_id(lease));
	return r;
}

/* {"request_X": etcd_kv(...)}: one operation of a transaction */
struct json_object *etcd_op(const char *kind, const char *key, const char *val, long long lease)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, kind, etcd_kv(key, val, lease));
	return o;
}

struct json_object *etcd_txn(struct json_object *cmp, struct json_object *ok,
			     struct json_object *fail)
{
	struct json_object *o = json_object_new_object(), *a;

	a = json_object_new_array();
	json_object_array_add(a, cmp);
	json_object_object_add(o, "compare", a);
	a = json_object_new_array();
	if (ok)
		json_object_array_add(a, ok);
	json_object_object_add(o, "success", a);
	a = json_object_new_array();
	if (fail)
		json_object_array_add(a, fail);
	json_object_object_add(o, "failure", a);
	return o;
}

/* An int64 that etcd's gateway writes as a string; 0 when absent. */
long long etcd_num(struct json_object *o, const char *field)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, field, &v) ? (long long)json_object_get_int64(v)
							    : 0;
}

/* o.a, or o.a.b when b is given; NULL when absent. */
struct json_object *etcd_get(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return v;
}

size_t etcd_len(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v = etcd_get(o, a, b);

	return json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
}

struct json_object *etcd_item(struct json_object *o, const char *a, const char *b, size_t i)
{
	return i < etcd_len(o, a, b) ? json_object_array_get_idx(etcd_get(o, a, b), i) : NULL;
}
