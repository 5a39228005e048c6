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
#define CRUN_ID_MAX 128                 /* an OCI container id (podman's are 64 hex) */
#define CRUN_MIN_MEMORY (6ull << 20)    /* Docker's minimum */
#define CRUN_MIN_PIDS 2                 /* the init shim and the workload */
#define CRUN_CPU_PERIOD_US 100000ull    /* CFS period, as Docker */
#define CRUN_MIN_CPU_QUOTA_US 1000ull   /* the kernel's minimum (1 ms) */
#define CRUN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---------------------------------------------------------------- running */

enum crun_seccomp_mode { CRUN_SECCOMP_DEFAULT, CRUN_SECCOMP_UNCONFINED };
struct crun_seccomp;

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
	const struct crun_seccomp *seccomp_profile;   /* DEFAULT: this one (a bundle's)
	                                                 instead of the built-in table */
	int preserve_fds;              /* OCI --preserve-fds: fds 3..3+N-1 kept */
	bool rootless;                 /* user namespace (also implied when not root) */
	bool tty;                      /* a pty on the container's stdio */
	bool detach;                   /* run under a monitor, stdout/stderr to
	                                  ROOT/ct/NAME/log; return once started */
	const char *const *nets;       /* "VPC/SUBNET": eth0, eth1, ... (net_attach) */
	size_t nnets;
	const char *const *sgs;        /* security groups of those NICs (none: "default") */
	size_t nsgs;
	const char *host;              /* net/sdn/: the overlay host the NICs are on (NULL: here) */
	uint32_t rate_mbit;            /* net/sdn/: limit traffic to each NIC (0: none) */
};

struct crun_run_result {
	char name[CRUN_ID_MAX + 1];
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

/* PAUSED: running, its cgroup frozen (`cloudlet-runtime pause`; runc's status) */
enum crun_status { CRUN_CREATED, CRUN_RUNNING, CRUN_STOPPED, CRUN_PAUSED };

struct crun_info {
	char name[CRUN_ID_MAX + 1];
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
/* An OCI runtime's container id: the same characters, at most CRUN_ID_MAX. */
int crun_check_id(const char *id, struct cl_error *err);
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

/* A bundle's linux.seccomp (config-linux.md "Seccomp"), crun/seccomp_oci.c.
 * Actions are libseccomp's (SCMP_ACT_ERRNO/TRACE with errnoRet folded in). */
#define CRUN_SC_MAX_ARGS 6
#define CRUN_SC_MAX_ARCHES 16
enum { CRUN_SC_FLAG_TSYNC = 1, CRUN_SC_FLAG_LOG = 2, CRUN_SC_FLAG_SPEC_ALLOW = 4 };
struct crun_sc_name { const char *name; uint32_t value; };
extern const struct crun_sc_name crun_sc_actions[], crun_sc_ops[], crun_sc_flags[];
extern const size_t crun_sc_actions_count, crun_sc_ops_count, crun_sc_flags_count;
struct crun_sc_arg {
	unsigned index;                /* 0..5 */
	enum scmp_compare op;
	uint64_t value, value_two;     /* MASKED_EQ: (arg & value) == value_two */
};
struct crun_sc_rule {
	char **names;                  /* NULL-terminated */
	uint32_t action;
	struct crun_sc_arg args[CRUN_SC_MAX_ARGS];
	size_t nargs;
};
struct crun_seccomp {
	uint32_t default_action;
	uint32_t arches[CRUN_SC_MAX_ARCHES];   /* libseccomp tokens, beside the native one */
	size_t narches;
	struct crun_sc_rule *rules;
	size_t nrules;
	uint32_t flags;                /* CRUN_SC_FLAG_* */
};
struct json_object;
/* *out is allocated even on failure (free it with crun_seccomp_free) */
int crun_seccomp_parse(struct json_object *o, struct crun_seccomp **out, struct cl_error *err);
void crun_seccomp_free(struct crun_seccomp *p);
/* "SCMP_ARCH_X86_64" -> SCMP_ARCH_X86_64's token; 0: unknown */
uint32_t crun_sc_arch(const char *name);
/* a libseccomp filter for p (not loaded): *out to seccomp_release */
int crun_seccomp_compile(const struct crun_seccomp *p, scmp_filter_ctx *out, struct cl_error *err);

/* ------------------------------------------------------ pure: cgroups */

/* Device nodes a container may use: "a" denied, then these allowed (OCI
 * default devices, ptys, mknod of anything). v1: devices.allow lines. */
extern const char *const crun_cg_devices_allow[];
extern const size_t crun_cg_devices_allow_count;
/* (v2 has no devices files: cl_cg_devices_prog turns the same rules into
 * an eBPF cgroup-device program.) */

/* ------------------------------------------------- OCI bundles (oci.c) */

/* A bundle's config.json (runtime-spec config.md, config-linux.md),
 * parsed into what the runtime's one code path takes: the same process,
 * namespaces, mounts, cgroup limits, capabilities and seccomp profile that
 * `ct run` derives from an image. crun_bundle_parse is pure. */
#define CRUN_OCI_VERSION "1.1.0"        /* the spec version we implement */
#define CRUN_BUNDLE_MAX_NS 8

enum crun_hook_kind {
	CRUN_HOOK_PRESTART, CRUN_HOOK_CREATE_RUNTIME, CRUN_HOOK_CREATE_CONTAINER,
	CRUN_HOOK_START_CONTAINER, CRUN_HOOK_POSTSTART, CRUN_HOOK_POSTSTOP, CRUN_HOOK_NKINDS
};
extern const char *const crun_hook_names[CRUN_HOOK_NKINDS];   /* config.md: "prestart"... */

struct crun_hook {
	char *path;
	char **args;                   /* NULL-terminated, may be NULL */
	char **env;
	int timeout;                   /* seconds, 0: none */
};

struct crun_rlimit {
	int resource;                  /* RLIMIT_* */
	uint64_t soft, hard;
};
#define CRUN_BUNDLE_MAX_RLIMITS 16

struct crun_bundle_ns {
	int flag;                      /* CLONE_NEW* */
	char *path;                    /* NULL: a new one; else setns(2) into it */
};

struct crun_bundle {
	char *oci_version;
	char *rootfs;                  /* absolute */
	bool rootfs_readonly;
	char *hostname;                /* NULL: unchanged */
	bool terminal;
	struct crun_process proc;      /* user is "UID:GID" */
	int *caps;                     /* process.capabilities.bounding */
	size_t ncaps;
	struct crun_rlimit rlimits[CRUN_BUNDLE_MAX_RLIMITS];   /* process.rlimits */
	size_t nrlimits;
	struct crun_seccomp *seccomp;  /* linux.seccomp (NULL: none, unconfined) */
	struct crun_bundle_ns ns[CRUN_BUNDLE_MAX_NS];
	size_t nns;
	struct crun_mount *mounts;     /* strings owned */
	size_t nmounts;
	char **masked, **readonly;     /* NULL-terminated */
	struct cl_cg_limits limits;
	char *cgroups_path;            /* linux.cgroupsPath (cgroupfs form), NULL: ours */
	char *annotations;             /* JSON object text ("{}" when none) */
	struct crun_hook *hooks[CRUN_HOOK_NKINDS];
	size_t nhooks[CRUN_HOOK_NKINDS];
};

/* bundle_dir resolves a relative root.path. Refuses an ociVersion whose
 * major is not 1, a missing process or root, unknown namespace types. */
int crun_bundle_parse(const char *json, const char *bundle_dir, struct crun_bundle *b,
		      struct cl_error *err);
void crun_bundle_free(struct crun_bundle *b);
/* `exec --process`: a process object (config.md "process") replacing b's
 * process, terminal and capabilities */
int crun_process_parse(const char *json, struct crun_bundle *b, struct cl_error *err);
/* A mount's options array ("ro", "nosuid", "rbind", "mode=755"...) as
 * mount(2) flags and data (the unknown ones, comma-joined). */
int crun_mount_options(const char *const *opts, size_t n, unsigned long *flags, char *data,
		       size_t len, struct cl_error *err);
/* `spec`: runc's default config.json from this runtime's tables (malloc'd). */
char *crun_spec_default(bool rootless);
/* `features`: features.md's JSON (malloc'd). */
char *crun_features(void);

/* ------------------------------------------- the OCI lifecycle (oci.c) */

struct crun_oci_create_opts {
	const char *root;
	const char *id;
	const char *bundle;            /* directory holding config.json */
	const char *pid_file;          /* NULL: none */
	const char *console_socket;    /* terminal: the pty master goes there */
	bool keep_subreaper;           /* `run`: the caller waits for the init */
	int preserve_fds;              /* runc's --preserve-fds: our fds 3..3+N-1 stay open,
	                                  the same numbers, in the container's process */
};

struct crun_oci_state {
	char id[CRUN_ID_MAX + 1];
	enum crun_status status;
	pid_t pid;                     /* 0 when stopped */
	char bundle[PATH_MAX];
	char *annotations;             /* JSON text, malloc'd */
	int64_t created;
};

int crun_oci_create(const struct crun_oci_create_opts *o, pid_t *pid, struct cl_error *err);
int crun_oci_start(const char *root, const char *id, struct cl_error *err);
int crun_oci_state(const char *root, const char *id, struct crun_oci_state *s,
		   struct cl_error *err);
void crun_oci_state_free(struct crun_oci_state *s);
/* state.md's JSON for s (malloc'd) */
char *crun_oci_state_json(const struct crun_oci_state *s);
/* the container's processes (host pids), from its cgroup; *pids malloc'd */
int crun_oci_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct cl_error *err);
struct crun_oci_exec_opts {
	const char *root;
	const char *id;
	const char *process;           /* a process.json path, or NULL: args */
	char *const *args;             /* with the container's own process otherwise */
	size_t nargs;
	bool tty;                      /* with args: a terminal */
	bool detach;                   /* return once it runs (else wait: its status) */
	const char *pid_file;
	const char *console_socket;
};
/* Run another process in a running container: its namespaces, cgroup,
 * and the same workload setup (caps, user, no_new_privs, seccomp) as its
 * first process. Returns its pid (detach) or its exit status. */
int crun_oci_exec(const struct crun_oci_exec_opts *o, int *status, struct cl_error *err);
/* Freeze (pause) or thaw (resume) a running container's cgroup. */
int crun_oci_pause(const char *root, const char *id, bool pause, struct cl_error *err);
int crun_oci_kill(const char *root, const char *id, int sig, bool all, struct cl_error *err);
int crun_oci_delete(const char *root, const char *id, bool force, struct cl_error *err);
/* "TERM", "SIGTERM", "15" -> 15 */
int crun_signal_parse(const char *s, int *sig, struct cl_error *err);

#endif
