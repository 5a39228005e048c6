/* The container's root: an overlayfs of the image's layers (shared,
 * read-only) and the container's own upper/work dirs, then pivot_root into
 * it. Everything happens in the container's private mount namespace, so the
 * host never sees these mounts and they vanish with the container. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static int overlay_path_ok(const char *what, const char *p, struct cl_error *err)
{
	if (!p || p[0] != '/')
		return cl_err(err, EINVAL, "overlay %s '%s' is not an absolute path", what, p ? p : "");
	/* ':' separates lowerdirs, ',' options; the kernel's escapes are not worth it */
	if (strpbrk(p, ":,\\"))
		return cl_err(err, EINVAL, "overlay %s '%s' contains ':', ',' or '\\'", what, p);
	return 0;
}

int crun_overlay_data(char *const *layers, size_t nlayers, const char *upper,
		      const char *work, bool userns, char *buf, size_t len,
		      struct cl_error *err)
{
	size_t n = 0;
	int r;

	if (!nlayers)
		return cl_err(err, EINVAL, "overlay: no layers");
	if ((r = overlay_path_ok("upperdir", upper, err)) < 0 ||
	    (r = overlay_path_ok("workdir", work, err)) < 0)
		return r;
#define PUT(...) do { \
		int k_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__); \
		if (k_ < 0) \
			return cl_err(err, EINVAL, "overlay options"); \
		n += (size_t)k_; \
	} while (0)
	PUT("lowerdir=");
	bool first = true;
	for (size_t i = nlayers; i-- > 0;) {   /* the top layer first */
		if ((r = overlay_path_ok("layer", layers[i], err)) < 0)
			return r;
		/* a layer repeated (same diff_id twice) is one dir, which overlay
		 * refuses twice; its topmost place is the one that counts */
		bool seen = false;
		for (size_t j = i + 1; j < nlayers && !seen; j++)
			seen = !strcmp(layers[i], layers[j]);
		if (seen)
			continue;
		PUT("%s%s", first ? "" : ":", layers[i]);
		first = false;
	}
	PUT(",upperdir=%s,workdir=%s", upper, work);
	/* a user namespace cannot use trusted.* xattrs: overlay keeps its
	 * metadata (opaque dirs, redirects) in user.overlay.* there */
	if (userns)
		PUT(",userxattr");
#undef PUT
	/* mount(2) copies one page of options */
	if (n >= len || n >= 4096)
		return cl_err(err, E2BIG, "overlay options for %zu layers are %zu bytes, more than one page",
			      nlayers, n);
	return 0;
}

int ct_rootfs_enter(const struct ct *c, struct cl_error *err)
{
	char data[4096];
	int r;

	/* nothing we mount may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return cl_err_sys(err, errno, "make / private");
	if (c->bundle) {
		/* runtime-spec: the bundle's root is used in place; pivot_root
		 * needs it to be a mount point */
		if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
			return cl_err_sys(err, errno, "bind the bundle's root %s", c->rootfs);
	} else {
		if ((r = crun_overlay_data(c->layers, c->nlayers, c->upper, c->work, c->userns,
					   data, sizeof(data), err)) < 0)
			return r;
		if (mount("overlay", c->rootfs, "overlay", 0, data) < 0)
			return cl_err_sys(err, errno, "mount overlay on %s (%zu layer%s)", c->rootfs,
					  c->nlayers, c->nlayers == 1 ? "" : "s");
	}
	if (chdir(c->rootfs) < 0)
		return cl_err_sys(err, errno, "chdir %s", c->rootfs);
	return 0;
}

int ct_rootfs_pivot(const struct ct *c, struct cl_error *err)
{
	/* the old root stays reachable under CT_OLDROOT until the mounts that
	 * need it are done: in a user namespace, proc and sysfs may only be
	 * mounted while a full instance of each is visible (and devices are
	 * bound from the host's /dev) */
	if (mkdir(c->oldroot + 1, 0700) < 0 && errno != EEXIST)
		return cl_err_sys(err, errno, "mkdir %s in the rootfs", c->oldroot);
	if (syscall(SYS_pivot_root, ".", c->oldroot + 1) < 0)
		return cl_err_sys(err, errno, "pivot_root to %s", c->rootfs);
	if (chdir("/") < 0)
		return cl_err_sys(err, errno, "chdir / in the container");
	return 0;
}

int ct_rootfs_finish(const struct ct *c, struct cl_error *err)
{
	if (umount2(c->oldroot, MNT_DETACH) < 0)
		return cl_err_sys(err, errno, "detach the old root");
	if (rmdir(c->oldroot) < 0)
		return cl_err_sys(err, errno, "rmdir %s", c->oldroot);
	/* config.md root.readonly */
	if (c->bundle && c->bundle->rootfs_readonly &&
	    mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		return cl_err_sys(err, errno, "remount the root read-only");
	return 0;
}
