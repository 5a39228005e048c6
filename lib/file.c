/* File helpers: see include/cloudlet/file.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
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
