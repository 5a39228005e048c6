/* Applying one tar entry to the layer directory being built: each entry
 * type, with its attributes, at a path walk.c reached without following a
 * symlink. Whiteouts become overlayfs whiteouts here (layer.md "Whiteouts"). */
#include <archive.h>
#include <archive_entry.h>
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

#define WH_PREFIX ".wh."
#define WH_META ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

/* layer.md "Changeset over existing files": a directory over a directory
 * keeps it (attributes replaced); anything else removes the old path.
 * Returns 1 if a directory was kept; *whiteout if a whiteout was removed. */
static int make_room(int dfd, const char *name, int is_dir, int *whiteout, struct cl_error *err)
{
	struct stat st;
	*whiteout = 0;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : cl_err_sys(err, errno, "stat");
	if (S_ISDIR(st.st_mode)) {
		if (is_dir)
			return 1;
		if (unlinkat(dfd, name, AT_REMOVEDIR) < 0)
			return cl_err_sys(err, errno, "replacing a directory");
		return 0;
	}
	*whiteout = img_is_whiteout(&st);
	if (unlinkat(dfd, name, 0) < 0)
		return cl_err_sys(err, errno, "replacing");
	return 0;
}

static void entry_times(struct archive_entry *ae, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime(ae);
	ts[1].tv_nsec = archive_entry_mtime_is_set(ae) ? archive_entry_mtime_nsec(ae) : UTIME_NOW;
	ts[0] = ts[1];
	if (archive_entry_atime_is_set(ae)) {
		ts[0].tv_sec = archive_entry_atime(ae);
		ts[0].tv_nsec = archive_entry_atime_nsec(ae);
	}
}

/* Ownership only as root (fx->root): an unprivileged unpack owns it all. */
static int set_owner(int dfd, const char *name, struct archive_entry *ae, struct img_fixups *fx,
		     struct cl_error *err)
{
	la_int64_t uid = archive_entry_uid(ae), gid = archive_entry_gid(ae);
	if (!fx->root)
		return 0;
	if (uid < 0 || gid < 0 || uid >= UINT32_MAX || gid >= UINT32_MAX)
		return cl_err(err, ERANGE, "owner %lld:%lld out of range", (long long)uid, (long long)gid);
	if (fchownat(dfd, name, (uid_t)uid, (gid_t)gid, *name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) < 0)
		return cl_err_sys(err, errno, "chown");
	return 0;
}

/* xattrs (layer.md "File Attributes"): user.* and security.capability
 * (file capabilities, e.g. ping). Not taken from a layer: overlayfs' own
 * (trusted.overlay.*, and user.overlay.* which it reads when mounted with
 * userxattr: opaque, redirect, metacopy would let a layer steer the
 * mount), the rest of trusted.*, security.selinux, ACLs. A file system
 * without xattrs (ENOTSUP) drops them. */
static int set_xattrs(int fd, struct archive_entry *ae, struct cl_error *err)
{
	const char *name;
	const void *val;
	size_t size;
	archive_entry_xattr_reset(ae);
	while (archive_entry_xattr_next(ae, &name, &val, &size) == ARCHIVE_OK) {
		if ((strncmp(name, "user.", 5) != 0 && strcmp(name, "security.capability") != 0) ||
		    !strncmp(name, "user.overlay.", 13))
			continue;
		if (fsetxattr(fd, name, val, size, 0) < 0 && errno != ENOTSUP)
			return cl_err_sys(err, errno, "xattr %s", name);
	}
	return 0;
}

static int write_file(int dfd, const char *name, struct archive *ar, struct archive_entry *ae,
		      struct img_fixups *fx, const struct timespec ts[2], struct cl_error *err)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r = 0, fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cl_err_sys(err, errno, "create");
	for (;;) {
		int a = archive_read_data_block(ar, &buf, &len, &off);
		if (a == ARCHIVE_EOF)
			break;
		if (a < ARCHIVE_WARN) {
			r = cl_err(err, EIO, "tar: %s", archive_error_string(ar) ?: "read error");
			goto out;
		}
		for (size_t done = 0; done < len;) {   /* offsets: sparse files keep their holes */
			ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = cl_err_sys(err, errno, "write");
				goto out;
			}
			done += (size_t)n;
		}
	}
	/* chown clears set-id bits and capabilities: chown, chmod, xattrs, times */
	if (ftruncate(fd, archive_entry_size(ae)) < 0)
		r = cl_err_sys(err, errno, "truncate");
	else if ((r = set_owner(fd, "", ae, fx, err)) < 0)
		;
	else if (fchmod(fd, archive_entry_perm(ae) & 07777) < 0)
		r = cl_err_sys(err, errno, "chmod");
	else if ((r = set_xattrs(fd, ae, err)) < 0)
		;
	else if (futimens(fd, ts) < 0)
		r = cl_err_sys(err, errno, "utimens");
out:
	close(fd);
	return r;
}

static int make_dir(int rootfd, int dfd, const char *name, const char *path, struct archive_entry *ae,
		    struct img_fixups *fx, const struct timespec ts[2], struct cl_error *err)
{
	int whiteout = 0, existed = 1, r, fd;
	if (!*path) {                       /* "./": the layer root itself */
		fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		if ((existed = make_room(dfd, name, 1, &whiteout, err)) < 0)
			return existed;
		if (!existed && mkdirat(dfd, name, 0700) < 0)
			return cl_err_sys(err, errno, "mkdir");
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return cl_err_sys(err, errno, "open");
	if ((r = set_owner(fd, "", ae, fx, err)) >= 0 && (r = set_xattrs(fd, ae, err)) >= 0 && whiteout)
		r = img_set_opaque(fd, path, err);   /* ".wh.D" then "D/": a new D, nothing below shows */
	close(fd);
	if (r >= 0 && img_fixup_add(fx, path, archive_entry_perm(ae), ts, existed) < 0)
		r = cl_err(err, ENOMEM, "out of memory");
	return r;
}

static int make_hardlink(int rootfd, int dfd, const char *name, const char *path, const char *target,
			 struct cl_error *err)
{
	char t[PATH_MAX];
	const char *tbase;
	struct stat st;
	int r, wh;
	if (img_path_clean(target, t, sizeof(t), err) < 0)
		return cl_err_wrap(err, "hardlink to '%s'", target);
	if (!*t || !strcmp(t, path))
		return cl_err(err, EINVAL, "hardlink to '%s': not a file of the layer", target);
	int tfd = img_open_parent(rootfd, t, 0, &tbase, err);
	if (tfd < 0)
		return cl_err_wrap(err, "hardlink to '%s'", target);
	/* only to what this layer already holds: never to the host, never to
	 * a lower layer (layer.md "Hardlinks") */
	if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = errno == ENOENT ? cl_err(err, ENOENT, "hardlink to '%s': target is not in the layer", target)
				    : cl_err_sys(err, errno, "hardlink to '%s'", target);
	else if (S_ISDIR(st.st_mode))
		r = cl_err(err, EPERM, "hardlink to '%s': a directory", target);
	else if ((r = make_room(dfd, name, 0, &wh, err)) >= 0 && linkat(tfd, tbase, dfd, name, 0) < 0)
		r = cl_err_sys(err, errno, "hardlink to '%s'", target);
	close(tfd);
	return r;
}

/* ".wh.NAME" in this directory: NAME of the lower layers is gone. It does
 * not hide a NAME of this same layer (layer.md "Whiteouts"), so an existing
 * NAME stays; a later entry NAME replaces the whiteout. */
static int whiteout(int dfd, const char *base, const char *path, struct cl_error *err)
{
	const char *victim = base + strlen(WH_PREFIX);
	struct stat st;
	if (!strcmp(base, WH_OPAQUE))
		return img_set_opaque(dfd, path, err);
	if (!strncmp(base, WH_META, strlen(WH_META)))
		return 0;                       /* AUFS bookkeeping (.wh..wh.plnk ...): not content */
	if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
		return cl_err(err, EINVAL, "bad whiteout name");
	if (fstatat(dfd, victim, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (mknodat(dfd, victim, S_IFCHR | 0, makedev(0, 0)) < 0)
		return cl_err_sys(err, errno, "whiteout: mknod (needs CAP_MKNOD)");
	return 0;
}

int img_extract_entry(int rootfd, struct archive *ar, struct archive_entry *ae,
		      struct img_fixups *fx, struct cl_error *err)
{
	char path[PATH_MAX];
	const char *name = archive_entry_pathname(ae) ?: archive_entry_pathname_utf8(ae);
	const char *base = "", *hl = archive_entry_hardlink(ae), *sl;
	mode_t type = archive_entry_filetype(ae);
	struct timespec ts[2];
	int r, dfd = -1, wh;
	if (!name)
		return cl_err(err, EINVAL, "entry without a name");
	if ((r = img_path_clean(name, path, sizeof(path), err)) < 0)
		goto out;
	for (const char *c = path; *c; c = strchrnul(c, '/'), c += !!*c) {
		if (strncmp(c, WH_PREFIX, strlen(WH_PREFIX)) || !strchr(c, '/'))
			continue;
		if (!strncmp(c, WH_META, strlen(WH_META)))
			return 0;               /* inside AUFS bookkeeping (.wh..wh.plnk/) */
		r = cl_err(err, EINVAL, "whiteout name as a directory");
		goto out;
	}
	if (!*path && (hl || type != AE_IFDIR)) {
		r = cl_err(err, EINVAL, "the layer root is not a directory");
		goto out;
	}
	/* character and block devices are never created: a layer dir is a host
	 * directory, and the runtime makes /dev. Sockets cannot be restored. */
	if (!hl && (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFSOCK))
		return 0;
	if (*path && (dfd = img_open_parent(rootfd, path, 1, &base, err)) < 0) {
		r = dfd;
		goto out;
	}
	entry_times(ae, ts);
	if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX)))
		r = whiteout(dfd, base, path, err);
	else if (hl)
		r = make_hardlink(rootfd, dfd, base, path, hl, err);
	else if (type == AE_IFDIR)
		r = make_dir(rootfd, dfd, base, path, ae, fx, ts, err);
	else if ((r = make_room(dfd, base, 0, &wh, err)) < 0)
		;
	else if (type == AE_IFREG)
		r = write_file(dfd, base, ar, ae, fx, ts, err);
	else if (type == AE_IFLNK) {
		if (!(sl = archive_entry_symlink(ae)) || !*sl)
			r = cl_err(err, EINVAL, "symlink without a target");
		else if (symlinkat(sl, dfd, base) < 0)
			r = cl_err_sys(err, errno, "symlink");
		else if ((r = set_owner(dfd, base, ae, fx, err)) >= 0 &&
			 utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
			r = cl_err_sys(err, errno, "utimens");
	} else if (type == AE_IFIFO) {
		if (mknodat(dfd, base, S_IFIFO | 0600, 0) < 0)
			r = cl_err_sys(err, errno, "mkfifo");
		else if ((r = set_owner(dfd, base, ae, fx, err)) >= 0 &&
			 (fchmodat(dfd, base, archive_entry_perm(ae) & 07777, 0) < 0 ||
			  utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0))
			r = cl_err_sys(err, errno, "fifo attributes");
	} else {
		r = cl_err(err, EINVAL, "unsupported entry type 0%o", (unsigned)type);
	}
out:
	if (dfd >= 0)
		close(dfd);
	if (r < 0)
		cl_err_wrap(err, "entry '%.200s'", name ?: "?");
	return r < 0 ? r : 0;
}
