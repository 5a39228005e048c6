/* vmm_launch: the VMM in a process of its own, jailed. The steps, in
 * order; Firecracker's jailer (docs/jailer.md, src/jailer/src/env.rs) is
 * the model. Where this differs: the jailer execs firecracker, which then
 * opens /dev/kvm, the tap and the drives inside its chroot, so they must be
 * linked in; here one binary opens everything first and the VMM process
 * takes the fds into an empty root. The launcher stays, as root, to report
 * and to clean up.
 *
 * Launcher (the caller's process, root):
 *   1. check what can be checked without making anything: --uid/--gid, the
 *      jail base
 *   2. open everything the VM needs (vm_files_open): the kernel (read),
 *      the initrd, the disks with their mode (and lock), the taps (a
 *      VPC NIC's is made in its VPC's namespace by net_attach), /dev/kvm
 *   3. the VM's jail directory, empty, BASE/vm-XXXXXX
 *   4. its cgroup, of the same name: memory = guest RAM + overhead, pids =
 *      its threads
 *   5. /dev/kmsg at its end (to name a seccomp kill), the terminal raw
 *   6. a new pid namespace for its children, and fork the VMM
 * VMM process (pid 1 of that namespace):
 *   a. dies with the launcher (PR_SET_PDEATHSIG)
 *   b. joins the cgroup, then new mount, ipc, uts, net and cgroup
 *      namespaces (its taps are fds: it needs no network of its own)
 *   c. every fd closed but stdio, the VM's and the report pipe
 *   d. rlimits: NOFILE, FSIZE, CORE 0
 *   e. pivot_root into the jail directory, the old root detached, read-only
 *   f. uid:gid, no supplementary group, every capability dropped,
 *      no_new_privs, not dumpable
 *   g. vm_run_files: KVM setup as that uid, then each thread installs its
 *      seccomp filter before the first KVM_RUN; the guest runs
 *   h. the result to the launcher, exit
 * Launcher again:
 *   7. closes its copies of the VM's fds (a created tap lives in the VMM only)
 *   8. passes SIGINT/SIGTERM/SIGHUP on to the VMM and waits for it
 *   9. reads the result; or, if seccomp killed it, the audit record
 *  10. undoes 5, 4 and 3 (the mounts died with the VMM's mount namespace)
 * With --no-jail only 2, 5-9 and a, g, h remain: the VMM still runs in a
 * process of its own under seccomp, so a kill is still reported. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../console.h"
#include "../vm.h"
#include "jail.h"

#define AUDIT_WAIT_KILL_MS 1000
#define AUDIT_WAIT_LOG_MS 300

/* what the VMM process tells the launcher, once, at its end */
struct report {
	int rc;                      /* vm_run_files' or the jail's */
	struct cl_error err;
	struct vmm_result res;
};

struct launch {
	const struct vmm_config *cfg;
	struct jail jail;
	struct vm_files files;
	int report[2];               /* pipe: the VMM writes, the launcher reads */
	int kmsg;
};

static void write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* b-f: the VMM process enters its jail */
static int jail_enter(struct launch *l, struct cl_error *err)
{
	struct jail *j = &l->jail;
	int r;
	/* b. the cgroup first (its files are on the host), then the namespaces:
	 * the new cgroup namespace is rooted at the VM's cgroup */
	if ((r = j->cg_ops->enter(&j->cg, 0, err)) < 0)
		return r;
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP) < 0)
		return cl_err_sys(err, errno, "jail: unshare the namespaces");
	/* c. nothing the launcher's caller left open may reach the jail */
	int keep[8 + VDEV_MAX], n = 0;
	keep[n++] = l->report[1];
	keep[n++] = l->files.kvm_fd;
	keep[n++] = l->files.initrd_fd;
	keep[n++] = l->cfg->console_in;
	keep[n++] = l->cfg->console_out;
	for (unsigned i = 0; i < l->files.nvdevs; i++)
		keep[n++] = l->files.vdevs[i]->host_fd;
	jail_close_fds(keep, n);
	/* d, e, f */
	if ((r = jail_rlimits(l->cfg, l->files.nvdevs, err)) < 0 ||
	    (r = jail_pivot(j->dir, err)) < 0 ||
	    (r = jail_drop_privileges(j->opts->uid, j->opts->gid, err)) < 0)
		return r;
	/* prctl(2): changing the effective uid/gid clears the parent-death
	 * signal; arm it again, then check that the launcher did not die in
	 * between: its read end of the report pipe would be closed (poll(2):
	 * POLLERR on a pipe's write end whose read end is closed) */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	struct pollfd p = { .fd = l->report[1], .events = POLLOUT };
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLERR))
		return cl_err(err, ESRCH, "jail: the launcher is gone");
	return 0;
}

/* a-h, in the VMM process */
__attribute__((noreturn)) static void vmm_process(struct launch *l)
{
	static struct report rep;   /* large: not on the stack */
	int r = 0;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close(l->report[0]);
	if (l->kmsg >= 0)
		close(l->kmsg);
	if (l->jail.opts->enabled)
		r = jail_enter(l, &rep.err);
	if (r < 0)
		vm_files_close(&l->files);
	else
		r = vm_run_files(&l->files, &rep.res, &rep.err);
	rep.rc = r;
	write_full(l->report[1], &rep, sizeof(rep));
	_exit(r < 0 ? 1 : rep.res.status & 0xff);
}

/* 8. until the VMM ends: the signals that stop a VM are its to handle */
static int supervise(pid_t pid, const sigset_t *sigs)
{
	int st, sfd = signalfd(-1, sigs, SFD_CLOEXEC);
	while (sfd >= 0) {
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (si.ssi_signo != SIGCHLD)
			kill(pid, (int)si.ssi_signo);
		else if (waitpid(pid, &st, WNOHANG) == pid) {
			close(sfd);
			return st;
		}
	}
	if (sfd >= 0)
		close(sfd);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* 9. what became of the VMM */
static int collect(struct launch *l, pid_t pid, int st, struct vmm_result *res,
		   struct cl_error *err)
{
	static struct report rep;
	size_t got = 0;
	ssize_t n;
	while (got < sizeof(rep) && (n = read(l->report[0], (char *)&rep + got, sizeof(rep) - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	if (got == sizeof(rep) && WIFEXITED(st)) {
		if (rep.rc < 0) {
			rep.err.msg[sizeof(rep.err.msg) - 1] = '\0';
			*err = rep.err;
			return rep.rc;
		}
		*res = rep.res;
		res->reason[sizeof(res->reason) - 1] = '\0';
		res->nsc_events = 0;
		if (l->cfg->seccomp == VMM_SECCOMP_LOG)
			audit_collect(l->kmsg, pid, AUDIT_WAIT_LOG_MS, res);
		return 0;
	}
	memset(res, 0, sizeof(*res));
	if (!WIFSIGNALED(st)) {
		return cl_err(err, EIO, "the VMM process exited with %d without a report",
			      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	int sig = WTERMSIG(st);
	res->status = VMM_EXIT_SIGNAL + sig;
	if (sig != SIGSYS) {
		snprintf(res->reason, sizeof(res->reason), "the VMM process was killed by SIG%s",
			 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
		return 0;
	}
	audit_collect(l->kmsg, pid, AUDIT_WAIT_KILL_MS, res);
	if (res->nsc_events) {
		const struct vmm_sc_event *e = &res->sc_events[0];
		snprintf(res->reason, sizeof(res->reason),
			 "seccomp killed the VMM: thread %s made syscall %s (%ld), outside its allowlist",
			 e->thread, e->syscall, e->nr);
		return 0;
	}
	snprintf(res->reason, sizeof(res->reason),
		 "seccomp killed the VMM (SIGSYS): a syscall outside its allowlist; no audit record "
		 "names it (/dev/kmsg %s)", l->kmsg < 0 ? "is not readable here" : "had none");
	return 0;
}

int vmm_launch(const struct vmm_config *cfg, const struct vmm_jail *jail,
	       struct vmm_result *res, struct cl_error *err)
{
	struct launch l = { .cfg = cfg, .jail = { .opts = jail, .lock = -1 }, .report = { -1, -1 }, .kmsg = -1 };
	struct console_tty tty = { .fd = -1 };
	sigset_t sigs, saved;
	pid_t pid = -1;
	int r;

	memset(res, 0, sizeof(*res));
	/* 1 */
	if (jail->enabled && (r = jail_check(&l.jail, err)) < 0)
		return r;
	/* 2 */
	if ((r = vm_files_open(cfg, &l.files, err)) < 0)
		return r;
	/* 3, 4 (the cgroup is named after the directory) */
	if (jail->enabled &&
	    ((r = jail_dir_make(&l.jail, err)) < 0 || (r = jail_cgroup_make(&l.jail, cfg, err)) < 0)) {
		cl_err_wrap(err, "jail");
		goto out;
	}
	if (pipe2(l.report, O_CLOEXEC) < 0) {
		r = cl_err_sys(err, errno, "pipe");
		goto out;
	}
	/* 5 */
	l.kmsg = audit_open();
	console_raw_enter(&tty, cfg->console_in);
	/* 6: the stop signals and SIGCHLD are read from a signalfd (8), so
	 * blocked from before the fork; the VMM inherits the mask and reads
	 * its own through its loop's signalfd */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, &saved);
	if (jail->enabled && unshare(CLONE_NEWPID) < 0) {
		r = cl_err_sys(err, errno, "jail: unshare the pid namespace");
		goto out_sig;
	}
	pid = fork();
	if (pid < 0) {
		r = cl_err_sys(err, errno, "fork the VMM");
		goto out_sig;
	}
	if (pid == 0)
		vmm_process(&l);
	/* 7 */
	vm_files_close(&l.files);
	close(l.report[1]);
	l.report[1] = -1;
	/* 8, 9 */
	r = collect(&l, pid, supervise(pid, &sigs), res, err);
out_sig:
	sigprocmask(SIG_SETMASK, &saved, NULL);
	console_raw_leave(&tty);
out:
	/* 10 (and the VPC attachments of step 2) */
	vm_files_close(&l.files);
	vm_nets_detach(&l.files);
	for (int i = 0; i < 2; i++)
		if (l.report[i] >= 0)
			close(l.report[i]);
	if (l.kmsg >= 0)
		close(l.kmsg);
	jail_remove(&l.jail);
	return r;
}
