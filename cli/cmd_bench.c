/* `cloudlet bench`: VM vs container, side by side. */
#include "cli.h"

static const struct cli_opt bench_opts[] = {
	{ "runs", 'n', CLI_UINT, "N", "runs per measurement (default 10)", false },
	{ "json", 0, CLI_STR, "FILE", "write every raw sample as JSON", false },
	{ "plot", 0, CLI_STR, "FILE.svg", "write an SVG chart", false },
	{ 0 },
};

const struct cli_cmd cli_bench_cmds[] = {
	{ "all", "", "start-up, memory, network and isolation, VM vs container",
	  bench_opts, 0, 0, false, NULL, "#9", NULL },
	{ "vm-boot", "", "microVM boot time and KVM exits vs QEMU microvm",
	  bench_opts, 0, 0, false, NULL, "#4", NULL },
	{ "ct-start", "", "container create+start+exit+delete vs crun and runc",
	  bench_opts, 0, 0, false, NULL, "#6", NULL },
	{ 0 },
};
