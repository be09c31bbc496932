/* BPF tier harness; see harness.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "bpf/harness.h"
#include "dataplane/clock.h"
#include "dataplane/ct_cache.h"

struct bpf_object *h_load(const char *name)
{
	const char *b = getenv("B");
	char path[512];
	struct bpf_object *obj;

	snprintf(path, sizeof(path), "%s/bpf/%s.bpf.o", b && *b ? b : "build", name);
	obj = bpf_object__open_file(path, NULL);
	if (!obj || libbpf_get_error(obj)) {
		fprintf(stderr, "harness: open %s failed\n", path);
		exit(1);
	}
	dp_clock_set(obj); /* as the loader does; objects without elb_tick_ns keep nothing */
	if (dp_ct_cache_size(obj)) {
		fprintf(stderr, "harness: cannot size the flow cache of %s\n", path);
		exit(1);
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "harness: load %s failed\n", path);
		exit(1);
	}
	return obj;
}

int h_prog_fd(struct bpf_object *obj, const char *prog)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, prog);

	if (!p) {
		fprintf(stderr, "harness: no program %s\n", prog);
		exit(1);
	}
	return bpf_program__fd(p);
}

int h_map_fd(struct bpf_object *obj, const char *map)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, map);

	if (!m) {
		fprintf(stderr, "harness: no map %s\n", map);
		exit(1);
	}
	return bpf_map__fd(m);
}

int h_run_xdp(int prog_fd, const void *pkt, size_t len, struct h_run *r)
{
	struct xdp_md ctx = {.data_end = (__u32)len, .ingress_ifindex = r->ifindex ? r->ifindex : 1};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err)
		return -errno;
	r->retval = opts.retval;
	r->out_len = opts.data_size_out;
	return 0;
}

void h_hexdump(const char *title, const void *p, size_t len)
{
	const uint8_t *b = p;

	printf("  %s (%zu bytes):\n", title, len);
	for (size_t i = 0; i < len; i += 16) {
		printf("    %04zx:", i);
		for (size_t j = i; j < i + 16 && j < len; j++)
			printf(" %02x", b[j]);
		printf("\n");
	}
}

int h_bytes_eq(const char *what, const void *got, size_t got_len, const void *want,
	       size_t want_len)
{
	const uint8_t *g = got, *w = want;
	size_t n = got_len > want_len ? got_len : want_len;

	if (got_len == want_len && memcmp(got, want, got_len) == 0)
		return 1;
	printf("  %s: output differs (got %zu bytes, want %zu)\n", what, got_len, want_len);
	for (size_t i = 0; i < n; i += 16) {
		printf("    %04zx got :", i);
		for (size_t j = i; j < i + 16 && j < n; j++)
			printf(j < got_len ? " %02x" : "   ", j < got_len ? g[j] : 0);
		printf("\n    %04zx want:", i);
		for (size_t j = i; j < i + 16 && j < n; j++)
			printf(j < want_len ? " %02x" : "   ", j < want_len ? w[j] : 0);
		printf("\n          ");
		for (size_t j = i; j < i + 16 && j < n; j++)
			printf(j < got_len && j < want_len && g[j] == w[j] ? "   " : " ^^");
		printf("\n");
	}
	return 0;
}

const char *h_xdp_action(uint32_t act)
{
	static const char *const names[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					    "XDP_REDIRECT"};
	return act < 5 ? names[act] : "XDP_?";
}
