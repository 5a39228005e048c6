/* The container side: the helper, the init shim (the container's PID 1) and
 * the workload (PID 2).
 *
 *   runtime ── helper: joins the cgroup, unshares the namespaces, forks
 *                 └─ init (PID 1): waits for GO (the runtime, a subreaper,
 *                    has adopted it: the helper exits), hostname, lo,
 *                    overlay + pivot_root, mounts, user lookup, pty; forks
 *                     └─ workload (PID 2): session, ctty, cwd, caps, user,
 *                        no_new_privs, seccomp, execvp
 *              init then drops every capability and only forwards
 *              signals to the workload's process group and reaps
 *              orphans; it exits with the
 *              workload's status (128+N for signal N), and the kernel
 *              kills whatever is left in the pid namespace.
 *
 * Failures go back to the runtime as one message on the channel (the fd
 * is close-on-exec: the runtime sees EOF once the workload exec'd). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* ---- the channel ---- */

int ct_msg_send(int fd, const struct ct_msg *m, int pass_fd)
{
	struct iovec iov = { (void *)m, sizeof(*m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (pass_fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*m) ? 0 : n < 0 ? -errno : -EIO;
}

int ct_msg_recv(int fd, struct ct_msg *m, int *passed_fd)
{
	struct iovec iov = { m, sizeof(*m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	if (passed_fd)
		*passed_fd = -1;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int got;
			memcpy(&got, CMSG_DATA(cm), sizeof(int));
			if (passed_fd && *passed_fd < 0)
				*passed_fd = got;
			else
				close(got);
		}
	}
	if (n != (ssize_t)sizeof(*m))
		return -EIO;
	m->msg[sizeof(m->msg) - 1] = '\0';
	return 1;
}

void ct_fail(int sock, int type, const struct cl_error *err, int status)
{
	struct ct_msg m = { .type = type, .code = err->code ? err->code : EINVAL };
	snprintf(m.msg, sizeof(m.msg), "%s", err->msg);
	/* an OCI container's runtime is gone once it was created: the
	 * container's own stderr is the one place left to say why */
	if (ct_msg_send(sock, &m, -1) < 0)
		dprintf(STDERR_FILENO, "cloudlet-runtime: %s\n", err->msg);
	_exit(status);
}

/* ---- the workload (PID 2) ---- */

void ct_workload_exec(struct ct *c, int tty, uid_t uid, gid_t gid)
{
	struct cl_error err = { 0 };
	sigset_t none;

	/* signals as a fresh process has them (the runtime ignores SIGPIPE) */
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (tty >= 0) {
		if (ioctl(tty, TIOCSCTTY, 0) < 0) {
			cl_err_sys(&err, errno, "make the pty the controlling terminal");
			ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
		}
		for (int fd = 0; fd < 3; fd++)
			dup2(tty, fd);
		if (tty > 2)
			close(tty);
	}
	/* nothing of the runtime's leaks past exec but stdio */
	unsigned keep = 3u + (unsigned)c->o->preserve_fds;
	syscall(SYS_close_range, keep, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);
	/* runc's --preserve-fds: inherited by number, open across the exec */
	for (int fd = 3; fd < (int)keep; fd++)
		fcntl(fd, F_SETFD, 0);
	if (chdir(c->proc.cwd) < 0) {
		cl_err_sys(&err, errno, "working directory %s", c->proc.cwd);
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	}
	if (ct_caps_bound(c, &err) < 0)
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	/* config.md process.rlimits, while we may still raise them */
	for (size_t i = 0; c->bundle && i < c->bundle->nrlimits; i++) {
		const struct crun_rlimit *l = &c->bundle->rlimits[i];
		struct rlimit rl = { .rlim_cur = l->soft, .rlim_max = l->hard };
		if (setrlimit(l->resource, &rl) < 0) {
			cl_err_sys(&err, errno, "setrlimit %d to %llu/%llu", l->resource,
				   (unsigned long long)l->soft, (unsigned long long)l->hard);
			ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
		}
	}
	/* a user namespace denied setgroups (single-id map) */
	if ((!c->userns && setgroups(0, NULL) < 0) || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		cl_err_sys(&err, errno, "switch to user %u:%u", (unsigned)uid, (unsigned)gid);
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	}
	if (ct_caps_set(c, uid == 0, &err) < 0)
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		cl_err_sys(&err, errno, "set no_new_privs");
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	}
	/* execvp searches the PATH of environ: the container's */
	environ = c->proc.env;
	if (ct_seccomp_apply(c->o->seccomp, c->o->seccomp_profile, &err) < 0)
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	execvp(c->proc.args[0], c->proc.args);
	int e = errno;
	if (e == ENOENT)
		cl_err(&err, e, "%s: %s", c->proc.args[0], strchr(c->proc.args[0], '/')
			       ? "no such file in the container"
			       : "executable file not found in the container's $PATH");
	else
		cl_err_sys(&err, e, "exec %s", c->proc.args[0]);
	ct_fail(c->sock, CT_MSG_EXEC, &err, e == ENOENT ? 127 : 126);
}

/* ---- the init shim (PID 1) after the fork ---- */

/* The shim is a copy of the runtime: its /proc/1/cmdline would show the
 * container the runtime's command line (host paths). Blank the argv area,
 * which starts at argv[0] (glibc's program_invocation_name). */
static void hide_cmdline(void)
{
	static char buf[65536];
	ssize_t n = 0, k;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (n < (ssize_t)sizeof(buf) && (k = read(fd, buf + n, sizeof(buf) - (size_t)n)) > 0)
		n += k;
	close(fd);
	char *start = program_invocation_name;
	const char name[] = "cloudlet-init";
	if (n < (ssize_t)sizeof(name) || !start || memcmp(start, buf, (size_t)n))
		return;
	memset(start, 0, (size_t)n);
	memcpy(start, name, sizeof(name));
}

static void shim_main(pid_t workload) __attribute__((noreturn));
static void shim_main(pid_t workload)
{
	struct cl_error err = { 0 };
	sigset_t all;
	int status = 1;

	prctl(PR_SET_NAME, "cloudlet-init", 0, 0, 0);
	hide_cmdline();
	/* it only waits and forwards: no capabilities, not ptrace-able or
	 * readable through /proc by the container, stdio to /dev/null */
	ct_caps_drop_all(&err);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		for (int fd = 0; fd < 3; fd++)
			dup2(null, fd);
		if (null > 2)
			close(null);
	}
	syscall(SYS_close_range, 3u, ~0u, 0u);
	/* blocked signals are queued even for a PID 1; sigwaitinfo takes them */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			/* to the workload's process group, as a terminal's ^C would
			 * (tini -g): `run sleep 60` stops at once, not after sleep */
			if (kill(-workload, sig) < 0)
				kill(workload, sig);
			continue;
		}
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			if (p != workload)
				continue;   /* an orphan, reaped */
			status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			_exit(status);
		}
		if (p < 0 && errno == ECHILD)
			_exit(status);
	}
}

static char *read_text(const char *path)
{
	char *t;
	return cl_text_read(path, 1 << 20, &t, NULL) < 0 ? NULL : t;
}

/* runtime.md "create": the container is set up and waits for `start`,
 * which opens exec.fifo for reading; our open for writing blocks until then.
 * Then the startContainer hooks (config.md: in the container, before the
 * user's process); `start` reads "0", or why they failed, and we stop. */
static void wait_start(struct ct *c)
{
	struct cl_error err = { 0 };
	struct ct_msg ready = { .type = CT_MSG_READY };
	char path[64];
	if (ct_msg_send(c->sock, &ready, -1) < 0)
		_exit(1);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", c->fifo_fd);
	int fd;
	do
		fd = open(path, O_WRONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		cl_err_sys(&err, errno, "open exec.fifo (is /proc mounted?)");
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	}
	if (c->bundle && ct_hooks_run_inside(c, CRUN_HOOK_START_CONTAINER, &err) < 0) {
		ssize_t n = write(fd, err.msg, strlen(err.msg));   /* `start` says it, once */
		(void)n;
		_exit(1);
	}
	if (write(fd, "0", 1) != 1)
		_exit(1);
	close(fd);
	close(c->fifo_fd);
}

static void init_main(struct ct *c) __attribute__((noreturn));
static void init_main(struct ct *c)
{
	struct cl_error err = { 0 };
	struct ct_msg m;
	int ptmx = -1, tty = -1;
	uid_t uid;
	gid_t gid;
	char *home;

	/* GO: the runtime has adopted us (the helper is gone); from now on we
	 * die with it. If it died already, its end of the channel is closed. */
	if (ct_msg_recv(c->sock, &m, NULL) != 1 || m.type != CT_MSG_GO)
		_exit(1);
	c->host_pid = m.pid;
	/* an OCI container outlives `create`: its caller's subreaper adopts it */
	if (!c->fifo)
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	char probe;
	if (recv(c->sock, &probe, 1, MSG_DONTWAIT | MSG_PEEK) == 0)
		_exit(1);

	/* exec.fifo stays reachable after pivot_root through this handle */
	if (c->fifo && (c->fifo_fd = open(c->fifo, O_PATH | O_CLOEXEC)) < 0) {
		cl_err_sys(&err, errno, "%s", c->fifo);
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	}
	if ((c->hostname[0] && ct_ns_hostname(c->hostname, &err) < 0) ||
	    (ct_ns_new_net(c) && ct_ns_lo_up(&err) < 0) ||
	    ct_rootfs_enter(c, &err) < 0 ||
	    /* config.md: createContainer in the container's namespaces, before pivot_root */
	    (c->bundle && ct_hooks_run_inside(c, CRUN_HOOK_CREATE_CONTAINER, &err) < 0) ||
	    ct_rootfs_pivot(c, &err) < 0 || ct_mounts_setup(c, &ptmx, &err) < 0 ||
	    ct_mounts_protect(c, &err) < 0 || ct_rootfs_finish(c, &err) < 0)
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);

	char *passwd = read_text("/etc/passwd"), *group = read_text("/etc/group");
	int r = crun_user_resolve(c->proc.user, passwd, group, &uid, &gid, &home, &err);
	free(passwd);
	free(group);
	if (r < 0)
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	if (crun_env_set(&c->proc.env, "HOME", home, false) < 0) {
		cl_err(&err, ENOMEM, "out of memory");
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	}
	free(home);

	if (ptmx >= 0) {
		tty = ioctl(ptmx, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (tty < 0) {
			cl_err_sys(&err, errno, "open the pty's peer");
			ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
		}
		struct ct_msg pm = { .type = CT_MSG_PTY };
		if (ct_msg_send(c->sock, &pm, ptmx) < 0)
			_exit(1);
		close(ptmx);
	}
	if (c->fifo)
		wait_start(c);
	pid_t w = fork();
	if (w < 0) {
		cl_err_sys(&err, errno, "fork the workload");
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	}
	if (w == 0)
		ct_workload_exec(c, tty, uid, gid);
	close(c->sock);
	if (tty >= 0)
		close(tty);
	shim_main(w);
}

/* ---- the helper ---- */

void ct_helper_main(struct ct *c)
{
	struct cl_error err = { 0 };

	/* a session of our own: the terminal's ^C reaches only the runtime,
	 * which forwards it (the workload makes its own session again) */
	setsid();
	if (c->cg_ops && c->cg_ops->enter(&c->cg, 0, &err) < 0)
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	if (ct_ns_unshare(c, &err) < 0)
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	pid_t pid = fork();
	if (pid < 0) {
		cl_err_sys(&err, errno, "fork the container's init");
		ct_fail(c->sock, CT_MSG_ERROR, &err, 1);
	}
	if (pid == 0)
		init_main(c);
	struct ct_msg m = { .type = CT_MSG_PID, .pid = pid };
	ct_msg_send(c->sock, &m, -1);
	_exit(0);
}
