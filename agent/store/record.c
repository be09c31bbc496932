/* Store record lines: "<8 lowercase hex digits: zlib crc32 of the payload> <payload>\n", where the
 * payload is one JSON object on one line (json-c plain output escapes every control character,
 * so a payload never holds a raw newline). Payloads:
 *   {"op":"snapshot"|"journal","version":1,"gen":N}            first line of each file
 *   {"op":"put","kind":K,"key":K,"val":V[,"more":true]}
 *   {"op":"del","kind":K,"key":K[,"more":true]}
 * "more":true marks a record of a batch that is not the batch's last one. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <zlib.h>

#include "lib/log.h"
#include "store/record.h"

#define JSON_PARSE_DEPTH (REC_VAL_DEPTH_MAX + 8)

static void sbuf_need(struct sbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;

	if (b->len + n <= b->cap)
		return;
	while (cap < b->len + n)
		cap *= 2;
	b->p = realloc(b->p, cap);
	if (!b->p)
		log_fatal("store: out of memory (%zu bytes)", cap);
	b->cap = cap;
}

void sbuf_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static void put_line(struct sbuf *b, struct json_object *payload)
{
	size_t n;
	const char *js = json_object_to_json_string_length(payload, REC_JSON_FLAGS, &n);
	uLong crc = crc32(0L, (const Bytef *)js, (uInt)n);

	sbuf_need(b, n + 10);
	snprintf(b->p + b->len, 10, "%08lx ", crc & 0xffffffffUL);
	memcpy(b->p + b->len + 9, js, n);
	b->p[b->len + 9 + n] = '\n';
	b->len += n + 10;
}

void rec_put_hdr(struct sbuf *b, const char *file, uint64_t gen)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "op", json_object_new_string(file));
	json_object_object_add(o, "version", json_object_new_int(REC_FORMAT_VERSION));
	json_object_object_add(o, "gen", json_object_new_int64((int64_t)gen));
	put_line(b, o);
	json_object_put(o);
}

/* A JSON string exactly as json-c writes it (quotes and escapes). */
static void put_json_str(struct sbuf *b, const char *str)
{
	struct json_object *o = json_object_new_string(str);
	size_t n;
	const char *js = json_object_to_json_string_length(o, REC_JSON_FLAGS, &n);

	sbuf_need(b, n);
	memcpy(b->p + b->len, js, n);
	b->len += n;
	json_object_put(o);
}

static void put_raw(struct sbuf *b, const char *p, size_t n)
{
	sbuf_need(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_cstr(struct sbuf *b, const char *p)
{
	put_raw(b, p, strlen(p));
}

void rec_put_op(struct sbuf *b, enum rec_op op, const char *kind, const char *key, const char *val,
		size_t vlen, int more)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = b->len;
	uLong crc;

	put_cstr(b, "00000000 "); /* the checksum, filled in below */
	put_cstr(b, op == REC_PUT ? "{\"op\":\"put\",\"kind\":" : "{\"op\":\"del\",\"kind\":");
	put_json_str(b, kind);
	put_cstr(b, ",\"key\":");
	put_json_str(b, key);
	if (op == REC_PUT) {
		put_cstr(b, ",\"val\":");
		put_raw(b, val, vlen);
	}
	if (more)
		put_cstr(b, ",\"more\":true");
	put_cstr(b, "}\n");
	crc = crc32(0L, (const Bytef *)b->p + start + 9, (uInt)(b->len - start - 10));
	for (int i = 0; i < 8; i++)
		b->p[start + (size_t)i] = hex[(crc >> (28 - 4 * i)) & 0xf];
}

struct json_object *rec_val_parse(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_PARSE_DEPTH);
	struct json_object *v;

	if (!tok)
		log_fatal("store: out of memory (json tokener)");
	v = json_tokener_parse_ex(tok, text, (int)len + 1); /* the NUL ends a bare number */
	if (!v || json_tokener_get_error(tok) != json_tokener_success)
		log_fatal("store: a stored value does not parse back: %.64s", text);
	json_tokener_free(tok);
	return v;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int rec_check_name(const char *what, const char *s, size_t max, char *err, size_t errlen)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0)
		return fail(err, errlen, "%s is empty (1..%zu bytes allowed)", what, max);
	if (n > max)
		return fail(err, errlen, "%s is %zu bytes long (1..%zu bytes allowed)", what, n,
			    max);
	return 0;
}

/* Everything json-c writes must come back through the strict parser: no NaN/Infinity (written
 * as bare words), no nesting deeper than the parser accepts. */
static int check_val(struct json_object *v, int depth, char *err, size_t errlen)
{
	if (depth > REC_VAL_DEPTH_MAX)
		return fail(err, errlen, "value is nested deeper than %d levels",
			    REC_VAL_DEPTH_MAX);
	switch (json_object_get_type(v)) {
	case json_type_double:
		if (!isfinite(json_object_get_double(v)))
			return fail(err, errlen, "value holds a non-finite number (%g)",
				    json_object_get_double(v));
		return 0;
	case json_type_object: {
		json_object_object_foreach(v, k, child)
		{
			(void)k;
			if (check_val(child, depth + 1, err, errlen))
				return -1;
		}
		return 0;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (check_val(json_object_array_get_idx(v, i), depth + 1, err, errlen))
				return -1;
		return 0;
	default:
		return 0;
	}
}

int rec_check_val(struct json_object *val, char *err, size_t errlen)
{
	if (!val)
		return fail(err, errlen, "value is null (a JSON value is required)");
	return check_val(val, 1, err, errlen);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A string member that must be a non-empty string without NUL bytes. */
static int get_name(struct json_object *root, const char *field, size_t max, const char **out,
		    char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(root, field, &v) ||
	    !json_object_is_type(v, json_type_string))
		return fail(err, errlen, "\"%s\" is missing or not a string", field);
	if ((size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v)))
		return fail(err, errlen, "\"%s\" contains a NUL character", field);
	*out = json_object_get_string(v);
	return rec_check_name(field, *out, max, err, errlen);
}

static const char *const allowed_fields[] = {"op", "version", "gen", "kind", "key", "val", "more"};

static int parse_payload(struct json_object *root, struct rec *r, char *err, size_t errlen)
{
	struct json_object *v;
	const char *op;

	if (!json_object_is_type(root, json_type_object))
		return fail(err, errlen, "payload is not a JSON object");
	json_object_object_foreach(root, field, fv)
	{
		size_t i;

		(void)fv;
		for (i = 0; i < sizeof(allowed_fields) / sizeof(allowed_fields[0]); i++)
			if (strcmp(field, allowed_fields[i]) == 0)
				break;
		if (i == sizeof(allowed_fields) / sizeof(allowed_fields[0]))
			return fail(err, errlen, "unknown field \"%.64s\"", field);
	}
	if (!json_object_object_get_ex(root, "op", &v) || !json_object_is_type(v, json_type_string))
		return fail(err, errlen, "\"op\" is missing or not a string");
	op = json_object_get_string(v);

	if (strcmp(op, "snapshot") == 0 || strcmp(op, "journal") == 0) {
		int64_t gen;

		r->op = REC_HDR;
		r->file = strcmp(op, "snapshot") == 0 ? "snapshot" : "journal";
		if (!json_object_object_get_ex(root, "version", &v) ||
		    !json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) != REC_FORMAT_VERSION)
			return fail(err, errlen, "\"version\" is missing or not %d",
				    REC_FORMAT_VERSION);
		if (!json_object_object_get_ex(root, "gen", &v) ||
		    !json_object_is_type(v, json_type_int) ||
		    (gen = json_object_get_int64(v)) < 0 || gen == INT64_MAX)
			return fail(err, errlen, "\"gen\" is missing or not an integer >= 0");
		r->gen = (uint64_t)gen;
		if (json_object_object_length(root) != 3)
			return fail(err, errlen, "a %s header holds only op, version and gen", op);
		return 0;
	}
	if (strcmp(op, "put") == 0)
		r->op = REC_PUT;
	else if (strcmp(op, "del") == 0)
		r->op = REC_DEL;
	else
		return fail(err, errlen,
			    "\"op\" is \"%.32s\" (allowed: put, del, snapshot, journal)", op);
	if (json_object_object_get_ex(root, "version", NULL) ||
	    json_object_object_get_ex(root, "gen", NULL))
		return fail(err, errlen, "\"version\"/\"gen\" belong to header records only");
	if (get_name(root, "kind", REC_KIND_MAX, &r->kind, err, errlen) ||
	    get_name(root, "key", REC_KEY_MAX, &r->key, err, errlen))
		return -1;
	if (json_object_object_get_ex(root, "more", &v)) {
		if (!json_object_is_type(v, json_type_boolean) || !json_object_get_boolean(v))
			return fail(err, errlen, "\"more\" must be true when present");
		r->more = 1;
	}
	if (r->op == REC_DEL) {
		if (json_object_object_get_ex(root, "val", NULL))
			return fail(err, errlen, "a del record has no \"val\"");
		return 0;
	}
	if (!json_object_object_get_ex(root, "val", &r->val))
		return fail(err, errlen, "a put record needs \"val\"");
	return rec_check_val(r->val, err, errlen);
}

int rec_parse(const char *line, size_t len, struct rec *r, char *err, size_t errlen)
{
	const char *payload = line + 9;
	size_t plen;
	uint32_t want = 0, have;
	struct json_tokener *tok;
	enum json_tokener_error jerr;

	memset(r, 0, sizeof(*r));
	if (len < 10 || line[8] != ' ')
		return fail(err, errlen, "not a record (want \"<8 hex digits crc32> <json>\")");
	for (int i = 0; i < 8; i++) {
		int h = hexval(line[i]);

		if (h < 0)
			return fail(err, errlen, "checksum \"%.8s\" is not 8 lowercase hex digits",
				    line);
		want = want << 4 | (uint32_t)h;
	}
	plen = len - 9;
	have = (uint32_t)crc32(0L, (const Bytef *)payload, (uInt)plen);
	if (have != want)
		return fail(err, errlen, "checksum mismatch (record says %08x, payload has %08x)",
			    want, have);
	if (memchr(payload, '\0', plen))
		return fail(err, errlen, "payload contains a NUL byte");

	tok = json_tokener_new_ex(JSON_PARSE_DEPTH);
	if (!tok)
		log_fatal("store: out of memory (json tokener)");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	r->root = json_tokener_parse_ex(tok, payload, (int)plen);
	jerr = json_tokener_get_error(tok);
	if (!r->root || jerr != json_tokener_success) {
		fail(err, errlen, "payload is not valid JSON (%s at byte %zu)",
		     jerr == json_tokener_continue ? "unexpected end"
						   : json_tokener_error_desc(jerr),
		     json_tokener_get_parse_end(tok));
		json_tokener_free(tok);
		rec_free(r);
		return -1;
	}
	if (json_tokener_get_parse_end(tok) != plen) {
		fail(err, errlen, "trailing bytes after the JSON payload at byte %zu",
		     json_tokener_get_parse_end(tok));
		json_tokener_free(tok);
		rec_free(r);
		return -1;
	}
	json_tokener_free(tok);
	if (parse_payload(r->root, r, err, errlen)) {
		rec_free(r);
		return -1;
	}
	return 0;
}

void rec_free(struct rec *r)
{
	json_object_put(r->root);
	memset(r, 0, sizeof(*r));
}
