/* libFuzzer: control request parsing (JSON line → command and checked args) on any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "ctl/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *req = NULL, *args;
	const struct ctl_cmd *cmd;
	struct ctl_err e;

	if (ctl_parse_request((const char *)data, size, &req, &cmd, &args, &e) == 0)
		json_object_put(req);
	return 0;
}
