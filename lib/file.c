/* File helpers: see include/cloudlet/file.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudlet/file.h"

int cl_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

int cl_file_read(const char *path, size_t max, uint8_t **buf, size_t *len,
		 struct cl_error *err)
{
	struct stat st;
	int r, fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cl_err_sys(err, errno, "%s", path);
	if (fstat(fd, &st) < 0) {
		r = cl_err_sys(err, errno, "%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = cl_err(err, EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = cl_err(err, EFBIG, "%s: %lld bytes, more than the %zu allowed", path,
			   (long long)st.st_size, max);
		goto out;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf) {
		r = cl_err(err, ENOMEM, "%s: out of memory", path);
		goto out;
	}
	r = cl_pread_full(fd, *buf, *len, 0);
	if (r < 0) {
		free(*buf);
		*buf = NULL;
		r = cl_err_sys(err, -r, "%s: read", path);
	}
out:
	close(fd);
	return r;
}

int cl_text_read(const char *path, size_t max, char **text, struct cl_error *err)
{
	/* read to EOF: proc and cgroup files report st_size 0 */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	*text = NULL;
	if (fd < 0)
		return cl_err_sys(err, errno, "%s", path);
	for (;;) {
		if (!buf || len + 1 >= cap) {
			char *nb = realloc(buf, buf ? (cap *= 2) : cap);
			if (!nb) {
				free(buf);
				close(fd);
				return cl_err(err, ENOMEM, "%s: out of memory", path);
			}
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return cl_err_sys(err, e, "read %s", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			close(fd);
			return cl_err(err, EFBIG, "%s: more than %zu bytes", path, max);
		}
	}
	close(fd);
	buf[len] = '\0';
	*text = buf;
	return 0;
}

int cl_mkdir_p(const char *path, mode_t mode)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int cl_text_write(const char *path, const char *text, struct cl_error *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return cl_err_sys(err, errno, "%s", path);
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	if (n != (ssize_t)strlen(text))
		return cl_err_sys(err, n < 0 ? e : EIO, "write '%s' to %s", text, path);
	return 0;
}

int cl_file_write_atomic(const char *path, const char *text, mode_t mode, struct cl_error *err)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return cl_err(err, ENAMETOOLONG, "%s: path too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return cl_err_sys(err, errno, "%s", tmp);
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int e = errno;
	if (close(fd) < 0 && n == (ssize_t)len)
		n = -1, e = errno;
	if (n != (ssize_t)len) {
		unlink(tmp);
		return cl_err_sys(err, n < 0 ? e : EIO, "write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		return cl_err_sys(err, e, "rename %s", tmp);
	}
	return 0;
}

/* rm -rf that stays on one filesystem and never follows symlinks; makes
 * unreadable directories (overlay's work/work is mode 0) readable first */
static int remove_tree_at(int dfd, const char *name, dev_t dev, int depth)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (st.st_dev != dev)
		return -EBUSY;   /* a mount point: never descend */
	if (depth > 256)
		return -ELOOP;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(dfd, name, 0700, 0) == 0)
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int e = remove_tree_at(dirfd(d), de->d_name, dev, depth + 1);
		if (e < 0 && !r)
			r = e;
	}
	closedir(d);
	if (!r && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

int cl_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return remove_tree_at(AT_FDCWD, path, st.st_dev, 0);
}
