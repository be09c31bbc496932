/* Control commands of the allocator: pool.*, service.*, apply. */
#include "ctl/ctl.h"

const struct ctl_cmd alloc_ctl_cmds[] = {{NULL}};
