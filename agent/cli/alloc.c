/* CLI: pool, service, apply. */
#include "cli/cli.h"

const struct cli_cmd cli_alloc_cmds[] = {{NULL}};
