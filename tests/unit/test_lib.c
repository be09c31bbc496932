/* agent/lib: addresses (parse, prefix, arithmetic), base64, the bounded reader/writer and the
 * event loop's timers. Table-driven where it fits. */
#include <string.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/ev.h"
#include "lib/ip.h"
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

int main(void)
{
	char s[IP_STRLEN];

	base64_cases();

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
