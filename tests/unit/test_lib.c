/* agent/lib: addresses (parse, prefix, arithmetic), base64, the bounded reader/writer, the
 * event loop's timers and the histogram (with its Prometheus text from metrics_histogram).
 * Table-driven where it fits. */
#include <math.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/ev.h"
#include "lib/histogram.h"
#include "lib/ip.h"
#include "metrics/metrics.h"
#include "t.h"

static const struct {
	const char *in;
	int ok;
	int family;
} ip_rows[] = {
	{"10.0.0.1", 1, AF_INET},   {"fd00::1", 1, AF_INET6}, {"256.0.0.1", 0, 0},
	{"10.0.0", 0, 0},	    {"", 0, 0},		      {"::ffff:1.2.3.4", 1, AF_INET6},
	{"1.2.3.4 ", 0, 0},	    {"fe80::1%eth0", 0, 0},
};

static const struct {
	const char *in;
	int ok;
	int len;
} prefix_rows[] = {
	{"10.0.0.64/27", 1, 27}, {"10.0.0.65/27", 0, 0}, {"fd00::/120", 1, 120}, {"10.0.0.0/33", 0, 0},
	{"10.0.0.0/", 0, 0},	 {"10.0.0.0", 0, 0},	 {"0.0.0.0/0", 1, 0},	  {"fd00::/129", 0, 0},
};

static int fired;
static void on_timer(struct ev_timer *t, void *arg)
{
	fired = fired * 10 + (int)(long)arg;
}

/* RFC 4648 section 10, and one with every byte value's bits across the alphabet's ends */
static const struct {
	const char *raw, *b64;
} b64_rows[] = {
	{"", ""},	     {"f", "Zg=="},	    {"fo", "Zm8="},	    {"foo", "Zm9v"},
	{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff\xbf", "+/+/"},
};

/* refused: bad length, a character outside the alphabet, padding inside, three '=' */
static const char *const b64_bad[] = {"Zg=", "Zm9", "Zm9v!", "Zg==Zg==", "Z===", "Zm 9"};

static void base64_cases(void)
{
	for (size_t i = 0; i < sizeof(b64_rows) / sizeof(b64_rows[0]); i++) {
		size_t n = strlen(b64_rows[i].raw);
		char enc[BASE64_LEN(8)];
		unsigned char dec[8];
		int m;

		T_BEGIN("base64 \"%s\"", b64_rows[i].b64);
		base64_encode(b64_rows[i].raw, n, enc);
		T_EXPECT(!strcmp(enc, b64_rows[i].b64), "encoded \"%s\"", enc);
		m = base64_decode(b64_rows[i].b64, dec, sizeof(dec));
		T_EXPECT(m == (int)n && !memcmp(dec, b64_rows[i].raw, n), "decoded %d bytes", m);
		T_EXPECT(n == 0 || base64_decode(b64_rows[i].b64, dec, n - 1) == -1,
			 "one byte short of room refused");
		T_END();
	}
	for (size_t i = 0; i < sizeof(b64_bad) / sizeof(b64_bad[0]); i++) {
		unsigned char dec[8];

		T_BEGIN("base64 refuses \"%s\"", b64_bad[i]);
		T_EXPECT(base64_decode(b64_bad[i], dec, sizeof(dec)) == -1, "accepted");
		T_END();
	}
}

/* Bounds as the cluster's failover histogram has them; le is inclusive, so a value equal to a
 * bound counts in that bucket. cum: the cumulative counts after every row up to this one,
 * le=0.01 .. le=30 then +Inf. */
static const double hist_le[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
static const struct {
	double v;
	uint64_t cum[12];
} hist_rows[] = {
    {0, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},	   /* zero: the first bucket */
    {0.01, {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}},  /* on the first bound */
    {0.011, {2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}}, /* just above it */
    {1, {2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4}},	   /* on an inner bound */
    {1.001, {2, 3, 3, 3, 3, 3, 4, 5, 5, 5, 5, 5}}, /* just above it */
    {30, {2, 3, 3, 3, 3, 3, 4, 5, 5, 5, 6, 6}},	   /* on the last bound */
    {30.5, {2, 3, 3, 3, 3, 3, 4, 5, 5, 5, 6, 7}},  /* above every bound: +Inf only */
};

static void histogram_cases(void)
{
	const int n = sizeof(hist_le) / sizeof(hist_le[0]);
	struct histogram h;
	double sum = 0;

	histogram_init(&h, hist_le, n);
	T_BEGIN("histogram: empty");
	for (int i = 0; i <= n; i++)
		T_EXPECT(histogram_cumulative(&h, i) == 0, "bucket %d empty", i);
	T_EXPECT(h.count == 0 && h.sum == 0, "count %llu sum %g", (unsigned long long)h.count,
		 h.sum);
	T_END();
	for (size_t r = 0; r < sizeof(hist_rows) / sizeof(hist_rows[0]); r++) {
		histogram_observe(&h, hist_rows[r].v);
		sum += hist_rows[r].v;
		T_BEGIN("histogram: observe %g", hist_rows[r].v);
		for (int i = 0; i <= n; i++)
			T_EXPECT(histogram_cumulative(&h, i) == hist_rows[r].cum[i],
				 "le=%g: %llu, want %llu", i < n ? hist_le[i] : INFINITY,
				 (unsigned long long)histogram_cumulative(&h, i),
				 (unsigned long long)hist_rows[r].cum[i]);
		T_EXPECT(h.count == r + 1, "count %llu, want %zu", (unsigned long long)h.count,
			 r + 1);
		T_EXPECT(h.sum == sum, "sum %.17g, want %.17g", h.sum, sum);
		T_END();
	}
	{
		static const char want[] = "# HELP x_seconds Help.\n"
					   "# TYPE x_seconds histogram\n"
					   "x_seconds_bucket{le=\"0.01\"} 1\n"
					   "x_seconds_bucket{le=\"2.5\"} 2\n"
					   "x_seconds_bucket{le=\"+Inf\"} 3\n"
					   "x_seconds_sum 43.5\n"
					   "x_seconds_count 3\n";
		static const double le[] = {0.01, 2.5};
		struct mbuf o = {0};

		T_BEGIN("histogram: Prometheus text (cumulative buckets, +Inf, sum, count)");
		histogram_init(&h, le, 2);
		histogram_observe(&h, 0.5);
		histogram_observe(&h, 0);
		histogram_observe(&h, 43);
		metrics_histogram(&o, "x_seconds", "Help.", &h);
		T_EXPECT(o.p && !strcmp(o.p, want), "got:\n%s", o.p ? o.p : "(nothing)");
		free(o.p);
		T_END();
	}
}

int main(void)
{
	char s[IP_STRLEN];

	base64_cases();
	histogram_cases();

	for (size_t i = 0; i < sizeof(ip_rows) / sizeof(ip_rows[0]); i++) {
		struct ip ip;
		int rc = ip_parse(ip_rows[i].in, &ip);
		T_BEGIN("ip_parse \"%s\"", ip_rows[i].in);
		T_EXPECT((rc == 0) == ip_rows[i].ok, "accepted=%d want %d", rc == 0, ip_rows[i].ok);
		if (rc == 0)
			T_EXPECT(ip.family == ip_rows[i].family, "family %d", ip.family);
		T_END();
	}
	for (size_t i = 0; i < sizeof(prefix_rows) / sizeof(prefix_rows[0]); i++) {
		struct prefix p;
		int rc = prefix_parse(prefix_rows[i].in, &p);
		T_BEGIN("prefix_parse \"%s\"", prefix_rows[i].in);
		T_EXPECT((rc == 0) == prefix_rows[i].ok, "accepted=%d want %d", rc == 0, prefix_rows[i].ok);
		if (rc == 0)
			T_EXPECT(p.len == prefix_rows[i].len, "len %d", p.len);
		T_END();
	}
	{
		struct ip a, b;
		struct prefix p;
		T_BEGIN("ip arithmetic and containment");
		ip_parse("10.0.0.255", &a);
		T_EXPECT(ip_add(&a, 1) == 0 && !strcmp(ip_str(&a, s), "10.0.1.0"), "10.0.0.255 + 1 = %s", s);
		T_EXPECT(ip_add(&a, -257) == 0 && !strcmp(ip_str(&a, s), "9.255.255.255"), "- 257 = %s", s);
		ip_parse("255.255.255.255", &a);
		T_EXPECT(ip_add(&a, 1) < 0, "IPv4 wrap refused");
		ip_parse("fd00::ffff", &a);
		T_EXPECT(ip_add(&a, 1) == 0 && !strcmp(ip_str(&a, s), "fd00::1:0"), "fd00::ffff + 1 = %s", s);
		ip_parse("fd00::", &b);
		T_EXPECT(ip_diff(&a, &b) == 0x10000, "diff");
		prefix_parse("10.1.0.0/16", &p);
		ip_parse("10.1.200.3", &a);
		T_EXPECT(prefix_contains(&p, &a), "10.1.200.3 in 10.1.0.0/16");
		ip_parse("10.2.0.1", &a);
		T_EXPECT(!prefix_contains(&p, &a), "10.2.0.1 not in 10.1.0.0/16");
		ip_parse("224.0.0.5", &a);
		T_EXPECT(!ip_is_unicast(&a), "multicast is not unicast");
		ip_parse("ff02::1", &a);
		T_EXPECT(!ip_is_unicast(&a), "ff02::1 is not unicast");
		T_END();
	}
	{
		uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
		struct rbuf r = rbuf_make(bytes, sizeof(bytes));
		struct rbuf sub;
		T_BEGIN("rbuf: reads, sub-buffers and sticky short-read errors");
		T_EXPECT(rbuf_u8(&r) == 1, "u8");
		T_EXPECT(rbuf_u16(&r) == 0x0203, "u16 network order");
		sub = rbuf_sub(&r, 2);
		T_EXPECT(rbuf_u16(&sub) == 0x0405 && !sub.err, "sub reads its bytes");
		T_EXPECT(rbuf_u8(&sub) == 0 && sub.err, "sub is bounded");
		T_EXPECT(rbuf_u32(&r) == 0 && r.err, "short u32 sets err");
		T_EXPECT(rbuf_u8(&r) == 0 && r.err && rbuf_left(&r) == 0, "error is sticky");
		T_END();
	}
	{
		uint8_t out[6];
		struct wbuf w = wbuf_make(out, sizeof(out));
		size_t m;
		T_BEGIN("wbuf: length patching and overflow");
		m = wbuf_mark(&w, 2);
		wbuf_u16(&w, 0xabcd);
		wbuf_u8(&w, 7);
		wbuf_patch_len(&w, m, 2);
		T_EXPECT(!w.err && w.len == 5 && out[0] == 0 && out[1] == 3 && out[2] == 0xab, "patched length 3");
		wbuf_u16(&w, 1);
		T_EXPECT(w.err && w.len == 5, "overflow refused, nothing written past the end");
		T_END();
	}
	{
		struct ev_loop *l = ev_loop_new();
		struct ev_timer *a = ev_timer_new(l, on_timer, (void *)1L);
		struct ev_timer *b = ev_timer_new(l, on_timer, (void *)2L);
		struct ev_timer *c = ev_timer_new(l, on_timer, (void *)3L);
		uint64_t deadline = ev_now_ms() + 2000;
		T_BEGIN("ev: timers fire in deadline order, stopped ones never");
		ev_timer_arm(a, 30);
		ev_timer_arm(b, 10);
		ev_timer_arm(c, 20);
		ev_timer_stop(c);
		while (fired < 21 && ev_now_ms() < deadline)
			ev_loop_once(l, 50);
		T_EXPECT(fired == 21, "order: got %d want 21 (b then a)", fired);
		T_EXPECT(!ev_timer_armed(c), "stopped timer stays stopped");
		T_END();
		ev_timer_free(a);
		ev_timer_free(b);
		ev_timer_free(c);
		ev_loop_free(l);
	}
	return t_exit();
}
