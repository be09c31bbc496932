/* The edgelb CLI: turns argv into one control request, prints the answer as a table or JSON.
 * Each concern has its own file with a command table; main.c only dispatches.
 * Exit codes: 0 ok, 1 refused by the agent, 2 bad usage, 3 agent unreachable. */
#ifndef EDGELB_CLI_H
#define EDGELB_CLI_H

#include <stdbool.h>
#include <json-c/json.h>

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

struct cli {
	const char *socket;
	bool json; /* -o json */
};

struct cli_cmd {
	const char *path;  /* words, e.g. "bgp peer set" */
	const char *alias; /* seed cmdlet accepted verbatim (case-insensitive), or NULL */
	int (*fn)(struct cli *c, int argc, char **argv); /* argv: what follows the words */
	const char *usage; /* one line: options */
	const char *help;  /* one line: what it does */
};

/* Tables, each ended by {NULL}. */
extern const struct cli_cmd cli_core_cmds[];	/* cli/core.c: status, switch list */
extern const struct cli_cmd cli_alloc_cmds[];	/* cli/alloc.c: pool, service, apply */
extern const struct cli_cmd cli_bgp_cmds[];	/* cli/bgp.c: bgp peer ... + cmdlets */
extern const struct cli_cmd cli_dp_cmds[];	/* cli/dataplane.c: stats, explain */

/* Options. Accepts --name VALUE, --name=VALUE, and for aliases -Alias VALUE (any case).
 * OPT_FLAG takes no value, or =true/=false. OPT_LIST may be given up to CLI_LIST_MAX times,
 * each value kept in order. Positional arguments are collected in order. */
enum cli_opt_kind { OPT_STR, OPT_FLAG, OPT_LIST };
#define CLI_LIST_MAX 8
struct cli_opt {
	const char *name;  /* "peer-address" */
	const char *alias; /* "PeerAddress" (cmdlet parameter), or NULL */
	enum cli_opt_kind kind;
	const char *val; /* out: value (OPT_FLAG: "true"/"false"; OPT_LIST: the last) */
	bool set;	 /* out */
	const char *vals[CLI_LIST_MAX]; /* out, OPT_LIST: every value */
	int n_vals;
};
/* Returns 0, or prints "edgelb: ..." and returns EXIT_USAGE. pos gets up to max_pos args. */
int cli_parse(const char *cmd, int argc, char **argv, struct cli_opt *opts, int nopts,
	      char **pos, int max_pos, int *npos);
struct cli_opt *cli_opt(struct cli_opt *opts, int nopts, const char *name);

/* Sends {"cmd":cmd,"args":args} (args consumed) and waits for the answer.
 * On ok returns 0 and *result (owned by caller, may be NULL); otherwise prints the error
 * (agent message, or the unreachable socket path) and returns the exit code. */
int cli_call(struct cli *c, const char *cmd, struct json_object *args,
	     struct json_object **result);

/* A list answer kept as text, its rows parsed one at a time: a list of 100,000 services is
 * never one tree of JSON objects. An answer in another form is parsed whole (all). */
struct cli_rows {
	char *buf;
	size_t len, off, at;
	struct json_tokener *tok;
	struct json_object *all;
};
/* cli_call for a list: 0 with r ready (cli_rows_free it), or the exit code (error printed). */
int cli_call_rows(struct cli *c, const char *cmd, struct json_object *args,
		  struct cli_rows *r);
/* The next row (owned by the caller), or NULL after the last. */
struct json_object *cli_rows_next(struct cli_rows *r);
void cli_rows_rewind(struct cli_rows *r);
void cli_rows_free(struct cli_rows *r);

/* A column: header and the JSON key of each row object. */
struct cli_col {
	const char *header;
	const char *key;
	bool left; /* keep a number column left-aligned (numbers align right by default) */
};
/* Prints rows as a table (two passes: widths, then lines), or as JSON with -o json. */
void cli_print_rows(struct cli *c, struct cli_rows *rows, const struct cli_col *cols);
/* Prints one object as "Key : value" lines (like PowerShell's list view), or JSON. */
void cli_print_object(struct cli *c, struct json_object *obj, const struct cli_col *cols);
/* cli_call, then the answer printed as rows (a table) or as one object (a list view), or as
 * JSON with -o json. Returns the exit code. */
int cli_show(struct cli *c, const char *cmd, struct json_object *args,
	     const struct cli_col *cols, bool rows);
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
