/* Control protocol: newline-delimited JSON over <run-dir>/edgelb.sock (mode 0600).
 *   request:  {"cmd": "pool.set", "args": {...}}
 *   response: {"ok": true, "result": ...} or {"ok": false, "error": "one line"}
 * Each module publishes a table of commands; the dispatcher refuses unknown commands and
 * unknown argument fields before a handler runs. A handler validates fully, then commits. */
#ifndef EDGELB_CTL_H
#define EDGELB_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct agent;

/* Bytes per request line: room for `apply -f` of ~100,000 manifests' worth of services. */
#define CTL_MAX_REQUEST (16 << 20)
#define CTL_MAX_REQUEST_STR "16 MiB (allowed: up to 16777216 bytes per request line)"
#define CTL_SOCK_NAME	"edgelb.sock"

struct ctl_err {
	char msg[512];
};

/* Formats the message into e and returns -1 (so handlers can `return ctl_fail(...)`). */
int ctl_fail(struct ctl_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef int (*ctl_fn)(struct agent *a, struct json_object *args, struct json_object **result,
		      struct ctl_err *err);

struct ctl_cmd {
	const char *name;
	ctl_fn fn;
	const char *const *fields; /* allowed keys of args, NULL-terminated; NULL = no args */
};

/* A list result built row by row while it is written (ctl/rows.c): row(ctx, i) for i in
 * 0..n-1 returns a new object (or NULL to skip i). The rows exist only as text, so an answer
 * reading agent state must be serialized before that state changes (the server does so at
 * once); until then the array looks empty to json_object_array_length(). ctx_free (may be
 * NULL) frees ctx with the array. */
typedef struct json_object *(*ctl_row_fn)(void *ctx, int i);
struct json_object *ctl_rows(int n, ctl_row_fn row, void *ctx, void (*ctx_free)(void *ctx));

/* Tables, each ended by {NULL}. One per module. */
extern const struct ctl_cmd ctl_core_cmds[];  /* ctl/core.c: status, switch.list */
extern const struct ctl_cmd alloc_ctl_cmds[]; /* alloc/ctl.c: pool.*, service.*, apply */
extern const struct ctl_cmd bgp_ctl_cmds[];   /* bgp/ctl.c: bgp.peer.* */
extern const struct ctl_cmd dp_ctl_cmds[];    /* dataplane/ctl.c: stats, explain */

/* Parses and checks one request line: JSON object, known cmd, args an object with allowed
 * fields only. On success *req owns everything (put it when done). 0, or -1 with e filled. */
int ctl_parse_request(const char *line, size_t len, struct json_object **req,
		      const struct ctl_cmd **cmd, struct json_object **args, struct ctl_err *e);
/* Runs one request (already parsed). Returns the response object (caller owns it). */
struct json_object *ctl_dispatch(struct agent *a, const char *line, size_t len);

/* Argument helpers: 0 ok (absent optional args leave *out untouched), -1 with e filled. */
int ctl_arg_str(struct json_object *args, const char *key, bool required, const char **out,
		struct ctl_err *e);
int ctl_arg_u64(struct json_object *args, const char *key, bool required, uint64_t max,
		uint64_t *out, struct ctl_err *e);
int ctl_arg_bool(struct json_object *args, const char *key, bool *out, struct ctl_err *e);
/* A list of strings (a JSON array of strings); *out is allocated, its strings borrowed. */
int ctl_arg_strv(struct json_object *args, const char *key, const char ***out, int *n,
		 struct ctl_err *e);

/* Server side. */
struct ctl_server *ctl_server_start(struct agent *a, const char *run_dir, char *err, size_t len);
void ctl_server_stop(struct ctl_server *s);

#endif
