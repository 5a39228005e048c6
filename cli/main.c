/* cloudlet: the one place that prints an error and exits. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "runtime.h"

#ifndef CLOUDLET_VERSION
#define CLOUDLET_VERSION "0.0.0"
#endif

int main(int argc, char **argv)
{
	struct cli_args a;
	struct cl_error err = { 0 };
	int status;

	/* busybox-style applets: the OCI runtime under its own name */
	const char *base = argv[0] ? strrchr(argv[0], '/') : NULL;
	base = base ? base + 1 : argv[0] ? argv[0] : "";
	if (!strcmp(base, "cloudlet-runtime"))
		return runtime_main(argc, argv);
	if (!strcmp(base, "cloudlet-cni"))
		return cni_main();
	/* a closed stdout (`cloudlet vm run | head`) is an error to report, not a death */
	signal(SIGPIPE, SIG_IGN);
	if (cli_parse(cli_groups, argc, argv, &a, &err) < 0) {
		fprintf(stderr, "%s: %s\n", a.prog, err.msg);
		cli_args_free(&a);
		return CLI_EXIT_USAGE;
	}
	if (a.version) {
		printf("cloudlet %s\n", CLOUDLET_VERSION);
		status = CLI_EXIT_OK;
	} else if (a.help) {
		cli_help(stdout, cli_groups, &a);
		status = CLI_EXIT_OK;
	} else if (!a.cmd->run) {
		fprintf(stderr, "%s: %s %s: not implemented yet (issue %s)\n", a.prog,
			a.group->name, a.cmd->name, a.cmd->issue);
		status = CLI_EXIT_USAGE;
	} else {
		int r = a.cmd->run(&a, &err);
		if (r < 0) {
			fprintf(stderr, "%s: %s\n", a.prog, err.msg);
			status = CLI_EXIT_FAIL;
		} else {
			status = r;
		}
	}
	cli_args_free(&a);
	return status;
}
