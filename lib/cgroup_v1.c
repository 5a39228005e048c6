/* cgroup v1 (legacy or hybrid hierarchies): one directory per controller
 * hierarchy, HIERARCHY/PARENT/NAME, for memory, cpu, pids and (when the
 * spec lists device rules) devices. A controller a limit needs but that is
 * not mounted is an error, never a silent no-limit. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudlet/cgroup.h"
#include "cloudlet/file.h"

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
		cl_cg_remove_parents(cg, c);   /* shared with siblings: only when empty */
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

	cl_cg_locate_spec(l, 1, s, cg);
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
			/* the freezer is optional: only pause needs it */
		}
	}
	for (int c = 0; c < CL_CG_NCTRL; c++) {
		if (!first_of(cg, c))
			continue;
		/* a concurrent teardown may remove the shared parent between the two mkdirs */
		for (int tries = 0;; tries++) {
			if ((r = cl_cg_make_parents(l->v1[c], cg, c, s, err)) < 0)
				goto fail;
			r = cl_cg_mkdir(cg->path[c], err);
			if (r != -ENOENT || tries == 3)
				break;
		}
		if (r < 0) {   /* not ours to remove; what was made above it is */
			cl_cg_remove_parents(cg, c);
			cg->path[c][0] = cg->parent[c][0] = '\0';
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

/* freezer-subsystem.rst: freezer.state FROZEN/THAWED; FREEZING until done */
static int v1_frozen(const struct cl_cgroup *cg)
{
	char path[PATH_MAX + 16], *t;
	if (!cg->path[CL_CG_FREEZER][0])
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/freezer.state", cg->path[CL_CG_FREEZER]);
	if (cl_text_read(path, 64, &t, NULL) < 0)
		return -ENOENT;
	int r = !strncmp(t, "FROZEN", 6);
	free(t);
	return r;
}

static int v1_freeze(const struct cl_cgroup *cg, bool frozen, struct cl_error *err)
{
	if (!cg->path[CL_CG_FREEZER][0])
		return cl_err(err, ENOTSUP, "cgroup v1: the freezer controller is not mounted");
	for (int i = 0; i < 500; i++) {
		int r = cl_cg_write(cg->path[CL_CG_FREEZER], "freezer.state", frozen ? "FROZEN" : "THAWED", false, err);
		if (r < 0)
			return r;
		if (v1_frozen(cg) == frozen)
			return 0;
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return cl_err(err, ETIMEDOUT, "cgroup %s: not %s after 5 s", cg->path[CL_CG_FREEZER], frozen ? "frozen" : "thawed");
}

const struct cl_cgroup_ops cl_cgroup_v1_ops = {
	.name = "cgroup v1",
	.version = 1,
	.create = v1_create,
	.enter = v1_enter,
	.destroy = v1_destroy,
	.freeze = v1_freeze,
	.frozen = v1_frozen,
};
