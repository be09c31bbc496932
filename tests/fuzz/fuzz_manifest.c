/* libFuzzer: apply -f on any bytes — the YAML stream, every manifest kind's row (MetalLB,
 * Kubernetes, edgelb's own), the references between documents and the validation — as a dry
 * run against one agent with a compute switch and a config-file pool: nothing is committed,
 * so every input meets the same state. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/manifest.h"
#pragma GCC diagnostic ignored "-Wunused-function" /* the fixture's store dump is for tests */
#include "unit/agent_fixture.h"

static struct agent *agent;

static void agent_gone(void)
{
	fx_agent_free(agent);
}

static struct agent *agent_up(void)
{
	struct agent *a = fx_agent_new("elbfuzzmanifest");
	struct cfg_switch *s =
	    cfg_array_push((void **)&a->file_cfg->switches, &a->file_cfg->n_switches, sizeof(*s));

	snprintf(s->name, sizeof(s->name), "vSwitch1");
	snprintf(s->ifaces[0], sizeof(s->ifaces[0]), "eth1");
	s->n_ifaces = 1;
	s->compute = true;
	fx_pool(a->file_cfg, "{\"name\":\"filepool\",\"addresses\":[\"203.0.113.0/30\"]}");
	fx_agent_ready(a);
	atexit(agent_gone);
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *res = NULL;
	char *yaml = malloc(size + 1), msg[1024];

	if (!agent)
		agent = agent_up();
	if (!yaml)
		return 0;
	memcpy(yaml, data, size);
	yaml[size] = '\0';
	manifest_apply(agent, "fuzz.yaml", yaml, true, &res, msg, sizeof(msg));
	json_object_put(fx_wire(res)); /* the answer as written: its rows are made then */
	free(yaml);
	return 0;
}
