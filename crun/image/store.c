/* The layer store: STORE/layers/sha256/<diff_id hex>/, one directory per
 * uncompressed layer, made once and shared. A layer dir appears only by
 * rename(2) of a fully unpacked and verified temp dir, so "it exists" means
 * "it is complete"; unpackers serialise on flock(STORE/layers/.lock), so a
 * temp dir seen while holding the lock belongs to a dead unpacker. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CRUN_IMAGE_INTERNAL
#include "../image.h"

#define TMP_PREFIX ".tmp-"

/* Remove NAME under DIRFD, whatever it is, without following symlinks.
 * Directories an unprivileged unpack left unreadable are opened up first. */
int img_rm_rf_at(int at, const char *name)
{
	struct stat st;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(at, name, 0700, 0) == 0)
		fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fchmod(fd, 0700);   /* a 0555 directory cannot lose its entries */
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int k = img_rm_rf_at(dirfd(d), de->d_name);
		if (k < 0 && !r)
			r = k;
	}
	closedir(d);
	if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !r)
		r = -errno;
	return r;
}

static int mkdir_0700(const char *path, struct cl_error *err)
{
	struct stat st;
	if (mkdir(path, 0700) == 0 || (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	return cl_err_sys(err, errno == EEXIST ? ENOTDIR : errno, "store %s", path);
}

/* STORE, STORE/layers, STORE/layers/sha256; returns an fd on the last and
 * its absolute path (layer paths handed out are absolute). */
int img_store_open(const char *store, char **abs_sha, struct cl_error *err)
{
	char p[4096];
	int r;
	*abs_sha = NULL;
	if (snprintf(p, sizeof(p), "%s/layers/sha256", store) >= (int)sizeof(p))
		return cl_err(err, ENAMETOOLONG, "store %s: path too long", store);
	if ((r = mkdir_0700(store, err)) < 0)
		return r;
	p[strlen(p) - strlen("/sha256")] = '\0';
	if ((r = mkdir_0700(p, err)) < 0)
		return r;
	strcat(p, "/sha256");
	if ((r = mkdir_0700(p, err)) < 0)
		return r;
	if (!(*abs_sha = realpath(p, NULL)))
		return cl_err_sys(err, errno, "store %s", p);
	int fd = open(*abs_sha, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = cl_err_sys(err, errno, "store %s", *abs_sha);
		free(*abs_sha);
		*abs_sha = NULL;
		return r;
	}
	return fd;
}

/* 1: layer HEX is in the store; 0: not; <0: something else is there */
int img_store_has(int shafd, const char *hex, struct cl_error *err)
{
	struct stat st;
	if (fstatat(shafd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : cl_err_sys(err, errno, "store layer %s", hex);
	if (!S_ISDIR(st.st_mode))
		return cl_err(err, ENOTDIR, "store layer %s: not a directory", hex);
	return 1;
}

/* Take STORE/layers/.lock (blocking) and clear what dead unpackers left. */
int img_store_lock(int shafd, struct cl_error *err)
{
	int fd = openat(shafd, "../.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return cl_err_sys(err, errno, "store lock");
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int r = cl_err_sys(err, errno, "store lock");
			close(fd);
			return r;
		}
	}
	int dfd = dup(shafd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return fd;
	}
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)))
			img_rm_rf_at(shafd, de->d_name);
	closedir(d);
	return fd;
}

/* Unpack layer blob FD into SHA/.tmp-HEX-XXXXXX, then rename it to
 * SHA/HEX. Called with the lock held. On failure nothing is left. */
int img_store_unpack(int shafd, const char *abs_sha, int fd, int gzip, const char *diff_hex,
		     struct cl_error *err)
{
	char tmp[4096], name[128];
	int r;
	snprintf(name, sizeof(name), TMP_PREFIX "%.64s-XXXXXX", diff_hex);
	if (snprintf(tmp, sizeof(tmp), "%s/%s", abs_sha, name) >= (int)sizeof(tmp))
		return cl_err(err, ENAMETOOLONG, "store %s: path too long", abs_sha);
	if (!mkdtemp(tmp))
		return cl_err_sys(err, errno, "store: mkdtemp %s", tmp);
	const char *base = strrchr(tmp, '/') + 1;
	int rootfd = openat(shafd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0) {
		r = cl_err_sys(err, errno, "store %s", tmp);
		goto fail;
	}
	/* the root of the merged tree takes the top layer's root: 0755 unless
	 * the layer has a "./" entry saying otherwise */
	if (fchmod(rootfd, 0755) < 0) {
		r = cl_err_sys(err, errno, "store %s", tmp);
		goto fail;
	}
	r = img_layer_unpack(fd, gzip, diff_hex, rootfd, err);
	if (r < 0)
		goto fail;
	/* on disk before it has its final name: after a crash a layer dir is
	 * whole or absent, never a tree of empty files */
	if (syncfs(rootfd) < 0) {
		r = cl_err_sys(err, errno, "store: syncfs %s", tmp);
		goto fail;
	}
	if (renameat(shafd, base, shafd, diff_hex) < 0) {
		r = cl_err_sys(err, errno, "store: rename to %s/%s", abs_sha, diff_hex);
		goto fail;
	}
	close(rootfd);
	return 0;
fail:
	if (rootfd >= 0)
		close(rootfd);
	img_rm_rf_at(shafd, base);
	return r;
}
