/* Seccomp: the default profile as data, and loading it with libseccomp.
 *
 * In the spirit of Docker/moby's default profile for its default capability
 * set on x86-64: an allowlist; any other syscall fails with EPERM. Left out
 * (so EPERM): namespaces and mounts (unshare, setns, mount, umount2,
 * pivot_root, open_tree, fsopen...), the kernel and its modules (reboot,
 * kexec_load, init_module, bpf, perf_event_open, syslog, acct), keys
 * (add_key, keyctl, request_key), clock setting, swapon/swapoff, quotactl,
 * open_by_handle_at, userfaultfd, io_uring (as Docker since 25.0), raw
 * I/O (iopl, ioperm), NUMA policy, sethostname/setdomainname, vhangup.
 * Conditional rows: clone without namespace flags; clone3 fails ENOSYS so
 * libc falls back to clone, whose flags a filter can see; personality only
 * to the harmless personas; socket for any family but AF_VSOCK. ptrace and
 * process_vm_* are allowed (safe since Linux 4.8, as in Docker).
 *
 * The table is sorted by name with one row per syscall (tests check it,
 * and that every name resolves on x86-64). Count: crun_seccomp_default_count. */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
/* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET = 0x7E020000 */
#define CLONE_NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
			CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
#define A(n) { #n, CRUN_SC_ALLOW, 0, 0, { 0 }, 0 }

const struct crun_seccomp_rule crun_seccomp_default[] = {
	A(accept),
	A(accept4),
	A(access),
	A(adjtimex),
	A(alarm),
	A(arch_prctl),
	A(bind),
	A(brk),
	A(cachestat),
	A(capget),
	A(capset),
	A(chdir),
	A(chmod),
	A(chown),
	A(chroot),
	A(clock_adjtime),
	A(clock_getres),
	A(clock_gettime),
	A(clock_nanosleep),
	{ "clone", CRUN_SC_ALLOW_IF_MASK0, 0, 1, { CLONE_NS_FLAGS }, 0 },
	{ "clone3", CRUN_SC_ERRNO, 0, 0, { 0 }, ENOSYS },
	A(close),
	A(close_range),
	A(connect),
	A(copy_file_range),
	A(creat),
	A(dup),
	A(dup2),
	A(dup3),
	A(epoll_create),
	A(epoll_create1),
	A(epoll_ctl),
	A(epoll_ctl_old),
	A(epoll_pwait),
	A(epoll_pwait2),
	A(epoll_wait),
	A(epoll_wait_old),
	A(eventfd),
	A(eventfd2),
	A(execve),
	A(execveat),
	A(exit),
	A(exit_group),
	A(faccessat),
	A(faccessat2),
	A(fadvise64),
	A(fallocate),
	A(fanotify_mark),
	A(fchdir),
	A(fchmod),
	A(fchmodat),
	A(fchmodat2),
	A(fchown),
	A(fchownat),
	A(fcntl),
	A(fdatasync),
	A(fgetxattr),
	A(flistxattr),
	A(flock),
	A(fork),
	A(fremovexattr),
	A(fsetxattr),
	A(fstat),
	A(fstatfs),
	A(fsync),
	A(ftruncate),
	A(futex),
	A(futex_requeue),
	A(futex_wait),
	A(futex_waitv),
	A(futex_wake),
	A(futimesat),
	A(get_robust_list),
	A(get_thread_area),
	A(getcpu),
	A(getcwd),
	A(getdents),
	A(getdents64),
	A(getegid),
	A(geteuid),
	A(getgid),
	A(getgroups),
	A(getitimer),
	A(getpeername),
	A(getpgid),
	A(getpgrp),
	A(getpid),
	A(getppid),
	A(getpriority),
	A(getrandom),
	A(getresgid),
	A(getresuid),
	A(getrlimit),
	A(getrusage),
	A(getsid),
	A(getsockname),
	A(getsockopt),
	A(gettid),
	A(gettimeofday),
	A(getuid),
	A(getxattr),
	A(inotify_add_watch),
	A(inotify_init),
	A(inotify_init1),
	A(inotify_rm_watch),
	A(io_cancel),
	A(io_destroy),
	A(io_getevents),
	A(io_pgetevents),
	A(io_setup),
	A(io_submit),
	A(ioctl),
	A(ioprio_get),
	A(ioprio_set),
	A(kill),
	A(landlock_add_rule),
	A(landlock_create_ruleset),
	A(landlock_restrict_self),
	A(lchown),
	A(lgetxattr),
	A(link),
	A(linkat),
	A(listen),
	A(listxattr),
	A(llistxattr),
	A(lremovexattr),
	A(lseek),
	A(lsetxattr),
	A(lstat),
	A(madvise),
	A(map_shadow_stack),
	A(membarrier),
	A(memfd_create),
	A(memfd_secret),
	A(mincore),
	A(mkdir),
	A(mkdirat),
	A(mknod),
	A(mknodat),
	A(mlock),
	A(mlock2),
	A(mlockall),
	A(mmap),
	A(modify_ldt),
	A(mprotect),
	A(mq_getsetattr),
	A(mq_notify),
	A(mq_open),
	A(mq_timedreceive),
	A(mq_timedsend),
	A(mq_unlink),
	A(mremap),
	A(msgctl),
	A(msgget),
	A(msgrcv),
	A(msgsnd),
	A(msync),
	A(munlock),
	A(munlockall),
	A(munmap),
	A(name_to_handle_at),
	A(nanosleep),
	A(newfstatat),
	A(open),
	A(openat),
	A(openat2),
	A(pause),
	{ "personality", CRUN_SC_ALLOW_IF_EQ, 0, 5, { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff }, 0 },
	A(pidfd_open),
	A(pidfd_send_signal),
	A(pipe),
	A(pipe2),
	A(pkey_alloc),
	A(pkey_free),
	A(pkey_mprotect),
	A(poll),
	A(ppoll),
	A(prctl),
	A(pread64),
	A(preadv),
	A(preadv2),
	A(prlimit64),
	A(process_mrelease),
	A(process_vm_readv),
	A(process_vm_writev),
	A(pselect6),
	A(ptrace),
	A(pwrite64),
	A(pwritev),
	A(pwritev2),
	A(read),
	A(readahead),
	A(readlink),
	A(readlinkat),
	A(readv),
	A(recvfrom),
	A(recvmmsg),
	A(recvmsg),
	A(remap_file_pages),
	A(removexattr),
	A(rename),
	A(renameat),
	A(renameat2),
	A(restart_syscall),
	A(rmdir),
	A(rseq),
	A(rt_sigaction),
	A(rt_sigpending),
	A(rt_sigprocmask),
	A(rt_sigqueueinfo),
	A(rt_sigreturn),
	A(rt_sigsuspend),
	A(rt_sigtimedwait),
	A(rt_tgsigqueueinfo),
	A(sched_get_priority_max),
	A(sched_get_priority_min),
	A(sched_getaffinity),
	A(sched_getattr),
	A(sched_getparam),
	A(sched_getscheduler),
	A(sched_rr_get_interval),
	A(sched_setaffinity),
	A(sched_setattr),
	A(sched_setparam),
	A(sched_setscheduler),
	A(sched_yield),
	A(seccomp),
	A(select),
	A(semctl),
	A(semget),
	A(semop),
	A(semtimedop),
	A(sendfile),
	A(sendmmsg),
	A(sendmsg),
	A(sendto),
	A(set_robust_list),
	A(set_thread_area),
	A(set_tid_address),
	A(setfsgid),
	A(setfsuid),
	A(setgid),
	A(setgroups),
	A(setitimer),
	A(setpgid),
	A(setpriority),
	A(setregid),
	A(setresgid),
	A(setresuid),
	A(setreuid),
	A(setrlimit),
	A(setsid),
	A(setsockopt),
	A(setuid),
	A(setxattr),
	A(shmat),
	A(shmctl),
	A(shmdt),
	A(shmget),
	A(shutdown),
	A(sigaltstack),
	A(signalfd),
	A(signalfd4),
	{ "socket", CRUN_SC_ALLOW_IF_NE, 0, 1, { AF_VSOCK }, 0 },
	A(socketpair),
	A(splice),
	A(stat),
	A(statfs),
	A(statx),
	A(symlink),
	A(symlinkat),
	A(sync),
	A(sync_file_range),
	A(syncfs),
	A(sysinfo),
	A(tee),
	A(tgkill),
	A(time),
	A(timer_create),
	A(timer_delete),
	A(timer_getoverrun),
	A(timer_gettime),
	A(timer_settime),
	A(timerfd_create),
	A(timerfd_gettime),
	A(timerfd_settime),
	A(times),
	A(tkill),
	A(truncate),
	A(umask),
	A(uname),
	A(unlink),
	A(unlinkat),
	A(utime),
	A(utimensat),
	A(utimes),
	A(vfork),
	A(vmsplice),
	A(wait4),
	A(waitid),
	A(write),
	A(writev),
};
const size_t crun_seccomp_default_count =
	sizeof(crun_seccomp_default) / sizeof(crun_seccomp_default[0]);

static int add_rule(scmp_filter_ctx ctx, const struct crun_seccomp_rule *r, int nr)
{
	switch (r->kind) {
	case CRUN_SC_ALLOW:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	case CRUN_SC_ALLOW_IF_EQ:
		for (unsigned i = 0; i < r->nvals; i++) {
			int e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
						 SCMP_CMP(r->arg, SCMP_CMP_EQ, r->vals[i]));
			if (e < 0)
				return e;
		}
		return 0;
	case CRUN_SC_ALLOW_IF_NE:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_CMP(r->arg, SCMP_CMP_NE, r->vals[0]));
	case CRUN_SC_ALLOW_IF_MASK0:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->vals[0], 0));
	case CRUN_SC_ERRNO:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO((unsigned)r->errnum), nr, 0);
	}
	return -EINVAL;
}

/* Load the profile into the calling thread (last thing before execve; the
 * caller has set no_new_privs). */
int ct_seccomp_apply(enum crun_seccomp_mode mode, struct cl_error *err)
{
	if (mode == CRUN_SECCOMP_UNCONFINED)
		return 0;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return cl_err(err, ENOMEM, "seccomp_init failed");
	int r = 0;
	for (size_t i = 0; i < crun_seccomp_default_count && !r; i++) {
		const struct crun_seccomp_rule *rule = &crun_seccomp_default[i];
		int nr = seccomp_syscall_resolve_name(rule->name);
		if (nr == __NR_SCMP_ERROR)
			continue;   /* not a syscall of this architecture */
		int e = add_rule(ctx, rule, nr);
		if (e < 0)
			r = cl_err(err, -e, "seccomp rule for %s: %s", rule->name, strerror(-e));
	}
	if (!r) {
		int e = seccomp_load(ctx);
		if (e < 0)
			r = cl_err(err, -e, "load the seccomp profile: %s", strerror(-e));
	}
	seccomp_release(ctx);
	return r;
}
