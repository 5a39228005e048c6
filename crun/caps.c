/* Capabilities: the Docker/moby default set (a superset of the OCI
 * runtime-spec example's AUDIT_WRITE, KILL, NET_BIND_SERVICE). Everything
 * else leaves the bounding set, and the process sets hold exactly this
 * (root) or nothing (another user); ambient is cleared. */
#include <linux/capability.h>

#include "cloudlet/caps.h"
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

/* The workload, before it changes user: the bounding set and ambient
 * (dropping needs CAP_SETPCAP, which a non-root user loses at setuid). */
int ct_caps_bound(const struct ct *c, struct cl_error *err)
{
	return cl_caps_bound(cl_caps_mask(c->caps, c->ncaps), err);
}

/* The workload, after setuid: root keeps the default set, others none. */
int ct_caps_set(const struct ct *c, bool root_user, struct cl_error *err)
{
	return root_user ? cl_caps_set(c->caps, c->ncaps, err)
			 : cl_caps_set(NULL, 0, err);
}

/* The init shim, once the workload runs: it only waits and forwards signals. */
int ct_caps_drop_all(struct cl_error *err)
{
	int r = cl_caps_bound(0, err);
	return r < 0 ? r : cl_caps_set(NULL, 0, err);
}
