/* The state store: objects created at run time (pools, peers, services, assignments)
 * that must survive restarts. An interface with one back end today (files under --state-dir);
 * an etcd back end can slot in behind the same calls. Callers never see files.
 *
 * Objects are (kind, key) → JSON. A put/del is durable when it returns (group commit inside
 * store_batch_begin/end: one fsync for the batch). */
#ifndef EDGELB_STORE_H
#define EDGELB_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct store;

/* Opens (creating the dir if needed) and loads. A torn or corrupt file is reported in err and
 * the open fails: state is never dropped or overwritten silently. One exception: a journal
 * whose end is a torn append (an unterminated last line or an unfinished batch, neither ever
 * acknowledged) is copied to <dir>/journal.torn-<time>, logged at error level and cut back.
 * A second open of a dir that is open (in any process) fails: the dir is flock'ed. */
struct store *store_open(const char *dir, char *err, size_t errlen);
void store_close(struct store *s);

/* val is not consumed (the store keeps its own copy, as JSON text). kind: 1..64 bytes, key:
 * 1..1024 bytes, val: non-null, finite numbers, nested at most 32 levels. Returns 0, or -1
 * with errno (EINVAL for a refused argument, else the I/O error) and nothing changed.
 * store_del of an absent object returns 0 and writes nothing. */
int store_put(struct store *s, const char *kind, const char *key, struct json_object *val);
int store_del(struct store *s, const char *kind, const char *key);
/* Borrowed reference (do not modify it), or NULL; it stays valid until the object is replaced
 * or deleted, and stays in memory as long (a parsed tree costs ~10x the stored text: code that
 * reads many objects uses store_read or store_foreach). */
struct json_object *store_get(struct store *s, const char *kind, const char *key);
/* A new reference the caller owns (and may modify), or NULL. */
struct json_object *store_read(struct store *s, const char *kind, const char *key);
bool store_has(struct store *s, const char *kind, const char *key);

typedef int (*store_iter_fn)(const char *key, struct json_object *val, void *arg);
/* Calls fn for each object of kind, in key order (strcmp); stops early if fn returns non-zero
 * and returns that value. fn may put/del: it sees the objects as they were at the call. val is
 * parsed for the call and released after it (take a reference to keep it). */
int store_foreach(struct store *s, const char *kind, store_iter_fn fn, void *arg);
size_t store_count(struct store *s, const char *kind); /* kind NULL: all objects */

/* Batches nest; writes inside are visible to store_get at once and reach the disk at the
 * outermost store_batch_end, all or nothing (also across a crash). If that write fails, the
 * whole batch is undone in memory and -1 is returned. */
void store_batch_begin(struct store *s);
int store_batch_end(struct store *s); /* writes and fsyncs once */

#endif
