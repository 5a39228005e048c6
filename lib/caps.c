/* Capabilities: see include/cloudlet/caps.h. */
#include <errno.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "cloudlet/caps.h"

uint64_t cl_caps_mask(const int *caps, size_t n)
{
	uint64_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (caps[i] >= 0 && caps[i] < 64)
			m |= 1ull << caps[i];
	return m;
}

int cl_caps_bound(uint64_t keep, struct cl_error *err)
{
	int last = (int)cap_max_bits();
	for (int cap = 0; cap < last && cap < 64; cap++) {
		if (keep & (1ull << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return cl_err_sys(err, errno, "drop capability %d from the bounding set", cap);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return cl_err_sys(err, errno, "clear the ambient capabilities");
	return 0;
}

int cl_caps_set(const int *caps, size_t n, struct cl_error *err)
{
	cap_t c = cap_init();   /* all clear */
	if (!c)
		return cl_err_sys(err, errno, "cap_init");
	int r = 0;
	if (n && (cap_set_flag(c, CAP_EFFECTIVE, (int)n, caps, CAP_SET) < 0 ||
		  cap_set_flag(c, CAP_PERMITTED, (int)n, caps, CAP_SET) < 0 ||
		  cap_set_flag(c, CAP_INHERITABLE, (int)n, caps, CAP_SET) < 0))
		r = cl_err_sys(err, errno, "cap_set_flag");
	else if (cap_set_proc(c) < 0)
		r = cl_err_sys(err, errno, "set the process capabilities");
	cap_free(c);
	return r;
}
