#include "cluster/members.h"

#include <string.h>

#include "lib/hash.h"
#include "lib/ip.h"

static int find(const struct members *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->m[i].name, name))
			return i;
	return -1;
}

int members_put(struct members *s, const char *name, uint64_t now_ms)
{
	if (find(s, name) >= 0)
		return 0;
	if (s->n == MEMBERS_MAX || strlen(name) >= CFG_NAME_MAX)
		return -1;
	strcpy(s->m[s->n].name, name);
	s->m[s->n].since_ms = now_ms;
	s->n++;
	return 1;
}

void members_del(struct members *s, const char *name)
{
	int i = find(s, name);

	if (i >= 0)
		s->m[i] = s->m[--s->n];
}

uint64_t members_since(const struct members *s, const char *name)
{
	int i = find(s, name);

	return i >= 0 ? s->m[i].since_ms : 0;
}

/* The weight of (node, ip): FNV-1a of both, then the splitmix64 finaliser (FNV alone barely
 * changes its high bits between IPs that differ in one byte). */
static uint64_t weight(const char *node, const struct ip *ip)
{
	uint8_t k[17] = {ip->family};
	uint64_t h;

	memcpy(k + 1, ip->a, ip->family == AF_INET ? 4 : 16);
	h = hash_bytes(k, sizeof(k), hash_bytes(node, strlen(node), 0));
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* Highest weight wins; equal weights (never seen) go to the smaller name. */
static bool beats(const char *a, uint64_t wa, const char *b, uint64_t wb)
{
	return wa > wb || (wa == wb && strcmp(a, b) < 0);
}

const char *members_preferred(const struct members *s, const char *self, const struct ip *ip)
{
	const char *best = self;
	uint64_t bw = weight(self, ip);

	for (int i = 0; i < s->n; i++) {
		uint64_t w = weight(s->m[i].name, ip);

		if (beats(s->m[i].name, w, best, bw)) {
			best = s->m[i].name;
			bw = w;
		}
	}
	return best;
}
