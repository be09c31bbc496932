/* One line of a store file: "<crc32 hex> <json payload>\n". Encodes and decodes single records
 * (header, put, del) and checks them fully; knows nothing about files, fds or the in-memory
 * tables (agent/store/store.c owns those). Pure functions, so the unit test and the fuzz
 * target reach every branch of the parser directly. */
#ifndef EDGELB_STORE_RECORD_H
#define EDGELB_STORE_RECORD_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

#define REC_FORMAT_VERSION 1
#define REC_KIND_MAX	   64	/* bytes */
#define REC_KEY_MAX	   1024 /* bytes */
#define REC_VAL_DEPTH_MAX  32	/* nesting levels of a stored value */

enum rec_op { REC_HDR, REC_PUT, REC_DEL };

struct rec {
	enum rec_op op;
	const char *file; /* REC_HDR: "snapshot" or "journal" */
	uint64_t gen;	  /* REC_HDR */
	const char *kind; /* REC_PUT, REC_DEL */
	const char *key;
	struct json_object *val; /* REC_PUT; borrowed from root */
	int more;		 /* 1: another record of the same batch follows */
	struct json_object *root;
};

/* Growable output buffer; allocation failure is fatal. */
struct sbuf {
	char *p;
	size_t len, cap;
};

void sbuf_free(struct sbuf *b);

/* How a value is written: json-c's plain form (no spaces, every control character escaped,
 * so never a raw newline). The store keeps each value in memory as this text. */
#define REC_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Appends one complete line. rec_put_op takes the value as its text (REC_JSON_FLAGS form,
 * vlen bytes; ignored for REC_DEL). */
void rec_put_hdr(struct sbuf *b, const char *file, uint64_t gen);
void rec_put_op(struct sbuf *b, enum rec_op op, const char *kind, const char *key, const char *val,
		size_t vlen, int more);
/* Parses a value's text (NUL-terminated, len bytes) as written by the store: a new reference.
 * A text that does not parse is an impossible state (fatal). */
struct json_object *rec_val_parse(const char *text, size_t len);

/* Parses line[0..len) (without its '\n'). On error returns -1 with a message (no file/line
 * prefix) in err. On success the caller owns r->root (rec_free). */
int rec_parse(const char *line, size_t len, struct rec *r, char *err, size_t errlen);
void rec_free(struct rec *r);

/* Checks a kind/key name and a value before they are written: what is written must load. */
int rec_check_name(const char *what, const char *s, size_t max, char *err, size_t errlen);
int rec_check_val(struct json_object *val, char *err, size_t errlen);

#endif
