/* Bounded reader and writer for every wire format (BGP, packets, control frames).
 * Reads past the end and writes past the capacity set a sticky error instead of touching
 * memory; callers check once at the end. No other code does pointer arithmetic on raw bytes. */
#ifndef EDGELB_BUF_H
#define EDGELB_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rbuf {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err;
};

static inline struct rbuf rbuf_make(const void *p, size_t len)
{
	return (struct rbuf){.p = p, .len = len};
}
static inline size_t rbuf_left(const struct rbuf *r)
{
	return r->err ? 0 : r->len - r->off;
}
uint8_t rbuf_u8(struct rbuf *r);
uint16_t rbuf_u16(struct rbuf *r); /* network order in, host order out */
uint32_t rbuf_u32(struct rbuf *r);
void rbuf_bytes(struct rbuf *r, void *dst, size_t n);
const uint8_t *rbuf_ptr(struct rbuf *r, size_t n); /* consume n, return where they are */
void rbuf_skip(struct rbuf *r, size_t n);
/* Split off the next n bytes as their own reader. */
struct rbuf rbuf_sub(struct rbuf *r, size_t n);

struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool err;
};

static inline struct wbuf wbuf_make(void *p, size_t cap)
{
	return (struct wbuf){.p = p, .cap = cap};
}
void wbuf_u8(struct wbuf *w, uint8_t v);
void wbuf_u16(struct wbuf *w, uint16_t v); /* host order in, network order out */
void wbuf_u32(struct wbuf *w, uint32_t v);
void wbuf_bytes(struct wbuf *w, const void *src, size_t n);
void wbuf_zero(struct wbuf *w, size_t n);
/* Reserve a 1/2-byte length field now, fill it later with the bytes written since. */
size_t wbuf_mark(struct wbuf *w, size_t field_len);
void wbuf_patch_len(struct wbuf *w, size_t mark, size_t field_len);
void wbuf_put_u16_at(struct wbuf *w, size_t at, uint16_t v);

#endif
