/* cgroup v1 (legacy or hybrid hierarchies): one directory per controller
 * hierarchy, HIERARCHY/cloudlet/NAME, for memory, cpu, pids and devices.
 * A controller a limit needs but that is not mounted is an error, never a
 * silent no-limit. The devices cgroup confines device nodes to the OCI
 * defaults (the default capabilities include CAP_MKNOD). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

const char *const crun_cg_devices_allow[] = {
	"c *:* m",        /* mknod of any node; using it is another matter */
	"b *:* m",
	"c 1:3 rwm",      /* null */
	"c 1:5 rwm",      /* zero */
	"c 1:7 rwm",      /* full */
	"c 1:8 rwm",      /* random */
	"c 1:9 rwm",      /* urandom */
	"c 5:0 rwm",      /* tty */
	"c 5:1 rwm",      /* console */
	"c 5:2 rwm",      /* ptmx */
	"c 136:* rwm",    /* pts */
};
const size_t crun_cg_devices_allow_count = sizeof(crun_cg_devices_allow) / sizeof(crun_cg_devices_allow[0]);

static const char *const limit_flag[CRUN_CG_NCTRL] = {
	[CRUN_CG_MEMORY] = "--memory",
	[CRUN_CG_CPU] = "--cpus",
	[CRUN_CG_PIDS] = "--pids",
};

/* controllers can share a hierarchy (cpu,cpuacct): act on each dir once */
static bool first_of(const struct ct_cgroup *cg, int c)
{
	if (!cg->path[c][0])
		return false;
	for (int k = 0; k < c; k++)
		if (!strcmp(cg->path[k], cg->path[c]))
			return false;
	return true;
}

static int v1_destroy(struct ct_cgroup *cg, struct cl_error *err)
{
	int r = 0;
	for (int c = 0; c < CRUN_CG_NCTRL; c++) {
		if (!first_of(cg, c))
			continue;
		int e = ct_cg_rmdir(cg->path[c], NULL, r ? NULL : err);
		if (e < 0 && !r)
			r = e;
		rmdir(cg->parent[c]);   /* shared by all containers: only when empty */
	}
	return r;
}

static int v1_create(struct ct_cgroup *cg, const struct crun_cg_layout *l, const char *name,
		     const struct crun_limits *lim, bool devices, struct cl_error *err)
{
	struct crun_cg_setting set[CRUN_CG_MAX_SETTINGS];
	unsigned need = crun_cg_needed(lim);
	int r = 0;

	memset(cg, 0, sizeof(*cg));
	cg->version = 1;
	for (int c = 0; c < CRUN_CG_NCTRL; c++) {
		if (c == CRUN_CG_DEVICES && !devices)
			continue;
		if (!l->v1[c][0]) {
			if (need & (1u << c))
				return cl_err(err, ENOENT, "cgroup v1: the %s controller is not mounted (needed for %s)",
					      crun_cg_ctrl_names[c], limit_flag[c]);
			if (c == CRUN_CG_DEVICES)
				return cl_err(err, ENOENT, "cgroup v1: the devices controller is not mounted (needed to confine device nodes)");
			continue;
		}
		snprintf(cg->parent[c], sizeof(cg->parent[c]), "%s/cloudlet", l->v1[c]);
		snprintf(cg->path[c], sizeof(cg->path[c]), "%s/cloudlet/%s", l->v1[c], name);
	}
	for (int c = 0; c < CRUN_CG_NCTRL; c++) {
		if (!first_of(cg, c))
			continue;
		/* a concurrent teardown may remove the shared parent between the two mkdirs */
		for (int tries = 0;; tries++) {
			if (mkdir(cg->parent[c], 0755) < 0 && errno != EEXIST) {
				r = cl_err_sys(err, errno, "create cgroup %s", cg->parent[c]);
				goto fail;
			}
			r = ct_cg_mkdir(cg->path[c], err);
			if (r != -ENOENT || tries == 3)
				break;
		}
		if (r < 0) {
			cg->path[c][0] = '\0';   /* not ours to remove */
			goto fail;
		}
	}
	int n = crun_cg_settings(1, lim, set, CRUN_CG_MAX_SETTINGS);
	for (int i = 0; i < n; i++)
		if ((r = ct_cg_write(cg->path[set[i].ctrl], set[i].file, set[i].value,
				     set[i].optional, err)) < 0)
			goto fail;
	if (cg->path[CRUN_CG_DEVICES][0]) {
		if ((r = ct_cg_write(cg->path[CRUN_CG_DEVICES], "devices.deny", "a", false, err)) < 0)
			goto fail;
		for (size_t i = 0; i < crun_cg_devices_allow_count; i++)
			if ((r = ct_cg_write(cg->path[CRUN_CG_DEVICES], "devices.allow",
					     crun_cg_devices_allow[i], false, err)) < 0)
				goto fail;
	}
	return 0;
fail:
	v1_destroy(cg, NULL);
	return r;
}

static int v1_enter(const struct ct_cgroup *cg, pid_t pid, struct cl_error *err)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	for (int c = 0; c < CRUN_CG_NCTRL; c++) {
		if (!first_of(cg, c))
			continue;
		int r = ct_cg_write(cg->path[c], "cgroup.procs", v, false, err);
		if (r < 0)
			return r;
	}
	return 0;
}

const struct ct_cgroup_ops ct_cgroup_v1_ops = {
	.name = "cgroup v1",
	.version = 1,
	.create = v1_create,
	.enter = v1_enter,
	.destroy = v1_destroy,
};
