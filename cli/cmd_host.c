/* `cloudlet host`: hosts of the overlay (net/sdn/). */
#include "cli.h"

static const struct cli_opt host_none[] = { { 0 } };

const struct cli_cmd cli_host_cmds[] = {
	{ "add", "NAME", "add a (simulated) host on the underlay", host_none, 1, 1, false, NULL, "#10", NULL },
	{ "ls", "", "list hosts", host_none, 0, 0, false, NULL, "#10", NULL },
	{ "rm", "NAME", "remove a host", host_none, 1, 1, false, NULL, "#10", NULL },
	{ 0 },
};
