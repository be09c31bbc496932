/* The return path: loads tc_revnat (bpf/tc_revnat.bpf.c) sharing every map of xdp_ingress
 * (fds reused, so both programs see one conntrack table), and keeps it attached on tc egress
 * (clsact, fixed handle/priority, replaced in place on restart) of every interface xdp_ingress
 * is attached to. Called from dp_lb_reconcile; dp_revnat_close detaches on cleanup. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane/clock.h"
#include "dataplane/dp_priv.h"
#include "dataplane/lb.h"
#include "lib/log.h"
#include "tc_revnat.skel.h"

#define RN_HANDLE   0xe1b0
#define RN_PRIORITY 0xe1b

static struct tc_revnat *rn_skel;
static struct dp *rn_owner;
static int rn_ifs[ELB_MAX_IFACES];
static int rn_n;

static int rn_load(struct dp *d)
{
	struct bpf_map *m;
	int rc;

	rn_skel = tc_revnat__open();
	if (!rn_skel) {
		log_err("dataplane: tc_revnat: open failed: %s", strerror(errno));
		return -1;
	}
	bpf_object__for_each_map(m, rn_skel->obj) {
		int fd;

		if (bpf_map__is_internal(m))
			continue;
		fd = dp_map_fd(d, bpf_map__name(m));
		if (fd < 0 || bpf_map__reuse_fd(m, fd)) {
			log_err("dataplane: tc_revnat: map %s not shared by xdp_ingress",
				bpf_map__name(m));
			goto fail;
		}
	}
	if (dp_clock_set(rn_skel->obj)) {
		log_err("dataplane: tc_revnat: no elb_tick_ns constant");
		goto fail;
	}
	rc = tc_revnat__load(rn_skel);
	if (rc) {
		log_err("dataplane: tc_revnat: load failed: %s", strerror(-rc));
		goto fail;
	}
	rn_owner = d;
	return 0;
fail:
	tc_revnat__destroy(rn_skel);
	rn_skel = NULL;
	return -1;
}

static int rn_attach(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = RN_HANDLE, .priority = RN_PRIORITY,
			    .flags = BPF_TC_F_REPLACE,
			    .prog_fd = bpf_program__fd(rn_skel->progs.tc_revnat));
	int rc = bpf_tc_hook_create(&hook);

	if (rc && rc != -EEXIST) {
		log_err("dataplane: ifindex %d: clsact qdisc: %s", ifindex, strerror(-rc));
		return -1;
	}
	rc = bpf_tc_attach(&hook, &opts);
	if (rc) {
		log_err("dataplane: ifindex %d: tc egress attach of tc_revnat: %s", ifindex,
			strerror(-rc));
		return -1;
	}
	return 0;
}

static void rn_detach(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = RN_HANDLE, .priority = RN_PRIORITY);
	int rc = bpf_tc_detach(&hook, &opts);

	if (rc && rc != -ENOENT && rc != -ENODEV)
		log_warn("dataplane: ifindex %d: tc egress detach: %s", ifindex, strerror(-rc));
}

int dp_revnat_reconcile(struct dp *d)
{
	int want[ELB_MAX_IFACES], nw = 0, rc = 0;

	if (rn_skel && rn_owner != d) { /* a new loader instance (tests): start over */
		tc_revnat__destroy(rn_skel);
		rn_skel = NULL;
		rn_n = 0;
	}
	if (!rn_skel && rn_load(d))
		return -1;
	for (int i = 0; i < d->n_ifs && nw < ELB_MAX_IFACES; i++)
		if (d->ifs[i].ifindex && d->ifs[i].mode)
			want[nw++] = d->ifs[i].ifindex;
	for (int i = 0; i < nw; i++) {
		bool had = false;

		for (int j = 0; j < rn_n; j++)
			had |= rn_ifs[j] == want[i];
		if (had)
			continue; /* attached earlier; a re-created interface gets a new ifindex */
		if (rn_attach(want[i]))
			rc = -1;
		else
			log_info("dataplane: tc_revnat attached on egress of ifindex %d", want[i]);
	}
	for (int j = 0; j < rn_n; j++) {
		bool keep = false;

		for (int i = 0; i < nw; i++)
			keep |= rn_ifs[j] == want[i];
		if (!keep)
			rn_detach(rn_ifs[j]);
	}
	memcpy(rn_ifs, want, sizeof(int) * nw);
	rn_n = nw;
	return rc;
}

void dp_revnat_close(struct dp *d, bool cleanup)
{
	if (!rn_skel || rn_owner != d)
		return;
	if (cleanup)
		for (int j = 0; j < rn_n; j++)
			rn_detach(rn_ifs[j]);
	rn_n = 0;
	tc_revnat__destroy(rn_skel);
	rn_skel = NULL;
	rn_owner = NULL;
}
