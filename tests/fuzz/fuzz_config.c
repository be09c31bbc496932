/* libFuzzer: the YAML config parser (yaml.c → config.c and the object decoders) on any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errs errs = {0};
	struct cfg *c = cfg_load_buf("fuzz", (const char *)data, size, &errs);

	cfg_free(c);
	cfg_errs_free(&errs);
	return 0;
}
