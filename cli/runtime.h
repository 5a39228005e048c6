/* cli/runtime: `cloudlet-runtime`, the OCI runtime CLI (runc's command
 * line) over crun/'s OCI lifecycle; the `cloudlet` binary runs it when
 * called by that name. */
#ifndef CLOUDLET_CLI_RUNTIME_H
#define CLOUDLET_CLI_RUNTIME_H

#include <stdbool.h>

#include "cloudlet/error.h"

enum rt_verb_id {
	RT_NONE, RT_CREATE, RT_START, RT_STATE, RT_KILL, RT_DELETE, RT_RUN, RT_LIST, RT_PS,
	RT_SPEC, RT_FEATURES, RT_EXEC, RT_PAUSE, RT_RESUME, RT_VERSION,
};

struct rt_verb {
	const char *name;
	enum rt_verb_id verb;
	int min_args, max_args;        /* positionals; max < 0: any */
};

enum rt_log_format { RT_LOG_TEXT, RT_LOG_JSON };

struct rt_args {
	/* global */
	const char *root, *log;
	enum rt_log_format log_format;
	bool systemd_cgroup, help;
	/* the verb */
	enum rt_verb_id verb;
	const char *verb_name;
	const char *bundle, *pid_file, *console_socket, *process;
	int preserve_fds;              /* --preserve-fds N: fds 3..3+N-1 into the process */
	bool force, all, json, quiet, detach, tty;
	const char *id;                /* pos[0] */
	char **pos;
	int npos;
};

int rt_parse(int argc, char **argv, struct rt_args *a, struct cl_error *err);
int runtime_main(int argc, char **argv);
/* cli/cni.c: `cloudlet-cni`, the CNI plugin */
int cni_main(void);

#endif
