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
	char name[CRUN_ID_MAX + 1];
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
	/* what the container gets: the defaults (ct run) or a bundle's */
	const struct crun_bundle *bundle;   /* NULL: ct run from an image */
	const struct crun_mount *mounts;
	size_t nmounts;
	const char *const *masked, *const *readonly;
	size_t nmasked, nreadonly;
	const int *caps;
	size_t ncaps;
	const char *bundle_dir;       /* OCI: the bundle (state.md "bundle") */
	pid_t host_pid;               /* the init, as the runtime sees it (GO) */
	char *fifo;                   /* OCI: exec.fifo, opened by `start` */
	int fifo_fd;                  /* the init's O_PATH handle on it */
	char oldroot[160];             /* CT_OLDROOT, or CT_OLDROOT-ID */
};

/* Messages on the channel (SOCK_SEQPACKET) between the runtime and the
 * container side. The runtime sees EOF once the workload has exec'd. */
enum ct_msg_type { CT_MSG_PID = 1, CT_MSG_GO, CT_MSG_ERROR, CT_MSG_EXEC, CT_MSG_PTY, CT_MSG_READY };
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

struct ct_state;

/* run.c: the steps `ct run` and the OCI `create` share */
void ct_defaults(struct ct *c);   /* ct run's mounts, paths, caps */
/* claim ROOT/ct/NAME (c->o->name, else generated) and write st there */
int ct_claim_name(struct ct *c, struct ct_state *st, struct cl_error *err);
int ct_cgroup_make(struct ct *c, struct ct_state *st, struct cl_error *err);
/* fork the helper, get the init's pid, attach NICs, run the bundle's
 * prestart/createRuntime hooks, record st (status), send GO; *sock: the
 * runtime's end of the channel */
int ct_spawn(struct ct *c, struct ct_state *st, enum crun_status status, int *sock,
	     pid_t *init, struct cl_error *err);
int ct_state_save(const struct ct *c, const struct ct_state *st, struct cl_error *err);
void ct_nets_detach(struct ct *c);
void ct_teardown(struct ct *c);   /* cgroup and directory, as far as made */

/* oci.c: an OCI container's directory and state (ENOENT: "does not exist") */
int ct_oci_load(const char *root, const char *id, char **dir, struct ct_state *s,
		struct cl_error *err);

/* hooks.c: config.md "POSIX-platform Hooks", the state on stdin */
int ct_hooks_run(const struct crun_bundle *b, enum crun_hook_kind kind, const struct ct_state *st,
		 struct cl_error *err);
/* createContainer/startContainer, from the container's init: the state is
 * c's (status "creating", then "created") */
int ct_hooks_run_inside(const struct ct *c, enum crun_hook_kind kind, struct cl_error *err);
/* the OCI state of st (status as given) as state.md JSON, malloc'd */
char *ct_state_oci_json(const struct ct_state *st, const char *status);

/* ns.c */
int ct_ns_unshare(const struct ct *c, struct cl_error *err);
/* a new network namespace (not joined by path) */
bool ct_ns_new_net(const struct ct *c);
int ct_ns_hostname(const char *hostname, struct cl_error *err);
int ct_ns_lo_up(struct cl_error *err);

/* rootfs.c: overlay on c->rootfs, pivot_root into it, old root kept at
 * CT_OLDROOT until ct_rootfs_finish() */
#define CT_OLDROOT "/.cloudlet-oldroot"   /* c->oldroot: + "-ID" for a bundle, whose
                                             root other containers may share */
int ct_rootfs_enter(const struct ct *c, struct cl_error *err);   /* mounted, cwd in it */
int ct_rootfs_pivot(const struct ct *c, struct cl_error *err);
int ct_rootfs_finish(const struct ct *c, struct cl_error *err);

/* mounts.c: in the new root */
int ct_mounts_setup(const struct ct *c, int *ptmx, struct cl_error *err);
int ct_mounts_protect(const struct ct *c, struct cl_error *err);

/* caps.c, seccomp.c */
int ct_caps_bound(const struct ct *c, struct cl_error *err);
int ct_caps_set(const struct ct *c, bool root_user, struct cl_error *err);
int ct_caps_drop_all(struct cl_error *err);
int ct_seccomp_apply(enum crun_seccomp_mode mode, const struct crun_seccomp *profile,
		     struct cl_error *err);

/* process.c: the helper (joins the cgroup, unshares) and the init shim */
void ct_helper_main(struct ct *c) __attribute__((noreturn));
/* The workload's last steps and exec (session, tty, cwd, caps, user,
 * no_new_privs, seccomp): the first process and every `exec` alike */
void ct_workload_exec(struct ct *c, int tty, uid_t uid, gid_t gid) __attribute__((noreturn));

/* state.c */
struct ct_state {
	char name[CRUN_ID_MAX + 1];
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
	char bundle[PATH_MAX];        /* OCI: the bundle ("" for ct run) */
	char *annotations;            /* OCI: JSON text, malloc'd (NULL: none) */
};
int ct_state_lock(const char *root, bool exclusive, int *fd, struct cl_error *err);
void ct_state_unlock(int fd);
int ct_state_write(const char *dir, const struct ct_state *s, struct cl_error *err);
int ct_state_read(const char *dir, struct ct_state *s, struct cl_error *err);
/* created/running as recorded, stopped once the one in charge is gone */
enum crun_status ct_effective_status(const struct ct_state *s);
/* signal the recorded init, if it is still that process (0: gone) */
int ct_signal_init(const struct ct_state *s, int sig);
/* mkdir ROOT/ct/NAME exclusively (EEXIST: the name is taken) */
int ct_state_create_dir(const char *root, const char *name, char **dir, struct cl_error *err);
int ct_state_remove_dir(const char *dir, struct cl_error *err);
char *ct_state_path(const char *root, const char *name);
void ct_state_free(struct ct_state *s);

/* tty.c: the runtime's end of a container's pty */
struct ct_tty {
	int master;
	bool raw;                     /* our stdin terminal was put in raw mode */
	char saved[64];               /* struct termios */
};
int ct_tty_begin(struct ct_tty *t, int master);
/* OCI --console-socket: pass the pty master to whoever listens at path */
int ct_tty_send_console(const char *path, int master, struct cl_error *err);
/* the same in two steps: connect (on the host), send (maybe from elsewhere) */
int ct_console_connect(const char *path, int *fd, struct cl_error *err);
int ct_console_send(int fd, int master, struct cl_error *err);
void ct_tty_resize(const struct ct_tty *t);
void ct_tty_end(struct ct_tty *t);

/* small helpers (state.c) */
char *ct_path_join(const char *a, const char *b);

#endif
