/* BPF tier harness: loads the real compiled objects from $B/bpf (B from the environment,
 * default "build"), runs packets through BPF_PROG_TEST_RUN and compares output bytes. */
#ifndef EDGELB_BPF_HARNESS_H
#define EDGELB_BPF_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>

/* Opens and loads build/bpf/<name>.bpf.o (maps are private to the test, not pinned). */
struct bpf_object *h_load(const char *name);
int h_prog_fd(struct bpf_object *obj, const char *prog);
int h_map_fd(struct bpf_object *obj, const char *map);

struct h_run {
	uint32_t ifindex; /* ingress ifindex in the xdp_md context (must exist; 1 = lo) */
	uint32_t retval;  /* out: XDP action */
	uint8_t out[2048];
	uint32_t out_len;
};
/* 0 ok, -errno if the kernel refused the run. */
int h_run_xdp(int prog_fd, const void *pkt, size_t len, struct h_run *r);

/* Compares bytes; on mismatch prints a hex dump of both, marking differing bytes. 1 if equal. */
int h_bytes_eq(const char *what, const void *got, size_t got_len, const void *want,
	       size_t want_len);
void h_hexdump(const char *title, const void *p, size_t len);
const char *h_xdp_action(uint32_t act);

#endif
