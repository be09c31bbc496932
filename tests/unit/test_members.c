/* agent/cluster/members.c: the member set (put, del, since, full) and rendezvous hashing:
 * known answers the integration tests rely on, self always counted, independence from the
 * order members were seen, an even spread, and a leaving node moving only its own IPs. */
#include <stdio.h>
#include <string.h>

#include "cluster/members.h"
#include "lib/ip.h"
#include "t.h"

static struct ip nth_ip(int i)
{
	char s[IP_STRLEN];
	struct ip ip;

	if (i % 2)
		snprintf(s, sizeof(s), "2001:db8::%x:%x", i >> 16, i & 0xffff);
	else
		snprintf(s, sizeof(s), "198.51.%d.%d", (i >> 8) & 255, i & 255);
	ip_parse(s, &ip);
	return ip;
}

static struct members set_of(const char *const *names, int n)
{
	struct members m;

	memset(&m, 0, sizeof(m));
	for (int i = 0; i < n; i++)
		members_put(&m, names[i], 100 + (uint64_t)i);
	return m;
}

int main(void)
{
	static const char *const abc[] = {"node-a", "node-b", "node-c"};
	static const char *const cba[] = {"node-c", "node-b", "node-a"};
	static struct members m;
	struct ip ip;

	T_BEGIN("members: put, again, since, del, full");
	memset(&m, 0, sizeof(m));
	T_EXPECT(members_put(&m, "node-a", 5) == 1, "added");
	T_EXPECT(members_put(&m, "node-a", 9) == 0 && members_since(&m, "node-a") == 5,
		 "a second put keeps the first sighting");
	T_EXPECT(members_since(&m, "node-z") == 0, "not a member: 0");
	members_del(&m, "node-a");
	T_EXPECT(m.n == 0 && members_since(&m, "node-a") == 0, "deleted");
	members_del(&m, "node-a");
	for (int i = 0; i < MEMBERS_MAX; i++) {
		char name[16];

		snprintf(name, sizeof(name), "n%d", i);
		members_put(&m, name, 1);
	}
	T_EXPECT(m.n == MEMBERS_MAX && members_put(&m, "one-more", 1) == -1, "full: refused");
	T_END();

	T_BEGIN("preferred: the known answers cluster.bats relies on");
	m = set_of(abc, 2);
	ip_parse("192.0.2.100", &ip);
	T_EXPECT(!strcmp(members_preferred(&m, "node-a", &ip), "node-a"), "192.0.2.100");
	T_EXPECT(!strcmp(members_preferred(&m, "node-b", &ip), "node-a"), "same from node-b");
	ip_parse("192.0.2.101", &ip);
	T_EXPECT(!strcmp(members_preferred(&m, "node-a", &ip), "node-b"), "192.0.2.101");
	T_END();

	T_BEGIN("preferred: self counts though not listed; alone it is every IP's");
	memset(&m, 0, sizeof(m));
	ip_parse("192.0.2.101", &ip);
	T_EXPECT(!strcmp(members_preferred(&m, "node-a", &ip), "node-a"), "alone");
	members_put(&m, "node-a", 1);
	T_EXPECT(!strcmp(members_preferred(&m, "node-b", &ip), "node-b"),
		 "node-b unlisted still wins 192.0.2.101");
	T_END();

	T_BEGIN("preferred: the same whatever order the members were seen in");
	{
		struct members x = set_of(abc, 3), y = set_of(cba, 3);
		int diff = 0;

		for (int i = 0; i < 2000; i++) {
			ip = nth_ip(i);
			diff += strcmp(members_preferred(&x, "node-a", &ip),
				       members_preferred(&y, "node-c", &ip)) != 0;
		}
		T_EXPECT(diff == 0, "%d of 2000 IPs differ", diff);
	}
	T_END();

	T_BEGIN("preferred: 3000 IPs spread over three nodes within 28-39%% each");
	{
		int count[3] = {0};

		m = set_of(abc, 3);
		for (int i = 0; i < 3000; i++) {
			ip = nth_ip(i);
			count[members_preferred(&m, "node-a", &ip)[5] - 'a']++;
		}
		for (int k = 0; k < 3; k++)
			T_EXPECT(count[k] >= 840 && count[k] <= 1170, "%s: %d", abc[k], count[k]);
	}
	T_END();

	T_BEGIN("preferred: node-c leaving moves only the IPs it won");
	{
		struct members all = set_of(abc, 3), two = set_of(abc, 2);
		int moved = 0, wrong = 0;

		for (int i = 0; i < 3000; i++) {
			const char *before, *after;

			ip = nth_ip(i);
			before = members_preferred(&all, "node-a", &ip);
			after = members_preferred(&two, "node-a", &ip);
			if (strcmp(before, after)) {
				moved++;
				wrong += strcmp(before, "node-c") != 0;
			}
		}
		T_EXPECT(wrong == 0 && moved > 0, "moved %d, of them not node-c's %d", moved, wrong);
	}
	T_END();
	return t_any_failed;
}
