/* Item 4 of `bench all`: what each kind exposes to the host kernel, as
 * rows of (microVM, container, why). The syscall and ioctl figures come
 * from the tables the filters are built from (vmm/jail/sc_tables.c and
 * sc_ioctls.c: `cloudlet vm seccomp-profile`; crun/seccomp.c, the
 * container's default profile); the rest was seen on the live idle
 * instances (struct bench_facts). Pure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cloudlet/bench.h"
#include "cloudlet/crun.h"
#include "cloudlet/vmm.h"

#define ANY BENCH_SURFACE_ANY
#define NA BENCH_SURFACE_NA

/* a measured fact, or that it was not measured (no idle instance ran) */
static long fact(int x)
{
	return x < 0 ? BENCH_SURFACE_UNMEASURED : x;
}

/* rows that let the call through (an errno row refuses it) */
static bool allows(const struct cl_sc_rule *r)
{
	return r->kind != CL_SC_ERRNO;
}

/* distinct syscalls any VMM thread kind may make */
static long vmm_syscalls(void)
{
	const char *seen[256];
	size_t n = 0;
	for (int k = 0; k < VMM_THREAD_NKINDS; k++)
		for (size_t i = 0; i < vmm_sc_tables[k].n; i++) {
			const struct cl_sc_rule *r = &vmm_sc_tables[k].rules[i];
			bool dup = false;
			for (size_t j = 0; j < n && !dup; j++)
				dup = !strcmp(seen[j], r->name);
			if (!dup && allows(r) && n < sizeof(seen) / sizeof(seen[0]))
				seen[n++] = r->name;
		}
	return (long)n;
}

static long ct_syscalls(void)
{
	long n = 0;
	for (size_t i = 0; i < crun_seccomp_default_count; i++)
		n += allows(&crun_seccomp_default[i]);
	return n;
}

static void row(struct bench_surface_row *rows, size_t *n, size_t max, const char *what, long vm, long ct,
		const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void row(struct bench_surface_row *rows, size_t *n, size_t max, const char *what, long vm, long ct,
		const char *fmt, ...)
{
	if (*n >= max)
		return;
	struct bench_surface_row *r = &rows[(*n)++];
	r->what = what;
	r->vm = vm;
	r->ct = ct;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

size_t bench_surface(const struct bench_facts f[BENCH_NKINDS], struct bench_surface_row *rows, size_t max)
{
	size_t n = 0;
	long after = 0, kvm = 0;
	for (size_t i = 0; i < vmm_ioctl_reqs_count; i++) {
		after += vmm_ioctl_reqs[i].kinds != 0;
		kvm += !strncmp(vmm_ioctl_reqs[i].name, "KVM_", 4);
	}
	const struct bench_facts *v = &f[BENCH_VM], *c = &f[BENCH_CT];
	row(rows, &n, max, "host syscalls allowed", vmm_syscalls(), ct_syscalls(),
	    "VMM: the union of its threads' allowlists; container: the default profile its workload runs under");
	row(rows, &n, max, "ioctl requests allowed", after, ANY,
	    "VMM: only the requests its threads make after setup; the container profile allows ioctl whole");
	row(rows, &n, max, "KVM ioctls used (setup included)", kvm, NA,
	    "the VMM's whole KVM API; a container makes no KVM calls: its interface is the syscall table");
	row(rows, &n, max, "emulated devices", fact(v->devices), 0,
	    "each a guest-reachable parser in the VMM; a container reaches the host's own drivers instead");
	row(rows, &n, max, "device nodes in its /dev", fact(v->devnodes), fact(c->devnodes),
	    "host device nodes it can open (the jailed VMM's root is an empty directory)");
	row(rows, &n, max, "namespaces shared with the host", v->ns_own < 0 ? fact(-1) : 8 - v->ns_own,
	    c->ns_own < 0 ? fact(-1) : 8 - c->ns_own, "of 8 kinds; own: VM %s, container %s",
	    v->ns_names[0] ? v->ns_names : "none", c->ns_names[0] ? c->ns_names : "none");
	row(rows, &n, max, "mounts in its mount namespace", fact(v->mounts), fact(c->mounts),
	    "file systems the kernel resolves its paths through");
	row(rows, &n, max, "seccomp filters on the process", fact(v->seccomp_filters), fact(c->seccomp_filters),
	    "/proc/PID/status Seccomp_filters of the VMM, of the container's first process");
	return n;
}
