/* The speaker's adj-RIB-out table; see adj_out.h. */
#include <stdlib.h>
#include <string.h>

#include "bgp/adj_out.h"
#include "lib/log.h"

static int in_cmp(const void *x, const void *y)
{
	return prefix_cmp(&((const struct bgp_ipc_route *)x)->pfx,
			  &((const struct bgp_ipc_route *)y)->pfx);
}

void adj_set_attrs(struct adj_out *o, uint16_t id, const struct bgp_attrs *at)
{
	if (!id)
		return;
	if (id > o->n_attrs) {
		o->attrs = realloc(o->attrs, id * sizeof(*o->attrs));
		if (!o->attrs)
			log_fatal("bgp: out of memory");
		memset(&o->attrs[o->n_attrs], 0, (id - o->n_attrs) * sizeof(*o->attrs));
		o->n_attrs = id;
	}
	o->attrs[id - 1] = *at;
}

const struct bgp_attrs *adj_attrs(const struct adj_out *o, uint16_t id)
{
	return id && id <= o->n_attrs ? &o->attrs[id - 1] : NULL;
}

/* Drops prefixes neither wanted nor held by the peer. */
static void compact(struct adj_out *o)
{
	size_t w = 0;

	for (size_t i = 0; i < o->n; i++)
		if (o->r[i].want || o->r[i].sent)
			o->r[w++] = o->r[i];
	o->n = w;
}

/* The first entry not below p. */
static size_t lower_bound(const struct adj_out *o, const struct prefix *p)
{
	size_t lo = 0, hi = o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (prefix_cmp(&o->r[mid].pfx, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Sorted merge in place from the back: the table grows by the new prefixes only, and a batch
 * that lands past the table's end (the agent sends in order) costs only its own length. */
void adj_merge(struct adj_out *o, struct bgp_ipc_route *in, size_t n)
{
	size_t add = 0, i, j = 0, w;
	bool drop = false;

	if (!n)
		return;
	qsort(in, n, sizeof(*in), in_cmp);
	i = lower_bound(o, &in[0].pfx);
	while (j < n) {
		int c = i < o->n ? prefix_cmp(&o->r[i].pfx, &in[j].pfx) : 1;

		if (c < 0) {
			i++;
			continue;
		}
		if (c > 0 && in[j].attr)
			add++;
		if (c == 0)
			i++;
		j++;
	}
	if (o->n + add > o->cap) {
		size_t cap = o->cap ? o->cap : 256;

		while (cap < o->n + add)
			cap *= 2;
		o->r = realloc(o->r, cap * sizeof(*o->r));
		if (!o->r)
			log_fatal("bgp: out of memory");
		o->cap = cap;
	}
	i = o->n;
	j = n;
	w = o->n + add;
	while (j > 0) {
		int c = i > 0 ? prefix_cmp(&o->r[i - 1].pfx, &in[j - 1].pfx) : -1;

		if (c > 0) {
			o->r[--w] = o->r[--i];
		} else if (c == 0) {
			o->r[--w] = o->r[--i];
			o->r[w].want = in[--j].attr;
			drop |= !o->r[w].want && !o->r[w].sent;
		} else {
			j--;
			if (in[j].attr)
				o->r[--w] = (struct adj_route){in[j].pfx, in[j].attr, 0};
		}
	}
	o->n += add;
	if (drop)
		compact(o);
}

void adj_unsend(struct adj_out *o, int fam, bool keep_withdrawals)
{
	for (size_t i = 0; i < o->n; i++)
		if ((!fam || o->r[i].pfx.ip.family == fam) && (o->r[i].want || !keep_withdrawals))
			o->r[i].sent = 0;
	compact(o);
}

void adj_sent_all(struct adj_out *o)
{
	for (size_t i = 0; i < o->n; i++)
		o->r[i].sent = o->r[i].want;
	compact(o);
}

void adj_free(struct adj_out *o)
{
	free(o->r);
	free(o->attrs);
	memset(o, 0, sizeof(*o));
}
