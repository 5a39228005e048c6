/* cgroups, the version-independent part: where the hierarchies are (from
 * mountinfo), which version to drive (chosen once per process), the files
 * and values a set of limits means, and the file helpers both ops tables
 * use. The ops themselves: cgroup_v1.c, cgroup_v2.c (see cloudlet/cgroup.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cloudlet/cgroup.h"
#include "cloudlet/file.h"

const char *const cl_cg_ctrl_names[CL_CG_NCTRL] = {
	[CL_CG_MEMORY] = "memory",
	[CL_CG_CPU] = "cpu",
	[CL_CG_PIDS] = "pids",
	[CL_CG_DEVICES] = "devices",
	[CL_CG_FREEZER] = "freezer",
};

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static bool has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);
	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (len == n && !strncmp(p, tok, n))
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

int cl_cg_layout_parse(const char *mountinfo, struct cl_cg_layout *l,
			 struct cl_error *err)
{
	memset(l, 0, sizeof(*l));
	for (const char *line = mountinfo; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[4096], *f[32];
		int nf = 0, dash = -1;
		if (len >= sizeof(buf))
			return cl_err(err, E2BIG, "mountinfo line too long");
		memcpy(buf, line, len);
		buf[len] = '\0';
		for (char *save, *t = strtok_r(buf, " ", &save); t && nf < 32; t = strtok_r(NULL, " ", &save)) {
			if (dash < 0 && !strcmp(t, "-"))
				dash = nf;
			f[nf++] = t;
		}
		line = end ? end + 1 : NULL;
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS */
		if (dash < 6 || nf < dash + 4)
			continue;
		char *mnt = f[4], *fstype = f[dash + 1], *super = f[dash + 3];
		unescape(mnt);
		if (strlen(mnt) >= sizeof(l->unified))
			continue;
		if (!strcmp(fstype, "cgroup2")) {
			if (!l->unified[0])
				strcpy(l->unified, mnt);
		} else if (!strcmp(fstype, "cgroup")) {
			for (int c = 0; c < CL_CG_NCTRL; c++)
				if (!l->v1[c][0] && has_token(super, cl_cg_ctrl_names[c]))
					strcpy(l->v1[c], mnt);
		}
	}
	return 0;
}

int cl_cg_version(const struct cl_cg_layout *l)
{
	if (l->v1[CL_CG_MEMORY][0] || l->v1[CL_CG_CPU][0] || l->v1[CL_CG_PIDS][0])
		return 1;
	return l->unified[0] ? 2 : -ENOENT;
}

unsigned cl_cg_needed(const struct cl_cg_limits *l)
{
	return (l->memory ? 1u << CL_CG_MEMORY : 0) |
	       (l->cpu_quota_us ? 1u << CL_CG_CPU : 0) |
	       (l->pids ? 1u << CL_CG_PIDS : 0);
}

int cl_cg_settings(int version, const struct cl_cg_limits *l,
		     struct cl_cg_setting *out, size_t max)
{
	/* file names per version; swap is limited to nothing: the memory
	 * limit is the limit (optional: absent without swap accounting) */
	static const struct {
		const char *mem, *memswap, *swap_value, *cpu_period, *cpu_quota, *cpu_max, *pids;
	} files[3] = {
		[1] = { "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", NULL,
			"cpu.cfs_period_us", "cpu.cfs_quota_us", NULL, "pids.max" },
		[2] = { "memory.max", "memory.swap.max", "0", NULL, NULL, "cpu.max", "pids.max" },
	};
	size_t n = 0;
#define ADD(c, f, opt, ...) do { \
		if (n < max) { \
			out[n].ctrl = (c); \
			out[n].file = (f); \
			out[n].optional = (opt); \
			snprintf(out[n].value, sizeof(out[n].value), __VA_ARGS__); \
		} \
		n++; \
	} while (0)
	if (version != 1 && version != 2)
		return -EINVAL;
	if (l->memory) {
		ADD(CL_CG_MEMORY, files[version].mem, false, "%" PRIu64, l->memory);
		if (files[version].swap_value)
			ADD(CL_CG_MEMORY, files[version].memswap, true, "%s", files[version].swap_value);
		else   /* v1 memsw counts memory+swap: equal to the limit means no swap */
			ADD(CL_CG_MEMORY, files[version].memswap, true, "%" PRIu64, l->memory);
	}
	if (l->cpu_quota_us) {
		if (files[version].cpu_max) {
			ADD(CL_CG_CPU, files[version].cpu_max, false, "%" PRIu64 " %" PRIu64,
			    l->cpu_quota_us, l->cpu_period_us);
		} else {
			ADD(CL_CG_CPU, files[version].cpu_period, false, "%" PRIu64, l->cpu_period_us);
			ADD(CL_CG_CPU, files[version].cpu_quota, false, "%" PRIu64, l->cpu_quota_us);
		}
	}
	if (l->pids)
		ADD(CL_CG_PIDS, files[version].pids, false, "%" PRIu64, l->pids);
#undef ADD
	return n > max ? -E2BIG : (int)n;
}

void cl_cg_locate(const struct cl_cg_layout *l, int version, const char *parent, const char *name,
		  struct cl_cgroup *cg)
{
	memset(cg, 0, sizeof(*cg));
	cg->version = version;
	for (int c = 0; c < CL_CG_NCTRL; c++) {
		const char *mnt = version == 2 ? (c == 0 ? l->unified : "") : l->v1[c];
		if (!mnt[0])
			continue;
		snprintf(cg->parent[c], sizeof(cg->parent[c]), "%s/%s", mnt, parent);
		snprintf(cg->path[c], sizeof(cg->path[c]), "%s/%s/%s", mnt, parent, name);
	}
}

void cl_cg_locate_spec(const struct cl_cg_layout *l, int version, const struct cl_cg_spec *s,
		       struct cl_cgroup *cg)
{
	if (!s->path) {
		cl_cg_locate(l, version, s->parent, s->name, cg);
		return;
	}
	memset(cg, 0, sizeof(*cg));
	cg->version = version;
	for (int c = 0; c < CL_CG_NCTRL; c++) {
		const char *mnt = version == 2 ? (c == 0 ? l->unified : "") : l->v1[c];
		if (mnt[0])
			snprintf(cg->path[c], sizeof(cg->path[c]), "%s%s", mnt, s->path);
	}
}

bool cl_cg_path_valid(const char *path)
{
	if (!path || path[0] != '/' || strlen(path) >= 200)
		return false;
	for (const char *p = path; *p == '/'; ) {
		const char *e = strchrnul(p + 1, '/');
		size_t n = (size_t)(e - p - 1);
		if (n == 0 || (n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
			return false;
		p = e;
	}
	return true;
}

/* ---- chosen once ---- */

const struct cl_cgroup_ops *cl_cgroup_ops_for(int version)
{
	return version == 1 ? &cl_cgroup_v1_ops : version == 2 ? &cl_cgroup_v2_ops : NULL;
}

int cl_cgroup_ops_get(const struct cl_cgroup_ops **ops, struct cl_cg_layout *l,
		      struct cl_error *err)
{
	static const struct cl_cgroup_ops *chosen;
	static struct cl_cg_layout layout;
	if (!chosen) {
		char *text;
		int r = cl_text_read("/proc/self/mountinfo", 1 << 22, &text, err);
		if (r < 0)
			return r;
		r = cl_cg_layout_parse(text, &layout, err);
		free(text);
		if (r < 0)
			return r;
		int v = cl_cg_version(&layout);
		if (v < 0)
			return cl_err(err, ENOENT, "no cgroup hierarchy is mounted (neither cgroup2 nor v1 memory/cpu/pids)");
		chosen = cl_cgroup_ops_for(v);
	}
	*ops = chosen;
	*l = layout;
	return 0;
}

/* ---- file helpers ---- */

const char *cl_cg_why(const struct cl_cg_spec *s, int ctrl, char *buf, size_t len)
{
	if (s->why && s->why[ctrl])
		snprintf(buf, len, "%s", s->why[ctrl]);
	else
		snprintf(buf, len, "a %s limit", cl_cg_ctrl_names[ctrl]);
	return buf;
}

int cl_cg_write(const char *dir, const char *file, const char *value, bool optional,
		struct cl_error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (optional && access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	int r = cl_text_write(path, value, err);
	return r < 0 ? cl_err_wrap(err, "cgroup") : 0;
}

/* mkdir; an existing empty cgroup of ours (a crashed run's) is reused */
int cl_cg_mkdir(const char *path, struct cl_error *err)
{
	if (mkdir(path, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return cl_err_sys(err, errno, "create cgroup %s", path);
	char procs[PATH_MAX], c;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	int fd = open(procs, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cl_err_sys(err, errno, "cgroup %s", procs);
	ssize_t n = read(fd, &c, 1);
	close(fd);
	if (n != 0)
		return cl_err(err, EEXIST, "cgroup %s already exists and has processes", path);
	return 0;
}

int cl_cg_make_parents(const char *mnt, struct cl_cgroup *cg, int c, const struct cl_cg_spec *s,
		       struct cl_error *err)
{
	char dir[PATH_MAX];
	if (!s->path) {   /* shared: whoever made it, removed when empty */
		if (mkdir(cg->parent[c], 0755) < 0 && errno != EEXIST)
			return cl_err_sys(err, errno, "create cgroup %s", cg->parent[c]);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", cg->path[c]);
	size_t root = strlen(mnt);
	for (char *slash = dir + root + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		if (mkdir(dir, 0755) == 0) {
			if (!cg->parent[c][0])
				snprintf(cg->parent[c], sizeof(cg->parent[c]), "%s", dir);
		} else if (errno != EEXIST) {
			return cl_err_sys(err, errno, "create cgroup %s", dir);
		}
		*slash = '/';
	}
	/* under our shared parent: that one is the top, whoever made what is
	 * between (removed when empty, as PARENT/NAME's parent is) */
	if (s->parent && s->parent[0]) {
		int n = snprintf(dir, sizeof(dir), "%s/%s", mnt, s->parent);
		if (n > 0 && (size_t)n < sizeof(dir) && !strncmp(cg->path[c], dir, (size_t)n) && cg->path[c][n] == '/')
			snprintf(cg->parent[c], sizeof(cg->parent[c]), "%s", dir);
	}
	return 0;
}

void cl_cg_remove_parents(const struct cl_cgroup *cg, int c)
{
	char dir[PATH_MAX];
	size_t top = strlen(cg->parent[c]);
	if (!top)
		return;
	snprintf(dir, sizeof(dir), "%s", cg->path[c]);
	for (char *slash; (slash = strrchr(dir, '/')) && (size_t)(slash - dir) >= top;) {
		*slash = '\0';
		if (strncmp(dir, cg->parent[c], top) || (rmdir(dir) < 0 && errno != ENOENT))
			return;   /* shared with siblings: only when empty */
	}
}

static void kill_procs(const char *path)
{
	char procs[PATH_MAX];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	FILE *f = fopen(procs, "re");
	if (!f)
		return;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1)
		if (pid > 0)
			kill((pid_t)pid, SIGKILL);
	fclose(f);
}

/* rmdir, killing what is left (kill_file: v2's cgroup.kill) and retrying
 * for up to 2 s while the kernel finishes releasing exited tasks */
int cl_cg_rmdir(const char *path, const char *kill_file, struct cl_error *err)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	for (int i = 0; i < 200; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		if (i == 0 || i % 20 == 19) {
			if (!kill_file || cl_cg_write(path, kill_file, "1", false, NULL) < 0)
				kill_procs(path);
		}
		nanosleep(&ts, NULL);
	}
	return cl_err_sys(err, errno, "remove cgroup %s", path);
}
