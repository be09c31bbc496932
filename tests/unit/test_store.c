/* Unit tests of the state store (agent/store/): memory semantics, persistence across reopen,
 * batches (all or nothing on disk), compaction and its crash windows, detection of corrupt and
 * torn files (with file:line in the error and the files left as they were), the dir lock, and
 * 100k objects. Every case works in its own mkdtemp dir under $TMPDIR. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <zlib.h>

#include "store/store.h"
#include "t.h"

static char *mktmp(void)
{
	char tmpl[256];
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(tmpl, sizeof(tmpl), "%s/elbstoreXXXXXX", base);
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		exit(2);
	}
	return strdup(tmpl);
}

static void rmtree(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char p[512];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

static char *path_of(const char *dir, const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* Whole file, NUL-terminated; NULL if absent. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
	FILE *f = fopen(path_of(dir, name), "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static void spit(const char *dir, const char *name, const char *data, size_t len)
{
	FILE *f = fopen(path_of(dir, name), "wb");

	if (!f || fwrite(data, 1, len, f) != len) {
		perror("write test file");
		exit(2);
	}
	fclose(f);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* Appends one record line "<crc32> <payload>\n" to buf. */
static void add_line(char *buf, size_t cap, const char *payload)
{
	size_t n = strlen(buf);

	snprintf(buf + n, cap - n, "%08lx %s\n",
		 crc32(0L, (const Bytef *)payload, (uInt)strlen(payload)) & 0xffffffffUL, payload);
}

static int file_count_prefix(const char *dir, const char *prefix, char *found, size_t flen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix))) {
			n++;
			if (found)
				snprintf(found, flen, "%s", e->d_name);
		}
	if (d)
		closedir(d);
	return n;
}

static struct store *open_ok(const char *dir)
{
	char err[512] = "";
	struct store *s = store_open(dir, err, sizeof(err));

	if (!s)
		printf("  store_open(%s): %s\n", dir, err);
	return s;
}

static int val_int(struct store *s, const char *kind, const char *key)
{
	struct json_object *v = store_get(s, kind, key);

	return v ? json_object_get_int(v) : -1;
}

static int put_int(struct store *s, const char *kind, const char *key, int v)
{
	struct json_object *o = json_object_new_int(v);
	int rc = store_put(s, kind, key, o);

	json_object_put(o);
	return rc;
}

struct collect {
	char keys[16][32];
	int n, stop_after;
};

static int collect_fn(const char *key, struct json_object *val, void *arg)
{
	struct collect *c = arg;

	(void)val;
	if (c->n < 16)
		snprintf(c->keys[c->n], sizeof(c->keys[0]), "%s", key);
	c->n++;
	return c->stop_after && c->n >= c->stop_after ? 7 : 0;
}

static void test_memory(void)
{
	static const struct {
		const char *kind, *key;
		int val;
	} rows[] = {
	    {"pool", "blue", 1}, {"pool", "alpha", 2}, {"svc", "x", 3},
	    {"pool", "zeta", 4}, {"pool", "Beta", 5},  {"pool", "blue", 6}, /* overwrite */
	};
	static const char *const order[] = {"Beta", "alpha", "blue", "zeta"};
	char *dir = mktmp();
	struct store *s;
	struct collect c = {0};

	T_BEGIN("store: put/get/del/foreach in key order");
	s = open_ok(dir);
	T_EXPECT(s, "open a fresh dir");
	if (!s)
		goto out;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		T_EXPECT(put_int(s, rows[i].kind, rows[i].key, rows[i].val) == 0, "put %s/%s",
			 rows[i].kind, rows[i].key);
	T_EXPECT(val_int(s, "pool", "blue") == 6, "overwrite keeps the last value");
	T_EXPECT(val_int(s, "svc", "x") == 3, "svc/x");
	T_EXPECT(!store_get(s, "svc", "blue"), "kinds are separate namespaces");
	T_EXPECT(!store_get(s, "nokind", "x"), "unknown kind gets NULL");
	T_EXPECT(store_count(s, "pool") == 4, "count pool = 4 (got %zu)", store_count(s, "pool"));
	T_EXPECT(store_count(s, NULL) == 5, "count all = 5");
	T_EXPECT(store_foreach(s, "pool", collect_fn, &c) == 0, "foreach returns 0");
	T_EXPECT(c.n == 4, "foreach visits 4 (got %d)", c.n);
	for (int i = 0; i < 4 && i < c.n; i++)
		T_EXPECT(!strcmp(c.keys[i], order[i]), "foreach #%d is %s (got %s)", i, order[i],
			 c.keys[i]);
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	T_EXPECT(store_foreach(s, "pool", collect_fn, &c) == 7 && c.n == 2,
		 "foreach stops when fn returns non-zero and returns its value");
	T_EXPECT(store_del(s, "pool", "alpha") == 0, "del pool/alpha");
	T_EXPECT(!store_get(s, "pool", "alpha"), "deleted object is gone");
	T_EXPECT(store_del(s, "pool", "alpha") == 0, "del of an absent object is 0");
	T_EXPECT(store_count(s, "pool") == 3, "count after del = 3");

	{
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "a", json_object_new_int(1));
		T_EXPECT(store_put(s, "obj", "k", o) == 0, "put an object");
		json_object_object_add(o, "a", json_object_new_int(2));
		T_EXPECT(
		    json_object_get_int(json_object_object_get(store_get(s, "obj", "k"), "a")) == 1,
		    "the store keeps its own copy: caller's later change does not leak in");
		json_object_put(o);
	}
	store_close(s);
out:
	T_END();
	rmtree(dir);
}

static int nest(int depth, struct json_object **out)
{
	struct json_object *o = json_object_new_int(1);

	for (int i = 1; i < depth; i++) {
		struct json_object *a = json_object_new_array();

		json_object_array_add(a, o);
		o = a;
	}
	*out = o;
	return 0;
}

static void test_refused_args(void)
{
	char longkey[1100];
	struct json_object *deep, *ok32, *nan = json_object_new_double(NAN);
	struct json_object *one = json_object_new_int(1);
	char *dir = mktmp();
	struct store *s = open_ok(dir);
	const struct {
		const char *name, *kind, *key;
		struct json_object *val;
		int want;
	} rows[] = {
	    {"empty kind", "", "k", one, -1},
	    {"NULL key", "k", NULL, one, -1},
	    {"key of 1025 bytes", "k", longkey, one, -1},
	    {"NULL val", "k", "k", NULL, -1},
	    {"NaN", "k", "k", nan, -1},
	    {"33 levels", "k", "k", (nest(33, &deep), deep), -1},
	    {"32 levels", "k", "k32", (nest(32, &ok32), ok32), 0},
	};

	memset(longkey, 'a', 1025);
	longkey[1025] = '\0';
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		T_BEGIN("store: put with %s -> %d", rows[i].name, rows[i].want);
		if (s) {
			errno = 0;
			T_EXPECT(store_put(s, rows[i].kind, rows[i].key, rows[i].val) ==
				     rows[i].want,
				 "return value");
			if (rows[i].want < 0)
				T_EXPECT(errno == EINVAL, "errno EINVAL (got %d)", errno);
		}
		T_EXPECT(s, "open");
		T_END();
	}
	T_BEGIN("store: refused puts change nothing, accepted ones survive reopen");
	if (s) {
		T_EXPECT(store_count(s, NULL) == 1, "only k32 stored (count %zu)",
			 store_count(s, NULL));
		store_close(s);
		s = open_ok(dir);
		T_EXPECT(s && store_get(s, "k", "k32"), "32 levels deep loads again");
	}
	T_END();
	store_close(s);
	json_object_put(deep);
	json_object_put(ok32);
	json_object_put(nan);
	json_object_put(one);
	rmtree(dir);
}

static void test_reopen(void)
{
	static const char *const keys[] = {"plain", "with\nnewline", "quote\"and\\slash/",
					   "ünïcödé ☃", "tab\there"};
	char *dir = mktmp();
	struct store *s = open_ok(dir);
	struct json_object *str = json_object_new_string("line1\nline2\r\x01");

	T_BEGIN("store: reopen restores puts and dels, odd bytes included");
	if (!s)
		goto out;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		T_EXPECT(put_int(s, "k", keys[i], (int)i) == 0, "put %zu", i);
	T_EXPECT(store_put(s, "s", "str", str) == 0, "put a string with control characters");
	T_EXPECT(store_del(s, "k", "plain") == 0, "del");
	T_EXPECT(put_int(s, "k", "tab\there", 42) == 0, "overwrite");
	store_close(s);
	s = open_ok(dir);
	T_EXPECT(s, "reopen");
	if (!s)
		goto out;
	T_EXPECT(!store_get(s, "k", "plain"), "deleted stays deleted");
	T_EXPECT(val_int(s, "k", "with\nnewline") == 1, "newline key");
	T_EXPECT(val_int(s, "k", "quote\"and\\slash/") == 2, "quote key");
	T_EXPECT(val_int(s, "k", "ünïcödé ☃") == 3, "utf-8 key");
	T_EXPECT(val_int(s, "k", "tab\there") == 42, "overwritten value");
	T_EXPECT(
	    store_get(s, "s", "str") &&
		!strcmp(json_object_get_string(store_get(s, "s", "str")), "line1\nline2\r\x01"),
	    "string value round-trips");
	store_close(s);
	{
		char *j = slurp(dir, "journal", NULL);

		T_EXPECT(j && count_lines(j) == 9, "journal: header + 8 records (got %zu lines)",
			 count_lines(j));
		free(j);
	}
out:
	T_END();
	json_object_put(str);
	rmtree(dir);
}

static void test_batch(void)
{
	char *dir = mktmp(), *j;
	struct store *s = open_ok(dir);
	char key[32];
	int ok = 1;

	T_BEGIN("store: batch is visible at once, written once, loads whole");
	if (!s)
		goto out;
	T_EXPECT(put_int(s, "b", "gone", 1) == 0, "put before the batch");
	store_batch_begin(s);
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		ok &= put_int(s, "b", key, i) == 0;
	}
	store_batch_begin(s); /* nested */
	ok &= store_del(s, "b", "gone") == 0;
	T_EXPECT(store_batch_end(s) == 0, "inner batch_end");
	T_EXPECT(ok, "puts in the batch return 0");
	T_EXPECT(val_int(s, "b", "k050") == 50 && !store_get(s, "b", "gone"),
		 "reads inside the batch see its writes");
	j = slurp(dir, "journal", NULL);
	T_EXPECT(count_lines(j) == 2, "nothing written before the outer batch_end (%zu lines)",
		 count_lines(j));
	free(j);
	T_EXPECT(store_batch_end(s) == 0, "outer batch_end");
	j = slurp(dir, "journal", NULL);
	T_EXPECT(count_lines(j) == 103, "journal: header + 1 + 101 batch records (%zu lines)",
		 count_lines(j));
	{
		/* all but the last batch record carry "more":true */
		size_t more = 0;

		for (char *p = j; p && (p = strstr(p, "\"more\":true")); p++)
			more++;
		T_EXPECT(more == 100, "100 of 101 batch records carry more:true (got %zu)", more);
	}
	free(j);
	store_close(s);
	s = open_ok(dir);
	T_EXPECT(s && store_count(s, "b") == 100 && val_int(s, "b", "k099") == 99 &&
		     !store_get(s, "b", "gone"),
		 "reopen: 100 objects, the del applied");
out:
	store_close(s);
	T_END();
	rmtree(dir);
}

/* Puts n rounds of `per` updates over `keys` keys, one batch per round. */
static int churn(struct store *s, int base, int rounds, int per, int keys)
{
	char key[32];
	int ok = 1;

	for (int r = 0; r < rounds; r++) {
		store_batch_begin(s);
		for (int i = 0; i < per; i++) {
			snprintf(key, sizeof(key), "k%d", (base + r * per + i) % keys);
			ok &= put_int(s, "c", key, base + r * per + i) == 0;
		}
		ok &= store_batch_end(s) == 0;
	}
	return ok;
}

static int header_gen(const char *dir, const char *name)
{
	char *f = slurp(dir, name, NULL), *g;
	int gen = -1;

	if (f && (g = strstr(f, "\"gen\":")) && (size_t)(g - f) < (size_t)(strchr(f, '\n') - f))
		gen = atoi(g + 6);
	free(f);
	return gen;
}

static void test_compaction(void)
{
	char *dir = mktmp(), *j, *saved;
	size_t savedlen;
	struct store *s = open_ok(dir);
	int ok = 1;

	T_BEGIN("store: compaction keeps every object and reopens");
	if (!s)
		goto out;
	/* 9 rounds x 100 = 900 records: below max(1000, 2 x 50) */
	T_EXPECT(churn(s, 0, 9, 100, 50), "first 900 updates");
	T_EXPECT(!slurp(dir, "snapshot", NULL), "no snapshot below 1000 records");
	saved = slurp(dir, "journal", &savedlen);
	T_EXPECT(churn(s, 900, 2, 100, 50), "200 more updates");
	j = slurp(dir, "journal", NULL);
	T_EXPECT(count_lines(j) < 200, "journal restarted (%zu lines)", count_lines(j));
	T_EXPECT(header_gen(dir, "snapshot") == 1 && header_gen(dir, "journal") == 1,
		 "snapshot and journal at generation 1");
	free(j);
	{
		char *snap = slurp(dir, "snapshot", NULL);

		T_EXPECT(snap, "snapshot written past 1000 records");
		T_EXPECT(count_lines(snap) == 51, "snapshot: header + 50 objects (%zu lines)",
			 count_lines(snap));
		free(snap);
	}
	T_EXPECT(churn(s, 1100, 1, 25, 50), "writes after compaction");
	store_close(s);
	s = open_ok(dir);
	T_EXPECT(s && store_count(s, "c") == 50, "reopen: 50 objects");
	for (int i = 0; s && i < 50; i++) {
		char key[32];
		/* last writer of key i: the largest n < 1125 with n % 50 == i */
		int want = i < 25 ? 1100 + i : 1050 + i;

		snprintf(key, sizeof(key), "k%d", i);
		ok &= val_int(s, "c", key) == want;
	}
	T_EXPECT(ok, "every object has its last value after reopen");
	store_close(s);
	s = NULL;
	T_END();

	/* Crash after "rename snapshot" but before "rename journal": the old journal (gen 0)
	 * sits next to snapshot gen 1 and must not be applied a second time. */
	T_BEGIN("store: journal left behind by an interrupted compaction is skipped, not replayed");
	spit(dir, "journal", saved, savedlen);
	spit(dir, "journal.tmp", "garbage", 7);
	spit(dir, "snapshot.tmp", "garbage", 7);
	s = open_ok(dir);
	T_EXPECT(s, "open succeeds");
	if (s) {
		/* the snapshot was taken at 1100 writes (k0 = 1050); replaying the gen 0 journal
		 * would set k0 back to 850, its last value in the first 900 */
		T_EXPECT(val_int(s, "c", "k0") == 1050, "k0 keeps the snapshot's value (got %d)",
			 val_int(s, "c", "k0"));
		T_EXPECT(store_count(s, "c") == 50, "50 objects");
		T_EXPECT(header_gen(dir, "journal") == 1, "a fresh journal of generation 1");
		T_EXPECT(!slurp(dir, "journal.tmp", NULL) && !slurp(dir, "snapshot.tmp", NULL),
			 "leftover temp files removed");
		T_EXPECT(put_int(s, "c", "after", 1) == 0, "writable");
		store_close(s);
		s = open_ok(dir);
		T_EXPECT(s && val_int(s, "c", "after") == 1 && val_int(s, "c", "k0") == 1050,
			 "the write after recovery persists");
	}
	free(saved);
out:
	store_close(s);
	T_END();
	rmtree(dir);
}

#define HDR_J0 "{\"op\":\"journal\",\"version\":1,\"gen\":0}"
#define HDR_S0 "{\"op\":\"snapshot\",\"version\":1,\"gen\":0}"
#define PUT_A  "{\"op\":\"put\",\"kind\":\"p\",\"key\":\"a\",\"val\":1}"
#define PUT_B  "{\"op\":\"put\",\"kind\":\"p\",\"key\":\"b\",\"val\":2}"

/* Files that must fail the open; the error must name file:line and the problem. */
static void test_corrupt(void)
{
	static const struct {
		const char *name;
		const char *snapshot; /* record payloads, one per line; NULL: no file */
		const char *journal;  /* same; "@raw:" prefix: bytes as they are */
		const char *want;     /* substring of err */
	} rows[] = {
	    {"bad crc", NULL, "@raw:", "journal:2: checksum mismatch"},
	    {"bad JSON", NULL, HDR_J0 "|{\"op\":\"put\",", "journal:2: payload is not valid JSON"},
	    {"trailing bytes", NULL, HDR_J0 "|" PUT_A " x", "journal:2: "},
	    {"unknown op", NULL, HDR_J0 "|{\"op\":\"zap\",\"kind\":\"p\",\"key\":\"a\"}",
	     "journal:2: \"op\" is \"zap\""},
	    {"unknown field", NULL,
	     HDR_J0 "|" PUT_A "|{\"op\":\"del\",\"kind\":\"p\",\"key\":\"a\",\"x\":1}",
	     "journal:3: unknown field \"x\""},
	    {"put without val", NULL, HDR_J0 "|{\"op\":\"put\",\"kind\":\"p\",\"key\":\"a\"}",
	     "journal:2: a put record needs \"val\""},
	    {"empty key", NULL, HDR_J0 "|{\"op\":\"put\",\"kind\":\"p\",\"key\":\"\",\"val\":1}",
	     "journal:2: key is empty"},
	    {"no header", NULL, PUT_A, "journal:1: first record is not a \"journal\" header"},
	    {"second header", NULL, HDR_J0 "|" PUT_A "|" HDR_J0, "journal:3: a header record"},
	    {"wrong version", NULL, "{\"op\":\"journal\",\"version\":2,\"gen\":0}",
	     "journal:1: \"version\""},
	    {"gen ahead", NULL, "{\"op\":\"journal\",\"version\":1,\"gen\":3}",
	     "journal:1: generation 3"},
	    {"empty journal", NULL, "@raw:", "journal:1: file is empty"},
	    {"unterminated header", NULL, "@raw:", "journal:1: first line is not terminated"},
	    {"NaN value", NULL, HDR_J0 "|{\"op\":\"put\",\"kind\":\"p\",\"key\":\"a\",\"val\":NaN}",
	     "journal:2: value holds a non-finite number"},
	    {"snapshot with del", HDR_S0 "|{\"op\":\"del\",\"kind\":\"p\",\"key\":\"a\"}", HDR_J0,
	     "snapshot:2: only plain put records"},
	    {"snapshot duplicate", HDR_S0 "|" PUT_A "|" PUT_A, HDR_J0,
	     "snapshot:3: duplicate object"},
	    {"snapshot bad crc", "@raw:", HDR_J0, "snapshot:2: checksum mismatch"},
	    {"torn snapshot", "@raw:", HDR_J0, "snapshot:2: last line is not terminated"},
	    {"snapshot without journal", HDR_S0 "|" PUT_A, NULL, "journal: missing while"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *dir = mktmp(), err[512] = "";
		char snap[2048] = "", jour[2048] = "", *after;
		const char *which[2] = {rows[i].snapshot, rows[i].journal};
		char *bufs[2] = {snap, jour};
		size_t lens[2];
		struct store *s;

		T_BEGIN("store: corrupt file refused: %s", rows[i].name);
		for (int f = 0; f < 2; f++) {
			char tmp[2048];

			if (!which[f])
				continue;
			if (!strncmp(which[f], "@raw:", 5))
				continue;
			snprintf(tmp, sizeof(tmp), "%s", which[f]);
			for (char *tok = strtok(tmp, "|"); tok; tok = strtok(NULL, "|"))
				add_line(bufs[f], 2048, tok);
		}
		/* hand-made raw files */
		if (!strcmp(rows[i].name, "bad crc")) {
			add_line(jour, sizeof(jour), HDR_J0);
			add_line(jour, sizeof(jour), PUT_A);
			strchr(jour, '\n')[10 + 20] ^= 1; /* flip a bit in line 2's payload */
		} else if (!strcmp(rows[i].name, "unterminated header")) {
			add_line(jour, sizeof(jour), HDR_J0);
			jour[strlen(jour) - 1] = '\0';
		} else if (!strcmp(rows[i].name, "snapshot bad crc")) {
			add_line(snap, sizeof(snap), HDR_S0);
			add_line(snap, sizeof(snap), PUT_A);
			snap[strlen(snap) - 2] = ' ';
		} else if (!strcmp(rows[i].name, "torn snapshot")) {
			add_line(snap, sizeof(snap), HDR_S0);
			add_line(snap, sizeof(snap), PUT_A);
			snap[strlen(snap) - 1] = '\0';
		}
		for (int f = 0; f < 2; f++) {
			lens[f] = strlen(bufs[f]);
			if (which[f])
				spit(dir, f ? "journal" : "snapshot", bufs[f], lens[f]);
		}
		s = store_open(dir, err, sizeof(err));
		T_EXPECT(!s, "open fails");
		T_EXPECT(strstr(err, rows[i].want) != NULL, "err has \"%s\": got \"%s\"",
			 rows[i].want, err);
		T_EXPECT(strstr(err, dir) != NULL, "err names the dir");
		for (int f = 0; f < 2; f++) {
			const char *name = f ? "journal" : "snapshot";
			size_t alen = 0;

			after = slurp(dir, name, &alen);
			if (which[f])
				T_EXPECT(after && alen == lens[f] && !memcmp(after, bufs[f], alen),
					 "%s left byte for byte as it was", name);
			else
				T_EXPECT(!after, "%s not created", name);
			free(after);
		}
		T_EXPECT(file_count_prefix(dir, "journal.torn", NULL, 0) == 0, "no torn copy made");
		store_close(s);
		T_END();
		rmtree(dir);
	}
}

/* Torn appends: the journal is kept as journal.torn-*, cut back, the open succeeds. */
static void test_torn(void)
{
	static const struct {
		const char *name;
		const char *tail; /* appended after header + PUT_A */
		int terminated;
		unsigned want_b;
	} rows[] = {
	    {"unterminated last line", "1234abcd {\"op\":\"put\",\"kind\":\"p\",\"ke", 0, 0},
	    {"unterminated complete-looking record", NULL, 0, 0},
	    {"unfinished batch",
	     "{\"op\":\"put\",\"kind\":\"p\",\"key\":\"b\",\"val\":2,\"more\":true}", 1, 0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *dir = mktmp(), jour[2048] = "", torn[128], *copy, *now;
		size_t goodlen, len, clen;
		struct store *s;

		T_BEGIN("store: torn journal tail kept aside and cut: %s", rows[i].name);
		add_line(jour, sizeof(jour), HDR_J0);
		add_line(jour, sizeof(jour), PUT_A);
		goodlen = strlen(jour);
		if (!rows[i].tail) {
			add_line(jour, sizeof(jour), PUT_B);
			jour[strlen(jour) - 1] = '\0';
		} else if (rows[i].terminated) {
			add_line(jour, sizeof(jour), rows[i].tail);
		} else {
			strcat(jour, rows[i].tail);
		}
		len = strlen(jour);
		spit(dir, "journal", jour, len);
		s = open_ok(dir);
		T_EXPECT(s, "open succeeds");
		T_EXPECT(s && val_int(s, "p", "a") == 1, "complete record applied");
		T_EXPECT(s && !store_get(s, "p", "b"), "torn record not applied");
		T_EXPECT(file_count_prefix(dir, "journal.torn-", torn, sizeof(torn)) == 1,
			 "one journal.torn-* copy");
		copy = slurp(dir, torn, &clen);
		T_EXPECT(copy && clen == len && !memcmp(copy, jour, len),
			 "the copy holds the journal as it was");
		free(copy);
		now = slurp(dir, "journal", &clen);
		T_EXPECT(now && clen == goodlen && !memcmp(now, jour, goodlen),
			 "journal cut back to its last complete record (%zu bytes, want %zu)", clen,
			 goodlen);
		free(now);
		T_EXPECT(s && put_int(s, "p", "c", 3) == 0, "writable after the cut");
		store_close(s);
		s = open_ok(dir);
		T_EXPECT(s && val_int(s, "p", "c") == 3 && val_int(s, "p", "a") == 1,
			 "reopen: clean, both records there");
		T_EXPECT(file_count_prefix(dir, "journal.torn-", NULL, 0) == 1,
			 "no second torn copy");
		store_close(s);
		T_END();
		rmtree(dir);
	}
}

static void test_lock(void)
{
	char *dir = mktmp(), err[512] = "";
	struct store *a = open_ok(dir), *b;

	T_BEGIN("store: a second open of the same dir is refused");
	T_EXPECT(a, "first open");
	b = store_open(dir, err, sizeof(err));
	T_EXPECT(!b, "second open fails");
	T_EXPECT(strstr(err, dir) && strstr(err, "in use"), "err names the dir: \"%s\"", err);
	store_close(b);
	store_close(a);
	b = open_ok(dir);
	T_EXPECT(b, "open works again after close");
	store_close(b);
	T_END();
	rmtree(dir);
}

/* A real failing write: RLIMIT_FSIZE makes the kernel refuse to grow the journal (EFBIG) after
 * a partial write, so the cut-back and the rollback run for real. */
static void test_write_failure(void)
{
	char *dir = mktmp(), key[32];
	struct store *s = open_ok(dir);
	struct rlimit old, lim;
	size_t before, after;
	char *j;
	int ok = 1;

	T_BEGIN("store: a failed write changes nothing, in memory or on disk");
	if (!s || getrlimit(RLIMIT_FSIZE, &old))
		goto out;
	T_EXPECT(put_int(s, "w", "keep", 1) == 0 && put_int(s, "w", "gone", 2) == 0, "setup");
	free(slurp(dir, "journal", &before));
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = before + 100; /* room for one record, not for the batch */
	setrlimit(RLIMIT_FSIZE, &lim);

	store_batch_begin(s);
	for (int i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "new%d", i);
		ok &= put_int(s, "w", key, i) == 0;
	}
	ok &= put_int(s, "w", "keep", 99) == 0;
	ok &= store_del(s, "w", "gone") == 0;
	T_EXPECT(ok, "writes inside the batch are accepted");
	T_EXPECT(store_batch_end(s) == -1, "batch_end reports the failed write");
	T_EXPECT(store_count(s, "w") == 2 && val_int(s, "w", "keep") == 1 &&
		     val_int(s, "w", "gone") == 2,
		 "the batch is undone in memory (count %zu, keep %d, gone %d)", store_count(s, "w"),
		 val_int(s, "w", "keep"), val_int(s, "w", "gone"));
	free(slurp(dir, "journal", &after));
	T_EXPECT(after == before, "journal cut back to %zu bytes (has %zu)", before, after);

	lim.rlim_cur = before + 10;
	setrlimit(RLIMIT_FSIZE, &lim);
	errno = 0;
	T_EXPECT(put_int(s, "w", "keep", 7) == -1 && errno == EFBIG, "single put fails (errno %d)",
		 errno);
	T_EXPECT(val_int(s, "w", "keep") == 1, "single put left memory as it was");

	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	T_EXPECT(put_int(s, "w", "keep", 8) == 0, "writes work again once there is room");
	store_close(s);
	s = open_ok(dir);
	j = slurp(dir, "journal", NULL);
	T_EXPECT(s && store_count(s, "w") == 2 && val_int(s, "w", "keep") == 8 &&
		     val_int(s, "w", "gone") == 2,
		 "reopen: exactly the acknowledged writes");
	T_EXPECT(count_lines(j) == 4, "journal: header + 3 records (%zu lines)", count_lines(j));
	free(j);
out:
	store_close(s);
	T_END();
	rmtree(dir);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_100k(void)
{
	enum { N = 100000 };
	char *dir = mktmp(), key[32];
	struct store *s = open_ok(dir);
	double t0, t1, t2, t3;
	int ok = 1;

	T_BEGIN("store: 100k objects in one batch, reopen, compaction");
	if (!s)
		goto out;
	t0 = now_s();
	store_batch_begin(s);
	for (int i = 0; i < N; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "ip", json_object_new_string("10.0.0.1"));
		json_object_object_add(o, "n", json_object_new_int(i));
		snprintf(key, sizeof(key), "svc-%06d", i);
		ok &= store_put(s, "assign", key, o) == 0;
		json_object_put(o);
	}
	T_EXPECT(store_batch_end(s) == 0 && ok, "100k puts");
	t1 = now_s();
	store_close(s);
	s = open_ok(dir);
	t2 = now_s();
	T_EXPECT(s && store_count(s, "assign") == N, "reopen: %d objects", N);
	/* a second full round pushes the journal past 2 x live: compaction */
	if (s) {
		store_batch_begin(s);
		for (int i = 0; i < N; i += 1) {
			snprintf(key, sizeof(key), "svc-%06d", i);
			ok &= put_int(s, "assign", key, i) == 0;
		}
		ok &= put_int(s, "assign", "one-more", 1) == 0;
		ok &= put_int(s, "assign", "svc-000000", 0) == 0;
		ok &= put_int(s, "assign", "svc-000000", 0) == 0; /* 200003 > 2 x 100001 */
		T_EXPECT(store_batch_end(s) == 0 && ok, "100k updates");
	}
	t3 = now_s();
	T_EXPECT(header_gen(dir, "snapshot") == 1, "compacted to snapshot generation 1");
	store_close(s);
	s = open_ok(dir);
	T_EXPECT(s && store_count(s, "assign") == N + 1 &&
		     val_int(s, "assign", "svc-099999") == 99999,
		 "reopen after compaction: all objects with their last value");
	printf("  100k: batch put %.2fs, reopen %.2fs, update+compact %.2fs\n", t1 - t0, t2 - t1,
	       t3 - t2);
out:
	store_close(s);
	T_END();
	rmtree(dir);
}

int main(void)
{
	test_memory();
	test_refused_args();
	test_reopen();
	test_batch();
	test_compaction();
	test_corrupt();
	test_torn();
	test_lock();
	test_write_failure();
	test_100k();
	return t_exit();
}
