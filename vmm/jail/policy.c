/* The jail's limits and input checks, pure (see jail.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jail.h"

uint64_t jail_memory_limit(uint64_t guest_mem)
{
	return guest_mem + VMM_JAIL_MEM_OVERHEAD;
}

uint64_t jail_pids_limit(unsigned ncpus)
{
	return 1 + (uint64_t)ncpus + JAIL_PIDS_KVM;
}

uint64_t jail_nofile_limit(int highest_fd, unsigned ncpus, unsigned ndevs)
{
	/* a vCPU: its fd and its stats fd; a device: irqfd + a queue eventfd
	 * per queue (2 at most) + its host fd, already counted in highest_fd */
	return (uint64_t)(highest_fd < 2 ? 2 : highest_fd) + 1 + JAIL_NOFILE_SETUP +
	       2 * (uint64_t)ncpus + 3 * (uint64_t)ndevs;
}

uint64_t jail_fsize_limit(uint64_t largest_rw_disk, bool console_is_file, uint64_t console_size)
{
	uint64_t m = largest_rw_disk;
	if (console_is_file && console_size + JAIL_CONSOLE_FSIZE > m)
		m = console_size + JAIL_CONSOLE_FSIZE;
	/* the seccomp filters are exported through a memfd, a regular file too */
	return m > JAIL_FSIZE_MIN ? m : JAIL_FSIZE_MIN;
}

/* Is id inside one of the map's ranges ("inside outside count" lines)? */
static bool id_mapped(const char *map, uint32_t id)
{
	if (!map)
		return true;
	for (const char *l = map; l && *l;) {
		unsigned long long in, out, count;
		if (sscanf(l, "%llu %llu %llu", &in, &out, &count) == 3 && id >= in && id - in < count)
			return true;
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return false;
}

int jail_ids_check(uid_t uid, gid_t gid, const char *uid_map, const char *gid_map,
		   struct cl_error *err)
{
	if (uid == 0)
		return cl_err(err, EINVAL, "--uid 0: the jailed VMM does not run as root");
	if (gid == 0)
		return cl_err(err, EINVAL, "--gid 0: the jailed VMM does not run in group root");
	if (uid == (uid_t)-1)
		return cl_err(err, EINVAL, "--uid %" PRIu32 ": not a valid id (it means \"no change\")",
			      (uint32_t)uid);
	if (gid == (gid_t)-1)
		return cl_err(err, EINVAL, "--gid %" PRIu32 ": not a valid id (it means \"no change\")",
			      (uint32_t)gid);
	if (!id_mapped(uid_map, uid))
		return cl_err(err, EINVAL, "--uid %" PRIu32 ": not mapped in this user namespace",
			      (uint32_t)uid);
	if (!id_mapped(gid_map, gid))
		return cl_err(err, EINVAL, "--gid %" PRIu32 ": not mapped in this user namespace",
			      (uint32_t)gid);
	return 0;
}

int jail_base_check(const char *path, const struct stat *st, uid_t euid, struct cl_error *err)
{
	if (path[0] != '/')
		return cl_err(err, EINVAL, "--jail-base %s: not an absolute path", path);
	if (!S_ISDIR(st->st_mode))
		return cl_err(err, ENOTDIR, "--jail-base %s: not a directory%s", path,
			      S_ISLNK(st->st_mode) ? " (a symbolic link)" : "");
	if (st->st_uid != euid)
		return cl_err(err, EPERM, "--jail-base %s: owned by uid %u, not by the launcher (%u)",
			      path, (unsigned)st->st_uid, (unsigned)euid);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return cl_err(err, EPERM, "--jail-base %s: %s-writable (another user could replace a VM's jail)",
			      path, st->st_mode & S_IWOTH ? "world" : "group");
	return 0;
}
