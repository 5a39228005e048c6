/* cgroup v2 device confinement: device rules ("c 1:3 rwm", as v1's
 * devices.allow takes them) as a BPF_PROG_TYPE_CGROUP_DEVICE program that
 * allows what a rule matches and denies the rest, attached to a cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cloudlet/cgroup.h"

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

int cl_cg_devices_prog(const char *const *rules, size_t nrules, uint64_t *out, size_t max,
		       struct cl_error *err)
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
	for (size_t k = 0; k < nrules; k++) {
		struct dev_rule r;
		if (parse_rule(rules[k], &r) < 0)
			return cl_err(err, EINVAL, "bad device rule '%s'", rules[k]);
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

int cl_cg_devices_attach(const char *path, const char *const *rules, size_t nrules,
			 struct cl_error *err)
{
	uint64_t prog[256];
	static char log[65536];
	log[0] = '\0';
	int n = cl_cg_devices_prog(rules, nrules, prog, 256, err);
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

