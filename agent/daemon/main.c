/* edgelbd: flags, start-up in dependency order, the signal handling (SIGHUP reload, SIGTERM
 * exit) and orderly shutdown. Everything else lives in the modules. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "bgp/bgp.h"
#include "cluster/cluster.h"
#include "cluster/etcd.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "daemon/agent.h"
#include "dataplane/dp.h"
#include "l2/l2.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "netlink/nl.h"
#include "store/store.h"
#include "version.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: edgelbd [--config FILE] [--state-dir DIR] [--run-dir DIR] [--bpffs DIR]\n"
		"               [--node-name NAME] [--metrics ADDR:PORT|none] [--bgp-port PORT]\n"
		"               [--etcd-endpoints URL[,URL...]] [--etcd-lease-ttl SECONDS]\n"
		"               [--etcd-cacert FILE] [--etcd-cert FILE --etcd-key FILE]\n"
		"               [--log-level debug|info|warn|error] [--cleanup-on-exit]\n"
		"       edgelbd --check-config FILE\n"
		"       edgelbd --version\n"
		"defaults: --state-dir /var/lib/edgelb --run-dir /run/edgelb --bpffs /sys/fs/bpf/edgelb\n"
		"          --node-name $(hostname) --metrics 127.0.0.1:7472 --bgp-port 179\n"
		"          no --etcd-endpoints (this node alone), --etcd-lease-ttl 5\n");
}

static int check_config(const char *path)
{
	struct cfg_errs errs = {0};
	struct cfg *c = cfg_load_file(path, &errs);

	if (!c) {
		for (int i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "edgelbd: %s: %d error%s\n", path, errs.n, errs.n == 1 ? "" : "s");
		cfg_errs_free(&errs);
		return 1;
	}
	cfg_print(c, stdout);
	cfg_free(c);
	return 0;
}

static int mkdirs(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -1;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static struct cfg *load_file_cfg(const char *path)
{
	struct cfg_errs errs = {0};
	struct cfg *c;

	if (!path)
		return cfg_new();
	c = cfg_load_file(path, &errs);
	for (int i = 0; i < errs.n; i++)
		log_err("config: %s", errs.msgs[i]);
	cfg_errs_free(&errs);
	return c;
}

static void reload(struct agent *a)
{
	struct cfg *old_file = a->file_cfg, *fresh = load_file_cfg(a->config_path);
	char err[512];

	if (!fresh) {
		log_err("config: reload of %s refused: the running config stays", a->config_path);
		return;
	}
	a->file_cfg = fresh;
	if (agent_rebuild_cfg(a, err, sizeof(err)) < 0) {
		log_err("config: reload of %s refused (%s): the running config stays", a->config_path, err);
		a->file_cfg = old_file;
		cfg_free(fresh);
		return;
	}
	cfg_free(old_file);
	a->reloads++;
	log_info("config: reloaded %s", a->config_path);
	agent_changed(a);
}

static void on_signal(int fd, uint32_t events, void *arg)
{
	struct agent *a = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading the config");
			reload(a);
		} else {
			log_info("signal %u: shutting down", si.ssi_signo);
			ev_loop_stop(a->loop);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"state-dir", required_argument, NULL, 's'},
		{"run-dir", required_argument, NULL, 'r'},
		{"bpffs", required_argument, NULL, 'b'},
		{"node-name", required_argument, NULL, 'n'},
		{"metrics", required_argument, NULL, 'm'},
		{"bgp-port", required_argument, NULL, 'p'},
		{"etcd-endpoints", required_argument, NULL, 'e'},
		{"etcd-lease-ttl", required_argument, NULL, 't'},
		{"etcd-cacert", required_argument, NULL, 'A'},
		{"etcd-cert", required_argument, NULL, 'T'},
		{"etcd-key", required_argument, NULL, 'K'},
		{"log-level", required_argument, NULL, 'l'},
		{"check-config", required_argument, NULL, 'k'},
		{"cleanup-on-exit", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct agent a = {
		.state_dir = "/var/lib/edgelb",
		.run_dir = "/run/edgelb",
		.bpffs = "/sys/fs/bpf/edgelb",
		.metrics_addr = "127.0.0.1:7472",
		.bgp_port = 179,
		.etcd_lease_ttl = CLUSTER_TTL_DEF,
	};
	char host[CFG_NAME_MAX], err[512] = "";
	enum log_level lvl;
	sigset_t mask;
	int opt, sfd, rc = 1;
	long port;
	char *end;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a.config_path = optarg;
			break;
		case 's':
			a.state_dir = optarg;
			break;
		case 'r':
			a.run_dir = optarg;
			break;
		case 'b':
			a.bpffs = optarg;
			break;
		case 'n':
			if (!*optarg || strlen(optarg) >= CFG_NAME_MAX) {
				fprintf(stderr, "edgelbd: --node-name: \"%s\": length (allowed: 1 to %d characters)\n", optarg,
					CFG_NAME_MAX - 1);
				return 2;
			}
			a.node_name = optarg;
			break;
		case 'm':
			if (metrics_parse_addr(optarg) < 0) {
				fprintf(stderr, "edgelbd: --metrics: \"%s\": not ADDR:PORT (allowed: e.g. 127.0.0.1:7472, [::1]:7472, none)\n",
					optarg);
				return 2;
			}
			a.metrics_addr = optarg;
			break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end || port < 1 || port > 65535) {
				fprintf(stderr, "edgelbd: --bgp-port: \"%s\": not a port (allowed: 1..65535)\n", optarg);
				return 2;
			}
			a.bgp_port = (uint16_t)port;
			break;
		case 'e':
			if (etcd_check_endpoints(optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "edgelbd: %s\n", err);
				return 2;
			}
			a.etcd_endpoints = optarg;
			break;
		case 't':
			port = strtol(optarg, &end, 10);
			if (*end || port < CLUSTER_TTL_MIN || port > CLUSTER_TTL_MAX) {
				fprintf(stderr,
					"edgelbd: --etcd-lease-ttl: \"%s\": out of range (allowed: "
					"%d..%d seconds)\n",
					optarg, CLUSTER_TTL_MIN, CLUSTER_TTL_MAX);
				return 2;
			}
			a.etcd_lease_ttl = (unsigned)port;
			break;
		case 'A':
			a.etcd_tls.cacert = optarg;
			break;
		case 'T':
			a.etcd_tls.cert = optarg;
			break;
		case 'K':
			a.etcd_tls.key = optarg;
			break;
		case 'l':
			if (log_parse_level(optarg, &lvl) < 0) {
				fprintf(stderr, "edgelbd: --log-level: \"%s\": unknown (allowed: debug, info, warn, error)\n", optarg);
				return 2;
			}
			log_set_level(lvl);
			break;
		case 'k':
			return check_config(optarg);
		case 'C':
			a.cleanup_on_exit = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("edgelbd %s\n", EDGELB_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (etcd_check_tls(a.etcd_endpoints, &a.etcd_tls, err, sizeof(err)) < 0) {
		fprintf(stderr, "edgelbd: %s\n", err);
		return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "edgelbd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	a.file_cfg = load_file_cfg(a.config_path);
	if (!a.file_cfg) {
		fprintf(stderr, "edgelbd: %s: invalid config (errors above)\n", a.config_path);
		return 1;
	}
	if (!a.node_name) {
		if (a.file_cfg->node.name[0]) {
			/* a copy: a reload frees the file config the name came from */
			snprintf(host, sizeof(host), "%s", a.file_cfg->node.name);
			a.node_name = host;
		} else {
			gethostname(host, sizeof(host));
			host[sizeof(host) - 1] = '\0';
			a.node_name = host;
		}
	}
	if (mkdirs(a.state_dir) < 0 || mkdirs(a.run_dir) < 0) {
		fprintf(stderr, "edgelbd: cannot create --state-dir %s or --run-dir %s: %s\n", a.state_dir, a.run_dir,
			strerror(errno));
		return 1;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

	a.loop = ev_loop_new();
	a.started_ms = ev_now_ms();
	ev_fd_add(a.loop, sfd, EPOLLIN, on_signal, &a);

	/* First, so a second agent on the same --run-dir stops before touching anything; requests
	 * wait in the backlog until the loop runs. */
	a.ctl = ctl_server_start(&a, a.run_dir, err, sizeof(err));
	if (!a.ctl) {
		log_err("%s", err);
		goto out;
	}
	a.store = store_open(a.state_dir, err, sizeof(err));
	if (!a.store) {
		log_err("state: %s", err);
		goto out;
	}
	if (agent_rebuild_cfg(&a, err, sizeof(err)) < 0) {
		log_err("state: the stored objects do not fit the config: %s", err);
		goto out;
	}
	a.alloc = alloc_new(a.store, err, sizeof(err));
	if (!a.alloc) {
		log_err("alloc: %s", err);
		goto out;
	}
	a.nl = nl_open(&a, err, sizeof(err));
	if (!a.nl) {
		log_err("netlink: %s", err);
		goto out;
	}
	a.dp = dp_open(&a, err, sizeof(err));
	if (!a.dp) {
		log_err("dataplane: %s", err);
		goto out;
	}
	a.l2 = l2_new(&a);
	if (a.etcd_endpoints) {
		uint32_t hb = a.cfg->node.heartbeat_max_ms;

		if (hb == 0 || hb >= a.etcd_lease_ttl * 1000)
			log_warn("cluster: node.heartbeatTimeoutMs (%u ms, 0 = off) is not below "
				 "--etcd-lease-ttl (%u s): a killed agent's XDP may still answer when "
				 "another node takes its IPs",
				 hb, a.etcd_lease_ttl);
		a.cluster = cluster_new(&a, a.etcd_endpoints, a.etcd_lease_ttl, err, sizeof(err));
		if (!a.cluster) {
			log_err("%s", err);
			goto out;
		}
		alloc_set_claims(a.alloc, cluster_claims(a.cluster));
	}
	a.bgp = bgp_new(&a, err, sizeof(err));
	if (!a.bgp) {
		log_err("bgp: %s", err);
		goto out;
	}
	a.metrics = metrics_start(&a, a.metrics_addr, err, sizeof(err));
	if (!a.metrics && strcmp(a.metrics_addr, "none")) {
		log_err("%s", err);
		goto out;
	}
	agent_reconcile(&a);
	log_info("edgelbd %s: node %s running (state %s, run %s, bpffs %s)", EDGELB_VERSION, a.node_name,
		 a.state_dir, a.run_dir, a.bpffs);
	rc = ev_loop_run(a.loop) < 0 ? 1 : 0;
out:
	ctl_server_stop(a.ctl);
	metrics_stop(a.metrics);
	if (a.bgp)
		bgp_free(a.bgp);
	if (a.cluster) {
		/* stop answering before the lease goes, so two nodes never answer at once */
		l2_withdraw(a.l2);
		alloc_set_claims(a.alloc, NULL);
		cluster_free(a.cluster);
	}
	if (a.l2)
		l2_free(a.l2);
	if (a.dp)
		dp_close(a.dp, a.cleanup_on_exit);
	if (a.nl)
		nl_free(a.nl);
	if (a.alloc)
		alloc_free(a.alloc);
	if (a.store)
		store_close(a.store);
	ev_timer_free(a.reconcile_timer);
	cfg_free(a.cfg);
	cfg_free(a.file_cfg);
	ev_loop_free(a.loop);
	close(sfd);
	log_info("edgelbd: exited%s", rc ? " with errors" : "");
	return rc;
}
