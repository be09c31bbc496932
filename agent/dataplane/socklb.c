/* Hairpin: loads sock_lb (bpf/sock_lb.bpf.c) sharing the maps of xdp_ingress (its own
 * sock_revnat_v1 pinned beside them) and attaches its eight programs to node.hairpinCgroup
 * through bpf links pinned as <bpffs>/sock_lb_<hook>. Pinned, the links outlive the agent like
 * the XDP attachment does; a restarted agent swaps its programs into them in place (one
 * attachment per hook, no gap), and replaces links found on another cgroup. An empty
 * hairpinCgroup removes them. Called from dp_reconcile; dp_socklb_close on exit. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <edgelb/maps.h>

#include "config/config.h"
#include "dataplane/dp_priv.h"
#include "dataplane/lb.h"
#include "lib/log.h"
#include "sock_lb.skel.h"

/* The hooks, as the programs are named (sock_<hook>) and their links pinned (sock_lb_<hook>). */
static const char *const sl_hooks[] = {"connect4", "connect6", "sendmsg4",     "sendmsg6",
				       "recvmsg4", "recvmsg6", "getpeername4", "getpeername6"};
#define SL_N_HOOKS (sizeof(sl_hooks) / sizeof(sl_hooks[0]))

static struct sock_lb *sl_skel;
static struct dp *sl_owner;
static char sl_cgroup[CFG_PATH_MAX];	 /* the cgroup the links are on; "" = none */
static char sl_error[CFG_PATH_MAX + 64]; /* the last failure logged, not repeated every pass */

static void sl_pin_path(struct dp *d, const char *hook, char *out, size_t len)
{
	snprintf(out, len, "%s/sock_lb_%s", d->pin_dir, hook);
}

static void sl_unpin_all(struct dp *d)
{
	char path[PATH_MAX + 64];

	for (size_t i = 0; i <= SL_N_HOOKS; i++) {
		if (i < SL_N_HOOKS)
			sl_pin_path(d, sl_hooks[i], path, sizeof(path));
		else
			snprintf(path, sizeof(path), "%s/%s", d->pin_dir, ELB_MAP_SOCK_REVNAT);
		if (unlink(path) && errno != ENOENT)
			log_warn("dataplane: hairpin: unpin %s: %s", path, strerror(errno));
	}
}

static int sl_load(struct dp *d)
{
	char path[PATH_MAX + 64];
	struct bpf_map *m;
	int rc;

	sl_skel = sock_lb__open();
	if (!sl_skel) {
		log_err("dataplane: sock_lb: open failed: %s", strerror(errno));
		return -1;
	}
	bpf_object__for_each_map(m, sl_skel->obj)
	{
		const char *name = bpf_map__name(m);
		int fd;

		if (bpf_map__is_internal(m))
			continue;
		if (!strcmp(name, ELB_MAP_SOCK_REVNAT)) {
			snprintf(path, sizeof(path), "%s/%s", d->pin_dir, name);
			bpf_map__set_pin_path(m, path); /* reused when a previous run pinned it */
			continue;
		}
		fd = dp_map_fd(d, name);
		if (fd < 0 || bpf_map__reuse_fd(m, fd)) {
			log_err("dataplane: sock_lb: map %s not shared by xdp_ingress", name);
			goto fail;
		}
	}
	rc = sock_lb__load(sl_skel);
	if (rc) {
		log_err("dataplane: sock_lb: load failed: %s", strerror(-rc));
		goto fail;
	}
	sl_owner = d;
	return 0;
fail:
	sock_lb__destroy(sl_skel);
	sl_skel = NULL;
	return -1;
}

/* The link of one program on the cgroup (cg_fd, id cg_id), at pin: the pinned one updated in
 * place when it is on this cgroup with this hook, else a new one pinned there. 0 or -errno. */
static int sl_link(struct bpf_program *p, int cg_fd, uint64_t cg_id, const char *pin)
{
	enum bpf_attach_type type = bpf_program__expected_attach_type(p);
	int fd = bpf_obj_get(pin), err;

	if (fd >= 0) {
		struct bpf_link_info info;
		uint32_t len = sizeof(info);
		bool ours;

		memset(&info, 0, sizeof(info));
		ours = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
		       info.type == BPF_LINK_TYPE_CGROUP && info.cgroup.cgroup_id == cg_id &&
		       info.cgroup.attach_type == type;
		err = ours ? bpf_link_update(fd, bpf_program__fd(p), NULL) : -1;
		close(fd);
		if (!err)
			return 0;
		unlink(pin); /* another cgroup's, or not updatable: the new link replaces it */
	}
	fd = bpf_link_create(bpf_program__fd(p), cg_fd, type, NULL);
	if (fd < 0)
		return -errno;
	err = bpf_obj_pin(fd, pin) ? -errno : 0;
	close(fd); /* the pin holds the link (and an unpinned one detaches here) */
	return err;
}

/* Logs a failure once until it changes or the attachment succeeds. */
static int sl_fail(const char *fmt, const char *path, const char *why)
{
	char msg[sizeof(sl_error)];

	snprintf(msg, sizeof(msg), fmt, path, why);
	if (strcmp(msg, sl_error)) {
		snprintf(sl_error, sizeof(sl_error), "%s", msg);
		log_err("dataplane: %s", msg);
	}
	return -1;
}

/* The cgroup's directory open, and its id (the inode number on cgroup2); -1 when it is not
 * a cgroup v2 directory (logged). */
static int sl_open_cgroup(const char *cgroup, uint64_t *id)
{
	struct statfs fs;
	struct stat st;
	int fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return sl_fail("hairpinCgroup %s: %s (hairpin off)", cgroup, strerror(errno));
	if (fstatfs(fd, &fs) || fs.f_type != CGROUP2_SUPER_MAGIC || fstat(fd, &st)) {
		close(fd);
		return sl_fail("hairpinCgroup %s: %s", cgroup,
			       "not a cgroup v2 directory (hairpin off)");
	}
	*id = (uint64_t)st.st_ino;
	return fd;
}

static int sl_attach(struct dp *d, const char *cgroup, int cg_fd, uint64_t cg_id)
{
	char pin[PATH_MAX + 64];
	int n = 0;

	for (size_t i = 0; i < SL_N_HOOKS; i++) {
		char name[32];
		struct bpf_program *p;
		int err;

		snprintf(name, sizeof(name), "sock_%s", sl_hooks[i]);
		p = bpf_object__find_program_by_name(sl_skel->obj, name);
		sl_pin_path(d, sl_hooks[i], pin, sizeof(pin));
		err = p ? sl_link(p, cg_fd, cg_id, pin) : -ENOENT;
		if (err)
			return sl_fail("hairpinCgroup %s: attach failed: %s", cgroup,
				       strerror(-err));
		n++;
	}
	snprintf(sl_cgroup, sizeof(sl_cgroup), "%s", cgroup);
	sl_error[0] = 0;
	log_info("dataplane: hairpin: sock_lb attached to cgroup %s (%d hooks, links pinned as "
		 "%s/sock_lb_*)",
		 cgroup, n, d->pin_dir);
	return 0;
}

static void sl_unload(void)
{
	sock_lb__destroy(sl_skel);
	sl_skel = NULL;
	sl_owner = NULL;
	sl_cgroup[0] = 0;
}

/* Hairpin off: removes what this run, or a previous one, attached and pinned. */
static void sl_off(struct dp *d)
{
	if (!sl_skel && sl_owner == d)
		return; /* done already */
	sl_unpin_all(d);
	if (sl_cgroup[0])
		log_info("dataplane: hairpin: sock_lb detached from cgroup %s", sl_cgroup);
	if (sl_skel)
		sl_unload();
	sl_owner = d;
}

int dp_socklb_reconcile(struct dp *d, const char *cgroup)
{
	uint64_t cg_id = 0;
	int cg_fd, rc;

	if (sl_skel && sl_owner != d) /* a new loader instance (tests): start over */
		sl_unload();
	if (sl_skel && !strcmp(sl_cgroup, cgroup))
		return 0;
	cg_fd = *cgroup ? sl_open_cgroup(cgroup, &cg_id) : -1;
	if (cg_fd < 0) {
		sl_off(d);
		if (!*cgroup)
			sl_error[0] = 0;
		return *cgroup ? -1 : 0;
	}
	rc = !sl_skel && sl_load(d) ? -1 : sl_attach(d, cgroup, cg_fd, cg_id);
	close(cg_fd);
	return rc;
}

void dp_socklb_close(struct dp *d, bool cleanup)
{
	if (sl_owner != d)
		return;
	if (cleanup)
		sl_unpin_all(d);
	if (sl_skel)
		sl_unload();
	sl_owner = NULL;
}
