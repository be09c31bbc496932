/* The file back end of the state store: objects in memory (one tsearch tree per kind, keyed by
 * strcmp order; each value kept as its JSON text) and, in --state-dir, two files of record lines
 * (agent/store/record.c):
 *   snapshot  header {"op":"snapshot","gen":G} then one put per live object (written whole)
 *   journal   header {"op":"journal","gen":G} then put/del records appended since snapshot G
 *   lock      flock(LOCK_EX) held while open: one agent per state dir
 * A write returns after its record is appended and fdatasync'd (a batch: all its records, one
 * fdatasync; all but its last record carry "more":true so a batch loads whole or not at all).
 *
 * Compaction (journal longer than max(1000, 2 x live objects) records), in this order:
 *   1. journal.tmp  <- header gen G+1; fsync          crash: *.tmp removed at next open
 *   2. snapshot.tmp <- every live object, gen G+1; fsync
 *   3. rename snapshot.tmp -> snapshot; fsync dir     crash after: snapshot G+1 + journal G, and
 *      a journal whose gen is one behind the snapshot's is already inside it: it is skipped
 *      (never applied twice) and replaced at open
 *   4. rename journal.tmp -> journal; fsync dir       from here appends go to journal G+1
 * A failure after step 3 leaves the store refusing writes until restart (which recovers).
 *
 * Loading: any bad line (checksum, JSON, fields, header, generation) fails the open with
 * "<file>:<line>: <what>" and touches nothing. One exception, for a crash mid-append: a journal
 * whose end is an unterminated line or an unfinished batch (never acknowledged to a caller) is
 * copied to journal.torn-<unix time>, logged at error level, and truncated to its last
 * complete batch. Torn snapshots are always fatal (they are renamed into place whole). */
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/log.h"
#include "store/record.h"
#include "store/store.h"

#define COMPACT_MIN_RECORDS 1000
#define WRITE_CHUNK	    (1 << 20) /* bytes of records buffered before a write(2) */

/* One object: its key and its value as JSON text (rec_put_op's form), in one allocation that
 * never changes: a put replaces the whole obj. Reference counted, so store_foreach and an
 * open batch can hold objects that a write replaces meanwhile. The text is far smaller than a
 * json-c tree (100,000 assignments: ~10 MB instead of ~100 MB); a parsed tree is made only
 * for store_get (kept while the obj lives) or for the length of a callback. */
struct obj {
	const char *key;	    /* data, or a lookup probe's key */
	struct json_object *parsed; /* store_get's borrowed tree, made on first use */
	unsigned ref;
	unsigned klen;
	char data[]; /* key '\0' value text '\0' */
};

struct kind {
	char *name;
	void *root; /* tsearch tree of struct obj */
	size_t count;
	struct kind *next;
};

/* One write of an open batch: what it set (NULL: deleted) and what it replaced (for rollback);
 * references. A del always replaces an object (store_del of an absent one writes nothing). */
struct pending {
	struct kind *kind;
	struct obj *val, *old;
};

struct store {
	char *dir;
	int dirfd, lockfd, jfd;
	uint64_t gen;	   /* generation of snapshot and journal */
	off_t jsize;	   /* bytes of committed journal */
	size_t jrecords;   /* records in the journal after its header */
	size_t compact_at; /* after a failed compaction: retry at this many records */
	size_t live;
	struct kind *kinds;
	int batch_depth;
	struct pending *pend;
	size_t npend, cappend;
	int broken; /* disk state unknown after a failed fsync/rename: refuse writes */
};

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (!p)
		log_fatal("store: out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		log_fatal("store: out of memory");
	return p;
}

/* --- memory ------------------------------------------------------------ */

static struct obj *obj_new(const char *key, const char *val, size_t vlen)
{
	size_t klen = strlen(key);
	struct obj *o = malloc(sizeof(*o) + klen + vlen + 2);

	if (!o)
		log_fatal("store: out of memory");
	memcpy(o->data, key, klen + 1);
	memcpy(o->data + klen + 1, val, vlen);
	o->data[klen + 1 + vlen] = '\0';
	o->key = o->data;
	o->parsed = NULL;
	o->ref = 1;
	o->klen = (unsigned)klen;
	return o;
}

/* An obj holding json's text. */
static struct obj *obj_of_json(const char *key, struct json_object *val)
{
	size_t n;
	const char *text = json_object_to_json_string_length(val, REC_JSON_FLAGS, &n);

	if (!text)
		log_fatal("store: out of memory (writing a value)");
	return obj_new(key, text, n);
}

static const char *obj_val(const struct obj *o)
{
	return o->data + o->klen + 1;
}

static size_t obj_vlen(const struct obj *o)
{
	return strlen(obj_val(o));
}

/* The value as a new tree (never store_get's: the caller may edit it). */
static struct json_object *obj_json(const struct obj *o)
{
	return rec_val_parse(obj_val(o), obj_vlen(o));
}

static struct obj *obj_ref(struct obj *o)
{
	if (o)
		o->ref++;
	return o;
}

static void obj_unref(struct obj *o)
{
	if (!o || --o->ref)
		return;
	json_object_put(o->parsed);
	free(o);
}

static int obj_cmp(const void *a, const void *b)
{
	return strcmp(((const struct obj *)a)->key, ((const struct obj *)b)->key);
}

static struct kind *kind_get(struct store *s, const char *name, int create)
{
	struct kind *k;

	for (k = s->kinds; k; k = k->next)
		if (strcmp(k->name, name) == 0)
			return k;
	if (!create)
		return NULL;
	k = xcalloc(1, sizeof(*k));
	k->name = xstrdup(name);
	k->next = s->kinds;
	s->kinds = k;
	return k;
}

static struct obj *obj_find(struct kind *k, const char *key)
{
	struct obj probe = {.key = key};
	void **slot;

	if (!k || !key)
		return NULL;
	slot = tfind(&probe, &k->root, obj_cmp);
	return slot ? *slot : NULL;
}

/* Sets key of kind k to o (a reference the store takes; NULL deletes). Returns the replaced
 * object's reference (the caller drops it) or NULL. */
static struct obj *mem_set(struct store *s, struct kind *k, const char *key, struct obj *o)
{
	struct obj probe = {.key = key}, *old;
	void **slot = tfind(&probe, &k->root, obj_cmp);

	if (slot) {
		old = *slot;
		if (o) {
			*slot = o; /* same key: the tree's order holds */
			return old;
		}
		tdelete(old, &k->root, obj_cmp);
		k->count--;
		s->live--;
		return old;
	}
	if (!o)
		return NULL;
	if (!tsearch(o, &k->root, obj_cmp))
		log_fatal("store: out of memory");
	k->count++;
	s->live++;
	return NULL;
}

/* mem_set by kind name; a delete never creates the kind. */
static struct obj *mem_set_name(struct store *s, const char *kind, const char *key, struct obj *o)
{
	struct kind *k = kind_get(s, kind, o != NULL);

	return k ? mem_set(s, k, key, o) : NULL;
}

static void obj_free(void *p)
{
	obj_unref(p);
}

static void mem_free(struct store *s)
{
	struct kind *k, *next;

	for (k = s->kinds; k; k = next) {
		next = k->next;
		tdestroy(k->root, obj_free);
		free(k->name);
		free(k);
	}
	s->kinds = NULL;
	s->live = 0;
}

struct json_object *store_get(struct store *s, const char *kind, const char *key)
{
	struct obj *o = obj_find(kind_get(s, kind, 0), key);

	if (!o)
		return NULL;
	if (!o->parsed)
		o->parsed = obj_json(o);
	return o->parsed;
}

struct json_object *store_read(struct store *s, const char *kind, const char *key)
{
	struct obj *o = obj_find(kind_get(s, kind, 0), key);

	return o ? obj_json(o) : NULL;
}

bool store_has(struct store *s, const char *kind, const char *key)
{
	return obj_find(kind_get(s, kind, 0), key) != NULL;
}

size_t store_count(struct store *s, const char *kind)
{
	struct kind *k;

	if (!kind)
		return s->live;
	k = kind_get(s, kind, 0);
	return k ? k->count : 0;
}

struct walk {
	struct obj **items; /* references: fn may put/del while we iterate */
	size_t n;
};

static void walk_collect(const void *nodep, VISIT which, void *arg)
{
	struct walk *w = arg;

	if (which != postorder && which != leaf)
		return;
	w->items[w->n++] = obj_ref(*(struct obj *const *)nodep);
}

int store_foreach(struct store *s, const char *kind, store_iter_fn fn, void *arg)
{
	struct kind *k = kind_get(s, kind, 0);
	struct walk w = {0};
	int rc = 0;

	if (!k || !k->count)
		return 0;
	w.items = xcalloc(k->count, sizeof(*w.items));
	twalk_r(k->root, walk_collect, &w);
	for (size_t i = 0; i < w.n; i++) {
		if (!rc) {
			struct json_object *v = obj_json(w.items[i]);

			rc = fn(w.items[i]->key, v, arg);
			json_object_put(v);
		}
		obj_unref(w.items[i]);
	}
	free(w.items);
	return rc;
}

/* --- files ------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads a whole file below dirfd. Returns 0, 1 when it does not exist, -1 on error (in err). */
static int read_whole(struct store *s, const char *name, char **out, size_t *outlen, char *err,
		      size_t errlen)
{
	struct stat st;
	size_t len = 0;
	char *buf;
	int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s/%s: open: %s", s->dir, name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s/%s: not a readable regular file", s->dir, name);
		close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		log_fatal("store: out of memory (%s/%s is %lld bytes)", s->dir, name,
			  (long long)st.st_size);
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "%s/%s: read: %s", s->dir, name,
				 r < 0 ? strerror(errno) : "file shrank while reading");
			free(buf);
			close(fd);
			return -1;
		}
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/* Writes data to a new file name (replacing an old one), fsyncs it, returns its fd (or -1). */
static int write_new(struct store *s, const char *name, const char *data, size_t len)
{
	int fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0) {
		log_err("store %s/%s: create: %s", s->dir, name, strerror(errno));
		return -1;
	}
	if (write_all(fd, data, len) || fsync(fd)) {
		log_err("store %s/%s: write: %s", s->dir, name, strerror(errno));
		close(fd);
		unlinkat(s->dirfd, name, 0);
		return -1;
	}
	return fd;
}

static int sync_dir(struct store *s)
{
	if (fsync(s->dirfd)) {
		log_err("store %s: fsync of the directory: %s", s->dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* journal.tmp with the header of gen, fsync'd; its fd or -1. */
static int journal_tmp(struct store *s, uint64_t gen, off_t *size)
{
	struct sbuf b = {0};
	int fd;

	rec_put_hdr(&b, "journal", gen);
	fd = write_new(s, "journal.tmp", b.p, b.len);
	*size = (off_t)b.len;
	sbuf_free(&b);
	return fd;
}

/* Renames journal.tmp (open as fd) over the journal and appends to it from now on. */
static int journal_install(struct store *s, int fd, uint64_t gen, off_t size)
{
	if (renameat(s->dirfd, "journal.tmp", s->dirfd, "journal")) {
		log_err("store %s: rename journal.tmp -> journal: %s", s->dir, strerror(errno));
		close(fd);
		return -1;
	}
	if (s->jfd >= 0)
		close(s->jfd);
	s->jfd = fd;
	s->gen = gen;
	s->jsize = size;
	s->jrecords = 0;
	s->compact_at = 0;
	return sync_dir(s);
}

struct snapwalk {
	struct sbuf b;
	const char *kind;
	int fd, failed;
};

static void snap_flush(struct snapwalk *w, size_t above)
{
	if (w->b.len <= above || w->failed)
		return;
	if (write_all(w->fd, w->b.p, w->b.len))
		w->failed = errno;
	w->b.len = 0;
}

static void snap_collect(const void *nodep, VISIT which, void *arg)
{
	struct snapwalk *w = arg;
	const struct obj *o = *(struct obj *const *)nodep;

	if (which != postorder && which != leaf)
		return;
	rec_put_op(&w->b, REC_PUT, w->kind, o->key, obj_val(o), obj_vlen(o), 0);
	snap_flush(w, 1 << 20);
}

static int snapshot_tmp(struct store *s, uint64_t gen)
{
	struct snapwalk w = {.fd = -1};

	w.fd = openat(s->dirfd, "snapshot.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (w.fd < 0) {
		log_err("store %s/snapshot.tmp: create: %s", s->dir, strerror(errno));
		return -1;
	}
	rec_put_hdr(&w.b, "snapshot", gen);
	for (struct kind *k = s->kinds; k; k = k->next) {
		w.kind = k->name;
		twalk_r(k->root, snap_collect, &w);
	}
	snap_flush(&w, 0);
	sbuf_free(&w.b);
	if (!w.failed && fsync(w.fd))
		w.failed = errno;
	close(w.fd);
	if (w.failed) {
		log_err("store %s/snapshot.tmp: write: %s", s->dir, strerror(w.failed));
		unlinkat(s->dirfd, "snapshot.tmp", 0);
		return -1;
	}
	return 0;
}

/* The order and why it is crash-safe: see the top of this file. */
static int compact(struct store *s)
{
	uint64_t gen = s->gen + 1;
	off_t jsize;
	int jfd = journal_tmp(s, gen, &jsize);

	if (jfd < 0)
		return -1;
	if (snapshot_tmp(s, gen)) {
		close(jfd);
		unlinkat(s->dirfd, "journal.tmp", 0);
		return -1;
	}
	if (renameat(s->dirfd, "snapshot.tmp", s->dirfd, "snapshot")) {
		log_err("store %s: rename snapshot.tmp -> snapshot: %s", s->dir, strerror(errno));
		close(jfd);
		unlinkat(s->dirfd, "snapshot.tmp", 0);
		unlinkat(s->dirfd, "journal.tmp", 0);
		return -1;
	}
	/* From here the old journal may be stale on disk: appending to it would lose data. */
	if (sync_dir(s) || journal_install(s, jfd, gen, jsize)) {
		s->broken = 1;
		log_err("store %s: compaction half done; refusing writes until edgelbd restarts "
			"(the next start loads the new snapshot)",
			s->dir);
		return -1;
	}
	log_debug("store %s: compacted %zu objects into snapshot gen %llu", s->dir, s->live,
		  (unsigned long long)gen);
	return 0;
}

static void maybe_compact(struct store *s)
{
	size_t limit = 2 * s->live > COMPACT_MIN_RECORDS ? 2 * s->live : COMPACT_MIN_RECORDS;

	if (s->jrecords <= limit || s->jrecords < s->compact_at)
		return;
	if (compact(s))
		s->compact_at = s->jrecords + limit; /* retry later; the journal is still valid */
}

/* A journal append of one or more records, written in chunks of WRITE_CHUNK bytes (a batch of
 * 100,000 records is not held whole in memory; the "more" flags keep it all-or-nothing) and
 * fdatasync'd once at jw_end. */
struct jwrite {
	struct store *s;
	struct sbuf b;
	size_t n;    /* records */
	off_t bytes; /* written so far */
	int err;     /* errno of the first failure */
};

static int jw_start(struct store *s, struct jwrite *w)
{
	*w = (struct jwrite){.s = s};
	if (s->broken) {
		log_err("store %s: refusing a write after an earlier storage failure", s->dir);
		errno = EIO;
		return -1;
	}
	return 0;
}

static void jw_flush(struct jwrite *w)
{
	if (!w->err && write_all(w->s->jfd, w->b.p, w->b.len))
		w->err = errno;
	w->bytes += (off_t)w->b.len;
	w->b.len = 0;
}

static void jw_op(struct jwrite *w, enum rec_op op, const char *kind, const struct obj *o, int more)
{
	if (op == REC_PUT)
		rec_put_op(&w->b, op, kind, o->key, obj_val(o), obj_vlen(o), more);
	else
		rec_put_op(&w->b, op, kind, o->key, NULL, 0, more);
	w->n++;
	if (w->b.len >= WRITE_CHUNK)
		jw_flush(w);
}

/* Makes the records durable; on failure the journal is cut back to where it was. */
static int jw_end(struct jwrite *w)
{
	struct store *s = w->s;
	int e;

	jw_flush(w);
	sbuf_free(&w->b);
	if (!w->err && !fdatasync(s->jfd)) {
		s->jsize += w->bytes;
		s->jrecords += w->n;
		return 0;
	}
	e = w->err ? w->err : errno;
	log_err("store %s/journal: append of %zu records: %s", s->dir, w->n, strerror(e));
	/* After a failed fdatasync the page cache state is unknown: stop writing. */
	if (ftruncate(s->jfd, s->jsize) || fdatasync(s->jfd)) {
		s->broken = 1;
		log_err("store %s/journal: cannot cut back to %lld bytes: refusing writes", s->dir,
			(long long)s->jsize);
	}
	errno = e;
	return -1;
}

/* --- writes ------------------------------------------------------------- */

static int check_args(struct store *s, const char *kind, const char *key, struct json_object *val,
		      int is_put)
{
	char err[160];

	if (rec_check_name("kind", kind, REC_KIND_MAX, err, sizeof(err)) ||
	    rec_check_name("key", key, REC_KEY_MAX, err, sizeof(err)) ||
	    (is_put && rec_check_val(val, err, sizeof(err)))) {
		log_err("store %s: refused %s %.64s/%.64s: %s", s->dir, is_put ? "put" : "del",
			kind ? kind : "", key ? key : "", err);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static void pend_push(struct store *s, struct kind *k, struct obj *val, struct obj *old)
{
	struct pending *p;

	if (s->npend == s->cappend) {
		s->cappend = s->cappend ? 2 * s->cappend : 64;
		s->pend = realloc(s->pend, s->cappend * sizeof(*s->pend));
		if (!s->pend)
			log_fatal("store: out of memory");
	}
	p = &s->pend[s->npend++];
	p->kind = k;
	p->val = val;
	p->old = old;
}

/* o: a reference the store takes (the new object), or NULL to delete key (which exists). */
static int set(struct store *s, const char *kind, const char *key, struct obj *o)
{
	struct kind *k = kind_get(s, kind, 1);
	struct jwrite w;

	if (s->batch_depth) {
		struct obj *old = mem_set(s, k, key, obj_ref(o));

		pend_push(s, k, o, old);
		return 0;
	}
	if (jw_start(s, &w)) {
		obj_unref(o);
		return -1;
	}
	jw_op(&w, o ? REC_PUT : REC_DEL, kind, o ? o : obj_find(k, key), 0);
	if (jw_end(&w)) {
		obj_unref(o);
		return -1;
	}
	obj_unref(mem_set(s, k, key, o));
	maybe_compact(s);
	return 0;
}

int store_put(struct store *s, const char *kind, const char *key, struct json_object *val)
{
	if (check_args(s, kind, key, val, 1))
		return -1;
	/* The value's text: a caller changing its object later cannot change the store behind
	 * the journal's back. */
	return set(s, kind, key, obj_of_json(key, val));
}

int store_del(struct store *s, const char *kind, const char *key)
{
	if (check_args(s, kind, key, NULL, 0))
		return -1;
	if (!store_has(s, kind, key))
		return 0;
	return set(s, kind, key, NULL);
}

void store_batch_begin(struct store *s)
{
	s->batch_depth++;
}

/* Undoes the pending writes in memory, newest first (they stay pending). */
static void pend_undo(struct store *s)
{
	for (size_t i = s->npend; i-- > 0;) {
		const struct pending *p = &s->pend[i];

		if (p->val || p->old) /* else a del of nothing (a journal may hold one) */
			obj_unref(mem_set(s, p->kind, p->val ? p->val->key : p->old->key,
					  obj_ref(p->old)));
	}
}

static void pend_clear(struct store *s)
{
	for (size_t i = 0; i < s->npend; i++) {
		obj_unref(s->pend[i].val);
		obj_unref(s->pend[i].old);
	}
	s->npend = 0;
	if (s->cappend > 1024) { /* a large batch does not keep its array */
		free(s->pend);
		s->pend = NULL;
		s->cappend = 0;
	}
}

int store_batch_end(struct store *s)
{
	struct jwrite w;
	int rc;

	if (s->batch_depth <= 0)
		log_fatal("store: store_batch_end without store_batch_begin");
	if (--s->batch_depth > 0 || s->npend == 0)
		return 0;
	rc = jw_start(s, &w);
	if (!rc) {
		for (size_t i = 0; i < s->npend; i++) {
			const struct pending *p = &s->pend[i];

			jw_op(&w, p->val ? REC_PUT : REC_DEL, p->kind->name,
			      p->val ? p->val : p->old, i + 1 < s->npend);
		}
		rc = jw_end(&w);
	}
	if (rc) {
		/* Nothing of the batch is on disk: undo it in memory. */
		pend_undo(s);
		log_err("store %s: batch of %zu writes rolled back", s->dir, s->npend);
	}
	pend_clear(s);
	if (!rc)
		maybe_compact(s);
	return rc;
}

/* --- loading ------------------------------------------------------------ */

struct lines {
	const char *buf;
	size_t len, off;
	unsigned lineno;
};

/* Next complete line (without '\n'); 0 at the end, -1 for an unterminated last line. */
static int next_line(struct lines *l, const char **line, size_t *len)
{
	const char *nl;

	if (l->off >= l->len)
		return 0;
	nl = memchr(l->buf + l->off, '\n', l->len - l->off);
	if (!nl)
		return -1;
	*line = l->buf + l->off;
	*len = (size_t)(nl - *line);
	l->off = (size_t)(nl - l->buf) + 1;
	l->lineno++;
	return 1;
}

static int read_header(struct store *s, const char *name, struct lines *l, uint64_t *gen, char *err,
		       size_t errlen)
{
	const char *line;
	size_t len;
	struct rec r;
	char why[200];
	int n = next_line(l, &line, &len);

	if (n <= 0) {
		snprintf(err, errlen, "%s/%s:1: %s (want a \"%s\" header line)", s->dir, name,
			 n == 0 ? "file is empty" : "first line is not terminated", name);
		return -1;
	}
	if (rec_parse(line, len, &r, why, sizeof(why))) {
		snprintf(err, errlen, "%s/%s:1: %s", s->dir, name, why);
		return -1;
	}
	if (r.op != REC_HDR || strcmp(r.file, name)) {
		snprintf(err, errlen, "%s/%s:1: first record is not a \"%s\" header", s->dir, name,
			 name);
		rec_free(&r);
		return -1;
	}
	*gen = r.gen;
	rec_free(&r);
	return 0;
}

static int load_snapshot(struct store *s, int *present, char *err, size_t errlen)
{
	struct lines l = {0};
	char *buf, why[200];
	const char *line;
	size_t len;
	int n, rc = -1;

	n = read_whole(s, "snapshot", &buf, &l.len, err, errlen);
	*present = n == 0;
	if (n)
		return n > 0 ? 0 : -1;
	l.buf = buf;
	if (read_header(s, "snapshot", &l, &s->gen, err, errlen))
		goto out;
	while ((n = next_line(&l, &line, &len)) > 0) {
		struct rec r;
		struct obj *old;

		if (rec_parse(line, len, &r, why, sizeof(why))) {
			snprintf(err, errlen, "%s/snapshot:%u: %s", s->dir, l.lineno, why);
			goto out;
		}
		if (r.op != REC_PUT || r.more) {
			snprintf(err, errlen,
				 "%s/snapshot:%u: only plain put records belong in a "
				 "snapshot",
				 s->dir, l.lineno);
			rec_free(&r);
			goto out;
		}
		old = mem_set_name(s, r.kind, r.key, obj_of_json(r.key, r.val));
		rec_free(&r);
		if (old) {
			obj_unref(old);
			snprintf(err, errlen, "%s/snapshot:%u: duplicate object", s->dir, l.lineno);
			goto out;
		}
	}
	if (n < 0) {
		snprintf(err, errlen,
			 "%s/snapshot:%u: last line is not terminated (a snapshot is "
			 "renamed into place whole, so it is corrupt)",
			 s->dir, l.lineno + 1);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

struct journal_load {
	int present, stale;
	int torn;	    /* unterminated last line or unfinished batch */
	unsigned torn_line; /* first line not applied */
	size_t end;	    /* bytes of complete batches */
	size_t file_len;
	size_t records;
};

static int load_journal(struct store *s, int snap_present, struct journal_load *jl, char *err,
			size_t errlen)
{
	struct lines l = {0};
	unsigned batch_line = 0;
	char *buf, why[200];
	const char *line;
	size_t len;
	uint64_t gen;
	int n, rc = -1;

	n = read_whole(s, "journal", &buf, &l.len, err, errlen);
	if (n < 0)
		return -1;
	if (n > 0) {
		if (!snap_present)
			return 0; /* a new state dir */
		snprintf(err, errlen,
			 "%s/journal: missing while %s/snapshot exists (the journal "
			 "holds the writes since that snapshot)",
			 s->dir, s->dir);
		return -1;
	}
	jl->present = 1;
	jl->file_len = l.len;
	l.buf = buf;
	if (read_header(s, "journal", &l, &gen, err, errlen))
		goto out;
	if (gen + 1 == s->gen && snap_present) {
		/* Compaction stopped between its renames: the snapshot holds all of it. */
		jl->stale = 1;
		rc = 0;
		goto out;
	}
	if (gen != s->gen) {
		snprintf(err, errlen, "%s/journal:1: generation %llu does not follow %s %llu",
			 s->dir, (unsigned long long)gen,
			 snap_present ? "the snapshot's generation"
				      : "a missing snapshot, generation",
			 (unsigned long long)s->gen);
		goto out;
	}
	jl->end = l.off;
	/* A batch is applied record by record, its undo kept in s->pend (object references, not
	 * parsed records: a batch of 100,000 costs ~2 MB): a batch the journal ends inside is
	 * undone. */
	while ((n = next_line(&l, &line, &len)) > 0) {
		struct rec r;
		struct kind *k;
		struct obj *o;

		if (rec_parse(line, len, &r, why, sizeof(why))) {
			snprintf(err, errlen, "%s/journal:%u: %s", s->dir, l.lineno, why);
			goto out;
		}
		if (r.op == REC_HDR) {
			snprintf(err, errlen, "%s/journal:%u: a header record after line 1", s->dir,
				 l.lineno);
			rec_free(&r);
			goto out;
		}
		if (!s->npend)
			batch_line = l.lineno;
		o = r.op == REC_PUT ? obj_of_json(r.key, r.val) : NULL;
		k = kind_get(s, r.kind, o != NULL);
		pend_push(s, k, o, k ? mem_set(s, k, r.key, obj_ref(o)) : NULL);
		if (r.more) {
			rec_free(&r);
			continue;
		}
		rec_free(&r);
		jl->records += s->npend;
		pend_clear(s);
		jl->end = l.off;
	}
	if (n < 0 || s->npend) {
		jl->torn = 1;
		jl->torn_line = s->npend ? batch_line : l.lineno + 1;
		pend_undo(s);
	}
	rc = 0;
out:
	pend_clear(s);
	free(buf);
	return rc;
}

/* Keeps the torn journal as journal.torn-<time>, then cuts the journal to jl->end. */
static int cut_torn(struct store *s, const struct journal_load *jl, char *err, size_t errlen)
{
	char name[64], *buf = NULL;
	size_t len;
	int fd = -1, rc = -1;

	for (int i = 0; fd < 0 && i < 100; i++) {
		if (i)
			snprintf(name, sizeof(name), "journal.torn-%lld-%d", (long long)time(NULL),
				 i);
		else
			snprintf(name, sizeof(name), "journal.torn-%lld", (long long)time(NULL));
		fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot keep a copy of the torn journal: %s", s->dir,
			 strerror(errno));
		return -1;
	}
	if (read_whole(s, "journal", &buf, &len, err, errlen))
		goto out;
	if (write_all(fd, buf, len) || fsync(fd) || fsync(s->dirfd)) {
		snprintf(err, errlen, "%s/%s: %s", s->dir, name, strerror(errno));
		goto out;
	}
	{
		int jfd = openat(s->dirfd, "journal", O_WRONLY | O_CLOEXEC);

		if (jfd < 0 || ftruncate(jfd, (off_t)jl->end) || fsync(jfd)) {
			snprintf(err, errlen, "%s/journal: cutting the torn tail: %s", s->dir,
				 strerror(errno));
			if (jfd >= 0)
				close(jfd);
			goto out;
		}
		close(jfd);
	}
	log_err(
	    "store %s/journal: torn tail from line %u (%zu bytes, never acknowledged: an "
	    "unterminated line or an unfinished batch) dropped; the whole file is kept as %s/%s",
	    s->dir, jl->torn_line, jl->file_len - jl->end, s->dir, name);
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

static int mkdir_p(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -1;
	return 0;
}

static void free_store(struct store *s)
{
	mem_free(s);
	pend_clear(s);
	free(s->pend);
	if (s->jfd >= 0)
		close(s->jfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->lockfd >= 0)
		close(s->lockfd); /* releases the flock */
	free(s->dir);
	free(s);
}

struct store *store_open(const char *dir, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	struct journal_load jl = {0};
	int snap_present;

	s->dirfd = s->lockfd = s->jfd = -1;
	s->dir = xstrdup(dir);
	if (mkdir_p(dir) || (s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "state dir %s: %s", dir, strerror(errno));
		goto fail;
	}
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0) {
		snprintf(err, errlen, "state dir %s: cannot create lock file: %s", dir,
			 strerror(errno));
		goto fail;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB)) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen,
				 "state dir %s is in use by another edgelbd (%s/lock is "
				 "locked); give each agent its own --state-dir",
				 dir, dir);
		else
			snprintf(err, errlen, "state dir %s: flock %s/lock: %s", dir, dir,
				 strerror(errno));
		goto fail;
	}
	if (load_snapshot(s, &snap_present, err, errlen) ||
	    load_journal(s, snap_present, &jl, err, errlen))
		goto fail;

	/* Everything loaded and checked: only now may files change. */
	if (jl.torn && cut_torn(s, &jl, err, errlen))
		goto fail;
	unlinkat(s->dirfd, "snapshot.tmp", 0);
	unlinkat(s->dirfd, "journal.tmp", 0);
	if (!jl.present || jl.stale) {
		off_t size;
		int fd = journal_tmp(s, s->gen, &size);

		if (jl.stale)
			log_warn("store %s/journal: generation %llu is already inside the snapshot "
				 "(compaction was interrupted); starting generation %llu",
				 dir, (unsigned long long)s->gen - 1, (unsigned long long)s->gen);
		if (fd < 0 || journal_install(s, fd, s->gen, size)) {
			snprintf(err, errlen,
				 "state dir %s: cannot create the journal (see the log)", dir);
			goto fail;
		}
	} else {
		s->jfd = openat(s->dirfd, "journal", O_WRONLY | O_APPEND | O_CLOEXEC);
		if (s->jfd < 0) {
			snprintf(err, errlen, "%s/journal: open for append: %s", dir,
				 strerror(errno));
			goto fail;
		}
		s->jsize = (off_t)jl.end;
		s->jrecords = jl.records;
	}
	log_info("store %s: loaded %zu objects (snapshot gen %llu, %zu journal records)", dir,
		 s->live, (unsigned long long)s->gen, s->jrecords);
	return s;
fail:
	free_store(s);
	return NULL;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->batch_depth) {
		log_warn("store %s: closed inside a batch; committing it", s->dir);
		s->batch_depth = 1;
		store_batch_end(s);
	}
	free_store(s);
}
