/* cgroup v2 (the unified hierarchy with controllers): UNIFIED/PARENT/NAME,
 * memory/cpu/pids enabled down the path through cgroup.subtree_control.
 * v2 has no devices files: device nodes are confined by an eBPF program
 * (cgroup_devices.c) built from the same rules as v1's devices.allow. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cloudlet/cgroup.h"
#include "cloudlet/file.h"

/* ---- ops ---- */

static bool word_in(const char *text, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = text; (p = strstr(p, w)); p += n)
		if ((p == text || p[-1] == ' ' || p[-1] == '\n') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

static int v2_destroy(struct cl_cgroup *cg, struct cl_error *err)
{
	int r = 0;
	if (cg->path[0][0])
		r = cl_cg_rmdir(cg->path[0], "cgroup.kill", err);
	cl_cg_remove_parents(cg, 0);   /* shared: only when empty */
	return r;
}

/* "+memory" etc. into DIR/cgroup.subtree_control for each of `ctrls` */
static int enable(const char *dir, unsigned ctrls, unsigned need, const struct cl_cg_spec *s,
		  struct cl_error *err)
{
	char why[64];
	for (int c = 0; c < CL_CG_DEVICES; c++) {
		char v[32];
		if (!(ctrls & (1u << c)))
			continue;
		snprintf(v, sizeof(v), "+%s", cl_cg_ctrl_names[c]);
		int r = cl_cg_write(dir, "cgroup.subtree_control", v, false, err);
		if (r < 0 && (need & (1u << c)))
			return cl_err_wrap(err, "cgroup v2: enable %s for %s", cl_cg_ctrl_names[c],
					   cl_cg_why(s, c, why, sizeof(why)));
	}
	return 0;
}

/* the controllers enabled in the root and every directory above leaf */
static int enable_down(const char *root, const char *leaf, unsigned ctrls, unsigned need,
		       const struct cl_cg_spec *s, struct cl_error *err)
{
	char dir[PATH_MAX];
	int r = enable(root, ctrls, need, s, err);
	snprintf(dir, sizeof(dir), "%s", leaf);
	for (char *slash = dir + strlen(root) + 1; r == 0 && (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		r = enable(dir, ctrls, need, s, err);
		*slash = '/';
	}
	return r;
}

static int v2_create(struct cl_cgroup *cg, const struct cl_cg_layout *l, const struct cl_cg_spec *s,
		     struct cl_error *err)
{
	struct cl_cg_setting set[CL_CG_MAX_SETTINGS];
	unsigned need = cl_cg_needed(s->limits), avail = 0;
	char path[PATH_MAX], why[64];
	int r;

	memset(cg, 0, sizeof(*cg));
	cg->version = 2;
	snprintf(path, sizeof(path), "%s/cgroup.controllers", l->unified);
	char *text;
	if ((r = cl_text_read(path, 65536, &text, err)) < 0)
		return cl_err_wrap(err, "cgroup v2");
	for (int c = 0; c < CL_CG_DEVICES; c++)
		if (word_in(text, cl_cg_ctrl_names[c]))
			avail |= 1u << c;
	free(text);
	for (int c = 0; c < CL_CG_DEVICES; c++)
		if ((need & (1u << c)) && !(avail & (1u << c)))
			return cl_err(err, ENOENT, "cgroup v2: the %s controller is not available in %s (needed for %s)",
				      cl_cg_ctrl_names[c], l->unified, cl_cg_why(s, c, why, sizeof(why)));
	cl_cg_locate_spec(l, 2, s, cg);
	for (int tries = 0;; tries++) {
		if ((r = cl_cg_make_parents(l->unified, cg, 0, s, err)) < 0 ||
		    (r = enable_down(l->unified, cg->path[0], avail, need, s, err)) < 0)
			goto fail_nodir;
		r = cl_cg_mkdir(cg->path[0], err);
		if (r != -ENOENT || tries == 3)
			break;
	}
	if (r < 0)
		goto fail_nodir;
	int n = cl_cg_settings(2, s->limits, set, CL_CG_MAX_SETTINGS);
	for (int i = 0; i < n; i++)
		if ((r = cl_cg_write(cg->path[0], set[i].file, set[i].value, set[i].optional, err)) < 0)
			goto fail;
	if (s->devices && (r = cl_cg_devices_attach(cg->path[0], s->devices, s->ndevices, err)) < 0)
		goto fail;
	return 0;
fail_nodir:   /* not ours to remove; what was made above it is */
	cl_cg_remove_parents(cg, 0);
	cg->path[0][0] = cg->parent[0][0] = '\0';
fail:
	v2_destroy(cg, NULL);
	return r;
}

static int v2_enter(const struct cl_cgroup *cg, pid_t pid, struct cl_error *err)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	return cl_cg_write(cg->path[0], "cgroup.procs", v, false, err);
}

/* cgroup-v2.rst: cgroup.freeze 1/0; cgroup.events "frozen 1" once done */
static int v2_frozen(const struct cl_cgroup *cg)
{
	char path[PATH_MAX + 16], *t;
	snprintf(path, sizeof(path), "%s/cgroup.events", cg->path[0]);
	if (!cg->path[0][0] || cl_text_read(path, 4096, &t, NULL) < 0)
		return -ENOENT;
	int r = strstr(t, "frozen 1") != NULL;
	free(t);
	return r;
}

static int v2_freeze(const struct cl_cgroup *cg, bool frozen, struct cl_error *err)
{
	int r = cl_cg_write(cg->path[0], "cgroup.freeze", frozen ? "1" : "0", false, err);
	for (int i = 0; r == 0 && i < 500; i++) {
		if (v2_frozen(cg) == frozen)
			return 0;
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return r < 0 ? r : cl_err(err, ETIMEDOUT, "cgroup %s: not %s after 5 s", cg->path[0], frozen ? "frozen" : "thawed");
}

const struct cl_cgroup_ops cl_cgroup_v2_ops = {
	.name = "cgroup v2",
	.version = 2,
	.create = v2_create,
	.enter = v2_enter,
	.destroy = v2_destroy,
	.freeze = v2_freeze,
	.frozen = v2_frozen,
};
