/* crun/ internals shared between the runtime's files (not a public API). */
#ifndef CRUN_INTERNAL_H
#define CRUN_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cloudlet/cgroup.h"
#include "cloudlet/crun.h"
#include "cloudlet/file.h"
#include "cloudlet/net.h"
#include "cloudlet/proc.h"

/* cgroups: cloudlet/cgroup.h (lib/), one ops table per version. Containers
 * are PARENT/NAME, devices confined to crun_cg_devices_allow. PARENT is
 * "cloudlet" for the default state root and "cloudlet-<8 hex>" of any other
 * root's real path: names are unique per root, so two roots (two users'
 * tests, a CI run beside a developer) may both run a container "web". */
#define CT_CG_PARENT "cloudlet"
#define CT_CG_PARENT_MAX (sizeof(CT_CG_PARENT) + 9)
void ct_cg_parent(const char *root, char out[CT_CG_PARENT_MAX]);

/* ---- the container being started (run.c builds it, the rest reads it) ---- */

struct ct {
	const struct crun_run_opts *o;
	char name[CRUN_NAME_MAX + 1];
	char hostname[65];
	char *root;                   /* state root */
	char *dir;                    /* ROOT/ct/NAME */
	char *rootfs, *upper, *work;  /* under dir */
	char **layers;                /* bottom first */
	size_t nlayers;
	struct crun_process proc;
	bool userns;
	uid_t uid;                    /* host ids for the single-id maps */
	gid_t gid;
	const struct cl_cgroup_ops *cg_ops;   /* NULL: no cgroup (rootless, no limits) */
	struct cl_cgroup cg;
	int sock;                     /* container side of the message channel */
	struct net_attachment *nets;  /* o->nnets of them, attached while it runs */
};

/* Messages on the channel (SOCK_SEQPACKET) between the runtime and the
 * container side. The runtime sees EOF once the workload has exec'd. */
enum ct_msg_type { CT_MSG_PID = 1, CT_MSG_GO, CT_MSG_ERROR, CT_MSG_EXEC, CT_MSG_PTY };
struct ct_msg {
	int type;
	int code;                     /* errno */
	pid_t pid;
	char msg[CL_ERR_MSG_MAX];
};
int ct_msg_send(int fd, const struct ct_msg *m, int pass_fd);
/* 1: got one, 0: EOF, <0: -errno. *fd (if non-NULL) gets a passed fd or -1. */
int ct_msg_recv(int fd, struct ct_msg *m, int *passed_fd);
/* On the container side: report err and _exit(status). */
void ct_fail(int sock, int type, const struct cl_error *err, int status) __attribute__((noreturn));

/* ns.c */
int ct_ns_unshare(bool userns, uid_t uid, gid_t gid, struct cl_error *err);
int ct_ns_hostname(const char *hostname, struct cl_error *err);
int ct_ns_lo_up(struct cl_error *err);

/* rootfs.c: overlay on c->rootfs, pivot_root into it, old root kept at
 * CT_OLDROOT until ct_rootfs_finish() */
#define CT_OLDROOT "/.cloudlet-oldroot"
int ct_rootfs_enter(const struct ct *c, struct cl_error *err);
int ct_rootfs_finish(struct cl_error *err);

/* mounts.c: in the new root */
int ct_mounts_setup(const struct ct *c, int *ptmx, struct cl_error *err);
int ct_mounts_protect(const struct ct *c, struct cl_error *err);

/* caps.c, seccomp.c */
int ct_caps_bound(struct cl_error *err);
int ct_caps_set(bool root_user, struct cl_error *err);
int ct_caps_drop_all(struct cl_error *err);
int ct_seccomp_apply(enum crun_seccomp_mode mode, struct cl_error *err);

/* process.c: the helper (joins the cgroup, unshares) and the init shim */
void ct_helper_main(struct ct *c) __attribute__((noreturn));

/* state.c */
struct ct_state {
	char name[CRUN_NAME_MAX + 1];
	enum crun_status status;
	pid_t pid;                    /* init shim */
	unsigned long long pid_start; /* its start time (clock ticks since boot) */
	pid_t monitor;
	unsigned long long monitor_start;
	int exit_status;
	long long created;
	bool detached;
	char image[256];
	char command[256];
	struct cl_cgroup cg;
};
int ct_state_lock(const char *root, bool exclusive, int *fd, struct cl_error *err);
void ct_state_unlock(int fd);
int ct_state_write(const char *dir, const struct ct_state *s, struct cl_error *err);
int ct_state_read(const char *dir, struct ct_state *s, struct cl_error *err);
/* mkdir ROOT/ct/NAME exclusively (EEXIST: the name is taken) */
int ct_state_create_dir(const char *root, const char *name, char **dir, struct cl_error *err);
int ct_state_remove_dir(const char *dir, struct cl_error *err);
char *ct_state_path(const char *root, const char *name);

/* tty.c: the runtime's end of a container's pty */
struct ct_tty {
	int master;
	bool raw;                     /* our stdin terminal was put in raw mode */
	char saved[64];               /* struct termios */
};
int ct_tty_begin(struct ct_tty *t, int master);
void ct_tty_resize(const struct ct_tty *t);
void ct_tty_end(struct ct_tty *t);

/* small helpers (state.c) */
char *ct_path_join(const char *a, const char *b);

#endif
