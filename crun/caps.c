/* Capabilities: the Docker/moby default set (a superset of the OCI
 * runtime-spec example's AUDIT_WRITE, KILL, NET_BIND_SERVICE). Everything
 * else leaves the bounding set, and the process sets hold exactly this
 * (root) or nothing (another user); ambient is cleared. */
#include <errno.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "internal.h"

const int crun_default_caps[] = {
	CAP_CHOWN,
	CAP_DAC_OVERRIDE,
	CAP_FOWNER,
	CAP_FSETID,
	CAP_KILL,
	CAP_SETGID,
	CAP_SETUID,
	CAP_SETPCAP,
	CAP_NET_BIND_SERVICE,
	CAP_NET_RAW,
	CAP_SYS_CHROOT,
	CAP_MKNOD,
	CAP_AUDIT_WRITE,
	CAP_SETFCAP,
};
const size_t crun_default_caps_count = sizeof(crun_default_caps) / sizeof(crun_default_caps[0]);

uint64_t crun_caps_mask(const int *caps, size_t n)
{
	uint64_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (caps[i] >= 0 && caps[i] < 64)
			m |= 1ull << caps[i];
	return m;
}

/* every capability the kernel knows outside `keep` leaves the bounding set */
static int drop_bounding(uint64_t keep, struct cl_error *err)
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

static int set_proc(const int *caps, size_t n, struct cl_error *err)
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

/* The workload, before it changes user: the bounding set and ambient
 * (dropping needs CAP_SETPCAP, which a non-root user loses at setuid). */
int ct_caps_bound(struct cl_error *err)
{
	return drop_bounding(crun_caps_mask(crun_default_caps, crun_default_caps_count), err);
}

/* The workload, after setuid: root keeps the default set, others none. */
int ct_caps_set(bool root_user, struct cl_error *err)
{
	return root_user ? set_proc(crun_default_caps, crun_default_caps_count, err)
			 : set_proc(NULL, 0, err);
}

/* The init shim, once the workload runs: it only waits and forwards signals. */
int ct_caps_drop_all(struct cl_error *err)
{
	int r = drop_bounding(0, err);
	return r < 0 ? r : set_proc(NULL, 0, err);
}
