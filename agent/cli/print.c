/* Output of the CLI: tables (columns from JSON keys), PowerShell-style list views, or the raw
 * JSON with -o json. Lists print as {a, b} and booleans as True/False, as in the seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Renders one value as table text into buf. */
static void cell(struct json_object *v, char *buf, size_t len)
{
	buf[0] = '\0';
	switch (json_object_get_type(v)) {
	case json_type_null:
		break;
	case json_type_boolean:
		snprintf(buf, len, "%s", json_object_get_boolean(v) ? "True" : "False");
		break;
	case json_type_array: {
		size_t n = json_object_array_length(v), l;
		if (n == 0) {
			snprintf(buf, len, "{}");
			break;
		}
		snprintf(buf, len, "{");
		for (size_t i = 0; i < n; i++) {
			char sub[256];
			cell(json_object_array_get_idx(v, i), sub, sizeof(sub));
			l = strlen(buf);
			snprintf(buf + l, len - l, "%s%s", i ? ", " : "", sub);
		}
		l = strlen(buf);
		snprintf(buf + l, len - l, "}");
		break;
	}
	case json_type_object:
		snprintf(buf, len, "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		break;
	default:
		snprintf(buf, len, "%s", json_object_get_string(v));
	}
}

static struct json_object *field(struct json_object *row, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(row, key, &v);
	return v;
}

/* One table cell: numbers right-aligned (header and dashes too, as PowerShell does), text
 * left-aligned; the last column is not padded, so lines carry no trailing blanks. */
static void put_cell(const char *text, int width, bool right, bool last)
{
	if (right)
		printf("%*s", width, text);
	else if (last)
		printf("%s", text);
	else
		printf("%-*s", width, text);
	printf(last ? "\n" : " ");
}

/* -o json of the rows, as json-c prints the whole array pretty: each row is printed inside
 * an array of one (to get its indentation) without that array's brackets. */
static void print_json_rows(struct cli_rows *rows)
{
	struct json_object *row, *one;
	bool first = true;

	printf("[\n");
	while ((row = cli_rows_next(rows))) {
		const char *s;
		size_t n;

		one = json_object_new_array_ext(1);
		json_object_array_add(one, row);
		s = json_object_to_json_string_length(
		    one, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
		/* "[\n" + row + "\n]" */
		printf("%s%.*s", first ? "" : ",\n", n >= 4 ? (int)(n - 4) : 0, s + 2);
		json_object_put(one);
		first = false;
	}
	printf("%s]\n", first ? "" : "\n");
}

void cli_print_rows(struct cli *c, struct cli_rows *rows, const struct cli_col *cols)
{
	struct json_object *row;
	int ncol = 0;
	size_t width[32] = {0}, n = 0;
	bool numeric[32];
	char buf[1024];

	if (c->json) {
		print_json_rows(rows);
		return;
	}
	for (ncol = 0; cols[ncol].header && ncol < 32; ncol++) {
		width[ncol] = strlen(cols[ncol].header);
		numeric[ncol] = !cols[ncol].left;
	}
	for (; (row = cli_rows_next(rows)); n++) {
		for (int k = 0; k < ncol; k++) {
			struct json_object *v = field(row, cols[k].key);
			cell(v, buf, sizeof(buf));
			if (strlen(buf) > width[k])
				width[k] = strlen(buf);
			if (!json_object_is_type(v, json_type_int))
				numeric[k] = false;
		}
		json_object_put(row);
	}
	if (n == 0)
		return; /* like the seed's Get-HcsBGPPeers: nothing to show, nothing printed */
	printf("\n");
	for (int k = 0; k < ncol; k++)
		put_cell(cols[k].header, (int)width[k], numeric[k], k + 1 == ncol);
	for (int k = 0; k < ncol; k++) {
		char dashes[256];
		size_t l = strlen(cols[k].header) < sizeof(dashes) - 1 ? strlen(cols[k].header) : sizeof(dashes) - 1;
		memset(dashes, '-', l);
		dashes[l] = '\0';
		put_cell(dashes, (int)width[k], numeric[k], k + 1 == ncol);
	}
	cli_rows_rewind(rows);
	while ((row = cli_rows_next(rows))) {
		for (int k = 0; k < ncol; k++) {
			cell(field(row, cols[k].key), buf, sizeof(buf));
			put_cell(buf, (int)width[k], numeric[k], k + 1 == ncol);
		}
		json_object_put(row);
	}
	printf("\n");
}

void cli_print_object(struct cli *c, struct json_object *obj, const struct cli_col *cols)
{
	size_t w = 0;
	char buf[4096];

	if (c->json) {
		print_json(obj);
		return;
	}
	for (int k = 0; cols[k].header; k++)
		if (strlen(cols[k].header) > w)
			w = strlen(cols[k].header);
	printf("\n");
	for (int k = 0; cols[k].header; k++) {
		cell(field(obj, cols[k].key), buf, sizeof(buf));
		printf("%-*s : %s\n", (int)w, cols[k].header, buf);
	}
}

int cli_show(struct cli *c, const char *cmd, struct json_object *args,
	     const struct cli_col *cols, bool rows)
{
	struct json_object *res = NULL;
	struct cli_rows r;
	int rc;

	if (rows) {
		rc = cli_call_rows(c, cmd, args, &r);
		if (rc)
			return rc;
		cli_print_rows(c, &r, cols);
		cli_rows_free(&r);
		return 0;
	}
	rc = cli_call(c, cmd, args, &res);
	if (rc)
		return rc;
	cli_print_object(c, res, cols);
	json_object_put(res);
	return 0;
}
