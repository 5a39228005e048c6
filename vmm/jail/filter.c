/* Building and installing the VMM's per-thread filters: see filter.h.
 * libseccomp compiles each table once, in the main thread before any
 * filter exists; a thread then needs only seccomp(2) to install its own. */
#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filter.h"

#define MAX_ROWS 64
#define MAX_IOCTLS 64

int vmm_seccomp_parse(const char *s, enum vmm_seccomp *mode, struct cl_error *err)
{
	static const char *const names[] = { [VMM_SECCOMP_KILL] = "kill", [VMM_SECCOMP_LOG] = "log",
					      [VMM_SECCOMP_OFF] = "off" };
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*mode = (enum vmm_seccomp)i;
			return 0;
		}
	return cl_err(err, EINVAL, "--seccomp '%s': expected kill, log or off", s);
}

int vmm_sc_rules(enum vmm_thread_kind kind, struct cl_sc_rule *out, size_t max,
		 uint64_t *vals, size_t max_vals)
{
	const struct vmm_sc_table *t = &vmm_sc_tables[kind];
	size_t nv = 0;
	for (size_t i = 0; i < vmm_ioctl_reqs_count; i++)
		if (vmm_ioctl_reqs[i].kinds & (1u << kind)) {
			if (nv == max_vals)
				return -E2BIG;
			vals[nv++] = vmm_ioctl_reqs[i].req;
		}
	if (t->n > max)
		return -E2BIG;
	for (size_t i = 0; i < t->n; i++) {
		out[i] = t->rules[i];
		if (!strcmp(out[i].name, "ioctl")) {
			out[i].vals = vals;
			out[i].nvals = (unsigned)nv;
		}
	}
	return (int)t->n;
}

uint32_t vmm_sc_default_action(enum vmm_seccomp mode)
{
	return mode == VMM_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
}

/* libseccomp 2.5 exports only to an fd: a memfd, read back */
static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *out, struct cl_error *err)
{
	int r, fd = memfd_create("cloudlet-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return cl_err_sys(err, errno, "seccomp: memfd_create");
	if ((r = seccomp_export_bpf(ctx, fd)) < 0) {
		r = cl_err(err, -r, "seccomp: export the filter: %s", strerror(-r));
		goto out;
	}
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		r = cl_err(err, EINVAL, "seccomp: the filter is %lld bytes", (long long)size);
		goto out;
	}
	out->filter = malloc((size_t)size);
	if (!out->filter) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	if (pread(fd, out->filter, (size_t)size, 0) != size) {
		r = cl_err_sys(err, errno, "seccomp: read the filter back");
		free(out->filter);
		out->filter = NULL;
		goto out;
	}
	out->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	r = 0;
out:
	close(fd);
	return r;
}

int vmm_sc_build(enum vmm_thread_kind kind, uint32_t default_action, struct sock_fprog *out,
		 struct cl_error *err)
{
	struct cl_sc_rule rows[MAX_ROWS];
	uint64_t vals[MAX_IOCTLS];
	int r, n = vmm_sc_rules(kind, rows, MAX_ROWS, vals, MAX_IOCTLS);
	memset(out, 0, sizeof(*out));
	if (n < 0)
		return cl_err(err, -n, "seccomp: the %s table is too large", vmm_sc_tables[kind].kind);
	scmp_filter_ctx ctx = seccomp_init(default_action);
	if (!ctx)
		return cl_err(err, EINVAL, "seccomp_init failed");
	/* another ABI's syscall numbers (i386's int 0x80, x32) mean other
	 * calls: never allowed, whatever the mode; no_new_privs is ours to set */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0) {
		r = cl_err(err, -r, "seccomp: filter attributes: %s", strerror(-r));
		goto out;
	}
	if ((r = cl_seccomp_add(ctx, rows, (size_t)n, err)) < 0) {
		cl_err_wrap(err, "%s thread", vmm_sc_tables[kind].kind);
		goto out;
	}
	r = export_bpf(ctx, out, err);
out:
	seccomp_release(ctx);
	return r;
}

void vmm_sc_free(struct sock_fprog *p)
{
	free(p->filter);
	p->filter = NULL;
	p->len = 0;
}

int vmm_sc_install(const struct sock_fprog *p)
{
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, p) < 0 ? -errno : 0;
}
