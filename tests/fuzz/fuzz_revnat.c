/* libFuzzer target for the return-path program: every input is one frame run through the real
 * tc_revnat object ($B/bpf/tc_revnat.bpf.o, SCHED_CLS) with BPF_PROG_TEST_RUN and an
 * __sk_buff context on ifindex 1. ct_reply_v1 holds reply entries of three forwarded flows
 * (bpf_env.h addresses). Asserted (abort() otherwise): the kernel runs every frame of a size it
 * accepts, the verdict is TC_ACT_OK or (for a conntracked reply only) TC_ACT_SHOT, and a frame
 * that carries no backend address (so cannot match a reply entry) leaves byte-identical.
 * The counter reasons a run bumps guide libFuzzer (bpf_env.h). Seeds: corpus/revnat/;
 * EDGELB_FUZZ_TRACE=1 prints each run. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "fuzz/bpf_env.h"

#define WHO "fuzz_revnat"
/* Sizes BPF_PROG_TEST_RUN takes for skb programs, measured on kernel 6.18 (x86-64): at least
 * ETH_HLEN, and the whole IP header when the EtherType says IPv4/IPv6 (else EINVAL); at most a
 * page less NET_SKB_PAD (64) and skb_shared_info (320); beyond, EINVAL. */
#define FZ_TC_MAX (4096 - 64 - 320)

static size_t tc_min(const uint8_t *data, size_t size)
{
	uint16_t type = size >= 14 ? (uint16_t)(data[12] << 8 | data[13]) : 0;

	return type == 0x0800 ? 14 + 20 : type == 0x86dd ? 14 + 40 : 14;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct bpf_object *obj; /* kept for the whole run (and reachable for LeakSanitizer) */
static int prog_fd, trace;
static struct fz_stats stats;
static uint8_t be4[4], be6[16];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int ct;

	obj = fz_load(WHO, "tc_revnat", NULL);
	prog_fd = fz_prog(WHO, obj, "tc_revnat");
	ct = fz_map(WHO, obj, ELB_MAP_CT_REPLY);
	fz_put_reply_ct(WHO, ct, FZ_BE4_A, FZ_CLIENT4, 40000, IPPROTO_TCP, FZ_VIP4, 80, 1,
			FZ_SVC4_ID);
	fz_put_reply_ct(WHO, ct, FZ_BE4_A, FZ_CLIENT4, 40001, IPPROTO_UDP, FZ_VIP4, 53, 1,
			FZ_SVC4_ID);
	fz_put_reply_ct(WHO, ct, FZ_BE6_A, FZ_CLIENT6, 40002, IPPROTO_TCP, FZ_VIP6, 80, 3,
			FZ_SVC6_ID);
	fz_stats_init(WHO, &stats, fz_map(WHO, obj, ELB_MAP_STATS));
	inet_pton(AF_INET, FZ_BE4_A, be4);
	inet_pton(AF_INET6, FZ_BE6_A, be6);
	trace = getenv("EDGELB_FUZZ_TRACE") != NULL; /* one line per frame: size, verdict */
	fprintf(stderr, WHO ": tc_revnat loaded, reply flows of %s and %s in ct_reply_v1\n", FZ_BE4_A,
		FZ_BE6_A);
	return 0;
}

static void fail(const char *what, size_t size)
{
	fprintf(stderr, WHO ": %s (frame of %zu bytes)\n", what, size);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[2 * 4096];
	struct __sk_buff ctx = {.ifindex = 1};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = (__u32)size,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	int ours = fz_has(data, size, be4, 4) || fz_has(data, size, be6, 16);
	size_t min = tc_min(data, size);

	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		if (size < min || size > FZ_TC_MAX)
			return 0; /* a size the kernel refuses: nothing ran */
		fprintf(stderr, WHO ": BPF_PROG_TEST_RUN failed: %s\n", strerror(errno));
		fail("the kernel refused a frame of an accepted size", size);
	}
	if (size < min || size > FZ_TC_MAX)
		fail("the kernel ran a frame of a size it should refuse (fix tc_min/FZ_TC_MAX)", size);
	fz_stats_note(WHO, &stats, (uint32_t)o.retval);
	if (trace)
		fprintf(stderr, WHO ": %zu bytes -> verdict %d, %u bytes out%s%s\n", size,
			(int)o.retval, o.data_size_out,
			o.data_size_out == size && !memcmp(out, data, size) ? "" : ", rewritten",
			ours ? "" : " (no backend)");
	switch ((int)o.retval) {
	case TC_ACT_OK:
		if (!ours && (o.data_size_out != size || memcmp(out, data, size)))
			fail("TC_ACT_OK changed a frame that carries no backend address", size);
		break;
	case TC_ACT_SHOT:
		if (!ours)
			fail("TC_ACT_SHOT for a frame that cannot be conntracked", size);
		break;
	default:
		fprintf(stderr, WHO ": verdict %d\n", (int)o.retval);
		fail("verdict other than TC_ACT_OK/TC_ACT_SHOT", size);
	}
	return 0;
}
