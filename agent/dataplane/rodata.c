/* Load-time constants (contract in rodata.h), found by name in the object's BTF. */
#include "dataplane/rodata.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>

int dp_rodata_u32(struct bpf_object *obj, const char *name, uint32_t v)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, ".rodata");
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	size_t size = 0;
	const char *data;
	int id;

	if (!m || !btf || (id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC)) < 0)
		return -1;
	sec = btf__type_by_id(btf, (uint32_t)id);
	data = bpf_map__initial_value(m, &size);
	vs = btf_var_secinfos(sec);
	for (int i = 0; data && i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		char *copy;
		int rc;

		if (!var || strcmp(btf__name_by_offset(btf, var->name_off), name) ||
		    vs->size != sizeof(v) || vs->offset + sizeof(v) > size)
			continue;
		copy = malloc(size); /* the initial value is read-only here */
		if (!copy)
			return -1;
		memcpy(copy, data, size);
		memcpy(copy + vs->offset, &v, sizeof(v));
		rc = bpf_map__set_initial_value(m, copy, size);
		free(copy);
		return rc;
	}
	return -1;
}
