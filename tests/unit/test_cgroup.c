/* lib/cgroup*.c: hierarchy detection, version choice, limit files and
 * values, the v2 device filter (run through a tiny eBPF interpreter) over
 * the container runtime's device rules. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cloudlet/cgroup.h"
#include "cloudlet/crun.h"

static struct cl_error err;

/* this machine's kind: v1 controllers beside a controller-less cgroup2 */
static const char hybrid[] =
	"22 27 0:21 / /proc rw,relatime - proc proc rw\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
	"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char unified[] =
	"22 27 0:21 / /proc rw,relatime - proc proc rw\n"
	"30 23 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

Test(cgroup, layout_hybrid)
{
	struct cl_cg_layout l;
	cr_assert_eq(cl_cg_layout_parse(hybrid, &l, &err), 0);
	cr_assert_str_eq(l.unified, "/sys/fs/cgroup/unified");
	cr_assert_str_eq(l.v1[CL_CG_MEMORY], "/sys/fs/cgroup/memory");
	cr_assert_str_eq(l.v1[CL_CG_CPU], "/sys/fs/cgroup/cpu,cpuacct", "cpu found among co-mounted");
	cr_assert_str_eq(l.v1[CL_CG_PIDS], "/sys/fs/cgroup/pids");
	cr_assert_str_eq(l.v1[CL_CG_DEVICES], "/sys/fs/cgroup/devices");
	cr_assert_eq(cl_cg_version(&l), 1, "v1 controllers win over an empty cgroup2");
}

Test(cgroup, layout_unified)
{
	struct cl_cg_layout l;
	cr_assert_eq(cl_cg_layout_parse(unified, &l, &err), 0);
	cr_assert_str_eq(l.unified, "/sys/fs/cgroup");
	cr_assert_str_eq(l.v1[CL_CG_MEMORY], "");
	cr_assert_eq(cl_cg_version(&l), 2);
	cr_assert_eq(cl_cg_layout_parse("22 27 0:21 / /proc rw - proc proc rw\n", &l, &err), 0);
	cr_assert_eq(cl_cg_version(&l), -ENOENT);
}

Test(cgroup, locate_by_name)
{
	struct cl_cg_layout l;
	struct cl_cgroup cg;
	cr_assert_eq(cl_cg_layout_parse(hybrid, &l, &err), 0);
	cl_cg_locate(&l, 1, "cloudlet-vm", "vm-abc123", &cg);
	cr_assert_eq(cg.version, 1);
	cr_assert_str_eq(cg.path[CL_CG_MEMORY], "/sys/fs/cgroup/memory/cloudlet-vm/vm-abc123");
	cr_assert_str_eq(cg.path[CL_CG_CPU], "/sys/fs/cgroup/cpu,cpuacct/cloudlet-vm/vm-abc123");
	cr_assert_str_eq(cg.parent[CL_CG_PIDS], "/sys/fs/cgroup/pids/cloudlet-vm");
	cr_assert_str_eq(cg.path[CL_CG_DEVICES], "/sys/fs/cgroup/devices/cloudlet-vm/vm-abc123",
			 "every mounted controller: what any create may have made");
	cr_assert_eq(cl_cg_layout_parse(unified, &l, &err), 0);
	cl_cg_locate(&l, 2, "cloudlet", "web", &cg);
	cr_assert_eq(cg.version, 2);
	cr_assert_str_eq(cg.path[0], "/sys/fs/cgroup/cloudlet/web");
	cr_assert_str_eq(cg.parent[0], "/sys/fs/cgroup/cloudlet");
	cr_assert_str_eq(cg.path[CL_CG_PIDS], "", "v2: one directory");
}

/* an OCI cgroupsPath: the same path under each hierarchy's root */
Test(cgroup, locate_by_path)
{
	struct cl_cg_layout l;
	struct cl_cgroup cg;
	const struct cl_cg_spec s = { .parent = "cloudlet", .name = "x", .path = "/kubepods/pod1/c1" };
	cr_assert_eq(cl_cg_layout_parse(hybrid, &l, &err), 0);
	cl_cg_locate_spec(&l, 1, &s, &cg);
	cr_assert_str_eq(cg.path[CL_CG_MEMORY], "/sys/fs/cgroup/memory/kubepods/pod1/c1");
	cr_assert_str_eq(cg.path[CL_CG_PIDS], "/sys/fs/cgroup/pids/kubepods/pod1/c1");
	cr_assert_str_eq(cg.parent[CL_CG_PIDS], "", "create records what it made");
	cr_assert_eq(cl_cg_layout_parse(unified, &l, &err), 0);
	cl_cg_locate_spec(&l, 2, &s, &cg);
	cr_assert_str_eq(cg.path[0], "/sys/fs/cgroup/kubepods/pod1/c1");
	cr_assert_str_eq(cg.path[CL_CG_PIDS], "");
}

Test(cgroup, path_valid)
{
	cr_assert(cl_cg_path_valid("/a"));
	cr_assert(cl_cg_path_valid("/libpod_parent/libpod-0123abcd"));
	cr_assert(cl_cg_path_valid("/a/.b/c..d"));
	cr_assert_not(cl_cg_path_valid("a/b"), "relative");
	cr_assert_not(cl_cg_path_valid("/"), "the root itself");
	cr_assert_not(cl_cg_path_valid("/a//b"));
	cr_assert_not(cl_cg_path_valid("/a/b/"));
	cr_assert_not(cl_cg_path_valid("/a/../../etc"));
	cr_assert_not(cl_cg_path_valid("/a/./b"));
	cr_assert_not(cl_cg_path_valid("/.."));
	cr_assert_not(cl_cg_path_valid(NULL));
}

Test(cgroup, layout_escapes_and_junk)
{
	struct cl_cg_layout l;
	const char mi[] =
		"garbage\n"
		"1 2 3\n"
		"50 1 0:40 / /cg\\040v1/mem rw - cgroup cgroup rw,memory\n"
		"51 1 0:41 / /other rw - cgroup cgroup rw,memory_recursiveprot\n";
	cr_assert_eq(cl_cg_layout_parse(mi, &l, &err), 0);
	cr_assert_str_eq(l.v1[CL_CG_MEMORY], "/cg v1/mem");
	cr_assert_str_eq(l.v1[CL_CG_PIDS], "", "whole option tokens only");
}

static const struct cl_cg_setting *find(const struct cl_cg_setting *s, int n, const char *file)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s[i].file, file))
			return &s[i];
	return NULL;
}

Test(cgroup, settings_v1)
{
	struct cl_cg_limits l = { .memory = 64 << 20, .cpu_quota_us = 50000, .cpu_period_us = 100000, .pids = 128 };
	struct cl_cg_setting s[CL_CG_MAX_SETTINGS];
	int n = cl_cg_settings(1, &l, s, CL_CG_MAX_SETTINGS);
	cr_assert_eq(n, 5);
	cr_assert_str_eq(find(s, n, "memory.limit_in_bytes")->value, "67108864");
	const struct cl_cg_setting *sw = find(s, n, "memory.memsw.limit_in_bytes");
	cr_assert_str_eq(sw->value, "67108864", "no swap beyond the limit");
	cr_assert(sw->optional);
	cr_assert_str_eq(find(s, n, "cpu.cfs_quota_us")->value, "50000");
	cr_assert_str_eq(find(s, n, "cpu.cfs_period_us")->value, "100000");
	cr_assert_str_eq(find(s, n, "pids.max")->value, "128");
	cr_assert_eq(find(s, n, "pids.max")->ctrl, CL_CG_PIDS);
	/* order: memory before memsw (memsw >= memory), period before quota */
	cr_assert_lt(find(s, n, "memory.limit_in_bytes") - s, find(s, n, "memory.memsw.limit_in_bytes") - s);
	cr_assert_lt(find(s, n, "cpu.cfs_period_us") - s, find(s, n, "cpu.cfs_quota_us") - s);
}

Test(cgroup, settings_v2)
{
	struct cl_cg_limits l = { .memory = 6 << 20, .cpu_quota_us = 150000, .cpu_period_us = 100000, .pids = 2 };
	struct cl_cg_setting s[CL_CG_MAX_SETTINGS];
	int n = cl_cg_settings(2, &l, s, CL_CG_MAX_SETTINGS);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(find(s, n, "memory.max")->value, "6291456");
	cr_assert_str_eq(find(s, n, "memory.swap.max")->value, "0");
	cr_assert_str_eq(find(s, n, "cpu.max")->value, "150000 100000");
	cr_assert_eq(find(s, n, "cpu.max")->ctrl, CL_CG_CPU);
	cr_assert_str_eq(find(s, n, "pids.max")->value, "2");
}

Test(cgroup, settings_only_what_is_asked)
{
	struct cl_cg_limits none = { 0 }, pids = { .pids = 9 };
	struct cl_cg_setting s[CL_CG_MAX_SETTINGS];
	cr_assert_eq(cl_cg_settings(2, &none, s, CL_CG_MAX_SETTINGS), 0);
	cr_assert_eq(cl_cg_settings(1, &pids, s, CL_CG_MAX_SETTINGS), 1);
	cr_assert_eq(cl_cg_needed(&pids), 1u << CL_CG_PIDS);
	cr_assert_eq(cl_cg_needed(&none), 0);
	cr_assert_eq(cl_cg_settings(3, &pids, s, CL_CG_MAX_SETTINGS), -EINVAL);
	struct cl_cg_limits all = { .memory = 1 << 30, .cpu_quota_us = 1000, .cpu_period_us = 100000, .pids = 5 };
	cr_assert_eq(cl_cg_settings(1, &all, s, 2), -E2BIG);
}

/* ---- the device filter ---- */

/* enough eBPF for what cl_cg_devices_prog emits */
static int run_prog(const struct bpf_insn *p, int n, unsigned type, unsigned access,
		    unsigned major, unsigned minor)
{
	uint32_t ctx[3] = { (access << 16) | type, major, minor };
	uint64_t r[11] = { 0 };
	for (int pc = 0; pc < n; pc++) {
		const struct bpf_insn *i = &p[pc];
		switch (i->code) {
		case BPF_LDX | BPF_W | BPF_MEM:
			cr_assert_eq(i->src_reg, BPF_REG_1);
			r[i->dst_reg] = ctx[i->off / 4];
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			r[i->dst_reg] = (uint32_t)(r[i->dst_reg] & (uint32_t)i->imm);
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm;
			break;
		case BPF_ALU | BPF_MOV | BPF_X:
			r[i->dst_reg] = (uint32_t)r[i->src_reg];
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			r[i->dst_reg] = (uint64_t)(int64_t)i->imm;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			if (r[i->dst_reg] != (uint64_t)(int64_t)i->imm)
				pc += i->off;
			cr_assert_lt(pc, n, "jump out of the program");
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)r[0];
		default:
			cr_assert_fail("unexpected opcode 0x%x", i->code);
		}
	}
	cr_assert_fail("fell off the end");
	return -1;
}

Test(cgroup, device_filter)
{
	struct bpf_insn prog[256];
	int n = cl_cg_devices_prog(crun_cg_devices_allow, crun_cg_devices_allow_count, (uint64_t *)prog, 256, &err);
	cr_assert_gt(n, 6, "%s", err.msg);
	const unsigned C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK;
	const unsigned R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD;
	cr_assert_eq(run_prog(prog, n, C, R | W, 1, 3), 1, "/dev/null");
	cr_assert_eq(run_prog(prog, n, C, R, 1, 9), 1, "/dev/urandom");
	cr_assert_eq(run_prog(prog, n, C, R | W, 136, 7), 1, "a pts");
	cr_assert_eq(run_prog(prog, n, C, R | W, 5, 2), 1, "ptmx");
	cr_assert_eq(run_prog(prog, n, B, R, 8, 0), 0, "a disk, read");
	cr_assert_eq(run_prog(prog, n, B, M, 8, 0), 1, "a disk, mknod only");
	cr_assert_eq(run_prog(prog, n, C, R | W, 1, 1), 0, "/dev/mem");
	cr_assert_eq(run_prog(prog, n, C, R | W, 10, 232), 0, "/dev/kvm");
	cr_assert_eq(run_prog(prog, n, C, R | W | M, 4, 1), 0, "a tty");
	cr_assert_eq(cl_cg_devices_prog(crun_cg_devices_allow, crun_cg_devices_allow_count, (uint64_t *)prog, 4, &err), -E2BIG);
}

Test(cgroup, device_table)
{
	for (size_t i = 0; i < crun_cg_devices_allow_count; i++) {
		const char *r = crun_cg_devices_allow[i];
		cr_assert(r[0] == 'c' || r[0] == 'b', "%s", r);
		cr_assert_null(strstr(r, "a "), "no wildcard type: %s", r);
	}
	/* every default device is usable */
	for (size_t d = 0; d < crun_default_devices_count; d++) {
		char want[32];
		snprintf(want, sizeof(want), "c %u:%u rwm", crun_default_devices[d].major,
			 crun_default_devices[d].minor);
		bool found = false;
		for (size_t i = 0; i < crun_cg_devices_allow_count; i++)
			found |= !strcmp(crun_cg_devices_allow[i], want);
		cr_assert(found, "%s not allowed", want);
	}
}

/* ---- a limit whose controller is missing is an error, never a silent no-limit ---- */

static const char *const why[CL_CG_NCTRL] = { [CL_CG_MEMORY] = "--memory", [CL_CG_PIDS] = "--pids" };

Test(cgroup, v1_missing_controller)
{
	struct cl_cg_layout l;
	struct cl_cgroup cg;
	struct cl_cg_limits lim = { .pids = 10 };
	cr_assert_eq(cl_cg_layout_parse(hybrid, &l, &err), 0);
	l.v1[CL_CG_PIDS][0] = '\0';
	struct cl_cg_spec s = { .parent = "cloudlet", .name = "x", .limits = &lim, .why = why };
	cr_assert_eq(cl_cgroup_v1_ops.create(&cg, &l, &s, &err), -ENOENT);
	cr_assert_str_eq(err.msg, "cgroup v1: the pids controller is not mounted (needed for --pids)");
	s.why = NULL;
	cr_assert_eq(cl_cgroup_v1_ops.create(&cg, &l, &s, &err), -ENOENT);
	cr_assert_str_eq(err.msg, "cgroup v1: the pids controller is not mounted (needed for a pids limit)");
	l.v1[CL_CG_DEVICES][0] = '\0';
	struct cl_cg_limits none = { 0 };
	s = (struct cl_cg_spec){ .parent = "cloudlet", .name = "x", .limits = &none,
				 .devices = crun_cg_devices_allow, .ndevices = crun_cg_devices_allow_count };
	cr_assert_eq(cl_cgroup_v1_ops.create(&cg, &l, &s, &err), -ENOENT);
	cr_assert(strstr(err.msg, "devices controller is not mounted"), "%s", err.msg);
}

Test(cgroup, v2_missing_controller)
{
	char dir[] = "/tmp/cloudlet-test-cg.XXXXXX", path[64];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("cpuset cpu io pids\n", f);
	fclose(f);
	struct cl_cg_layout l = { 0 };
	strcpy(l.unified, dir);
	struct cl_cgroup cg;
	struct cl_cg_limits lim = { .memory = 64 << 20, .pids = 10 };
	const struct cl_cg_spec s = { .parent = "cloudlet", .name = "x", .limits = &lim, .why = why };
	int r = cl_cgroup_v2_ops.create(&cg, &l, &s, &err);
	unlink(path);
	rmdir(dir);
	cr_assert_eq(r, -ENOENT);
	cr_assert(strstr(err.msg, "cgroup v2: the memory controller is not available in /tmp/cloudlet-test-cg."),
		  "%s", err.msg);
	cr_assert(strstr(err.msg, "(needed for --memory)"), "%s", err.msg);
}

Test(cgroup, ops_by_version)
{
	cr_assert_eq(cl_cgroup_ops_for(1), &cl_cgroup_v1_ops);
	cr_assert_eq(cl_cgroup_ops_for(2), &cl_cgroup_v2_ops);
	cr_assert_null(cl_cgroup_ops_for(0));
	cr_assert_eq(cl_cgroup_v1_ops.version, 1);
	cr_assert_eq(cl_cgroup_v2_ops.version, 2);
}
