/* Records of net/ under the state directory: JSON files replaced atomically
 * under an flock. See include/cloudlet/net.h. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudlet/file.h"
#include "cloudlet/net.h"

/* A /16 full of leases is about 10 MB; anything far beyond is not ours. */
#define STATE_FILE_MAX (64u << 20)

int net_state_mkdirs(const char *path, struct cl_error *err)
{
	char p[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(p))
		return cl_err(err, ENAMETOOLONG, "state directory '%.64s': bad length", path);
	memcpy(p, path, n + 1);
	/* each prefix in turn; EEXIST is fine as long as it is a directory */
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char c = p[i];
		p[i] = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return cl_err_sys(err, errno, "%s: mkdir", p);
		p[i] = c;
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return cl_err_sys(err, errno, "%s", path);
	if (!S_ISDIR(st.st_mode))
		return cl_err(err, ENOTDIR, "%s: not a directory", path);
	return 0;
}

int net_state_lock(const char *path, int *fd, struct cl_error *err)
{
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (f < 0)
		return cl_err_sys(err, errno, "%s", path);
	/* flock locks the open file description: it excludes other processes
	 * and other opens in this process alike, and dies with the holder */
	while (flock(f, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(f);
		return cl_err_sys(err, e, "%s: flock", path);
	}
	*fd = f;
	return 0;
}

int net_state_read_json(const char *path, struct json_object **out, struct cl_error *err)
{
	uint8_t *buf;
	size_t len;
	int r = cl_file_read(path, STATE_FILE_MAX, &buf, &len, err);
	if (r == -ENOENT)
		cl_err_clear(err);
	if (r < 0)
		return r;
	if (memchr(buf, '\0', len)) {
		free(buf);
		return cl_err(err, EBADMSG, "%s: not valid JSON: NUL byte", path);
	}
	struct json_tokener *tok = json_tokener_new();
	if (!tok) {
		free(buf);
		return cl_err(err, ENOMEM, "%s: out of memory", path);
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *o = json_tokener_parse_ex(tok, (const char *)buf, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || je != json_tokener_success) {
		json_object_put(o);
		free(buf);
		/* a truncated file leaves the tokener wanting more */
		return cl_err(err, EBADMSG, "%s: not valid JSON: %s", path,
			      je == json_tokener_continue ? "unexpected end of file"
							  : json_tokener_error_desc(je));
	}
	while (end < len && strchr(" \t\r\n", buf[end]))
		end++;
	free(buf);
	if (end != len) {
		json_object_put(o);
		return cl_err(err, EBADMSG, "%s: not valid JSON: junk after the value", path);
	}
	*out = o;
	return 0;
}

static int write_full(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int net_state_write_json(const char *path, struct json_object *obj, struct cl_error *err)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return cl_err(err, ENAMETOOLONG, "%.64s...: path too long", path);
	size_t len;
	const char *s = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!s)
		return cl_err(err, ENOMEM, "%s: out of memory", path);
	/* a fixed temp name is safe: only the lock holder writes it, and a
	 * crashed writer's leftover is truncated by the next one */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return cl_err_sys(err, errno, "%s", tmp);
	int r = write_full(fd, s, len);
	if (r == 0)
		r = write_full(fd, "\n", 1);
	/* fsync before rename, or a crash may leave the new name on empty data */
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return cl_err_sys(err, -r, "%s: write", path);
	}
	/* and the directory, so that the rename itself survives a crash */
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cl_err_sys(err, errno, "%s", dir);
	r = fsync(dfd) < 0 ? -errno : 0;
	close(dfd);
	if (r < 0)
		return cl_err_sys(err, -r, "%s: fsync", dir);
	return 0;
}
