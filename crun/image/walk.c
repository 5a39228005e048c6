/* Paths inside a layer being unpacked: cleaning entry names, walking to
 * an entry's parent directory without ever following a symlink, and the
 * directory attributes that can only be set once the layer is complete.
 * Every later call is relative to the directory fd this returns, so no
 * entry can write outside the layer root, whatever earlier entries planted
 * (the guarantee umoci and containerd get from securejoin/openat2; we
 * refuse such paths instead of resolving them inside the root). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define CRUN_IMAGE_INTERNAL
#include "../image.h"

/* "/a//./b/" -> "a/b"; "" is the root. Entry names are relative to the
 * layer root even when they start with '/' (layer.md: a changeset is a
 * tree relative to its root); ".." is refused outright, never resolved. */
int img_path_clean(const char *in, char *out, size_t len, struct cl_error *err)
{
	size_t o = 0;
	for (const char *p = in; *p;) {
		if (*p == '/') {
			p++;
			continue;
		}
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return cl_err(err, EPERM, "'..' in the path");
		if (!(n == 1 && p[0] == '.')) {
			if (n > NAME_MAX || o + n + 2 > len)
				return cl_err(err, ENAMETOOLONG, "path too long");
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p = e;
	}
	out[o] = '\0';
	return 0;
}

int img_is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* Both names: overlayfs reads trusted.overlay.* normally and user.overlay.*
 * when mounted with userxattr (in a user namespace). The user one is
 * dropped where the file system has no user xattrs. */
int img_set_opaque(int dirfd, const char *what, struct cl_error *err)
{
	if (fsetxattr(dirfd, IMAGE_OVL_OPAQUE, "y", 1, 0) < 0)
		return cl_err_sys(err, errno, "'%s': set " IMAGE_OVL_OPAQUE " (needs CAP_SYS_ADMIN)", what);
	if (fsetxattr(dirfd, IMAGE_OVL_OPAQUE_USER, "y", 1, 0) < 0 && errno != ENOTSUP)
		return cl_err_sys(err, errno, "'%s': set " IMAGE_OVL_OPAQUE_USER, what);
	return 0;
}

/* One step down from FD to the directory P (PATH, cut after P, names it
 * in messages). Never follows a symlink. With CREATE a missing directory is
 * made 0755 (tar does the same; the layer's own entry for it, if any, sets
 * its attributes later), and so is one this layer whited out before: ".wh.P"
 * then "P/x" is a new P that hides the lower one, i.e. an opaque P. */
static int step(int fd, const char *path, const char *p, int create, struct cl_error *err)
{
	struct stat st;
	int nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (nfd >= 0)
		return nfd;
	int e = errno, have = fstatat(fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (have && S_ISLNK(st.st_mode))
		return cl_err(err, ELOOP, "'%s' is a symlink: not followed", path);
	if (have && !(create && img_is_whiteout(&st)))
		return cl_err(err, ENOTDIR, "'%s' is not a directory", path);
	if (!have && !(create && e == ENOENT))
		return e == ENOENT ? cl_err(err, ENOENT, "'%s' is not in the layer", path)
				   : cl_err_sys(err, e, "'%s'", path);
	if ((have && unlinkat(fd, p, 0) < 0) || mkdirat(fd, p, 0755) < 0 ||
	    (nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return cl_err_sys(err, errno, "'%s': mkdir", path);
	if (fchmod(nfd, 0755) < 0) {
		close(nfd);
		return cl_err_sys(err, errno, "'%s': chmod", path);
	}
	int r = have ? img_set_opaque(nfd, path, err) : 0;
	if (r < 0) {
		close(nfd);
		return r;
	}
	return nfd;
}

/* Open the directory holding PATH's last component, one component at a
 * time from ROOTFD; *base points at that last component. */
int img_open_parent(int rootfd, char *path, int create, const char **base, struct cl_error *err)
{
	int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *p = path, *slash;
	if (fd < 0)
		return cl_err_sys(err, errno, "layer root");
	while ((slash = strchr(p, '/'))) {
		*slash = '\0';
		int nfd = step(fd, path, p, create, err);
		*slash = '/';
		close(fd);
		if (nfd < 0)
			return nfd;
		fd = nfd;
		p = slash + 1;
	}
	*base = p;
	return fd;
}

struct img_fixup {
	char *path;
	mode_t mode;
	struct timespec ts[2];
};

/* Directory modes and times are set after the last entry: creating a child
 * would change the mtime, and a 0555 directory could not take children. */
int img_fixup_add(struct img_fixups *fx, const char *path, mode_t mode, const struct timespec ts[2],
		  int existed)
{
	for (size_t i = 0; existed && i < fx->n; i++)   /* a repeated directory: the last entry wins */
		if (!strcmp(fx->v[i].path, path)) {
			fx->v[i].mode = mode;
			memcpy(fx->v[i].ts, ts, sizeof(fx->v[i].ts));
			return 0;
		}
	if (fx->n == fx->cap) {
		size_t cap = fx->cap ? 2 * fx->cap : 64;
		struct img_fixup *v = realloc(fx->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		fx->v = v;
		fx->cap = cap;
	}
	if (!(fx->v[fx->n].path = strdup(path)))
		return -ENOMEM;
	fx->v[fx->n].mode = mode;
	memcpy(fx->v[fx->n].ts, ts, sizeof(fx->v[fx->n].ts));
	fx->n++;
	return 0;
}

int img_fixups_apply(int rootfd, struct img_fixups *fx, struct cl_error *err)
{
	for (size_t i = fx->n; i-- > 0;) {   /* children before parents */
		char path[PATH_MAX];
		const char *base = ".";
		int pfd = rootfd, fd, r = 0;
		strcpy(path, fx->v[i].path);
		if (path[0] && (pfd = img_open_parent(rootfd, path, 0, &base, err)) < 0)
			return pfd;
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchmod(fd, fx->v[i].mode & 07777) < 0 || futimens(fd, fx->v[i].ts) < 0)
			r = cl_err_sys(err, errno, "directory '%s'", fx->v[i].path);
		if (fd >= 0)
			close(fd);
		if (pfd != rootfd)
			close(pfd);
		if (r < 0)
			return r;
	}
	return 0;
}

void img_fixups_free(struct img_fixups *fx)
{
	for (size_t i = 0; i < fx->n; i++)
		free(fx->v[i].path);
	free(fx->v);
	fx->v = NULL;
	fx->n = fx->cap = 0;
}

