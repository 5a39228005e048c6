/* What the VMM process gives up before it sets the VM up: fds it did not
 * open for the VM, resources beyond its needs, root and every capability.
 * capabilities(7), "Effect of user ID changes": setresuid from root to
 * another uid clears the permitted, effective and ambient sets; the
 * bounding set must be emptied before, while CAP_SETPCAP is still held. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cloudlet/caps.h"
#include "jail.h"

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void jail_close_fds(const int *keep, int nkeep)
{
	int k[64], n = 0;
	for (int i = 0; i < nkeep && n < 64; i++)
		if (keep[i] > 2)
			k[n++] = keep[i];
	qsort(k, (size_t)n, sizeof(int), cmp_int);
	unsigned lo = 3;
	for (int i = 0; i < n; i++) {
		if ((unsigned)k[i] > lo)
			close_range(lo, (unsigned)k[i] - 1, 0);
		lo = (unsigned)k[i] + 1;
	}
	close_range(lo, ~0u, 0);
}

static int limit(int resource, const char *name, uint64_t want, struct cl_error *err)
{
	struct rlimit rl;
	if (getrlimit(resource, &rl) < 0)
		return cl_err_sys(err, errno, "getrlimit %s", name);
	/* only ever lower: raising needs CAP_SYS_RESOURCE (and is not the point) */
	if (rl.rlim_max == RLIM_INFINITY || want < rl.rlim_max)
		rl.rlim_max = want;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(resource, &rl) < 0)
		return cl_err_sys(err, errno, "setrlimit %s %llu", name, (unsigned long long)want);
	return 0;
}

int jail_rlimits(const struct vmm_config *cfg, unsigned ndevs, struct cl_error *err)
{
	uint64_t disk = 0, console_size = 0;
	struct stat st;
	for (unsigned i = 0; i < cfg->ndisks; i++)
		if (!cfg->disks[i].ro && stat(cfg->disks[i].path, &st) == 0 && (uint64_t)st.st_size > disk)
			disk = (uint64_t)st.st_size;
	bool console_file = cfg->console_out >= 0 && fstat(cfg->console_out, &st) == 0 &&
			    S_ISREG(st.st_mode);
	if (console_file)
		console_size = (uint64_t)st.st_size;
	/* the highest fd now open: the fds were closed down to the VM's */
	int highest = 2;
	for (int fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			highest = fd;
	int r;
	if ((r = limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", jail_nofile_limit(highest, cfg->ncpus, ndevs), err)) < 0 ||
	    (r = limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", jail_fsize_limit(disk, console_file, console_size), err)) < 0 ||
	    (r = limit(RLIMIT_CORE, "RLIMIT_CORE", 0, err)) < 0)
		return r;
	/* past RLIMIT_FSIZE a write fails with EFBIG instead of killing */
	signal(SIGXFSZ, SIG_IGN);
	return 0;
}

int jail_drop_privileges(uid_t uid, gid_t gid, struct cl_error *err)
{
	int r;
	if ((r = cl_caps_bound(0, err)) < 0)
		return r;
	if (setgroups(0, NULL) < 0)
		return cl_err_sys(err, errno, "setgroups");
	if (setresgid(gid, gid, gid) < 0)
		return cl_err_sys(err, errno, "setresgid %u", (unsigned)gid);
	if (setresuid(uid, uid, uid) < 0)
		return cl_err_sys(err, errno, "setresuid %u", (unsigned)uid);
	/* the inheritable set survives the uid change: empty it too */
	if ((r = cl_caps_set(NULL, 0, err)) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cl_err_sys(err, errno, "no_new_privs");
	/* no core dump of guest RAM, no ptrace by other processes of uid */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return cl_err_sys(err, errno, "PR_SET_DUMPABLE");
	return 0;
}
