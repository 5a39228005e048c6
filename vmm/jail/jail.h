/* The jailed launch's pieces (internal to vmm/jail/): launch.c runs them
 * in order. Pure parts are unit-tested (tests/unit/test_vmm_jail.c). */
#ifndef VMM_JAIL_JAIL_H
#define VMM_JAIL_JAIL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cloudlet/cgroup.h"
#include "cloudlet/vmm.h"

/* ---- pure: what the jail allows ---- */

/* The KVM per-VM worker thread (kvm-nx-lpage-recovery) is attached to the
 * cgroup of the process that made the VM and counts towards pids. */
#define JAIL_PIDS_KVM 1
/* fds the VMM opens during setup beyond one per vCPU (and its stats fd)
 * and per virtio device and queue: VM, eventfds, epoll, signalfd, timerfd,
 * the seccomp memfd, with room to spare */
#define JAIL_NOFILE_SETUP 32
/* the least RLIMIT_FSIZE: a seccomp filter as libseccomp exports it to a
 * memfd (BPF_MAXINSNS instructions of 8 bytes) */
#define JAIL_FSIZE_MIN (4096u * 8u)
/* how much the console may add to a regular file it writes to */
#define JAIL_CONSOLE_FSIZE (1ull << 30)

/* memory.max / memory.limit_in_bytes: guest RAM + VMM_JAIL_MEM_OVERHEAD */
uint64_t jail_memory_limit(uint64_t guest_mem);
/* pids.max: the event loop thread, one per vCPU, KVM's worker */
uint64_t jail_pids_limit(unsigned ncpus);
/* RLIMIT_NOFILE: above the highest fd open when the jail is entered, plus
 * what setup opens (VMM_MAX_* virtio devices of up to 2 queues each) */
uint64_t jail_nofile_limit(int highest_fd, unsigned ncpus, unsigned ndevs);
/* RLIMIT_FSIZE: no file written grows: the largest read-write disk, or a
 * regular file on the console's output plus JAIL_CONSOLE_FSIZE; at least
 * JAIL_FSIZE_MIN */
uint64_t jail_fsize_limit(uint64_t largest_rw_disk, bool console_is_file, uint64_t console_size);

/* --uid/--gid: not root, not (id_t)-1, mapped in this user namespace
 * (uid_map, gid_map: /proc/self/{uid,gid}_map's text). */
int jail_ids_check(uid_t uid, gid_t gid, const char *uid_map, const char *gid_map,
		   struct cl_error *err);
/* The base directory (lstat): a real directory, owned by euid, writable
 * by nobody else (another user could otherwise swap a VM's jail). */
int jail_base_check(const char *path, const struct stat *st, uid_t euid, struct cl_error *err);

/* ---- one launch's jail: made by the launcher, removed when the VM ends ---- */

struct jail {
	const struct vmm_jail *opts;
	const char *base;
	char id[32];                      /* vm-XXXXXX */
	char dir[PATH_MAX];               /* base/id, the VMM's root; "" until made */
	int lock;                         /* dir's fd, flock'd while the launcher lives; -1 */
	const struct cl_cgroup_ops *cg_ops;   /* NULL until made */
	struct cl_cgroup cg;
};

/* launcher: checks with no side effect (ids, base) */
int jail_check(struct jail *j, struct cl_error *err);
/* launcher: the per-VM directory (empty, root's, 0700), flock'd for the
 * launcher's life; first removes the directories and cgroups of launchers
 * that died without cleaning up (SIGKILL), whose locks are free */
int jail_dir_make(struct jail *j, struct cl_error *err);
/* launcher: the cgroup, with the limits above */
int jail_cgroup_make(struct jail *j, const struct vmm_config *cfg, struct cl_error *err);
/* launcher, when the VM ended (or failed to start): cgroup, then directory */
void jail_remove(struct jail *j);

/* VMM process, as root: private mounts, the jail dir bound on itself,
 * pivot_root into it, the old root detached, the new one read-only */
int jail_pivot(const char *dir, struct cl_error *err);
/* VMM process: RLIMIT_NOFILE, RLIMIT_FSIZE, RLIMIT_CORE (0) */
int jail_rlimits(const struct vmm_config *cfg, unsigned ndevs, struct cl_error *err);
/* VMM process: every capability and root itself given up for uid:gid */
int jail_drop_privileges(uid_t uid, gid_t gid, struct cl_error *err);
/* VMM process: close every fd in [3, max] but those in keep[] */
void jail_close_fds(const int *keep, int nkeep);

/* ---- naming a seccomp kill: the kernel's audit record (/dev/kmsg) ---- */

struct audit_seccomp {
	long pid;
	char comm[16];
	long syscall;
	uint32_t code;                    /* SECCOMP_RET_KILL_PROCESS, _LOG... */
};
/* Pure: one /dev/kmsg record ("5,123,456,-;audit: type=1326 ... pid=N
 * comm="cl-vcpu0" ... syscall=257 ... code=0x80000000"). 0: a seccomp
 * record, filled in; -ENOENT: another record. */
int audit_seccomp_parse(const char *rec, size_t len, struct audit_seccomp *a);
/* /dev/kmsg positioned at its end (-1 when it cannot be read here) */
int audit_open(void);
/* Read what the kernel logged for pid since audit_open into res->sc_events
 * (waiting up to wait_ms for the first record: kauditd prints late). */
void audit_collect(int fd, pid_t pid, unsigned wait_ms, struct vmm_result *res);

#endif
