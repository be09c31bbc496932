/* Maglev table: shares follow weights, weight 0 drains, removing one backend moves few of the
 * other backends' entries, and the table depends only on the backend set (not on order or ids
 * of other backends). Runs the real agent/dataplane/maglev.c. */
#include <string.h>

#include <edgelb/abi.h>

#include "dataplane/maglev.h"
#include "t.h"

#define M ELB_MAGLEV_SIZE

static uint32_t t1[M], t2[M];

static struct maglev_backend be(const char *ip, uint16_t port, uint16_t weight, uint32_t id)
{
	struct maglev_backend b = {.port = port, .weight = weight, .id = id};

	ip_parse(ip, &b.addr);
	return b;
}

static int share(const uint32_t *t, uint32_t id)
{
	int n = 0;

	for (int i = 0; i < M; i++)
		n += t[i] == id;
	return n;
}

int main(void)
{
	struct maglev_backend three[] = {be("10.1.0.1", 80, 1, 1), be("10.1.0.2", 80, 1, 2),
					 be("10.1.0.3", 80, 1, 3)};
	struct maglev_backend ten[10], nine[9];
	struct {
		const char *name;
		uint16_t w[3];
		double want[3]; /* expected fraction of the table */
	} rows[] = {
		{"equal weights", {1, 1, 1}, {1.0 / 3, 1.0 / 3, 1.0 / 3}},
		{"weights 1:2:1", {1, 2, 1}, {0.25, 0.5, 0.25}},
		{"weight 0 drains", {1, 0, 1}, {0.5, 0, 0.5}},
		{"weights 100:100:50", {100, 100, 50}, {0.4, 0.4, 0.2}},
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		T_BEGIN("maglev: %s", rows[r].name);
		for (int i = 0; i < 3; i++)
			three[i].weight = rows[r].w[i];
		T_EXPECT(maglev_build(three, 3, t1, M) == 3 - (rows[r].w[1] == 0),
			 "backends placed");
		for (int i = 0; i < 3; i++) {
			double got = (double)share(t1, i + 1) / M;

			T_EXPECT(got > rows[r].want[i] - 0.01 && got < rows[r].want[i] + 0.01,
				 "backend %d share: got %.4f want %.4f +- 0.01", i + 1, got,
				 rows[r].want[i]);
		}
		T_EXPECT(share(t1, 0) == 0, "no empty slot: %d", share(t1, 0));
		T_END();
	}

	T_BEGIN("maglev: all weights 0 gives an empty table");
	for (int i = 0; i < 3; i++)
		three[i].weight = 0;
	T_EXPECT(maglev_build(three, 3, t1, M) == 0, "none placed");
	T_EXPECT(share(t1, 0) == M, "table all zero");
	T_END();

	T_BEGIN("maglev: order of input does not matter");
	{
		struct maglev_backend a[] = {be("10.1.0.1", 80, 1, 1), be("10.1.0.2", 80, 1, 2),
					     be("fd00::5", 8080, 1, 3)};
		struct maglev_backend b[] = {a[2], a[0], a[1]};

		maglev_build(a, 3, t1, M);
		maglev_build(b, 3, t2, M);
		T_EXPECT(memcmp(t1, t2, sizeof(t1)) == 0, "same table for permuted input");
	}
	T_END();

	T_BEGIN("maglev: the key is address and port");
	{
		struct maglev_backend a[] = {be("10.1.0.1", 80, 1, 1), be("10.1.0.1", 81, 1, 2)};

		maglev_build(a, 2, t1, M);
		T_EXPECT(share(t1, 1) > M / 3 && share(t1, 2) > M / 3,
			 "same address, two ports: both get entries (%d, %d)", share(t1, 1),
			 share(t1, 2));
		T_EXPECT(maglev_key_hash(&a[0].addr, 80, 1) != maglev_key_hash(&a[0].addr, 81, 1),
			 "port changes the hash");
		T_EXPECT(maglev_key_hash(&a[0].addr, 80, 1) == maglev_key_hash(&a[0].addr, 80, 1),
			 "hash is deterministic");
	}
	T_END();

	T_BEGIN("maglev: removing one of ten backends moves few other entries");
	{
		char ip[32];
		int moved = 0, owned = 0;

		for (int i = 0; i < 10; i++) {
			snprintf(ip, sizeof(ip), "10.2.0.%d", i + 1);
			ten[i] = be(ip, 8080, 1, i + 1);
		}
		maglev_build(ten, 10, t1, M);
		/* drop backend id 4 */
		for (int i = 0, j = 0; i < 10; i++)
			if (ten[i].id != 4)
				nine[j++] = ten[i];
		maglev_build(nine, 9, t2, M);
		for (int i = 0; i < M; i++) {
			if (t1[i] == 4) {
				owned++;
				continue;
			}
			if (t1[i] != t2[i])
				moved++;
		}
		T_EXPECT(share(t2, 4) == 0, "removed backend has no entry");
		/* each of the removed entries went somewhere; others move only a little (paper:
		 * a few percent) */
		T_EXPECT(moved < M / 20, "entries of other backends moved: %d of %d (< 5%%)", moved,
			 M - owned);
	}
	T_END();

	T_BEGIN("maglev: weight 0 keeps other entries where a removal would put them");
	{
		ten[3].weight = 0;
		maglev_build(ten, 10, t1, M);
		T_EXPECT(memcmp(t1, t2, sizeof(t1)) == 0, "drained == removed, for new flows");
		ten[3].weight = 1;
	}
	T_END();

	T_BEGIN("maglev: ids do not influence placement");
	{
		struct maglev_backend a[] = {be("10.1.0.1", 80, 1, 1), be("10.1.0.2", 80, 1, 2)};
		struct maglev_backend b[] = {be("10.1.0.1", 80, 1, 7), be("10.1.0.2", 80, 1, 9)};
		int same = 1;

		maglev_build(a, 2, t1, M);
		maglev_build(b, 2, t2, M);
		for (int i = 0; i < M; i++)
			if ((t1[i] == 1) != (t2[i] == 7))
				same = 0;
		T_EXPECT(same, "same slots for the same keys under other ids");
	}
	T_END();

	T_CASE(maglev_build(three, 3, t1, 3) == -1, "maglev: more backends than slots refused");
	return t_exit();
}
