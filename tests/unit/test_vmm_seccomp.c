/* vmm/jail/: the VMM's per-thread seccomp tables as data, the ioctl
 * requests cross-checked against the code's own calls, and the compiled
 * filters run by the kernel (in a child, with an errno instead of the kill
 * so that each answer can be read). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../vmm/jail/filter.h"
#include "cloudlet/vmm.h"

static struct cl_error err;

Test(vmm_seccomp, tables_sorted_unique_resolvable_explained)
{
	for (int k = 0; k < VMM_THREAD_NKINDS; k++) {
		const struct vmm_sc_table *t = &vmm_sc_tables[k];
		cr_assert_not_null(t->kind);
		cr_assert_gt(t->n, 0);
		for (size_t i = 0; i < t->n; i++) {
			const struct cl_sc_rule *r = &t->rules[i];
			if (i)
				cr_assert_lt(strcmp(t->rules[i - 1].name, r->name), 0, "%s: %s before %s",
					     t->kind, t->rules[i - 1].name, r->name);
			int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, r->name);
			cr_assert_geq(nr, 0, "%s: %s is not an x86-64 syscall", t->kind, r->name);
			cr_assert(r->why && strlen(r->why) > 10, "%s: %s has no reason", t->kind, r->name);
		}
	}
	/* what is never left to a thread after setup */
	const char *never[] = { "open", "openat", "openat2", "execve", "execveat", "socket", "connect",
				"clone", "clone3", "fork", "vfork", "ptrace", "mount", "unshare", "setns",
				"bpf", "memfd_create", "eventfd2", "epoll_create1", "mprotect", "mmap",
				"prctl", "seccomp", "kill", NULL };
	for (int k = 0; k < VMM_THREAD_NKINDS; k++)
		for (size_t i = 0; i < vmm_sc_tables[k].n; i++)
			for (int j = 0; never[j]; j++)
				cr_assert_str_neq(vmm_sc_tables[k].rules[i].name, never[j], "%s allows %s",
						  vmm_sc_tables[k].kind, never[j]);
}

Test(vmm_seccomp, parse_mode)
{
	enum vmm_seccomp m = VMM_SECCOMP_OFF;
	cr_assert_eq(vmm_seccomp_parse("kill", &m, &err), 0);
	cr_assert_eq(m, VMM_SECCOMP_KILL);
	cr_assert_eq(vmm_seccomp_parse("log", &m, &err), 0);
	cr_assert_eq(m, VMM_SECCOMP_LOG);
	cr_assert_eq(vmm_seccomp_parse("off", &m, &err), 0);
	cr_assert_eq(m, VMM_SECCOMP_OFF);
	cr_assert_eq(vmm_seccomp_parse("strict", &m, &err), -EINVAL);
	cr_assert(strstr(err.msg, "kill, log or off"), "%s", err.msg);
}

static const struct vmm_ioctl_req *req_find(const char *name)
{
	for (size_t i = 0; i < vmm_ioctl_reqs_count; i++)
		if (!strcmp(vmm_ioctl_reqs[i].name, name))
			return &vmm_ioctl_reqs[i];
	return NULL;
}

/* every `ioctl(FD, NAME` in one file: each NAME must be classified */
static void scan_file(const char *path, unsigned *used)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char line[1024];
	while (fgets(line, sizeof(line), f)) {
		for (char *p = line; (p = strstr(p, "ioctl(")); p++) {
			char *comma = strchr(p, ',');
			if (!comma)
				break;
			char name[64];
			if (sscanf(comma + 1, " %63[A-Z0-9_]", name) != 1)
				continue;   /* a variable request: not in vmm/ today */
			const struct vmm_ioctl_req *r = req_find(name);
			cr_assert_not_null(r, "%s: ioctl %s is not in vmm/jail/sc_ioctls.c", path, name);
			used[r - vmm_ioctl_reqs] = 1;
		}
	}
	fclose(f);
}

static void scan_dir(const char *dir, unsigned *used, int *files)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s (run the unit tests from the repository's root)", dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[512];
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			scan_dir(path, used, files);
		} else if (len > 2 && !strcmp(e->d_name + len - 2, ".c") && strcmp(e->d_name, "sc_ioctls.c")) {
			scan_file(path, used);
			(*files)++;
		}
	}
	closedir(d);
}

Test(vmm_seccomp, ioctls_cross_checked_with_the_code)
{
	unsigned used[128] = { 0 };
	int files = 0;
	cr_assert_lt(vmm_ioctl_reqs_count, 128);
	scan_dir("vmm", used, &files);
	cr_assert_gt(files, 20);
	for (size_t i = 0; i < vmm_ioctl_reqs_count; i++) {
		const struct vmm_ioctl_req *r = &vmm_ioctl_reqs[i];
		cr_assert(used[i], "%s is in sc_ioctls.c but no vmm/ code makes it", r->name);
		cr_assert(r->why && *r->why, "%s has no reason", r->name);
		for (size_t j = 0; j < i; j++)
			cr_assert_neq(vmm_ioctl_reqs[j].req, r->req, "%s twice", r->name);
	}
	/* the filtered threads use few: KVM_RUN only on a vCPU */
	cr_assert_eq(req_find("KVM_RUN")->kinds, 1u << VMM_THREAD_VCPU);
	cr_assert_eq(req_find("KVM_CREATE_VCPU")->kinds, 0);
	cr_assert_eq(req_find("KVM_SET_USER_MEMORY_REGION")->kinds, 0);
	cr_assert_eq(req_find("TUNSETVNETHDRSZ")->kinds, 0);
}

Test(vmm_seccomp, rules_carry_the_kinds_requests)
{
	struct cl_sc_rule rows[64];
	uint64_t vals[64];
	for (int k = 0; k < VMM_THREAD_NKINDS; k++) {
		int n = vmm_sc_rules(k, rows, 64, vals, 64);
		cr_assert_eq((size_t)n, vmm_sc_tables[k].n);
		size_t want = 0;
		for (size_t i = 0; i < vmm_ioctl_reqs_count; i++)
			want += !!(vmm_ioctl_reqs[i].kinds & (1u << k));
		for (int i = 0; i < n; i++)
			if (!strcmp(rows[i].name, "ioctl")) {
				cr_assert_eq(rows[i].kind, CL_SC_ALLOW_IF_EQ);
				cr_assert_eq(rows[i].arg, 1);
				cr_assert_eq(rows[i].nvals, want);
			}
	}
	cr_assert_eq(vmm_sc_rules(VMM_THREAD_VCPU, rows, 64, vals, 1), -E2BIG);
}

/* ---- the kernel runs the compiled filters ---- */

#define REFUSED EHWPOISON   /* the test filters' answer instead of the kill */

/* In a child: install kind's filter, make each call; the exit status is the
 * index of the first call whose answer was wrong, +1 (0: all right). */
struct probe {
	long nr;
	unsigned long req;
	bool allowed;
};

static int run_probes(enum vmm_thread_kind kind, const struct probe *p, int n)
{
	struct sock_fprog prog;
	cr_assert_eq(vmm_sc_build(kind, SCMP_ACT_ERRNO(REFUSED), &prog, &err), 0, "%s", err.msg);
	cr_assert_gt(prog.len, 4);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* only raw syscalls from here: under ASan, _exit would first
		 * call sigaltstack (__asan_handle_no_return), which no filter
		 * allows; the way out is the one the kind's filter admits */
		long quit = kind == VMM_THREAD_VMM ? SYS_exit_group : SYS_exit;
		alarm(10);   /* whatever goes wrong, the test does not hang */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || vmm_sc_install(&prog) < 0)
			_exit(100);
		int bad = 0;
		for (int i = 0; i < n && !bad; i++) {
			/* fd -1: an admitted request reaches the kernel's fd lookup (EBADF) */
			long r = syscall(p[i].nr, -1L, p[i].req, 0L, 0L, 0L, 0L);
			int e = r < 0 ? errno : 0;
			if (p[i].allowed ? e == REFUSED : e != REFUSED)
				bad = i + 1;
		}
		for (;;)
			syscall(quit, bad);
	}
	vmm_sc_free(&prog);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "the probe child died (status %#x)", st);
	return WEXITSTATUS(st);
}

static void check_probes(enum vmm_thread_kind kind, const struct probe *p, int n)
{
	int bad = run_probes(kind, p, n);
	cr_assert_eq(bad, 0, "%s filter: wrong answer for probe %d (syscall %ld, ioctl %#lx)",
		     vmm_sc_tables[kind].kind, bad - 1, bad > 0 && bad <= n ? p[bad - 1].nr : 0l,
		     bad > 0 && bad <= n ? p[bad - 1].req : 0ul);
}

/* an ioctl probe per request the VMM makes: admitted iff kind's */
static int request_probes(enum vmm_thread_kind kind, struct probe *p)
{
	int n = 0;
	for (size_t i = 0; i < vmm_ioctl_reqs_count; i++)
		p[n++] = (struct probe){ SYS_ioctl, vmm_ioctl_reqs[i].req,
					 vmm_ioctl_reqs[i].kinds & (1u << kind) };
	return n;
}

Test(vmm_seccomp, vcpu_filter_admits_its_requests_only)
{
	struct probe p[64];
	int n = request_probes(VMM_THREAD_VCPU, p);
	/* a KVM request the VMM never makes, and calls no vCPU makes */
	p[n++] = (struct probe){ SYS_ioctl, KVM_SET_GSI_ROUTING, false };
	p[n++] = (struct probe){ SYS_ioctl, KVM_SET_USER_MEMORY_REGION, false };
	p[n++] = (struct probe){ SYS_openat, 0, false };
	p[n++] = (struct probe){ SYS_socket, 0, false };
	p[n++] = (struct probe){ SYS_preadv, 0, false };   /* disk I/O is the loop thread's */
	p[n++] = (struct probe){ SYS_write, 0, true };
	check_probes(VMM_THREAD_VCPU, p, n);
}

Test(vmm_seccomp, vmm_filter_admits_its_requests_only)
{
	struct probe p[64];
	int n = request_probes(VMM_THREAD_VMM, p);
	p[n++] = (struct probe){ SYS_ioctl, KVM_RUN, false };
	p[n++] = (struct probe){ SYS_ioctl, 0x5402 /* TCSETS */, false };
	p[n++] = (struct probe){ SYS_openat, 0, false };
	p[n++] = (struct probe){ SYS_execve, 0, false };
	p[n++] = (struct probe){ SYS_preadv, 0, true };
	check_probes(VMM_THREAD_VMM, p, n);
}
