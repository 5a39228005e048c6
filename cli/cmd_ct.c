/* `cloudlet ct`: containers (crun/). */
#include "cli.h"

static const struct cli_opt ct_run_opts[] = {
	{ "name", 0, CLI_STR, "NAME", "container name (default: generated)", false },
	{ "memory", 'm', CLI_SIZE, "SIZE", "memory limit (e.g. 64M)", false },
	{ "cpus", 0, CLI_STR, "N", "CPU quota in CPUs (e.g. 0.5)", false },
	{ "pids", 0, CLI_UINT, "N", "maximum number of processes", false },
	{ "hostname", 0, CLI_STR, "NAME", "hostname inside the container", false },
	{ "env", 'e', CLI_LIST, "K=V", "set an environment variable", false },
	{ "rootless", 0, CLI_FLAG, NULL, "run in a user namespace", false },
	{ "tty", 't', CLI_FLAG, NULL, "allocate a pseudo-terminal", false },
	{ "detach", 'd', CLI_FLAG, NULL, "run in the background; see `ct ps`", false },
	{ "seccomp", 0, CLI_STR, "PROFILE", "'default' or 'unconfined'", false },
	{ 0 },
};

static const struct cli_opt ct_none[] = { { 0 } };

const struct cli_cmd cli_ct_cmds[] = {
	{ "run", "IMAGE[:TAG] [CMD ARGS...]", "run a container from an OCI image layout",
	  ct_run_opts, 1, -1, true, NULL, "#6", NULL },
	{ "ps", "", "list containers", ct_none, 0, 0, false, NULL, "#6", NULL },
	{ "stop", "NAME", "stop a running container", ct_none, 1, 1, false, NULL, "#6", NULL },
	{ "rm", "NAME", "remove a stopped container", ct_none, 1, 1, false, NULL, "#6", NULL },
	{ 0 },
};
