/* crun/: the container runtime behind `cloudlet ct`.
 *
 * A container is the image's layers under an overlayfs (shared read-only
 * lowers, its own upper/work under ROOT/ct/NAME/), new pid, mount, uts, ipc,
 * net and cgroup namespaces (plus a user namespace when rootless),
 * pivot_root, the OCI default mounts/devices/masked and read-only paths, the
 * Docker default capability set, a default seccomp allowlist, no_new_privs,
 * and memory/cpu/pids limits in a cgroup (v2 or v1, chosen once).
 *
 * Processes: the runtime (or, detached, its monitor) forks a helper that
 * joins the cgroup and unshares the namespaces, then forks the container's
 * PID 1: the runtime's init shim, which sets the container up, forks the
 * workload (PID 2), forwards signals to its process group, reaps every
 * orphan, and exits with the workload's status. The helper exits at once; the runtime is a
 * child subreaper, so it waits for the shim directly.
 *
 * Decisions are pure functions over data (this header's tables and the
 * crun_* value functions, unit-tested); syscalls stay at the edges. Errors:
 * 0 or -errno and one line in struct cl_error; nothing here prints. */
#ifndef CLOUDLET_CRUN_H
#define CLOUDLET_CRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cloudlet/cgroup.h"
#include "cloudlet/error.h"
#include "cloudlet/seccomp.h"

#define CRUN_DEFAULT_ROOT "/var/lib/cloudlet"
#define CRUN_NAME_MAX 63                /* like a hostname label */
#define CRUN_MIN_MEMORY (6ull << 20)    /* Docker's minimum */
#define CRUN_MIN_PIDS 2                 /* the init shim and the workload */
#define CRUN_CPU_PERIOD_US 100000ull    /* CFS period, as Docker */
#define CRUN_MIN_CPU_QUOTA_US 1000ull   /* the kernel's minimum (1 ms) */
#define CRUN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---------------------------------------------------------------- running */

enum crun_seccomp_mode { CRUN_SECCOMP_DEFAULT, CRUN_SECCOMP_UNCONFINED };

struct crun_run_opts {
	const char *root;              /* state directory; NULL: crun_default_root() */
	const char *image;             /* OCI layout PATH[:TAG], or a rootfs directory */
	const char *name;              /* NULL: generated */
	const char *hostname;          /* NULL: the name */
	char *const *cmd;              /* overrides the image's Cmd (docker semantics) */
	size_t ncmd;
	const char *const *env;        /* K=V, applied over the image's Env */
	size_t nenv;
	struct cl_cg_limits limits;
	enum crun_seccomp_mode seccomp;
	bool rootless;                 /* user namespace (also implied when not root) */
	bool tty;                      /* a pty on the container's stdio */
	bool detach;                   /* run under a monitor, stdout/stderr to
	                                  ROOT/ct/NAME/log; return once started */
	const char *const *nets;       /* "VPC/SUBNET": eth0, eth1, ... (net_attach) */
	size_t nnets;
	const char *const *sgs;        /* security groups of those NICs (none: "default") */
	size_t nsgs;
};

struct crun_run_result {
	char name[CRUN_NAME_MAX + 1];
	int status;                    /* foreground: the container's exit status */
};

/* Run a container. Foreground: returns 0 with res->status = the workload's
 * exit status (128+N if a signal ended it) once it ended and everything it
 * created is removed. Detached: returns once the workload is executing;
 * `ct stop`/`ct rm` end it. A failure returns -errno and leaves nothing
 * behind; when it is the workload's command that could not be executed,
 * res->status is 127 (not found) or 126 (not executable), else 0. */
int crun_run(const struct crun_run_opts *o, struct crun_run_result *res,
	     struct cl_error *err);

/* Is `cmd` (a path, or a name looked up on CRUN_DEFAULT_PATH) an
 * executable file in image `ref` (as crun_run resolves it)? 0, or -ENOENT
 * "image REF has no executable CMD". */
int crun_image_lookup(const char *root, const char *ref, const char *cmd, struct cl_error *err);

/* ROOT when --root is not given: /var/lib/cloudlet for root, else
 * $XDG_DATA_HOME/cloudlet or ~/.local/share/cloudlet. Static storage. */
const char *crun_default_root(void);

/* --------------------------------------------------------------- lifecycle */

enum crun_status { CRUN_CREATED, CRUN_RUNNING, CRUN_STOPPED };

struct crun_info {
	char name[CRUN_NAME_MAX + 1];
	enum crun_status status;
	pid_t pid;                     /* the init shim (host pid), 0 when stopped */
	int exit_status;               /* when stopped; -1 unknown (runtime died) */
	int64_t created;               /* unix seconds */
	bool detached;
	char image[256];
	char command[256];             /* args joined by spaces, cut to fit */
};

const char *crun_status_name(enum crun_status s);
/* Every container under ROOT, sorted by name. *list is malloc'd. */
int crun_list(const char *root, struct crun_info **list, size_t *n, struct cl_error *err);
/* SIGTERM to the container's init, SIGKILL after timeout_ms; returns once
 * its monitor recorded it stopped. Stopping a stopped container is not an error. */
int crun_stop(const char *root, const char *name, uint64_t timeout_ms, struct cl_error *err);
/* Remove a stopped container (force: stop it first with SIGKILL). */
int crun_rm(const char *root, const char *name, bool force, struct cl_error *err);

/* ------------------------------------------------------ pure: values, spec */

/* "0.5" -> quota 50000 us per period 100000 us. Decimal, at most 5 digits
 * after the point; from 0.01 to host_cpus (0: no upper bound). */
int crun_parse_cpus(const char *s, unsigned host_cpus, uint64_t *quota_us,
		    uint64_t *period_us, struct cl_error *err);
/* Memory >= CRUN_MIN_MEMORY, pids >= CRUN_MIN_PIDS (0 = none for both). */
int crun_check_limits(const struct cl_cg_limits *l, struct cl_error *err);
/* [A-Za-z0-9][A-Za-z0-9_.-]*, at most CRUN_NAME_MAX. */
int crun_check_name(const char *name, struct cl_error *err);
/* Hostname: 1..64 characters, letters digits '-' '.', no leading '-'. */
int crun_check_hostname(const char *host, struct cl_error *err);

/* The image's config (same fields as crun/image.h's struct image_config). */
struct crun_image_config {
	char **entrypoint, **cmd, **env;   /* NULL-terminated or NULL */
	char *working_dir, *user;
};

/* What the workload runs with: args = Entrypoint + (CLI cmd or image Cmd);
 * env = image Env, then --env overrides by key, then defaults for PATH,
 * HOSTNAME and (tty) TERM; cwd = WorkingDir or "/"; user = User or "". */
struct crun_process {
	char **args;
	char **env;
	char *cwd;
	char *user;
};

int crun_spec_process(const struct crun_image_config *ic, char *const *cmd, size_t ncmd,
		      const char *const *env, size_t nenv, const char *hostname, bool tty,
		      struct crun_process *p, struct cl_error *err);
void crun_process_free(struct crun_process *p);
/* Set KEY=VALUE in a malloc'd env array unless KEY is present (overwrite: replace). */
int crun_env_set(char ***env, const char *key, const char *value, bool overwrite);

/* Resolve a User field ("", "uid", "uid:gid", "name", "name:group") against
 * the container's /etc/passwd and /etc/group texts (either may be NULL).
 * home gets the passwd home ("/" when unknown), malloc'd. */
int crun_user_resolve(const char *user, const char *passwd, const char *group,
		      uid_t *uid, gid_t *gid, char **home, struct cl_error *err);

/* ------------------------------------------------------ pure: the tables */

/* Namespaces the container gets, in unshare order. */
struct crun_namespace {
	const char *name;              /* as in /proc/PID/ns/ */
	int flag;                      /* CLONE_NEW* */
	bool userns_only;              /* only with a user namespace */
};
extern const struct crun_namespace crun_namespaces[];
extern const size_t crun_namespaces_count;

/* Filesystems mounted in the new root (after pivot_root), in order. */
enum {
	CRUN_M_CGROUP2 = 1 << 0,       /* only when the container has a v2 cgroup */
	CRUN_M_RBIND_USERNS = 1 << 1,  /* in a user namespace, if the kernel refuses
	                                  the mount: bind the host's, read-only */
};
struct crun_mount {
	const char *target;
	const char *fstype;
	const char *source;
	unsigned long flags;           /* MS_* */
	const char *data;
	const char *data_userns;       /* NULL: data (devpts gid=5 is unmapped there) */
	unsigned when;                 /* CRUN_M_* */
};
extern const struct crun_mount crun_default_mounts[];
extern const size_t crun_default_mounts_count;

struct crun_device {
	const char *path;
	unsigned major, minor;         /* character devices, mode 0666 */
};
extern const struct crun_device crun_default_devices[];
extern const size_t crun_default_devices_count;

struct crun_symlink {
	const char *path, *target;
};
extern const struct crun_symlink crun_dev_symlinks[];
extern const size_t crun_dev_symlinks_count;

/* OCI runtime-spec / Docker defaults: masked (tmpfs over a directory,
 * /dev/null over a file) and read-only paths. */
extern const char *const crun_masked_paths[];
extern const size_t crun_masked_paths_count;
extern const char *const crun_readonly_paths[];
extern const size_t crun_readonly_paths_count;

/* Overlay mount data: lowerdir=top:...:bottom (layers[] is bottom first),
 * upperdir, workdir (+ userxattr in a user namespace). Rejects paths with
 * ':' ',' '\\' or a result longer than a page. */
int crun_overlay_data(char *const *layers, size_t nlayers, const char *upper,
		      const char *work, bool userns, char *buf, size_t len,
		      struct cl_error *err);

/* Capabilities: the Docker/moby default set (OCI runtime-spec's example set
 * is a subset). Everything else is dropped from all five sets. */
extern const int crun_default_caps[];
extern const size_t crun_default_caps_count;

/* Seccomp: the default profile, an allowlist in the spirit of Docker's
 * (x86-64 names; anything else fails with EPERM). Rows: cloudlet/seccomp.h. */
extern const struct cl_sc_rule crun_seccomp_default[];
extern const size_t crun_seccomp_default_count;

/* ------------------------------------------------------ pure: cgroups */

/* Device nodes a container may use: "a" denied, then these allowed (OCI
 * default devices, ptys, mknod of anything). v1: devices.allow lines. */
extern const char *const crun_cg_devices_allow[];
extern const size_t crun_cg_devices_allow_count;
/* (v2 has no devices files: cl_cg_devices_prog turns the same rules into
 * an eBPF cgroup-device program.) */

#endif
