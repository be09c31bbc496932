/* XDP attachment of xdp_ingress to the interfaces of compute-enabled switches: native where the
 * driver allows, generic otherwise; a program left by a previous run (same name) is replaced
 * atomically (XDP_FLAGS_REPLACE), so answers never stop; foreign programs are left alone.
 * Keeps ifaces_v1 (ifindex → MAC, flags) in line with what is attached. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <edgelb/maps.h>

#include "daemon/agent.h"
#include "dataplane/dp_priv.h"
#include "lib/log.h"
#include "netlink/nl.h"
#include "xdp_ingress.skel.h"

#define DP_PROG_NAME "xdp_ingress"

static const char *mode_name(uint32_t mode)
{
	switch (mode) {
	case XDP_FLAGS_DRV_MODE:
		return "native";
	case XDP_FLAGS_SKB_MODE:
		return "generic";
	default:
		return "none";
	}
}

static int prog_fd(struct dp *d)
{
	return bpf_program__fd(d->skel->progs.xdp_ingress);
}

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* What is attached on ifindex: its id, mode flags and whether it is an xdp_ingress. */
static int query(int ifindex, uint32_t *id, uint32_t *mode, bool *ours)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);
	int fd;

	*id = 0;
	*mode = 0;
	*ours = false;
	if (bpf_xdp_query(ifindex, 0, &q))
		return -1;
	if (q.attach_mode == XDP_ATTACHED_DRV) {
		*id = q.drv_prog_id;
		*mode = XDP_FLAGS_DRV_MODE;
	} else if (q.attach_mode == XDP_ATTACHED_SKB) {
		*id = q.skb_prog_id;
		*mode = XDP_FLAGS_SKB_MODE;
	} else if (q.attach_mode != XDP_ATTACHED_NONE) {
		*id = q.prog_id ? q.prog_id : q.drv_prog_id;
		*mode = XDP_FLAGS_DRV_MODE;
	}
	if (!*id)
		return 0;
	fd = bpf_prog_get_fd_by_id(*id);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		*ours = strcmp(info.name, DP_PROG_NAME) == 0;
	close(fd);
	return 0;
}

/* Attach (or adopt) on one interface; returns 0 and sets f->mode. */
static int attach_one(struct dp *d, struct dp_if *f)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	uint32_t cur, mode, mine = prog_id_of(prog_fd(d));
	bool ours;
	int err;

	if (query(f->ifindex, &cur, &mode, &ours) < 0) {
		log_warn("dataplane: %s: XDP query failed: %s", f->name, strerror(errno));
		return -1;
	}
	if (cur && cur == mine) {
		f->mode = mode;
		return 0;
	}
	if (cur && !ours) {
		if (!f->warned)
			log_warn("dataplane: %s: another XDP program (id %u) is attached; not "
				 "replacing it",
				 f->name, cur);
		f->warned = true;
		f->mode = 0;
		return -1;
	}
	if (cur) {
		/* left by a previous run: swap in place, same mode, no gap in answers */
		o.old_prog_fd = bpf_prog_get_fd_by_id(cur);
		err = bpf_xdp_attach(f->ifindex, prog_fd(d), XDP_FLAGS_REPLACE | mode, &o);
		if (o.old_prog_fd >= 0)
			close(o.old_prog_fd);
		if (err) {
			log_warn("dataplane: %s: replacing program id %u failed: %s", f->name, cur,
				 strerror(-err));
			return -1;
		}
		f->mode = mode;
		log_info("dataplane: %s: adopted, replaced program id %u atomically (%s XDP)",
			 f->name, cur, mode_name(mode));
		return 0;
	}
	err = bpf_xdp_attach(f->ifindex, prog_fd(d),
			     XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_DRV_MODE, NULL);
	mode = XDP_FLAGS_DRV_MODE;
	if (err) {
		log_debug("dataplane: %s: native XDP refused (%s), trying generic", f->name,
			  strerror(-err));
		err = bpf_xdp_attach(f->ifindex, prog_fd(d),
				     XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_SKB_MODE, NULL);
		mode = XDP_FLAGS_SKB_MODE;
	}
	if (err) {
		log_err("dataplane: %s: XDP attach failed: %s", f->name, strerror(-err));
		f->mode = 0;
		return -1;
	}
	f->mode = mode;
	log_info("dataplane: %s (ifindex %d): xdp_ingress attached (%s XDP)", f->name, f->ifindex,
		 mode_name(mode));
	return 0;
}

/* Detach only an xdp_ingress (ours or a previous run's), never a foreign program. */
static void detach_ifindex(int ifindex, const char *name)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	uint32_t cur, mode;
	bool ours;

	if (query(ifindex, &cur, &mode, &ours) < 0 || !cur || !ours)
		return;
	o.old_prog_fd = bpf_prog_get_fd_by_id(cur);
	if (bpf_xdp_detach(ifindex, XDP_FLAGS_REPLACE | mode, &o) == 0)
		log_info("dataplane: %s: xdp_ingress detached", name);
	if (o.old_prog_fd >= 0)
		close(o.old_prog_fd);
}

static void iface_del(struct dp *d, int ifindex)
{
	__u32 k = (__u32)ifindex;

	bpf_map_delete_elem(bpf_map__fd(d->skel->maps.ifaces_v1), &k);
}

static struct dp_if *find_if(struct dp *d, const char *name)
{
	for (int i = 0; i < d->n_ifs; i++)
		if (strcmp(d->ifs[i].name, name) == 0)
			return &d->ifs[i];
	return NULL;
}

static int want_if(struct dp *d, const char *name)
{
	struct nl_link_info li;
	struct dp_if *f = find_if(d, name);
	struct elb_iface v = {.flags = ELB_IFACE_F_L2 | ELB_IFACE_F_LB};
	__u32 k;

	if (!f) {
		if (d->n_ifs == ELB_MAX_IFACES) {
			log_err("dataplane: %s: more than %d interfaces", name, ELB_MAX_IFACES);
			return -1;
		}
		f = &d->ifs[d->n_ifs++];
		memset(f, 0, sizeof(*f));
		snprintf(f->name, sizeof(f->name), "%s", name);
	}
	f->seen = true;
	if (nl_link(name, &li) < 0 || li.ifindex == 0) {
		if (f->ifindex) {
			log_warn("dataplane: %s (ifindex %d) is gone; re-attaching when it returns",
				 name, f->ifindex);
			iface_del(d, f->ifindex);
		}
		f->ifindex = 0;
		f->mode = 0;
		return 0;
	}
	if (f->ifindex && f->ifindex != li.ifindex) {
		log_info("dataplane: %s came back as ifindex %d (was %d)", name, li.ifindex,
			 f->ifindex);
		iface_del(d, f->ifindex);
		f->mode = 0;
	}
	f->ifindex = li.ifindex;
	memcpy(f->mac, li.mac, 6);
	memcpy(v.mac, li.mac, 6);
	k = (__u32)f->ifindex;
	if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.ifaces_v1), &k, &v, BPF_ANY) < 0) {
		log_err("dataplane: %s: %s update failed: %s", name, ELB_MAP_IFACES,
			strerror(errno));
		return -1;
	}
	return attach_one(d, f);
}

/* ifaces_v1 entries of interfaces no longer ours (also those adopted from a previous run). */
static void sweep_stale(struct dp *d)
{
	int fd = bpf_map__fd(d->skel->maps.ifaces_v1);
	__u32 key, next, stale[ELB_MAX_IFACES];
	int n = 0;
	void *prev = NULL;

	while (n < ELB_MAX_IFACES && bpf_map_get_next_key(fd, prev, &next) == 0) {
		bool known = false;

		for (int i = 0; i < d->n_ifs; i++)
			known |= d->ifs[i].ifindex == (int)next;
		if (!known)
			stale[n++] = next;
		key = next;
		prev = &key;
	}
	for (int i = 0; i < n; i++) {
		char name[IF_NAMESIZE] = "?";

		if_indextoname(stale[i], name);
		detach_ifindex((int)stale[i], name);
		bpf_map_delete_elem(fd, &stale[i]);
	}
}

int dp_attach_reconcile(struct dp *d, struct agent *a)
{
	int rc = 0, w = 0;

	for (int i = 0; i < d->n_ifs; i++)
		d->ifs[i].seen = false;
	for (int s = 0; a->cfg && s < a->cfg->n_switches; s++) {
		const struct cfg_switch *sw = &a->cfg->switches[s];

		if (!sw->compute)
			continue;
		for (int i = 0; i < sw->n_ifaces; i++)
			if (want_if(d, sw->ifaces[i]) < 0)
				rc = -1;
	}
	for (int i = 0; i < d->n_ifs; i++) {
		struct dp_if *f = &d->ifs[i];

		if (!f->seen) {
			if (f->ifindex) {
				detach_ifindex(f->ifindex, f->name);
				iface_del(d, f->ifindex);
			}
			continue;
		}
		d->ifs[w++] = *f;
	}
	d->n_ifs = w;
	sweep_stale(d);
	return rc;
}

void dp_detach_all(struct dp *d)
{
	for (int i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].ifindex) {
			detach_ifindex(d->ifs[i].ifindex, d->ifs[i].name);
			iface_del(d, d->ifs[i].ifindex);
		}
	d->n_ifs = 0;
	sweep_stale(d);
}

const char *dp_attach_mode(struct dp *d, const char *ifname)
{
	struct dp_if *f = d ? find_if(d, ifname) : NULL;

	return f && f->ifindex ? mode_name(f->mode) : "none";
}

int dp_iface(struct dp *d, const char *ifname, struct dp_iface_info *out)
{
	struct dp_if *f = d ? find_if(d, ifname) : NULL;

	if (!f || !f->ifindex || !f->mode)
		return -1;
	out->ifindex = f->ifindex;
	memcpy(out->mac, f->mac, 6);
	return 0;
}
