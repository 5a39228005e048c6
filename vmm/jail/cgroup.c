/* The VM's cgroup (lib/cgroup*.c, v1 or v2 as the host has): memory for
 * guest RAM plus the VMM's stated overhead, pids for its threads. A
 * controller that is missing is an error, as for containers. */
#include "jail.h"

int jail_cgroup_make(struct jail *j, const struct vmm_config *cfg, struct cl_error *err)
{
	static const char *const why[CL_CG_NCTRL] = {
		[CL_CG_MEMORY] = "the VMM's memory limit",
		[CL_CG_PIDS] = "the VMM's pids limit",
	};
	const struct cl_cg_limits lim = {
		.memory = jail_memory_limit(cfg->mem_size),
		.pids = jail_pids_limit(cfg->ncpus),
	};
	const struct cl_cg_spec spec = {
		.parent = VMM_JAIL_CG_PARENT, .name = j->id, .limits = &lim, .why = why,
	};
	const struct cl_cgroup_ops *ops;
	struct cl_cg_layout layout;
	int r;
	if ((r = cl_cgroup_ops_get(&ops, &layout, err)) < 0 ||
	    (r = ops->create(&j->cg, &layout, &spec, err)) < 0)
		return r;
	j->cg_ops = ops;
	return 0;
}
