/* `cloudlet fn`: serverless functions (fn/). */
#include "cli.h"

static const struct cli_opt fn_deploy_opts[] = {
	{ "image", 0, CLI_STR, "IMAGE", "OCI image layout holding the function", true },
	{ "handler", 0, CLI_STR, "'CMD ARGS'", "command run per invocation", true },
	{ "kind", 0, CLI_STR, "ct|vm", "container or microVM (default ct)", false },
	{ "memory", 0, CLI_SIZE, "SIZE", "memory per instance (default 128M)", false },
	{ "timeout", 0, CLI_DURATION, "DURATION", "per-invocation limit (default 30s)", false },
	{ "concurrency", 0, CLI_UINT, "N", "maximum instances (default 10)", false },
	{ "min-warm", 0, CLI_UINT, "N", "instances kept warm (default 0)", false },
	{ "idle-ttl", 0, CLI_DURATION, "DURATION", "reap idle instances after (default 60s)", false },
	{ "net", 0, CLI_STR, "VPC/SUBNET", "attach instances to a subnet", false },
	{ "sg", 0, CLI_STR, "SG", "security group", false },
	{ "env", 'e', CLI_LIST, "K=V", "environment variable", false },
	{ 0 },
};
static const struct cli_opt fn_invoke_opts[] = {
	{ "data", 0, CLI_STR, "@FILE|STR", "request body", false },
	{ 0 },
};
static const struct cli_opt fn_none[] = { { 0 } };

const struct cli_cmd cli_fn_cmds[] = {
	{ "deploy", "NAME", "deploy a function", fn_deploy_opts, 1, 1, false, NULL, "#11", NULL },
	{ "ls", "", "list functions", fn_none, 0, 0, false, NULL, "#11", NULL },
	{ "show", "NAME", "instances and invocation counts", fn_none, 1, 1, false, NULL, "#11", NULL },
	{ "invoke", "NAME", "invoke a function", fn_invoke_opts, 1, 1, false, NULL, "#11", NULL },
	{ "logs", "NAME", "show a function's logs", fn_none, 1, 1, false, NULL, "#11", NULL },
	{ "rm", "NAME", "remove a function", fn_none, 1, 1, false, NULL, "#11", NULL },
	{ 0 },
};
