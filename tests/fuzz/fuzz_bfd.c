/* libFuzzer target for BFD reception (RFC 5880 6.8.6, RFC 5881): the packet decoder, a
 * re-encode/decode round trip of every accepted packet, and the whole input path (GTSM,
 * demultiplexing, state machine, poll/final answers) against two sessions that live across
 * inputs: single hop, and multihop in the passive role with a minimum TTL. Seeds:
 * tests/fuzz/corpus/bfd/, written by test_bfd (EDGELB_CORPUS=dir). Any crash, sanitizer report or
 * round-trip mismatch is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bfd/bfd.h"
#include "lib/ev.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void xmit(struct bfd_sess *s, const uint8_t *p, size_t len, void *arg)
{
	struct bfd_pkt k;
	enum bfd_drop why;

	(void)s;
	(void)arg;
	/* what we send must pass our own validation (Your Discriminator 0 only in Down) */
	if (len != BFD_PKT_LEN || bfd_pkt_decode(p, len, &k, &why) < 0 ||
	    ((k.flags & BFD_F_POLL) && (k.flags & BFD_F_FINAL)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_loop *l;
	static struct bfd *b;
	static struct bfd_sess *s, *m;
	static struct ip peer;
	static const struct bfd_params pr = {300000, 300000, 3};
	static const struct bfd_params mpr = {.min_tx_us = 300000,
					      .min_rx_us = 300000,
					      .mult = 3,
					      .multihop = true,
					      .min_ttl = 100,
					      .passive = true};
	struct bfd_pkt k, k2;
	enum bfd_drop why;

	if (!l) {
		log_set_level(LOG_ERROR);
		l = ev_loop_new();
		b = bfd_new(l, 0, xmit, NULL);
		ip_parse("192.0.2.1", &peer);
		s = bfd_sess_new(b, &peer, NULL, &pr, NULL, NULL);
		s->local_disc = 1; /* lets inputs address the sessions by discriminator */
		m = bfd_sess_new(b, &peer, NULL, &mpr, NULL, NULL);
		m->local_disc = 2;
	}
	if (bfd_pkt_decode(data, size, &k, &why) == 0) {
		uint8_t buf[BFD_PKT_LEN];
		struct wbuf w = wbuf_make(buf, sizeof(buf));

		bfd_pkt_encode(&w, &k);
		if (w.err || bfd_pkt_decode(buf, w.len, &k2, &why) < 0 || memcmp(buf, data, 2) ||
		    memcmp(buf + 2, data + 2, 1) || memcmp(buf + 4, data + 4, BFD_PKT_LEN - 4))
			abort();
	} else if ((unsigned)why >= BFD_DROP_COUNT) {
		abort();
	}
	/* the low bits of the first byte pick the TTL and the port (single hop or multihop) */
	if (size && (data[0] & 2))
		bfd_input_mh(b, data, size, &peer, size && (data[0] & 1) ? 64 : 255);
	else
		bfd_input(b, data, size, &peer, size && (data[0] & 1) ? 254 : 255);
	(void)bfd_sess_tx_interval(s);
	(void)bfd_sess_detect_time(s);
	if (s->state == BFD_UP && size > 1 && data[size - 1] == 0xff)
		bfd_sess_detect_expired(s);
	if (m->state == BFD_UP && size > 1 && data[size - 1] == 0xfe)
		bfd_sess_detect_expired(m);
	bfd_sess_tx(m); /* passive: sends only once the remote's discriminator is known */
	return 0;
}
