/* libFuzzer target for the pool and service JSON decoders (config/pool_json.c,
 * config/service_json.c, config/fields.c): JSON text from the control socket, the store and
 * manifests. Every accepted object must encode and decode again to the same JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *j, *out, *out2;
	struct cfg_service s, s2;
	struct cfg_pool p, p2;
	char msg[512];

	if (!tok)
		abort();
	j = json_tokener_parse_ex(tok, (const char *)data, (int)(size > 1 << 20 ? 1 << 20 : size));
	json_tokener_free(tok);
	if (!j)
		return 0;
	if (cfg_pool_from_json(j, &p, msg, sizeof(msg)) == 0) {
		out = cfg_pool_to_json(&p);
		if (cfg_pool_from_json(out, &p2, msg, sizeof(msg)) != 0)
			abort(); /* our own encoding must decode */
		out2 = cfg_pool_to_json(&p2);
		if (!json_object_equal(out, out2))
			abort();
		json_object_put(out);
		json_object_put(out2);
	} else if (!memchr(msg, '\n', strnlen(msg, sizeof(msg)))) {
		/* one-line messages only */
	} else {
		abort();
	}
	if (cfg_service_from_json(j, &s, msg, sizeof(msg)) == 0) {
		out = cfg_service_to_json(&s);
		if (cfg_service_from_json(out, &s2, msg, sizeof(msg)) != 0)
			abort();
		out2 = cfg_service_to_json(&s2);
		if (!json_object_equal(out, out2))
			abort();
		json_object_put(out);
		json_object_put(out2);
		cfg_service_clear(&s);
		cfg_service_clear(&s2);
	}
	json_object_put(j);
	return 0;
}
