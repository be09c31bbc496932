/* Base64 (RFC 4648 section 4, the standard alphabet, with padding): Kubernetes Secrets' data
 * and etcd's JSON gateway (keys and values are bytes, sent as base64). */
#ifndef EDGELB_LIB_BASE64_H
#define EDGELB_LIB_BASE64_H

#include <stddef.h>

/* Room base64_encode needs for n bytes, the terminating NUL included. */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4 + 1)

/* Writes the encoding of in[0..n) and a NUL into out (BASE64_LEN(n) bytes). */
void base64_encode(const void *in, size_t n, char *out);
/* Decodes in (padding required); bytes written to out, or -1 when in is not base64 or the
 * result exceeds cap. in may be "" (0 bytes). */
int base64_decode(const char *in, unsigned char *out, size_t cap);

#endif
