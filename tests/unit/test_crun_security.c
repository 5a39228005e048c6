/* crun/caps.c and crun/seccomp.c: the default capability set and the
 * default seccomp profile, as data. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <string.h>

#include "cloudlet/caps.h"
#include "cloudlet/crun.h"

Test(crun_caps, docker_default_set)
{
	/* Docker's CapEff for root in a default container */
	cr_assert_eq(cl_caps_mask(crun_default_caps, crun_default_caps_count), 0xa80425fbull,
		     "mask %llx", (unsigned long long)cl_caps_mask(crun_default_caps, crun_default_caps_count));
	cr_assert_eq(crun_default_caps_count, 14);
	/* the OCI runtime-spec example's set is inside it */
	uint64_t m = cl_caps_mask(crun_default_caps, crun_default_caps_count);
	cr_assert(m & (1ull << CAP_AUDIT_WRITE));
	cr_assert(m & (1ull << CAP_KILL));
	cr_assert(m & (1ull << CAP_NET_BIND_SERVICE));
	/* and the dangerous ones are not */
	const int never[] = { CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_PTRACE, CAP_SYS_RAWIO, CAP_NET_ADMIN,
			      CAP_SYS_TIME, CAP_DAC_READ_SEARCH, CAP_SYS_BOOT, CAP_MAC_ADMIN, CAP_BPF };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		cr_assert_not(m & (1ull << never[i]), "capability %d in the default set", never[i]);
}

Test(crun_caps, mask)
{
	const int caps[] = { 0, 1, 63, 64, -1 };
	cr_assert_eq(cl_caps_mask(caps, 5), 0x8000000000000003ull);
	cr_assert_eq(cl_caps_mask(NULL, 0), 0);
}

Test(crun_seccomp, sorted_unique)
{
	cr_assert_gt(crun_seccomp_default_count, 250);
	for (size_t i = 1; i < crun_seccomp_default_count; i++)
		cr_assert_lt(strcmp(crun_seccomp_default[i - 1].name, crun_seccomp_default[i].name), 0,
			     "%s before %s", crun_seccomp_default[i - 1].name, crun_seccomp_default[i].name);
}

Test(crun_seccomp, resolvable)
{
	for (size_t i = 0; i < crun_seccomp_default_count; i++) {
		const char *n = crun_seccomp_default[i].name;
		int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, n);
		cr_assert_geq(nr, 0, "%s is not an x86-64 syscall (%d)", n, nr);
	}
}

static const struct cl_sc_rule *rule(const char *name)
{
	for (size_t i = 0; i < crun_seccomp_default_count; i++)
		if (!strcmp(crun_seccomp_default[i].name, name))
			return &crun_seccomp_default[i];
	return NULL;
}

Test(crun_seccomp, blocks_what_docker_blocks)
{
	const char *blocked[] = { "unshare", "setns", "mount", "umount2", "pivot_root", "swapon", "swapoff",
				  "reboot", "kexec_load", "init_module", "finit_module", "delete_module",
				  "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "acct",
				  "settimeofday", "clock_settime", "open_by_handle_at", "userfaultfd",
				  "io_uring_setup", "iopl", "ioperm", "syslog", "sethostname", "quotactl",
				  "fsopen", "open_tree", "move_mount", "mbind", "vhangup", NULL };
	for (int i = 0; blocked[i]; i++)
		cr_assert_null(rule(blocked[i]), "%s is allowed", blocked[i]);
	const char *allowed[] = { "read", "write", "execve", "exit_group", "openat", "mmap", "clone",
				  "wait4", "rt_sigreturn", "sendmsg", "chroot", "ptrace", "arch_prctl", NULL };
	for (int i = 0; allowed[i]; i++)
		cr_assert_not_null(rule(allowed[i]), "%s is blocked", allowed[i]);
}

Test(crun_seccomp, conditional_rows)
{
	const struct cl_sc_rule *c = rule("clone");
	cr_assert_eq(c->kind, CL_SC_ALLOW_IF_MASK0);
	cr_assert_eq(c->vals[0], 0x7E020000ull, "namespace flags");
	const struct cl_sc_rule *c3 = rule("clone3");
	cr_assert_eq(c3->kind, CL_SC_ERRNO);
	cr_assert_eq(c3->errnum, ENOSYS, "libc falls back to clone");
	const struct cl_sc_rule *p = rule("personality");
	cr_assert_eq(p->kind, CL_SC_ALLOW_IF_EQ);
	cr_assert_eq(p->nvals, 5);
	cr_assert_eq(p->vals[4], 0xffffffffull);
	const struct cl_sc_rule *s = rule("socket");
	cr_assert_eq(s->kind, CL_SC_ALLOW_IF_NE);
	cr_assert_eq(s->vals[0], 40, "AF_VSOCK");
	for (size_t i = 0; i < crun_seccomp_default_count; i++) {
		const struct cl_sc_rule *r = &crun_seccomp_default[i];
		cr_assert_leq(r->nvals, 5);
		cr_assert_lt(r->arg, 6);
		if (r->kind == CL_SC_ERRNO)
			cr_assert(r->errnum > 0 && r->errnum != EPERM, "%s", r->name);
	}
}
