/* agent/bgp/adj_out.c, the speaker's adj-RIB-out: the agent's changes merge into one sorted
 * table (new prefixes in, unwanted ones out once the peer no longer holds them), 100,000
 * prefixes arriving in channel-sized batches end sorted and whole, a route refresh keeps the
 * withdrawals that are still due, a session going down forgets what the peer held. */
#include <arpa/inet.h>
#include <string.h>

#include "bgp/adj_out.h"
#include "t.h"

static struct prefix v4(uint32_t a)
{
	struct prefix p = {.ip = {.family = AF_INET}, .len = 32};

	a = htonl(a);
	memcpy(p.ip.a, &a, 4);
	return p;
}

static struct prefix v6(uint8_t last)
{
	struct prefix p = {.ip = {.family = AF_INET6, .a = {0x20, 0x01, 0x0d, 0xb8}}, .len = 128};

	p.ip.a[15] = last;
	return p;
}

static bool sorted(const struct adj_out *o)
{
	for (size_t i = 1; i < o->n; i++)
		if (prefix_cmp(&o->r[i - 1].pfx, &o->r[i].pfx) >= 0)
			return false;
	return true;
}

static const struct adj_route *find(const struct adj_out *o, const struct prefix *p)
{
	for (size_t i = 0; i < o->n; i++)
		if (!prefix_cmp(&o->r[i].pfx, p))
			return &o->r[i];
	return NULL;
}

int main(void)
{
	struct adj_out o = {0};
	struct bgp_ipc_route in[8];
	struct bgp_attrs at = {.local_as = 64513};
	static struct bgp_ipc_route big[BGP_IPC_ROUTES_MAX];
	size_t bad = 0;

	T_BEGIN("adj_out: unsorted changes merge sorted; unknown withdrawals are ignored");
	in[0] = (struct bgp_ipc_route){v6(1), 2};
	in[1] = (struct bgp_ipc_route){v4(0xc0000203), 1};
	in[2] = (struct bgp_ipc_route){v4(0xc0000201), 1};
	in[3] = (struct bgp_ipc_route){v4(0xc0000299), 0}; /* never wanted */
	adj_merge(&o, in, 4);
	T_EXPECT(o.n == 3, "n = %zu, want 3", o.n);
	T_EXPECT(sorted(&o), "table not sorted");
	T_EXPECT(o.r[0].pfx.ip.family == AF_INET && o.r[2].pfx.ip.family == AF_INET6,
		 "IPv4 first, then IPv6");
	T_EXPECT(o.r[0].want == 1 && o.r[0].sent == 0, "new prefix: want 1 sent 0, got %u %u",
		 o.r[0].want, o.r[0].sent);
	in[0] = (struct bgp_ipc_route){v4(0xc0000202), 1};
	adj_merge(&o, in, 1);
	T_EXPECT(o.n == 4 && sorted(&o), "a prefix between two lands in order (n = %zu)", o.n);
	T_END();

	T_BEGIN("adj_out: a withdrawal stays until sent; a new attribute set replaces in place");
	adj_sent_all(&o);
	in[0] = (struct bgp_ipc_route){v4(0xc0000201), 0};
	in[1] = (struct bgp_ipc_route){v4(0xc0000203), 3};
	adj_merge(&o, in, 2);
	T_EXPECT(o.n == 4, "held prefix dropped before its withdrawal went out (n = %zu)", o.n);
	T_EXPECT(find(&o, &in[0].pfx) && find(&o, &in[0].pfx)->want == 0 &&
		     find(&o, &in[0].pfx)->sent == 1,
		 "withdrawal: want 0 sent 1");
	T_EXPECT(find(&o, &in[1].pfx)->want == 3 && find(&o, &in[1].pfx)->sent == 1,
		 "replacement: want 3 sent 1");
	adj_sent_all(&o);
	T_EXPECT(o.n == 3 && !find(&o, &in[0].pfx), "withdrawn prefix gone after the flush");
	T_END();

	T_BEGIN(
	    "adj_out: route refresh keeps due withdrawals, session down forgets everything held");
	in[0] = (struct bgp_ipc_route){v4(0xc0000202), 0};
	adj_merge(&o, in, 1);
	adj_unsend(&o, AF_INET, true);
	T_EXPECT(find(&o, &in[0].pfx) && find(&o, &in[0].pfx)->sent == 1,
		 "refresh dropped a withdrawal still due");
	T_EXPECT(find(&o, &in[1].pfx)->sent == 0, "refresh: IPv4 prefix still marked held");
	T_EXPECT(find(&o, &(struct prefix){v6(1).ip, 128})->sent == 2,
		 "refresh of IPv4 touched IPv6");
	adj_unsend(&o, 0, false);
	T_EXPECT(o.n == 2 && !find(&o, &in[0].pfx), "down: n = %zu, want 2 wanted prefixes", o.n);
	for (size_t i = 0; i < o.n; i++)
		T_EXPECT(o.r[i].sent == 0, "down: prefix %zu still held", i);
	T_END();

	T_BEGIN(
	    "adj_out: 100000 prefixes in channel-sized batches, descending, end sorted and whole");
	adj_free(&o);
	for (uint32_t done = 0; done < 100000;) {
		size_t k = 0;

		for (; k < BGP_IPC_ROUTES_MAX && done < 100000; k++, done++)
			big[k] = (struct bgp_ipc_route){v4(0xc6120000u + 99999u - done), 1};
		adj_merge(&o, big, k);
	}
	T_EXPECT(o.n == 100000, "n = %zu", o.n);
	T_EXPECT(sorted(&o), "not sorted");
	for (size_t i = 0; i < o.n; i++)
		bad += o.r[i].want != 1 || o.r[i].sent != 0;
	T_EXPECT(bad == 0, "%zu prefixes with the wrong ids", bad);
	T_END();

	T_BEGIN("adj_out: batches in ascending order append; odd prefixes interleave later");
	adj_free(&o);
	for (uint32_t done = 0; done < 100000;) {
		size_t k = 0;

		for (; k < BGP_IPC_ROUTES_MAX && done < 100000; k++, done += 2)
			big[k] = (struct bgp_ipc_route){v4(0xc6120000u + done), 1};
		adj_merge(&o, big, k);
	}
	T_EXPECT(o.n == 50000 && sorted(&o), "even half: n = %zu", o.n);
	for (uint32_t done = 1; done < 100000;) {
		size_t k = 0;

		for (; k < BGP_IPC_ROUTES_MAX && done < 100000; k++, done += 2)
			big[k] = (struct bgp_ipc_route){v4(0xc6120000u + done), 2};
		adj_merge(&o, big, k);
	}
	T_EXPECT(o.n == 100000 && sorted(&o), "both halves: n = %zu", o.n);
	bad = 0;
	for (size_t i = 0; i < o.n; i++)
		bad += o.r[i].want != 1 + (i & 1);
	T_EXPECT(bad == 0, "%zu prefixes with the other half's id", bad);
	T_END();

	T_BEGIN("adj_out: attribute ids name their set; unknown ids have none");
	adj_set_attrs(&o, 3, &at);
	T_EXPECT(adj_attrs(&o, 3) && adj_attrs(&o, 3)->local_as == 64513, "id 3 not stored");
	T_EXPECT(adj_attrs(&o, 1) && adj_attrs(&o, 1)->local_as == 0, "id 1 not zero");
	T_EXPECT(!adj_attrs(&o, 0) && !adj_attrs(&o, 4), "ids 0 and 4 should have no set");
	T_END();
	adj_free(&o);
	return t_any_failed;
}
