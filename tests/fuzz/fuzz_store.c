/* libFuzzer target for the state store's loader (agent/store/): the input is written as the
 * journal of a fresh state dir and opened. Whatever the bytes, store_open must not crash or
 * leak; when it accepts them, a second open of what it left behind must accept them too and
 * see the same objects (the store never leaves files it cannot read). A line whose checksum
 * field is "xxxxxxxx" gets its real crc32 filled in first, so mutations reach the JSON and
 * record checks behind the checksum (the seeds use this). */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <zlib.h>

#include "lib/log.h"
#include "store/store.h"

static char dir[64];

static void clean_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char p[512];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
}

static void remove_dir(void)
{
	clean_dir();
	rmdir(dir);
}

static int count_fn(const char *key, struct json_object *val, void *arg)
{
	(void)key;
	(void)val;
	(*(size_t *)arg)++;
	return 0;
}

/* Fills in "xxxxxxxx " checksum fields in place. */
static void fix_crcs(uint8_t *p, size_t size)
{
	size_t i = 0;

	while (i < size) {
		uint8_t *nl = memchr(p + i, '\n', size - i);
		size_t end = nl ? (size_t)(nl - p) : size;

		if (end - i >= 9 && !memcmp(p + i, "xxxxxxxx ", 9)) {
			char hex[9];

			snprintf(hex, sizeof(hex), "%08lx",
				 crc32(0L, p + i + 9, (uInt)(end - i - 9)) & 0xffffffffUL);
			memcpy(p + i, hex, 8);
		}
		i = end + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	char path[128], err[512];
	struct store *s;
	size_t total, n = 0;
	int fd;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/elbfuzzstoreXXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
		log_set_level((enum log_level)(LOG_ERROR + 1)); /* silent */
	}
	clean_dir();
	snprintf(path, sizeof(path), "%s/journal", dir);
	copy = malloc(size + 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	fix_crcs(copy, size);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, copy, size) != (ssize_t)size)
		abort();
	close(fd);
	free(copy);

	s = store_open(dir, err, sizeof(err));
	if (!s) {
		if (!err[0])
			abort(); /* a refusal must say why */
		return 0;
	}
	total = store_count(s, NULL);
	/* one write on top, then the reopen must see exactly that */
	{
		struct json_object *v = json_object_new_int(1);

		if (store_put(s, "fuzz", "extra", v))
			abort();
		json_object_put(v);
		total = store_count(s, NULL);
		store_foreach(s, "fuzz", count_fn, &n);
		if (n != store_count(s, "fuzz"))
			abort();
	}
	store_close(s);
	s = store_open(dir, err, sizeof(err));
	if (!s || store_count(s, NULL) != total) {
		fprintf(stderr, "reopen of the store's own files failed: %s\n", s ? "count" : err);
		abort();
	}
	store_close(s);
	return 0;
}
