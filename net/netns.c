/* Named network namespaces: each VPC is one, pinned by a bind mount under
 * /run/netns like `ip netns add` does (iproute2 ip/ipnetns.c), so that
 * it outlives the process that made it and `ip netns exec` can enter it.
 * See net/internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static int ns_path(const char *name, char out[PATH_MAX], struct cl_error *err)
{
	if (!name[0] || strchr(name, '/') || snprintf(out, PATH_MAX, "%s/%s", NET_NETNS_DIR, name) >= PATH_MAX)
		return cl_err(err, EINVAL, "network namespace name '%s'", name);
	return 0;
}

/* /run/netns as a shared mount point, so that a namespace pinned later is
 * seen by mount namespaces copied before (iproute2 does the same). */
static int netns_dir_prepare(struct cl_error *err)
{
	if (mkdir(NET_NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return cl_err_sys(err, errno, "%s", NET_NETNS_DIR);
	if (mount("", NET_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return cl_err_sys(err, errno, "%s: make it a shared mount", NET_NETNS_DIR);
	/* not a mount point yet: bind it onto itself, then share it */
	if (mount(NET_NETNS_DIR, NET_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0 ||
	    mount("", NET_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		return cl_err_sys(err, errno, "%s: make it a shared mount", NET_NETNS_DIR);
	return 0;
}

int netns_enter(int ns, int *saved, struct cl_error *err)
{
	int cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (cur < 0)
		return cl_err_sys(err, errno, "/proc/thread-self/ns/net");
	if (setns(ns, CLONE_NEWNET) < 0) {
		int e = errno;
		close(cur);
		return cl_err_sys(err, e, "enter a network namespace");
	}
	*saved = cur;
	return 0;
}

void netns_leave(int saved)
{
	if (saved < 0)
		return;
	/* cannot fail for a namespace we were in, with the same privileges */
	(void)setns(saved, CLONE_NEWNET);
	close(saved);
}

int netns_create(const char *name, struct cl_error *err)
{
	char path[PATH_MAX];
	int r, fd, saved;
	if ((r = ns_path(name, path, err)) < 0 || (r = netns_dir_prepare(err)) < 0)
		return r;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return errno == EEXIST ? cl_err(err, EEXIST, "network namespace %s exists", name)
				       : cl_err_sys(err, errno, "%s", path);
	close(fd);
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0) {
		r = cl_err_sys(err, errno, "/proc/thread-self/ns/net");
		goto fail;
	}
	/* unshare moves only this thread; the bind mount pins the new one */
	if (unshare(CLONE_NEWNET) < 0) {
		r = cl_err_sys(err, errno, "new network namespace");
		close(saved);
		goto fail;
	}
	r = mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0
		    ? cl_err_sys(err, errno, "pin network namespace at %s", path) : 0;
	netns_leave(saved);
	if (r == 0)
		return 0;
fail:
	unlink(path);
	return r;
}

int netns_open(const char *name, int *fd, struct cl_error *err)
{
	char path[PATH_MAX];
	int r = ns_path(name, path, err);
	if (r < 0)
		return r;
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return cl_err_sys(err, errno, "network namespace %s", path);
	*fd = f;
	return 0;
}

bool netns_exists(const char *name)
{
	char path[PATH_MAX];
	return ns_path(name, path, NULL) == 0 && access(path, F_OK) == 0;
}

int netns_delete(const char *name, struct cl_error *err)
{
	char path[PATH_MAX];
	int r = ns_path(name, path, err);
	if (r < 0)
		return r;
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return cl_err_sys(err, errno, "unpin network namespace %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return cl_err_sys(err, errno, "%s", path);
	return 0;
}

/* /proc/sys/net/KEY opened in ns: the file shows the namespace of the
 * thread that opens it */
static int sysctl_open(int ns, const char *key, int flags, struct cl_error *err)
{
	char path[PATH_MAX];
	int saved, r;
	snprintf(path, sizeof(path), "/proc/sys/net/%s", key);
	if (ns >= 0 && (r = netns_enter(ns, &saved, err)) < 0)
		return r;
	int fd = open(path, flags | O_CLOEXEC);
	int e = errno;
	if (ns >= 0)
		netns_leave(saved);
	return fd < 0 ? cl_err_sys(err, e, "sysctl net.%s", key) : fd;
}

int netns_sysctl(int ns, const char *key, const char *value, struct cl_error *err)
{
	int fd = sysctl_open(ns, key, O_WRONLY, err), r;
	if (fd < 0)
		return fd;
	size_t n = strlen(value);
	r = write(fd, value, n) == (ssize_t)n ? 0 : cl_err_sys(err, errno, "sysctl net.%s=%s", key, value);
	close(fd);
	return r;
}

int netns_sysctl_get(int ns, const char *key, char *buf, size_t len, struct cl_error *err)
{
	int fd = sysctl_open(ns, key, O_RDONLY, err);
	if (fd < 0)
		return fd;
	ssize_t n = read(fd, buf, len - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return cl_err_sys(err, e, "sysctl net.%s", key);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int net_netns_socket(const char *name, int domain, int type, int *fd, struct cl_error *err)
{
	int ns, saved, r;
	if ((r = netns_open(name, &ns, err)) < 0)
		return r;
	r = netns_enter(ns, &saved, err);
	close(ns);
	if (r < 0)
		return r;
	/* a socket belongs to the namespace it was made in, wherever it is used */
	int s = socket(domain, type | SOCK_CLOEXEC, 0);
	int e = errno;
	netns_leave(saved);
	if (s < 0)
		return cl_err_sys(err, e, "network namespace %s: socket", name);
	*fd = s;
	return 0;
}
