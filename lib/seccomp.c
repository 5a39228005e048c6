/* Seccomp rows into a libseccomp filter: see include/cloudlet/seccomp.h. */
#include <errno.h>
#include <string.h>

#include "cloudlet/seccomp.h"

/* every field named (libseccomp's SCMP_CMP leaves datum_b implicit, which
 * clang's -Wmissing-field-initializers refuses in the fuzz build) */
static struct scmp_arg_cmp cmp(unsigned arg, enum scmp_compare op, uint64_t a, uint64_t b)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = op, .datum_a = a, .datum_b = b };
}

static int add_rule(scmp_filter_ctx ctx, const struct cl_sc_rule *r, int nr)
{
	switch (r->kind) {
	case CL_SC_ALLOW:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	case CL_SC_ALLOW_IF_EQ:
		for (unsigned i = 0; i < r->nvals; i++) {
			int e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
						 cmp(r->arg, SCMP_CMP_EQ, r->vals[i], 0));
			if (e < 0)
				return e;
		}
		return 0;
	case CL_SC_ALLOW_IF_NE:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, cmp(r->arg, SCMP_CMP_NE, r->vals[0], 0));
	case CL_SC_ALLOW_IF_MASK0:
		/* (arg & mask) == 0: datum_a the mask, datum_b the value */
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					cmp(r->arg, SCMP_CMP_MASKED_EQ, r->vals[0], 0));
	case CL_SC_ERRNO:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO((unsigned)r->errnum), nr, 0);
	}
	return -EINVAL;
}

int cl_seccomp_add(scmp_filter_ctx ctx, const struct cl_sc_rule *rules, size_t n,
		   struct cl_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(rules[i].name);
		if (nr == __NR_SCMP_ERROR)
			continue;   /* not a syscall of this architecture */
		int e = add_rule(ctx, &rules[i], nr);
		if (e < 0)
			return cl_err(err, -e, "seccomp rule for %s: %s", rules[i].name, strerror(-e));
	}
	return 0;
}
