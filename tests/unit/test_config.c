/* Config file parser: rows of {name, YAML, expected error substrings (all errors of the file
 * reported in one run), or the effective values when valid}. Runs the real yaml.c/config.c. */
#include <string.h>

#include "config/config.h"
#include "t.h"

struct row {
	const char *name;
	const char *yaml;
	const char *errs[4]; /* each must appear in some error; none = valid */
	int n_errs;	     /* exact number of errors expected (when errs given) */
};

static const struct row rows[] = {
	{"minimal valid file", "node: {name: node-a}\nswitches:\n  - name: vSwitch1\n    interfaces: [eth1]\n    compute: true\npools: []\nbgpPeers: []\nservices: []\n", {NULL}, 0},
	{"empty document is an empty config", "", {NULL}, 0},
	{"unknown top-level key", "node: {name: a}\nfrobnicate: 1\n", {"<f>:2: frobnicate: unknown key (allowed: node, switches, pools, bgpPeers, services)"}, 1},
	{"unknown switch key names its line", "switches:\n  - name: s\n    interfaces: [e]\n    colour: red\n", {"<f>:4: switches[0].colour: unknown key"}, 1},
	{"all errors of a file in one run",
	 "switches:\n  - name: s\n    interfaces: [e]\n    compute: yes-please\n  - interfaces: [f]\nnode: {name: n, bogus: 1}\n",
	 {"switches[0].compute: string given (allowed: true or false)", "switches[1].name: missing", "node.bogus: unknown key"}, 3},
	{"duplicate switch names", "switches:\n  - {name: s, interfaces: [a]}\n  - {name: s, interfaces: [b]}\n", {"\"s\": defined twice"}, 1},
	{"interface in two switches", "switches:\n  - {name: s, interfaces: [a]}\n  - {name: t, interfaces: [a]}\n", {"\"a\": in both \"s\" and \"t\""}, 1},
	{"yaml syntax error has a line", "switches:\n  - name: [unclosed\n", {"<f>:3: YAML syntax"}, 1},
	{"heartbeat bound out of range", "node: {heartbeatTimeoutMs: -5}\n", {"node.heartbeatTimeoutMs: -5: out of range (allowed: 0 = gate off, or 1..600000)"}, 1},
	{"hairpin cgroup must be an absolute path", "node: {hairpinCgroup: kubepods.slice}\n", {"<f>:1: node.hairpinCgroup: \"kubepods.slice\": not an absolute path of at most 255 characters (allowed: the path of a cgroup v2 directory, or \"\" = off)"}, 1},
	{"hairpin cgroup must be a string", "node: {hairpinCgroup: [a]}\n", {"node.hairpinCgroup: list given (allowed: a string)"}, 1},
	{"hairpin cgroup off when empty", "node: {hairpinCgroup: \"\"}\n", {NULL}, 0},
	{"switches must be a list", "switches: {name: s}\n", {"switches: mapping given (allowed: a list)"}, 1},
	{"two documents refused", "node: {name: a}\n---\nnode: {name: b}\n", {"2 YAML documents (allowed: exactly one)"}, 1},
	{"aliases refused", "a: &x 1\nnode: *x\n", {"aliases are not supported"}, 1},
	{"interfaces list required", "switches:\n  - name: s\n", {"switches[0].interfaces: missing"}, 1},
};

static int has(const struct cfg_errs *e, const char *want)
{
	char buf[512];
	const char *p = strstr(want, "<f>");

	if (p) { /* "<f>" stands for the file name */
		snprintf(buf, sizeof(buf), "test.yaml%s", p + 3);
		want = buf;
	}
	for (int i = 0; i < e->n; i++)
		if (strstr(e->msgs[i], want))
			return 1;
	return 0;
}

int main(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct cfg_errs errs = {0};
		struct cfg *c = cfg_load_buf("test.yaml", r->yaml, strlen(r->yaml), &errs);

		T_BEGIN("config: %s", r->name);
		if (!r->errs[0]) {
			T_EXPECT(c != NULL, "valid file accepted (first error: %s)", errs.n ? errs.msgs[0] : "-");
		} else {
			T_EXPECT(c == NULL, "invalid file refused");
			T_EXPECT(errs.n == r->n_errs, "error count: got %d want %d", errs.n, r->n_errs);
			for (int k = 0; k < 4 && r->errs[k]; k++)
				T_EXPECT(has(&errs, r->errs[k]), "an error contains \"%s\"", r->errs[k]);
			for (int k = 0; k < errs.n; k++)
				T_EXPECT(strchr(errs.msgs[k], '\n') == NULL, "one line per error: %s", errs.msgs[k]);
		}
		if (t_case_failed)
			for (int k = 0; k < errs.n; k++)
				printf("    error: %s\n", errs.msgs[k]);
		T_END();
		cfg_free(c);
		cfg_errs_free(&errs);
	}

	/* effective values */
	{
		const char *y = "node: {name: node-a, garpRefreshSeconds: 30, hairpinCgroup: /sys/fs/cgroup/kubepods.slice}\nswitches:\n  - name: vSwitch1\n    interfaces: [eth1, eth2]\n    compute: true\n  - {name: vSwitch2, interfaces: [eth3]}\n";
		struct cfg_errs errs = {0};
		struct cfg *c = cfg_load_buf("t", y, strlen(y), &errs);

		T_BEGIN("config: values land in struct cfg");
		T_EXPECT(c, "parsed");
		if (c) {
			T_EXPECT(!strcmp(c->node.name, "node-a"), "node name");
			T_EXPECT(c->node.garp_refresh_s == 30, "garp refresh");
			T_EXPECT(c->node.heartbeat_max_ms == 3000, "heartbeat default 3000 ms");
			T_EXPECT(!strcmp(c->node.hairpin_cgroup, "/sys/fs/cgroup/kubepods.slice"), "hairpin cgroup");
			T_EXPECT(c->n_switches == 2, "two switches");
			T_EXPECT(c->switches[0].n_ifaces == 2 && !strcmp(c->switches[0].ifaces[1], "eth2"), "interfaces");
			T_EXPECT(c->switches[0].compute && !c->switches[1].compute, "compute defaults to false");
			T_EXPECT(cfg_pool_switch(c, &(struct cfg_pool){0}) == &c->switches[0], "default pool switch is the first compute switch");
			struct cfg *d = cfg_dup(c);
			T_EXPECT(d && d->n_switches == 2 && d->switches != c->switches, "dup is deep");
			T_EXPECT(d && !strcmp(d->node.hairpin_cgroup, c->node.hairpin_cgroup), "dup keeps the hairpin cgroup");
			cfg_free(d);
		}
		T_END();
		cfg_free(c);
		cfg_errs_free(&errs);
	}
	return t_exit();
}
