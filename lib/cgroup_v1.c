/* cgroup v1 (legacy or hybrid hierarchies): one directory per controller
 * hierarchy, HIERARCHY/PARENT/NAME, for memory, cpu, pids and (when the
 * spec lists device rules) devices. A controller a limit needs but that is
 * not mounted is an error, never a silent no-limit. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudlet/cgroup.h"

/* controllers can share a hierarchy (cpu,cpuacct): act on each dir once */
static bool first_of(const struct cl_cgroup *cg, int c)
{
	if (!cg->path[c][0])
		return false;
	for (int k = 0; k < c; k++)
		if (!strcmp(cg->path[k], cg->path[c]))
			return false;
	return true;
}

static int v1_destroy(struct cl_cgroup *cg, struct cl_error *err)
{
	int r = 0;
	for (int c = 0; c < CL_CG_NCTRL; c++) {
		if (!first_of(cg, c))
			continue;
		int e = cl_cg_rmdir(cg->path[c], NULL, r ? NULL : err);
		if (e < 0 && !r)
			r = e;
		rmdir(cg->parent[c]);   /* shared with its siblings: only when empty */
	}
	return r;
}

static int v1_create(struct cl_cgroup *cg, const struct cl_cg_layout *l, const struct cl_cg_spec *s,
		     struct cl_error *err)
{
	struct cl_cg_setting set[CL_CG_MAX_SETTINGS];
	unsigned need = cl_cg_needed(s->limits);
	bool devices = s->devices != NULL;
	char why[64];
	int r = 0;

	cl_cg_locate(l, 1, s->parent, s->name, cg);
	for (int c = 0; c < CL_CG_NCTRL; c++) {
		if (c == CL_CG_DEVICES && !devices) {
			cg->path[c][0] = cg->parent[c][0] = '\0';
			continue;
		}
		if (!l->v1[c][0]) {
			if (need & (1u << c))
				return cl_err(err, ENOENT, "cgroup v1: the %s controller is not mounted (needed for %s)",
					      cl_cg_ctrl_names[c], cl_cg_why(s, c, why, sizeof(why)));
			if (c == CL_CG_DEVICES)
				return cl_err(err, ENOENT, "cgroup v1: the devices controller is not mounted (needed to confine device nodes)");
		}
	}
	for (int c = 0; c < CL_CG_NCTRL; c++) {
		if (!first_of(cg, c))
			continue;
		/* a concurrent teardown may remove the shared parent between the two mkdirs */
		for (int tries = 0;; tries++) {
			if (mkdir(cg->parent[c], 0755) < 0 && errno != EEXIST) {
				r = cl_err_sys(err, errno, "create cgroup %s", cg->parent[c]);
				goto fail;
			}
			r = cl_cg_mkdir(cg->path[c], err);
			if (r != -ENOENT || tries == 3)
				break;
		}
		if (r < 0) {
			cg->path[c][0] = '\0';   /* not ours to remove */
			goto fail;
		}
	}
	int n = cl_cg_settings(1, s->limits, set, CL_CG_MAX_SETTINGS);
	for (int i = 0; i < n; i++)
		if ((r = cl_cg_write(cg->path[set[i].ctrl], set[i].file, set[i].value,
				     set[i].optional, err)) < 0)
			goto fail;
	if (cg->path[CL_CG_DEVICES][0]) {
		if ((r = cl_cg_write(cg->path[CL_CG_DEVICES], "devices.deny", "a", false, err)) < 0)
			goto fail;
		for (size_t i = 0; i < s->ndevices; i++)
			if ((r = cl_cg_write(cg->path[CL_CG_DEVICES], "devices.allow",
					     s->devices[i], false, err)) < 0)
				goto fail;
	}
	return 0;
fail:
	v1_destroy(cg, NULL);
	return r;
}

static int v1_enter(const struct cl_cgroup *cg, pid_t pid, struct cl_error *err)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	for (int c = 0; c < CL_CG_NCTRL; c++) {
		if (!first_of(cg, c))
			continue;
		int r = cl_cg_write(cg->path[c], "cgroup.procs", v, false, err);
		if (r < 0)
			return r;
	}
	return 0;
}

const struct cl_cgroup_ops cl_cgroup_v1_ops = {
	.name = "cgroup v1",
	.version = 1,
	.create = v1_create,
	.enter = v1_enter,
	.destroy = v1_destroy,
};
