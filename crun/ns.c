/* Namespaces: the table of what a container gets, the one unshare(2) of
 * them, single-id user namespace maps, the hostname and the loopback. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

/* The user namespace first: the kernel makes it before the others in one
 * unshare(2), so it owns them (and may then mount proc, sysfs...). The pid
 * namespace applies to the caller's children: the helper forks PID 1. The
 * helper has joined the container's cgroup before, so that cgroup is the
 * root of the new cgroup namespace. */
const struct crun_namespace crun_namespaces[] = {
	{ "user", CLONE_NEWUSER, true },
	{ "mnt", CLONE_NEWNS, false },
	{ "uts", CLONE_NEWUTS, false },
	{ "ipc", CLONE_NEWIPC, false },
	{ "net", CLONE_NEWNET, false },
	{ "pid", CLONE_NEWPID, false },
	{ "cgroup", CLONE_NEWCGROUP, false },
};
const size_t crun_namespaces_count = sizeof(crun_namespaces) / sizeof(crun_namespaces[0]);

bool ct_ns_new_net(const struct ct *c)
{
	if (!c->bundle)
		return true;
	for (size_t i = 0; i < c->bundle->nns; i++)
		if (c->bundle->ns[i].flag == CLONE_NEWNET)
			return !c->bundle->ns[i].path;
	return false;
}

/* A bundle's namespaces: those with a path are joined (setns(2)), the
 * others made in the same one unshare(2) as ct run's table. */
static int bundle_flags(const struct ct *c, struct cl_error *err)
{
	int flags = 0;
	for (size_t i = 0; i < c->bundle->nns; i++) {
		const struct crun_bundle_ns *n = &c->bundle->ns[i];
		if (!n->path) {
			flags |= n->flag;
			continue;
		}
		int fd = open(n->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return cl_err_sys(err, errno, "namespace %s", n->path);
		int r = setns(fd, n->flag);
		int e = errno;
		close(fd);
		if (r < 0)
			return cl_err_sys(err, e, "join namespace %s", n->path);
	}
	return flags;
}

int ct_ns_unshare(const struct ct *c, struct cl_error *err)
{
	bool userns = c->userns;
	uid_t uid = c->uid;
	gid_t gid = c->gid;
	int flags = 0;
	if (c->bundle) {
		if ((flags = bundle_flags(c, err)) < 0)
			return flags;
	} else {
		for (size_t i = 0; i < crun_namespaces_count; i++)
			if (!crun_namespaces[i].userns_only || userns)
				flags |= crun_namespaces[i].flag;
	}
	if (flags && unshare(flags) < 0)
		return cl_err_sys(err, errno, "unshare namespaces");
	if (!userns)
		return 0;
	/* single-id maps: container root is the caller's own ids. Writing our
	 * own map needs no helper, but setgroups must be denied before gid_map. */
	char map[64];
	int r = cl_text_write("/proc/self/setgroups", "deny", err);
	if (r < 0)
		return r;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	if ((r = cl_text_write("/proc/self/uid_map", map, err)) < 0)
		return r;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	if ((r = cl_text_write("/proc/self/gid_map", map, err)) < 0)
		return r;
	return 0;
}

int ct_ns_hostname(const char *hostname, struct cl_error *err)
{
	if (sethostname(hostname, strlen(hostname)) < 0)
		return cl_err_sys(err, errno, "sethostname %s", hostname);
	return 0;
}

/* The new network namespace has only lo, down. Docker brings it up; so do
 * we (the workload's CAP_NET_ADMIN is dropped later). */
int ct_ns_lo_up(struct cl_error *err)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cl_err_sys(err, errno, "socket for lo");
	strcpy(ifr.ifr_name, "lo");
	int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	int e = errno;
	close(fd);
	if (r < 0)
		return cl_err_sys(err, e, "bring lo up");
	return 0;
}
