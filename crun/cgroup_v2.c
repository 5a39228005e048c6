/* cgroup v2 (the unified hierarchy with controllers): UNIFIED/cloudlet/NAME,
 * memory/cpu/pids enabled down the path through cgroup.subtree_control.
 * v2 has no devices files: device nodes are confined by an eBPF program
 * (BPF_PROG_TYPE_CGROUP_DEVICE) built from the same allow table as v1's. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static const char *const limit_flag[CRUN_CG_NCTRL] = {
	[CRUN_CG_MEMORY] = "--memory",
	[CRUN_CG_CPU] = "--cpus",
	[CRUN_CG_PIDS] = "--pids",
};

/* ---- the device filter: crun_cg_devices_allow as eBPF ---- */

struct dev_rule {
	int type;          /* BPF_DEVCG_DEV_CHAR / _BLOCK */
	long major, minor; /* -1: any */
	unsigned access;   /* BPF_DEVCG_ACC_* */
};

static int parse_num(const char **p, long *v)
{
	if (**p == '*') {
		(*p)++;
		*v = -1;
		return 0;
	}
	char *end;
	long n = strtol(*p, &end, 10);
	if (end == *p || n < 0 || n > 0xfffff)
		return -EINVAL;
	*p = end;
	*v = n;
	return 0;
}

/* "c 1:3 rwm" */
static int parse_rule(const char *s, struct dev_rule *r)
{
	const char *p = s;
	if (p[0] != 'c' && p[0] != 'b')
		return -EINVAL;
	r->type = p[0] == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
	p++;
	if (*p++ != ' ' || parse_num(&p, &r->major) < 0 || *p++ != ':' ||
	    parse_num(&p, &r->minor) < 0 || *p++ != ' ')
		return -EINVAL;
	r->access = 0;
	for (; *p; p++) {
		if (*p == 'r')
			r->access |= BPF_DEVCG_ACC_READ;
		else if (*p == 'w')
			r->access |= BPF_DEVCG_ACC_WRITE;
		else if (*p == 'm')
			r->access |= BPF_DEVCG_ACC_MKNOD;
		else
			return -EINVAL;
	}
	return r->access ? 0 : -EINVAL;
}

static struct bpf_insn insn(__u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm)
{
	struct bpf_insn i = { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
	return i;
}

#define ACC_ALL (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)

int crun_cg_devices_prog(uint64_t *out, size_t max, struct cl_error *err)
{
	struct bpf_insn *p = (struct bpf_insn *)out;
	size_t n = 0;
#define EMIT(i) do { if (n < max) p[n] = (i); n++; } while (0)
	/* struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major, minor; } */
	EMIT(insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0));
	EMIT(insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));     /* r2 = type */
	EMIT(insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0));
	EMIT(insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));         /* r3 = access */
	EMIT(insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0));  /* r4 = major */
	EMIT(insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0));  /* r5 = minor */
	for (size_t k = 0; k < crun_cg_devices_allow_count; k++) {
		struct dev_rule r;
		if (parse_rule(crun_cg_devices_allow[k], &r) < 0)
			return cl_err(err, EINVAL, "bad device rule '%s'", crun_cg_devices_allow[k]);
		/* the block's length, so each test can jump past its end */
		size_t len = 1 + (r.access != ACC_ALL ? 3 : 0) + (r.major >= 0) + (r.minor >= 0) + 2;
		size_t i = 0;
#define SKIP ((__s16)(len - i - 1))
		EMIT(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, SKIP, r.type));
		i++;
		if (r.access != ACC_ALL) {   /* no access bit outside the rule's */
			EMIT(insn(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_3, 0, 0));
			i++;
			EMIT(insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_0, 0, 0, (__s32)(~r.access & ACC_ALL)));
			i++;
			EMIT(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, SKIP, 0));
			i++;
		}
		if (r.major >= 0) {
			EMIT(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, SKIP, (__s32)r.major));
			i++;
		}
		if (r.minor >= 0) {
			EMIT(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, SKIP, (__s32)r.minor));
			i++;
		}
#undef SKIP
		EMIT(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1));
		EMIT(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	}
	EMIT(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));   /* deny */
	EMIT(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
#undef EMIT
	if (n > max)
		return cl_err(err, E2BIG, "device filter: %zu instructions, room for %zu", n, max);
	return (int)n;
}

static int attach_device_filter(const char *path, struct cl_error *err)
{
	uint64_t prog[256];
	static char log[65536];
	log[0] = '\0';
	int n = crun_cg_devices_prog(prog, 256, err);
	if (n < 0)
		return n;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uintptr_t)prog;
	a.insn_cnt = (__u32)n;
	a.license = (uintptr_t)"GPL";
	int pfd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (pfd < 0 && errno != EPERM && errno != ENOSYS) {
		/* again with the verifier's log, for the message (a log that
		 * does not fit fails with ENOSPC, so only now) */
		a.log_buf = (uintptr_t)log;
		a.log_size = sizeof(log);
		a.log_level = 1;
		pfd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	}
	if (pfd < 0) {
		char *nl = strchr(log, '\n');
		if (nl)
			*nl = '\0';
		return cl_err_sys(err, errno, "cgroup v2: load the device filter%s%s",
				  log[0] ? " (" : "", log[0] ? log : "");
	}
	int cfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0) {
		int e = errno;
		close(pfd);
		return cl_err_sys(err, e, "cgroup %s", path);
	}
	memset(&a, 0, sizeof(a));
	a.target_fd = (__u32)cfd;
	a.attach_bpf_fd = (__u32)pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	int r = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a));
	int e = errno;
	close(cfd);
	close(pfd);   /* the attachment holds the program until the cgroup goes */
	if (r < 0)
		return cl_err_sys(err, e, "cgroup v2: attach the device filter to %s", path);
	return 0;
}

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

static int v2_destroy(struct ct_cgroup *cg, struct cl_error *err)
{
	int r = 0;
	if (cg->path[0][0])
		r = ct_cg_rmdir(cg->path[0], "cgroup.kill", err);
	if (cg->parent[0][0])
		rmdir(cg->parent[0]);   /* shared: only when empty */
	return r;
}

/* "+memory" etc. into DIR/cgroup.subtree_control for each of `ctrls` */
static int enable(const char *dir, unsigned ctrls, unsigned need, struct cl_error *err)
{
	for (int c = 0; c < CRUN_CG_DEVICES; c++) {
		char v[32];
		if (!(ctrls & (1u << c)))
			continue;
		snprintf(v, sizeof(v), "+%s", crun_cg_ctrl_names[c]);
		int r = ct_cg_write(dir, "cgroup.subtree_control", v, false, err);
		if (r < 0 && (need & (1u << c)))
			return cl_err_wrap(err, "cgroup v2: enable %s for %s", crun_cg_ctrl_names[c], limit_flag[c]);
	}
	return 0;
}

static int v2_create(struct ct_cgroup *cg, const struct crun_cg_layout *l, const char *name,
		     const struct crun_limits *lim, bool devices, struct cl_error *err)
{
	struct crun_cg_setting set[CRUN_CG_MAX_SETTINGS];
	unsigned need = crun_cg_needed(lim), avail = 0;
	char path[PATH_MAX];
	int r;

	memset(cg, 0, sizeof(*cg));
	cg->version = 2;
	snprintf(path, sizeof(path), "%s/cgroup.controllers", l->unified);
	char *text;
	if ((r = ct_read_text(path, 65536, &text, err)) < 0)
		return cl_err_wrap(err, "cgroup v2");
	for (int c = 0; c < CRUN_CG_DEVICES; c++)
		if (word_in(text, crun_cg_ctrl_names[c]))
			avail |= 1u << c;
	free(text);
	for (int c = 0; c < CRUN_CG_DEVICES; c++)
		if ((need & (1u << c)) && !(avail & (1u << c)))
			return cl_err(err, ENOENT, "cgroup v2: the %s controller is not available in %s (needed for %s)",
				      crun_cg_ctrl_names[c], l->unified, limit_flag[c]);
	snprintf(cg->parent[0], sizeof(cg->parent[0]), "%s/cloudlet", l->unified);
	snprintf(cg->path[0], sizeof(cg->path[0]), "%s/cloudlet/%s", l->unified, name);
	if ((r = enable(l->unified, avail, need, err)) < 0)
		goto fail_nodir;
	for (int tries = 0;; tries++) {
		if (mkdir(cg->parent[0], 0755) < 0 && errno != EEXIST) {
			r = cl_err_sys(err, errno, "create cgroup %s", cg->parent[0]);
			goto fail_nodir;
		}
		if ((r = enable(cg->parent[0], avail, need, err)) < 0)
			goto fail_nodir;
		r = ct_cg_mkdir(cg->path[0], err);
		if (r != -ENOENT || tries == 3)
			break;
	}
	if (r < 0)
		goto fail_nodir;
	int n = crun_cg_settings(2, lim, set, CRUN_CG_MAX_SETTINGS);
	for (int i = 0; i < n; i++)
		if ((r = ct_cg_write(cg->path[0], set[i].file, set[i].value, set[i].optional, err)) < 0)
			goto fail;
	if (devices && (r = attach_device_filter(cg->path[0], err)) < 0)
		goto fail;
	return 0;
fail_nodir:
	cg->path[0][0] = '\0';
fail:
	v2_destroy(cg, NULL);
	return r;
}

static int v2_enter(const struct ct_cgroup *cg, pid_t pid, struct cl_error *err)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	return ct_cg_write(cg->path[0], "cgroup.procs", v, false, err);
}

const struct ct_cgroup_ops ct_cgroup_v2_ops = {
	.name = "cgroup v2",
	.version = 2,
	.create = v2_create,
	.enter = v2_enter,
	.destroy = v2_destroy,
};
