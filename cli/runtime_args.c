/* `cloudlet-runtime` argv: runc's conventions (global options, a verb,
 * its options, then the id), parsed without I/O. Options may be written
 * --name VALUE, --name=VALUE or -name VALUE, as runc's urfave/cli allows. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

/* id the container ids; positional counts after the verb's options */
static const struct rt_verb verbs[] = {
	{ "create", RT_CREATE, 1, 1 }, { "start", RT_START, 1, 1 }, { "state", RT_STATE, 1, 1 },
	{ "kill", RT_KILL, 1, 2 }, { "delete", RT_DELETE, 1, 1 }, { "run", RT_RUN, 1, 1 },
	{ "list", RT_LIST, 0, 0 }, { "ps", RT_PS, 1, -1 }, { "spec", RT_SPEC, 0, 0 },
	{ "features", RT_FEATURES, 0, 0 }, { "exec", RT_EXEC, 1, -1 }, { "pause", RT_PAUSE, 1, 1 },
	{ "resume", RT_RESUME, 1, 1 }, { "version", RT_VERSION, 0, 0 },
};

enum {
	O_ROOT = 1000, O_LOG, O_LOG_FORMAT, O_SYSTEMD_CGROUP, O_DEBUG, O_HELP, O_VERSION,
	O_BUNDLE, O_PID_FILE, O_CONSOLE_SOCKET, O_FORCE, O_ALL, O_FORMAT, O_QUIET, O_DETACH,
	O_NO_PIVOT, O_NO_NEW_KEYRING, O_PRESERVE_FDS, O_ROOTLESS, O_PROCESS, O_TTY, O_KEEP,
};

static const struct option global_opts[] = {
	{ "root", required_argument, NULL, O_ROOT },
	{ "log", required_argument, NULL, O_LOG },
	{ "log-format", required_argument, NULL, O_LOG_FORMAT },
	{ "systemd-cgroup", no_argument, NULL, O_SYSTEMD_CGROUP },
	{ "debug", no_argument, NULL, O_DEBUG },
	{ "rootless", required_argument, NULL, O_ROOTLESS },
	{ "help", no_argument, NULL, O_HELP },
	{ "version", no_argument, NULL, O_VERSION },
	{ 0 },
};

static const struct option verb_opts[] = {
	{ "bundle", required_argument, NULL, O_BUNDLE },
	{ "pid-file", required_argument, NULL, O_PID_FILE },
	{ "console-socket", required_argument, NULL, O_CONSOLE_SOCKET },
	{ "force", no_argument, NULL, O_FORCE },
	{ "all", no_argument, NULL, O_ALL },
	{ "format", required_argument, NULL, O_FORMAT },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "detach", no_argument, NULL, O_DETACH },
	{ "no-pivot", no_argument, NULL, O_NO_PIVOT },
	{ "no-new-keyring", no_argument, NULL, O_NO_NEW_KEYRING },
	{ "preserve-fds", required_argument, NULL, O_PRESERVE_FDS },
	{ "process", required_argument, NULL, O_PROCESS },
	{ "tty", no_argument, NULL, O_TTY },
	{ "keep", no_argument, NULL, O_KEEP },
	{ "help", no_argument, NULL, O_HELP },
	{ 0 },
};

int rt_parse(int argc, char **argv, struct rt_args *a, struct cl_error *err)
{
	int c;
	memset(a, 0, sizeof(a[0]));
	a->log_format = RT_LOG_TEXT;
	opterr = 0;
	optind = 0;   /* glibc: a full re-initialisation */
	/* "+": stop at the verb; global options come before it */
	while ((c = getopt_long_only(argc, argv, "+hvd", global_opts, NULL)) != -1) {
		switch (c) {
		case O_ROOT: a->root = optarg; break;
		case O_LOG: a->log = optarg; break;
		case O_LOG_FORMAT:
			if (!strcmp(optarg, "json"))
				a->log_format = RT_LOG_JSON;
			else if (strcmp(optarg, "text"))
				return cl_err(err, EINVAL, "--log-format %s: text or json", optarg);
			break;
		case O_SYSTEMD_CGROUP: a->systemd_cgroup = true; break;
		case O_DEBUG: case 'd': break;   /* no debug output to give */
		case O_ROOTLESS:
			if (strcmp(optarg, "false") && strcmp(optarg, "auto"))
				return cl_err(err, ENOTSUP, "--rootless %s: rootless containers are not supported", optarg);
			break;
		case O_HELP: case 'h': a->help = true; return 0;
		case O_VERSION: case 'v': a->verb = RT_VERSION; return 0;
		default:
			return cl_err(err, EINVAL, "unknown global option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		a->help = true;
		return 0;
	}
	const char *name = argv[optind];
	const struct rt_verb *v = NULL;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, name))
			v = &verbs[i];
	if (!v)
		return cl_err(err, EINVAL, "unknown command '%s'", name);
	a->verb = v->verb;
	a->verb_name = v->name;
	int vargc = argc - optind;
	char **vargv = argv + optind;
	optind = 0;
	while ((c = getopt_long_only(vargc, vargv, "+b:fadqt", verb_opts, NULL)) != -1) {
		switch (c) {
		case O_BUNDLE: case 'b': a->bundle = optarg; break;
		case O_PID_FILE: a->pid_file = optarg; break;
		case O_CONSOLE_SOCKET: a->console_socket = optarg; break;
		case O_FORCE: case 'f': a->force = true; break;
		case O_ALL: case 'a': a->all = true; break;
		case O_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "table"))
				return cl_err(err, EINVAL, "%s: --format %s: table or json", name, optarg);
			a->json = !strcmp(optarg, "json");
			break;
		case O_QUIET: case 'q': a->quiet = true; break;
		case O_DETACH: case 'd': a->detach = true; break;
		case O_NO_PIVOT: case O_NO_NEW_KEYRING: case O_KEEP: break;
		case O_PRESERVE_FDS:
		{
			char *end;
			long n = strtol(optarg, &end, 10);
			if (!*optarg || *end || n < 0 || n > 1024)
				return cl_err(err, EINVAL, "%s: --preserve-fds %s: a count of fds (0 to 1024)", name, optarg);
			if (n && v->verb != RT_CREATE && v->verb != RT_RUN)
				return cl_err(err, ENOTSUP, "%s: --preserve-fds is supported by create and run", name);
			a->preserve_fds = (int)n;
			break;
		}
		case O_PROCESS: a->process = optarg; break;
		case O_TTY: case 't': a->tty = true; break;
		case O_HELP: a->help = true; return 0;
		default:
			return cl_err(err, EINVAL, "%s: unknown option '%s'", name, vargv[optind - 1]);
		}
	}
	a->pos = vargv + optind;
	a->npos = vargc - optind;
	if (a->npos < v->min_args)
		return cl_err(err, EINVAL, "%s: %s", name, v->min_args == 1 ? "missing container id" : "missing arguments");
	if (v->max_args >= 0 && a->npos > v->max_args)
		return cl_err(err, EINVAL, "%s: unexpected argument '%s'", name, a->pos[v->max_args]);
	a->id = a->npos ? a->pos[0] : NULL;
	return 0;
}
