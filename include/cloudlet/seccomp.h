/* Seccomp allowlists as data (seccomp(2), through libseccomp), shared by the
 * container runtime's default profile (crun/seccomp.c) and the VMM's
 * per-thread tables (vmm/jail/). A table is sorted by name, one row per
 * syscall; a conditional row allows on a test of one argument. */
#ifndef CLOUDLET_SECCOMP_H
#define CLOUDLET_SECCOMP_H

#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

#include "cloudlet/error.h"

enum cl_sc_kind {
	CL_SC_ALLOW,             /* always */
	CL_SC_ALLOW_IF_EQ,       /* arg == one of vals[0..nvals) */
	CL_SC_ALLOW_IF_NE,       /* arg != vals[0] */
	CL_SC_ALLOW_IF_MASK0,    /* (arg & vals[0]) == 0 */
	CL_SC_ERRNO,             /* fail with errnum (not the default action) */
};

struct cl_sc_rule {
	const char *name;        /* x86-64 name, as libseccomp resolves it */
	enum cl_sc_kind kind;
	unsigned arg;            /* 0..5 */
	unsigned nvals;
	const uint64_t *vals;
	int errnum;
	const char *why;         /* why the row is there (NULL: a Docker default) */
};

/* Add rows to a libseccomp filter (names this architecture lacks are
 * skipped: a table may list other ABIs' calls). */
int cl_seccomp_add(scmp_filter_ctx ctx, const struct cl_sc_rule *rules, size_t n,
		   struct cl_error *err);

#endif
