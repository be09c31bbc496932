/* libFuzzer target for BFD reception (RFC 5880 6.8.6, RFC 5881): the packet decoder, a
 * re-encode/decode round trip of every accepted packet, and the whole input path (GTSM,
 * demultiplexing, authentication, state machine, poll/final answers) against three sessions
 * that live across inputs: single hop, multihop in the passive role with a minimum TTL, and
 * single hop with meticulous keyed SHA1 (discriminator 3), and single hop with the echo
 * function (discriminator 4; every input also goes to the echo receive path, and every echo
 * packet we send must parse as ours). Seeds:
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

	(void)arg;
	if (len && p[0] == 0x45) { /* an echo packet (IPv4), not a control packet */
		struct bfd_echo e;

		if (len != BFD_ECHO_LEN || bfd_echo_parse(p, len, &e) < 0 || e.disc != s->local_disc ||
		    e.seq != s->echo_seq)
			abort();
		return;
	}
	/* what we send must pass our own validation (Your Discriminator 0 only in Down), its
	 * Length be what was sent, and the A bit say whether the session authenticates */
	if (bfd_pkt_decode(p, len, &k, &why) < 0 || k.length != len ||
	    len != BFD_PKT_LEN + bfd_auth_len(&s->cfg.auth) ||
	    !(k.flags & BFD_F_AUTH) != !s->cfg.auth.type ||
	    ((k.flags & BFD_F_POLL) && (k.flags & BFD_F_FINAL)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_loop *l;
	static struct bfd *b;
	static struct bfd_sess *s, *m, *a;
	static struct ip peer, local;
	static const struct bfd_params pr = {300000, 300000, 3};
	static const struct bfd_params mpr = {.min_tx_us = 300000,
					      .min_rx_us = 300000,
					      .mult = 3,
					      .multihop = true,
					      .min_ttl = 100,
					      .passive = true};
	static const struct bfd_params apr = {
	    .min_tx_us = 300000,
	    .min_rx_us = 300000,
	    .mult = 3,
	    .auth = {BFD_AUTH_METICULOUS_SHA1, 7, 6, {'e', 'd', 'g', 'e', 'l', 'b'}}};
	static const struct bfd_params epr = {.min_tx_us = 300000,
					      .min_rx_us = 300000,
					      .mult = 3,
					      .echo_us = 50000,
					      .echo_reflect = true};
	static struct bfd_sess *e;
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
		a = bfd_sess_new(b, &peer, NULL, &apr, NULL, NULL);
		a->local_disc = 3;
		ip_parse("192.0.2.2", &local);
		e = bfd_sess_new(b, &peer, &local, &epr, NULL, NULL);
		e->local_disc = 4;
	}
	if (bfd_pkt_decode(data, size, &k, &why) == 0) {
		uint8_t buf[256];
		struct wbuf w = wbuf_make(buf, sizeof(buf));

		/* the mandatory section re-encoded, the rest (authentication) as received */
		bfd_pkt_encode(&w, &k);
		memcpy(buf + BFD_PKT_LEN, data + BFD_PKT_LEN, k.length - BFD_PKT_LEN);
		if (w.err || bfd_pkt_decode(buf, k.length, &k2, &why) < 0 ||
		    memcmp(buf, data, k.length))
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
	bfd_echo_input(b, data, size);
	if (e->state == BFD_UP && size > 1 && data[size - 1] == 0xfd)
		bfd_sess_echo_failed(e);
	bfd_sess_tx(m); /* passive: sends only once the remote's discriminator is known */
	bfd_sess_tx(a);
	return 0;
}
