/* cgroups for containers (crun/) and the jailed VMM (vmm/jail/): where the
 * hierarchies are, which version to drive (v1 legacy/hybrid or v2, chosen
 * once per process), the files a set of limits means, and one ops table per
 * version (crun's cgroup-internal.h is the model). A limit whose controller
 * is missing is an error naming what needed it, never a silent no-limit.
 * Pure parts (layout, settings, device program) are unit-tested. */
#ifndef CLOUDLET_CGROUP_H
#define CLOUDLET_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cloudlet/error.h"

/* FREEZER: v1 only (v2 has cgroup.freeze in every cgroup); made when mounted */
enum cl_cg_ctrl { CL_CG_MEMORY, CL_CG_CPU, CL_CG_PIDS, CL_CG_DEVICES, CL_CG_FREEZER, CL_CG_NCTRL };
extern const char *const cl_cg_ctrl_names[CL_CG_NCTRL];

struct cl_cg_limits {
	uint64_t memory;         /* bytes; 0: no limit */
	uint64_t cpu_quota_us;   /* per cpu_period_us; 0: no limit */
	uint64_t cpu_period_us;
	uint64_t pids;           /* 0: no limit */
};

/* Where the hierarchies are mounted, from /proc/self/mountinfo. */
struct cl_cg_layout {
	char unified[256];                   /* cgroup2 mount point, "" if none */
	char v1[CL_CG_NCTRL][256];           /* v1 mount point per controller, "" if none */
};
int cl_cg_layout_parse(const char *mountinfo, struct cl_cg_layout *l, struct cl_error *err);
/* 1 when any of memory/cpu/pids sits in a v1 hierarchy (hybrid or legacy:
 * a controller lives in one hierarchy only), else 2 when cgroup2 is
 * mounted; -ENOENT when neither. */
int cl_cg_version(const struct cl_cg_layout *l);

/* One file write into a cgroup. */
struct cl_cg_setting {
	enum cl_cg_ctrl ctrl;
	const char *file;
	char value[64];
	bool optional;                       /* skip when the file does not exist */
};
#define CL_CG_MAX_SETTINGS 16
/* The files and values for these limits, in write order; returns the count. */
int cl_cg_settings(int version, const struct cl_cg_limits *l, struct cl_cg_setting *out,
		   size_t max);
/* The controllers these limits need: a bit per enum cl_cg_ctrl. */
unsigned cl_cg_needed(const struct cl_cg_limits *l);
/* v2 has no devices files: device rules ("c 1:3 rwm", "b *:* m") as an
 * eBPF cgroup-device program (struct bpf_insn, 8 bytes each) into
 * insns[max]; returns the count. */
int cl_cg_devices_prog(const char *const *rules, size_t nrules, uint64_t *insns, size_t max,
		       struct cl_error *err);

/* ---- one cgroup, made by an ops table ---- */

struct cl_cgroup {
	int version;                             /* 1 or 2; 0: none */
	char path[CL_CG_NCTRL][PATH_MAX];        /* v1: dir per controller ("" unused); v2: path[0] */
	char parent[CL_CG_NCTRL][PATH_MAX];      /* the topmost dir above path that is removed, with
	                                            those between, when empty: the shared parent
	                                            ("cloudlet"), or for a spec's path the first
	                                            one create made ("": none) */
};

/* What a cgroup is made for. */
struct cl_cg_spec {
	const char *parent;                      /* shared dir under each hierarchy ("cloudlet") */
	const char *name;                        /* this cgroup, under parent */
	const char *path;                        /* else: this path under each hierarchy's root (an
	                                            OCI cgroupsPath: absolute, no "." or ".."),
	                                            the directories above it made as needed */
	const struct cl_cg_limits *limits;
	const char *const *devices;              /* NULL: devices not confined; else every device */
	size_t ndevices;                         /* denied but these rules (v1 devices.allow lines) */
	const char *const *why;                  /* [CL_CG_NCTRL] what needs each limit, for errors
	                                            ("--memory"); NULL: "a NAME limit" */
};

struct cl_cgroup_ops {
	const char *name;
	int version;
	/* mkdir the cgroup(s) and write the limits; on failure nothing is left */
	int (*create)(struct cl_cgroup *cg, const struct cl_cg_layout *l, const struct cl_cg_spec *s,
		      struct cl_error *err);
	/* move pid (0: the caller) into it */
	int (*enter)(const struct cl_cgroup *cg, pid_t pid, struct cl_error *err);
	/* kill what is left, rmdir (retrying while the kernel lets go) */
	int (*destroy)(struct cl_cgroup *cg, struct cl_error *err);
	/* freeze (or thaw) every process in it; returns once they are */
	int (*freeze)(const struct cl_cgroup *cg, bool frozen, struct cl_error *err);
	/* 1 frozen, 0 not, <0 no freezer */
	int (*frozen)(const struct cl_cgroup *cg);
};
extern const struct cl_cgroup_ops cl_cgroup_v1_ops, cl_cgroup_v2_ops;

/* Where PARENT/NAME is (or would be) in each hierarchy of this version, with
 * no syscall: what create makes and what destroy removes, so a cgroup whose
 * maker died (crash recovery) can be destroyed by name. v1 fills every
 * controller that is mounted; *cg is zeroed first. */
void cl_cg_locate(const struct cl_cg_layout *l, int version, const char *parent, const char *name,
		  struct cl_cgroup *cg);

/* cl_cg_locate for a spec: its path under each hierarchy (parent[] left
 * empty for create to fill), or PARENT/NAME. */
void cl_cg_locate_spec(const struct cl_cg_layout *l, int version, const struct cl_cg_spec *s,
		       struct cl_cgroup *cg);
/* "/a/b/c" is a cgroup path create accepts: absolute, no empty, "." or
 * ".." component, shorter than 200 bytes */
bool cl_cg_path_valid(const char *path);

/* The ops for this machine (reads /proc/self/mountinfo once). */
int cl_cgroup_ops_get(const struct cl_cgroup_ops **ops, struct cl_cg_layout *l,
		      struct cl_error *err);
const struct cl_cgroup_ops *cl_cgroup_ops_for(int version);

/* helpers for the ops */
int cl_cg_write(const char *dir, const char *file, const char *value, bool optional,
		struct cl_error *err);
int cl_cg_mkdir(const char *path, struct cl_error *err);
int cl_cg_rmdir(const char *path, const char *kill_file, struct cl_error *err);
/* the directories between the hierarchy root mnt and cg->path[c]: the
 * shared parent made if missing, or for a spec's path each missing one,
 * the topmost recorded in cg->parent[c] (the shared parent when the path
 * lies under it) */
int cl_cg_make_parents(const char *mnt, struct cl_cgroup *cg, int c, const struct cl_cg_spec *s,
		       struct cl_error *err);
/* rmdir the directories above cg->path[c] up to cg->parent[c], while empty */
void cl_cg_remove_parents(const struct cl_cgroup *cg, int c);
/* v2: load cl_cg_devices_prog(rules) and attach it to the cgroup at path */
int cl_cg_devices_attach(const char *path, const char *const *rules, size_t nrules,
			 struct cl_error *err);
/* "needed for --memory" or "needed for a memory limit", for error messages */
const char *cl_cg_why(const struct cl_cg_spec *s, int ctrl, char *buf, size_t len);

#endif
