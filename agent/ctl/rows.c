/* A list result written row by row: the array's serializer builds one row's object, writes it
 * and frees it before the next, so answering `service list` with 100,000 services holds the
 * answer's text and one row, not 100,000 trees of JSON objects (about 4 KB each). */
#include <stdlib.h>

#include <json-c/printbuf.h>

#include "ctl/ctl.h"
#include "lib/log.h"

struct rows {
	int n;
	ctl_row_fn row;
	void *ctx;
	void (*ctx_free)(void *ctx);
};

static int write_rows(struct json_object *o, struct printbuf *pb, int level, int flags)
{
	const struct rows *r = json_object_get_userdata(o);
	bool first = true;

	printbuf_strappend(pb, "[");
	for (int i = 0; i < r->n; i++) {
		struct json_object *row = r->row(r->ctx, i);
		const char *text;
		size_t len;

		if (!row)
			continue;
		text = json_object_to_json_string_length(row, flags, &len);
		if (!first)
			printbuf_strappend(pb, ",");
		printbuf_memappend(pb, text, (int)len);
		json_object_put(row);
		first = false;
	}
	printbuf_strappend(pb, "]");
	return 0;
}

static void free_rows(struct json_object *o, void *userdata)
{
	struct rows *r = userdata;

	if (r->ctx_free)
		r->ctx_free(r->ctx);
	free(r);
}

struct json_object *ctl_rows(int n, ctl_row_fn row, void *ctx, void (*ctx_free)(void *ctx))
{
	struct json_object *o = json_object_new_array();
	struct rows *r = malloc(sizeof(*r));

	if (!o || !r)
		log_fatal("ctl: out of memory");
	*r = (struct rows){.n = n, .row = row, .ctx = ctx, .ctx_free = ctx_free};
	json_object_set_serializer(o, write_rows, r, free_rows);
	return o;
}
