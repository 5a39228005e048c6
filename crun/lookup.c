/* Does an image hold an executable command? Asked before anything runs
 * (`fn deploy` refuses a handler the image does not have, naming it).
 * Paths resolve as inside the container: a layer is the root (openat2's
 * RESOLVE_IN_ROOT keeps absolute symlinks such as busybox's inside it),
 * the topmost layer holding the path wins, and a whiteout hides it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cloudlet/file.h"
#include "image.h"
#include "internal.h"

/* 1: an executable regular file; 0: absent or hidden; -errno */
static int layer_has(const char *layer, const char *path)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
	struct stat st;
	int dfd = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	int fd = (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
	int e = errno;
	close(dfd);
	if (fd < 0)
		return e == ENOENT || e == ENOTDIR ? 0 : -e;
	int r = fstat(fd, &st) < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	/* a whiteout (0/0 character device) hides lower layers */
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
		return -ENOENT;
	return S_ISREG(st.st_mode) && (st.st_mode & 0111) ? 1 : 0;
}

static int layers_have(char *const *layers, size_t n, const char *path)
{
	for (size_t i = n; i-- > 0;) {
		int r = layer_has(layers[i], path);
		if (r == -ENOENT)
			return 0;
		if (r != 0)
			return r;
	}
	return 0;
}

int crun_image_lookup(const char *root, const char *ref, const char *cmd, struct cl_error *err)
{
	struct image img = { 0 };
	char *one[2] = { NULL, NULL }, *const *layers;
	size_t nlayers;
	struct stat st;
	int r;

	if (!root)
		root = crun_default_root();
	if (!ref || !ref[0])
		return cl_err(err, EINVAL, "missing image");
	char *oci = ct_path_join(ref, "oci-layout");
	if (!oci)
		return cl_err(err, ENOMEM, "out of memory");
	bool rootfs = stat(ref, &st) == 0 && S_ISDIR(st.st_mode) && access(oci, F_OK) < 0;
	free(oci);
	if (rootfs) {
		one[0] = (char *)ref;
		layers = one;
		nlayers = 1;
	} else {
		char *store = ct_path_join(root, "images");
		if (!store)
			return cl_err(err, ENOMEM, "out of memory");
		r = cl_mkdir_p(store, 0700);
		if (r < 0)
			cl_err_sys(err, -r, "image store %s", store);
		else
			r = image_open(store, ref, &img, err);
		free(store);
		if (r < 0) {
			image_free(&img);
			return r;
		}
		layers = img.layers;
		nlayers = img.nlayers;
	}
	r = 0;
	char path[4096];
	if (strchr(cmd, '/')) {
		r = layers_have(layers, nlayers, cmd);
	} else {
		/* the container's default PATH, as the runtime sets it */
		const char *p = CRUN_DEFAULT_PATH;
		while (r == 0 && *p) {
			size_t k = strcspn(p, ":");
			if ((size_t)snprintf(path, sizeof(path), "%.*s/%s", (int)k, p, cmd) < sizeof(path))
				r = layers_have(layers, nlayers, path);
			p += k + (p[k] == ':');
		}
	}
	image_free(&img);
	if (r < 0)
		return cl_err_sys(err, -r, "image %s: %s", ref, cmd);
	if (r == 0)
		return cl_err(err, ENOENT, "image %s has no executable %s", ref, cmd);
	return 0;
}
