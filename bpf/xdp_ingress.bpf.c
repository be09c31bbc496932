// SPDX-License-Identifier: GPL-2.0
/* xdp_ingress: the program on every compute-port interface. ARP/NDP for VIPs is answered
 * (lib/l2.h); traffic to VIP:port is load-balanced (lib/lb.h); everything else passes,
 * counted by reason (tagged frames under "vlan", the rest under "pass_other"). */
#include "lib/common.h"
#include "lib/l2.h"
#include "lib/lb.h"

SEC("xdp")
int xdp_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	int act;

	act = l2_handle(ctx);
	if (act >= 0)
		return act;
	act = lb_handle(ctx);
	if (act >= 0)
		return act;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) <= data_end && eth_proto_is_vlan(eth->h_proto))
		count(ELB_R_VLAN, data_end - data);
	else
		count(ELB_R_PASS_OTHER, data_end - data);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
