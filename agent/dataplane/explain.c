/* `edgelb explain`: runs one synthetic packet (TCP SYN or UDP, client → VIP:port, arriving on
 * the first attached compute interface) through the loaded xdp_ingress with BPF_PROG_TEST_RUN
 * and reports the action, the reasons counted, the service and the backend reached, and why.
 * The run is real: counters move by one packet; a conntrack entry it created is removed again
 * so the next real packet of that tuple is judged afresh. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <netinet/in.h>

#define ELB_STATS_NAMES
#include <edgelb/lb.h>
#include <edgelb/maps.h>
#include <edgelb/stats.h>

#include "ctl/ctl.h"
#include "daemon/agent.h"
#include "dataplane/ct_cache.h"
#include "dataplane/dp_priv.h"
#include "dataplane/lb.h"
#include "lib/buf.h"
#include "lib/csum.h"

const char *const dp_explain_fields[] = {"src", "dst", "proto", NULL};

/* Ethernet + IPv4/IPv6 + TCP SYN / UDP (empty payload), checksums complete. */
static size_t build(uint8_t *out, size_t cap, const uint8_t dmac[6], const struct cfg_backend *src,
		    const struct cfg_backend *dst, uint8_t proto)
{
	static const uint8_t smac[6] = {0x02, 0, 0, 0, 0, 0x01};
	struct wbuf w = wbuf_make(out, cap);
	int v4 = src->addr.family == AF_INET, al = v4 ? 4 : 16;
	size_t l3, l4, l4len = proto == IPPROTO_TCP ? 20 : 8;
	uint32_t ps;

	wbuf_bytes(&w, dmac, 6);
	wbuf_bytes(&w, smac, 6);
	wbuf_u16(&w, v4 ? 0x0800 : 0x86dd);
	l3 = w.len;
	if (v4) {
		wbuf_u8(&w, 0x45);
		wbuf_u8(&w, 0);
		wbuf_u16(&w, (uint16_t)(20 + l4len));
		wbuf_u32(&w, 0x00004000); /* id 0, DF */
		wbuf_u8(&w, 64);
		wbuf_u8(&w, proto);
		wbuf_u16(&w, 0);
	} else {
		wbuf_u32(&w, 0x60000000);
		wbuf_u16(&w, (uint16_t)l4len);
		wbuf_u8(&w, proto);
		wbuf_u8(&w, 64);
	}
	wbuf_bytes(&w, src->addr.a, al);
	wbuf_bytes(&w, dst->addr.a, al);
	l4 = w.len;
	wbuf_u16(&w, src->port);
	wbuf_u16(&w, dst->port);
	if (proto == IPPROTO_TCP) {
		wbuf_u32(&w, 1);
		wbuf_u32(&w, 0);
		wbuf_u16(&w, 0x5002); /* data offset 5, SYN */
		wbuf_u16(&w, 65535);
		wbuf_u32(&w, 0);
	} else {
		wbuf_u16(&w, (uint16_t)l4len);
		wbuf_u16(&w, 0);
	}
	if (w.err)
		return 0;
	if (v4)
		wbuf_put_u16_at(&w, l3 + 10, csum_fold(csum_add(out + l3, 20, 0)));
	ps = csum_add(src->addr.a, al, 0);
	ps = csum_add(dst->addr.a, al, ps) + proto + (uint32_t)l4len;
	wbuf_put_u16_at(&w, l4 + (proto == IPPROTO_TCP ? 16 : 6),
			csum_fold(csum_add(out + l4, l4len, ps)));
	return w.len;
}

static const char *act_name(uint32_t act)
{
	static const char *const names[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					    "XDP_REDIRECT"};
	return act < 5 ? names[act] : "?";
}

static void endpoint(char *buf, size_t len, const struct ip *ip, uint16_t port)
{
	char s[IP_STRLEN];

	snprintf(buf, len, ip->family == AF_INET ? "%s:%u" : "[%s]:%u", ip_str(ip, s), port);
}

int dp_ctl_explain(struct agent *a, struct json_object *args, struct json_object **res,
		   struct ctl_err *e)
{
	const char *src_s, *dst_s, *proto_s;
	struct cfg_backend src, dst;
	char msg[256], why[768], be_s[IP_STRLEN + 8] = "", xs[160] = "";
	uint8_t pkt[128], out[256], dmac[6] = {0};
	uint64_t before[ELB_R_MAX], after[ELB_R_MAX];
	struct xdp_md ctx = {0};
	struct elb_ct_key k = {0}, rk;
	struct elb_ct ct;
	struct elb_svc_key sk = {0};
	struct elb_svc svc;
	const char *svc_name = NULL;
	struct json_object *o, *reasons;
	int prog, stats, ctfd, rctfd, svcfd, had_ct, have_svc, ifindex = 1;
	uint8_t proto;
	size_t n;

	if (ctl_arg_str(args, "src", true, &src_s, e) || ctl_arg_str(args, "dst", true, &dst_s, e) ||
	    ctl_arg_str(args, "proto", true, &proto_s, e))
		return -1;
	if (cfg_parse_backend("src", src_s, &src, msg, sizeof(msg)) ||
	    cfg_parse_backend("dst", dst_s, &dst, msg, sizeof(msg)))
		return ctl_fail(e, "%s", msg);
	if (src.addr.family != dst.addr.family)
		return ctl_fail(e, "dst: \"%s\": not the family of src %s (allowed: both IPv4 or both "
				"IPv6)", dst_s, src_s);
	if (!strcasecmp(proto_s, "tcp"))
		proto = IPPROTO_TCP;
	else if (!strcasecmp(proto_s, "udp"))
		proto = IPPROTO_UDP;
	else
		return ctl_fail(e, "proto: \"%s\": not a protocol (allowed: tcp, udp)", proto_s);
	prog = dp_prog_fd(a->dp, "xdp_ingress");
	stats = dp_map_fd(a->dp, ELB_MAP_STATS);
	ctfd = dp_map_fd(a->dp, ELB_MAP_CT_FWD);
	rctfd = dp_map_fd(a->dp, ELB_MAP_CT_REPLY);
	svcfd = dp_map_fd(a->dp, ELB_MAP_SERVICES);
	if (prog < 0 || stats < 0 || ctfd < 0 || rctfd < 0 || svcfd < 0)
		return ctl_fail(e, "explain: the dataplane is not loaded");
	for (int i = 0; a->dp && i < a->dp->n_ifs; i++)
		if (a->dp->ifs[i].mode && a->dp->ifs[i].ifindex) {
			ifindex = a->dp->ifs[i].ifindex;
			memcpy(dmac, a->dp->ifs[i].mac, 6);
			break;
		}
	n = build(pkt, sizeof(pkt), dmac, &src, &dst, proto);

	ip_to_elb(&src.addr, &k.src);
	ip_to_elb(&dst.addr, &k.dst);
	k.sport = htons(src.port);
	k.dport = htons(dst.port);
	k.proto = proto;
	k.family = src.addr.family == AF_INET ? ELB_AF_INET : ELB_AF_INET6;
	k.dir = ELB_CT_FORWARD;
	had_ct = bpf_map_lookup_elem(ctfd, &k, &ct) == 0;
	sk.vip = k.dst;
	sk.port = k.dport;
	sk.proto = proto;
	sk.family = k.family;
	have_svc = bpf_map_lookup_elem(svcfd, &sk, &svc) == 0;
	if (have_svc)
		svc_name = lb_service_name(svc.id);

	ctx.data_end = (__u32)n;
	ctx.ingress_ifindex = (__u32)ifindex;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = (__u32)n,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	dp_reason_totals(a->dp, before, NULL);
	if (bpf_prog_test_run_opts(prog, &opts))
		return ctl_fail(e, "explain: BPF_PROG_TEST_RUN: %s", strerror(errno));
	dp_reason_totals(a->dp, after, NULL);

	o = json_object_new_object();
	json_object_object_add(o, "action", json_object_new_string(act_name(opts.retval)));
	reasons = json_object_new_array();
	for (int r = 0; r < ELB_R_MAX; r++)
		if (after[r] > before[r] && elb_reason_names[r])
			json_object_array_add(reasons, json_object_new_string(elb_reason_names[r]));
	json_object_object_add(o, "reasons", reasons);
	json_object_object_add(o, "ingress_ifindex", json_object_new_int(ifindex));
	if (have_svc) {
		json_object_object_add(o, "service",
				       json_object_new_string(svc_name ? svc_name : "?"));
		json_object_object_add(o, "service_id", json_object_new_int((int)svc.id));
		json_object_object_add(o, "backends_for_new_flows",
				       json_object_new_int((int)svc.n_backends));
	}
	if (bpf_map_lookup_elem(ctfd, &k, &ct) == 0) {
		struct ip be;

		ip_from_elb(k.family == ELB_AF_INET ? AF_INET : AF_INET6, &ct.nat, &be);
		endpoint(be_s, sizeof(be_s), &be, ntohs(ct.nat_port));
		json_object_object_add(o, "backend", json_object_new_string(be_s));
		json_object_object_add(o, "backend_id", json_object_new_int((int)ct.backend_id));
		json_object_object_add(o, "conntrack",
				       json_object_new_string(had_ct ? "existing flow"
								     : "new flow (removed again)"));
		if (ct.xport) {
			snprintf(xs, sizeof(xs), ", client port %u translated to %u (this client port "
				 "already reaches %s through another VIP:port)", src.port,
				 ntohs(ct.xport), be_s);
			json_object_object_add(o, "client_port_to_backend",
					       json_object_new_int(ntohs(ct.xport)));
		}
		if (!had_ct) {
			rk = (struct elb_ct_key){.src = ct.nat, .sport = ct.nat_port, .dst = k.src,
						 .dport = ct.xport ? ct.xport : k.sport,
						 .proto = proto, .family = k.family,
						 .dir = ELB_CT_REPLY};
			bpf_map_delete_elem(ctfd, &k);
			bpf_map_delete_elem(rctfd, &rk);
			dp_ct_forget(dp_map_fd(a->dp, ELB_MAP_CONFIG)); /* and its cached slot */
		}
	}
	/* why, from the reasons the run counted */
	if (after[ELB_R_LB_NOT_SERVICE] > before[ELB_R_LB_NOT_SERVICE])
		snprintf(why, sizeof(why), "%s is not a service IP: the packet goes to the kernel "
			 "untouched", dst_s);
	else if (after[ELB_R_LB_NO_PORT] > before[ELB_R_LB_NO_PORT])
		snprintf(why, sizeof(why), "the VIP serves no %s port %u: dropped", proto_s,
			 dst.port);
	else if (after[ELB_R_LB_NO_BACKEND] > before[ELB_R_LB_NO_BACKEND])
		snprintf(why, sizeof(why), "service %s has no backend taking new flows (all "
			 "terminating, not ready, drained or none): dropped",
			 svc_name ? svc_name : "?");
	else if (after[ELB_R_LB_REPLY_CLASH] > before[ELB_R_LB_REPLY_CLASH])
		snprintf(why, sizeof(why), "live flows from %s reach the same backend address "
			 "and port through another VIP:port, and every client port tried for a "
			 "translation is taken too: dropped until one ends", src_s);
	else if (be_s[0])
		snprintf(why, sizeof(why), "%s: %s; DNAT to %s%s; %s",
			 svc_name ? svc_name : "service",
			 had_ct ? "existing flow, conntrack keeps it on its backend"
				: "new flow, the Maglev table picks the backend from the 5-tuple hash",
			 be_s,
			 xs,
			 opts.retval == XDP_REDIRECT ? "redirected out of the backend's interface"
			 : opts.retval == XDP_TX     ? "sent back out of the ingress interface"
			 : opts.retval == XDP_PASS   ? "passed to the kernel (neighbour to resolve, "
						       "local backend or TTL)"
						     : "dropped (no route to the backend)");
	else
		snprintf(why, sizeof(why), "%s", "see reasons");
	json_object_object_add(o, "why", json_object_new_string(why));
	*res = o;
	return 0;
}
