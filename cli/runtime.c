/* `cloudlet-runtime`: runc's command line over crun/'s OCI lifecycle.
 * The one place the runtime's errors are printed: "cloudlet-runtime: MSG"
 * on stderr, or with --log-format json one JSON object per line (as runc
 * logs with logrus), also appended to --log when given. Exit status 1 on
 * an error (runc's), 2 on a usage error, the container's own for `run`. */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cloudlet/crun.h"
#include "cloudlet/file.h"
#include "runtime.h"

#ifndef CLOUDLET_VERSION
#define CLOUDLET_VERSION "0.0.0"
#endif

static void log_error(const struct rt_args *a, const char *msg)
{
	char line[CL_ERR_MSG_MAX + 256];
	if (a->log_format == RT_LOG_JSON) {
		char ts[64];
		time_t now = time(NULL);
		struct tm tm;
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
		json_object *o = json_object_new_object();
		json_object_object_add(o, "level", json_object_new_string("error"));
		json_object_object_add(o, "msg", json_object_new_string(msg));
		json_object_object_add(o, "time", json_object_new_string(ts));
		snprintf(line, sizeof(line), "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		snprintf(line, sizeof(line), "cloudlet-runtime: %s\n", msg);
	}
	fputs(line, stderr);
	if (a->log) {
		FILE *f = fopen(a->log, "ae");
		if (f) {
			fputs(line, f);
			fclose(f);
		}
	}
}

static const char *root_of(const struct rt_args *a)
{
	return a->root ? a->root : crun_default_root();
}

static int print_text(char *t, struct cl_error *err)
{
	if (!t)
		return cl_err(err, ENOMEM, "out of memory");
	puts(t);
	free(t);
	return 0;
}

static int do_state(const struct rt_args *a, struct cl_error *err)
{
	struct crun_oci_state s;
	int r = crun_oci_state(root_of(a), a->id, &s, err);
	if (r < 0)
		return r;
	r = print_text(crun_oci_state_json(&s), err);
	crun_oci_state_free(&s);
	return r;
}

static int do_list(const struct rt_args *a, struct cl_error *err)
{
	struct crun_info *list;
	size_t n;
	int r = crun_list(root_of(a), &list, &n, err);
	if (r == -ENOENT)
		n = 0, list = NULL, r = 0;
	if (r < 0)
		return r;
	json_object *arr = json_object_new_array();
	if (!a->json && !a->quiet)
		printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
	for (size_t i = 0; i < n; i++) {
		struct crun_oci_state s;
		if (crun_oci_state(root_of(a), list[i].name, &s, NULL) < 0)
			continue;   /* a `ct run` container */
		if (a->quiet) {
			puts(s.id);
		} else if (a->json) {
			char *t = crun_oci_state_json(&s);
			json_object *o = t ? json_tokener_parse(t) : NULL;
			free(t);
			if (o) {
				char ts[64];
				time_t c = (time_t)s.created;
				struct tm tm;
				strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&c, &tm));
				json_object_object_add(o, "created", json_object_new_string(ts));
				json_object_array_add(arr, o);
			}
		} else {
			char ts[64];
			time_t c = (time_t)s.created;
			struct tm tm;
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&c, &tm));
			printf("%-20s %-8d %-10s %-40s %s\n", s.id, (int)s.pid, crun_status_name(s.status), s.bundle, ts);
		}
		crun_oci_state_free(&s);
	}
	if (a->json)
		puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
	free(list);
	return 0;
}

static int do_ps(const struct rt_args *a, struct cl_error *err)
{
	pid_t *pids;
	size_t n;
	int r = crun_oci_pids(root_of(a), a->id, &pids, &n, err);
	if (r < 0)
		return r;
	if (a->json) {
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, json_object_new_int(pids[i]));
		puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
		json_object_put(arr);
	} else {
		puts("PID");
		for (size_t i = 0; i < n; i++)
			printf("%d\n", (int)pids[i]);
	}
	free(pids);
	return 0;
}

static int do_spec(const struct rt_args *a, struct cl_error *err)
{
	const char *dir = a->bundle ? a->bundle : ".";
	char path[4096];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (access(path, F_OK) == 0)
		return cl_err(err, EEXIST, "%s already exists: remove it first", path);
	char *t = crun_spec_default(false);
	if (!t)
		return cl_err(err, ENOMEM, "out of memory");
	int r = cl_file_write_atomic(path, t, 0644, err);
	free(t);
	return r;
}

/* `run`: create, start, wait for the init (we stay its subreaper),
 * forwarding signals; then delete. The container's status is ours. */
static int do_run(const struct rt_args *a, struct cl_error *err)
{
	const struct crun_oci_create_opts o = {
		.root = root_of(a), .id = a->id, .bundle = a->bundle, .pid_file = a->pid_file,
		.console_socket = a->console_socket, .keep_subreaper = !a->detach,
		.preserve_fds = a->preserve_fds,
	};
	sigset_t fwd, old;
	pid_t init;
	int r;
	sigemptyset(&fwd);
	for (int s = 0, sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD }; s < 7; s++)
		sigaddset(&fwd, sigs[s]);
	sigprocmask(SIG_BLOCK, &fwd, &old);
	if ((r = crun_oci_create(&o, &init, err)) < 0)
		goto out;
	if ((r = crun_oci_start(o.root, a->id, err)) < 0) {
		crun_oci_delete(o.root, a->id, true, NULL);
		goto out;
	}
	if (a->detach)
		goto out;
	int status = 0;
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&fwd, &si);
		if (sig == SIGCHLD) {
			int ws;
			pid_t q;
			bool done = false;
			while ((q = waitpid(-1, &ws, WNOHANG)) > 0)
				if (q == init) {
					status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
					done = true;
				}
			if (done)
				break;
		} else if (sig > 0) {
			kill(init, sig);
		}
	}
	r = crun_oci_delete(o.root, a->id, true, err);
	if (r == 0)
		r = status;
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int dispatch(const struct rt_args *a, struct cl_error *err)
{
	const char *root = root_of(a);
	int sig = SIGTERM, r;
	pid_t pid;
	switch (a->verb) {
	case RT_CREATE: {
		const struct crun_oci_create_opts o = {
			.root = root, .id = a->id, .bundle = a->bundle, .pid_file = a->pid_file,
			.console_socket = a->console_socket, .preserve_fds = a->preserve_fds,
		};
		return crun_oci_create(&o, &pid, err);
	}
	case RT_START: return crun_oci_start(root, a->id, err);
	case RT_STATE: return do_state(a, err);
	case RT_KILL:
		if (a->npos > 1 && (r = crun_signal_parse(a->pos[1], &sig, err)) < 0)
			return r;
		return crun_oci_kill(root, a->id, sig, a->all, err);
	case RT_DELETE: return crun_oci_delete(root, a->id, a->force, err);
	case RT_RUN: return do_run(a, err);
	case RT_LIST: return do_list(a, err);
	case RT_PS: return do_ps(a, err);
	case RT_SPEC: return do_spec(a, err);
	case RT_FEATURES: return print_text(crun_features(), err);
	case RT_VERSION:
		printf("cloudlet-runtime version %s\nspec: %s\n", CLOUDLET_VERSION, CRUN_OCI_VERSION);
		return 0;
	case RT_EXEC: {
		const struct crun_oci_exec_opts o = {
			.root = root, .id = a->id, .process = a->process, .args = a->pos + 1,
			.nargs = (size_t)a->npos - 1, .tty = a->tty, .detach = a->detach,
			.pid_file = a->pid_file, .console_socket = a->console_socket,
		};
		int status = 0;
		r = crun_oci_exec(&o, &status, err);
		return r < 0 ? r : status;
	}
	case RT_PAUSE: case RT_RESUME:
		return crun_oci_pause(root, a->id, a->verb == RT_PAUSE, err);
	case RT_NONE: break;
	}
	return cl_err(err, EINVAL, "no command");
}

static void usage(void)
{
	puts("usage: cloudlet-runtime [--root DIR] [--log FILE] [--log-format text|json] COMMAND [OPTIONS] ID\n"
	     "The OCI runtime (runtime-spec " CRUN_OCI_VERSION ") of cloudlet, with runc's command line.\n"
	     "commands:\n"
	     "  create --bundle DIR [--pid-file F] [--console-socket S] ID   set up, wait for start\n"
	     "  start ID                       run the process of a created container\n"
	     "  state ID                       the OCI state JSON\n"
	     "  kill [--all] ID [SIGNAL]       SIGTERM by default\n"
	     "  delete [--force] ID            remove a stopped (or created) container\n"
	     "  run --bundle DIR [--detach] ID create + start, wait, delete\n"
	     "  list [--format json|-q]        ps [--format json] ID\n"
	     "  spec [--bundle DIR]            write a default config.json\n"
	     "  exec [--process F | ID CMD...] [--tty] [--detach] [--pid-file F] [--console-socket S]\n"
	     "  pause ID / resume ID           freeze / thaw its cgroup\n"
	     "  features                       what this runtime supports (JSON)");
}

int runtime_main(int argc, char **argv)
{
	struct rt_args a;
	struct cl_error err = { 0 };

	signal(SIGPIPE, SIG_IGN);
	if (rt_parse(argc, argv, &a, &err) < 0) {
		log_error(&a, err.msg);
		return CLI_EXIT_USAGE;
	}
	if (a.help) {
		usage();
		return CLI_EXIT_OK;
	}
	if (a.systemd_cgroup) {
		log_error(&a, "--systemd-cgroup: the systemd cgroup driver is not supported (use cgroupfs)");
		return CLI_EXIT_FAIL;
	}
	int r = dispatch(&a, &err);
	if (r < 0) {
		log_error(&a, err.msg);
		return CLI_EXIT_FAIL;
	}
	return r;
}
