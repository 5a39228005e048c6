/* The jail's directory: checked, made per VM under the base, entered with
 * pivot_root by the VMM process, removed by the launcher. It stays empty:
 * everything the VMM needs was opened before it entered (Firecracker's
 * jailer must link /dev/kvm, the tap device and the drives into its chroot
 * because firecracker opens them later; this VMM holds fds instead, so
 * there is nothing to bind-mount, and its seccomp filters forbid open*
 * anyway). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cloudlet/file.h"
#include "jail.h"

int jail_check(struct jail *j, struct cl_error *err)
{
	char *uid_map = NULL, *gid_map = NULL;
	struct stat st;
	int r;
	j->base = j->opts->base ? j->opts->base : VMM_JAIL_BASE;
	/* outside a user namespace the maps are the identity: read them anyway */
	cl_text_read("/proc/self/uid_map", 1 << 16, &uid_map, NULL);
	cl_text_read("/proc/self/gid_map", 1 << 16, &gid_map, NULL);
	r = jail_ids_check(j->opts->uid, j->opts->gid, uid_map, gid_map, err);
	free(uid_map);
	free(gid_map);
	if (r < 0)
		return r;
	/* the default base is ours to make (on /run: gone at reboot, like
	 * anything a crash could leave in it); one given must exist */
	if (!j->opts->base && lstat(j->base, &st) < 0 && errno == ENOENT &&
	    (r = cl_mkdir_p(j->base, 0700)) < 0)
		return cl_err_sys(err, -r, "jail base %s", j->base);
	if (lstat(j->base, &st) < 0)
		return cl_err_sys(err, errno, "--jail-base %s", j->base);
	return jail_base_check(j->base, &st, geteuid(), err);
}

/* A jail whose directory lock is free belongs to a launcher that died
 * (its VMM died with it, PR_SET_PDEATHSIG): remove its cgroup, then it.
 * Called with the base locked, so no launch is between mkdtemp and flock. */
static void jail_gc(int basefd)
{
	const struct cl_cgroup_ops *ops;
	struct cl_cg_layout layout;
	int fd = dup(basefd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	bool have_ops = cl_cgroup_ops_get(&ops, &layout, NULL) == 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (strncmp(e->d_name, "vm-", 3) != 0 || strlen(e->d_name) != 9)
			continue;
		int dfd = openat(basefd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue;
		if (flock(dfd, LOCK_EX | LOCK_NB) == 0) {
			if (have_ops) {
				struct cl_cgroup cg;
				cl_cg_locate(&layout, ops->version, VMM_JAIL_CG_PARENT, e->d_name, &cg);
				ops->destroy(&cg, NULL);
			}
			unlinkat(basefd, e->d_name, AT_REMOVEDIR);
		}
		close(dfd);
	}
	closedir(d);
}

int jail_dir_make(struct jail *j, struct cl_error *err)
{
	char path[PATH_MAX];
	int r = 0;
	if (snprintf(path, sizeof(path), "%s/vm-XXXXXX", j->base) >= (int)sizeof(path))
		return cl_err(err, ENAMETOOLONG, "--jail-base %s: path too long", j->base);
	int basefd = open(j->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (basefd < 0 || flock(basefd, LOCK_EX) < 0) {
		r = cl_err_sys(err, errno, "jail base %s", j->base);
		goto out;
	}
	jail_gc(basefd);
	/* mkdtemp: 0700, a name nobody else had */
	if (!mkdtemp(path)) {
		r = cl_err_sys(err, errno, "jail directory in %s", j->base);
		goto out;
	}
	j->lock = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->lock < 0 || flock(j->lock, LOCK_EX) < 0) {
		r = cl_err_sys(err, errno, "lock %s", path);
		if (j->lock >= 0)
			close(j->lock);
		j->lock = -1;
		rmdir(path);
		goto out;
	}
	snprintf(j->dir, sizeof(j->dir), "%s", path);
	snprintf(j->id, sizeof(j->id), "%s", strrchr(path, '/') + 1);
out:
	if (basefd >= 0)
		close(basefd);   /* and its lock */
	return r;
}

void jail_remove(struct jail *j)
{
	if (j->cg_ops) {
		j->cg_ops->destroy(&j->cg, NULL);
		j->cg_ops = NULL;
	}
	/* empty, and the mounts on it lived in the VMM's mount namespace only */
	if (j->dir[0])
		rmdir(j->dir);
	j->dir[0] = '\0';
	if (j->lock >= 0)
		close(j->lock);
	j->lock = -1;
}

int jail_pivot(const char *dir, struct cl_error *err)
{
	/* nothing mounted here may propagate back to the host (mount_namespaces(7)) */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return cl_err_sys(err, errno, "jail: make / private");
	/* pivot_root(2) wants new_root to be a mount point */
	if (mount(dir, dir, NULL, MS_BIND, NULL) < 0)
		return cl_err_sys(err, errno, "jail: bind %s", dir);
	if (chdir(dir) < 0)
		return cl_err_sys(err, errno, "jail: chdir %s", dir);
	/* pivot_root(".", ".") stacks the old root on the new one (the
	 * pivot_root(2) NOTES idiom): no directory is needed to park it in,
	 * and detaching "." then leaves only the jail */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return cl_err_sys(err, errno, "jail: pivot_root to %s", dir);
	if (umount2(".", MNT_DETACH) < 0)
		return cl_err_sys(err, errno, "jail: detach the old root");
	if (chdir("/") < 0)
		return cl_err_sys(err, errno, "jail: chdir /");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return cl_err_sys(err, errno, "jail: remount / read-only");
	return 0;
}
