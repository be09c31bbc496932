/* The dataplane loader: opens the xdp_ingress skeleton, mounts a bpf filesystem at --bpffs when
 * the directory is not on one, pins every map there with BTF (libbpf reuses compatible pins of
 * a previous run: adoption), writes the heartbeat every second, and hands out map/program fds.
 * Attachment to interfaces is in attach.c. The only place that loads BPF objects. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <edgelb/maps.h>
#include <edgelb/stats.h>

#include "daemon/agent.h"
#include "dataplane/clock.h"
#include "dataplane/ct_cache.h"
#include "dataplane/dp_priv.h"
#include "dataplane/lb.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "xdp_ingress.skel.h"

#define DP_BEAT_MS 1000

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* bpffs is not mounted at /sys/fs/bpf on a fresh machine: mount one where the pins go. */
static int ensure_bpffs(const char *dir, char *err, size_t errlen)
{
	struct statfs st;

	if (mkdir_p(dir) < 0) {
		snprintf(err, errlen, "--bpffs %s: cannot create: %s", dir, strerror(errno));
		return -1;
	}
	if (statfs(dir, &st) < 0) {
		snprintf(err, errlen, "--bpffs %s: %s", dir, strerror(errno));
		return -1;
	}
	if (st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", dir, "bpf", 0, "mode=0700") < 0) {
		snprintf(err, errlen,
			 "--bpffs %s: not a bpf filesystem and mounting one failed: %s", dir,
			 strerror(errno));
		return -1;
	}
	log_info("dataplane: mounted a bpf filesystem at %s", dir);
	return 0;
}

static uint64_t heartbeat_max_ns(const struct agent *a)
{
	/* node.heartbeatTimeoutMs: 0 turns the gate off; the parser defaults it to 3000 */
	if (!a->cfg)
		return ELB_HEARTBEAT_MAX_NS;
	return (uint64_t)a->cfg->node.heartbeat_max_ms * 1000000ULL;
}

/* config_v1[0]: keeps what a previous run or another module wrote, refreshes the beat. */
static int write_config(struct dp *d)
{
	int fd = bpf_map__fd(d->skel->maps.config_v1);
	struct elb_config c = {0};
	__u32 zero = 0;

	bpf_map_lookup_elem(fd, &zero, &c);
	c.heartbeat_ns = ev_now_ns();
	c.heartbeat_max_ns = d->heartbeat_max_ns;
	c.maglev_seed = ELB_MAGLEV_SEED;
	if (bpf_map_update_elem(fd, &zero, &c, BPF_ANY) < 0) {
		log_err("dataplane: %s: heartbeat write failed: %s", ELB_MAP_CONFIG,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void on_beat(struct ev_timer *t, void *arg)
{
	struct dp *d = arg;

	write_config(d);
	ev_timer_arm(t, DP_BEAT_MS);
}

static int pin_maps(struct dp *d, char *err, size_t errlen)
{
	struct bpf_map *m;
	char path[PATH_MAX + 64];

	bpf_object__for_each_map(m, d->skel->obj)
	{
		if (bpf_map__is_internal(m))
			continue; /* .rodata: load-time constants belong to the program */
		if (!strcmp(bpf_map__name(m), ELB_MAP_CT_CACHE) ||
		    !strcmp(bpf_map__name(m), ELB_MAP_CT_CACHE6) ||
		    !strcmp(bpf_map__name(m), ELB_MAP_CT_CACHE_BE))
			continue; /* the flow caches: every load starts them empty */
		snprintf(path, sizeof(path), "%s/%s", d->pin_dir, bpf_map__name(m));
		if (bpf_map__set_pin_path(m, path)) {
			snprintf(err, errlen, "pin path %s refused", path);
			return -1;
		}
	}
	return 0;
}

/* Maps of earlier layouts that no program uses any more: their pins are removed at load so
 * they do not hold kernel memory forever; their flows are not carried over (ct_v1: one
 * conntrack map for both directions, split into ct_fwd_v1 and ct_reply_v1; those became
 * ct_fwd_v2 and ct_reply_v2 when entries gained the translated client port). */
static const char *const retired_maps[] = {"ct_v1", "ct_fwd_v1", "ct_reply_v1"};

static void unpin_retired(struct dp *d)
{
	char path[PATH_MAX + 64];

	for (size_t i = 0; i < sizeof(retired_maps) / sizeof(retired_maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", d->pin_dir, retired_maps[i]);
		if (unlink(path) == 0)
			log_info("dataplane: removed %s, a map of an earlier layout", path);
		else if (errno != ENOENT)
			log_warn("dataplane: cannot remove %s (a map of an earlier layout): %s", path,
				 strerror(errno));
	}
}

/* libbpf speaks through the agent's log: its warnings (verifier output, netlink notes such as
 * an existing clsact qdisc) at debug, so a benign kernel note is not printed as an error. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	log_vmsg(LOG_DEBUG, fmt, ap);
	return 0;
}

struct dp *dp_open(struct agent *a, char *err, size_t errlen)
{
	struct dp *d = calloc(1, sizeof(*d));
	const char *dir = a->bpffs && *a->bpffs ? a->bpffs : "/sys/fs/bpf/edgelb";
	char path[PATH_MAX + 64];
	bool adopt;
	int rc;

	if (!d)
		log_fatal("dataplane: out of memory");
	libbpf_set_print(libbpf_log);
	d->a = a;
	if (snprintf(d->pin_dir, sizeof(d->pin_dir), "%s", dir) >= (int)sizeof(d->pin_dir)) {
		snprintf(err, errlen, "--bpffs %s: path too long", dir);
		goto fail;
	}
	if (ensure_bpffs(d->pin_dir, err, errlen) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/%s", d->pin_dir, ELB_MAP_CONFIG);
	adopt = access(path, F_OK) == 0;

	d->skel = xdp_ingress__open();
	if (!d->skel) {
		snprintf(err, errlen, "xdp_ingress: open failed: %s", strerror(errno));
		goto fail;
	}
	if (pin_maps(d, err, errlen) < 0)
		goto fail;
	if (dp_clock_set(d->skel->obj)) {
		snprintf(err, errlen, "xdp_ingress: no elb_tick_ns constant");
		goto fail;
	}
	if (dp_ct_cache_size(d->skel->obj)) {
		snprintf(err, errlen, "xdp_ingress: cannot size %s and %s", ELB_MAP_CT_CACHE,
			 ELB_MAP_CT_CACHE6);
		goto fail;
	}
	rc = xdp_ingress__load(d->skel);
	if (rc) {
		snprintf(err, errlen,
			 "xdp_ingress: load failed (%s); pins under %s that do not match this "
			 "layout must be removed by hand",
			 strerror(-rc), d->pin_dir);
		goto fail;
	}
	log_info("dataplane: xdp_ingress loaded, maps %s under %s", adopt ? "adopted" : "pinned",
		 d->pin_dir);
	d->adopted = adopt;
	unpin_retired(d);
	d->heartbeat_max_ns = heartbeat_max_ns(a);
	if (write_config(d) < 0) {
		snprintf(err, errlen, "%s: cannot write the heartbeat", ELB_MAP_CONFIG);
		goto fail;
	}
	if (a->loop) {
		d->beat = ev_timer_new(a->loop, on_beat, d);
		ev_timer_arm(d->beat, DP_BEAT_MS);
	}
	return d;
fail:
	if (d->skel)
		xdp_ingress__destroy(d->skel);
	free(d);
	return NULL;
}

void dp_close(struct dp *d, bool cleanup)
{
	struct bpf_map *m;

	if (!d)
		return;
	ev_timer_free(d->beat);
	dp_revnat_close(d, cleanup); /* dataplane/revnat.c: tc egress return path */
	dp_socklb_close(d, cleanup); /* dataplane/socklb.c: hairpin */
	if (cleanup) {
		dp_detach_all(d);
		bpf_object__for_each_map(m, d->skel->obj)
		{
			if (bpf_map__is_pinned(m) && bpf_map__unpin(m, NULL))
				log_warn("dataplane: unpin %s failed", bpf_map__name(m));
		}
		log_info("dataplane: detached and unpinned (cleanup on exit)");
	} else {
		log_info("dataplane: left attached and pinned under %s", d->pin_dir);
	}
	xdp_ingress__destroy(d->skel);
	free(d);
}

int dp_reconcile(struct dp *d, struct agent *a)
{
	int rc = 0;
	uint64_t max = heartbeat_max_ns(a);

	if (max != d->heartbeat_max_ns) {
		d->heartbeat_max_ns = max;
		write_config(d);
	}
	if (dp_attach_reconcile(d, a) < 0)
		rc = -1;
	if (dp_lb_reconcile(d, a) < 0)
		rc = -1;
	if (dp_socklb_reconcile(d, a->cfg ? a->cfg->node.hairpin_cgroup : "") < 0)
		rc = -1;
	return rc;
}

int dp_reason_totals(struct dp *d, uint64_t *packets, uint64_t *bytes)
{
	int fd = dp_map_fd(d, ELB_MAP_STATS), ncpu = libbpf_num_possible_cpus();

	if (fd < 0 || ncpu <= 0)
		return -1;
	struct elb_counter per[ncpu];

	for (__u32 r = 0; r < ELB_R_MAX; r++) {
		packets[r] = 0;
		if (bytes)
			bytes[r] = 0;
		if (bpf_map_lookup_elem(fd, &r, per))
			continue;
		for (int c = 0; c < ncpu; c++) {
			packets[r] += per[c].packets;
			if (bytes)
				bytes[r] += per[c].bytes;
		}
	}
	return 0;
}

bool dp_adopted(const struct dp *d)
{
	return d && d->adopted;
}

uint32_t dp_map_id(int fd)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int dp_map_fd(struct dp *d, const char *name)
{
	struct bpf_map *m;

	if (!d || !d->skel)
		return -1;
	m = bpf_object__find_map_by_name(d->skel->obj, name);
	return m ? bpf_map__fd(m) : -1;
}

int dp_prog_fd(struct dp *d, const char *name)
{
	struct bpf_program *p;

	if (!d || !d->skel)
		return -1;
	p = bpf_object__find_program_by_name(d->skel->obj, name);
	return p ? bpf_program__fd(p) : -1;
}

const char *dp_pin_dir(struct dp *d)
{
	return d ? d->pin_dir : NULL;
}
