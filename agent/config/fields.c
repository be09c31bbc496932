/* Field validators shared by the YAML config, the control socket, the store and manifests:
 * address ranges (CIDR or first-last), service ports (PROTO/PORT) and backends (IP:PORT).
 * Each writes one line "field: "value": what is wrong (allowed: ...)" on error and returns -1.
 * Owns no state. Other validators may be appended below (only append). */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"

/* Messages quote user input: control characters would break the one-line rule. */
int cfg_msg_oneline(char *msg)
{
	for (unsigned char *c = (unsigned char *)msg; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			*c = '?';
	return -1;
}

#define RANGE_ALLOWED                                                                              \
	"allowed: CIDR like 10.0.0.64/27 or fd00::/120, range like 10.0.0.200-10.0.0.250, "        \
	"or one address"

/* Copies s without leading and trailing blanks into out; -1 when it does not fit. */
static int trim_copy(const char *s, size_t n, char *out, size_t cap)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= cap)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* Last address of a prefix: set every host bit. */
static void prefix_last(const struct prefix *p, struct ip *last)
{
	*last = p->ip;
	for (int b = p->len; b < ip_bits(&p->ip); b++)
		last->a[b / 8] |= (uint8_t)(0x80 >> (b % 8));
}

int cfg_parse_range(const char *field, const char *s, struct cfg_range *out, char *msg, size_t len)
{
	char a[IP_STRLEN + 8], b[IP_STRLEN + 8];
	const char *dash = strchr(s, '-');
	struct prefix p;

	memset(out, 0, sizeof(*out));
	if (strchr(s, '/')) {
		if (trim_copy(s, strlen(s), a, sizeof(a)) < 0)
			goto bad; /* longer than any CIDR (a stays unset) */
		if (prefix_parse(a, &p) == 0) {
			out->first = p.ip;
			prefix_last(&p, &out->last);
			return 0;
		}
		/* "10.0.0.1/24": say what was meant rather than only "not a CIDR" */
		char *slash = strchr(a, '/');
		struct ip ip;
		char *end;
		long l;

		if (slash && (*slash = '\0', ip_parse(a, &ip) == 0) && slash[1] &&
		    (l = strtol(slash + 1, &end, 10), !*end) && l >= 0 && l <= ip_bits(&ip)) {
			char buf[IP_STRLEN];

			for (int bit = (int)l; bit < ip_bits(&ip); bit++)
				ip.a[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
			snprintf(msg, len, "%s: \"%s\": host bits set (did you mean %s/%ld?)",
				 field, s, ip_str(&ip, buf), l);
			return cfg_msg_oneline(msg);
		}
		goto bad;
	}
	if (dash) {
		if (trim_copy(s, (size_t)(dash - s), a, sizeof(a)) < 0 ||
		    trim_copy(dash + 1, strlen(dash + 1), b, sizeof(b)) < 0)
			goto bad;
		if (ip_parse(a, &out->first) < 0 || ip_parse(b, &out->last) < 0)
			goto bad;
		if (out->first.family != out->last.family) {
			snprintf(msg, len,
				 "%s: \"%s\": range mixes IPv4 and IPv6 (allowed: both ends of one "
				 "family)",
				 field, s);
			return cfg_msg_oneline(msg);
		}
		if (ip_cmp(&out->first, &out->last) > 0) {
			snprintf(msg, len,
				 "%s: \"%s\": reversed range, first address above last (allowed: "
				 "first <= last)",
				 field, s);
			return cfg_msg_oneline(msg);
		}
		return 0;
	}
	if (trim_copy(s, strlen(s), a, sizeof(a)) == 0 && ip_parse(a, &out->first) == 0) {
		out->last = out->first;
		return 0;
	}
bad:
	snprintf(msg, len, "%s: \"%s\": not a CIDR or range (%s)", field, s, RANGE_ALLOWED);
	return cfg_msg_oneline(msg);
}

static const struct {
	const char *name;
	uint8_t proto;
} port_protos[] = {
    {"tcp", IPPROTO_TCP},
    {"udp", IPPROTO_UDP},
};

static int parse_u16(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int cfg_parse_port(const char *field, const char *s, struct cfg_port *out, char *msg, size_t len)
{
	const char *slash = strchr(s, '/');
	char proto[16];

	memset(out, 0, sizeof(*out));
	if (!slash) {
		/* a bare number is TCP, as in a Kubernetes Service port without protocol */
		if (parse_u16(s, &out->port) == 0) {
			out->proto = IPPROTO_TCP;
			return 0;
		}
		goto bad;
	}
	if ((size_t)(slash - s) >= sizeof(proto))
		goto bad_proto;
	memcpy(proto, s, (size_t)(slash - s));
	proto[slash - s] = '\0';
	for (size_t i = 0; i < sizeof(port_protos) / sizeof(port_protos[0]); i++) {
		if (strcasecmp(proto, port_protos[i].name) == 0) {
			out->proto = port_protos[i].proto;
			break;
		}
	}
	if (!out->proto)
		goto bad_proto;
	if (parse_u16(slash + 1, &out->port) < 0)
		goto bad;
	return 0;
bad_proto:
	snprintf(msg, len, "%s: \"%s\": unknown protocol \"%.*s\" (allowed: tcp, udp)", field, s,
		 (int)(slash - s), s);
	return cfg_msg_oneline(msg);
bad:
	snprintf(msg, len,
		 "%s: \"%s\": not a port (allowed: PROTO/PORT like tcp/80 or udp/53, "
		 "PROTO tcp or udp, PORT 1-65535)",
		 field, s);
	return cfg_msg_oneline(msg);
}

const char *cfg_port_str(const struct cfg_port *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%u", p->proto == IPPROTO_UDP ? "udp" : "tcp", p->port);
	return buf;
}

int cfg_parse_backend(const char *field, const char *s, struct cfg_backend *out, char *msg,
		      size_t len)
{
	char host[IP_STRLEN + 2];
	const char *colon;
	size_t hl;

	memset(out, 0, sizeof(*out));
	out->weight = 1;
	out->state = CFG_BE_READY;
	if (*s == '[') { /* [v6]:port, RFC 3986 3.2.2 */
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			goto bad;
		hl = (size_t)(close - s - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		colon = close + 1;
		if (ip_parse(host, &out->addr) < 0 || out->addr.family != AF_INET6)
			goto bad;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (ip_parse(host, &out->addr) < 0 || out->addr.family != AF_INET)
			goto bad;
	}
	if (parse_u16(colon + 1, &out->port) < 0)
		goto bad;
	return 0;
bad:
	snprintf(msg, len,
		 "%s: \"%s\": not an address and port (allowed: IPv4:PORT like 198.51.100.5:8080 or "
		 "[IPv6]:PORT like [2001:db8::5]:8080, PORT 1-65535)",
		 field, s);
	return cfg_msg_oneline(msg);
}

/* BGP peer fields (appended by the BGP speaker's owner). */

/* ASN: 1-65534 or 131072-4294967294 (the seed's 16-bit and 32-bit ranges, leaving out the
 * reserved 0, 65535, 65536-131071 and 4294967295), never AS_TRANS 23456 (RFC 6793). */
int cfg_check_asn(const char *field, uint64_t v, char *msg, size_t len)
{
	if ((v >= 1 && v <= 65534 && v != 23456) || (v >= 131072 && v <= 4294967294ull))
		return 0;
	snprintf(msg, len,
		 "%s: %llu: not a valid ASN (allowed: 1-65534 or 131072-4294967294, not 23456)",
		 field, (unsigned long long)v);
	return -1;
}

/* RFC 4271 4.2: hold time 0 or >= 3 seconds (16-bit field). */
int cfg_check_hold_time(const char *field, uint64_t v, char *msg, size_t len)
{
	if (v == 0 || (v >= 3 && v <= 65535))
		return 0;
	snprintf(msg, len, "%s: %llu: not a valid hold time (allowed: 0 or 3-65535 seconds)", field,
		 (unsigned long long)v);
	return -1;
}

/* BFD timers in milliseconds (RFC 5880 4.1 carries microseconds in 32 bits); 10 ms is the
 * floor of a userspace sender on the agent's event loop. */
int cfg_check_bfd_interval(const char *field, uint64_t v, char *msg, size_t len)
{
	if (v >= 10 && v <= 60000)
		return 0;
	snprintf(msg, len, "%s: %llu: not a BFD interval (allowed: 10-60000 milliseconds)", field,
		 (unsigned long long)v);
	return -1;
}

/* RFC 5880 6.8.6: a Detect Mult of zero is invalid; the field is 8 bits. */
int cfg_check_bfd_mult(const char *field, uint64_t v, char *msg, size_t len)
{
	if (v >= 1 && v <= 255)
		return 0;
	snprintf(msg, len, "%s: %llu: not a BFD detect multiplier (allowed: 1-255)", field,
		 (unsigned long long)v);
	return -1;
}

/* RFC 5883 5: the lowest TTL a multihop session takes (255 less the routers crossed). */
int cfg_check_bfd_ttl(const char *field, uint64_t v, char *msg, size_t len)
{
	if (v >= 1 && v <= 255)
		return 0;
	snprintf(msg, len, "%s: %llu: not a TTL (allowed: 1-255)", field, (unsigned long long)v);
	return -1;
}
