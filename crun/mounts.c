/* The container's filesystems after pivot_root: the OCI runtime-spec's
 * default mounts, devices and /dev symlinks, a pty for -t, then the masked
 * and read-only paths. Tables first, the code that applies them after.
 * Targets are created inside the new root; symlinks on the way are refused
 * (an image must not redirect a mount). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"

#define NOSUID_NODEV_NOEXEC (MS_NOSUID | MS_NODEV | MS_NOEXEC)

const struct crun_mount crun_default_mounts[] = {
	{ "/proc", "proc", "proc", NOSUID_NODEV_NOEXEC, NULL, NULL, 0 },
	{ "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", NULL, 0 },
	{ "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
	  "newinstance,ptmxmode=0666,mode=0620,gid=5", "newinstance,ptmxmode=0666,mode=0620", 0 },
	{ "/dev/shm", "tmpfs", "shm", NOSUID_NODEV_NOEXEC, "mode=1777,size=65536k", NULL, 0 },
	{ "/dev/mqueue", "mqueue", "mqueue", NOSUID_NODEV_NOEXEC, NULL, NULL, 0 },
	{ "/sys", "sysfs", "sysfs", NOSUID_NODEV_NOEXEC | MS_RDONLY, NULL, NULL, CRUN_M_RBIND_USERNS },
	{ "/sys/fs/cgroup", "cgroup2", "cgroup", NOSUID_NODEV_NOEXEC | MS_RDONLY, NULL, NULL, CRUN_M_CGROUP2 },
};
const size_t crun_default_mounts_count = sizeof(crun_default_mounts) / sizeof(crun_default_mounts[0]);

/* runtime-spec config-linux.md "Default Devices" (console: the pty, -t) */
const struct crun_device crun_default_devices[] = {
	{ "/dev/null", 1, 3 },
	{ "/dev/zero", 1, 5 },
	{ "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 },
	{ "/dev/urandom", 1, 9 },
	{ "/dev/tty", 5, 0 },
};
const size_t crun_default_devices_count = sizeof(crun_default_devices) / sizeof(crun_default_devices[0]);

/* what the cgroup lets the container use: every node denied, then these
 * (the default devices above, ptys, mknod of anything; using a node is
 * another matter). v1: devices.allow lines; v2: the same as eBPF. */
const char *const crun_cg_devices_allow[] = {
	"c *:* m",
	"b *:* m",
	"c 1:3 rwm",      /* null */
	"c 1:5 rwm",      /* zero */
	"c 1:7 rwm",      /* full */
	"c 1:8 rwm",      /* random */
	"c 1:9 rwm",      /* urandom */
	"c 5:0 rwm",      /* tty */
	"c 5:1 rwm",      /* console */
	"c 5:2 rwm",      /* ptmx */
	"c 136:* rwm",    /* pts */
};
const size_t crun_cg_devices_allow_count = sizeof(crun_cg_devices_allow) / sizeof(crun_cg_devices_allow[0]);

const struct crun_symlink crun_dev_symlinks[] = {
	{ "/dev/fd", "/proc/self/fd" },
	{ "/dev/stdin", "/proc/self/fd/0" },
	{ "/dev/stdout", "/proc/self/fd/1" },
	{ "/dev/stderr", "/proc/self/fd/2" },
	{ "/dev/ptmx", "pts/ptmx" },
};
const size_t crun_dev_symlinks_count = sizeof(crun_dev_symlinks) / sizeof(crun_dev_symlinks[0]);

/* what the kernel would tell about the host, or let a container change it */
const char *const crun_masked_paths[] = {
	"/proc/acpi",
	"/proc/asound",
	"/proc/interrupts",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/sys/devices/virtual/powercap",
	"/sys/firmware",
};
const size_t crun_masked_paths_count = sizeof(crun_masked_paths) / sizeof(crun_masked_paths[0]);

const char *const crun_readonly_paths[] = {
	"/proc/bus",
	"/proc/fs",
	"/proc/irq",
	"/proc/sys",
	"/proc/sysrq-trigger",
};
const size_t crun_readonly_paths_count = sizeof(crun_readonly_paths) / sizeof(crun_readonly_paths[0]);

/* mkdir -p inside the new root, refusing symlinks on the way */
static int ensure_dir(const char *path, struct cl_error *err)
{
	char p[PATH_MAX];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return cl_err(err, ENAMETOOLONG, "%s: path too long", path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return cl_err_sys(err, errno, "mkdir %s in the container", p);
		if (lstat(p, &st) < 0)
			return cl_err_sys(err, errno, "%s in the container", p);
		if (S_ISLNK(st.st_mode))
			return cl_err(err, ELOOP, "%s in the image is a symbolic link: refusing to mount over it", p);
		if (!S_ISDIR(st.st_mode))
			return cl_err(err, ENOTDIR, "%s in the image is not a directory", p);
		*s = c;
		if (!c)
			return 0;
	}
}

/* the directory a file target lives in */
static int ensure_dir_of(const char *path, struct cl_error *err)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	char *slash = strrchr(p, '/');
	if (!slash || slash == p)
		return 0;
	*slash = '\0';
	return ensure_dir(p, err);
}

/* an empty regular file to bind something over */
static int ensure_file(const char *path, struct cl_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return cl_err_sys(err, errno, "create %s in the container", path);
	close(fd);
	return 0;
}

/* the flags a bind remount must keep (a user namespace cannot clear locked ones) */
static unsigned long kept_flags(const char *path)
{
	static const struct { unsigned long st, ms; } map[] = {
		{ ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV }, { ST_NOEXEC, MS_NOEXEC },
		{ ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
	};
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (sv.f_flag & map[i].st)
			f |= map[i].ms;
	return f;
}

static int bind_ro(const char *src, const char *dst, bool rec, struct cl_error *err)
{
	if (mount(src, dst, NULL, MS_BIND | (rec ? MS_REC : 0), NULL) < 0)
		return cl_err_sys(err, errno, "bind %s on %s", src, dst);
	if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(dst), NULL) < 0)
		return cl_err_sys(err, errno, "remount %s read-only", dst);
	return 0;
}

/* a bundle's bind mount: the source is the host's, under the old root
 * until ct_rootfs_finish; flags other than MS_REC need a remount */
static int bind_one(const struct ct *c, const struct crun_mount *m, struct cl_error *err)
{
	char host[PATH_MAX];
	struct stat st;
	int r;
	snprintf(host, sizeof(host), "%s%s", c->oldroot, m->source);
	if (stat(host, &st) < 0)
		return cl_err_sys(err, errno, "bind mount source %s", m->source);
	if (S_ISDIR(st.st_mode))
		r = ensure_dir(m->target, err);
	else if ((r = ensure_dir_of(m->target, err)) == 0 && access(m->target, F_OK) < 0)
		r = ensure_file(m->target, err);
	if (r < 0)
		return r;
	if (mount(host, m->target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
		return cl_err_sys(err, errno, "bind %s on %s", m->source, m->target);
	unsigned long extra = m->flags & ~(unsigned long)(MS_BIND | MS_REC);
	if (extra && mount(NULL, m->target, NULL, MS_BIND | MS_REMOUNT | extra | kept_flags(m->target), NULL) < 0)
		return cl_err_sys(err, errno, "remount %s", m->target);
	return 0;
}

static int mount_one(const struct ct *c, const struct crun_mount *m, struct cl_error *err)
{
	const char *data = c->userns && m->data_userns ? m->data_userns : m->data;
	if (m->flags & MS_BIND)
		return bind_one(c, m, err);
	int r = ensure_dir(m->target, err);
	if (r < 0)
		return r;
	if (mount(m->source, m->target, m->fstype, m->flags, data) == 0)
		return 0;
	if (c->userns && (m->when & CRUN_M_RBIND_USERNS) && (errno == EPERM || errno == EACCES)) {
		char host[PATH_MAX];
		snprintf(host, sizeof(host), "%s%s", c->oldroot, m->target);
		return bind_ro(host, m->target, true, err);
	}
	return cl_err_sys(err, errno, "mount %s on %s", m->fstype, m->target);
}

static int make_device(const struct ct *c, const struct crun_device *d, struct cl_error *err)
{
	/* mknod when we may (not in a user namespace), else bind the host's node */
	if (!c->userns) {
		struct stat st;
		/* a bundle whose /dev is not a fresh tmpfs may have it already */
		if (lstat(d->path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(d->major, d->minor))
			return 0;
		if (mknod(d->path, S_IFCHR | 0666, makedev(d->major, d->minor)) < 0)
			return cl_err_sys(err, errno, "mknod %s", d->path);
		if (chmod(d->path, 0666) < 0)   /* the umask applied to mknod */
			return cl_err_sys(err, errno, "chmod %s", d->path);
		return 0;
	}
	char host[PATH_MAX];
	snprintf(host, sizeof(host), "%s%s", c->oldroot, d->path);
	int r = ensure_file(d->path, err);
	if (r < 0)
		return r;
	if (mount(host, d->path, NULL, MS_BIND, NULL) < 0)
		return cl_err_sys(err, errno, "bind the host's %s", d->path);
	return 0;
}

/* -t: a pty from the container's own devpts instance; its peer becomes
 * /dev/console. The master goes to the runtime. */
static int make_pty(int *master, struct cl_error *err)
{
	int unlock = 0, n;
	char path[64];
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return cl_err_sys(err, errno, "open /dev/ptmx in the container");
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &n) < 0) {
		int e = errno;
		close(m);
		return cl_err_sys(err, e, "unlock the container's pty");
	}
	snprintf(path, sizeof(path), "/dev/pts/%d", n);
	int r = ensure_file("/dev/console", err);
	if (r == 0 && mount(path, "/dev/console", NULL, MS_BIND, NULL) < 0)
		r = cl_err_sys(err, errno, "bind %s on /dev/console", path);
	if (r < 0) {
		close(m);
		return r;
	}
	*master = m;
	return 0;
}

int ct_mounts_setup(const struct ct *c, int *ptmx, struct cl_error *err)
{
	int r;
	mode_t um = umask(0);

	*ptmx = -1;
	for (size_t i = 0; i < c->nmounts; i++) {
		const struct crun_mount *m = &c->mounts[i];
		if ((m->when & CRUN_M_CGROUP2) && !(c->cg_ops && c->cg.version == 2))
			continue;
		if ((r = mount_one(c, m, err)) < 0)
			goto out;
	}
	for (size_t i = 0; i < crun_default_devices_count; i++)
		if ((r = make_device(c, &crun_default_devices[i], err)) < 0)
			goto out;
	for (size_t i = 0; i < crun_dev_symlinks_count; i++)
		if (symlink(crun_dev_symlinks[i].target, crun_dev_symlinks[i].path) < 0 && errno != EEXIST) {
			r = cl_err_sys(err, errno, "symlink %s", crun_dev_symlinks[i].path);
			goto out;
		}
	r = c->o->tty ? make_pty(ptmx, err) : 0;
out:
	umask(um);
	return r;
}

int ct_mounts_protect(const struct ct *c, struct cl_error *err)
{
	struct stat st;
	int r;

	for (size_t i = 0; i < c->nmasked; i++) {
		const char *p = c->masked[i];
		if (lstat(p, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return cl_err_sys(err, errno, "mask %s", p);
		}
		if (S_ISDIR(st.st_mode))
			r = mount("tmpfs", p, "tmpfs", MS_RDONLY | NOSUID_NODEV_NOEXEC, NULL);
		else
			r = mount("/dev/null", p, NULL, MS_BIND, NULL);
		if (r < 0)
			return cl_err_sys(err, errno, "mask %s", p);
	}
	for (size_t i = 0; i < c->nreadonly; i++) {
		const char *p = c->readonly[i];
		if (lstat(p, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return cl_err_sys(err, errno, "read-only %s", p);
		}
		if ((r = bind_ro(p, p, true, err)) < 0)
			return r;
	}
	return 0;
}
