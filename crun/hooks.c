/* A bundle's hooks (config.md "POSIX-platform Hooks"): each one run with
 * path, args and env as given, the container's state (state.md) on stdin,
 * killed after its timeout; in the runtime's namespaces, or for
 * createContainer/startContainer forked by the container's init in its. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static int hook_run(const struct crun_hook *h, const char *kind, const char *state,
		    struct cl_error *err)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return cl_err_sys(err, errno, "hook %s: pipe", kind);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return cl_err_sys(err, errno, "hook %s: fork", kind);
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(in[0], STDIN_FILENO);
		char *const noargs[] = { h->path, NULL };
		char *const noenv[] = { NULL };
		execve(h->path, h->args && h->args[0] ? h->args : noargs, h->env ? h->env : noenv);
		_exit(127);
	}
	close(in[0]);
	/* a hook that does not read its stdin must not block us: one write,
	 * SIGPIPE ignored by the CLI (a short state fits the pipe anyway) */
	size_t len = strlen(state);
	ssize_t wn = write(in[1], state, len);
	(void)wn;
	close(in[1]);

	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), status = 0, r = 0;
	if (pfd >= 0 && h->timeout > 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int k;
		do
			k = poll(&p, 1, h->timeout * 1000);
		while (k < 0 && errno == EINTR);
		if (k == 0) {
			kill(pid, SIGKILL);
			r = cl_err(err, ETIMEDOUT, "hook %s %s: timed out after %d s", kind, h->path, h->timeout);
		}
	}
	if (pfd >= 0)
		close(pfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return r;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return cl_err(err, ENOENT, "hook %s %s: could not be executed", kind, h->path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return cl_err(err, ECANCELED, "hook %s %s: %s %d", kind, h->path,
			      WIFEXITED(status) ? "exited with status" : "killed by signal",
			      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return 0;
}

int ct_hooks_run_inside(const struct ct *c, enum crun_hook_kind kind, struct cl_error *err)
{
	struct ct_state st;
	memset(&st, 0, sizeof(st));
	snprintf(st.name, sizeof(st.name), "%s", c->name);
	snprintf(st.bundle, sizeof(st.bundle), "%s", c->bundle_dir ? c->bundle_dir : "");
	st.pid = c->host_pid;
	st.status = CRUN_CREATED;
	st.annotations = c->bundle->annotations;
	return ct_hooks_run(c->bundle, kind, &st, err);
}

int ct_hooks_run(const struct crun_bundle *b, enum crun_hook_kind kind, const struct ct_state *st,
		 struct cl_error *err)
{
	if (!b->nhooks[kind])
		return 0;
	/* state.md: "creating" while the create operation runs */
	bool creating = kind == CRUN_HOOK_PRESTART || kind == CRUN_HOOK_CREATE_RUNTIME ||
			kind == CRUN_HOOK_CREATE_CONTAINER;
	char *state = ct_state_oci_json(st, creating ? "creating" : crun_status_name(st->status));
	if (!state)
		return cl_err(err, ENOMEM, "out of memory");
	int r = 0;
	for (size_t i = 0; i < b->nhooks[kind] && r == 0; i++)
		r = hook_run(&b->hooks[kind][i], crun_hook_names[kind], state, err);
	free(state);
	return r;
}
