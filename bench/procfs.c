/* What a live instance costs and exposes, read from /proc (proc(5)):
 * memory of its process tree (smaps_rollup, smaps), its cgroup's usage,
 * its namespaces, mounts, device nodes and seccomp filters. Parsers are
 * pure (tests/unit/test_bench.c); the readers are thin. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "cloudlet/bench.h"
#include "cloudlet/cgroup.h"
#include "cloudlet/file.h"

#define PROC_TEXT_MAX (16u << 20)

/* "Key:   123 kB" at the start of a line */
static int field_kb(const char *text, const char *key, uint64_t *kb)
{
	size_t klen = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) || p[klen] != ':')
			continue;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(p + klen + 1, &end, 10);
		if (errno || end == p + klen + 1 || strncmp(end, " kB", 3))
			return -EINVAL;
		*kb = v;
		return 0;
	}
	return -ENOENT;
}

int bench_parse_rollup(const char *text, uint64_t *rss_kb, uint64_t *pss_kb)
{
	uint64_t rss, pss;
	int r;
	if (!text)
		return -ENOENT;
	if ((r = field_kb(text, "Rss", &rss)) < 0 || (r = field_kb(text, "Pss", &pss)) < 0)
		return r;
	*rss_kb = rss;
	*pss_kb = pss;
	return 0;
}

int bench_parse_smaps_largest_anon(const char *text, uint64_t *size_kb, uint64_t *rss_kb)
{
	uint64_t best = 0, best_rss = 0;
	bool found = false;
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		unsigned long long lo, hi, ino;
		char perms[8], dev[16], path[2];
		int n = 0;
		/* a mapping's header: "lo-hi perms offset dev inode [path]" */
		if (sscanf(p, "%llx-%llx %7s %*x %15s %llu%n", &lo, &hi, perms, dev, &ino, &n) == 5 && hi > lo) {
			const char *rest = p + n;
			while (rest < p + len && *rest == ' ')
				rest++;
			path[0] = rest < p + len ? *rest : '\0';
			uint64_t rss = 0;
			const char *body = nl ? nl + 1 : "";
			/* an anonymous mapping has inode 0 and no path */
			if (ino == 0 && !path[0] && (hi - lo) / 1024 > best && field_kb(body, "Rss", &rss) == 0) {
				best = (hi - lo) / 1024;
				best_rss = rss;
				found = true;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	if (!found)
		return -ENOENT;
	*size_kb = best;
	*rss_kb = best_rss;
	return 0;
}

int bench_cgroup_memory_file(const char *proc_cgroup, const struct cl_cg_layout *l, char *out, size_t size)
{
	for (const char *p = proc_cgroup; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];
		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			/* "ID:CONTROLLERS:PATH" (cgroups(7)) */
			char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			if (c2) {
				*c1 = *c2 = '\0';
				const char *ctrls = c1 + 1, *path = c2 + 1;
				bool v2 = !strcmp(line, "0") && !*ctrls;
				bool mem = false;
				for (const char *c = ctrls; *c;) {
					size_t k = strcspn(c, ",");
					if (k == 6 && !strncmp(c, "memory", 6))
						mem = true;
					c += k + (c[k] == ',');
				}
				int w = -1;
				if (mem && l->v1[CL_CG_MEMORY][0])
					w = snprintf(out, size, "%s%s/memory.usage_in_bytes", l->v1[CL_CG_MEMORY],
						     path);
				else if (v2 && l->unified[0] && !l->v1[CL_CG_MEMORY][0])
					w = snprintf(out, size, "%s%s/memory.current", l->unified, path);
				if (w >= (int)size)
					return -ENAMETOOLONG;
				if (w > 0)
					return 0;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

int bench_parse_devices(const char *s, unsigned *n)
{
	const char *p = s ? strstr(s, " devices=") : NULL;
	char *end;
	if (!p)
		return -ENOENT;
	p += strlen(" devices=");
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(p, &end, 10);
	if (errno || v > 4096 || (*end && *end != ' ' && *end != '\n'))
		return -EINVAL;
	*n = (unsigned)v;
	return 0;
}

/* ---- readers of a live process ---- */

static char *proc_text(pid_t pid, const char *file)
{
	char path[64], *text = NULL;
	struct cl_error err = { 0 };
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	return cl_text_read(path, PROC_TEXT_MAX, &text, &err) < 0 ? NULL : text;
}

/* pid's parent from /proc/PID/stat (after the command's closing paren) */
static pid_t parent_of(pid_t pid)
{
	char *s = proc_text(pid, "stat");
	char *p = s ? strrchr(s, ')') : NULL;
	int ppid = -1;
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		ppid = -1;
	free(s);
	return ppid;
}

size_t proc_tree(pid_t root, pid_t *out, size_t max)
{
	size_t n = 0;
	if (max)
		out[n++] = root;
	/* breadth first: each process found is scanned for children in turn */
	for (size_t i = 0; i < n && n < max; i++) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		while (d && (e = readdir(d)) && n < max) {
			char *end;
			long pid = strtol(e->d_name, &end, 10);
			if (*end || pid <= 0 || parent_of((pid_t)pid) != out[i])
				continue;
			out[n++] = (pid_t)pid;
		}
		if (d)
			closedir(d);
	}
	return n;
}

int proc_self_memory(pid_t pid, uint64_t *rss_kb, uint64_t *pss_kb)
{
	char *t = proc_text(pid, "smaps_rollup");
	int r = bench_parse_rollup(t, rss_kb, pss_kb);
	free(t);
	return r;
}

int proc_tree_memory(pid_t root, uint64_t *rss_kb, uint64_t *pss_kb)
{
	pid_t pids[64];
	size_t n = proc_tree(root, pids, 64);
	*rss_kb = *pss_kb = 0;
	for (size_t i = 0; i < n; i++) {
		char *t = proc_text(pids[i], "smaps_rollup");
		uint64_t rss, pss;
		int r = bench_parse_rollup(t, &rss, &pss);
		free(t);
		if (r < 0 && i == 0)
			return r;
		if (r == 0) {
			*rss_kb += rss;
			*pss_kb += pss;
		}
	}
	return 0;
}

int proc_guest_memory(pid_t vmm, uint64_t *size_kb, uint64_t *rss_kb)
{
	char *t = proc_text(vmm, "smaps");
	int r = t ? bench_parse_smaps_largest_anon(t, size_kb, rss_kb) : -ENOENT;
	free(t);
	return r;
}

int proc_cgroup_memory(pid_t pid, uint64_t *bytes)
{
	char *mi = NULL, *cg = proc_text(pid, "cgroup"), file[PATH_MAX], *val = NULL;
	struct cl_cg_layout l;
	struct cl_error err = { 0 };
	int r = -ENOENT;
	if (cg && cl_text_read("/proc/self/mountinfo", PROC_TEXT_MAX, &mi, &err) == 0 &&
	    cl_cg_layout_parse(mi, &l, &err) == 0 &&
	    (r = bench_cgroup_memory_file(cg, &l, file, sizeof(file))) == 0) {
		r = cl_text_read(file, 64, &val, &err);
		unsigned long long v;
		if (r == 0)
			r = sscanf(val, "%llu", &v) == 1 ? (*bytes = v, 0) : -EINVAL;
	}
	free(mi);
	free(cg);
	free(val);
	return r;
}

/* namespace kinds proc(5) lists under /proc/PID/ns */
static const char *const ns_kinds[] = { "mnt", "pid", "net", "ipc", "uts", "cgroup", "user", "time" };

void proc_facts(pid_t pid, struct bench_facts *f)
{
	char a[64], b[64], pa[64], pb[64];
	f->ns_own = 0;
	f->ns_names[0] = '\0';
	for (size_t i = 0; i < sizeof(ns_kinds) / sizeof(ns_kinds[0]); i++) {
		snprintf(pa, sizeof(pa), "/proc/%d/ns/%s", (int)pid, ns_kinds[i]);
		snprintf(pb, sizeof(pb), "/proc/self/ns/%s", ns_kinds[i]);
		ssize_t na = readlink(pa, a, sizeof(a) - 1), nb = readlink(pb, b, sizeof(b) - 1);
		if (na <= 0 || nb <= 0)
			continue;
		a[na] = b[nb] = '\0';
		if (strcmp(a, b)) {
			f->ns_own++;
			size_t used = strlen(f->ns_names);
			snprintf(f->ns_names + used, sizeof(f->ns_names) - used, "%s%s", used ? " " : "",
				 ns_kinds[i]);
		}
	}
	char *mi = proc_text(pid, "mountinfo");
	f->mounts = -1;
	if (mi) {
		f->mounts = 0;
		for (const char *p = mi; *p; p++)
			f->mounts += *p == '\n';
		free(mi);
	}
	char *st = proc_text(pid, "status"), *p = st ? strstr(st, "\nSeccomp_filters:") : NULL;
	f->seccomp_filters = -1;
	if (p)
		sscanf(p, "\nSeccomp_filters: %d", &f->seccomp_filters);
	free(st);
	/* the device nodes its root holds (the jailed VMM's root is empty) */
	char dev[64];
	snprintf(dev, sizeof(dev), "/proc/%d/root/dev", (int)pid);
	f->devnodes = 0;
	DIR *d = opendir(dev);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat sb;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode)))
			f->devnodes++;
	}
	if (d)
		closedir(d);
}
