#include "lib/base64.h"

#include <stdint.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t acc = (uint32_t)p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			acc |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			acc |= p[i + 2];
		for (int k = 0; k < 4; k++)
			out[o + (size_t)k] =
			    (size_t)k <= left ? alphabet[(acc >> (18 - 6 * k)) & 63] : '=';
		o += 4;
	}
	out[o] = '\0';
}

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int base64_decode(const char *in, unsigned char *out, size_t cap)
{
	size_t n = strlen(in), o = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		uint32_t acc = 0;
		int pad = 0, v;

		for (int k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == n && k >= 2) { /* padding ends the input */
				pad++;
				v = 0;
			} else if (pad || (v = value(in[i + k])) < 0) {
				return -1;
			}
			acc = acc << 6 | (uint32_t)v;
		}
		for (int k = 0; k < 3 - pad; k++) {
			if (o == cap)
				return -1;
			out[o++] = (unsigned char)(acc >> (16 - 8 * k));
		}
	}
	return (int)o;
}
