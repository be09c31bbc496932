/* agent/lib/hash.c: every key put is found with its last value, absent keys are not, put_new
 * keeps the first value, growth keeps every entry (100,000 keys through several resizes),
 * keys that differ in one byte are distinct. */
#include <stdint.h>
#include <string.h>

#include "lib/hash.h"
#include "t.h"

struct k12 {
	uint32_t a, b;
	uint8_t c[4];
};

int main(void)
{
	struct hmap m;
	int v, bad = 0;

	T_BEGIN("hash: 100000 keys through growth, all found, absent keys not");
	hmap_init(&m, sizeof(struct k12), 0);
	for (int i = 0; i < 100000; i++) {
		struct k12 k = {.a = (uint32_t)i, .b = (uint32_t)i * 7u, .c = {1, 2, 3, 4}};

		hmap_put(&m, &k, i);
	}
	T_EXPECT(m.n == 100000, "n = %zu", m.n);
	for (int i = 0; i < 100000; i++) {
		struct k12 k = {.a = (uint32_t)i, .b = (uint32_t)i * 7u, .c = {1, 2, 3, 4}};

		if (!hmap_get(&m, &k, &v) || v != i)
			bad++;
	}
	T_EXPECT(bad == 0, "%d keys missing or wrong", bad);
	for (int i = 0; i < 1000; i++) {
		struct k12 k = {.a = (uint32_t)i, .b = (uint32_t)i * 7u, .c = {1, 2, 3, 5}};

		T_EXPECT(!hmap_get(&m, &k, NULL), "key %d with other last byte found", i);
	}
	T_EXPECT(m.cap >= 2 * m.n, "load %zu/%zu above 1/2", m.n, m.cap);
	hmap_free(&m);
	T_END();

	T_BEGIN("hash: put replaces, put_new keeps the first value");
	hmap_init(&m, sizeof(uint32_t), 4);
	{
		uint32_t k = 42;

		T_EXPECT(!hmap_get(&m, &k, &v), "empty map finds nothing");
		T_EXPECT(hmap_put_new(&m, &k, 1) == 1, "put_new on absent returns the new value");
		T_EXPECT(hmap_put_new(&m, &k, 2) == 1, "put_new on present returns the old value");
		hmap_put(&m, &k, 3);
		T_EXPECT(hmap_get(&m, &k, &v) && v == 3, "put replaced: %d", v);
		T_EXPECT(m.n == 1, "one entry, n = %zu", m.n);
	}
	hmap_free(&m);
	T_END();

	T_BEGIN("hash: a freed map finds nothing");
	T_EXPECT(!hmap_get(&m, &(uint32_t){42}, NULL), "zeroed map lookup");
	T_END();
	return t_exit();
}
