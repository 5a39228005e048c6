/* `exec`: another process in a running OCI container.
 *
 *   runtime ── joiner: enters the container's cgroup and setns(2) into
 *                 the init's namespaces (pid applies to its children),
 *                 forks, reports the child's pid, exits
 *                 └─ process: a pty from the container's devpts if asked
 *                    (the master goes to --console-socket), the user, then
 *                    ct_workload_exec like the container's first process
 * The runtime is a subreaper, so the process is its child once the joiner
 * is gone: it waits for it (or, --detach, leaves it to its own caller's
 * subreaper, as conmon expects). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* in setns order: user first (it owns the others), mnt last but one
 * (it changes root and cwd), pid applies to children */
static int ns_join_all(pid_t pid, struct cl_error *err);

static const struct { const char *name; int flag; } join_order[] = {
	{ "user", CLONE_NEWUSER }, { "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC },
	{ "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET }, { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
};

/* in the joiner: each namespace of pid that is not already ours, then its
 * root: setns(CLONE_NEWNS) puts us at the namespace's root mount, which is
 * the container's only when the runtime's own root was (not under chroot,
 * as in the emulated KVM host) — nsenter --root does the same */
static int ns_join(pid_t pid, struct cl_error *err)
{
	char rootp[64];
	snprintf(rootp, sizeof(rootp), "/proc/%d/root", (int)pid);
	int root = open(rootp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return cl_err_sys(err, errno, "%s", rootp);
	int r = ns_join_all(pid, err);
	if (r == 0 && (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0))
		r = cl_err_sys(err, errno, "enter the container's root");
	close(root);
	return r;
}

static int ns_join_all(pid_t pid, struct cl_error *err)
{
	for (size_t i = 0; i < sizeof(join_order) / sizeof(join_order[0]); i++) {
		char path[64], self[64];
		struct stat a, b;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, join_order[i].name);
		snprintf(self, sizeof(self), "/proc/self/ns/%s", join_order[i].name);
		if (stat(path, &a) < 0)
			return cl_err_sys(err, errno, "%s", path);
		if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			continue;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return cl_err_sys(err, errno, "%s", path);
		int r = setns(fd, join_order[i].flag);
		int e = errno;
		close(fd);
		if (r < 0)
			return cl_err_sys(err, e, "join the container's %s namespace", join_order[i].name);
	}
	return 0;
}

/* a pty of the container's devpts: the peer for the process, the master
 * to the console socket */
static int exec_pty(int console, int *peer, struct cl_error *err)
{
	int unlock = 0;
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return cl_err_sys(err, errno, "open /dev/ptmx in the container");
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || (*peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		int e = errno;
		close(m);
		return cl_err_sys(err, e, "the container's pty");
	}
	int r = ct_console_send(console, m, err);
	close(m);
	if (r < 0)
		close(*peer);
	return r;
}

static void process_main(struct ct *c, int console) __attribute__((noreturn));
static void process_main(struct ct *c, int console)
{
	struct cl_error err = { 0 };
	uid_t uid;
	gid_t gid;
	char *home;
	int peer = -1;
	if (console >= 0) {
		if (exec_pty(console, &peer, &err) < 0)
			ct_fail(-1, CT_MSG_ERROR, &err, 1);
		close(console);
	}
	if (crun_user_resolve(c->proc.user, NULL, NULL, &uid, &gid, &home, &err) < 0)
		ct_fail(-1, CT_MSG_ERROR, &err, 1);
	free(home);
	ct_workload_exec(c, peer, uid, gid);
}

int crun_oci_exec(const struct crun_oci_exec_opts *o, int *status, struct cl_error *err)
{
	struct ct_state s;
	struct crun_bundle b;
	struct ct c;
	char *dir = NULL, *cfg = NULL, *text = NULL;
	int r, p[2] = { -1, -1 }, console = -1;

	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	if ((r = ct_oci_load(o->root, o->id, &dir, &s, err)) < 0)
		return r;
	if (ct_effective_status(&s) != CRUN_RUNNING) {
		r = cl_err(err, EBUSY, "cannot exec in container %s: it is %s, not running", o->id,
			   crun_status_name(ct_effective_status(&s)));
		goto out;
	}
	/* the container's own config: its seccomp switch, and the process
	 * `exec ID CMD` starts from */
	if (!(cfg = ct_path_join(dir, "config.json")) || (r = cl_text_read(cfg, 4 << 20, &text, err)) < 0 ||
	    (r = crun_bundle_parse(text, s.bundle, &b, err)) < 0) {
		if (!cfg)
			r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	bool tty;
	if (o->process) {
		free(text);
		text = NULL;
		if ((r = cl_text_read(o->process, 1 << 20, &text, err)) < 0 || (r = crun_process_parse(text, &b, err)) < 0)
			goto out;
		tty = b.terminal;
	} else {
		if (!o->nargs) {
			r = cl_err(err, EINVAL, "exec: no command (give one, or --process)");
			goto out;
		}
		char **args = calloc(o->nargs + 1, sizeof(*args));
		for (size_t i = 0; args && i < o->nargs; i++)
			if (!(args[i] = strdup(o->args[i])))
				break;
		if (!args || !args[o->nargs - 1]) {
			for (size_t i = 0; args && args[i]; i++)
				free(args[i]);
			free(args);
			r = cl_err(err, ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; b.proc.args[i]; i++)
			free(b.proc.args[i]);
		free(b.proc.args);
		b.proc.args = args;
		tty = o->tty;
	}
	if (tty && !o->console_socket) {
		r = cl_err(err, EINVAL, "exec: a terminal needs --console-socket");
		goto out;
	}
	const struct crun_run_opts ro = { .seccomp = b.seccomp ? CRUN_SECCOMP_DEFAULT : CRUN_SECCOMP_UNCONFINED,
					  .seccomp_profile = b.seccomp };
	ct_defaults(&c);
	c.o = &ro;
	c.bundle = &b;
	c.proc = b.proc;
	c.caps = b.caps;
	c.ncaps = b.ncaps;

	/* the console socket is a host path: connected before joining the mounts */
	if (tty && (r = ct_console_connect(o->console_socket, &console, err)) < 0)
		goto out;
	if (pipe2(p, O_CLOEXEC) < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		r = cl_err_sys(err, errno, "exec: set up");
		goto out;
	}
	fflush(NULL);
	pid_t joiner = fork();
	if (joiner < 0) {
		r = cl_err_sys(err, errno, "fork");
		goto out;
	}
	if (joiner == 0) {
		struct cl_error e = { 0 };
		const struct cl_cgroup_ops *ops = cl_cgroup_ops_for(s.cg.version);
		struct ct_msg m = { .type = CT_MSG_ERROR };
		close(p[0]);
		if ((ops && ops->enter(&s.cg, 0, &e) < 0) || ns_join(s.pid, &e) < 0) {
			m.code = e.code;
			snprintf(m.msg, sizeof(m.msg), "%s", e.msg);
		} else {
			pid_t child = fork();
			if (child == 0)
				process_main(&c, console);
			m.type = child < 0 ? CT_MSG_ERROR : CT_MSG_PID;
			m.pid = child;
			if (child < 0)
				snprintf(m.msg, sizeof(m.msg), "fork in the container: %s", strerror(errno));
		}
		if (write(p[1], &m, sizeof(m)) != (ssize_t)sizeof(m))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	p[1] = -1;
	struct ct_msg m;
	ssize_t n;
	do
		n = read(p[0], &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	while (waitpid(joiner, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(m) || m.type != CT_MSG_PID) {
		m.msg[sizeof(m.msg) - 1] = '\0';
		r = n == (ssize_t)sizeof(m) ? cl_err(err, m.code ? m.code : EIO, "exec in %s: %s", o->id, m.msg)
					    : cl_err(err, EPROTO, "exec in %s: the joining process died", o->id);
		goto out;
	}
	if (o->pid_file) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%d", (int)m.pid);
		if ((r = cl_file_write_atomic(o->pid_file, buf, 0644, err)) < 0) {
			kill(m.pid, SIGKILL);
			waitpid(m.pid, NULL, 0);
			goto out;
		}
	}
	if (o->detach) {
		*status = 0;
		r = 0;
		goto out;
	}
	/* foreground: its status is ours; our signals are its */
	sigset_t fwd, old;
	sigemptyset(&fwd);
	for (int i = 0, sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD }; i < 7; i++)
		sigaddset(&fwd, sigs[i]);
	sigprocmask(SIG_BLOCK, &fwd, &old);
	for (;;) {
		int ws;
		pid_t q = waitpid(m.pid, &ws, WNOHANG);
		if (q == m.pid) {
			*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
			break;
		}
		if (q < 0 && errno == ECHILD) {
			*status = 255;
			break;
		}
		siginfo_t si;
		int sig = sigwaitinfo(&fwd, &si);
		if (sig > 0 && sig != SIGCHLD)
			kill(m.pid, sig);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	r = 0;
out:
	if (console >= 0)
		close(console);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	crun_bundle_free(&b);
	ct_state_free(&s);
	free(text);
	free(cfg);
	free(dir);
	return r;
}
