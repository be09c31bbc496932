/* Bounded reader/writer; see buf.h. */
#include <string.h>

#include "lib/buf.h"

static const uint8_t *take(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t rbuf_u8(struct rbuf *r)
{
	const uint8_t *p = take(r, 1);
	return p ? p[0] : 0;
}

uint16_t rbuf_u16(struct rbuf *r)
{
	const uint8_t *p = take(r, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t rbuf_u32(struct rbuf *r)
{
	const uint8_t *p = take(r, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

void rbuf_bytes(struct rbuf *r, void *dst, size_t n)
{
	const uint8_t *p = take(r, n);

	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

const uint8_t *rbuf_ptr(struct rbuf *r, size_t n)
{
	return take(r, n);
}

void rbuf_skip(struct rbuf *r, size_t n)
{
	take(r, n);
}

struct rbuf rbuf_sub(struct rbuf *r, size_t n)
{
	const uint8_t *p = take(r, n);
	struct rbuf s = {.p = p, .len = p ? n : 0, .err = p == NULL};
	return s;
}

static uint8_t *room(struct wbuf *w, size_t n)
{
	uint8_t *p;

	if (w->err || n > w->cap - w->len) {
		w->err = true;
		return NULL;
	}
	p = w->p + w->len;
	w->len += n;
	return p;
}

void wbuf_u8(struct wbuf *w, uint8_t v)
{
	uint8_t *p = room(w, 1);
	if (p)
		p[0] = v;
}

void wbuf_u16(struct wbuf *w, uint16_t v)
{
	uint8_t *p = room(w, 2);
	if (p) {
		p[0] = v >> 8;
		p[1] = v & 0xff;
	}
}

void wbuf_u32(struct wbuf *w, uint32_t v)
{
	uint8_t *p = room(w, 4);
	if (p) {
		p[0] = v >> 24;
		p[1] = v >> 16;
		p[2] = v >> 8;
		p[3] = v;
	}
}

void wbuf_bytes(struct wbuf *w, const void *src, size_t n)
{
	uint8_t *p = room(w, n);
	if (p && n)
		memcpy(p, src, n);
}

void wbuf_zero(struct wbuf *w, size_t n)
{
	uint8_t *p = room(w, n);
	if (p)
		memset(p, 0, n);
}

size_t wbuf_mark(struct wbuf *w, size_t field_len)
{
	size_t at = w->len;

	wbuf_zero(w, field_len);
	return at;
}

void wbuf_patch_len(struct wbuf *w, size_t mark, size_t field_len)
{
	size_t n;

	if (w->err)
		return;
	n = w->len - mark - field_len;
	if (field_len == 1) {
		if (n > 0xff)
			w->err = true;
		else
			w->p[mark] = (uint8_t)n;
	} else {
		if (n > 0xffff)
			w->err = true;
		else
			wbuf_put_u16_at(w, mark, (uint16_t)n);
	}
}

void wbuf_put_u16_at(struct wbuf *w, size_t at, uint16_t v)
{
	if (w->err || at + 2 > w->len) {
		w->err = true;
		return;
	}
	w->p[at] = v >> 8;
	w->p[at + 1] = v & 0xff;
}
