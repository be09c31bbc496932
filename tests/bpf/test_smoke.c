/* BPF smoke: the real xdp_ingress object loads and passes a frame that is neither ARP, NDP nor
 * service traffic, unchanged, and counts it under pass_other. */
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#define ELB_STATS_NAMES
#include <edgelb/stats.h>

#include "bpf/harness.h"
#include "t.h"

int main(void)
{
	struct bpf_object *obj = h_load("xdp_ingress");
	int prog = h_prog_fd(obj, "xdp_ingress");
	int stats = h_map_fd(obj, "stats_v1");
	int ncpu = libbpf_num_possible_cpus();
	uint8_t frame[64];
	struct h_run r = {0};
	struct elb_counter per[ncpu];
	__u32 key = ELB_R_PASS_OTHER;
	uint64_t pkts = 0;

	/* Ethernet with an unknown ethertype (0x88b5, local experimental) */
	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x02\x00\x00\x00\x00\x01", 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;

	T_BEGIN("smoke: unknown ethertype passes unchanged");
	T_EXPECT(h_run_xdp(prog, frame, sizeof(frame), &r) == 0, "test run succeeds");
	T_EXPECT(r.retval == XDP_PASS, "action: got %s want XDP_PASS", h_xdp_action(r.retval));
	T_EXPECT(h_bytes_eq("frame", r.out, r.out_len, frame, sizeof(frame)), "bytes unchanged");
	T_END();

	T_BEGIN("smoke: counted as %s", elb_reason_names[ELB_R_PASS_OTHER]);
	T_EXPECT(bpf_map_lookup_elem(stats, &key, per) == 0, "stats lookup");
	for (int i = 0; i < ncpu; i++)
		pkts += per[i].packets;
	T_EXPECT(pkts == 1, "pass_other packets: got %llu want 1", (unsigned long long)pkts);
	T_END();

	bpf_object__close(obj);
	return t_exit();
}
