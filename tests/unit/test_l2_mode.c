/* Unit: the one mode rule of the layer-2 announcer (l2_switch_mode): a compute switch is in
 * layer-2 mode unless it has a BGP peer and BGP says its routes are announced; a switch that
 * is not compute-enabled announces nothing. Rows over switches and peers, no BGP speaker. */
#include <string.h>

#include "config/config.h"
#include "daemon/agent.h"
#include "l2/l2.h"
#include "t.h"

int main(void)
{
	static const struct {
		const char *name;
		bool compute;
		const char *peer_sw; /* NULL = no peer */
		const char *want;
	} rows[] = {
		{"compute switch without peers", true, NULL, "layer2"},
		{"compute switch, peer on another switch", true, "vSwitch2", "layer2"},
		{"compute switch, peer not announced (no speaker)", true, "vSwitch1", "layer2"},
		{"switch not enabled for compute", false, NULL, "none"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cfg_switch sw = {.compute = rows[i].compute};
		struct cfg_peer peer = {0};
		struct cfg c = {.switches = &sw, .n_switches = 1};
		struct agent a = {.cfg = &c};
		const char *got;

		snprintf(sw.name, sizeof(sw.name), "vSwitch1");
		if (rows[i].peer_sw) {
			snprintf(peer.sw, sizeof(peer.sw), "%s", rows[i].peer_sw);
			c.peers = &peer;
			c.n_peers = 1;
		}
		got = l2_switch_mode(&a, &sw);
		T_BEGIN("l2 mode: %s -> %s", rows[i].name, rows[i].want);
		T_EXPECT(strcmp(got, rows[i].want) == 0, "mode: got %s want %s", got, rows[i].want);
		T_EXPECT(l2_switch_is_l2(&a, &sw) == (strcmp(rows[i].want, "layer2") == 0),
			 "l2_switch_is_l2 agrees");
		T_END();
	}
	return t_exit();
}
